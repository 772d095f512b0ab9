"""Writing a commit's files: new segments and snapshots first, then plan.json, whose rename is the
commit point. On failure the folders are left as they were; a failure after the rename puts the
old version back, so an error always means nothing was saved.

Called by :meth:`Store._commit <knowsley_tracker.storage.file_store.Store>` with the store's
folders open, its lock held and Ctrl-C held off.
"""

from __future__ import annotations

import os
import stat
from contextlib import suppress
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from knowsley_tracker import commit_point
from knowsley_tracker import safe_files as sf
from knowsley_tracker.errors import ConflictError, UnsafeStoreError
from knowsley_tracker.filenames import segment_name
from knowsley_tracker.storage import folders
from knowsley_tracker.storage.backups import _keep_backup, _keep_damaged, _put_back
from knowsley_tracker.storage.codec import encode
from knowsley_tracker.storage.folders import StoreFolders, _atomic_write, _write_failed, _write_new
from knowsley_tracker.storage.segments import SEGMENTED, _rows_to_seal

if TYPE_CHECKING:
    from knowsley_tracker.storage.file_store import Store


def write_files(store: Store, f: StoreFolders, txn: int) -> os.stat_result | None:
    """Write the new segments and snapshots, then the store (its rename is the commit point).
    On failure the folders are left as they were. Returns the replaced store's status."""
    written: list[tuple[sf.Folder, str]] = []
    try:
        try:
            like = f.store_stat()
            if like is not None and store._base_file is not None:
                _check_unchanged(store, like)
            _write_blobs(store, f, txn, like, written)
            _replace_store(store, f, encode(store.data), like)
        except BaseException:
            for folder, name in written:  # nothing refers to them: leave the folder as it was
                with suppress(OSError):
                    sf.remove(folder, name)
            raise
    except OSError as exc:
        raise _write_failed(store.paths.store, exc) from None
    return like


def _check_unchanged(store: Store, now: os.stat_result) -> None:
    """plan.json must still be the file read under the lock: a program that does not take
    kt's lock (or a member planting a link to a foreign file) swapped it otherwise."""
    base = store._base_file
    assert base is not None
    if (now.st_dev, now.st_ino) != (base.st_dev, base.st_ino):
        raise ConflictError(
            f"{store.paths.store} was replaced by another file while this command held the store's lock "
            "(by a program that does not take kt's lock); nothing was saved. Check the store with "
            "kt doctor, then run the command again."
        )


def _replace_store(store: Store, f: StoreFolders, payload: bytes, like: os.stat_result | None) -> None:
    """Keep the current version, then rename the new one over it (the commit point)."""
    kept: str | None = None
    new_kept = False
    store.last_kept = None
    root = f.root()
    if like is not None:
        saved = _parse_stamp(store._base_saved)
        if store._base_damaged:
            kept, new_kept = _keep_damaged(f, _now(), like), True
        else:
            kept, new_kept = _keep_backup(f, store._base_txn, saved, like)
    backups = f.sub("backups")
    try:
        tmp = _write_new(root, f.store_name, payload, like)
        try:
            if commit_point.interrupt_pending():
                raise KeyboardInterrupt
            sf.replace(root, tmp, f.store_name, folders._os_replace)
        except BaseException:
            sf.remove(root, tmp)
            raise
    except BaseException:
        if kept is not None and new_kept and backups is not None:
            sf.remove(backups, kept)
        raise
    try:
        sf.fsync_folder(root, folders._os_fsync)
    except BaseException:
        # The new version may not be on disk: put the old one back, so that an
        # error always means nothing was saved.
        if kept is not None:
            with suppress(OSError):
                _put_back(f, kept, still_kept=not new_kept)
        else:
            sf.remove(root, f.store_name)
        with suppress(OSError):
            sf.fsync_folder(root)
        raise
    store.last_kept = store.paths.backups / kept if kept is not None else None


def _write_blobs(
    store: Store, f: StoreFolders, txn: int, like: os.stat_result | None, written: list[tuple[sf.Folder, str]]
) -> None:
    """Seal full tails and rewrite changed segments as new immutable files."""
    meta = store.meta
    segments = meta.setdefault("segments", {})
    for table in SEGMENTED:
        entries = segments.setdefault(table, [])
        for entry in entries:
            if entry["file"] in store._dirty_segments:
                rows = store._segment_cache[entry["file"]]
                new_name = segment_name(table, entry["first"], entry["last"], txn)
                _write_blob(f, "segments", new_name, {table: rows}, like, written)
                store._segment_cache[new_name] = rows
                entry["file"], entry["rows"] = new_name, len(rows)
        tail = store.data.get(table, {})
        ids = _rows_to_seal(table, tail)
        if ids:
            first, last = int(ids[0]), int(ids[-1])
            rows = {key: tail[key] for key in ids}
            name = segment_name(table, first, last, txn)
            _write_blob(f, "segments", name, {table: rows}, like, written)
            entries.append({"file": name, "first": first, "last": last, "rows": len(rows)})
            store._table(table).remove(doc_ids=[int(k) for k in ids])
            store._segment_cache[name] = rows
    for name, snapshot in store._new_snapshots.items():
        _write_blob(f, "snapshots", name, snapshot, like, written)


def _write_blob(
    f: StoreFolders,
    sub: str,
    name: str,
    content: dict[str, Any],
    like: os.stat_result | None,
    written: list[tuple[sf.Folder, str]],
) -> None:
    folder = f.sub(sub, like, create=True)
    assert folder is not None
    payload = encode(content)
    existing = sf.entry_stat(folder, name)
    if existing is None:
        written.append((folder, name))
    elif not stat.S_ISREG(existing.st_mode):
        # A link or a pipe planted under the name kt is about to use: never replaced unseen.
        sf.open_file(folder, name)  # raises the clear refusal naming it
        raise UnsafeStoreError(f"{folder / name} is not a file kt made; nothing was saved.")
    else:
        # Written by a writer of this txn number that was killed before its commit.
        with suppress(OSError):
            raw, st = sf.read_file(folder, name)
            if raw == payload and st.st_nlink == 1:
                return  # already there, byte for byte (and in a sticky folder maybe not ours to replace)
    _atomic_write(folder, name, payload, like)


def _now() -> datetime:
    """The moment stamped on a commit: the same clock as the rest of the command
    (KNOWSLEY_TRACKER_NOW when it is set), so history and log entries agree."""
    from knowsley_tracker.dates import Clock

    try:
        return Clock.from_env().now()
    except ValueError:
        return datetime.now(UTC)


def _parse_stamp(stamp: str) -> datetime:
    try:
        moment = datetime.fromisoformat(stamp)
    except ValueError:
        return _now()
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
