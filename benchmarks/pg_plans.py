"""One plan's commands with 1, then 20, region-size plans in the database.

    python benchmarks/pg_plans.py                  # region plan (3,000 actions, 50,000 log entries), 20 plans
    python benchmarks/pg_plans.py --plans 5 --actions 300 --updates 5000 --runs 3

Issue 12: "a plan read never loads other plans' rows: from 1 plan to 20 plans of
region size in one database, a command's time must not change by more than 10%".

Starts a throwaway server (as the tests do), imports the region plan into plan
``p01`` with kt's own JSON import (timed, with the rows per second), and times,
in this process from opening the store to closing it: ``kt check``, ``kt action
list``, building ``kt report``'s model, ``kt log`` (a write), and ``kt history``
(the newest 50 entries). Then it copies p01 into ``p02``..``pNN`` server-side
(``INSERT ... SELECT`` as the superuser, triggers off: filling, not what is
measured), runs ANALYZE, and times the same commands on p01 again. The login is
admin of every plan, like a regional adviser who can see them all, so row-level
security has every plan to let through. Medians of ``--runs`` after a warm-up.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
NOW = "2025-11-30T09:00:00+00:00"
COPIED = (
    "settings", "history", "snapshots", "inspections", "focus_areas", "owners", "recommendations", "actions", "log",
    "evidence", "visits", "kpis", "kpi_values", "boards", "interventions", "partners", "reminders", "counters",
)  # fmt: skip


def copy_plan(conn: Any, source: int, target: int) -> None:
    """Every row of plan ``source`` again under plan ``target`` (superuser, triggers off)."""
    conn.execute("SET session_replication_role = replica")
    conn.execute("DELETE FROM kt.counters WHERE plan_id = %s", (target,))
    for table in COPIED:
        names = [
            r[0]
            for r in conn.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_schema = 'kt' AND table_name = %s "
                "AND is_generated = 'NEVER' ORDER BY ordinal_position",
                (table,),
            ).fetchall()
        ]
        if not names:
            continue
        columns = ", ".join(f'"{n}"' for n in names)
        chosen = ", ".join("%s" if n == "plan_id" else f'"{n}"' for n in names)
        conn.execute(
            f"INSERT INTO kt.{table} ({columns}) OVERRIDING SYSTEM VALUE "  # noqa: S608  # names from the catalog
            f"SELECT {chosen} FROM kt.{table} WHERE plan_id = %s",
            (target, source),
        )
    conn.execute("SET session_replication_role = origin")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--plans", type=int, default=20)
    parser.add_argument("--actions", type=int, default=3000)
    parser.add_argument("--updates", type=int, default=50000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--work", type=Path, default=HERE / "work", help="where generated plans are kept")
    options = parser.parse_args()
    sys.path.insert(0, str(ROOT / "tests"))
    sys.path.insert(0, str(HERE))

    from helpers.pg_server import INSTALLER, start_server, stop_server
    from pg_reads import ensure_plan

    from knowsley_tracker.dates import Clock
    from knowsley_tracker.pgstore import access, schema
    from knowsley_tracker.pgstore.store import PgStore
    from knowsley_tracker.reports import build_report
    from knowsley_tracker.service import actions, audit, json_exchange
    from knowsley_tracker.service.check import CheckOptions, run_check
    from knowsley_tracker.service.session import Session
    from knowsley_tracker.storage import Store

    built = ensure_plan(options.actions, options.updates, options.seed, options.work)
    clock = Clock.at(NOW)
    scratch = Path(tempfile.mkdtemp(prefix="kt-pg-plans-"))
    server = start_server()
    try:
        server.create_login(INSTALLER, createrole=True)
        with server.connect("postgres", autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE region OWNER "{INSTALLER}"')
        with server.connect("region", INSTALLER, autocommit=True) as conn:
            schema.migrate(conn)
            adviser = server.create_login("regional_adviser")
            planner = conn.execute("SELECT kt.group_role('planner')").fetchone()[0]
            conn.execute(f'GRANT "{planner}" TO "{adviser}"')
        keys = [f"p{n:02d}" for n in range(1, options.plans + 1)]
        with server.connect("region", adviser, autocommit=True) as conn:
            for key in keys:
                access.create_plan(conn, key, f"Council {key}")
        conninfo = server.conninfo("region", adviser, password=False)
        password = server.passwords[adviser]

        with Store.open(built) as source:
            document = json_exchange.export_store(Session(store=source, clock=clock, user="bench"))
        rows = sum(len(r) for r in document["records"].values())
        start = time.perf_counter()
        with PgStore.open(conninfo, "p01", write=True, password=password) as store:
            session = Session(store=store, clock=clock, user=adviser)
            with session.transaction("import"):
                json_exchange.import_store(session, json.dumps(document).encode(), built.name)
        moved = time.perf_counter() - start
        print(
            f"Plan {built.name}: {rows} records imported into p01 in {moved:.1f} s ({rows / moved:.0f} records/s). "
            f"{os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f}.",
            flush=True,
        )

        backend_cpu: list[float] = []  # the server process's CPU for the command just run

        def opener(write: bool) -> Any:
            return PgStore.open(conninfo, "p01", write=write, password=password)

        def served(store: Any) -> None:
            """Note the CPU time of the server process that served ``store`` (a new one for
            each connection, so all of it is this command's): se.sum_exec_runtime (ms) in
            /proc/PID/sched, else utime + stime from /proc/PID/stat (10 ms ticks)."""
            pid = store._conn.info.backend_pid
            try:
                for line in Path(f"/proc/{pid}/sched").read_text().splitlines():
                    if line.startswith("se.sum_exec_runtime"):
                        backend_cpu.append(float(line.split(":")[1]) / 1000)
                        return
            except OSError:
                pass
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            backend_cpu.append((int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK"))

        def reading(work: Callable[[Session], Any]) -> Callable[[], None]:
            def run() -> None:
                with opener(False) as store:
                    work(Session(store=store, clock=clock, user=adviser))
                    served(store)

            return run

        def logging() -> None:
            with opener(True) as store:
                session = Session(store=store, clock=clock, user=adviser)
                with session.transaction("log A7"):
                    actions.log_progress(session, 7, "Benchmark note: audit sample reviewed")
                served(store)

        commands: dict[str, Callable[[], None]] = {
            "kt check": reading(lambda s: run_check(s, CheckOptions())),
            "kt action list": reading(lambda s: actions.list_actions(s)),
            "kt report (model)": reading(lambda s: build_report(s)),
            "kt history (50)": reading(lambda s: list(audit.history(s, limit=50))),
            "kt log": logging,
        }

        def measure() -> tuple[dict[str, float], dict[str, float]]:
            """Medians of wall time and of CPU time (this process's and the server process's)."""
            times: dict[str, list[float]] = {label: [] for label in commands}
            cpus: dict[str, list[float]] = {label: [] for label in commands}
            for round_no in range(options.runs + 1):
                for label, run in commands.items():
                    start, start_cpu = time.perf_counter(), time.process_time()
                    run()
                    if round_no:
                        times[label].append(time.perf_counter() - start)
                        cpus[label].append(time.process_time() - start_cpu + backend_cpu[-1])
            return (
                {label: statistics.median(t) for label, t in times.items()},
                {label: statistics.median(t) for label, t in cpus.items()},
            )

        # What a plan's reads touch, independent of the machine's load: the buffers
        # (8 kB pages) the server reads for p01's whole log and actions, as the adviser.
        probes = {
            "p01's log (all rows)": "SELECT * FROM kt.log WHERE plan_id = %s",
            "p01's actions (all rows)": "SELECT * FROM kt.actions WHERE plan_id = %s",
            "one p01 action": "SELECT * FROM kt.actions WHERE plan_id = %s AND id = 7",
        }

        def buffers() -> dict[str, int]:
            out = {}
            with server.connect("region", adviser, autocommit=True) as conn:
                plan_id = conn.execute("SELECT id FROM kt.plans WHERE key = 'p01'").fetchone()[0]
                for label, query in probes.items():
                    plan = conn.execute("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + query, (plan_id,)).fetchone()[0]
                    top = plan[0]["Plan"]
                    out[label] = int(top.get("Shared Hit Blocks", 0)) + int(top.get("Shared Read Blocks", 0))
            return out

        with server.connect("region", autocommit=True) as conn:
            conn.execute("ANALYZE")  # as after the copies below: the same planner statistics either way
        load_one = os.getloadavg()[0]
        one, one_cpu = measure()
        load_one = max(load_one, os.getloadavg()[0])
        pages_one = buffers()
        start = time.perf_counter()
        with server.connect("region", autocommit=True) as conn:
            ids = dict(conn.execute("SELECT key, id FROM kt.plans").fetchall())
            for key in keys[1:]:
                copy_plan(conn, ids["p01"], ids[key])
            conn.execute("ANALYZE")
            total = conn.execute("SELECT count(*) FROM kt.log").fetchone()[0]
        print(f"Copied p01 into {len(keys) - 1} more plans in {time.perf_counter() - start:.1f} s: "
              f"{total} log entries in the database.", flush=True)  # fmt: skip
        load_many = os.getloadavg()[0]
        many, many_cpu = measure()
        load_many = max(load_many, os.getloadavg()[0])
        pages_many = buffers()
        print(f"\nLoad average (the higher of before and after): {load_one:.2f} with 1 plan, {load_many:.2f} with "
              f"{len(keys)}. CPU is this process's and the server process's that served the command.")  # fmt: skip
        header = (
            f"{'command on p01':22} {'wall: 1 plan':>12} {f'{len(keys)} plans':>10} {'CPU: 1 plan':>12} "
            f"{f'{len(keys)} plans':>10} {'ratio: wall':>11} {'CPU':>5}"
        )
        print(f"{header}   (medians of {options.runs})")
        for label in commands:
            wall_ratio, cpu_ratio = many[label] / one[label], many_cpu[label] / one_cpu[label]
            print(
                f"{label:22} {one[label] * 1000:9.1f} ms {many[label] * 1000:7.1f} ms {one_cpu[label] * 1000:9.1f} ms "
                f"{many_cpu[label] * 1000:7.1f} ms {wall_ratio:11.2f} {cpu_ratio:5.2f}"
            )
        print(f"\n{'pages read (EXPLAIN BUFFERS)':28} {'1 plan':>8} {f'{len(keys)} plans':>9}")
        for label in probes:
            print(f"{label:28} {pages_one[label]:8d} {pages_many[label]:9d}")
    finally:
        stop_server(server)
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
