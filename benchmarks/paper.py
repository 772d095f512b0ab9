"""Time writing the board paper (PDF, Word, HTML) as whole kt processes, and count its pages.

    python benchmarks/paper.py                      # the 300-action plan (built on first use) and the example
    python benchmarks/paper.py --runs 7

Each format is written --runs times after a warm-up; the median wall time is printed
with the PDF's page count. The large plan is benchmarks/generate.py's (300 actions,
5,000 updates, seed 1), shared with benchmarks/run.py. Figures, not asserts.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from run import ensure_plan  # noqa: E402

EXAMPLE = ROOT / "examples" / "knowsley-2025" / "plan.json"


def kt(db: Path, now: str, *args: str) -> float:
    env = {**os.environ, "KNOWSLEY_TRACKER_DB": str(db), "KNOWSLEY_TRACKER_NOW": now, "TZ": "UTC"}
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "knowsley_tracker", *args], env=env, capture_output=True, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"kt {' '.join(args)} failed: {done.stderr.decode()}")
    return elapsed


def pdf_pages(path: Path) -> int:
    from pypdf import PdfReader

    return len(PdfReader(path).pages)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    large = ensure_plan("large council", {"actions": 300, "updates": 5000}, 1, False)
    plans = [("example, 36 actions", EXAMPLE, "2025-11-30"), ("large council, 300 actions", large, "2025-11-30")]
    with tempfile.TemporaryDirectory(prefix="kt-paper-") as work:
        for name, db, now in plans:
            for suffix in ("pdf", "docx", "html"):
                target = Path(work) / f"paper.{suffix}"
                kt(db, now, "report", "-o", str(target))  # warm-up
                times = [kt(db, now, "report", "-o", str(target)) for _ in range(args.runs)]
                extra = f", {pdf_pages(target)} A4 pages" if suffix == "pdf" else ""
                print(f"{name}: .{suffix} median {statistics.median(times):.2f} s "
                      f"(min {min(times):.2f}, max {max(times):.2f}, {args.runs} runs){extra}")  # fmt: skip


if __name__ == "__main__":
    main()
