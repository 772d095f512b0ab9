"""kt evidence: attach and list the evidence that shows an action made a difference."""

from typing import Annotated

import typer

from knowsley_tracker.cli import _complete
from knowsley_tracker.cli._context import (
    AllowPersonalData,
    ByOption,
    JsonOption,
    WideOption,
    app_context,
    output,
    say,
)
from knowsley_tracker.dates import format_date
from knowsley_tracker.models import Evidence, EvidenceKind
from knowsley_tracker.render import views
from knowsley_tracker.render.text import safe
from knowsley_tracker.service import actions as service

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Evidence attached to actions.")


@app.command("add")
def add(
    ctx: typer.Context,
    action: Annotated[str, typer.Argument(help="The action, e.g. A12.", autocompletion=_complete.actions)],
    title: Annotated[str, typer.Argument(help="What the evidence is.")],
    date: Annotated[str, typer.Option("--date", help="When it was produced (default today).")] = "today",
    link: Annotated[str, typer.Option("--link", help="Where to find it: a URL or a file path.")] = "",
    kind: Annotated[
        str, typer.Option("--kind", help="document, audit, data, minutes, feedback, training, policy or other.")
    ] = "document",
    by: ByOption = None,
    allow_personal_data: AllowPersonalData = None,
) -> None:
    """Attach a piece of evidence to an action.

    Example:

        kt evidence add A12 "Disabled children audit report, Sept 2025" --kind audit --link https://intranet/audit.pdf
    """
    with app_context(ctx).writing(f"evidence add {action}", by=by, allow_personal_data=allow_personal_data) as s:
        evidence = service.add_evidence(
            s,
            s.action(action).id,
            title,
            day=s.parse_date(date),
            link=link,
            kind=EvidenceKind.parse(kind, "evidence kind"),
        )
    say(f"Added {evidence.ref} to A{evidence.action_id}, dated {format_date(evidence.date)}: {safe(evidence.title)}")


@app.command("list")
def list_(
    ctx: typer.Context,
    action: Annotated[str | None, typer.Argument(help="Only this action's evidence.")] = None,
    as_json: JsonOption = False,
    wide: WideOption = False,
) -> None:
    """List evidence, for one action or the whole plan.

    Example:

        kt evidence list A12
    """
    with app_context(ctx).reading() as s:
        items = service.list_evidence(s, action)
    output(
        as_json, lambda: [views.evidence_json(e, a) for e, a in items], lambda: views.evidence_table(items), wide=wide
    )


@app.command("remove")
def remove(ctx: typer.Context, evidence: Annotated[str, typer.Argument(help="The evidence, e.g. E4.")]) -> None:
    """Remove a piece of evidence attached by mistake.

    Example:

        kt evidence remove E4
    """
    with app_context(ctx).writing(f"evidence remove {evidence}") as s:
        removed = service.remove_evidence(s, s.record(Evidence, evidence, "kt evidence list").id).record
    say(f"Removed {removed.ref}: {safe(removed.title)}")
