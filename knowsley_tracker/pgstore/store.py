"""One plan in a PostgreSQL database, as a :class:`~knowsley_tracker.store_interface.PlanStore`.

Records become rows of their kind's table (``kt.actions``...) and back (the
column mapping is :mod:`.rows`; history and undo are :mod:`.history`; the
plan's settings, counters and snapshots :mod:`.plan_values`): the
columns are the model's fields, with real types (see ``migrations/0001_tables.sql``).
Reading builds the same stored form the file store keeps (ISO dates, enum
values, ISO timestamps) and loads records through the model's own loader, so a
record is equal whichever store it came from. Moments are kept as timestamptz
and come back in UTC (``2025-11-30T09:00:00+00:00``).

Transactions and locking (see also :mod:`.writing`):

- Opened for writing, the store begins a transaction and takes the plan's writer
  lock in it (``kt.lock_plan``: a row lock only officers and above may take), so
  every read of the command sees the plan as it will change it. The wait is
  bounded by ``lock_timeout``; then the plan is "busy" (exit 7).
- :meth:`PgStore.transaction` ends that transaction: every change is written at
  once (so later reads in the command see it), the history row is added at its
  end, and it commits; an exception rolls all of it back. Either way the lock
  goes with it (a second transaction in the same command locks again).
- Opened for reading, the store reads in one REPEATABLE READ READ ONLY
  transaction: one committed state of the plan from start to end.

Who made a change is the database login (``session_user``), which the database
writes into the history; the ``by`` a command passes is kept beside it as "on
behalf of" when it differs from the login. The database's rules decide what the
login may do: a refusal is ``PermissionDeniedError`` (exit 14).

A statement the server refuses inside a transaction aborts all of it, so the
store checks what it can first (a record that is missing, an id that is taken)
and raises kt's own errors for those.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, LiteralString, TypeVar

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

from knowsley_tracker.errors import ConflictError, CorruptStoreError, PermissionDeniedError
from knowsley_tracker.models import TABLES, Record
from knowsley_tracker.pgstore import schema
from knowsley_tracker.pgstore.access import Plan, Role, choose_plan
from knowsley_tracker.pgstore.connection import connect, describe, server_error
from knowsley_tracker.pgstore.history import HistoryMixin
from knowsley_tracker.pgstore.plan_values import PlanValuesMixin
from knowsley_tracker.pgstore.rows import (
    PAGE,
    _column_map,
    _select_list,
    _stored_row,
    _table,
    columns,
    stamp,
)
from knowsley_tracker.pgstore.writing import DEFAULT_LOCK_TIMEOUT, lock_plan
from knowsley_tracker.store_interface import Change, Condition, Contains, Eq, In, NotIn
from knowsley_tracker.store_rows import not_found

R = TypeVar("R", bound=Record)
Query = LiteralString | sql.Composed | sql.SQL
BATCH = 500  # inserts of an import sent together
LOG_READ_AHEAD = 1000  # log entries fetched together when a read-only command looks one up

_INSERTS: dict[tuple[type[Record], bool, bool], sql.Composed] = {}


def _insert_query(cls: type[Record], with_id: bool, unless_taken: bool) -> sql.Composed:
    """``INSERT INTO kt.<table> (plan_id[, id], ...) VALUES (...) RETURNING id``, made once."""
    key = (cls, with_id, unless_taken)
    known = _INSERTS.get(key)
    if known is None:
        names = [sql.Identifier("plan_id"), *(sql.Identifier(c.name) for c in columns(cls))]
        if with_id:
            names.insert(1, sql.Identifier("id"))
        known = _INSERTS[key] = sql.SQL("INSERT INTO {} ({}) VALUES ({}){} RETURNING id").format(
            _table(cls.TABLE),
            sql.SQL(", ").join(names),
            sql.SQL(", ").join(sql.Placeholder() * len(names)),
            sql.SQL(" ON CONFLICT (plan_id, id) DO NOTHING" if unless_taken else ""),
        )
    return known


def _require(plan: Plan, role: Role, command: str) -> None:
    """Refuse (exit 14) a login holding less than ``role`` on the plan. A login with no
    role that sees the plan is a superuser, whom the database lets do anything."""
    if plan.role is not None and not plan.role.allows(role):
        raise PermissionDeniedError(
            f"{command} on plan {plan.key} needs the {role.value} role or higher; you hold {plan.role.value}."
        )


# ---------------------------------------------------------------------------
# The store


class PgStore(HistoryMixin, PlanValuesMixin):
    """One plan in a database (see the module docstring)."""

    def __init__(
        self,
        conn: psycopg.Connection[Any],
        plan: Plan,
        *,
        writable: bool,
        location: str,
        lock_timeout: float = DEFAULT_LOCK_TIMEOUT,
    ) -> None:
        self._conn = conn
        self._plan = plan
        self._writable = writable
        self._location = location
        self._authority = plan.authority
        self._created_at = stamp(plan.created_at)
        self._pending: list[Change] | None = None
        self._closed = False
        self._read_tx: Any = None
        self._write_tx: Any = None  # the open transaction holding the plan's writer lock
        self._lock_timeout = lock_timeout
        self._login: str | None = None
        self._last_txn = 0
        self._log_ahead: dict[int, dict[str, Any] | None] = {}  # read-only stores: see _log_row_ahead
        self._batch: list[tuple[Record, list[Any]]] = []  # inserts add_with_id held back: see _flush
        self._top_ids: dict[str, int] = {}  # per table, in the open write transaction: see _free_id
        try:
            if writable:
                self._lock()
            else:
                conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
                conn.read_only = True
                self._read_tx = conn.transaction()
                self._read_tx.__enter__()
        except BaseException:
            conn.close()
            raise

    @classmethod
    def open(
        cls,
        conninfo: str,
        plan: str | None = None,
        *,
        write: bool = False,
        lock_timeout: float = DEFAULT_LOCK_TIMEOUT,
        needs: tuple[Role, str] | None = None,
        **connect_kwargs: Any,
    ) -> PgStore:
        """Connect and open one plan (``plan=None``: the only one the login can see).

        ``needs``: the role the command needs on the plan, and the command, e.g.
        ``(Role.EDITOR, "kt remind")``: a login holding less is refused (exit 14)
        before anything is done, for a command that must not start what it could not
        finish (kt remind would send e-mail it may not record)."""
        conn = connect(conninfo, **connect_kwargs)
        try:
            version = schema.current_version(conn)
            if version != schema.latest_version():
                problem = schema.schema_problems(conn)[0]
                raise CorruptStoreError(f"{problem.message} {problem.fix}")
            chosen = choose_plan(conn, plan)
            if needs is not None:
                _require(chosen, *needs)
        except psycopg.Error as exc:
            conn.close()
            raise server_error(exc) from None
        except BaseException:
            conn.close()
            raise
        where = f"plan {chosen.key} in {describe(conninfo)}"
        return cls(conn, chosen, writable=write, location=where, lock_timeout=lock_timeout)

    # -- what the store is -----------------------------------------------------------

    @property
    def location(self) -> str:
        return self._location

    @property
    def writable(self) -> bool:
        return self._writable and not self._closed

    @property
    def authority(self) -> str:
        return self._authority

    @property
    def created_at(self) -> str:
        return self._created_at

    @property
    def schema_version(self) -> int:
        return schema.latest_version()

    @property
    def plan(self) -> Plan:
        return self._plan

    @property
    def login(self) -> str:
        """The database login this store is open as (session_user): who makes its changes."""
        if self._login is None:
            row = self._one("SELECT session_user")
            self._login = str(row[0])
        return self._login

    @property
    def txn(self) -> int:
        """The plan's last txn; once the store is closed, the last one it saw or made."""
        if self._closed:
            return self._last_txn
        row = self._one("SELECT last FROM kt.counters WHERE plan_id = %s AND kind = 'history'", (self._plan.id,))
        self._last_txn = int(row[0]) if row else 0
        return self._last_txn

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            if self._read_tx is not None:
                self._read_tx.__exit__(None, None, None)
            elif self._write_tx is not None and not self._conn.closed:
                # Nothing uncommitted is kept; the lock goes with the transaction.
                self._write_tx.__exit__(psycopg.Rollback, psycopg.Rollback(), None)
        except psycopg.Error:
            pass  # closing the connection below lets go of everything anyway
        finally:
            self._conn.close()

    def __enter__(self) -> PgStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- queries -------------------------------------------------------------------------

    def _execute(self, query: Query, params: Sequence[Any] = ()) -> psycopg.Cursor[Any]:
        if self._batch:
            self._flush()
        try:
            return self._conn.execute(query, params)
        except psycopg.Error as exc:
            raise server_error(exc, needs=self._needs()) from None

    def _flush(self) -> None:
        """Send the inserts ``add_with_id`` held back, as one pipelined batch, before any
        other statement (so every read sees them) and at commit. An id that was taken
        already is a conflict, raised inside the transaction, which then saves nothing."""
        batch, self._batch = self._batch, []
        if not batch:
            return
        query = _insert_query(type(batch[0][0]), True, True)
        cursor = self._conn.cursor()
        try:
            cursor.executemany(query, [values for _, values in batch], returning=True)
            taken: list[Record] = []
            for record, _ in batch:
                if cursor.fetchone() is None:
                    taken.append(record)
                cursor.nextset()
        except psycopg.Error as exc:
            raise server_error(exc, needs=self._needs()) from None
        if taken:
            raise ConflictError(f"{taken[0].ref} already exists.")

    def _one(self, query: Query, params: Sequence[Any] = ()) -> Any:
        return self._execute(query, params).fetchone()

    def _lock(self) -> None:
        """Begin a transaction holding the plan's writer lock (see :mod:`.writing`)."""
        tx = self._conn.transaction()
        tx.__enter__()
        try:
            lock_plan(self._conn, self._plan.id, self._lock_timeout)
        except BaseException as exc:
            tx.__exit__(type(exc), exc, exc.__traceback__)
            if isinstance(exc, psycopg.Error):
                raise server_error(
                    exc, needs=f"writing to plan {self._plan.key} needs the officer role or higher"
                ) from None
            raise
        self._write_tx = tx

    def _needs(self) -> str:
        """What a change the server refused needed, in one sentence naming the role."""
        key, role = self._plan.key, self._plan.role
        if role is None or role.value == "reader":
            held = role.value if role else "no role"
            return f"that change to plan {key} needs the officer role or higher (you hold {held})"
        if role.value == "officer":
            return (
                f"that change to plan {key} needs the editor role: an officer may log progress, mark done and add "
                "evidence only on actions whose owner is linked to their login (kt owner edit O3 --login LOGIN)"
            )
        return f"that change to plan {key} needs the admin role"

    def _row(self, table: str, record_id: int) -> dict[str, Any] | None:
        cls = TABLES[table]
        found = self._one(
            sql.SQL("SELECT {} FROM {} WHERE plan_id = %s AND id = %s").format(_select_list(cls), _table(table)),
            (self._plan.id, record_id),
        )
        return None if found is None else _stored_row(cls, found[1:])

    # -- reading records -----------------------------------------------------------------

    def find(self, cls: type[R], record_id: int) -> R | None:
        if cls.TABLE == "log" and not self._writable:
            row = self._log_row_ahead(cls, record_id)
        else:
            row = self._row(cls.TABLE, record_id)
        return None if row is None else cls.from_record(record_id, row)

    def _log_row_ahead(self, cls: type[Record], record_id: int) -> dict[str, Any] | None:
        """A log entry's row, reading ahead: ``kt history`` looks up every log entry a
        command created (the history does not copy them), one by one, and an imported
        plan's one command created 50,000. In a read-only store the snapshot never
        changes, so the entries around the one asked for are fetched with it."""
        if record_id not in self._log_ahead:
            low = max(1, record_id - LOG_READ_AHEAD // 4)
            high = low + LOG_READ_AHEAD
            rows = self._execute(
                sql.SQL("SELECT {} FROM kt.log WHERE plan_id = %s AND id >= %s AND id < %s").format(_select_list(cls)),
                (self._plan.id, low, high),
            ).fetchall()
            if len(self._log_ahead) > 20 * LOG_READ_AHEAD:
                self._log_ahead.clear()
            self._log_ahead.update(dict.fromkeys(range(low, high)))
            self._log_ahead.update({int(row[0]): _stored_row(cls, row[1:]) for row in rows})
        found = self._log_ahead[record_id]
        return None if found is None else dict(found)

    def get(self, cls: type[R], record_id: int) -> R:
        found = self.find(cls, record_id)
        if found is None:
            raise not_found(cls, record_id)
        return found

    def all(self, cls: type[R]) -> list[R]:
        return list(self.select(cls))

    def _where(self, cls: type[Record], where: Iterable[Condition]) -> tuple[list[sql.Composable], list[Any]]:
        clauses: list[sql.Composable] = [sql.SQL("plan_id = %s")]
        params: list[Any] = [self._plan.id]
        known = _column_map(cls)
        for condition in where:
            column = known.get(condition.field)
            if column is None:
                raise ValueError(f"{cls.__name__} has no field {condition.field!r}.")
            name = sql.Identifier(column.name)
            if isinstance(condition, Eq):
                if condition.value is None:
                    clauses.append(sql.SQL("{} IS NULL").format(name))
                else:
                    clauses.append(sql.SQL("{} = %s").format(name))
                    params.append(column.to_db(condition.value))
            elif isinstance(condition, In | NotIn):
                values = list(condition.values)
                present = [column.to_db(v) for v in values if v is not None]
                with_null = len(present) < len(values)
                if isinstance(condition, In):
                    test = sql.SQL("{} = ANY(%s)").format(name)
                    clauses.append(sql.SQL("({} OR {} IS NULL)").format(test, name) if with_null else test)
                else:
                    test = sql.SQL("{} <> ALL(%s)").format(name)
                    null = sql.SQL("{} IS NOT NULL").format(name) if with_null else sql.SQL("{} IS NULL").format(name)
                    joiner = " AND " if with_null else " OR "
                    clauses.append(sql.SQL("({})").format(sql.SQL(joiner).join([null, test])))
                params.append(present)
            elif isinstance(condition, Contains):
                clauses.append(sql.SQL("%s = ANY({})").format(name))
                params.append(column.to_db(condition.value))
            else:  # pragma: no cover - the Condition union is closed
                raise TypeError(f"Unknown condition {condition!r}.")
        return clauses, params

    def select(
        self,
        cls: type[R],
        *where: Condition,
        since_id: int = 0,
        newest_first: bool = False,
        limit: int | None = None,
    ) -> Iterator[R]:
        clauses, params = self._where(cls, where)
        base = sql.SQL("SELECT {} FROM {} WHERE {}").format(
            _select_list(cls), _table(cls.TABLE), sql.SQL(" AND ").join(clauses)
        )
        # One range on id per page (the planner reads two lower bounds as two filters, and
        # with many plans in the table then chose a bitmap scan and a sort over the key).
        first = sql.SQL(" AND id > %s ORDER BY id DESC" if newest_first else " AND id > %s ORDER BY id")
        after = sql.SQL(" AND id > %s AND id < %s ORDER BY id DESC" if newest_first else " AND id > %s ORDER BY id")
        # Keyset pages: lazy (a caller that stops early reads no more), and the
        # connection stays free for the caller's other queries between pages.
        bound: int | None = None
        fetched = 0
        while True:
            size = PAGE if limit is None else min(PAGE, limit - fetched)
            if size <= 0:
                return
            if bound is None:
                query, more = sql.SQL("{}{} LIMIT %s").format(base, first), [since_id]
            else:
                query = sql.SQL("{}{} LIMIT %s").format(base, after)
                more = [since_id, bound] if newest_first else [bound]
            page = self._execute(query, [*params, *more, size]).fetchall()
            for row in page:
                yield cls.from_record(row[0], _stored_row(cls, row[1:]))
            fetched += len(page)
            if len(page) < size:
                return
            bound = int(page[-1][0])

    def count(self, cls: type[Record], *where: Condition) -> int:
        clauses, params = self._where(cls, where)
        row = self._one(
            sql.SQL("SELECT count(*) FROM {} WHERE {}").format(_table(cls.TABLE), sql.SQL(" AND ").join(clauses)),
            params,
        )
        return int(row[0])

    def count_by(self, cls: type[Record], field: str, *where: Condition) -> dict[Any, int]:
        column = _column_map(cls).get(field)
        if column is None:
            raise ValueError(f"{cls.__name__} has no field {field!r}.")
        clauses, params = self._where(cls, where)
        rows = self._execute(
            sql.SQL("SELECT {}, count(*) FROM {} WHERE {} GROUP BY 1").format(
                sql.Identifier(field), _table(cls.TABLE), sql.SQL(" AND ").join(clauses)
            ),
            params,
        ).fetchall()
        return {column.from_db(value): int(n) for value, n in rows}

    def exists(self, cls: type[Record], record_id: int) -> bool:
        row = self._one(
            sql.SQL("SELECT EXISTS (SELECT 1 FROM {} WHERE plan_id = %s AND id = %s)").format(_table(cls.TABLE)),
            (self._plan.id, record_id),
        )
        return bool(row[0])

    def highest_id(self, cls: type[Record]) -> int:
        row = self._one(
            sql.SQL("SELECT coalesce(max(id), 0) FROM {} WHERE plan_id = %s").format(_table(cls.TABLE)),
            (self._plan.id,),
        )
        return int(row[0])

    def next_id(self, table: str) -> int:
        return self.counters().get(table, 0) + 1

    def counters(self) -> dict[str, int]:
        rows = self._execute(
            "SELECT kind, last FROM kt.counters WHERE plan_id = %s AND kind <> 'history'", (self._plan.id,)
        ).fetchall()
        return {str(kind): int(last) for kind, last in rows}

    # -- changing records ----------------------------------------------------------------

    def _require_transaction(self) -> list[Change]:
        if self._pending is None:
            raise RuntimeError("Store changes must happen inside store.transaction().")
        return self._pending

    def _insert(self, record: Record, *, with_id: bool, unless_taken: bool = False) -> int | None:
        """Insert the record's row; its new id. ``unless_taken``: None, and nothing
        inserted, when its id is taken already (one round trip, not two: an import
        inserts every record of a plan with its id)."""
        cls = type(record)
        stored = record.to_record()
        cols = columns(cls)
        values: list[Any] = [self._plan.id, *(c.to_db(stored[c.name]) for c in cols)]
        if with_id:
            values.insert(1, record.id)
        row = self._one(_insert_query(cls, with_id, unless_taken), values)
        if row is None:
            return None
        if cls.TABLE in self._top_ids:
            self._top_ids[cls.TABLE] = max(self._top_ids[cls.TABLE], int(row[0]))
        return int(row[0])

    def _created(self, pending: list[Change], record: Record) -> None:
        # Log entries never change, so the history does not copy them (as in the file store).
        row = None if record.TABLE == "log" else record.to_record()
        pending.append(Change("create", record.TABLE, record.id, row=row))

    def add(self, record: R) -> R:
        pending = self._require_transaction()
        new_id = self._insert(record, with_id=False)
        assert new_id is not None
        record.id = new_id
        self._created(pending, record)
        return record

    def add_with_id(self, record: R) -> R:
        """Add a record with its own id (an import): held back and sent in batches
        (:meth:`_flush`), as one round trip per record made importing a region's plan
        take a minute."""
        pending = self._require_transaction()
        if record.id < 1 or not self._free_id(type(record), record.id):
            raise ConflictError(f"{record.ref} already exists.")
        if self._batch and (type(self._batch[0][0]) is not type(record) or len(self._batch) >= BATCH):
            self._flush()
        stored = record.to_record()
        values = [self._plan.id, record.id, *(c.to_db(stored[c.name]) for c in columns(type(record)))]
        self._batch.append((record, values))
        self._created(pending, record)
        return record

    def _free_id(self, cls: type[Record], record_id: int) -> bool:
        """True when no record of the kind has this id. An id above the highest one
        (read once per transaction; the writer lock keeps other writers out) needs no
        query: an import into an empty plan asks nothing per record."""
        top = self._top_ids.get(cls.TABLE)
        if top is None:
            top = self._top_ids[cls.TABLE] = self.highest_id(cls)
        if record_id > top:
            self._top_ids[cls.TABLE] = record_id
            return True
        return not self.exists(cls, record_id)

    def _update(self, table: str, record_id: int, changed: dict[str, Any]) -> None:
        known = _column_map(TABLES[table])
        sets = [sql.SQL("{} = %s").format(sql.Identifier(name)) for name in changed]
        params = [known[name].to_db(value) for name, value in changed.items()]
        self._execute(
            sql.SQL("UPDATE {} SET {} WHERE plan_id = %s AND id = %s").format(_table(table), sql.SQL(", ").join(sets)),
            [*params, self._plan.id, record_id],
        )

    def _delete(self, table: str, record_id: int) -> None:
        self._execute(
            sql.SQL("DELETE FROM {} WHERE plan_id = %s AND id = %s").format(_table(table)), (self._plan.id, record_id)
        )

    def save(self, record: Record) -> dict[str, list[Any]]:
        pending = self._require_transaction()
        table = record.TABLE
        old = self._row(table, record.id)
        if old is None:
            raise not_found(type(record), record.id)
        new = record.to_record()
        diff = {k: [old.get(k), v] for k, v in new.items() if old.get(k) != v}
        if diff:
            self._update(table, record.id, {k: v for k, (_, v) in diff.items()})
            pending.append(Change("update", table, record.id, diff=diff))
        return diff

    def delete(self, cls: type[Record], record_id: int) -> None:
        pending = self._require_transaction()
        old = self._row(cls.TABLE, record_id)
        if old is None:
            raise not_found(cls, record_id)
        self._delete(cls.TABLE, record_id)
        pending.append(Change("delete", cls.TABLE, record_id, row=old))

    @contextmanager
    def transaction(
        self, *, by: str, what: str, extra: dict[str, Any] | None = None, at: datetime | None = None
    ) -> Iterator[PgStore]:
        if not self.writable:
            raise RuntimeError("This store was opened read-only." if not self._closed else "This store is closed.")
        if self._pending is not None:
            raise RuntimeError("Transactions do not nest.")
        if self._write_tx is None:  # a second transaction of the command: lock again
            self._lock()
        tx, self._write_tx = self._write_tx, None
        self._pending = []
        try:
            try:
                yield self
                self._commit(by=by, what=what, extra=extra, at=at)
            except BaseException as exc:
                tx.__exit__(type(exc), exc, exc.__traceback__)  # roll back, and let go of the plan
                raise
            tx.__exit__(None, None, None)  # commit, and let go of the plan
        except psycopg.Error as exc:  # at commit: a deferred reference still dangling, a lost server
            raise server_error(exc, needs=self._needs()) from None
        finally:
            self._pending = None
            self._batch = []  # sent at commit, or gone with the rollback
            self._top_ids = {}

    def _commit(self, *, by: str, what: str, extra: dict[str, Any] | None, at: datetime | None) -> None:
        changes = self._pending or []
        if not changes:
            return
        from knowsley_tracker.store_rows import change_to_list

        moment = (at or datetime.now(UTC)).astimezone(UTC)
        login = self._one("SELECT session_user")[0]
        on_behalf_of = by.strip() if by and by.strip() != login else None
        self._last_txn = self._one(
            "INSERT INTO kt.history (plan_id, at, on_behalf_of, what, changes, extra) VALUES (%s, %s, %s, %s, %s, %s) "
            "RETURNING txn",
            (
                self._plan.id,
                moment.replace(microsecond=0),
                on_behalf_of,
                what,
                Jsonb([change_to_list(c) for c in changes]),
                Jsonb(dict(extra or {})),
            ),
        )[0]

    def pending_changes(self) -> list[Change]:
        return list(self._pending or [])
