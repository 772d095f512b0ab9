"""Whole ``kt`` processes, as an officer runs them: the same plan on a JSON file and on
a PostgreSQL server, side by side.

    python benchmarks/pg_cli.py                       # the shipped example plan, 21 rounds
    python benchmarks/pg_cli.py --plan benchmarks/work/region-3000a-50000u-s1.json --runs 7

Starts a throwaway server (as the tests do), moves the plan into it with the
command line itself (``kt init --plan``, ``kt import`` of a ``kt export --format
json``), then times each command as a new process on both stores, interleaved
(one warm-up round, then ``--runs`` rounds; medians). The password comes from
``PGPASSWORD``, the store from a ``postgresql://`` URI over the Unix socket.

Each process's CPU time (user + system, from ``wait4``) is measured beside its wall
time: on a shared machine it moves far less with the load than wall time does. The
server's own CPU (the postgres backend a command talks to) is not in it: that is a
separate process, and the load average printed before and after says how busy the
machine was.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
EXAMPLE = ROOT / "examples" / "knowsley-2025" / "plan.json"
COMMANDS = {
    "kt action list": ["action", "list"],
    "kt check": ["check"],
    "kt report (piped)": ["report"],
    "kt history": ["history"],
    "kt log": ["log", "A1", "Benchmark note", "--by", "bench"],
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--plan", type=Path, default=EXAMPLE, help="a JSON store to time (default: the example)")
    parser.add_argument("--runs", type=int, default=21)
    options = parser.parse_args()
    sys.path.insert(0, str(ROOT / "tests"))
    from helpers.pg_server import INSTALLER, start_server, stop_server

    scratch = Path(tempfile.mkdtemp(prefix="kt-pg-cli-"))
    server = start_server()
    try:
        server.create_login(INSTALLER, createrole=True)
        with server.connect("postgres", autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE improvement OWNER "{INSTALLER}"')
        kt = [sys.executable, "-c", "from knowsley_tracker.entry import main; main()"]
        base = {k: v for k, v in os.environ.items() if not k.startswith(("PG", "KNOWSLEY_TRACKER"))}
        base["KNOWSLEY_TRACKER_NOW"] = "2025-11-30T09:00:00+00:00"
        plan = scratch / "plan.json"
        shutil.copy2(options.plan, plan)  # kt log writes: time a copy
        folder = options.plan.with_name(options.plan.name + ".d")
        if folder.exists():
            shutil.copytree(folder, scratch / "plan.json.d")
        uri = f"postgresql://{INSTALLER}@/improvement?host={server.socket_dir}&port={server.port}"
        stores = {
            "JSON file": {**base, "KNOWSLEY_TRACKER_DB": str(plan)},
            "PostgreSQL": {**base, "KNOWSLEY_TRACKER_DB": uri, "PGPASSWORD": server.passwords[INSTALLER]},
        }
        export = scratch / "export.json"

        def run(env: dict[str, str], *args: str) -> None:
            subprocess.run([*kt, *args], env=env, cwd=scratch, check=True, stdout=subprocess.DEVNULL)

        run(stores["JSON file"], "export", "--format", "json", "-o", str(export))
        start = time.perf_counter()
        run(stores["PostgreSQL"], "init", "--authority", "Benchmark", "--plan", "bench")
        run(stores["PostgreSQL"], "import", str(export))
        moved = time.perf_counter() - start
        print(f"Moved {options.plan.name} into the server with kt init and kt import in {moved:.1f} s. "
              f"{os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f}.")  # fmt: skip
        times: dict[tuple[str, str], list[float]] = {(c, s): [] for c in COMMANDS for s in stores}
        cpu: dict[tuple[str, str], list[float]] = {(c, s): [] for c in COMMANDS for s in stores}
        load_before = os.getloadavg()[0]
        for round_no in range(options.runs + 1):
            for label, args in COMMANDS.items():
                for store, env in stores.items():
                    start = time.perf_counter()
                    process = subprocess.Popen([*kt, *args], env=env, cwd=scratch, stdout=subprocess.DEVNULL)
                    _, status, usage = os.wait4(process.pid, 0)
                    wall = time.perf_counter() - start
                    code = os.waitstatus_to_exitcode(status)
                    if code not in (0, 1):  # kt check: 1 when something needs attention
                        raise SystemExit(f"{label} on {store} failed ({code})")
                    if round_no:
                        times[(label, store)].append(wall)
                        cpu[(label, store)].append(usage.ru_utime + usage.ru_stime)
        print(f"\nLoad average {load_before:.2f} before the rounds, {os.getloadavg()[0]:.2f} after.")
        print(f"\n{'command (whole process)':24} {'JSON file':>21} {'PostgreSQL':>21} {'ratio':>12}   "
              f"(medians of {options.runs})")  # fmt: skip
        print(f"{'':24} {'wall':>10} {'CPU':>10} {'wall':>10} {'CPU':>10} {'wall':>6} {'CPU':>5}")
        for label in COMMANDS:
            f, p = statistics.median(times[(label, "JSON file")]), statistics.median(times[(label, "PostgreSQL")])
            fc, pc = statistics.median(cpu[(label, "JSON file")]), statistics.median(cpu[(label, "PostgreSQL")])
            print(f"{label:24} {f * 1000:7.1f} ms {fc * 1000:7.1f} ms {p * 1000:7.1f} ms {pc * 1000:7.1f} ms "
                  f"{p / f:6.2f} {pc / fc:5.2f}")  # fmt: skip
    finally:
        stop_server(server)
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
