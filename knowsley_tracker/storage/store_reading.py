"""Reading a file store: records, rows, meta, snapshots and history, without changing anything.

:class:`StoreReading` is the reading half of :class:`~knowsley_tracker.storage.file_store.Store`
(which adds opening, changing records and the transaction). Rows of the append-only tables are
read from plan.json and, when a command reaches that far back, from the sealed segments.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from operator import itemgetter
from typing import TYPE_CHECKING, Any, TypeVar

from knowsley_tracker.errors import CorruptStoreError
from knowsley_tracker.filenames import require_stored_name
from knowsley_tracker.models import Record
from knowsley_tracker.storage import file_format
from knowsley_tracker.storage.committing import _parse_stamp
from knowsley_tracker.storage.paths import StorePaths
from knowsley_tracker.storage.segments import SEGMENTED, _read_blob
from knowsley_tracker.store_interface import HISTORY, META, Condition, Txn
from knowsley_tracker.store_rows import not_found, row_test, touches, txn_from_row

if TYPE_CHECKING:
    from knowsley_tracker.storage.tinydb_tables import TrackerDB

R = TypeVar("R", bound=Record)
_first = itemgetter(0)


class StoreReading:
    """What every open store can do without the lock: read. Store sets these in its ``__init__``."""

    paths: StorePaths
    # The store's data as read, and the TinyDB tables over it, made by the first change
    # (:meth:`_table`): reads go to the data itself, so a command that only reads never
    # imports TinyDB (2 ms of start-up).
    _held: dict[str, Any]
    _tinydb: TrackerDB | None
    _segment_cache: dict[str, dict[str, Any]]
    _snapshot_cache: dict[str, dict[str, Any]]

    @property
    def data(self) -> dict[str, Any]:
        if self._tinydb is None:
            return self._held
        data: dict[str, Any] = self._tinydb.storage.read()  # type: ignore[assignment]
        return data

    @property
    def meta(self) -> dict[str, Any]:
        meta: dict[str, Any] = self.data[META]["1"]
        return meta

    @property
    def authority(self) -> str:
        return str(self.meta.get("authority", ""))

    @property
    def txn(self) -> int:
        return int(self.meta.get("txn", 0))

    def setting(self, name: str, default: Any) -> Any:
        return self.meta.get("settings", {}).get(name, default)

    @property
    def location(self) -> str:
        return str(self.paths.store)

    @property
    def created_at(self) -> str:
        return str(self.meta.get("created_at", ""))

    @property
    def schema_version(self) -> int:
        return int(self.meta.get("schema_version", file_format.SCHEMA_VERSION))

    def counters(self) -> dict[str, int]:
        return {str(k): int(v) for k, v in self.meta.get("counters", {}).items()}

    def settings(self) -> dict[str, Any]:
        return dict(self.meta.get("settings", {}))

    def _table(self, name: str) -> Any:
        if self._tinydb is None:
            from knowsley_tracker.storage.tinydb_tables import HeldStorage, TrackerDB

            self._tinydb = TrackerDB(self._held, storage=HeldStorage)
        return self._tinydb.table(name)

    def _hold(self, data: dict[str, Any]) -> None:
        """Hold ``data`` as the store's data (as read, or read again)."""
        self._held = data
        self._tinydb = None

    def find(self, cls: type[R], record_id: int) -> R | None:
        """The record with this id, or None."""
        row = self.row(cls.TABLE, record_id)
        return None if row is None else cls.from_record(record_id, row)

    def get(self, cls: type[R], record_id: int) -> R:
        """The record with this id; NotFoundError names the missing id."""
        found = self.find(cls, record_id)
        if found is None:
            raise not_found(cls, record_id)
        return found

    def all(self, cls: type[R]) -> list[R]:
        """Every record of a kind, in id order."""
        return cls.from_records(list(self.rows(cls.TABLE)))

    def row(self, table: str, record_id: int) -> dict[str, Any] | None:
        """The raw stored dict for one record (read-only), or None."""
        held = self.data.get(table, {}).get(str(record_id))  # as TinyDB's get(doc_id=) reads it
        if held is not None:
            return dict(held)
        if table in SEGMENTED:
            for entry in self._segments(table):
                if entry["first"] <= record_id <= entry["last"]:
                    raw = self._load_segment(entry["file"]).get(str(record_id))
                    return None if raw is None else dict(raw)
        return None

    def rows(self, table: str, since_id: int = 0) -> Iterator[tuple[int, dict[str, Any]]]:
        """Raw rows of a table in id order, sealed segments included. Do not modify them."""
        if table in SEGMENTED:
            for entry in self._segments(table):
                if entry["last"] <= since_id:
                    continue
                for key, row in sorted(self._load_segment(entry["file"]).items(), key=lambda kv: int(kv[0])):
                    if int(key) > since_id:
                        yield int(key), row
        yield from self._held_rows(table, since_id)

    def _held_rows(self, table: str, since_id: int = 0) -> list[tuple[int, dict[str, Any]]]:
        """A table's rows in plan.json after ``since_id`` (so never a hand-made id 0), in id
        order (sorted by id alone: rows never compare)."""
        rows = [pair for key, row in self.data.get(table, {}).items() if (pair := (int(key), row))[0] > since_id]
        rows.sort(key=_first)
        return rows

    def rows_newest_first(self, table: str) -> Iterator[tuple[int, dict[str, Any]]]:
        """Raw rows, newest id first, opening older segments only when the caller reads
        that far (stop iterating early to read just the recent part of the log)."""
        yield from self.recent_rows(table)
        if table in SEGMENTED:
            for entry in reversed(self._segments(table)):
                rows = self._load_segment(entry["file"])
                for key in sorted(rows, key=int, reverse=True):
                    yield int(key), rows[key]

    def recent_rows(self, table: str) -> Iterator[tuple[int, dict[str, Any]]]:
        """Rows still held in plan.json (the newest of a segmented table), newest first."""
        tail = self.data.get(table, {})
        for key in sorted(tail, key=int, reverse=True):
            yield int(key), tail[key]

    def count(self, cls: type[Record] | str, *where: Condition) -> int:
        """How many records of a kind (a record class or a table name) match every condition."""
        table = cls if isinstance(cls, str) else cls.TABLE
        if where:
            assert not isinstance(cls, str)
            test = row_test(cls, where)
            return sum(1 for _, row in self.rows(table) if test is None or test(row))
        total = len(self.data.get(table, {}))
        if table in SEGMENTED:
            total += sum(entry["rows"] for entry in self._segments(table))
        return total

    def tables(self) -> list[str]:
        """Names of the record tables this store holds (not _meta)."""
        names = {name for name in self.data if name != META}
        names.update(name for name, entries in self.meta.get("segments", {}).items() if entries)
        return sorted(names)

    def _segments(self, table: str) -> list[dict[str, Any]]:
        segments: list[dict[str, Any]] = self.meta.get("segments", {}).get(table, [])
        return segments

    def _load_segment(self, name: str) -> dict[str, Any]:
        cached = self._segment_cache.get(name)
        if cached is None:
            path = self.paths.segments / require_stored_name("segment", name, self.paths.store)
            content = _read_blob(self.paths, "segments", name, "segment")
            table = next(iter(content)) if content else ""
            cached = content.get(table, {})
            if not isinstance(cached, dict):
                raise CorruptStoreError(f"The segment file {path} is damaged. Run kt doctor.")
            self._segment_cache[name] = cached
        return cached

    def select(
        self,
        cls: type[R],
        *where: Condition,
        since_id: int = 0,
        newest_first: bool = False,
        limit: int | None = None,
    ) -> Iterator[R]:
        """Matching records, tested on the stored rows so that only matches are built."""
        test = row_test(cls, where)
        load = cls.from_record
        rows = self.rows_newest_first(cls.TABLE) if newest_first else self.rows(cls.TABLE, since_id)
        found = 0
        for record_id, row in rows:
            if record_id <= since_id:
                return  # newest first: the rest are older still
            if test is not None and not test(row):
                continue
            yield load(record_id, row)
            found += 1
            if limit is not None and found >= limit:
                return

    def count_by(self, cls: type[Record], field: str, *where: Condition) -> dict[Any, int]:
        test = row_test(cls, where)
        counts: dict[Any, int] = {}
        for _, row in self.rows(cls.TABLE):
            if test is None or test(row):
                value = row.get(field)
                counts[value] = counts.get(value, 0) + 1
        return counts

    def exists(self, cls: type[Record], record_id: int) -> bool:
        return self.row(cls.TABLE, record_id) is not None

    def highest_id(self, cls: type[Record]) -> int:
        return max((i for i, _ in self.rows(cls.TABLE)), default=0)

    def load_snapshot(self, file_name: str) -> dict[str, Any]:
        cached = self._snapshot_cache.get(file_name)
        if cached is None:
            require_stored_name("snapshot", file_name, self.paths.store)
            cached = _read_blob(self.paths, "snapshots", file_name, "snapshot")
            self._snapshot_cache[file_name] = cached
        return cached

    def history(
        self,
        *,
        newest_first: bool = False,
        since_txn: int = 0,
        since: datetime | None = None,
        touching: tuple[str, int] | None = None,
        changes_limit: int | None = None,
    ) -> Iterator[Txn]:
        rows = self.rows_newest_first(HISTORY) if newest_first else self.rows(HISTORY, since_txn)
        for txn, row in rows:
            if txn <= since_txn:
                return  # newest first: the rest are older still
            if touching is not None and not touches(row, touching):
                continue
            if since is not None and _parse_stamp(str(row.get("at", ""))) < since:
                continue
            yield txn_from_row(txn, row, changes_limit)

    def history_entry(self, txn: int) -> Txn | None:
        row = self.row(HISTORY, txn)
        return None if row is None else txn_from_row(txn, row)
