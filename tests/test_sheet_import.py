"""kt import of the sheets councils keep: header synonyms and --map, .xlsx with a title
block and merged cells, encodings (UTF-16, Windows-1252), council dates and statuses,
the RAG column as a proposal, import limits, and hostile workbooks."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import date
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from knowsley_tracker.errors import ValidationError
from knowsley_tracker.service.council_values import read_due, read_status
from knowsley_tracker.service.plan_sheet import COLUMNS, HEADER_SYNONYMS, header_key

DATA = Path(__file__).parent / "data"
COUNCIL = DATA / "council_plan.xlsx"
SAMPLE = DATA / "sample_plan.csv"
ROOT = Path(__file__).parent.parent


def store_state(db: Path) -> tuple[bytes, list[str]]:
    aux = db.with_name(db.name + ".d")
    files = sorted(str(p.relative_to(aux)) for p in aux.rglob("*") if p.is_file() and p.name != "lock")
    return db.read_bytes(), files


@pytest.fixture
def empty(kt: Any, db: Path) -> Any:
    assert kt("init", "--authority", "Test Council").exit_code == 0
    return kt


def write(path: Path, text: str, encoding: str = "utf-8") -> str:
    path.write_bytes(text.encode(encoding))
    return str(path)


# -- the council workbook --------------------------------------------------------------------

COUNCIL_LINES = [
    f"Read sheet 'Improvement plan' of {COUNCIL}.",
    "Header row: row 4 (the rows above it were skipped).",
    "{verb} focus area LEADERSHIP: Leadership",
    "{verb} focus area MC: Missing children",
    "{verb} owner: Head of Quality Assurance",
    "{verb} owner: Principal Social Worker",
    "{verb} owner: Head of Service, Safeguarding",
    "{verb} R1: The quality and impact of management oversight and supervision.",
    "{verb} R2: The response to children who go missing from home or care.",
    "{verb} A1 under R1, due 31 Dec 2025: Audit supervision records in every team",
    "{verb} A2 under R1, no due date: Train team managers in reflective supervision",
    "{verb} A3 under R1, due 30 Sep 2025: Publish the supervision policy",
    "{verb} A4 under R2, due 31 Dec 2025: Offer every child a return home interview within 72 hours",
    "{verb} A5 under R2, no due date: Agree the missing-from-care protocol with the police",
    "{verb} A6 under R2, due 31 Mar 2026: Report missing episodes to the board each month",
    "Note: row 5, status: 'On track' read as in-progress.",
    "Note: row 6, due: 'TBC': no due date.",
    'Note: row 6, rag: the sheet says Amber, the rules say Green: not applied (kt import --accept-rag "reason" '
    "takes the sheet's RAG as an override).",
    "Note: row 7, due: 'Sept 2025' read as 30 Sep 2025, the last day of that month.",
    "Note: row 7, rag: the sheet says Green, the rules say Complete: not applied (kt import --accept-rag "
    '"reason" takes the sheet\'s RAG as an override).',
    "Note: row 8, due: 'Q3 2025/26' read as 31 Dec 2025, the last day of quarter 3 of that financial year.",
    "Note: row 8, status: 'Behind' read as in-progress; the word is kept in the progress log.",
    'Note: row 8, rag: the sheet says Red, the rules say Green: not applied (kt import --accept-rag "reason" '
    "takes the sheet's RAG as an override).",
    "Note: row 9, due: 'Ongoing': no due date.",
    "Note: row 9, status: 'On track' read as in-progress.",
    "Note: row 10, due: 'Mar 2026' read as 31 Mar 2026, the last day of that month.",
    'Ignored columns (not recognised): Evidence of impact. To import one, name its column with --map "Header=column".',
]


def test_council_workbook_imports_without_map(empty: Any, db: Path) -> None:
    before = store_state(db)
    dry = empty("import", str(COUNCIL), "--dry-run")
    assert dry.exit_code == 0, dry.stderr
    assert dry.stdout.splitlines() == [line.format(verb="Would create") for line in COUNCIL_LINES] + [
        f"Dry run of {COUNCIL} (6 rows): would create 2 focus areas, 3 owners, 2 recommendations, 6 actions "
        "and 4 progress notes. Nothing was saved."
    ]
    assert store_state(db) == before

    result = empty("import", str(COUNCIL))
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines() == [line.format(verb="Created") for line in COUNCIL_LINES] + [
        f"Imported {COUNCIL} (6 rows): created 2 focus areas, 3 owners, 2 recommendations, 6 actions "
        "and 4 progress notes."
    ]
    actions = {a["ref"]: a for a in json.loads(empty("action", "list", "--json").stdout)}
    got = {ref: (a["due"], a["status"], a["progress"], a["owner"], a["focus"]) for ref, a in actions.items()}
    assert got == {
        "A1": ("2025-12-31", "in-progress", 50, "Head of Quality Assurance", "LEADERSHIP"),
        "A2": (None, "not-started", 0, "Principal Social Worker", "LEADERSHIP"),
        "A3": ("2025-09-30", "complete", 100, "Head of Quality Assurance", "LEADERSHIP"),
        "A4": ("2025-12-31", "in-progress", 30, "Head of Service, Safeguarding", "MC"),
        "A5": (None, "in-progress", 60, "Head of Service, Safeguarding", "MC"),
        "A6": ("2026-03-31", "in-progress", 20, "Head of Service, Safeguarding", "MC"),
    }
    a4 = json.loads(empty("action", "show", "A4", "--json").stdout)
    assert [e["note"] for e in a4["log"]] == ["Recruitment to the interview team delayed\nStatus in the sheet: Behind."]
    assert (a4["rag_override"], a4["rag"]) == (None, "green")
    # Importing the same workbook again changes nothing.
    before = store_state(db)
    again = empty("import", str(COUNCIL))
    assert again.exit_code == 0, again.stderr
    assert again.stdout.splitlines()[-1] == (
        f"Nothing to import from {COUNCIL} (6 rows; 6 rows match the plan already): the plan is unchanged."
    )
    assert store_state(db) == before


def test_no_due_date_is_shown_and_flagged_in_the_report_gaps(empty: Any) -> None:
    assert empty("import", str(COUNCIL)).exit_code == 0
    listing = empty("action", "list").stdout.splitlines()
    assert [line.split("\t")[:2] for line in listing if line.startswith(("A2\t", "A5\t"))] == [
        ["A2", "no due date"],
        ["A5", "no due date"],
    ]
    report = json.loads(empty("report", "--json").stdout)
    gaps = {r["ref"]: r["gaps"] for r in report["recommendations"]}
    assert "1 action with no due date (A2)" in gaps["R1"]
    assert "1 action with no due date (A5)" in gaps["R2"]
    assert "no due date" in empty("report").stdout
    shown = empty("action", "show", "A2").stdout
    assert "no due date" in shown
    # Never overdue nor due soon, and the calendar has no day for it.
    check = json.loads(empty("check", "--json", "--due-within", "60").stdout)
    assert {i["ref"] for i in check["items"] if i["kind"] in ("overdue", "due")} == {"A1", "A4"}
    ics = empty("export", "--format", "ics").stdout
    assert "A2 due" not in ics and "A1 due" in ics
    # Giving it a due date later needs no reason (there was none to change) and is logged.
    edited = empty("action", "edit", "A2", "--due", "31/01/2026")
    assert edited.exit_code == 0, edited.stderr
    a2 = json.loads(empty("action", "show", "A2", "--json").stdout)
    assert (a2["due"], a2["original_due"]) == ("2026-01-31", "2026-01-31")
    assert a2["log"][-1]["changes"] == {"due": [None, "2026-01-31"]}


def test_sheet_option_chooses_a_sheet_and_names_the_others(empty: Any) -> None:
    missing = empty("import", str(COUNCIL), "--sheet", "Actions")
    assert (missing.exit_code, missing.stderr) == (
        ValidationError.exit_code,
        f"Error: {COUNCIL} has no sheet 'Actions': its sheets are 'Improvement plan', 'Notes'.\n",
    )
    notes = empty("import", str(COUNCIL), "--sheet", "notes", "--dry-run")
    assert notes.exit_code == ValidationError.exit_code
    assert notes.stderr.startswith(f"Error: {COUNCIL} has no rec_ref, recommendation, focus_area, action, owner, due")
    chosen = empty("import", str(COUNCIL), "--sheet", "improvement plan", "--dry-run")
    assert chosen.exit_code == 0, chosen.stderr
    wrong = empty("import", str(COUNCIL), "--encoding", "cp1252")
    assert wrong.stderr == "Error: --encoding is for CSV files: an .xlsx workbook says its own encoding.\n"
    csv_sheet = empty("import", str(SAMPLE), "--sheet", "Plan")
    assert csv_sheet.stderr == "Error: --sheet is for .xlsx workbooks: a CSV file has one sheet.\n"


def test_accept_rag_takes_the_sheet_rag_as_overrides_with_its_reason(empty: Any) -> None:
    no_reason = empty("import", str(COUNCIL), "--accept-rag", " ")
    assert no_reason.stderr == 'Error: --accept-rag needs a reason, e.g. --accept-rag "Agreed at the May board".\n'
    result = empty("import", str(COUNCIL), "--accept-rag", "Ratings agreed at the November board")
    assert result.exit_code == 0, result.stderr
    assert "not applied" not in result.stdout
    a2 = json.loads(empty("action", "show", "A2", "--json").stdout)
    assert (a2["rag"], a2["rag_override"], a2["rag_reason"]) == (
        "amber",
        "amber",
        "Ratings agreed at the November board",
    )
    a4 = json.loads(empty("action", "show", "A4", "--json").stdout)
    assert (a4["rag"], a4["rag_computed"]) == ("red", "green")
    assert a4["log"][0]["changes"] == {"rag_override": [None, "red"]}


# -- headers ------------------------------------------------------------------------------


def test_every_synonym_maps_to_one_column_and_the_readme_lists_them() -> None:
    seen: dict[str, str] = {}
    for column, names in HEADER_SYNONYMS.items():
        assert column in COLUMNS
        for name in names:
            assert seen.setdefault(header_key(name), column) == column, name
            assert header_key(name) not in {header_key(c) for c in COLUMNS if c != column}
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    table = readme.split("<!-- header synonyms -->", 1)[1].split("\n\n", 1)[0]
    rows = [line for line in table.splitlines() if line.startswith("| `")]
    listed = {r.split("|")[1].strip().strip("`"): r.split("|")[2].strip() for r in rows}
    assert listed == {column: ", ".join(names) for column, names in HEADER_SYNONYMS.items()}


def test_council_headers_in_a_csv_and_map_for_the_rest(empty: Any, tmp_path: Path) -> None:
    text = (
        "Ref,Ofsted recommendation,Priority,Key action,Who,Deadline,Current status,% Complete,"
        "Progress update,Notes\n"
        "4,Return home interviews are offered.,Missing children,Agree the standard,Head of Service,"
        "Q4 2025/26,Off track,10%,Waiting for the police,internal only\n"
    )
    path = write(tmp_path / "council.csv", text)
    refused = empty("import", path)
    assert refused.exit_code == ValidationError.exit_code
    assert "has no owner column" in refused.stderr and "(row 1: Ref, Ofsted recommendation" in refused.stderr
    typo = empty("import", path, "--map", "Whom=owner")
    assert typo.stderr.startswith("Error: --map Whom=...: no column 'Whom' in the header row (row 1: 'Ref', ")
    bad_target = empty("import", path, "--map", "Who=person")
    assert bad_target.stderr == (
        "Error: --map Who=person: 'person' is not a column; use one of rec_ref, recommendation, focus_area, "
        "action_id, action, owner, due, status, progress, rag, latest_update.\n"
    )
    no_equals = empty("import", path, "--map", "Who")
    assert no_equals.stderr == 'Error: --map takes "Header=column", e.g. --map "Lead officer=owner", not \'Who\'.\n'
    dry = empty("import", path, "--map", "Who=owner", "--dry-run")
    assert dry.exit_code == 0, dry.stderr
    assert dry.stdout.splitlines() == [
        "Would create focus area MC: Missing children",
        "Would create owner: Head of Service",
        "Would create R1: Return home interviews are offered.",
        "Would create A1 under R1, due 31 Mar 2026: Agree the standard",
        "Note: row 2, due: 'Q4 2025/26' read as 31 Mar 2026, the last day of quarter 4 of that financial year.",
        "Note: row 2, status: 'Off track' read as in-progress; the word is kept in the progress log.",
        'Ignored columns (not recognised): Notes. To import one, name its column with --map "Header=column".',
        f"Dry run of {path} (1 row): would create 1 focus area, 1 owner, 1 recommendation, 1 action and "
        "1 progress note. Nothing was saved.",
    ]
    mapped_to_synonym = empty("import", path, "--map", "Who=Lead officer")
    assert mapped_to_synonym.exit_code == 0, mapped_to_synonym.stderr
    a1 = json.loads(empty("action", "show", "A1", "--json").stdout)
    assert (a1["progress"], a1["status"], a1["log"][0]["note"]) == (
        10,
        "in-progress",
        "Waiting for the police\nStatus in the sheet: Off track.",
    )


def test_header_row_below_a_title_block_in_a_csv(empty: Any, tmp_path: Path) -> None:
    text = (
        "Test Council improvement plan,,,,,\n"
        "Updated monthly,,,,,\n"
        ",,,,,\n"
        "Ref,Recommendation,Theme,Action,Lead,Target date\n"
        "1,Supervision is regular.,Leadership,Audit supervision,Head of Quality Assurance,TBC\n"
    )
    result = empty("import", write(tmp_path / "titled.csv", text))
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines()[:2] == [
        "Header row: row 4 (the rows above it were skipped).",
        "Created focus area LEADERSHIP: Leadership",
    ]
    assert "Note: row 5, due: 'TBC': no due date." in result.stdout.splitlines()


# -- council dates and statuses ------------------------------------------------------------


def _parse(text: str) -> date:
    day, month, year = (int(x) for x in text.split("/"))
    return date(year, month, day)


@pytest.mark.parametrize(
    ("text", "due", "note"),
    [
        ("TBC", None, "'TBC': no due date."),
        ("t.b.c.", None, "'t.b.c.': no due date."),
        ("Ongoing", None, "'Ongoing': no due date."),
        ("To be confirmed", None, "'To be confirmed': no due date."),
        ("", None, "empty: no due date."),
        ("Sept 2025", date(2025, 9, 30), "'Sept 2025' read as 30 Sep 2025, the last day of that month."),
        ("September 2025", date(2025, 9, 30), "'September 2025' read as 30 Sep 2025, the last day of that month."),
        ("Feb 2028", date(2028, 2, 29), "'Feb 2028' read as 29 Feb 2028, the last day of that month."),
        ("Q1 2025/26", date(2025, 6, 30), "'Q1 2025/26' read as 30 Jun 2025, the last day of quarter 1 of that "
         "financial year."),
        ("Q3 2025/26", date(2025, 12, 31), "'Q3 2025/26' read as 31 Dec 2025, the last day of quarter 3 of that "
         "financial year."),
        ("q4 2025-2026", date(2026, 3, 31), "'q4 2025-2026' read as 31 Mar 2026, the last day of quarter 4 of "
         "that financial year."),
        ("2025/26 Q2", date(2025, 9, 30), "'2025/26 Q2' read as 30 Sep 2025, the last day of quarter 2 of that "
         "financial year."),
        ("01/09/2025", date(2025, 9, 1), ""),
    ],
)  # fmt: skip
def test_council_due_dates(text: str, due: date | None, note: str) -> None:
    assert read_due(text, _parse) == (due, note)


def test_council_due_dates_refused() -> None:
    with pytest.raises(ValidationError) as bad_years:
        read_due("Q3 2025/27", _parse)
    assert bad_years.value.message == (
        "Cannot read 'Q3 2025/27' as a financial quarter: the years must follow each other, as in Q3 2025/26."
    )


@pytest.mark.parametrize(
    ("text", "status", "word", "note"),
    [
        ("On track", "in-progress", "", "'On track' read as in-progress."),
        ("in progress", "in-progress", "", ""),
        ("Behind", "in-progress", "Behind", "'Behind' read as in-progress; the word is kept in the progress log."),
        ("OFF TRACK", "in-progress", "Off track", "'OFF TRACK' read as in-progress; the word is kept in the "
         "progress log."),
        ("Delayed", "in-progress", "Delayed", "'Delayed' read as in-progress; the word is kept in the progress log."),
        ("Completed", "complete", "", "'Completed' read as complete."),
        ("Closed", "complete", "", "'Closed' read as complete."),
        ("Done", "complete", "", "'Done' read as complete."),
        ("Not yet started", "not-started", "", "'Not yet started' read as not-started."),
    ],
)  # fmt: skip
def test_council_statuses(text: str, status: str, word: str, note: str) -> None:
    reading = read_status(text)
    assert (reading.status.value, reading.word, reading.note) == (status, word, note)


def test_unknown_status_is_refused_with_the_accepted_words() -> None:
    with pytest.raises(ValidationError) as refused:
        read_status("Nearly there")
    assert refused.value.message == (
        "Unknown status 'Nearly there': use one of Not started, Not yet started, On track, In progress, Behind, "
        "Off track, Delayed, Blocked, On hold, Complete, Completed, Done, Closed, Dropped, Cancelled."
    )


# -- encodings --------------------------------------------------------------------------------

ROWS = [
    ["rec_ref", "recommendation", "focus_area", "action", "owner", "due"],
    ["R1", "Café provision – £2,000 budget", "DIS", "Open the café", "Head of Service", "1/12/2025"],
]


def csv_text(delimiter: str = ",") -> str:
    import csv

    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n").writerows(ROWS)
    return buffer.getvalue()


PLAIN = csv_text()


@pytest.mark.parametrize(
    ("encoding", "delimiter"),
    [("utf-16", ","), ("utf-16", "\t"), ("utf-16-le", "\t"), ("utf-16-be", ",")],
)
def test_utf16_files_are_read_as_utf16(empty: Any, tmp_path: Path, encoding: str, delimiter: str) -> None:
    """Excel's "Unicode Text" is UTF-16 with a byte-order mark and tabs; some tools leave the mark out."""
    path = write(tmp_path / "unicode.csv", csv_text(delimiter), encoding)
    result = empty("import", path)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines()[0] == f"Read {path} as UTF-16 text."
    assert json.loads(empty("rec", "show", "R1", "--json").stdout)["text"] == "Café provision – £2,000 budget"


