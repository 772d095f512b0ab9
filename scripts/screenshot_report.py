"""Render the HTML board pack and take a PNG screenshot of it in headless Chromium.

By default it copies the example plan (examples/knowsley-2025/plan.json) to a
temporary folder, adds fictional KPIs with a year of monthly values and three
board meetings (rebuilt from the plan's progress log), and writes the board
pack as at 30 Nov 2025. Point --db at a store of your own to use that instead.

    python scripts/screenshot_report.py --out board-pack.png
    python scripts/screenshot_report.py --db plan.json --html pack.html --out pack.png --pdf pack.pdf

Needs a Chromium or Chrome binary (Debian: apt-get install chromium). It is run
headless with a fresh profile and no background networking. The KPI values
are invented for illustration and describe no real council; there is no data
about children.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from knowsley_tracker.dates import Clock  # noqa: E402
from knowsley_tracker.render.report_html import to_html  # noqa: E402
from knowsley_tracker.reports import build_report  # noqa: E402
from knowsley_tracker.service import boards, kpis  # noqa: E402
from knowsley_tracker.service.session import Session  # noqa: E402
from knowsley_tracker.storage import Store  # noqa: E402

EXAMPLE = ROOT / "examples" / "knowsley-2025" / "plan.json"
AS_OF = date(2025, 11, 30)
USER = "Performance and Intelligence Manager"
MONTHS = [f"2025-{m:02d}" for m in range(1, 11)]

# Fictional KPIs in the shape of section 5 of the domain brief:
# (key, name, target, unit, lower is better, focus, recommendations, target date, {period: value}).
DEMO_KPIS: list[tuple[str, str, float, str, bool, str, list[str], str, dict[str, float]]] = [
    ("HP-01", "Child and family assessments completed within 45 working days", 85, "%", False, "HP", ["R4"],
     "31/03/2026", dict(zip(MONTHS, [68, 70, 69, 73, 75, 74, 77, 79, 80, 81], strict=True))),
    ("HP-03", "Re-referrals within 12 months", 18, "%", True, "HP", ["R2"],
     "30/09/2026", dict(zip(MONTHS, [24, 24, 23, 23, 22, 22, 21, 20, 19, 18], strict=True))),
    ("DIS-01", "Open disabled children's cases with an up-to-date assessment and plan", 95, "%", False, "DIS",
     ["R3"], "31/03/2026", dict(zip(MONTHS[1:], [55, 58, 63, 67, 71, 75, 79, 82, 84], strict=True))),
    ("CIC-01", "Children in care visits in timescale", 90, "%", False, "CIC", ["R7"],
     "31/03/2026", dict(zip(MONTHS, [82, 83, 85, 84, 86, 87, 86, 88, 89, 88], strict=True))),
    ("CL-02", "Care leavers aged 19 to 21 in suitable accommodation", 92, "%", False, "CL", ["R8"],
     "31/03/2026", {"2024-Q4": 88, "2025-Q1": 89, "2025-Q2": 90, "2025-Q3": 90}),
    ("CL-04", "Average personal adviser caseload", 20, "young people per PA", True, "WF", ["R9"],
     "31/03/2026", dict(zip(MONTHS, [32, 31, 30, 29, 27, 26, 25, 24, 24, 24], strict=True))),
    ("QA-01", "Case-file audits graded good or better", 60, "%", False, "QA", ["R11"],
     "30/09/2026", dict(zip(MONTHS, [18, 21, 24, 26, 28, 31, 33, 35, 36, 37], strict=True))),
]  # fmt: skip
# Two meetings already held (rebuilt from the progress log) and the next one, still to come.
BOARDS = [("03/09/2025", "Deep dive: disabled children"), ("15/10/2025", "Deep dive: care leavers"),
          ("14/01/2026", "Monitoring visit readiness")]  # fmt: skip


def add_demo_data(db: Path) -> None:
    """Add the fictional KPIs and board meetings to a copy of the example plan."""
    with Store.open(db, write=True) as store:
        s = Session(store=store, clock=Clock.at(AS_OF), user=USER)
        with s.transaction("demo KPIs and boards for the screenshot"):
            for key, name, target, unit, lower, focus, recs, target_date, values in DEMO_KPIS:
                kpis.add_kpi(
                    s,
                    key,
                    name,
                    target=str(target),
                    unit=unit,
                    lower_is_better=lower,
                    focus=focus,
                    recs=recs,
                    target_date=target_date,
                )
                for period, value in values.items():
                    kpis.record_value(s, key, str(value), period=period)
            for when, note in BOARDS:
                boards.add_board(s, when, note)


def write_html(db: Path, target: Path, today: date) -> None:
    store = Store.open(db)
    s = Session(store=store, clock=Clock.at(today), user=USER)
    target.write_text(to_html(build_report(s)), encoding="utf-8")


def find_chromium(given: str | None) -> str:
    for name in [given] if given else ["chromium", "chromium-browser", "google-chrome", "chrome"]:
        if name and (found := shutil.which(name)):
            return found
    sys.exit("No Chromium found: install it (apt-get install chromium) or pass --chromium PATH.")


def run_chromium(binary: str, html: Path, *, png: Path, width: int, height: int, pdf: Path | None) -> None:
    with tempfile.TemporaryDirectory(prefix="kt-chromium-") as profile:
        base = [
            binary,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--hide-scrollbars",
            f"--user-data-dir={profile}",
        ]
        url = html.resolve().as_uri()
        jobs = [[*base, f"--window-size={width},{height}", f"--screenshot={png.resolve()}", url]]
        if pdf is not None:
            jobs.append([*base, "--no-pdf-header-footer", f"--print-to-pdf={pdf.resolve()}", url])
        for args in jobs:
            done = subprocess.run(args, capture_output=True, text=True, timeout=120, check=False)
            if done.returncode != 0:
                sys.exit(f"Chromium failed ({done.returncode}):\n{done.stderr[-2000:]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", type=Path, help="A store to report on (default: the example plan plus demo KPIs).")
    parser.add_argument("--out", type=Path, default=Path("board-pack.png"), help="The PNG to write.")
    parser.add_argument("--html", type=Path, help="Also keep the HTML board pack here.")
    parser.add_argument("--pdf", type=Path, help="Also print the pack to this A4 PDF.")
    parser.add_argument("--chromium", help="The Chromium or Chrome binary.")
    parser.add_argument("--width", type=int, default=1240, help="Window width in pixels.")
    parser.add_argument("--height", type=int, default=6400, help="Window height in pixels (the page is long).")
    parser.add_argument("--today", default=AS_OF.isoformat(), help="Report date (ISO), default 2025-11-30.")
    args = parser.parse_args()
    binary = find_chromium(args.chromium)
    os.environ.setdefault("TZ", "UTC")
    with tempfile.TemporaryDirectory(prefix="kt-screenshot-") as work:
        if args.db is None:
            db = Path(work) / "plan.json"
            shutil.copyfile(EXAMPLE, db)
            add_demo_data(db)
        else:
            db = args.db
        html = args.html or Path(work) / "board-pack.html"
        write_html(db, html, date.fromisoformat(args.today))
        run_chromium(binary, html, png=args.out, width=args.width, height=args.height, pdf=args.pdf)
    print(f"Wrote {args.out}" + (f", {args.html}" if args.html else "") + (f", {args.pdf}" if args.pdf else "") + ".")


if __name__ == "__main__":
    main()
