"""kt board through the CLI: add (today, past, future), freeze, list and show."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from knowsley_tracker.errors import ConflictError, NotFoundError, ValidationError


def on(day: str) -> dict[str, str]:
    return {"KNOWSLEY_TRACKER_NOW": f"{day}T09:00:00+00:00"}


def test_add_today_freezes_the_plan(plan: Any, db: Path) -> None:
    result = plan("board", "add", "today", "--note", "Board 7")
    assert (result.exit_code, result.stderr) == (0, "")
    assert result.stdout == (
        "Recorded board meeting B1 on 30 Nov 2025 and froze its snapshot: 1 red, 1 amber, 1 green, 1 complete.\n"
    )
    snapshots = list((db.parent / "plan.json.d" / "snapshots").iterdir())
    assert len(snapshots) == 1
    stored = json.loads(plan("board", "list", "--json").stdout)
    assert stored == [
        {
            "ref": "B1",
            "id": 1,
            "date": "2025-11-30",
            "note": "Board 7",
            "snapshot_file": snapshots[0].name,
            "snapshot_method": "current",
            "frozen_at": "2025-11-30T09:00:00+00:00",
            "rag_counts": {"red": 1, "amber": 1, "green": 1, "complete": 1},
            "created_at": "2025-11-30T09:00:00+00:00",
            "number": None,
            "narrative": "",
            "decisions": [],
        }
    ]
    frozen = json.loads(snapshots[0].read_text())
    assert (frozen["kind"], frozen["version"], frozen["board"], frozen["as_of"]) == (
        "knowsley-tracker board snapshot",
        1,
        "B1",
        "2025-11-30",
    )
    assert frozen["actions"]["1"] == {
        "ref": "A1",
        "title": "Audit open disabled children's cases",
        "rec_id": 1,
        "status": "in-progress",
        "progress": 40,
        "due": "2025-11-15",
        "rag": "red",
        "rag_overridden": False,
        "rag_reason": "",
        "evidence": 0,
    }


def test_past_future_and_freeze(kt: Any) -> None:
    assert kt("init", "--authority", "Test Council", env=on("2025-09-01")).exit_code == 0
    kt("rec", "add", "Practice.", env=on("2025-09-01"))
    kt("action", "add", "R1", "Audit cases", "--due", "31/10/2025", env=on("2025-09-01"))
    kt("log", "A1", "Half way", "--progress", "50", env=on("2025-10-01"))

    past = kt("board", "add", "15/09/2025", env=on("2025-10-10"))
    assert past.stdout == (
        "Recorded board meeting B1 on 15 Sep 2025 and rebuilt its snapshot from the progress log (actions added "
        "to the tracker after that day are not in it): 1 green.\n"
    )
    future = kt("board", "add", "14/01/2026", "--note", "Board 6", env=on("2025-10-10"))
    assert future.stdout == (
        "Recorded board meeting B2 on 14 Jan 2026, still to come: freeze its snapshot on the day with "
        "kt board freeze B2.\n"
    )
    early = kt("board", "freeze", "B2", env=on("2025-10-10"))
    assert (early.exit_code, early.stderr) == (
        ValidationError.exit_code,
        "Error: B2 meets on 14 Jan 2026: freeze it on or after that day.\n",
    )
    frozen = kt("board", "freeze", "B2", env=on("2026-01-14"))
    assert frozen.stdout == "Froze the snapshot of board meeting B2 on 14 Jan 2026: 1 red.\n"
    again = kt("board", "freeze", "B2", env=on("2026-01-15"))
    assert (again.exit_code, again.stderr) == (
        ConflictError.exit_code,
        "Error: B2 was frozen already; a board snapshot never changes.\n",
    )
    listed = kt("board", "list", env=on("2026-01-15"))
    assert listed.stdout == (
        "id\tdate\tsnapshot\tred\tamber\tgreen\tcomplete\tblue\tnote\n"
        "B1\t15 Sep 2025\trebuilt from the log\t0\t0\t1\t0\t0\t\n"
        "B2\t14 Jan 2026\tfrozen on the day\t1\t0\t0\t0\t0\tBoard 6\n"
    )


def test_show_a_snapshot(plan: Any) -> None:
    plan("kpi", "add", "CL-04", "Average PA caseload", "--target", "20", "--lower-is-better")
    plan("kpi", "record", "CL-04", "24", "--period", "2025-Q3")
    plan("board", "add", "30/11/2025")
    plan("done", "A1")  # after the board: the snapshot must not change
    result = plan("board", "show", "B1")
    assert result.stdout == (
        "B1 board meeting, 30 Nov 2025\n"
        "Date:     30 Nov 2025\n"
        "Snapshot: frozen on the day, 30 Nov 2025 09:00\n"
        "Actions:  1 red, 1 amber, 1 green, 1 complete\n"
        "\n"
        "# Actions as they stood\n"
        "action\tdue\tstatus\tprogress\trag\tevidence\ttitle\n"
        "A4\t30 Sep 2025\tcomplete\t100%\tComplete\t0\tAgree a PA caseload cap\n"
        "A1\t15 Nov 2025\tin-progress\t40%\tRed\t0\tAudit open disabled children's cases\n"
        "A2\t10 Dec 2025\tnot-started\t0%\tAmber\t0\tPublish a plan for the disabled children's service\n"
        "A3\t31 Mar 2026\tnot-started\t0%\tGreen\t0\tRecruit two more personal advisers\n"
        "\n"
        "# KPIs as they stood\n"
        "kpi\tname\tvalue\tperiod\n"
        "CL-04\tAverage PA caseload\t24\t2025 Q3\n"
    )
    data = json.loads(plan("board", "show", "b1", "--json").stdout)
    assert data["snapshot"]["actions"][0]["action"] == "A1"
    assert data["snapshot"]["actions"][0]["status"] == "in-progress"
    assert data["snapshot"]["kpis"] == [
        {
            "key": "CL-04",
            "name": "Average PA caseload",
            "period": "2025-Q3",
            "period_end": "2025-09-30",
            "value": {"text": "24", "value": 24.0},
        }
    ]


def test_errors(plan: Any, db: Path) -> None:
    plan("board", "add", "26/11/2025")
    before = db.read_bytes()
    cases = [
        (["board", "add", "2025-11-26"], ConflictError.exit_code,
         "Error: A board meeting on 26 Nov 2025 is already recorded (B1).\n"),
        (["board", "add", "soon"], ValidationError.exit_code,
         "Error: Cannot read 'soon' as a date: use 1/9/2025, 2025-09-01, 1 Sep 2025, today, tomorrow, +10d, "
         "+2w or +3m.\n"),
        (["board", "show", "B9"], NotFoundError.exit_code, "Error: No board B9: the highest is B1 (see kt board list).\n"),
        (["board", "freeze", "X1"], ValidationError.exit_code,
         "Error: 'X1' is not a board id: use B and a number, e.g. B3.\n"),
    ]  # fmt: skip
    for args, code, stderr in cases:
        result = plan(*args)
        assert (result.exit_code, result.stderr, result.stdout) == (code, stderr, ""), args
    assert db.read_bytes() == before


def test_the_board_anchor_dates_work(plan: Any) -> None:
    plan("board", "add", "14/01/2026")
    result = plan("action", "add", "R1", "Prepare the board pack", "--due", "board-1w")
    assert result.stdout == "Added A5, due 7 Jan 2026: Prepare the board pack\n"


def test_every_board_command_has_help_with_an_example(kt: Any) -> None:
    for command in ("add", "freeze", "list", "show"):
        result = kt("board", command, "--help")
        assert result.exit_code == 0
        assert "Example:" in result.stdout and f"kt board {command}" in result.stdout


def test_adding_a_planned_meeting_again_on_the_day_points_to_freeze(plan: Any) -> None:
    plan("board", "add", "14/01/2026", env=on("2025-11-30"))
    result = plan("board", "add", "14/01/2026", env=on("2026-01-14"))
    assert (result.exit_code, result.stderr) == (
        ConflictError.exit_code,
        "Error: A board meeting on 14 Jan 2026 is already recorded (B1). Freeze its snapshot with kt board "
        "freeze B1.\n",
    )


def test_a_missing_or_damaged_snapshot_is_one_clear_error(plan: Any, db: Path) -> None:
    from knowsley_tracker.errors import CorruptStoreError

    plan("board", "add", "29/11/2025")
    snapshot = next((db.parent / "plan.json.d" / "snapshots").iterdir())
    snapshot.write_text('{"kind": "something else"}')
    result = plan("report")
    assert (result.exit_code, result.stdout) == (CorruptStoreError.exit_code, "")
    assert result.stderr == f"Error: The snapshot of board B1 ({snapshot.name}) cannot be read. Run kt doctor.\n"
    snapshot.unlink()
    result = plan("board", "show", "B1")
    assert result.exit_code == CorruptStoreError.exit_code
    assert result.stderr == f"Error: The store {db} refers to {snapshot}, which is missing. Run kt doctor.\n"
