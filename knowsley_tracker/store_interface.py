"""The storage interface: what service code may ask of a store, and nothing more.

Every store implements :class:`PlanStore`: the JSON file (``storage.Store``,
TinyDB), the in-memory store for fast tests (``memory_store.MemoryStore``) and,
next, PostgreSQL. Service code is typed against this Protocol, so mypy refuses
a call to anything else (raw rows, private state, file paths).

Design rules, so that a database server can serve every call without loading
whole tables into Python:

- Records go in and come out typed (``models.Record`` subclasses), never as
  dicts. Changing a record a store returned changes nothing until
  :meth:`PlanStore.save`; give a list or dict field a new value rather than
  changing it in place (the file store shares them with the rows it holds, so
  ``save`` would not see an in-place change).
- Filters are data (:class:`Eq`, :class:`In`, :class:`NotIn`, :class:`Contains`),
  never Python callables, so a server can turn them into ``WHERE`` clauses;
  ``newest_first``, ``limit`` and ``since_id`` become ``ORDER BY id DESC``,
  ``LIMIT`` and ``id > N``. :meth:`PlanStore.select` is lazy: a caller walking
  the progress log newest first may stop early, and only what it read is loaded.
- Record kinds are named by their class (``Action``) for records, and by their
  table name (``Action.TABLE == "actions"``) where a plain value is needed
  (counters, history). :data:`META` names changes to the plan itself (settings,
  authority, counters).
- One command is one transaction (:meth:`PlanStore.transaction`), carrying who
  made it, when and what it was; every change inside is kept in the history as
  a :class:`Change` of a :class:`Txn`, in the stored (JSON) form of its values.
- Nothing here names a file. Backups, restore, file and permission checks are
  capabilities of the file store (``storage``), exposed separately; a server
  store offers its engine's own tools instead.

This module imports only the domain model and errors.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any, Literal, Protocol, TypeVar

from knowsley_tracker.errors import ConflictError
from knowsley_tracker.models import Record

R = TypeVar("R", bound=Record)

# The pseudo-table of changes to the plan itself: settings.NAME, counters.TABLE,
# authority, created_at. Its one "record" has id 1.
META = "_meta"
# The table name the history uses for itself in record keys (``t15`` is txn 15).
HISTORY = "history"

ChangeOp = Literal["create", "update", "delete"]


# ---------------------------------------------------------------------------
# Filters and history entries: small values. Plain classes with slots rather
# than dataclasses or named tuples: every command imports this module, and
# those cost about a millisecond each to define (they compile their methods).


class _Value:
    """A small value: equal to another of its class whose fields are equal."""

    __slots__: tuple[str, ...] = ()

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return all(getattr(self, name) == getattr(other, name) for name in self.__slots__)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.__slots__)
        return f"{type(self).__name__}({shown})"


class Eq(_Value):
    """The field equals ``value`` (a typed value: an int, str, date or enum member)."""

    __slots__ = ("field", "value")

    def __init__(self, field: str, value: Any) -> None:
        self.field = field
        self.value = value


class In(_Value):
    """The field equals one of ``values``."""

    __slots__ = ("field", "values")

    def __init__(self, field: str, values: Iterable[Any]) -> None:
        self.field = field
        self.values = tuple(values)


class NotIn(_Value):
    """The field equals none of ``values``."""

    __slots__ = ("field", "values")

    def __init__(self, field: str, values: Iterable[Any]) -> None:
        self.field = field
        self.values = tuple(values)


class Contains(_Value):
    """The field is a list of ids (``Kpi.rec_ids``, ``Visit.themes``) holding ``value``."""

    __slots__ = ("field", "value")

    def __init__(self, field: str, value: Any) -> None:
        self.field = field
        self.value = value


Condition = Eq | In | NotIn | Contains


class Change(_Value):
    """One change to one record, as the history keeps it.

    ``row`` is the whole stored record for a create or delete (None for the
    create of a log entry: log entries never change, so the history does not
    copy them). ``diff`` is ``{field: [old, new]}`` for an update. Values are in
    their stored form: dates as ISO strings, enums as their values.
    """

    __slots__ = ("op", "table", "record_id", "row", "diff")

    def __init__(
        self,
        op: ChangeOp,
        table: str,
        record_id: int,
        row: Mapping[str, Any] | None = None,
        diff: Mapping[str, list[Any]] | None = None,
    ) -> None:
        self.op = op
        self.table = table
        self.record_id = record_id
        self.row = row
        self.diff = diff

    @property
    def key(self) -> tuple[str, int]:
        return (self.table, self.record_id)


class Txn(_Value):
    """One committed command: its number, when (ISO 8601, UTC), who, what, and its changes.

    ``extra`` holds what the command saved beside them: ``undo`` (the txn it
    reversed), ``restore`` and ``migrate`` (barriers undo never crosses), and
    ``personal_data_allowed`` (the reason given with --allow-personal-data).
    ``more_changes``: how many changes the store left out after ``changes`` when asked
    for the first few only (``history(changes_limit=N)``); 0 when ``changes`` is all.
    """

    __slots__ = ("txn", "at", "by", "what", "changes", "extra", "more_changes")

    def __init__(
        self,
        txn: int,
        at: str,
        by: str,
        what: str,
        changes: tuple[Change, ...],
        extra: Mapping[str, Any] | None = None,
        more_changes: int = 0,
    ) -> None:
        self.txn = txn
        self.at = at
        self.by = by
        self.what = what
        self.changes = changes
        self.extra: Mapping[str, Any] = extra if extra is not None else {}
        self.more_changes = more_changes

    @property
    def undo_of(self) -> int | None:
        """The txn this command undid, when it was an undo."""
        value = self.extra.get("undo")
        return value if isinstance(value, int) and not isinstance(value, bool) else None

    @property
    def barrier(self) -> Literal["restore", "migrate"] | None:
        """A restore or schema upgrade: undo stops there."""
        if "restore" in self.extra:
            return "restore"
        if "migrate" in self.extra:
            return "migrate"
        return None


class ChangeConflict(ConflictError):
    """Reversing a recorded change would overwrite something changed since.

    ``table``, ``record_id`` and ``field`` (None when the whole record is at
    issue) say where the later change is."""

    def __init__(self, message: str, table: str, record_id: int, field: str | None = None) -> None:
        super().__init__(message)
        self.table = table
        self.record_id = record_id
        self.field = field


# ---------------------------------------------------------------------------
# The interface


class PlanStore(Protocol):
    """One open plan. Writing stores hold their write lock (or database
    transaction) from opening until :meth:`close`.

    Every change must happen inside :meth:`transaction`; outside one, the
    changing methods raise ``RuntimeError`` (a programming error, not a user's).
    """

    # -- what the store is -------------------------------------------------------

    @property
    def location(self) -> str:
        """Where the plan lives, for messages: a file path, or a database and plan name."""
        ...

    @property
    def writable(self) -> bool:
        """False when opened for reading only."""
        ...

    @property
    def authority(self) -> str:
        """The council whose plan this is."""
        ...

    @property
    def created_at(self) -> str:
        """When the plan was created (ISO 8601); with the authority, the plan's identity."""
        ...

    @property
    def schema_version(self) -> int:
        """The version of the plan's schema (the file format, or the database's migrations)."""
        ...

    @property
    def txn(self) -> int:
        """The number of the last committed command (0 for a new plan)."""
        ...

    def close(self) -> None:
        """Release the lock or connection; uncommitted changes are discarded."""
        ...

    # -- reading records ------------------------------------------------------------

    def find(self, cls: type[R], record_id: int) -> R | None:
        """The record with this id, or None."""
        ...

    def get(self, cls: type[R], record_id: int) -> R:
        """The record with this id; ``NotFoundError`` names the missing id (e.g. "No action A12.")."""
        ...

    def all(self, cls: type[R]) -> list[R]:
        """Every record of a kind, in id order."""
        ...

    def select(
        self,
        cls: type[R],
        *where: Condition,
        since_id: int = 0,
        newest_first: bool = False,
        limit: int | None = None,
    ) -> Iterator[R]:
        """Records of a kind matching every condition, with id above ``since_id``,
        in id order (or newest first), at most ``limit``. Lazy: stop early to read less."""
        ...

    def count(self, cls: type[Record], *where: Condition) -> int:
        """How many records of a kind match every condition."""
        ...

    def count_by(self, cls: type[Record], field: str, *where: Condition) -> dict[Any, int]:
        """How many matching records hold each value of ``field`` (stored form), e.g.
        evidence per action: ``count_by(Evidence, "action_id")``."""
        ...

    def exists(self, cls: type[Record], record_id: int) -> bool:
        """True when a record of that kind has that id."""
        ...

    def highest_id(self, cls: type[Record]) -> int:
        """The highest id held by a record of that kind (0 when none)."""
        ...

    def next_id(self, table: str) -> int:
        """The id the next record of that kind will get (ids are never reused)."""
        ...

    def counters(self) -> dict[str, int]:
        """The highest id handed out per kind (table name), deleted records included."""
        ...

    # -- changing records (inside a transaction) -----------------------------------

    def add(self, record: R) -> R:
        """Store a new record under a fresh id that is never reused; sets and returns it."""
        ...

    def add_with_id(self, record: R) -> R:
        """Store a record under the id it has (restoring an export into an empty plan);
        ``ConflictError`` when taken. The counter moves past it."""
        ...

    def save(self, record: Record) -> dict[str, list[Any]]:
        """Write a changed record back; returns ``{field: [old, new]}`` (stored form) for
        what changed, empty when nothing did. ``NotFoundError`` when it is gone."""
        ...

    def delete(self, cls: type[Record], record_id: int) -> None:
        """Remove a record for good (its id is not reused). Relations are the caller's
        business (see :mod:`knowsley_tracker.relations`)."""
        ...

    def transaction(
        self, *, by: str, what: str, extra: dict[str, Any] | None = None, at: datetime | None = None
    ) -> AbstractContextManager[Any]:
        """The one transaction of a command: every change inside is saved together when
        the block ends, or none is if it raises. ``by`` is who acted, ``what`` the
        command, ``at`` its moment (default: now). ``extra`` is read at commit, so the
        body may still add to it. Transactions do not nest."""
        ...

    def pending_changes(self) -> list[Change]:
        """The changes made so far in the open transaction, oldest first."""
        ...

    # -- the plan's own values ---------------------------------------------------------

    def setting(self, name: str, default: Any) -> Any:
        """One setting's value, or ``default`` when it is not set."""
        ...

    def settings(self) -> dict[str, Any]:
        """Every setting that is set (a copy)."""
        ...

    def set_setting(self, name: str, value: Any) -> None:
        """Change a setting (None unsets it); recorded in the history."""
        ...

    def set_authority(self, name: str) -> None:
        """Rename the council whose plan this is; recorded in the history."""
        ...

    def set_created_at(self, stamp: str) -> None:
        """Carry a plan's identity over from an export; recorded in the history."""
        ...

    def raise_counter(self, table: str, value: int) -> bool:
        """Move an id counter up to ``value`` (never down); True when it moved."""
        ...

    # -- history and undo ----------------------------------------------------------------

    def history(
        self,
        *,
        newest_first: bool = False,
        since_txn: int = 0,
        since: datetime | None = None,
        touching: tuple[str, int] | None = None,
        changes_limit: int | None = None,
    ) -> Iterator[Txn]:
        """Committed commands with txn above ``since_txn``, committed at or after ``since``
        (an aware datetime) when given, and only those that changed record ``touching``
        (table, id) when given; oldest first, or newest first. Lazy. ``changes_limit``:
        each command's first that many changes only, the rest counted in ``more_changes``
        (an import's one command can hold every record of a plan)."""
        ...

    def history_entry(self, txn: int) -> Txn | None:
        """One committed command, or None."""
        ...

    def revert(self, change: Change) -> None:
        """Reverse one recorded change, as a new change of the open transaction.

        Raises :class:`ChangeConflict` when the record no longer looks as the change
        left it. Id counters never move back, so reverting a counter change does nothing."""
        ...

    # -- board snapshots -------------------------------------------------------------------

    def save_snapshot(self, name: str, snapshot: dict[str, Any]) -> str:
        """Keep an immutable board snapshot (saved with the transaction); returns the
        name to store in ``Board.snapshot_file``."""
        ...

    def load_snapshot(self, name: str) -> dict[str, Any]:
        """A snapshot by the name :meth:`save_snapshot` returned."""
        ...
