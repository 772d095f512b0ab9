"""Reading plan.json, and the errors that say what went wrong and which backup could replace it."""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path
from typing import Any

from knowsley_tracker import safe_files as sf
from knowsley_tracker.errors import (
    CorruptStoreError,
    StoreMissingError,
    TrackerError,
    UnsafeStoreError,
)
from knowsley_tracker.storage.backups import newest_good_backup
from knowsley_tracker.storage.file_format import _check, _Invalid
from knowsley_tracker.storage.folders import StoreFolders
from knowsley_tracker.storage.paths import StorePaths


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
