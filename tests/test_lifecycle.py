"""Status, progress and RAG never contradict each other: every combination of an action's
state and what is asked for, then the commands, imports, undo and doctor that apply the rules."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from knowsley_tracker.errors import ConflictError, ValidationError
from knowsley_tracker.lifecycle import COMPLETES, StatusConflict, breaches, resolve
from knowsley_tracker.models import Action, Rag, Status
from knowsley_tracker.storage import Store

NS, IP, BL, CO, DR = (Status.NOT_STARTED, Status.IN_PROGRESS, Status.BLOCKED, Status.COMPLETE, Status.DROPPED)

# A refusal names what would be consistent; these are the start of each kind.
LOWER = "A1 is complete (100%): to lower its progress"
DROPPED_STAYS = "A1 is dropped, so its progress stays"
KEEPS = "A dropped action keeps the progress it had"
NOT_100 = "Complete means 100%"
OPEN_100 = "at 100% contradicts itself"
REOPEN = "A1 is at 100%, and an open action cannot be"
ZERO = "Not started means 0%"

# (current status, current progress) -> asked status -> {asked progress: outcome}.
# An outcome is (status, progress), (status, progress, "because") or the start of the refusal.
# None as the current status is a new action.
TABLE: dict[tuple[Status | None, int], dict[Status | None, dict[int | None, Any]]] = {
    (None, 0): {
        None: {None: (NS, 0), 0: (NS, 0), 50: (IP, 50), 100: (CO, 100, COMPLETES)},
        NS: {None: (NS, 0), 0: (NS, 0), 50: ZERO, 100: OPEN_100},
        IP: {None: (IP, 0), 0: (IP, 0), 50: (IP, 50), 100: OPEN_100},
        BL: {None: (BL, 0), 0: (BL, 0), 50: (BL, 50), 100: OPEN_100},
        CO: {None: (CO, 100), 0: NOT_100, 50: NOT_100, 100: (CO, 100)},
    },
    (NS, 0): {
        None: {None: (NS, 0), 0: (NS, 0), 50: (IP, 50), 100: (CO, 100, COMPLETES)},
        NS: {None: (NS, 0), 0: (NS, 0), 50: ZERO, 100: OPEN_100},
        IP: {None: (IP, 0), 0: (IP, 0), 50: (IP, 50), 100: OPEN_100},
        BL: {None: (BL, 0), 0: (BL, 0), 50: (BL, 50), 100: OPEN_100},
        CO: {None: (CO, 100), 0: NOT_100, 50: NOT_100, 100: (CO, 100)},
        DR: {None: (DR, 0), 0: (DR, 0), 50: KEEPS, 100: KEEPS},
    },
    (IP, 40): {
        None: {None: (IP, 40), 0: (IP, 0), 40: (IP, 40), 50: (IP, 50), 100: (CO, 100, COMPLETES)},
        NS: {None: ZERO, 0: (NS, 0), 50: ZERO, 100: OPEN_100},
        IP: {None: (IP, 40), 0: (IP, 0), 50: (IP, 50), 100: OPEN_100},
        BL: {None: (BL, 40), 0: (BL, 0), 50: (BL, 50), 100: OPEN_100},
        CO: {None: (CO, 100), 0: NOT_100, 50: NOT_100, 100: (CO, 100)},
        DR: {None: (DR, 40), 40: (DR, 40), 0: KEEPS, 50: KEEPS, 100: KEEPS},
    },
    (BL, 40): {
        None: {None: (BL, 40), 0: (BL, 0), 40: (BL, 40), 50: (BL, 50), 100: (CO, 100, COMPLETES)},
        NS: {None: ZERO, 0: (NS, 0), 50: ZERO, 100: OPEN_100},
        IP: {None: (IP, 40), 0: (IP, 0), 50: (IP, 50), 100: OPEN_100},
        BL: {None: (BL, 40), 0: (BL, 0), 50: (BL, 50), 100: OPEN_100},
        CO: {None: (CO, 100), 0: NOT_100, 50: NOT_100, 100: (CO, 100)},
        DR: {None: (DR, 40), 40: (DR, 40), 0: KEEPS, 50: KEEPS, 100: KEEPS},
    },
    (CO, 100): {
        None: {None: (CO, 100), 0: LOWER, 50: LOWER, 100: (CO, 100)},
        NS: {None: REOPEN, 0: (NS, 0), 50: ZERO, 100: OPEN_100},
        IP: {None: REOPEN, 0: (IP, 0), 50: (IP, 50), 100: OPEN_100},
        BL: {None: REOPEN, 0: (BL, 0), 50: (BL, 50), 100: OPEN_100},
        CO: {None: (CO, 100), 0: NOT_100, 50: NOT_100, 100: (CO, 100)},
        DR: {None: (DR, 100), 100: (DR, 100), 0: KEEPS, 50: KEEPS},
    },
    (DR, 30): {
        None: {None: (DR, 30), 30: (DR, 30), 0: DROPPED_STAYS, 50: DROPPED_STAYS, 100: DROPPED_STAYS},
        NS: {None: ZERO, 0: (NS, 0), 50: ZERO, 100: OPEN_100},
        IP: {None: (IP, 30), 0: (IP, 0), 50: (IP, 50), 100: OPEN_100},
        BL: {None: (BL, 30), 0: (BL, 0), 50: (BL, 50), 100: OPEN_100},
        CO: {None: (CO, 100), 0: NOT_100, 50: NOT_100, 100: (CO, 100)},
        DR: {None: (DR, 30), 30: (DR, 30), 0: KEEPS, 50: KEEPS, 100: KEEPS},
    },
}

CASES = [
    pytest.param(current, progress_now, asked, progress, outcome, id=f"{current}-{progress_now}-{asked}-{progress}")
    for (current, progress_now), by_status in TABLE.items()
    for asked, by_progress in by_status.items()
    for progress, outcome in by_progress.items()
]


@pytest.mark.parametrize(("current", "progress_now", "asked", "progress", "outcome"), CASES)
def test_every_combination(
    current: Status | None, progress_now: int, asked: Status | None, progress: int | None, outcome: Any
) -> None:
    if isinstance(outcome, str):
        with pytest.raises(StatusConflict) as refused:
            resolve("A1", current, progress_now, status=asked, progress=progress)
        message = refused.value.message
        assert message.startswith(outcome) or outcome in message, message
        assert "\n" not in message and message.endswith(".")
        return
    got = resolve("A1", current, progress_now, status=asked, progress=progress)
    assert (got.status, got.progress, got.because) == (outcome + ("",))[:3] if len(outcome) == 2 else outcome


def test_the_table_covers_every_status_from_every_state() -> None:
    for (current, _), by_status in TABLE.items():
        wanted = set(Status) - ({DR} if current is None else set())  # a new action cannot start dropped
        assert set(by_status) - {None} == wanted


# -- what the commands say ---------------------------------------------------------------------


def test_lowering_a_complete_action_is_refused_without_a_reopen(plan: Any, db: Path) -> None:
    before = db.read_bytes()
    result = plan("log", "A4", "Cap under review", "--progress", "50")
    assert (result.exit_code, result.stdout) == (ValidationError.exit_code, "")
    assert result.stderr == (
        "Error: A4 is complete (100%): to lower its progress to 50%, reopen it by adding --status in-progress "
        "(or blocked).\n"
    )
    assert db.read_bytes() == before
    reopened = plan("log", "A4", "Cap under review", "--progress", "50", "--status", "in-progress")
    assert reopened.exit_code == 0
    assert reopened.stdout == "Logged L3 on A4: progress 100% -> 50%; status complete -> in-progress.\n"


def test_complete_at_less_than_100_is_refused(plan: Any, db: Path) -> None:
    before = db.read_bytes()
    result = plan("log", "A1", "x", "-p", "50", "--status", "complete")
    assert result.exit_code == ValidationError.exit_code
    assert result.stderr == (
        "Error: Complete means 100%, not 50%: leave --progress out (or give 100) to complete A1, or keep it open "
        "with --status in-progress.\n"
    )
    assert db.read_bytes() == before


@pytest.mark.parametrize("status", ["in-progress", "blocked"])
def test_progress_100_completes_an_open_action_and_says_so(plan: Any, status: str) -> None:
    assert plan("log", "A1", "Stalled", "--status", status).exit_code == 0
    result = plan("log", "A1", "All cases audited", "-p", "100")
    assert result.exit_code == 0
    assert result.stdout == f"Logged L4 on A1: progress 40% -> 100%; status {status} -> complete ({COMPLETES}).\n"
    shown = json.loads(plan("action", "show", "A1", "--json").stdout)
    assert (shown["status"], shown["progress"], shown["completed_on"]) == ("complete", 100, "2025-11-30")


def test_an_open_status_at_100_is_refused(plan: Any) -> None:
    result = plan("log", "A1", "x", "--status", "blocked", "-p", "100")
    assert result.stderr == (
        "Error: Blocked at 100% contradicts itself (100% means complete): give --status complete, or a progress "
        "under 100.\n"
    )


def test_reopening_a_complete_action_needs_its_progress(plan: Any) -> None:
    result = plan("log", "A4", "Reopened by the board", "--status", "in-progress")
    assert result.stderr == (
        "Error: A4 is at 100%, and an open action cannot be: reopening it as in-progress needs its progress now, "
        "e.g. --progress 90.\n"
    )


def test_dropping_keeps_progress_and_leaves_the_average(plan: Any) -> None:
    dropped = plan("log", "A1", "Superseded by the regional audit", "--status", "dropped")
    assert dropped.stdout == "Logged L3 on A1: status in-progress -> dropped.\n"
    shown = json.loads(plan("action", "show", "A1", "--json").stdout)
    assert (shown["status"], shown["progress"]) == ("dropped", 40)
    refused = plan("log", "A1", "x", "-p", "60")
    assert refused.stderr == (
        "Error: A1 is dropped, so its progress stays at 40%: to change it, reopen it by adding --status "
        "in-progress (or blocked).\n"
    )
    report = json.loads(plan("report", "--json").stdout)
    assert report["totals"]["dropped"] == 1
    assert report["totals"]["progress"] == pytest.approx((0 + 0 + 100) / 3, abs=0.05)  # A1 left out


def test_action_add_follows_the_rules(plan: Any) -> None:
    added = plan("action", "add", "R1", "Already done", "--due", "1/12/2025", "--progress", "100", "--json")
    assert (json.loads(added.stdout)["status"], json.loads(added.stdout)["progress"]) == ("complete", 100)
    started = plan("action", "add", "R1", "Half done", "--due", "1/12/2025", "--progress", "30", "--json")
    assert json.loads(started.stdout)["status"] == "in-progress"
    refused = plan("action", "add", "R1", "Odd", "--due", "1/12/2025", "--status", "complete", "--progress", "50")
    assert refused.stderr == (
        "Error: Complete means 100%, not 50%: leave --progress out (or give 100) to complete the new action, or "
        "keep it open with --status in-progress.\n"
    )


def test_done_on_a_complete_action_gives_the_date_in_words(plan: Any) -> None:
    assert plan("done", "A4").stderr == "Error: A4 is already complete (since 30 Nov 2025).\n"


# -- imports --------------------------------------------------------------------------------


def test_csv_import_refuses_a_contradictory_row(kt: Any, tmp_path: Path, db: Path) -> None:
    assert kt("init", "--authority", "Test").exit_code == 0
    sheet = tmp_path / "plan.csv"
    sheet.write_text(
        "rec_ref,recommendation,focus_area,action,owner,due,status,progress\n"
        "1,Caseloads,Workforce,Recruit advisers,Head of Service,31/10/2025,Complete,90\n"
        "1,Caseloads,Workforce,Agree a cap,Head of Service,31/10/2025,In progress,100\n"
        "1,Caseloads,Workforce,Publish the cap,Head of Service,31/10/2025,,100\n",
        encoding="utf-8",
    )
    before = db.read_bytes()
    result = kt("import", str(sheet))
    assert result.exit_code == ValidationError.exit_code
    assert result.stderr.splitlines()[1:] == [
        "  row 2, status: Complete means 100% progress, not 90%: make the progress 100 (or leave it empty), or "
        "give an open status such as In progress.",
        "  row 3, status: In progress at 100% contradicts itself (100% means complete): make the status Complete, "
        "or the progress under 100.",
    ]
    assert db.read_bytes() == before


def test_csv_import_completes_an_action_at_100(kt: Any, tmp_path: Path) -> None:
    assert kt("init", "--authority", "Test").exit_code == 0
    sheet = tmp_path / "plan.csv"
    sheet.write_text(
        "rec_ref,recommendation,focus_area,action,owner,due,status,progress\n"
        "1,Caseloads,Workforce,Publish the cap,Head of Service,31/10/2025,,100\n",
        encoding="utf-8",
    )
    assert kt("import", str(sheet)).exit_code == 0
    shown = json.loads(kt("action", "show", "A1", "--json").stdout)
    assert (shown["status"], shown["progress"], shown["completed_on"]) == ("complete", 100, "2025-11-30")


def break_rules(db: Path) -> None:
    """What an older store or a hand edit can hold: A1 complete at 40%, A2 blocked at 100%,
    A3 not started at 20% with a completion date, A4 complete with a RAG override."""
    store = Store.open(db, write=True)
    try:
        with store.transaction(by="Hand edit", what="hand edit"):
            edits: list[dict[str, Any]] = [
                {"status": Status.COMPLETE, "progress": 40},
                {"status": Status.BLOCKED, "progress": 100},
                {"status": Status.NOT_STARTED, "progress": 20, "completed_on": store.get(Action, 4).completed_on},
                {"rag_override": Rag.RED, "rag_reason": "Left over"},
            ]
            for n, edit in enumerate(edits, start=1):
                action = store.get(Action, n)
                for name, value in edit.items():
                    setattr(action, name, value)
                store.save(action)
    finally:
        store.close()


def test_doctor_finds_and_fixes_records_that_break_the_rules(plan: Any, db: Path) -> None:
    break_rules(db)
    found = plan("doctor")
    assert found.exit_code == 1
    for line in (
        "A1 is complete at 40%: complete means 100%.",
        "A2 is blocked at 100%: 100% means complete.",
        "A3 is not started at 20%: progress means it has started.",
        "A3 is not-started with a completion date (30 Nov 2025): only a complete action has one.",
        "A4 is complete with a RAG override (Red): only an open action takes one.",
    ):
        assert f"Problem: {line}" in found.stdout, found.stdout
    fixed = plan("doctor", "--fix")
    assert fixed.exit_code == 0, fixed.stdout
    assert [line for line in fixed.stdout.splitlines() if "status rules" in line] == [
        "Fixed: Brought A1 within the status rules: progress 40% -> 100% (complete means 100%); completion date 30 Nov 2025 (a complete "
        "action has one).",
        "Fixed: Brought A2 within the status rules: status blocked -> complete (100% means complete).",
        "Fixed: Brought A3 within the status rules: status not-started -> in-progress (progress means it has started); completion date "
        "cleared (only a complete action has one).",
        "Fixed: Brought A4 within the status rules: RAG override cleared (only an open action takes one).",
    ]
    a1 = json.loads(plan("action", "show", "A1", "--json").stdout)
    assert (a1["status"], a1["progress"], a1["completed_on"]) == ("complete", 100, "2025-11-30")
    assert a1["log"][-1]["by"] == "Test Officer"
    assert a1["log"][-1]["note"] == (
        "kt doctor --fix: progress 40% -> 100% (complete means 100%); completion date 30 Nov 2025 (a complete "
        "action has one)."
    )
    assert a1["log"][-1]["changes"] == {"progress": [40, 100], "completed_on": [None, "2025-11-30"]}
    a2 = json.loads(plan("action", "show", "A2", "--json").stdout)
    assert (a2["status"], a2["completed_on"]) == ("complete", "2025-11-30")
    assert plan("doctor").exit_code == 0


def test_undo_never_brings_back_what_doctor_repaired(plan: Any, db: Path, monkeypatch: Any) -> None:
    monkeypatch.setenv("KNOWSLEY_TRACKER_USER", "Hand edit")
    break_rules(db)
    assert plan("doctor", "--fix").exit_code == 0
    before = db.read_bytes()
    result = plan("undo")
    assert result.exit_code == ConflictError.exit_code
    assert result.stderr.startswith("Error: Cannot undo txn ")
    assert result.stderr.endswith(
        "it would leave A1 complete at 40%, which the status rules do not allow (complete means 100%). "
        "Change A1 with kt log instead.\n"
    )
    assert db.read_bytes() == before


def test_a_restored_export_that_breaks_the_rules_is_kept_and_flagged(plan: Any, db: Path, tmp_path: Path) -> None:
    break_rules(db)
    exported = tmp_path / "backup.json"
    assert plan("export", "--format", "json", "-o", str(exported)).exit_code == 0
    other = tmp_path / "other" / "plan.json"
    assert plan("--db", str(other), "init", "--authority", "Test Council").exit_code == 0
    restored = plan("--db", str(other), "import", str(exported))
    assert restored.exit_code == 0
    assert restored.stdout.splitlines()[-1] == (
        "A1, A2, A3, A4 break the status rules (for example, complete at under 100%): kept as exported; kt doctor "
        "shows how, and kt doctor --fix repairs them."
    )


def test_breaches_of_a_healthy_action_are_none() -> None:
    action = Action(rec_id=1, title="Fine", due=__import__("datetime").date(2025, 12, 1))
    assert breaches(action) == []
