"""Working days in England, for statutory deadlines; the only module importing ``holidays``.

The holidays library is maintained and knows England's bank holidays, including
moved and one-off days, so no list is kept by hand here. It is slow to import,
so deadlines are computed once, when a date is recorded, and stored.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache

# After an 'inadequate' judgement the council must send Ofsted its action plan
# within 70 working days of receiving the report (s.137 Education and
# Inspections Act 2006, and SI 2007/462).
ACTION_PLAN_WORKING_DAYS = 70


@lru_cache(maxsize=8)
def _bank_holidays(first_year: int, last_year: int) -> frozenset[date]:
    import holidays

    calendar = holidays.country_holidays("GB", subdiv="ENG", years=range(first_year, last_year + 1))
    return frozenset(calendar.keys())


def is_working_day(day: date) -> bool:
    """Monday to Friday and not a bank holiday in England."""
    return day.weekday() < 5 and day not in _bank_holidays(day.year, day.year)


def add_working_days(start: date, days: int) -> date:
    """The date ``days`` working days after ``start`` (``start`` itself is day 0)."""
    if days < 0:
        raise ValueError("Count working days forwards only.")
    holidays = _bank_holidays(start.year, start.year + days // 200 + 1)
    current, counted = start, 0
    while counted < days:
        current += timedelta(days=1)
        if current.weekday() < 5 and current not in holidays:
            counted += 1
    return current


def action_plan_deadline(report_date: date) -> date:
    """When the written action plan is due: 70 working days after the report."""
    return add_working_days(report_date, ACTION_PLAN_WORKING_DAYS)
