"""What stores that keep records as JSON rows share: filters evaluated on rows,
history entries to and from their stored form, the words for a missing record, and
undoing one recorded change to a row (every store, the database's too).

Used by the file store (``storage``) and the in-memory store (``memory_store``);
a database store turns the same filters into SQL instead. Imports only the
domain model, errors and the interface.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import MISSING, fields
from datetime import date
from enum import Enum
from typing import Any

from knowsley_tracker.dates import is_moment
from knowsley_tracker.errors import CorruptStoreError, RecordNotFoundError
from knowsley_tracker.models import TABLES, Record
from knowsley_tracker.store_interface import (
    HISTORY,
    META,
    Change,
    ChangeConflict,
    Condition,
    Contains,
    Eq,
    In,
    NotIn,
    Txn,
)

RowTest = Callable[[Mapping[str, Any]], bool]

# Fields of a history row that are not part of ``Txn.extra``.
_TXN_FIELDS = ("at", "by", "what", "changes")


def stored(value: Any) -> Any:
    """A typed value in the form rows hold it: enums by value, dates as ISO strings."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, date):
        return value.isoformat()
    return value


def _default(cls: type[Record], name: str) -> Any:
    """The stored form of a field's default, for rows written before the field existed."""
    for f in fields(cls):
        if f.name == name:
            if f.default_factory is not MISSING:
                return stored(f.default_factory())
            return None if f.default is MISSING else stored(f.default)
    raise ValueError(f"{cls.__name__} has no field {name!r}.")


def row_test(cls: type[Record], where: Sequence[Condition]) -> RowTest | None:
    """One function that tells whether a stored row matches every condition (None: no conditions)."""
    if not where:
        return None
    tests: list[RowTest] = []
    for condition in where:
        name = condition.field
        missing = _default(cls, name)
        if isinstance(condition, Eq):
            tests.append(_eq(name, missing, stored(condition.value)))
        elif isinstance(condition, In):
            tests.append(_in(name, missing, frozenset(stored(v) for v in condition.values), True))
        elif isinstance(condition, NotIn):
            tests.append(_in(name, missing, frozenset(stored(v) for v in condition.values), False))
        elif isinstance(condition, Contains):
            tests.append(_contains(name, stored(condition.value)))
        else:  # pragma: no cover - the Condition union is closed
            raise TypeError(f"Unknown condition {condition!r}.")
    if len(tests) == 1:
        return tests[0]
    return lambda row: all(test(row) for test in tests)


def _eq(name: str, missing: Any, value: Any) -> RowTest:
    return lambda row: row.get(name, missing) == value


def _in(name: str, missing: Any, values: frozenset[Any], inside: bool) -> RowTest:
    return lambda row: (row.get(name, missing) in values) is inside


def _contains(name: str, value: Any) -> RowTest:
    def test(row: Mapping[str, Any]) -> bool:
        held = row.get(name)
        return isinstance(held, list) and value in held

    return test


# -- history rows ----------------------------------------------------------------------


def change_from_list(item: Sequence[Any]) -> Change:
    """A change as the history row keeps it, ``[op, table, id, payload]``."""
    op, table, record_id, payload = item
    if op == "update":
        # What undo replays: {field: [old, new]} (a hand-edited null would undo nothing, silently).
        if type(payload) is not dict or any(type(v) is not list or len(v) != 2 for v in payload.values()):
            raise TypeError("an update's values are not [old, new] pairs")
        return Change(op, str(table), int(record_id), diff=payload)
    return Change(op, str(table), int(record_id), row=payload if isinstance(payload, dict) else None)


def change_to_list(change: Change) -> list[Any]:
    payload = change.diff if change.op == "update" else change.row
    return [change.op, change.table, change.record_id, None if payload is None else dict(payload)]


def txn_from_row(txn: int, row: Mapping[str, Any], changes_limit: int | None = None) -> Txn:
    """A history row (``{"at", "by", "what", "changes", **extra}``) as a typed entry; one
    that is not (edited by hand, damaged) is a damaged store, naming the entry. With
    ``changes_limit``, its first that many changes only (``Txn.more_changes``)."""
    try:
        listed = row.get("changes") or []
        if type(listed) is not list or any(type(c) is not list for c in listed):
            raise TypeError("changes is not a list of lists")
        kept = listed if changes_limit is None else listed[:changes_limit]
        changes = tuple(change_from_list(c) for c in kept)
        at = row.get("at", "")
        if at and not is_moment(at):
            raise ValueError("at is not a moment")
        return Txn(
            txn=txn,
            at=str(row.get("at", "")),
            by=str(row.get("by", "")),
            what=str(row.get("what", "")),
            changes=changes,
            extra={k: v for k, v in row.items() if k not in _TXN_FIELDS},
            more_changes=len(listed) - len(kept),
        )
    except (ValueError, TypeError, AttributeError):
        at = row.get("at") if isinstance(row, Mapping) else None
        if at and not is_moment(at):
            raise CorruptStoreError(
                f"History entry t{txn} in the store has at {str(at)[:40]!r}, which is not an ISO 8601 date and "
                "time: the store was edited by hand or damaged. kt doctor lists what it cannot read; kt restore "
                "brings back a backup."
            ) from None
        raise unreadable_history(txn, row.get("changes") if isinstance(row, Mapping) else row) from None


