"""Tables fit the terminal: checked in a real pseudo-terminal at five widths, against
reviewed snapshots (tests/snapshots/terminal/, rewritten with ``python
tests/terminal_pty.py --update``), and piped output stays byte-for-byte what it was."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from terminal_pty import (
    COMMANDS,
    COMMANDS_AT,
    PIPED,
    PIPED_COMMANDS,
    WIDTHS,
    base_env,
    example_copy,
    piped,
    render,
    run_in_pty,
    snapshot_path,
)

from knowsley_tracker.render.fit import ELLIPSIS, Spec, cell_width, clip, fit, wrap

ACTION_ROW = re.compile(r"^A\d+ ")
LEFT_OUT = re.compile(
    r"(Left\s+out\s+at\s+\d+\s+columns:|…\s+marks\s+text).*?--wide(,\s+or\s+kt\s+action\s+show\s+ID)?\.", re.DOTALL
)


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return example_copy(tmp_path_factory.mktemp("example"))


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize(("stem", "args"), COMMANDS, ids=[stem for stem, _ in COMMANDS])
def test_terminal_output_matches_the_reviewed_snapshot(example: Path, stem: str, args: list[str], width: int) -> None:
    expected = snapshot_path(stem, width).read_text(encoding="utf-8")
    assert render(example, args, width) == expected


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize(("stem", "args"), COMMANDS, ids=[stem for stem, _ in COMMANDS])
def test_no_line_is_wider_than_the_terminal(stem: str, args: list[str], width: int) -> None:
    lines = snapshot_path(stem, width).read_text(encoding="utf-8").splitlines()
    assert max(cell_width(line) for line in lines) <= width


def vocabulary(example: Path, args: list[str]) -> set[str]:
    """Every whole word the command can show: its --wide output on a very wide terminal."""
    return set(render(example, [*args, "--wide"], 1000).split())


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize(("stem", "args"), COMMANDS, ids=[stem for stem, _ in COMMANDS])
def test_no_word_or_id_is_broken(example: Path, stem: str, args: list[str], width: int) -> None:
    """Each word shown is whole, or ends in an ellipsis after the start of a real word."""
    words = vocabulary(example, args)
    shown = snapshot_path(stem, width).read_text(encoding="utf-8")
    shown = LEFT_OUT.sub("", shown)
    for token in shown.split():
        if token.endswith(ELLIPSIS):
            start = token[: -len(ELLIPSIS)]
            assert any(w.startswith(start) for w in words), token
        elif not re.fullmatch(r"[─█░]+|\d+|%", token):
            assert token in words, (width, token)


SOME_WIDTHS = [(stem, args, width) for stem, args, widths in COMMANDS_AT for width in widths]


@pytest.mark.parametrize(("stem", "args", "width"), SOME_WIDTHS, ids=[f"{s}-{w}" for s, _, w in SOME_WIDTHS])
def test_check_and_kpi_show_fit_the_terminal(example: Path, stem: str, args: list[str], width: int) -> None:
    """kt check's items and kpi show's title wrap at spaces to the width (they ran past it and the
    terminal broke them mid-word); every word is whole, as piped (check) or --wide shows it."""
    shown = render(example, args, width)
    assert shown == snapshot_path(stem, width).read_text(encoding="utf-8")
    assert max(cell_width(line) for line in shown.splitlines()) <= width
    words = set(piped(example, args).decode("utf-8").split()) if args[0] == "check" else vocabulary(example, args)
    for token in LEFT_OUT.sub("", shown).split():
        assert token in words or re.fullmatch(r"[─█░]+|\d+|%", token), (width, token)


def test_check_items_hang_under_their_message(example: Path) -> None:
    lines = render(example, ["check"], 60).splitlines()
    at = lines.index("  A14  due 31 Aug 2025, 91 days overdue: Refresh the neglect")
    assert lines[at + 1 : at + 3] == [
        "       strategy and assessment tool with partners [Assistant",
        "       Director, Children's Social Care (Priya Shah)]",
    ]


def test_action_list_at_80_columns_takes_at_most_two_lines_per_action(example: Path) -> None:
    lines = snapshot_path("action-list", 80).read_text(encoding="utf-8").splitlines()
    starts = [n for n, line in enumerate(lines) if ACTION_ROW.match(line)]
    assert len(starts) == len((PIPED / "action-list.txt").read_text().splitlines()) - 1 == 37
    ends = [*starts[1:], next(n for n, line in enumerate(lines) if line.startswith("Left out"))]
    assert max(end - start for start, end in zip(starts, ends, strict=True)) == 2


def test_action_list_at_60_columns_shows_id_due_rag_and_the_start_of_the_title() -> None:
    lines = snapshot_path("action-list", 60).read_text(encoding="utf-8").splitlines()
    assert lines[1].split() == ["ID", "Due", "RAG", "Title"]
    first = next(line for line in lines if line.startswith("A6 "))
    assert first.split()[:4] == ["A6", "28", "Feb", "2025"]
    assert "Complete  Weekly multi-agency" in first
    assert lines[-3:] == [
        "Left out at 60 columns: Status, Progress, Owner, Rec, Focus;",
        "… marks text cut short. See all with --wide, or kt action",
        "show ID.",
    ]


def test_wide_shows_every_column_and_all_of_each_title(example: Path) -> None:
    out = render(example, ["action", "list", "--wide"], 80)
    assert out.splitlines()[1].split() == ["ID", "Due", "Status", "Progress", "RAG", "Owner", "Rec", "Focus", "Title"]
    assert "Left out" not in out
    assert ELLIPSIS not in out


def test_rag_cells_are_coloured_on_a_terminal(example: Path) -> None:
    code, out = run_in_pty(["--db", str(example), "action", "list", "--overdue"], 100, base_env())
    assert code == 0
    red = next(line for line in out.splitlines() if line.startswith("A35 "))
    assert re.search("  \x1b\\[1;38;5;231;48;5;160mRed *\x1b\\[0m  ", red), red


def test_no_color_and_a_dumb_terminal_get_no_escape_codes(example: Path) -> None:
    for extra in ({"NO_COLOR": "1"}, {"TERM": "dumb"}):
        code, out = run_in_pty(["--db", str(example), "report"], 100, base_env(**extra))
        assert code == 0
        assert "\x1b" not in out


def test_user_text_cannot_reach_the_terminal_as_escapes(kt: object, db: Path) -> None:
    """A title holding an escape sequence is shown escaped in the fitted table."""
    from typer.testing import CliRunner

    from knowsley_tracker.cli import app

    runner = CliRunner()
    for args in (
        ["init", "--authority", "Test"],
        ["rec", "add", "Text", "--ref", "1"],
        ["action", "add", "R1", "Clear \x1b[2J the [bold]screen[/]", "--due", "1/12/2025"],
    ):
        assert runner.invoke(app, args).exit_code == 0
    code, out = run_in_pty(["--db", str(db), "action", "list"], 80, base_env(NO_COLOR="1"))
    assert code == 0
    assert "\x1b" not in out
    assert "Clear \\x1b[2J the [bold]screen[/]" in out


# -- piped output is unchanged ------------------------------------------------------------


@pytest.mark.parametrize("name", list(PIPED_COMMANDS))
def test_piped_output_is_byte_for_byte_what_it_was(example: Path, name: str) -> None:
    """tests/snapshots/piped/ holds what these commands printed to a pipe before tables were
    fitted to terminals (captured with the code of commit 69f1d26). Detail views whose
    fields now give a recommendation's paragraph number (action, rec and kpi show) are
    left out; their tables are the same TSV as the lists here."""
    assert piped(example, PIPED_COMMANDS[name]) == (PIPED / f"{name}.txt").read_bytes()


# -- the fitting rules ----------------------------------------------------------------------


def test_wrap_breaks_at_spaces_to_two_lines_then_an_ellipsis() -> None:
    text = "Review every open disabled children's case and record a risk assessment"
    assert wrap(text, 30) == ["Review every open disabled", "children's case and record a…"]
    assert wrap(text, 30, None) == ["Review every open disabled", "children's case and record a", "risk assessment"]
    assert wrap("short", 30) == ["short"]


def test_a_word_longer_than_its_column_is_shortened_never_split() -> None:
    assert wrap("Recommendation", 10) == ["Recommend…"]
    assert wrap("A caseload-management-framework agreed", 12) == ["A", "caseload-ma…"]
    assert clip("Head of Service, Care Leavers", 12) == "Head of Ser…"


def test_wide_characters_count_as_two_cells() -> None:
    assert cell_width("会議") == 4
    assert cell_width("café") == 4
    assert wrap("会議 会議 会議", 9) == ["会議 会議", "会議"]


def test_columns_are_left_out_by_priority_and_named() -> None:
    specs = [
        Spec("ID", priority=0, fixed=True),
        Spec("Owner", priority=3),
        Spec("Due", priority=1, fixed=True),
        Spec("Title", priority=2, min_width=20),
    ]
    rows = [["A1", "Head of Service, Care Leavers", "31 Oct 2025", "Recruit four more personal advisers"]]
    fitted = fit(specs, rows, 40)
    assert [specs[i].title for i in fitted.shown] == ["ID", "Due", "Title"]
    assert fitted.hidden == ["Owner"]
    assert fitted.widths == [2, 11, 23]
    assert fitted.rows == [[["A1"], ["31 Oct 2025"], ["Recruit four more", "personal advisers"]]]


def test_an_id_is_kept_whole_even_when_nothing_else_fits() -> None:
    fitted = fit([Spec("ID", priority=0, fixed=True), Spec("Title", priority=1)], [["A1234", "Title"]], 4)
    assert fitted.rows == [[["A1234"]]]
    assert fitted.hidden == ["Title"]


def test_history_at_80_columns_gives_its_room_to_the_values_not_to_a_rare_long_record_name(example: Path) -> None:
    """A settings change's record is "the plan's settings": it wraps in a ref-wide column
    rather than widening the Record column for every row and squeezing the new values."""
    lines = render(example, ["history"], 80).splitlines()
    header = next(line for line in lines if line.startswith("Txn"))
    record, new = header.index("Record"), header.index("New")
    assert header.index("Change") - record == len("the plan's") + 2  # 10 wide, then the gutter
    assert 80 - new >= 15
    assert any(line[record:].startswith("the plan's ") for line in lines)
    assert any(line[record:].startswith("settings ") for line in lines)
