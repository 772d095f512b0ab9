"""kt init, inspection, focus, owner, rec, visit, evidence and config through the CLI."""

from __future__ import annotations

import json
import stat
from pathlib import Path
from typing import Any

import pytest

from knowsley_tracker.errors import (
    ConflictError,
    CorruptStoreError,
    NotFoundError,
    StoreMissingError,
    ValidationError,
)
from knowsley_tracker.storage import StorePaths, list_backups


def test_init_creates_private_store_and_refuses_overwrite(kt: Any, db: Path) -> None:
    result = kt("init", "--authority", "Knowsley")
    assert result.exit_code == 0
    assert result.stdout.splitlines()[0] == f"Created a store for Knowsley at {db}."
    assert stat.S_IMODE(db.stat().st_mode) == 0o600
    before = db.read_bytes()
    again = kt("init", "--authority", "Other")
    assert again.exit_code == ConflictError.exit_code
    assert again.stderr == f"Error: A store already exists at {db}; it has not been changed.\n"
    assert db.read_bytes() == before


def test_init_refuses_personal_data_with_the_personal_data_exit_code(kt: Any, db: Path) -> None:
    result = kt("init", "--authority", "Case ref 123456 team")
    assert (result.exit_code, result.stderr) == (
        6,
        "Error: The authority's name looks like a case or record reference.\n",
    )
    assert not db.exists()


def test_missing_store_says_how_to_create_one(kt: Any, db: Path) -> None:
    result = kt("action", "list")
    assert result.exit_code == StoreMissingError.exit_code
    assert result.stderr == (
        f"Error: No store at {db}. Create one with: kt init --authority NAME "
        "(or point --db or KNOWSLEY_TRACKER_DB at an existing store).\n"
    )
    assert not db.exists()


def test_db_option_beats_environment(kt: Any, tmp_path: Path, db: Path) -> None:
    other = tmp_path / "other" / "board.json"
    assert kt("--db", str(other), "init", "--authority", "Halton").exit_code == 0
    assert other.exists() and not db.exists()


def test_inspections_knowsley_2017_and_2025(kt: Any) -> None:
    kt("init", "--authority", "Knowsley")
    added = kt(
        "inspection",
        "add",
        "1/3/2017",
        "--published",
        "13/06/2017",
        "-j",
        "requires improvement",
        "--area",
        "help-protection=ri",
        "--area",
        "looked-after=ri",
        "--area",
        "adoption=good",
        "--area",
        "care-leavers=good",
        "--area",
        "leadership=good",
    )
    assert added.stdout == "Added I1: standard inspection from 1 Mar 2017, judged requires improvement to be good.\n"
    kt(
        "inspection",
        "add",
        "18/11/2024",
        "--end",
        "29/11/2024",
        "--published",
        "20/01/2025",
        "-j",
        "inadequate",
        "--area",
        "leaders=inadequate",
        "--area",
        "help-protection=inadequate",
        "--area",
        "children-in-care=requires-improvement",
        "--area",
        "care-leavers=inadequate",
    )
    kt("inspection", "add", "31/01/2024", "--type", "focused visit")
    listed = json.loads(kt("inspection", "list", "--json").stdout)
    assert [(i["ref"], i["framework"], i["judgement"]) for i in listed] == [
        ("I1", "sif", "requires-improvement"),
        ("I3", "ilacs-2023", None),
        ("I2", "ilacs-2023", "inadequate"),
    ]
    assert sum(1 for v in listed[0]["areas"].values() if v == "good") == 3
    shown = kt("inspection", "show", "i2").stdout
    assert "The experiences and progress of care leavers (care-leavers)\tInadequate" in shown
    assert "Published:        20 Jan 2025" in shown
    assert "Action plan due:  30 Apr 2025 (70 working days after the report)" in shown


