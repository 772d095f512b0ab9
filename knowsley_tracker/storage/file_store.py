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

The folders may be writable by every member of a shared store's group, so all
of this goes through safe_files.py (:class:`StoreFolders`): each folder opened
once per operation and never through a link, temporary files created
exclusively under unguessable names, modes and groups set on descriptors. A
link, a pipe or a second name (hard link) where a store file should be is
refused before anything changes (UnsafeStoreError, exit 13); kt's own backups
are the only second names it allows, and only for the live store.
"""

from __future__ import annotations

import errno
import json
import os
import re
import shutil
import stat
from collections.abc import Callable, Iterator, MutableMapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import orjson
from tinydb import Storage, TinyDB
from tinydb.table import Document, Table

from knowsley_tracker import commit_point
from knowsley_tracker import safe_files as sf
from knowsley_tracker.config import SETTINGS, read_setting_or_default
from knowsley_tracker.errors import (
    ConflictError,
    CorruptStoreError,
    NotFoundError,
    StoreLockedError,
    StoreMissingError,
    StoreWriteError,
    TrackerError,
    UnsafeStoreError,
)
from knowsley_tracker.filenames import name_problem, require_stored_name, segment_name, snapshot_name
from knowsley_tracker.locking import FileLock, LockTimeout, LockUnsafe, LockUnsupported
from knowsley_tracker.models import Record, require_dates_in_range
from knowsley_tracker.store_interface import HISTORY as HISTORY
from knowsley_tracker.store_interface import META as META
from knowsley_tracker.store_interface import Change, Condition, Txn
from knowsley_tracker.store_interface import ChangeConflict as ChangeConflict
from knowsley_tracker.store_rows import (
    change_from_list,
    change_to_list,
    not_found,
    row_test,
    touches,
    txn_from_row,
)
from knowsley_tracker.store_rows import ref_of as ref_of

R = TypeVar("R", bound=Record)

FORMAT = "knowsley-tracker"
SCHEMA_VERSION = 1
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
_TEMP_NAME = re.compile(r"\..+\.[0-9a-f]+\.tmp")  # .plan.json.3f9c0a1be24d7c55.tmp (older kt: a pid)

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
# The store's folders and low-level file writes. Tests replace the _os_* names
# to inject faults.
#
# Other members of a shared store's group can create, rename and delete entries
# in its folders, so every file here is reached through safe_files: relative to
# a folder descriptor opened once per operation, never through a link, new files
# created exclusively under unpredictable names, modes set on descriptors.

_os_write = os.write
_os_fsync = os.fsync
_os_replace = os.replace
_os_link = os.link

SUBFOLDERS = ("segments", "snapshots", "backups")


class StoreFolders:
    """The folder holding ``plan.json`` and the folders beside it, each opened at most once
    (never through a link) and all closed together: ``with StoreFolders(paths) as f:``."""

    def __init__(self, paths: StorePaths) -> None:
        self.paths = paths
        self._root: sf.Folder | None = None
        self._open: dict[str, sf.Folder | None] = {}

    def __enter__(self) -> StoreFolders:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        for folder in self._open.values():
            if folder is not None:
                folder.close()
        self._open.clear()
        if self._root is not None:
            self._root.close()
            self._root = None

    @property
    def store_name(self) -> str:
        return self.paths.store.name

    def root(self) -> sf.Folder:
        """The folder the user named the store in (links on the user's own path are theirs)."""
        if self._root is None:
            self._root = sf.open_root(self.paths.store.parent)
        return self._root

    def aux(self, like: os.stat_result | None = None, *, create: bool = False) -> sf.Folder | None:
        """``plan.json.d``; made (with the store's group and a mode that follows it) when asked."""
        return self._folder("", like, create)

    def sub(self, name: str, like: os.stat_result | None = None, *, create: bool = False) -> sf.Folder | None:
        """``segments``, ``snapshots`` or ``backups`` inside ``plan.json.d``."""
        return self._folder(name, like, create)

    def _folder(self, name: str, like: os.stat_result | None, create: bool) -> sf.Folder | None:
        found = self._open.get(name)
        if found is not None or (name in self._open and not create):
            return found
        parent = self.root() if not name else self.aux(like, create=create)
        if parent is None:
            self._open[name] = None
            return None
        folder = sf.open_folder(
            parent,
            name or self.paths.aux.name,
            create_mode=_dir_mode(like) if create else None,
            gid=like.st_gid if like is not None else None,
        )
        self._open[name] = folder
        return folder

    def store_stat(self) -> os.stat_result | None:
        """What is at ``plan.json`` (None when nothing); a link there is refused."""
        st = sf.entry_stat(self.root(), self.store_name)
        if st is not None and stat.S_ISLNK(st.st_mode):
            target = None
            with suppress(OSError):
                target = os.readlink(self.store_name, dir_fd=self.root().fd)
            raise UnsafeStoreError(sf.link_message(self.paths.store, target))
        return st

    def backup_names_of(self, st: os.stat_result) -> list[str]:
        """Names in the backups folder that are the same file as ``st``."""
        backups = self.sub("backups")
        if backups is None:
            return []
        found = []
        for name in sf.names(backups):
            if _BACKUP_NAME.fullmatch(name) or _DAMAGED_NAME.fullmatch(name):
                other = sf.entry_stat(backups, name)
                if other is not None and (other.st_dev, other.st_ino) == (st.st_dev, st.st_ino):
                    found.append(name)
        return found

    def kt_names(self, st: os.stat_result) -> int:
        """How many of a file's names kt made: the live store and its backups may share a file
        (a backup is a hard link to the version it keeps), nothing else kt writes does."""
        store = sf.entry_stat(self.root(), self.store_name)
        same_as_store = store is not None and (store.st_dev, store.st_ino) == (st.st_dev, st.st_ino)
        return int(same_as_store) + len(self.backup_names_of(st))

    def check_one_name(self, st: os.stat_result, where: Path) -> None:
        """Refuse a file with a name kt did not make: a hard link from elsewhere (a second path
        to the store would be a second store with its own lock; a planted one is a foreign file)."""
        if st.st_nlink > 1 and self.kt_names(st) < st.st_nlink:
            raise UnsafeStoreError(sf.hard_link_message(where, st.st_nlink))


def _file_mode(like: os.stat_result | None) -> int:
    return stat.S_IMODE(like.st_mode) & 0o777 if like is not None else 0o600


def _group(like: os.stat_result | None) -> int | None:
    return like.st_gid if like is not None else None


def _write_new(folder: sf.Folder, name: str, payload: bytes, like: os.stat_result | None) -> str:
    """A fsynced temporary file beside ``name`` with the mode and group of ``like`` (the file it
    will replace, or the store), so a group-shared store stays shared; otherwise 0600."""
    return sf.write_temp(folder, name, payload, _file_mode(like), _group(like), write=_os_write, fsync=_os_fsync)


def _atomic_write(folder: sf.Folder, name: str, payload: bytes, like: os.stat_result | None) -> None:
    """Write ``payload`` to a temporary file, fsync it, rename it over ``name``, fsync the folder."""
    sf.atomic_write(
        folder, name, payload, _file_mode(like), _group(like), write=_os_write, fsync=_os_fsync, rename=_os_replace
    )


def _write_failed(path: Path, exc: OSError) -> StoreWriteError:
    reason = exc.strerror or str(exc)
    return StoreWriteError(f"Could not save {path} ({reason}); the store is unchanged and nothing was lost.")


def _dir_mode(like: os.stat_result | None) -> int:
    """Folders follow the store: private (0700), or group-shared with setgid so new files keep
    the group, and the sticky bit where the group may write, so that no member can rename or
    delete another member's lock, backups or history."""
    if like is not None and like.st_mode & 0o070:
        return 0o3770 if like.st_mode & 0o020 else 0o2750
    return 0o700


def _share_like(f: StoreFolders, like: os.stat_result) -> None:
    """Open the store's folders and lock file to its group when the store itself is
    group-shared (only ever adds permissions; skips what this user does not own, links
    and files with other names)."""
    group_bits = like.st_mode & 0o060
    if not group_bits:
        return
    wanted_dir = _dir_mode(like)
    with suppress(OSError, TrackerError):
        aux = f.aux()
        if aux is None:
            return
        sf.add_bits(f.root(), f.paths.aux.name, wanted_dir, like.st_gid, directory=True)
        for name in SUBFOLDERS:
            sf.add_bits(aux, name, wanted_dir, like.st_gid, directory=True)
        for name in (f.paths.lock.name, f.paths.highwater.name):
            sf.add_bits(aux, name, group_bits, like.st_gid, directory=False)


def _lock_failed(paths: StorePaths, exc: OSError) -> TrackerError:
    if isinstance(exc, PermissionError):
        return TrackerError(f"Permission denied locking {paths.lock}: ask the store's owner for access.")
    if exc.errno in (errno.EROFS, errno.ENOSPC, errno.EDQUOT, errno.EIO, errno.EMFILE, errno.ENFILE):
        return _write_failed(paths.store, exc)
    return TrackerError(f"Could not lock {paths.lock} ({exc.strerror or exc}); nothing was saved.")


def _refuse_planted(f: StoreFolders, aux: sf.Folder) -> None:
    """Before a writer changes anything: a link (or a second name, or something that is not
    a file) where kt keeps the store, its high-water file or folders stops it, naming what
    was found."""
    store = f.store_stat()  # a symbolic link is refused here
    if store is not None and not stat.S_ISDIR(store.st_mode):
        if not stat.S_ISREG(store.st_mode):
            raise UnsafeStoreError(
                f"{f.paths.store} is not a plain file (a pipe, socket or device); nothing was read or written."
            )
        f.check_one_name(store, f.paths.store)
    for name in (f.paths.highwater.name, *SUBFOLDERS):
        st = sf.entry_stat(aux, name)
        if st is None:
            continue
        where = aux / name
        if stat.S_ISLNK(st.st_mode):
            target = None
            with suppress(OSError):
                target = os.readlink(name, dir_fd=aux.fd)
            raise UnsafeStoreError(sf.link_message(where, target))
        expected_dir = name in SUBFOLDERS
        if expected_dir != stat.S_ISDIR(st.st_mode) or not (expected_dir or stat.S_ISREG(st.st_mode)):
            kind = "folder" if expected_dir else "file"
            raise UnsafeStoreError(f"{where} is not the {kind} kt keeps there; nothing was read or written.")
        if not expected_dir and st.st_nlink != 1:
            raise UnsafeStoreError(sf.hard_link_message(where, st.st_nlink))


def _release(lock: FileLock, *, committed: bool, quiet: bool = False) -> None:
    """Let go of the lock; a failure to close the lock file is never a traceback."""
    try:
        lock.release()
    except OSError as exc:
        reason = exc.strerror or str(exc)
        if committed:
            commit_point.note(f"closing the lock file {lock.path} failed ({reason}); the lock was let go all the same")
        elif not quiet:
            raise TrackerError(f"Could not close the lock file {lock.path} ({reason}); nothing was saved.") from None


def check_store_entry(paths: StorePaths) -> None:
    """Refuse a missing store, a link at its name or a second name for it, without reading it."""
    path = paths.store
    try:
        with StoreFolders(paths) as f:
            st = f.store_stat()
            if st is None:
                raise FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), str(path))
            if stat.S_ISDIR(st.st_mode):
                raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), str(path))
            if not stat.S_ISREG(st.st_mode):
                raise UnsafeStoreError(
                    f"{path} is not a plain file (a pipe, socket or device); nothing was read or written."
                )
            f.check_one_name(st, path)
    except FileNotFoundError:
        raise _missing(path) from None
    except (IsADirectoryError, NotADirectoryError):
        raise CorruptStoreError(f"{path} is a folder, not a store file.") from None
    except PermissionError:
        raise TrackerError(f"Permission denied reading {path}: ask its owner for access.") from None
    except OSError as exc:
        raise TrackerError(f"Could not read {path} ({exc.strerror or exc}).") from None


