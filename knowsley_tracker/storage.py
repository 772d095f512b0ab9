"""The store: a TinyDB JSON file kept safe for several officers and cron jobs.

This is the only module that imports tinydb, filelock or orjson. On disk a
store is ``plan.json`` (a TinyDB document holding the plan and a ``_meta``
table) plus the folder ``plan.json.d/`` beside it::

    plan.json.d/lock        the lock every writing command holds throughout
    plan.json.d/segments/   older rows of the append-only tables (sealed, immutable)
    plan.json.d/snapshots/  board snapshots (immutable)
    plan.json.d/backups/    the previous versions of plan.json (hard links)

Why segments: the progress log and the audit history only ever grow, and
parsing them made every command pay for the whole history of the plan. Their
newest rows stay in ``plan.json``; older ones are sealed into immutable
segment files that a command opens only when it needs them.

Every write goes to a temporary file that is flushed, fsynced and renamed over
the old one, then the folder is fsynced; the rename of ``plan.json`` is the
commit point, so a crash leaves either the old store or the new one. Readers
take no lock: they see one committed version or the next.
"""

from __future__ import annotations

import errno
import json
import os
import re
import stat
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import orjson
from tinydb import Storage, TinyDB
from tinydb.table import Document

from knowsley_tracker.errors import (
    ConflictError,
    CorruptStoreError,
    NotFoundError,
    StoreLockedError,
    StoreMissingError,
    StoreWriteError,
    TrackerError,
)
from knowsley_tracker.models import TABLES, Record

R = TypeVar("R", bound=Record)

FORMAT = "knowsley-tracker"
SCHEMA_VERSION = 1
META = "_meta"
HISTORY = "history"
# Tables that only grow: their older rows move into sealed segment files.
SEGMENTED = ("log", HISTORY)
# Rows kept in plan.json per segmented table before the oldest are sealed.
SEGMENT_ROWS = 1000
DEFAULT_LOCK_TIMEOUT = 10.0
DEFAULT_BACKUPS = 10
_JSON_OPTIONS = orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS | orjson.OPT_APPEND_NEWLINE
_BACKUP_NAME = re.compile(r".+-t(\d+)-(\d{8}T\d{6}Z)(?:-\d+)?\.json")

# Migrations upgrade raw store data in place from version N to N + 1.
MIGRATIONS: dict[int, Callable[[dict[str, Any]], None]] = {}


# ---------------------------------------------------------------------------
# Paths


@dataclass(frozen=True)
class StorePaths:
    """Where each part of one store lives."""

    store: Path

    @property
    def aux(self) -> Path:
        return self.store.with_name(self.store.name + ".d")

    @property
    def lock(self) -> Path:
        return self.aux / "lock"

    @property
    def segments(self) -> Path:
        return self.aux / "segments"

    @property
    def snapshots(self) -> Path:
        return self.aux / "snapshots"

    @property
    def backups(self) -> Path:
        return self.aux / "backups"


# ---------------------------------------------------------------------------
# Encoding


def encode(data: Any) -> bytes:
    """Plain, indented, key-sorted JSON that diffs cleanly."""
    try:
        return orjson.dumps(data, option=_JSON_OPTIONS)
    except orjson.JSONEncodeError:
        # orjson refuses lone surrogates (from undecodable command-line bytes);
        # the standard library escapes them as \\udcxx and reads them back.
        return (json.dumps(data, indent=2, sort_keys=True, ensure_ascii=True) + "\n").encode("ascii")


def decode(raw: bytes) -> Any:
    """Parse JSON written by :func:`encode`; raises ``ValueError`` when it is not JSON."""
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        return json.loads(raw.decode("utf-8"))


# ---------------------------------------------------------------------------
# Low-level file writes. Tests replace these names to inject faults.

_os_write = os.write
_os_fsync = os.fsync
_os_replace = os.replace


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:  # pragma: no cover - platforms without directory handles
        return
    try:
        _os_fsync(fd)
    except OSError as exc:  # pragma: no cover - some filesystems refuse
        if exc.errno not in (errno.EINVAL, errno.EBADF, errno.ENOTSUP):
            raise
    finally:
        os.close(fd)


