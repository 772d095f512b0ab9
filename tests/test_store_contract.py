"""The storage interface's contract (knowsley_tracker.store_interface.PlanStore),
checked on every implementation in conftest.STORE_KINDS: a new store passes
these, and the service tests, before anything else uses it."""

from __future__ import annotations

from contextlib import AbstractContextManager
from datetime import UTC, date, datetime
from typing import Any

import pytest

from knowsley_tracker.errors import ConflictError, NotFoundError, RecordNotFoundError
from knowsley_tracker.models import (
    Action,
    Evidence,
    EvidenceKind,
    FocusArea,
    Kpi,
    LogEntry,
    Rag,
    Recommendation,
    Status,
)
from knowsley_tracker.store_interface import (
    META,
    Change,
    ChangeConflict,
    Contains,
    Eq,
    In,
    NotIn,
    PlanStore,
)

AT = datetime(2025, 11, 30, 9, 0, tzinfo=UTC)


def write(store: PlanStore, what: str = "test", by: str = "Test Officer") -> AbstractContextManager[Any]:
    return store.transaction(by=by, what=what, at=AT)


def add_plan(store: PlanStore) -> None:
    """R1 with three actions in different states, evidence on A1 and A3, a KPI on R1."""
    with write(store, "set up"):
        store.add(Recommendation(text="First recommendation"))
        store.add(Action(rec_id=1, title="Audit", due=date(2025, 10, 31)))
        store.add(Action(rec_id=1, title="Recruit", due=date(2025, 12, 14), status=Status.COMPLETE, progress=100))
        store.add(Action(rec_id=1, title="Train", due=date(2026, 1, 31), status=Status.BLOCKED))
        store.add(Evidence(action_id=1, title="Minutes", date=date(2025, 11, 1), kind=EvidenceKind.MINUTES))
        store.add(Evidence(action_id=3, title="Plan", date=date(2025, 11, 2)))
        store.add(Evidence(action_id=1, title="Audit report", date=date(2025, 11, 3)))
        store.add(Kpi(key="K-1", name="Caseloads", target=20, rec_ids=[1]))


def test_records_come_back_typed_and_equal(plan_store: PlanStore) -> None:
    add_plan(plan_store)
    action = plan_store.get(Action, 2)
    assert action == Action(
        id=2,
        rec_id=1,
        title="Recruit",
        due=date(2025, 12, 14),
        original_due=date(2025, 12, 14),
        status=Status.COMPLETE,
        progress=100,
    )
    assert type(action.due) is date and action.status is Status.COMPLETE
    assert plan_store.find(Action, 9) is None
    with pytest.raises(RecordNotFoundError, match=r"^No action A9\.$") as missing:
        plan_store.get(Action, 9)
    assert (missing.value.kind, missing.value.record_id, missing.value.exit_code) == ("actions", 9, 3)
    with pytest.raises(NotFoundError, match=r"^No focus area F1\.$"):
        plan_store.get(FocusArea, 1)
    assert [a.title for a in plan_store.all(Action)] == ["Audit", "Recruit", "Train"]


def test_ids_are_never_reused(plan_store: PlanStore) -> None:
    add_plan(plan_store)
    with write(plan_store):
        plan_store.delete(Evidence, 3)
    assert plan_store.next_id(Evidence.TABLE) == 4
    with write(plan_store):
        added = plan_store.add(Evidence(action_id=2, title="Again", date=date(2025, 11, 4)))
    assert added.id == 4
    assert plan_store.counters()[Evidence.TABLE] == 4
    assert (plan_store.highest_id(Evidence), plan_store.exists(Evidence, 3), plan_store.exists(Evidence, 4)) == (
        4,
        False,
        True,
    )
    with write(plan_store), pytest.raises(ConflictError, match="E4 already exists"):
        plan_store.add_with_id(Evidence(id=4, action_id=2, title="Clash", date=date(2025, 11, 4)))


