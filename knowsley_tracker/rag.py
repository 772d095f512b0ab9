"""RAG ratings: computed from the plan's facts, overridable only with a reason.

The rules, in order, for an action on ``today``:

* dropped -> Dropped; complete -> Blue when at least one piece of evidence is
  attached, else Complete;
* open and overdue (due before today) or blocked -> Red;
* open and due within ``amber_days`` (default 14) with progress under
  ``amber_progress`` (default 75), or its due date has slipped -> Amber;
* otherwise Green.

An officer's override (red, amber or green, with a reason) replaces the
computed rating of an open action. Pure functions: no storage, no rendering.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from knowsley_tracker.models import Action, Rag, Status

DEFAULT_AMBER_DAYS = 14
DEFAULT_AMBER_PROGRESS = 75


@dataclass(frozen=True)
class RagRules:
    amber_days: int = DEFAULT_AMBER_DAYS
    amber_progress: int = DEFAULT_AMBER_PROGRESS

    @classmethod
    def from_settings(cls, settings: dict[str, Any]) -> RagRules:
        return cls(
            amber_days=int(settings.get("rag.amber_days", DEFAULT_AMBER_DAYS)),
            amber_progress=int(settings.get("rag.amber_progress", DEFAULT_AMBER_PROGRESS)),
        )


@dataclass(frozen=True)
class Rating:
    """An action's RAG and why: ``computed`` is what the rules say, ``rag`` what counts."""

    rag: Rag
    computed: Rag
    reason: str
    overridden: bool = False


def rate(action: Action, today: date, evidence_count: int, rules: RagRules) -> Rating:
    """The RAG rating of one action on ``today``."""
    computed, reason = _computed(action, today, evidence_count, rules)
    if action.rag_override is not None and action.status.is_open:
        return Rating(action.rag_override, computed, f"override: {action.rag_reason}", overridden=True)
    return Rating(computed, computed, reason)


def _computed(action: Action, today: date, evidence_count: int, rules: RagRules) -> tuple[Rag, str]:
    if action.status is Status.DROPPED:
        return Rag.DROPPED, "dropped"
    if action.status is Status.COMPLETE:
        if evidence_count > 0:
            return Rag.BLUE, f"complete with {evidence_count} evidence"
        return Rag.COMPLETE, "complete, no evidence yet"
    days_left = (action.due - today).days
    if days_left < 0:
        return Rag.RED, f"overdue by {-days_left} day{'s' if days_left != -1 else ''}"
    if action.status is Status.BLOCKED:
        return Rag.RED, "blocked"
    if days_left <= rules.amber_days and action.progress < rules.amber_progress:
        return Rag.AMBER, f"due in {days_left} day{'s' if days_left != 1 else ''} at {action.progress}%"
    if action.has_slipped:
        return Rag.AMBER, "due date slipped"
    return Rag.GREEN, "on track"


def is_overdue(action: Action, today: date) -> bool:
    return action.status.is_open and action.due < today
