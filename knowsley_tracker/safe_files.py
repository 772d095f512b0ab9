"""Files in folders other people can write: opened relative to the folder, never through a link.

Every member of a shared store's group can create, rename and delete entries in
the store's folders, so any name kt is about to use may have been replaced by a
symbolic link, or by a hard link to somebody else's file. Everything here works
relative to an open folder descriptor: files are opened with ``O_NOFOLLOW``
(``O_DIRECTORY`` for folders), new files are created exclusively (``O_EXCL``)
under unpredictable names, and modes and groups are set on the open descriptor
(``fchmod``/``fchown``), never on a path. storage/ (the store's files) and
outputs.py (files written with ``-o``) build on it; it imports only the standard
library and errors.py. POSIX only, as the store's sharing model is.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Callable
from contextlib import suppress
from pathlib import Path

from knowsley_tracker.errors import UnsafeStoreError

_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_DIRECTORY = getattr(os, "O_DIRECTORY", 0)
_NONBLOCK = getattr(os, "O_NONBLOCK", 0)  # a FIFO planted under a file's name must not hang kt
_FOLDER_FLAGS = os.O_RDONLY | _DIRECTORY | _NOFOLLOW | _CLOEXEC

Writer = Callable[[int, memoryview], int]
Syncer = Callable[[int], None]
Renamer = Callable[..., None]


class Folder:
    """An open folder: its descriptor, and its path for messages. Close it when done."""

    __slots__ = ("fd", "path")

    def __init__(self, path: Path, fd: int) -> None:
        self.path = path
        self.fd = fd

    def close(self) -> None:
        fd, self.fd = self.fd, -1
        if fd >= 0:
            os.close(fd)

    def __enter__(self) -> Folder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __truediv__(self, name: str) -> Path:
        return self.path / name


# ---------------------------------------------------------------------------
# What is at a name


def link_message(where: Path, target: str | None = None) -> str:
    pointing = f" (to {target})" if target else ""
    return (
        f"{where} is a symbolic link{pointing}, where kt expects a file or folder of its own; kt never "
        "follows links in a store's folders, so nothing was read or written. If you did not make it, "
        "someone who can write to the folder did: check with ls -l, then remove the link."
    )


def hard_link_message(where: Path, names: int) -> str:
    return (
        f"{where} has {names} names on disk (hard links), so it is also some other file; kt never writes "
        "through a second name, so nothing was read or written. Use the store by one path only, and "
        f"remove the other names (find / -xdev -samefile {where} lists them)."
    )


def _readlink(folder: Folder, name: str) -> str | None:
    try:
        return os.readlink(name, dir_fd=folder.fd)
    except OSError:
        return None


def entry_stat(folder: Folder, name: str) -> os.stat_result | None:
    """What is at ``name`` in the folder, without following a link; None when nothing is."""
    check_name(folder, name)
    try:
        return os.stat(name, dir_fd=folder.fd, follow_symlinks=False)
    except FileNotFoundError:
        return None


def check_name(folder: Folder, name: str) -> None:
    """A name inside the folder, not a path: no separators, no ``..``."""
    if not name or name in (".", "..") or "/" in name or "\x00" in name:
        raise UnsafeStoreError(f"{name!r} in {folder.path} is not a plain file name; nothing was read or written.")


def refuse_link(folder: Folder, name: str, exc: OSError) -> None:
    """Turn the error from opening ``name`` with O_NOFOLLOW into a clear refusal when a link
    was there (ELOOP, or ENOTDIR for a folder); re-raise anything else."""
    if exc.errno in (errno.ELOOP, errno.ENOTDIR, errno.EMLINK):
        st = entry_stat(folder, name)
        if st is not None and stat.S_ISLNK(st.st_mode):
            raise UnsafeStoreError(link_message(folder / name, _readlink(folder, name))) from None
        if st is not None and exc.errno == errno.ENOTDIR:
            raise UnsafeStoreError(
                f"{folder / name} is a file where kt expects a folder; nothing was read or written."
            ) from None
    raise exc


# ---------------------------------------------------------------------------
# Folders


def open_root(path: Path) -> Folder:
    """Open a folder the user named (its path may pass through links the user chose)."""
    return Folder(path, os.open(path, os.O_RDONLY | _DIRECTORY | _CLOEXEC))


def open_folder(parent: Folder, name: str, *, create_mode: int | None = None, gid: int | None = None) -> Folder | None:
    """Open the folder ``name`` inside ``parent`` (None when it does not exist), never through a
    link. With ``create_mode`` a missing folder is made, private first, then given that mode
    and group on its descriptor."""
    check_name(parent, name)
    created = False
    if create_mode is not None:
        try:
            os.mkdir(name, 0o700, dir_fd=parent.fd)
            created = True
        except FileExistsError:
            pass
    try:
        fd = os.open(name, _FOLDER_FLAGS, dir_fd=parent.fd)
    except FileNotFoundError:
        return None
    except OSError as exc:
        refuse_link(parent, name, exc)
        raise
    folder = Folder(parent / name, fd)
    if created:
        try:
            if gid is not None and gid != os.fstat(fd).st_gid:
                with suppress(PermissionError):  # not in that group: the folder stays in ours
                    os.fchown(fd, -1, gid)
            os.fchmod(fd, create_mode or 0o700)  # after the group: a change of group may clear setgid
        except BaseException:
            folder.close()
            raise
    return folder


def names(folder: Folder) -> list[str]:
    return os.listdir(folder.fd)


def fsync_folder(folder: Folder, fsync: Syncer = os.fsync) -> None:
    """Flush the folder's entries (a rename) to disk; filesystems that cannot are let be."""
    try:
        fsync(folder.fd)
    except OSError as exc:
        if exc.errno not in (errno.EINVAL, errno.EBADF, errno.ENOTSUP):
            raise


