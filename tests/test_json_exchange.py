"""kt export --format json and kt import FILE.json: a versioned whole-store document and its restore."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from helpers.fault_counts import add as count

from knowsley_tracker.dates import Clock
from knowsley_tracker.errors import ConflictError, ValidationError
from knowsley_tracker.filenames import snapshot_stem
from knowsley_tracker.models import RECORD_TYPES, Action, Board, LogEntry
from knowsley_tracker.storage import Store, StorePaths

NOW = "2025-11-30T09:00:00+00:00"  # the conftest clock


def store_state(db: Path) -> tuple[bytes, list[str]]:
    aux = db.with_name(db.name + ".d")
    files = sorted(str(p.relative_to(aux)) for p in aux.rglob("*") if p.is_file() and p.name != "lock")
    return db.read_bytes(), files


def export_json(kt: Any) -> dict[str, Any]:
    result = kt("export", "--format", "json")
    assert result.exit_code == 0, result.stderr
    document: dict[str, Any] = json.loads(result.stdout)
    return document


def comparable(document: dict[str, Any]) -> dict[str, Any]:
    """What a restore must reproduce: everything but the export's own time and the audit trail."""
    out = {k: v for k, v in document.items() if k not in ("exported_at", "history")}
    out["store"] = {k: v for k, v in document["store"].items() if k != "txn"}
    return out


def switch_store(kt: Any, db: Path, monkeypatch: pytest.MonkeyPatch, name: str, authority: str = "New Council") -> Path:
    other = db.with_name(name)
    monkeypatch.setenv("KNOWSLEY_TRACKER_DB", str(other))
    assert kt("init", "--authority", authority).exit_code == 0
    return other


def test_export_document_is_versioned_and_complete(plan: Any) -> None:
    document = export_json(plan)
    assert (document["format"], document["version"]) == ("knowsley-tracker-export", 1)
    assert document["about"].startswith("A complete knowsley-tracker plan.")
    assert document["exported_at"] == NOW
    assert set(document["records"]) == {cls.TABLE for cls in RECORD_TYPES}
    assert document["store"] == {
        "authority": "Test Council",
        "counters": {"actions": 4, "focus_areas": 2, "inspections": 1, "log": 2, "owners": 2, "recommendations": 2},
        "created_at": NOW,
        "schema_version": 1,
        "settings": {},
        "txn": document["store"]["txn"],
    }
    records = document["records"]
    assert [a["id"] for a in records["actions"]] == [1, 2, 3, 4]
    assert {
        k: records["actions"][0][k] for k in ("id", "rec_id", "owner_id", "title", "due", "status", "progress")
    } == {
        "id": 1,
        "rec_id": 1,
        "owner_id": 1,
        "title": "Audit open disabled children's cases",
        "due": "2025-11-15",
        "status": "in-progress",
        "progress": 40,
    }
    assert [(e["id"], e["action_id"], e["note"]) for e in records["log"]] == [
        (1, 1, "Audit tool agreed"),
        (2, 4, "Cap of 20 agreed at corporate parenting board"),
    ]
    assert [h["what"] for h in document["history"]][:2] == ["inspection add", "focus add DIS"]
    assert all(isinstance(h["txn"], int) for h in document["history"])


