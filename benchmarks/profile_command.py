"""Profile one kt command, imports included, as a whole process runs it.

    python benchmarks/profile_command.py --plan region -- report > /dev/null
    python benchmarks/profile_command.py --plan region --terminal --sort tottime -- report > /dev/null
    python benchmarks/profile_command.py --plan large --save /tmp/report.prof -- action list --json > /dev/null

kt leaves by ``os._exit`` after running its exit handlers (cli.main), so
``python -m cProfile -m knowsley_tracker`` never writes its figures; this
script starts the profiler before kt's first import and writes the figures
from an exit handler. The statistics go to standard error (or --save FILE, for
``pstats`` or snakeviz), the command's own output to standard output. The plans
are the ones run.py builds in benchmarks/work/ (run it once first).

cProfile's own cost inflates functions called many times; use it to find where
the time goes, and run.py (whole processes, against the floor) to measure it.
"""

from __future__ import annotations

import argparse
import atexit
import cProfile
import os
import pstats
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from run import AS_OF, PLANS, ensure_plan  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--plan", choices=["large", "region"], default="region")
    parser.add_argument("--terminal", action="store_true", help="draw as on a 100-column terminal")
    parser.add_argument("--sort", default="cumulative", help="pstats sort key (default cumulative)")
    parser.add_argument("--lines", type=int, default=45, help="rows of statistics to print")
    parser.add_argument("--save", metavar="FILE", help="write the raw statistics here instead of printing")
    parser.add_argument("kt_args", nargs=argparse.REMAINDER, help="the command, after --")
    args = parser.parse_args()
    kt_args = args.kt_args[1:] if args.kt_args[:1] == ["--"] else args.kt_args
    name = "large council" if args.plan == "large" else "region"
    path = ensure_plan(name, PLANS[name], 1, rebuild=False)
    os.environ["KNOWSLEY_TRACKER_DB"] = str(path)
    os.environ["KNOWSLEY_TRACKER_NOW"] = AS_OF
    if args.terminal:
        os.environ["TTY_COMPATIBLE"] = "1"
        os.environ["COLUMNS"] = "100"
    else:
        os.environ.pop("TTY_COMPATIBLE", None)
    sys.path.remove(str(HERE))
    profile = cProfile.Profile()

    def report() -> None:
        profile.disable()
        if args.save:
            profile.dump_stats(args.save)
            return
        stats = pstats.Stats(profile, stream=sys.stderr)
        stats.sort_stats(args.sort).print_stats(args.lines)

    atexit.register(report)
    sys.argv = ["kt", *kt_args]
    profile.enable()
    from knowsley_tracker.entry import main as run_kt

    run_kt()


if __name__ == "__main__":
    main()
