"""Write tests/data/council_plan.xlsx: an improvement plan laid out as councils keep them.

    python tests/data/make_council_plan.py

A merged title block above the header row, the headers councils use ("Ref",
"Ofsted recommendation", "Theme", "Lead officer", "Target date", "RAG",
"Update"), recommendations and themes merged down over their actions, "TBC",
"Ongoing", "Sept 2025" and "Q3 2025/26" as target dates, a real date cell, a
month-formatted date cell, "On track", "Behind" and "Complete" as statuses, a
percentage-formatted "% complete" column and a column kt does not know. Roles
and fictional officers only. The file is committed; this script says how it was made.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import openpyxl
from openpyxl.styles import Font

OUT = Path(__file__).with_name("council_plan.xlsx")

HEADER = [
    "Ref",
    "Ofsted recommendation",
    "Theme",
    "Action",
    "Lead officer",
    "Target date",
    "Status",
    "% complete",
    "RAG",
    "Update",
    "Evidence of impact",
]
REC_1 = "The quality and impact of management oversight and supervision."
REC_2 = "The response to children who go missing from home or care."
ROWS: list[list[object]] = [
    ["1", REC_1, "Leadership", "Audit supervision records in every team", "Head of Quality Assurance",
     date(2025, 12, 31), "On track", 0.5, "Green", "Audit tool agreed with team managers", "Audit report"],
    [None, None, None, "Train team managers in reflective supervision", "Principal Social Worker",
     "TBC", "Not started", None, "Amber", None, None],
    [None, None, None, "Publish the supervision policy", "Head of Quality Assurance",
     "Sept 2025", "Complete", 1, "Green", "Published on the intranet", "Policy"],
    ["2", REC_2, "Missing children", "Offer every child a return home interview within 72 hours",
     "Head of Service, Safeguarding", "Q3 2025/26", "Behind", 0.3, "Red",
     "Recruitment to the interview team delayed", None],
    [None, None, None, "Agree the missing-from-care protocol with the police", "Head of Service, Safeguarding",
     "Ongoing", "On track", 0.6, "Green", None, None],
    [None, None, None, "Report missing episodes to the board each month", "Head of Service, Safeguarding",
     date(2026, 3, 1), "In progress", 0.2, "Green", "First report in January", None],
]  # fmt: skip


def build() -> openpyxl.Workbook:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Improvement plan"
    ws.append(["Test Council children's services improvement plan"])
    ws.merge_cells("A1:K1")
    ws["A1"].font = Font(bold=True, size=14)
    ws.append(["Owner: Director of Children's Services. Updated monthly by the performance team."])
    ws.merge_cells("A2:K2")
    ws.append([])
    ws.append(HEADER)
    for row in ROWS:
        ws.append(row)
    for cell in ws["H"][4:]:
        cell.number_format = "0%"
    ws["F10"].number_format = "mmm-yy"  # typed as "Mar 2026", which Excel stores as 1 Mar 2026
    for col in ("A", "B", "C"):
        ws.merge_cells(f"{col}5:{col}7")
        ws.merge_cells(f"{col}8:{col}10")
    notes = wb.create_sheet("Notes")
    notes.append(["RAG key: Red, Amber, Green"])
    return wb


if __name__ == "__main__":
    build().save(OUT)
    print(f"Wrote {OUT}")
