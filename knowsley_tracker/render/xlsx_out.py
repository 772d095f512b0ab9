"""Excel workbooks: the whole plan (the CSV export's columns), and an owner's return.

openpyxl is imported here only, and only ``kt export --format xlsx`` imports
this module. Cells keep the user's text exactly: a cell that starts like a
formula is written as text (never as a formula) and marked to stay text when
edited (Excel's quote prefix), so nothing a user typed runs in a spreadsheet.
The only characters changed are those an .xlsx cannot hold (control characters
other than tab and line breaks, and lone surrogates), shown as visible escapes
as on a terminal.

An owner's return locks the sheet: ids, titles, due dates and the current state
are read-only; "New progress (%)", "New status" and "Update note" are editable,
with data validation (a whole number from 0 to 100; a status from the list);
the stamp column is hidden.
"""

from __future__ import annotations

import io
from datetime import date
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill, Protection
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from knowsley_tracker.dates import format_timestamp
from knowsley_tracker.patterns import LazyPattern
from knowsley_tracker.render.text import safe
from knowsley_tracker.service.owner_returns import EDITABLE, HEADERS, STATUS_CHOICES, OwnerReturn

# What an .xlsx cell cannot hold: C0 controls bar tab, LF and CR, and lone surrogates.
_UNWRITABLE = LazyPattern("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff]")
_FORMULA_START = ("=", "+", "-", "@")
_HEADER_FONT = Font(bold=True)
_EDITABLE_FILL = PatternFill("solid", fgColor="FFF2CC")
_WRAP = Alignment(wrap_text=True, vertical="top")


def _writable(text: str) -> str:
    return _UNWRITABLE.sub(lambda m: safe(m[0]), text)


def put(ws: Any, row: int, column: int, value: object) -> Any:
    """Write one cell: text stays text, whatever it starts with."""
    cell = ws.cell(row=row, column=column)
    if isinstance(value, str):
        cell.value = _writable(value)
        cell.data_type = "s"  # openpyxl would store "=..." as a formula
        if value.startswith(_FORMULA_START):
            cell.quotePrefix = True
    else:
        cell.value = value
    return cell


def _save(wb: Workbook) -> bytes:
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def plan_workbook(rows: list[list[str]], authority: str) -> bytes:
    """The plan as one sheet with the CSV export's columns (kt import reads it back)."""
    wb = Workbook()
    ws = wb.active
    ws.title = "Plan"
    for r, cells in enumerate(rows, start=1):
        for c, text in enumerate(cells, start=1):
            cell = put(ws, r, c, text)
            if r == 1:
                cell.font = _HEADER_FONT
    ws.freeze_panes = "A2"
    wb.properties.title = _writable(f"{authority} improvement plan")
    return _save(wb)


def return_workbook(ret: OwnerReturn) -> bytes:
    """An owner's return, ready to send to them."""
    wb = Workbook()
    ws = wb.active
    ws.title = "Return"
    columns = list(HEADERS)
    width = len(columns)
    title = f"{ret.authority} improvement plan: return for {ret.owner.ref} {ret.owner.display}"
    put(ws, 1, 1, title).font = Font(bold=True, size=13)
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=width - 1)
    put(
        ws,
        2,
        1,
        f"Exported {format_timestamp(ret.exported_at)}. For each action with news, fill in the shaded columns "
        "(new progress, new status, an update note), save, and send the file back. Leave a row's shaded cells "
        "empty to change nothing. No personal data about children.",
    ).alignment = _WRAP
    ws.merge_cells(start_row=2, start_column=1, end_row=2, end_column=width - 1)
    ws.row_dimensions[2].height = 45
    header_row = 4
    for c, column in enumerate(columns, start=1):
        cell = put(ws, header_row, c, HEADERS[column])
        cell.font = _HEADER_FONT
        if column in EDITABLE:
            cell.fill = _EDITABLE_FILL
    first = header_row + 1
    for r, row in enumerate(ret.rows, start=first):
        view = row.view
        action = view.action
        values: dict[str, object] = {
            "action": action.ref,
            "recommendation": view.rec.ref if view.rec else "",
            "title": action.title,
            "due": action.due if action.due is not None else "no due date",
            "status": action.status.label,
            "progress": action.progress,
            "latest": action.last_note,
            "new_progress": None,
            "new_status": None,
            "note": None,
            "stamp": row.stamp,
        }
        for c, column in enumerate(columns, start=1):
            cell = put(ws, r, c, values[column])
            cell.alignment = _WRAP
            if isinstance(values[column], date):
                cell.number_format = "dd/mm/yyyy"
            if column in EDITABLE:
                cell.protection = Protection(locked=False)
                cell.fill = _EDITABLE_FILL
    last = first + max(len(ret.rows), 1) - 1
    letter = {column: get_column_letter(c) for c, column in enumerate(columns, start=1)}
    progress = DataValidation(
        type="whole",
        operator="between",
        formula1="0",
        formula2="100",
        allow_blank=True,
        showErrorMessage=True,
        errorTitle="Progress",
        error="Progress is a whole number from 0 to 100.",
    )
    progress.add(f"{letter['new_progress']}{first}:{letter['new_progress']}{last}")
    status = DataValidation(
        type="list",
        formula1='"' + ",".join(STATUS_CHOICES) + '"',
        allow_blank=True,
        showErrorMessage=True,
        errorTitle="Status",
        error="Choose a status from the list.",
    )
    status.add(f"{letter['new_status']}{first}:{letter['new_status']}{last}")
    ws.add_data_validation(progress)
    ws.add_data_validation(status)
    for column, chars in (("action", 8), ("recommendation", 14), ("title", 45), ("due", 12), ("status", 12),
                          ("progress", 12), ("latest", 40), ("new_progress", 16), ("new_status", 14), ("note", 45),
                          ("stamp", 20)):  # fmt: skip
        ws.column_dimensions[letter[column]].width = chars
    ws.column_dimensions[letter["stamp"]].hidden = True
    ws.freeze_panes = ws.cell(row=first, column=4)
    # Locked cells stay read-only in Excel and LibreOffice; the protection has no
    # password, so it guards against slips, not against the owner.
    ws.protection.sheet = True
    ws.protection.formatColumns = False
    ws.protection.formatRows = False
    if not ret.rows:
        put(ws, first, 1, f"No open actions for {ret.owner.display}.")
    wb.properties.title = _writable(title)
    return _save(wb)
