"""The report builder: roll-ups, readiness and gaps, exception lists, focus narrowing and the header."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any, TypeVar

import pytest

from knowsley_tracker.dates import Clock
from knowsley_tracker.models import Rag, Status
from knowsley_tracker.rag import rag_label
from knowsley_tracker.reports import Report, build_report
from knowsley_tracker.service import actions, kpis, plan, visits
from knowsley_tracker.service.session import Session
from knowsley_tracker.storage import Store
from knowsley_tracker.store_interface import PlanStore

T = TypeVar("T")


@pytest.fixture
def store(plan_store: PlanStore) -> PlanStore:
    """These tests run over every kind of store (conftest.STORE_KINDS)."""
    return plan_store


def step(store: PlanStore, when: str, fn: Callable[..., T], *args: Any, **kw: Any) -> T:
    s = Session(store=store, clock=Clock.at(when), user="Test Officer")
    with s.transaction("step"):
        return fn(s, *args, **kw)


def report(store: PlanStore, when: str = "2025-11-30", **kw: Any) -> Report:
    return build_report(Session(store=store, clock=Clock.at(when), user="Test Officer"), **kw)


@pytest.fixture
def store_plan(store: PlanStore) -> PlanStore:
    """Two focus areas and a recommendation with none; actions in every state."""
    d = "2025-09-01"
    step(store, d, plan.add_focus, "DIS", "Children with disabilities")
    step(store, d, plan.add_focus, "CL", "Care-experienced young people")
    step(store, d, plan.add_recommendation, "Disabled children.", focus="DIS")  # R1
    step(store, d, plan.add_recommendation, "PA caseloads.", focus="CL")  # R2
    step(store, d, plan.add_recommendation, "Audit.", summary="Audit line of sight")  # R3: no focus area
    step(store, d, plan.add_recommendation, "Workforce.", focus="CL")  # R4: no actions
    step(store, d, actions.add_action, 1, "Overdue audit", due=date(2025, 11, 15))  # A1 red
    step(store, d, actions.add_action, 1, "Plan due soon", due=date(2025, 12, 10))  # A2 amber
    step(store, d, actions.add_action, 1, "Blocked training", due=date(2026, 3, 31))  # A3 red (blocked)
    step(store, d, actions.add_action, 2, "Cap agreed", due=date(2025, 9, 30))  # A4 blue
    step(store, d, actions.add_action, 2, "Recruit PAs", due=date(2025, 12, 31))  # A5 green
    step(store, d, actions.add_action, 2, "Old idea", due=date(2025, 12, 31))  # A6 dropped
    step(store, d, actions.add_action, 3, "Moderate audits", due=date(2025, 12, 29))  # A7 green, not started
    step(store, "2025-11-20", actions.log_progress, 1, "Half the cases done", progress=50)
    step(store, "2025-11-20", actions.log_progress, 2, "Drafting", progress=10)
    step(store, "2025-11-21", actions.log_progress, 3, "Trainer unavailable", status=Status.BLOCKED)
    step(store, "2025-09-30", actions.complete_action, 4, "Agreed")
    step(store, "2025-10-01", actions.add_evidence, 4, "Minutes", day=date(2025, 10, 1))
    step(store, "2025-11-25", actions.log_progress, 5, "Adverts out", progress=80)
    step(store, "2025-11-25", actions.log_progress, 6, "Superseded", status=Status.DROPPED)
    step(store, "2025-11-26", actions.edit_action, 1, rag=Rag.GREEN, reason="Cases all allocated")
    return store


def test_focus_area_rollups_and_the_no_focus_row(store_plan: Store) -> None:
    r = report(store_plan)
    rows = {row.key: row for row in r.focus_areas}
    assert list(rows) == ["DIS", "CL", "-"]
    dis, cl, loose = rows["DIS"].rollup, rows["CL"].rollup, rows["-"].rollup
    assert (dis.actions, dis.complete, dis.overdue, dis.progress) == (3, 0, 1, (50 + 10 + 0) / 3)
    assert (dis.count(Rag.RED), dis.count(Rag.AMBER), dis.count(Rag.GREEN)) == (1, 1, 1)  # A1 is green by override
    assert (cl.actions, cl.complete, cl.dropped, cl.progress) == (2, 1, 1, (100 + 80) / 2)
    assert (cl.count(Rag.BLUE), cl.count(Rag.GREEN), cl.rag) == (1, 1, Rag.GREEN)
    assert (rows["-"].name, rows["-"].recs, loose.actions, loose.rag) == ("No focus area", 1, 1, Rag.GREEN)
    assert (rows["CL"].recs, r.totals.actions, r.totals.overdue) == (2, 6, 1)
    assert r.totals.progress == pytest.approx((50 + 10 + 0 + 100 + 80 + 0) / 6)


def test_readiness_status_rag_and_gaps(store_plan: Store) -> None:
    rows = {row.rec.ref: row for row in report(store_plan).recommendations}
    r1, r2, r3, r4 = rows["R1"], rows["R2"], rows["R3"], rows["R4"]
    assert (r1.status, r1.rollup.rag, r1.evidence, r1.days_since_update) == ("In progress", Rag.RED, 0, 4)
    assert r1.gaps == ["3 actions without evidence (A1, A2, A3)"]
    assert (r2.status, r2.rollup.rag, r2.evidence, r2.last_update) == ("In progress", Rag.GREEN, 1, date(2025, 11, 25))
    assert r2.gaps == ["1 action without evidence (A5)"]
    assert (r3.status, r3.days_since_update) == ("Not started", 90)
    assert r3.gaps == ["1 action without evidence (A7)", "no update in 30 days"]
    assert (r4.status, r4.rollup.rag, r4.days_since_update, r4.gaps) == ("No actions", None, None, ["no actions"])


def test_a_complete_evidenced_recommendation_has_no_gaps(store: PlanStore) -> None:
    step(store, "2025-01-01", plan.add_recommendation, "Done.")
    step(store, "2025-01-01", actions.add_action, 1, "Only action", due=date(2025, 3, 1))
    step(store, "2025-02-01", actions.complete_action, 1)
    step(store, "2025-02-02", actions.add_evidence, 1, "Report", day=date(2025, 2, 2))
    row = report(store).recommendations[0]
    assert (row.status, row.rollup.rag, row.gaps) == ("Complete", Rag.BLUE, [])


def test_exceptions_and_due_soon(store_plan: Store) -> None:
    r = report(store_plan)
    # Red or overdue, soonest due first: A1 is overdue though overridden green; A3 is blocked.
    assert [(line.action.ref, line.rag, line.days_to_due) for line in r.exceptions] == [
        ("A1", "Green*", -15),
        ("A3", "Red", 121),
    ]
    assert r.exceptions[0].why == "Cases all allocated (rules: Red)"
    assert r.exceptions[1].why == "blocked"
    assert r.exceptions[1].action.last_note == "Trainer unavailable"
    # Due within 30 days and not listed above; A5 (31 days) is not.
    assert [(line.action.ref, line.rag, line.days_to_due) for line in r.due_soon] == [
        ("A2", "Amber", 10),
        ("A7", "Green", 29),
    ]


def test_focus_narrows_every_section(store_plan: Store) -> None:
    step(store_plan, "2025-09-01", kpis.add_kpi, "DIS-01", "Plans", target="95", unit="%", focus="DIS")
    step(store_plan, "2025-09-01", kpis.add_kpi, "CL-04", "Caseload", target="20", recs=["R2"])
    r = report(store_plan, focus="cl")
    assert r.header.focus is not None and r.header.focus.key == "CL"
    assert [row.key for row in r.focus_areas] == ["CL"]
    assert [row.rec.ref for row in r.recommendations] == ["R2", "R4"]
    assert r.exceptions == [] and r.due_soon == []
    assert [k.kpi.key for k in r.kpis] == ["CL-04"]
    assert r.totals.actions == 2
    assert [row.kpis[0].kpi.key for row in r.recommendations if row.kpis] == ["CL-04"]


def test_header_shows_the_next_monitoring_visit_only(store_plan: Store) -> None:
    step(store_plan, "2025-09-01", plan.add_inspection, start="18/11/2024", published="20/01/2025",
         judgement="inadequate")  # fmt: skip
    step(store_plan, "2025-09-01", visits.add_visit, "20/09/2025", status="done")
    step(store_plan, "2025-09-01", visits.add_visit, "10/12/2025", type="focused-visit")
    step(store_plan, "2025-09-01", visits.add_visit, "10/02/2026", status="confirmed")
    h = report(store_plan).header
    assert h.inspection is not None and h.inspection.judgement is not None
    assert h.inspection.judgement.label == "Inadequate"
    assert h.next_visit is not None
    assert (h.next_visit.visit.date, h.next_visit.days_to_go, h.next_visit.number) == (date(2026, 2, 10), 72, 2)
    assert (h.authority, h.report_date, h.rules.amber_days) == ("Test Council", date(2025, 11, 30), 14)


def test_rag_labels() -> None:
    assert [rag_label(r) for r in Rag] == ["Red", "Amber", "Green", "Complete", "Blue", "Dropped"]
    assert rag_label(Rag.AMBER, overridden=True) == "Amber*"
    assert rag_label(None) == ""
