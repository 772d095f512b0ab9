"""The owners' return, end to end on .xlsx: export (locked, validated, stamped), fill in as an
owner would with openpyxl, import with --updates (dry run, rules of kt log, conflicts, all or
nothing, re-import), --all-owners, and the whole plan as .xlsx."""

from __future__ import annotations

import json
import subprocess
import zipfile
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from helpers.needs import need_libreoffice

from knowsley_tracker.errors import NotFoundError, PersonalDataError, ValidationError

HEADERS = [
    "Action",
    "Recommendation",
    "Title",
    "Due",
    "Status now",
    "Progress now",
    "Latest update",
    "New progress (%)",
    "New status",
    "Update note",
    "kt stamp (do not edit)",
]


def store_state(db: Path) -> tuple[bytes, list[str]]:
    aux = db.with_name(db.name + ".d")
    files = sorted(str(p.relative_to(aux)) for p in aux.rglob("*") if p.is_file() and p.name != "lock")
    return db.read_bytes(), files


def export_return(kt: Any, owner: str, path: Path) -> Path:
    result = kt("export", "--format", "xlsx", "--owner", owner, "-o", str(path))
    assert result.exit_code == 0, result.stderr
    return path


def fill(path: Path, out: Path, edits: dict[str, dict[str, Any]]) -> Path:
    """Fill in a return as its owner would: by action id, the new progress, status and note."""
    wb = openpyxl.load_workbook(path)
    ws = wb.active
    columns = {cell.value: cell.column for cell in ws[4]}
    for row in ws.iter_rows(min_row=5):
        action = row[0].value
        for header, value in edits.get(action, {}).items():
            ws.cell(row=row[0].row, column=columns[header], value=value)
    wb.save(out)
    return out


@pytest.fixture
def returns(plan: Any) -> Any:
    """The conftest plan (O1 owns A1, A2 open; O2 owns A3 open and A4 complete), plus a
    formula-looking action for O1 and an owner with no open actions."""
    assert plan("action", "add", "R1", "=HYPERLINK(\"http://example.org\",\"x\") audit", "--owner", "O1",
                "--due", "20/12/2025").exit_code == 0  # fmt: skip
    assert plan("owner", "add", "Director of Children's Services").exit_code == 0
    assert plan("owner", "edit", "O1", "--email", "sam.carter@test.gov.uk").exit_code == 0
    return plan


def test_the_return_is_locked_validated_and_stamped(returns: Any, tmp_path: Path) -> None:
    path = export_return(returns, "O1", tmp_path / "return-O1.xlsx")
    wb = openpyxl.load_workbook(path)
    ws = wb.active
    assert ws.title == "Return"
    assert (
        ws["A1"].value == "Test Council improvement plan: return for O1 Head of Service, Disabled Children (Sam Carter)"
    )
    assert [c.value for c in ws[4]] == HEADERS
    rows = [[c.value for c in row] for row in ws.iter_rows(min_row=5)]
    assert [(r[0], r[2], r[3].date().isoformat(), r[4], r[5], r[6]) for r in rows] == [
        ("A1", "Audit open disabled children's cases", "2025-11-15", "In progress", 40, "Audit tool agreed"),
        ("A2", "Publish a plan for the disabled children's service", "2025-12-10", "Not started", 0, None),
        ("A5", '=HYPERLINK("http://example.org","x") audit', "2025-12-20", "Not started", 0, None),
    ]
    assert all(r[7] is None and r[8] is None and r[9] is None for r in rows)
    assert [r[10].split("|")[2:4] for r in rows] == [["O1", "A1"], ["O1", "A2"], ["O1", "A5"]]
    # Locked sheet: only the three shaded columns are editable; the stamp column is hidden.
    assert ws.protection.sheet is True
    for row in ws.iter_rows(min_row=5):
        assert [cell.protection.locked for cell in row] == [True] * 7 + [False] * 3 + [True]
    assert ws.column_dimensions["K"].hidden is True
    validations = {str(dv.sqref): (dv.type, dv.formula1, dv.formula2) for dv in ws.data_validations.dataValidation}
    assert validations == {
        "H5:H7": ("whole", "0", "100"),
        "I5:I7": ("list", '"Not started,In progress,Blocked,Complete,Dropped"', None),
    }
    # A formula-looking title is a text cell (with Excel's quote prefix), never a formula.
    title = ws["C7"]
    assert (title.data_type, title.quotePrefix) == ("s", True)
    sheet_xml = zipfile.ZipFile(path).read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet_xml