def atomic_write(target: Path, payload: bytes, like: os.stat_result | None = None) -> None:
    """Write ``payload`` to a temporary file, fsync it, then rename it over ``target``.

    The new file takes the mode and group of ``like`` (the file it replaces, or
    the store), so a group-shared store stays shared; otherwise it is 0600.
    """
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    mode = stat.S_IMODE(like.st_mode) if like is not None else 0o600
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_BINARY", 0), 0o600)
    try:
        try:
            view = memoryview(payload)
            while view:
                written = _os_write(fd, view)
                view = view[written:]
            os.fchmod(fd, mode)
            if like is not None and hasattr(os, "fchown"):
                with suppress(PermissionError):  # not in that group: keep our own
                    os.fchown(fd, -1, like.st_gid)
            _os_fsync(fd)
        finally:
            os.close(fd)
        _os_replace(tmp, target)
    except BaseException:
        with suppress(FileNotFoundError):
            tmp.unlink()
        raise
    _fsync_dir(target.parent)


def _write_failed(path: Path, exc: OSError) -> StoreWriteError:
    reason = exc.strerror or str(exc)
    return StoreWriteError(f"Could not save {path} ({reason}); the store is unchanged and nothing was lost.")


def _make_dir(directory: Path, like: os.stat_result | None) -> None:
    if directory.is_dir():
        return
    directory.mkdir(parents=True, exist_ok=True)
    mode = 0o700
    if like is not None and like.st_mode & 0o070:
        mode = 0o2770 if like.st_mode & 0o020 else 0o2750
    os.chmod(directory, mode)
    if like is not None:
        with suppress(PermissionError):
            os.chown(directory, -1, like.st_gid)


# ---------------------------------------------------------------------------
# Reading and validating


