"""Compare the two candidate .xlsx readers for ``kt import``: openpyxl and python-calamine.

    python benchmarks/xlsx_readers.py              # 300, 3,000 and 20,000 rows, 7 runs each
    python benchmarks/xlsx_readers.py --runs 11

Each figure is the median wall time of a fresh process (as every kt command is
one) that imports the library and reads every cell of the first sheet as text,
beside the floor of bare ``python -c pass``. The sheets are written with
openpyxl: a title block with merged cells, then a council-style header row and
one row per action. Both readers need installing (``pip install openpyxl
python-calamine``); kt itself depends on openpyxl only.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

READERS = {
    "python -c pass": "pass",
    "import openpyxl": "import openpyxl",
    "import python_calamine": "import python_calamine",
    "openpyxl read": (
        "import sys, openpyxl\n"
        "wb = openpyxl.load_workbook(sys.argv[1], read_only=True, data_only=False)\n"
        "ws = wb.worksheets[0]\n"
        "n = sum(1 for row in ws.iter_rows(values_only=True) for v in row if v is not None)\n"
        "wb.close()\n"
    ),
    "calamine read": (
        "import sys, python_calamine\n"
        "wb = python_calamine.CalamineWorkbook.from_path(sys.argv[1])\n"
        "ws = wb.get_sheet_by_index(0)\n"
        "n = sum(1 for row in ws.iter_rows() for v in row if v != '')\n"
    ),
}


def make_sheet(path: Path, rows: int) -> None:
    import openpyxl

    wb = openpyxl.Workbook(write_only=False)
    ws = wb.active
    ws.append(["Knowsley improvement plan 2025"])
    ws.merge_cells("A1:H1")
    ws.append(["Updated monthly by the performance team"])
    ws.merge_cells("A2:H2")
    ws.append([])
    ws.append(["Ref", "Ofsted recommendation", "Theme", "Action", "Lead officer", "Target date", "RAG", "Update"])
    for n in range(rows):
        ws.append(
            [
                f"R{n // 10 + 1}",
                f"Recommendation text number {n // 10 + 1}, as printed in the report.",
                "Help and protection",
                f"Action number {n + 1}: audit a sample of cases and report to the board",
                "Head of Service, Safeguarding",
                "31/03/2026",
                "Green",
                "On track; sample agreed with the principal social worker",
            ]
        )
    wb.save(path)


def time_it(code: str, arg: str) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code, arg], check=True)
    return (time.perf_counter() - start) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--rows", type=int, nargs="*", default=[300, 3000, 20000])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        sheets = {}
        for rows in args.rows:
            sheets[rows] = Path(tmp) / f"plan-{rows}.xlsx"
            make_sheet(sheets[rows], rows)
        print(f"median of {args.runs} runs (first discarded as warm-up), ms, fresh process each")
        for label in ("python -c pass", "import openpyxl", "import python_calamine"):
            times = [time_it(READERS[label], "") for _ in range(args.runs + 1)][1:]
            print(f"{label:<26} {statistics.median(times):8.1f}")
        for rows, path in sheets.items():
            for label in ("openpyxl read", "calamine read"):
                times = [time_it(READERS[label], str(path)) for _ in range(args.runs + 1)][1:]
                size = path.stat().st_size // 1024
                print(f"{label + f' {rows} rows':<26} {statistics.median(times):8.1f}   ({size} KiB file)")


if __name__ == "__main__":
    main()
