"""What an oversized spreadsheet costs ``kt import`` now that imports are bounded.

    python benchmarks/import_limits.py            # writes its files under benchmarks/work/limits/

Before the limits, a CSV of 1,000,000 rows was accepted: 54 s and 3.1 GB, and
every later command took 9 s. Each case below runs ``kt import`` as a fresh
process under ``/usr/bin/time`` and prints wall time and peak resident memory:

* 1,000,000 rows, about 90 MB: refused by size before it is read;
* 1,000,000 short rows under 50 MB: refused at row 20,001;
* the same with ``import.max_mb`` raised to 200: refused at row 20,001;
* 20,000 rows, the most accepted by default: imported, then ``kt check`` and
  ``kt action list`` are timed on the resulting plan.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
WORK = HERE / "work" / "limits"
KT = str(Path(sys.executable).with_name("kt"))
HEADER = "rec_ref,recommendation,focus_area,action,owner,due\n"


def write_rows(path: Path, rows: int, long: bool) -> None:
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write(HEADER)
        for n in range(rows):
            rec = n // 10 + 1
            if long:
                out.write(
                    f"R{rec},Recommendation {rec} as printed in the report,Help and protection,"
                    f"Action {n + 1}: audit a sample of cases,Head of Service,31/03/2026\n"
                )
            else:
                out.write(f"R{rec % 50},Rec {rec % 50},HP,A{n},Lead,1/1/26\n")


def timed(args: list[str], env: dict[str, str]) -> tuple[float, int, str]:
    done = subprocess.run(
        ["/usr/bin/time", "-f", "%e %M", KT, *args], capture_output=True, text=True, env=env, check=False
    )
    *message, figures = done.stderr.strip().splitlines()
    seconds, kb = figures.split()
    said = [line for line in [*message, *done.stdout.strip().splitlines()] if not line.startswith("Command exited")]
    return float(seconds), int(kb), f"exit {done.returncode}: " + (said[0] if said else "")[:90]


def main() -> None:
    shutil.rmtree(WORK, ignore_errors=True)
    WORK.mkdir(parents=True)
    env = dict(os.environ, KNOWSLEY_TRACKER_NOW="2025-11-30", KNOWSLEY_TRACKER_USER="Benchmark")
    big, short, fits = WORK / "million.csv", WORK / "million-short.csv", WORK / "twenty-thousand.csv"
    write_rows(big, 1_000_000, long=True)
    write_rows(short, 1_000_000, long=False)
    write_rows(fits, 20_000, long=True)

    def store(name: str) -> dict[str, str]:
        db = WORK / f"{name}.json"
        mine = dict(env, KNOWSLEY_TRACKER_DB=str(db))
        subprocess.run([KT, "init", "--authority", "Benchmark Council"], env=mine, check=True, capture_output=True)
        return mine

    print(f"{'case':<48} {'file MB':>8} {'seconds':>8} {'peak MB':>8}  outcome")
    cases = [
        ("1,000,000 rows, default limits", big, store("a"), []),
        ("1,000,000 short rows, default limits", short, store("b"), []),
    ]
    raised = store("c")
    subprocess.run([KT, "config", "set", "import.max_mb", "200"], env=raised, check=True, capture_output=True)
    cases.append(("1,000,000 rows, import.max_mb 200", big, raised, []))
    accepted = store("d")
    cases.append(("20,000 rows, default limits (accepted)", fits, accepted, []))
    for label, path, mine, extra in cases:
        seconds, kb, outcome = timed(["import", str(path), *extra], mine)
        size = path.stat().st_size / 1024 / 1024
        print(f"{label:<48} {size:8.1f} {seconds:8.2f} {kb / 1024:8.0f}  {outcome}")
    for args in (["check"], ["action", "list"]):
        seconds, kb, _ = timed(args, dict(accepted, COLUMNS="80"))
        print(
            f"{'then kt ' + ' '.join(args) + ' on the 20,000-action plan':<48} {'':>8} {seconds:8.2f} {kb / 1024:8.0f}"
        )


if __name__ == "__main__":
    main()