def test_restore_reproduces_the_plan(plan: Any, db: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    assert plan("config", "set", "rag.amber_days", "21").exit_code == 0
    assert plan("visit", "add", "10/12/2025", "--theme", "DIS", "--theme", "CL").exit_code == 0
    assert plan("evidence", "add", "A4", "Board minutes, 12 Nov 2025", "--kind", "minutes").exit_code == 0
    assert plan("action", "add", "R2", "Added by mistake", "--due", "+1w").exit_code == 0
    assert plan("action", "remove", "A5").exit_code == 0  # A5 is retired for good
    original = export_json(plan)
    dump = tmp_path / "plan-export.json"
    assert plan("export", "-o", str(dump)).exit_code == 0

    restored_db = switch_store(plan, db, monkeypatch, "restored.json")
    dry = plan("import", str(dump), "--dry-run")
    assert dry.exit_code == 0, dry.stderr
    assert dry.stdout == (
        f"Dry run: would restore Test Council's plan from {dump}, exported 30 Nov 2025 09:00: 1 inspection, "
        "2 focus areas, 2 owners, 2 recommendations, 4 actions, 2 log entries, 1 piece of evidence, 1 visit "
        "and 1 setting. Nothing was saved.\n"
    )
    result = plan("import", str(dump))
    assert result.exit_code == 0, result.stderr
    assert result.stdout == (
        f"Restored Test Council's plan from {dump}, exported 30 Nov 2025 09:00: 1 inspection, 2 focus areas, "
        "2 owners, 2 recommendations, 4 actions, 2 log entries, 1 piece of evidence, 1 visit and 1 setting.\n"
    )
    assert comparable(export_json(plan)) == comparable(original)
    assert plan("action", "add", "R2", "A new action", "--due", "+2w").stdout.startswith("Added A6,")
    history = json.loads(restored_db.read_text())["history"]
    assert history[max(history, key=int)]["what"] == "action add R2"
    assert any(entry["what"] == f"import {dump.name}" for entry in history.values())


def test_restore_needs_an_empty_store(plan: Any, db: Path, tmp_path: Path) -> None:
    dump = tmp_path / "plan-export.json"
    assert plan("export", "-o", str(dump)).exit_code == 0
    before = store_state(db)
    result = plan("import", str(dump))
    assert result.exit_code == ConflictError.exit_code
    assert result.stderr == (
        f"Error: The store {db} already holds a plan (1 inspection, 2 focus areas, 2 owners, 2 recommendations, "
        "4 actions, 2 log entries); an export is restored only into an empty store: create one with "
        f"kt --db NEW.json init --authority NAME, then kt --db NEW.json import {dump}.\n"
    )
    assert store_state(db) == before


def test_bad_documents_are_refused_with_every_problem(
    plan: Any, db: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    document = export_json(plan)
    fresh = switch_store(plan, db, monkeypatch, "fresh.json")
    before = store_state(fresh)

    def attempt(name: str, content: bytes | dict[str, Any]) -> Any:
        path = tmp_path / name
        path.write_bytes(content if isinstance(content, bytes) else json.dumps(content).encode())
        return plan("import", str(path)), path

    broken = json.loads(json.dumps(document))
    broken["records"]["actions"][1]["rec_id"] = 9
    broken["records"]["actions"][2]["id"] = 1
    del broken["records"]["recommendations"][0]["text"]
    broken["records"]["log"][0]["action_id"] = 77
    broken["records"]["visits"] = [{"id": 1, "date": "31/12/2025"}]
    broken["records"]["gadgets"] = []
    result, path = attempt("broken.json", broken)
    assert result.exit_code == ValidationError.exit_code
    assert result.stderr == (
        f"Error: {path} has 7 problems; nothing was imported.\n"
        "  records.actions[2] (A1), id: A1 appears more than once.\n"
        "  records.recommendations[0] (R1): missing text.\n"
        "  records.visits[0] (V1): a field has the wrong type or value (Invalid isoformat string: '31/12/2025').\n"
        "  records.gadgets: not a kind of record this knowsley-tracker knows.\n"
        "  records.actions[0] (A1), rec_id: refers to R1, which is not in records.recommendations.\n"
        "  records.actions[1] (A2), rec_id: refers to R9, which is not in records.recommendations.\n"
        "  records.log[0] (L1), action_id: refers to A77, which is not in records.actions.\n"
    )
    newer = dict(document, version=2)
    cases: list[tuple[str, bytes | dict[str, Any], str | None]] = [
        (
            "not.json",
            b"{ this is not json",
            f"Error: {tmp_path / 'not.json'} is not JSON (damaged, or not an export).\n",
        ),
        ("store.json", db.read_bytes(), None),
        ("other.json", {"format": "something-else"}, None),
        ("newer.json", newer, None),
    ]
    messages = []
    for name, content, expected in cases:
        outcome, where = attempt(name, content)
        assert outcome.exit_code == ValidationError.exit_code, name
        if expected is not None:
            assert outcome.stderr == expected
        messages.append(outcome.stderr.replace(str(where), "FILE"))
    assert messages[1:] == [
        "Error: FILE is a knowsley-tracker store, not an export: use it with --db, or make an export with "
        "kt --db FILE export --format json.\n",
        'Error: FILE is not a knowsley-tracker export (no "format": "knowsley-tracker-export").\n',
        "Error: FILE uses export format version 2, newer than this knowsley-tracker reads (1): "
        "upgrade knowsley-tracker.\n",
    ]
    assert store_state(fresh) == before


def test_board_snapshots_travel_with_the_export(
    kt: Any, db: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    kt("init", "--authority", "Test Council")
    snapshot = {"kind": "a frozen board snapshot", "actions": [{"ref": "A1", "rag": "red"}]}
    store = Store.open(db, write=True)
    with store.transaction(by="Test Officer", what="board freeze B1"):
        name = store.save_snapshot(snapshot_stem(date(2025, 11, 30), "B1"), snapshot)
        store.add(Board(date=date(2025, 11, 30), snapshot_file=name, frozen_at=NOW, rag_counts={"red": 1}))
    store.close()
    document = export_json(kt)
    assert document["snapshots"] == {name: snapshot}
    dump = tmp_path / "with-board.json"
    dump.write_text(json.dumps(document))
    restored = switch_store(kt, db, monkeypatch, "restored.json")
    assert kt("import", str(dump)).exit_code == 0
    check = Store.open(restored)
    board = check.get(Board, 1)
    assert board.snapshot_file.startswith("board-2025-11-30-B1-t")
    assert check.load_snapshot(board.snapshot_file) == snapshot
    assert board.rag_counts == {"red": 1}


def test_a_long_log_in_sealed_segments_is_restored(
    kt: Any, db: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    kt("init", "--authority", "Test Council")
    kt("rec", "add", "Text of a recommendation.")
    kt("action", "add", "R1", "A long-running action", "--due", "31/03/2026")
    store = Store.open(db, write=True)
    with store.transaction(by="Test Officer", what="many notes"):
        for n in range(2100):
            store.add(LogEntry(action_id=1, at=Clock.at(NOW).stamp(), by="Test Officer", note=f"Note {n}"))
    store.close()
    assert Store.open(db).meta["segments"]["log"], "the test needs a sealed log segment"
    dump = tmp_path / "long.json"
    assert kt("export", "-o", str(dump)).exit_code == 0
    switch_store(kt, db, monkeypatch, "restored.json")
    assert kt("import", str(dump)).exit_code == 0
    restored = export_json(kt)
    assert [e["note"] for e in restored["records"]["log"]] == [f"Note {n}" for n in range(2100)]
    assert Store.open(db.with_name("restored.json")).get(Action, 1).title == "A long-running action"


# -- stored names are names, never paths -------------------------------------------------


def tree_bytes(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` with its bytes (the lock aside: it is empty and shared)."""
    return {
        str(p.relative_to(folder)): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name != "lock"
    }


def board_export(kt: Any) -> dict[str, Any]:
    """An export holding one frozen board meeting (its snapshot travels in 'snapshots')."""
    assert kt("init", "--authority", "Test Council").exit_code == 0
    assert kt("board", "add", "01/11/2025").exit_code == 0
    return export_json(kt)


def test_a_board_snapshot_named_by_a_path_writes_nothing_outside_the_store(
    kt: Any, db: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The attack from issue 10: a crafted export whose board names its snapshot
    ../../../../tmp/x/evil.json made kt create a file wherever the importer chose."""
    document = board_export(kt)
    attack = "../../../../tmp/x/evil.json"
    (old_name,) = document["snapshots"]
    document["records"]["boards"][0]["snapshot_file"] = attack
    document["snapshots"] = {attack: document["snapshots"][old_name]}
    crafted = tmp_path / "crafted.json"
    crafted.write_text(json.dumps(document))
    # Deep enough that the name's four steps up stay inside this test's folder: tmp_path/tmp/x.
    victim = tmp_path / "a" / "b" / "victim.json"
    monkeypatch.setenv("KNOWSLEY_TRACKER_DB", str(victim))
    assert kt("init", "--authority", "New Council").exit_code == 0
    # Where the name points from the victim's snapshots folder: made to exist, so only kt's check stops the write.
    landing = (StorePaths(victim).snapshots / attack).parent.resolve()
    assert landing == tmp_path / "tmp" / "x"
    landing.mkdir(parents=True, exist_ok=True)
    before = (victim.read_bytes(), tree_bytes(StorePaths(victim).aux), sorted(landing.iterdir()))

    result = kt("import", str(crafted))

    assert result.exit_code == ValidationError.exit_code
    assert result.stderr == (
        f"Error: {crafted} has 2 problems; nothing was imported.\n"
        "  snapshots: '../../../../tmp/x/evil.json' is a path, not a file name: a snapshot file name looks like "
        "board-2025-10-15-B6-t000042.json.\n"
        "  records.boards[0] (B1), snapshot_file: '../../../../tmp/x/evil.json' is a path, not a file name: "
        "a snapshot file name looks like board-2025-10-15-B6-t000042.json.\n"
    )
    assert (victim.read_bytes(), tree_bytes(StorePaths(victim).aux), sorted(landing.iterdir())) == before
    assert not list(landing.glob("evil*"))
    assert not Path("/tmp/x/evil.json").exists()
    count("traversal imports refused")


@pytest.mark.parametrize(
    "name",
    [
        "/tmp/evil.json",
        "..",
        "board-2025-11-01-B1-t000002.json/../../../evil.json",
        "..\\..\\evil.json",
        "board-2025-11-01-B1-t000002.json\x00.txt",
        "lock",
        "highwater.json",
        "../backups/plan-t000001-20251130T090000Z.json",
        "board-2025-11-01-B1.json",
        "",
    ],
    ids=repr,
)
def test_only_names_kt_writes_are_accepted_for_snapshots(
    kt: Any, db: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, name: str
) -> None:
    document = board_export(kt)
    (old_name,) = document["snapshots"]
    document["records"]["boards"][0]["snapshot_file"] = name
    document["snapshots"] = {name: document["snapshots"][old_name]}
    crafted = tmp_path / "crafted.json"
    crafted.write_text(json.dumps(document))
    victim = switch_store(kt, db, monkeypatch, "victim.json")
    before = (victim.read_bytes(), tree_bytes(StorePaths(victim).aux))
    result = kt("import", str(crafted))
    if name == "":  # no snapshot: a meeting still to come, which is fine
        assert result.exit_code == ValidationError.exit_code
        assert "snapshots: '' is not a file name" in result.stderr
    else:
        assert result.exit_code == ValidationError.exit_code, result.stderr
        assert "records.boards[0] (B1), snapshot_file: " in result.stderr
    assert (victim.read_bytes(), tree_bytes(StorePaths(victim).aux)) == before
    count("traversal imports refused")


def test_an_imported_snapshot_is_named_afresh_after_its_board(
    kt: Any, db: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    document = board_export(kt)
    (old_name,) = document["snapshots"]
    assert old_name == "board-2025-11-01-B1-t000001.json"
    # A well-formed name that does not match its board is renamed, not trusted.
    document["records"]["boards"][0]["snapshot_file"] = "board-1999-01-01-B7-t000001.json"
    document["snapshots"] = {"board-1999-01-01-B7-t000001.json": document["snapshots"][old_name]}
    crafted = tmp_path / "renamed.json"
    crafted.write_text(json.dumps(document))
    victim = switch_store(kt, db, monkeypatch, "victim.json")
    assert kt("import", str(crafted)).exit_code == 0
    assert sorted(p.name for p in StorePaths(victim).snapshots.iterdir()) == ["board-2025-11-01-B1-t000001.json"]
    assert Store.open(victim).get(Board, 1).snapshot_file == "board-2025-11-01-B1-t000001.json"
    assert kt("board", "show", "B1").exit_code == 0


def test_settings_are_checked_on_import(plan: Any, db: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    document = export_json(plan)
    document["store"]["settings"] = {
        "rag.amber_days": "soon",
        "backups": "many",
        "small_numbers": True,
        "visit_interval_months": 4,
        "colour": "blue",
    }
    crafted = tmp_path / "settings.json"
    crafted.write_text(json.dumps(document))
    fresh = switch_store(plan, db, monkeypatch, "fresh.json")
    before = store_state(fresh)
    result = plan("import", str(crafted))
    assert result.exit_code == ValidationError.exit_code
    assert result.stderr == (
        f"Error: {crafted} has 4 problems; nothing was imported.\n"
        "  store.settings, rag.amber_days: 'soon' is not accepted: rag.amber_days takes a whole number from 0 to 365.\n"
        "  store.settings, backups: 'many' is not accepted: backups takes a whole number from 1 to 1,000.\n"
        "  store.settings, small_numbers: true is not accepted: small_numbers takes a whole number from 0 to 1,000.\n"
        "  store.settings, colour: not a setting this knowsley-tracker knows (kt config list shows the ones it does).\n"
    )
    assert store_state(fresh) == before
    document["store"]["settings"] = {"visit_interval_months": 4}
    crafted.write_text(json.dumps(document))
    assert plan("import", str(crafted)).exit_code == 0
    assert plan("config", "get", "visit_interval_months").stdout == "4\n"


# -- bounded imports -----------------------------------------------------------------------


def test_an_export_over_the_size_limit_is_refused_before_it_is_read(kt: Any, db: Path, tmp_path: Path) -> None:
    assert kt("init", "--authority", "Test Council").exit_code == 0
    before = store_state(db)
    huge = tmp_path / "huge.json"
    with huge.open("wb") as f:
        f.truncate(5 * 1024**3)  # 5 GiB, sparse: reading it all would take minutes and all the memory
    result = kt("import", str(huge))
    assert result.exit_code == ValidationError.exit_code
    assert result.stderr == (
        f"Error: {huge} is 5,368.7 MB, over the 100 MB limit for an import (the import.json_max_mb setting); "
        "nothing was imported. For a genuine export, raise it with kt config set import.json_max_mb MB.\n"
    )
    assert store_state(db) == before


def test_the_size_limit_is_a_setting_and_holds_for_standard_input(kt: Any, db: Path, tmp_path: Path) -> None:
    assert kt("init", "--authority", "Test Council").exit_code == 0
    assert kt("config", "set", "import.json_max_mb", "1").exit_code == 0
    document = export_json(kt)
    padded = json.dumps(document).encode() + b" " * 1_000_000  # valid JSON, just over 1 MB
    before = store_state(db)
    piped = kt("import", "-", "--format", "json", input=padded)
    assert piped.exit_code == ValidationError.exit_code
    assert piped.stderr == (
        "Error: standard input holds more than 1 MB, over the 1 MB limit for an import (the import.json_max_mb "
        "setting); nothing was imported. For a genuine export, raise it with kt config set import.json_max_mb MB.\n"
    )
    assert store_state(db) == before
    assert kt("config", "set", "import.json_max_mb", "2").exit_code == 0
    assert kt("import", "-", "--format", "json", input=padded).exit_code == 0
