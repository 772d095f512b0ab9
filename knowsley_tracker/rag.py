"""RAG ratings: computed from the plan's facts, overridable only with a reason.

The rules, in order, for an action on ``today``:

* dropped -> Dropped; complete -> Blue when at least one piece of evidence is
  attached, else Complete;
* open and overdue (due before today) or blocked -> Red;
* open and due within ``amber_days`` (default 14) with progress under
  ``amber_progress`` (default 75), or its due date has slipped -> Amber;
* otherwise Green.

An officer's override (red, amber or green, with a reason) replaces the
computed rating of an open action. Recommendations and focus areas roll up
their actions (:func:`rollup`). Pure functions: no storage, no rendering.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any, NamedTuple

from knowsley_tracker.config import SETTINGS, read_setting
from knowsley_tracker.models import RAG_ORDER, Action, Rag, Status

DEFAULT_AMBER_DAYS: int = SETTINGS["rag.amber_days"].default
DEFAULT_AMBER_PROGRESS: int = SETTINGS["rag.amber_progress"].default


# NamedTuples and init-only dataclasses: this module is imported by every
# command, and generating a frozen dataclass's methods costs about a millisecond.
class RagRules(NamedTuple):
    amber_days: int = DEFAULT_AMBER_DAYS
    amber_progress: int = DEFAULT_AMBER_PROGRESS

    @classmethod
    def from_settings(cls, settings: dict[str, Any]) -> RagRules:
        return cls(
            amber_days=read_setting(settings, "rag.amber_days"),
            amber_progress=read_setting(settings, "rag.amber_progress"),
        )


class Rating(NamedTuple):
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
    # tuple.__new__ rather than Rating(...): NamedTuple's __new__ is a Python function, and a
    # regional listing rates 3,000 actions.
    return _tuple_new(Rating, (computed, computed, reason, False))


_tuple_new = tuple.__new__


def _computed(action: Action, today: date, evidence_count: int, rules: RagRules) -> tuple[Rag, str]:
    if action.status is Status.DROPPED:
        return Rag.DROPPED, "dropped"
    if action.status is Status.COMPLETE:
        if evidence_count > 0:
            return Rag.BLUE, f"complete with {evidence_count} evidence"
        return Rag.COMPLETE, "complete, no evidence yet"
    if action.due is None:
        return (Rag.RED, "blocked") if action.status is Status.BLOCKED else (Rag.GREEN, "no due date")
    days_left = (action.due - today).days
    if days_left < 0:
        return Rag.RED, f"overdue by {-days_left} day{'s' if days_left != -1 else ''}"
    if action.status is Status.BLOCKED:
        return Rag.RED, "blocked"
    if days_left <= rules.amber_days and action.progress < rules.amber_progress:
        when = "today" if days_left == 0 else f"in {days_left} day{'s' if days_left != 1 else ''}"
        return Rag.AMBER, f"due {when} at {action.progress}%"
    if action.has_slipped:
        return Rag.AMBER, "due date slipped"
    return Rag.GREEN, "on track"


def is_overdue(action: Action, today: date) -> bool:
    return action.status.is_open and action.due is not None and action.due < today


def rules_text(rules: RagRules | None = None) -> str:
    """The RAG rules in words, one paragraph each (for ``kt report --help`` and the README)."""
    r = rules or RagRules()
    return "\n\n".join(
        [
            "How RAG is worked out for each action, on the report date:",
            "Red: open and past its due date, or blocked.",
            f"Amber: due within {r.amber_days} days (setting rag.amber_days) with progress under "
            f"{r.amber_progress}% (rag.amber_progress), or its due date has slipped past the one first agreed.",
            "Green: any other open action.",
            "Complete: complete, no evidence attached yet. Blue: complete with at least one piece of evidence.",
            "An officer may override an open action's RAG, only with a reason: "
            'kt action edit A3 --rag red --reason "...". The override and reason are logged, reports show '
            "it as Red* with the reason, and --rag auto clears it.",
            "A recommendation or focus area takes the worst RAG of its open actions; once all are complete it is "
            "Blue if every one is evidenced, else Complete. Its progress is the average of its actions'. "
            "Dropped actions are left out.",
            "Change a threshold with: kt config set rag.amber_days 21",
        ]
    )


class Rollup:
    """Actions summed up for a recommendation, a focus area or the whole plan.

    ``counts`` has every RAG (dropped included); the other figures leave
    dropped actions out.
    """

    __slots__ = ("counts", "actions", "complete", "overdue", "progress")

    def __init__(
        self, counts: dict[Rag, int], actions: int, complete: int, overdue: int, progress: float | None
    ) -> None:
        self.counts = counts
        self.actions = actions
        self.complete = complete
        self.overdue = overdue
        self.progress = progress

    def count(self, rag: Rag) -> int:
        return self.counts.get(rag, 0)

    @property
    def dropped(self) -> int:
        return self.count(Rag.DROPPED)

    @property
    def open(self) -> int:
        return self.actions - self.complete

    @property
    def rag(self) -> Rag | None:
        """The worst open RAG; when nothing is open, Blue if all are evidenced, else Complete."""
        for rag in (Rag.RED, Rag.AMBER, Rag.GREEN):
            if self.count(rag):
                return rag
        if self.count(Rag.COMPLETE):
            return Rag.COMPLETE
        if self.count(Rag.BLUE):
            return Rag.BLUE
        return None


def rollup(items: Iterable[tuple[Action, Rag]], today: date) -> Rollup:
    """Sum up actions with their RAGs (the rating that counts, overrides included)."""
    counts = dict.fromkeys(RAG_ORDER, 0)
    actions = complete = overdue = progress = 0
    for action, rag in items:
        counts[rag] += 1
        if action.status is Status.DROPPED:
            continue
        actions += 1
        if action.status is Status.COMPLETE:
            complete += 1
            progress += 100  # complete is complete, whatever progress was last logged
            continue
        progress += action.progress
        if action.due is not None and action.due < today:
            overdue += 1
    return Rollup(counts, actions, complete, overdue, progress / actions if actions else None)


def rag_label(rag: Rag | None, overridden: bool = False) -> str:
    """How a RAG is written in tables: ``Red``, ``Amber*`` (an officer's override), ``Blue``;
    empty for no RAG."""
    if rag is None:
        return ""
    label = "Blue" if rag is Rag.BLUE else rag.label
    return label + "*" if overridden else label
