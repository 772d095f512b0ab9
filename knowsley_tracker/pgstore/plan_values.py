"""A plan's own values on the server: settings, authority, creation moment, id
counters and board snapshots. A mixin of :class:`~knowsley_tracker.pgstore.store.PgStore`.

Each change is recorded as a change of the plan itself (``META``), so that kt
history shows it and kt undo can put it back (ids are never handed back).
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from psycopg.types.json import Jsonb

from knowsley_tracker.errors import CorruptStoreError
from knowsley_tracker.pgstore.rows import _moment
from knowsley_tracker.store_interface import META, Change

if TYPE_CHECKING:
    import psycopg

    from knowsley_tracker.pgstore.access import Plan


class PlanValuesMixin:
    """``setting(s)``, ``set_setting``, ``set_authority``, ``set_created_at``,
    ``raise_counter`` and the snapshots, for PgStore."""

    if TYPE_CHECKING:
        _plan: Plan
        _authority: str
        _created_at: str
        _location: str

        @property
        def txn(self) -> int: ...
        def _execute(self, query: Any, params: Sequence[Any] = ()) -> psycopg.Cursor[Any]: ...
        def _one(self, query: Any, params: Sequence[Any] = ()) -> Any: ...
        def _require_transaction(self) -> list[Change]: ...
        def counters(self) -> dict[str, int]: ...

    def _meta_change(self, name: str, old: Any, new: Any) -> None:
        self._require_transaction().append(Change("update", META, 1, diff={name: [old, new]}))

    def setting(self, name: str, default: Any) -> Any:
        row = self._one("SELECT value FROM kt.settings WHERE plan_id = %s AND name = %s", (self._plan.id, name))
        return default if row is None else row[0]

    def settings(self) -> dict[str, Any]:
        rows = self._execute("SELECT name, value FROM kt.settings WHERE plan_id = %s", (self._plan.id,)).fetchall()
        return {str(name): value for name, value in rows}

    def set_setting(self, name: str, value: Any) -> None:
        self._require_transaction()
        old = self.setting(name, None)
        if old == value:
            return
        if value is None:
            self._execute("DELETE FROM kt.settings WHERE plan_id = %s AND name = %s", (self._plan.id, name))
        else:
            self._execute(
                "INSERT INTO kt.settings (plan_id, name, value) VALUES (%s, %s, %s) "
                "ON CONFLICT (plan_id, name) DO UPDATE SET value = EXCLUDED.value",
                (self._plan.id, name, Jsonb(value)),
            )
        self._meta_change(f"settings.{name}", copy.deepcopy(old), copy.deepcopy(value))

    def set_authority(self, name: str) -> None:
        self._require_transaction()
        if name != self._authority:
            self._execute("UPDATE kt.plans SET authority = %s WHERE id = %s", (name, self._plan.id))
            self._meta_change("authority", self._authority, name)
            self._authority = name

    def set_created_at(self, stamp_text: str) -> None:
        self._require_transaction()
        if stamp_text != self._created_at:
            self._execute("UPDATE kt.plans SET created_at = %s WHERE id = %s", (_moment(stamp_text), self._plan.id))
            self._meta_change("created_at", self._created_at, stamp_text)
            self._created_at = stamp_text

    def raise_counter(self, table: str, value: int) -> bool:
        self._require_transaction()
        old = self.counters().get(table, 0)
        if value <= old:
            return False
        row = self._one("SELECT kt.raise_counter(%s, %s, %s)", (self._plan.id, table, value))
        if row and row[0]:
            self._meta_change(f"counters.{table}", old, value)
            return True
        return False

    # -- board snapshots -------------------------------------------------------------------

    def save_snapshot(self, name: str, snapshot: dict[str, Any]) -> str:
        self._require_transaction()
        file_name = f"{name}-t{self.txn + 1:06d}.json"
        self._execute(
            "INSERT INTO kt.snapshots (plan_id, name, snapshot) VALUES (%s, %s, %s)",
            (self._plan.id, file_name, Jsonb(snapshot)),
        )
        return file_name

    def load_snapshot(self, name: str) -> dict[str, Any]:
        row = self._one("SELECT snapshot FROM kt.snapshots WHERE plan_id = %s AND name = %s", (self._plan.id, name))
        if row is None:
            raise CorruptStoreError(f"The plan {self._location} refers to the snapshot {name}, which is missing.")
        loaded: dict[str, Any] = row[0]
        return loaded
