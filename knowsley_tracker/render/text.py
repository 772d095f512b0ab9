"""Plain-text output: escaping user text for terminals, and tab-separated tables.

No Rich here: ``kt check`` and piped listings print through this module only.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Sequence

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


# Column and TableView are plain classes rather than dataclasses: every listing imports
# them, and making a dataclass costs about 0.3 ms at start-up (benchmarks/README.md).


class Column:
    """A column of a :class:`TableView`. On a terminal the table is fitted to the width
    (:mod:`knowsley_tracker.render.fit`); piped, every column is printed in full.

    - ``max_width``: text wider than this wraps, even when there is room.
    - ``no_wrap``: ids, dates, statuses: never cut; shown whole or left out whole.
    - ``priority``: 0 is always shown, higher is left out first; None: by position.
    - ``min_width``: the narrowest a text column is worth showing.
    - ``lines``: text wraps at spaces to this many lines, then ends in an ellipsis.
    - ``short``: a shorter heading for a terminal short of room ("%" for Progress).
    - ``terminal``/``piped``: where the column appears. A terminal-only column can say more
      ("R1 (rec 9)") while the piped twin keeps the tab-separated output scripts read.
    """

    __slots__ = (
        "title",
        "justify",
        "max_width",
        "no_wrap",
        "priority",
        "min_width",
        "lines",
        "short",
        "terminal",
        "piped",
    )

    def __init__(
        self,
        title: str,
        justify: str = "left",
        max_width: int | None = None,
        no_wrap: bool = False,
        priority: int | None = None,
        min_width: int = 12,
        lines: int = 2,
        short: str = "",
        terminal: bool = True,
        piped: bool = True,
    ) -> None:
        self.title = title
        self.justify = justify  # left | right
        self.max_width = max_width
        self.no_wrap = no_wrap
        self.priority = priority
        self.min_width = min_width
        self.lines = lines
        self.short = short
        self.terminal = terminal
        self.piped = piped

    def __repr__(self) -> str:
        return f"Column({self.title!r})"


class TableView:
    """A table as strings: fitted to the terminal there, TSV otherwise.

    ``row_styles`` holds per-row RAG (or other) keys that colour the row's cells on a
    terminal; ``more`` says how to see one row in full when columns are left out
    ("kt action show A12")."""

    __slots__ = ("columns", "rows", "title", "row_styles", "empty", "more")

    def __init__(
        self,
        columns: list[Column],
        rows: list[list[str]] | None = None,
        title: str = "",
        row_styles: list[dict[int, str]] | None = None,
        empty: str = "Nothing to show.",
        more: str = "",
    ) -> None:
        self.columns = columns
        self.rows: list[list[str]] = [] if rows is None else rows
        self.title = title
        self.row_styles: list[dict[int, str]] = [] if row_styles is None else row_styles
        self.empty = empty
        self.more = more

    def __repr__(self) -> str:
        return f"TableView({self.title!r}, {len(self.rows)} rows)"

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
