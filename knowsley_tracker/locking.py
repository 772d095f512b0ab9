"""The store's write lock: an exclusive lock on one file, held by one process at a time.

The operating system's own advisory lock (``flock`` on Unix, ``msvcrt.locking``
on Windows) does the work, so a lock dies with the process that held it: a
killed writer never leaves the store locked. Waiting is bounded by a timeout.

Why not the filelock library: it did the same job, but importing it (logging,
decimal, hashlib, dataclasses and its asyncio support) cost about 35 ms, nearly
twice Python's own start-up, on every command that writes. This module imports
nothing beyond the standard library's ``fcntl``/``msvcrt``.
"""

from __future__ import annotations

import errno
import os
import time

_SUPPORTED_ERRORS = (errno.ENOLCK, errno.ENOSYS, getattr(errno, "EOPNOTSUPP", 95), getattr(errno, "ENOTSUP", 95))
_BUSY_ERRORS = (errno.EAGAIN, errno.EACCES, getattr(errno, "EWOULDBLOCK", errno.EAGAIN), errno.EDEADLK)
POLL_SECONDS = 0.05


class LockTimeout(Exception):
    """Another process held the lock for longer than the timeout."""


class LockUnsupported(Exception):
    """The filesystem cannot lock files (some network shares)."""


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

    def __init__(self, path: str | os.PathLike[str], *, timeout: float, mode: int = 0o600) -> None:
        self.path = os.fspath(path)
        self.timeout = timeout
        self.mode = mode
        self._fd: int | None = None

    @property
    def is_locked(self) -> bool:
        return self._fd is not None

    def acquire(self) -> None:
        """Take the lock, waiting up to ``timeout`` seconds; LockTimeout after that."""
        if self._fd is not None:
            return
        # O_NOFOLLOW: never lock (or create) a file through a symbolic link.
        flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
        fd = os.open(self.path, flags, self.mode)
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
            os.close(fd)

    def __enter__(self) -> FileLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