# ---------------------------------------------------------------------------
# Reading


def open_file(folder: Folder, name: str, flags: int = os.O_RDONLY) -> tuple[int, os.stat_result]:
    """Open an existing regular file, never through a symbolic link; returns the descriptor
    and its status (the caller decides whether other names, ``st_nlink > 1``, are allowed).
    Raises FileNotFoundError when nothing is there, IsADirectoryError for a folder."""
    check_name(folder, name)
    try:
        fd = os.open(name, flags | _NOFOLLOW | _CLOEXEC | _NONBLOCK, dir_fd=folder.fd)
    except OSError as exc:
        refuse_link(folder, name, exc)
        raise
    try:
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):
            raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), str(folder / name))
        if not stat.S_ISREG(st.st_mode):
            raise UnsafeStoreError(
                f"{folder / name} is not a regular file (a pipe, socket or device), where kt expects one of its "
                "own; nothing was read or written."
            )
    except BaseException:
        os.close(fd)
        raise
    return fd, st


def read_fd(fd: int, size_hint: int) -> bytes:
    chunks: list[bytes] = []
    want = max(size_hint + 1, 65536)
    while True:
        chunk = os.read(fd, want)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)


def read_file(folder: Folder, name: str) -> tuple[bytes, os.stat_result]:
    """The bytes of a regular file (never through a symbolic link) and its status."""
    fd, st = open_file(folder, name)
    try:
        return read_fd(fd, st.st_size), st
    finally:
        os.close(fd)


# ---------------------------------------------------------------------------
# Writing: new files only, created exclusively, then renamed into place


def temp_name(base: str) -> str:
    """An unpredictable temporary name beside ``base``: ``.plan.json.3f9c0a1be24d7c55.tmp``."""
    return f".{base}.{os.urandom(8).hex()}.tmp"


def create_exclusive(folder: Folder, name: str, mode: int = 0o600) -> int:
    """Create a new file under ``name``; fails (FileExistsError) if anything is there, even a link."""
    check_name(folder, name)
    return os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW | _CLOEXEC, mode, dir_fd=folder.fd)


def create_temp(folder: Folder, base: str) -> tuple[int, str]:
    """A new, private temporary file beside ``base``, under a name nobody could have guessed."""
    for _ in range(16):
        name = temp_name(base)
        try:
            return create_exclusive(folder, name), name
        except FileExistsError:
            continue
    raise FileExistsError(errno.EEXIST, "could not find a free temporary name", str(folder / base))