def test_windows_1252_is_advised_and_read_with_encoding(empty: Any, tmp_path: Path, db: Path) -> None:
    path = write(tmp_path / "excel.csv", PLAIN, "cp1252")
    before = store_state(db)
    refused = empty("import", path)
    assert (refused.exit_code, refused.stderr) == (
        ValidationError.exit_code,
        f"Error: {path} is not UTF-8 text (byte 60 is not valid; in Windows-1252 it is 'é'): if Excel saved it as "
        "'CSV (Comma delimited)', repeat with --encoding cp1252, or in Excel use Save As, "
        "'CSV UTF-8 (Comma delimited)'.\n",
    )
    assert store_state(db) == before
    result = empty("import", path, "--encoding", "cp1252")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines()[0] == f"Read {path} as cp1252 text."
    assert json.loads(empty("rec", "show", "R1", "--json").stdout)["text"] == "Café provision – £2,000 budget"
    unknown = empty("import", path, "--encoding", "klingon")
    assert unknown.stderr == "Error: Unknown encoding 'klingon': use utf-8, cp1252 (Windows-1252), utf-16 or latin-1.\n"


def test_nul_characters_are_still_refused(empty: Any, tmp_path: Path) -> None:
    path = tmp_path / "binary.csv"
    path.write_bytes(b"rec_ref,recommendation\x00\x01\x02 and more text that is not UTF-16 at all\n")
    assert empty("import", str(path)).stderr == f"Error: {path} is not a CSV file (it contains NUL characters).\n"


