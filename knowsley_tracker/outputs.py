"""Writing what a command produces: files given with ``-o``, and standard output.

:func:`write_output` is the one way kt writes an output file: whole or not at
all (a new file under an unpredictable name, fsynced, renamed into place), never
over the store, into its folders or through a link, and private when the store
is private. Standard output goes through :class:`GuardedStdout`, installed by the
CLI's boundary: a reader that went away (``kt export | head``) ends the output
quietly, while a full disk or a file-size limit is an error (exit 11), so a
truncated backup is never taken for a complete one.
"""

from __future__ import annotations

import errno
import io
import os
import stat
from contextlib import suppress
from pathlib import Path
from typing import Any, TextIO

from knowsley_tracker import safe_files as sf
from knowsley_tracker.commit_point import did_outside
from knowsley_tracker.errors import OutputWriteError, TrackerError, UnsafeStoreError, ValidationError
from knowsley_tracker.storage import StoreFolders, StorePaths


def write_output(path: Path, payload: bytes, *, store: Path) -> None:
    """Write ``payload`` to the file ``path`` whole or not at all.

    Refused: the store itself (under any of its names), anything inside the store's
    folder ``plan.json.d`` (also when reached through a link), and a symbolic link at
    ``path`` (it is never written through nor replaced). The file is 0600 when the
    store is private, else as the umask says.
    """
    name = path.name
    if name in ("", ".", ".."):
        raise ValidationError(f"{path} is a folder, not a file name: give a file to write.")
    try:
        folder = sf.open_root(path.parent)
    except NotADirectoryError:
        raise ValidationError(f"{path.parent} is not a folder.") from None
    except OSError as exc:
        raise _output_failed(path, exc) from None
    with folder:
        write_output_in(folder, name, payload, store=store)


def write_output_in(folder: sf.Folder, name: str, payload: bytes, *, store: Path) -> None:
    """:func:`write_output` for the file ``name`` in a folder already open (from
    :func:`open_output_folder`), with the same refusals."""
    paths = StorePaths(store)
    path = folder / name
    _refuse_store_target(folder, name, path, paths)
    try:
        sf.atomic_write(folder, name, payload, _output_mode(paths))
    except OSError as exc:
        raise _output_failed(path, exc) from None
    did_outside(f"written {name}")  # a command run again would write it again


def open_output_folder(path: Path, *, store: Path) -> sf.Folder:
    """Open the folder ``path`` to write outputs into, making what is missing of it.

    Refused before anything is made: the store's folder ``plan.json.d`` or anything
    inside it (also when reached through a link), and the store's own names. The
    missing folders are made one at a time inside their parent's descriptor and
    opened without following a link, so a link planted at one of their names is
    refused, never followed. They are private when the store is private."""
    paths = StorePaths(store)
    missing: list[str] = []
    base = path
    while not os.path.lexists(base) and base != base.parent:
        missing.insert(0, base.name)
        base = base.parent
    if any(name in ("", ".", "..") for name in missing):
        raise ValidationError(f"{path} goes through a folder that does not exist: give a plain folder path.")
    try:
        folder = sf.open_root(base)
    except NotADirectoryError:
        raise ValidationError(f"{base} is not a folder.") from None
    except OSError as exc:
        raise TrackerError(f"Could not open {base} ({exc.strerror or exc}).") from None
    try:
        refused = ValidationError(f"{path} is the store itself or inside its folder: write the output elsewhere.")
        root, _, aux_st = _store_stats(paths)
        if aux_st is not None and _within(folder, aux_st):
            raise refused
        first = missing[0] if missing else ""
        if (
            first
            and same(os.fstat(folder.fd), root)
            and (first in (paths.store.name, paths.aux.name) or first.startswith(f".{paths.store.name}."))
        ):
            raise refused
        mode = _output_mode(paths)
        mode |= (mode & 0o444) >> 2  # a folder: searchable by whoever may read its files
        for name in missing:
            try:
                child = sf.open_folder(folder, name, create_mode=mode)
            except OSError as exc:
                raise TrackerError(f"Could not create {folder / name} ({exc.strerror or exc}).") from None
            if child is None:
                raise TrackerError(f"Could not create {folder / name} (it was removed while kt made it).")
            folder.close()
            folder = child
    except BaseException:
        folder.close()
        raise
    return folder