def _unsafe_lock(problem: LockUnsafe) -> UnsafeStoreError:
    where = Path(problem.path)
    if problem.what == "symbolic link":
        return UnsafeStoreError(sf.link_message(where, problem.target))
    if problem.what == "hard link":
        return UnsafeStoreError(sf.hard_link_message(where, 2).replace("2 names", "more than one name"))
    return UnsafeStoreError(f"{where} is not a plain file, where kt keeps its lock; nothing was read or written.")


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
    return validate_store_bytes(path, read_store_bytes(StorePaths(path))[0])


def read_store_bytes(paths: StorePaths, *, missing_ok: bool = False) -> tuple[bytes, os.stat_result | None]:
    """The bytes of ``plan.json`` as they are (maybe damaged) and the file's status, read
    without following a link and refused when the file has a name kt did not make.
    ``(b"", None)`` when there is no store and ``missing_ok``."""
    path = paths.store
    try:
        with StoreFolders(paths) as f:
            try:
                raw, st = sf.read_file(f.root(), f.store_name)
            except FileNotFoundError:
                if missing_ok:
                    return b"", None
                raise
            f.check_one_name(st, path)
            return raw, st
    except FileNotFoundError:
        raise _missing(path) from None
    except (IsADirectoryError, NotADirectoryError):
        raise CorruptStoreError(f"{path} is a folder, not a store file.") from None
    except PermissionError:
        raise TrackerError(f"Permission denied reading {path}: ask its owner for access.") from None
    except OSError as exc:
        raise TrackerError(f"Could not read {path} ({exc.strerror or exc}).") from None


