"""KPIs in the service layer: adding, recording values, figures, trend and sparkline."""

from __future__ import annotations

from datetime import date

import pytest

from knowsley_tracker.errors import ConflictError, NotFoundError, PersonalDataError, ValidationError
from knowsley_tracker.models import Kpi, KpiValue
from knowsley_tracker.service import kpis, plan
from knowsley_tracker.service.kpis import Figure, Figures, format_number, latest_as_of, sparkline, trend
from knowsley_tracker.service.session import Session


@pytest.fixture
def s(session: Session) -> Session:
    with session.transaction("set up"):
        plan.add_focus(session, "CL", "Care-experienced young people")
        plan.add_recommendation(session, "The caseloads of personal advisers (PAs).", focus="CL")
    return session


def add(s: Session, key: str = "CL-04", **kw: object) -> kpis.KpiStatus:
    options: dict[str, object] = {
        "target": "20",
        "unit": "young people per PA",
        "lower_is_better": True,
        "focus": "cl",
        "recs": ["R1"],
    }
    options.update(kw)
    with s.transaction("kpi add"):
        return kpis.add_kpi(s, key, "Average personal adviser caseload", **options)  # type: ignore[arg-type]


def record(s: Session, key: str, value: str | None, period: str, **kw: object) -> kpis.Recorded:
    with s.transaction("kpi record"):
        return kpis.record_value(s, key, value, period=period, **kw)  # type: ignore[arg-type]


# -- adding --------------------------------------------------------------------------------------


def test_add_stores_the_kpi(s: Session) -> None:
    status = add(s, "cl-04", target_date="31/03/2026")
    kpi = s.store.get(Kpi, 1)
    assert (kpi.key, kpi.target, kpi.unit, kpi.lower_is_better, kpi.focus_id, kpi.rec_ids) == (
        "CL-04",
        20.0,
        "young people per PA",
        True,
        1,
        [1],
    )
    assert kpi.target_date == date(2026, 3, 31)
    assert kpi.created_at == "2025-11-30T09:00:00+00:00"
    assert status.target == Figure(20.0, "20")
    assert (status.latest, status.met, status.trend, status.sparkline) == (None, None, None, "")


def test_add_refuses_duplicates_bad_targets_and_unknown_links(s: Session) -> None:
    add(s)
    with pytest.raises(ConflictError, match=r"KPI CL-04 already exists \(Average personal adviser caseload\)."):
        add(s, "cl-04")
    with pytest.raises(ValidationError, match="The target must be a number, not 'twenty'."):
        add(s, "X", target="twenty")
    with pytest.raises(ValidationError, match="X is a percentage: the target must be from 0 to 100, not 120."):
        add(s, "X", target="120", unit="%")
    with pytest.raises(NotFoundError, match="No recommendation R7."):
        add(s, "X", recs=["R7"])
    with pytest.raises(NotFoundError, match="No focus area 'HP'"):
        add(s, "X", focus="HP")
    assert [k.key for k in s.store.all(Kpi)] == ["CL-04"]


def test_add_guards_the_name_against_personal_data(s: Session) -> None:
    with pytest.raises(PersonalDataError), s.transaction("kpi add"):
        kpis.add_kpi(s, "X", "Visits for case ref 123456", target="90")


# -- recording --------------------------------------------------------------------------------------


def test_record_month_quarter_and_date_periods(s: Session) -> None:
    add(s)
    record(s, "CL-04", "32", "Jun 2025")
    record(s, "CL-04", "28", "2025-q3")
    record(s, "CL-04", "26", "15/10/2025", note="After two PAs started")
    values = s.store.all(KpiValue)
    assert [(v.period, v.period_end, v.value) for v in values] == [
        ("2025-06", date(2025, 6, 30), 32.0),
        ("2025-Q3", date(2025, 9, 30), 28.0),
        ("2025-10-15", date(2025, 10, 15), 26.0),
    ]
    assert values[2].note == "After two PAs started"
    assert (values[2].by, values[2].recorded_at) == ("Test Officer", "2025-11-30T09:00:00+00:00")


def test_record_refuses_a_period_not_yet_started_and_nonsense(s: Session) -> None:
    add(s)
    with pytest.raises(ValidationError, match=r"The period Dec 2025 has not started yet \(today is 30 Nov 2025\)."):
        record(s, "CL-04", "20", "2025-12")
    with pytest.raises(ValidationError, match="Cannot read 'soon' as a period"):
        record(s, "CL-04", "20", "soon")
    with pytest.raises(ValidationError, match="The value must be a number, not 'lots'."):
        record(s, "CL-04", "lots", "2025-11")
    with pytest.raises(NotFoundError, match="No KPI 'XX'. Known keys: CL-04."):
        record(s, "XX", "1", "2025-11")
    assert s.store.all(KpiValue) == []


def test_numerator_and_denominator_must_match_a_percentage(s: Session) -> None:
    add(s, "HP-01", target="90", unit="%", lower_is_better=False)
    done = record(s, "HP-01", None, "2025-10", numerator=162, denominator=200)
    assert (done.value.value, done.value.numerator, done.value.denominator) == (81.0, 162, 200)
    assert done.point.value == Figure(81.0, "81%")
    assert (done.point.numerator, done.point.denominator) == (Figure(162.0, "162"), Figure(200.0, "200"))
    with pytest.raises(ValidationError, match="85% does not match 162/200 = 81%"):
        record(s, "HP-01", "85", "2025-09", numerator=162, denominator=200)
    with pytest.raises(ValidationError, match="Give --numerator and --denominator together."):
        record(s, "HP-01", "81", "2025-09", numerator=162)
    with pytest.raises(ValidationError, match="Give the value of HP-01, or --numerator and --denominator"):
        record(s, "HP-01", None, "2025-09")
    with pytest.raises(ValidationError, match="HP-01 is a percentage: the value must be from 0 to 100, not 101."):
        record(s, "HP-01", "101", "2025-09")


