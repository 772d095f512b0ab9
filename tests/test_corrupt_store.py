"""A store edited by hand or damaged: one line on stderr and exit 9 (the store cannot be read),
naming the record and field, on every command that reads what is damaged; never a traceback, and
the file byte-for-byte unchanged. ``kt doctor`` reports a damaged record as a problem (exit 1)
and a store it cannot read at all with exit 9, as the README says.

The store is the shipped example plan; each corruption changes one value in it. A14 is an open,
overdue action, so ``kt check`` reads it too.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import Result

from knowsley_tracker.errors import CorruptStoreError
from knowsley_tracker.models import Action, Board, LogEntry, record
from knowsley_tracker.store_rows import txn_from_row

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "knowsley-2025"
UNREADABLE = CorruptStoreError.exit_code
NOW_2025 = "2025-11-30T09:00:00+00:00"

Edit = Callable[[dict[str, Any]], Any]


def _set(table: str, key: str, field: str, value: Any) -> Edit:
    def edit(data: dict[str, Any]) -> Any:
        data[table][key][field] = value
        return data

    return edit


def _segments(value: Any) -> Edit:
    def edit(data: dict[str, Any]) -> Any:
        data["_meta"]["1"]["segments"]["log"] = value
        return data

    return edit


def _history_changes(data: dict[str, Any]) -> Any:
    data["history"]["1"]["changes"] = "x"
    return data


# name: (edit, the one line kt prints (after "Error: "), or None for a damaged file as a whole, and the
# table whose records it damages (None: plan.json itself, which every command reads first))
A14 = "A14 (in the store's actions table) has"
_DAMAGED = (
    ": the store was edited by hand or damaged. kt doctor lists what it cannot read; kt restore brings back a backup."
)
CORRUPTIONS: dict[str, tuple[Edit, str, str | None]] = {
    "board date 9999-99-99": (
        _set("boards", "1", "date", "9999-99-99"),
        "B1 (in the store's boards table) has date '9999-99-99', which is not a date (YYYY-MM-DD)" + _DAMAGED,
        "boards",
    ),
    "due 31/12/2025": (
        _set("actions", "14", "due", "31/12/2025"),
        f"{A14} due '31/12/2025', which is not a date (YYYY-MM-DD)" + _DAMAGED,
        "actions",
    ),
    "segment a plain string": (
        _segments(["log-000001-000040.json"]),
        "The store {db} is damaged: 'log' segment 1 is 'log-000001-000040.json', not a record of the segment.",
        None,
    ),
    "segment without rows": (
        _segments([{"file": "log-000001-000040.json", "first": 1, "last": 40}]),
        "The store {db} is damaged: 'log' segment 1's 'rows' is missing, not a whole number.",
        None,
    ),
    "segments null": (
        _segments(None),
        "The store {db} is damaged: its list of 'log' segments is None, not a list.",
        None,
    ),
    "progress 'fifty'": (
        _set("actions", "14", "progress", "fifty"),
        f"{A14} progress 'fifty', which is not a whole number" + _DAMAGED,
        "actions",
    ),
    "status 'whatever'": (
        _set("actions", "14", "status", "whatever"),
        f"{A14} status 'whatever', which is not one of not-started, in-progress, blocked, complete, dropped" + _DAMAGED,
        "actions",
    ),
    "owner id as text": (
        _set("actions", "14", "owner_id", "3"),
        f"{A14} owner_id '3', which is not a whole number or null" + _DAMAGED,
        "actions",
    ),
    "title a number": (
        _set("actions", "14", "title", 14),
        f"{A14} title 14, which is not text" + _DAMAGED,
        "actions",
    ),
    "decisions null": (
        _set("boards", "1", "decisions", None),
        "B1 (in the store's boards table) has decisions null, which is not a list of text" + _DAMAGED,
        "boards",
    ),
    "top-level list": (
        lambda data: [data],
        "The file {db} is JSON but not a knowsley-tracker store.",
        None,
    ),
    "counter as text": (
        lambda data: data["_meta"]["1"]["counters"].update(actions="37") or data,
        "The store {db} is damaged: its id counter for 'actions' is '37', not a whole number.",
        None,
    ),
}
NO_BACKUP = " The file has not been changed. No backup is available."

# Each command with the table it must read; "show" shows the damaged record itself.
COMMANDS: dict[str, tuple[list[str], set[str]]] = {
    "report": (["report"], {"actions", "boards"}),
    "export json": (["export", "--format", "json"], {"actions", "boards"}),
    "export csv": (["export", "--format", "csv"], {"actions"}),
    "export xlsx": (["export", "--format", "xlsx", "-o", "{out}/plan.xlsx"], {"actions"}),
    "export ics": (["export", "--format", "ics"], {"actions", "boards"}),
    "check": (["check"], {"actions"}),
    "action list": (["action", "list"], {"actions"}),
    "show": (["{show}", "show", "{ref}"], {"actions", "boards"}),
    "doctor": (["doctor"], {"actions", "boards"}),
}
SHOWN = {"actions": ("action", "A14"), "boards": ("board", "B1")}


def _example(folder: Path) -> Path:
    shutil.copytree(EXAMPLE, folder)
    return folder / "plan.json"


@pytest.fixture(scope="module")
def baseline(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], int]:
    """Each command's exit code on the undamaged example (check: 1, items need attention)."""
    from typer.testing import CliRunner

    from knowsley_tracker.cli import app

    db = _example(tmp_path_factory.mktemp("clean") / "plan")
    codes = {}
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("KNOWSLEY_TRACKER_NOW", NOW_2025)
        for name, (args, _) in COMMANDS.items():
            for table, (noun, ref) in SHOWN.items():
                filled = [a.format(out=db.parent, show=noun, ref=ref) for a in args]
                result = CliRunner().invoke(app, ["--db", str(db), *filled], catch_exceptions=False)
                codes[name, table] = result.exit_code
    return codes