def _missing(path: Path) -> StoreMissingError:
    try:
        backup = newest_good_backup(StorePaths(path))
    except TrackerError:  # the backups folder is a link: kt doctor says so
        backup = None
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
    try:
        backup = newest_good_backup(StorePaths(path))
    except TrackerError:  # the backups folder is a link: kt doctor says so
        backup = None
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

    @property
    def store_paths(self) -> StorePaths:
        """The store this backup belongs to (``plan.json.d/backups/NAME`` -> ``plan.json``)."""
        aux = self.path.parent.parent
        return StorePaths(aux.with_name(aux.name.removesuffix(".d")))


def _stamp_name(when: datetime) -> str:
    return f"{when.astimezone(UTC):%Y%m%dT%H%M%SZ}"


def _scan_backups(
    paths: StorePaths, pattern: re.Pattern[str], make: Callable[[Path, re.Match[str]], Backup]
) -> list[Backup]:
    """Regular files in the backups folder whose names match; links are left for kt doctor."""
    try:
        with StoreFolders(paths) as f:
            backups = f.sub("backups")
            if backups is None:
                return []
            entries = list(os.scandir(backups.fd))
    except (FileNotFoundError, NotADirectoryError):
        return []
    return [
        make(paths.backups / entry.name, m)
        for entry in entries
        if (m := pattern.fullmatch(entry.name)) and entry.is_file(follow_symlinks=False)
    ]


def _saved_at(stamp: str) -> datetime:
    return datetime.strptime(stamp, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)


def list_backups(paths: StorePaths) -> list[Backup]:
    """Backups of ``plan.json``, newest first."""
    found = _scan_backups(paths, _BACKUP_NAME, lambda path, m: Backup(path, int(m[1]), _saved_at(m[2])))
    found.sort(key=lambda b: (b.txn, b.saved, b.name), reverse=True)
    return found


