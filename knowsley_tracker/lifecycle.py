"""An action's status and progress: the rules that keep them from contradicting each other.

Written once here and applied by every command that moves them (``kt log``,
``kt done``, ``kt action add``), by imports, by undo, and by ``kt doctor``:

* complete means 100%, and 100% means complete: ``--progress 100`` on an
  open action completes it (and says so);
* lowering the progress of a complete action reopens it, which must be asked
  for (``--status in-progress`` or ``blocked``);
* not-started means 0%: progress on a not-started action starts it;
* dropped keeps its progress (and is left out of averages); its progress
  changes only when it is reopened;
* only an open action carries a RAG override.

A contradictory request raises :class:`StatusConflict` with one line saying
what would be consistent. Pure functions: no storage, no rendering.
"""

from __future__ import annotations

from datetime import date
from typing import NamedTuple

from knowsley_tracker.dates import format_date
from knowsley_tracker.errors import ValidationError
from knowsley_tracker.models import Action, Status


class StatusConflict(ValidationError):
    """Status and progress asked for together contradict each other (or the action)."""

    def __init__(self, message: str, *, sheet: str = "") -> None:
        super().__init__(message)
        # The same problem worded for a spreadsheet row (no command-line options).
        self.sheet = sheet or message


class Outcome(NamedTuple):
    """The status and progress an action ends with, and what followed from the rules."""

    status: Status
    progress: int
    # Said in the confirmation when the rules moved something not asked for
    # (e.g. "100% completes an action").
    because: str = ""


COMPLETES = "progress 100% completes an action"


def _pct(n: int) -> str:
    return f"{n}%"


def resolve(
    ref: str,
    current: Status | None,
    current_progress: int,
    *,
    status: Status | None = None,
    progress: int | None = None,
) -> Outcome:
    """The status and progress ``ref`` ends with when ``status`` and/or ``progress`` are
    asked for. ``current`` is None for a new action (which starts not-started at 0%).
    Raises :class:`StatusConflict` for a contradictory request."""
    was = current if current is not None else Status.NOT_STARTED
    was_progress = current_progress if current is not None else 0

    if status is None:
        if progress is None or progress == was_progress and not (was.is_open and progress == 100):
            return Outcome(was, was_progress)
        if was is Status.COMPLETE:
            raise StatusConflict(
                f"{ref} is complete (100%): to lower its progress to {_pct(progress)}, reopen it by adding "
                "--status in-progress (or blocked).",
            )
        if was is Status.DROPPED:
            raise StatusConflict(
                f"{ref} is dropped, so its progress stays at {_pct(was_progress)}: to change it, reopen it by "
                "adding --status in-progress (or blocked).",
            )
        if progress == 100:
            return Outcome(Status.COMPLETE, 100, COMPLETES)
        if was is Status.NOT_STARTED and progress > 0:
            return Outcome(Status.IN_PROGRESS, progress)
        return Outcome(was, progress)

    if status is Status.COMPLETE:
        if progress is not None and progress != 100:
            raise StatusConflict(
                f"Complete means 100%, not {_pct(progress)}: leave --progress out (or give 100) to complete "
                f"{ref}, or keep it open with --status in-progress.",
                sheet=f"Complete means 100% progress, not {_pct(progress)}: make the progress 100 (or leave it "
                "empty), or give an open status such as In progress.",
            )
        return Outcome(Status.COMPLETE, 100)

    if status is Status.DROPPED:
        if progress is not None and progress != was_progress:
            raise StatusConflict(
                f"A dropped action keeps the progress it had ({_pct(was_progress)}): leave --progress out "
                f"to drop {ref}.",
                sheet="A new action cannot start dropped.",
            )
        return Outcome(Status.DROPPED, was_progress)

    # An open status: not-started, in-progress or blocked.
    new_progress = was_progress if progress is None else progress
    if new_progress == 100:
        if progress is None and current is not None:
            raise StatusConflict(
                f"{ref} is at 100%, and an open action cannot be: reopening it as {status.value} needs its "
                "progress now, e.g. --progress 90.",
            )
        raise StatusConflict(
            f"{status.label} at 100% contradicts itself (100% means complete): give --status complete, or a "
            "progress under 100.",
            sheet=f"{status.label} at 100% contradicts itself (100% means complete): make the status Complete, "
            "or the progress under 100.",
        )
    if status is Status.NOT_STARTED and new_progress > 0:
        raise StatusConflict(
            f"Not started means 0%, not {_pct(new_progress)}: give --progress 0, or --status in-progress.",
            sheet=f"Not started means 0% progress, not {_pct(new_progress)}: make the progress 0 (or empty), "
            "or the status In progress.",
        )
    return Outcome(status, new_progress)


class Breach(NamedTuple):
    """A stored action that breaks the rules (an older store, a hand edit, an import),
    and the repair ``kt doctor --fix`` makes: field -> new value, logged with the rule."""

    ref: str
    state: str  # "complete at 40%"
    rule: str  # "complete means 100%"
    fix: dict[str, object]
    change: str  # the repair in words: "progress 40% -> 100%"

    @property
    def message(self) -> str:
        return f"{self.ref} is {self.state}: {self.rule}."

    @property
    def reason(self) -> str:
        return f"{self.change} ({self.rule})"


def breaches(action: Action, today: date | None = None) -> list[Breach]:
    """Every way a stored action breaks the rules, with its repair (dated ``today`` where a
    completion date is set; leave it out to find breaches only)."""
    out: list[Breach] = []
    ref = action.ref
    status = action.status
    if status is Status.COMPLETE and action.progress != 100:
        out.append(
            Breach(
                ref,
                f"complete at {_pct(action.progress)}",
                "complete means 100%",
                {"progress": 100},
                f"progress {_pct(action.progress)} -> 100%",
            )
        )
    if status.is_open and action.progress == 100:
        out.append(
            Breach(
                ref,
                f"{status.value} at 100%",
                "100% means complete",
                {"status": Status.COMPLETE, "completed_on": today},
                f"status {status.value} -> complete",
            )
        )
    if status is Status.NOT_STARTED and 0 < action.progress < 100:
        out.append(
            Breach(
                ref,
                f"not started at {_pct(action.progress)}",
                "progress means it has started",
                {"status": Status.IN_PROGRESS},
                "status not-started -> in-progress",
            )
        )
    if status is Status.COMPLETE and action.completed_on is None and action.progress == 100:
        when = format_date(today) if today else "today"
        out.append(
            Breach(
                ref,
                "complete with no completion date",
                "a complete action has one",
                {"completed_on": today},
                f"completion date {when}",
            )
        )
    if status.is_open and action.completed_on is not None:
        out.append(
            Breach(
                ref,
                f"{status.value} with a completion date ({format_date(action.completed_on)})",
                "only a complete action has one",
                {"completed_on": None},
                "completion date cleared",
            )
        )
    if not status.is_open and action.rag_override is not None:
        out.append(
            Breach(
                ref,
                f"{status.value} with a RAG override ({action.rag_override.label})",
                "only an open action takes one",
                {"rag_override": None, "rag_reason": ""},
                "RAG override cleared",
            )
        )
    return out