# -- a focus area whose name holds a line break -----------------------------------------------


def test_focus_name_with_a_newline_survives_export_and_reimport(kt: Any, db: Path, tmp_path: Path) -> None:
    assert kt("init", "--authority", "Test Council").exit_code == 0
    assert kt("focus", "add", "CL", "Care leavers\nand care-experienced young people").exit_code == 0
    assert kt("rec", "add", "The caseloads of personal advisers.", "--focus", "CL", "--ref", "9").exit_code == 0
    assert kt("action", "add", "R1", "Recruit two advisers", "--due", "31/03/2026").exit_code == 0
    exported = tmp_path / "plan.csv"
    assert kt("export", "-o", str(exported)).exit_code == 0
    before = store_state(db)
    again = kt("import", str(exported))
    assert again.exit_code == 0, again.stderr
    assert (
        again.stdout
        == f"Nothing to import from {exported} (1 row; 1 row matches the plan already): the plan is unchanged.\n"
    )
    assert store_state(db) == before
    other = tmp_path / "other.json"
    assert kt("--db", str(other), "init", "--authority", "Other").exit_code == 0
    assert kt("--db", str(other), "import", str(exported)).exit_code == 0
    areas = json.loads(kt("--db", str(other), "focus", "list", "--json").stdout)
    assert [(a["key"], a["name"]) for a in areas] == [("CL", "Care leavers\nand care-experienced young people")]


