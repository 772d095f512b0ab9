"""workdays.py: statutory deadlines counted in England's working days."""

from __future__ import annotations

from datetime import date

import pytest

from knowsley_tracker.workdays import action_plan_deadline, add_working_days, is_working_day


def test_knowsley_2025_action_plan_deadline() -> None:
    # Report published Monday 20 January 2025; Good Friday (18 Apr) and Easter
    # Monday (21 Apr) fall inside the 70 working days.
    assert action_plan_deadline(date(2025, 1, 20)) == date(2025, 4, 30)


def test_bank_holidays_are_skipped() -> None:
    assert not is_working_day(date(2025, 4, 18))  # Good Friday
    assert not is_working_day(date(2025, 12, 26))  # Boxing Day
    assert not is_working_day(date(2026, 12, 28))  # Boxing Day (substitute)
    assert is_working_day(date(2025, 4, 22))
    # Thursday 24 Dec 2026 + 1 working day skips Christmas, the weekend and the substitute day.
    assert add_working_days(date(2026, 12, 24), 1) == date(2026, 12, 29)


def test_counting_crosses_the_year_end() -> None:
    assert add_working_days(date(2025, 12, 19), 5) == date(2025, 12, 30)
    assert add_working_days(date(2025, 12, 19), 7) == date(2026, 1, 2)


def test_weekends_only_without_holidays() -> None:
    assert add_working_days(date(2025, 6, 6), 1) == date(2025, 6, 9)  # Friday -> Monday
    assert add_working_days(date(2025, 6, 6), 0) == date(2025, 6, 6)
    with pytest.raises(ValueError):
        add_working_days(date(2025, 6, 6), -1)