@pytest.mark.parametrize("command", list(COMMANDS))
@pytest.mark.parametrize("corruption", list(CORRUPTIONS))
def test_a_damaged_store_is_one_line_and_exit_9_and_left_unchanged(
    corruption: str,
    command: str,
    tmp_path: Path,
    kt: Callable[..., Result],
    monkeypatch: pytest.MonkeyPatch,
    baseline: dict[tuple[str, str], int],
) -> None:
    monkeypatch.setenv("KNOWSLEY_TRACKER_NOW", NOW_2025)
    edit, line, damaged = CORRUPTIONS[corruption]
    db = _example(tmp_path / "plan")
    db.write_text(json.dumps(edit(json.loads(db.read_text())), indent=2))
    shutil.rmtree(db.parent / "plan.json.d" / "backups", ignore_errors=True)
    before = {p: p.read_bytes() for p in db.parent.rglob("*") if p.is_file()}
    args, reads = COMMANDS[command]
    noun, ref = SHOWN[damaged or "actions"]
    result = kt("--db", str(db), *(a.format(out=tmp_path, show=noun, ref=ref) for a in args))

    assert "Traceback" not in result.stdout + result.stderr
    assert {p: p.read_bytes() for p in db.parent.rglob("*") if p.is_file()} == before
    assert not (tmp_path / "plan.xlsx").exists() or result.exit_code == 0
    message = line.format(db=db) + (NO_BACKUP if damaged is None else "")
    if command == "doctor":
        if damaged is None:  # the store cannot be read at all
            assert (result.exit_code, result.stderr) == (UNREADABLE, ""), result.stdout
            assert f"Problem: {message}" in result.stdout
        else:  # a record: a problem among the doctor's findings
            assert (result.exit_code, result.stderr) == (1, ""), result.stdout
            assert f"Problem: {message.removesuffix(_DAMAGED)}." in result.stdout
    elif damaged is None or damaged in reads:
        assert (result.exit_code, result.stdout, result.stderr) == (UNREADABLE, "", f"Error: {message}\n")
    else:  # this command never reads that table: it runs as it does on the undamaged store
        assert (result.exit_code, result.stderr) == (baseline[command, damaged], "")


def test_history_that_is_not_a_list_of_changes_is_refused_where_it_is_read(
    tmp_path: Path, kt: Callable[..., Result]
) -> None:
    db = _example(tmp_path / "plan")
    db.write_text(json.dumps(_history_changes(json.loads(db.read_text())), indent=2))
    before = db.read_bytes()
    line = (
        "History entry t1 in the store cannot be read (its changes are 'x', not a list of [operation, table, id, "
        "values])"
    )
    result = kt("--db", str(db), "export", "--format", "json")
    assert (result.exit_code, result.stdout, result.stderr) == (UNREADABLE, "", f"Error: {line}{_DAMAGED}\n")
    doctor = kt("--db", str(db), "doctor")
    assert doctor.exit_code == 1 and f"Problem: {line}." in doctor.stdout
    assert db.read_bytes() == before
    with pytest.raises(CorruptStoreError):
        txn_from_row(1, {"changes": "abcd"})  # four letters would unpack as a change