def test_a_second_value_for_a_period_needs_replace(s: Session) -> None:
    add(s)
    record(s, "CL-04", "24", "2025-Q3")
    with pytest.raises(ConflictError, match=r"CL-04 already has a value for 2025 Q3 \(24\): add --replace"):
        record(s, "CL-04", "25", "2025-Q3")
    done = record(s, "CL-04", "25", "2025-Q3", replace_existing=True)
    assert done.replaced is not None and done.replaced.value == 24.0
    assert [(v.id, v.value) for v in s.store.all(KpiValue)] == [(1, 25.0)]


# -- trend, figures, sparkline ------------------------------------------------------------------------


def test_trend_higher_is_better() -> None:
    kpi = Kpi(key="HP-01", name="Assessments in time", target=90, unit="%")
    assert trend(kpi, 75, 81) == "improving"
    assert trend(kpi, 81, 75) == "worsening"
    assert trend(kpi, 81, 81.04) == "flat"


def test_trend_lower_is_better() -> None:
    kpi = Kpi(key="CL-04", name="PA caseload", target=20, lower_is_better=True)
    assert trend(kpi, 28, 24) == "improving"
    assert trend(kpi, 24, 28) == "worsening"
    assert trend(kpi, 24, 24) == "flat"


def test_scorecard_trend_in_both_directions(s: Session) -> None:
    add(s)  # lower is better
    add(s, "HP-01", target="90", unit="%", lower_is_better=False, recs=[])
    for period, caseload_value, timely_value in [
        ("2025-07", "30", "70"),
        ("2025-08", "27", "78"),
        ("2025-09", "29", "74"),
    ]:
        record(s, "CL-04", caseload_value, period)
        record(s, "HP-01", timely_value, period)
    card = {st.kpi.key: st for st in kpis.list_kpis(s)}
    caseload, timely = card["CL-04"], card["HP-01"]
    assert (caseload.trend, caseload.direction, caseload.met) == ("worsening", "up", False)
    assert (timely.trend, timely.direction, timely.met) == ("worsening", "down", False)
    assert [p.trend for p in caseload.history] == [None, "improving", "worsening"]
    assert [p.trend for p in timely.history] == [None, "improving", "worsening"]
    assert caseload.sparkline == "█▁▆"
    assert timely.sparkline == "▁█▅"
    assert caseload.latest is not None and caseload.latest.period_label == "Sep 2025"
    assert caseload.previous is not None and caseload.previous.value == Figure(27.0, "27")
    record(s, "CL-04", "20", "2025-10")
    assert kpis.show_kpi(s, "cl-04").met is True
    assert kpis.show_kpi(s, "CL-04").trend == "improving"


def test_scorecard_by_focus_follows_the_kpi_or_its_recommendations(s: Session) -> None:
    with s.transaction("more"):
        plan.add_focus(s, "HP", "Help and protection")
        plan.add_recommendation(s, "Risk.", focus="HP")
    add(s, "A", focus=None, recs=["R1"])  # CL through R1
    add(s, "B", focus="HP", recs=[])
    add(s, "C", focus=None, recs=[])
    assert [k.kpi.key for k in kpis.list_kpis(s, "CL")] == ["A"]
    assert [k.kpi.key for k in kpis.list_kpis(s, "hp")] == ["B"]
    assert [k.kpi.key for k in kpis.list_kpis(s)] == ["A", "B", "C"]


def test_figures_are_made_in_one_place() -> None:
    figures = Figures()
    assert figures.figure(81) == Figure(81.0, "81")
    assert figures.figure(81.25, unit="%") == Figure(81.25, "81.2%")
    assert figures.figure(1204, count=True) == Figure(1204.0, "1,204")
    assert figures.figure(None) == Figure(None, "")
    assert figures.value_of(Kpi(key="K", name="n", target=1, unit="percent"), 90) == Figure(90.0, "90%")
    assert figures.count(None) == Figure(None, "")
    assert format_number(0.04) == "0"
    assert format_number(12.25) == "12.2"
    assert format_number(-3) == "-3"


def test_sparkline() -> None:
    assert sparkline([]) == ""
    assert sparkline([5]) == "▄"
    assert sparkline([5, 5, 5]) == "▄▄▄"
    assert sparkline([0, 50, 100]) == "▁▅█"
    assert sparkline(list(range(20))) == "▁▂▃▄▅▆▇█"  # the last eight


def test_latest_as_of_uses_period_end() -> None:
    values = [
        KpiValue(kpi_id=1, period="2025-08", period_end=date(2025, 8, 31), value=1, id=1),
        KpiValue(kpi_id=1, period="2025-09", period_end=date(2025, 9, 30), value=2, id=2),
    ]
    assert latest_as_of(values, date(2025, 8, 30)) is None
    assert latest_as_of(values, date(2025, 9, 29)) == values[0]
    assert latest_as_of(values, date(2025, 9, 30)) == values[1]
