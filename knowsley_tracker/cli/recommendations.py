"""kt rec: the report's recommendations ('What needs to improve')."""

from typing import Annotated

import typer

from knowsley_tracker.cli import _complete
from knowsley_tracker.cli._context import (
    AllowPersonalData,
    JsonOption,
    WideOption,
    app_context,
    output,
    print_detail,
    print_json,
    say,
    updated_message,
)
from knowsley_tracker.errors import ValidationError
from knowsley_tracker.models import Recommendation, parse_ref
from knowsley_tracker.render import views
from knowsley_tracker.render.messages import cleared_note
from knowsley_tracker.render.text import safe
from knowsley_tracker.service import actions as action_service
from knowsley_tracker.service import plan as service

app = typer.Typer(add_completion=False, no_args_is_help=True, help="The inspection report's recommendations.")


@app.command("add")
def add(
    ctx: typer.Context,
    text: Annotated[str, typer.Argument(help="The recommendation as printed in the report.")],
    focus: Annotated[
        str | None, typer.Option("--focus", "-f", help="Its focus area (key).", autocompletion=_complete.focus_areas)
    ] = None,
    inspection: Annotated[
        str | None,
        typer.Option("--inspection", help="The report it comes from (default: the latest graded inspection)."),
    ] = None,
    report_ref: Annotated[str, typer.Option("--ref", help="Its number or reference in the report.")] = "",
    summary: Annotated[str, typer.Option("--summary", help="A short label for tables.")] = "",
    as_json: JsonOption = False,
    allow_personal_data: AllowPersonalData = None,
) -> None:
    """Add a recommendation from the inspection report.

    Example:

        kt rec add "The quality of social work practice and management oversight for disabled children." --focus DIS --ref 3 --summary "Disabled children: practice and oversight"
    """
    with app_context(ctx).writing("rec add", allow_personal_data=allow_personal_data) as s:
        rec = service.add_recommendation(
            s, text, focus=focus, inspection=inspection, report_ref=report_ref, summary=summary
        )
    if as_json:
        print_json(views.record_json(rec))
        return
    say(f"Added {rec.ref}: {safe(rec.short)}")


@app.command("list")
def list_(
    ctx: typer.Context,
    focus: Annotated[
        str | None, typer.Option("--focus", "-f", help="Only this focus area.", autocompletion=_complete.focus_areas)
    ] = None,
    as_json: JsonOption = False,
    wide: WideOption = False,
) -> None:
    """List recommendations with how many actions each has and how many are done.

    Example:

        kt rec list --focus CL
    """
    with app_context(ctx).reading() as s:
        recs = service.list_recommendations(s, focus=focus)
    output(as_json, lambda: [views.rec_json(r) for r in recs], lambda: views.recs_table(recs), wide=wide)


@app.command("show")
def show(
    ctx: typer.Context,
    rec: Annotated[str, typer.Argument(help="The recommendation, e.g. R3.", autocompletion=_complete.recommendations)],
    as_json: JsonOption = False,
    wide: WideOption = False,
) -> None:
    """Show a recommendation and its actions.

    Example:

        kt rec show R3
    """
    with app_context(ctx).reading() as s:
        view = service.show_recommendation(s, rec)
        actions = action_service.list_actions(s, rec=rec)
    if as_json:
        out = views.rec_json(view)
        out["actions"] = [views.action_json(a) for a in actions]
        print_json(out)
        return
    detail = views.rec_detail(view, actions)
    print_detail(detail.title, detail.fields, detail.tables, wide=wide)


@app.command("edit")
def edit(
    ctx: typer.Context,
    rec: Annotated[str, typer.Argument(help="The recommendation, e.g. R3.", autocompletion=_complete.recommendations)],
    text: Annotated[str | None, typer.Option("--text", help="Corrected text.")] = None,
    focus: Annotated[
        str | None, typer.Option("--focus", "-f", help="A new focus area.", autocompletion=_complete.focus_areas)
    ] = None,
    inspection: Annotated[str | None, typer.Option("--inspection", help="The report it comes from.")] = None,
    report_ref: Annotated[str | None, typer.Option("--ref", help="Its reference in the report.")] = None,
    summary: Annotated[str | None, typer.Option("--summary", help="A short label for tables.")] = None,
    allow_personal_data: AllowPersonalData = None,
) -> None:
    """Change a recommendation's focus area, reference, summary or text.

    Example:

        kt rec edit R3 --focus DIS --summary "Disabled children"
    """
    if all(v is None for v in (text, focus, inspection, report_ref, summary)):
        raise ValidationError("Nothing to change: give --text, --focus, --inspection, --ref or --summary.")
    with app_context(ctx).writing(f"rec edit {rec}", allow_personal_data=allow_personal_data) as s:
        updated, changes = service.edit_recommendation(
            s, rec, text=text, focus=focus, inspection=inspection, report_ref=report_ref, summary=summary
        )
    say(updated_message(updated, changes))


@app.command("remove")
def remove(
    ctx: typer.Context,
    rec: Annotated[str, typer.Argument(help="The recommendation, e.g. R3.", autocompletion=_complete.recommendations)],
) -> None:
    """Remove a recommendation that has no actions or KPIs (partners' links to it are cleared).

    Example:

        kt rec remove R11
    """
    with app_context(ctx).writing(f"rec remove {rec}") as s:
        removed = service.remove_recommendation(s, parse_ref(rec, Recommendation))
    say(f"Removed {removed.record.ref}.{cleared_note(removed)}")
