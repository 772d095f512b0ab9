"""Tables and detail views drawn for a terminal: fitted to its width, RAG cells coloured.

Tables are laid out by :mod:`knowsley_tracker.render.fit` and drawn here as
lines with ANSI colour codes, without Rich: a table of thousands of rows takes
milliseconds. Every piece of user text passes through :func:`safe` first, so
nothing typed can move the cursor or recolour the terminal. Colour is left out
when ``NO_COLOR`` is set or ``TERM`` is ``dumb``.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Sequence

from knowsley_tracker.render.fit import GUTTER, Fitted, Spec, cell_width, fit, wrap
from knowsley_tracker.render.text import Column, TableView, safe

DEFAULT_WIDTH = 80
RESET = "\x1b[0m"

# Style names used by the views, as SGR codes: (16-colour terminals, 256-colour terminals).
_CODES: dict[str, tuple[str, str]] = {
    "rag.red": ("1;37;41", "1;38;5;231;48;5;160"),
    "rag.amber": ("1;30;43", "1;38;5;16;48;5;208"),
    "rag.green": ("1;37;42", "1;38;5;231;48;5;28"),
    "rag.blue": ("1;37;44", "1;38;5;231;48;5;21"),
    "rag.complete": ("1", "1"),
    "rag.dropped": ("2", "2"),
    "judgement.inadequate": ("1;31", "1;38;5;160"),
    "judgement.requires-improvement": ("33", "38;5;208"),
    "judgement.good": ("32", "38;5;28"),
    "judgement.outstanding": ("1;32", "1;38;5;28"),
    "heading": ("1", "1"),
    "title": ("1;4", "1;4"),
    "muted": ("2", "2"),
    "bar": ("32", "38;5;34"),
}
BAR_CHARS = "\u2588\u2591"


def terminal_width() -> int:
    """The width to fit: ``$COLUMNS`` when set, else the terminal's, else 80."""
    columns = os.environ.get("COLUMNS", "")
    if columns.isdigit() and int(columns) > 0:
        return int(columns)
    try:
        return os.get_terminal_size(sys.stdout.fileno()).columns or DEFAULT_WIDTH
    except (AttributeError, ValueError, OSError):
        return DEFAULT_WIDTH


class Painter:
    """Wraps text in colour codes, or leaves it plain when colour is off."""

    def __init__(self, colour: bool | None = None, depth256: bool | None = None) -> None:
        env = os.environ
        if colour is None:
            colour = not env.get("NO_COLOR") and env.get("TERM", "") != "dumb"
        if depth256 is None:
            depth256 = "256" in env.get("TERM", "") or bool(env.get("COLORTERM"))
        self.colour = colour
        self.codes = {name: codes[1 if depth256 else 0] for name, codes in _CODES.items()}

    def __call__(self, text: str, style: str) -> str:
        if not self.colour or not style or not text:
            return text
        if style == "bar":
            return self._bar(text)
        code = self.codes.get(style)
        return f"\x1b[{code}m{text}{RESET}" if code else text

    def _bar(self, text: str) -> str:
        """A progress cell (``█████░░░░░ 50%``): the bar coloured, the figure plain."""
        n = len(text) - len(text.lstrip(" "))
        end = n
        while end < len(text) and text[end] in BAR_CHARS:
            end += 1
        if end == n:
            return text
        return f"{text[:n]}\x1b[{self.codes['bar']}m{text[n:end]}{RESET}{text[end:]}"


def specs_of(columns: Sequence[Column]) -> list[Spec]:
    return [
        Spec(
            title=c.title,
            right=c.justify == "right",
            priority=c.priority if c.priority is not None else i,
            fixed=True if c.no_wrap else None,
            min_width=c.min_width,
            max_width=c.max_width,
            lines=c.lines,
            short=c.short,
        )
        for i, c in enumerate(columns)
    ]


def _pad(text: str, width: int, right: bool) -> str:
    gap = width - cell_width(text)
    if gap <= 0:
        return text
    return " " * gap + text if right else text + " " * gap


