"""Reading a spreadsheet file into rows of text: decoding, the delimiter, and which
column is which. Imported only by ``kt import``; the csv module is imported here,
away from ``kt check``'s start-up path.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from knowsley_tracker.errors import ValidationError
from knowsley_tracker.models import normalise_word
from knowsley_tracker.service.plan_sheet import COLUMNS, REQUIRED, restore


@dataclass
class Sheet:
    """The file's rows as text, with where each known column is."""

    columns: dict[str, int]
    ignored: list[str]
    rows: list[tuple[int, list[str]]]  # (spreadsheet row number, cells)

    def cell(self, cells: list[str], column: str) -> str:
        at = self.columns.get(column)
        if at is None or at >= len(cells):
            return ""
        return restore(cells[at]).strip()


def read_sheet(raw: bytes, source: str) -> Sheet:
    """Decode and split a CSV file (UTF-8, with or without BOM; comma, semicolon or tab)."""
    if b"\x00" in raw:
        raise ValidationError(f"{source} is not a CSV file (it contains NUL bytes).")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValidationError(
            f"{source} is not UTF-8 text (byte {exc.start + 1} is not valid): "
            "in Excel use Save As, 'CSV UTF-8 (Comma delimited)'."
        ) from None
    if not text.strip():
        raise ValidationError(f"{source} is empty: the first row must name the columns.")
    delimiter, columns, ignored, duplicates = _choose_delimiter(text)
    missing = [c for c in REQUIRED if c not in columns]
    if missing:
        plural = "s" if len(missing) > 1 else ""
        raise ValidationError(
            f"{source} has no {', '.join(missing)} column{plural}: the first row must name the columns "
            f"({', '.join(REQUIRED)}, and optionally {', '.join(c for c in COLUMNS if c not in REQUIRED)})."
        )
    if duplicates:
        raise ValidationError(f"{source} has more than one {', '.join(duplicates)} column: keep one of each.")
    try:
        records = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    except csv.Error as exc:
        raise ValidationError(f"{source} cannot be read as CSV: {exc}.") from None
    rows = [(number, cells) for number, cells in enumerate(records[1:], start=2) if any(c.strip() for c in cells)]
    return Sheet(columns=columns, ignored=ignored, rows=rows)


def _choose_delimiter(text: str) -> tuple[str, dict[str, int], list[str], list[str]]:
    """The delimiter whose header row names the most required columns (comma on a tie)."""
    best: tuple[str, dict[str, int], list[str], list[str]] | None = None
    for delimiter in (",", ";", "\t"):
        try:
            header = next(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter), [])
        except csv.Error:
            continue
        columns, ignored, duplicates = _match_header(header)
        found = sum(1 for c in REQUIRED if c in columns)
        if best is None or found > sum(1 for c in REQUIRED if c in best[1]):
            best = (delimiter, columns, ignored, duplicates)
    assert best is not None
    return best


def _match_header(header: list[str]) -> tuple[dict[str, int], list[str], list[str]]:
    wanted = {normalise_word(c): c for c in COLUMNS}
    columns: dict[str, int] = {}
    ignored: list[str] = []
    duplicates: list[str] = []
    for at, title in enumerate(header):
        word = normalise_word(title.lstrip("\ufeff"))
        if not word:
            continue
        name = wanted.get(word)
        if name is None:
            ignored.append(title.strip())
        elif name in columns:
            duplicates.append(name)
        else:
            columns[name] = at
    return columns, ignored, duplicates
