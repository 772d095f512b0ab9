"""The store's folders, each opened once and never through a link, and the low-level writes.

Other members of a shared store's group can create, rename and delete entries in its folders, so
every file here is reached through safe_files: relative to a folder descriptor opened once per
operation, never through a link, new files created exclusively under unpredictable names, modes
set on descriptors. A link, a pipe or a second name (hard link) where a store file should be is
refused before anything changes (UnsafeStoreError, exit 13); kt's own backups are the only second
names it allows, and only for the live store. The lock's use (taking, refusing, releasing) is here too.

Tests replace the ``_os_*`` names to inject faults: the other modules call them through this
module (``folders._os_replace``), so one patch reaches every write.
"""

from __future__ import annotations

import errno
import os
import stat
from contextlib import suppress
from pathlib import Path

from knowsley_tracker import commit_point
from knowsley_tracker import safe_files as sf
from knowsley_tracker.errors import (
    StoreWriteError,
    TrackerError,
    UnsafeStoreError,
)
from knowsley_tracker.locking import FileLock, LockUnsafe
from knowsley_tracker.storage.paths import _BACKUP_NAME, _DAMAGED_NAME, _TEMP_NAME, SUBFOLDERS, StorePaths

_os_write = os.write
_os_fsync = os.fsync
_os_replace = os.replace
_os_link = os.link


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

    def kt_names(self, st: os.stat_result) -> int:
        """How many of a file's names kt made: the live store and its backups may share a file
        (a backup is a hard link to the version it keeps), nothing else kt writes does."""
        return self._kt_names(st)[0]

    def _kt_names(self, st: os.stat_result) -> tuple[int, int | None]:
        """kt's names for the file, and its number of names now, as one of those names
        finds it (None when kt has no name left for it)."""
        same = (st.st_dev, st.st_ino)
        store = sf.entry_stat(self.root(), self.store_name)
        found = [store] if store is not None and (store.st_dev, store.st_ino) == same else []
        backups = self.sub("backups")
        if backups is not None:
            for name in sf.names(backups):
                if _BACKUP_NAME.fullmatch(name) or _DAMAGED_NAME.fullmatch(name):
                    other = sf.entry_stat(backups, name)
                    if other is not None and (other.st_dev, other.st_ino) == same:
                        found.append(other)
        return len(found), (found[-1].st_nlink if found else None)

    def check_one_name(self, st: os.stat_result, where: Path) -> None:
        """Refuse a file with a name kt did not make: a hard link from elsewhere (a second path
        to the store would be a second store with its own lock; a planted one is a foreign file).

        ``st`` may be a moment old: a reader takes no lock, and between its look at the store
        and this count a writer can link the store into the backups and rename the new
        version over it, leaving the old file with one name fewer than ``st`` says. So the
        names are compared with the file's count as it is now."""
        if st.st_nlink <= 1:
            return
        names, nlink_now = self._kt_names(st)
        if names < (st.st_nlink if nlink_now is None else nlink_now):
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


def _unsafe_lock(problem: LockUnsafe) -> UnsafeStoreError:
    where = Path(problem.path)
    if problem.what == "symbolic link":
        return UnsafeStoreError(sf.link_message(where, problem.target))
    if problem.what == "hard link":
        return UnsafeStoreError(sf.hard_link_message(where, 2).replace("2 names", "more than one name"))
    return UnsafeStoreError(f"{where} is not a plain file, where kt keeps its lock; nothing was read or written.")


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
