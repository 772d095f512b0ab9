"""What each standard-library module Typer loads costs its import, and what making it lazy could save.

    python benchmarks/typer_imports.py                 # wall time, medians of 21 fresh processes
    python benchmarks/typer_imports.py --instructions  # callgrind instruction counts (needs valgrind)

For each module below, a fresh process puts a stand-in module under that name in
``sys.modules`` (any attribute is an empty class) and then imports Typer, so the
real module is never loaded; the difference from a plain ``import typer`` is what
that module costs Typer's import. Typer then cannot run, so this measures only
what a lazy import could save at best. The figures and what was decided are in
benchmarks/README.md (issue 13, round 5).

Whether a lazy import could save it at all depends on how Typer imports it:
``import subprocess`` binds the module (a stand-in would do until first use);
``from shutil import get_terminal_size`` or ``from difflib import
get_close_matches`` reads an attribute at once, so the module loads there and
then. Of these six, only ``subprocess`` is imported whole.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time

CANDIDATES = ["subprocess", "shutil", "traceback", "gettext", "difflib", "uuid"]
# inspect is not among them: Typer's import reads inspect.Parameter.empty, so it must load.
SETUP = """
import sys, types
class Stand_in(types.ModuleType):
    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return type(name, (), {{}})
for name in {names!r}:
    sys.modules[name] = Stand_in(name)
import typer
"""


def code(names: list[str]) -> str:
    return SETUP.format(names=names)


def env() -> dict[str, str]:
    clean = dict(os.environ)
    clean.pop("PYTHONDONTWRITEBYTECODE", None)  # time loading compiled bytecode, as kt does
    return clean


def wall_ms(names: list[str], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", code(names)], check=True, env=env())
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def instructions(names: list[str]) -> float:
    done = subprocess.run(
        ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable, "-c", code(names)],
        check=False,
        capture_output=True,
        text=True,
        env=dict(env(), PYTHONHASHSEED="0"),
    )
    if done.returncode != 0:  # an import cut short would count too few instructions
        raise SystemExit(f"import typer failed without {', '.join(names)}: {done.stderr.splitlines()[-1]}")
    for line in done.stderr.splitlines():
        if "Collected :" in line:
            return int(line.split(":")[-1]) / 1e6
    raise SystemExit("valgrind printed no instruction count")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--instructions", action="store_true", help="count instructions with callgrind")
    parser.add_argument("--runs", type=int, default=21, help="fresh processes per case, for wall time")
    args = parser.parse_args()
    if args.instructions and shutil.which("valgrind") is None:
        raise SystemExit("--instructions needs valgrind (apt-get install valgrind)")
    measure = instructions if args.instructions else (lambda names: wall_ms(names, args.runs))
    unit = "M instructions" if args.instructions else "ms (median wall time)"
    subprocess.run([sys.executable, "-c", "import typer"], check=True, env=env())  # bytecode compiled, caches warm
    whole = measure([])
    print(f"import typer: {whole:.1f} {unit}")
    cases = [[name] for name in CANDIDATES] + [CANDIDATES]
    for names in cases:
        print(f"  without {', '.join(names)}: saves {whole - measure(names):.1f}")


if __name__ == "__main__":
    main()
