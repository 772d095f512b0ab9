"""Render the HTML board pack and take a PNG screenshot of it in headless Chromium.

By default it reports on the example plan (examples/knowsley-2025/plan.json),
with its KPIs and board meetings, as at 30 Nov 2025. Point --db at a store of
your own to use that instead.

    python scripts/screenshot_report.py --out board-pack.png
    python scripts/screenshot_report.py --db plan.json --html pack.html --out pack.png --pdf pack.pdf

Needs a Chromium or Chrome binary (Debian: apt-get install chromium). It is run
headless with a fresh profile and no background networking.
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
from knowsley_tracker.paper_logo import with_logo  # noqa: E402
from knowsley_tracker.render.report_html import to_html  # noqa: E402
from knowsley_tracker.reports import build_report  # noqa: E402
from knowsley_tracker.service.session import Session  # noqa: E402
from knowsley_tracker.storage import Store  # noqa: E402

EXAMPLE = ROOT / "examples" / "knowsley-2025" / "plan.json"
AS_OF = date(2025, 11, 30)
USER = "Performance and Intelligence Manager"


def write_html(db: Path, target: Path, today: date) -> None:
    store = Store.open(db)
    s = Session(store=store, clock=Clock.at(today), user=USER)
    target.write_text(to_html(with_logo(build_report(s))), encoding="utf-8")


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
    parser.add_argument("--db", type=Path, default=EXAMPLE, help="A store to report on (default: the example plan).")
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
        html = args.html or Path(work) / "board-pack.html"
        write_html(args.db, html, date.fromisoformat(args.today))
        run_chromium(binary, html, png=args.out, width=args.width, height=args.height, pdf=args.pdf)
    print(f"Wrote {args.out}" + (f", {args.html}" if args.html else "") + (f", {args.pdf}" if args.pdf else "") + ".")


if __name__ == "__main__":
    main()
