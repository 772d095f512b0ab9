"""The audit history: what each saved command changed, newest first.

The history is the ``history`` table: one row per committed command (id = txn) listing its
changes as ``[op, table, id, payload]``. This module turns those rows into HistoryEntry values
for ``kt history``. No rendering here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import datetime, time
from typing import Any

from knowsley_tracker.errors import NotFoundError, ValidationError
from knowsley_tracker.models import (
    PREFIXES,
    TABLES,
    LogEntry,
)
from knowsley_tracker.patterns import LazyPattern
from knowsley_tracker.service.session import Session
from knowsley_tracker.store_interface import HISTORY, Change, PlanStore, Txn
from knowsley_tracker.store_rows import ref_of

DEFAULT_HISTORY_LIMIT = 20
# Changes listed per command when kt history lists commands (not for one record or one
# txn): an import is one command with every record of a plan in it (57,264 for the
# region plan, 300,000 lines printed); ``kt history tN`` lists all of its changes.
CHANGES_LISTED = 50


@dataclass(frozen=True)
class FieldChange:
    name: str
    old: Any
    new: Any


@dataclass(frozen=True)
class RecordChange:
    """One change to one record, as kept in the history."""

    op: str  # create, update or delete
    table: str
    record_id: int
    fields: list[FieldChange]
    # The whole row for creates and deletes; for a log entry's create (stored
    # without a copy, since log entries never change) the entry itself.
    row: dict[str, Any] | None = None

    @property
    def ref(self) -> str:
        return ref_of(self.table, self.record_id)


@dataclass(frozen=True)
class HistoryEntry:
    """One committed command: who, when, what, and the changes it made."""

    txn: int
    at: str
    by: str
    what: str
    changes: list[RecordChange]
    extra: dict[str, Any] = field(default_factory=dict)
    more_changes: int = 0  # changes of the command not listed (kt history tN lists them)

    @property
    def undo_of(self) -> int | None:
        value = self.extra.get("undo")
        return int(value) if isinstance(value, int) else None


_REF = LazyPattern(r"([A-Za-z]{1,2})(\d+)")


def parse_record_ref(text: str) -> tuple[str, int]:
    """Read any record id (``A12``, ``L40``, ``KV3``, ``t15`` for a txn) as (table, id)."""
    m = _REF.fullmatch(text.strip())
    if m:
        prefix = m[1].upper()
        if prefix == "T":
            return HISTORY, int(m[2])
        cls = PREFIXES.get(prefix)
        if cls is not None and int(m[2]) > 0:
            return cls.TABLE, int(m[2])
    known = ", ".join(sorted(PREFIXES))
    raise ValidationError(f"{text!r} is not a record id: use a prefix ({known}) and a number, e.g. A12 or L40.")


def _field_order(table: str, row: Mapping[str, Any]) -> list[str]:
    cls = TABLES.get(table)
    order = [f.name for f in fields(cls) if f.name != "id"] if cls is not None else []
    return [name for name in order if name in row] + sorted(name for name in row if name not in order)


def _is_blank(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


class _RemovedLogs:
    """Log entries removed by a later undo or restore, as that later change keeps them
    (a log entry's create does not copy it into the history). From the commands listed;
    when one is not among the changes they list, from those commands' unlisted changes."""

    def __init__(self, store: PlanStore) -> None:
        self._store = store
        self._rows: dict[int, Mapping[str, Any]] = {}
        self._cut: list[int] = []  # txns of listed commands with unlisted changes
        self._read_whole = False

    def note(self, entry: Txn) -> None:
        self._keep(entry.changes)
        if entry.more_changes:
            self._cut.append(entry.txn)

    def _keep(self, changes: Sequence[Change]) -> None:
        for change in changes:
            if change.op == "delete" and change.table == LogEntry.TABLE and change.row is not None:
                self._rows.setdefault(change.record_id, change.row)

    def get(self, record_id: int) -> Mapping[str, Any] | None:
        return self._rows.get(record_id)

    def unlisted(self, record_id: int) -> Mapping[str, Any] | None:
        """The entry as a command's unlisted change removed it: read once, on the first need."""
        if not self._read_whole:
            self._read_whole = True
            for txn in self._cut:
                whole = self._store.history_entry(txn)
                if whole is not None:
                    self._keep(whole.changes)
        return self._rows.get(record_id)


def _expand(change: Change, log_rows: _RemovedLogs, store: PlanStore) -> RecordChange:
    if change.op == "update":
        changed = [FieldChange(str(name), old, new) for name, (old, new) in dict(change.diff or {}).items()]
        return RecordChange(change.op, change.table, change.record_id, changed)
    row: Mapping[str, Any] | None = change.row
    if row is None and change.table == LogEntry.TABLE:
        row = log_rows.get(change.record_id)
        if row is None:
            entry = store.find(LogEntry, change.record_id)
            row = None if entry is None else entry.to_record()
        if row is None:  # gone: removed by a change not listed
            row = log_rows.unlisted(change.record_id)
    shown: list[FieldChange] = []
    if row is not None:
        for name in _field_order(change.table, row):
            value = row[name]
            if change.op == "create" and _is_blank(value):
                continue
            shown.append(FieldChange(name, None, value) if change.op == "create" else FieldChange(name, value, None))
    return RecordChange(change.op, change.table, change.record_id, shown, None if row is None else dict(row))


def _entry(txn: Txn, changes: list[RecordChange]) -> HistoryEntry:
    return HistoryEntry(txn.txn, txn.at, txn.by, txn.what, changes, dict(txn.extra), txn.more_changes)


def history(
    s: Session, record: str | None = None, *, since: str | None = None, limit: int | None = None
) -> list[HistoryEntry]:
    """Commands that changed the plan, oldest first: for one record, since a date, or the latest.
    Listing commands (not one record's), each lists its first :data:`CHANGES_LISTED` changes."""
    if limit is not None and limit < 1:
        raise ValidationError("--limit takes a number of commands, 1 or more.")
    wanted = parse_record_ref(record) if record else None
    since_day = s.parse_date(since) if since else None
    if wanted is None and since_day is None and limit is None:
        limit = DEFAULT_HISTORY_LIMIT
    store = s.store
    if wanted is not None and wanted[0] == HISTORY:
        found = store.history_entry(wanted[1])
        if found is None:
            raise NotFoundError(f"No txn {wanted[1]} in the history.")
        return [_entry(found, _expand_all(store, found.changes))]
    # Commands from the start of ``since`` in local time.
    start = datetime.combine(since_day, time(0)).astimezone() if since_day is not None else None
    picked: list[Txn] = []
    removed_logs = _RemovedLogs(store)
    listed = CHANGES_LISTED if wanted is None else None  # one record's changes: all of them
    for entry in store.history(newest_first=True, since=start, touching=wanted, changes_limit=listed):
        removed_logs.note(entry)
        picked.append(entry)
        if limit is not None and len(picked) >= limit:
            break
    if wanted is not None and not picked and not _exists(store, *wanted):
        raise NotFoundError(f"No changes to {ref_of(*wanted)} are recorded, and there is no such record.")
    out = []
    for entry in reversed(picked):
        changes: Sequence[Change] = entry.changes
        if wanted is not None:
            changes = [c for c in changes if c.key == wanted]
        out.append(_entry(entry, _expand_all(store, changes, removed_logs)))
    return out


def _exists(store: PlanStore, table: str, record_id: int) -> bool:
    cls = TABLES.get(table)
    return cls is not None and store.exists(cls, record_id)


def _expand_all(
    store: PlanStore, changes: Sequence[Change], removed_logs: _RemovedLogs | None = None
) -> list[RecordChange]:
    removed = removed_logs if removed_logs is not None else _RemovedLogs(store)
    return [_expand(change, removed, store) for change in changes]
