"""kt board: improvement board meetings, each freezing the plan as it stood that day."""

from pathlib import Path
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
from knowsley_tracker.errors import ValidationError
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


@app.command("edit")
def edit(
    ctx: typer.Context,
    board: Annotated[str, typer.Argument(help="The meeting, e.g. B7.")],
    narrative_file: Annotated[
        Path | None,
        typer.Option(
            "--narrative-file",
            help="The Director's narrative for the paper: a UTF-8 Markdown file (paragraphs, lists, *emphasis*); "
            "- reads standard input.",
            dir_okay=False,
            allow_dash=True,
        ),
    ] = None,
    no_narrative: Annotated[bool, typer.Option("--no-narrative", help="Remove the narrative.")] = False,
    decision: Annotated[
        list[str] | None,
        typer.Option("--decision", help="A decision or ask of the board; repeat for each (replaces those recorded)."),
    ] = None,
    no_decisions: Annotated[bool, typer.Option("--no-decisions", help="Remove the decisions and asks.")] = False,
    number: Annotated[
        int | None, typer.Option("--number", min=1, help="The board's own number for the meeting, e.g. 7.")
    ] = None,
    note: Annotated[str | None, typer.Option("--note", help="A new note (no personal data).")] = None,
    allow_personal_data: AllowPersonalData = None,
) -> None:
    """Set what the paper for a meeting says: the Director's narrative, the decisions or asks, its number.

    Example:

        kt board edit B7 --narrative-file narrative.md --decision "Agree the revised date for A8"
    """
    if narrative_file is not None and no_narrative:
        raise ValidationError("Give --narrative-file or --no-narrative, not both.")
    if decision and no_decisions:
        raise ValidationError("Give --decision or --no-decisions, not both.")
    narrative = read_narrative(narrative_file) if narrative_file is not None else ("" if no_narrative else None)
    decisions = list(decision) if decision else ([] if no_decisions else None)
    with app_context(ctx).writing(f"board edit {board}", allow_personal_data=allow_personal_data) as s:
        edited, changed = service.edit_board(
            s, board, number=number, note=note, narrative=narrative, decisions=decisions
        )
    if not changed:
        say(f"{edited.ref} already says that: nothing changed.")
        return
    words = {"number": "number", "note": "note", "narrative": "narrative", "decisions": "decisions and asks"}
    say(f"Updated board meeting {edited.ref} on {format_date(edited.date)}: {', '.join(words[c] for c in changed)}.")


def read_narrative(path: Path) -> str:
    """The narrative file's text (``-``: standard input): UTF-8, at most a few pages."""
    limit = service.NARRATIVE_MAX_CHARS * 4  # bytes: UTF-8 takes up to four a character
    try:
        if str(path) == "-":
            from knowsley_tracker.commit_point import standard_input  # once per command, as a re-run needs

            data = standard_input(limit + 1)
        else:
            with path.open("rb") as handle:
                data = handle.read(limit + 1)
    except OSError as exc:
        raise ValidationError(f"Cannot read {path} ({exc.strerror or exc}).") from None
    if len(data) > limit:
        raise ValidationError(f"{path} is too long for a narrative: keep it to a page or two.")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValidationError(f"{path} is not UTF-8 text: save it as UTF-8 (Markdown or plain text).") from None