def list_damaged(paths: StorePaths) -> list[Backup]:
    """Damaged stores that kt restore kept aside, newest first (never pruned)."""
    found = _scan_backups(paths, _DAMAGED_NAME, lambda path, m: Backup(path, 0, _saved_at(m[1]), damaged=True))
    found.sort(key=lambda b: (b.saved, b.name), reverse=True)
    return found


def remove_store(path: Path) -> None:
    """Delete a store and its folder for good (the example and benchmark builders use it
    to rebuild; no kt command deletes a store). rmtree never follows links."""
    path.unlink(missing_ok=True)
    shutil.rmtree(StorePaths(path).aux, ignore_errors=True)


def read_backup(backup: Backup) -> bytes:
    """A backup's bytes, read without following a link; refused (UnsafeStoreError) when the
    file has a name kt did not make."""
    with StoreFolders(backup.store_paths) as f:
        backups = f.sub("backups")
        if backups is None:
            raise FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), str(backup.path))
        raw, st = sf.read_file(backups, backup.name)
        f.check_one_name(st, backup.path)
        return raw


def backup_problem(backup: Backup) -> str | None:
    """Why a backup cannot be restored (None when it is good)."""
    try:
        raw = read_backup(backup)
    except UnsafeStoreError:
        return "is a link or has other names on disk, so kt did not make it (see kt doctor)"
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


def _keep_link(f: StoreFolders, base: str, like: os.stat_result) -> str:
    """Keep ``plan.json`` in the backups folder under a new name (``base.json``, else
    ``base-1.json``...): a hard link costs nothing, a copy where links fail. Never over
    an existing name. Returns the name."""
    backups = f.sub("backups", like, create=True)
    assert backups is not None
    root = f.root()
    for n in range(1000):
        name = f"{base}.json" if n == 0 else f"{base}-{n}.json"
        try:
            sf.link(root, f.store_name, backups, name, _os_link)
            return name
        except FileExistsError:
            continue
        except OSError:
            break  # this filesystem cannot link (or not this file): copy instead
    raw, _ = sf.read_file(root, f.store_name)
    tmp = _write_new(backups, base, raw, like)
    try:
        for n in range(1000):
            name = f"{base}.json" if n == 0 else f"{base}-{n}.json"
            if sf.entry_stat(backups, name) is None:
                sf.replace(backups, tmp, name, _os_replace)
                return name
        raise FileExistsError(errno.EEXIST, os.strerror(errno.EEXIST), str(backups / base))
    except BaseException:
        sf.remove(backups, tmp)
        raise


def _keep_backup(f: StoreFolders, txn: int, saved: datetime, like: os.stat_result) -> tuple[str, bool]:
    """Keep the current plan.json as a backup; returns its name and whether it is new (a writer
    killed after linking may already have kept this very version)."""
    base = f"{f.paths.store.stem}-t{txn:06d}-{_stamp_name(saved)}"
    backups = f.sub("backups", like, create=True)
    assert backups is not None
    existing = sf.entry_stat(backups, f"{base}.json")
    if (
        existing is not None
        and stat.S_ISREG(existing.st_mode)
        and (existing.st_dev, existing.st_ino)
        == (
            like.st_dev,
            like.st_ino,
        )
    ):
        return f"{base}.json", False
    return _keep_link(f, base, like), True


def _keep_damaged(f: StoreFolders, when: datetime, like: os.stat_result) -> str:
    return _keep_link(f, f"{f.paths.store.stem}-damaged-{_stamp_name(when)}", like)


def _put_back(f: StoreFolders, kept: str, *, still_kept: bool) -> None:
    """Make the backup ``kept`` the store again after a failed commit; with ``still_kept``
    the backup stays too (it was there before this commit)."""
    backups = f.sub("backups")
    assert backups is not None
    root = f.root()
    if not still_kept:
        os.replace(kept, f.store_name, src_dir_fd=backups.fd, dst_dir_fd=root.fd)
        return
    for _ in range(16):
        tmp = sf.temp_name(f.store_name)
        try:
            sf.link(backups, kept, root, tmp)
            break
        except FileExistsError:
            continue
    else:
        return
    try:
        sf.replace(root, tmp, f.store_name)
    finally:
        sf.remove(root, tmp)


def _prune_backups(f: StoreFolders, keep: int) -> None:
    """Delete the oldest backups beyond ``keep``. Names with other links (kt never makes
    them, except while a backup is the live store) and other members' backups in a sticky
    folder are left."""
    backups = f.sub("backups")
    if backups is None:
        return
    for old in list_backups(f.paths)[max(keep, 1) :]:
        with suppress(OSError):
            st = sf.entry_stat(backups, old.name)
            if st is None or not stat.S_ISREG(st.st_mode) or st.st_nlink > 1:
                continue
            sf.remove(backups, old.name)


# ---------------------------------------------------------------------------
# High-water mark: the highest txn and ids ever handed out, kept beside the
# store so that restoring over a damaged plan.json never reuses an id. It is a
# hint, written after each commit without fsync: a lost or stale copy only
# means restore falls back to what it can read from the damaged file. It is
# written in place (members of a sticky folder cannot replace each other's
# files), so it is opened without following a link and used only when it is a
# plain file of one name.