def test_filters(plan_store: PlanStore) -> None:
    add_plan(plan_store)
    closed = (Status.COMPLETE, Status.DROPPED)
    assert [a.id for a in plan_store.select(Action, NotIn("status", closed))] == [1, 3]
    assert [a.id for a in plan_store.select(Action, In("status", [Status.BLOCKED, Status.COMPLETE]))] == [2, 3]
    assert [a.id for a in plan_store.select(Action, Eq("due", date(2025, 10, 31)))] == [1]
    assert [e.id for e in plan_store.select(Evidence, Eq("action_id", 1), Eq("kind", EvidenceKind.DOCUMENT))] == [3]
    assert [k.key for k in plan_store.select(Kpi, Contains("rec_ids", 1))] == ["K-1"]
    assert list(plan_store.select(Kpi, Contains("rec_ids", 2))) == []
    assert [a.id for a in plan_store.select(Action, newest_first=True)] == [3, 2, 1]
    assert [a.id for a in plan_store.select(Action, newest_first=True, limit=2)] == [3, 2]
    assert [a.id for a in plan_store.select(Action, since_id=1)] == [2, 3]
    assert [a.id for a in plan_store.select(Action, since_id=1, newest_first=True)] == [3, 2]
    assert plan_store.count(Action) == 3
    assert plan_store.count(Action, Eq("status", Status.NOT_STARTED)) == 1
    assert plan_store.count_by(Evidence, "action_id") == {1: 2, 3: 1}
    assert plan_store.count_by(Evidence, "action_id", Eq("kind", EvidenceKind.MINUTES)) == {1: 1}


def test_a_failed_transaction_changes_nothing(plan_store: PlanStore) -> None:
    add_plan(plan_store)
    txn = plan_store.txn
    with pytest.raises(RuntimeError, match="boom"), write(plan_store):
        plan_store.add(Action(rec_id=1, title="Never saved", due=date(2026, 1, 1)))
        action = plan_store.get(Action, 1)
        action.title = "Renamed"
        plan_store.save(action)
        plan_store.delete(Evidence, 1)
        plan_store.set_setting("backups", 3)
        plan_store.raise_counter(Action.TABLE, 50)
        raise RuntimeError("boom")
    assert plan_store.txn == txn
    assert plan_store.get(Action, 1).title == "Audit"
    assert plan_store.exists(Evidence, 1) and not plan_store.exists(Action, 4)
    assert (plan_store.setting("backups", None), plan_store.next_id(Action.TABLE)) == (None, 4)
    assert [e.txn for e in plan_store.history()] == [txn]


def test_changes_need_a_transaction(plan_store: PlanStore) -> None:
    with pytest.raises(RuntimeError, match="inside store.transaction"):
        plan_store.add(Recommendation(text="Outside"))
    with pytest.raises(RuntimeError, match="inside store.transaction"):
        plan_store.set_setting("backups", 2)


def test_a_record_is_the_callers_copy_until_saved(plan_store: PlanStore) -> None:
    add_plan(plan_store)
    action = plan_store.get(Action, 1)
    action.title = "Changed here only"
    action.due = date(2026, 1, 1)
    assert plan_store.get(Action, 1).title == "Audit"
    with write(plan_store, "edit"):
        diff = plan_store.save(action)
        assert plan_store.save(action) == {}
    assert diff == {"title": ["Audit", "Changed here only"], "due": ["2025-10-31", "2026-01-01"]}
    assert plan_store.get(Action, 1).due == date(2026, 1, 1)
    with write(plan_store), pytest.raises(NotFoundError, match=r"^No action A7\.$"):
        plan_store.save(Action(id=7, rec_id=1, title="Gone", due=date(2026, 1, 1)))


def test_each_transaction_is_one_history_entry(plan_store: PlanStore) -> None:
    add_plan(plan_store)
    extra: dict[str, object] = {}
    with plan_store.transaction(by="Jo Example", what="log A1", extra=extra, at=AT):
        plan_store.add(LogEntry(action_id=1, at="2025-11-30T09:00:00+00:00", by="Jo Example", note="Half done"))
        action = plan_store.get(Action, 1)
        action.progress = 50
        plan_store.save(action)
        assert [c.op for c in plan_store.pending_changes()] == ["create", "update"]
        extra["note"] = "added while the command ran"
    entry = plan_store.history_entry(plan_store.txn)
    assert entry is not None
    assert (entry.txn, entry.at, entry.by, entry.what) == (2, "2025-11-30T09:00:00+00:00", "Jo Example", "log A1")
    assert entry.extra == {"note": "added while the command ran"}
    assert entry.changes == (
        Change("create", LogEntry.TABLE, 1, row=None),  # log entries are not copied into the history
        Change("update", Action.TABLE, 1, diff={"progress": [0, 50]}),
    )
    assert [e.txn for e in plan_store.history(touching=(Action.TABLE, 1))] == [1, 2]
    assert [e.txn for e in plan_store.history(touching=(Action.TABLE, 2))] == [1]
    assert [e.txn for e in plan_store.history(newest_first=True)] == [2, 1]
    assert [e.txn for e in plan_store.history(since_txn=1)] == [2]
    assert [e.txn for e in plan_store.history(since=datetime(2025, 12, 1, tzinfo=UTC))] == []
    assert plan_store.history_entry(9) is None
    with write(plan_store, "nothing"):
        pass
    assert plan_store.txn == 2, "a transaction that changed nothing is not recorded"


