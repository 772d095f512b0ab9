"""dates.py: UK day-first parsing, relative and anchored dates, periods, display."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from knowsley_tracker.dates import Clock, add_months, format_date, format_period, parse_date, parse_period

TODAY = date(2025, 11, 30)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2025-09-01", date(2025, 9, 1)),
        ("01/09/2025", date(2025, 9, 1)),
        ("1/9/25", date(2025, 9, 1)),
        ("1.9.2025", date(2025, 9, 1)),
        ("03/04/2026", date(2026, 4, 3)),
        ("1 Sep 2025", date(2025, 9, 1)),
        ("1 September 2025", date(2025, 9, 1)),
        ("September 1 2025", date(2025, 9, 1)),
        ("Sep 1, 2025", date(2025, 9, 1)),
        ("1st September 2025", date(2025, 9, 1)),
        ("today", TODAY),
        ("TODAY", TODAY),
        ("tomorrow", date(2025, 12, 1)),
        ("yesterday", date(2025, 11, 29)),
        ("+10d", date(2025, 12, 10)),
        ("+2w", date(2025, 12, 14)),
        ("-1w", date(2025, 11, 23)),
        ("+3m", date(2026, 2, 28)),
        ("+1y", date(2026, 11, 30)),
        ("  20/01/2025  ", date(2025, 1, 20)),
    ],
)
def test_parse_date_accepts(text: str, expected: date) -> None:
    assert parse_date(text, TODAY) == expected


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("31/02/2025", " (no such day)"),
        ("2025-13-01", " (no such day)"),
        ("next tuesday", ""),
        ("Sep 2025", " (give a day, a month and a year)"),
        ("1 Sep", " (give a day, a month and a year)"),
        ("12", ""),
        ("1 Sep 2025 10:30", " (give a date without a time)"),
        ("visit", ""),
    ],
)
def test_parse_date_refuses_quoting_the_input(text: str, why: str) -> None:
    with pytest.raises(ValueError) as caught:
        parse_date(text, TODAY)
    assert str(caught.value) == (
        f"Cannot read {text!r} as a date{why}: use 1/9/2025, 2025-09-01, 1 Sep 2025, today, tomorrow, +10d, +2w or +3m."
    )


def test_empty_date() -> None:
    with pytest.raises(ValueError, match="An empty date was given"):
        parse_date("  ", TODAY)


def test_anchored_dates() -> None:
    anchors = {"visit": date(2026, 2, 10), "board": None}
    assert parse_date("visit", TODAY, anchors.get) == date(2026, 2, 10)
    assert parse_date("visit-2w", TODAY, anchors.get) == date(2026, 1, 27)
    assert parse_date("Visit + 3d", TODAY, anchors.get) == date(2026, 2, 13)
    with pytest.raises(ValueError, match="the plan has no upcoming board meeting"):
        parse_date("board+1w", TODAY, anchors.get)


def test_add_months_clamps_to_month_end() -> None:
    assert add_months(date(2025, 1, 31), 1) == date(2025, 2, 28)
    assert add_months(date(2024, 1, 31), 1) == date(2024, 2, 29)
    assert add_months(date(2025, 11, 15), -12) == date(2024, 11, 15)


@given(st.dates(min_value=date(1900, 1, 1), max_value=date(2999, 12, 31)))
def test_iso_and_uk_forms_round_trip(d: date) -> None:
    assert parse_date(d.isoformat(), TODAY) == d
    assert parse_date(f"{d.day:02d}/{d.month:02d}/{d.year}", TODAY) == d
    assert parse_date(format_date(d), TODAY) == d


def test_format_date_is_uk_style() -> None:
    assert format_date(date(2025, 9, 1)) == "1 Sep 2025"
    assert format_date(None) == ""
    assert format_date(None, "-") == "-"


@pytest.mark.parametrize(
    ("text", "label", "end"),
    [
        ("2025-06", "2025-06", date(2025, 6, 30)),
        ("Jun 2025", "2025-06", date(2025, 6, 30)),
        ("june 2025", "2025-06", date(2025, 6, 30)),
        ("06/2025", "2025-06", date(2025, 6, 30)),
        ("2024-02", "2024-02", date(2024, 2, 29)),
        ("2025-Q1", "2025-Q1", date(2025, 3, 31)),
        ("2025q4", "2025-Q4", date(2025, 12, 31)),
        ("15/06/2025", "2025-06-15", date(2025, 6, 15)),
    ],
)
def test_parse_period(text: str, label: str, end: date) -> None:
    assert parse_period(text, TODAY) == (label, end)


def test_parse_period_refuses() -> None:
    with pytest.raises(ValueError, match="Cannot read '2025-13' as a period: no month 13 in 2025."):
        parse_period("2025-13", TODAY)
    with pytest.raises(ValueError, match="Cannot read 'soon' as a period"):
        parse_period("soon", TODAY)


def test_format_period() -> None:
    assert format_period("2025-06") == "Jun 2025"
    assert format_period("2025-Q2") == "2025 Q2"
    assert format_period("2025-06-15") == "15 Jun 2025"


def test_clock_fixed_and_stamp() -> None:
    clock = Clock.at("2025-11-30")
    assert clock.today() == TODAY
    assert clock.stamp() == "2025-11-30T09:00:00+00:00"
    moment = Clock.at(datetime(2025, 6, 1, 10, 15, tzinfo=UTC))
    assert moment.stamp() == "2025-06-01T10:15:00+00:00"


def test_clock_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KNOWSLEY_TRACKER_NOW", "2026-01-14T08:00:00+00:00")
    assert Clock.from_env().today() == date(2026, 1, 14)
    monkeypatch.setenv("KNOWSLEY_TRACKER_NOW", "tomorrow")
    with pytest.raises(ValueError, match="KNOWSLEY_TRACKER_NOW='tomorrow' is not an ISO date"):
        Clock.from_env()
    monkeypatch.delenv("KNOWSLEY_TRACKER_NOW")
    assert Clock.from_env().fixed is None
