"""Time two checkouts of kt side by side on the same plans: a refactoring must not slow kt down.

    python benchmarks/compare.py BASE_DIR [--runs 11] [--plans DIR]

BASE_DIR is another checkout (e.g. ``git worktree add /tmp/base main``, or
``git archive main | tar -x -C /tmp/base``); this checkout is the other side.
Both run with this Python and this environment's packages, each with its own
copy of each plan (``kt log`` adds to it), made from the plans benchmarks/run.py
builds (or ``--plans DIR`` holding ``large.json`` and ``region.json``). Every
round runs every command once on each side, in alternating order, with the
``python -c pass`` floor; medians are compared as ratios to the floor, which is
what the README's targets are stated in.
"""

from __future__ import annotations

import argparse
import compileall
import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

from run import AS_OF, PLANS, kt_commands, plan_path, run_once

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("base", type=Path, help="the other checkout's root folder")
    parser.add_argument("--runs", type=int, default=11, help="timed rounds after the warm-up (default 11)")
    parser.add_argument("--plans", type=Path, help="a folder holding large.json and region.json")
    args = parser.parse_args(argv)

    sides = {"base": args.base.resolve(), "this": ROOT}
    for root in sides.values():
        compileall.compile_dir(str(root / "knowsley_tracker"), quiet=1)
    names = {"large council": "large", "region": "region"}
    sources = {
        name: (args.plans / f"{names[name]}.json") if args.plans else plan_path(name, spec, 1)
        for name, spec in PLANS.items()
    }
    work = Path(tempfile.mkdtemp(prefix="kt-compare-"))
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE", "TTY_COMPATIBLE")}
    env["KNOWSLEY_TRACKER_NOW"] = AS_OF
    jobs: list[tuple[str, str, str, list[str], dict[str, str]]] = []
    for side, root in sides.items():
        side_env = dict(env, PYTHONPATH=str(root))
        for name, source in sources.items():
            copy = work / side / f"{names[name]}.json"
            copy.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, copy)
            shutil.copytree(source.with_name(source.name + ".d"), copy.with_name(copy.name + ".d"))
            for command in kt_commands():
                job_env = dict(side_env, KNOWSLEY_TRACKER_DB=str(copy))
                if "(terminal)" in command.label:
                    job_env["TTY_COMPATIBLE"] = "1"
                out = str(work / side / f"report-{names[name]}.html")
                argv_ = [sys.executable, "-m", "knowsley_tracker"] + [a.replace("{out}", out) for a in command.args]
                jobs.append((side, name, command.label, argv_, job_env))
    floor_job = [sys.executable, "-c", "pass"]
    half = len(jobs) // 2
    pairs = list(zip(jobs[:half], jobs[half:], strict=True))  # (base, this) for each plan and command
    times: dict[tuple[str, str, str], list[float]] = {}
    floors: list[float] = []
    try:
        for round_number in range(args.runs + 1):
            # Each command runs on both sides back to back, the side going first alternating by round.
            order = [job for pair in pairs for job in (pair if round_number % 2 else pair[::-1])]
            took_floor = run_once(floor_job, env)[0]
            for side, name, label, job_argv, job_env in order:
                took = run_once(job_argv, job_env)[0]
                if round_number > 0:
                    times.setdefault((side, name, label), []).append(took)
            if round_number > 0:
                floors.append(took_floor)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    floor = statistics.median(floors)
    print(f"\nFloor (python -c pass): {floor * 1000:.1f} ms; medians of {args.runs} interleaved rounds.")
    print(f"base: {sides['base']}\nthis: {sides['this']}\n")
    header = f"{'command':<26}{'plan':<15}{'base ms':>9}{'x floor':>9}{'this ms':>9}{'x floor':>9}{'change':>9}"
    print(header)
    print("-" * len(header))
    for name in sources:
        for command in kt_commands():
            base = statistics.median(times[("base", name, command.label)])
            this = statistics.median(times[("this", name, command.label)])
            change = (this / base - 1) * 100
            print(
                f"{command.label:<26}{name:<15}{base * 1000:>9.1f}{base / floor:>9.2f}"
                f"{this * 1000:>9.1f}{this / floor:>9.2f}{change:>+8.1f}%"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
