"""Which record refers to which, and what removing the one referred to does: declared once.

:data:`RELATIONS` is the only list of references between records. Removing a
record (``remove``), kt doctor and undo (:func:`dangling`), the JSON import
(:func:`targets`) and the PostgreSQL schema's foreign keys all read it. Each
relation says what happens when its target is removed:

- ``REFUSE``: the removal is refused while a record refers to it
  (:class:`~knowsley_tracker.errors.RecordInUseError` names them);
- ``CASCADE``: the referring records are removed with it (their own relations
  apply in turn);
- ``CLEAR``: the reference is cleared (None, or taken out of the list) and the
  referring record kept.

To add a reference: add the field to the model, then one :class:`Relation`
here, in the order its referrers should be named. Imports the domain model and
the storage interface only.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any, Generic, TypeVar

from knowsley_tracker.errors import RecordInUseError
from knowsley_tracker.models import (
    Action,
    Evidence,
    FocusArea,
    Inspection,
    Kpi,
    KpiValue,
    LogEntry,
    Owner,
    Partner,
    Recommendation,
    Record,
    Visit,
)
from knowsley_tracker.store_interface import Contains, Eq, PlanStore

R = TypeVar("R", bound=Record)
R_co = TypeVar("R_co", bound=Record, covariant=True)


class OnRemove(StrEnum):
    REFUSE = "refuse"
    CASCADE = "cascade"
    CLEAR = "clear"


@dataclass(frozen=True)
class Relation:
    """``source.field`` holds the id of a ``target`` (a list of ids when ``many``).

    ``fix`` is kt doctor's advice when the target is missing: ``{ref}`` is the
    referring record, ``{target}`` the missing one."""

    source: type[Record]
    field: str
    target: type[Record]
    on_remove: OnRemove
    fix: str
    many: bool = False


_RESTORE_HINT = "or restore a backup from before {target} was removed (kt backup list, kt restore NAME)"

RELATIONS: tuple[Relation, ...] = (
    Relation(
        Action,
        "rec_id",
        Recommendation,
        OnRemove.REFUSE,
        "Move {ref} under an existing recommendation (kt action edit {ref} --rec R1), " + _RESTORE_HINT + ".",
    ),
    Relation(
        Action,
        "owner_id",
        Owner,
        OnRemove.REFUSE,
        "Give {ref} an existing owner (kt action edit {ref} --owner O1).",
    ),
    Relation(
        LogEntry,
        "action_id",
        Action,
        OnRemove.REFUSE,
        "Log entries cannot be moved: restore a backup from before {target} was removed "
        "(kt backup list, kt restore NAME).",
    ),
    Relation(
        Evidence,
        "action_id",
        Action,
        OnRemove.REFUSE,
        "Remove {ref} (kt evidence remove {ref}) and attach it to an existing action, " + _RESTORE_HINT + ".",
    ),
    Relation(
        Recommendation,
        "focus_id",
        FocusArea,
        OnRemove.REFUSE,
        "Give {ref} an existing focus area (kt rec edit {ref} --focus KEY), " + _RESTORE_HINT + ".",
    ),
    Relation(
        Recommendation,
        "inspection_id",
        Inspection,
        OnRemove.REFUSE,
        "Point {ref} at an existing inspection (kt rec edit {ref} --inspection I1), " + _RESTORE_HINT + ".",
    ),
    Relation(Kpi, "focus_id", FocusArea, OnRemove.REFUSE, "Correct {ref} with kt kpi, " + _RESTORE_HINT + "."),
    Relation(
        Kpi, "rec_ids", Recommendation, OnRemove.REFUSE, "Correct {ref} with kt kpi, " + _RESTORE_HINT + ".", many=True
    ),
    # A KPI's reported values belong to it: they go with it.
    Relation(
        KpiValue,
        "kpi_id",
        Kpi,
        OnRemove.CASCADE,
        "Restore a backup from before {target} was removed (kt backup list, kt restore NAME).",
    ),
    Relation(
        Visit,
        "themes",
        FocusArea,
        OnRemove.REFUSE,
        "Change {ref}'s themes (kt visit edit {ref} --theme KEY).",
        many=True,
    ),
    # A partner's engagement outlives one recommendation or focus area it was linked to
    # (kt partner edit can replace its links but not empty them, so refusing would leave
    # no way forward); the history keeps the link, and undo puts it back.
    Relation(
        Partner,
        "rec_ids",
        Recommendation,
        OnRemove.CLEAR,
        "Correct {ref}, " + _RESTORE_HINT + ".",
        many=True,
    ),
    Relation(
        Partner,
        "focus_ids",
        FocusArea,
        OnRemove.CLEAR,
        "Correct {ref}, " + _RESTORE_HINT + ".",
        many=True,
    ),
)


def relations_to(cls: type[Record]) -> list[Relation]:
    """Relations whose target is ``cls``, in declaration order."""
    return [r for r in RELATIONS if r.target is cls]


def relations_from(cls: type[Record]) -> list[Relation]:
    """Relations whose source is ``cls``."""
    return [r for r in RELATIONS if r.source is cls]


def targets(relation: Relation, record: Record) -> list[int]:
    """The ids ``record`` refers to through ``relation`` (none when unset)."""
    value: Any = getattr(record, relation.field)
    if relation.many:
        return [v for v in value or () if isinstance(v, int) and not isinstance(v, bool)]
    return [value] if isinstance(value, int) and not isinstance(value, bool) else []


def name_of(record: Record) -> str:
    """How people name a record in a sentence: focus areas and KPIs by key, the rest by ref."""
    if isinstance(record, FocusArea | Kpi):
        return record.key
    return record.ref


@dataclass(frozen=True)
class Referrer:
    """A record that refers to another, and through which relation."""

    relation: Relation
    record: Record


def referrers(store: PlanStore, target: Record) -> list[Referrer]:
    """Every record that refers to ``target``, relation by relation in declaration order."""
    found: list[Referrer] = []
    for relation in relations_to(type(target)):
        condition = Contains(relation.field, target.id) if relation.many else Eq(relation.field, target.id)
        found.extend(Referrer(relation, record) for record in store.select(relation.source, condition))
    return found


@dataclass(frozen=True)
class Removed(Generic[R_co]):
    """A removed record, and what removing it did to others."""

    record: R_co
    cleared: list[Record]  # records whose reference to it was cleared
    cascaded: list[Record]  # records removed with it


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


@dataclass(frozen=True)
class _Step:
    relation: Relation
    record: Record
    target_id: int


def _plan(store: PlanStore, record: Record, seen: set[tuple[str, int]]) -> list[_Step]:
    """Every referrer of ``record``, and of the records a cascade would remove, depth first
    (a cascaded record's own referrers come before it, so it is removed after them)."""
    seen.add((record.TABLE, record.id))
    steps: list[_Step] = []
    for found in referrers(store, record):
        key = (found.record.TABLE, found.record.id)
        if found.relation.on_remove is OnRemove.CASCADE:
            if key in seen:
                continue
            steps.extend(_plan(store, found.record, seen))
        steps.append(_Step(found.relation, found.record, record.id))
    return steps


@dataclass(frozen=True)
class Dangling:
    """A reference to a record that does not exist."""

    relation: Relation
    source_id: int
    target_id: int

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
