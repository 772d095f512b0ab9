"""Removing records as their relations declare, and finding references to records that
do not exist: :data:`knowsley_tracker.relations.RELATIONS` applied to a store.

Every ``remove_*`` use case goes through :func:`remove`; kt doctor and undo
through :func:`dangling`. Works on any store (the storage interface only).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Generic, TypeVar

from knowsley_tracker.errors import RecordInUseError
from knowsley_tracker.models import Record
from knowsley_tracker.relations import RELATIONS, OnRemove, Relation, name_of, relations_to, targets
from knowsley_tracker.store_interface import Contains, Eq, PlanStore

R = TypeVar("R", bound=Record)
R_co = TypeVar("R_co", bound=Record, covariant=True)


class Referrer:
    """A record that refers to the record ``target_id``, and through which relation.
    (Plain classes here: a dataclass or named tuple costs about a millisecond to
    define, and kt log and kt action list import this module.)"""

    __slots__ = ("relation", "record", "target_id")

    def __init__(self, relation: Relation, record: Record, target_id: int) -> None:
        self.relation = relation
        self.record = record
        self.target_id = target_id


def referrers(store: PlanStore, target: Record) -> list[Referrer]:
    """Every record that refers to ``target``, relation by relation in declaration order."""
    found: list[Referrer] = []
    for relation in relations_to(type(target)):
        condition = Contains(relation.field, target.id) if relation.many else Eq(relation.field, target.id)
        found.extend(Referrer(relation, record, target.id) for record in store.select(relation.source, condition))
    return found


class Removed(Generic[R_co]):
    """A removed record, and what removing it did to others."""

    __slots__ = ("record", "cleared", "cascaded")

    def __init__(self, record: R_co, cleared: list[Record], cascaded: list[Record]) -> None:
        self.record = record
        self.cleared = cleared  # records whose reference to it was cleared
        self.cascaded = cascaded  # records removed with it


def remove(store: PlanStore, record: R) -> Removed[R]:
    """Remove ``record`` as the relations to it declare (inside the caller's transaction).

    Raises :class:`RecordInUseError` naming every record that refuses the
    removal (including through a cascade) before anything is changed."""
    plan = _plan(store, record, set())
    refused = [r for r in plan if r.relation.on_remove is OnRemove.REFUSE]
    if refused:
        raise RecordInUseError(
            kind=record.TABLE,
            record=name_of(record),
            referrers=tuple((r.record.TABLE, name_of(r.record)) for r in refused),
        )
    cleared: list[Record] = []
    cascaded: list[Record] = []
    for item in plan:
        source = item.record
        if item.relation.on_remove is OnRemove.CLEAR:
            current = store.get(type(source), source.id)  # earlier clears may have changed it
            held: Any = getattr(current, item.relation.field)
            value: Any = [v for v in held if v != item.target_id] if item.relation.many else None
            store.save(replace(current, **{item.relation.field: value}))
            if all(c.ref != current.ref for c in cleared):
                cleared.append(current)
        else:
            store.delete(type(source), source.id)
            cascaded.append(source)
    store.delete(type(record), record.id)
    return Removed(record, cleared, cascaded)


def _plan(store: PlanStore, record: Record, seen: set[tuple[str, int]]) -> list[Referrer]:
    """Every referrer of ``record``, and of the records a cascade would remove, depth first
    (a cascaded record's own referrers come before it, so it is removed after them)."""
    seen.add((record.TABLE, record.id))
    steps: list[Referrer] = []
    for found in referrers(store, record):
        key = (found.record.TABLE, found.record.id)
        if found.relation.on_remove is OnRemove.CASCADE:
            if key in seen:
                continue
            steps.extend(_plan(store, found.record, seen))
        steps.append(found)
    return steps


class Dangling:
    """A reference to a record that does not exist."""

    __slots__ = ("relation", "source_id", "target_id")

    def __init__(self, relation: Relation, source_id: int, target_id: int) -> None:
        self.relation = relation
        self.source_id = source_id
        self.target_id = target_id

    @property
    def source_ref(self) -> str:
        return f"{self.relation.source.PREFIX}{self.source_id}"

    @property
    def target_ref(self) -> str:
        return f"{self.relation.target.PREFIX}{self.target_id}"

    @property
    def fix(self) -> str:
        return self.relation.fix.format(ref=self.source_ref, target=self.target_ref)


def dangling(store: PlanStore, only: set[tuple[str, int]] | None = None) -> list[Dangling]:
    """References to records that do not exist. With ``only`` (table, id) keys, just the
    references to and from those records (what undo checks after reversing a command)."""
    found: list[Dangling] = []
    known: dict[type[Record], set[int]] = {}

    def exists(cls: type[Record], record_id: int) -> bool:
        if only is not None:
            return store.exists(cls, record_id)
        if cls not in known:
            known[cls] = {r.id for r in store.all(cls)}
        return record_id in known[cls]

    for relation in RELATIONS:
        source_table, target_table = relation.source.TABLE, relation.target.TABLE
        if only is None:
            sources: list[Record] = list(store.all(relation.source))
        else:
            source_ids = {i for t, i in only if t == source_table}
            target_ids = {i for t, i in only if t == target_table}
            if target_ids:
                sources = list(store.all(relation.source))
            else:
                sources = [r for i in sorted(source_ids) if (r := store.find(relation.source, i)) is not None]
        for source in sources:
            for target_id in targets(relation, source):
                if only is not None and (source_table, source.id) not in only and (target_table, target_id) not in only:
                    continue
                if not exists(relation.target, target_id):
                    found.append(Dangling(relation, source.id, target_id))
    return found
