"""CSV export and import: spreadsheet-safe cells, exact round trips, all-or-nothing imports."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest

from knowsley_tracker.errors import NotFoundError, PersonalDataError, ValidationError
from knowsley_tracker.service.plan_sheet import neutralise, restore

DATA = Path(__file__).parent / "data"
BOM = "\ufeff"


def store_state(db: Path) -> tuple[bytes, list[str]]:
    """The store file's bytes and the files beside it (backups, segments), lock aside."""
    aux = db.with_name(db.name + ".d")
    files = sorted(str(p.relative_to(aux)) for p in aux.rglob("*") if p.is_file() and p.name != "lock")
    return db.read_bytes(), files


def new_store(kt: Any, db: Path, monkeypatch: pytest.MonkeyPatch, name: str) -> Path:
    other = db.with_name(name)
    monkeypatch.setenv("KNOWSLEY_TRACKER_DB", str(other))
    assert kt("init", "--authority", "Test Council").exit_code == 0
    return other


# -- cells ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "written"),
    [
        ("=SUM(A1:A3)", "'=SUM(A1:A3)"),
        ("+44 helpline", "'+44 helpline"),
        ("-5% agency rate", "'-5% agency rate"),
        ("@board", "'@board"),
        ("\tTabbed", "'\tTabbed"),
        ("\rCarriage return", "'\rCarriage return"),
        ("'=already quoted", "''=already quoted"),
        ("''+twice", "'''+twice"),
        ("'plain apostrophe", "'plain apostrophe"),
        ("Plain = text", "Plain = text"),
        ("", ""),
    ],
)
def test_formula_cells_are_neutralised_and_restored_exactly(text: str, written: str) -> None:
    assert neutralise(text) == written
    assert restore(written) == text


# -- export ---------------------------------------------------------------------------


def test_export_csv_exact_bytes(plan: Any) -> None:
    result = plan("export", "--format", "csv")
    assert result.exit_code == 0, result.stderr
    rec1 = "The quality of social work practice and management oversight for disabled children."
    owner1 = '"Head of Service, Disabled Children (Sam Carter)"'
    owner2 = '"Head of Service, Care Leavers"'
    assert result.stdout_bytes == (
        BOM + "rec_ref,recommendation,focus_area,action_id,action,owner,due,status,progress,rag,latest_update\r\n"
        f"R1,{rec1},Children with disabilities (DIS),A1,Audit open disabled children's cases,{owner1},"
        "15/11/2025,In progress,40,Red,Audit tool agreed\r\n"
        f"R1,{rec1},Children with disabilities (DIS),A2,Publish a plan for the disabled children's service,"
        f"{owner1},10/12/2025,Not started,0,Amber,\r\n"
        "R2,The caseloads of personal advisers (PAs).,Care-experienced young people (CL),A3,"
        f"Recruit two more personal advisers,{owner2},31/03/2026,Not started,0,Green,\r\n"
        "R2,The caseloads of personal advisers (PAs).,Care-experienced young people (CL),A4,"
        f"Agree a PA caseload cap,{owner2},30/09/2025,Complete,100,Complete,"
        "Cap of 20 agreed at corporate parenting board\r\n"
    ).encode("utf-8")