def set_mode(fd: int, mode: int, gid: int | None) -> None:
    """Give an open file its mode and (when we may) its group: on the descriptor, never a path."""
    os.fchmod(fd, mode)
    if gid is not None and hasattr(os, "fchown") and os.fstat(fd).st_gid != gid:
        with suppress(PermissionError):  # not in that group: keep our own
            os.fchown(fd, -1, gid)


def write_all(fd: int, payload: bytes, write: Writer = os.write) -> None:
    view = memoryview(payload)
    while view:
        written = write(fd, view)
        view = view[written:]


def write_temp(
    folder: Folder,
    base: str,
    payload: bytes,
    mode: int,
    gid: int | None,
    *,
    write: Writer = os.write,
    fsync: Syncer = os.fsync,
) -> str:
    """Write ``payload`` to a new temporary file beside ``base``: written in full, given its mode
    and group, fsynced. Returns its name; on any failure it is removed again."""
    fd, name = create_temp(folder, base)
    try:
        try:
            write_all(fd, payload, write)
            set_mode(fd, mode, gid)
            fsync(fd)
        finally:
            os.close(fd)
    except BaseException:
        remove(folder, name)
        raise
    return name


def replace(folder: Folder, source: str, target: str, rename: Renamer = os.replace) -> None:
    """Rename ``source`` over ``target`` in one folder: whatever was at ``target`` (even a link)
    is replaced as an entry, never written through."""
    check_name(folder, source)
    check_name(folder, target)
    rename(source, target, src_dir_fd=folder.fd, dst_dir_fd=folder.fd)


def atomic_write(
    folder: Folder,
    name: str,
    payload: bytes,
    mode: int,
    gid: int | None = None,
    *,
    write: Writer = os.write,
    fsync: Syncer = os.fsync,
    rename: Renamer = os.replace,
) -> None:
    """Write a whole file or nothing: a new temporary file, fsynced, renamed over ``name``,
    then the folder fsynced. The one atomic write for the store's files and for outputs."""
    tmp = write_temp(folder, name, payload, mode, gid, write=write, fsync=fsync)
    try:
        replace(folder, tmp, name, rename)
    except BaseException:
        remove(folder, tmp)
        raise
    fsync_folder(folder, fsync)


def link(source: Folder, source_name: str, target: Folder, target_name: str, ln: Renamer = os.link) -> None:
    """A second name for a file (never for what a symbolic link points at); fails if the new
    name is taken."""
    check_name(source, source_name)
    check_name(target, target_name)
    ln(source_name, target_name, src_dir_fd=source.fd, dst_dir_fd=target.fd, follow_symlinks=False)


def remove(folder: Folder, name: str) -> bool:
    """Remove an entry (a link is removed itself, never what it points at); False when absent."""
    check_name(folder, name)
    try:
        os.unlink(name, dir_fd=folder.fd)
    except FileNotFoundError:
        return False
    return True


# ---------------------------------------------------------------------------
# Permissions


def add_bits(folder: Folder, name: str, bits: int, gid: int | None, *, directory: bool) -> bool:
    """Add mode bits (and the group) to an entry this user owns, on its descriptor. Links,
    other people's files and files with other names (hard links) are left alone.
    Returns True when anything changed."""
    flags = _FOLDER_FLAGS if directory else os.O_RDONLY | _NOFOLLOW | _CLOEXEC | _NONBLOCK
    check_name(folder, name)
    try:
        fd = os.open(name, flags, dir_fd=folder.fd)
    except OSError:
        return False  # gone, a link, or not what was expected: the link checks report it
    try:
        st = os.fstat(fd)
        kind_ok = stat.S_ISDIR(st.st_mode) if directory else stat.S_ISREG(st.st_mode) and st.st_nlink == 1
        if not kind_ok or st.st_uid != os.geteuid():
            return False
        changed = False
        if gid is not None and st.st_gid != gid:
            try:
                os.fchown(fd, -1, gid)
                changed = True
            except PermissionError:
                pass
        current = stat.S_IMODE(st.st_mode)
        if current | bits != current:
            os.fchmod(fd, current | bits)
            changed = True
        return changed
    finally:
        os.close(fd)
