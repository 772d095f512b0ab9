"""Which record refers to which, and what removing the one referred to does: declared once.

:data:`RELATIONS` is the only list of references between records. Removing a
record and finding dangling references (:mod:`knowsley_tracker.service.removal`,
used by every ``remove_*``, kt doctor and undo), the JSON import's reference
check and the PostgreSQL schema's foreign keys all read it. Each relation says
what happens when its target is removed:

- ``REFUSE``: the removal is refused while a record refers to it
  (:class:`~knowsley_tracker.errors.RecordInUseError` names them);
- ``CASCADE``: the referring records are removed with it (their own relations
  apply in turn);
- ``CLEAR``: the reference is cleared (None, or taken out of the list) and the
  referring record kept.

To add a reference: add the field to the model, then one :class:`Relation`
here, in the order its referrers should be named. Part of the domain: imports
the model only.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

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
    Reminder,
    Visit,
)


class OnRemove(StrEnum):
    REFUSE = "refuse"
    CASCADE = "cascade"
    CLEAR = "clear"


class Relation:
    """``source.field`` holds the id of a ``target`` (a list of ids when ``many``).

    ``fix`` is kt doctor's advice when the target is missing: ``{ref}`` is the
    referring record, ``{target}`` the missing one. (A plain class: a dataclass
    or named tuple costs about a millisecond to define, on every command.)"""

    __slots__ = ("source", "field", "target", "on_remove", "fix", "many")

    def __init__(
        self,
        source: type[Record],
        field: str,
        target: type[Record],
        on_remove: OnRemove,
        fix: str,
        many: bool = False,
    ) -> None:
        self.source = source
        self.field = field
        self.target = target
        self.on_remove = on_remove
        self.fix = fix
        self.many = many

    def __repr__(self) -> str:
        return f"Relation({self.source.__name__}.{self.field} -> {self.target.__name__}, {self.on_remove.value})"


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
    # What kt remind last sent about an action is about that action only: it goes with it.
    Relation(
        Reminder,
        "action_id",
        Action,
        OnRemove.CASCADE,
        "Restore a backup from before {target} was removed (kt backup list, kt restore NAME).",
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
