"""The store's files: permissions and group sharing, backups, schema migrations,
encoding, restore numbering, undo primitives and sealed segments."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

import pytest

from knowsley_tracker import storage
from knowsley_tracker.dates import Clock
from knowsley_tracker.errors import ConflictError, CorruptStoreError, StoreMissingError, UnsafeStoreError
from knowsley_tracker.models import Action, LogEntry, Recommendation
from knowsley_tracker.storage import (
    SCHEMA_VERSION,
    ChangeConflict,
    Store,
    StorePaths,
    decode,
    encode,
    file_format,
    folders,
    list_backups,
    read_highwater,
    read_store_file,
    salvage_numbers,
    segments,
)

NOW = Clock.at("2025-11-30T09:00:00+00:00").now()


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def write(store: Store, what: str = "test", **settings: Any) -> None:
    with store.transaction(by="Test Officer", what=what):
        for name, value in settings.items():
            store.set_setting(name, value)


def add_rec(store: Store, text: str) -> Recommendation:
    with store.transaction(by="Test Officer", what="rec add"):
        return store.add(Recommendation(text=text))


# -- permissions ------------------------------------------------------------------------


def test_a_new_store_and_everything_beside_it_is_private(store: Store, db: Path) -> None:
    paths = StorePaths(db)
    add_rec(store, "First")
    add_rec(store, "Second")
    assert mode(db) == 0o600
    assert mode(paths.aux) == 0o700
    assert mode(paths.lock) == 0o600
    assert mode(paths.backups) == 0o700
    assert [mode(b.path) for b in list_backups(paths)] == [0o600, 0o600]
    assert storage.check_permissions(paths) == []


def _other_group() -> int:
    if os.geteuid() == 0:
        return 1 if os.getgid() != 1 else 2
    groups = [g for g in os.getgroups() if g != os.getgid()]
    if not groups:
        pytest.skip("this user belongs to one group only, so a change of group cannot be shown")
    return groups[0]


def test_a_group_shared_store_keeps_its_mode_and_group_and_shares_its_folder(store: Store, db: Path) -> None:
    paths = StorePaths(db)
    add_rec(store, "First")
    group = _other_group()
    os.chown(db.parent, -1, group)  # the shared folder, set up as the README says
    os.chmod(db.parent, 0o2770)
    os.chown(db, -1, group)
    os.chmod(db, 0o660)
    # Until the folder and lock follow, other members could not use the store.
    problems = storage.check_permissions(paths)
    assert [p.severity for p in problems] == ["problem"]
    assert "is shared with the group" in problems[0].message
    store.close()
    # Taking the lock opens the folder and lock to the group; the write keeps mode and group.
    with Store.open(db, write=True) as shared, shared.transaction(by="Test Officer", what="log"):
        shared.add(Recommendation(text="Second"))
    for folder in (paths.aux, paths.backups):  # setgid keeps the group; sticky: members cannot remove each other's
        assert (mode(folder), folder.stat().st_gid) == (0o3770, group)
    assert (mode(paths.lock), paths.lock.stat().st_gid) == (0o660, group)
    assert (mode(db), db.stat().st_gid) == (0o660, group)  # the replaced file kept both
    newest = list_backups(paths)[0].path
    assert (mode(newest), newest.stat().st_gid) == (0o660, group)
    # The oldest backup predates the sharing: doctor --fix shares it too.
    assert [p.severity for p in storage.check_permissions(paths)] == ["problem"]
    fixed = storage.fix_permissions(paths)
    assert fixed == [list_backups(paths)[-1].path]
    assert storage.check_permissions(paths) == []


def test_a_shared_store_needs_a_folder_the_group_can_write(store: Store, db: Path) -> None:
    group = _other_group()
    os.chown(db, -1, group)
    os.chmod(db, 0o660)
    storage.fix_permissions(StorePaths(db))
    folder = db.parent.resolve()
    os.chmod(folder, 0o755)
    [problem] = storage.check_permissions(StorePaths(db))
    assert problem.message == (
        f"{db} is shared with the group {storage._group_name(group)}, but its folder {folder} is not writable "
        "by that group, so other members cannot save."
    )
    os.chown(folder, -1, group)
    os.chmod(folder, 0o3770)
    [problem] = storage.check_permissions(StorePaths(db))
    assert problem.message.startswith(f"The folder {folder} has the sticky bit")
    os.chmod(folder, 0o2770)
    assert storage.check_permissions(StorePaths(db)) == []


def test_everyone_access_is_reported(store: Store, db: Path) -> None:
    os.chmod(db, 0o604)
    [problem] = storage.check_permissions(StorePaths(db))
    assert (problem.severity, problem.message, problem.fix) == (
        "warning",
        f"Anyone on this computer can read {db} (mode 0604).",
        f"chmod o-rwx {db}",
    )
    os.chmod(db, 0o606)
    [problem] = storage.check_permissions(StorePaths(db))
    assert problem.severity == "problem"


def test_setgid_bits_on_the_store_do_not_break_the_lock(store: Store, db: Path) -> None:
    add_rec(store, "First")
    store.close()
    os.chmod(db, 0o2660)
    with Store.open(db, write=True) as again:
        add_rec(again, "Second")
    assert mode(db) == 0o660


# -- backups -----------------------------------------------------------------------------


def test_each_write_keeps_the_version_it_replaces_among_the_last_n(store: Store, db: Path) -> None:
    versions = [db.read_bytes()]
    write(store, backups=3)
    versions.append(db.read_bytes())
    for n in range(5):
        inode = db.stat().st_ino
        add_rec(store, f"Recommendation {n}")
        versions.append(db.read_bytes())
    found = list_backups(StorePaths(db))
    assert [b.txn for b in found] == [5, 4, 3]
    assert [b.path.read_bytes() for b in found] == [versions[5], versions[4], versions[3]]
    assert found[0].name == "plan-t000005-20251130T090000Z.json"
    # A hard link: the backup is the replaced file itself, not a copy.
    assert found[0].path.stat().st_ino == inode


def test_a_backup_is_copied_where_hard_links_fail(store: Store, db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    before = db.read_bytes()

    def no_links(src: Any, dst: Any, **where: Any) -> None:
        raise OSError(1, "Operation not permitted")

    monkeypatch.setattr(folders, "_os_link", no_links)
    add_rec(store, "First")
    [backup] = list_backups(StorePaths(db))
    assert backup.path.read_bytes() == before
    assert mode(backup.path) == 0o600


def test_a_writer_killed_after_linking_does_not_leave_a_duplicate_backup(store: Store, db: Path) -> None:
    add_rec(store, "First")
    paths = StorePaths(db)
    # As a writer killed between keeping the backup and renaming would leave it:
    os.link(db, paths.backups / "plan-t000001-20251130T090000Z.json")
    add_rec(store, "Second")
    assert [b.name for b in list_backups(paths)] == [
        "plan-t000001-20251130T090000Z.json",
        "plan-t000000-20251130T090000Z.json",
    ]


def test_a_reader_that_looked_just_before_a_commit_is_not_told_of_a_planted_link(
    store: Store, db: Path, tmp_path: Path
) -> None:
    """A reader takes no lock. A writer links the store into the backups (two names),
    the reader looks (st_nlink 2), the writer renames the new version over the store: the
    old file has one name left, not the two the reader saw. That is no planted link (it
    once made a concurrent kt log exit 13 under load); a real second name still is."""
    add_rec(store, "First")
    paths = StorePaths(db)
    os.link(db, paths.backups / "plan-t000001-20251130T090000Z.json")  # the writer's first step
    seen = os.stat(db)
    assert seen.st_nlink == 2
    add_rec(store, "Second")  # the writer's rename
    with folders.StoreFolders(paths) as f:
        f.check_one_name(seen, db)  # no error
    (tmp_path / "elsewhere").mkdir()
    os.link(db, tmp_path / "elsewhere" / "copy.json")
    with folders.StoreFolders(paths) as f, pytest.raises(UnsafeStoreError, match="hard link"):
        f.check_one_name(os.stat(db), db)


def test_damaged_copies_are_listed_apart_and_never_pruned(store: Store, db: Path) -> None:
    paths = StorePaths(db)
    write(store, backups=1)
    kept = paths.backups / "plan-damaged-20251129T100000Z.json"
    kept.write_bytes(b"{")
    for n in range(3):
        add_rec(store, f"R{n}")
    assert [b.txn for b in list_backups(paths)] == [3]
    assert [b.path for b in storage.list_damaged(paths)] == [kept]


# -- reading and validating --------------------------------------------------------------


def test_surrogates_from_undecodable_arguments_fall_back_to_escaped_json(store: Store, db: Path) -> None:
    title = "Caseload review \udcff\udcfe (bytes from a Latin-1 terminal)"
    raw = encode({"title": title})
    assert raw == b'{\n  "title": "Caseload review \\udcff\\udcfe (bytes from a Latin-1 terminal)"\n}\n'
    assert decode(raw) == {"title": title}
    with store.transaction(by="Test Officer", what="rec add"):
        rec = store.add(Recommendation(text=title))
    assert b"\\udcff" in db.read_bytes()
    assert Store.open(db).get(Recommendation, rec.id).text == title


def test_a_missing_store_with_backups_points_at_restore(store: Store, db: Path) -> None:
    add_rec(store, "First")
    store.close()
    db.unlink()
    with pytest.raises(StoreMissingError) as caught:
        Store.open(db)
    backup = StorePaths(db).backups / "plan-t000000-20251130T090000Z.json"
    assert str(caught.value) == (
        f"No store at {db}, but its backups are still there (newest good: {backup}, saved 30 Nov 2025 09:00); "
        "bring it back with: kt restore."
    )


def test_a_store_re_created_where_one_was_deleted_carries_on_its_txn_numbers(store: Store, db: Path) -> None:
    for n in range(3):
        add_rec(store, f"R{n}")
    store.close()
    db.unlink()
    again = Store.create(db, authority="Test Council", now=NOW)
    add_rec(again, "Fresh")
    again.close()
    assert again.txn == 4
    assert again.get(Recommendation, 1).text == "Fresh"  # a new plan starts its ids again
    # so its own backups sort first, and restore picks them over the deleted store's.
    assert storage.newest_good_backup(StorePaths(db)).txn == 3  # type: ignore[union-attr]


# -- schema migrations -------------------------------------------------------------------


def summarise(data: dict[str, Any]) -> None:
    """A real v1 -> v2 change: every recommendation gets a summary from its text."""
    for row in data.get("recommendations", {}).values():
        if not row.get("summary"):
            row["summary"] = row["text"][:20].rstrip() + "..."


@pytest.fixture
def v2(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(file_format, "SCHEMA_VERSION", SCHEMA_VERSION + 1)
    monkeypatch.setattr(file_format, "MIGRATIONS", {SCHEMA_VERSION: summarise})


def test_reading_an_older_store_migrates_in_memory_only(plan: Any, db: Path, v2: None) -> None:
    before = db.read_bytes()
    backups = list_backups(StorePaths(db))
    shown = json.loads(plan("rec", "show", "R2", "--json").stdout)
    assert shown["summary"] == "The caseloads of per..."
    assert db.read_bytes() == before
    assert list_backups(StorePaths(db)) == backups


def test_writing_an_older_store_migrates_it_under_the_lock_after_a_backup(plan: Any, db: Path, v2: None) -> None:
    before = db.read_bytes()
    result = plan("log", "A2", "Draft shared")
    assert result.exit_code == 0, result.stderr
    data = read_store_file(db)
    assert data["_meta"]["1"]["schema_version"] == SCHEMA_VERSION + 1
    assert data["recommendations"]["2"]["summary"] == "The caseloads of per..."
    backup = list_backups(StorePaths(db))[1]
    assert (backup.txn, backup.path.read_bytes()) == (13, before)
    history = data["history"]
    assert (history["14"]["what"], history["14"]["migrate"], history["14"]["changes"]) == (
        f"migrate store to schema {SCHEMA_VERSION + 1}",
        [SCHEMA_VERSION, SCHEMA_VERSION + 1],
        [],
    )
    assert history["15"]["what"] == "log A2"
    # Undo takes back the log entry, then stops at the upgrade.
    assert plan("undo").exit_code == 0
    stopped = plan("undo")
    assert stopped.exit_code == ConflictError.exit_code
    assert stopped.stderr == (
        "Error: Nothing to undo: the store was upgraded to a new schema version at txn 14 (30 Nov 2025 09:00), "
        "and undo stops there.\n"
    )


def test_a_migration_that_fails_leaves_the_store_alone(plan: Any, db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(data: dict[str, Any]) -> None:
        data["recommendations"]["99"]["summary"] = "x"

    monkeypatch.setattr(file_format, "SCHEMA_VERSION", SCHEMA_VERSION + 1)
    monkeypatch.setattr(file_format, "MIGRATIONS", {SCHEMA_VERSION: broken})
    before = db.read_bytes()
    for args in (["action", "list"], ["log", "A1", "x"]):
        result = plan(*args)
        assert (result.exit_code, result.stderr) == (
            CorruptStoreError.exit_code,
            f"Error: The store {db} could not be upgraded from schema version {SCHEMA_VERSION} to "
            f"{SCHEMA_VERSION + 1} (KeyError: '99'); the file has not been changed. Run kt doctor.\n",
        )
    monkeypatch.setattr(file_format, "MIGRATIONS", {})
    result = plan("action", "list")
    assert result.stderr == (
        f"Error: The store {db} uses schema version {SCHEMA_VERSION}, which this knowsley-tracker cannot "
        "upgrade; the file has not been changed.\n"
    )
    assert db.read_bytes() == before


def test_a_migration_that_produces_a_broken_store_is_refused(
    plan: Any, db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def breaks_tables(data: dict[str, Any]) -> None:
        data["actions"] = ["not", "rows"]

    monkeypatch.setattr(file_format, "SCHEMA_VERSION", SCHEMA_VERSION + 1)
    monkeypatch.setattr(file_format, "MIGRATIONS", {SCHEMA_VERSION: breaks_tables})
    result = plan("log", "A1", "x")
    assert result.stderr == (
        f"Error: The store {db} could not be upgraded to schema version {SCHEMA_VERSION + 1}: the result "
        "damaged: its 'actions' table is not a table of records. The file has not been changed.\n"
    )


# -- restore never goes backwards ----------------------------------------------------------


def test_restoring_an_older_backup_keeps_numbering_and_history_moving_forward(plan: Any, db: Path) -> None:
    paths = StorePaths(db)
    assert plan("log", "A2", "Draft shared", "--progress", "30").exit_code == 0  # txn 14, L3
    restored = Store.restore(db, list_backups(paths)[1], by="Test Officer")  # the version before `done A4`
    assert (restored.backup_txn, restored.txn, restored.replaced_txn, restored.replaced_damaged) == (12, 15, 14, False)
    assert restored.kept_as == paths.backups / "plan-t000014-20251130T090000Z.json"
    store = Store.open(db)
    assert store.txn == 15
    assert store.meta["counters"]["log"] == 3  # L2 and L3 are gone but never handed out again
    assert [i for i, _ in store.rows("history")] == list(range(1, 16))  # the audit trail only grows
    entry = store.row("history", 15)
    assert entry is not None
    assert entry["restore"] == {"backup": "plan-t000012-20251130T090000Z.json", "backup_txn": 12, "replaced": 14}
    changed = {(op, table, record_id) for op, table, record_id, _ in entry["changes"]}
    assert changed == {
        ("update", "actions", 2),
        ("update", "actions", 4),
        ("delete", "log", 2),
        ("delete", "log", 3),
    }
    # Restoring the version it replaced brings everything back.
    replaced = next(b for b in list_backups(paths) if b.path == restored.kept_as)
    again = Store.restore(db, replaced, by="Test Officer")
    assert again.txn == 16
    store = Store.open(db)
    assert [LogEntry.from_record(i, r).note for i, r in store.rows("log")] == [
        "Audit tool agreed",
        "Cap of 20 agreed at corporate parenting board",
        "Draft shared",
    ]


def test_restore_over_a_damaged_store_salvages_its_numbers(plan: Any, db: Path) -> None:
    paths = StorePaths(db)
    damaged = db.read_bytes()[:1500]
    db.write_bytes(damaged)
    assert salvage_numbers(damaged)[0] == 13
    paths.highwater.unlink()  # only what the damaged bytes still say
    restored = Store.restore(db, None, by="Test Officer")
    assert (restored.txn, restored.replaced_damaged, restored.lost_txns) == (14, True, 1)
    assert restored.kept_as is not None and restored.kept_as.read_bytes() == damaged
    counters = Store.open(db).meta["counters"]
    assert counters["log"] == 2  # salvaged from the damaged file: L2 is not reused


def test_salvage_reads_numbers_from_a_truncated_store() -> None:
    raw = encode(
        {
            "_meta": {"1": {"txn": 9, "counters": {"actions": 4, "log": 7}}},
            "history": {"10": {"at": "x", "changes": [["create", "actions", 6, None]]}},
        }
    )
    assert salvage_numbers(raw[:-40]) == (10, {"actions": 6, "log": 7})
    assert salvage_numbers(b"") == (0, {})


def test_the_highwater_mark_follows_every_commit(store: Store, db: Path) -> None:
    add_rec(store, "First")
    add_rec(store, "Second")
    assert read_highwater(StorePaths(db)) == (2, {"recommendations": 2})


# -- undo primitives and segments -----------------------------------------------------------


def test_apply_raw_refuses_to_overwrite_a_later_change(store: Store) -> None:
    rec = add_rec(store, "Original")
    with store.transaction(by="a", what="edit"):
        rec.text = "Edited"
        change = ["update", "recommendations", rec.id, store.save(rec)]
    with store.transaction(by="b", what="edit again"):
        rec.text = "Edited again"
        store.save(rec)
    with pytest.raises(ChangeConflict) as caught, store.transaction(by="a", what="undo"):
        store.apply_raw(change, reverse=True)
    assert (caught.value.table, caught.value.record_id, caught.value.field) == ("recommendations", rec.id, "text")
    assert (
        str(caught.value) == "Cannot undo: R1 has changed since (its text is different); undo the later change first."
    )
    created = ["create", "recommendations", rec.id, {"text": "Original"}]
    with pytest.raises(ChangeConflict, match="R1 has changed since"), store.transaction(by="a", what="undo"):
        store.apply_raw(created, reverse=True)


def test_id_counters_never_go_back_on_undo(store: Store) -> None:
    with store.transaction(by="a", what="fix"):
        assert store.raise_counter("actions", 9)
        assert not store.raise_counter("actions", 3)
    change = store.row("history", 1)["changes"][0]  # type: ignore[index]
    with store.transaction(by="a", what="undo"):
        store.apply_raw(change, reverse=True)
    assert store.next_id("actions") == 10


def test_a_counter_behind_the_stored_ids_is_a_clear_error(store: Store) -> None:
    add_rec(store, "First")
    store.meta["counters"]["recommendations"] = 0
    with pytest.raises(ConflictError) as caught, store.transaction(by="a", what="rec add"):
        store.add(Recommendation(text="Second"))
    assert str(caught.value) == (
        "The id counter for recommendations is behind the ids already stored, so R1 is taken; "
        "run kt doctor --fix, then try again."
    )


def test_undo_of_a_sealed_log_entry_writes_a_new_segment_and_never_edits_the_old(
    plan: Any, db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(segments, "SEGMENT_ROWS", 2)
    assert plan("log", "A2", "To be undone").exit_code == 0  # txn 14, L3
    for n in range(3):  # L4 to L6: L1-L2, then L3-L4 are sealed
        assert plan("log", "A1", f"later {n}").exit_code == 0
    store = Store.open(db)
    sealed = store.meta["segments"]["log"]
    assert [(e["first"], e["last"]) for e in sealed] == [(1, 2), (3, 4)]
    old_file = StorePaths(db).segments / sealed[1]["file"]
    old_bytes = old_file.read_bytes()
    with Store.open(db, write=True) as writer, writer.transaction(by="Test Officer", what="undo"):
        history = writer.row("history", 14)
        assert history is not None
        for change in reversed(history["changes"]):
            writer.apply_raw(change, reverse=True)
    assert old_file.read_bytes() == old_bytes
    store = Store.open(db)
    entry = store.meta["segments"]["log"][1]
    assert entry["file"] != sealed[1]["file"] and entry["rows"] == 1
    assert [i for i, _ in store.rows("log")] == [1, 2, 4, 5, 6]
    assert store.find(LogEntry, 3) is None
    assert store.get(Action, 2).last_logged_at == ""


def test_a_row_put_back_into_a_sealed_range_stays_in_id_order(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(segments, "SEGMENT_ROWS", 2)
    for n in range(5):
        add_rec(store, f"R{n}")
    [sealed] = store.meta["segments"]["history"]
    first = sealed["file"]
    row = store.row("history", 1)
    assert row is not None
    with store.transaction(by="a", what="test"):
        store._delete_row("history", 1)
        store._insert_row("history", 1, row)
    assert [i for i, _ in store.rows("history")][:3] == [1, 2, 3]
    assert store.meta["segments"]["history"][0]["file"] != first
    assert (StorePaths(store.paths.store).segments / first).exists()  # the old file is left as it was


def test_the_history_records_the_moment_the_command_gives(store: Store, db: Path) -> None:
    with store.transaction(by="Test Officer", what="rec add", at=Clock.at("2025-12-01T14:05:00+00:00").now()):
        store.add(Recommendation(text="First"))
    add_rec(store, "Second")  # no moment given: KNOWSLEY_TRACKER_NOW, as the rest of the command
    assert [row["at"] for _, row in store.rows("history")] == ["2025-12-01T14:05:00+00:00", NOW.isoformat()]
    assert store.meta["updated_at"] == NOW.isoformat()


def test_history_is_sealed_by_changes_not_rows(tmp_path: Path) -> None:
    """One command that makes thousands of changes (an import) must not stay in plan.json."""
    from knowsley_tracker.models import Owner
    from knowsley_tracker.service.audit import undo
    from knowsley_tracker.service.session import Session
    from knowsley_tracker.storage import SEGMENT_ROWS

    path = tmp_path / "plan.json"
    clock = Clock.at("2025-11-30")
    store = Store.create(path, authority="Test Council", now=clock.now())
    session = Session(store=store, clock=clock, user="Test Officer")
    with session.transaction("import"):
        for n in range(2 * SEGMENT_ROWS + 5):
            store.add(Owner(role=f"Role {n}"))
    assert store.data["history"] == {}
    assert [(e["first"], e["last"], e["rows"]) for e in store.meta["segments"]["history"]] == [(1, 1, 1)]
    small = path.stat().st_size
    with session.transaction("undo"):
        result = undo(session)
    assert result.target.txn == 1
    assert store.all(Owner) == []
    assert path.stat().st_size < small
    store.close()


def test_table_writes_are_in_place_and_keep_tinydb_semantics(tmp_path: Path) -> None:
    """InPlaceTable: inserts, updates and removals change the held data without copying the table."""
    from knowsley_tracker.models import Owner
    from knowsley_tracker.service.session import Session

    clock = Clock.at("2025-11-30")
    store = Store.create(tmp_path / "plan.json", authority="Test Council", now=clock.now())
    session = Session(store=store, clock=clock, user="Test Officer")
    with session.transaction("owners"):
        for n in range(3):
            store.add(Owner(role=f"Role {n}"))
        table_before = store.data["owners"]
        store.delete(Owner, 2)
        changed = store.get(Owner, 3)
        changed.name = "Sam Carter"
        store.save(changed)
        assert store.data["owners"] is table_before  # the same dict, changed in place
    assert sorted(store.data["owners"]) == ["1", "3"]
    assert [(o.ref, o.name) for o in store.all(Owner)] == [("O1", ""), ("O3", "Sam Carter")]
    on_disk = json.loads((tmp_path / "plan.json").read_text())["owners"]
    assert sorted(on_disk) == ["1", "3"] and on_disk["3"]["name"] == "Sam Carter"
    store.close()
