"""The store's write lock: an exclusive lock on one file, held by one process at a time.

The operating system's own advisory lock (``flock`` on Unix, ``msvcrt.locking``
on Windows) does the work, so a lock dies with the process that held it: a
killed writer never leaves the store locked. Waiting is bounded by a timeout.

Why not the filelock library: it did the same job, but importing it (logging,
decimal, hashlib, dataclasses and its asyncio support) cost about 35 ms, nearly
twice Python's own start-up, on every command that writes. This module imports
nothing beyond the standard library's ``fcntl``/``msvcrt``.

The lock file sits in a folder other members of a shared store can write, so it
is opened relative to that folder's descriptor, never through a link, created
exclusively when missing (and opened without ``O_CREAT`` when present, which a
sticky folder under ``fs.protected_regular`` requires), and refused when it is a
link or has other names: :class:`LockUnsafe`.
"""

from __future__ import annotations

import errno
import os
import stat
import time
from contextlib import suppress

_SUPPORTED_ERRORS = (errno.ENOLCK, errno.ENOSYS, getattr(errno, "EOPNOTSUPP", 95), getattr(errno, "ENOTSUP", 95))
_BUSY_ERRORS = (errno.EAGAIN, errno.EACCES, getattr(errno, "EWOULDBLOCK", errno.EAGAIN), errno.EDEADLK)
POLL_SECONDS = 0.05


class LockTimeout(Exception):
    """Another process held the lock for longer than the timeout."""


class LockUnsupported(Exception):
    """The filesystem cannot lock files (some network shares)."""


class LockUnsafe(Exception):
    """A link, or something other than a plain file of one name, where the lock file should be."""

    def __init__(self, path: str, what: str, target: str | None = None) -> None:
        super().__init__(f"{path}: {what}")
        self.path = path
        self.what = what  # "symbolic link", "hard link" or "not a file"
        self.target = target


# Closing the lock file; tests replace it to make the close fail.
_close = os.close
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)


def _try_lock(fd: int) -> None:
    if os.name == "nt":  # pragma: no cover - exercised on Windows only
        import msvcrt

        msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)  # type: ignore[attr-defined]
    else:
        import fcntl

        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)


def _unlock(fd: int) -> None:
    if os.name == "nt":  # pragma: no cover - exercised on Windows only
        import msvcrt

        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)  # type: ignore[attr-defined]
    else:
        import fcntl

        fcntl.flock(fd, fcntl.LOCK_UN)


class FileLock:
    """``with FileLock(path, timeout=10):`` or ``acquire()``/``release()``."""

    def __init__(
        self, path: str | os.PathLike[str], *, timeout: float, mode: int = 0o600, dir_fd: int | None = None
    ) -> None:
        """``path`` is the lock file; with ``dir_fd`` it is a name inside that open folder."""
        self.path = os.fspath(path)
        self.timeout = timeout
        self.mode = mode
        self.dir_fd = dir_fd
        self._fd: int | None = None

    @property
    def is_locked(self) -> bool:
        return self._fd is not None

    def acquire(self) -> None:
        """Take the lock, waiting up to ``timeout`` seconds; LockTimeout after that."""
        if self._fd is not None:
            return
        fd = self._open()
        try:
            self._share(fd)
            deadline = time.monotonic() + self.timeout
            while True:
                try:
                    _try_lock(fd)
                    break
                except OSError as exc:
                    if exc.errno in _SUPPORTED_ERRORS:
                        raise LockUnsupported(str(exc)) from None
                    if exc.errno not in _BUSY_ERRORS:
                        raise
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise LockTimeout(self.path)
                time.sleep(min(POLL_SECONDS, remaining))
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd

    def _open(self) -> int:
        """Open the lock file, never through a link; create it (exclusively) when missing."""
        name = os.path.basename(self.path) if self.dir_fd is not None else self.path
        flags = os.O_RDWR | _NOFOLLOW | _CLOEXEC
        for _ in range(8):
            try:
                fd = os.open(name, flags, dir_fd=self.dir_fd)
            except FileNotFoundError:
                try:
                    fd = os.open(name, flags | os.O_CREAT | os.O_EXCL, self.mode, dir_fd=self.dir_fd)
                except FileExistsError:
                    continue  # another writer created it first: open theirs
            except OSError as exc:
                if exc.errno == errno.ELOOP:
                    target = None
                    with suppress(OSError):
                        target = os.readlink(name, dir_fd=self.dir_fd)
                    raise LockUnsafe(self.path, "symbolic link", target) from None
                raise
            info = os.fstat(fd)
            what = None if stat.S_ISREG(info.st_mode) else "not a file"
            if what is None and info.st_nlink != 1:
                what = "hard link"
            if what is not None:
                os.close(fd)
                raise LockUnsafe(self.path, what)
            return fd
        raise LockUnsafe(self.path, "not a file")  # it kept vanishing and reappearing

    def _share(self, fd: int) -> None:
        """Give a lock file we own the store's mode (a group-shared store needs g+rw)."""
        try:
            info = os.fstat(fd)
            if info.st_uid == os.getuid() and info.st_mode & 0o777 != self.mode:
                os.fchmod(fd, self.mode)
        except (AttributeError, OSError):
            pass  # not the owner, or no such notion on this platform

    def release(self) -> None:
        """Let go of the lock (the lock file itself stays, ready for the next writer)."""
        fd, self._fd = self._fd, None
        if fd is None:
            return
        try:
            _unlock(fd)
        finally:
            _close(fd)  # closing the descriptor lets go of the lock even when unlocking failed

    def __enter__(self) -> FileLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