def test_inspection_bad_input(kt: Any, db: Path) -> None:
    kt("init", "--authority", "Knowsley")
    before = db.read_bytes()
    cases = [
        (
            ["inspection", "add", "18/11/2024"],
            ValidationError.exit_code,
            "Error: A standard inspection needs an overall judgement (--judgement inadequate, good, ...).\n",
        ),
        (
            ["inspection", "add", "18/11/2024", "-j", "poor"],
            ValidationError.exit_code,
            "Error: Unknown judgement 'poor': choose one of outstanding, good, requires-improvement, inadequate.\n",
        ),
        (
            ["inspection", "add", "18/11/2024", "-j", "good", "--type", "audit"],
            ValidationError.exit_code,
            "Error: Unknown inspection type 'audit': choose one of standard, short, focused-visit, jtai, "
            "monitoring-visit.\n",
        ),
        (
            ["inspection", "add", "1/9/2025", "--type", "monitoring", "-j", "good"],
            ValidationError.exit_code,
            "Error: A monitoring visit is not graded: leave out the judgements.\n",
        ),
        (
            ["inspection", "add", "1/3/2021", "-j", "good", "--area", "care-leavers=good"],
            ValidationError.exit_code,
            "Error: Unknown judgement area 'care-leavers' for ILACS (2018 to 2022): use leaders, help-protection, "
            "children-in-care.\n",
        ),
        (
            ["inspection", "add", "1/3/2021", "-j", "good", "--area", "leaders"],
            ValidationError.exit_code,
            "Error: Give each area as AREA=JUDGEMENT (e.g. leaders=inadequate), not 'leaders'.\n",
        ),
        (
            ["inspection", "show", "I9"],
            NotFoundError.exit_code,
            "Error: No inspection I9: the plan has no inspections yet.\n",
        ),
    ]
    for args, code, stderr in cases:
        result = kt(*args)
        assert (result.exit_code, result.stderr) == (code, stderr), args
    assert db.read_bytes() == before


def test_focus_areas(plan: Any) -> None:
    listed = plan("focus", "list").stdout.splitlines()
    assert listed == [
        "key\tname\tlead\trecs\tactions",
        "DIS\tChildren with disabilities\tHead of Service, Disabled Children\t1\t2",
        "CL\tCare-experienced young people\tHead of Service, Care Leavers\t1\t2",
    ]
    duplicate = plan("focus", "add", "dis", "Again")
    assert (duplicate.exit_code, duplicate.stderr) == (
        ConflictError.exit_code,
        "Error: Focus area DIS already exists (Children with disabilities).\n",
    )
    edited = plan("focus", "edit", "dis", "--lead-name", "Sam Carter")
    assert edited.stdout == "Updated focus area DIS: lead's name.\n"
    shown = json.loads(plan("focus", "show", "DIS", "--json").stdout)
    assert shown["lead"] == "Head of Service, Disabled Children (Sam Carter)"
    assert [a["ref"] for a in shown["actions"]] == ["A1", "A2"]
    in_use = plan("focus", "remove", "CL")
    assert (in_use.exit_code, in_use.stderr) == (
        ConflictError.exit_code,
        "Error: Focus area CL is still used by R2; move those first.\n",
    )
    unknown = plan("action", "list", "--focus", "XYZ")
    assert (unknown.exit_code, unknown.stderr) == (
        NotFoundError.exit_code,
        "Error: No focus area 'XYZ'. Known keys: DIS, CL.\n",
    )


def test_owners_by_role_and_turnover(plan: Any) -> None:
    assert (
        plan("owner", "edit", "Head of Service, Care Leavers", "--name", "Jordan Lee").stdout == "Updated O2: name.\n"
    )
    owners = json.loads(plan("owner", "list", "--json").stdout)
    assert [(o["ref"], o["name"], o["open_actions"]) for o in owners] == [
        ("O1", "Sam Carter", 2),
        ("O2", "Jordan Lee", 1),
    ]
    refused = plan("owner", "remove", "O2")
    assert refused.exit_code == ConflictError.exit_code
    assert refused.stderr.startswith("Error: Owner O2 still owns A3, A4: give those actions another owner")
    plan("owner", "add", "Head of Quality Assurance")
    assert (
        plan("owner", "remove", "head of quality assurance").stdout == "Removed owner O3: Head of Quality Assurance\n"
    )
    added = plan("owner", "add", "Principal Social Worker")
    assert added.stdout == "Added owner O4: Principal Social Worker\n"  # O3 is never reused
    missing = plan("action", "add", "R1", "x", "--due", "+1w", "--owner", "Head of Nowhere")
    assert (
        missing.stderr
        == "Error: No owner 'Head of Nowhere'. Add one with: kt owner add \"Head of Nowhere\" (see kt owner list).\n"
    )


def test_recommendations(plan: Any) -> None:
    listed = plan("rec", "list").stdout.splitlines()
    assert listed[0] == "id\treport_ref\tfocus\tactions\tcomplete\trecommendation"
    assert listed[1] == "R1\t3\tDIS\t2\t0\tDisabled children: practice and oversight"
    assert listed[2] == "R2\t9\tCL\t2\t1\tThe caseloads of personal advisers (PAs)."
    shown = json.loads(plan("rec", "show", "r2", "--json").stdout)
    assert shown["inspection"] == "I1"
    assert [a["ref"] for a in shown["actions"]] == ["A4", "A3"]
    refused = plan("rec", "remove", "R2")
    assert refused.stderr == "Error: Recommendation R2 is still referred to by A3, A4.\n"


