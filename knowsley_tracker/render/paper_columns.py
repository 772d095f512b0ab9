"""Column widths for the printed papers (PDF through the HTML pack's print rules, and Word).

Both papers lay their tables out at a fixed width, so every column's width is
worked out here from what it holds, measured in the fonts the papers print in
(Arial, or Liberation Sans, which has Arial's metrics):

- a column whose every value is short (ids, dates, statuses, RAG words, "R10 (rec 10)",
  "▲ improving") is *kept*: it is as wide as its longest value, and the renderers keep
  each of its values on one line, so "31 Aug 2025" never becomes "31 Aug / 2025" and
  "in-progress" never breaks at its hyphen;
- every other column has room for its header's longest word (a header never breaks
  inside a word) and for its values' longest word up to :data:`WORD_CAP` characters;
  a longer word (an 80-character string someone typed) wraps inside its cell instead
  of pushing the table off the page;
- what is left is shared in proportion to how much more text each column holds.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable
from itertools import repeat

from knowsley_tracker.render.report_layout import Table

# Advance widths (thousandths of an em) of the printable ASCII characters, space to "~", in
# Liberation Sans Regular and Bold (metric-compatible with Arial), read from the fonts.
_REGULAR = (
    "278 278 355 556 556 889 667 191 333 333 389 584 278 333 278 278 556 556 556 556 556 556 556 556 556 556 "
    "278 278 584 584 584 556 1015 667 667 722 722 667 611 778 722 278 500 667 556 833 722 778 667 778 722 667 "
    "611 722 667 944 667 667 611 278 278 278 469 556 333 556 556 500 556 556 278 556 556 222 222 500 222 833 "
    "556 556 556 556 333 500 278 556 500 722 500 500 500 334 260 334 584"
)
_BOLD = (
    "278 333 474 556 556 889 722 238 333 333 389 584 278 333 278 278 556 556 556 556 556 556 556 556 556 556 "
    "333 333 584 584 584 611 975 722 722 722 722 667 611 778 722 278 556 722 611 833 722 778 667 778 722 667 "
    "611 722 667 944 667 667 611 333 278 333 584 556 333 556 611 556 611 556 333 611 611 278 278 556 278 889 "
    "611 611 611 611 389 556 333 611 556 778 556 556 500 389 280 389 584"
)
REGULAR = dict(zip(map(chr, range(32, 127)), map(int, _REGULAR.split()), strict=True))
BOLD = dict(zip(map(chr, range(32, 127)), map(int, _BOLD.split()), strict=True))
OTHER = 1000  # any other character (▲, é, a CJK ideograph): an em, never less than it takes
SPARE = 1.04  # measured widths with 4% to spare, for rounding and hinting in the renderers

KEEP = 14  # values up to this many characters are kept on one line (the longest: "80% (Sep 2025)")
TWO_LINES = 0.6  # a value of up to 2 * KEEP characters gets this share of its width: two lines
WORD_CAP = 18  # a longer word is given no more room than this many characters: it wraps in its cell
WANT_CAP = 70  # a column's text beyond this many characters earns it no more width
PT_MM = 25.4 / 72
MEASURED = 8  # how many of a column's longest texts are measured to find its widest


def text_mm(text: str, size_pt: float, *, bold: bool = False) -> float:
    """How wide ``text`` prints (mm) at ``size_pt`` in Arial (or Liberation Sans)."""
    units = sum(map((BOLD if bold else REGULAR).get, text, repeat(OTHER)))  # in C: a region measures thousands
    return units / 1000 * size_pt * PT_MM * SPARE


def _widest(texts: list[str], size_pt: float, bold: bool) -> float:
    """The widest of ``texts`` as printed (mm). Only the few longest distinct ones are measured:
    a region's tables repeat their dates and statuses over thousands of rows."""
    distinct: Iterable[str] = set(texts)
    if len(texts) > MEASURED:
        # Every text as long as the MEASURED-th longest: of texts of one length the widest
        # in print may be any ("31 May 2025" is wider than "11 Jul 2025"), and measuring
        # only some made the widths depend on the hash seed (a set's order).
        shortest = min(map(len, heapq.nlargest(MEASURED, distinct, key=len)))
        distinct = [t for t in distinct if len(t) >= shortest]
    return max((text_mm(t, size_pt, bold=bold) for t in distinct), default=0.0)