def _output_failed(path: Path, exc: OSError) -> TrackerError:
    reason = exc.strerror or str(exc)
    if isinstance(exc, PermissionError):
        return TrackerError(f"Permission denied writing {path}: choose a folder you can write to.")
    if exc.errno in (errno.ENOENT, errno.ENOTDIR):
        return TrackerError(f"Could not write {path} ({reason}).")
    return OutputWriteError(f"Could not write {path} ({reason}); nothing was written there.")


def _refuse_store_target(folder: sf.Folder, name: str, path: Path, paths: StorePaths) -> None:
    """The output must not be the store, its folder or anything in it, nor a link."""
    refused = ValidationError(f"{path} is the store itself or inside its folder: write the output elsewhere.")
    here = os.fstat(folder.fd)
    root, store, aux_st = _store_stats(paths)
    if same(here, root) and (name in (paths.store.name, paths.aux.name) or name.startswith(f".{paths.store.name}.")):
        raise refused
    # Inside plan.json.d, however the path got there: walk up from the folder itself.
    if aux_st is not None and _within(folder, aux_st):
        raise refused
    entry = sf.entry_stat(folder, name)
    if entry is None:
        return
    if stat.S_ISLNK(entry.st_mode):
        target = None
        with suppress(OSError):
            target = os.readlink(name, dir_fd=folder.fd)
        pointing = f" (to {target})" if target else ""
        raise UnsafeStoreError(
            f"{path} is a symbolic link{pointing}: kt writes an output only to a file of that name, never "
            "through a link; the link was left alone. Give the file's own path."
        )
    if stat.S_ISDIR(entry.st_mode):
        raise ValidationError(f"{path} is a folder: give a file name to write.")
    if same(entry, store):
        raise refused


def _store_stats(
    paths: StorePaths,
) -> tuple[os.stat_result | None, os.stat_result | None, os.stat_result | None]:
    """The store's folder, the store file and its folder ``plan.json.d`` (None where missing)."""
    root: os.stat_result | None
    store: os.stat_result | None
    aux_st: os.stat_result | None
    try:
        with StoreFolders(paths) as f:
            root = os.fstat(f.root().fd)
            store = sf.entry_stat(f.root(), f.store_name)
            aux = f.aux()
            aux_st = os.fstat(aux.fd) if aux is not None else None
    except (OSError, TrackerError):
        root = store = aux_st = None
    return root, store, aux_st


def same(a: os.stat_result | None, b: os.stat_result | None) -> bool:
    """The same file (or folder)."""
    return a is not None and b is not None and (a.st_dev, a.st_ino) == (b.st_dev, b.st_ino)


def _within(folder: sf.Folder, target: os.stat_result) -> bool:
    """True when ``folder`` is ``target`` or below it (walked up by ``..``, not by name)."""
    fd = os.dup(folder.fd)
    try:
        for _ in range(256):
            st = os.fstat(fd)
            if (st.st_dev, st.st_ino) == (target.st_dev, target.st_ino):
                return True
            parent = os.open("..", os.O_RDONLY | getattr(os, "O_DIRECTORY", 0), dir_fd=fd)
            pst = os.fstat(parent)
            os.close(fd)
            fd = parent
            if (pst.st_dev, pst.st_ino) == (st.st_dev, st.st_ino):
                return False  # reached /
        return False
    finally:
        os.close(fd)


def _output_mode(paths: StorePaths) -> int:
    """0600 when the store is private (a board pack holds the same plan), else the umask's."""
    try:
        with StoreFolders(paths) as f:
            st = f.store_stat()
    except (OSError, TrackerError):
        st = None
    if st is not None and not st.st_mode & 0o077:
        return 0o600
    mask = os.umask(0o077)
    os.umask(mask)
    return 0o666 & ~mask


