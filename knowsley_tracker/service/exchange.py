"""What every export and import shares: the store's identity, the calendar's
content, and the error that carries every problem found in an import file.

The formats themselves live in :mod:`knowsley_tracker.service.plan_sheet` (and the import_* modules)
and :mod:`knowsley_tracker.service.json_exchange`; iCalendar is rendered by
:mod:`knowsley_tracker.render.ics`. Nothing here imports csv or icalendar.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date, datetime

from knowsley_tracker.errors import ConflictError, PersonalDataError, TrackerError, ValidationError
from knowsley_tracker.models import Board
from knowsley_tracker.service.actions import ActionView, PlanIndex
from knowsley_tracker.service.plan import ActionPlanDeadline
from knowsley_tracker.service.session import Session
from knowsley_tracker.service.visits import VisitView, list_visits


@dataclass(frozen=True)
class Problem:
    """One thing wrong in an import file, located as precisely as the format allows."""

    where: str  # "row 4" for a spreadsheet, "records.actions[2] (A3)" for JSON
    column: str  # the column or field, or "" when the whole row is wrong
    message: str
    kind: str = ""  # PERSONAL_DATA, CONFLICT, or "" for invalid input

    def __str__(self) -> str:
        return f"{self.where}, {self.column}: {self.message}" if self.column else f"{self.where}: {self.message}"

    @classmethod
    def of(cls, where: str, column: str, exc: TrackerError, message: str = "") -> Problem:
        """The problem an error names (its message, or ``message``), of the error's kind."""
        kind = (
            PERSONAL_DATA if isinstance(exc, PersonalDataError) else CONFLICT if isinstance(exc, ConflictError) else ""
        )
        return cls(where, column, message or exc.message, kind)


PERSONAL_DATA, CONFLICT = "personal data", "conflict"


class ImportRejectedError(ValidationError):
    """An import file with problems: nothing was written. ``problems`` lists every one.

    The exit code is that of the most serious kind among them: personal data (6) when
    any problem is text the personal-data guard refused, else a conflict (5) when any
    row is about an action changed since its return was exported, else invalid input (4)."""

    def __init__(self, message: str, problems: list[Problem]) -> None:
        super().__init__(message)
        self.problems = problems
        kinds = {p.kind for p in problems}
        if PERSONAL_DATA in kinds:
            self.exit_code = PersonalDataError.exit_code
        elif CONFLICT in kinds:
            self.exit_code = ConflictError.exit_code


@dataclass(frozen=True)
class ImportLimit:
    """The most an import file may hold, from a setting, so a huge file is refused before it is read."""

    max_bytes: int
    setting: str

    @property
    def megabytes(self) -> int:
        return self.max_bytes // 1_000_000

    def refusal(self, source: str, size: int | None) -> str:
        """Why a file of ``size`` bytes (None: more than the limit, size unknown) is refused."""
        held = f"is {size / 1_000_000:,.1f} MB" if size is not None else f"holds more than {self.megabytes:,} MB"
        return (
            f"{source} {held}, over the {self.megabytes:,} MB limit for an import (the {self.setting} setting); "
            f"nothing was imported. For a genuine export, raise it with kt config set {self.setting} MB."
        )


def reject(source: str, problems: list[Problem]) -> ImportRejectedError:
    count = len(problems)
    noun = "problem" if count == 1 else "problems"
    return ImportRejectedError(f"{source} has {count} {noun}; nothing was imported.", problems)


def store_identity(s: Session) -> str:
    """A short, stable fingerprint of this plan: its authority and when its store was
    created. Calendar UIDs are built from it, so re-exports update events in place."""
    seed = f"{s.store.authority}\n{s.store.created_at}"
    return hashlib.sha256(seed.encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True)
class Alarms:
    """How many days before each kind of event its calendar reminder goes off (settings)."""

    visit: int = 7
    deadline: int = 7
    board: int = 1


@dataclass(frozen=True)
class CalendarData:
    """What ``kt export --format ics`` puts in the calendar."""

    authority: str
    identity: str
    # Grows with every saved change, so calendar apps accept re-exported events as updates.
    sequence: int
    stamp: datetime
    visits: list[VisitView]
    actions: list[ActionView]
    boards: list[Board] = field(default_factory=list)
    deadlines: list[ActionPlanDeadline] = field(default_factory=list)
    alarms: Alarms = Alarms()


def calendar_data(s: Session, *, open_only: bool = False) -> CalendarData:
    """Every visit, board meeting and statutory action-plan deadline, and every action's due
    date (only open actions if ``open_only``)."""
    from knowsley_tracker.service.plan import action_plan_deadlines

    index = PlanIndex(s)
    actions = index.views([a for a in index.actions if a.due is not None and (a.status.is_open or not open_only)])
    return CalendarData(
        authority=s.store.authority,
        identity=store_identity(s),
        sequence=s.store.txn,
        stamp=s.clock.now(),
        visits=list_visits(s),
        actions=sorted(actions, key=lambda v: (v.action.due or date.max, v.action.id)),
        boards=sorted(s.store.all(Board), key=lambda b: (b.date, b.id)),
        deadlines=sorted(action_plan_deadlines(s), key=lambda d: (d.due, d.inspection.id)),
        alarms=Alarms(
            visit=s.setting("ics.visit_alarm_days"),
            deadline=s.setting("ics.deadline_alarm_days"),
            board=s.setting("ics.board_alarm_days"),
        ),
    )
