"""render: user text is escaped for terminals and never read as Rich markup."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from knowsley_tracker.render import terminal
from knowsley_tracker.render.text import Column, TableView, detail_lines, safe, tsv

HOSTILE = '[bold red]Alert[/] \x1b[2J\x07 =HYPERLINK("x") \u202eevil\ud800'


def test_safe_escapes_controls_bidi_and_surrogates() -> None:
    assert safe("plain text, £5 and café") == "plain text, £5 and café"
    assert safe(HOSTILE) == '[bold red]Alert[/] \\x1b[2J\\x07 =HYPERLINK("x") \\u202eevil\\ud800'
    assert safe("a\tb\nc") == "a\\x09b\\x0ac"
    assert safe("a\nb", keep_newlines=True) == "a\nb"


def test_tsv_escapes_cells() -> None:
    view = TableView([Column("ID"), Column("Title")])
    view.add(["A1", "line one\nline two\twith tab"])
    assert tsv(view) == "id\ttitle\nA1\tline one\\x0aline two\\x09with tab"


def test_detail_lines_align_and_skip_empty() -> None:
    assert detail_lines([("Owner", "Head of QA"), ("Due", ""), ("Status", "blocked")]) == (
        "Owner:  Head of QA\nStatus: blocked"
    )


def on_terminal(lines: list[str]) -> str:
    return "\n".join(lines)


def test_terminal_table_shows_markup_literally() -> None:
    view = TableView([Column("Title")], title="[red]Actions[/]")
    view.add([HOSTILE])
    text = on_terminal(terminal.table_lines(view, 100, terminal.Painter(colour=False)))
    assert "[red]Actions[/]" in text
    assert "[bold red]Alert[/]" in text
    assert "\\x1b[2J" in text
    assert "\x1b" not in text


def test_terminal_detail_shows_markup_literally() -> None:
    lines = terminal.detail_lines(
        "[b]A1[/b]", [("Note", "[link=http://x]click[/link]")], [], 100, terminal.Painter(False)
    )
    assert lines == ["[b]A1[/b]", "Note:  [link=http://x]click[/link]"]


def test_empty_table_message() -> None:
    view = TableView([Column("ID")], empty="No actions match.")
    assert terminal.table_lines(view, 100, terminal.Painter(colour=False)) == ["No actions match."]


def test_colour_codes_wrap_only_the_styled_cells() -> None:
    view = TableView([Column("ID"), Column("RAG"), Column("Title")], title="Actions")
    view.add(["A1", "Red", "Recruit four more personal advisers"], {1: "rag.red"})
    paint = terminal.Painter(colour=True, depth256=False)
    assert terminal.table_lines(view, 40, paint) == [
        "\x1b[1mActions\x1b[0m",
        "\x1b[1mID\x1b[0m  \x1b[1mRAG\x1b[0m  \x1b[1mTitle\x1b[0m",
        "\x1b[2m──  ───  ───────────────────────────────\x1b[0m",
        "A1  \x1b[1;37;41mRed\x1b[0m  Recruit four more personal",
        "         advisers",
    ]


def test_a_terminal_only_column_leaves_the_piped_columns_as_they_were() -> None:
    view = TableView([Column("Rec", terminal=False), Column("Rec", piped=False), Column("RAG")])
    view.add(["R1", "R1 (rec 9)", "Red"], {2: "rag.red"})
    assert tsv(view) == "rec\trag\nR1\tRed"
    assert terminal.table_lines(view, 40, terminal.Painter(colour=False)) == [
        "Rec         RAG",
        "──────────  ───",
        "R1 (rec 9)  Red",
    ]


@pytest.mark.parametrize(
    "code",
    [*range(0x200B, 0x2010), *range(0x2060, 0x2065), 0xFEFF, 0x00AD, 0x180E, 0x2028, 0x2029, 0x3164, 0xE0041],
    ids=lambda c: f"U+{c:04X}",
)
def test_invisible_characters_are_shown_as_escapes(code: int) -> None:
    escape = f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"
    assert safe(f"Sam{chr(code)}Carter") == f"Sam{escape}Carter"
    assert safe(f"Sam{chr(code)}Carter") != safe("Sam Carter")


@pytest.mark.parametrize("text", ["Café réunion", "Sam\u00a0Carter", "गु", "日本語", "🇬🇧", "\u05d0\u05d1"])
def test_visible_text_is_left_alone(text: str) -> None:
    assert safe(text) == text


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8") | st.sampled_from("&<>\"'\x1b\u202e")))
def test_html_cells_are_escaped_as_html_escape_does(text: str) -> None:
    """report_html writes escapes itself rather than import the html package (its entity
    table costs a millisecond): the result must be html.escape's, after safe()."""
    import html

    from knowsley_tracker.render.report_html import h
    from knowsley_tracker.render.text import safe

    assert h(text) == html.escape(safe(text), quote=True)
