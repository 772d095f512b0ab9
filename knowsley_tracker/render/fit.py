"""Fitting a table to a terminal's width: which columns, how wide, and each cell's lines.

Columns are kept in order of priority while their narrowest useful widths fit;
the rest are left out, and named so the reader can ask for them (``--wide``).
An id, date, number or status (a *fixed* column) is never cut: it is shown
whole or left out whole. Text is wrapped at spaces to at most ``lines`` lines
(two by default) and shortened with an ellipsis after that; a word is never
split across lines. Strings and widths only: no colour, no Rich
(:mod:`knowsley_tracker.render.terminal` draws the result).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

ELLIPSIS = "\u2026"
GUTTER = 2  # spaces between columns
# A column whose every value and heading fit in this many cells is treated as
# fixed: short values (keys, counts, statuses) are worth their full width.
FIXED_UP_TO = 12
DEFAULT_MIN_WIDTH = 12


class Spec(NamedTuple):
    """How one column may be fitted (see :class:`knowsley_tracker.render.text.Column`)."""

    title: str
    right: bool = False
    priority: int = 5  # 0: always shown; higher numbers are left out first
    fixed: bool | None = None  # None: decided by width (FIXED_UP_TO)
    min_width: int = DEFAULT_MIN_WIDTH
    max_width: int | None = None
    lines: int = 2
    short: str = ""  # a shorter heading, used when the column is narrower than its title


class Fitted(NamedTuple):
    shown: list[int]  # indexes of the columns shown, in table order
    widths: list[int]  # the width of each shown column
    hidden: list[str]  # titles of the columns left out, in table order
    header: list[list[str]]  # each shown column's heading, as lines
    rows: list[list[list[str]]]  # each row's shown cells, each cell as lines
    cut: bool = False  # some text was shortened with an ellipsis


# -- measuring and cutting text -------------------------------------------------------


# Each character's width once looked up: the region's report measures 8,000 sparkline,
# bar and arrow characters, a few dozen distinct ones.
_CHAR_WIDTHS: dict[str, int] = {}


def _char_width(ch: str) -> int:
    from unicodedata import category, east_asian_width

    width = 0 if category(ch) in ("Mn", "Me", "Cf") else 2 if east_asian_width(ch) in ("W", "F") else 1
    _CHAR_WIDTHS[ch] = width
    return width


def cell_width(text: str) -> int:
    """Terminal cells the text takes: wide East Asian characters count 2, combining marks 0."""
    if text.isascii():
        return len(text)
    known = _CHAR_WIDTHS.get
    width = 0
    for ch in text:
        w = known(ch)
        width += _char_width(ch) if w is None else w
    return width


def _cut(text: str, width: int) -> str:
    """``text`` cut short to end in an ellipsis within ``width`` cells."""
    out = []
    used = 0
    for ch in text:
        w = cell_width(ch)
        if used + w > width - 1:
            break
        out.append(ch)
        used += w
    return "".join(out).rstrip() + ELLIPSIS if width > 0 else ""


def clip(text: str, width: int) -> str:
    """``text`` cut to ``width`` cells with an ellipsis, when it is longer."""
    return text if (len(text) if text.isascii() else cell_width(text)) <= width else _cut(text, width)


def _shorten(words: list[str], width: int) -> str:
    """As many whole words as fit in ``width`` with an ellipsis after them."""
    line = ""
    used = 0
    for word in words:
        w = cell_width(word) + (1 if line else 0)
        if used + w + 1 > width:
            break
        line = f"{line} {word}" if line else word
        used += w
    return line + ELLIPSIS if line else _cut(words[0], width)


def _chunks(word: str, width: int) -> list[str]:
    """A word longer than a line, split into pieces that fit (only where all must be shown)."""
    pieces = []
    piece = ""
    for ch in word:
        if piece and cell_width(piece + ch) > width:
            pieces.append(piece)
            piece = ""
        piece += ch
    return [*pieces, piece]


def wrap(text: str, width: int, lines: int | None = 2, *, whole: bool = False) -> list[str]:
    """``text`` wrapped at spaces into lines of ``width`` cells, at most ``lines`` of them
    (None: as many as needed). A word too long for a line is shortened with an ellipsis,
    and so is the last line when text is left over. ``whole`` (a detail view, ``--wide``):
    every character is kept, so a word too long for any line is split over lines."""
    measure = len if text.isascii() else cell_width
    if measure(text) <= width:
        return [text]
    words = text.split()
    if whole and width > 0:
        words = [piece for word in words for piece in (_chunks(word, width) if cell_width(word) > width else [word])]
    if not words:
        return [""]
    groups: list[list[str]] = [[]]
    used = 0
    for word in words:
        w = measure(word)
        if groups[-1] and used + 1 + w > width:
            groups.append([word])
            used = w
        else:
            used = used + 1 + w if groups[-1] else w
            groups[-1].append(word)
    if lines is not None and len(groups) > lines:
        rest = [word for group in groups[lines - 1 :] for word in group]
        return [clip(" ".join(g), width) for g in groups[: lines - 1]] + [_shorten(rest, width)]
    return [clip(" ".join(g), width) for g in groups]


# -- choosing columns and widths ------------------------------------------------------


def _heading_min(title: str) -> int:
    return max((cell_width(word) for word in title.split()), default=0)


def _heading(spec: Spec, width: int) -> list[str]:
    if spec.short and cell_width(spec.title) > width:
        return [spec.short]
    return wrap(spec.title, width, None)


def _share(widths: dict[int, int], columns: list[int], limit: list[int], spare: int) -> int:
    """Widen ``columns`` towards ``limit`` in proportion to what each lacks; returns what is left."""
    while spare > 0:
        lacking = [i for i in columns if widths[i] < limit[i]]
        if not lacking:
            break
        total = sum(limit[i] - widths[i] for i in lacking)
        given = 0
        for i in lacking:
            share = min(limit[i] - widths[i], max(1, spare * (limit[i] - widths[i]) // total), spare - given)
            widths[i] += share
            given += share
            if given >= spare:
                break
        spare -= given
    return spare


def fit(specs: Sequence[Spec], rows: Sequence[Sequence[str]], width: int, *, wide: bool = False) -> Fitted:
    """Fit the table into ``width`` cells. ``wide`` shows every column and all of each
    text, wrapped to as many lines as it needs (wider than ``width`` only if it must be)."""
    n = len(specs)
    content = [0] * n
    for i in range(n):
        column = [row[i] for row in rows]
        if "".join(column).isascii():  # the usual case: widths are lengths, measured in C
            content[i] = max(map(len, column), default=0)
        else:
            content[i] = max(map(cell_width, column), default=0)
    fixed = []
    need = []  # the narrowest useful width
    capped = []  # the width text is given first (its max_width)
    natural = []  # the widest useful width
    for i, spec in enumerate(specs):
        title_w = cell_width(spec.title)
        full = max(content[i], title_w)
        is_fixed = spec.fixed if spec.fixed is not None else full <= FIXED_UP_TO
        fixed.append(is_fixed)
        heading = min(_heading_min(spec.title), cell_width(spec.short) if spec.short else title_w)
        natural.append(full)
        if is_fixed:
            need.append(full if wide else max(content[i], heading))
            capped.append(full)
        else:
            cap = full if spec.max_width is None else min(full, max(spec.max_width, heading))
            capped.append(cap)
            need.append(min(cap, max(spec.min_width, heading)))

    order = sorted(range(n), key=lambda i: (specs[i].priority, i))
    shown: set[int] = set()
    used = 0
    for i in order:
        cost = need[i] + (GUTTER if shown else 0)
        if wide or specs[i].priority <= 0 or used + cost <= width:
            shown.add(i)
            used += cost
    kept = [i for i in range(n) if i in shown]
    widths = {i: need[i] for i in kept}
    spare = width - used
    flexible = [i for i in kept if not fixed[i]]
    # Text first, up to its max_width; then headings on one line; then text in full.
    spare = _share(widths, flexible, capped, spare)
    spare = _share(widths, [i for i in kept if fixed[i]], natural, spare)
    _share(widths, flexible, natural, spare)

    header = [_heading(specs[i], widths[i]) for i in kept]
    out_rows: list[list[list[str]]] = []
    cut = False
    for row in rows:
        cells = []
        for i in kept:
            cell = row[i]
            if fixed[i] or (len(cell) if cell.isascii() else cell_width(cell)) <= widths[i]:
                cells.append([cell])
            elif wide:
                cells.append(wrap(cell, widths[i], None, whole=True))
            else:
                lines = wrap(cell, widths[i], specs[i].lines)
                cut = cut or (lines[-1].endswith(ELLIPSIS) and " ".join(lines) != " ".join(cell.split()))
                cells.append(lines)
        out_rows.append(cells)
    return Fitted(
        shown=kept,
        widths=[widths[i] for i in kept],
        hidden=[specs[i].title for i in range(n) if i not in shown],
        header=header,
        rows=out_rows,
        cut=cut,
    )