# -- limits ------------------------------------------------------------------------------------

HEADER = "rec_ref,recommendation,focus_area,action,owner,due\n"


def test_rows_beyond_the_limit_are_refused_and_nothing_is_written(empty: Any, db: Path, tmp_path: Path) -> None:
    assert empty("config", "set", "import.max_rows", "50").exit_code == 0
    rows = "".join(f"R1,Text.,DIS,Action {n},Lead,1/12/2025\n" for n in range(51))
    path = write(tmp_path / "big.csv", HEADER + rows)
    before = store_state(db)
    result = empty("import", path)
    assert (result.exit_code, result.stderr) == (
        ValidationError.exit_code,
        f"Error: {path} has more than 50 rows, over the import limit: split the file, or raise the limit with "
        "kt config set import.max_rows 100.\n",
    )
    assert store_state(db) == before
    fits = write(tmp_path / "fits.csv", HEADER + rows.split("\n", 1)[1])
    assert empty("import", fits, "--dry-run").exit_code == 0


def test_a_file_over_the_size_limit_is_refused_before_it_is_read(empty: Any, tmp_path: Path) -> None:
    huge = tmp_path / "huge.csv"
    with huge.open("wb") as handle:  # a sparse file: 3 GB that costs no disk and would cost 3 GB to read
        handle.write(HEADER.encode())
        handle.truncate(3 * 1024**3)
    result = empty("import", str(huge))
    assert (result.exit_code, result.stderr) == (
        ValidationError.exit_code,
        f"Error: {huge} is larger than 50 MB, over the import limit: split the file, or raise the limit with "
        "kt config set import.max_mb 100.\n",
    )
    assert empty("config", "set", "import.max_mb", "1").exit_code == 0
    piped = empty("import", "-", "--format", "csv", input=HEADER + "x" * (1024 * 1024 + 1))
    assert piped.stderr == (
        "Error: standard input is larger than 1 MB, over the import limit: split the file, or raise the limit "
        "with kt config set import.max_mb 2.\n"
    )


