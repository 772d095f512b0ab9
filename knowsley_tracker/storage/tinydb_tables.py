"""The TinyDB glue: the store's data held in memory, tables updated in place with integer ids."""

from __future__ import annotations

from collections.abc import Callable, Iterator, MutableMapping
from typing import Any

from tinydb import Storage, TinyDB
from tinydb.table import Table


class _IdKeyed(MutableMapping[int, Any]):
    """A stored table (string ids, as JSON has them) seen with integer ids, as
    TinyDB's update functions expect, without copying it."""

    def __init__(self, raw: dict[str, Any]) -> None:
        self.raw = raw

    def __getitem__(self, doc_id: int) -> Any:
        return self.raw[str(doc_id)]

    def __setitem__(self, doc_id: int, row: Any) -> None:
        self.raw[str(doc_id)] = row

    def __delitem__(self, doc_id: int) -> None:
        del self.raw[str(doc_id)]

    def __contains__(self, doc_id: object) -> bool:
        return str(doc_id) in self.raw

    def __iter__(self) -> Iterator[int]:
        return (int(key) for key in list(self.raw))

    def __len__(self) -> int:
        return len(self.raw)


class InPlaceTable(Table):
    """A TinyDB table whose writes change the held data in place.

    TinyDB's own ``_update_table`` rebuilds the whole table dict twice on every
    insert, update or removal, which made bulk work quadratic (a 4,000-action
    CSV import spent 10.6 of 16 s there). The store is written to disk once, at
    commit, so the rebuild buys nothing here.
    """

    def _update_table(self, updater: Callable[[dict[int, Any]], None]) -> None:
        tables = self._storage.read()
        assert tables is not None  # HeldStorage always holds the store's data
        raw = tables.setdefault(self.name, {})
        updater(_IdKeyed(raw))  # type: ignore[arg-type]
        self._storage.write(tables)
        self.clear_cache()


class TrackerDB(TinyDB):
    table_class = InPlaceTable


class HeldStorage(Storage):
    """A TinyDB storage over data already read: the store writes it out once, at commit."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data

    def read(self) -> dict[str, Any]:
        return self.data

    def write(self, data: dict[str, Any]) -> None:
        self.data = data
