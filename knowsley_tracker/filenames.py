"""The names of the files a store refers to, made and checked in one place.

A store's ``_meta`` lists its segment files and each frozen board row names
its snapshot file; both come back in JSON exports. Whatever a store or an
import file says, kt opens or writes only names of the exact shapes made here,
so no stored name can reach outside the store's folders (``../``, ``/etc``,
separators, NUL, ``lock``, a link's name...). Pure functions: no I/O, no imports
from the rest of the package.
"""

from __future__ import annotations

import re
from datetime import date

# What kt writes, and nothing else:
# the shapes below match exactly the names the functions beside them make. (Compiled on
# first use, by re's own cache: most commands open no segment or snapshot.)
SEGMENT_NAME = r"(?:log|history)-\d{7,}-\d{7,}-t\d{6,}\.json"
SNAPSHOT_NAME = r"board-\d{4}-\d{2}-\d{2}-B[1-9]\d*-t\d{6,}\.json"

SEGMENT_EXAMPLE = "log-0000001-0001000-t000042.json"
SNAPSHOT_EXAMPLE = "board-2025-10-15-B6-t000042.json"


def segment_name(table: str, first: int, last: int, txn: int) -> str:
    """``log-0000001-0001000-t000042.json``: rows ``first`` to ``last`` of ``table``, sealed by ``txn``."""
    return f"{table}-{first:07d}-{last:07d}-t{txn:06d}.json"


def snapshot_stem(day: date, board_ref: str) -> str:
    """``board-2025-10-15-B6``: the start of a board snapshot's name (the store adds the txn)."""
    return f"board-{day.isoformat()}-{board_ref}"


def snapshot_name(stem: str, txn: int) -> str:
    """``board-2025-10-15-B6-t000042.json``."""
    return f"{stem}-t{txn:06d}.json"


def name_problem(kind: str, name: object) -> str | None:
    """Why ``name`` is not a ``kind`` ("segment" or "snapshot") file name kt writes; None when it is."""
    pattern, example = (SEGMENT_NAME, SEGMENT_EXAMPLE) if kind == "segment" else (SNAPSHOT_NAME, SNAPSHOT_EXAMPLE)
    if not isinstance(name, str):
        return f"is not text ({type(name).__name__}): a {kind} file name looks like {example}"
    if re.fullmatch(pattern, name):
        return None
    if "\x00" in name:
        why = "contains a NUL byte"
    elif "/" in name or "\\" in name:
        why = "is a path, not a file name"
    elif name in ("", ".", ".."):
        why = "is not a file name"
    else:
        why = "is not a name kt gives its files"
    return f"{why}: a {kind} file name looks like {example}"


def shown(name: object, limit: int = 60) -> str:
    """A stored name quoted for a message, cut short when long (the caller escapes it)."""
    text = repr(name)
    return text if len(text) <= limit else text[: limit - 4] + "...'"


class UnsafeNameError(ValueError):
    """A stored file name kt would not have written; ``problem`` says why."""

    def __init__(self, kind: str, name: object, problem: str) -> None:
        super().__init__(f"The {kind} file name {shown(name)} {problem}.")
        self.kind = kind
        self.name = name
        self.problem = problem


def require_name(kind: str, name: object) -> str:
    """``name`` when it is a ``kind`` file name kt writes; raises :class:`UnsafeNameError` otherwise."""
    problem = name_problem(kind, name)
    if problem is not None:
        raise UnsafeNameError(kind, name, problem)
    assert isinstance(name, str)
    return name


def require_stored_name(kind: str, name: object, store: object) -> str:
    """``name`` when it is a ``kind`` file name kt writes; otherwise the store refers to a
    file kt would not have written (a hand edit, or tampering), so nothing is opened:
    raises CorruptStoreError naming the store."""
    from knowsley_tracker.errors import CorruptStoreError

    try:
        return require_name(kind, name)
    except UnsafeNameError as exc:
        raise CorruptStoreError(
            f"The store {store} names the {kind} file {shown(name)}, which {exc.problem}; kt opens no file "
            "outside the store's folders. Run kt doctor."
        ) from None
