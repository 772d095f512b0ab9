"""Reading one sheet of an .xlsx workbook as rows of text, treating the file as hostile.

openpyxl is imported here only, and only ``kt import`` of an .xlsx imports this
module. python-calamine reads about ten times faster
(``benchmarks/xlsx_readers.py``), but it builds every sheet as a dense grid:
a 4.8 KB workbook with one cell in A1 and one in XFD1048576 made it abort the
whole process, which no ``except`` can catch. openpyxl's read-only mode streams
rows, so it can be stopped at the row limit.

Before openpyxl sees the file: it must be a zip archive of at most
:data:`MAX_MEMBERS` parts whose declared sizes add up to at most the import
size limit (Python's zipfile never inflates a part past its declared size, so a
zip bomb is refused, never unpacked). Then at most ``max_rows`` rows (plus the
header search) and :data:`MAX_COLUMNS` columns are read. Cells keep their text
exactly; numbers, dates and percentages are written as a person reads them
(``50``, ``30/09/2025``, ``50%``), a month-formatted date as its month
(``Sep 2025``). Formulas are never evaluated: the value the spreadsheet last
saved is read, as text. Merged cells down a column (a recommendation over
several actions) give their value to every row they cover.
"""

from __future__ import annotations

import io
import re
import warnings
import zipfile
from datetime import date, datetime, time
from typing import Any

from knowsley_tracker.dates import MONTH_ABBR
from knowsley_tracker.errors import ValidationError
from knowsley_tracker.patterns import LazyPattern
from knowsley_tracker.service.sheet_reading import HEADER_SEARCH_ROWS, Grid, ImportLimits, limit_message

MAX_MEMBERS = 2_000
MAX_COLUMNS = 200
# How many merged ranges are applied (a sheet may carry thousands of formatting merges).
MAX_MERGES = 20_000
_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # .xls, or a password-protected .xlsx
_MERGE = LazyPattern(rb'<(?:\w+:)?mergeCell\s+ref="([A-Z]{1,3})(\d{1,7}):([A-Z]{1,3})(\d{1,7})"')


def _column_number(letters: bytes) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ch - 64
    return n


def check_archive(raw: bytes, name: str, limits: ImportLimits) -> zipfile.ZipFile:
    """The workbook's zip archive, once its parts and sizes are within bounds."""
    if raw.startswith(_OLE):
        raise ValidationError(
            f"{name} is an old-style .xls workbook or a password-protected one: in Excel, save it as "
            "'Excel Workbook (.xlsx)' without a password."
        )
    try:
        archive = zipfile.ZipFile(io.BytesIO(raw))
        parts = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError, EOFError):
        raise ValidationError(f"{name} is not an .xlsx workbook (it is not a zip archive).") from None
    if len(parts) > MAX_MEMBERS:
        raise ValidationError(f"{name} has {len(parts):,} parts, more than a workbook needs ({MAX_MEMBERS:,}).")
    unpacked = sum(part.file_size for part in parts)
    if unpacked > limits.max_bytes:
        raise ValidationError(
            limit_message(
                name, f"unpacks to {unpacked / 1024 / 1024:,.0f} MB, more than {limits.max_mb} MB", "import.max_mb",
                limits.max_mb,
            )
        )  # fmt: skip
    return archive


def read_xlsx(raw: bytes, name: str, sheet: str | None, limits: ImportLimits) -> Grid:
    """The rows of one sheet (``sheet``, else the first) as text, at most the row limit."""
    archive = check_archive(raw, name, limits)
    import openpyxl

    with warnings.catch_warnings():
        # openpyxl warns about features it drops (data validation extensions, styles): not our business.
        warnings.simplefilter("ignore")
        try:
            book = openpyxl.load_workbook(archive.fp, read_only=True, data_only=True, keep_links=False)
        except Exception as exc:  # a hostile or damaged file can fail anywhere inside openpyxl
            raise ValidationError(f"{name} cannot be read as an .xlsx workbook ({_why(exc)}).") from None
        try:
            ws = _choose(book, sheet, name)
            merges = _merges(archive, getattr(ws, "_worksheet_path", ""), limits)
            rows = _read_rows(ws, name, limits)
        except ValidationError:
            raise
        except Exception as exc:
            raise ValidationError(f"{name} cannot be read as an .xlsx workbook ({_why(exc)}).") from None
        finally:
            book.close()
    _fill_merged_down(rows, merges)
    notes = [f"Read sheet {ws.title!r} of {name}."] if sheet is not None or len(book.sheetnames) > 1 else []
    return Grid(rows=[(n, c) for n, c in rows if any(x.strip() for x in c)], apostrophes=False, notes=notes)


