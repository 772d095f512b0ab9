"""Records of the plan's oversight: improvement board meetings, government interventions and
partner agencies.
"""

from __future__ import annotations

from dataclasses import field
from datetime import date
from typing import ClassVar

from knowsley_tracker.errors import ValidationError
from knowsley_tracker.models.record import Record, optional_text, record_class, require_text
from knowsley_tracker.models.vocabularies import InterventionType, PartnerKind, Vocabulary


@record_class
class Board(Record):
    """A board meeting and, once held, the plan as it stood that day.

    The snapshot itself is an immutable file under ``plan.json.d/snapshots/``
    (``snapshot_file``), so it can never be edited after the meeting and every
    other command stays fast; ``rag_counts`` keeps its headline figures. A
    meeting still to come has no snapshot yet.
    """

    TABLE: ClassVar[str] = "boards"
    PREFIX: ClassVar[str] = "B"
    DATE_FIELDS: ClassVar[tuple[str, ...]] = ("date",)

    date: date
    note: str = ""
    snapshot_file: str = ""
    # "current" when frozen from the live plan, "reconstructed" when rebuilt from the log.
    snapshot_method: str = ""
    frozen_at: str = ""
    rag_counts: dict[str, int] = field(default_factory=dict)
    created_at: str = ""
    # The paper for the meeting: the board's own number for it, the Director's narrative
    # (Markdown) and the decisions or asks put to the board.
    number: int | None = None
    narrative: str = ""
    decisions: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.note = optional_text(self.note)
        self.narrative = self.narrative.strip()
        if self.number is not None and (
            isinstance(self.number, bool) or not isinstance(self.number, int) or self.number < 1
        ):
            raise ValidationError(f"A board meeting's number must be a whole number from 1, not {self.number!r}.")
        if not isinstance(self.decisions, list) or not all(isinstance(d, str) and d.strip() for d in self.decisions):
            raise ValidationError("Each decision or ask of the board must be text.")
        self.decisions = [d.strip() for d in self.decisions]

    @property
    def is_frozen(self) -> bool:
        return bool(self.snapshot_file)


@record_class
class Intervention(Record):
    TABLE: ClassVar[str] = "interventions"
    PREFIX: ClassVar[str] = "N"
    DATE_FIELDS: ClassVar[tuple[str, ...]] = ("issued", "lifted", "revised")
    ENUM_FIELDS: ClassVar[dict[str, type[Vocabulary]]] = {"type": InterventionType}

    type: InterventionType
    issued: date
    revised: list[date] = field(default_factory=list)
    lifted: date | None = None
    people: list[dict[str, str]] = field(default_factory=list)
    note: str = ""

    def __post_init__(self) -> None:
        if self.lifted is not None and self.lifted < self.issued:
            raise ValidationError("An intervention cannot be lifted before it was issued.")
        for day in self.revised:
            if day < self.issued:
                raise ValidationError("An intervention cannot be revised before it was issued.")


@record_class
class Partner(Record):
    TABLE: ClassVar[str] = "partners"
    PREFIX: ClassVar[str] = "P"
    DATE_FIELDS: ClassVar[tuple[str, ...]] = ("start", "end")
    ENUM_FIELDS: ClassVar[dict[str, type[Vocabulary]]] = {"kind": PartnerKind}

    name: str
    purpose: str
    start: date
    kind: PartnerKind = PartnerKind.SPECIALIST
    end: date | None = None
    rec_ids: list[int] = field(default_factory=list)
    focus_ids: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.name = require_text(self.name, "partner's name")
        self.purpose = require_text(self.purpose, "engagement purpose")
        if self.end is not None and self.end < self.start:
            raise ValidationError("An engagement cannot end before it starts.")
