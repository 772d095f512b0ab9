"""Rich renderables for terminals: tables and detail views.

Every cell is built as ``rich.text.Text`` from escaped user text, so square
brackets, ``[/]`` and ANSI escapes are shown literally and never interpreted.
"""

from __future__ import annotations

import sys

from rich.console import Console, Group, RenderableType
from rich.table import Table
from rich.text import Text

from knowsley_tracker.render.text import TableView, safe

# Style names used by views (rag.red...) resolved to Rich styles here, so the
# renderables print the same on any console.
STYLES: dict[str, str] = {
    "rag.red": "bold white on red",
    "rag.amber": "bold black on dark_orange",
    "rag.green": "bold white on green4",
    "rag.blue": "bold white on blue",
    "rag.complete": "bold",
    "rag.dropped": "dim",
    "judgement.inadequate": "bold red",
    "judgement.requires-improvement": "dark_orange",
    "judgement.good": "green",
    "judgement.outstanding": "bold green",
    "heading": "bold",
    "muted": "dim",
}


def console(*, stderr: bool = False, width: int | None = None, record: bool = False) -> Console:
    """A console bound to the current stdout (tests swap streams per command)."""
    return Console(
        file=sys.stderr if stderr else sys.stdout,
        width=width,
        record=record,
        highlight=False,
        emoji=False,
        markup=False,
    )


def text(value: object, style: str = "") -> Text:
    """User text as a Rich ``Text``: escaped, never parsed as markup."""
    return Text(safe(value), style=STYLES.get(style, style))


def table(view: TableView) -> RenderableType:
    if not view.rows:
        return Text(view.empty, style="muted")
    out = Table(title=text(view.title, "heading") if view.title else None, title_justify="left", expand=False)
    for column in view.columns:
        out.add_column(
            text(column.title),
            justify=column.justify,  # type: ignore[arg-type]
            max_width=column.max_width,
            no_wrap=column.no_wrap,
            overflow="fold",
        )
    for row, styles in zip(view.rows, view.row_styles, strict=True):
        out.add_row(*(text(cell, styles.get(i, "")) for i, cell in enumerate(row)))
    return out


def detail(title: str, fields: list[tuple[str, str]], tables: list[TableView], title_style: str = "") -> RenderableType:
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style=STYLES["heading"], no_wrap=True)
    grid.add_column(overflow="fold")
    for label, value in fields:
        if value not in (None, ""):
            grid.add_row(text(label), text(value))
    parts: list[RenderableType] = [text(title, title_style or "heading"), grid]
    for view in tables:
        parts.append(Text(""))
        parts.append(table(view) if view.rows else Group(text(view.title, "heading"), Text(view.empty, style="muted")))
    return Group(*parts)
