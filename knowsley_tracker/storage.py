"""The store: a TinyDB JSON file kept safe for several officers and cron jobs.

This is the only module that imports tinydb or orjson (locking.py holds the lock), and the only
one that touches the store's files. On disk a store is ``plan.json`` (a TinyDB
document holding the plan and a ``_meta`` table) plus the folder
``plan.json.d/`` beside it::

    plan.json.d/lock            the lock every writing command holds throughout
    plan.json.d/highwater.json  the highest txn and ids ever handed out (a hint for restore)
    plan.json.d/segments/       older rows of the append-only tables (sealed, immutable)
    plan.json.d/snapshots/      board snapshots (immutable)
    plan.json.d/backups/        previous versions of plan.json (hard links), and
                                damaged stores kept aside by kt restore

Why segments: the progress log and the audit history only ever grow, and
parsing them made every command pay for the whole history of the plan. Their
newest rows stay in ``plan.json``; older ones are sealed into immutable
segment files that a command opens only when it needs them.

Every write goes to a temporary file that is flushed, fsynced and renamed over
the old one, then the folder is fsynced; the rename of ``plan.json`` is the
commit point, so a crash leaves either the old store or the new one. A write
that fails at any step leaves the old store in place (a failure after the
rename puts the old version back). Readers take no lock: they see one
committed version or the next. Files are never changed in place, which is
what makes hard-link backups safe.
"""

from __future__ import annotations

import errno
import json
import os
import re
import shutil
import signal
import stat
import threading
from collections.abc import Callable, Iterator, MutableMapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import orjson
from tinydb import Storage, TinyDB
from tinydb.table import Document, Table

from knowsley_tracker.config import SETTINGS, read_setting_or_default
from knowsley_tracker.errors import (
    ConflictError,
    CorruptStoreError,
    NotFoundError,
    StoreLockedError,
    StoreMissingError,
    StoreWriteError,
    TrackerError,
)
from knowsley_tracker.filenames import name_problem, require_stored_name, segment_name, snapshot_name
from knowsley_tracker.locking import FileLock, LockTimeout, LockUnsupported
from knowsley_tracker.models import TABLES, Record, require_dates_in_range

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
DEFAULT_BACKUPS: int = SETTINGS["backups"].default
_JSON_OPTIONS = orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS | orjson.OPT_APPEND_NEWLINE
_BACKUP_NAME = re.compile(r".+-t(\d+)-(\d{8}T\d{6}Z)(?:-\d+)?\.json")
_DAMAGED_NAME = re.compile(r".+-damaged-(\d{8}T\d{6}Z)(?:-\d+)?\.json")
_BLOB_TXN = re.compile(r".+-t(\d+)\.json")
_TEMP_NAME = re.compile(r"\..+\.\d+\.tmp")

# Migrations upgrade raw store data in place from version N to N + 1. They see
# plan.json only: a migration that changes log or history rows must also
# rewrite the sealed segments (none has needed to yet).
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
    def highwater(self) -> Path:
        return self.aux / "highwater.json"

    @property
    def segments(self) -> Path:
        return self.aux / "segments"

    @property
    def snapshots(self) -> Path:
        return self.aux / "snapshots"

    @property
    def backups(self) -> Path:
        return self.aux / "backups"

    @property
    def folders(self) -> tuple[Path, ...]:
        return (self.aux, self.segments, self.snapshots, self.backups)


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


def _now() -> datetime:
    """The moment stamped on a commit: the same clock as the rest of the command
    (KNOWSLEY_TRACKER_NOW when it is set), so history and log entries agree."""
    from knowsley_tracker.dates import Clock

    try:
        return Clock.from_env().now()
    except ValueError:
        return datetime.now(UTC)


# ---------------------------------------------------------------------------
# Low-level file writes. Tests replace these names to inject faults.

_os_write = os.write
_os_fsync = os.fsync
_os_replace = os.replace
_os_link = os.link


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:  # pragma: no cover - platforms without directory handles
        return
    try:
        _os_fsync(fd)
    except OSError as exc:
        # Some filesystems cannot sync a folder; a real I/O error must still stop the write.
        if exc.errno not in (errno.EINVAL, errno.EBADF, errno.ENOTSUP):
            raise
    finally:
        os.close(fd)


def _file_mode(like: os.stat_result | None) -> int:
    return stat.S_IMODE(like.st_mode) & 0o777 if like is not None else 0o600


def _write_temp(target: Path, payload: bytes, like: os.stat_result | None) -> Path:
    """Write ``payload`` to a fsynced temporary file beside ``target``; returns its path.

    The file takes the mode and group of ``like`` (the file it will replace, or
    the store), so a group-shared store stays shared; otherwise it is 0600.
    """
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_BINARY", 0), 0o600)
    try:
        try:
            view = memoryview(payload)
            while view:
                written = _os_write(fd, view)
                view = view[written:]
            os.fchmod(fd, _file_mode(like))
            if like is not None and hasattr(os, "fchown"):
                with suppress(PermissionError):  # not in that group: keep our own
                    os.fchown(fd, -1, like.st_gid)
            _os_fsync(fd)
        finally:
            os.close(fd)
    except BaseException:
        with suppress(FileNotFoundError):
            tmp.unlink()
        raise
    return tmp


def atomic_write(target: Path, payload: bytes, like: os.stat_result | None = None) -> None:
    """Write ``payload`` to a temporary file, fsync it, rename it over ``target``, fsync the folder."""
    tmp = _write_temp(target, payload, like)
    try:
        _os_replace(tmp, target)
    except BaseException:
        with suppress(FileNotFoundError):
            tmp.unlink()
        raise
    _fsync_dir(target.parent)


def _write_failed(path: Path, exc: OSError) -> StoreWriteError:
    reason = exc.strerror or str(exc)
    return StoreWriteError(f"Could not save {path} ({reason}); the store is unchanged and nothing was lost.")


def _dir_mode(like: os.stat_result | None) -> int:
    """Folders follow the store: private (0700), or group-shared with setgid so new files keep the group."""
    if like is not None and like.st_mode & 0o070:
        return 0o2770 if like.st_mode & 0o020 else 0o2750
    return 0o700


def _make_dir(directory: Path, like: os.stat_result | None) -> None:
    if directory.is_dir():
        return
    if not directory.parent.is_dir():
        _make_dir(directory.parent, like)
    with suppress(FileExistsError):
        directory.mkdir()
    os.chmod(directory, _dir_mode(like))
    if like is not None:
        with suppress(PermissionError):
            os.chown(directory, -1, like.st_gid)


