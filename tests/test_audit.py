"""The safety use-cases in knowsley_tracker.service.audit, on stores built in memory."""

from __future__ import annotations

from contextlib import ExitStack
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from knowsley_tracker import storage
from knowsley_tracker.dates import Clock
from knowsley_tracker.errors import ConflictError, ValidationError
from knowsley_tracker.models import (
    Action,
    Evidence,
    FocusArea,
    Inspection,
    Kpi,
    KpiValue,
    LogEntry,
    Owner,
    Partner,
    Recommendation,
    Visit,
)
from knowsley_tracker.service import audit, doctor
from knowsley_tracker.service.session import Session
from knowsley_tracker.storage import FORMAT, SCHEMA_VERSION, Store, StorePaths, encode, file_format
from knowsley_tracker.store_interface import PlanStore

NOW = "2025-11-30T09:00:00+00:00"


def make_store(path: Path, **tables: dict[str, dict[str, Any]]) -> Store:
    """A store file holding exactly these rows, with counters that match."""
    counters = {name: max((int(k) for k in rows), default=0) for name, rows in tables.items()}
    meta = {
        "format": FORMAT,
        "schema_version": SCHEMA_VERSION,
        "authority": "Test Council",
        "created_at": NOW,
        "txn": 0,
        "counters": counters,
        "settings": {},
        "segments": {},
    }
    data: dict[str, Any] = {"_meta": {"1": meta}, **tables}
    path.write_bytes(encode(data))
    path.chmod(0o600)
    return Store(StorePaths(path), storage.read_store_file(path), writable=False)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("A12", ("actions", 12)), ("a12", ("actions", 12)), ("KV3", ("kpi_values", 3)), ("t15", ("history", 15))],
)
def test_record_refs(text: str, expected: tuple[str, int]) -> None:
    assert audit.parse_record_ref(text) == expected


@pytest.mark.parametrize("text", ["A0", "Z1", "12", "A-1", ""])
def test_bad_record_refs(text: str) -> None:
    with pytest.raises(ValidationError, match="is not a record id"):
        audit.parse_record_ref(text)


def test_every_kind_of_reference_is_checked(plan_store: PlanStore, request: pytest.FixtureRequest) -> None:
    store = plan_store
    day = date(2025, 1, 6)
    server = request.node.callspec.params["plan_store"] == "postgresql"
    with ExitStack() as refused:
        if server:  # the database's foreign keys refuse at commit what a damaged file could hold
            refused.enter_context(pytest.raises(ConflictError, match="violates foreign key constraint"))
        _store_dangling_references(store, day)
    if server:
        assert (store.txn, store.count(Recommendation), audit.reference_problems(store)) == (0, 0, [])
        return
    _check_dangling_references(store)


def _store_dangling_references(store: PlanStore, day: date) -> None:
    with store.transaction(by="Test Officer", what="records pointing at records that do not exist"):
        for record in (
            Inspection(id=1, start=day),
            FocusArea(id=1, key="F", name="Focus"),
            Owner(id=1, role="Owner"),
            Recommendation(id=1, text="R", focus_id=1, inspection_id=1),
            Recommendation(id=2, text="R", focus_id=5, inspection_id=6),
            Action(id=1, rec_id=1, title="A", due=day, owner_id=1),
            Action(id=2, rec_id=7, title="A", due=day, owner_id=8),
            LogEntry(id=1, action_id=1, at=NOW, by="x"),
            LogEntry(id=2, action_id=9, at=NOW, by="x"),
            Evidence(id=1, action_id=10, title="E", date=day),
            Kpi(id=1, key="K1", name="K", target=1, focus_id=1, rec_ids=[1, 11]),
            Kpi(id=2, key="K2", name="K", target=1, focus_id=12, rec_ids=[]),
            KpiValue(id=1, kpi_id=1, period="2025-01", period_end=day, value=1),
            KpiValue(id=2, kpi_id=13, period="2025-01", period_end=day, value=1),
            Visit(id=1, date=day, themes=[1, 14]),
            Partner(id=1, name="P", purpose="Audit", start=day, rec_ids=[15], focus_ids=[1, 16]),
        ):
            store.add_with_id(record)