def test_plan_values_are_changes_too(plan_store: PlanStore) -> None:
    with write(plan_store, "settings"):
        plan_store.set_setting("backups", 5)
        plan_store.set_authority("Another Council")
        plan_store.set_created_at("2024-01-01T00:00:00+00:00")
        assert plan_store.raise_counter(Action.TABLE, 10)
        assert not plan_store.raise_counter(Action.TABLE, 3)
    assert (plan_store.setting("backups", 10), plan_store.settings()) == (5, {"backups": 5})
    assert (plan_store.authority, plan_store.created_at) == ("Another Council", "2024-01-01T00:00:00+00:00")
    assert plan_store.next_id(Action.TABLE) == 11
    entry = plan_store.history_entry(1)
    assert entry is not None
    assert [(c.table, dict(c.diff or {})) for c in entry.changes] == [
        (META, {"settings.backups": [None, 5]}),
        (META, {"authority": ["Test Council", "Another Council"]}),
        (META, {"created_at": ["2025-11-30T09:00:00+00:00", "2024-01-01T00:00:00+00:00"]}),
        (META, {"counters.actions": [0, 10]}),
    ]


def test_reverting_changes_and_refusing_to_overwrite_later_ones(plan_store: PlanStore) -> None:
    add_plan(plan_store)
    with write(plan_store, "edit"):
        action = plan_store.get(Action, 1)
        action.rag_override, action.rag_reason = Rag.RED, "Missed twice"
        plan_store.save(action)
        plan_store.delete(Evidence, 2)
        plan_store.set_setting("backups", 4)
        plan_store.raise_counter(Action.TABLE, 20)
    edit = plan_store.history_entry(2)
    assert edit is not None
    with write(plan_store, "undo"):
        for change in reversed(edit.changes):
            plan_store.revert(change)
        reverted = plan_store.pending_changes()
    assert plan_store.get(Action, 1).rag_override is None
    assert plan_store.get(Evidence, 2).title == "Plan"
    assert plan_store.setting("backups", None) is None
    assert plan_store.next_id(Action.TABLE) == 21, "id counters never move back"
    assert [(c.op, c.table) for c in reverted] == [("update", META), ("create", "evidence"), ("update", "actions")]

    # Reverting the set-up's creation of A2 after A2 has changed since is refused.
    with write(plan_store, "edit again"):
        action = plan_store.get(Action, 2)
        action.title = "Recruit four"
        plan_store.save(action)
    setup = plan_store.history_entry(1)
    assert setup is not None
    created = next(c for c in setup.changes if c.key == (Action.TABLE, 2))
    with write(plan_store, "undo"), pytest.raises(ChangeConflict) as refused:
        plan_store.revert(created)
    assert (refused.value.table, refused.value.record_id, refused.value.field) == ("actions", 2, "title")
    assert str(refused.value) == "Cannot undo: A2 has changed since (its title is different)."


def test_snapshots_are_kept_with_the_transaction(plan_store: PlanStore) -> None:
    with write(plan_store, "board"):
        name = plan_store.save_snapshot("board-2025-11-30-B1", {"kind": "snapshot", "actions": {"1": {"rag": "red"}}})
    assert name == "board-2025-11-30-B1-t000001.json"
    assert plan_store.load_snapshot(name) == {"kind": "snapshot", "actions": {"1": {"rag": "red"}}}
    assert plan_store.location and plan_store.writable and plan_store.schema_version >= 1
