"""The records of the plan itself: inspections, focus areas, owners, recommendations, actions and
their progress log, evidence, monitoring visits and the reminders sent to owners.
"""

from __future__ import annotations

import re
from dataclasses import field
from datetime import date
from typing import Any, ClassVar

from knowsley_tracker.errors import ValidationError
from knowsley_tracker.models.record import Record, optional_text, record_class, require_text
from knowsley_tracker.models.vocabularies import (
    JUDGEMENT_AREAS,
    OVERRIDABLE_RAGS,
    EvidenceKind,
    Framework,
    InspectionType,
    Judgement,
    Rag,
    Status,
    VisitStatus,
    Vocabulary,
)


@record_class
class Inspection(Record):
    TABLE: ClassVar[str] = "inspections"
    PREFIX: ClassVar[str] = "I"
    DATE_FIELDS: ClassVar[tuple[str, ...]] = ("start", "end", "published", "action_plan_due", "action_plan_sent")
    ENUM_FIELDS: ClassVar[dict[str, type[Vocabulary]]] = {
        "type": InspectionType,
        "framework": Framework,
        "judgement": Judgement,
    }

    start: date
    type: InspectionType = InspectionType.STANDARD
    framework: Framework | None = None
    end: date | None = None
    published: date | None = None
    judgement: Judgement | None = None
    areas: dict[str, Judgement] = field(default_factory=dict)
    title: str = ""
    report_url: str = ""
    notes: str = ""
    # After an inadequate judgement: when the written action plan is due (70
    # working days from the report, computed when recorded) and when it was sent.
    action_plan_due: date | None = None
    action_plan_sent: date | None = None

    def __post_init__(self) -> None:
        if self.framework is None:
            self.framework = Framework.in_force_on(self.start)
        self.areas = {k: (v if isinstance(v, Judgement) else Judgement(v)) for k, v in self.areas.items()}
        if self.end is not None and self.end < self.start:
            raise ValidationError("The inspection cannot end before it starts.")
        if self.published is not None and self.published < self.start:
            raise ValidationError("The report cannot be published before the inspection starts.")
        if not self.type.is_graded and (self.judgement is not None or self.areas):
            raise ValidationError(f"A {self.type.label.lower()} is not graded: leave out the judgements.")
        valid = JUDGEMENT_AREAS[self.framework]
        for key in self.areas:
            if key not in valid:
                raise ValidationError(
                    f"Unknown judgement area {key!r} for {self.framework.label}: use {', '.join(valid)}."
                )

    def _loaded(self) -> None:
        if self.framework is None:
            self.framework = Framework.in_force_on(self.start)
        self.areas = {k: Judgement(v) for k, v in self.areas.items()}

    @property
    def report_date(self) -> date:
        """The date the statutory clock runs from: publication, else the last day on site."""
        return self.published or self.end or self.start


@record_class
class FocusArea(Record):
    TABLE: ClassVar[str] = "focus_areas"
    PREFIX: ClassVar[str] = "F"

    key: str
    name: str
    lead_role: str = ""
    lead_name: str = ""
    description: str = ""

    def __post_init__(self) -> None:
        self.key = require_text(self.key, "focus area key").upper()
        if not re.fullmatch(r"[A-Z0-9][A-Z0-9\-]{0,23}", self.key):
            raise ValidationError(
                f"Focus area key {self.key!r} must be 1-24 letters, digits or hyphens, e.g. DIS or FA-CL."
            )
        self.name = require_text(self.name, "focus area name")

    @property
    def lead(self) -> str:
        if self.lead_role and self.lead_name:
            return f"{self.lead_role} ({self.lead_name})"
        return self.lead_role or self.lead_name


@record_class
class Owner(Record):
    TABLE: ClassVar[str] = "owners"
    PREFIX: ClassVar[str] = "O"

    role: str
    name: str = ""
    email: str = ""
    active: bool = True
    login: str = ""  # on a PostgreSQL server: the database login of the officer in the role

    def __post_init__(self) -> None:
        self.role = require_text(self.role, "owner's role")
        self.name = optional_text(self.name)
        self.email = optional_text(self.email)
        self.login = optional_text(self.login)
        if self.email and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", self.email):
            raise ValidationError(f"{self.email!r} is not an email address.")

    @property
    def display(self) -> str:
        return f"{self.role} ({self.name})" if self.name else self.role


