"""kt history, undo, backup list, restore and doctor through the CLI, on the small plan from conftest."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from knowsley_tracker.errors import ConflictError, CorruptStoreError, NotFoundError, ValidationError
from knowsley_tracker.storage import StorePaths, list_backups

SAVED = "30 Nov 2025 09:00"
STAMP = "2025-11-30T09:00:00+00:00"
HEAD = "txn\twhen\tby\tcommand\trecord\tchange\tfield\told\tnew\n"


def edit_store(db: Path, change: Callable[[dict[str, Any]], None]) -> None:
    """Change the stored JSON directly, as damage or a hand edit would."""
    data = json.loads(db.read_bytes())
    change(data)
    db.write_text(json.dumps(data, indent=2))


def action(kt: Any, ref: str) -> dict[str, Any]:
    result = kt("action", "show", ref, "--json")
    assert result.exit_code == 0, result.stderr
    shown: dict[str, Any] = json.loads(result.stdout)
    return shown


def summary(shown: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(shown[k] for k in ("status", "progress", "completed_on", "last_logged_at", "last_note", "rag"))


# -- undo ---------------------------------------------------------------------------------


def test_undo_after_a_mistaken_done_reopens_the_action(plan: Any) -> None:
    before = action(plan, "A3")
    assert plan("done", "A3", "Both posts filled").exit_code == 0
    assert action(plan, "A3")["status"] == "complete"
    result = plan("undo")
    assert (result.exit_code, result.stderr) == (0, "")
    assert result.stdout == (
        f"Undid txn 14: done A3 (by Test Officer, {SAVED}).\n"
        "It put back A3's completion date, progress, status; removed L3.\n"
        "Saved as txn 15; run kt undo again to go one more step back.\n"
    )
    after = action(plan, "A3")
    assert summary(after) == summary(before) == ("not-started", 0, None, "", "", "green")
    assert after["log"] == []
    assert json.loads(plan("history", "t15", "--json").stdout)[0]["undo"] == 14


def test_repeated_undo_walks_back_and_never_undoes_an_undo(plan: Any) -> None:
    first = plan("undo")
    assert first.stdout.startswith(f"Undid txn 13: done A4 (by Test Officer, {SAVED}).\n")
    second = plan("undo")
    assert second.stdout.startswith(f"Undid txn 12: log A1 (by Test Officer, {SAVED}).\n")
    assert summary(action(plan, "A4"))[:3] == ("not-started", 0, None)
    assert summary(action(plan, "A1"))[:2] == ("not-started", 0)
    undo_of_undo = plan("undo", "--txn", "14")
    assert (undo_of_undo.exit_code, undo_of_undo.stderr) == (
        ConflictError.exit_code,
        "Error: txn 14 is itself an undo, and an undo is never undone.\n",
    )
    again = plan("undo", "--txn", "13")
    assert again.stderr == "Error: txn 13 has already been undone.\n"


def test_undo_keeps_other_peoples_later_commands(plan: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    assert plan("done", "A3").exit_code == 0  # txn 14, by Test Officer
    monkeypatch.setenv("KNOWSLEY_TRACKER_USER", "Other Officer")
    assert plan("log", "A1", "Second audit round").exit_code == 0  # txn 15
    monkeypatch.setenv("KNOWSLEY_TRACKER_USER", "Test Officer")
    result = plan("undo")
    assert result.stdout == (
        f"Undid txn 14: done A3 (by Test Officer, {SAVED}).\n"
        "It put back A3's completion date, progress, status; removed L3.\n"
        "1 later command by other people was kept.\n"
        "Saved as txn 16; run kt undo again to go one more step back.\n"
    )
    assert action(plan, "A1")["last_note"] == "Second audit round"


def test_undo_refuses_when_someone_changed_the_record_since(plan: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    assert plan("done", "A2", "Plan published").exit_code == 0  # txn 14
    monkeypatch.setenv("KNOWSLEY_TRACKER_USER", "Other Officer")
    assert plan("log", "A2", "Published on the intranet too").exit_code == 0  # txn 15
    monkeypatch.setenv("KNOWSLEY_TRACKER_USER", "Test Officer")
    before = plan("action", "show", "A2", "--json").stdout
    refused = plan("undo")
    assert (refused.exit_code, refused.stdout) == (ConflictError.exit_code, "")
    assert refused.stderr == (
        "Error: Cannot undo txn 14 (done A2): A2's last_note was changed later by txn 15 "
        f"(log A2, Other Officer, {SAVED}). Undo that first (kt undo --txn 15), or change A2 by hand.\n"
    )
    assert plan("action", "show", "A2", "--json").stdout == before
    assert plan("undo", "--txn", "15").stdout.startswith("Undid txn 15: log A2 (by Other Officer")
    assert plan("undo").stdout.startswith("Undid txn 14: done A2 (by Test Officer")
    assert summary(action(plan, "A2"))[:3] == ("not-started", 0, None)


def test_undo_refuses_to_leave_records_pointing_at_nothing(plan: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    assert plan("action", "add", "R1", "Train managers on oversight", "--due", "+4w").exit_code == 0  # A5
    monkeypatch.setenv("KNOWSLEY_TRACKER_USER", "Other Officer")
    assert plan("evidence", "add", "A5", "Training plan").exit_code == 0  # E1
    monkeypatch.setenv("KNOWSLEY_TRACKER_USER", "Test Officer")
    refused = plan("undo")
    assert (refused.exit_code, refused.stderr) == (
        ConflictError.exit_code,
        "Error: Cannot undo txn 14 (action add R1): records would be left pointing at nothing "
        "(E1 refers to action A5, which does not exist). Change that first, or restore a backup (kt backup list).\n",
    )
    assert action(plan, "A5")["title"] == "Train managers on oversight"


def test_undo_brings_back_a_removed_record_and_a_setting(plan: Any) -> None:
    assert plan("action", "add", "R1", "Duplicate action", "--due", "+4w").exit_code == 0
    assert plan("action", "remove", "A5").exit_code == 0
    restored = plan("undo")
    assert restored.stdout.splitlines()[1] == "It brought back A5."
    assert action(plan, "A5")["title"] == "Duplicate action"
    assert plan("config", "set", "backups", "3").exit_code == 0
    undone = plan("undo")
    assert undone.stdout.splitlines()[1] == "It put back settings.backups."
    assert json.loads(plan("config", "list", "--json").stdout)["backups"] == 10
    # Ids are never reused: the next action is A6, not A5 again.
    assert plan("action", "add", "R1", "Another", "--due", "+4w").stdout.startswith("Added A6,")


def test_nothing_to_undo(kt: Any, plan: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KNOWSLEY_TRACKER_USER", "Independent Chair")
    result = plan("undo")
    assert (result.exit_code, result.stderr) == (
        NotFoundError.exit_code,
        "Error: Nothing to undo: Independent Chair has no command left to undo in the history.\n",
    )
    assert plan("undo", "--txn", "99").stderr == "Error: No txn 99 in the history (see kt history).\n"


def test_undo_stops_at_a_restore(plan: Any) -> None:
    assert plan("restore").exit_code == 0  # txn 14
    assert plan("log", "A1", "After the restore").exit_code == 0  # txn 15
    assert plan("undo").exit_code == 0
    stopped = plan("undo")
    assert stopped.stderr == (
        f"Error: Nothing to undo: the store was restored from a backup at txn 14 ({SAVED}), and undo stops there.\n"
    )
    assert plan("undo", "--txn", "14").stderr == (
        "Error: txn 14 is a restore, which undo does not reverse; restore another backup instead (kt backup list).\n"
    )
    assert plan("undo", "--txn", "12").stderr == (
        f"Error: txn 12 is from before the store was restored from a backup (txn 14, {SAVED}); undo stops there.\n"
    )


# -- history ---------------------------------------------------------------------------------


def row(txn: int, command: str, record: str, change: str, field: str, old: str, new: str) -> str:
    return f"{txn}\t{SAVED}\tTest Officer\t{command}\t{record}\t{change}\t{field}\t{old}\t{new}\n"


def test_history_of_a_record_shows_who_changed_each_field_when(plan: Any) -> None:
    result = plan("history", "a4")
    assert (result.exit_code, result.stderr) == (0, "")
    assert result.stdout == HEAD + "".join(
        [
            row(11, "action add R2", "A4", "created", "rec_id", "", "2"),
            row(11, "action add R2", "A4", "created", "title", "", "Agree a PA caseload cap"),
            row(11, "action add R2", "A4", "created", "due", "", "2025-09-30"),
            row(11, "action add R2", "A4", "created", "owner_id", "", "2"),
            row(11, "action add R2", "A4", "created", "original_due", "", "2025-09-30"),
            row(11, "action add R2", "A4", "created", "status", "", "not-started"),
            row(11, "action add R2", "A4", "created", "progress", "", "0"),
            row(11, "action add R2", "A4", "created", "created_at", "", STAMP),
            row(13, "done A4", "A4", "changed", "completed_on", "", "2025-11-30"),
            row(13, "done A4", "A4", "changed", "last_logged_at", "", STAMP),
            row(13, "done A4", "A4", "changed", "last_note", "", "Cap of 20 agreed at corporate parenting board"),
            row(13, "done A4", "A4", "changed", "progress", "0", "100"),
            row(13, "done A4", "A4", "changed", "status", "not-started", "complete"),
        ]
    )


def test_history_of_a_log_entry_shows_the_entry_itself(plan: Any) -> None:
    note = "Audit tool agreed"
    result = plan("history", "L1")
    assert result.stdout == HEAD + "".join(
        [
            row(12, "log A1", "L1", "created", "action_id", "", "1"),
            row(12, "log A1", "L1", "created", "at", "", STAMP),
            row(12, "log A1", "L1", "created", "by", "", "Test Officer"),
            row(12, "log A1", "L1", "created", "note", "", note),
            row(
                12,
                "log A1",
                "L1",
                "created",
                "changes",
                "",
                '{"progress": [0, 40], "status": ["not-started", "in-progress"]}',
            ),
        ]
    )
    # Once undone, the entry is still shown from the history that removed it.
    assert plan("undo", "--txn", "12").exit_code == 0
    entries = json.loads(plan("history", "L1", "--json").stdout)
    assert [(e["txn"], e["changes"][0]["op"], e["changes"][0]["row"]["note"]) for e in entries] == [
        (12, "create", note),
        (14, "delete", note),
    ]


def test_history_since_a_date_and_as_json(plan: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KNOWSLEY_TRACKER_NOW", "2025-12-05T14:30:00+00:00")
    assert plan("log", "A2", "Draft shared with the board", "--progress", "30").exit_code == 0
    monkeypatch.setenv("KNOWSLEY_TRACKER_NOW", "2025-12-08T10:00:00+00:00")
    assert plan("config", "set", "backups", "5").exit_code == 0
    result = plan("history", "--since", "1/12/2025")
    assert result.stdout == HEAD + (
        "14\t5 Dec 2025 14:30\tTest Officer\tlog A2\tL3\tcreated\taction_id\t\t2\n"
        "14\t5 Dec 2025 14:30\tTest Officer\tlog A2\tL3\tcreated\tat\t\t2025-12-05T14:30:00+00:00\n"
        "14\t5 Dec 2025 14:30\tTest Officer\tlog A2\tL3\tcreated\tby\t\tTest Officer\n"
        "14\t5 Dec 2025 14:30\tTest Officer\tlog A2\tL3\tcreated\tnote\t\tDraft shared with the board\n"
        "14\t5 Dec 2025 14:30\tTest Officer\tlog A2\tL3\tcreated\tchanges\t\t"
        '{"progress": [0, 30], "status": ["not-started", "in-progress"]}\n'
        "14\t5 Dec 2025 14:30\tTest Officer\tlog A2\tA2\tchanged\tlast_logged_at\t\t2025-12-05T14:30:00+00:00\n"
        "14\t5 Dec 2025 14:30\tTest Officer\tlog A2\tA2\tchanged\tlast_note\t\tDraft shared with the board\n"
        "14\t5 Dec 2025 14:30\tTest Officer\tlog A2\tA2\tchanged\tprogress\t0\t30\n"
        "14\t5 Dec 2025 14:30\tTest Officer\tlog A2\tA2\tchanged\tstatus\tnot-started\tin-progress\n"
        "15\t8 Dec 2025 10:00\tTest Officer\tconfig set backups\tthe plan's settings\tchanged\tsettings.backups\t\t5\n"
    )
    entries = json.loads(plan("history", "--since", "6/12/2025", "--json").stdout)
    assert entries == [
        {
            "at": "2025-12-08T10:00:00+00:00",
            "by": "Test Officer",
            "changes": [
                {
                    "fields": {"settings.backups": [None, 5]},
                    "id": 1,
                    "op": "update",
                    "ref": "the plan's settings",
                    "table": "_meta",
                }
            ],
            "txn": 15,
            "what": "config set backups",
        }
    ]
    assert [e["txn"] for e in json.loads(plan("history", "A2", "--since", "1/12/2025", "--json").stdout)] == [14]
    assert [e["txn"] for e in json.loads(plan("history", "--json").stdout)] == list(range(1, 16))[-15:]
    assert [e["txn"] for e in json.loads(plan("history", "-n", "2", "--json").stdout)] == [14, 15]


def test_history_errors(plan: Any) -> None:
    cases = [
        (["history", "X9"], ValidationError.exit_code, "Error: 'X9' is not a record id: use a prefix"),
        (["history", "A99"], NotFoundError.exit_code, "Error: No changes to A99 are recorded, and there is no such"),
        (["history", "t99"], NotFoundError.exit_code, "Error: No txn 99 in the history.\n"),
        (["history", "-n", "0"], ValidationError.exit_code, "Error: --limit takes a number of commands, 1 or more.\n"),
    ]
    for args, code, start in cases:
        result = plan(*args)
        assert (result.exit_code, result.stdout) == (code, ""), args
        assert result.stderr.startswith(start), result.stderr


# -- backups and restore -----------------------------------------------------------------------


def test_backup_list_shows_each_version_and_what_saved_it(plan: Any, db: Path) -> None:
    assert plan("config", "set", "backups", "3").exit_code == 0  # txn 14
    assert plan("log", "A1", "Second round of audits").exit_code == 0  # txn 15
    result = plan("backup", "list")
    lines = [line.split("\t") for line in result.stdout.splitlines()]
    assert [line[:3] + line[4:] for line in lines] == [
        ["backup", "txn", "saved", "saved_by_command", "status"],
        ["plan-t000014-20251130T090000Z.json", "14", SAVED, "config set backups (Test Officer)", "good"],
        ["plan-t000013-20251130T090000Z.json", "13", SAVED, "done A4 (Test Officer)", "good"],
        ["plan-t000012-20251130T090000Z.json", "12", SAVED, "log A1 (Test Officer)", "good"],
    ]
    newest = list_backups(StorePaths(db))[0]
    assert lines[1][3] == f"{newest.path.stat().st_size / 1024:.1f} KB"
    listed = json.loads(plan("backup", "list", "--json").stdout)
    assert listed["keep"] == 3
    assert listed["backups"][0] == {
        "by": "Test Officer",
        "command": "config set backups",
        "good": True,
        "name": "plan-t000014-20251130T090000Z.json",
        "path": str(newest.path),
        "problem": None,
        "saved": STAMP,
        "size": newest.path.stat().st_size,
        "txn": 14,
    }
    assert plan("backups", "list", "--json").stdout == plan("backup", "list", "--json").stdout


def test_backup_list_marks_damaged_backups_and_works_on_a_damaged_store(plan: Any, db: Path) -> None:
    paths = StorePaths(db)
    list_backups(paths)[0].path.write_bytes(b"")  # (a backup only; a real one is never written in place)
    db.write_bytes(b"{")
    assert plan("restore").exit_code == 0  # skips the empty backup, keeps the damaged store aside
    lines = plan("backup", "list").stdout.splitlines()
    assert lines[1].split("\t")[-1] == "empty (0 bytes)"
    assert lines[-1].split("\t") == [
        "plan-damaged-20251130T090000Z.json",
        "",
        SAVED,
        "1 B",
        "",
        "a damaged store kept aside by kt restore",
    ]


def test_restore_a_named_backup_keeps_the_version_it_replaces(plan: Any, db: Path) -> None:
    result = plan("restore", "plan-t000012-20251130T090000Z.json")
    assert (result.exit_code, result.stderr) == (0, "")
    assert result.stdout == (
        f"Restored plan-t000012-20251130T090000Z.json (txn 12, saved {SAVED}); saved as txn 14, changing 2 records.\n"
        "It undid 1 command saved after that backup (kt history keeps it): txn 13 done A4 (Test Officer).\n"
        "The store it replaced (txn 13) is kept as plan-t000013-20251130T090000Z.json: "
        "kt restore plan-t000013-20251130T090000Z.json puts it back.\n"
    )
    assert action(plan, "A4")["status"] == "not-started"
    history = plan("history", "A4", "--json")
    assert json.loads(history.stdout)[-1]["changes"][0]["fields"]["status"] == ["complete", "not-started"]
    back = plan("restore", "13")
    assert back.stdout.startswith(
        f"Restored plan-t000013-20251130T090000Z.json (txn 13, saved {SAVED}); saved as txn 15"
    )
    assert action(plan, "A4")["status"] == "complete"


def test_restore_errors(plan: Any, db: Path) -> None:
    kept = StorePaths(db).backups / "plan-damaged-20251129T100000Z.json"
    kept.write_bytes(b"{")
    cases = [
        (
            ["restore", "nope.json"],
            NotFoundError.exit_code,
            f"Error: No backup 'nope.json' in {kept.parent}: see kt backup list.\n",
        ),
        (
            ["restore", kept.name],
            ValidationError.exit_code,
            f"Error: {kept.name} is a damaged store that kt restore kept aside; it cannot be restored. "
            "Choose a backup from kt backup list.\n",
        ),
    ]
    list_backups(StorePaths(db))[0].path.write_bytes(b'{"a": 1}')
    cases.append(
        (
            ["restore", "t12"],
            CorruptStoreError.exit_code,
            f"Error: The backup {StorePaths(db).backups / 'plan-t000012-20251130T090000Z.json'} cannot be restored: "
            "it JSON but not a knowsley-tracker store. Choose another with kt backup list.\n",
        )
    )
    before = db.read_bytes()
    for args, code, stderr in cases:
        result = plan(*args)
        assert (result.exit_code, result.stdout, result.stderr) == (code, "", stderr), args
    assert db.read_bytes() == before


def test_restore_when_the_store_file_is_gone(plan: Any, db: Path) -> None:
    db.unlink()
    missing = plan("action", "list")
    assert missing.stderr.startswith(f"Error: No store at {db}, but its backups are still there")
    result = plan("restore")
    assert result.stdout == (f"Restored plan-t000012-20251130T090000Z.json (txn 12, saved {SAVED}); saved as txn 14.\n")
    assert plan("doctor").exit_code == 0


# -- doctor -----------------------------------------------------------------------------------


def test_doctor_on_a_healthy_store(plan: Any, db: Path) -> None:
    result = plan("doctor")
    assert (result.exit_code, result.stderr) == (0, "")
    assert result.stdout == f"Checked {db}: schema 1, txn 13, 13 records, 10 backups.\nNo problems found.\n"
    report = json.loads(plan("doctor", "--json").stdout)
    assert (report["healthy"], report["problems"], report["newest_good_backup"]) == (
        True,
        [],
        "plan-t000012-20251130T090000Z.json",
    )


def test_doctor_finds_broken_references_and_says_how_to_fix_them(plan: Any, db: Path) -> None:
    def break_links(data: dict[str, Any]) -> None:
        del data["recommendations"]["2"]
        data["actions"]["1"]["owner_id"] = 9
        data["log"]["1"]["action_id"] = 7

    edit_store(db, break_links)
    result = plan("doctor")
    assert result.exit_code == 1
    assert result.stdout == (
        f"Checked {db}: schema 1, txn 13, 12 records, 10 backups.\n"
        "Problem: A3 refers to recommendation R2, which does not exist.\n"
        "  Fix: Move A3 under an existing recommendation (kt action edit A3 --rec R1), or restore a backup "
        "from before R2 was removed (kt backup list, kt restore NAME).\n"
        "Problem: A4 refers to recommendation R2, which does not exist.\n"
        "  Fix: Move A4 under an existing recommendation (kt action edit A4 --rec R1), or restore a backup "
        "from before R2 was removed (kt backup list, kt restore NAME).\n"
        "Problem: A1 refers to owner O9, which does not exist.\n"
        "  Fix: Give A1 an existing owner (kt action edit A1 --owner O1).\n"
        "Problem: L1 refers to action A7, which does not exist.\n"
        "  Fix: Log entries cannot be moved: restore a backup from before A7 was removed "
        "(kt backup list, kt restore NAME).\n"
        f"Problem: A1 says it was last logged {SAVED}, but its latest log entry is none.\n"
        "  Fix: Run kt doctor --fix to copy the latest entry's time and note onto A1.\n"
        "5 problems, 0 warnings. kt doctor --fix repairs the ones that say so.\n"
    )


def test_doctor_fix_repairs_counters_log_summaries_and_temporary_files(plan: Any, db: Path) -> None:
    def damage(data: dict[str, Any]) -> None:
        data["_meta"]["1"]["counters"]["actions"] = 2
        data["actions"]["4"]["last_logged_at"] = ""

    edit_store(db, damage)
    stale = db.with_name(".plan.json.4242.tmp")
    stale.write_bytes(b"{ half a store")
    result = plan("doctor")
    assert result.exit_code == 1
    assert result.stdout == (
        f"Checked {db}: schema 1, txn 13, 13 records, 10 backups.\n"
        "Problem: The id counter for actions (2) is below its highest id (A4), so an id could be handed out twice.\n"
        "  Fix: Run kt doctor --fix to move the counter up.\n"
        f"Warning: {stale} is a temporary file left by a write that was interrupted (the store itself is intact).\n"
        "  Fix: Run kt doctor --fix to delete it.\n"
        f"Problem: A4 says it was last logged never, but its latest log entry is L2 ({SAVED}).\n"
        "  Fix: Run kt doctor --fix to copy the latest entry's time and note onto A4.\n"
        "2 problems, 1 warning. kt doctor --fix repairs the ones that say so.\n"
    )
    fixed = plan("doctor", "--fix")
    assert fixed.exit_code == 0
    assert fixed.stdout == (
        f"Fixed: Deleted the temporary file {stale}.\n"
        "Fixed: Moved the id counter for actions up to 4.\n"
        "Fixed: Copied the latest log entry's time and note onto A4.\n"
        f"Checked {db}: schema 1, txn 14, 13 records, 10 backups.\n"
        "No problems found.\n"
    )
    assert not stale.exists()
    assert plan("action", "add", "R1", "Next", "--due", "+2w").stdout.startswith("Added A5,")
    assert json.loads(plan("history", "t14", "--json").stdout)[0]["what"] == "doctor --fix"


def test_doctor_checks_segments_snapshots_and_permissions(plan: Any, db: Path) -> None:
    def refer_to_missing_files(data: dict[str, Any]) -> None:
        data["_meta"]["1"]["segments"]["log"] = [
            {"file": "log-0000001-0000001-t000005.json", "first": 1, "last": 1, "rows": 1}
        ]
        data["log"].pop("1")
        data["boards"] = {"1": {"date": "2025-11-20", "snapshot_file": "board-2025-11-20-B1-t000009.json"}}
        data["_meta"]["1"]["counters"]["boards"] = 1

    edit_store(db, refer_to_missing_files)
    os.chmod(db, 0o666)
    result = plan("doctor")
    segment = StorePaths(db).segments / "log-0000001-0000001-t000005.json"
    snapshot = StorePaths(db).snapshots / "board-2025-11-20-B1-t000009.json"
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[1:7] == [
        f"Problem: The store {db} refers to {segment}, which is missing.",
        "  Fix: Put the file back from your file backups, or restore a version from before it was sealed "
        "(kt backup list, kt restore NAME).",
        f"Problem: A board refers to the snapshot {snapshot}, which is missing.",
        "  Fix: Put the file back from your file backups; board snapshots cannot be rebuilt.",
        f"Problem: Anyone on this computer can change {db} (mode 0666).",
        f"  Fix: chmod o-rwx {db}",
    ]
    segment.parent.mkdir(parents=True, exist_ok=True)
    segment.write_text('{"log": {"1": {"action_id": 1, "at": "x"')
    assert f"Problem: The segment file {segment} is damaged." in plan("doctor").stdout


def test_doctor_and_restore_work_when_plan_json_is_damaged(plan: Any, db: Path) -> None:
    db.write_bytes(db.read_bytes()[:100])
    report = json.loads(plan("doctor", "--json").stdout)
    assert (report["readable"], report["healthy"], report["newest_good_backup"]) == (
        False,
        False,
        "plan-t000012-20251130T090000Z.json",
    )
    fix = plan("doctor", "--fix")
    assert fix.exit_code == CorruptStoreError.exit_code
    assert plan("restore").exit_code == 0
    assert plan("doctor").exit_code == 0


# -- help ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "command", [["history"], ["undo"], ["backup", "list"], ["restore"], ["doctor"]], ids=lambda c: " ".join(c)
)
def test_every_safety_command_has_help_with_an_example(kt: Any, command: list[str]) -> None:
    result = kt(*command, "--help")
    assert result.exit_code == 0
    assert "Example:" in result.stdout
    assert f"kt {' '.join(command)}" in result.stdout.split("Example:")[1]


def test_doctor_personal_data_says_where_never_what(plan: Any) -> None:
    assert plan("log", "A1", "Case ref 123456 reviewed", "--allow-personal-data", "A contract number").exit_code == 0
    plan("action", "edit", "A2", "--title", "Born on 3 March 2012: plan", "--allow-personal-data", "test")
    plan("action", "edit", "A2", "--title", "Publish a plan")
    result = plan("doctor", "--personal-data")
    assert result.exit_code == 1
    assert result.stdout.splitlines()[2:6] == [
        "Personal data: 3 fields look like personal data (the text is not shown here):",
        "  A1 last_note: a case or record reference",
        "  L3 note: a case or record reference",
        "  t16 A2.title: a date of birth",  # the title was edited out, but the history keeps it
    ]
    assert "123456" not in result.stdout and "2012" not in result.stdout
    data = json.loads(plan("doctor", "--personal-data", "--json").stdout)
    assert {(h["where"], h["field"]) for h in data["personal_data"]} >= {("A1", "last_note"), ("L3", "note")}
    clean = plan("doctor")
    assert clean.exit_code == 0 and "Personal data" not in clean.stdout


# -- names a store refers to ---------------------------------------------------------------------


def test_a_hand_edited_snapshot_path_is_never_opened(plan: Any, db: Path, tmp_path: Path) -> None:
    assert plan("board", "add", "20/11/2025").exit_code == 0
    outside = tmp_path / "outside.json"
    outside.write_text('{"kind": "knowsley-tracker board snapshot"}')
    relative = os.path.relpath(outside, StorePaths(db).snapshots)

    def point_outside(data: dict[str, Any]) -> None:
        data["boards"]["1"]["snapshot_file"] = relative

    edit_store(db, point_outside)
    refusal = (
        f"Error: Board B1's snapshot_file {relative!r} is a path, not a file name: a snapshot file name looks like "
        "board-2025-10-15-B6-t000042.json; kt will not open it. Run kt doctor.\n"
    )
    for command in (["board", "show", "B1"], ["report"]):
        result = plan(*command)
        assert (result.exit_code, result.stdout, result.stderr) == (CorruptStoreError.exit_code, "", refusal), command
    exported = plan("export", "--format", "json")
    assert exported.exit_code == CorruptStoreError.exit_code
    assert exported.stderr == (
        f"Error: The store {db} names the snapshot file {relative!r}, which is a path, not a file name: a snapshot "
        "file name looks like board-2025-10-15-B6-t000042.json; kt opens no file outside the store's folders. "
        "Run kt doctor.\n"
    )
    doctor = plan("doctor")
    assert doctor.exit_code == 1
    assert doctor.stdout.splitlines()[1:3] == [
        f"Problem: B1's snapshot_file {relative!r} is a path, not a file name: a snapshot file name looks like "
        "board-2025-10-15-B6-t000042.json; kt will not open it.",
        "  Fix: Restore a backup from before it was changed (kt backup list, kt restore NAME).",
    ]
    assert "which is missing" not in doctor.stdout


def test_a_hand_edited_segment_path_is_never_opened(plan: Any, db: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside.json"
    outside.write_text('{"log": {"1": {"action_id": 1, "at": "2025-11-30T09:00:00+00:00", "by": "x"}}}')
    relative = os.path.relpath(outside, StorePaths(db).segments)

    def seal_outside(data: dict[str, Any]) -> None:
        data["_meta"]["1"]["segments"]["log"] = [{"file": relative, "first": 1, "last": 1, "rows": 1}]
        data["log"].pop("1")

    edit_store(db, seal_outside)
    result = plan("action", "show", "A1")
    assert result.exit_code == CorruptStoreError.exit_code
    assert result.stderr == (
        f"Error: The store {db} names the segment file {relative!r}, which is a path, not a file name: a segment "
        "file name looks like log-0000001-0001000-t000042.json; kt opens no file outside the store's folders. "
        "Run kt doctor.\n"
    )
    doctor = plan("doctor")
    assert doctor.exit_code == 1
    assert (
        f"Problem: The store {db} names the segment file {relative!r}, which is a path, not a file name: a segment "
        "file name looks like log-0000001-0001000-t000042.json; kt opens no file outside the store's folders."
    ) in doctor.stdout.splitlines()


def test_no_backup_is_named_from_a_year_before_1000(plan: Any, db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 10: a clock before year 1000 gave backups names (0999... written as 999...) that kt backup list
    and kt restore could not see. Such a clock is refused at the door; the earliest day allowed names well."""
    backups = StorePaths(db).backups
    before = sorted(p.name for p in backups.iterdir())
    monkeypatch.setenv("KNOWSLEY_TRACKER_NOW", "0999-06-01T09:00:00+00:00")
    refused = plan("log", "A1", "A note from long ago")
    assert (refused.exit_code, refused.stderr) == (
        ValidationError.exit_code,
        "Error: KNOWSLEY_TRACKER_NOW='0999-06-01T09:00:00+00:00' is outside the dates kt handles: use one from "
        "1 Jan 1900 to 31 Dec 2999.\n",
    )
    assert sorted(p.name for p in backups.iterdir()) == before
    monkeypatch.setenv("KNOWSLEY_TRACKER_NOW", "1900-01-01T00:00:00+00:00")
    for n in range(2):
        assert plan("log", "A1", f"A note on the earliest day {n}").exit_code == 0
    kept = list_backups(StorePaths(db))
    assert sorted(b.name for b in kept) == sorted(p.name for p in backups.iterdir())  # every one is seen
    assert kept[0].name.endswith("-19000101T000000Z.json")
    assert plan("restore", kept[0].name).exit_code == 0
