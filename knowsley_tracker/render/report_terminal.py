"""The board status report drawn for a terminal: every table fitted to its width.

The same layout as the plain text (:mod:`knowsley_tracker.render.report_common`),
with RAG cells coloured, progress bars in green, and each table's columns chosen
by priority for the width (:mod:`knowsley_tracker.render.fit`); a line under a
table names any column left out (``kt report --wide`` shows them all). No Rich.
"""

from __future__ import annotations

import re

from knowsley_tracker.render.fit import Spec, fit, wrap
from knowsley_tracker.render.report_common import Cell, Table, layout, paper_head_lines, text_bar
from knowsley_tracker.render.report_legend import RAG_LEGEND, shows_override
from knowsley_tracker.render.terminal import Painter, draw, field_lines, left_out
from knowsley_tracker.render.text import safe
from knowsley_tracker.reports import Report

# Which columns stay longest as the width shrinks (0 stays always), per table:
# "<section key>/<table title>". A column not named here keeps its place in line.
PRIORITIES: dict[str, dict[str, int]] = {
    "focus-areas/": {"Key": 0, "Focus area": 1, "Actions": 2, "Progress": 2, "Overdue": 3, "Complete": 3}
    | {"Red": 4, "Amber": 4, "Green": 4, "Blue": 4, "Recs": 6},
    "readiness/": {"Rec": 0, "Recommendation": 1, "RAG": 1, "Progress": 2, "Status": 3, "Gaps": 3}
    | {"Evidence": 4, "Days since update": 4, "Actions": 5, "KPIs": 6, "Focus": 7},
    "exceptions/Red or overdue": {"Action": 0, "Title": 1, "RAG": 1, "Due": 2, "Why": 3, "Owner": 4}
    | {"Progress": 5, "Status": 6, "Latest note": 7},
    "exceptions/Due in the next 30 days": {"Action": 0, "Title": 1, "RAG": 1, "Due": 2, "When": 2}
    | {"Owner": 4, "Progress": 5},
    "movement/RAG changes": {"Action": 0, "Was": 1, "Now": 1, "Title": 2, "Why": 3},
    "movement/Completed": {"Action": 0, "Title": 1, "Completed": 2, "RAG": 2},
    "movement/New actions": {"Action": 0, "Title": 1, "Due": 2, "RAG": 2},
    "movement/Due dates slipped": {"Action": 0, "Was due": 1, "Now due": 1, "Title": 2, "Reason": 3},
    "movement/New evidence": {"Action": 0, "Evidence": 0, "Title": 1, "Dated": 2, "Kind": 3},
    "movement/KPI changes": {"KPI": 0, "Was": 1, "Now": 1, "Trend": 1, "Name": 2},
    "kpis/": {"KPI": 0, "Name": 1, "Latest": 1, "Target": 2, "Met": 2, "Trend": 3, "Period": 4} | {"Last values": 5},
    "partners/Improvement partners engaged": {"Partner": 0, "Engaged for": 1, "To": 2, "Addresses": 3}
    | {"Kind": 4, "From": 5},
}
# Never cut: dates, percentages and bars; shown whole or left out whole.
FIXED = {"Progress", "Due", "Was due", "Now due", "From", "To", "Dated", "Completed", "Latest", "Period"}
# The main text of a table gets room to be read before smaller columns are added.
WIDER = {"Title": 24, "Recommendation": 24, "Focus area": 20, "Name": 20, "Engaged for": 20, "Gaps": 20}


def _cell_text(cell: Cell) -> str:
    text = cell.text
    if not (text.isascii() and text.isprintable()):  # safe()'s own test, without the call
        text = safe(text)
    if cell.progress is not None:
        return f"{text_bar(cell.progress)} {text}"
    return text


def _cell_style(cell: Cell) -> str:
    if cell.rag is not None:
        return f"rag.{cell.rag.value}"
    return "bar" if cell.progress is not None else ""


def table_lines(section_key: str, table: Table, width: int, paint: Painter, *, wide: bool = False) -> list[str]:
    """One report table fitted to ``width``, with its title, note and what was left out."""
    lines: list[str] = []
    if table.title:
        lines.append(paint(safe(table.title), "heading"))
    if not table.rows:
        return [*lines, paint(safe(table.empty), "muted")]
    priorities = PRIORITIES.get(f"{section_key}/{table.title}", {})
    specs = [
        Spec(
            title=col.title,
            right=col.right,
            priority=priorities.get(col.title, n),
            fixed=True if col.title in FIXED else None,
            min_width=WIDER.get(col.title, 12),
        )
        for n, col in enumerate(table.columns)
    ]
    cells = [*table.rows, *([table.total] if table.total else [])]
    fitted = fit(specs, [[_cell_text(c) for c in row] for row in cells], width, wide=wide)
    styles = [
        {i: _cell_style(c) for i, c in enumerate(row) if c.rag is not None or c.progress is not None} for row in cells
    ]
    lines += draw(fitted, specs, styles, paint, total=table.total is not None)
    notes = []
    if table.note:
        notes.append(table.note)
    if fitted.hidden or fitted.cut:
        notes.append(left_out(fitted.hidden, fitted.cut, width))
    for note in notes:
        lines += [paint(line, "muted") for line in wrap(safe(note), width, None)]
    return lines


def _hanging(text: str, width: int) -> list[str]:
    """A paragraph wrapped to ``width``; a list item's later lines line up under its text."""
    marker = re.match(r"(?:- |\d+\. )", text)
    if marker is None:
        return wrap(text, width, None)
    indent = " " * marker.end()
    body = wrap(text[marker.end() :], width - len(indent), None)
    return [marker.group(0) + body[0], *(indent + line for line in body[1:])]


def _rule(heading: str, width: int, paint: Painter) -> str:
    rest = max(width - len(heading) - 4, 2)
    return paint("\u2500\u2500 ", "muted") + paint(heading, "heading") + paint(" " + "\u2500" * rest, "muted")


def terminal_lines(report: Report, width: int, paint: Painter, *, wide: bool = False) -> list[str]:
    """The whole report as terminal lines."""
    doc = layout(report)
    c = doc.cover
    lines = [paint(safe(c.marking), "heading"), paint(safe(c.board_name), "heading"), paint(safe(doc.title), "title")]
    lines += [*wrap(safe(c.meeting), width, None), *field_lines(c.fields, width, paint)]
    for heading, body in paper_head_lines(doc):
        lines += ["", _rule(safe(heading), width, paint), ""]
        for line in body:
            lines += _hanging(safe(line), width) if line else [""]
    lines += ["", _rule("Position at a glance", width, paint), *field_lines(doc.fields, width, paint)]
    for number, section in enumerate(doc.sections, start=1):
        lines += ["", _rule(f"{number}. {safe(section.title)}", width, paint)]
        if section.intro:
            lines += ["", *wrap(safe(section.intro), width, None)]
        if not section.tables and section.empty:
            lines += ["", paint(safe(section.empty), "muted")]
        for table in section.tables:
            lines += ["", *table_lines(section.key, table, width, paint, wide=wide)]
        if shows_override(section.tables):
            lines += ["", *(paint(line, "muted") for line in wrap(RAG_LEGEND, width, None))]
    lines += ["", _rule("Next meetings", width, paint), *field_lines(doc.closing, width, paint)]
    return [*lines, "", paint(safe(c.marking), "heading")]