def test_export_dash_is_standard_output_and_names_never_lie(
    plan: Any, db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = plan("export", "--format", "csv", "-o", "-")
    assert (result.exit_code, result.stdout) == (0, plan("export", "--format", "csv").stdout)
    workbook = plan("export", "--format", "xlsx", "-o", "-", env={"TTY_COMPATIBLE": "1"})
    assert (workbook.exit_code, workbook.stdout) == (ValidationError.exit_code, "")
    for args, message in [
        (["--format", "csv", "-o", "planfile"], "planfile has no suffix to say what it holds: name it planfile.csv, "
         "or give -o - for standard output."),
        (["--format", "csv", "-o", "plan.xlsx"], "plan.xlsx ends in .xlsx, but csv was asked for: end the name in "
         ".csv or leave out --format."),
    ]:  # fmt: skip
        refused = plan("export", *args)
        assert (refused.exit_code, refused.stderr) == (ValidationError.exit_code, f"Error: {message}\n"), args
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plan.json", "plan.json.d"]  # no file named -


def test_export_to_file_infers_format_and_refuses_the_store(plan: Any, db: Path, tmp_path: Path) -> None:
    out = tmp_path / "plan-export.csv"
    result = plan("export", "-o", str(out))
    assert (result.exit_code, result.stdout) == (0, f"Wrote 4 rows to {out}.\n")
    assert out.read_bytes().startswith(BOM.encode() + b"rec_ref,")
    before = store_state(db)
    clash = plan("export", "--format", "json", "-o", str(db))
    assert clash.exit_code == ValidationError.exit_code
    assert clash.stderr == f"Error: {db} is the store itself or inside its folder: write the output elsewhere.\n"
    assert store_state(db) == before
    unknown = plan("export", "-o", str(tmp_path / "plan.txt"))
    assert (
        unknown.stderr
        == "Error: Which format? plan.txt does not end in .csv or .xlsx or .json or .ics: give --format (csv, xlsx, json, ics).\n"
    )
    wrong = plan("export", "--format", "csv", "--open-only")
    assert wrong.stderr == "Error: --open-only goes with --format ics.\n"


def test_recommendation_without_actions_gets_its_own_row(plan: Any) -> None:
    assert plan("rec", "add", "Supervision is regular and reflective.").exit_code == 0
    rows = list(csv.reader(io.StringIO(plan("export", "--format", "csv").stdout.lstrip(BOM))))
    assert rows[-1] == ["R3", "Supervision is regular and reflective.", "", "", "", "", "", "", "", "", ""]


# -- round trip ---------------------------------------------------------------------------

AWKWARD = [
    ("R1", 'Review "front door" thresholds, then re-audit'),
    ("R1", "Line one\nLine two, with a comma"),
    ("R1", "Café, naïve – ‘smart quotes’ — Ysgol Gymraeg ✓ 😀"),
    ("R2", "=SUM(A1:A3)"),
    ("R2", "+44 helpline for carers"),
    ("R2", "-5% agency rate"),
    ("R2", "@mention the board"),
    ("R2", "'=already quoted"),
]


def test_round_trip_reproduces_the_plan(plan: Any, db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for rec, title in AWKWARD:
        # "--" so that a title starting with "-" is not read as an option.
        assert plan("action", "add", "--due", "31/01/2026", "--owner", "O2", "--", rec, title).exit_code == 0
    assert plan("owner", "add", "@Formula-looking role, with comma").exit_code == 0
    assert plan("action", "add", "R2", "Owned oddly", "--due", "+3w", "--owner", "O3").exit_code == 0
    assert plan("log", "A5", "=cmd|' /C calc'!A0 and \"quotes\",\nsecond line", "--progress", "10").exit_code == 0
    assert plan("action", "edit", "A3", "--rag", "red", "--reason", "Recruitment market is difficult").exit_code == 0
    assert plan("rec", "add", '=HYPERLINK("http://example.org") recommendation', "--focus", "CL").exit_code == 0
    exported = plan("export", "--format", "csv").stdout_bytes
    cells = [c for row in csv.reader(io.StringIO(exported.decode("utf-8-sig"))) for c in row]
    assert "'=SUM(A1:A3)" in cells
    assert "''=already quoted" in cells  # one apostrophe added to "'=already quoted"
    assert "'@Formula-looking role, with comma" in cells
    assert not any(c[:1] in ("=", "+", "-", "@", "\t", "\r") for c in cells)
    original = json.loads(plan("action", "list", "--json").stdout)

    new_store(plan, db, monkeypatch, "copy.json")
    imported = plan("import", "-", "--format", "csv", "--accept-rag", "Kept from the exported plan", input=exported)
    assert imported.exit_code == 0, imported.stderr
    assert plan("export", "--format", "csv").stdout_bytes == exported
    copy = json.loads(plan("action", "list", "--json").stdout)
    fields = ("ref", "title", "due", "status", "progress", "rag", "rec", "focus", "owner", "last_note")
    assert [{k: a[k] for k in fields} for a in copy] == [{k: a[k] for k in fields} for a in original]
    overridden = json.loads(plan("action", "show", "A3", "--json").stdout)
    assert (overridden["rag_override"], overridden["rag_reason"]) == ("red", "Kept from the exported plan")


# -- importing a spreadsheet --------------------------------------------------------------


def test_import_sample_spreadsheet(kt: Any, db: Path) -> None:
    kt("init", "--authority", "Test Council")
    source = DATA / "sample_plan.csv"
    result = kt("import", str(source))
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines() == [
        "Created focus area DIS: Children with disabilities",
        "Created focus area CL: Care leavers",
        "Created focus area LEAD: Leadership and oversight",
        "Created owner: Head of Service, Disabled Children",
        "Created owner: Principal Social Worker",
        "Created owner: Head of Service, Care Leavers",
        "Created R1: The quality of social work practice and management oversight for disa…",
        "Created R2: The caseloads of personal advisers (PAs).",
        "Created R12: Supervision is regular, reflective and recorded.",
        "Created A1 under R1, due 30 Sep 2025: Audit all open disabled children's cases",
        "Created A2 under R1, due 31 Jan 2026: Publish a plan for the disabled children's service",
        "Created A3 under R1, due 15 Dec 2025: Train staff on the disabled children's threshold guidance",
        "Created A4 under R2, due 31 Mar 2026: Agree a PA caseload cap",
        "Created A5 under R2, due 1 Feb 2026: Recruit two more personal advisers",
        "Note: row 2, status: 'Completed' read as complete.",
        "Note: row 3, rag: the sheet says Red, the rules say Green: not applied (kt import --accept-rag "
        '"reason" takes the sheet\'s RAG as an override).',
        "Note: row 6, status: 'Done' read as complete.",
        "Ignored columns (not recognised): Monitoring and Evaluation. To import one, name its column with "
        '--map "Header=column".',
        f"Imported {source} (6 rows): created 3 focus areas, 3 owners, 3 recommendations, 5 actions "
        "and 3 progress notes.",
    ]
    actions = {a["ref"]: a for a in json.loads(kt("action", "list", "--json").stdout)}
    assert {ref: (a["status"], a["progress"], a["rag"]) for ref, a in actions.items()} == {
        "A1": ("complete", 100, "complete"),
        "A2": ("in-progress", 60, "green"),
        "A3": ("in-progress", 30, "green"),
        "A4": ("not-started", 0, "green"),
        "A5": ("complete", 100, "complete"),
    }
    a2 = json.loads(kt("action", "show", "A2", "--json").stdout)
    assert (a2["rag_override"], a2["rag_reason"], a2["rag_computed"]) == (None, "", "green")
    assert [(e["note"], e["changes"], e["by"]) for e in a2["log"]] == [
        ('Draft plan, "version 2", shared with partners', {}, "Test Officer")
    ]
    recs = {r["ref"]: r for r in json.loads(kt("rec", "list", "--json").stdout)}
    assert {ref: (r["report_ref"], r["focus"], r["actions"]) for ref, r in recs.items()} == {
        "R1": ("3", "DIS", ["A1", "A2", "A3"]),
        "R2": ("9", "CL", ["A4", "A5"]),
        "R12": ("", "LEAD", []),
    }
    # Importing the same file again changes nothing, byte for byte.
    before = store_state(db)
    again = kt("import", str(source))
    assert again.exit_code == 0
    assert again.stdout.splitlines()[-1] == (
        f"Nothing to import from {source} (6 rows; 6 rows match the plan already): the plan is unchanged."
    )
    assert store_state(db) == before


def test_dry_run_reports_and_writes_nothing(kt: Any, db: Path) -> None:
    kt("init", "--authority", "Test Council")
    before = store_state(db)
    source = DATA / "sample_plan.csv"
    result = kt("import", str(source), "--dry-run")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "Would create focus area DIS: Children with disabilities"
    assert lines[-1] == (
        f"Dry run of {source} (6 rows): would create 3 focus areas, 3 owners, 3 recommendations, 5 actions "
        "and 3 progress notes. Nothing was saved."
    )
    assert store_state(db) == before


def test_rows_matching_existing_actions_are_left_alone_with_a_note(kt: Any, db: Path) -> None:
    kt("init", "--authority", "Test Council")
    source = str(DATA / "sample_plan.csv")
    assert kt("import", source).exit_code == 0
    assert kt("log", "A3", "Half the teams trained", "--progress", "50").exit_code == 0
    before = store_state(db)
    result = kt("import", source)
    assert result.exit_code == 0
    assert result.stdout.splitlines() == [
        "Note: row 4, progress: A3 is already in the plan and differs; it was not changed "
        "(use kt log or kt action edit).",
        "Ignored columns (not recognised): Monitoring and Evaluation. To import one, name its column with "
        '--map "Header=column".',
        f"Nothing to import from {source} (6 rows; 5 rows match the plan already): the plan is unchanged.",
    ]
    assert store_state(db) == before


def test_bad_rows_are_all_reported_and_nothing_is_written(plan: Any, db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fresh = new_store(plan, db, monkeypatch, "fresh.json")
    before = store_state(fresh)
    source = DATA / "bad_plan.csv"
    result = plan("import", str(source))
    assert result.exit_code == PersonalDataError.exit_code  # row 5 is personal data; every problem is listed
    assert result.stdout == ""
    problems = [
        "  row 2, due: Cannot read '31/02/2026' as a date (no such day): use 1/9/2025, 2025-09-01, 1 Sep 2025, "
        "today, tomorrow, +10d, +2w or +3m.\n",
        "  row 3, status: Unknown status 'finished': use one of Not started, Not yet started, On track, In progress, "
        "Behind, Off track, Delayed, Blocked, On hold, Complete, Completed, Done, Closed, Dropped, Cancelled.\n",
        "  row 3, progress: Progress must be a whole number from 0 to 100, not 150.\n",
        "  row 4, action: The action is empty (a row with no action must leave every action column empty).\n",
        "  row 5, latest_update: The latest update looks like it contains a UK postcode. Plans must hold no "
        'personal data about children: remove it, or if it is not personal data, repeat with --allow-personal-data "why".\n',
        "  row 6, rag: RAG Blue (complete, evidenced) is only for closed actions; this one is in progress.\n",
        "  row 7, recommendation: R1 has different text on row 2.\n",
        "  row 8, action: The same action as row 6.\n",
    ]
    # Without --accept-rag the RAG column is only a proposal, so its Blue is not a problem.
    assert result.stderr == f"Error: {source} has 7 problems; nothing was imported.\n" + "".join(
        p for p in problems if "row 6, rag" not in p
    )
    assert store_state(fresh) == before
    # The same checks run in a dry run.
    dry = plan("import", str(source), "--dry-run")
    assert (dry.exit_code, dry.stderr) == (result.exit_code, result.stderr)
    accepting = plan("import", str(source), "--accept-rag", "Agreed at the board")
    assert accepting.exit_code == PersonalDataError.exit_code
    assert accepting.stderr == f"Error: {source} has 8 problems; nothing was imported.\n" + "".join(problems)
    assert store_state(fresh) == before


def test_recommendation_ref_clash_with_the_plan_is_refused(plan: Any, db: Path) -> None:
    before = store_state(db)
    source = DATA / "semicolon_plan.csv"
    result = plan("import", str(source))
    assert result.exit_code == ValidationError.exit_code
    assert result.stderr == (
        f"Error: {source} has 1 problem; nothing was imported.\n"
        "  row 2, recommendation: R1 is already in the plan as R1 with different text ('Disabled children: "
        "practice and oversight'): correct the text, or give this recommendation a reference the plan does not use.\n"
    )
    assert store_state(db) == before


def test_semicolon_separated_file(kt: Any) -> None:
    kt("init", "--authority", "Test Council")
    result = kt("import", str(DATA / "semicolon_plan.csv"))
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines()[:4] == [
        "Created focus area MISS: Missing children",
        "Created owner: Head of Service, Safeguarding",
        "Created R1: Return home interviews are offered and recorded.",
        "Created A1 under R1, due 28 Feb 2026: Agree the interview standard, then audit",
    ]


def write(path: Path, text: str) -> str:
    path.write_text(text, encoding="utf-8", newline="")
    return str(path)


def test_headers_are_matched_loosely_and_required(kt: Any, tmp_path: Path) -> None:
    kt("init", "--authority", "Test Council")
    loose = write(
        tmp_path / "loose.csv",
        "REC-REF,Recommendation , focus area,Action,OWNER,When\nR1,Text.,DIS,Do it,Lead,1/12/2025\n",
    )
    result = kt("import", loose)
    assert result.exit_code == ValidationError.exit_code
    assert result.stderr == (
        f"Error: {loose} has no due column: the header row (row 1: REC-REF, Recommendation, focus area, Action, "
        "OWNER, When) must name rec_ref, recommendation, focus_area, action, owner, due, and may name action_id, "
        'status, progress, rag, latest_update. Name another header with --map "Header=due"; kt import --help '
        "lists the headers it knows.\n"
    )
    mapped = kt("import", loose, "--map", "When=due", "--dry-run")
    assert mapped.exit_code == 0, mapped.stderr
    ok = write(
        tmp_path / "ok.csv", "REC-REF,Recommendation ,focus area,Action,OWNER,Due\nR1,Text.,DIS,Do it,Lead,1/12/2025\n"
    )
    assert kt("import", ok).exit_code == 0
    twice = write(tmp_path / "twice.csv", "rec_ref,Rec Ref,recommendation,focus_area,action,owner,due\n")
    assert kt("import", twice).stderr == (
        f"Error: {twice} has more than one rec_ref column (row 1): keep one of each, or --map the other to a "
        "different column.\n"
    )


def test_statuses_are_matched_leniently(kt: Any, tmp_path: Path) -> None:
    kt("init", "--authority", "Test Council")
    rows = ["rec_ref,recommendation,focus_area,action,owner,due,status,latest_update"]
    for n, status in enumerate(
        ["In progress", "in-progress", "IN_PROGRESS", "Completed", "Done", "not started", "On hold"]
    ):
        rows.append(f"R1,Text.,DIS,Action {n},Lead,1/12/2025,{status},")
    rows.append("R1,Text.,DIS,Action 7,Lead,1/12/2025,Dropped,Merged into action 0")
    assert kt("import", write(tmp_path / "s.csv", "\n".join(rows) + "\n")).exit_code == 0
    statuses = [a["status"] for a in json.loads(kt("action", "list", "--json").stdout)]
    assert sorted(statuses) == sorted(["in-progress"] * 3 + ["complete"] * 2 + ["not-started", "blocked", "dropped"])
    dropped = json.loads(kt("action", "show", "A8", "--json").stdout)
    assert (dropped["status"], dropped["dropped_reason"]) == ("dropped", "Merged into action 0")


def test_personal_data_can_be_allowed_with_a_reason(kt: Any, tmp_path: Path) -> None:
    kt("init", "--authority", "Test Council")
    path = write(
        tmp_path / "pd.csv",
        "rec_ref,recommendation,focus_area,action,owner,due\nR1,Text.,DIS,Open the hub at L36 9YU,Lead,1/12/2025\n",
    )
    refused = kt("import", path)
    assert refused.exit_code == PersonalDataError.exit_code
    assert "row 2, action: The action looks like it contains a UK postcode." in refused.stderr
    allowed = kt("import", path, "--allow-personal-data", "The council's office postcode, not a child's")
    assert allowed.exit_code == 0, allowed.stderr
    history = json.loads(kt("action", "show", "A1", "--json").stdout)
    assert history["title"] == "Open the hub at L36 9YU"
    reference = write(
        tmp_path / "ref.csv",
        "rec_ref,recommendation,focus_area,action,owner,due\nCase 123456,Text.,DIS,Another,Lead,1/12/2025\n",
    )
    by_reference = kt("import", reference)
    assert by_reference.exit_code == PersonalDataError.exit_code
    assert by_reference.stderr == (
        f"Error: {reference} has 1 problem; nothing was imported.\n"
        "  row 2, rec_ref: The recommendation's reference looks like it contains a case or record reference. "
        "Plans must hold no personal data about children: remove it, or if it is not personal data, repeat with "
        '--allow-personal-data "why".\n'
    )


def test_file_level_errors(kt: Any, db: Path, tmp_path: Path) -> None:
    kt("init", "--authority", "Test Council")
    latin = tmp_path / "latin1.csv"
    latin.write_bytes(
        "rec_ref,recommendation,focus_area,action,owner,due\nR1,Caf\xe9,DIS,A,B,1/12/2025\n".encode("latin-1")
    )
    result = kt("import", str(latin))
    assert result.exit_code == ValidationError.exit_code
    assert result.stderr == (
        f"Error: {latin} is not UTF-8 text (byte 58 is not valid; in Windows-1252 it is 'é'): if Excel saved it as "
        "'CSV (Comma delimited)', repeat with --encoding cp1252, or in Excel use Save As, "
        "'CSV UTF-8 (Comma delimited)'.\n"
    )
    missing = kt("import", str(tmp_path / "nope.csv"))
    assert (missing.exit_code, missing.stderr) == (
        NotFoundError.exit_code,
        f"Error: No file {tmp_path / 'nope.csv'}.\n",
    )
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    assert kt("import", str(empty)).stderr == f"Error: {empty} is empty: the first row must name the columns.\n"
    header_only = write(tmp_path / "header.csv", "rec_ref,recommendation,focus_area,action,owner,due\r\n")
    nothing = kt("import", header_only)
    assert (nothing.exit_code, nothing.stdout) == (
        0,
        f"Nothing to import from {header_only} (0 rows): the plan is unchanged.\n",
    )


def test_ids_in_the_file_are_kept_only_if_never_used(kt: Any, tmp_path: Path) -> None:
    kt("init", "--authority", "Test Council")
    kt("rec", "add", "First recommendation.")
    kt("action", "add", "R1", "Added by mistake", "--due", "+1w")
    assert kt("action", "remove", "A1").exit_code == 0  # A1 is retired for good
    path = write(
        tmp_path / "ids.csv",
        "rec_ref,recommendation,focus_area,action_id,action,owner,due\n"
        "R1,First recommendation.,,A1,Reuses a retired id,,1/12/2025\n"
        "R7,Seventh recommendation.,,A9,Keeps its id,,1/12/2025\n"
        "R7,Seventh recommendation.,,,Gets the lowest unused id,,1/12/2025\n",
    )
    result = kt("import", path)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines()[:4] == [
        "Created R7: Seventh recommendation.",
        "Created A2 under R1, due 1 Dec 2025: Reuses a retired id",
        "Created A9 under R7, due 1 Dec 2025: Keeps its id",
        "Created A3 under R7, due 1 Dec 2025: Gets the lowest unused id",
    ]


def test_a_terminal_gets_control_characters_escaped_a_file_gets_them_exactly(
    plan: Any, monkeypatch: Any, tmp_path: Any
) -> None:
    assert plan("action", "add", "R1", "Clear \x1b[2J screen\x07", "--due", "+1w").exit_code == 0
    exact = tmp_path / "plan.csv"
    assert plan("export", "--format", "csv", "-o", str(exact)).exit_code == 0
    assert "Clear \x1b[2J screen\x07" in exact.read_text(encoding="utf-8-sig")
    monkeypatch.setenv("TTY_COMPATIBLE", "1")
    shown = plan("export", "--format", "csv").stdout
    assert "Clear \\x1b[2J screen\\x07" in shown
    assert "\x1b" not in shown and "\x07" not in shown and "\r" not in shown


def test_a_closed_actions_rag_that_cannot_be_kept_is_noted_on_the_first_import(
    plan: Any, kt: Any, tmp_path: Any
) -> None:
    plan("evidence", "add", "A4", "Corporate parenting board minutes")
    exported = tmp_path / "plan.csv"
    plan("export", "--format", "csv", "-o", str(exported))
    result = kt("--db", str(tmp_path / "new.json"), "init", "--authority", "New")
    assert result.exit_code == 0
    imported = kt("--db", str(tmp_path / "new.json"), "import", str(exported))
    assert imported.exit_code == 0, imported.stderr
    assert (
        "Note: row 5, rag: the sheet says Blue (complete, evidenced), the rules say Complete: not applied "
        '(kt import --accept-rag "reason" takes the sheet\'s RAG as an override).\n' in imported.stdout
    )
    accepting = kt("--db", str(tmp_path / "other.json"), "init", "--authority", "Other")
    assert accepting.exit_code == 0
    accepting = kt("--db", str(tmp_path / "other.json"), "import", str(exported), "--accept-rag", "As exported")
    assert accepting.exit_code == 0, accepting.stderr
    assert (
        "Note: row 5, rag: Blue is not kept for a complete action: it has no evidence yet (kt evidence add).\n"
        in accepting.stdout
    )
