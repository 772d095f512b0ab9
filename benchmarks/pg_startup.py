"""What the PostgreSQL store costs a command before it does anything: importing
psycopg, connecting over a Unix socket, and (it must be nothing) what it costs a
command on a JSON file.

    python benchmarks/pg_startup.py                      # 21 runs of each
    python benchmarks/pg_startup.py --runs 41
    python benchmarks/pg_startup.py --compare /tmp/kt-main   # JSON store: this tree vs another checkout

Prints, each a median over the runs (processes interleaved, first round a warm-up):

- ``python -X importtime -c "import psycopg"``: psycopg's cumulative import time;
- whole processes: ``python -c pass`` against ``python -c "import psycopg"`` and
  ``import knowsley_tracker.pgstore.writing`` (all the server store's modules);
- connecting: a throwaway server (initdb + postgres on a Unix socket in a temporary
  folder, as the tests start it; SCRAM password logins) and ``psycopg.connect`` +
  ``SELECT 1``, in one process, many times;
- a JSON-store command (``kt action list`` on the example plan) as whole processes,
  and whether any psycopg module was imported by it; and the same command with
  ``import psycopg`` run first in its process, which is what psycopg's import costs a
  kt process on a server (the standard library modules psycopg shares with kt are
  loaded either way), by wall and by CPU time (user + system, from ``wait4``); with ``--compare``, the same
  command from another checkout (e.g. ``git archive main | tar -x -C /tmp/kt-main``)
  run with the same interpreter, interleaved.
"""

from __future__ import annotations

import argparse
import compileall
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
EXAMPLE = ROOT / "examples" / "knowsley-2025" / "plan.json"
KT = "from knowsley_tracker.entry import main; main()"


def timed(args: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, float]:
    """Wall and CPU time (user + system) of one process."""
    start = time.perf_counter()
    process = subprocess.Popen(args, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, _, usage = os.wait4(process.pid, 0)
    process.returncode = 0
    return time.perf_counter() - start, usage.ru_utime + usage.ru_stime


def median_ms(values: list[float]) -> str:
    return f"{statistics.median(values) * 1000:7.1f} ms"


def import_time_us(runs: int) -> list[int]:
    out = []
    for _ in range(runs):
        done = subprocess.run(
            [sys.executable, "-X", "importtime", "-c", "import psycopg"], capture_output=True, text=True, check=True
        )
        last = [line for line in done.stderr.splitlines() if line.rstrip().endswith("| psycopg")][-1]
        out.append(int(last.split("|")[1]))
    return out


def processes(
    runs: int, commands: dict[str, tuple[list[str], Path]], env: dict[str, str]
) -> dict[str, tuple[list[float], list[float]]]:
    """Each command's wall and CPU times, interleaved."""
    times: dict[str, tuple[list[float], list[float]]] = {label: ([], []) for label in commands}
    for round_no in range(runs + 1):
        for label, (args, cwd) in commands.items():
            wall, cpu = timed(args, cwd, env)
            if round_no:  # the first round warms the caches
                times[label][0].append(wall)
                times[label][1].append(cpu)
    return times


def connect_times(runs: int) -> tuple[list[float], str]:
    sys.path.insert(0, str(ROOT / "tests"))
    import psycopg
    from helpers.pg_server import SUPERUSER, start_server, stop_server

    server = start_server()
    try:
        conninfo = server.conninfo("postgres", SUPERUSER)
        times = []
        for _ in range(runs + 1):
            start = time.perf_counter()
            with psycopg.connect(conninfo) as conn:
                conn.execute("SELECT 1").fetchone()
            times.append(time.perf_counter() - start)
        with psycopg.connect(conninfo) as conn:
            version = str(conn.execute("SHOW server_version").fetchone()[0])  # type: ignore[index]
        return times[1:], version
    finally:
        stop_server(server)


def psycopg_in(args: list[str], cwd: Path, env: dict[str, str]) -> list[str]:
    done = subprocess.run([sys.executable, "-X", "importtime", *args], cwd=cwd, env=env, capture_output=True, text=True)
    return sorted(
        {line.rsplit("|", 1)[1].strip() for line in done.stderr.splitlines() if "| " in line and "psycopg" in line}
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=21)
    parser.add_argument("--compare", type=Path, help="another checkout of knowsley-tracker, for the JSON-store command")
    options = parser.parse_args()
    runs = options.runs
    env = {**os.environ, "KNOWSLEY_TRACKER_NOW": "2025-11-30"}
    env.pop("PYTHONPATH", None)
    trees = [ROOT] + ([options.compare.resolve()] if options.compare else [])
    for tree in trees:  # both trees start from compiled bytecode, as an installed kt does
        compileall.compile_dir(str(tree / "knowsley_tracker"), quiet=1)

    print(f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f}; {runs} runs each\n")
    us = import_time_us(runs)
    print(f"python -X importtime -c 'import psycopg' (cumulative): {statistics.median(us) / 1000:7.1f} ms")

    commands = {
        "python -c pass": ([sys.executable, "-c", "pass"], ROOT),
        "python -c 'import psycopg'": ([sys.executable, "-c", "import psycopg"], ROOT),
        "python -c 'import knowsley_tracker.pgstore.writing'": (
            [sys.executable, "-c", "import knowsley_tracker.pgstore.writing"],
            ROOT,
        ),
        "kt action list (JSON store, this tree)": (
            [sys.executable, "-c", KT, "--db", str(EXAMPLE), "action", "list"],
            ROOT,
        ),
        "the same, psycopg imported first": (
            [sys.executable, "-c", "import psycopg; " + KT, "--db", str(EXAMPLE), "action", "list"],
            ROOT,
        ),
    }
    if options.compare:
        other = options.compare.resolve()
        commands["kt action list (JSON store, --compare tree)"] = (
            [sys.executable, "-c", f"import sys; sys.path.insert(0, {str(other)!r}); " + KT, "--db", str(EXAMPLE)]
            + ["action", "list"],
            other,
        )
    print(f"{'whole processes, medians':55} {'wall':>10} {'CPU':>10}")
    measured = processes(runs, commands, env)
    for label, (walls, cpus) in measured.items():
        print(f"{label:55} {median_ms(walls)} {median_ms(cpus)}   (min wall {min(walls) * 1000:.1f} ms)")
    plain, first = measured["kt action list (JSON store, this tree)"], measured["the same, psycopg imported first"]
    print(f"{'psycopg in a kt process':55} {median_ms([statistics.median(first[0]) - statistics.median(plain[0])])} "
          f"{median_ms([statistics.median(first[1]) - statistics.median(plain[1])])}")  # fmt: skip
    print(f"Load {os.getloadavg()[0]:.2f} after.")

    found = psycopg_in(["-c", KT, "--db", str(EXAMPLE), "action", "list"], ROOT, env)
    print(f"\npsycopg modules imported by kt action list on a JSON store: {found or 'none'}")

    times, version = connect_times(runs * 2)
    print(f"\npsycopg.connect + SELECT 1 over a Unix socket, SCRAM login, PostgreSQL {version}: {median_ms(times)}"
          f"   (min {min(times) * 1000:.1f} ms)")  # fmt: skip


if __name__ == "__main__":
    main()
