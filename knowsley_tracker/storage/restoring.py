"""kt restore: putting a backup back as the store without ever going backwards.

What it replaces is kept first; the restored store gets a txn number and id counters above every
one used before, and keeps the history of everything since the backup. :meth:`Store.restore` is
the entry point; the work is done here, under the store's lock.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from contextlib import suppress
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from knowsley_tracker import commit_point
from knowsley_tracker.errors import (
    CorruptStoreError,
    NotFoundError,
    TrackerError,
)
from knowsley_tracker.locking import FileLock
from knowsley_tracker.storage.backups import Backup, list_backups, newest_good_backup, read_backup
from knowsley_tracker.storage.file_format import _check, _Invalid, migrate
from knowsley_tracker.storage.folders import StoreFolders, _release
from knowsley_tracker.storage.highwater import _blob_txns, read_highwater, salvage_numbers
from knowsley_tracker.storage.paths import StorePaths
from knowsley_tracker.storage.reading import read_store_bytes
from knowsley_tracker.storage.segments import SEGMENTED
from knowsley_tracker.store_interface import HISTORY, META

if TYPE_CHECKING:
    from knowsley_tracker.storage.file_store import Store


class Restored(NamedTuple):
    """What :meth:`Store.restore` did."""

    backup: Backup
    backup_txn: int
    txn: int  # the restore's own transaction
    replaced_txn: int | None  # txn of the version replaced (None when it was damaged or missing)
    kept_as: Path | None  # where the replaced version now lives
    replaced_damaged: bool
    lost_txns: int  # commits held only by the damaged file (best estimate)
    changes: int
    undone: tuple[Undone, ...] = ()  # commands saved after the backup, which the restore undid


class Undone(NamedTuple):
    """A command saved after the backup being restored: the restore undoes its changes
    (its history entry stays)."""

    txn: int
    by: str
    what: str
    # Who saved it, by the owner of the file that holds the version it saved (the store, or
    # the backup named after its txn): the name ``by`` is whatever the officer set, often a
    # role several people share. None when that file has gone (pruned).
    uid: int | None = None


def _saved_by(
    paths: StorePaths, undone: list[Undone], current: os.stat_result | None, current_txn: int
) -> list[Undone]:
    """Each undone command with the owner of the file that holds the version it saved: the
    kernel's record of who wrote it, which no setting can change."""
    owners: dict[int, int] = {}
    for backup in list_backups(paths):
        with suppress(OSError):
            owners.setdefault(backup.txn, os.stat(backup.path, follow_symlinks=False).st_uid)
    if current is not None:
        owners[current_txn] = current.st_uid
    return [u._replace(uid=owners.get(u.txn)) for u in undone]


def _still_in_effect(later: list[tuple[int, dict[str, Any]]], backup_txn: int) -> list[Undone]:
    """Of the commands saved after a backup, those whose changes are still in the store, so
    that restoring the backup undoes them: not those an earlier restore or undo took back."""
    live: dict[int, Undone] = {}
    for txn, row in later:
        restore = row.get("restore")
        if isinstance(restore, dict) and isinstance(restore.get("backup_txn"), int):
            for gone in [t for t in live if t > restore["backup_txn"]]:
                del live[gone]  # that restore took them back already
            if restore["backup_txn"] >= backup_txn:
                continue  # it left the store at or after this backup: nothing of its own to undo
        target = row.get("undo")
        if isinstance(target, int) and target in live:
            del live[target]  # undone already: the undo and its command cancel out
            continue
        live[txn] = Undone(txn, str(row.get("by", "")), str(row.get("what", "")))
    return [live[t] for t in sorted(live)]


def _diff_rows(store: Store, table: str, shared: set[str]) -> dict[int, dict[str, Any]]:
    rows: dict[int, dict[str, Any]] = {}
    if table in SEGMENTED:
        for entry in store._segments(table):
            if entry["file"] not in shared:
                rows.update((int(k), v) for k, v in store._load_segment(entry["file"]).items())
    rows.update((int(k), v) for k, v in store.data.get(table, {}).items())
    return rows


def _diff(old: Store, new: Store) -> list[list[Any]]:
    """The changes that turn ``old`` into ``new``, as history records them."""
    changes: list[list[Any]] = []
    settings_old = old.meta.get("settings", {})
    settings_new = new.meta.get("settings", {})
    meta_diff = {
        f"settings.{name}": [settings_old.get(name), settings_new.get(name)]
        for name in sorted(set(settings_old) | set(settings_new))
        if settings_old.get(name) != settings_new.get(name)
    }
    if old.authority != new.authority:
        meta_diff["authority"] = [old.meta.get("authority"), new.meta.get("authority")]
    if meta_diff:
        changes.append(["update", META, 1, meta_diff])
    for table in sorted((set(old.tables()) | set(new.tables())) - {HISTORY}):
        shared: set[str] = set()
        if table in SEGMENTED:
            shared = {e["file"] for e in old._segments(table)} & {e["file"] for e in new._segments(table)}
        before = _diff_rows(old, table, shared)
        after = _diff_rows(new, table, shared)
        for record_id in sorted(set(before) | set(after)):
            was, now = before.get(record_id), after.get(record_id)
            if was == now:
                continue
            if was is None:
                changes.append(["create", table, record_id, None if table == "log" else now])
            elif now is None:
                changes.append(["delete", table, record_id, was])
            else:
                fields = {
                    name: [was.get(name), now.get(name)]
                    for name in sorted(set(was) | set(now))
                    if was.get(name) != now.get(name)
                }
                changes.append(["update", table, record_id, fields])
    return changes