def test_visits_with_days_to_go(plan: Any) -> None:
    assert plan("visit", "add", "10/02/2026", "--theme", "DIS", "--status", "confirmed").stdout == (
        "Added V1: monitoring visit on 10 Feb 2026 (confirmed).\n"
    )
    plan("visit", "add", "09/09/2025", "--status", "done", "--outcome", "Early help and front door")
    listed = plan("visit", "list").stdout.splitlines()
    assert listed == [
        "id\tno.\tdate\tdays_to_go\ttype\tstatus\tthemes\toutcome",
        "V2\t1\t9 Sep 2025\t\tMonitoring visit\tdone\t\tEarly help and front door",
        "V1\t2\t10 Feb 2026\t72\tMonitoring visit\tconfirmed\tDIS\t",
    ]
    upcoming = json.loads(plan("visit", "list", "--upcoming", "--json").stdout)
    assert [(v["ref"], v["days_to_go"], v["date"]) for v in upcoming] == [("V1", 72, "2026-02-10")]
    assert plan("visit", "edit", "V1", "--status", "done", "--outcome", "Letter awaited").stdout == (
        "Updated V1: status confirmed -> done; outcome.\n"
    )


def test_anchored_due_dates(plan: Any) -> None:
    plan("visit", "add", "10/02/2026")
    added = plan("action", "add", "R1", "Prepare visit evidence pack", "--due", "visit-2w")
    assert added.stdout == "Added A5, due 27 Jan 2026: Prepare visit evidence pack\n"


def test_evidence(plan: Any) -> None:
    added = plan(
        "evidence", "add", "A4", "Corporate parenting board minutes", "--kind", "minutes", "--date", "12/11/2025"
    )
    assert added.stdout == "Added E1 to A4, dated 12 Nov 2025: Corporate parenting board minutes\n"
    listed = plan("evidence", "list", "A4").stdout.splitlines()
    assert listed == [
        "id\taction\tdate\tkind\ttitle\tlink",
        "E1\tA4\t12 Nov 2025\tminutes\tCorporate parenting board minutes\t",
    ]
    assert json.loads(plan("action", "list", "--json", "--rec", "R2").stdout)[0]["rag"] == "blue"


def test_config(plan: Any) -> None:
    def rag_of(ref: str) -> str:
        return str({a["ref"]: a["rag"] for a in json.loads(plan("action", "list", "--json").stdout)}[ref])

    assert rag_of("A2") == "amber"  # due in 10 days at 0%
    assert plan("config", "set", "rag.amber_days", "5").stdout == "rag.amber_days is now 5.\n"
    assert rag_of("A2") == "green"
    bad = plan("config", "set", "rag.amber_days", "400")
    assert (bad.exit_code, bad.stderr) == (
        ValidationError.exit_code,
        "Error: rag.amber_days takes a whole number from 0 to 365, not '400'.\n",
    )
    unknown = plan("config", "set", "colour", "1")
    assert unknown.stderr.startswith("Error: Unknown setting 'colour': use rag.amber_days, rag.amber_progress, backups")
    assert json.loads(plan("config", "list", "--json").stdout)["rag.amber_days"] == 5
    assert plan("config", "unset", "rag.amber_days").stdout == "rag.amber_days is back to its default, 14.\n"
    assert rag_of("A2") == "amber"


@pytest.mark.parametrize(
    ("name", "value", "accepted"),
    [
        ("rag.amber_days", "soon", "a whole number from 0 to 365"),
        ("rag.amber_progress", "75%", "a whole number from 0 to 100"),
        ("backups", "many", "a whole number from 1 to 1,000"),
        ("backups", "0", "a whole number from 1 to 1,000"),
        ("small_numbers", "-1", "a whole number from 0 to 1,000"),
        ("visit_interval_months", "4.5", "a whole number from 1 to 24"),
        ("import.json_max_mb", "", "a whole number from 1 to 4,096"),
    ],
)
def test_config_set_refuses_values_a_setting_does_not_take(
    plan: Any, db: Path, name: str, value: str, accepted: str
) -> None:
    before = db.read_bytes()
    result = plan("config", "set", "--", name, value)
    assert (result.exit_code, result.stdout) == (ValidationError.exit_code, "")
    assert result.stderr == f"Error: {name} takes {accepted}, not {value!r}.\n"
    assert db.read_bytes() == before


def test_config_get_prints_one_value(plan: Any) -> None:
    assert plan("config", "get", "backups").stdout == "10\n"
    assert plan("config", "set", "backups", "30").exit_code == 0
    assert plan("config", "get", "BACKUPS").stdout == "30\n"
    unknown = plan("config", "get", "colour")
    assert unknown.exit_code == ValidationError.exit_code


def edit_settings(db: Path, settings: dict[str, Any]) -> None:
    """Put settings into the store by hand, as an editor would."""
    data = json.loads(db.read_bytes())
    data["_meta"]["1"]["settings"] = settings
    db.write_text(json.dumps(data, indent=2))