def kept(table: Table, index: int) -> bool:
    """Whether a column's values are all short enough to be kept whole on one line."""
    return all(len(row[index].text) <= KEEP for row in table.rows) and (
        table.total is None or len(table.total[index].text) <= KEEP
    )


def column_widths(
    table: Table,
    total: float,
    *,
    size_pt: float,
    head_pt: float,
    pad_mm: float,
    bar_mm: float = 0.0,
    chart_mm: float | None = None,
) -> list[float]:
    """Each column's width (mm), adding up to ``total``: kept columns as wide as their longest
    value, every column as wide as its header's longest word, the rest shared out (see the
    module's notes). ``pad_mm`` is a cell's left and right padding and its border together;
    ``bar_mm`` the progress bar drawn before a progress cell's text, ``chart_mm`` the width of
    the small chart drawn instead of a KPI cell's text (None: the text is printed)."""

    least: list[float] = []
    want: list[float] = []
    heads: list[float] = []
    keep: list[bool] = []
    for i, col in enumerate(table.columns):
        cells = [row[i] for row in table.rows] + ([table.total[i]] if table.total else [])
        head = max((text_mm(word, head_pt, bold=True) for word in col.title.split()), default=0.0)
        whole = kept(table, i)
        # A column holds one kind of cell: RAG words (bold), progress (a bar, then the figure)
        # or a KPI's recent values (a small chart, where one is drawn), or plain text.
        bold = table.total is not None or any(c.rag is not None for c in cells)
        drawn = bar_mm if any(c.progress is not None for c in cells) else 0.0
        texts = list({c.text: None for c in cells})  # each distinct text once: owners and reasons repeat
        if chart_mm is not None and any(c.kpi is not None for c in cells):
            body = longest = chart_mm
        elif whole:
            body = longest = drawn + _widest(texts, size_pt, bold)
        else:
            body = drawn + _widest([w[:WORD_CAP] for t in texts for w in t.split()], size_pt, bold)
            longest = drawn + _widest([t[:WANT_CAP] for t in texts], size_pt, bold)
            if all(len(t) <= 2 * KEEP for t in texts):
                # Values of a few words ("95% (amber from 90%)"): on two lines at most, not four.
                body = max(body, TWO_LINES * longest)
        keep.append(whole)
        heads.append(pad_mm + head)
        least.append(pad_mm + max(head, body))
        want.append(pad_mm + max(head, longest))
    if sum(least) > total:
        return _squeezed(least, want, heads, keep, total)
    fixed = sum(m for m, k in zip(least, keep, strict=True) if k)
    loose = [i for i, k in enumerate(keep) if not k]
    if not loose:  # every column kept: the room left is shared evenly
        bonus = (total - sum(least)) / len(least)
        return [m + bonus for m in least]
    widths = list(least)
    budget = total - fixed
    if sum(want[i] for i in loose) <= budget:  # all the text fits on one line: share what is left evenly
        bonus = (budget - sum(want[i] for i in loose)) / len(loose)
        for i in loose:
            widths[i] = want[i] + bonus
        return widths
    # Widths in proportion to the text each loose column holds (so their rows run to about as
    # many lines), but never under a column's least: such a column is given its least, and
    # the others share what remains, until every one has at least its least.
    floor: set[int] = set()
    while True:
        free = [i for i in loose if i not in floor]
        rest = budget - sum(least[i] for i in floor)
        scale = rest / sum(want[i] for i in free)
        low = [i for i in free if want[i] * scale < least[i]]
        if not low:
            break
        floor.update(low)
    for i in free:
        widths[i] = want[i] * scale
    return widths


def _squeezed(least: list[float], want: list[float], heads: list[float], keep: list[bool], total: float) -> list[float]:
    """Widths when not every column has room for its longest word: kept columns keep theirs,
    and the others, each at least as wide as its header's longest word, share the rest in
    proportion to the text they hold (a long word then breaks inside its cell, and the
    column with most to say is not left the narrowest)."""
    fixed = sum(m for m, k in zip(least, keep, strict=True) if k)
    floors = [h for h, k in zip(heads, keep, strict=True) if not k]
    if fixed + sum(floors) > total or not floors:
        return [total * m / sum(least) for m in least]
    spare = total - fixed - sum(floors)
    extra = [0.0 if k else max(w - h, 0.0) for w, h, k in zip(want, heads, keep, strict=True)]
    share = sum(extra) or 1.0
    return [m if k else h + spare * e / share for m, h, e, k in zip(least, heads, extra, keep, strict=True)]
