"""The board status report for people reading a terminal, or text piped elsewhere.

:func:`print_rich` draws it with Rich (colour RAG cells, progress bars) and
imports Rich only when called; :func:`to_plain` gives the same sections as
aligned plain text with no colour codes, for pipes, files and email. User text
is escaped with :func:`knowsley_tracker.render.text.safe` and, in Rich, only
ever placed in ``Text`` objects, never parsed as markup.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from knowsley_tracker.render.report_common import Cell, Layout, Table, layout, paper_head_lines, text_bar
from knowsley_tracker.render.text import safe
from knowsley_tracker.reports import Report

if TYPE_CHECKING:
    from rich.console import Console, RenderableType
    from rich.text import Text


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
    return [max(len(r[i]) for r in everything) for i in range(len(table.columns))], rows, total


def _aligned(table: Table, widths: list[int], cells: list[str]) -> list[str]:
    """The cells of one row padded to their columns (the last left-aligned one is not padded)."""
    out = []
    for i, (cell, col) in enumerate(zip(cells, table.columns, strict=True)):
        if col.right:
            out.append(cell.rjust(widths[i]))
        else:
            out.append(cell if i == len(cells) - 1 else cell.ljust(widths[i]))
    return out


def _plain_table(table: Table) -> list[str]:
    lines: list[str] = []
    if table.title:
        lines += [safe(table.title) + ":", ""]
    if not table.rows:
        return [*lines, table.empty]
    widths, rows, total = _widths(table)

    def line(cells: list[str]) -> str:
        return "  ".join(_aligned(table, widths, cells)).rstrip()

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
    lines += ["", "", *_heading("Next meetings"), *_fields(doc.closing), "", safe(c.marking)]
    return lines


def to_plain(report: Report) -> str:
    """The report as plain text: the same sections, aligned columns, no colour codes."""
    return "\n".join(plain_lines(layout(report))).rstrip("\n") + "\n"


# -- Rich --------------------------------------------------------------------------------------


def _style(name: str) -> str:
    """A style name used by the views (``rag.red``, ``muted``) as a Rich style."""
    from knowsley_tracker.render.rich_out import STYLES

    return STYLES.get(name, name)


def _rich_cell(cell: Cell) -> RenderableType:
    from rich.text import Text

    from knowsley_tracker.render import rich_out

    if cell.progress is not None:
        out = Text()
        out.append(text_bar(cell.progress), style="green")
        out.append(" ")
        out.append_text(rich_out.text(cell.text))
        return out
    return rich_out.text(cell.text, f"rag.{cell.rag.value}" if cell.rag is not None else "")


# Rich lays a table out cell by cell (about 2 ms a row for a wide table), which
# took seconds for the hundreds of exceptions a regional plan can have; longer
# tables are printed as aligned lines with coloured RAG cells (the same columns).
RICH_TABLE_MAX_ROWS = 15


def _long_table(table: Table) -> list[Text]:
    """Aligned lines, RAG cells coloured; printed with soft wrapping so nothing is cut off."""
    from rich.text import Text

    widths, rows, total = _widths(table)
    header = Text("  ".join(_aligned(table, widths, [c.title for c in table.columns])).rstrip(), style="bold")
    lines = [header, Text("  ".join("-" * w for w in widths), style=_style("muted"))]
    pairs: list[tuple[list[Cell], list[str]]] = list(zip(table.rows, rows, strict=True))
    if table.total and total:
        pairs.append((table.total, total))
    for cells, strings in pairs:
        line = Text()
        for i, (cell, padded) in enumerate(zip(cells, _aligned(table, widths, strings), strict=True)):
            if i:
                line.append("  ")
            line.append(padded, style=_style(f"rag.{cell.rag.value}") if cell.rag is not None else "")
        lines.append(line)
    return lines


def _rich_table(table: Table) -> RenderableType:
    from rich import box
    from rich.console import Group
    from rich.table import Table as RichTable
    from rich.text import Text

    from knowsley_tracker.render import rich_out

    parts: list[RenderableType] = []
    if table.title:
        parts.append(rich_out.text(table.title, "heading"))
    if not table.rows:
        parts.append(Text(table.empty, style=_style("muted")))
        return Group(*parts)
    out = RichTable(box=box.SIMPLE_HEAD, show_footer=False, pad_edge=False, expand=False)
    for col in table.columns:
        out.add_column(rich_out.text(col.title), justify="right" if col.right else "left", overflow="fold")
    for row in table.rows:
        out.add_row(*(_rich_cell(c) for c in row))
    if table.total:
        out.add_section()
        out.add_row(*(_rich_cell(c) for c in table.total), style="bold")
    parts.append(out)
    if table.note:
        parts.append(Text(table.note, style=_style("muted")))
    return Group(*parts)


def print_rich(report: Report, console: Console | None = None) -> None:
    """Draw the report on a terminal with Rich."""
    from rich.console import Group
    from rich.table import Table as RichTable
    from rich.text import Text

    from knowsley_tracker.render import rich_out

    doc = layout(report)
    out = console or rich_out.console()

    def facts(fields: list[tuple[str, str]]) -> None:
        grid = RichTable.grid(padding=(0, 2))
        grid.add_column(style=_style("heading"), no_wrap=True)
        grid.add_column(overflow="fold")
        for label, value in fields:
            grid.add_row(rich_out.text(label), rich_out.text(value))
        out.print(grid)

    c = doc.cover
    out.print(rich_out.text(c.marking, "bold"))
    out.print(rich_out.text(c.board_name, "bold"))
    out.print(rich_out.text(doc.title, "bold underline"))
    out.print(rich_out.text(c.meeting))
    facts(c.fields)
    for heading, body in paper_head_lines(doc):
        out.print()
        out.rule(rich_out.text(heading, "bold"), align="left")
        for line in body:
            out.print(rich_out.text(line))
    out.print()
    out.rule(rich_out.text("Position at a glance", "bold"), align="left")
    facts(doc.fields)
    for number, section in enumerate(doc.sections, start=1):
        out.print()
        out.rule(rich_out.text(f"{number}. {section.title}", "bold"), align="left")
        parts: list[RenderableType] = []
        if section.intro:
            parts.append(rich_out.text(section.intro))
        if not section.tables and section.empty:
            parts.append(Text(section.empty, style=_style("muted")))
        for table in section.tables:
            parts.append(Text(""))
            if len(table.rows) <= RICH_TABLE_MAX_ROWS:
                parts.append(_rich_table(table))
                continue
            out.print(Group(*parts))
            parts = []
            if table.title:
                out.print(rich_out.text(table.title, "heading"))
            from rich.text import Text as RichText

            out.print(RichText("\n").join(_long_table(table)), soft_wrap=True)
            if table.note:
                out.print(Text(table.note, style=_style("muted")))
        out.print(Group(*parts))
    out.print()
    out.rule(rich_out.text("Next meetings", "bold"), align="left")
    facts(doc.closing)
    out.print(rich_out.text(c.marking, "bold"))