def _read_highwater(f: StoreFolders) -> tuple[int, dict[str, int]]:
    try:
        aux = f.aux()
        if aux is None:
            return 0, {}
        raw, st = sf.read_file(aux, f.paths.highwater.name)
        if st.st_nlink != 1:
            return 0, {}
        data = json.loads(raw)
        txn = int(data.get("txn", 0))
        counters = {str(k): int(v) for k, v in dict(data.get("counters", {})).items()}
    except (OSError, ValueError, TypeError, AttributeError, TrackerError):
        return 0, {}
    return txn, counters


def read_highwater(paths: StorePaths) -> tuple[int, dict[str, int]]:
    with StoreFolders(paths) as f:
        return _read_highwater(f)


def _write_highwater(f: StoreFolders, txn: int, counters: dict[str, int], like: os.stat_result | None) -> None:
    old_txn, old_counters = _read_highwater(f)
    merged = dict(old_counters)
    for table, value in counters.items():
        merged[table] = max(int(value), merged.get(table, 0))
    payload = json.dumps({"txn": max(txn, old_txn), "counters": merged}, sort_keys=True).encode()
    with suppress(OSError, TrackerError):
        aux = f.aux()
        if aux is None:
            return
        name = f.paths.highwater.name
        try:
            fd, st = sf.open_file(aux, name, os.O_WRONLY)
        except FileNotFoundError:
            fd = sf.create_exclusive(aux, name)
            st = None
        try:
            if st is None:
                sf.set_mode(fd, _file_mode(like), _group(like))
            elif st.st_nlink != 1:
                return  # a second name kt did not make: never write through it
            os.ftruncate(fd, 0)
            sf.write_all(fd, payload)
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


def _blob_txns(f: StoreFolders) -> int:
    """The highest txn named by any segment, snapshot or backup file."""
    highest = 0
    for sub in ("segments", "snapshots"):
        with suppress(OSError):
            folder = f.sub(sub)
            for name in sf.names(folder) if folder is not None else []:
                m = _BLOB_TXN.fullmatch(name)
                if m:
                    highest = max(highest, int(m[1]))
    for backup in list_backups(f.paths):
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
    undone: tuple[Undone, ...] = ()  # commands saved after the backup, which the restore undid


