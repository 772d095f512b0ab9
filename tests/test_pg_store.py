"""The PostgreSQL store (knowsley_tracker.pgstore.store.PgStore) beyond the shared
store contract: records as real rows and back, who wrote what, roles as the
database enforces them through the store, and the writer lock."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest
from helpers.pg_data import Plans, make_plans
from helpers.pg_server import PgDatabase

from knowsley_tracker.errors import PermissionDeniedError, StoreLockedError
from knowsley_tracker.models import (
    Action,
    Board,
    Evidence,
    EvidenceKind,
    FocusArea,
    Inspection,
    InspectionType,
    Intervention,
    InterventionType,
    Judgement,
    Kpi,
    KpiValue,
    LogEntry,
    Owner,
    Partner,
    PartnerKind,
    Rag,
    Recommendation,
    Status,
    Visit,
    VisitStatus,
)
from knowsley_tracker.pgstore.store import PgStore
from knowsley_tracker.store_interface import Eq

AT = datetime(2025, 11, 30, 9, 0, tzinfo=UTC)


@pytest.fixture
def plans(pg_db: PgDatabase) -> Plans:
    return make_plans(pg_db)


def open_store(plans: Plans, login: str, key: str = "plan-a", **kwargs: Any) -> PgStore:
    login = plans.logins.get(login, login)
    server = plans.db.server
    return PgStore.open(plans.db.conninfo(login, password=False), key, password=server.passwords[login], **kwargs)


def every_kind() -> list[Any]:
    """One record of every kind, each field away from its default where it can be."""
    day = date(2025, 11, 3)
    return [
        Inspection(
            start=date(2025, 9, 1),
            type=InspectionType.SHORT,
            end=date(2025, 9, 5),
            published=date(2025, 10, 10),
            judgement=Judgement.REQUIRES_IMPROVEMENT,
            areas={"leaders": Judgement.GOOD, "care-leavers": Judgement.INADEQUATE},
            title="Short inspection",
            report_url="https://reports.example/1",
            notes="Notes with 'quotes' and [bold]markup[/]",
            action_plan_due=date(2026, 1, 20),
            action_plan_sent=date(2026, 1, 10),
        ),
        FocusArea(key="DIS", name="Disabled children", lead_role="Head of Service", lead_name="Sam Carter"),
        Owner(role="Service Manager", name="Jo Example", email="jo@council.example", active=False),
        Recommendation(text="Oversight of disabled children's cases.", focus_id=2, inspection_id=2, report_ref="3"),
        Action(
            rec_id=2,
            title="Audit cases",
            due=date(2026, 1, 31),
            owner_id=2,
            original_due=date(2025, 12, 31),
            status=Status.BLOCKED,
            progress=35,
            success_measure="All cases audited",
            rag_override=Rag.AMBER,
            rag_reason="Waiting for the audit tool",
            created_at="2025-11-01T10:15:00+00:00",
            last_logged_at="2025-11-20T16:45:30+00:00",
            last_note="Tool ordered",
        ),
        LogEntry(
            action_id=3,
            at="2025-11-20T16:45:30+00:00",
            by="Jo Example",
            note="Tool ordered",
            changes={"progress": [0, 35]},
        ),
        Evidence(
            action_id=3,
            title="Purchase order",
            date=day,
            kind=EvidenceKind.DATA,
            link="https://docs.example/po",
            added_at="2025-11-03T08:00:00+00:00",
            by="Jo Example",
        ),
        Visit(date=date(2026, 2, 10), type=InspectionType.FOCUSED_VISIT, status=VisitStatus.CONFIRMED, themes=[1, 2]),
        Kpi(
            key="AUDITS",
            name="Cases audited",
            target=75.5,
            unit="%",
            lower_is_better=True,
            focus_id=2,
            rec_ids=[1, 2],
            target_date=date(2026, 3, 31),
            created_at="2025-11-01T10:15:00+00:00",
        ),
        KpiValue(
            kpi_id=2,
            period="2025-10",
            period_end=date(2025, 10, 31),
            value=61.25,
            numerator=49,
            denominator=80,
            note="October",
            recorded_at="2025-11-02T09:00:00+00:00",
            by="Performance team",
        ),
        Board(
            date=date(2025, 12, 4),
            note="December",
            snapshot_file="board-2025-12-04-t000002.json",
            snapshot_method="current",
            frozen_at="2025-12-04T17:00:00+00:00",
            rag_counts={"red": 2, "amber": 1},
            created_at="2025-11-01T10:15:00+00:00",
        ),
        Intervention(
            type=InterventionType.STATUTORY_DIRECTION,
            issued=date(2025, 3, 1),
            revised=[date(2025, 6, 1), date(2025, 9, 1)],
            lifted=date(2025, 12, 1),
            people=[{"role": "Commissioner", "name": "A. Adviser"}],
            note="Direction",
        ),
        Partner(
            name="Neighbouring council",
            purpose="Peer review",
            start=date(2025, 4, 1),
            kind=PartnerKind.SLIP,
            end=date(2026, 3, 31),
            rec_ids=[1, 2],
            focus_ids=[2],
        ),
    ]


def test_every_kind_of_record_round_trips_through_real_columns(plans: Plans) -> None:
    with open_store(plans, "editor", write=True) as store:
        with store.transaction(by="Performance team", what="every kind", at=AT):
            added = [store.add(record) for record in every_kind()]
        for record in added:
            back = store.get(type(record), record.id)
            assert back == record, type(record).__name__
    with plans.connect(plans.logins["editor"]) as conn:
        row = conn.execute(
            "SELECT due, status, progress, rag_override, last_logged_at FROM kt.actions WHERE plan_id = %s AND id = 3",
            (plans.a,),
        ).fetchone()
        assert row == (date(2026, 1, 31), "blocked", 35, "amber", datetime(2025, 11, 20, 16, 45, 30, tzinfo=UTC))
        row = conn.execute(
            "SELECT themes, pg_typeof(themes)::text FROM kt.visits WHERE plan_id = %s AND id = 2", (plans.a,)
        ).fetchone()
        assert row == ([1, 2], "integer[]")
        row = conn.execute(
            "SELECT revised, areas FROM kt.interventions i, kt.inspections s "
            "WHERE i.plan_id = %s AND s.plan_id = i.plan_id AND i.id = 2 AND s.id = 2",
            (plans.a,),
        ).fetchone()
        assert row == ([date(2025, 6, 1), date(2025, 9, 1)], {"leaders": "good", "care-leavers": "inadequate"})


def test_a_moment_comes_back_in_utc(plans: Plans) -> None:
    with open_store(plans, "editor", write=True) as store:
        with store.transaction(by="x", what="log"):
            entry = store.add(LogEntry(action_id=1, at="2025-11-30T10:00:00+01:00", by="x", note="BST-ish"))
        assert store.get(LogEntry, entry.id).at == "2025-11-30T09:00:00+00:00"
        with store.transaction(by="x", what="log"):
            entry = store.add(LogEntry(action_id=1, at="2025-11-30T10:00:00.250000+01:00", by="x", note="fraction"))
        assert store.get(LogEntry, entry.id).at == "2025-11-30T09:00:00.250000+00:00"
        assert [e.at for e in store.select(LogEntry, Eq("action_id", 1), since_id=1)] == [
            "2025-11-30T09:00:00+00:00",
            "2025-11-30T09:00:00.250000+00:00",
        ]


def test_a_plan_store_reads_only_its_own_plan(plans: Plans) -> None:
    with open_store(plans, "editor") as a, open_store(plans, plans.b_admin, "plan-b") as b:
        assert [x.title for x in a.all(Action)] == [x.title for x in b.all(Action)]  # same rows, numbered alike...
        assert a.plan.id != b.plan.id
        with (
            open_store(plans, plans.b_admin, "plan-b", write=True) as writer,
            writer.transaction(by="b", what="add"),
        ):
            writer.add(FocusArea(key="ONLY-B", name="Only in B"))
        assert a.count(FocusArea, Eq("key", "ONLY-B")) == 0  # ...but never each other's
        assert b.count(FocusArea) == 1  # b reads the state it opened on (a read snapshot)
    with open_store(plans, plans.b_admin, "plan-b") as b:
        assert b.count(FocusArea, Eq("key", "ONLY-B")) == 1


def test_who_made_a_change_is_the_login_with_whom_it_was_for_beside_it(plans: Plans) -> None:
    editor = plans.logins["editor"]
    with open_store(plans, "editor", write=True) as store:
        with store.transaction(by="Chair of the board", what="add area", at=AT):
            store.add(FocusArea(key="X", name="X"))
        with store.transaction(by=editor, what="add another", at=AT):
            store.add(FocusArea(key="Y", name="Y"))
        first, second = list(store.history())[-2:]
        assert (first.by, store.history_login(first.txn)) == ("Chair of the board", editor)
        assert (second.by, store.history_login(second.txn)) == (editor, editor)
    with plans.connect(editor) as conn:
        rows = conn.execute(
            "SELECT login, on_behalf_of FROM kt.history WHERE plan_id = %s AND what LIKE 'add %%' ORDER BY txn",
            (plans.a,),
        ).fetchall()
    assert rows == [(editor, "Chair of the board"), (editor, None)]


def test_an_officer_logs_progress_through_the_store_on_their_own_action_only(plans: Plans) -> None:
    officer = plans.logins["officer"]
    with open_store(plans, "officer", write=True) as store:
        with store.transaction(by=officer, what="log A1", at=AT):
            action = store.get(Action, 1)
            entry = store.add(LogEntry(action_id=1, at=AT.isoformat(), by=officer, note="Panel booked"))
            action.progress, action.last_note, action.last_logged_at = 60, "Panel booked", entry.at
            store.save(action)
        before = store.txn
        with pytest.raises(PermissionDeniedError) as caught, store.transaction(by=officer, what="log A2", at=AT):
            store.add(LogEntry(action_id=2, at=AT.isoformat(), by=officer, note="Not mine"))
        assert caught.value.exit_code == 14
        assert "row-level security" in str(caught.value)
        with pytest.raises(PermissionDeniedError), store.transaction(by=officer, what="rename A1", at=AT):
            action = store.get(Action, 1)
            action.title = "Renamed by an officer"
            store.save(action)
        assert store.txn == before
        assert store.get(Action, 1).progress == 60
        assert store.get(Action, 1).title == "Recruit four more personal advisers"
        assert store.count(LogEntry, Eq("action_id", 2)) == 0


def test_a_reader_cannot_open_a_plan_for_writing_nor_hold_writers_off(plans: Plans) -> None:
    """Opening for writing takes the plan's writer lock, which only officers and above
    may take: a reader is refused at once (exit 14), and neither a reader nor a login
    of another plan can hold the lock to keep the plan's writers out."""
    with pytest.raises(PermissionDeniedError, match="needs the officer role") as caught:
        open_store(plans, "reader", write=True)
    assert caught.value.exit_code == 14
    with plans.connect(plans.logins["reader"]) as reader, reader.transaction():
        with pytest.raises(psycopg.errors.InsufficientPrivilege), reader.transaction():
            reader.execute("SELECT kt.lock_plan(%s)", (plans.a,))
        with pytest.raises(psycopg.errors.InsufficientPrivilege), reader.transaction():
            reader.execute("SELECT 1 FROM kt.writers WHERE plan_id = %s FOR UPDATE", (plans.a,))
        reader.execute("SELECT pg_advisory_lock(19285, %s)", (plans.a,))  # the old lock: anyone may take it
        with (
            plans.connect(plans.b_admin) as other,
            pytest.raises(psycopg.errors.InsufficientPrivilege, match="officer"),
        ):
            other.execute("SELECT kt.lock_plan(%s)", (plans.a,))
        with open_store(plans, "editor", write=True, lock_timeout=1) as store:  # not held up by any of that
            with store.transaction(by="e", what="add", at=AT):
                store.add(FocusArea(key="NEW", name="New"))
            assert store.count(FocusArea) == 2