# ---------------------------------------------------------------------------
# Standard output


class StdoutWriteError(OutputWriteError):
    """Standard output could not be written in full (not a closed pipe: that ends quietly)."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"Could not write to standard output ({reason}); the output is incomplete.")
        self.reason = reason


def _stdout_failed(exc: OSError | None) -> StdoutWriteError:
    return StdoutWriteError("it is closed" if exc is None else (exc.strerror or str(exc)))


class GuardedStdout:
    """Standard output as commands use it, with failures made plain: a closed pipe ends
    the output quietly (later writes are dropped), any other failure raises
    :class:`OutputWriteError`. Everything else is the real stream's."""

    def __init__(self, stream: TextIO | None) -> None:
        self.stream = stream
        self.pipe_closed = False
        self.printed = False  # anything written: a command run again would print it twice

    def __getattr__(self, name: str) -> Any:
        if self.stream is None:
            raise AttributeError(name)
        return getattr(self.stream, name)

    def isatty(self) -> bool:
        try:
            return self.stream is not None and self.stream.isatty()
        except (OSError, ValueError):
            return False

    def writable(self) -> bool:
        return True

    def fileno(self) -> int:
        if self.stream is None:
            raise io.UnsupportedOperation("standard output is closed")
        return self.stream.fileno()

    @property
    def encoding(self) -> str:
        return getattr(self.stream, "encoding", None) or "utf-8"

    def write(self, text: str) -> int:
        """Text goes straight to the descriptor, every byte accounted for: Python's buffered
        writer can drop the rest of a large write cut short by a file-size limit, silently."""
        if self.pipe_closed:
            return len(text)
        if self.stream is None:
            raise _stdout_failed(None)
        self._printing(text)
        if self._descriptor() is None:
            try:
                return self.stream.write(text)
            except BrokenPipeError:
                self.pipe_closed = True
                return len(text)
            except OSError as exc:
                raise _stdout_failed(exc) from None
        errors = getattr(self.stream, "errors", None) or "strict"
        try:
            payload = text.encode(self.encoding, errors)
        except UnicodeEncodeError:  # an output that cannot take the text (PYTHONIOENCODING=ascii): escaped
            payload = text.encode(self.encoding, "backslashreplace")
        self.write_bytes(payload)
        return len(text)

    def _printing(self, text: str | bytes) -> None:
        if text and not self.printed:
            self.printed = True
            did_outside("printed output")

    def _descriptor(self) -> int | None:
        try:
            return self.stream.fileno() if self.stream is not None else None
        except (AttributeError, OSError, ValueError):
            return None  # a stream without a descriptor (tests capture output this way)

    def flush(self) -> None:
        if self.pipe_closed or self.stream is None:
            return
        try:
            self.stream.flush()
        except BrokenPipeError:
            self.pipe_closed = True
        except OSError as exc:
            raise _stdout_failed(exc) from None
        except ValueError:  # closed underneath us
            raise _stdout_failed(None) from None

    def write_bytes(self, payload: bytes) -> None:
        """Bytes exactly as given (an export), after any text already written; every byte
        is accounted for, so a short write (disk full, file-size limit) is an error."""
        self.flush()
        if self.pipe_closed:
            return
        assert self.stream is not None
        self._printing(payload)
        fd = self._descriptor()
        try:
            if fd is not None:
                sf.write_all(fd, payload)
            else:
                buffer = self.stream.buffer
                buffer.write(payload)
                buffer.flush()
        except BrokenPipeError:
            self.pipe_closed = True
        except OSError as exc:
            if exc.errno == errno.EPIPE:
                self.pipe_closed = True
                return
            raise _stdout_failed(exc) from None


def write_stdout(payload: bytes) -> None:
    """Write bytes to standard output in full (see :class:`GuardedStdout`)."""
    import sys

    stream = sys.stdout
    if isinstance(stream, GuardedStdout):
        stream.write_bytes(payload)
        return
    GuardedStdout(stream).write_bytes(payload)