def read_store_file(path: Path) -> dict[str, Any]:
    """Parse and validate a store file; never changes it. Raises tracker errors."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise StoreMissingError(
            f"No store at {path}. Create one with: kt init --authority NAME "
            "(or point --db or KNOWSLEY_TRACKER_DB at an existing store)."
        ) from None
    except IsADirectoryError:
        raise CorruptStoreError(f"{path} is a folder, not a store file.") from None
    except PermissionError:
        raise TrackerError(f"Permission denied reading {path}: ask its owner for access.") from None
    return validate_store_bytes(path, raw)


def validate_store_bytes(path: Path, raw: bytes) -> dict[str, Any]:
    """Check that ``raw`` is a tracker store this version can read."""
    if not raw.strip():
        problem = "is empty (0 bytes)" if not raw else "holds only white space"
        raise _corrupt(path, f"The store {path} {problem}.")
    if b"\x00" in raw:
        raise _corrupt(path, f"The store {path} is damaged: it contains NUL bytes.")
    try:
        data: dict[str, Any] = decode(raw)
    except (ValueError, UnicodeDecodeError):
        raise _corrupt(
            path, f"The store {path} is damaged: it is not complete JSON (truncated or overwritten)."
        ) from None
    meta = data.get(META, {}).get("1") if isinstance(data, dict) else None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise _corrupt(path, f"The file {path} is JSON but not a knowsley-tracker store.")
    version = meta.get("schema_version")
    if not isinstance(version, int) or version < 1:
        raise _corrupt(path, f"The store {path} has no valid schema version.")
    if version > SCHEMA_VERSION:
        raise _corrupt(
            path,
            f"The store {path} uses schema version {version}, newer than this knowsley-tracker "
            f"understands ({SCHEMA_VERSION}): upgrade knowsley-tracker.",
        )
    return data


def _corrupt(path: Path, message: str) -> CorruptStoreError:
    backup = newest_good_backup(StorePaths(path))
    if backup is None:
        hint = "No backup is available."
    else:
        hint = f"Newest good backup: {backup.path} (saved {backup.saved_label}); bring it back with: kt restore."
    return CorruptStoreError(f"{message} The file has not been changed. {hint}")


def migrate(data: dict[str, Any]) -> bool:
    """Upgrade raw data from an older schema in place; True when anything changed."""
    meta = data[META]["1"]
    changed = False
    while meta["schema_version"] < SCHEMA_VERSION:
        MIGRATIONS[meta["schema_version"]](data)
        meta["schema_version"] += 1
        changed = True
    return changed


# ---------------------------------------------------------------------------
# Backups


@dataclass(frozen=True)
class Backup:
    path: Path
    txn: int
    saved: datetime

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def saved_label(self) -> str:
        from knowsley_tracker.dates import format_timestamp

        return format_timestamp(self.saved.isoformat())


def list_backups(paths: StorePaths) -> list[Backup]:
    """Backups of ``plan.json``, newest first."""
    found: list[Backup] = []
    try:
        entries = list(os.scandir(paths.backups))
    except FileNotFoundError:
        return []
    for entry in entries:
        m = _BACKUP_NAME.fullmatch(entry.name)
        if m:
            saved = datetime.strptime(m[2], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
            found.append(Backup(Path(entry.path), int(m[1]), saved))
    found.sort(key=lambda b: (b.txn, b.saved, b.name), reverse=True)
    return found


def newest_good_backup(paths: StorePaths) -> Backup | None:
    for backup in list_backups(paths):
        try:
            validate_store_bytes_quiet(backup.path.read_bytes())
        except (OSError, ValueError):
            continue
        return backup
    return None


def validate_store_bytes_quiet(raw: bytes) -> dict[str, Any]:
    """Like :func:`validate_store_bytes` but raises plain ``ValueError`` (no backup lookup)."""
    if not raw.strip() or b"\x00" in raw:
        raise ValueError("empty or damaged")
    data: dict[str, Any] = decode(raw)
    meta = data.get(META, {}).get("1") if isinstance(data, dict) else None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise ValueError("not a tracker store")
    if not isinstance(meta.get("schema_version"), int) or meta["schema_version"] > SCHEMA_VERSION:
        raise ValueError("unsupported schema")
    return data


def _backup_name(paths: StorePaths, txn: int, when: datetime) -> Path:
    stem = paths.store.stem
    base = f"{stem}-t{txn:06d}-{when.astimezone(UTC):%Y%m%dT%H%M%SZ}"
    candidate = paths.backups / f"{base}.json"
    n = 1
    while candidate.exists():
        candidate = paths.backups / f"{base}-{n}.json"
        n += 1
    return candidate


def _keep_backup(paths: StorePaths, txn: int, when: datetime, like: os.stat_result) -> Path:
    """Keep the current plan.json as a backup: a hard link costs nothing, a copy where links fail."""
    _make_dir(paths.backups, like)
    target = _backup_name(paths, txn, when)
    try:
        os.link(paths.store, target)
    except OSError:
        atomic_write(target, paths.store.read_bytes(), like)
    return target


def _prune_backups(paths: StorePaths, keep: int) -> None:
    for old in list_backups(paths)[keep:]:
        with suppress(FileNotFoundError):
            old.path.unlink()


# ---------------------------------------------------------------------------
# TinyDB glue


class HeldStorage(Storage):
    """A TinyDB storage over data already read: the store writes it out once, at commit."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data

    def read(self) -> dict[str, Any]:
        return self.data

    def write(self, data: dict[str, Any]) -> None:
        self.data = data


def _lock_class() -> Any:
    # filelock is imported only by commands that write, keeping it off the
    # start-up path of read-only commands such as kt check and kt report.
    from filelock import FileLock, Timeout

    return FileLock, Timeout


# ---------------------------------------------------------------------------
# The store