@dataclass(frozen=True)
class Undone:
    """A command saved after the backup being restored: the restore undoes its changes
    (its history entry stays)."""

    txn: int
    by: str
    what: str


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
                    what=f"migrate store to schema {SCHEMA_VERSION}",
                    extra={"migrate": [version, SCHEMA_VERSION]},
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
                with StoreFolders(paths) as f:
                    if f.store_stat() is not None:
                        raise exists
                    # A store re-created where one was deleted carries on its txn numbering, so
                    # that its backups sort after the old store's and kt restore picks them first.
                    meta["txn"] = max(_read_highwater(f)[0], _blob_txns(f))
                    root = f.root()
                    tmp = _write_new(root, f.store_name, encode(data), None)
                    try:
                        sf.replace(root, tmp, f.store_name, _os_replace)
                    except BaseException:
                        sf.remove(root, tmp)
                        raise
                    try:
                        sf.fsync_folder(root, _os_fsync)
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
            raise not_found(cls, record_id)
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

    def count(self, cls: type[Record] | str, *where: Condition) -> int:
        """How many records of a kind (a record class or a table name) match every condition."""
        table = cls if isinstance(cls, str) else cls.TABLE
        if where:
            assert not isinstance(cls, str)
            test = row_test(cls, where)
            return sum(1 for _, row in self.rows(table) if test is None or test(row))
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
            content = _read_blob(self.paths, "segments", name, "segment")
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
            require_stored_name("snapshot", file_name, self.paths.store)
            cached = _read_blob(self.paths, "snapshots", file_name, "snapshot")
            self._snapshot_cache[file_name] = cached
        return cached

    # -- the rest of the PlanStore interface (store_interface.py) ---------------------

    @property
    def location(self) -> str:
        return str(self.paths.store)

    @property
    def created_at(self) -> str:
        return str(self.meta.get("created_at", ""))

    @property
    def schema_version(self) -> int:
        return int(self.meta.get("schema_version", SCHEMA_VERSION))

    def select(
        self,
        cls: type[R],
        *where: Condition,
        since_id: int = 0,
        newest_first: bool = False,
        limit: int | None = None,
    ) -> Iterator[R]:
        """Matching records, tested on the stored rows so that only matches are built."""
        test = row_test(cls, where)
        load = cls.from_record
        rows = self.rows_newest_first(cls.TABLE) if newest_first else self.rows(cls.TABLE, since_id)
        found = 0
        for record_id, row in rows:
            if record_id <= since_id:
                return  # newest first: the rest are older still
            if test is not None and not test(row):
                continue
            yield load(record_id, row)
            found += 1
            if limit is not None and found >= limit:
                return

    def count_by(self, cls: type[Record], field: str, *where: Condition) -> dict[Any, int]:
        test = row_test(cls, where)
        counts: dict[Any, int] = {}
        for _, row in self.rows(cls.TABLE):
            if test is None or test(row):
                value = row.get(field)
                counts[value] = counts.get(value, 0) + 1
        return counts

    def exists(self, cls: type[Record], record_id: int) -> bool:
        return self.row(cls.TABLE, record_id) is not None

    def highest_id(self, cls: type[Record]) -> int:
        return max((i for i, _ in self.rows(cls.TABLE)), default=0)

    def counters(self) -> dict[str, int]:
        return {str(k): int(v) for k, v in self.meta.get("counters", {}).items()}

    def settings(self) -> dict[str, Any]:
        return dict(self.meta.get("settings", {}))

    def set_created_at(self, stamp: str) -> None:
        self._require_transaction()
        old = self.meta.get("created_at")
        if old != stamp:
            self.meta["created_at"] = stamp
            self._record(["update", META, 1, {"created_at": [old, stamp]}])

    def pending_changes(self) -> list[Change]:
        return [change_from_list(c) for c in self._pending or []]

    def history(
        self,
        *,
        newest_first: bool = False,
        since_txn: int = 0,
        since: datetime | None = None,
        touching: tuple[str, int] | None = None,
    ) -> Iterator[Txn]:
        rows = self.rows_newest_first(HISTORY) if newest_first else self.rows(HISTORY, since_txn)
        for txn, row in rows:
            if txn <= since_txn:
                return  # newest first: the rest are older still
            if touching is not None and not touches(row, touching):
                continue
            if since is not None and _parse_stamp(str(row.get("at", ""))) < since:
                continue
            yield txn_from_row(txn, row)

    def history_entry(self, txn: int) -> Txn | None:
        row = self.row(HISTORY, txn)
        return None if row is None else txn_from_row(txn, row)

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
        with StoreFolders(self.paths) as f:
            # Ctrl-C is held from here: before the rename it abandons the write, after it the
            # command finishes and reports the save (commit_point).
            commit_point.hold_interrupts()
            try:
                like = self._commit_files(f, txn)
            except BaseException:
                commit_point.abandon()
                raise
            # The commit point has passed: the change is saved, whatever happens next.
            self._committed = True
            commit_point.saved(txn)
            _write_highwater(f, txn, meta.get("counters", {}), like)
            self._base_txn, self._base_saved, self._base_damaged = txn, stamp, False
            self._base_file = None
            with suppress(OSError):
                self._base_file = f.store_stat()
            self._new_snapshots.clear()
            self._dirty_segments.clear()
            with suppress(OSError, ValueError, TrackerError):  # housekeeping: the commit has already landed
                _prune_backups(f, read_setting_or_default(meta.get("settings", {}), "backups"))

    def _commit_files(self, f: StoreFolders, txn: int) -> os.stat_result | None:
        """Write the new segments and snapshots, then the store (its rename is the commit point).
        On failure the folders are left as they were. Returns the replaced store's status."""
        written: list[tuple[sf.Folder, str]] = []
        try:
            try:
                like = f.store_stat()
                if like is not None and self._base_file is not None:
                    self._check_unchanged(like)
                self._write_blobs(f, txn, like, written)
                self._replace_store(f, encode(self.data), like)
            except BaseException:
                for folder, name in written:  # nothing refers to them: leave the folder as it was
                    with suppress(OSError):
                        sf.remove(folder, name)
                raise
        except OSError as exc:
            raise _write_failed(self.paths.store, exc) from None
        return like

    def _check_unchanged(self, now: os.stat_result) -> None:
        """plan.json must still be the file read under the lock: a program that does not take
        kt's lock (or a member planting a link to a foreign file) swapped it otherwise."""
        base = self._base_file
        assert base is not None
        if (now.st_dev, now.st_ino) != (base.st_dev, base.st_ino):
            raise ConflictError(
                f"{self.paths.store} was replaced by another file while this command held the store's lock "
                "(by a program that does not take kt's lock); nothing was saved. Check the store with "
                "kt doctor, then run the command again."
            )

    def _replace_store(self, f: StoreFolders, payload: bytes, like: os.stat_result | None) -> None:
        """Keep the current version, then rename the new one over it (the commit point)."""
        kept: str | None = None
        new_kept = False
        self.last_kept = None
        root = f.root()
        if like is not None:
            saved = _parse_stamp(self._base_saved)
            if self._base_damaged:
                kept, new_kept = _keep_damaged(f, _now(), like), True
            else:
                kept, new_kept = _keep_backup(f, self._base_txn, saved, like)
        backups = f.sub("backups")
        try:
            tmp = _write_new(root, f.store_name, payload, like)
            try:
                if commit_point.interrupt_pending():
                    raise KeyboardInterrupt
                sf.replace(root, tmp, f.store_name, _os_replace)
            except BaseException:
                sf.remove(root, tmp)
                raise
        except BaseException:
            if kept is not None and new_kept and backups is not None:
                sf.remove(backups, kept)
            raise
        try:
            sf.fsync_folder(root, _os_fsync)
        except BaseException:
            # The new version may not be on disk: put the old one back, so that an
            # error always means nothing was saved.
            if kept is not None:
                with suppress(OSError):
                    _put_back(f, kept, still_kept=not new_kept)
            else:
                sf.remove(root, f.store_name)
            with suppress(OSError):
                sf.fsync_folder(root)
            raise
        self.last_kept = self.paths.backups / kept if kept is not None else None

    def _write_blobs(
        self, f: StoreFolders, txn: int, like: os.stat_result | None, written: list[tuple[sf.Folder, str]]
    ) -> None:
        """Seal full tails and rewrite changed segments as new immutable files."""
        meta = self.meta
        segments = meta.setdefault("segments", {})
        for table in SEGMENTED:
            entries = segments.setdefault(table, [])
            for entry in entries:
                if entry["file"] in self._dirty_segments:
                    rows = self._segment_cache[entry["file"]]
                    new_name = segment_name(table, entry["first"], entry["last"], txn)
                    self._write_blob(f, "segments", new_name, {table: rows}, like, written)
                    self._segment_cache[new_name] = rows
                    entry["file"], entry["rows"] = new_name, len(rows)
            tail = self.data.get(table, {})
            ids = _rows_to_seal(table, tail)
            if ids:
                first, last = int(ids[0]), int(ids[-1])
                rows = {key: tail[key] for key in ids}
                name = segment_name(table, first, last, txn)
                self._write_blob(f, "segments", name, {table: rows}, like, written)
                entries.append({"file": name, "first": first, "last": last, "rows": len(rows)})
                self._table(table).remove(doc_ids=[int(k) for k in ids])
                self._segment_cache[name] = rows
        for name, snapshot in self._new_snapshots.items():
            self._write_blob(f, "snapshots", name, snapshot, like, written)

    def _write_blob(
        self,
        f: StoreFolders,
        sub: str,
        name: str,
        content: dict[str, Any],
        like: os.stat_result | None,
        written: list[tuple[sf.Folder, str]],
    ) -> None:
        folder = f.sub(sub, like, create=True)
        assert folder is not None
        payload = encode(content)
        existing = sf.entry_stat(folder, name)
        if existing is None:
            written.append((folder, name))
        elif not stat.S_ISREG(existing.st_mode):
            # A link or a pipe planted under the name kt is about to use: never replaced unseen.
            sf.open_file(folder, name)  # raises the clear refusal naming it
            raise UnsafeStoreError(f"{folder / name} is not a file kt made; nothing was saved.")
        else:
            # Written by a writer of this txn number that was killed before its commit.
            with suppress(OSError):
                raw, st = sf.read_file(folder, name)
                if raw == payload and st.st_nlink == 1:
                    return  # already there, byte for byte (and in a sticky folder maybe not ours to replace)
        _atomic_write(folder, name, payload, like)

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
        paths = StorePaths(path)
        lock = cls._acquire(paths, lock_timeout)
        try:
            result = cls._restore_locked(paths, lock, backup, by=by, confirm=confirm)
        except BaseException:
            _release(lock, committed=bool(commit_point.commits()), quiet=True)
            commit_point.settle()
            raise
        try:
            _release(lock, committed=True)
        finally:
            commit_point.settle()
        return result

    @classmethod
    def _restore_locked(
        cls,
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
        restored = cls(paths, data, writable=True, lock=lock)
        restored._check_blobs(f"The backup {backup.path}")
        backup_txn = restored.txn

        current: Store | None = None
        raw, current_file = read_store_bytes(paths, missing_ok=True)
        if current_file is not None:
            try:
                current_data = _check(raw)
                migrate(current_data, path)
                current = cls(paths, current_data, writable=False)
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
            undone = _still_in_effect(later, backup_txn)
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


def _read_blob(paths: StorePaths, folder: str, name: str, kind: str) -> dict[str, Any]:
    """A segment or snapshot file, read inside its folder without following a link."""
    path = getattr(paths, folder) / name
    try:
        with StoreFolders(paths) as f:
            where = f.sub(folder)
            if where is None:
                raise FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), str(path))
            raw, st = sf.read_file(where, name)
            f.check_one_name(st, path)
        content = decode(raw)
    except FileNotFoundError:
        raise CorruptStoreError(f"The store {paths.store} refers to {path}, which is missing. Run kt doctor.") from None
    except PermissionError:
        raise TrackerError(f"Permission denied reading {path}: ask the store's owner for access.") from None
    except (ValueError, UnicodeDecodeError, IsADirectoryError):
        raise CorruptStoreError(f"The {kind} file {path} is damaged. Run kt doctor.") from None
    except OSError as exc:
        raise TrackerError(f"Could not read {path} ({exc.strerror or exc}).") from None
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


