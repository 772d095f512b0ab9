"""Concurrent writers on the PostgreSQL store: one command, one transaction, under
the plan's writer lock (knowsley_tracker/pgstore/writing.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from helpers import fault_counts
from helpers.pg_data import Plans, make_plans
from helpers.pg_server import PgDatabase

from knowsley_tracker.errors import StoreLockedError
from knowsley_tracker.pgstore.writing import plan_write, run_write

WRITER = Path(__file__).resolve().parent / "helpers" / "pg_writer.py"
PROCESSES = 16
COMMANDS = 5  # each; 80 in all keeps A1's progress (the shared counter) within 0..100


@pytest.fixture
def plans(pg_db: PgDatabase) -> Plans:
    return make_plans(pg_db)


def writer_env(plans: Plans, login: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    server = plans.db.server
    env.update(
        PGHOST=server.socket_dir,
        PGPORT=str(server.port),
        PGDATABASE=plans.db.name,
        PGUSER=login,
        PGPASSWORD=server.passwords[login],
    )
    return env


@pytest.mark.slow
def test_concurrent_writers_lose_nothing_and_never_share_an_id(plans: Plans) -> None:
    """16 processes as the same officer, 5 commands each, all at once. Each command reads
    A1's progress and writes it one higher (a lost update would show as two commands
    reading the same value), appends a log entry and records itself in the history."""
    officer = plans.logins["officer"]
    with plans.connect(officer) as conn:
        conn.execute("UPDATE kt.actions SET progress = 0 WHERE plan_id = %s AND id = 1", (plans.a,))
    env = writer_env(plans, officer)
    procs = [
        subprocess.Popen(
            [sys.executable, str(WRITER), str(plans.a), str(COMMANDS)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for _ in range(PROCESSES)
    ]
    results: list[dict[str, Any]] = []
    try:
        for proc in procs:
            assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        for proc in procs:  # all connected: let them go together
            assert proc.stdin is not None
            proc.stdin.write("go\n")
            proc.stdin.flush()
        for proc in procs:
            out, err = proc.communicate(timeout=300)
            assert proc.returncode == 0, err
            results += [json.loads(line) for line in out.splitlines()]
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    fault_counts.add("concurrent processes", PROCESSES)
    total = PROCESSES * COMMANDS
    assert len(results) == total  # every command acknowledged...
    with plans.connect(plans.a_admin) as conn:
        progress = conn.execute("SELECT progress FROM kt.actions WHERE plan_id = %s AND id = 1", (plans.a,)).fetchone()
        log = conn.execute(
            "SELECT id, changes, login FROM kt.log WHERE plan_id = %s AND note LIKE 'step by %%' ORDER BY id",
            (plans.a,),
        ).fetchall()
        history = conn.execute(
            "SELECT txn FROM kt.history WHERE plan_id = %s AND what = 'log A1' ORDER BY txn", (plans.a,)
        ).fetchall()
        counters = dict(conn.execute("SELECT kind, last FROM kt.counters WHERE plan_id = %s", (plans.a,)).fetchall())
    # ...and every one is there: no lost update, no lost entry.
    assert progress == (total,)
    assert sorted(r["old"] for r in results) == list(range(total))
    assert sorted(entry[1]["progress"][0] for entry in log) == list(range(total))
    # Ids: each handed out once, in one unbroken run after the plan's existing L1 and t1.
    assert [entry[0] for entry in log] == list(range(2, total + 2))
    assert sorted(r["log"] for r in results) == [entry[0] for entry in log]
    assert [h[0] for h in history] == list(range(2, total + 2))
    assert sorted(r["txn"] for r in results) == [h[0] for h in history]
    assert counters["log"] == total + 1 and counters["history"] == total + 1
    assert {entry[2] for entry in log} == {officer}
    times = sorted(r["seconds"] for r in results)
    print(
        f"\n{total} commands from {PROCESSES} processes: median {times[total // 2] * 1000:.1f} ms, max {times[-1] * 1000:.1f} ms"
    )


def test_a_writer_waits_for_the_plan_then_gives_up_as_busy(plans: Plans) -> None:
    """While one command holds plan A, another times out with exit 7 and changes nothing;
    a writer to plan B is not held up at all."""
    editor = plans.logins["editor"]
    with plans.connect(editor) as holder, plans.connect(editor) as waiter, plans.connect(plans.b_admin) as other:
        with plan_write(holder, plans.a):
            holder.execute("UPDATE kt.actions SET progress = 10 WHERE plan_id = %s AND id = 2", (plans.a,))
            start = time.monotonic()
            with pytest.raises(
                StoreLockedError, match="The plan is busy: another kt command held it for 0.3 s"
            ) as caught:
                run_write(
                    waiter,
                    plans.a,
                    lambda c: c.execute("UPDATE kt.actions SET progress = 99 WHERE plan_id = %s", (plans.a,)),
                    lock_timeout=0.3,
                )
            assert caught.value.exit_code == 7
            assert 0.25 < time.monotonic() - start < 5
            run_write(
                other, plans.b, lambda c: c.execute("UPDATE kt.actions SET progress = 5 WHERE plan_id = %s", (plans.b,))
            )
        rows = waiter.execute("SELECT id, progress FROM kt.actions WHERE plan_id = %s ORDER BY id", (plans.a,))
        assert rows.fetchall() == [(1, 0), (2, 10)]


def test_a_writer_gets_the_plan_as_soon_as_it_is_free(plans: Plans) -> None:
    editor = plans.logins["editor"]
    with plans.connect(editor) as holder, plans.connect(editor) as waiter:
        release = threading.Event()
        held = threading.Event()

        def hold() -> None:
            with plan_write(holder, plans.a):
                held.set()
                release.wait(10)

        thread = threading.Thread(target=hold)
        thread.start()
        held.wait(10)
        threading.Timer(0.3, release.set).start()
        start = time.monotonic()
        run_write(waiter, plans.a, lambda c: c.execute("SELECT 1"), lock_timeout=10)
        waited = time.monotonic() - start
        thread.join(10)
    assert 0.2 < waited < 5


def _fail_to_serialise(conn: Any) -> None:
    conn.execute(
        "DO $$ BEGIN RAISE EXCEPTION 'could not serialize access' USING ERRCODE = 'serialization_failure'; END $$"
    )


def test_serialisation_failures_are_retried_then_busy(plans: Plans) -> None:
    editor = plans.logins["editor"]
    attempts: list[int] = []

    def flaky(conn: Any) -> str:
        attempts.append(1)
        conn.execute("UPDATE kt.actions SET progress = progress + 1 WHERE plan_id = %s AND id = 2", (plans.a,))
        if len(attempts) < 3:
            _fail_to_serialise(conn)
        return "done"

    with plans.connect(editor) as conn:
        assert run_write(conn, plans.a, flaky, retries=3) == "done"
        assert len(attempts) == 3
        # Only the attempt that committed counts.
        assert conn.execute("SELECT progress FROM kt.actions WHERE plan_id = %s AND id = 2", (plans.a,)).fetchone() == (
            1,
        )

        attempts.clear()

        def always(conn: Any) -> None:
            attempts.append(1)
            conn.execute("UPDATE kt.actions SET progress = 50 WHERE plan_id = %s AND id = 2", (plans.a,))
            _fail_to_serialise(conn)

        with pytest.raises(StoreLockedError, match="after 3 tries") as caught:
            run_write(conn, plans.a, always, retries=2)
        assert caught.value.exit_code == 7
        assert len(attempts) == 3
        assert conn.execute("SELECT progress FROM kt.actions WHERE plan_id = %s AND id = 2", (plans.a,)).fetchone() == (
            1,
        )


def test_a_deadlock_against_another_client_is_retried(plans: Plans) -> None:
    """A client writing through SQL, without kt's lock, can deadlock with a kt command.
    Here kt waits first, so the server (deadlock_timeout 1 s) aborts kt's transaction;
    kt runs the command again, after the client has committed."""
    editor = plans.logins["editor"]
    attempts: list[int] = []
    client_errors: list[BaseException] = []
    client_has_a2 = threading.Event()
    with plans.connect(editor) as kt_conn, plans.connect(editor) as client:

        def client_side() -> None:
            try:
                with client.transaction():
                    client.execute(
                        "UPDATE kt.actions SET last_note = 'client' WHERE plan_id = %s AND id = 2", (plans.a,)
                    )
                    client_has_a2.set()
                    time.sleep(0.5)  # kt now holds A1 and waits for A2
                    client.execute(
                        "UPDATE kt.actions SET last_note = 'client' WHERE plan_id = %s AND id = 1", (plans.a,)
                    )
            except BaseException as exc:  # reported below
                client_errors.append(exc)

        def command(conn: Any) -> None:
            attempts.append(1)
            conn.execute("UPDATE kt.actions SET last_note = 'kt' WHERE plan_id = %s AND id = 1", (plans.a,))
            conn.execute("UPDATE kt.actions SET last_note = 'kt' WHERE plan_id = %s AND id = 2", (plans.a,))

        thread = threading.Thread(target=client_side)
        thread.start()
        assert client_has_a2.wait(10)
        run_write(kt_conn, plans.a, command)
        thread.join(20)
        final = kt_conn.execute("SELECT id, last_note FROM kt.actions WHERE plan_id = %s ORDER BY id", (plans.a,))
        assert final.fetchall() == [(1, "kt"), (2, "kt")]
    assert client_errors == []
    assert len(attempts) == 2


def test_a_command_that_did_something_outside_the_store_is_not_run_again() -> None:
    """retrying() asks what the broken-off run had done outside the store: anything (an
    e-mail sent, a file written) and it does not run the command again, but says busy."""
    from knowsley_tracker.pgstore.connection import ServerBusyError
    from knowsley_tracker.pgstore.writing import retrying

    runs: list[int] = []
    done: list[str] = []

    def command() -> str:
        runs.append(1)
        if len(runs) == 1:
            done.append("written report.pdf")
            raise ServerBusyError("The plan is busy: deadlock detected. Try again.")
        return "second run"

    with pytest.raises(StoreLockedError) as caught:
        retrying(command, done=lambda: list(done))
    assert runs == [1]
    assert caught.value.exit_code == 7
    assert caught.value.message == (
        "The plan is busy: the server broke this command off (deadlock detected) after it had written report.pdf; "
        "kt did not run it again, which would do that twice. What the server broke off was not saved: check, then "
        "run the command again."
    )

    def quiet() -> str:  # broken off before it did anything outside: run again
        runs.append(1)
        if len(runs) == 1:
            raise ServerBusyError("The plan is busy: deadlock detected. Try again.")
        return "second run"

    runs.clear()
    done.clear()
    assert retrying(quiet, done=lambda: list(done)) == "second run"
    assert runs == [1, 1]


def test_standard_input_is_read_once_per_command(monkeypatch: pytest.MonkeyPatch) -> None:
    """A command run again (the server broke its first run off) reads the same bytes of
    standard input as its first run, not what is left of the stream; a new command reads on."""
    import io
    import sys

    from knowsley_tracker import commit_point

    stream = io.TextIOWrapper(io.BytesIO(b"rec_ref,action\nR1,Audit\n" + b"x" * 10))
    monkeypatch.setattr(sys, "stdin", stream)
    with commit_point.command():
        first = commit_point.standard_input(25)
        assert first == b"rec_ref,action\nR1,Audit\nx"
        assert commit_point.standard_input(25) == first  # the run again
        assert commit_point.standard_input(10) == first[:10]
        assert commit_point.standard_input(100) == first + b"x" * 9  # asked for more: read on, to the end
        assert commit_point.standard_input(200) == first + b"x" * 9
    with commit_point.command():
        assert commit_point.standard_input(25) == b""  # a new command: the stream is used up