def test_an_xlsx_beyond_the_row_limit_is_refused(empty: Any, tmp_path: Path) -> None:
    assert empty("config", "set", "import.max_rows", "20").exit_code == 0
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(HEADER.strip().split(","))
    for n in range(40):
        ws.append(["R1", "Text.", "DIS", f"Action {n}", "Lead", "01/12/2025"])
    path = tmp_path / "long.xlsx"
    wb.save(path)
    result = empty("import", str(path))
    assert result.stderr == (
        f"Error: {path} has more than 20 rows, over the import limit: split the file, or raise the limit with "
        "kt config set import.max_rows 40.\n"
    )


# -- hostile workbooks ------------------------------------------------------------------------


def _workbook(cells: dict[str, Any]) -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    for ref, value in cells.items():
        ws[ref] = value
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def test_a_far_away_cell_does_not_blow_up_the_reader(empty: Any, tmp_path: Path) -> None:
    """python-calamine aborts the process on this 5 KB file (it allocates the whole grid)."""
    header = dict(zip(["A1", "B1", "C1", "D1", "E1", "F1"], HEADER.strip().split(","), strict=True))
    row = dict(zip(["A2", "B2", "C2", "D2", "E2", "F2"], ["R1", "Text.", "DIS", "Do it", "Lead", "01/12/2025"],
                   strict=True))  # fmt: skip
    path = tmp_path / "far.xlsx"
    path.write_bytes(_workbook({**header, **row, "XFD1048576": "far away"}))
    result = empty("import", str(path), "--dry-run")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines()[-1].startswith(f"Dry run of {path} (1 row): would create 1 focus area")


