"""kt focus: the focus areas the plan is organised by, each with a lead."""

from typing import Annotated

import typer

from knowsley_tracker.cli import _complete
from knowsley_tracker.cli._context import (
    AllowPersonalData,
    JsonOption,
    WideOption,
    app_context,
    print_detail,
    print_json,
    print_table,
    say,
    updated_message,
)
from knowsley_tracker.errors import ValidationError
from knowsley_tracker.render import views
from knowsley_tracker.render.messages import cleared_note
from knowsley_tracker.render.text import safe
from knowsley_tracker.service import actions as action_service
from knowsley_tracker.service import plan as service

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Focus areas and their leads.")


@app.command("add")
def add(
    ctx: typer.Context,
    key: Annotated[str, typer.Argument(help="A short key, e.g. DIS.")],
    name: Annotated[str, typer.Argument(help="The area's name.")],
    lead: Annotated[str, typer.Option("--lead", help="The lead's role.")] = "",
    lead_name: Annotated[str, typer.Option("--lead-name", help="The lead's name (optional).")] = "",
    description: Annotated[str, typer.Option("--description", help="What the area covers.")] = "",
    allow_personal_data: AllowPersonalData = None,
) -> None:
    """Add a focus area.

    Example:

        kt focus add DIS "Children with disabilities" --lead "Head of Service, Disabled Children"
    """
    with app_context(ctx).writing(f"focus add {key}", allow_personal_data=allow_personal_data) as s:
        area = service.add_focus(s, key, name, lead, lead_name, description)
    say(f"Added focus area {area.key}: {safe(area.name)}")


@app.command("list")
def list_(ctx: typer.Context, as_json: JsonOption = False, wide: WideOption = False) -> None:
    """List focus areas with their leads and how many recommendations and actions each has.

    Example:

        kt focus list
    """
    with app_context(ctx).reading() as s:
        areas = service.list_focus_areas(s)
        recs = service.list_recommendations(s)
    counts: dict[int, tuple[int, int]] = {}
    for r in recs:
        if r.focus is not None:
            n_recs, n_actions = counts.get(r.focus.id, (0, 0))
            counts[r.focus.id] = (n_recs + 1, n_actions + len(r.actions))
    if as_json:
        print_json(
            [
                views.record_json(
                    a, lead=a.lead, recommendations=counts.get(a.id, (0, 0))[0], actions=counts.get(a.id, (0, 0))[1]
                )
                for a in areas
            ]
        )
    else:
        print_table(views.focus_table(areas, counts), wide=wide)


@app.command("show")
def show(
    ctx: typer.Context,
    key: Annotated[str, typer.Argument(help="The focus area's key.", autocompletion=_complete.focus_areas)],
    as_json: JsonOption = False,
    wide: WideOption = False,
) -> None:
    """Show a focus area with its recommendations and actions.

    Example:

        kt focus show DIS
    """
    with app_context(ctx).reading() as s:
        area = s.focus(key)
        recs = service.list_recommendations(s, focus=key)
        actions = action_service.list_actions(s, focus=key)
    if as_json:
        print_json(
            views.record_json(
                area,
                lead=area.lead,
                recommendations=[views.rec_json(r) for r in recs],
                actions=[views.action_json(a) for a in actions],
            )
        )
        return
    fields = [("Name", area.name), ("Lead", area.lead), ("Description", area.description)]
    print_detail(f"{area.key}", fields, [views.recs_table(recs), views.actions_table(actions)], wide=wide)


@app.command("edit")
def edit(
    ctx: typer.Context,
    key: Annotated[str, typer.Argument(help="The focus area's key.", autocompletion=_complete.focus_areas)],
    new_key: Annotated[str | None, typer.Option("--key", help="A new key.")] = None,
    name: Annotated[str | None, typer.Option("--name", help="A new name.")] = None,
    lead: Annotated[str | None, typer.Option("--lead", help="The lead's role.")] = None,
    lead_name: Annotated[str | None, typer.Option("--lead-name", help="The lead's name.")] = None,
    description: Annotated[str | None, typer.Option("--description", help="What the area covers.")] = None,
    allow_personal_data: AllowPersonalData = None,
) -> None:
    """Change a focus area's key, name, lead or description.

    Example:

        kt focus edit DIS --lead "Assistant Director, Children's Social Care" --lead-name "Sam Carter"
    """
    if all(v is None for v in (new_key, name, lead, lead_name, description)):
        raise ValidationError("Nothing to change: give --key, --name, --lead, --lead-name or --description.")
    with app_context(ctx).writing(f"focus edit {key}", allow_personal_data=allow_personal_data) as s:
        area, changes = service.edit_focus(
            s, key, new_key=new_key, name=name, lead_role=lead, lead_name=lead_name, description=description
        )
    say(updated_message(area, changes, name=f"focus area {area.key}"))


@app.command("remove")
def remove(
    ctx: typer.Context,
    key: Annotated[str, typer.Argument(help="The focus area's key.", autocompletion=_complete.focus_areas)],
) -> None:
    """Remove a focus area no recommendation, KPI or visit refers to (partners' links to it are cleared).

    Example:

        kt focus remove OLD
    """
    with app_context(ctx).writing(f"focus remove {key}") as s:
        removed = service.remove_focus(s, s.focus(key).id)
    say(f"Removed focus area {removed.record.key}.{cleared_note(removed)}")
