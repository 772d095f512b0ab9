"""The Store class: opening a store, changing records, and the transaction that saves them.

The layout on disk is described in storage/__init__.py. Every write goes to a temporary file that
is flushed, fsynced and renamed over the old one, then the folder is fsynced; the rename of
``plan.json`` is the commit point, so a crash leaves either the old store or the new one. A write
that fails at any step leaves the old store in place (a failure after the rename puts the old
version back). Readers take no lock: they see one committed version or the next. Files are never
changed in place, which is what makes hard-link backups safe.

Reading (records, rows, meta, snapshots, history) is :class:`StoreReading` in store_reading.py;
Store adds opening, changing records and the transaction. This module is a little over 600 lines
because those share the transaction's state (pending changes, dirty segments, new snapshots, the
version read under the lock), which one class keeps in one place. The concerns that stand alone
live beside it: committing.py (writing a commit's files), restoring.py, backups.py, segments.py,
highwater.py, folders.py and file_checks.py.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from knowsley_tracker import commit_point
from knowsley_tracker import safe_files as sf
from knowsley_tracker.config import read_setting_or_default
from knowsley_tracker.errors import (
    ConflictError,
    CorruptStoreError,
    NotFoundError,
    StoreLockedError,
    TrackerError,
)
from knowsley_tracker.filenames import require_stored_name, snapshot_name
from knowsley_tracker.locking import FileLock, LockTimeout, LockUnsafe, LockUnsupported
from knowsley_tracker.models import Record, require_dates_in_range
from knowsley_tracker.storage import backups, committing, file_format, folders, highwater, restoring
from knowsley_tracker.storage.backups import (
    Backup,
)
from knowsley_tracker.storage.codec import encode
from knowsley_tracker.storage.committing import _now
from knowsley_tracker.storage.file_format import FORMAT, migrate
from knowsley_tracker.storage.folders import (
    StoreFolders,
    _file_mode,
    _lock_failed,
    _refuse_planted,
    _release,
    _share_like,
    _stale_temps,
    _unsafe_lock,
    _write_failed,
    _write_new,
)
from knowsley_tracker.storage.highwater import (
    _blob_txns,
    _read_highwater,
)
from knowsley_tracker.storage.paths import StorePaths
from knowsley_tracker.storage.reading import check_store_entry, read_store_bytes, read_store_file, validate_store_bytes
from knowsley_tracker.storage.restoring import Restored, Undone
from knowsley_tracker.storage.segments import SEGMENTED
from knowsley_tracker.storage.store_reading import StoreReading
from knowsley_tracker.store_interface import HISTORY, META, Change
from knowsley_tracker.store_rows import (
    change_from_list,
    change_to_list,
    not_found,
    reverse_meta_change,
    reverse_row_change,
)

R = TypeVar("R", bound=Record)
DEFAULT_LOCK_TIMEOUT = 10.0


class Store(StoreReading):
    """One open store. Writing stores hold the lock until :meth:`close`."""

    def __init__(
        self, paths: StorePaths, data: dict[str, Any], *, writable: bool, lock: FileLock | None = None
    ) -> None:
        self.paths = paths
        self.writable = writable
        self._lock = lock
        self._hold(data)
        self._pending: list[list[Any]] | None = None
        self._segment_cache: dict[str, dict[str, Any]] = {}
        self._dirty_segments: set[str] = set()
        self._snapshot_cache: dict[str, dict[str, Any]] = {}
        self._new_snapshots: dict[str, dict[str, Any]] = {}
        self._closed = False
        meta = data.get(META, {}).get("1", {})
        # The committed version this store was read from: the next commit backs it up.
        self._base_txn = int(meta.get("txn", 0))
        self._base_saved = str(meta.get("updated_at") or meta.get("created_at") or "")
        self._base_damaged = False
        self._base_file: os.stat_result | None = None  # the plan.json read under the lock
        self._committed = False  # a commit of this store has landed
        self.last_kept: Path | None = None  # the backup the last commit made of what it replaced

    # -- opening ------------------------------------------------------------

    @classmethod
    def open(cls, path: Path, *, write: bool = False, lock_timeout: float = DEFAULT_LOCK_TIMEOUT) -> Store:
        """Open an existing store, for reading (no lock) or writing (locked until close)."""
        paths = StorePaths(path)
        if not write:
            data = read_store_file(path)
            migrate(data, path)
            return cls(paths, data, writable=False)
        check_store_entry(paths)  # no store, a link or a second name: refused before anything is made
        lock = cls._acquire(paths, lock_timeout)
        try:
            raw, st = read_store_bytes(paths)
            data = validate_store_bytes(path, raw)
            version = int(data[META]["1"]["schema_version"])
            store = cls(paths, data, writable=True, lock=lock)
            store._base_file = st
            if migrate(data, path):
                store._commit(
                    by="knowsley-tracker",
                    what=f"migrate store to schema {file_format.SCHEMA_VERSION}",
                    extra={"migrate": [version, file_format.SCHEMA_VERSION]},
                    force=True,
                )
            return store
        except BaseException:
            _release(lock, committed=False, quiet=True)
            raise

    @classmethod
    def create(cls, path: Path, *, authority: str, now: datetime, lock_timeout: float = DEFAULT_LOCK_TIMEOUT) -> Store:
        """Create a new, empty store (0600) and return it open for writing."""
        paths = StorePaths(path)
        exists = ConflictError(f"A store already exists at {path}; it has not been changed.")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with StoreFolders(paths) as f:
                if f.store_stat() is not None:
                    raise exists
                f.aux(None, create=True)
        except OSError as exc:
            raise _write_failed(path, exc) from None
        lock = cls._acquire(paths, lock_timeout)
        try:
            meta = {
                "format": FORMAT,
                "schema_version": file_format.SCHEMA_VERSION,
                "authority": authority,
                "created_at": now.isoformat(timespec="seconds"),
                "txn": 0,
                "counters": {},
                "settings": {},
                "segments": {},
            }
            data: dict[str, Any] = {META: {"1": meta}}
            try:
                with StoreFolders(paths) as f:
                    if f.store_stat() is not None:
                        raise exists
                    # A store re-created where one was deleted carries on its txn numbering, so
                    # that its backups sort after the old store's and kt restore picks them first.
                    meta["txn"] = max(_read_highwater(f)[0], _blob_txns(f))
                    root = f.root()
                    tmp = _write_new(root, f.store_name, encode(data), None)
                    try:
                        sf.replace(root, tmp, f.store_name, folders._os_replace)
                    except BaseException:
                        sf.remove(root, tmp)
                        raise
                    try:
                        sf.fsync_folder(root, folders._os_fsync)
                    except BaseException:
                        sf.remove(root, f.store_name)
                        raise
            except OSError as exc:
                raise _write_failed(path, exc) from None
            store = cls(paths, data, writable=True, lock=lock)
            store._base_file = read_store_bytes(paths)[1]
            return store
        except BaseException:
            _release(lock, committed=False, quiet=True)
            raise

    @staticmethod
    def _acquire(paths: StorePaths, timeout: float) -> FileLock:
        """Take the store's lock: ``plan.json.d/lock``, opened inside the folder, never through a link."""
        try:
            with StoreFolders(paths) as f:
                like = f.store_stat()
                aux = f.aux(like, create=True)
                assert aux is not None
                mode = (_file_mode(like) & 0o666) | 0o600
                lock = FileLock(paths.lock, timeout=timeout, mode=mode, dir_fd=aux.fd)
                lock.acquire()
                try:
                    _refuse_planted(f, aux)
                    if like is not None:
                        _share_like(f, like)
                except BaseException:
                    _release(lock, committed=False, quiet=True)
                    raise
        except LockUnsupported:
            raise TrackerError(
                f"The filesystem holding {paths.store} cannot lock files, so the store cannot be shared safely "
                "there: keep it on a local disk, or a network share that supports file locks."
            ) from None
        except LockTimeout:
            raise StoreLockedError(
                f"The store {paths.store} is busy: another kt command held it for {timeout:g} s. "
                "Try again, or wait longer with --lock-timeout or KNOWSLEY_TRACKER_LOCK_TIMEOUT."
            ) from None
        except LockUnsafe as problem:
            raise _unsafe_lock(problem) from None
        except OSError as exc:
            raise _lock_failed(paths, exc) from None
        return lock

    def close(self, *, quiet: bool = False) -> None:
        """Release the lock (if held). Uncommitted changes are discarded.

        Closing the lock file can fail (an I/O error on a network share); the lock is let go
        all the same (closing the descriptor ends it). After a commit that is reported as
        "saved, but" (commit_point.note); before one, as an error unless ``quiet`` (another
        error is already on its way)."""
        if self._closed:
            return
        self._closed = True
        try:
            if self._lock is not None:
                _release(self._lock, committed=self._committed, quiet=quiet)
        finally:
            commit_point.settle()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- changing meta: settings, authority, counters -----------------------------

    def set_setting(self, name: str, value: Any) -> None:
        """Change one setting (an audited change like any other)."""
        self._require_transaction()
        settings = self.meta.setdefault("settings", {})
        old = settings.get(name)
        if old == value:
            return
        if value is None:
            settings.pop(name, None)
        else:
            settings[name] = value
        self._record(["update", META, 1, {f"settings.{name}": [old, value]}])

    def set_authority(self, name: str) -> None:
        self._require_transaction()
        old = self.meta.get("authority")
        if old != name:
            self.meta["authority"] = name
            self._record(["update", META, 1, {"authority": [old, name]}])

    def raise_counter(self, table: str, value: int) -> bool:
        """Move an id counter up to ``value`` (never down), recorded in the history."""
        self._require_transaction()
        counters = self.meta.setdefault("counters", {})
        old = int(counters.get(table, 0))
        if value <= old:
            return False
        counters[table] = value
        self._record(["update", META, 1, {f"counters.{table}": [old, value]}])
        return True

    # -- snapshots (immutable blobs) -------------------------------------------

    def save_snapshot(self, name: str, snapshot: dict[str, Any]) -> str:
        """Keep a board snapshot; written with the next commit. Returns its file name,
        which the caller stores in a board row (kt doctor checks that it exists)."""
        self._require_transaction()
        file_name = require_stored_name("snapshot", snapshot_name(name, self.txn + 1), self.paths.store)
        self._new_snapshots[file_name] = snapshot
        self._snapshot_cache[file_name] = snapshot
        return file_name

    # -- the rest of the PlanStore interface's changes (store_interface.py) ----------

    def set_created_at(self, stamp: str) -> None:
        self._require_transaction()
        old = self.meta.get("created_at")
        if old != stamp:
            self.meta["created_at"] = stamp
            self._record(["update", META, 1, {"created_at": [old, stamp]}])

    def pending_changes(self) -> list[Change]:
        return [change_from_list(c) for c in self._pending or []]

    def revert(self, change: Change) -> None:
        self.apply_raw(change_to_list(change), reverse=True)

    def raise_txn_counter(self) -> int | None:
        """Move the txn counter up to the newest history entry when it fell behind (a
        damaged store, for kt doctor --fix); returns the new value, None when it was right."""
        highest = max((i for i, _ in self.rows(HISTORY)), default=0)
        if self.txn >= highest:
            return None
        self.meta["txn"] = highest
        return highest

    # -- changing records -------------------------------------------------------

    def _require_transaction(self) -> None:
        if self._pending is None:
            raise RuntimeError("Store changes must happen inside store.transaction().")

    def _record(self, change: list[Any]) -> None:
        assert self._pending is not None
        self._pending.append(change)

    def next_id(self, table: str) -> int:
        counters = self.meta.setdefault("counters", {})
        return int(counters.get(table, 0)) + 1

    def add(self, record: R) -> R:
        """Store a new record under a fresh id that is never reused, and return it."""
        self._require_transaction()
        table = record.TABLE
        record.id = self.next_id(table)
        require_dates_in_range(record)
        if self.row(table, record.id) is not None:
            raise ConflictError(
                f"The id counter for {table} is behind the ids already stored, so {record.ref} is taken; "
                "run kt doctor --fix, then try again."
            )
        self.meta["counters"][table] = record.id
        row = record.to_record()
        self._table(table).insert(_document(row, doc_id=record.id))
        self._record(["create", table, record.id, None if table == "log" else row])
        return record

    def add_with_id(self, record: R) -> R:
        """Store a record under the id it already has (restoring an export into an
        empty store); the id counter moves past it so the id is never handed out again."""
        self._require_transaction()
        table = record.TABLE
        if record.id < 1 or self.row(table, record.id) is not None:
            raise ConflictError(f"{record.ref} already exists.")
        require_dates_in_range(record)
        counters = self.meta.setdefault("counters", {})
        counters[table] = max(int(counters.get(table, 0)), record.id)
        row = record.to_record()
        self._insert_row(table, record.id, row)
        self._record(["create", table, record.id, None if table == "log" else row])
        return record

    def save(self, record: Record) -> dict[str, list[Any]]:
        """Write a changed record back; returns ``{field: [old, new]}`` for what changed."""
        self._require_transaction()
        table = record.TABLE
        old = self.row(table, record.id)
        if old is None:
            raise not_found(type(record), record.id)
        require_dates_in_range(record)
        new = record.to_record()
        diff = {k: [old.get(k), v] for k, v in new.items() if old.get(k) != v}
        if not diff:
            return {}
        self._update_row(table, record.id, {k: v for k, (_, v) in diff.items()})
        self._record(["update", table, record.id, diff])
        return diff

    def delete(self, cls: type[Record], record_id: int) -> None:
        """Remove a record for good (its id is not reused)."""
        self._require_transaction()
        old = self.row(cls.TABLE, record_id)
        if old is None:
            raise not_found(cls, record_id)
        self._delete_row(cls.TABLE, record_id)
        self._record(["delete", cls.TABLE, record_id, old])

    # Raw primitives, also used by undo to replay changes without recording them twice.

    def _update_row(self, table: str, record_id: int, fields: dict[str, Any]) -> None:
        if self._table(table).contains(doc_id=record_id):
            self._table(table).update(fields, doc_ids=[record_id])
            return
        segment = self._writable_segment_row(table, record_id)
        segment[str(record_id)] = {**segment[str(record_id)], **fields}

    def _delete_row(self, table: str, record_id: int) -> None:
        if self._table(table).contains(doc_id=record_id):
            self._table(table).remove(doc_ids=[record_id])
            return
        segment = self._writable_segment_row(table, record_id)
        del segment[str(record_id)]

    def _insert_row(self, table: str, record_id: int, row: dict[str, Any]) -> None:
        if table in SEGMENTED:
            for entry in self._segments(table):
                if entry["first"] <= record_id <= entry["last"]:
                    # The id belongs to a sealed range: put it back there, keeping ids in order.
                    rows = dict(self._load_segment(entry["file"]))
                    rows[str(record_id)] = row
                    self._segment_cache[entry["file"]] = rows
                    self._dirty_segments.add(entry["file"])
                    return
        self._table(table).insert(_document(row, doc_id=record_id))

    def _writable_segment_row(self, table: str, record_id: int) -> dict[str, Any]:
        for entry in self._segments(table):
            if entry["first"] <= record_id <= entry["last"]:
                rows = self._load_segment(entry["file"])
                if str(record_id) in rows:
                    # Segments are immutable on disk: a change writes a new version.
                    rows = dict(rows)
                    self._segment_cache[entry["file"]] = rows
                    self._dirty_segments.add(entry["file"])
                    return rows
        raise NotFoundError(f"No row {record_id} in {table}.")

    def apply_raw(self, change: list[Any], *, reverse: bool) -> None:
        """Apply (or reverse) one recorded change, recording the effect as a new change.

        Refuses with :class:`ChangeConflict` when the record no longer looks as the
        change left it (a later change would be overwritten). Id counters never
        move back, so reversing a counter change leaves it as it is.
        """
        self._require_transaction()
        op, table, record_id, payload = change
        if table == META:
            self._apply_meta(payload, reverse=reverse)
            return
        made = reverse_row_change(
            change_from_list(change),
            self.row(table, record_id),
            remove=lambda: self._delete_row(table, record_id),
            put_back=lambda row: self._insert_row(table, record_id, row),
            update=lambda fields: self._update_row(table, record_id, fields),
            reverse=reverse,
        )
        self._record(change_to_list(made))

    def _apply_meta(self, payload: dict[str, list[Any]], *, reverse: bool) -> None:
        def set_value(name: str, was: Any, becomes: Any) -> None:
            self.meta[name] = becomes
            self._record(["update", META, 1, {name: [was, becomes]}])

        reverse_meta_change(
            payload,
            setting=lambda key: self.setting(key, None),
            set_setting=self.set_setting,
            value=self.meta.get,
            set_value=set_value,
            raise_counter=self.raise_counter,
            reverse=reverse,
        )

    # -- transactions -----------------------------------------------------------

    @contextmanager
    def transaction(
        self, *, by: str, what: str, extra: dict[str, Any] | None = None, at: datetime | None = None
    ) -> Iterator[Store]:
        """All changes inside are saved together at the end, or not at all.

        ``extra`` is saved with the command's history entry; it is read at commit
        time, so the body may still add to it. ``at`` is the moment the history
        records (default: now, or KNOWSLEY_TRACKER_NOW when it is set).
        """
        if not self.writable:
            raise RuntimeError("This store was opened read-only.")
        if self._pending is not None:
            raise RuntimeError("Transactions do not nest.")
        self._pending = []
        try:
            yield self
            self._commit(by=by, what=what, extra=extra, at=at)
        except BaseException:
            self._discard()
            raise
        finally:
            self._pending = None

    def _discard(self) -> None:
        """Forget uncommitted changes by re-reading the committed store."""
        data = read_store_file(self.paths.store)
        migrate(data, self.paths.store)
        self._hold(data)
        self._segment_cache.clear()
        self._dirty_segments.clear()
        for name in self._new_snapshots:
            self._snapshot_cache.pop(name, None)
        self._new_snapshots.clear()

    def _commit(
        self,
        *,
        by: str,
        what: str,
        extra: dict[str, Any] | None = None,
        force: bool = False,
        at: datetime | None = None,
    ) -> None:
        changes = self._pending or []
        if not changes and not force and not self._dirty_segments and not self._new_snapshots:
            return
        meta = self.meta
        # The history's own ids guard against a txn counter that fell behind (a damaged store).
        txn = max([int(meta.get("txn", 0)), *map(int, self.data.get(HISTORY, {}))]) + 1
        stamp = (at or _now()).astimezone(UTC).isoformat(timespec="seconds")
        if changes or force:
            entry: dict[str, Any] = {}
            if extra:
                entry.update(extra)
            entry.update({"at": stamp, "by": by, "what": what, "changes": changes})
            self._table(HISTORY).insert(_document(entry, doc_id=txn))
        meta["txn"] = txn
        meta["updated_at"] = stamp
        with StoreFolders(self.paths) as f:
            # Ctrl-C is held from here: before the rename it abandons the write, after it the
            # command finishes and reports the save (commit_point).
            commit_point.hold_interrupts()
            try:
                like = committing.write_files(self, f, txn)
            except BaseException:
                commit_point.abandon()
                raise
            # The commit point has passed: the change is saved, whatever happens next.
            self._committed = True
            commit_point.saved(txn)
            highwater._write_highwater(f, txn, meta.get("counters", {}), like)
            self._base_txn, self._base_saved, self._base_damaged = txn, stamp, False
            self._base_file = None
            with suppress(OSError):
                self._base_file = f.store_stat()
            self._new_snapshots.clear()
            self._dirty_segments.clear()
            with suppress(OSError, ValueError, TrackerError):  # housekeeping: the commit has already landed
                backups._prune_backups(f, read_setting_or_default(meta.get("settings", {}), "backups"))

    # -- housekeeping -------------------------------------------------------------

    def remove_stale_temp_files(self) -> list[Path]:
        """Delete temporary files left by writers that were killed (the lock is held,
        so no writer is using them). Returns what was removed."""
        if not self.writable:
            raise RuntimeError("This store was opened read-only.")
        removed = []
        with StoreFolders(self.paths) as f:
            for folder, name in _stale_temps(f):
                with suppress(FileNotFoundError, PermissionError):
                    if sf.remove(folder, name):
                        removed.append(folder / name)
        return removed

    # -- restore -------------------------------------------------------------------

    @classmethod
    def restore(
        cls,
        path: Path,
        backup: Backup | None,
        *,
        by: str,
        lock_timeout: float = DEFAULT_LOCK_TIMEOUT,
        confirm: Callable[[Backup, list[Undone]], None] | None = None,
    ) -> Restored:
        """Put a backup back as the store, under the lock, without ever going backwards.

        What it replaces is kept first: a readable store as an ordinary backup, a
        damaged one under a ``-damaged-`` name. The restored store gets a txn
        number above every one used before, id counters at least as high as any
        id handed out, and the history of everything since the backup (the audit
        trail only grows); the restore itself is one history entry whose changes
        turn the replaced plan into the restored one. ``confirm`` is shown the
        commands the restore undoes (counted under the lock, so the count is
        true) and may refuse by raising; nothing is written then.
        """
        return restoring.restore_backup(cls, path, backup, by=by, lock_timeout=lock_timeout, confirm=confirm)

    def _check_blobs(self, what: str) -> None:
        """Refuse a version whose segment files are missing or damaged."""
        for table in SEGMENTED:
            for entry in self._segments(table):
                path = self.paths.segments / entry["file"]
                try:
                    self._load_segment(entry["file"])
                except TrackerError:
                    raise CorruptStoreError(
                        f"{what} refers to {path}, which is missing or damaged. Run kt doctor."
                    ) from None


def _document(row: dict[str, Any], doc_id: int) -> Any:
    """A TinyDB document with its id (TinyDB imported by the first change a command makes)."""
    from tinydb.table import Document

    return Document(row, doc_id=doc_id)