def unreadable_history(txn: int, changes: Any) -> CorruptStoreError:
    """The error for a history entry whose changes kt cannot replay (edited by hand, or
    inserted through SQL on a server)."""
    shown = repr(changes)
    return CorruptStoreError(
        f"History entry t{txn} in the store cannot be read (its changes are {shown[:40]}, not a list of "
        "[operation, table, id, values]): the store was edited by hand or damaged. kt doctor lists what it "
        "cannot read; kt restore brings back a backup."
    )


def txn_to_row(entry: Txn) -> dict[str, Any]:
    """The stored form of a history entry (the inverse of :func:`txn_from_row`)."""
    row = dict(entry.extra)
    row.update(at=entry.at, by=entry.by, what=entry.what, changes=[change_to_list(c) for c in entry.changes])
    return row


def touches(row: Mapping[str, Any], key: tuple[str, int]) -> bool:
    """True when a stored history row changed the record ``key`` (table, id)."""
    table, record_id = key
    return any(c[1] == table and int(c[2]) == record_id for c in row.get("changes") or ())


# -- words -------------------------------------------------------------------------------

_NOUNS = {"FocusArea": "focus area", "LogEntry": "log entry", "KpiValue": "KPI value", "Kpi": "KPI"}


def noun(cls: type[Record]) -> str:
    """What people call one record of a kind: ``focus area``, ``KPI``, ``action``."""
    return _NOUNS.get(cls.__name__, cls.__name__.lower())


def ref_of(table: str, record_id: int) -> str:
    """How people write a record's id: ``A12``, ``L40``; ``txn 7`` for history entries."""
    if table == META:
        return "the plan's settings"
    if table == HISTORY:
        return f"txn {record_id}"
    cls = TABLES.get(table)
    return f"{cls.PREFIX}{record_id}" if cls is not None else f"{table} {record_id}"


def not_found(cls: type[Record], record_id: int) -> RecordNotFoundError:
    """The error every store raises for a missing record: ``No action A12.``"""
    return RecordNotFoundError(f"No {noun(cls)} {cls.PREFIX}{record_id}.", kind=cls.TABLE, record_id=record_id)


def reverse_row_change(
    change: Change,
    current: dict[str, Any] | None,
    *,
    remove: Callable[[], object],
    put_back: Callable[[dict[str, Any]], object],
    update: Callable[[dict[str, Any]], object],
    reverse: bool = True,
) -> Change:
    """Undo (or, ``reverse=False``, redo) one recorded change to a record's row, given the
    row as it is now (``current``, None when there is none) and the store's three ways of
    changing it. Returns the change made, for the store to record.

    Refuses with :class:`ChangeConflict`, changing nothing, when the row no longer looks as
    the change left it: undoing would overwrite a later change."""
    table, record_id = change.table, change.record_id
    ref = ref_of(table, record_id)
    if (change.op == "create") == reverse:  # the change made the record: remove it
        if current is None:
            raise ChangeConflict(f"Cannot undo: {ref} has already gone.", table, record_id)
        if change.row is not None:  # None for log entries, which never change
            for name in sorted(set(change.row) | set(current)):
                if change.row.get(name) != current.get(name):
                    raise ChangeConflict(
                        f"Cannot undo: {ref} has changed since (its {name} is different).", table, record_id, name
                    )
        remove()
        return Change("delete", table, record_id, row=current)
    if change.op in ("create", "delete"):  # the change removed the record: put it back
        if current is not None:
            raise ChangeConflict(f"Cannot undo: {ref} exists again.", table, record_id)
        if change.row is None:
            raise ChangeConflict(f"Cannot undo: the history does not hold {ref} as it was.", table, record_id)
        row = dict(change.row)
        put_back(row)
        return Change("create", table, record_id, row=None if table == "log" else row)
    if current is None:
        raise ChangeConflict(f"Cannot undo: {ref} has gone.", table, record_id)
    diff: dict[str, list[Any]] = {}
    for name, (old, new) in (change.diff or {}).items():
        expected, target = (new, old) if reverse else (old, new)
        if current.get(name) != expected:
            raise ChangeConflict(
                f"Cannot undo: {ref} has changed since (its {name} is different); undo the later change first.",
                table,
                record_id,
                name,
            )
        diff[name] = [expected, target]
    if diff:
        update({name: values[1] for name, values in diff.items()})
    return Change("update", table, record_id, diff=diff)


def reverse_meta_change(
    diff: Mapping[str, Sequence[Any]],
    *,
    setting: Callable[[str], Any],
    set_setting: Callable[[str, Any], object],
    value: Callable[[str], Any],
    set_value: Callable[[str, Any, Any], object],
    raise_counter: Callable[[str, int], object] | None = None,
    reverse: bool = True,
) -> None:
    """Undo (or redo) one recorded change to the plan's own record: settings through the
    store's setting calls, other fields (authority, created_at...) through ``value`` and
    ``set_value(name, was, becomes)``. Id counters never move back; redone, they rise
    (``raise_counter``). Refuses with :class:`ChangeConflict` what changed since."""
    for name, (old, new) in diff.items():
        expected, target = (new, old) if reverse else (old, new)
        if name.startswith("counters."):
            if not reverse and raise_counter is not None:
                raise_counter(name.split(".", 1)[1], int(target))
            continue
        if name.startswith("settings."):
            key = name.split(".", 1)[1]
            if setting(key) != expected:
                raise ChangeConflict(
                    f"Cannot undo: the setting {key} has changed since; undo the later change first.", META, 1, name
                )
            set_setting(key, target)
            continue
        if value(name) != expected:
            raise ChangeConflict(f"Cannot undo: the plan's {name} has changed since.", META, 1, name)
        set_value(name, expected, target)
