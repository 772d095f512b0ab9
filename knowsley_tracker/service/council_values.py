"""Dates and statuses as councils write them in their plan sheets, read for ``kt import``.

Each reading says how it was interpreted when it was not a plain value, so the
dry run can show it per row:

* due dates: "TBC", "TBA", "To be confirmed", "Ongoing" and an empty cell mean
  no due date; "Sept 2025" or "September 2025" the last day of that month;
  "Q3 2025/26" the last day of that quarter of the financial year (April to
  March); anything else is read as a date is everywhere (day-first);
* statuses: :data:`SHEET_STATUSES`. "Behind", "Off track" and "Delayed" mean in
  progress, and the word is kept in the progress log; anything else is refused
  with the list of accepted words.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable
from datetime import date
from typing import NamedTuple

from knowsley_tracker.dates import MONTH_ABBR, MONTH_NAMES, format_date
from knowsley_tracker.errors import ValidationError
from knowsley_tracker.models import Status, normalise_word
from knowsley_tracker.patterns import LazyPattern

# Words that mean "no due date yet" (compared ignoring case, spaces and punctuation).
NO_DUE_WORDS = ("TBC", "TBA", "To be confirmed", "Ongoing")
_NO_DUE = frozenset(normalise_word(w.replace(".", "")) for w in NO_DUE_WORDS)
_MONTHS = {
    **{abbr.lower(): n for n, abbr in enumerate(MONTH_ABBR, start=1)},
    **{name.lower(): n for n, name in enumerate(MONTH_NAMES, start=1)},
    "sept": 9,
}
_MONTH_YEAR = LazyPattern(r"([a-z]{3,9})\.?[\s\-]+(\d{4})")
# Q3 2025/26, Q3 2025-26, Q3 25/26, 2025/26 Q3, Q3 2025/2026
_QUARTER = LazyPattern(r"q([1-4])\s*,?\s*(?:fy\s*)?(\d{2}|\d{4})\s*[/\-]\s*(\d{2}|\d{4})")
_QUARTER_AFTER = LazyPattern(r"(?:fy\s*)?(\d{2}|\d{4})\s*[/\-]\s*(\d{2}|\d{4})\s*,?\s*q([1-4])")


class DueReading(NamedTuple):
    """A due-date cell read: the date (None: no due date) and, when it was
    interpreted rather than read as written, how."""

    due: date | None
    note: str = ""


def _full_year(text: str) -> int:
    return int(text) + 2000 if len(text) == 2 else int(text)


def _financial_quarter(text: str, quarter: int, first: str, second: str) -> date:
    start = _full_year(first)
    end = _full_year(second) if len(second) == 4 else (start // 100) * 100 + int(second)
    if end != start + 1:
        raise ValidationError(
            f"Cannot read {text!r} as a financial quarter: the years must follow each other, as in Q3 2025/26."
        )
    # Quarter 1 is April to June of the first year; quarter 4 is January to March of the second.
    month = quarter * 3 + 3
    year = start
    if month > 12:
        month, year = month - 12, start + 1
    return date(year, month, calendar.monthrange(year, month)[1])


def read_due(text: str, parse_date: Callable[[str], date]) -> DueReading:
    """Read a due-date cell; ``parse_date`` reads an ordinary date (the session's)."""
    shown = text.strip()
    if not shown:
        return DueReading(None, "empty: no due date.")
    low = shown.casefold()
    if normalise_word(low.replace(".", "")) in _NO_DUE:
        return DueReading(None, f"{shown!r}: no due date.")
    if (m := _MONTH_YEAR.fullmatch(low)) and m[1] in _MONTHS:
        year, month = int(m[2]), _MONTHS[m[1]]
        day = date(year, month, calendar.monthrange(year, month)[1])
        return DueReading(day, f"{shown!r} read as {format_date(day)}, the last day of that month.")
    quarter = None
    if m := _QUARTER.fullmatch(low):
        quarter, first, second = int(m[1]), m[2], m[3]
    elif m := _QUARTER_AFTER.fullmatch(low):
        quarter, first, second = int(m[3]), m[1], m[2]
    if quarter is not None:
        day = _financial_quarter(shown, quarter, first, second)
        return DueReading(
            day, f"{shown!r} read as {format_date(day)}, the last day of quarter {quarter} of that financial year."
        )
    return DueReading(parse_date(shown))


class SheetStatus(NamedTuple):
    status: Status
    # The council's word, kept in the progress log when the status alone loses it.
    kept_word: bool = False


# The words kt import accepts in a status column, as written in the README and errors.
SHEET_STATUSES: dict[str, SheetStatus] = {
    "Not started": SheetStatus(Status.NOT_STARTED),
    "Not yet started": SheetStatus(Status.NOT_STARTED),
    "On track": SheetStatus(Status.IN_PROGRESS),
    "In progress": SheetStatus(Status.IN_PROGRESS),
    "Behind": SheetStatus(Status.IN_PROGRESS, kept_word=True),
    "Off track": SheetStatus(Status.IN_PROGRESS, kept_word=True),
    "Delayed": SheetStatus(Status.IN_PROGRESS, kept_word=True),
    "Blocked": SheetStatus(Status.BLOCKED),
    "On hold": SheetStatus(Status.BLOCKED),
    "Complete": SheetStatus(Status.COMPLETE),
    "Completed": SheetStatus(Status.COMPLETE),
    "Done": SheetStatus(Status.COMPLETE),
    "Closed": SheetStatus(Status.COMPLETE),
    "Dropped": SheetStatus(Status.DROPPED),
    "Cancelled": SheetStatus(Status.DROPPED),
}
_BY_WORD = {normalise_word(word): (word, reading) for word, reading in SHEET_STATUSES.items()}


class StatusReading(NamedTuple):
    status: Status
    word: str  # the council's word when it is kept in the log, else ""
    note: str  # how it was interpreted, when it was not a tracker status as written


def read_status(text: str) -> StatusReading:
    """Read a status cell; anything not in :data:`SHEET_STATUSES` is refused with the list."""
    key = normalise_word(text)
    found = _BY_WORD.get(key)
    if found is None:
        raise ValidationError(f"Unknown status {text.strip()!r}: use one of {', '.join(SHEET_STATUSES)}.")
    word, reading = found
    if reading.kept_word:
        note = f"{text.strip()!r} read as {reading.status.value}; the word is kept in the progress log."
        return StatusReading(reading.status, word, note)
    plain = normalise_word(reading.status.value) == key
    return StatusReading(reading.status, "", "" if plain else f"{text.strip()!r} read as {reading.status.value}.")
