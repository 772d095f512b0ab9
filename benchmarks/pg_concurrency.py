"""Many officers logging at once on one server plan: none lost, no duplicate ids, and how long each command takes.

    python benchmarks/pg_concurrency.py                       # 32 writers, 500 commands
    python benchmarks/pg_concurrency.py --writers 8 --commands 100

Starts a throwaway PostgreSQL server (as the tests do: initdb + postgres on a
Unix socket in a temporary folder, SCRAM logins), installs the schema as a
non-superuser installer, creates a plan with one owner and five actions per
writer, and one officer login per writer, linked to its owner.

Then ``--writers`` lanes run at once, each a sequence of separate processes
(one process per command, as kt runs: imports, connection, lock, work, commit).
A command is what ``kt log A12 "note" --progress N`` does, through the service
layer on the PostgreSQL store: open the plan for writing (its writer lock),
read the action, log one more percent of progress, commit. The officer logs on
their own actions, so row-level security is checked on every write.

Afterwards it checks, as the plan's admin: every acknowledged command is there,
log ids and history txns are each an unbroken run, each action's progress
equals the number of commands on it (no lost update). It prints the command
times (whole process, and inside it from open to close), median and worst.

The command line does not open server stores yet; this drives the same service
function and store the command will.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
NOW = "2025-11-30T09:00:00+00:00"


def command(plan: str, ref: str, note: str) -> None:
    """One kt log, in this process (the worker side)."""
    start = time.perf_counter()
    from knowsley_tracker.dates import Clock
    from knowsley_tracker.pgstore.store import PgStore
    from knowsley_tracker.service import actions
    from knowsley_tracker.service.session import Session

    imported = time.perf_counter()
    store = PgStore.open("", plan, write=True, lock_timeout=60)
    try:
        session = Session(store=store, clock=Clock.at(NOW), user=os.environ["PGUSER"])
        with session.transaction(f"log {ref}"):
            current = session.action(ref)
            _, entry = actions.log_progress(session, current.id, note, progress=min(100, current.progress + 1))
        txn = store.txn
    finally:
        store.close()
    done = time.perf_counter()
    print(json.dumps({"log": entry.id, "txn": txn, "import": imported - start, "work": done - imported}))


def setup(server: Any, writers: int) -> tuple[str, str, list[str]]:
    """The plan, its admin, and one officer login per writer (owning actions A{5i+1}..A{5i+5})."""
    from helpers.pg_server import INSTALLER

    from knowsley_tracker.dates import Clock
    from knowsley_tracker.models import Action, FocusArea, Owner, Recommendation
    from knowsley_tracker.pgstore import access, schema
    from knowsley_tracker.pgstore.access import Role
    from knowsley_tracker.pgstore.store import PgStore

    server.create_login(INSTALLER, createrole=True)
    with server.connect("postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE improvement OWNER "{INSTALLER}"')
    with server.connect("improvement", INSTALLER, autocommit=True) as conn:
        schema.migrate(conn)
        admin = server.create_login("performance_team")
        conn.execute(f'GRANT "{access_group(conn)}" TO "{admin}"')
    officers = [server.create_login(f"officer_{i + 1:02d}") for i in range(writers)]
    with server.connect("improvement", admin, autocommit=True) as conn:
        access.create_plan(conn, "knowsley", "Knowsley")
        for login in officers:
            access.grant_access(conn, "knowsley", login, Role.OFFICER)
    store = PgStore.open(
        server.conninfo("improvement", admin, password=False), "knowsley", write=True, password=server.passwords[admin]
    )
    try:
        with store.transaction(by=admin, what="set up", at=Clock.at(NOW).now()):
            store.add(FocusArea(key="CL", name="Care leavers"))
            store.add(Recommendation(text="Personal advisers' caseloads.", focus_id=1))
            for i, login in enumerate(officers):
                owner = store.add(Owner(role=f"Head of Service {i + 1}"))
                for n in range(5):
                    store.add(
                        Action(
                            rec_id=1, title=f"Action {n + 1} of {login}", due=Clock.at(NOW).today(), owner_id=owner.id
                        )
                    )
        with server.connect("improvement", admin, autocommit=True) as conn:
            for i, login in enumerate(officers):
                conn.execute(
                    "UPDATE kt.owners SET login = %s WHERE plan_id = %s AND id = %s", (login, store.plan.id, i + 1)
                )
        return "knowsley", admin, officers
    finally:
        store.close()


def access_group(conn: Any) -> str:
    return str(conn.execute("SELECT kt.group_role('planner')").fetchone()[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--writers", type=int, default=32)
    parser.add_argument("--commands", type=int, default=500)
    parser.add_argument("--command", nargs=3, metavar=("PLAN", "REF", "NOTE"), help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.command:
        command(*options.command)
        return

    sys.path.insert(0, str(ROOT / "tests"))
    from helpers.pg_server import start_server, stop_server

    server = start_server()
    try:
        plan, admin, officers = setup(server, options.writers)
        print(
            f"PostgreSQL at {server.socket_dir}; {options.writers} writers, {options.commands} commands; "
            f"{os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f}",
            flush=True,
        )
        lanes = [
            options.commands // options.writers + (i < options.commands % options.writers)
            for i in range(options.writers)
        ]
        results: list[dict[str, Any]] = []
        failures: list[str] = []
        lock = threading.Lock()

        def lane(i: int) -> None:
            login = officers[i]
            env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
            env.update(PGHOST=server.socket_dir, PGPORT=str(server.port), PGDATABASE="improvement", PGUSER=login)
            env.update(PGPASSWORD=server.passwords[login], KNOWSLEY_TRACKER_NOW=NOW)
            for n in range(lanes[i]):
                ref = f"A{5 * i + n % 5 + 1}"
                start = time.perf_counter()
                done = subprocess.run(
                    [sys.executable, __file__, "--command", plan, ref, f"Step {n + 1} by {login}"],
                    env=env,
                    capture_output=True,
                    text=True,
                )
                wall = time.perf_counter() - start
                with lock:
                    if done.returncode != 0:
                        failures.append(
                            done.stderr.strip().splitlines()[-1] if done.stderr.strip() else str(done.returncode)
                        )
                    else:
                        results.append({**json.loads(done.stdout), "wall": wall, "ref": ref})

        began = time.perf_counter()
        threads = [threading.Thread(target=lane, args=(i,)) for i in range(options.writers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - began

        with server.connect("improvement", admin) as conn:
            logs = [r[0] for r in conn.execute("SELECT id FROM kt.log ORDER BY id").fetchall()]
            txns = [r[0] for r in conn.execute("SELECT txn FROM kt.history ORDER BY txn").fetchall()]
            progress = dict(conn.execute("SELECT id, progress FROM kt.actions").fetchall())
        per_action: dict[int, int] = {}
        for r in results:
            per_action[int(r["ref"][1:])] = per_action.get(int(r["ref"][1:]), 0) + 1
        checks = {
            "every command acknowledged": len(results) == options.commands and not failures,
            "every acknowledged entry stored": sorted(r["log"] for r in results) == logs,
            "log ids an unbroken run": logs == list(range(1, len(logs) + 1)),
            "history txns an unbroken run": txns == list(range(1, len(txns) + 1)),
            "no lost update (progress = commands per action)": all(
                progress[a] == min(100, per_action.get(a, 0)) for a in progress
            ),
        }
        if not results:
            print(f"No command succeeded ({len(failures)} failed), e.g.: {failures[0] if failures else '?'}")
            sys.exit(1)
        walls = sorted(r["wall"] for r in results)
        works = sorted(r["work"] for r in results)
        imports = sorted(r["import"] for r in results)
        print(
            f"{len(results)} commands in {elapsed:.1f} s ({len(results) / elapsed:.1f} a second); "
            f"failures: {len(failures)}"
        )
        for line in failures[:5]:
            print(f"  failed: {line}")
        print(
            f"whole process:            median {statistics.median(walls) * 1000:7.1f} ms, "
            f"worst {walls[-1] * 1000:7.1f} ms"
        )
        print(f"  of which imports:       median {statistics.median(imports) * 1000:7.1f} ms")
        print(
            f"  open, lock, log, commit: median {statistics.median(works) * 1000:7.1f} ms, "
            f"worst {works[-1] * 1000:7.1f} ms"
        )
        for name, ok in checks.items():
            print(f"{'ok  ' if ok else 'FAIL'} {name}")
        if not all(checks.values()):
            sys.exit(1)
    finally:
        stop_server(server)


if __name__ == "__main__":
    main()
