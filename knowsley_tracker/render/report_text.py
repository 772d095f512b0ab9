"""The board status report as plain text, for pipes, files and email.

:func:`to_plain` gives the report's sections as aligned plain text with no
colour codes (a terminal gets :mod:`knowsley_tracker.render.report_terminal`).
User text is escaped with :func:`knowsley_tracker.render.text.safe`.
"""

from __future__ import annotations

from knowsley_tracker.render.report_common import Cell, Layout, Table, layout, paper_head_lines, text_bar
from knowsley_tracker.render.report_legend import RAG_LEGEND, shows_override
from knowsley_tracker.render.text import safe
from knowsley_tracker.reports import Report

# -- plain text ----------------------------------------------------------------------------


def _cell_text(cell: Cell) -> str:
    text = safe(cell.text)
    if cell.progress is not None:
        return f"{text_bar(cell.progress)} {text}"
    return text


def _widths(table: Table) -> tuple[list[int], list[list[str]], list[str] | None]:
    """Each column's width, the rows as text, and the totals row (if any)."""
    rows = [[_cell_text(c) for c in row] for row in table.rows]
    total = [_cell_text(c) for c in table.total] if table.total else None
    everything = [[c.title for c in table.columns], *rows, *([total] if total else [])]
    return [max(map(len, column)) for column in zip(*everything, strict=True)], rows, total


def _plain_table(table: Table) -> list[str]:
    lines: list[str] = []
    if table.title:
        lines += [safe(table.title) + ":", ""]
    if not table.rows:
        return [*lines, table.empty]
    widths, rows, total = _widths(table)
    # Each cell padded to its column (right-aligned numbers), worked out once per column.
    columns = [(width, col.right) for width, col in zip(widths, table.columns, strict=True)]
    last_left = not table.columns[-1].right

    def line(cells: list[str]) -> str:
        out = [c.rjust(w) if right else c.ljust(w) for c, (w, right) in zip(cells, columns, strict=True)]
        if last_left:
            out[-1] = cells[-1]  # the last column is not padded
        return "  ".join(out).rstrip()

    lines.append(line([c.title for c in table.columns]))
    lines.append("  ".join("-" * w for w in widths))
    lines += [line(r) for r in rows]
    if total:
        lines.append("  ".join("-" * w for w in widths))
        lines.append(line(total))
    if table.note:
        lines += ["", table.note]
    return lines


def _fields(fields: list[tuple[str, str]]) -> list[str]:
    width = max((len(label) for label, _ in fields), default=0) + 1
    return [f"{label + ':':<{width}} {safe(value)}" for label, value in fields]


def _heading(text: str) -> list[str]:
    return [text, "-" * len(text), ""]


def plain_lines(doc: Layout) -> list[str]:
    c = doc.cover
    lines = [safe(c.marking), safe(c.board_name), safe(doc.title), safe(c.meeting), "=" * len(safe(doc.title)), ""]
    lines += _fields(c.fields)
    for heading, body in paper_head_lines(doc):
        lines += ["", "", *_heading(heading), *(safe(line) for line in body)]
    lines += ["", "", *_heading("Position at a glance"), *_fields(doc.fields)]
    for number, section in enumerate(doc.sections, start=1):
        heading = f"{number}. {section.title}"
        lines += ["", "", heading, "-" * len(heading), ""]
        if section.intro:
            lines.append(safe(section.intro))
            if section.tables or section.empty:
                lines.append("")
        tables = section.tables
        if not tables:
            if section.empty:
                lines.append(section.empty)
            continue
        for i, table in enumerate(tables):
            if i:
                lines.append("")
            lines += _plain_table(table)
        if shows_override(tables):
            lines += ["", RAG_LEGEND]
    lines += ["", "", *_heading("Next meetings"), *_fields(doc.closing), "", safe(c.marking)]
    return lines


def to_plain(report: Report) -> str:
    """The report as plain text: the same sections, aligned columns, no colour codes."""
    return "\n".join(plain_lines(layout(report))).rstrip("\n") + "\n"
