"""kt board: improvement board meetings, each freezing the plan as it stood that day."""

from __future__ import annotations

from typing import Annotated

import typer

from knowsley_tracker.cli._context import (
    AllowPersonalData,
    JsonOption,
    WideOption,
    app_context,
    output,
    print_json,
    say,
)
from knowsley_tracker.dates import format_date
from knowsley_tracker.models import Board
from knowsley_tracker.render import report_kpis as views
from knowsley_tracker.service import boards as service

app = typer.Typer(
    add_completion=False, no_args_is_help=True, help="Improvement board meetings and their frozen snapshots."
)


def added_message(board: Board) -> str:
    if not board.is_frozen:
        return (
            f"Recorded board meeting {board.ref} on {format_date(board.date)}, still to come: "
            f"freeze its snapshot on the day with kt board freeze {board.ref}."
        )
    if board.snapshot_method == "reconstructed":
        how = "rebuilt its snapshot from the progress log (actions added to the tracker after that day are not in it)"
    else:
        how = "froze its snapshot"
    counts = views.counts_text(board.rag_counts)
    return f"Recorded board meeting {board.ref} on {format_date(board.date)} and {how}: {counts}."


@app.command("add")
def add(
    ctx: typer.Context,
    date: Annotated[str, typer.Argument(help="The meeting date, e.g. 26/11/2025 (a past, today's or future one).")],
    note: Annotated[str, typer.Option("--note", help="A note, e.g. the meeting's focus (no personal data).")] = "",
    as_json: JsonOption = False,
    allow_personal_data: AllowPersonalData = None,
) -> None:
    """Record a board meeting and freeze the plan as it stood that day.

    Example:

        kt board add 26/11/2025 --note "Deep dive: care leavers"
    """
    with app_context(ctx).writing("board add", allow_personal_data=allow_personal_data) as s:
        board = service.add_board(s, date, note)
    if as_json:
        print_json(views.board_json(board))
    else:
        say(added_message(board))


@app.command("freeze")
def freeze(ctx: typer.Context, board: Annotated[str, typer.Argument(help="The meeting, e.g. B8.")]) -> None:
    """Freeze the snapshot of a meeting recorded in advance, on or after its day.

    Example:

        kt board freeze B8
    """
    with app_context(ctx).writing(f"board freeze {board}") as s:
        frozen = service.freeze_board(s, board)
    counts = views.counts_text(frozen.rag_counts)
    say(f"Froze the snapshot of board meeting {frozen.ref} on {format_date(frozen.date)}: {counts}.")


@app.command("list")
def list_(ctx: typer.Context, as_json: JsonOption = False, wide: WideOption = False) -> None:
    """List board meetings, oldest first, with the RAG counts each snapshot froze.

    Example:

        kt board list
    """
    with app_context(ctx).reading() as s:
        boards = service.list_boards(s)
    output(as_json, lambda: [views.board_json(b) for b in boards], lambda: views.boards_table(boards), wide=wide)


@app.command("show")
def show(
    ctx: typer.Context,
    board: Annotated[str, typer.Argument(help="The meeting, e.g. B7.")],
    as_json: JsonOption = False,
    wide: WideOption = False,
) -> None:
    """Show a board meeting's snapshot: every action and KPI as they stood.

    Example:

        kt board show B7
    """
    with app_context(ctx).reading() as s:
        view = service.show_board(s, board)
    output(as_json, lambda: views.board_detail_json(view), lambda: views.board_detail(view), wide=wide)
