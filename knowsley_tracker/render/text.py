"""Plain-text output: escaping user text for terminals, and tab-separated tables.

No Rich here: ``kt check`` and piped listings print through this module only.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

# Characters shown as escapes (``\x1b``, ``\u200b``) instead of printed: those that would
# move the cursor, recolour the terminal or reorder text (C0/C1 controls, DEL,
# bidirectional controls), and those that print as nothing at all, so that
# "Sam Carter" and "Sam\u200bCarter" can be told apart. By Unicode category:
# Cc controls, Cf format characters (zero-width spaces and joiners U+200B-U+200F,
# word joiner and invisible operators U+2060-U+2064, the byte-order mark U+FEFF,
# bidi controls, soft hyphen...), Cs lone surrogates, Zl/Zp line and paragraph
# separators; plus letters that are blank by design (Hangul fillers and the like).
_ESCAPED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
_BLANK_LETTERS = frozenset(map(chr, (0x034F, 0x115F, 0x1160, 0x17B4, 0x17B5, 0x3164, 0xFFA0)))


def _escape_char(ch: str) -> str:
    code = ord(ch)
    if code < 0x100:
        return f"\\x{code:02x}"
    if code > 0xFFFF:
        return f"\\U{code:08x}"
    return f"\\u{code:04x}"


def _is_hidden(ch: str) -> bool:
    """True for a character that must reach a terminal as a visible escape."""
    if ch in _BLANK_LETTERS:
        return True
    if ch.isprintable():  # no escaped category is printable
        return False
    import unicodedata  # only for text that is not plainly printable

    return unicodedata.category(ch) in _ESCAPED_CATEGORIES


def safe(text: object, *, keep_newlines: bool = False) -> str:
    """User text made safe to print: control characters, invisible characters and lone
    surrogates become visible escapes (``\\x1b``, ``\\u200b``), so nothing typed can recolour
    or rewrite the terminal, or pass for other text."""
    s = str(text)
    # isascii() is a flag check, so ASCII text (most of it) skips the scan for blank letters.
    if s.isprintable() and (s.isascii() or _BLANK_LETTERS.isdisjoint(s)):
        return s
    out: list[str] = []
    for ch in s:
        if ch == "\n" and keep_newlines:
            out.append(ch)
        elif _is_hidden(ch):
            out.append(_escape_char(ch))
        else:
            out.append(ch)
    return "".join(out)


def pct(value: float | None) -> str:
    """A percentage as shown: ``50%``; ``-`` when there is none."""
    return "-" if value is None else f"{value:.0f}%"


def is_terminal() -> bool:
    """True when stdout is a terminal (or TTY_COMPATIBLE=1 asks for terminal output)."""
    if os.environ.get("TTY_COMPATIBLE") == "1":
        return True
    if os.environ.get("TTY_COMPATIBLE") == "0":
        return False
    try:
        return sys.stdout.isatty()
    except (AttributeError, ValueError):
        return False


def emit(text: str = "", *, err: bool = False) -> None:
    """Print one already-safe line (or block) to stdout or stderr."""
    stream = sys.stderr if err else sys.stdout
    stream.write(text + "\n")


@dataclass
class Column:
    """A column of a :class:`TableView`. On a terminal the table is fitted to the width
    (:mod:`knowsley_tracker.render.fit`); piped, every column is printed in full."""

    title: str
    justify: str = "left"  # left | right
    max_width: int | None = None  # text wider than this wraps, even when there is room
    no_wrap: bool = False  # ids, dates, statuses: never cut; shown whole or left out whole
    priority: int | None = None  # 0 is always shown, higher is left out first; None: by position
    min_width: int = 12  # the narrowest a text column is worth showing
    lines: int = 2  # text wraps at spaces to this many lines, then ends in an ellipsis
    short: str = ""  # a shorter heading for a terminal short of room ("%" for Progress)
    # Where the column appears: a terminal-only column can say more ("R1 (rec 9)") while
    # the piped twin keeps the tab-separated output that scripts read unchanged.
    terminal: bool = True
    piped: bool = True


@dataclass
class TableView:
    """A table as strings: fitted to the terminal there, TSV otherwise."""

    columns: list[Column]
    rows: list[list[str]] = field(default_factory=list)
    title: str = ""
    # Per-row RAG (or other) keys used to colour the row's cells on a terminal.
    row_styles: list[dict[int, str]] = field(default_factory=list)
    empty: str = "Nothing to show."
    # How to see one row in full when columns are left out: "kt action show A12".
    more: str = ""

    def add(self, cells: Sequence[object], styles: dict[int, str] | None = None) -> None:
        self.rows.append([c if type(c) is str else "" if c is None else str(c) for c in cells])
        self.row_styles.append(styles or {})


def tsv(view: TableView) -> str:
    """Tab-separated, one header line, user text escaped (tabs and newlines too)."""
    keep = [i for i, c in enumerate(view.columns) if c.piped]
    lines = ["\t".join(view.columns[i].title.lower().replace(" ", "_") for i in keep)]
    every = len(keep) == len(view.columns)
    for row in view.rows:
        cells = row if every else [row[i] for i in keep]
        joined = "".join(cells)
        # One check for the whole row; escaping cell by cell only when something needs it.
        lines.append("\t".join(cells) if joined.isascii() and joined.isprintable() else "\t".join(map(safe, cells)))
    return "\n".join(lines)


def detail_lines(pairs: Iterable[tuple[str, str]]) -> str:
    """``Label: value`` lines, labels padded to line up."""
    items = [(label, value) for label, value in pairs if value not in (None, "")]
    if not items:
        return ""
    width = max(len(label) for label, _ in items)
    return "\n".join(f"{label + ':':<{width + 1}} {safe(value, keep_newlines=False)}" for label, value in items)
