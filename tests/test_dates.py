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


# -- the supported range: 1 Jan 1900 to 31 Dec 2999 ----------------------------------------


@pytest.mark.parametrize(
    ("text", "today", "expected"),
    [
        ("1/1/1900", TODAY, date(1900, 1, 1)),
        ("31/12/2999", TODAY, date(2999, 12, 31)),
        ("tomorrow", date(2999, 12, 30), date(2999, 12, 31)),
        ("+1d", date(2999, 12, 30), date(2999, 12, 31)),
        ("-1d", date(1900, 1, 2), date(1900, 1, 1)),
    ],
)
def test_the_ends_of_the_range_are_accepted(text: str, today: date, expected: date) -> None:
    assert parse_date(text, today) == expected


@pytest.mark.parametrize(
    ("text", "today", "shown"),
    [
        ("31/12/9999", TODAY, " (31 Dec 9999)"),
        ("9999-12-31", TODAY, ""),
        ("31/12/1899", TODAY, " (31 Dec 1899)"),
        ("0999-06-01", TODAY, ""),
        ("1 Jan 3000", TODAY, " (1 Jan 3000)"),
        ("+2w", date(2999, 12, 25), " (8 Jan 3000)"),
        ("tomorrow", date(2999, 12, 31), " (1 Jan 3000)"),
        ("yesterday", date(1900, 1, 1), " (31 Dec 1899)"),
        ("+1y", date(2999, 6, 1), " (1 Jun 3000)"),
        ("+9999y", TODAY, ""),  # past Python's own calendar
        ("-9999y", TODAY, ""),
        ("+9999d", date(2999, 1, 1), " (19 May 3026)"),
    ],
)
def test_dates_outside_the_range_are_refused_however_they_are_reached(text: str, today: date, shown: str) -> None:
    with pytest.raises(ValueError) as caught:
        parse_date(text, today)
    assert str(caught.value) == (
        f"The date {text!r}{shown} is outside the dates kt handles: use one from 1 Jan 1900 to 31 Dec 2999."
    )


def test_anchored_dates_are_held_to_the_range_too() -> None:
    with pytest.raises(ValueError, match="outside the dates kt handles"):
        parse_date("visit+2w", TODAY, anchors=lambda name: date(2999, 12, 25))
    assert parse_date("visit-2w", TODAY, anchors=lambda name: date(2999, 12, 25)) == date(2999, 12, 11)


@given(st.dates())
def test_every_date_parses_back_exactly_or_is_refused(d: date) -> None:
    if date(1900, 1, 1) <= d <= date(2999, 12, 31):
        assert parse_date(d.isoformat(), TODAY) == d
        assert parse_date(d.strftime("%d/%m/%Y") if d.year >= 1000 else d.isoformat(), TODAY) == d
    else:
        with pytest.raises(ValueError, match="outside the dates kt handles"):
            parse_date(d.isoformat(), TODAY)


@pytest.mark.parametrize("text", ["9999-Q4", "2999-13", "Jan 3000", "12/1899", "31/12/9999"])
def test_periods_outside_the_range_are_refused(text: str) -> None:
    with pytest.raises(ValueError) as caught:
        parse_period(text, TODAY)
    assert "outside the dates kt handles" in str(caught.value) or "no month 13" in str(caught.value)


@pytest.mark.parametrize("now", ["9999-12-30", "3000-01-01", "0999-06-01", "1899-12-31T23:00:00+00:00"])
def test_a_clock_outside_the_range_is_refused(monkeypatch: pytest.MonkeyPatch, now: str) -> None:
    monkeypatch.setenv("KNOWSLEY_TRACKER_NOW", now)
    with pytest.raises(ValueError) as caught:
        Clock.from_env()
    assert str(caught.value) == (
        f"KNOWSLEY_TRACKER_NOW={now!r} is outside the dates kt handles: use one from 1 Jan 1900 to 31 Dec 2999."
    )


def test_a_clock_past_the_calendar_is_not_a_date(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KNOWSLEY_TRACKER_NOW", "9999-12-31T23:00:00-05:00")  # 1 Jan 10000 in UTC
    with pytest.raises(ValueError, match="is not an ISO date or datetime"):
        Clock.from_env()


def test_a_computer_clock_outside_the_range_is_named_in_uk_style(monkeypatch: pytest.MonkeyPatch) -> None:
    from datetime import datetime

    from knowsley_tracker import dates

    monkeypatch.delenv("KNOWSLEY_TRACKER_NOW")
    monkeypatch.setattr(dates, "in_range", lambda d: False)  # as if the machine's clock said year 3000
    today = datetime.now().astimezone().date()
    with pytest.raises(ValueError) as caught:
        Clock.from_env()
    assert str(caught.value) == (
        f"The computer's clock says today is {dates.format_date(today)}, outside the dates kt handles "
        "(1 Jan 1900 to 31 Dec 2999): set the clock right."
    )
