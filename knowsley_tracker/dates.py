"""Reading and showing dates the UK way; the only module that imports dateutil.

Due dates are calendar dates (``datetime.date``), stored as ISO ``YYYY-MM-DD``
and shown as ``1 Sep 2025``. Log timestamps are aware UTC datetimes stored as
ISO 8601 with an offset. The clock is injected: only :class:`Clock` reads the
system time, so tests and reproducible reports can fix "today".
"""

from __future__ import annotations

import calendar
import os
import re
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import NamedTuple

from knowsley_tracker.patterns import LazyPattern

MONTH_NAMES = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip
MONTH_ABBR = tuple(name[:3] for name in MONTH_NAMES)

DATE_HELP = "1/9/2025, 2025-09-01, 1 Sep 2025, today, tomorrow, +10d, +2w or +3m"

# The dates kt handles. Python's own limit (year 9999) is too close: a due date
# there crashed calendar export and visit projection, and years before 1000
# gave backups names that sort wrongly. Every date that enters (typed, relative,
# anchored, imported, the clock itself) is checked against this range.
MIN_DATE = date(1900, 1, 1)
MAX_DATE = date(2999, 12, 31)
RANGE_TEXT = "1 Jan 1900 to 31 Dec 2999"

_ISO = LazyPattern(r"(\d{4})-(\d{1,2})-(\d{1,2})")
_NUMERIC = LazyPattern(r"(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{2}|\d{4})")
_RELATIVE = LazyPattern(r"([+-])\s*(\d{1,4})\s*([dwmy])")
_ANCHORED = LazyPattern(r"([a-z]+)(?:\s*([+-])\s*(\d{1,4})\s*([dwmy]))?")
_MONTH_PERIOD = LazyPattern(r"(\d{4})-(\d{1,2})")
_MONTH_PERIOD_UK = LazyPattern(r"(\d{1,2})/(\d{4})")
_QUARTER_PERIOD = LazyPattern(r"(\d{4})-?q([1-4])")
_MONTH_NAMES = {
    **{abbr.lower(): n for n, abbr in enumerate(MONTH_ABBR, start=1)},
    **{name.lower(): n for n, name in enumerate(MONTH_NAMES, start=1)},
    "sept": 9,
}

# An anchor resolver maps a name such as "visit" or "board" to a date (or None
# when the plan has no such date yet). The service layer supplies it.
AnchorResolver = Callable[[str], "date | None"]


def in_range(d: date) -> bool:
    """True for a date kt handles (:data:`MIN_DATE` to :data:`MAX_DATE`)."""
    return MIN_DATE <= d <= MAX_DATE


def out_of_range(text: str, d: date | None = None) -> ValueError:
    """The error for a date outside the range kt handles; ``d`` is what ``text`` came to."""
    came = f" ({format_date(d)})" if d is not None and text.strip() != d.isoformat() else ""
    return ValueError(f"The date {text!r}{came} is outside the dates kt handles: use one from {RANGE_TEXT}.")


def _bad(text: str, why: str = "") -> ValueError:
    reason = f" ({why})" if why else ""
    return ValueError(f"Cannot read {text!r} as a date{reason}: use {DATE_HELP}.")


def _month_first(text: str, year: int, first: int, second: int) -> ValueError:
    """A date written month first (``09/30/2025``): say that dates are day-first, and
    name the date probably meant."""
    why = f"Cannot read {text!r} as a date: dates are day-first, as in the UK (1/9/2025 is 1 September 2025), "
    try:
        meant = date(year, first, second)
    except ValueError:
        return ValueError(why + f"and there is no month {second}.")
    return ValueError(why + f"so there is no month {second}; did you mean {format_date(meant)} ({meant:%d/%m/%Y})?")


def _make(text: str, year: int, month: int, day: int) -> date:
    try:
        return date(year, month, day)
    except ValueError:
        raise _bad(text, "no such day") from None


def add_months(d: date, months: int) -> date:
    """Move by calendar months, keeping the day where the month allows (31 Jan + 1m = 28 Feb)."""
    index = d.year * 12 + (d.month - 1) + months
    year, month = divmod(index, 12)
    if not 1 <= year <= 9999:
        raise _OutOfRange(f"year {year} is outside the calendar")
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(d.day, last))


def shift(d: date, sign: str, amount: int, unit: str) -> date:
    """Apply an offset such as ``+2w`` to a date."""
    n = amount if sign == "+" else -amount
    if unit == "d":
        return d + timedelta(days=n)
    if unit == "w":
        return d + timedelta(weeks=n)
    if unit == "m":
        return add_months(d, n)
    return add_months(d, 12 * n)