def test_one_writer_per_plan_readers_never_wait(plans: Plans) -> None:
    with open_store(plans, "editor", write=True):
        start = time.monotonic()
        with pytest.raises(StoreLockedError, match="busy") as caught:
            open_store(plans, "admin", write=True, lock_timeout=0.3)
        assert caught.value.exit_code == 7
        assert time.monotonic() - start < 5
        with open_store(plans, "reader") as reader:
            assert reader.count(Action) == 2
        with open_store(plans, plans.b_admin, "plan-b", write=True) as other:
            assert other.writable
    with open_store(plans, "admin", write=True, lock_timeout=0.3) as store:  # free again
        assert store.writable


def test_a_snapshot_is_kept_with_the_transaction(plans: Plans) -> None:
    with open_store(plans, "editor", write=True) as store:
        with pytest.raises(RuntimeError, match="boom"), store.transaction(by="e", what="freeze", at=AT):
            store.save_snapshot("board-2026-01-08", {"actions": [1, 2]})
            raise RuntimeError("boom")
        with store.transaction(by="e", what="freeze", at=AT):
            name = store.save_snapshot("board-2026-01-08", {"actions": [1, 2]})
            store.add(Board(date=date(2026, 1, 8), snapshot_file="x"))
        assert name == f"board-2026-01-08-t{store.txn:06d}.json"
        assert store.load_snapshot(name) == {"actions": [1, 2]}