def test_a_zip_bomb_is_refused_without_unpacking(empty: Any, tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        with archive.open("xl/worksheets/sheet1.xml", "w") as part:
            chunk = b" " * (1024 * 1024)
            for _ in range(60):  # 60 MB of spaces, about 60 KB packed
                part.write(chunk)
    path = tmp_path / "bomb.xlsx"
    path.write_bytes(buffer.getvalue())
    assert path.stat().st_size < 200_000
    result = empty("import", str(path))
    assert (result.exit_code, result.stderr) == (
        ValidationError.exit_code,
        f"Error: {path} unpacks to 60 MB, more than 50 MB, over the import limit: split the file, or raise the "
        "limit with kt config set import.max_mb 100.\n",
    )


def _lie_about_size(raw: bytes, name: bytes, size: int) -> bytes:
    """Rewrite a zip part's declared uncompressed size in both of its headers."""
    data = bytearray(raw)
    at = 0
    while (at := data.find(name, at + 1)) != -1:
        if data[at - 30 : at - 26] == b"PK\x03\x04":
            data[at - 30 + 22 : at - 30 + 26] = size.to_bytes(4, "little")
        elif data[at - 46 : at - 42] == b"PK\x01\x02":
            data[at - 46 + 24 : at - 46 + 28] = size.to_bytes(4, "little")
    return bytes(data)


def test_a_part_larger_than_it_declares_is_refused(empty: Any, tmp_path: Path) -> None:
    raw = _workbook({"A1": "rec_ref", "B1": "x" * 5000})
    path = tmp_path / "liar.xlsx"
    path.write_bytes(_lie_about_size(raw, b"xl/worksheets/sheet1.xml", 100))
    result = empty("import", str(path))
    assert result.exit_code == ValidationError.exit_code
    assert result.stderr.startswith(f"Error: {path} cannot be read as an .xlsx workbook (")


def test_files_that_are_not_workbooks(empty: Any, tmp_path: Path) -> None:
    text = tmp_path / "plan.xlsx"
    text.write_text(HEADER)
    assert empty("import", str(text)).stderr == f"Error: {text} is not an .xlsx workbook (it is not a zip archive).\n"
    old = tmp_path / "old.xlsx"
    old.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600))
    assert empty("import", str(old)).stderr == (
        f"Error: {old} is an old-style .xls workbook or a password-protected one: in Excel, save it as "
        "'Excel Workbook (.xlsx)' without a password.\n"
    )
    empty_zip = tmp_path / "empty.xlsx"
    with zipfile.ZipFile(empty_zip, "w") as archive:
        archive.writestr("hello.txt", "hello")
    result = empty("import", str(empty_zip))
    assert result.exit_code == ValidationError.exit_code
    assert result.stderr.startswith(f"Error: {empty_zip} cannot be read as an .xlsx workbook (")


