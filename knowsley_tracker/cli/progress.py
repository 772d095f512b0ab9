"""kt log and kt done: the two commands officers type most."""

from typing import Annotated

import typer

from knowsley_tracker import lifecycle
from knowsley_tracker.cli import _complete
from knowsley_tracker.cli._context import AllowPersonalData, ByOption, app_context, say
from knowsley_tracker.models import Status
from knowsley_tracker.render.text import safe
from knowsley_tracker.render.words import describe_changes
from knowsley_tracker.service import actions as service

log_app = typer.Typer(add_completion=False)
done_app = typer.Typer(add_completion=False)


@log_app.command("log")
def log(
    ctx: typer.Context,
    action: Annotated[str, typer.Argument(help="The action, e.g. A12.", autocompletion=_complete.actions)],
    note: Annotated[str, typer.Argument(help="What happened (no personal data about children).")] = "",
    progress: Annotated[int | None, typer.Option("--progress", "-p", help="New progress, 0-100.")] = None,
    status: Annotated[
        str | None,
        typer.Option(
            "--status",
            "-s",
            help="New status: not-started, in-progress, blocked, complete, dropped.",
            autocompletion=_complete.statuses,
        ),
    ] = None,
    by: ByOption = None,
    allow_personal_data: AllowPersonalData = None,
) -> None:
    """Add a progress note to an action, optionally updating its progress or status.

    Example:

        kt log A12 "Audit of 20 cases complete; themes shared" --progress 60
    """
    with app_context(ctx).writing(f"log {action}", by=by, allow_personal_data=allow_personal_data) as s:
        updated, entry = service.log_progress(
            s,
            s.action(action).id,
            note,
            progress=progress,
            status=Status.parse(status, "status") if status else None,
        )
    change = describe_changes(entry.changes)
    if status is None and entry.changes.get("status", [None, None])[1] == Status.COMPLETE.value:
        change += f" ({lifecycle.COMPLETES})"  # say so: the officer asked for 100%, not for complete
    say(f"Logged {entry.ref} on {updated.ref}" + (f": {change}" if change else "") + ".")


@done_app.command("done")
def done(
    ctx: typer.Context,
    action: Annotated[str, typer.Argument(help="The action, e.g. A12.", autocompletion=_complete.actions)],
    note: Annotated[str, typer.Argument(help="A closing note (optional).")] = "",
    by: ByOption = None,
    allow_personal_data: AllowPersonalData = None,
) -> None:
    """Mark an action complete (progress 100%), with an optional closing note.

    Example:

        kt done A12 "Practice standards published to all staff"
    """
    with app_context(ctx).writing(f"done {action}", by=by, allow_personal_data=allow_personal_data) as s:
        updated, entry = service.complete_action(s, s.action(action).id, note)
    say(f"{updated.ref} is complete: {safe(updated.title)} (logged {entry.ref}).")