def _check_dangling_references(store: PlanStore) -> None:
    found = [p.message for p in audit.reference_problems(store)]
    assert found == [
        "A2 refers to recommendation R7, which does not exist.",
        "A2 refers to owner O8, which does not exist.",
        "L2 refers to action A9, which does not exist.",
        "E1 refers to action A10, which does not exist.",
        "R2 refers to focus area F5, which does not exist.",
        "R2 refers to inspection I6, which does not exist.",
        "K2 refers to focus area F12, which does not exist.",
        "K1 refers to recommendation R11, which does not exist.",
        "KV2 refers to KPI K13, which does not exist.",
        "V1 refers to focus area F14, which does not exist.",
        "P1 refers to recommendation R15, which does not exist.",
        "P1 refers to focus area F16, which does not exist.",
    ]
    # Limited to some records: only references to and from them.
    assert [p.message for p in audit.reference_problems(store, {("actions", 9)})] == [
        "L2 refers to action A9, which does not exist."
    ]
    assert [p.message for p in audit.reference_problems(store, {("actions", 2)})] == [
        "A2 refers to recommendation R7, which does not exist.",
        "A2 refers to owner O8, which does not exist.",
    ]


def test_doctor_reports_rows_that_cannot_be_read(db: Path) -> None:
    make_store(
        db,
        recommendations={"1": {"text": "A recommendation"}},
        actions={"1": {"rec_id": 1, "title": "Audit", "due": "31/02/2026"}},
    )
    report = audit.diagnose(db)
    assert [p.message for p in report.problems] == [
        "A1 (in the store's actions table) has due '31/02/2026', which is not a date (YYYY-MM-DD)."
    ]
    assert (report.healthy, report.exit_code) == (False, 1)


def test_doctor_warns_about_an_older_schema(db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    make_store(db)
    monkeypatch.setattr(file_format, "SCHEMA_VERSION", SCHEMA_VERSION + 1)
    monkeypatch.setattr(file_format, "MIGRATIONS", {SCHEMA_VERSION: lambda data: None})
    monkeypatch.setattr(doctor, "SCHEMA_VERSION", SCHEMA_VERSION + 1)
    report = audit.diagnose(db)
    [warning] = report.problems
    assert (warning.severity, warning.fixable, report.healthy, report.exit_code) == ("warning", True, True, 0)
    assert warning.message == (
        f"The store uses schema version {SCHEMA_VERSION}; this knowsley-tracker uses {SCHEMA_VERSION + 1}."
    )


def test_doctor_checks_the_log_summary_on_each_action(db: Path) -> None:
    make_store(
        db,
        recommendations={"1": {"text": "R"}},
        actions={
            "1": {"rec_id": 1, "title": "A", "due": "2026-01-01", "last_logged_at": "2025-11-02T10:00:00+00:00",
                  "last_note": "second"},
            "2": {"rec_id": 1, "title": "B", "due": "2026-01-01", "last_logged_at": "2025-11-02T10:00:00+00:00",
                  "last_note": "stale"},
        },
        log={
            "1": {"action_id": 1, "at": "2025-11-01T10:00:00+00:00", "by": "x", "note": "first", "changes": {}},
            "2": {"action_id": 1, "at": "2025-11-02T10:00:00+00:00", "by": "x", "note": "second", "changes": {}},
            "3": {"action_id": 1, "at": "2025-11-02T10:00:00+00:00", "by": "x", "note": "", "changes": {}},
            "4": {"action_id": 2, "at": "2025-11-02T10:00:00+00:00", "by": "x", "note": "fresh", "changes": {}},
        },
    )  # fmt: skip
    assert [p.message for p in audit.diagnose(db).problems] == ["A2's latest note does not match its log."]


def test_history_defaults_to_the_last_twenty_commands(plan_store: PlanStore) -> None:
    store = plan_store
    session = Session(store=store, clock=Clock.at(NOW), user="Test Officer")
    for n in range(25):
        with session.transaction(f"config set backups {n}"):
            store.set_setting("backups", n + 1)
    entries = audit.history(session)
    assert [e.txn for e in entries] == list(range(6, 26))
    assert entries[-1].changes[0].fields == [audit.FieldChange("settings.backups", 24, 25)]


def test_undo_refuses_a_command_that_changed_nothing(store: Store) -> None:
    with store.transaction(by="Test Officer", what="nothing"):
        store.set_setting("backups", 3)
    store.data["history"]["1"]["changes"] = []
    session = Session(store=store, clock=Clock.at(NOW), user="Test Officer")
    with pytest.raises(ConflictError, match=r"txn 1 \(nothing\) changed nothing"), session.transaction("undo"):
        audit.undo(session)