def _why(exc: Exception) -> str:
    text = " ".join(str(exc).split())[:80]
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _choose(book: Any, sheet: str | None, name: str) -> Any:
    names: list[str] = list(book.sheetnames)
    worksheets = {ws.title: ws for ws in book.worksheets}
    if sheet is None:
        if not book.worksheets:
            raise ValidationError(f"{name} has no worksheets.")
        return book.worksheets[0]
    found = worksheets.get(sheet) or next(
        (ws for title, ws in worksheets.items() if title.casefold() == sheet.strip().casefold()), None
    )
    if found is None:
        listed = ", ".join(repr(n) for n in names)
        raise ValidationError(f"{name} has no sheet {sheet!r}: its sheets are {listed}.")
    return found


def _merges(archive: zipfile.ZipFile, path: str, limits: ImportLimits) -> list[tuple[int, int, int]]:
    """Merged ranges down a column within the rows read: (first row, last row, column).

    Read-only openpyxl does not report merged cells, so they are found in the
    sheet's XML, whose size the archive check has already bounded."""
    if not path:
        return []
    try:
        with archive.open(path.lstrip("/")) as part:
            xml = part.read(limits.max_bytes + 1)
    except KeyError:
        return []
    last_row = limits.max_rows + HEADER_SEARCH_ROWS + 1
    found: list[tuple[int, int, int]] = []
    for m in _MERGE.finditer(xml):
        top, bottom = int(m[2]), int(m[4])
        column = _column_number(m[1])
        if bottom > top and column <= MAX_COLUMNS and top <= last_row:
            found.append((top, min(bottom, last_row), column))
            if len(found) >= MAX_MERGES:
                break
    return found


def _read_rows(ws: Any, name: str, limits: ImportLimits) -> list[tuple[int, list[str]]]:
    width = ws.max_column if isinstance(ws.max_column, int) and 0 < ws.max_column <= MAX_COLUMNS else MAX_COLUMNS
    cap = limits.max_rows + HEADER_SEARCH_ROWS
    rows: list[tuple[int, list[str]]] = []
    filled = 0
    for number, cells in enumerate(ws.iter_rows(max_col=width), start=1):
        texts = [_text(cell) for cell in cells]
        while texts and not texts[-1]:
            texts.pop()
        rows.append((number, texts))
        if texts:
            filled += 1
            if filled > cap:
                raise ValidationError(
                    limit_message(name, f"has more than {limits.max_rows:,} rows", "import.max_rows", limits.max_rows)
                )
        elif number > cap * 4:  # a long run of empty rows (a sheet padded to row 1,048,576)
            break
    return rows


def _fill_merged_down(rows: list[tuple[int, list[str]]], merges: list[tuple[int, int, int]]) -> None:
    by_number = {number: cells for number, cells in rows}
    for top, bottom, column in merges:
        first = by_number.get(top)
        at = column - 1
        if first is None or at >= len(first) or not first[at]:
            continue
        for number in range(top + 1, bottom + 1):
            cells = by_number.get(number)
            if cells is None:
                continue
            while len(cells) <= at:
                cells.append("")
            if not cells[at]:
                cells[at] = first[at]


def _text(cell: Any) -> str:
    """A cell's value as the person who typed it reads it."""
    value = getattr(cell, "value", None)
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    fmt = str(getattr(cell, "number_format", "") or "")
    if isinstance(value, datetime | date):
        day = value.date() if isinstance(value, datetime) else value
        if isinstance(value, datetime) and value.time() != time(0, 0):
            return f"{day.day:02d}/{day.month:02d}/{day.year} {value:%H:%M}"
        plain = re.sub(r'"[^"]*"|\[[^\]]*\]', "", fmt).lower()
        if "y" in plain and "m" in plain and "d" not in plain:  # formatted as a month: "Sep-25"
            return f"{MONTH_ABBR[day.month - 1]} {day.year}"
        return f"{day.day:02d}/{day.month:02d}/{day.year}"
    if isinstance(value, time):
        return value.strftime("%H:%M")
    if isinstance(value, int | float):
        number = float(value)
        if "%" in fmt:
            number *= 100
            return f"{_number(number)}%"
        return _number(number)
    return str(value)


def _number(number: float) -> str:
    if number == int(number) and abs(number) < 1e15:
        return str(int(number))
    return f"{number:.10g}"
