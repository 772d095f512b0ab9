"""Board meetings: frozen snapshots, snapshots rebuilt from the log, and movement between boards."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any, TypeVar

import pytest

from knowsley_tracker.dates import Clock
from knowsley_tracker.errors import ConflictError, ValidationError
from knowsley_tracker.models import Board, Rag, Status
from knowsley_tracker.reports import build_report
from knowsley_tracker.service import actions, boards, kpis, plan
from knowsley_tracker.service.actions import PlanIndex
from knowsley_tracker.service.boards import ActionState, PlanState
from knowsley_tracker.service.kpis import KpiBook
from knowsley_tracker.service.session import Session
from knowsley_tracker.storage import Store
from knowsley_tracker.store_interface import PlanStore

T = TypeVar("T")


@pytest.fixture
def store(plan_store: PlanStore) -> PlanStore:
    """These tests run over every kind of store (conftest.STORE_KINDS)."""
    return plan_store


def at(store: PlanStore, when: str) -> Session:
    return Session(store=store, clock=Clock.at(when), user="Test Officer")


def step(store: PlanStore, when: str, fn: Callable[..., T], *args: Any, **kw: Any) -> T:
    """Run one use-case in its own transaction on the day ``when``."""
    s = at(store, when)
    with s.transaction("step"):
        return fn(s, *args, **kw)


def live_state(store: PlanStore, when: str) -> PlanState:
    s = at(store, when)
    index = PlanIndex(s)
    return boards.current_state(s, index, KpiBook.load(s))


def rebuilt_state(store: PlanStore, when: str, day: str) -> PlanState:
    s = at(store, when)
    index = PlanIndex(s)
    return boards.reconstructed_state(s, date.fromisoformat(day), index, KpiBook.load(s))


def set_up(store: PlanStore) -> None:
    day = "2025-09-01"
    step(store, day, plan.add_focus, "DIS", "Children with disabilities")
    step(store, day, plan.add_recommendation, "Disabled children's practice.", focus="DIS")
    step(store, day, actions.add_action, 1, "Audit cases", due=date(2025, 10, 31))
    step(store, day, actions.add_action, 1, "Publish plan", due=date(2025, 12, 10))
    step(store, day, actions.add_action, 1, "Commission review", due=date(2026, 3, 31))
    step(store, day, kpis.add_kpi, "DIS-01", "Cases with a plan", target="90", unit="%", recs=["R1"])


def test_a_snapshot_rebuilt_from_the_log_matches_the_plan_as_it_was(store: PlanStore) -> None:
    set_up(store)
    seen: dict[str, PlanState] = {}

    def look(day: str) -> None:
        seen[day] = live_state(store, day)

    step(store, "2025-09-10", actions.log_progress, 1, "Audit started", progress=30)
    step(store, "2025-09-10", kpis.record_value, "DIS-01", "60", period="2025-08")
    step(store, "2025-09-20", actions.edit_action, 2, rag=Rag.RED, reason="No service manager")
    look("2025-09-25")
    step(store, "2025-10-01", actions.complete_action, 2, "Plan published")  # clears the override, unlogged
    step(store, "2025-10-02", actions.add_evidence, 2, "Published plan", day=date(2025, 10, 2))
    step(store, "2025-10-05", actions.edit_action, 1, due=date(2025, 11, 30), reason="Audit tool delayed")
    step(store, "2025-10-06", kpis.record_value, "DIS-01", "70", period="2025-09")
    look("2025-10-10")
    step(store, "2025-10-15", actions.log_progress, 2, "Board asked for more", status=Status.IN_PROGRESS, progress=80)
    step(store, "2025-10-16", actions.edit_action, 2, rag=Rag.AMBER, reason="Needs rework")
    step(store, "2025-10-20", actions.add_action, 1, "Brief staff", due=date(2025, 11, 15))
    step(store, "2025-10-25", actions.log_progress, 3, "Superseded by regional review", status=Status.DROPPED)
    look("2025-10-28")
    step(store, "2025-11-01", actions.complete_action, 2, "Reworked plan published")
    step(store, "2025-11-05", actions.log_progress, 1, "Waiting for partners", status=Status.BLOCKED)
    look("2025-11-10")

    for day, then in seen.items():
        rebuilt = rebuilt_state(store, "2025-11-30", day)
        assert rebuilt.method == "reconstructed"
        assert rebuilt.actions == then.actions, day
        assert rebuilt.kpis == then.kpis, day

    # Spot checks, so the comparison above cannot pass by being empty.
    sept = seen["2025-09-25"].actions
    assert sept[2] == ActionState(2, "A2", "Publish plan", 1, Status.NOT_STARTED, 0, date(2025, 12, 10), Rag.RED,
                                  True, "No service manager", 0)  # fmt: skip
    assert (sept[1].progress, sept[1].due, sept[1].rag) == (30, date(2025, 10, 31), Rag.GREEN)
    assert seen["2025-10-10"].actions[2].rag is Rag.BLUE
    assert seen["2025-10-10"].actions[1].rag is Rag.AMBER  # slipped
    assert (seen["2025-10-28"].actions[2].rag, seen["2025-10-28"].actions[2].rag_reason) == (Rag.AMBER, "Needs rework")
    assert seen["2025-10-28"].actions[3].status is Status.DROPPED
    assert 4 not in seen["2025-10-10"].actions and 4 in seen["2025-10-28"].actions
    assert [k.value for k in (seen["2025-09-25"].kpis[1], seen["2025-10-10"].kpis[1])] == [60.0, 70.0]


def test_board_today_is_frozen_into_an_immutable_snapshot_file(file_store: Store) -> None:
    store = file_store
    set_up(store)
    board = step(store, "2025-11-26", boards.add_board, "26/11/2025", "Board 7")
    assert (board.ref, board.snapshot_method, board.frozen_at) == ("B1", "current", "2025-11-26T09:00:00+00:00")
    assert board.rag_counts == {"red": 1, "amber": 1, "green": 1}
    path = store.paths.snapshots / board.snapshot_file
    assert path.is_file()
    stored = store.get(Board, 1)
    assert stored.snapshot_file == board.snapshot_file
    before = path.read_bytes()

    step(store, "2025-11-27", actions.complete_action, 2)
    assert path.read_bytes() == before
    view = boards.show_board(at(store, "2025-11-30"), "B1")
    assert view.state is not None
    assert view.state.actions[2].status is Status.NOT_STARTED
    assert view.kpi_values[1].text == ""


def test_a_past_board_is_rebuilt_and_says_so(store: PlanStore) -> None:
    set_up(store)
    step(store, "2025-10-01", actions.log_progress, 1, "Half done", progress=50)
    board = step(store, "2025-11-30", boards.add_board, "15/09/2025")
    assert board.snapshot_method == "reconstructed"
    state = boards.show_board(at(store, "2025-11-30"), "B1").state
    assert state is not None and state.as_of == date(2025, 9, 15)
    assert state.actions[1].progress == 0


def test_a_future_board_waits_to_be_frozen(store: PlanStore) -> None:
    set_up(store)
    board = step(store, "2025-11-30", boards.add_board, "14/01/2026")
    assert (board.is_frozen, board.rag_counts) == (False, {})
    with pytest.raises(ValidationError, match=r"B1 meets on 14 Jan 2026: freeze it on or after that day."):
        step(store, "2025-12-01", boards.freeze_board, "B1")
    frozen = step(store, "2026-01-14", boards.freeze_board, "b1")
    assert (frozen.is_frozen, frozen.snapshot_method) == (True, "current")
    with pytest.raises(ConflictError, match="B1 was frozen already; a board snapshot never changes."):
        step(store, "2026-01-15", boards.freeze_board, "B1")


def test_one_board_per_day(store: PlanStore) -> None:
    set_up(store)
    step(store, "2025-11-30", boards.add_board, "26/11/2025")
    with pytest.raises(ConflictError, match=r"A board meeting on 26 Nov 2025 is already recorded \(B1\)."):
        step(store, "2025-11-30", boards.add_board, "2025-11-26")
    assert len(store.all(Board)) == 1


def test_movement_between_two_boards(store: PlanStore) -> None:
    set_up(store)
    step(store, "2025-09-10", kpis.record_value, "DIS-01", "60", period="2025-08")
    step(store, "2025-10-01", boards.add_board, "01/10/2025", "First")
    step(store, "2025-10-05", actions.edit_action, 2, due=date(2025, 12, 31), reason="Awaiting manager")
    step(store, "2025-10-06", kpis.record_value, "DIS-01", "70", period="2025-09")
    step(store, "2025-10-07", actions.complete_action, 3, "Done early")
    step(store, "2025-10-15", boards.add_board, "15/10/2025", "Second")
    step(store, "2025-10-20", actions.add_evidence, 3, "Review report", day=date(2025, 10, 20))
    step(store, "2025-10-21", actions.log_progress, 2, "Stuck", status=Status.BLOCKED)
    step(store, "2025-10-22", actions.edit_action, 2, due=date(2026, 1, 31), reason="Partner delay")

    latest = build_report(at(store, "2025-10-30")).movement
    assert latest is not None and latest.board is not None
    assert (latest.board.ref, latest.since) == ("B2", date(2025, 10, 15))
    # Worst first: A2 is now blocked, A1 has a day left at 0%, A3 has its evidence.
    assert [(c.view.action.ref, c.before_label, c.after_label, c.worse) for c in latest.rag_changes] == [
        ("A2", "Amber", "Red", True),
        ("A1", "Green", "Amber", True),
        ("A3", "Complete", "Blue", False),
    ]
    assert [(s.view.action.ref, s.old_due, s.new_due, s.reasons) for s in latest.slipped] == [
        ("A2", date(2025, 12, 31), date(2026, 1, 31), ["Partner delay"])
    ]
    assert [n.evidence.title for n in latest.new_evidence] == ["Review report"]
    assert latest.completed == [] and latest.kpi_changes == []

    earlier = build_report(at(store, "2025-10-30"), since="1/10/2025").movement
    assert earlier is not None and earlier.board is not None and earlier.board.ref == "B1"
    assert [v.action.ref for v in earlier.completed] == ["A3"]
    assert [(s.view.action.ref, s.old_due, s.new_due, s.reasons) for s in earlier.slipped] == [
        ("A2", date(2025, 12, 10), date(2026, 1, 31), ["Awaiting manager", "Partner delay"])
    ]
    assert [(k.status.kpi.key, k.before_value.text, k.status.latest.value.text if k.status.latest else "", k.trend)
            for k in earlier.kpi_changes] == [("DIS-01", "60%", "70%", "improving")]  # fmt: skip


def test_since_a_date_with_no_board_rebuilds_the_plan_then(store: PlanStore) -> None:
    set_up(store)
    step(store, "2025-10-05", actions.log_progress, 1, "Started", progress=20)
    movement = build_report(at(store, "2025-10-30"), since="2025-10-01").movement
    assert movement is not None
    assert (movement.board, movement.method, movement.since) == (None, "reconstructed", date(2025, 10, 1))
    with pytest.raises(ValidationError, match=r"--since takes a day before today \(30 Oct 2025\)"):
        build_report(at(store, "2025-10-30"), since="30/10/2025")
    with pytest.raises(ValidationError, match="31 Oct 2025 is still to come"):
        boards.state_as_of(at(store, "2025-10-30"), date(2025, 10, 31), PlanIndex(at(store, "2025-10-30")),
                           KpiBook.load(at(store, "2025-10-30")))  # fmt: skip


def test_no_board_before_today_means_no_movement(store: PlanStore) -> None:
    set_up(store)
    step(store, "2025-11-30", boards.add_board, "30/11/2025")
    step(store, "2025-11-30", boards.add_board, "14/01/2026")
    assert build_report(at(store, "2025-11-30")).movement is None
    assert build_report(at(store, "2025-12-01")).movement is not None
