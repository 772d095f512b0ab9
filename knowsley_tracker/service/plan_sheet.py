"""The plan as a sheet: its columns, spreadsheet-safe cells and the rows ``kt export
--format csv`` writes (one per action, with its recommendation and focus area).

Cells a spreadsheet would run as formulas get an apostrophe in front on export
(:func:`neutralise`), and exactly that apostrophe is removed on import
(:func:`restore`). Nothing here imports csv or openpyxl.
"""

from __future__ import annotations

from datetime import date

from knowsley_tracker.models import Action, FocusArea
from knowsley_tracker.patterns import LazyPattern
from knowsley_tracker.service.actions import PlanIndex
from knowsley_tracker.service.session import Session

COLUMNS = (
    "rec_ref",
    "recommendation",
    "focus_area",
    "action_id",
    "action",
    "owner",
    "due",
    "status",
    "progress",
    "rag",
    "latest_update",
)
REQUIRED = ("rec_ref", "recommendation", "focus_area", "action", "owner", "due")
# A row whose action columns are all empty describes a recommendation only.
ACTION_COLUMNS = ("action_id", "action", "owner", "due", "status", "progress", "rag", "latest_update")

# The headers councils use for each column, written once: ``kt import`` recognises
# them (ignoring case, spaces and punctuation), the README's table lists them, and
# tests/test_sheet_headers.py checks the two agree. Others are named with --map.
HEADER_SYNONYMS: dict[str, tuple[str, ...]] = {
    "rec_ref": ("Ref", "Reference", "Rec no", "Rec number", "Recommendation ref", "Recommendation number",
                "Ofsted ref"),
    "recommendation": ("Ofsted recommendation", "Recommendation text", "Area for improvement",
                       "Areas for improvement", "What needs to improve"),
    "focus_area": ("Focus", "Theme", "Priority", "Improvement priority", "Workstream", "Area"),
    "action_id": ("Tracker id", "kt id"),
    "action": ("Actions", "Action required", "Key action", "Improvement action", "What we will do", "Task",
               "Activity"),
    "owner": ("Lead", "Lead officer", "Responsible officer", "Responsible", "Action owner", "Accountable officer",
              "Officer", "Lead manager"),
    "due": ("Due date", "Deadline", "Target date", "Completion date", "Target completion date", "Date due",
            "By when", "Timescale"),
    "status": ("Current status", "Delivery status", "Progress status"),
    "progress": ("% complete", "Percent complete", "Percentage complete", "Progress %", "Complete %"),
    "rag": ("RAG status", "RAG rating", "Rating"),
    "latest_update": ("Update", "Progress update", "Latest progress", "Commentary", "Comments", "Progress notes",
                      "Narrative", "Update / commentary"),
}  # fmt: skip

# A cell a spreadsheet would treat as a formula starts with one of = + - @ tab CR.
# Cells that already start with apostrophes before such a character get one more,
# so the import can remove exactly one and give back the original text.
_FORMULA = LazyPattern(r"'*[=+\-@\t\r]")


def header_key(text: str) -> str:
    """A header as compared: case, spaces and punctuation ignored (``% Complete`` -> ``%complete``)."""
    return "".join(ch for ch in text.casefold() if ch.isalnum() or ch == "%")


def _header_names() -> dict[str, str]:
    names = {header_key(column): column for column in COLUMNS}
    for column, synonyms in HEADER_SYNONYMS.items():
        for synonym in synonyms:
            names.setdefault(header_key(synonym), column)
    return names


# header_key(header) -> column, for the columns' own names and every synonym.
HEADER_NAMES = _header_names()


def neutralise(cell: str) -> str:
    """The cell as written to CSV: an apostrophe first if a spreadsheet would run it as a formula."""
    return "'" + cell if _FORMULA.match(cell) else cell


def restore(cell: str) -> str:
    """Undo :func:`neutralise`: remove the one apostrophe it added, nothing else."""
    return cell[1:] if cell.startswith("'") and _FORMULA.match(cell, 1) else cell


def format_day_first(day: date) -> str:
    """30/09/2025: how UK spreadsheets show dates."""
    return f"{day.day:02d}/{day.month:02d}/{day.year}"


def focus_label(area: FocusArea) -> str:
    """``Children with disabilities (DIS)``: readable, and the import gets the key back."""
    return f"{area.name} ({area.key})"


# -- export ---------------------------------------------------------------------------


def export_rows(s: Session) -> list[list[str]]:
    """The header and one row per action (a recommendation with no actions gets a row of
    its own), recommendations in id order and their actions in id order. Cells are plain
    text: :mod:`knowsley_tracker.render.csv_out` neutralises and encodes them."""
    index = PlanIndex(s)
    by_rec: dict[int, list[Action]] = {}
    for action in index.actions:
        by_rec.setdefault(action.rec_id, []).append(action)
    rows = [list(COLUMNS)]
    for rec in index.recs.values():
        area = index.areas.get(rec.focus_id) if rec.focus_id else None
        start = [rec.ref, rec.text, focus_label(area) if area else ""]
        actions = by_rec.get(rec.id, [])
        if not actions:
            rows.append(start + [""] * len(ACTION_COLUMNS))
        for action in actions:
            view = index.view(action)
            rows.append(
                start
                + [
                    action.ref,
                    action.title,
                    view.owner.display if view.owner else "",
                    format_day_first(action.due) if action.due else "",
                    action.status.label,
                    str(action.progress),
                    view.rating.rag.value.capitalize(),
                    action.last_note,
                ]
            )
    return rows