def draw(
    fitted: Fitted,
    specs: Sequence[Spec],
    styles: Sequence[dict[int, str]],
    paint: Painter,
    *,
    title: str = "",
    total: bool = False,
) -> list[str]:
    """The fitted table as lines: title, heading, a rule, then each row's lines
    (``total``: the last row is a totals row, drawn in bold below a rule)."""
    gutter = " " * GUTTER
    shown = fitted.shown
    widths = fitted.widths
    right = [specs[i].right for i in shown]
    last = len(shown) - 1
    lines: list[str] = []
    if title:
        lines.append(paint(title, "heading"))
    for k in range(max((len(h) for h in fitted.header), default=0)):
        parts = []
        for j, head in enumerate(fitted.header):
            text = head[k] if k < len(head) else ""
            if j != last or right[j]:
                text = _pad(text, widths[j], right[j])
            parts.append(paint(text, "heading"))
        lines.append(gutter.join(parts).rstrip())
    rule = paint(gutter.join("\u2500" * w for w in widths), "muted")
    lines.append(rule)
    totals_at = len(fitted.rows) - 1 if total else -1
    columns = range(len(shown))
    for r, cells in enumerate(fitted.rows):
        row_styles = styles[r] if r < len(styles) else None
        plain = "heading" if r == totals_at else ""
        if r == totals_at:
            lines.append(rule)
        height = max(map(len, cells)) if cells else 1
        for k in range(height):
            parts = []
            for j in columns:
                cell = cells[j]
                text = cell[k] if k < len(cell) else ""
                style = row_styles.get(shown[j], plain) if row_styles else plain
                if j == last and not right[j] and not (style and text):
                    parts.append(paint(text, style) if style else text)
                    continue
                gap = widths[j] - (len(text) if text.isascii() else cell_width(text))
                if gap > 0:
                    text = " " * gap + text if right[j] else text + " " * gap
                parts.append(paint(text, style) if style and text.strip() else text)
            lines.append(gutter.join(parts).rstrip())
    return lines


def left_out(hidden: Sequence[str], cut: bool, width: int, more: str = "") -> str:
    """The line under a table that says what it left out or cut short, and how to see it."""
    also = f", or {more}" if more else ""
    if hidden and cut:
        return (
            f"Left out at {width} columns: {', '.join(hidden)}; \u2026 marks text cut short. See all with --wide{also}."
        )
    if hidden:
        return f"Left out at {width} columns: {', '.join(hidden)}. See them with --wide{also}."
    return f"\u2026 marks text cut short: see all of it with --wide{also}." if cut else ""


def table_lines(view: TableView, width: int, paint: Painter, *, wide: bool = False) -> list[str]:
    """A table view fitted to ``width``: its lines, ending with what was left out (if anything)."""
    if not view.rows:
        return [paint(safe(view.empty), "muted")]
    keep = [i for i, c in enumerate(view.columns) if c.terminal]
    specs = specs_of([view.columns[i] for i in keep])
    rows = [[safe(row[i]) for i in keep] for row in view.rows]
    styles = view.row_styles
    if len(keep) < len(view.columns):
        place = {i: n for n, i in enumerate(keep)}
        styles = [{place[i]: style for i, style in row.items() if i in place} for row in styles]
    fitted = fit(specs, rows, width, wide=wide)
    lines = draw(fitted, specs, styles, paint, title=safe(view.title))
    note = left_out(fitted.hidden, fitted.cut, width, view.more)
    if note:
        lines += [paint(line, "muted") for line in wrap(note, width, None)]
    return lines


def field_lines(fields: Iterable[tuple[str, str]], width: int, paint: Painter) -> list[str]:
    """``Label:  value`` lines; a long value wraps under itself, never cut."""
    items = [(safe(label), safe(value)) for label, value in fields if value not in (None, "")]
    if not items:
        return []
    label_width = max(cell_width(label) for label, _ in items) + 1
    indent = label_width + 2
    room = max(width - indent, 20)
    lines = []
    for label, value in items:
        wrapped = wrap(value, room, None, whole=True)
        lines.append(paint(_pad(label + ":", label_width, False), "heading") + "  " + wrapped[0])
        lines += [" " * indent + more for more in wrapped[1:]]
    return lines


def detail_lines(
    title: str,
    fields: list[tuple[str, str]],
    tables: Sequence[TableView],
    width: int,
    paint: Painter,
    *,
    title_style: str = "",
    wide: bool = False,
) -> list[str]:
    """A record as its title (wrapped at spaces to the width), labelled fields, then its tables (each fitted)."""
    style = title_style or "heading"
    lines = [paint(line, style) for line in wrap(safe(title), width, None, whole=True)]
    lines += field_lines(fields, width, paint)
    for view in tables:
        lines.append("")
        if view.rows:
            lines += table_lines(view, width, paint, wide=wide)
        else:
            lines += [paint(safe(view.title), "heading"), paint(safe(view.empty), "muted")]
    return lines


def write_lines(lines: Iterable[str]) -> None:
    out = sys.stdout
    out.write("\n".join(lines))
    out.write("\n")