def _share_like(paths: StorePaths, like: os.stat_result) -> None:
    """Open the store's folders and lock file to its group when the store itself is
    group-shared (only ever adds permissions; skips what this user does not own)."""
    group_bits = like.st_mode & 0o060
    if not group_bits:
        return
    wanted_dir = _dir_mode(like)
    for folder in paths.folders:
        with suppress(OSError):
            st = folder.stat()
            if st.st_uid != os.geteuid():
                continue
            if st.st_gid != like.st_gid:
                os.chown(folder, -1, like.st_gid)
            if stat.S_IMODE(st.st_mode) & wanted_dir != wanted_dir:
                os.chmod(folder, stat.S_IMODE(st.st_mode) | wanted_dir)
    for path in (paths.lock, paths.highwater):
        with suppress(OSError):
            st = path.stat()
            if st.st_uid == os.geteuid():
                if st.st_gid != like.st_gid:
                    os.chown(path, -1, like.st_gid)
                if stat.S_IMODE(st.st_mode) & group_bits != group_bits:
                    os.chmod(path, stat.S_IMODE(st.st_mode) | group_bits)


@contextmanager
def _commit_signals() -> Iterator[Callable[[], bool]]:
    """Hold Ctrl-C back while a commit runs. Before the commit point the caller
    checks and abandons the write cleanly; after it, the interrupt came too late
    to stop the save, so the command finishes and reports what it saved."""
    if threading.current_thread() is not threading.main_thread():
        yield lambda: False
        return
    received: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: received.append(signum))
    try:
        yield lambda: bool(received)
    finally:
        signal.signal(signal.SIGINT, previous)


# ---------------------------------------------------------------------------
# Reading and validating


class _Invalid(ValueError):
    """Why some bytes are not a store this version can read."""

    def __init__(self, lead: str, rest: str, *, newer: bool = False) -> None:
        super().__init__(lead + rest)
        self.lead = lead
        self.rest = rest
        self.newer = newer

    def message(self, path: Path) -> str:
        return f"{self.lead} {path}{self.rest}"