def test_nan_and_infinity_are_refused_as_numbers_kt_never_writes(tmp_path: Path, kt: Callable[..., Result]) -> None:
    db = _example(tmp_path / "plan")
    data = json.loads(db.read_text())
    data["kpi_values"]["1"]["value"] = 123456.789
    text = json.dumps(data, indent=2)
    for bad in ("NaN", "Infinity", "-Infinity", "1e999"):
        db.write_text(text.replace("123456.789", bad))
        before = db.read_bytes()
        result = kt("--db", str(db), "report")
        assert (result.exit_code, result.stdout) == (UNREADABLE, "")
        assert result.stderr.startswith(
            f"Error: The store {db} is damaged: it holds the number {bad}, which kt never writes. The file has not "
            "been changed."
        )
        assert result.stderr.count("\n") == 1 and db.read_bytes() == before


@pytest.mark.parametrize("generated", [False, True])
def test_both_loaders_name_the_field(generated: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    """The loop used for the first records of a kind and the generated loader used after
    GENERATE_AFTER of them refuse the same values with the same words."""
    monkeypatch.setattr(record, "GENERATE_AFTER", 1 if generated else 10**9)
    monkeypatch.setattr(record, "_LOADERS", {})
    monkeypatch.setattr(record, "_LOADED", {})
    good = json.loads((EXAMPLE / "plan.json").read_text())
    action, board, entry = good["actions"]["14"], good["boards"]["7"], good["log"]["1"]
    assert Action.from_record(14, action).progress == action["progress"]
    cases: list[tuple[type[Any], int, dict[str, Any], str]] = [
        (
            Action,
            14,
            {**action, "progress": True},
            "A14 (in the store's actions table) has progress true, which is not a whole number",
        ),
        (
            Action,
            14,
            {**action, "due": 20251231},
            "A14 (in the store's actions table) has due 20251231, which is not a date (YYYY-MM-DD)",
        ),
        (
            Action,
            14,
            {**action, "status": None},
            "A14 (in the store's actions table) has status null, which is not "
            "one of not-started, in-progress, blocked, complete, dropped",
        ),
        (
            Board,
            7,
            {**board, "decisions": ["Agreed", 2]},
            "B7 (in the store's boards table) has decisions ['Agreed', 2], which is not a list of text",
        ),
        (
            Board,
            7,
            {**board, "rag_counts": {"red": "3"}},
            "B7 (in the store's boards table) has rag_counts {'red': '3'}, which is not a table of whole numbers",
        ),
        (
            LogEntry,
            1,
            {**entry, "changes": {"progress": 50}},
            "L1 (in the store's log table) has changes {'progress': 50}, which is not a table of lists",
        ),
    ]
    for cls, record_id, row, words in cases:
        with pytest.raises(CorruptStoreError) as caught:
            cls.from_record(record_id, row)
        assert str(caught.value) == words + _DAMAGED


def test_an_all_day_event_on_the_last_day_python_holds_is_exported(tmp_path: Path, kt: Callable[..., Result]) -> None:
    """31 Dec 9999 is a date (kt refuses it at input, but a hand-edited store can hold it):
    its calendar event has no next day for DTEND, so it lasts DURATION:P1D."""
    db = _example(tmp_path / "plan")
    data = json.loads(db.read_text())
    data["actions"]["14"]["due"] = "9999-12-31"
    data["boards"]["8"]["date"] = "9999-12-31"
    db.write_text(json.dumps(data, indent=2))
    result = kt("--db", str(db), "export", "--format", "ics")
    assert (result.exit_code, result.stderr) == (0, "")
    events = result.stdout.split("BEGIN:VEVENT")[1:]
    last = [e for e in events if "DTSTART;VALUE=DATE:99991231" in e]
    assert len(last) == 2
    for event in last:
        assert "DURATION:P1D" in event and "DTEND" not in event
    assert all("DTEND;VALUE=DATE:" in e for e in events if e not in last)


def _comparator(change: Callable[[dict[str, Any]], Any]) -> Edit:
    def edit(data: dict[str, Any]) -> Any:
        change(data["kpis"]["1"]["comparators"][0])
        return data

    return edit


_UNREADABLE = "cannot be read ({})" + _DAMAGED
_COMPARATOR = "K1 (in the store's kpis table) " + _UNREADABLE.format(
    "A comparator of HP-01 must be one each of england, neighbours, regional, with a number and the period it "
    "describes."
)
# Values of the right JSON type that still do not hold together: a moment that does not
# parse, progress out of range, a comparator without its number, a period kt never writes.
# name: (edit, the one line, the command that reads it)
INCOHERENT: dict[str, tuple[Edit, str, list[str]]] = {
    "last logged at month 13": (
        _set("actions", "14", "last_logged_at", "2025-13-45T00:00:00+00:00"),
        "A14 (in the store's actions table) "
        + _UNREADABLE.format("its last logged at '2025-13-45T00:00:00+00:00' is not an ISO 8601 date and time"),
        ["report"],
    ),
    "created at 'yesterday'": (
        _set("actions", "14", "created_at", "yesterday"),
        "A14 (in the store's actions table) "
        + _UNREADABLE.format("its created at 'yesterday' is not an ISO 8601 date and time"),
        ["action", "list"],
    ),
    "progress 1000": (
        _set("actions", "14", "progress", 1000),
        "A14 (in the store's actions table) "
        + _UNREADABLE.format("Progress must be a whole number from 0 to 100, not 1000."),
        ["action", "show", "A14"],
    ),
    "kpi value 1e308": (  # beside an ordinary value, a chart's range overflowed (a traceback)
        _set("kpi_values", "86", "value", 1e308),
        "KV86 (in the store's kpi_values table) "
        + _UNREADABLE.format("its value 1e+308 is not a number of at most 15 digits"),
        ["report"],
    ),
    "kpi target -1e16": (
        _set("kpis", "1", "target", -1e16),
        "K1 (in the store's kpis table) "
        + _UNREADABLE.format("its target -1e+16 is not a number of at most 15 digits"),
        ["kpi", "list"],
    ),
    "comparator 1e300": (_comparator(lambda c: c.update(value=1e300)), _COMPARATOR, ["report"]),
    "comparator value as text": (_comparator(lambda c: c.update(value="82")), _COMPARATOR, ["kpi", "list"]),
    "comparator without a value": (_comparator(lambda c: c.pop("value")), _COMPARATOR, ["report"]),
    "kpi period 'Jan 2025'": (
        _set("kpi_values", "86", "period", "Jan 2025"),
        "KV86 (in the store's kpi_values table) "
        + _UNREADABLE.format("its period 'Jan 2025' is not one kt writes (2025-06, 2025-Q2, 2025-06-30)"),
        ["kpi", "list"],
    ),
    "log time 'noon'": (
        _set("log", "42", "at", "noon"),
        "L42 (in the store's log table) " + _UNREADABLE.format("its time 'noon' is not an ISO 8601 date and time"),
        ["action", "show", "A37"],
    ),
    "history time 'noon'": (
        _set("history", "246", "at", "noon"),
        "History entry t246 in the store has at 'noon', which is not an ISO 8601 date and time" + _DAMAGED,
        ["history"],
    ),
}


@pytest.mark.parametrize("corruption", list(INCOHERENT))
def test_values_that_do_not_hold_together_are_one_line_and_exit_9(
    corruption: str, tmp_path: Path, kt: Callable[..., Result], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Once tracebacks (ValueError, TypeError, KeyError) in the report, kpi list, history and
    action show; now one line naming the record, exit 9, the files unchanged, and kt doctor
    reports the damage (exit 1) rather than crashing."""
    monkeypatch.setenv("KNOWSLEY_TRACKER_NOW", NOW_2025)
    edit, line, args = INCOHERENT[corruption]
    db = _example(tmp_path / "plan")
    db.write_text(json.dumps(edit(json.loads(db.read_text())), indent=2))
    before = {p: p.read_bytes() for p in db.parent.rglob("*") if p.is_file()}
    result = kt("--db", str(db), *args)
    assert (result.exit_code, result.stdout, result.stderr) == (UNREADABLE, "", f"Error: {line}\n")
    doctor = kt("--db", str(db), "doctor")
    assert doctor.exit_code == 1 and "Traceback" not in doctor.stdout + doctor.stderr, doctor.stdout
    assert {p: p.read_bytes() for p in db.parent.rglob("*") if p.is_file()} == before


def test_undo_of_a_change_to_a_damaged_record_says_it_is_damaged_not_changed_later(
    tmp_path: Path, kt: Callable[..., Result], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Undo compares each field with what the command wrote; a hand edit that broke the value
    differs too, but it is damage (exit 9), not a later command to undo first (exit 5)."""
    monkeypatch.setenv("KNOWSLEY_TRACKER_NOW", NOW_2025)
    db = _example(tmp_path / "plan")
    logged = kt("--db", str(db), "log", "A14", "Chased the audit", "--progress", "60")
    assert logged.exit_code == 0, logged.stderr
    txn = json.loads(db.read_text())["_meta"]["1"]["txn"]
    for value, code, line in (
        ("sixty", UNREADABLE, f"Error: {A14} progress 'sixty', which is not a whole number{_DAMAGED}\n"),
        (70, 5, f"Error: Cannot undo txn {txn} (log A14): A14 has changed since (its progress is different); "),
    ):
        db.write_text(json.dumps(_set("actions", "14", "progress", value)(json.loads(db.read_text())), indent=2))
        before = db.read_bytes()
        result = kt("--db", str(db), "undo", "--txn", str(txn))
        assert (result.exit_code, result.stdout) == (code, "")
        assert result.stderr.startswith(line) and result.stderr.count("\n") == 1
        assert db.read_bytes() == before


def test_a_hand_made_record_numbered_0_stays_out_of_listings_counts_and_exports(
    tmp_path: Path, kt: Callable[..., Result], monkeypatch: pytest.MonkeyPatch
) -> None:
    """kt numbers records from 1; a row keyed "0" or "00" (a hand edit) is passed over, as it
    always was, so an export never carries a record kt could not import again."""
    monkeypatch.setenv("KNOWSLEY_TRACKER_NOW", NOW_2025)
    db = _example(tmp_path / "plan")
    before = json.loads(kt("--db", str(db), "action", "list", "--json").stdout)
    data = json.loads(db.read_text())
    data["actions"]["0"] = dict(data["actions"]["2"])
    data["evidence"]["00"] = dict(data["evidence"]["1"])
    db.write_text(json.dumps(data, indent=2))
    assert json.loads(kt("--db", str(db), "action", "list", "--json").stdout) == before
    exported = kt("--db", str(db), "export", "--format", "json", "-o", str(tmp_path / "out.json"))
    assert exported.exit_code == 0, exported.stderr
    fresh = tmp_path / "fresh" / "plan.json"
    fresh.parent.mkdir()
    assert kt("--db", str(fresh), "init", "--authority", "Test Council").exit_code == 0
    imported = kt("--db", str(fresh), "import", str(tmp_path / "out.json"))
    assert imported.exit_code == 0, imported.stderr


def test_undo_of_a_history_entry_whose_change_was_blanked_is_refused_as_damage(
    tmp_path: Path, kt: Callable[..., Result], monkeypatch: pytest.MonkeyPatch
) -> None:
    """An update whose [old, new] values were edited to null would undo nothing: the
    history entry is damaged, exit 9, and nothing is saved."""
    monkeypatch.setenv("KNOWSLEY_TRACKER_NOW", NOW_2025)
    db = _example(tmp_path / "plan")
    assert kt("--db", str(db), "action", "edit", "A6", "--title", "Weekly risk meeting").exit_code == 0
    data = json.loads(db.read_text())
    txn = max(data["history"], key=int)
    data["history"][txn]["changes"] = [["update", "actions", 6, None]]
    db.write_text(json.dumps(data, indent=2))
    before = db.read_bytes()
    result = kt("--db", str(db), "undo")
    assert (result.exit_code, result.stdout) == (UNREADABLE, "")
    assert result.stderr.startswith(f"Error: History entry t{txn} in the store cannot be read (its changes are ")
    assert db.read_bytes() == before


def test_a_backup_name_with_other_digits_is_not_taken_for_a_backup(
    tmp_path: Path, kt: Callable[..., Result], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Backup names hold ASCII digits; one planted with Arabic-Indic digits crashed kt backup
    list (a traceback). It is not a backup kt made, so it is not listed."""
    monkeypatch.setenv("KNOWSLEY_TRACKER_NOW", NOW_2025)
    db = _example(tmp_path / "plan")
    assert kt("--db", str(db), "log", "A3", "Checked").exit_code == 0
    backups = db.parent / "plan.json.d" / "backups"
    made = sorted(backups.iterdir())
    shutil.copy(
        made[0],
        backups / "plan-t5-\u0662\u0660\u0662\u0665\u0661\u0661\u0663\u0660T\u0661\u0660\u0661\u0665\u0660\u0660Z.json",
    )
    result = kt("--db", str(db), "backup", "list")
    assert (result.exit_code, result.stderr) == (0, "")
    assert [line.split("\t")[0] for line in result.stdout.splitlines()[1:]] == [p.name for p in made]
