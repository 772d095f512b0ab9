"""render: user text is escaped for terminals and never read as Rich markup."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from knowsley_tracker.render import rich_out
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


def render_rich(renderable: object) -> str:
    buffer = io.StringIO()
    console = Console(file=buffer, width=100, record=True, color_system=None, force_terminal=True)
    console.print(renderable)
    return console.export_text()


def test_rich_table_shows_markup_literally() -> None:
    view = TableView([Column("Title")], title="[red]Actions[/]")
    view.add([HOSTILE])
    text = render_rich(rich_out.table(view))
    assert "[red]Actions[/]" in text
    assert "[bold red]Alert[/]" in text
    assert "\\x1b[2J" in text
    assert "\x1b" not in text


def test_rich_detail_shows_markup_literally() -> None:
    text = render_rich(rich_out.detail("[b]A1[/b]", [("Note", "[link=http://x]click[/link]")], []))
    assert "[b]A1[/b]" in text
    assert "[link=http://x]click[/link]" in text


def test_empty_table_message() -> None:
    view = TableView([Column("ID")], empty="No actions match.")
    assert render_rich(rich_out.table(view)).strip() == "No actions match."


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