def _check(raw: bytes) -> dict[str, Any]:
    """Parse and check store bytes; raises :class:`_Invalid`."""
    if not raw.strip():
        raise _Invalid("The store", " is empty (0 bytes)." if not raw else " holds only white space.")
    if b"\x00" in raw:
        raise _Invalid("The store", " is damaged: it contains NUL bytes.")
    try:
        data = decode(raw)
    except (ValueError, UnicodeDecodeError):
        raise _Invalid("The store", " is damaged: it is not complete JSON (truncated or overwritten).") from None
    meta_table = data.get(META) if isinstance(data, dict) else None
    meta = meta_table.get("1") if isinstance(meta_table, dict) else None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise _Invalid("The file", " is JSON but not a knowsley-tracker store.")
    version = meta.get("schema_version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise _Invalid("The store", " has no valid schema version.")
    if version > SCHEMA_VERSION:
        raise _Invalid(
            "The store",
            f" uses schema version {version}, newer than this knowsley-tracker understands "
            f"({SCHEMA_VERSION}): upgrade knowsley-tracker.",
            newer=True,
        )
    assert isinstance(data, dict)
    for name, table in data.items():
        # Every row a dict under a decimal id; checked with C-level calls, as every command pays for it.
        keys = "".join(table) if type(table) is dict else "-"
        if (
            (keys and not (keys.isascii() and keys.isdigit()))
            or "" in table
            or not set(map(type, table.values())) <= {dict}
        ):
            raise _Invalid("The store", f" is damaged: its {name!r} table is not a table of records.")
    for name, kind in (("txn", int), ("counters", dict), ("settings", dict), ("segments", dict)):
        if name in meta and not isinstance(meta[name], kind):
            raise _Invalid("The store", f" is damaged: its {name!r} record is not valid.")
    return data


def read_store_file(path: Path) -> dict[str, Any]:
    """Parse and validate a store file; never changes it. Raises tracker errors."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise _missing(path) from None
    except IsADirectoryError:
        raise CorruptStoreError(f"{path} is a folder, not a store file.") from None
    except PermissionError:
        raise TrackerError(f"Permission denied reading {path}: ask its owner for access.") from None
    except OSError as exc:
        raise TrackerError(f"Could not read {path} ({exc.strerror or exc}).") from None
    return validate_store_bytes(path, raw)


def _missing(path: Path) -> StoreMissingError:
    backup = newest_good_backup(StorePaths(path))
    if backup is not None:
        return StoreMissingError(
            f"No store at {path}, but its backups are still there (newest good: {backup.path}, "
            f"saved {backup.saved_label}); bring it back with: kt restore."
        )
    return StoreMissingError(
        f"No store at {path}. Create one with: kt init --authority NAME "
        "(or point --db or KNOWSLEY_TRACKER_DB at an existing store)."
    )


def validate_store_bytes(path: Path, raw: bytes) -> dict[str, Any]:
    """Check that ``raw`` is a tracker store this version can read."""
    try:
        return _check(raw)
    except _Invalid as problem:
        raise _corrupt(path, problem) from None


def _corrupt(path: Path, problem: _Invalid) -> CorruptStoreError:
    backup = newest_good_backup(StorePaths(path))
    if problem.newer:
        hint = (
            "No backup this version can read is available."
            if backup is None
            else f"The newest backup this version can read is {backup.path} (saved {backup.saved_label}), "
            "but restoring it would drop what the newer version saved."
        )
    elif backup is None:
        hint = "No backup is available."
    else:
        hint = f"Newest good backup: {backup.path} (saved {backup.saved_label}); bring it back with: kt restore."
    return CorruptStoreError(f"{problem.message(path)} The file has not been changed. {hint}")


def validate_store_bytes_quiet(raw: bytes) -> dict[str, Any]:
    """Like :func:`validate_store_bytes` but raises plain ``ValueError`` (no backup lookup)."""
    return _check(raw)


def migrate(data: dict[str, Any], path: Path | None = None) -> bool:
    """Upgrade raw data from an older schema in place; True when anything changed."""
    meta = data[META]["1"]
    where = f"The store {path}" if path is not None else "The store"
    changed = False
    while meta["schema_version"] < SCHEMA_VERSION:
        version = meta["schema_version"]
        step = MIGRATIONS.get(version)
        if step is None:
            raise CorruptStoreError(
                f"{where} uses schema version {version}, which this knowsley-tracker cannot upgrade; "
                "the file has not been changed."
            )
        try:
            step(data)
        except Exception as exc:  # a migration meeting data it did not expect
            raise CorruptStoreError(
                f"{where} could not be upgraded from schema version {version} to {version + 1} "
                f"({type(exc).__name__}: {exc}); the file has not been changed. Run kt doctor."
            ) from None
        meta = data[META]["1"]
        meta["schema_version"] = version + 1
        changed = True
    if changed:
        try:
            _check(encode(data))
        except _Invalid as problem:
            raise CorruptStoreError(
                f"{where} could not be upgraded to schema version {SCHEMA_VERSION}: the result "
                f"{problem.rest.strip().removeprefix('is ')} The file has not been changed."
            ) from None
    return changed


# ---------------------------------------------------------------------------
# Backups


@dataclass(frozen=True)
class Backup:
    """One file in the backups folder: a previous version, or a damaged store kept aside."""

    path: Path
    txn: int
    saved: datetime
    damaged: bool = False

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def saved_label(self) -> str:
        from knowsley_tracker.dates import format_timestamp

        return format_timestamp(self.saved.isoformat())


def _stamp_name(when: datetime) -> str:
    return f"{when.astimezone(UTC):%Y%m%dT%H%M%SZ}"


def _scan_backups(
    paths: StorePaths, pattern: re.Pattern[str], make: Callable[[str, re.Match[str]], Backup]
) -> list[Backup]:
    try:
        entries = list(os.scandir(paths.backups))
    except (FileNotFoundError, NotADirectoryError):
        return []
    return [make(entry.path, m) for entry in entries if (m := pattern.fullmatch(entry.name)) and entry.is_file()]


def _saved_at(stamp: str) -> datetime:
    return datetime.strptime(stamp, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)


def list_backups(paths: StorePaths) -> list[Backup]:
    """Backups of ``plan.json``, newest first."""
    found = _scan_backups(paths, _BACKUP_NAME, lambda path, m: Backup(Path(path), int(m[1]), _saved_at(m[2])))
    found.sort(key=lambda b: (b.txn, b.saved, b.name), reverse=True)
    return found


def list_damaged(paths: StorePaths) -> list[Backup]:
    """Damaged stores that kt restore kept aside, newest first (never pruned)."""
    found = _scan_backups(paths, _DAMAGED_NAME, lambda path, m: Backup(Path(path), 0, _saved_at(m[1]), damaged=True))
    found.sort(key=lambda b: (b.saved, b.name), reverse=True)
    return found


def remove_store(path: Path) -> None:
    """Delete a store and its folder for good (the example and benchmark builders use it
    to rebuild; no kt command deletes a store)."""
    path.unlink(missing_ok=True)
    shutil.rmtree(StorePaths(path).aux, ignore_errors=True)


def backup_problem(backup: Backup) -> str | None:
    """Why a backup cannot be restored (None when it is good)."""
    try:
        raw = backup.path.read_bytes()
    except OSError as exc:
        return f"cannot be read ({exc.strerror or exc})"
    try:
        _check(raw)
    except _Invalid as problem:
        return problem.rest.strip().removeprefix("is ").rstrip(".")
    return None


def newest_good_backup(paths: StorePaths) -> Backup | None:
    for backup in list_backups(paths):
        if backup_problem(backup) is None:
            return backup
    return None


def _unique(folder: Path, base: str) -> Path:
    candidate = folder / f"{base}.json"
    n = 1
    while candidate.exists():
        candidate = folder / f"{base}-{n}.json"
        n += 1
    return candidate


def _keep_link(source: Path, target: Path, like: os.stat_result) -> None:
    """Keep ``source`` under a new name: a hard link costs nothing, a copy where links fail."""
    try:
        _os_link(source, target)
    except OSError:
        atomic_write(target, source.read_bytes(), like)


def _keep_backup(paths: StorePaths, txn: int, saved: datetime, like: os.stat_result) -> tuple[Path, bool]:
    """Keep the current plan.json as a backup; returns it and whether it is new (a writer
    killed after linking may already have kept this very version)."""
    _make_dir(paths.backups, like)
    base = f"{paths.store.stem}-t{txn:06d}-{_stamp_name(saved)}"
    with suppress(OSError):
        existing = paths.backups / f"{base}.json"
        if os.path.samefile(existing, paths.store):
            return existing, False
    target = _unique(paths.backups, base)
    _keep_link(paths.store, target, like)
    return target, True


def _os_link_back(kept: Path, store: Path) -> None:
    """Put ``kept`` back as ``store`` and keep ``kept`` too (it was there before)."""
    tmp = store.with_name(f".{store.name}.{os.getpid()}.tmp")
    tmp.unlink(missing_ok=True)
    os.link(kept, tmp)
    os.replace(tmp, store)


def _keep_damaged(paths: StorePaths, when: datetime, like: os.stat_result) -> Path:
    _make_dir(paths.backups, like)
    target = _unique(paths.backups, f"{paths.store.stem}-damaged-{_stamp_name(when)}")
    _keep_link(paths.store, target, like)
    return target


def _prune_backups(paths: StorePaths, keep: int) -> None:
    for old in list_backups(paths)[max(keep, 1) :]:
        with suppress(FileNotFoundError):
            old.path.unlink()


# ---------------------------------------------------------------------------
# High-water mark: the highest txn and ids ever handed out, kept beside the
# store so that restoring over a damaged plan.json never reuses an id. It is a
# hint, written after each commit without fsync: a lost or stale copy only
# means restore falls back to what it can read from the damaged file.


def read_highwater(paths: StorePaths) -> tuple[int, dict[str, int]]:
    try:
        data = json.loads(paths.highwater.read_bytes())
        txn = int(data.get("txn", 0))
        counters = {str(k): int(v) for k, v in dict(data.get("counters", {})).items()}
    except (OSError, ValueError, TypeError, AttributeError):
        return 0, {}
    return txn, counters


def _write_highwater(paths: StorePaths, txn: int, counters: dict[str, int], like: os.stat_result | None) -> None:
    old_txn, old_counters = read_highwater(paths)
    merged = dict(old_counters)
    for table, value in counters.items():
        merged[table] = max(int(value), merged.get(table, 0))
    payload = json.dumps({"txn": max(txn, old_txn), "counters": merged}, sort_keys=True).encode()
    with suppress(OSError):
        fd = os.open(paths.highwater, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, _file_mode(like))
        try:
            os.write(fd, payload)
        finally:
            os.close(fd)


def salvage_numbers(raw: bytes) -> tuple[int, dict[str, int]]:
    """The highest txn and id counters readable in a damaged store's bytes (best effort)."""
    text = raw.replace(b"\x00", b" ").decode("utf-8", "replace")
    txn = max((int(m) for m in re.findall(r'"txn":\s*(\d+)', text)), default=0)
    counters: dict[str, int] = {}
    for block in re.findall(r'"counters":\s*\{([^{}]*)\}?', text):
        for table, value in re.findall(r'"(\w+)":\s*(\d+)', block):
            counters[table] = max(counters.get(table, 0), int(value))
    for table, value in re.findall(r'\[\s*"create",\s*"(\w+)",\s*(\d+)', text):
        counters[table] = max(counters.get(table, 0), int(value))
    for value in re.findall(r'"(\d+)":\s*\{\s*"at":', text):  # history rows, the only ones keyed "at" first
        txn = max(txn, int(value))
    return txn, counters


def _blob_txns(paths: StorePaths) -> int:
    """The highest txn named by any segment, snapshot or backup file."""
    highest = 0
    for folder in (paths.segments, paths.snapshots):
        with suppress(OSError):
            for name in os.listdir(folder):
                m = _BLOB_TXN.fullmatch(name)
                if m:
                    highest = max(highest, int(m[1]))
    for backup in list_backups(paths):
        highest = max(highest, backup.txn + 1)  # that version was replaced by a later commit
    return highest


# ---------------------------------------------------------------------------
# TinyDB glue


class _IdKeyed(MutableMapping[int, Any]):
    """A stored table (string ids, as JSON has them) seen with integer ids, as
    TinyDB's update functions expect, without copying it."""

    def __init__(self, raw: dict[str, Any]) -> None:
        self.raw = raw

    def __getitem__(self, doc_id: int) -> Any:
        return self.raw[str(doc_id)]

    def __setitem__(self, doc_id: int, row: Any) -> None:
        self.raw[str(doc_id)] = row

    def __delitem__(self, doc_id: int) -> None:
        del self.raw[str(doc_id)]

    def __contains__(self, doc_id: object) -> bool:
        return str(doc_id) in self.raw

    def __iter__(self) -> Iterator[int]:
        return (int(key) for key in list(self.raw))

    def __len__(self) -> int:
        return len(self.raw)


class InPlaceTable(Table):
    """A TinyDB table whose writes change the held data in place.

    TinyDB's own ``_update_table`` rebuilds the whole table dict twice on every
    insert, update or removal, which made bulk work quadratic (a 4,000-action
    CSV import spent 10.6 of 16 s there). The store is written to disk once, at
    commit, so the rebuild buys nothing here.
    """

    def _update_table(self, updater: Callable[[dict[int, Any]], None]) -> None:
        tables = self._storage.read()
        assert tables is not None  # HeldStorage always holds the store's data
        raw = tables.setdefault(self.name, {})
        updater(_IdKeyed(raw))  # type: ignore[arg-type]
        self._storage.write(tables)
        self.clear_cache()


class TrackerDB(TinyDB):
    table_class = InPlaceTable


class HeldStorage(Storage):
    """A TinyDB storage over data already read: the store writes it out once, at commit."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data

    def read(self) -> dict[str, Any]:
        return self.data

    def write(self, data: dict[str, Any]) -> None:
        self.data = data


def ref_of(table: str, record_id: int) -> str:
    """How people write a record's id: ``A12``, ``L40``; ``txn 7`` for history rows."""
    if table == META:
        return "the plan's settings"
    if table == HISTORY:
        return f"txn {record_id}"
    cls = TABLES.get(table)
    return f"{cls.PREFIX}{record_id}" if cls is not None else f"{table} {record_id}"


class ChangeConflict(ConflictError):
    """Reversing a recorded change would overwrite something changed since."""

    def __init__(self, message: str, table: str, record_id: int, field: str | None = None) -> None:
        super().__init__(message)
        self.table = table
        self.record_id = record_id
        self.field = field


@dataclass(frozen=True)
class Restored:
    """What :meth:`Store.restore` did."""

    backup: Backup
    backup_txn: int
    txn: int  # the restore's own transaction
    replaced_txn: int | None  # txn of the version replaced (None when it was damaged or missing)
    kept_as: Path | None  # where the replaced version now lives
    replaced_damaged: bool
    lost_txns: int  # commits held only by the damaged file (best estimate)
    changes: int


@dataclass(frozen=True)
class Problem:
    """One finding of a store check: what is wrong and how to fix it."""

    severity: str  # "problem" (needs fixing) or "warning"
    message: str
    fix: str
    fixable: bool = False  # kt doctor --fix can repair it


# ---------------------------------------------------------------------------
# The store


class Store:
    """One open store. Writing stores hold the lock until :meth:`close`."""

    def __init__(
        self, paths: StorePaths, data: dict[str, Any], *, writable: bool, lock: FileLock | None = None
    ) -> None:
        self.paths = paths
        self.writable = writable
        self._lock = lock
        self._db = TrackerDB(data, storage=HeldStorage)
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
        if not path.exists():
            read_store_file(path)  # raises the "no store" error
        lock = cls._acquire(paths, lock_timeout)
        try:
            data = read_store_file(path)
            version = int(data[META]["1"]["schema_version"])
            store = cls(paths, data, writable=True, lock=lock)
            if migrate(data, path):
                store._commit(
                    by="knowsley-tracker",
                    what=f"migrate store to schema {SCHEMA_VERSION}",
                    extra={"migrate": [version, SCHEMA_VERSION]},
                    force=True,
                )
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
            # A store re-created where one was deleted carries on its txn numbering, so
            # that its backups sort after the old store's and kt restore picks them first.
            meta["txn"] = max(read_highwater(paths)[0], _blob_txns(paths))
            try:
                tmp = _write_temp(path, encode(data), None)
                try:
                    _os_replace(tmp, path)
                except BaseException:
                    tmp.unlink(missing_ok=True)
                    raise
                try:
                    _fsync_dir(path.parent)
                except BaseException:
                    path.unlink(missing_ok=True)
                    raise
            except OSError as exc:
                raise _write_failed(path, exc) from None
            return cls(paths, data, writable=True, lock=lock)
        except BaseException:
            lock.release()
            raise

    @staticmethod
    def _acquire(paths: StorePaths, timeout: float) -> FileLock:
        try:
            like = paths.store.stat()
        except OSError:
            like = None
        try:
            _make_dir(paths.aux, like)
        except OSError as exc:
            raise _write_failed(paths.store, exc) from None
        if like is not None:
            _share_like(paths, like)
        mode = (_file_mode(like) & 0o666) | 0o600
        lock = FileLock(paths.lock, timeout=timeout, mode=mode)
        try:
            lock.acquire()
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

    def tables(self) -> list[str]:
        """Names of the record tables this store holds (not _meta)."""
        names = {name for name in self.data if name != META}
        names.update(name for name, entries in self.meta.get("segments", {}).items() if entries)
        return sorted(names)

    def _segments(self, table: str) -> list[dict[str, Any]]:
        segments: list[dict[str, Any]] = self.meta.get("segments", {}).get(table, [])
        return segments

    def _load_segment(self, name: str) -> dict[str, Any]:
        cached = self._segment_cache.get(name)
        if cached is None:
            path = self.paths.segments / require_stored_name("segment", name, self.paths.store)
            content = _read_blob(self.paths.store, path, "segment")
            table = next(iter(content)) if content else ""
            cached = content.get(table, {})
            if not isinstance(cached, dict):
                raise CorruptStoreError(f"The segment file {path} is damaged. Run kt doctor.")
            self._segment_cache[name] = cached
        return cached

    # -- snapshots (immutable blobs) -------------------------------------------

    def save_snapshot(self, name: str, snapshot: dict[str, Any]) -> str:
        """Keep a board snapshot; written with the next commit. Returns its file name,
        which the caller stores in a board row (kt doctor checks that it exists)."""
        self._require_transaction()
        file_name = require_stored_name("snapshot", snapshot_name(name, self.txn + 1), self.paths.store)
        self._new_snapshots[file_name] = snapshot
        self._snapshot_cache[file_name] = snapshot
        return file_name

    def load_snapshot(self, file_name: str) -> dict[str, Any]:
        cached = self._snapshot_cache.get(file_name)
        if cached is None:
            path = self.paths.snapshots / require_stored_name("snapshot", file_name, self.paths.store)
            cached = _read_blob(self.paths.store, path, "snapshot")
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
        require_dates_in_range(record)
        if self.row(table, record.id) is not None:
            raise ConflictError(
                f"The id counter for {table} is behind the ids already stored, so {record.ref} is taken; "
                "run kt doctor --fix, then try again."
            )
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
            raise NotFoundError(f"No {_noun(type(record))} {record.ref}.")
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
            raise NotFoundError(f"No {_noun(cls)} {cls.PREFIX}{record_id}.")
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
        ref = ref_of(table, record_id)
        if (op == "create") == reverse:
            current = self.row(table, record_id)
            if current is None:
                raise ChangeConflict(f"Cannot undo: {ref} has already gone.", table, record_id)
            expected = payload  # the row as the change left it (None for log entries, which never change)
            if isinstance(expected, dict):
                for name in sorted(set(expected) | set(current)):
                    if expected.get(name) != current.get(name):
                        raise ChangeConflict(
                            f"Cannot undo: {ref} has changed since (its {name} is different).", table, record_id, name
                        )
            self._delete_row(table, record_id)
            self._record(["delete", table, record_id, current])
        elif op in ("create", "delete"):
            if self.row(table, record_id) is not None:
                raise ChangeConflict(f"Cannot undo: {ref} exists again.", table, record_id)
            if not isinstance(payload, dict):
                raise ChangeConflict(f"Cannot undo: the history does not hold {ref} as it was.", table, record_id)
            self._insert_row(table, record_id, payload)
            self._record(["create", table, record_id, None if table == "log" else payload])
        else:
            current = self.row(table, record_id)
            if current is None:
                raise ChangeConflict(f"Cannot undo: {ref} has gone.", table, record_id)
            diff = {}
            for name, (old, new) in payload.items():
                expected, target = (new, old) if reverse else (old, new)
                if current.get(name) != expected:
                    raise ChangeConflict(
                        f"Cannot undo: {ref} has changed since (its {name} is different); undo the later change first.",
                        table,
                        record_id,
                        name,
                    )
                diff[name] = [expected, target]
            self._update_row(table, record_id, {k: v[1] for k, v in diff.items()})
            self._record(["update", table, record_id, diff])

    def _apply_meta(self, payload: dict[str, list[Any]], *, reverse: bool) -> None:
        for name, (old, new) in payload.items():
            expected, target = (new, old) if reverse else (old, new)
            if name.startswith("counters."):
                if not reverse:
                    self.raise_counter(name.split(".", 1)[1], int(target))
                continue
            if name.startswith("settings."):
                setting = name.split(".", 1)[1]
                if self.setting(setting, None) != expected:
                    raise ChangeConflict(
                        f"Cannot undo: the setting {setting} has changed since; undo the later change first.",
                        META,
                        1,
                        name,
                    )
                self.set_setting(setting, target)
                continue
            if self.meta.get(name) != expected:
                raise ChangeConflict(f"Cannot undo: the plan's {name} has changed since.", META, 1, name)
            self.meta[name] = target
            self._record(["update", META, 1, {name: [expected, target]}])

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
        self._db = TrackerDB(data, storage=HeldStorage)
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
            self._table(HISTORY).insert(Document(entry, doc_id=txn))
        meta["txn"] = txn
        meta["updated_at"] = stamp
        try:
            like: os.stat_result | None = self.paths.store.stat()
        except FileNotFoundError:
            like = None
        written: list[Path] = []
        with _commit_signals() as interrupted:
            try:
                try:
                    self._write_blobs(txn, like, written)
                    self._replace_store(encode(self.data), like, interrupted)
                except BaseException:
                    for path in written:  # nothing refers to them: leave the folder as it was
                        path.unlink(missing_ok=True)
                    raise
            except OSError as exc:
                raise _write_failed(self.paths.store, exc) from None
        _write_highwater(self.paths, txn, meta.get("counters", {}), like)
        self._base_txn, self._base_saved, self._base_damaged = txn, stamp, False
        self._new_snapshots.clear()
        self._dirty_segments.clear()
        with suppress(OSError, ValueError):  # pruning is housekeeping: the commit has already landed
            _prune_backups(self.paths, read_setting_or_default(meta.get("settings", {}), "backups"))

    def _replace_store(self, payload: bytes, like: os.stat_result | None, interrupted: Callable[[], bool]) -> None:
        """Keep the current version, then rename the new one over it (the commit point)."""
        kept: Path | None = None
        new_kept = False
        self.last_kept = None
        if like is not None:
            saved = _parse_stamp(self._base_saved)
            if self._base_damaged:
                kept, new_kept = _keep_damaged(self.paths, _now(), like), True
            else:
                kept, new_kept = _keep_backup(self.paths, self._base_txn, saved, like)
        try:
            tmp = _write_temp(self.paths.store, payload, like)
            try:
                if interrupted():
                    raise KeyboardInterrupt
                _os_replace(tmp, self.paths.store)
            except BaseException:
                tmp.unlink(missing_ok=True)
                raise
        except BaseException:
            if kept is not None and new_kept:
                kept.unlink(missing_ok=True)
            raise
        try:
            _fsync_dir(self.paths.store.parent)
        except BaseException:
            # The new version may not be on disk: put the old one back, so that an
            # error always means nothing was saved.
            if kept is not None:
                with suppress(OSError):
                    if new_kept:
                        os.replace(kept, self.paths.store)
                    else:
                        _os_link_back(kept, self.paths.store)
            else:
                self.paths.store.unlink(missing_ok=True)
            with suppress(OSError):
                _fsync_dir(self.paths.store.parent)
            raise
        self.last_kept = kept

    def _write_blobs(self, txn: int, like: os.stat_result | None, written: list[Path]) -> None:
        """Seal full tails and rewrite changed segments as new immutable files."""
        meta = self.meta
        segments = meta.setdefault("segments", {})
        for table in SEGMENTED:
            entries = segments.setdefault(table, [])
            for entry in entries:
                if entry["file"] in self._dirty_segments:
                    rows = self._segment_cache[entry["file"]]
                    new_name = segment_name(table, entry["first"], entry["last"], txn)
                    self._write_blob(self.paths.segments, new_name, {table: rows}, like, written)
                    self._segment_cache[new_name] = rows
                    entry["file"], entry["rows"] = new_name, len(rows)
            tail = self.data.get(table, {})
            ids = _rows_to_seal(table, tail)
            if ids:
                first, last = int(ids[0]), int(ids[-1])
                rows = {key: tail[key] for key in ids}
                name = segment_name(table, first, last, txn)
                self._write_blob(self.paths.segments, name, {table: rows}, like, written)
                entries.append({"file": name, "first": first, "last": last, "rows": len(rows)})
                self._table(table).remove(doc_ids=[int(k) for k in ids])
                self._segment_cache[name] = rows
        for name, snapshot in self._new_snapshots.items():
            self._write_blob(self.paths.snapshots, name, snapshot, like, written)

    def _write_blob(
        self, directory: Path, name: str, content: dict[str, Any], like: os.stat_result | None, written: list[Path]
    ) -> None:
        _make_dir(directory, like)
        target = directory / name
        if not target.exists():  # a name already there was written by an earlier, committed txn
            written.append(target)
        atomic_write(target, encode(content), like)

    # -- housekeeping -------------------------------------------------------------

    def remove_stale_temp_files(self) -> list[Path]:
        """Delete temporary files left by writers that were killed (the lock is held,
        so no writer is using them). Returns what was removed."""
        if not self.writable:
            raise RuntimeError("This store was opened read-only.")
        removed = []
        for path in stale_temp_files(self.paths):
            with suppress(FileNotFoundError):
                path.unlink()
                removed.append(path)
        return removed

    # -- restore -------------------------------------------------------------------

    @classmethod
    def restore(
        cls, path: Path, backup: Backup | None, *, by: str, lock_timeout: float = DEFAULT_LOCK_TIMEOUT
    ) -> Restored:
        """Put a backup back as the store, under the lock, without ever going backwards.

        What it replaces is kept first: a readable store as an ordinary backup, a
        damaged one under a ``-damaged-`` name. The restored store gets a txn
        number above every one used before, id counters at least as high as any
        id handed out, and the history of everything since the backup (the audit
        trail only grows); the restore itself is one history entry whose changes
        turn the replaced plan into the restored one.
        """
        paths = StorePaths(path)
        lock = cls._acquire(paths, lock_timeout)
        try:
            if backup is None:
                backup = newest_good_backup(paths)
                if backup is None:
                    raise NotFoundError(f"No good backup of {path} to restore (looked in {paths.backups}).")
            try:
                data = _check(backup.path.read_bytes())
            except OSError as exc:
                raise TrackerError(f"Could not read the backup {backup.path} ({exc.strerror or exc}).") from None
            except _Invalid as problem:
                raise CorruptStoreError(
                    f"The backup {backup.path} cannot be restored: it {problem.rest.strip().removeprefix('is ')} "
                    "Choose another with kt backup list."
                ) from None
            migrate(data, backup.path)
            restored = cls(paths, data, writable=True, lock=lock)
            restored._check_blobs(f"The backup {backup.path}")
            backup_txn = restored.txn

            current: Store | None = None
            raw: bytes | None = None
            with suppress(FileNotFoundError):
                raw = path.read_bytes()
            if raw is not None:
                try:
                    current_data = _check(raw)
                    migrate(current_data, path)
                    current = cls(paths, current_data, writable=False)
                except (_Invalid, TrackerError):
                    current = None
            damaged = raw is not None and current is None

            # Numbers never go backwards.
            hw_txn, hw_counters = read_highwater(paths)
            salvaged_txn, salvaged_counters = salvage_numbers(raw) if damaged and raw is not None else (0, {})
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
            base = max(current_txn, hw_txn, _blob_txns(paths), backup_txn)

            # The audit trail only grows: keep every history entry written since the backup.
            changes: list[list[Any]] = []
            if current is not None:
                carried = list(current.recent_rows(HISTORY))
                with suppress(TrackerError):  # a missing segment: carry what plan.json holds
                    carried = list(current.rows(HISTORY, since_id=backup_txn))
                for txn_id, row in sorted(carried):
                    if txn_id > backup_txn and restored.row(HISTORY, txn_id) is None:
                        restored._insert_row(HISTORY, txn_id, row)
                        base = max(base, txn_id)
                with suppress(TrackerError):
                    changes = _diff(current, restored)

            restored.meta["counters"] = counters
            restored.meta["txn"] = base
            restored._base_txn = current.txn if current else 0
            restored._base_saved = current._base_saved if current else ""
            restored._base_damaged = damaged
            restored._pending = changes
            detail: dict[str, Any] = {
                "backup": backup.name,
                "backup_txn": backup_txn,
                "replaced": "damaged" if damaged else ("missing" if raw is None else current_txn),
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
            )
        finally:
            lock.release()

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


def _read_blob(store: Path, path: Path, kind: str) -> dict[str, Any]:
    try:
        content = decode(path.read_bytes())
    except FileNotFoundError:
        raise CorruptStoreError(f"The store {store} refers to {path}, which is missing. Run kt doctor.") from None
    except PermissionError:
        raise TrackerError(f"Permission denied reading {path}: ask the store's owner for access.") from None
    except (ValueError, UnicodeDecodeError):
        raise CorruptStoreError(f"The {kind} file {path} is damaged. Run kt doctor.") from None
    if not isinstance(content, dict):
        raise CorruptStoreError(f"The {kind} file {path} is damaged. Run kt doctor.")
    return content


def _parse_stamp(stamp: str) -> datetime:
    try:
        moment = datetime.fromisoformat(stamp)
    except ValueError:
        return _now()
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


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


# ---------------------------------------------------------------------------
# Checks used by kt doctor (files only; the plan's own rules live in the service).


def stale_temp_files(paths: StorePaths) -> list[Path]:
    """Temporary files left behind by writers that were killed mid-write."""
    found: list[Path] = []
    prefix = f".{paths.store.name}."
    with suppress(OSError):
        for name in os.listdir(paths.store.parent):
            if name.startswith(prefix) and _TEMP_NAME.fullmatch(name):
                found.append(paths.store.parent / name)
    for folder in (paths.segments, paths.snapshots, paths.backups):
        with suppress(OSError):
            found.extend(folder / name for name in os.listdir(folder) if _TEMP_NAME.fullmatch(name))
    return sorted(found)


def probe(path: Path) -> tuple[dict[str, Any] | None, TrackerError | None]:
    """Read a store for checking: its data, or the error any command would give."""
    try:
        return read_store_file(path), None
    except TrackerError as exc:
        return None, exc


def check_files(store: Store) -> list[Problem]:
    """Segments, snapshots, counters, temporary files and permissions of an open store."""
    problems: list[Problem] = []
    paths = store.paths
    problems += _check_segments(store)
    problems += _check_snapshots(store)
    counters = store.meta.get("counters", {})
    for table in store.tables():
        if table == HISTORY:
            highest = max((i for i, _ in store.rows(HISTORY)), default=0)
            if store.txn < highest:
                problems.append(
                    Problem(
                        "problem",
                        f"The txn counter ({store.txn}) is below the newest history entry ({highest}).",
                        "Run kt doctor --fix to move it up.",
                        fixable=True,
                    )
                )
            continue
        try:
            highest = max((i for i, _ in store.rows(table)), default=0)
        except TrackerError:
            continue  # reported with the segments
        if int(counters.get(table, 0)) < highest:
            problems.append(
                Problem(
                    "problem",
                    f"The id counter for {table} ({int(counters.get(table, 0))}) is below its highest id "
                    f"({ref_of(table, highest)}), so an id could be handed out twice.",
                    "Run kt doctor --fix to move the counter up.",
                    fixable=True,
                )
            )
    for tmp in stale_temp_files(paths):
        problems.append(
            Problem(
                "warning",
                f"{tmp} is a temporary file left by a write that was interrupted (the store itself is intact).",
                "Run kt doctor --fix to delete it.",
                fixable=True,
            )
        )
    problems += check_permissions(paths)
    return problems


def _check_segments(store: Store) -> list[Problem]:
    problems: list[Problem] = []
    for table in SEGMENTED:
        previous_last = 0
        for entry in store._segments(table):
            path = store.paths.segments / str(entry.get("file"))
            try:
                rows = store._load_segment(entry["file"])
            except TrackerError as exc:
                problems.append(
                    Problem(
                        "problem",
                        str(exc).removesuffix(" Run kt doctor."),
                        "Put the file back from your file backups, or restore a version from before it "
                        "was sealed (kt backup list, kt restore NAME).",
                    )
                )
                continue
            ids = [int(k) for k in rows]
            if len(rows) != entry.get("rows") or any(not entry["first"] <= i <= entry["last"] for i in ids):
                problems.append(
                    Problem(
                        "problem",
                        f"The segment {path} does not hold the rows plan.json expects "
                        f"({entry.get('rows')} rows, ids {entry['first']} to {entry['last']}).",
                        "Restore a backup from before the damage (kt backup list, kt restore NAME).",
                    )
                )
            if entry["first"] <= previous_last:
                problems.append(
                    Problem(
                        "problem",
                        f"The segment {path} overlaps the one before it.",
                        "Restore a backup (kt backup list, kt restore NAME).",
                    )
                )
            previous_last = max(previous_last, entry["last"])
        clash = [
            int(k)
            for k in store.data.get(table, {})
            if int(k) <= previous_last and k in _segment_ids(store, table, int(k))
        ]
        if clash:
            problems.append(
                Problem(
                    "problem",
                    f"{ref_of(table, clash[0])} is both in plan.json and in a sealed segment.",
                    "Restore a backup (kt backup list, kt restore NAME).",
                )
            )
    return problems


def _segment_ids(store: Store, table: str, record_id: int) -> set[str]:
    for entry in store._segments(table):
        if entry["first"] <= record_id <= entry["last"]:
            with suppress(TrackerError):
                return set(store._load_segment(entry["file"]))
    return set()


def _check_snapshots(store: Store) -> list[Problem]:
    problems: list[Problem] = []
    folder = store.paths.snapshots
    referenced: set[str] = set()
    try:
        for _, row in store.rows("boards"):
            name = row.get("snapshot_file")  # what Store.save_snapshot returned
            if isinstance(name, str) and name and name_problem("snapshot", name) is None:
                referenced.add(name)  # a name kt would not write is reported by the service's doctor
    except TrackerError:
        pass
    present: set[str] = set()
    with suppress(OSError):
        present = {n for n in os.listdir(folder) if not _TEMP_NAME.fullmatch(n)}
    for name in sorted(referenced - present):
        problems.append(
            Problem(
                "problem",
                f"A board refers to the snapshot {folder / name}, which is missing.",
                "Put the file back from your file backups; board snapshots cannot be rebuilt.",
            )
        )
    for name in sorted(present):
        try:
            _read_blob(store.paths.store, folder / name, "snapshot")
        except TrackerError as exc:
            problems.append(
                Problem(
                    "problem",
                    str(exc).removesuffix(" Run kt doctor."),
                    "Put the file back from your file backups; board snapshots cannot be rebuilt.",
                )
            )
    return problems


def check_permissions(paths: StorePaths) -> list[Problem]:
    """The store must not be open to everyone; a group-shared store needs its folder,
    lock and files shared with the same group."""
    problems: list[Problem] = []
    try:
        st = paths.store.stat()
    except OSError:
        return problems
    mode = stat.S_IMODE(st.st_mode)
    store_name = paths.store
    if mode & 0o002:
        problems.append(
            Problem(
                "problem",
                f"Anyone on this computer can change {store_name} (mode {mode:04o}).",
                f"chmod o-rwx {store_name}",
            )
        )
    elif mode & 0o004:
        problems.append(
            Problem(
                "warning",
                f"Anyone on this computer can read {store_name} (mode {mode:04o}).",
                f"chmod o-rwx {store_name}",
            )
        )
    if not os.access(paths.store, os.R_OK | os.W_OK):
        problems.append(
            Problem(
                "warning",
                f"You cannot change {store_name}: write commands will fail for you.",
                "Ask the store's owner to add you to its group (see the README on shared stores).",
            )
        )
    if not mode & 0o060:
        return problems
    group = _group_name(st.st_gid)
    problems += _check_parent(paths, st, group)
    need_dir = 0o070 if mode & 0o020 else 0o050
    need_file = 0o060 if mode & 0o020 else 0o040
    bad: list[Path] = []
    for folder in paths.folders:
        with suppress(FileNotFoundError):
            fst = folder.stat()
            if fst.st_gid != st.st_gid or stat.S_IMODE(fst.st_mode) & need_dir != need_dir:
                bad.append(folder)
            for name in os.listdir(folder) if folder != paths.aux else ["lock", "highwater.json"]:
                child = folder / name
                with suppress(FileNotFoundError):
                    cst = child.stat()
                    if not stat.S_ISREG(cst.st_mode):
                        continue
                    need = need_file if folder == paths.aux else need_file & 0o040
                    if cst.st_gid != st.st_gid or stat.S_IMODE(cst.st_mode) & need != need:
                        bad.append(child)
    if bad:
        shown = ", ".join(str(p) for p in bad[:3]) + (f" and {len(bad) - 3} more" if len(bad) > 3 else "")
        problems.append(
            Problem(
                "problem",
                f"{store_name} is shared with the group {group}, but {shown} "
                f"{'is' if len(bad) == 1 else 'are'} not, so other members cannot use the store.",
                f"Run kt doctor --fix as the owner, or: chgrp -R {group} {paths.aux} && "
                f"chmod -R g+rwX {paths.aux} && find {paths.aux} -type d -exec chmod g+s {{}} +",
                fixable=True,
            )
        )
    return problems


def _check_parent(paths: StorePaths, st: os.stat_result, group: str) -> list[Problem]:
    """Saving renames a new file into the store's folder: group members must be able to."""
    if not st.st_mode & 0o020:
        return []
    folder = paths.store.parent.resolve()
    try:
        fst = folder.stat()
    except OSError:
        return []
    problems: list[Problem] = []
    if fst.st_gid != st.st_gid or stat.S_IMODE(fst.st_mode) & 0o030 != 0o030:
        problems.append(
            Problem(
                "problem",
                f"{paths.store} is shared with the group {group}, but its folder {folder} is not writable by "
                "that group, so other members cannot save.",
                f"chgrp {group} {folder} && chmod g+rwxs {folder}",
            )
        )
    if fst.st_mode & stat.S_ISVTX:
        problems.append(
            Problem(
                "problem",
                f"The folder {folder} has the sticky bit (like /tmp), so members cannot replace a store "
                "another member saved last.",
                f"chmod o-t {folder}, or keep the store in a folder of its own.",
            )
        )
    return problems


def fix_permissions(paths: StorePaths) -> list[Path]:
    """Share the store's folder, lock and files with the store's group (what this user owns)."""
    try:
        st = paths.store.stat()
    except OSError:
        return []
    mode = stat.S_IMODE(st.st_mode)
    if not mode & 0o060:
        return []
    fixed: list[Path] = []
    dir_bits = _dir_mode(st) & 0o2070
    file_bits = mode & 0o060
    for folder in paths.folders:
        items = [folder]
        with suppress(OSError):
            names = os.listdir(folder) if folder != paths.aux else ["lock", "highwater.json"]
            items += [folder / n for n in names if (folder / n).is_file()]
        for item in items:
            with suppress(OSError):
                ist = item.stat()
                if ist.st_uid != os.geteuid():
                    continue
                bits = dir_bits if item.is_dir() else (file_bits if folder == paths.aux else file_bits & 0o040)
                changed = False
                if ist.st_gid != st.st_gid:
                    os.chown(item, -1, st.st_gid)
                    changed = True
                if stat.S_IMODE(ist.st_mode) & bits != bits:
                    os.chmod(item, stat.S_IMODE(ist.st_mode) | bits)
                    changed = True
                if changed:
                    fixed.append(item)
    return fixed


def _group_name(gid: int) -> str:
    try:
        import grp

        return grp.getgrgid(gid).gr_name
    except (ImportError, KeyError):
        return str(gid)


def _row_weight(table: str, row: dict[str, Any]) -> int:
    # A history row holds every change one command made (an import can make
    # thousands), so history is sealed by changes, not rows, keeping plan.json small.
    return max(1, len(row.get("changes") or ())) if table == HISTORY else 1


def _rows_to_seal(table: str, tail: dict[str, Any]) -> list[str]:
    """The oldest rows to move into a new segment: none until the tail holds twice
    SEGMENT_ROWS (by weight), then the oldest rows weighing at least SEGMENT_ROWS."""
    weights = {key: _row_weight(table, row) for key, row in tail.items()}
    if sum(weights.values()) < 2 * SEGMENT_ROWS:
        return []
    chosen: list[str] = []
    total = 0
    for key in sorted(tail, key=int):
        chosen.append(key)
        total += weights[key]
        if total >= SEGMENT_ROWS:
            break
    return chosen


def _noun(cls: type[Record]) -> str:
    return {
        "FocusArea": "focus area",
        "LogEntry": "log entry",
        "KpiValue": "KPI value",
        "Kpi": "KPI",
    }.get(cls.__name__, cls.__name__.lower())


def table_class(name: str) -> type[Record] | None:
    return TABLES.get(name)
