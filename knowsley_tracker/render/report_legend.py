"""The RAG legend under a report section that shows an officer's override (``Red*``).

HTML and Word print the legend in the paper's footer; the terminal, plain-text and
Markdown reports print it under the section where the ``*`` appears, so a reader
of any format learns what the star means where they meet it.
"""

from __future__ import annotations

from knowsley_tracker.render.report_common import Table

RAG_LEGEND = (
    "* marks an officer's override, shown with its reason. RAG: Red, overdue or blocked; Amber, due soon with "
    "little progress or slipped; Green, on track; Complete, awaiting evidence; Blue, complete with evidence."
)


def shows_override(tables: list[Table]) -> bool:
    """True when a RAG cell of these tables carries the override mark (``Red*``)."""
    return any(
        cell.rag is not None and cell.text.endswith("*") for table in tables for row in table.rows for cell in row
    )
