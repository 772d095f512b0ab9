"""Backups and restore as kt backup list and kt restore see them.

Restore works on the store's files through :mod:`knowsley_tracker.storage` without opening a
possibly damaged ``plan.json`` as a store. No rendering here.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from knowsley_tracker.config import read_setting_or_default
from knowsley_tracker.errors import ConflictError, NotFoundError, UnsafeStoreError, ValidationError
from knowsley_tracker.storage import (
    DEFAULT_BACKUPS,
    Backup,
    Restored,
    Store,
    StorePaths,
    Undone,
    backup_problem,
    decode,
    list_damaged,
    probe,
    read_backup,
    user_name,
)
from knowsley_tracker.storage import list_backups as storage_backups
from knowsley_tracker.store_interface import HISTORY, META


@dataclass(frozen=True)
class BackupInfo:
    backup: Backup
    size: int
    problem: str | None  # why it cannot be restored; None when good
    last_command: str = ""  # the command that saved this version
    last_by: str = ""


@dataclass(frozen=True)
class BackupList:
    folder: Path
    keep: int
    backups: list[BackupInfo]
    damaged: list[BackupInfo]


def _describe_backup(backup: Backup) -> BackupInfo:
    try:
        raw = read_backup(backup)
    except UnsafeStoreError:
        return BackupInfo(backup, 0, backup_problem(backup))
    except OSError as exc:
        return BackupInfo(backup, 0, f"cannot be read ({exc.strerror or exc})")
    if backup.damaged:
        return BackupInfo(backup, len(raw), "a damaged store kept aside by kt restore")
    problem = backup_problem(backup)
    if problem is not None:
        return BackupInfo(backup, len(raw), problem)
    data = decode(raw)
    last = data.get(HISTORY, {}).get(str(backup.txn))
    if backup.txn == 0 or not isinstance(last, dict):
        # A new store has no history entry; an older one's may be sealed in a segment.
        return BackupInfo(backup, len(raw), None, "kt init" if backup.txn == 0 else "")
    what = f"undo of txn {last['undo']}" if isinstance(last.get("undo"), int) else str(last.get("what", ""))
    return BackupInfo(backup, len(raw), None, what, str(last.get("by", "")))


def backups(path: Path) -> BackupList:
    """Every backup of the store, newest first, with what each holds (works on a damaged store)."""
    paths = StorePaths(path)
    data, _ = probe(path)
    keep = DEFAULT_BACKUPS
    if data is not None:
        keep = read_setting_or_default(data[META]["1"].get("settings", {}), "backups")
    return BackupList(
        paths.backups,
        keep,
        [_describe_backup(b) for b in storage_backups(paths)],
        [_describe_backup(b) for b in list_damaged(paths)],
    )


def find_backup(path: Path, name: str) -> Backup:
    """A backup by file name (as kt backup list shows it) or by the txn it holds (``t11`` or ``11``)."""
    paths = StorePaths(path)
    wanted = Path(name.strip()).name
    found = storage_backups(paths)
    for backup in found:
        if backup.name == wanted:
            return backup
    for kept in list_damaged(paths):
        if kept.name == wanted:
            raise ValidationError(
                f"{kept.name} is a damaged store that kt restore kept aside; it cannot be restored. "
                "Choose a backup from kt backup list."
            )
    number = wanted.lower().removeprefix("t")
    if number.isdigit():
        for backup in found:
            if backup.txn == int(number):
                return backup
    raise NotFoundError(f"No backup {name!r} in {paths.backups}: see kt backup list.")


def restore(path: Path, name: str | None, *, by: str, lock_timeout: float, yes: bool = False) -> Restored:
    """Bring back a backup (default: the newest good one); what it replaces is kept.

    Commands saved after the backup are undone (their history stays). When any of them
    was made by someone other than ``by``, the restore is refused unless ``yes``: the
    count is taken under the lock, so it is the count of what the restore would undo."""
    chosen = find_backup(path, name) if name else None

    def confirm(backup: Backup, undone: list[Undone]) -> None:
        others = [u for u in undone if u.by != by or not _saved_by_me(u)]
        if others and not yes:
            raise ConflictError(
                f"Restoring {backup.name} would undo {undone_summary(undone, by)}. Nothing was restored; "
                f"to undo them anyway: kt restore {backup.name} --yes"
            )

    return Store.restore(path, chosen, by=by, lock_timeout=lock_timeout, confirm=confirm)


def undone_summary(undone: list[Undone] | tuple[Undone, ...], by: str) -> str:
    """``3 commands saved since it: 2 by Alice Example (txn 14 log A1, ...), 1 by you``."""
    n = len(undone)
    people: dict[str, list[Undone]] = {}
    for item in undone:
        who = item.by
        if not _saved_by_me(item) and item.uid is not None:
            who = f"{item.by or 'someone'}, saved by {user_name(item.uid)}"  # a name several people use
        people.setdefault(who, []).append(item)
    parts = []
    for who, items in sorted(people.items(), key=lambda kv: (kv[0] == by, -len(kv[1]), kv[0])):
        name = f"you ({who})" if who == by else who
        shown = ", ".join(f"txn {u.txn} {u.what}" for u in items[:3]) + (", ..." if len(items) > 3 else "")
        parts.append(f"{len(items)} by {name} ({shown})")
    return f"{n} command{'s' if n != 1 else ''} saved since it: {'; '.join(parts)}"


def _saved_by_me(item: Undone) -> bool:
    """Saved by this login, as far as the file that holds it says (unknown when it is gone)."""
    return item.uid is None or item.uid == os.geteuid()
