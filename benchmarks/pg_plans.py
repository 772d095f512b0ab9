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

        def opener(write: bool) -> Any:
            return PgStore.open(conninfo, "p01", write=write, password=password)

        def reading(work: Callable[[Session], Any]) -> Callable[[], None]:
            def run() -> None:
                with opener(False) as store:
                    work(Session(store=store, clock=clock, user=adviser))

            return run

        def logging() -> None:
            with opener(True) as store:
                session = Session(store=store, clock=clock, user=adviser)
                with session.transaction("log A7"):
                    actions.log_progress(session, 7, "Benchmark note: audit sample reviewed")

        commands: dict[str, Callable[[], None]] = {
            "kt check": reading(lambda s: run_check(s, CheckOptions())),
            "kt action list": reading(lambda s: actions.list_actions(s)),
            "kt report (model)": reading(lambda s: build_report(s)),
            "kt history (50)": reading(lambda s: list(audit.history(s, limit=50))),
            "kt log": logging,
        }

        def measure() -> dict[str, float]:
            times: dict[str, list[float]] = {label: [] for label in commands}
            for round_no in range(options.runs + 1):
                for label, run in commands.items():
                    start = time.perf_counter()
                    run()
                    if round_no:
                        times[label].append(time.perf_counter() - start)
            return {label: statistics.median(t) for label, t in times.items()}

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
        one = measure()
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
        many = measure()
        pages_many = buffers()
        header = f"{'command on p01':22} {'1 plan':>10} {f'{len(keys)} plans':>10} {'ratio':>7}"
        print(f"\n{header}   (medians of {options.runs})")
        for label in commands:
            print(
                f"{label:22} {one[label] * 1000:7.1f} ms {many[label] * 1000:7.1f} ms {many[label] / one[label]:7.2f}"
            )
        print(f"\n{'pages read (EXPLAIN BUFFERS)':28} {'1 plan':>8} {f'{len(keys)} plans':>9}")
        for label in probes:
            print(f"{label:28} {pages_one[label]:8d} {pages_many[label]:9d}")
    finally:
        stop_server(server)
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
