"""kt action: add, list, show, edit and remove the plan's actions."""

from typing import Annotated

import typer

from knowsley_tracker.cli import _complete
from knowsley_tracker.cli._context import (
    AllowPersonalData,
    JsonOption,
    WideOption,
    app_context,
    output,
    print_json,
    say,
    updated_message,
)
from knowsley_tracker.dates import format_date
from knowsley_tracker.errors import ValidationError
from knowsley_tracker.models import Action, Rag, Status, parse_ref
from knowsley_tracker.render import views
from knowsley_tracker.render.text import safe
from knowsley_tracker.service import actions as service

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Actions: what will be done, by whom, by when.")


@app.command("add")
def add(
    ctx: typer.Context,
    rec: Annotated[
        str, typer.Argument(help="The recommendation it delivers, e.g. R3.", autocompletion=_complete.recommendations)
    ],
    title: Annotated[str, typer.Argument(help="What will be done.")],
    due: Annotated[str, typer.Option("--due", "-d", help="Due date: 30/09/2025, 30 Sep 2025, +6w, visit-2w...")],
    owner: Annotated[
        str | None, typer.Option("--owner", "-o", help="Owner: id (O2), role or name.", autocompletion=_complete.owners)
    ] = None,
    success: Annotated[str, typer.Option("--success", help="How we will know it worked (the success measure).")] = "",
    status: Annotated[
        str | None,
        typer.Option("--status", help="Starting status (default not-started).", autocompletion=_complete.statuses),
    ] = None,
    progress: Annotated[int | None, typer.Option("--progress", help="Starting progress, 0-100.")] = None,
    as_json: JsonOption = False,
    allow_personal_data: AllowPersonalData = None,
) -> None:
    """Add an action under a recommendation.

    Example:

        kt action add R3 "Audit all open disabled children's cases" --owner "Head of Service, Disabled Children" --due 30/09/2025
    """
    with app_context(ctx).writing(f"action add {rec}", allow_personal_data=allow_personal_data) as s:
        action = service.add_action(
            s,
            s.recommendation(rec).id,
            title,
            due=s.parse_date(due),
            owner_id=s.owner(owner).id if owner else None,
            status=Status.parse(status, "status") if status else None,
            progress=progress,
            success_measure=success,
        )
    if as_json:
        print_json(views.record_json(action))
        return
    say(f"Added {action.ref}, due {format_date(action.due)}: {safe(action.title)}")


@app.command("list")
def list_(
    ctx: typer.Context,
    focus: Annotated[
        str | None,
        typer.Option("--focus", "-f", help="Only this focus area (key).", autocompletion=_complete.focus_areas),
    ] = None,
    owner: Annotated[
        str | None,
        typer.Option("--owner", "-o", help="Only this owner (id, role or name).", autocompletion=_complete.owners),
    ] = None,
    status: Annotated[
        str | None, typer.Option("--status", "-s", help="Only this status.", autocompletion=_complete.statuses)
    ] = None,
    rec: Annotated[
        str | None,
        typer.Option("--rec", "-r", help="Only this recommendation.", autocompletion=_complete.recommendations),
    ] = None,
    rag: Annotated[
        str | None,
        typer.Option("--rag", help="Only this RAG: red, amber, green, blue, complete.", autocompletion=_complete.rags),
    ] = None,
    overdue: Annotated[bool, typer.Option("--overdue", help="Only open actions past their due date.")] = False,
    due_within: Annotated[
        int | None, typer.Option("--due-within", metavar="DAYS", help="Only open actions due in the next DAYS days.")
    ] = None,
    as_json: JsonOption = False,
    wide: WideOption = False,
) -> None:
    """List actions, soonest due first, with their RAG (* marks an override).

    Example:

        kt action list --focus DIS --overdue
    """
    with app_context(ctx).reading() as s:
        found = service.list_actions(
            s, focus=focus, owner=owner, status=status, rec=rec, rag=rag, overdue=overdue, due_within=due_within
        )
    output(as_json, lambda: views.actions_json(found), lambda: views.actions_table(found), wide=wide)


@app.command("show")
def show(
    ctx: typer.Context,
    action: Annotated[str, typer.Argument(help="The action, e.g. A12.", autocompletion=_complete.actions)],
    as_json: JsonOption = False,
    wide: WideOption = False,
) -> None:
    """Show one action with its progress log and evidence.

    Example:

        kt action show A12
    """
    with app_context(ctx).reading() as s:
        detail = service.show_action(s, action)
    output(as_json, lambda: views.action_detail_json(detail), lambda: views.action_detail(detail), wide=wide)


@app.command("edit")
def edit(
    ctx: typer.Context,
    action: Annotated[str, typer.Argument(help="The action, e.g. A12.", autocompletion=_complete.actions)],
    title: Annotated[str | None, typer.Option("--title", help="New title.")] = None,
    owner: Annotated[
        str | None, typer.Option("--owner", "-o", help="New owner: id, role or name.", autocompletion=_complete.owners)
    ] = None,
    due: Annotated[str | None, typer.Option("--due", "-d", help="New due date (needs --reason).")] = None,
    reason: Annotated[str | None, typer.Option("--reason", help="Why the due date or RAG changed (logged).")] = None,
    success: Annotated[str | None, typer.Option("--success", help="New success measure.")] = None,
    rec: Annotated[
        str | None,
        typer.Option("--rec", help="Move it under another recommendation.", autocompletion=_complete.recommendations),
    ] = None,
    rag: Annotated[
        str | None,
        typer.Option("--rag", help="Override the RAG: red, amber or green (needs --reason); auto clears it."),
    ] = None,
    allow_personal_data: AllowPersonalData = None,
) -> None:
    """Change an action. A new due date or a RAG override needs --reason, and is logged.

    Example:

        kt action edit A3 --due 31/10/2025 --reason "Audit tool delayed by system upgrade"
    """
    if all(v is None for v in (title, owner, due, success, rec, rag)):
        raise ValidationError("Nothing to change: give --title, --owner, --due, --success, --rec or --rag.")
    with app_context(ctx).writing(f"action edit {action}", allow_personal_data=allow_personal_data) as s:
        clear_rag = rag is not None and rag.strip().lower() in ("auto", "clear", "none")
        updated, changes = service.edit_action(
            s,
            s.action(action).id,
            title=title,
            owner_id=s.owner(owner).id if owner else None,
            due=s.parse_date(due) if due is not None else None,
            reason=reason,
            success_measure=success,
            rec_id=s.recommendation(rec).id if rec else None,
            rag=Rag.parse(rag, "RAG") if rag is not None and not clear_rag else None,
            clear_rag=clear_rag,
        )
    logged = " (reason logged)" if reason and ("due" in changes or "rag_override" in changes) else ""
    say(updated_message(updated, changes, logged=logged))


@app.command("remove")
def remove(
    ctx: typer.Context,
    action: Annotated[str, typer.Argument(help="The action, e.g. A12.", autocompletion=_complete.actions)],
) -> None:
    """Delete an action nothing refers to yet (otherwise drop it with a reason).

    Example:

        kt action remove A31
    """
    with app_context(ctx).writing(f"action remove {action}") as s:
        removed = service.remove_action(s, parse_ref(action, Action)).record
    say(f"Removed {removed.ref}: {safe(removed.title)}")