def _stale_temps(f: StoreFolders) -> list[tuple[sf.Folder, str]]:
    """Temporary files left by killed writers: plain files of one name under a temp name
    (links under such names are reported by the link checks, never removed as temp files)."""
    found: list[tuple[sf.Folder, str]] = []
    prefix = f".{f.store_name}."
    places: list[tuple[sf.Folder | None, bool]] = [(f.root(), True)]
    for name in SUBFOLDERS:
        with suppress(OSError, TrackerError):  # a folder that is a link: the link checks report it
            places.append((f.sub(name), False))
    for folder, is_root in places:
        if folder is None:
            continue
        with suppress(OSError):
            for name in sf.names(folder):
                if (not is_root or name.startswith(prefix)) and _TEMP_NAME.fullmatch(name):
                    st = sf.entry_stat(folder, name)
                    if st is not None and stat.S_ISREG(st.st_mode) and st.st_nlink == 1:
                        found.append((folder, name))
    return found


def stale_temp_files(paths: StorePaths) -> list[Path]:
    """Temporary files left behind by writers that were killed mid-write."""
    try:
        with StoreFolders(paths) as f:
            return sorted(folder / name for folder, name in _stale_temps(f))
    except (OSError, TrackerError):
        return []


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
    with suppress(OSError, TrackerError), StoreFolders(store.paths) as f:
        snapshots = f.sub("snapshots")
        present = {n for n in sf.names(snapshots) if not _TEMP_NAME.fullmatch(n)} if snapshots else set()
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
            _read_blob(store.paths, "snapshots", name, "snapshot")
        except UnsafeStoreError:
            continue  # a link: reported by the link checks
        except TrackerError as exc:
            problems.append(
                Problem(
                    "problem",
                    str(exc).removesuffix(" Run kt doctor."),
                    "Put the file back from your file backups; board snapshots cannot be rebuilt.",
                )
            )
    return problems


