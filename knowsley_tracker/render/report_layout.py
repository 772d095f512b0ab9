"""The report's layout model, and the words and numbers its cells are written in.

Every renderer (terminal, plain text, Markdown, HTML, Word) draws the same
:class:`Layout`: titled sections of labelled fields, paragraphs and
:class:`Table` objects whose :class:`Cell` values hold raw user text, which each
renderer escapes for its format. The helpers below turn figures into the
words the tables show (``1 red, 2 amber``, ``92% (amber from 87%)``). No Rich,
and no dataclasses (NamedTuples cost a fraction as much to define at start-up).
"""

from __future__ import annotations

from typing import NamedTuple

from knowsley_tracker.dates import format_date
from knowsley_tracker.images import Image
from knowsley_tracker.models import Rag, Recommendation
from knowsley_tracker.rag import Rollup, rag_label
from knowsley_tracker.render.narrative import Block
from knowsley_tracker.service.kpis import KpiStatus, format_number

TREND_MARKS = {"improving": "▲", "worsening": "▼", "flat": "►"}
DIRECTION_MARKS = {"up": "▲", "down": "▼", "flat": "►"}
BAR_WIDTH = 10


class Cell(NamedTuple):
    text: str
    rag: Rag | None = None  # colours the cell in the terminal and HTML
    progress: float | None = None  # draws a progress bar (0-100) before the text
    kpi: KpiStatus | None = None  # a KPI whose recent values HTML draws as a small chart


class Col(NamedTuple):
    title: str
    right: bool = False


_new_cell = tuple.__new__


class Table:
    """A titled table; ``note`` is a line under it, ``total`` a totals row drawn apart."""

    def __init__(
        self, title: str, columns: list[Col], *, empty: str = "None.", note: str = "", total: list[Cell] | None = None
    ) -> None:
        self.title = title
        self.columns = columns
        self.rows: list[list[Cell]] = []
        self.empty = empty
        self.note = note
        self.total = total

    def add(self, *cells: Cell | str) -> None:
        # Cell(c) written as the tuple it makes: NamedTuple's __new__ is a Python function,
        # and the region's report adds 10,000 cells.
        self.rows.append([c if type(c) is Cell else _new_cell(Cell, (c, None, None, None)) for c in cells])


class Section(NamedTuple):
    key: str  # a stable anchor: focus-areas, readiness, exceptions, movement, kpis
    title: str
    intro: str = ""
    tables: list[Table] = []  # shared default, never mutated
    empty: str = ""  # shown instead of the tables when none has rows


class Cover(NamedTuple):
    """The paper's first lines: who it is for, which meeting, and its protective marking."""

    board_name: str
    title: str
    meeting: str  # "Meeting 7, 14 Jan 2026"
    fields: list[tuple[str, str]]  # authority, report date, author
    marking: str  # also printed in every page's header and footer
    logo: Image | None


class Layout(NamedTuple):
    title: str
    fields: list[tuple[str, str]]  # the position at a glance: inspection, visit, intervention...
    sections: list[Section]
    cover: Cover
    headline: list[str]  # computed sentences
    narrative: list[Block]  # the Director's narrative, read from its Markdown
    decisions: list[str]  # the decisions or asks of the board
    missing: tuple[str, str]  # what to print where the narrative or the decisions are not recorded
    closing: list[tuple[str, str]]  # the next board meeting and the next monitoring visit


# -- words and numbers ----------------------------------------------------------------------


def plural(n: int, noun: str, nouns: str | None = None) -> str:
    return f"{n} {noun if n == 1 else nouns or noun + 's'}"


def text_bar(value: float | None, width: int = BAR_WIDTH) -> str:
    """``█████░░░░░`` for 50%: a bar of block characters for text and Markdown."""
    if value is None:
        return ""
    filled = round(max(0.0, min(100.0, value)) / 100 * width)
    return "█" * filled + "░" * (width - filled)


def rag_mix(roll: Rollup) -> str:
    """``1 red, 2 amber, 1 blue``: the RAG of each action, worst first (dropped left out)."""
    parts = [
        f"{roll.count(rag)} {rag_label(rag).lower()}"
        for rag in (Rag.RED, Rag.AMBER, Rag.GREEN, Rag.COMPLETE, Rag.BLUE)
        if roll.count(rag)
    ]
    return ", ".join(parts) or "none"


def rec_label(rec: Recommendation) -> str:
    """``R1 (rec 9)``: the tracker's id beside the report's own number, which boards speak of."""
    return f"{rec.ref} (rec {rec.report_ref})" if rec.report_ref else rec.ref


def kpi_name(status: KpiStatus) -> str:
    kpi = status.kpi
    if kpi.unit and not kpi.is_percent and kpi.unit.lower() not in ("count", "number", "no."):
        return f"{kpi.name} ({kpi.unit})"
    return kpi.name


def trend_text(trend: str | None) -> str:
    return f"{TREND_MARKS[trend]} {trend}" if trend else "-"


def met_text(met: bool | None) -> str:
    return "-" if met is None else "yes" if met else "no"


KPI_RAG_WORDS = {Rag.GREEN: "yes", Rag.AMBER: "near", Rag.RED: "no"}


def kpi_met_text(status: KpiStatus) -> str:
    """``yes``, ``near`` (within the tolerance: amber), ``no``; ``-`` with no value or a suppressed one."""
    rag = status.rag
    return "-" if rag is None else KPI_RAG_WORDS[rag]


def target_text(status: KpiStatus) -> str:
    """``92% (amber from 87%)``, ``20 (amber up to 22) by 31 Mar 2026``."""
    kpi = status.kpi
    text = status.target.text
    if kpi.tolerance:
        edge = kpi.target + kpi.tolerance if kpi.lower_is_better else kpi.target - kpi.tolerance
        suffix = "%" if kpi.is_percent else ""
        text += f" (amber {'up to' if kpi.lower_is_better else 'from'} {format_number(edge)}{suffix})"
    if kpi.target_date:
        text += f" by {format_date(kpi.target_date)}"
    return text


def comparators_text(status: KpiStatus) -> str:
    """``England 78% (2024-25); Statistical neighbours 74% (2024-25)``."""
    return "; ".join(f"{c.label} {c.value.text} ({c.period_label})" for c in status.comparators) or "-"


def kpi_links(statuses: list[KpiStatus]) -> str:
    parts = []
    for st in statuses:
        rag = st.rag
        if st.latest is None:
            state = "no data"
        elif rag is None:
            state = st.latest.value.text  # suppressed: "c", never met or not met
        else:
            state = {Rag.GREEN: "met", Rag.AMBER: "near target", Rag.RED: "not met"}[rag]
        parts.append(f"{st.kpi.key} {state}")
    return ", ".join(parts) or "-"
