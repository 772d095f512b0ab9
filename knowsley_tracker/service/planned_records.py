"""What a spreadsheet import will create: the planned focus areas, owners, recommendations
and actions (ids are 0 until the plan is allocated), and the :class:`ImportPlan` that
holds them with the notes about how the sheet was read and how it differs from the plan.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from knowsley_tracker.models import Action, FocusArea, Owner, Rag, Recommendation, Status
from knowsley_tracker.service.exchange import Problem


@dataclass
class NewFocus:
    key: str
    name: str
    row: int
    id: int = 0


@dataclass
class NewOwner:
    role: str
    name: str
    row: int
    id: int = 0

    @property
    def display(self) -> str:
        return f"{self.role} ({self.name})" if self.name else self.role


@dataclass
class NewRec:
    id: int  # 0 until planned
    text: str
    report_ref: str
    focus: FocusArea | NewFocus | None
    row: int

    @property
    def ref(self) -> str:
        return f"{Recommendation.PREFIX}{self.id}"


@dataclass
class NewAction:
    id: int  # 0 until planned
    rec: Recommendation | NewRec
    title: str
    due: date | None
    owner: Owner | NewOwner | None
    status: Status
    progress: int
    rag_override: Rag | None
    note: str
    row: int
    # The council's status word ("Behind") when the status alone would lose it: kept in the log.
    sheet_status: str = ""

    @property
    def log_note(self) -> str:
        """The first progress-log entry's note: the sheet's update, and its status word if kept."""
        return log_note(self.note, self.sheet_status)

    @property
    def ref(self) -> str:
        return f"{Action.PREFIX}{self.id}"


def log_note(note: str, word: str) -> str:
    """A row's update as logged: the note, then the council's status word when it is kept."""
    kept = f"Status in the sheet: {word}." if word else ""
    return "\n".join(part for part in (note, kept) if part)


@dataclass
class ImportPlan:
    """What an import will create, and what it found already in the plan."""

    source: str
    rows: int = 0
    focus_areas: list[NewFocus] = field(default_factory=list)
    owners: list[NewOwner] = field(default_factory=list)
    recs: list[NewRec] = field(default_factory=list)
    actions: list[NewAction] = field(default_factory=list)
    # Rows whose action (or, for a recommendation-only row, recommendation) is already in the plan.
    matched: int = 0
    # Rows matching a record already in the plan that the file describes differently:
    # left unchanged (kt import adds; kt log and kt action edit change).
    differences: list[Problem] = field(default_factory=list)
    # How cells were read when not as written ("TBC": no due date; "On track": in-progress), per row.
    interpretations: list[Problem] = field(default_factory=list)
    # Header columns kt does not recognise (not imported), and notes about the file as a whole.
    unrecognised_columns: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    # The reason given with --accept-rag (the sheet's RAG column becomes overrides), else None.
    rag_reason: str | None = None

    @property
    def creates_anything(self) -> bool:
        return bool(self.focus_areas or self.owners or self.recs or self.actions)

    @property
    def log_entries(self) -> int:
        return sum(1 for a in self.actions if a.log_note or a.rag_override)