def store_file_stat(paths: StorePaths) -> os.stat_result | None:
    """plan.json's own status when it is a plain file (links are reported elsewhere)."""
    try:
        with StoreFolders(paths) as f:
            st = f.store_stat()
    except (OSError, TrackerError):
        return None
    return st if st is not None and stat.S_ISREG(st.st_mode) else None


def check_permissions(paths: StorePaths) -> list[Problem]:
    """The store must not be open to everyone; a group-shared store needs its folder,
    lock and files shared with the same group."""
    problems: list[Problem] = []
    st = store_file_stat(paths)
    if st is None:
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
    group = group_name(st.st_gid)
    problems += _check_parent(paths, st, group)
    need_dir = 0o070 if mode & 0o020 else 0o050
    need_file = 0o060 if mode & 0o020 else 0o040
    bad: list[Path] = []
    with suppress(OSError, TrackerError), StoreFolders(paths) as f:
        places: list[tuple[sf.Folder, str, sf.Folder | None, list[str] | None]] = []
        aux = f.aux()
        if aux is not None:
            places.append((f.root(), paths.aux.name, aux, [paths.lock.name, paths.highwater.name]))
            places += [(aux, name, f.sub(name), None) for name in SUBFOLDERS]
        for parent, name, folder, children in places:
            fst = sf.entry_stat(parent, name)
            if folder is None or fst is None:
                continue
            if fst.st_gid != st.st_gid or stat.S_IMODE(fst.st_mode) & need_dir != need_dir:
                bad.append(parent / name)
            for child in children if children is not None else sf.names(folder):
                cst = sf.entry_stat(folder, child)
                if cst is None or not stat.S_ISREG(cst.st_mode):
                    continue
                need = need_file if children is not None else need_file & 0o040
                if cst.st_gid != st.st_gid or stat.S_IMODE(cst.st_mode) & need != need:
                    bad.append(folder / child)
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
    folder = Path(os.path.realpath(paths.store.parent))
    try:
        fst = os.stat(folder)
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
                f"Keep the store in a folder of its own inside {folder}: mkdir {folder}/plan && chgrp {group} "
                f"{folder}/plan && chmod 2770 {folder}/plan && mv {paths.store} {paths.aux} {folder}/plan/ "
                "(the README's shared-folder set-up).",
            )
        )
    return problems


def fix_permissions(paths: StorePaths) -> list[Path]:
    """Share the store's folder, lock and files with the store's group, and give its
    folders the sticky bit (only what this user owns; never a link or a file with other
    names: all of it on open descriptors)."""
    st = store_file_stat(paths)
    if st is None:
        return []
    mode = stat.S_IMODE(st.st_mode)
    if not mode & 0o060:
        return []
    fixed: list[Path] = []
    dir_bits = _dir_mode(st) & 0o3070
    file_bits = mode & 0o060
    with suppress(OSError, TrackerError), StoreFolders(paths) as f:
        aux = f.aux()
        if aux is None:
            return []
        if sf.add_bits(f.root(), paths.aux.name, dir_bits, st.st_gid, directory=True):
            fixed.append(paths.aux)
        for name in (paths.lock.name, paths.highwater.name):
            if sf.add_bits(aux, name, file_bits, st.st_gid, directory=False):
                fixed.append(aux / name)
        for sub in SUBFOLDERS:
            if sf.add_bits(aux, sub, dir_bits, st.st_gid, directory=True):
                fixed.append(aux / sub)
            folder = f.sub(sub)
            if folder is None:
                continue
            for name in sf.names(folder):
                if sf.add_bits(folder, name, file_bits & 0o040, st.st_gid, directory=False):
                    fixed.append(folder / name)
    return fixed


def group_name(gid: int) -> str:
    """A group's name, or its number when it has none."""
    try:
        import grp

        return grp.getgrgid(gid).gr_name
    except (ImportError, KeyError):
        return str(gid)


_group_name = group_name  # the name older tests use


def is_temp_name(name: str) -> bool:
    """A name kt gives its temporary files (``.plan.json.3f9c0a1be24d7c55.tmp``)."""
    return _TEMP_NAME.fullmatch(name) is not None


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