def test_return_round_trip_end_to_end(returns: Any, db: Path, tmp_path: Path, monkeypatch: Any) -> None:
    path = export_return(returns, "O1", tmp_path / "return-O1.xlsx")
    filled = fill(path, tmp_path / "filled.xlsx", {
        "A1": {"New progress (%)": 70, "Update note": "Audit of 20 cases complete"},
        "A2": {"New status": "Behind", "Update note": "Waiting for the new service manager"},
    })  # fmt: skip
    before = store_state(db)
    dry = returns("import", str(filled), "--updates", "--dry-run")
    assert dry.exit_code == 0, dry.stderr
    assert dry.stdout.splitlines() == [
        'Would log on A1 (row 5): progress 40% -> 70%; note "Audit of 20 cases complete".',
        'Would log on A2 (row 6): status not-started -> in-progress; note "Waiting for the new service manager '
        'Status in the sheet: Behind.".',
        f"Dry run of the return {filled} from O1 Head of Service, Disabled Children (Sam Carter) (3 rows): "
        "2 updates to log; 1 row left blank. Nothing was saved.",
    ]
    assert store_state(db) == before

    monkeypatch.setenv("KNOWSLEY_TRACKER_USER", "Performance Officer")
    result = returns("import", str(filled), "--updates")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines() == [
        'Logged L3 on A1 (row 5): progress 40% -> 70%; note "Audit of 20 cases complete".',
        'Logged L4 on A2 (row 6): status not-started -> in-progress; note "Waiting for the new service manager '
        'Status in the sheet: Behind.".',
        f"Imported the return {filled} from O1 Head of Service, Disabled Children (Sam Carter) (3 rows): "
        "2 updates logged; 1 row left blank.",
    ]
    a1 = json.loads(returns("action", "show", "A1", "--json").stdout)
    assert (a1["progress"], a1["last_note"]) == (70, "Audit of 20 cases complete")
    assert (a1["log"][-1]["by"], a1["log"][-1]["changes"]) == (
        "Head of Service, Disabled Children (Sam Carter) (return)",
        {"progress": [40, 70]},
    )
    a2 = json.loads(returns("action", "show", "A2", "--json").stdout)
    assert a2["log"][-1]["note"] == "Waiting for the new service manager\nStatus in the sheet: Behind."
    history = json.loads(returns("history", "--json", "-n", "1").stdout)
    assert history[0]["by"] == "Performance Officer"
    assert history[0]["what"] == "import filled.xlsx --updates"

    # Importing the same return again changes nothing.
    before = store_state(db)
    again = returns("import", str(filled), "--updates")
    assert again.exit_code == 0, again.stderr
    assert again.stdout.splitlines() == [
        "Row 5: A1 already has this update (from an earlier import of this return).",
        "Row 6: A2 already has this update (from an earlier import of this return).",
        f"Nothing to import from the return {filled} from O1 Head of Service, Disabled Children (Sam Carter) "
        "(3 rows: 2 rows already applied; 1 row left blank): the plan is unchanged.",
    ]
    assert store_state(db) == before


def test_a_row_whose_action_changed_since_the_export_is_refused_and_nothing_is_saved(
    returns: Any, db: Path, tmp_path: Path
) -> None:
    path = export_return(returns, "O1", tmp_path / "return-O1.xlsx")
    filled = fill(path, tmp_path / "filled.xlsx", {
        "A1": {"New progress (%)": 70},
        "A2": {"Update note": "Draft shared with partners"},
    })  # fmt: skip
    assert returns("log", "A1", "Half the teams audited", "--progress", "55", "--by", "Team Manager").exit_code == 0
    before = store_state(db)
    result = returns("import", str(filled), "--updates")
    assert (result.exit_code, result.stdout) == (ValidationError.exit_code, "")
    assert result.stderr == (
        f"Error: {filled} has 1 problem; nothing was imported.\n"
        "  row 5: A1 changed after this return was exported on 30 Nov 2025 09:00: L3 by Team Manager on "
        "30 Nov 2025 09:00 (progress 40 -> 55). Nothing was imported: check the row against the plan, then export "
        "a fresh return.\n"
    )
    assert store_state(db) == before
    # A fresh return is accepted.
    fresh = fill(export_return(returns, "O1", tmp_path / "fresh.xlsx"), tmp_path / "fresh-filled.xlsx",
                 {"A1": {"New progress (%)": 70}})  # fmt: skip
    assert returns("import", str(fresh), "--updates").exit_code == 0


