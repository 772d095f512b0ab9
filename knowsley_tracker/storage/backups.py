"""Backups: previous versions of plan.json kept as hard links, and damaged stores kept aside.

Each commit keeps the version it replaces (files are never changed in place, which is what makes
hard-link backups safe), and prunes the oldest beyond the ``backups`` setting.
"""

from __future__ import annotations

import errno
import os
import re
import shutil
import stat
from collections.abc import Callable
from contextlib import suppress
from datetime import UTC, datetime
from pathlib import Path
from typing import NamedTuple

from knowsley_tracker import safe_files as sf
from knowsley_tracker.config import SETTINGS
from knowsley_tracker.errors import (
    UnsafeStoreError,
)
from knowsley_tracker.patterns import LazyPattern
from knowsley_tracker.storage import folders
from knowsley_tracker.storage.file_format import _check, _Invalid
from knowsley_tracker.storage.folders import StoreFolders, _write_new
from knowsley_tracker.storage.paths import _BACKUP_NAME, _DAMAGED_NAME, StorePaths

DEFAULT_BACKUPS: int = SETTINGS["backups"].default


class Backup(NamedTuple):
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
    paths: StorePaths, pattern: LazyPattern[str], make: Callable[[Path, re.Match[str]], Backup]
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
    """``20251130T101500Z`` (ISO 8601's basic form, in UTC) as a moment. fromisoformat reads
    it as strptime would, without importing strptime's machinery on every commit."""
    return datetime.fromisoformat(stamp)


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
            sf.link(root, f.store_name, backups, name, folders._os_link)
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
                sf.replace(backups, tmp, name, folders._os_replace)
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