def test_xlsx_cells_keep_their_text_exactly_and_formulas_are_never_run(empty: Any, tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(HEADER.strip().split(","))
    ws.append(["R1", "Text.", "DIS", "placeholder", "  Lead  ", "01/12/2025"])
    ws["D2"].value = '=HYPERLINK("http://example.org","x")'
    ws["D2"].data_type = "s"  # typed as text: a title that looks like a formula
    ws.append(["R1", "Text.", "DIS", "[bold]Second[/] \u202eevil", "Lead", "02/12/2025"])
    path = tmp_path / "text.xlsx"
    wb.save(path)
    result = empty("import", str(path))
    assert result.exit_code == 0, result.stderr
    assert "\u202e" not in result.stdout and "[bold]Second[/] \\u202eevil" in result.stdout
    assert "Lead" in result.stdout and "  Lead" not in result.stdout  # surrounding spaces trimmed, as in CSV
    titles = [a["title"] for a in json.loads(empty("action", "list", "--json").stdout)]
    assert titles == ['=HYPERLINK("http://example.org","x")', "[bold]Second[/] \u202eevil"]


def _with_sheet_xml(edit: Any) -> bytes:
    """A workbook whose sheet XML has been rewritten by ``edit`` (as a crafted file would be)."""
    source = zipfile.ZipFile(io.BytesIO(_workbook({"A1": "rec_ref", "B1": "recommendation"})))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                data = edit(data.decode()).encode()
            archive.writestr(info.filename, data)
    return out.getvalue()


def test_xml_entity_attacks_are_refused(empty: Any, tmp_path: Path) -> None:
    entities = '<!ENTITY a "aaaaaaaaaa">' + "".join(
        f'<!ENTITY {chr(98 + i)} "' + f"&{chr(97 + i)};" * 10 + '">' for i in range(9)
    )
    laughs = tmp_path / "laughs.xlsx"  # a billion laughs: 10 GB of text from a few hundred bytes
    laughs.write_bytes(
        _with_sheet_xml(lambda xml: xml.replace("<worksheet", f"<!DOCTYPE worksheet [{entities}]><worksheet", 1)
                        .replace(">rec_ref<", ">&j;<"))
    )  # fmt: skip
    result = empty("import", str(laughs))
    assert result.exit_code == ValidationError.exit_code
    assert result.stderr.startswith(
        f"Error: {laughs} cannot be read as an .xlsx workbook (ParseError: limit on input amplification factor"
    )
    secret = tmp_path / "secret.txt"
    secret.write_text("not for the plan")
    xxe = tmp_path / "xxe.xlsx"  # an external entity naming a local file
    xxe.write_bytes(
        _with_sheet_xml(
            lambda xml: xml.replace(
                "<worksheet", f'<!DOCTYPE worksheet [<!ENTITY x SYSTEM "file://{secret}">]><worksheet', 1
            ).replace(">rec_ref<", ">&x;<")
        )
    )
    leaked = empty("import", str(xxe))
    assert leaked.exit_code == ValidationError.exit_code
    assert leaked.stderr.startswith(f"Error: {xxe} cannot be read as an .xlsx workbook (ParseError: undefined entity")
    assert "not for the plan" not in leaked.stdout + leaked.stderr