def parse_date(text: str, today: date, anchors: AnchorResolver | None = None) -> date:
    """Read a date typed by a UK user. Day-first: ``01/09/2025`` is 1 September 2025.

    Accepts ISO dates, day-first numeric dates (2- or 4-digit years), written
    dates (``1 Sep 2025``, ``September 1 2025``), ``today``/``tomorrow``/
    ``yesterday``, offsets from today (``+10d``, ``-2w``, ``+3m``, ``+1y``) and,
    when ``anchors`` is given, named plan dates with an optional offset
    (``visit``, ``visit-2w``, ``board+1w``). Raises ``ValueError`` quoting the text, also
    for a date outside :data:`MIN_DATE` to :data:`MAX_DATE` (however it was reached).
    """
    try:
        day = _parse_date(text, today, anchors)
    except (OverflowError, _OutOfRange):  # arithmetic past Python's own year 9999
        raise out_of_range(text) from None
    if not in_range(day):
        raise out_of_range(text, day)
    return day


class _OutOfRange(ValueError):
    """Date arithmetic that left the calendar (year 0 or 10000)."""


def _parse_date(text: str, today: date, anchors: AnchorResolver | None) -> date:
    raw = text
    s = text.strip().lower()
    if not s:
        raise ValueError(f"An empty date was given: use {DATE_HELP}.")
    if m := _ISO.fullmatch(s):
        return _make(raw, int(m[1]), int(m[2]), int(m[3]))
    if m := _NUMERIC.fullmatch(s):
        year = int(m[3])
        if len(m[3]) == 2:
            year += 2000
        if int(m[2]) > 12:
            raise _month_first(raw, year, int(m[1]), int(m[2]))
        return _make(raw, year, int(m[2]), int(m[1]))
    if s == "today":
        return today
    if s == "tomorrow":
        return today + timedelta(days=1)
    if s == "yesterday":
        return today - timedelta(days=1)
    if m := _RELATIVE.fullmatch(s):
        return shift(today, m[1], int(m[2]), m[3])
    if anchors is not None and (m := _ANCHORED.fullmatch(s)) and m[1] in ANCHOR_NAMES:
        base = anchors(m[1])
        if base is None:
            raise ValueError(f"Cannot read {raw!r} as a date: {ANCHOR_NAMES[m[1]]}.")
        return shift(base, m[2], int(m[3]), m[4]) if m[2] else base
    return _parse_written(raw)


ANCHOR_NAMES = {
    "visit": "the plan has no upcoming monitoring visit (add one with kt visit add)",
    "board": "the plan has no upcoming board meeting (add one with kt board add)",
}


def _parse_written(raw: str) -> date:
    # dateutil is only needed for written-out dates, so it is imported here to
    # keep it off every command's start-up path.
    from dateutil import parser as du_parser

    text = raw.strip()
    if not re.search(r"[a-zA-Z]", text) or not re.search(r"\d", text):
        raise _bad(raw)
    # Parse twice with different defaults: if the results differ, the text left
    # a field (day, month or year) to the default, so it is not a whole date.
    first_default = datetime(2001, 1, 1)
    second_default = datetime(2002, 2, 2)
    try:
        first = du_parser.parse(text, dayfirst=True, default=first_default)
        second = du_parser.parse(text, dayfirst=True, default=second_default)
    except (ValueError, OverflowError):
        raise _bad(raw) from None
    if first != second:
        raise _bad(raw, "give a day, a month and a year")
    if first.time() != time(0, 0) or first.tzinfo is not None:
        raise _bad(raw, "give a date without a time")
    return first.date()


def parse_iso(text: str) -> date:
    """Read a stored ISO date (no dateutil: this runs for every record shown)."""
    return date.fromisoformat(text)


def format_date(d: date | None, empty: str = "") -> str:
    """Show a date the UK way: ``1 Sep 2025``."""
    if d is None:
        return empty
    return f"{d.day} {MONTH_ABBR[d.month - 1]} {d.year}"


def format_timestamp(stamp: str) -> str:
    """Show a stored UTC timestamp in local time: ``1 Sep 2025 14:05``."""
    moment = datetime.fromisoformat(stamp).astimezone()
    return f"{format_date(moment.date())} {moment:%H:%M}"


