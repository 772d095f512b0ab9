"""Segments: the older rows of the append-only tables, sealed into immutable files.

The progress log and the audit history only ever grow, and parsing them made every command pay
for the whole history of the plan. Their newest rows stay in ``plan.json``; older ones are sealed
into immutable segment files that a command opens only when it needs them. The Store writes them
with each commit; this module says what to seal and reads a sealed file.
"""

from __future__ import annotations

import errno
import os
from typing import Any

from knowsley_tracker import safe_files as sf
from knowsley_tracker.errors import (
    CorruptStoreError,
    TrackerError,
)
from knowsley_tracker.storage.codec import decode
from knowsley_tracker.storage.folders import StoreFolders
from knowsley_tracker.storage.paths import StorePaths
from knowsley_tracker.store_interface import HISTORY

# Tables that only grow: their older rows move into sealed segment files.
SEGMENTED = ("log", HISTORY)
# Rows kept in plan.json per segmented table before the oldest are sealed.
SEGMENT_ROWS = 1000


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
