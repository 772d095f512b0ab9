"""The same commands on the regional plan, JSON file against PostgreSQL, side by side.

    python benchmarks/pg_reads.py               # the region plan (3,000 actions, 50,000 log entries)
    python benchmarks/pg_reads.py --runs 9 --actions 300 --updates 5000

Builds the plan with benchmarks/generate.py (as benchmarks/run.py does, reusing
benchmarks/work/), starts a throwaway PostgreSQL server (as the tests do: a
Unix socket in a temporary folder, SCRAM logins), and moves the plan into it
with kt's own export and import (timed). Then, interleaved, each command's work
in this process from opening the store to closing it: ``kt check``, ``kt action
list``, building ``kt report``'s model, and ``kt log`` (open for writing, log,
commit). Medians over ``--runs`` after a warm-up round.

These are in-process figures: a whole ``kt`` process on the server also pays
psycopg's import (benchmarks/pg_startup.py: about 115 ms) and its connection
(about 4 ms); benchmarks/pg_cli.py times whole processes on both stores.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
WORK = HERE / "work"
NOW = "2025-11-30T09:00:00+00:00"


def ensure_plan(actions: int, updates: int, seed: int, work: Path = WORK) -> Path:
    path = work / f"region-{actions}a-{updates}u-s{seed}.json"
    if not path.exists():
        work.mkdir(exist_ok=True)
        print(f"Building the plan ({actions} actions, {updates} updates)...", flush=True)
        subprocess.run(
            [sys.executable, str(HERE / "generate.py"), str(path), "--actions", str(actions), "--updates", str(updates)]
            + ["--seed", str(seed), "--as-of", "2025-11-30"],
            check=True,
        )
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--actions", type=int, default=3000)
    parser.add_argument("--updates", type=int, default=50000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--work", type=Path, default=WORK, help="where generated plans are kept (benchmarks/work)")
    options = parser.parse_args()
    sys.path.insert(0, str(ROOT / "tests"))

    from helpers.pg_server import INSTALLER, start_server, stop_server

    from knowsley_tracker.dates import Clock
    from knowsley_tracker.pgstore import access, schema
    from knowsley_tracker.pgstore.store import PgStore
    from knowsley_tracker.reports import build_report
    from knowsley_tracker.service import actions, json_exchange
    from knowsley_tracker.service.check import CheckOptions, run_check
    from knowsley_tracker.service.session import Session
    from knowsley_tracker.storage import Store

    built = ensure_plan(options.actions, options.updates, options.seed, options.work)
    # kt log writes to the file store: time a copy, so the built plan stays as generated.
    scratch = Path(tempfile.mkdtemp(prefix="kt-pg-reads-"))
    path = scratch / built.name
    shutil.copy2(built, path)
    if built.with_name(built.name + ".d").exists():
        shutil.copytree(built.with_name(built.name + ".d"), path.with_name(path.name + ".d"))
    clock = Clock.at(NOW)
    server = start_server()
    try:
        server.create_login(INSTALLER, createrole=True)
        with server.connect("postgres", autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE improvement OWNER "{INSTALLER}"')
        with server.connect("improvement", INSTALLER, autocommit=True) as conn:
            schema.migrate(conn)
            editor = server.create_login("performance_team")
            planner = conn.execute("SELECT kt.group_role('planner')").fetchone()[0]
            conn.execute(f'GRANT "{planner}" TO "{editor}"')
        with server.connect("improvement", editor, autocommit=True) as conn:
            access.create_plan(conn, "region", "Region")
        conninfo = server.conninfo("improvement", editor, password=False)
        password = server.passwords[editor]

        with Store.open(path) as source:
            document = json_exchange.export_store(Session(store=source, clock=clock, user="bench"))
        start = time.perf_counter()
        with PgStore.open(conninfo, "region", write=True, password=password) as store:
            session = Session(store=store, clock=clock, user=editor)
            with session.transaction("import"):
                json_exchange.import_store(session, json.dumps(document).encode(), path.name)
        moved = time.perf_counter() - start
        counts = {table: len(rows) for table, rows in document["records"].items() if rows}
        print(
            f"Plan {path.name}: {counts.get('actions', 0)} actions, {counts.get('log', 0)} log entries; "
            f"imported into PostgreSQL in {moved:.1f} s. {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f}.",
            flush=True,
        )

        def file_store(write: bool) -> Any:
            return Store.open(path, write=write)

        def server_store(write: bool) -> Any:
            return PgStore.open(conninfo, "region", write=write, password=password)

        def reading(opener: Callable[[bool], Any], work: Callable[[Session], Any]) -> Callable[[], None]:
            def run() -> None:
                store = opener(False)
                try:
                    work(Session(store=store, clock=clock, user=editor))
                finally:
                    store.close()

            return run

        def logging(opener: Callable[[bool], Any]) -> Callable[[], None]:
            def run() -> None:
                store = opener(True)
                try:
                    session = Session(store=store, clock=clock, user=editor)
                    with session.transaction("log A7"):
                        actions.log_progress(session, 7, "Benchmark note: audit sample reviewed")
                finally:
                    store.close()

            return run

        work: dict[str, Callable[[Session], Any]] = {
            "kt check": lambda s: run_check(s, CheckOptions()),
            "kt action list": lambda s: actions.list_actions(s),
            "kt report (model)": lambda s: build_report(s),
        }
        commands: dict[tuple[str, str], Callable[[], None]] = {}
        for label, job in work.items():
            commands[(label, "file")] = reading(file_store, job)
            commands[(label, "server")] = reading(server_store, job)
        commands[("kt log", "file")] = logging(file_store)
        commands[("kt log", "server")] = logging(server_store)

        times: dict[tuple[str, str], list[float]] = {key: [] for key in commands}
        for round_no in range(options.runs + 1):
            for key, run in commands.items():
                start = time.perf_counter()
                run()
                if round_no:
                    times[key].append(time.perf_counter() - start)
        print(f"\n{'command':22} {'JSON file':>12} {'PostgreSQL':>12} {'ratio':>7}   (medians of {options.runs})")
        for label in [*work, "kt log"]:
            f = statistics.median(times[(label, "file")])
            p = statistics.median(times[(label, "server")])
            print(f"{label:22} {f * 1000:9.1f} ms {p * 1000:9.1f} ms {p / f:7.2f}")
    finally:
        stop_server(server)
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