class Store:
    """One open store. Writing stores hold the lock until :meth:`close`."""

    def __init__(self, paths: StorePaths, data: dict[str, Any], *, writable: bool, lock: Any = None) -> None:
        self.paths = paths
        self.writable = writable
        self._lock = lock
        self._db = TinyDB(data, storage=HeldStorage)
        self._pending: list[list[Any]] | None = None
        self._segment_cache: dict[str, dict[str, Any]] = {}
        self._dirty_segments: set[str] = set()
        self._snapshot_cache: dict[str, dict[str, Any]] = {}
        self._new_snapshots: dict[str, dict[str, Any]] = {}
        self._closed = False

    # -- opening ------------------------------------------------------------

    @classmethod
    def open(cls, path: Path, *, write: bool = False, lock_timeout: float = DEFAULT_LOCK_TIMEOUT) -> Store:
        """Open an existing store, for reading (no lock) or writing (locked until close)."""
        paths = StorePaths(path)
        if not write:
            data = read_store_file(path)
            migrate(data)
            return cls(paths, data, writable=False)
        if not path.exists():
            read_store_file(path)  # raises the "no store" error
        lock = cls._acquire(paths, lock_timeout)
        try:
            data = read_store_file(path)
            store = cls(paths, data, writable=True, lock=lock)
            if migrate(data):
                store._commit(by="knowsley-tracker", what=f"migrate store to schema {SCHEMA_VERSION}", force=True)
            return store
        except BaseException:
            lock.release()
            raise

    @classmethod
    def create(cls, path: Path, *, authority: str, now: datetime, lock_timeout: float = DEFAULT_LOCK_TIMEOUT) -> Store:
        """Create a new, empty store (0600) and return it open for writing."""
        paths = StorePaths(path)
        if path.exists():
            raise ConflictError(f"A store already exists at {path}; it has not been changed.")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            _make_dir(paths.aux, None)
        except OSError as exc:
            raise _write_failed(path, exc) from None
        lock = cls._acquire(paths, lock_timeout)
        try:
            if path.exists():
                raise ConflictError(f"A store already exists at {path}; it has not been changed.")
            meta = {
                "format": FORMAT,
                "schema_version": SCHEMA_VERSION,
                "authority": authority,
                "created_at": now.isoformat(timespec="seconds"),
                "txn": 0,
                "counters": {},
                "settings": {},
                "segments": {},
            }
            data: dict[str, Any] = {META: {"1": meta}}
            try:
                atomic_write(path, encode(data))
            except OSError as exc:
                raise _write_failed(path, exc) from None
            return cls(paths, data, writable=True, lock=lock)
        except BaseException:
            lock.release()
            raise

    @staticmethod
    def _acquire(paths: StorePaths, timeout: float) -> Any:
        file_lock, timeout_error = _lock_class()
        try:
            like = paths.store.stat()
        except OSError:
            like = None
        try:
            _make_dir(paths.aux, like)
        except OSError as exc:
            raise _write_failed(paths.store, exc) from None
        mode = stat.S_IMODE(like.st_mode) | 0o600 if like is not None else 0o600
        lock = file_lock(str(paths.lock), timeout=timeout, mode=mode)
        try:
            lock.acquire()
        except timeout_error:
            raise StoreLockedError(
                f"The store {paths.store} is busy: another kt command held it for {timeout:g} s. "
                "Try again, or wait longer with --lock-timeout or KNOWSLEY_TRACKER_LOCK_TIMEOUT."
            ) from None
        except PermissionError:
            raise TrackerError(f"Permission denied locking {paths.lock}: ask the store's owner for access.") from None
        return lock

    def close(self) -> None:
        """Release the lock (if held). Uncommitted changes are discarded."""
        if self._closed:
            return
        self._closed = True
        if self._lock is not None:
            self._lock.release()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- meta -----------------------------------------------------------------

    @property
    def data(self) -> dict[str, Any]:
        data: dict[str, Any] = self._db.storage.read()  # type: ignore[assignment]
        return data

    @property
    def meta(self) -> dict[str, Any]:
        meta: dict[str, Any] = self.data[META]["1"]
        return meta

    @property
    def authority(self) -> str:
        return str(self.meta.get("authority", ""))

    @property
    def txn(self) -> int:
        return int(self.meta.get("txn", 0))

    def setting(self, name: str, default: Any) -> Any:
        return self.meta.get("settings", {}).get(name, default)

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

    # -- reading records ------------------------------------------------------

    def _table(self, name: str) -> Any:
        return self._db.table(name)

    def find(self, cls: type[R], record_id: int) -> R | None:
        """The record with this id, or None."""
        row = self.row(cls.TABLE, record_id)
        return None if row is None else cls.from_record(record_id, row)

    def get(self, cls: type[R], record_id: int) -> R:
        """The record with this id; NotFoundError names the missing id."""
        found = self.find(cls, record_id)
        if found is None:
            raise NotFoundError(f"No {_noun(cls)} {cls.PREFIX}{record_id}.")
        return found

    def all(self, cls: type[R]) -> list[R]:
        """Every record of a kind, in id order."""
        return [cls.from_record(doc_id, row) for doc_id, row in self.rows(cls.TABLE)]

    def row(self, table: str, record_id: int) -> dict[str, Any] | None:
        """The raw stored dict for one record (read-only), or None."""
        doc = self._table(table).get(doc_id=record_id)
        if doc is not None:
            return dict(doc)
        if table in SEGMENTED:
            for entry in self._segments(table):
                if entry["first"] <= record_id <= entry["last"]:
                    raw = self._load_segment(entry["file"]).get(str(record_id))
                    return None if raw is None else dict(raw)
        return None

    def rows(self, table: str, since_id: int = 0) -> Iterator[tuple[int, dict[str, Any]]]:
        """Raw rows of a table in id order, sealed segments included. Do not modify them."""
        if table in SEGMENTED:
            for entry in self._segments(table):
                if entry["last"] <= since_id:
                    continue
                for key, row in sorted(self._load_segment(entry["file"]).items(), key=lambda kv: int(kv[0])):
                    if int(key) > since_id:
                        yield int(key), row
        tail = self.data.get(table, {})
        for key in sorted(tail, key=int):
            if int(key) > since_id:
                yield int(key), tail[key]

    def rows_newest_first(self, table: str) -> Iterator[tuple[int, dict[str, Any]]]:
        """Raw rows, newest id first, opening older segments only when the caller reads
        that far (stop iterating early to read just the recent part of the log)."""
        yield from self.recent_rows(table)
        if table in SEGMENTED:
            for entry in reversed(self._segments(table)):
                rows = self._load_segment(entry["file"])
                for key in sorted(rows, key=int, reverse=True):
                    yield int(key), rows[key]

    def recent_rows(self, table: str) -> Iterator[tuple[int, dict[str, Any]]]:
        """Rows still held in plan.json (the newest of a segmented table), newest first."""
        tail = self.data.get(table, {})
        for key in sorted(tail, key=int, reverse=True):
            yield int(key), tail[key]

    def count(self, table: str) -> int:
        total = len(self.data.get(table, {}))
        if table in SEGMENTED:
            total += sum(entry["rows"] for entry in self._segments(table))
        return total

    def _segments(self, table: str) -> list[dict[str, Any]]:
        segments: list[dict[str, Any]] = self.meta.get("segments", {}).get(table, [])
        return segments

    def _load_segment(self, name: str) -> dict[str, Any]:
        cached = self._segment_cache.get(name)
        if cached is None:
            path = self.paths.segments / name
            try:
                content: dict[str, dict[str, Any]] = decode(path.read_bytes())
            except FileNotFoundError:
                raise CorruptStoreError(
                    f"The store {self.paths.store} refers to {path}, which is missing. Run kt doctor."
                ) from None
            except ValueError:
                raise CorruptStoreError(f"The segment file {path} is damaged. Run kt doctor.") from None
            table = next(iter(content)) if content else ""
            cached = content.get(table, {})
            self._segment_cache[name] = cached
        return cached

    # -- snapshots (immutable blobs) -------------------------------------------

    def save_snapshot(self, name: str, snapshot: dict[str, Any]) -> str:
        """Keep a board snapshot; written with the next commit. Returns its file name."""
        self._require_transaction()
        file_name = f"{name}-t{self.txn + 1:06d}.json"
        self._new_snapshots[file_name] = snapshot
        self._snapshot_cache[file_name] = snapshot
        return file_name

    def load_snapshot(self, file_name: str) -> dict[str, Any]:
        cached = self._snapshot_cache.get(file_name)
        if cached is None:
            path = self.paths.snapshots / file_name
            try:
                cached = decode(path.read_bytes())
            except FileNotFoundError:
                raise CorruptStoreError(
                    f"The store {self.paths.store} refers to {path}, which is missing. Run kt doctor."
                ) from None
            except ValueError:
                raise CorruptStoreError(f"The snapshot file {path} is damaged. Run kt doctor.") from None
            self._snapshot_cache[file_name] = cached
        return cached

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
        self.meta["counters"][table] = record.id
        row = record.to_record()
        self._table(table).insert(Document(row, doc_id=record.id))
        self._record(["create", table, record.id, None if table == "log" else row])
        return record

    def add_with_id(self, record: R) -> R:
        """Store a record under the id it already has (restoring an export into an
        empty store); the id counter moves past it so the id is never handed out again."""
        self._require_transaction()
        table = record.TABLE
        if record.id < 1 or self.row(table, record.id) is not None:
            raise ConflictError(f"{record.ref} already exists.")
        counters = self.meta.setdefault("counters", {})
        counters[table] = max(int(counters.get(table, 0)), record.id)
        row = record.to_record()
        self._table(table).insert(Document(row, doc_id=record.id))
        self._record(["create", table, record.id, None if table == "log" else row])
        return record

    def save(self, record: Record) -> dict[str, list[Any]]:
        """Write a changed record back; returns ``{field: [old, new]}`` for what changed."""
        self._require_transaction()
        table = record.TABLE
        old = self.row(table, record.id)
        if old is None:
            raise NotFoundError(f"No {_noun(type(record))} {record.ref}.")
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
            raise NotFoundError(f"No {_noun(cls)} {cls.PREFIX}{record_id}.")
        self._delete_row(cls.TABLE, record_id)
        self._record(["delete", cls.TABLE, record_id, old])

    # Raw primitives, also used by undo to replay changes without recording them twice.

    def _update_row(self, table: str, record_id: int, fields: dict[str, Any]) -> None:
        if self._table(table).contains(doc_id=record_id):
            self._table(table).update(fields, doc_ids=[record_id])
            return
        segment = self._writable_segment_row(table, record_id)
        segment[str(record_id)].update(fields)

    def _delete_row(self, table: str, record_id: int) -> None:
        if self._table(table).contains(doc_id=record_id):
            self._table(table).remove(doc_ids=[record_id])
            return
        segment = self._writable_segment_row(table, record_id)
        del segment[str(record_id)]

    def _insert_row(self, table: str, record_id: int, row: dict[str, Any]) -> None:
        self._table(table).insert(Document(row, doc_id=record_id))

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
        """Apply (or reverse) one recorded change, recording the effect as a new change."""
        self._require_transaction()
        op, table, record_id, payload = change
        if table == META:
            for name, (old, new) in payload.items():
                target, value = (old, new) if reverse else (new, old)
                if name.startswith("settings."):
                    self.set_setting(name.split(".", 1)[1], target)
                else:
                    self.meta[name] = target
                    self._record(["update", META, 1, {name: [value, target]}])
            return
        if (op == "create") == reverse:
            current = self.row(table, record_id)
            if current is None:
                raise ConflictError(f"Cannot undo: record {table} {record_id} has already gone.")
            self._delete_row(table, record_id)
            self._record(["delete", table, record_id, current])
        elif op in ("create", "delete"):
            if self.row(table, record_id) is not None:
                raise ConflictError(f"Cannot undo: record {table} {record_id} exists again.")
            self._insert_row(table, record_id, payload)
            self._record(["create", table, record_id, None if table == "log" else payload])
        else:
            current = self.row(table, record_id)
            if current is None:
                raise ConflictError(f"Cannot undo: record {table} {record_id} has gone.")
            diff = {}
            for name, (old, new) in payload.items():
                expected, target = (new, old) if reverse else (old, new)
                if current.get(name) != expected:
                    raise ConflictError(
                        f"Cannot undo: {table} {record_id} field {name!r} has changed since; "
                        "undo the later change first."
                    )
                diff[name] = [expected, target]
            self._update_row(table, record_id, {k: v[1] for k, v in diff.items()})
            self._record(["update", table, record_id, diff])

    # -- transactions -----------------------------------------------------------

    @contextmanager
    def transaction(self, *, by: str, what: str, extra: dict[str, Any] | None = None) -> Iterator[Store]:
        """All changes inside are saved together at the end, or not at all."""
        if not self.writable:
            raise RuntimeError("This store was opened read-only.")
        if self._pending is not None:
            raise RuntimeError("Transactions do not nest.")
        self._pending = []
        try:
            yield self
            self._commit(by=by, what=what, extra=extra)
        except BaseException:
            self._discard()
            raise
        finally:
            self._pending = None

    def _discard(self) -> None:
        """Forget uncommitted changes by re-reading the committed store."""
        data = read_store_file(self.paths.store)
        migrate(data)
        self._db = TinyDB(data, storage=HeldStorage)
        self._segment_cache.clear()
        self._dirty_segments.clear()
        for name in self._new_snapshots:
            self._snapshot_cache.pop(name, None)
        self._new_snapshots.clear()

    def _commit(self, *, by: str, what: str, extra: dict[str, Any] | None = None, force: bool = False) -> None:
        changes = self._pending or []
        if not changes and not force and not self._dirty_segments:
            return
        meta = self.meta
        txn = int(meta.get("txn", 0)) + 1
        now = datetime.now(UTC)
        if changes or force:
            entry: dict[str, Any] = {
                "at": now.isoformat(timespec="seconds"),
                "by": by,
                "what": what,
                "changes": changes,
            }
            if extra:
                entry.update(extra)
            self._table(HISTORY).insert(Document(entry, doc_id=txn))
        meta["txn"] = txn
        meta["updated_at"] = now.isoformat(timespec="seconds")
        try:
            like = self.paths.store.stat()
        except FileNotFoundError:
            like = None
        try:
            self._write_blobs(txn, like)
            payload = encode(self.data)
            backup = None
            if like is not None:
                backup = _keep_backup(self.paths, txn - 1, now, like)
            try:
                atomic_write(self.paths.store, payload, like)
            except BaseException:
                if backup is not None:
                    backup.unlink(missing_ok=True)
                raise
        except OSError as exc:
            raise _write_failed(self.paths.store, exc) from None
        self._new_snapshots.clear()
        self._dirty_segments.clear()
        with suppress(OSError):  # pruning is housekeeping: the commit has already landed
            _prune_backups(self.paths, int(self.setting("backups", DEFAULT_BACKUPS)))

    def _write_blobs(self, txn: int, like: os.stat_result | None) -> None:
        """Seal full tails and rewrite changed segments as new immutable files."""
        meta = self.meta
        segments = meta.setdefault("segments", {})
        for table in SEGMENTED:
            entries = segments.setdefault(table, [])
            for entry in entries:
                if entry["file"] in self._dirty_segments:
                    rows = self._segment_cache[entry["file"]]
                    new_name = f"{table}-{entry['first']:07d}-{entry['last']:07d}-t{txn:06d}.json"
                    self._write_blob(self.paths.segments, new_name, {table: rows}, like)
                    self._segment_cache[new_name] = rows
                    entry["file"], entry["rows"] = new_name, len(rows)
            tail = self.data.get(table, {})
            if len(tail) >= 2 * SEGMENT_ROWS:
                ids = sorted(tail, key=int)[:SEGMENT_ROWS]
                first, last = int(ids[0]), int(ids[-1])
                rows = {key: tail[key] for key in ids}
                name = f"{table}-{first:07d}-{last:07d}-t{txn:06d}.json"
                self._write_blob(self.paths.segments, name, {table: rows}, like)
                entries.append({"file": name, "first": first, "last": last, "rows": len(rows)})
                self._table(table).remove(doc_ids=[int(k) for k in ids])
                self._segment_cache[name] = rows
        for name, snapshot in self._new_snapshots.items():
            self._write_blob(self.paths.snapshots, name, snapshot, like)

    def _write_blob(self, directory: Path, name: str, content: dict[str, Any], like: os.stat_result | None) -> None:
        _make_dir(directory, like)
        atomic_write(directory / name, encode(content), like)


def _noun(cls: type[Record]) -> str:
    return {
        "FocusArea": "focus area",
        "LogEntry": "log entry",
        "KpiValue": "KPI value",
        "Kpi": "KPI",
    }.get(cls.__name__, cls.__name__.lower())


def table_class(name: str) -> type[Record] | None:
    return TABLES.get(name)