def is_moment(value: object) -> bool:
    """True when ``value`` is text kt could have written as a moment (ISO 8601)."""
    try:
        datetime.fromisoformat(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False
    return True


def parse_timestamp(stamp: str) -> datetime:
    """Read a stored ISO 8601 timestamp (always aware)."""
    moment = datetime.fromisoformat(stamp)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment


def local_date_of(stamp: str) -> date:
    """The local calendar date on which a stored UTC timestamp fell."""
    return parse_timestamp(stamp).astimezone().date()


def in_days(days: int | None) -> str:
    """How far off a day is, in words: ``today``, ``tomorrow``, ``in 12 days``, ``3 days overdue``
    (``no due date`` for None: an action imported with "TBC")."""
    if days is None:
        return "no due date"
    if days == 0:
        return "today"
    if days == 1:
        return "tomorrow"
    if days > 0:
        return f"in {days} days"
    return f"{-days} day{'' if days == -1 else 's'} overdue"


def parse_period(text: str, today: date) -> tuple[str, date]:
    """Read a KPI reporting period: a month (``2025-06``, ``Jun 2025``, ``06/2025``),
    a quarter (``2025-Q1``) or a single date. Returns the stored label and the
    date the period ends, which orders values and compares them with boards."""
    s = text.strip().lower()
    if m := _MONTH_PERIOD.fullmatch(s):
        return _month_period(text, int(m[1]), int(m[2]))
    if m := _MONTH_PERIOD_UK.fullmatch(s):
        return _month_period(text, int(m[2]), int(m[1]))
    if m := _QUARTER_PERIOD.fullmatch(s):
        year, quarter = int(m[1]), int(m[2])
        if not MIN_DATE.year <= year <= MAX_DATE.year:
            raise _period_out_of_range(text)
        end_month = quarter * 3
        return f"{year}-Q{quarter}", date(year, end_month, calendar.monthrange(year, end_month)[1])
    if (m := re.fullmatch(r"([a-z]{3,9})\s+(\d{4})", s)) and m[1] in _MONTH_NAMES:
        return _month_period(text, int(m[2]), _MONTH_NAMES[m[1]])
    try:
        d = parse_date(text, today)
    except ValueError as exc:
        if "outside the dates kt handles" in str(exc):
            raise _period_out_of_range(text) from None
        raise ValueError(
            f"Cannot read {text!r} as a period: use a month (2025-06, Jun 2025), "
            "a quarter (2025-Q2) or a date (30/06/2025)."
        ) from None
    return d.isoformat(), d


def _month_period(text: str, year: int, month: int) -> tuple[str, date]:
    if not 1 <= month <= 12:
        raise ValueError(f"Cannot read {text!r} as a period: no month {month} in {year}.")
    if not MIN_DATE.year <= year <= MAX_DATE.year:
        raise _period_out_of_range(text)
    return f"{year:04d}-{month:02d}", date(year, month, calendar.monthrange(year, month)[1])


def _period_out_of_range(text: str) -> ValueError:
    return ValueError(f"The period {text!r} is outside the dates kt handles: use one from {RANGE_TEXT}.")


@lru_cache(maxsize=1024)
def format_period(label: str) -> str:
    """Show a stored period label: ``Jun 2025``, ``2025 Q2`` or ``30 Jun 2025`` (remembered:
    a region's report shows 2,600 KPI values over a few dozen periods)."""
    if m := _MONTH_PERIOD.fullmatch(label):
        return f"{MONTH_ABBR[int(m[2]) - 1]} {m[1]}"
    if m := re.fullmatch(r"(\d{4})-Q([1-4])", label):
        return f"{m[1]} Q{m[2]}"
    return format_date(parse_iso(label))


class Clock(NamedTuple):
    """Where "now" comes from. ``fixed`` pins it (tests, reproducible reports).

    A NamedTuple, not a frozen dataclass: every command builds this class at start-up, and a
    dataclass costs about 0.3 ms to make, a NamedTuple a seventh of that."""

    fixed: datetime | None = None

    @classmethod
    def from_env(cls) -> Clock:
        """Use ``KNOWSLEY_TRACKER_NOW`` (an ISO date or datetime) when it is set. Either way
        "today" must be a date kt handles: everything else is reckoned from it."""
        value = os.environ.get("KNOWSLEY_TRACKER_NOW", "").strip()
        if not value:
            clock = cls()
            if not in_range(clock.today()):
                raise ValueError(
                    f"The computer's clock says today is {format_date(clock.today())}, outside the dates kt "
                    f"handles ({RANGE_TEXT}): set the clock right."
                )
            return clock
        try:
            clock = cls.at(value)
        except (ValueError, OverflowError):
            raise ValueError(
                f"KNOWSLEY_TRACKER_NOW={value!r} is not an ISO date or datetime (e.g. 2025-11-30)."
            ) from None
        if not in_range(clock.today()):
            raise ValueError(
                f"KNOWSLEY_TRACKER_NOW={value!r} is outside the dates kt handles: use one from {RANGE_TEXT}."
            )
        return clock

    @classmethod
    def at(cls, when: str | date | datetime) -> Clock:
        """A clock stopped at ``when`` (a date means 09:00 UTC that day)."""
        if isinstance(when, str):
            when = datetime.fromisoformat(when) if "T" in when or " " in when else date.fromisoformat(when)
        if isinstance(when, datetime):
            moment = when if when.tzinfo else when.replace(tzinfo=UTC)
        else:
            moment = datetime.combine(when, time(9, 0), tzinfo=UTC)
        return cls(fixed=moment.astimezone(UTC))

    def now(self) -> datetime:
        """The current moment, aware, in UTC."""
        if self.fixed is not None:
            return self.fixed
        return datetime.now(UTC)

    def today(self) -> date:
        """Today's calendar date where the user is."""
        if self.fixed is not None:
            return self.fixed.date()
        return date.today()

    def stamp(self) -> str:
        """The current moment as stored: ISO 8601, UTC, with its offset."""
        return self.now().isoformat(timespec="seconds")