@record_class
class Recommendation(Record):
    TABLE: ClassVar[str] = "recommendations"
    PREFIX: ClassVar[str] = "R"

    text: str
    focus_id: int | None = None
    inspection_id: int | None = None
    report_ref: str = ""
    summary: str = ""

    def __post_init__(self) -> None:
        self.text = require_text(self.text, "recommendation text")
        self.report_ref = optional_text(self.report_ref)
        self.summary = optional_text(self.summary)

    @property
    def short(self) -> str:
        """A label for tables: the summary if given, else the text cut to 60 characters."""
        if self.summary:
            return self.summary
        return self.text if len(self.text) <= 60 else self.text[:59].rstrip() + "…"


@record_class
class Action(Record):
    TABLE: ClassVar[str] = "actions"
    PREFIX: ClassVar[str] = "A"
    DATE_FIELDS: ClassVar[tuple[str, ...]] = ("due", "original_due", "completed_on")
    ENUM_FIELDS: ClassVar[dict[str, type[Vocabulary]]] = {"status": Status, "rag_override": Rag}
    RANGES: ClassVar[dict[str, tuple[int, int]]] = {"progress": (0, 100)}

    rec_id: int
    title: str
    # None: no due date yet (a council sheet's "TBC" or "Ongoing").
    due: date | None
    owner_id: int | None = None
    original_due: date | None = None
    status: Status = Status.NOT_STARTED
    progress: int = 0
    success_measure: str = ""
    dropped_reason: str = ""
    rag_override: Rag | None = None
    rag_reason: str = ""
    completed_on: date | None = None
    created_at: str = ""
    # Kept in step with the progress log so that cron checks and reports need
    # not read the whole log: when the latest entry was made and its note.
    last_logged_at: str = ""
    last_note: str = ""

    def __post_init__(self) -> None:
        self.title = require_text(self.title, "action title")
        if self.original_due is None:
            self.original_due = self.due
        check_progress(self.progress)
        if self.status is Status.DROPPED and not self.dropped_reason.strip():
            raise ValidationError("Dropping an action needs a reason (--reason).")
        if self.rag_override is not None and self.rag_override not in OVERRIDABLE_RAGS:
            raise ValidationError("A RAG override must be red, amber or green.")

    @property
    def has_slipped(self) -> bool:
        """True when the due date has moved later than first agreed."""
        return self.original_due is not None and self.due is not None and self.due > self.original_due


def check_progress(progress: object) -> int:
    if not isinstance(progress, int) or isinstance(progress, bool) or not 0 <= progress <= 100:
        raise ValidationError(f"Progress must be a whole number from 0 to 100, not {progress!r}.")
    return progress


@record_class
class LogEntry(Record):
    """One append-only progress note. ``changes`` maps a field to ``[old, new]``."""

    TABLE: ClassVar[str] = "log"
    PREFIX: ClassVar[str] = "L"

    action_id: int
    at: str
    by: str
    note: str = ""
    changes: dict[str, list[Any]] = field(default_factory=dict)


@record_class
class Evidence(Record):
    TABLE: ClassVar[str] = "evidence"
    PREFIX: ClassVar[str] = "E"
    DATE_FIELDS: ClassVar[tuple[str, ...]] = ("date",)
    ENUM_FIELDS: ClassVar[dict[str, type[Vocabulary]]] = {"kind": EvidenceKind}

    action_id: int
    title: str
    date: date
    kind: EvidenceKind = EvidenceKind.DOCUMENT
    link: str = ""
    added_at: str = ""
    by: str = ""

    def __post_init__(self) -> None:
        self.title = require_text(self.title, "evidence title")
        self.link = optional_text(self.link)


@record_class
class Visit(Record):
    TABLE: ClassVar[str] = "visits"
    PREFIX: ClassVar[str] = "V"
    DATE_FIELDS: ClassVar[tuple[str, ...]] = ("date",)
    ENUM_FIELDS: ClassVar[dict[str, type[Vocabulary]]] = {"type": InspectionType, "status": VisitStatus}

    date: date
    type: InspectionType = InspectionType.MONITORING_VISIT
    status: VisitStatus = VisitStatus.EXPECTED
    themes: list[int] = field(default_factory=list)
    outcome: str = ""


@record_class
class Reminder(Record):
    """The latest e-mail reminder ``kt remind`` sent about an action, for one reason
    (``kind``: overdue, due, stale) at one level (``level``: owner, lead, escalation).
    One record per action, kind and level, updated on each sending, so the table stays
    small; every sending is in the audit history (kt history M3)."""

    TABLE: ClassVar[str] = "reminders"
    PREFIX: ClassVar[str] = "M"

    action_id: int
    kind: str
    level: str
    to: str
    sent_at: str
    message_id: str = ""
