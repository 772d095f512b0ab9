"""Many officers logging at once on one server plan: none lost, no duplicate ids, and how long each command takes.

    python benchmarks/pg_concurrency.py                       # 32 writers, 500 commands
    python benchmarks/pg_concurrency.py --writers 8 --commands 100

Starts a throwaway PostgreSQL server (as the tests do: initdb + postgres on a
Unix socket in a temporary folder, SCRAM logins), installs the schema as a
non-superuser installer, creates a plan with one owner and five actions per
writer, and one officer login per writer, linked to its owner.

Then ``--writers`` lanes run at once, each a sequence of separate ``kt``
processes through the command line, as officers run it: ``kt log A12 "note"
--progress N`` with ``KNOWSLEY_TRACKER_DB`` a ``postgresql://`` URI for the
officer's login (password from ``PGPASSWORD``), each command one process
(imports, connection, the plan's writer lock, the log entry, commit). The
officer logs on their own actions, so row-level security is checked on every
write; the Nth command on an action sets its progress to N.

Afterwards it checks, as the plan's admin: every command exited 0 and said which
log entry it made, each of those is stored, log ids and history txns are each an
unbroken run (no id lost or given twice), and each action holds exactly the log
entries of its commands with the progress its last one set (no lost update). It
prints the whole-process wall time and CPU time (user + system of the kt process,
from ``wait4``), median and worst, and the load average before and after.
"""

from __future__ import annotations

import argparse
import os
import re
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
KT = "from knowsley_tracker.entry import main; main()"


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
    options = parser.parse_args()

    sys.path.insert(0, str(ROOT / "tests"))
    from helpers.pg_server import start_server, stop_server

    server = start_server()
    try:
        plan, admin, officers = setup(server, options.writers)
        print(
            f"PostgreSQL at {server.socket_dir}; {options.writers} writers, {options.commands} commands, each a kt "
            f"process; {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f}",
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
            env = {k: v for k, v in os.environ.items() if not k.startswith(("PG", "KNOWSLEY_TRACKER"))}
            env.update(
                KNOWSLEY_TRACKER_DB=f"postgresql://{login}@/improvement?host={server.socket_dir}&port={server.port}",
                KNOWSLEY_TRACKER_PLAN=plan,
                KNOWSLEY_TRACKER_LOCK_TIMEOUT="60",
                KNOWSLEY_TRACKER_NOW=NOW,
                PGPASSWORD=server.passwords[login],
            )
            for n in range(lanes[i]):
                ref = f"A{5 * i + n % 5 + 1}"
                progress = n // 5 + 1  # the Nth command on this action sets N%
                args = ["log", ref, f"Step {n + 1} by {login}", "--progress", str(progress)]
                start = time.perf_counter()
                process = subprocess.Popen(
                    [sys.executable, "-c", KT, *args],
                    env=env,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    text=True,
                )
                assert process.stdout is not None and process.stderr is not None
                out, err = process.stdout.read(), process.stderr.read()  # a line or two: no pipe fills up
                _, status, usage = os.wait4(process.pid, 0)  # its own CPU time, which wait() would not give
                process.returncode = code = os.waitstatus_to_exitcode(status)
                wall = time.perf_counter() - start
                process.stdout.close()
                process.stderr.close()
                logged = re.match(r"Logged L(\d+) on ", out)
                with lock:
                    if code != 0 or logged is None:
                        failures.append(err.strip().splitlines()[-1] if err.strip() else f"exit {code}: {out!r}")
                    else:
                        cpu = usage.ru_utime + usage.ru_stime
                        results.append(
                            {"log": int(logged[1]), "wall": wall, "cpu": cpu, "ref": ref, "progress": progress}
                        )

        began = time.perf_counter()
        threads = [threading.Thread(target=lane, args=(i,)) for i in range(options.writers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - began

        load_after = os.getloadavg()[0]
        with server.connect("improvement", admin) as conn:
            logs = [r[0] for r in conn.execute("SELECT id FROM kt.log ORDER BY id").fetchall()]
            txns = [r[0] for r in conn.execute("SELECT txn FROM kt.history ORDER BY txn").fetchall()]
            progress = dict(conn.execute("SELECT id, progress FROM kt.actions").fetchall())
            entries: dict[int, int] = dict(conn.execute("SELECT action_id, count(*) FROM kt.log GROUP BY 1").fetchall())
        wanted_entries: dict[int, int] = {}
        wanted_progress: dict[int, int] = {}
        for r in results:
            action = int(r["ref"][1:])
            wanted_entries[action] = wanted_entries.get(action, 0) + 1
            wanted_progress[action] = max(wanted_progress.get(action, 0), r["progress"])
        checks = {
            "every command acknowledged": len(results) == options.commands and not failures,
            "every acknowledged entry stored": sorted(r["log"] for r in results) == logs,
            "log ids an unbroken run": logs == list(range(1, len(logs) + 1)),
            "history txns an unbroken run": txns == list(range(1, len(txns) + 1)),
            "no lost update (each action's entries and progress are its commands')": all(
                entries.get(a, 0) == wanted_entries.get(a, 0) and progress[a] == wanted_progress.get(a, 0)
                for a in progress
            ),
        }
        if not results:
            print(f"No command succeeded ({len(failures)} failed), e.g.: {failures[0] if failures else '?'}")
            sys.exit(1)
        walls = sorted(r["wall"] for r in results)
        cpus = sorted(r["cpu"] for r in results)
        print(
            f"{len(results)} commands in {elapsed:.1f} s ({len(results) / elapsed:.1f} a second); "
            f"failures: {len(failures)}; load {load_after:.2f} at the end"
        )
        for line in failures[:5]:
            print(f"  failed: {line}")
        print(
            f"whole kt process, wall: median {statistics.median(walls) * 1000:7.1f} ms, "
            f"worst {walls[-1] * 1000:7.1f} ms"
        )
        print(
            f"whole kt process, CPU:  median {statistics.median(cpus) * 1000:7.1f} ms, worst {cpus[-1] * 1000:7.1f} ms"
        )
        for name, ok in checks.items():
            print(f"{'ok  ' if ok else 'FAIL'} {name}")
        if not all(checks.values()):
            sys.exit(1)
    finally:
        stop_server(server)


if __name__ == "__main__":
    main()