def test_each_row_is_checked_with_the_rules_of_kt_log(returns: Any, db: Path, tmp_path: Path) -> None:
    path = export_return(returns, "O1", tmp_path / "return-O1.xlsx")
    filled = fill(path, tmp_path / "filled.xlsx", {
        "A1": {"New progress (%)": 150},  # past the sheet's validation, as a crafted file would be
        "A2": {"New status": "Dropped"},
        "A5": {"New status": "Nearly there", "Update note": "x"},
    })  # fmt: skip
    before = store_state(db)
    result = returns("import", str(filled), "--updates")
    assert result.exit_code == ValidationError.exit_code
    assert result.stderr == (
        f"Error: {filled} has 3 problems; nothing was imported.\n"
        "  row 5, New progress (%): Progress must be a whole number from 0 to 100, not '150'.\n"
        '  row 6: Dropping A2 needs a reason: kt log A2 "why" --status dropped.\n'
        "  row 7, New status: Unknown status 'Nearly there': use one of Not started, Not yet started, On track, "
        "In progress, Behind, Off track, Delayed, Blocked, On hold, Complete, Completed, Done, Closed, Dropped, "
        "Cancelled.\n"
    )
    assert store_state(db) == before
    personal = fill(path, tmp_path / "personal.xlsx", {"A1": {"Update note": "Visited the family at L36 9YU"}})
    refused = returns("import", str(personal), "--updates")
    assert refused.exit_code == ValidationError.exit_code
    assert "row 5: The note looks like it contains a UK postcode." in refused.stderr
    assert store_state(db) == before
    allowed = returns("import", str(personal), "--updates", "--allow-personal-data", "The council's office")
    assert allowed.exit_code == 0, allowed.stderr
    assert PersonalDataError.exit_code == 6


def test_a_tampered_or_foreign_return_is_refused(returns: Any, db: Path, tmp_path: Path) -> None:
    path = export_return(returns, "O1", tmp_path / "return-O1.xlsx")
    wb = openpyxl.load_workbook(path)
    ws = wb.active
    ws["H5"], ws["H6"], ws["H7"] = 50, 10, 20
    ws["K6"] = ws["K6"].value.replace("|A2|", "|A3|")  # claims to be another action
    ws["K7"] = "edited"
    ws["A5"] = "A3"
    tampered = tmp_path / "tampered.xlsx"
    wb.save(tampered)
    result = returns("import", str(tampered), "--updates")
    assert result.stderr == (
        f"Error: {tampered} has 3 problems; nothing was imported.\n"
        "  row 5: The action column says 'A3' but the row was exported for A1.\n"
        "  row 6: The action column says 'A2' but the row was exported for A3.\n"
        "  row 7: The stamp column is empty or was changed, so this row cannot be checked: export a fresh return.\n"
    )
    # The same return imported into another plan.
    other = tmp_path / "other.json"
    assert returns("--db", str(other), "init", "--authority", "Other Council").exit_code == 0
    filled = fill(path, tmp_path / "filled.xlsx", {"A1": {"New progress (%)": 60}})
    foreign = returns("--db", str(other), "import", str(filled), "--updates")
    assert foreign.stderr == (
        f"Error: {filled} has 1 problem; nothing was imported.\n  row 5: This return was exported from another plan.\n"
    )
    # A plan sheet is not a return.
    plan_sheet = tmp_path / "plan.xlsx"
    assert returns("export", "-o", str(plan_sheet)).exit_code == 0
    not_return = returns("import", str(plan_sheet), "--updates")
    assert not_return.exit_code == ValidationError.exit_code
    assert "has no new_progress, new_status, note, stamp columns" in not_return.stderr
    assert not_return.stderr.endswith("export a fresh return with kt export --format xlsx --owner O3.\n")


