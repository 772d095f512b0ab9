"""Undo: replaying one command's changes backwards as a new, recorded command.

Repeated undos go further back; an undo is never undone, and nothing from before a restore or a
schema upgrade is. A change that a later command has changed again is refused, with the command
to undo first. No rendering here.
"""

from __future__ import annotations

from dataclasses import dataclass

from knowsley_tracker import dates
from knowsley_tracker.errors import ConflictError, NotFoundError
from knowsley_tracker.models import TABLES
from knowsley_tracker.service import consistency
from knowsley_tracker.service.doctor import reference_problems
from knowsley_tracker.service.history import HistoryEntry, RecordChange, _entry, _expand_all
from knowsley_tracker.service.session import Session
from knowsley_tracker.store_interface import META, ChangeConflict, PlanStore, Txn
from knowsley_tracker.store_rows import ref_of


@dataclass(frozen=True)
class UndoResult:
    target: HistoryEntry
    changes: list[RecordChange]  # what the undo itself changed
    later_by_others: int  # later commands by other people, left as they were


def undo(s: Session, txn: int | None = None) -> UndoResult:
    """Reverse your last command (or the command ``txn``), as a new recorded command.

    Walks back from the newest entry: undo entries and the commands they undid
    are passed over, so repeated undos go further back; an undo is never
    undone, and nothing from before a restore or a schema upgrade is.
    """
    store = s.store
    undone: set[int] = set()
    later_by_others = 0
    target: Txn | None = None
    for entry in store.history(newest_first=True):
        if txn is not None and entry.txn < txn:
            break
        if entry.undo_of is not None:
            undone.add(entry.undo_of)
            if entry.txn == txn:
                raise ConflictError(f"txn {txn} is itself an undo, and an undo is never undone.")
            continue
        if entry.barrier is not None:
            raise ConflictError(_barrier_message(entry, txn))
        if entry.txn in undone:
            if entry.txn == txn:
                raise ConflictError(f"txn {txn} has already been undone.")
            continue
        if txn is not None:
            if entry.txn == txn:
                target = entry
                break
            continue
        if entry.by != s.user:
            later_by_others += 1
            continue
        target = entry
        break
    if target is None:
        if txn is not None:
            raise NotFoundError(f"No txn {txn} in the history (see kt history).")
        raise NotFoundError(f"Nothing to undo: {s.user} has no command left to undo in the history.")
    if not target.changes:
        raise ConflictError(f"txn {target.txn} ({target.what}) changed nothing, so there is nothing to undo.")
    s.audit_extra["undo"] = target.txn
    start = len(store.pending_changes())
    touched: set[tuple[str, int]] = set()
    for change in reversed(target.changes):
        try:
            store.revert(change)
        except ChangeConflict as exc:
            # A record damaged by a hand edit differs from what the command wrote too: say
            # it is damaged (exit 9), not that a later command changed it (exit 5).
            kind = TABLES.get(exc.table)
            if kind is not None:
                store.find(kind, exc.record_id)  # raises CorruptStoreError, naming the record and field
            raise ConflictError(_conflict_message(store, target, exc)) from None
        if change.table != META:
            touched.add(change.key)
    broken = reference_problems(store, touched)
    if broken:
        raise ConflictError(
            f"Cannot undo txn {target.txn} ({target.what}): records would be left pointing at nothing "
            f"({broken[0].message.rstrip('.')}). Change that first, or restore a backup (kt backup list)."
        )
    consistency.check_undo(s, touched, f"Cannot undo txn {target.txn} ({target.what})")
    own = store.pending_changes()[start:]
    return UndoResult(_entry(target, _expand_all(store, target.changes)), _expand_all(store, own), later_by_others)


def _barrier_message(barrier: Txn, txn: int | None) -> str:
    kind = "restored from a backup" if barrier.barrier == "restore" else "upgraded to a new schema version"
    when = dates.format_timestamp(barrier.at)
    if txn == barrier.txn:
        return (
            f"txn {txn} is a {'restore' if barrier.barrier == 'restore' else 'schema upgrade'}, which undo does not "
            "reverse; restore another backup instead (kt backup list)."
        )
    if txn is not None:
        return f"txn {txn} is from before the store was {kind} (txn {barrier.txn}, {when}); undo stops there."
    return f"Nothing to undo: the store was {kind} at txn {barrier.txn} ({when}), and undo stops there."


def _conflict_message(store: PlanStore, target: Txn, exc: ChangeConflict) -> str:
    head = f"Cannot undo txn {target.txn} ({target.what}): "
    ref = ref_of(exc.table, exc.record_id)
    for later in store.history(since_txn=target.txn, touching=(exc.table, exc.record_id)):
        if later.undo_of is not None:
            continue
        for change in later.changes:
            if change.key != (exc.table, exc.record_id):
                continue
            if exc.field is not None and change.op == "update" and exc.field not in (change.diff or {}):
                continue
            what = "changed" if change.op == "update" else ("removed" if change.op == "delete" else "re-created")
            subject = f"{ref}'s {exc.field}" if exc.field and change.op == "update" else ref
            when = dates.format_timestamp(later.at)
            return (
                f"{head}{subject} was {what} later by txn {later.txn} ({later.what}, "
                f"{later.by}, {when}). Undo that first (kt undo --txn {later.txn}), or change {ref} by hand."
            )
    return head + exc.message.removeprefix("Cannot undo: ")