def test_a_hand_broken_setting_gives_a_clear_error_not_a_traceback(plan: Any, db: Path) -> None:
    """Issue 10: "rag.amber_days": "soon" made report, show and ICS export crash while doctor said healthy."""
    edit_settings(db, {"rag.amber_days": "soon"})
    refusal = (
        "Error: The plan's setting rag.amber_days is 'soon', which kt cannot use: it takes a whole number from 0 "
        "to 365. Fix it with kt config set rag.amber_days VALUE, or kt config unset rag.amber_days for the default "
        "(14); kt doctor lists every setting that needs fixing.\n"
    )
    for command in (["report"], ["action", "show", "A1"], ["action", "list"], ["export", "--format", "ics"]):
        result = plan(*command)
        assert (result.exit_code, result.stdout, result.stderr) == (CorruptStoreError.exit_code, "", refusal), command
    doctor = plan("doctor")
    assert doctor.exit_code == 1
    assert doctor.stdout.splitlines()[1:3] == [
        "Problem: The setting rag.amber_days is 'soon', which kt cannot use: it takes a whole number from 0 to 365.",
        "  Fix: Run kt config set rag.amber_days VALUE, or kt config unset rag.amber_days for the default (14).",
    ]
    listed = plan("config", "list")
    assert listed.exit_code == 0
    assert listed.stdout.splitlines()[1].split("\t")[:3] == ["rag.amber_days", "'soon'", "14"]
    assert plan("config", "set", "rag.amber_days", "21").exit_code == 0
    assert plan("report").exit_code == 0
    assert plan("doctor").exit_code == 0


def test_a_hand_broken_backups_setting_still_prunes_and_doctor_says_so(plan: Any, db: Path) -> None:
    """Issue 10: "backups": "many" silently stopped pruning."""
    edit_settings(db, {"backups": "many", "colour": "blue"})
    for n in range(12):
        assert plan("log", "A1", f"Update {n}").exit_code == 0
    assert len(list_backups(StorePaths(db))) == 10  # the default, until the setting is fixed
    doctor = plan("doctor")
    assert doctor.exit_code == 1
    assert doctor.stdout.splitlines()[1:5] == [
        "Problem: The setting backups is 'many', which kt cannot use: it takes a whole number from 1 to 1,000.",
        "  Fix: Run kt config set backups VALUE, or kt config unset backups for the default (10).",
        "Warning: The store holds a setting 'colour', which is not a setting this knowsley-tracker knows (kt config list shows the ones it does).",
        "  Fix: Remove it with kt config unset colour (kt config list shows the settings in use).",
    ]
    assert plan("config", "unset", "colour").stdout == (
        "Removed the setting colour, which this knowsley-tracker does not know.\n"
    )
    assert plan("config", "set", "backups", "3").exit_code == 0
    assert plan("log", "A1", "One more").exit_code == 0
    assert len(list_backups(StorePaths(db))) == 3
    assert plan("doctor").exit_code == 0


def test_personal_data_refused_then_allowed_with_reason(plan: Any, db: Path) -> None:
    before = db.read_bytes()
    refused = plan("log", "A1", "Case ref 123456 reviewed")
    assert refused.exit_code == 6
    assert refused.stderr == (
        "Error: The note looks like it contains a case or record reference. Plans must hold no personal data about "
        'children: remove it, or if it is not personal data, repeat with --allow-personal-data "why".\n'
    )
    assert "123456" not in refused.stderr.replace("ref 123456", "")
    assert db.read_bytes() == before
    allowed = plan("log", "A1", "Case ref 123456 reviewed", "--allow-personal-data", "It is a contract number")
    assert allowed.exit_code == 0
    history = json.loads(db.read_text())["history"]
    last = history[max(history, key=int)]
    assert last["personal_data_allowed"] == {
        "reason": "It is a contract number",
        "fields": [{"field": "note", "kinds": ["a case or record reference"]}],
    }


def test_addresses_and_named_ages_are_refused_without_being_repeated(plan: Any, db: Path) -> None:
    """Issue 10: "child J.S. age 14 at 12 High Street" went through the guard."""
    before = db.read_bytes()
    refused = plan("log", "A1", "Visited child J.S. age 14 at 12 High Street")
    assert refused.exit_code == 6
    assert refused.stderr == (
        "Error: The note looks like it contains a street address and a name or initials with an age. Plans must "
        "hold no personal data about children: remove it, or if it is not personal data, repeat with "
        '--allow-personal-data "why".\n'
    )
    assert "J.S." not in refused.stderr and "High Street" not in refused.stderr
    assert db.read_bytes() == before
