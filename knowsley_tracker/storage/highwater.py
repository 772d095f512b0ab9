"""High-water mark: the highest txn and ids ever handed out, kept beside the store.

Restoring over a damaged plan.json must never reuse an id. The mark is a hint, written after each
commit without fsync: a lost or stale copy only means restore falls back to what it can read from
the damaged file. It is written in place (members of a sticky folder cannot replace each other's
files), so it is opened without following a link and used only when it is a plain file of one name.
"""

from __future__ import annotations

import json
import os
import re
from contextlib import suppress

from knowsley_tracker import safe_files as sf
from knowsley_tracker.errors import (
    TrackerError,
)
from knowsley_tracker.storage.backups import list_backups
from knowsley_tracker.storage.folders import StoreFolders, _file_mode, _group
from knowsley_tracker.storage.paths import _BLOB_TXN, StorePaths


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