def _comparable(document: dict[str, Any]) -> dict[str, Any]:
    """What moving a plan must keep: everything but the export's moment, the audit trail,
    the txn count, the store's schema version (the file's format or the database's), and
    the txn number in snapshot names (every store names a snapshot after the txn that
    wrote it, as a restore into a file store does too)."""
    import json
    import re

    text = re.sub(r"-t\d{6}\.json", "-tN.json", json.dumps(document))
    out: dict[str, Any] = {k: v for k, v in json.loads(text).items() if k not in ("exported_at", "history")}
    out["store"] = {k: v for k, v in out["store"].items() if k not in ("txn", "schema_version")}
    return out


def test_a_plan_moves_file_to_server_to_file_without_loss(
    pg_plan_store: PgStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The shipped example plan (every record kind, board snapshots, settings): exported from
    its JSON file, imported into a server plan, exported from there, imported into a new
    JSON file and exported again. All three exports agree."""
    import json

    from knowsley_tracker.dates import Clock
    from knowsley_tracker.service import json_exchange
    from knowsley_tracker.service.session import Session
    from knowsley_tracker.storage import Store

    clock = Clock.at("2025-11-30T09:00:00+00:00")
    example = Path(__file__).resolve().parent.parent / "examples" / "knowsley-2025" / "plan.json"
    with Store.open(example) as source:
        first = json_exchange.export_store(Session(store=source, clock=clock, user="Test Officer"))

    server = Session(store=pg_plan_store, clock=clock, user="Test Officer")
    with server.transaction("import"):
        json_exchange.import_store(server, json.dumps(first).encode(), "example.json")
    second = json_exchange.export_store(server)

    copy = Store.create(tmp_path / "copy.json", authority="Placeholder", now=clock.now())
    try:
        back = Session(store=copy, clock=clock, user="Test Officer")
        with back.transaction("import"):
            json_exchange.import_store(back, json.dumps(second).encode(), "server.json")
        third = json_exchange.export_store(back)
    finally:
        copy.close()

    assert sum(len(rows) for rows in first["records"].values()) > 100
    assert first["snapshots"]
    # Compared as JSON text, so that 20 against 20.0 or "1" against 1 would show.
    expected = json.dumps(_comparable(first), sort_keys=True)
    assert json.dumps(_comparable(second), sort_keys=True) == expected
    assert json.dumps(_comparable(third), sort_keys=True) == expected


def test_a_command_broken_off_by_a_deadlock_is_run_again_whole(plans: Plans) -> None:
    """A client writing through SQL deadlocks with a kt command on the store: the server
    breaks kt's transaction, nothing of it is saved, and retrying() runs the command
    again from opening the store; the second run succeeds once the client has gone."""
    import threading

    from knowsley_tracker.pgstore.connection import ServerBusyError
    from knowsley_tracker.pgstore.writing import retrying

    editor = plans.logins["editor"]
    runs: list[int] = []
    client_has_a2 = threading.Event()

    def client_side() -> None:
        with plans.connect(editor) as client, client.transaction():
            client.execute("UPDATE kt.actions SET last_note = 'client' WHERE plan_id = %s AND id = 2", (plans.a,))
            client_has_a2.set()
            # Only once kt's command waits for A2 (holding A1) does the client ask for A1:
            # kt waited first, so the server's deadlock check breaks kt's transaction, not
            # the client's, however loaded the machine is.
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                client.execute("SELECT pg_stat_clear_snapshot()")
                row = client.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
                ).fetchone()
                if row is not None and row[0] > 0:
                    break
                time.sleep(0.02)
            client.execute("UPDATE kt.actions SET last_note = 'client' WHERE plan_id = %s AND id = 1", (plans.a,))

    def command() -> int:
        runs.append(1)
        with open_store(plans, "editor", write=True) as store:
            with store.transaction(by=editor, what="note both", at=AT):
                for ref in (1, 2):
                    action = store.get(Action, ref)
                    action.last_note = "kt"
                    store.save(action)
            return store.txn

    thread = threading.Thread(target=client_side)
    thread.start()
    assert client_has_a2.wait(10)
    with pytest.raises(ServerBusyError, match="deadlock detected"):
        command()  # without retrying: busy, exit 7
    thread.join(20)
    assert ServerBusyError("x").exit_code == 7
    runs.clear()
    thread = threading.Thread(target=client_side)
    thread.start()
    assert client_has_a2.wait(10)
    txn = retrying(command)
    thread.join(20)
    assert len(runs) == 2
    with open_store(plans, "editor") as store:
        assert [a.last_note for a in store.all(Action)] == ["kt", "kt"]
        assert store.txn == txn == 2  # one history entry: the run that committed


def test_closing_a_writer_lets_go_of_the_plan_and_keeps_nothing_uncommitted(plans: Plans) -> None:
    store = open_store(plans, "editor", write=True)
    conn = store._conn  # the store's own connection: still open until close
    store.close()
    assert conn.closed
    with open_store(plans, "admin", write=True, lock_timeout=0.3) as again:
        assert again.count(FocusArea) == 1
    # A writer whose command failed before committing: its changes are gone with it.
    with (
        pytest.raises(RuntimeError, match="half done"),
        open_store(plans, "editor", write=True) as store,
        store.transaction(by="e", what="half", at=AT),
    ):
        store.add(FocusArea(key="HALF", name="Half done"))
        raise RuntimeError("half done")
    with open_store(plans, "admin", write=True, lock_timeout=0.3) as again:
        assert again.count(FocusArea, Eq("key", "HALF")) == 0
