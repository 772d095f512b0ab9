"""Write the board paper as Word and PDF, and render pages of both to PNG to look at.

    python scripts/paper_pages.py --out pages/              # the example plan, as at 30 Nov 2025
    python scripts/paper_pages.py --db plan.json --today 2026-01-10 --out pages/ --dpi 80

It writes, into --out: ``paper.docx`` and ``paper.pdf`` (kt report -o, so the
real command is what is looked at), ``paper-docx.pdf`` (the Word file converted
by LibreOffice headless, as Word-like software lays it out), and PNG pages of
both PDFs (``pdf-1.png``..., ``docx-1.png``...). It prints the page count of
each. Needs Debian's poppler-utils (pdftoppm) and libreoffice-writer-nogui; the
LibreOffice step is skipped, with a note, where soffice is not installed.
The tests never need this script.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "knowsley-2025" / "plan.json"


def kt(db: Path, today: str, *args: str) -> None:
    env = {**os.environ, "KNOWSLEY_TRACKER_NOW": today, "TZ": "UTC", "KNOWSLEY_TRACKER_DB": str(db)}
    done = subprocess.run(
        [sys.executable, "-m", "knowsley_tracker", *args], env=env, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        sys.exit(f"kt {' '.join(args)} failed ({done.returncode}): {done.stderr.strip()}")


def pages(pdf: Path, prefix: Path, dpi: int, first: int | None, last: int | None) -> list[Path]:
    args = ["pdftoppm", "-png", "-r", str(dpi)]
    if first:
        args += ["-f", str(first)]
    if last:
        args += ["-l", str(last)]
    subprocess.run([*args, str(pdf), str(prefix)], check=True)
    return sorted(prefix.parent.glob(prefix.name + "-*.png"))


def page_count(pdf: Path) -> int:
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    return int(next(line.split()[-1] for line in info.splitlines() if line.startswith("Pages:")))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", type=Path, default=EXAMPLE, help="A store (default: the example plan).")
    parser.add_argument("--today", default="2025-11-30", help="The report date (ISO), default 2025-11-30.")
    parser.add_argument("--out", type=Path, default=Path("paper-pages"), help="Folder for the files and pages.")
    parser.add_argument("--dpi", type=int, default=70, help="Resolution of the PNG pages.")
    parser.add_argument("--first", type=int, help="First page to render (default: all).")
    parser.add_argument("--last", type=int, help="Last page to render.")
    parser.add_argument("--board", help="The meeting the paper is for (default: the next one).")
    args = parser.parse_args()
    if not shutil.which("pdftoppm"):
        sys.exit("pdftoppm not found: apt-get install poppler-utils")
    args.out.mkdir(parents=True, exist_ok=True)
    for old in args.out.glob("*.png"):
        old.unlink()
    extra = ["--board", args.board] if args.board else []
    docx, pdf = args.out / "paper.docx", args.out / "paper.pdf"
    kt(args.db, args.today, "report", "-o", str(docx), *extra)
    kt(args.db, args.today, "report", "-o", str(pdf), *extra)
    made = pages(pdf, args.out / "pdf", args.dpi, args.first, args.last)
    print(f"{pdf}: {page_count(pdf)} A4 pages; {len(made)} rendered to {args.out}/pdf-N.png")
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        print("LibreOffice not found (apt-get install libreoffice-writer-nogui): the .docx was not converted.")
        return
    with tempfile.TemporaryDirectory(prefix="kt-lo-") as profile:
        subprocess.run(
            [soffice, f"-env:UserInstallation=file://{profile}", "--headless", "--convert-to", "pdf",
             "--outdir", profile, str(docx)],
            check=True, capture_output=True, timeout=300,
        )  # fmt: skip
        converted = args.out / "paper-docx.pdf"
        shutil.move(str(Path(profile) / "paper.pdf"), converted)
    made = pages(converted, args.out / "docx", args.dpi, args.first, args.last)
    print(f"{docx} (converted by LibreOffice): {page_count(converted)} A4 pages; {len(made)} rendered to docx-N.png")


if __name__ == "__main__":
    main()