def restore_backup(
    store_type: type[Store],
    path: Path,
    backup: Backup | None,
    *,
    by: str,
    lock_timeout: float,
    confirm: Callable[[Backup, list[Undone]], None] | None = None,
) -> Restored:
    """The body of :meth:`Store.restore`: the lock is taken here and released after the commit."""
    paths = StorePaths(path)
    lock = store_type._acquire(paths, lock_timeout)
    try:
        result = _restore_locked(store_type, paths, lock, backup, by=by, confirm=confirm)
    except BaseException:
        _release(lock, committed=bool(commit_point.commits()), quiet=True)
        commit_point.settle()
        raise
    try:
        _release(lock, committed=True)
    finally:
        commit_point.settle()
    return result


def _restore_locked(
    store_type: type[Store],
    paths: StorePaths,
    lock: FileLock,
    backup: Backup | None,
    *,
    by: str,
    confirm: Callable[[Backup, list[Undone]], None] | None,
) -> Restored:
    path = paths.store
    if backup is None:
        backup = newest_good_backup(paths)
        if backup is None:
            raise NotFoundError(f"No good backup of {path} to restore (looked in {paths.backups}).")
    try:
        data = _check(read_backup(backup))
    except OSError as exc:
        raise TrackerError(f"Could not read the backup {backup.path} ({exc.strerror or exc}).") from None
    except _Invalid as problem:
        raise CorruptStoreError(
            f"The backup {backup.path} cannot be restored: it {problem.rest.strip().removeprefix('is ')} "
            "Choose another with kt backup list."
        ) from None
    migrate(data, backup.path)
    restored = store_type(paths, data, writable=True, lock=lock)
    restored._check_blobs(f"The backup {backup.path}")
    backup_txn = restored.txn

    current: Store | None = None
    raw, current_file = read_store_bytes(paths, missing_ok=True)
    if current_file is not None:
        try:
            current_data = _check(raw)
            migrate(current_data, path)
            current = store_type(paths, current_data, writable=False)
        except (_Invalid, TrackerError):
            current = None
    damaged = current_file is not None and current is None

    # Numbers never go backwards.
    hw_txn, hw_counters = read_highwater(paths)
    salvaged_txn, salvaged_counters = salvage_numbers(raw) if damaged else (0, {})
    sources = [hw_counters, salvaged_counters, current.meta.get("counters", {}) if current else {}]
    counters: dict[str, int] = {k: int(v) for k, v in restored.meta.get("counters", {}).items()}
    for source in sources:
        for table, value in source.items():
            counters[table] = max(counters.get(table, 0), int(value))
    for table in restored.tables():
        if table != HISTORY:
            highest = max((i for i, _ in restored.rows(table)), default=0)
            counters[table] = max(counters.get(table, 0), highest)
    current_txn = current.txn if current else salvaged_txn
    with StoreFolders(paths) as f:
        base = max(current_txn, hw_txn, _blob_txns(f), backup_txn)

    # The audit trail only grows: keep every history entry written since the backup.
    changes: list[list[Any]] = []
    undone: list[Undone] = []
    if current is not None:
        carried = list(current.recent_rows(HISTORY))
        with suppress(TrackerError):  # a missing segment: carry what plan.json holds
            carried = list(current.rows(HISTORY, since_id=backup_txn))
        later: list[tuple[int, dict[str, Any]]] = []
        for txn_id, row in sorted(carried):
            if txn_id > backup_txn and restored.row(HISTORY, txn_id) is None:
                restored._insert_row(HISTORY, txn_id, row)
                later.append((txn_id, row))
                base = max(base, txn_id)
        undone = _saved_by(paths, _still_in_effect(later, backup_txn), current_file, current.txn)
        with suppress(TrackerError):
            changes = _diff(current, restored)
    if confirm is not None:
        confirm(backup, undone)

    restored.meta["counters"] = counters
    restored.meta["txn"] = base
    restored._base_txn = current.txn if current else 0
    restored._base_saved = current._base_saved if current else ""
    restored._base_damaged = damaged
    restored._base_file = current_file
    restored._pending = changes
    detail: dict[str, Any] = {
        "backup": backup.name,
        "backup_txn": backup_txn,
        "replaced": "damaged" if damaged else ("missing" if current_file is None else current_txn),
    }
    try:
        restored._commit(by=by, what=f"restore {backup.name}", extra={"restore": detail}, force=True)
    finally:
        restored._pending = None
    lost = max(0, max(salvaged_txn, hw_txn) - backup_txn) if damaged else 0
    return Restored(
        backup=backup,
        backup_txn=backup_txn,
        txn=restored.txn,
        replaced_txn=current.txn if current else None,
        kept_as=restored.last_kept,
        replaced_damaged=damaged,
        lost_txns=lost,
        changes=len(changes),
        undone=tuple(undone),
    )
