"""The in-memory store: the storage interface without files, for fast tests.

:class:`MemoryStore` implements :class:`~knowsley_tracker.store_interface.PlanStore`
with the same rules as the file store: ids never reused, one history entry per
transaction, changes discarded when a transaction fails, undo refusing to
overwrite later changes. Rows are kept as JSON text, so every read is the
caller's own copy and nothing that JSON cannot hold slips through. Nothing
is saved anywhere: the plan lives as long as the object.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

from knowsley_tracker.errors import ConflictError, CorruptStoreError
from knowsley_tracker.models import Record
from knowsley_tracker.store_interface import META, Change, Condition, Txn
from knowsley_tracker.store_rows import (
    not_found,
    reverse_meta_change,
    reverse_row_change,
    row_test,
    touches,
    txn_from_row,
    txn_to_row,
)

R = TypeVar("R", bound=Record)

SCHEMA_VERSION = 1


def _encode(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


@dataclass
class _State:
    """Everything a transaction may change, copied at its start so a failure can put it back."""

    meta: dict[str, Any]
    tables: dict[str, dict[int, str]] = field(default_factory=dict)
    history: dict[int, str] = field(default_factory=dict)
    snapshots: dict[str, str] = field(default_factory=dict)

    def copy(self) -> _State:
        return _State(
            copy.deepcopy(self.meta),
            {name: dict(rows) for name, rows in self.tables.items()},
            dict(self.history),
            dict(self.snapshots),
        )


class MemoryStore:
    """A plan held in memory (see the module docstring)."""

    def __init__(self, *, authority: str, created_at: str, location: str = "memory") -> None:
        self._location = location
        self._state = _State(
            {"authority": authority, "created_at": created_at, "txn": 0, "counters": {}, "settings": {}}
        )
        self._pending: list[Change] | None = None
        self._closed = False

    # -- what the store is -----------------------------------------------------------

    @property
    def location(self) -> str:
        return self._location

    @property
    def writable(self) -> bool:
        return not self._closed

    @property
    def authority(self) -> str:
        return str(self._state.meta["authority"])

    @property
    def created_at(self) -> str:
        return str(self._state.meta["created_at"])

    @property
    def schema_version(self) -> int:
        return SCHEMA_VERSION

    @property
    def txn(self) -> int:
        return int(self._state.meta["txn"])

    def close(self) -> None:
        self._closed = True

    # -- rows --------------------------------------------------------------------------

    def _rows(self, table: str) -> dict[int, str]:
        return self._state.tables.setdefault(table, {})

    def _row(self, table: str, record_id: int) -> dict[str, Any] | None:
        raw = self._rows(table).get(record_id)
        return None if raw is None else dict(json.loads(raw))

    def _put(self, table: str, record_id: int, row: dict[str, Any]) -> None:
        self._rows(table)[record_id] = _encode(row)

    # -- reading records -----------------------------------------------------------------

    def find(self, cls: type[R], record_id: int) -> R | None:
        row = self._row(cls.TABLE, record_id)
        return None if row is None else cls.from_record(record_id, row)

    def get(self, cls: type[R], record_id: int) -> R:
        found = self.find(cls, record_id)
        if found is None:
            raise not_found(cls, record_id)
        return found

    def all(self, cls: type[R]) -> list[R]:
        return list(self.select(cls))

    def select(
        self,
        cls: type[R],
        *where: Condition,
        since_id: int = 0,
        newest_first: bool = False,
        limit: int | None = None,
    ) -> Iterator[R]:
        test = row_test(cls, where)
        rows = self._rows(cls.TABLE)
        ids = sorted((i for i in rows if i > since_id), reverse=newest_first)
        found = 0
        for record_id in ids:
            raw = rows.get(record_id)
            if raw is None:  # removed while the caller was reading
                continue
            row = json.loads(raw)
            if test is not None and not test(row):
                continue
            yield cls.from_record(record_id, row)
            found += 1
            if limit is not None and found >= limit:
                return

    def count(self, cls: type[Record], *where: Condition) -> int:
        test = row_test(cls, where)
        rows = self._rows(cls.TABLE)
        if test is None:
            return len(rows)
        return sum(1 for raw in rows.values() if test(json.loads(raw)))

    def count_by(self, cls: type[Record], field: str, *where: Condition) -> dict[Any, int]:
        test = row_test(cls, where)
        counts: dict[Any, int] = {}
        for raw in self._rows(cls.TABLE).values():
            row = json.loads(raw)
            if test is None or test(row):
                counts[row.get(field)] = counts.get(row.get(field), 0) + 1
        return counts

    def exists(self, cls: type[Record], record_id: int) -> bool:
        return record_id in self._rows(cls.TABLE)

    def highest_id(self, cls: type[Record]) -> int:
        return max(self._rows(cls.TABLE), default=0)

    def next_id(self, table: str) -> int:
        return int(self._state.meta["counters"].get(table, 0)) + 1

    def counters(self) -> dict[str, int]:
        return dict(self._state.meta["counters"])

    # -- changing records ----------------------------------------------------------------

    def _require_transaction(self) -> list[Change]:
        if self._pending is None:
            raise RuntimeError("Store changes must happen inside store.transaction().")
        return self._pending

    def add(self, record: R) -> R:
        pending = self._require_transaction()
        table = record.TABLE
        record.id = self.next_id(table)
        if record.id in self._rows(table):
            raise ConflictError(
                f"The id counter for {table} is behind the ids already stored, so {record.ref} is taken; "
                "run kt doctor --fix, then try again."
            )
        self._state.meta["counters"][table] = record.id
        self._create(pending, table, record.id, record.to_record())
        return record

    def add_with_id(self, record: R) -> R:
        pending = self._require_transaction()
        table = record.TABLE
        if record.id < 1 or record.id in self._rows(table):
            raise ConflictError(f"{record.ref} already exists.")
        counters = self._state.meta["counters"]
        counters[table] = max(int(counters.get(table, 0)), record.id)
        self._create(pending, table, record.id, record.to_record())
        return record

    def _create(self, pending: list[Change], table: str, record_id: int, row: dict[str, Any]) -> None:
        self._put(table, record_id, row)
        # Log entries never change, so the history does not copy them (as in the file store).
        stored = None if table == "log" else json.loads(_encode(row))
        pending.append(Change("create", table, record_id, row=stored))

    def save(self, record: Record) -> dict[str, list[Any]]:
        pending = self._require_transaction()
        table = record.TABLE
        old = self._row(table, record.id)
        if old is None:
            raise not_found(type(record), record.id)
        new = json.loads(_encode(record.to_record()))
        diff = {k: [old.get(k), v] for k, v in new.items() if old.get(k) != v}
        if diff:
            self._put(table, record.id, {**old, **new})
            pending.append(Change("update", table, record.id, diff=diff))
        return diff

    def delete(self, cls: type[Record], record_id: int) -> None:
        pending = self._require_transaction()
        old = self._row(cls.TABLE, record_id)
        if old is None:
            raise not_found(cls, record_id)
        del self._rows(cls.TABLE)[record_id]
        pending.append(Change("delete", cls.TABLE, record_id, row=old))

    @contextmanager
    def transaction(
        self, *, by: str, what: str, extra: dict[str, Any] | None = None, at: datetime | None = None
    ) -> Iterator[MemoryStore]:
        if self._closed:
            raise RuntimeError("This store is closed.")
        if self._pending is not None:
            raise RuntimeError("Transactions do not nest.")
        before = self._state.copy()
        self._pending = []
        try:
            yield self
            self._commit(by=by, what=what, extra=extra, at=at)
        except BaseException:
            self._state = before
            raise
        finally:
            self._pending = None

    def _commit(self, *, by: str, what: str, extra: dict[str, Any] | None, at: datetime | None) -> None:
        changes = self._pending or []
        if not changes:
            return
        txn = self.txn + 1
        stamp = (at or datetime.now(UTC)).astimezone(UTC).isoformat(timespec="seconds")
        entry = Txn(txn, stamp, by, what, tuple(changes), dict(extra or {}))
        self._state.history[txn] = _encode(txn_to_row(entry))
        self._state.meta["txn"] = txn
        self._state.meta["updated_at"] = stamp

    def pending_changes(self) -> list[Change]:
        return list(self._pending or [])

    # -- the plan's own values -----------------------------------------------------------

    def _meta_change(self, name: str, old: Any, new: Any) -> None:
        self._require_transaction().append(Change("update", META, 1, diff={name: [old, new]}))

    def setting(self, name: str, default: Any) -> Any:
        return copy.deepcopy(self._state.meta["settings"].get(name, default))

    def settings(self) -> dict[str, Any]:
        return copy.deepcopy(self._state.meta["settings"])

    def set_setting(self, name: str, value: Any) -> None:
        self._require_transaction()
        settings = self._state.meta["settings"]
        old = settings.get(name)
        if old == value:
            return
        if value is None:
            settings.pop(name, None)
        else:
            settings[name] = value
        self._meta_change(f"settings.{name}", old, value)

    def set_authority(self, name: str) -> None:
        self._set_meta("authority", name)

    def set_created_at(self, stamp: str) -> None:
        self._set_meta("created_at", stamp)

    def _set_meta(self, name: str, value: Any) -> None:
        self._require_transaction()
        old = self._state.meta.get(name)
        if old != value:
            self._state.meta[name] = value
            self._meta_change(name, old, value)

    def raise_counter(self, table: str, value: int) -> bool:
        self._require_transaction()
        counters = self._state.meta["counters"]
        old = int(counters.get(table, 0))
        if value <= old:
            return False
        counters[table] = value
        self._meta_change(f"counters.{table}", old, value)
        return True

    # -- history and undo ------------------------------------------------------------------

    def history(
        self,
        *,
        newest_first: bool = False,
        since_txn: int = 0,
        since: datetime | None = None,
        touching: tuple[str, int] | None = None,
        changes_limit: int | None = None,
    ) -> Iterator[Txn]:
        for txn in sorted((t for t in self._state.history if t > since_txn), reverse=newest_first):
            row = json.loads(self._state.history[txn])
            if touching is not None and not touches(row, touching):
                continue
            if since is not None and datetime.fromisoformat(row["at"]) < since:
                continue
            yield txn_from_row(txn, row, changes_limit)

    def history_entry(self, txn: int) -> Txn | None:
        raw = self._state.history.get(txn)
        return None if raw is None else txn_from_row(txn, json.loads(raw))

    def revert(self, change: Change) -> None:
        pending = self._require_transaction()
        table, record_id = change.table, change.record_id
        if table == META:
            self._revert_meta(change)
            return
        current = self._row(table, record_id)
        rows = self._rows(table)
        pending.append(
            reverse_row_change(
                change,
                current,
                remove=lambda: rows.pop(record_id),
                put_back=lambda row: self._put(table, record_id, row),
                update=lambda fields: self._put(table, record_id, {**(current or {}), **fields}),
            )
        )

    def _revert_meta(self, change: Change) -> None:
        def set_value(name: str, was: Any, becomes: Any) -> None:
            self._state.meta[name] = becomes
            self._meta_change(name, was, becomes)

        reverse_meta_change(
            change.diff or {},
            setting=lambda key: self.setting(key, None),
            set_setting=self.set_setting,
            value=self._state.meta.get,
            set_value=set_value,
        )

    # -- board snapshots -------------------------------------------------------------------

    def save_snapshot(self, name: str, snapshot: dict[str, Any]) -> str:
        self._require_transaction()
        file_name = f"{name}-t{self.txn + 1:06d}.json"
        self._state.snapshots[file_name] = _encode(snapshot)
        return file_name

    def load_snapshot(self, name: str) -> dict[str, Any]:
        raw = self._state.snapshots.get(name)
        if raw is None:
            raise CorruptStoreError(
                f"The store {self._location} refers to the snapshot {name}, which is missing. Run kt doctor."
            )
        loaded: dict[str, Any] = json.loads(raw)
        return loaded
