"""History and undo on the server: reading ``kt.history`` and reverting a change.

A mixin of :class:`~knowsley_tracker.pgstore.store.PgStore`, kept apart from the
record queries. The history row's ``login`` is who made a command (the database
fills it in); ``on_behalf_of`` is whom it was for, when kt --by named someone.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from psycopg import sql

from knowsley_tracker.models import TABLES
from knowsley_tracker.pgstore.rows import PAGE, stamp
from knowsley_tracker.store_interface import META, Change, Txn
from knowsley_tracker.store_rows import reverse_meta_change, reverse_row_change

if TYPE_CHECKING:
    import psycopg

    from knowsley_tracker.models import Record
    from knowsley_tracker.pgstore.access import Plan

FIRST_PAGE = 50  # history rows in the first page; then four times as many, up to PAGE
_HISTORY_COLUMNS = sql.SQL("txn, at, login, on_behalf_of, what, changes, extra")
# The first changes only, sliced in the server (an import's one row holds every record
# of the plan: 57,264 changes, 4 MB of JSON, for the region), and how many there are.
_FIRST_CHANGES = sql.SQL(
    "txn, at, login, on_behalf_of, what, jsonb_path_query_array(changes, '$[0 to $last]', "
    "jsonb_build_object('last', %s::integer - 1)), extra, jsonb_array_length(changes)"
)


class HistoryMixin:
    """``history``, ``history_entry``, ``history_login`` and ``revert`` for PgStore."""

    if TYPE_CHECKING:
        _plan: Plan
        _authority: str
        _created_at: str

        def _execute(self, query: Any, params: Sequence[Any] = ()) -> psycopg.Cursor[Any]: ...
        def _one(self, query: Any, params: Sequence[Any] = ()) -> Any: ...
        def _require_transaction(self) -> list[Change]: ...
        def _row(self, table: str, record_id: int) -> dict[str, Any] | None: ...
        def _insert(self, record: Record, *, with_id: bool, unless_taken: bool = False) -> int | None: ...
        def _update(self, table: str, record_id: int, changed: dict[str, Any]) -> None: ...
        def _delete(self, table: str, record_id: int) -> None: ...
        def setting(self, name: str, default: Any) -> Any: ...
        def set_setting(self, name: str, value: Any) -> None: ...
        def set_authority(self, name: str) -> None: ...
        def set_created_at(self, stamp_text: str) -> None: ...

    @staticmethod
    def _txn(row: Sequence[Any]) -> Txn:
        from knowsley_tracker.store_rows import change_from_list, unreadable_history

        txn, at, login, on_behalf_of, what, changes, extra = row[:7]
        try:
            kept = tuple(change_from_list(c) for c in changes or ())
        except (ValueError, TypeError, AttributeError):
            # A row put in through SQL (an editor may; an officer's are checked by the
            # database, migration 0007) that undo could not replay: one line, exit 9.
            raise unreadable_history(int(txn), changes) from None
        # ``by`` is whom the command was for: the login itself unless it acted on
        # someone's behalf. The login is always in the row (history_login).
        return Txn(
            txn=int(txn),
            at=stamp(at),
            by=on_behalf_of or login,
            what=what,
            changes=kept,
            extra=dict(extra or {}),
            more_changes=int(row[7]) - len(kept) if len(row) > 7 else 0,
        )

    def history_login(self, txn: int) -> str | None:
        """The database login that made a command (beside ``Txn.by``, which may name
        someone it acted for): what ``kt history`` on the server shows as who."""
        row = self._one("SELECT login FROM kt.history WHERE plan_id = %s AND txn = %s", (self._plan.id, txn))
        return None if row is None else str(row[0])

    def history(
        self,
        *,
        newest_first: bool = False,
        since_txn: int = 0,
        since: datetime | None = None,
        touching: tuple[str, int] | None = None,
        changes_limit: int | None = None,
    ) -> Iterator[Txn]:
        columns: sql.Composable = _HISTORY_COLUMNS
        head: list[Any] = []
        if changes_limit is not None:
            columns, head = _FIRST_CHANGES, [max(0, changes_limit)]
        clauses = [sql.SQL("plan_id = %s"), sql.SQL("txn > %s")]
        params: list[Any] = [self._plan.id, since_txn]
        if since is not None:
            clauses.append(sql.SQL("at >= %s"))
            params.append(since)
        if touching is not None:
            clauses.append(
                sql.SQL("EXISTS (SELECT 1 FROM jsonb_array_elements(changes) c WHERE c->>1 = %s AND (c->>2)::int = %s)")
            )
            params += [touching[0], touching[1]]
        where = sql.SQL(" AND ").join(clauses)
        order = sql.SQL("DESC" if newest_first else "ASC")
        beyond = sql.SQL("txn < %s" if newest_first else "txn > %s")
        # Keyset pages, lazy; the first small, as kt history reads the newest 20 and stops.
        bound: int | None = None
        size = FIRST_PAGE
        while True:
            if bound is None:
                query = sql.SQL("SELECT {} FROM kt.history WHERE {} ORDER BY txn {} LIMIT %s").format(
                    columns, where, order
                )
                rows = self._execute(query, [*head, *params, size]).fetchall()
            else:
                query = sql.SQL("SELECT {} FROM kt.history WHERE {} AND {} ORDER BY txn {} LIMIT %s").format(
                    columns, where, beyond, order
                )
                rows = self._execute(query, [*head, *params, bound, size]).fetchall()
            for row in rows:
                yield self._txn(row)
            if len(rows) < size:
                return
            bound = int(rows[-1][0])
            size = min(PAGE, size * 4)

    def history_entry(self, txn: int) -> Txn | None:
        row = self._one(
            sql.SQL("SELECT {} FROM kt.history WHERE plan_id = %s AND txn = %s").format(_HISTORY_COLUMNS),
            (self._plan.id, txn),
        )
        return None if row is None else self._txn(row)

    def revert(self, change: Change) -> None:
        pending = self._require_transaction()
        table, record_id = change.table, change.record_id
        if table == META:
            self._revert_meta(change)
            return
        cls = TABLES[table]
        pending.append(
            reverse_row_change(
                change,
                self._row(table, record_id),
                remove=lambda: self._delete(table, record_id),
                put_back=lambda row: self._insert(cls.from_record(record_id, row), with_id=True),
                update=lambda fields: self._update(table, record_id, fields),
            )
        )

    def _revert_meta(self, change: Change) -> None:
        values = {"authority": self._authority, "created_at": self._created_at}
        setters = {"authority": self.set_authority, "created_at": self.set_created_at}
        reverse_meta_change(
            change.diff or {},
            setting=lambda key: self.setting(key, None),
            set_setting=self.set_setting,
            value=values.get,
            set_value=lambda name, _was, becomes: setters[name](becomes) if name in setters else None,
        )