def test_all_owners_writes_one_return_each(returns: Any, tmp_path: Path, db: Path) -> None:
    folder = tmp_path / "returns"
    result = returns("export", "--all-owners", "--dir", str(folder))
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines() == [
        f"Wrote {folder / 'return-O1.xlsx'}: 3 open actions for Head of Service, Disabled Children (Sam Carter).",
        f"Wrote {folder / 'return-O2.xlsx'}: 1 open action for Head of Service, Care Leavers.",
        "No return for O3 Director of Children's Services: no open actions.",
    ]
    assert sorted(p.name for p in folder.iterdir()) == ["return-O1.xlsx", "return-O2.xlsx"]
    rows = list(openpyxl.load_workbook(folder / "return-O2.xlsx").active.iter_rows(min_row=5, values_only=True))
    assert [r[0] for r in rows] == ["A3"]  # A4 is complete
    into_store = returns("export", "--all-owners", "--dir", str(db.with_name(db.name + ".d")))
    assert into_store.exit_code == ValidationError.exit_code
    assert "is the store itself or inside its folder: write the output elsewhere." in into_store.stderr
    for args, message in [
        (["--all-owners"], "--all-owners writes one file per owner into --dir FOLDER: give both."),
        (["--format", "csv", "--owner", "O1"], "--owner and --all-owners make owners' returns: they go with --format xlsx."),
        (["--format", "xlsx", "--owner", "O1", "--all-owners", "--dir", "x"], "Give --owner for one return or --all-owners for all, not both."),
    ]:  # fmt: skip
        refused = returns("export", *args)
        assert (refused.exit_code, refused.stderr) == (ValidationError.exit_code, f"Error: {message}\n")
    unknown = returns("export", "--format", "xlsx", "--owner", "O9", "-o", str(tmp_path / "x.xlsx"))
    assert unknown.exit_code == NotFoundError.exit_code


def test_the_whole_plan_as_xlsx_round_trips(returns: Any, db: Path, tmp_path: Path, monkeypatch: Any) -> None:
    assert returns("action", "add", "R2", "Clear \x1b[2J screen\x07 -5% agency rate", "--due", "+3w").exit_code == 0
    path = tmp_path / "plan.xlsx"
    result = returns("export", "-o", str(path))
    assert result.stdout == f"Wrote 6 rows to {path}.\n"
    ws = openpyxl.load_workbook(path).active
    titles = [row[4] for row in ws.iter_rows(min_row=2, values_only=True)]
    # Control characters an .xlsx cannot hold are shown as escapes; everything else is kept exactly.
    assert titles[-1] == "Clear \\x1b[2J screen\\x07 -5% agency rate"
    assert '=HYPERLINK("http://example.org","x") audit' in titles
    csv_before = returns("export", "--format", "csv").stdout_bytes
    other = tmp_path / "copy.json"
    monkeypatch.setenv("KNOWSLEY_TRACKER_DB", str(other))
    assert returns("init", "--authority", "Test Council").exit_code == 0
    imported = returns("import", str(path), "--accept-rag", "As exported")
    assert imported.exit_code == 0, imported.stderr
    csv_after = returns("export", "--format", "csv").stdout_bytes
    assert csv_after.replace(b"\\x1b[2J screen\\x07", b"\x1b[2J screen\x07") == csv_before
    terminal = returns("export", "--format", "xlsx")
    assert terminal.exit_code == 0  # piped: the bytes go through
    monkeypatch.setenv("TTY_COMPATIBLE", "1")
    refused = returns("export", "--format", "xlsx")
    assert refused.stderr == "Error: An .xlsx workbook is not for the terminal: give -o FILE.xlsx, or redirect it.\n"


@pytest.mark.slow
def test_libreoffice_keeps_formula_looking_cells_of_a_return_as_text(returns: Any, tmp_path: Path) -> None:
    need_libreoffice()
    path = export_return(returns, "O1", tmp_path / "return-O1.xlsx")
    profile = tmp_path / "lo-profile"
    done = subprocess.run(
        ["soffice", "--headless", f"-env:UserInstallation=file://{profile}", "--convert-to", "csv",
         "--outdir", str(tmp_path), str(path)],
        capture_output=True, text=True, timeout=240, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    shown = (tmp_path / "return-O1.csv").read_text(encoding="utf-8", errors="replace")
    assert '=HYPERLINK(""http://example.org"",""x"") audit' in shown  # shown as typed, not run
