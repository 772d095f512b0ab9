"""Actions, the append-only progress log, and evidence: what officers do every day."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any, NamedTuple

from knowsley_tracker import lifecycle
from knowsley_tracker.dates import format_date
from knowsley_tracker.errors import ValidationError
from knowsley_tracker.models import (
    Action,
    Evidence,
    EvidenceKind,
    FocusArea,
    LogEntry,
    Owner,
    Rag,
    Recommendation,
    Status,
    check_progress,
)
from knowsley_tracker.rag import Rating, rate
from knowsley_tracker.service import removal
from knowsley_tracker.service.removal import Removed
from knowsley_tracker.service.session import Session
from knowsley_tracker.store_interface import Eq


class ActionView(NamedTuple):
    """An action with what it refers to and its RAG rating, ready to show.

    A NamedTuple, not a frozen dataclass: a listing or report makes one per action
    (3,000 on a regional plan), and a frozen dataclass's __init__ sets each field
    through object.__setattr__ (about 1.5 ms more per 1,000 views)."""

    action: Action
    rec: Recommendation | None
    focus: FocusArea | None
    owner: Owner | None
    rating: Rating
    evidence_count: int


class ActionDetail(NamedTuple):
    view: ActionView
    log: list[LogEntry]
    evidence: list[Evidence]


class PlanIndex:
    """Every record a listing needs, read once and indexed by id (one pass per table)."""

    def __init__(self, s: Session) -> None:
        store = s.store
        self.session = s
        self.recs = {r.id: r for r in store.all(Recommendation)}
        self.areas = {f.id: f for f in store.all(FocusArea)}
        self.owners = {o.id: o for o in store.all(Owner)}
        self.actions = store.all(Action)
        self.evidence_counts: dict[int, int] = store.count_by(Evidence, "action_id")

    def view(self, action: Action) -> ActionView:
        return self.views([action])[0]

    def views(self, actions: list[Action]) -> list[ActionView]:
        """:meth:`view` of each action (a listing or report has 3,000: one loop, the
        lookups it needs bound once)."""
        recs, areas, owners, counts = self.recs.get, self.areas.get, self.owners.get, self.evidence_counts.get
        today, rules = self.session.today, self.session.rag_rules
        new = tuple.__new__
        out: list[ActionView] = []
        for action in actions:
            rec = recs(action.rec_id)
            evidence = counts(action.id, 0)
            area = areas(rec.focus_id) if rec and rec.focus_id else None
            owner = owners(action.owner_id) if action.owner_id else None
            # tuple.__new__, as NamedTuple's own __new__ is a Python function: see rag.rate.
            out.append(new(ActionView, (action, rec, area, owner, rate(action, today, evidence, rules), evidence)))
        return out


# -- adding and editing ----------------------------------------------------------


def add_action(
    s: Session,
    rec_id: int,
    title: str,
    *,
    due: date,
    owner_id: int | None = None,
    success_measure: str = "",
    status: Status | None = None,
    progress: int | None = None,
) -> Action:
    """Add an action under a recommendation."""
    s.texts(title=title, success_measure=success_measure)
    recommendation = s.store.get(Recommendation, rec_id)
    if owner_id is not None:
        s.store.get(Owner, owner_id)
    if status is Status.DROPPED:
        raise ValidationError("A new action cannot start dropped.")
    start = lifecycle.resolve(
        "the new action",
        None,
        0,
        status=status,
        progress=check_progress(progress) if progress is not None else None,
    )
    action = Action(
        rec_id=recommendation.id,
        title=title,
        due=due,
        owner_id=owner_id,
        status=start.status,
        progress=start.progress,
        success_measure=success_measure.strip(),
        created_at=s.stamp(),
        completed_on=s.today if start.status is Status.COMPLETE else None,
    )
    return s.store.add(action)


def edit_action(
    s: Session,
    action_id: int,
    *,
    title: str | None = None,
    owner_id: int | None = None,
    due: date | None = None,
    reason: str | None = None,
    success_measure: str | None = None,
    rec_id: int | None = None,
    rag: Rag | None = None,
    clear_rag: bool = False,
) -> tuple[Action, dict[str, list[Any]]]:
    """Change an action's details. A new due date or a RAG override (``rag``; ``clear_rag``
    goes back to the computed RAG) needs a reason, which is logged."""
    s.texts(title=title, success_measure=success_measure, reason=reason)
    action = s.store.get(Action, action_id)
    if owner_id is not None:
        s.store.get(Owner, owner_id)
    if rec_id is not None:
        s.store.get(Recommendation, rec_id)
    updated = replace(
        action,
        title=title if title is not None else action.title,
        owner_id=owner_id if owner_id is not None else action.owner_id,
        success_measure=success_measure.strip() if success_measure is not None else action.success_measure,
        rec_id=rec_id if rec_id is not None else action.rec_id,
    )
    logged: dict[str, list[Any]] = {}
    if due is not None:
        new_due = due
        if new_due != action.due:
            if not (reason or "").strip() and action.due is not None:
                raise ValidationError(
                    f'Changing the due date of {action.ref} needs a reason: add --reason "..." (it is logged).'
                )
            updated.due = new_due
            if updated.original_due is None:  # a first due date for an action imported without one
                updated.original_due = new_due
            logged["due"] = [action.due.isoformat() if action.due else None, new_due.isoformat()]
    if rag is not None or clear_rag:
        _apply_override(updated, rag, reason, logged)
    if not logged and reason and due is None and rag is None and not clear_rag:
        raise ValidationError("--reason goes with --due or --rag.")
    if logged:
        append_log(s, updated, note=(reason or "").strip(), changes=logged)
    return updated, s.store.save(updated)


def _apply_override(action: Action, value: Rag | None, reason: str | None, logged: dict[str, list[Any]]) -> None:
    """Set the officer's RAG (``value``), or clear it (None)."""
    old = action.rag_override.value if action.rag_override else None
    if value is None:
        if action.rag_override is None:
            raise ValidationError(f"{action.ref} has no RAG override to clear.")
        action.rag_override, action.rag_reason = None, ""
        logged["rag_override"] = [old, None]
        return
    if value not in (Rag.RED, Rag.AMBER, Rag.GREEN):
        raise ValidationError("A RAG override must be red, amber or green (or auto to clear it).")
    if not (reason or "").strip():
        raise ValidationError(f'Overriding the RAG of {action.ref} needs a reason: add --reason "...".')
    if not action.status.is_open:
        raise ValidationError(f"{action.ref} is {action.status.value}: only open actions take a RAG override.")
    action.rag_override, action.rag_reason = value, (reason or "").strip()
    logged["rag_override"] = [old, value.value]


def remove_action(s: Session, action_id: int) -> Removed[Action]:
    """Delete an action that nothing refers to yet (otherwise drop it with a reason)."""
    return removal.remove(s.store, s.store.get(Action, action_id))


# -- the progress log -------------------------------------------------------------


def log_progress(
    s: Session,
    action_id: int,
    note: str = "",
    *,
    progress: int | None = None,
    status: Status | None = None,
) -> tuple[Action, LogEntry]:
    """Append a progress note, optionally moving progress and status with it."""
    note = note.strip()
    if note:
        s.text("note", note)
    if not note and progress is None and status is None:
        raise ValidationError("Give a note, --progress or --status.")
    action = s.store.get(Action, action_id)
    updated = replace(action)
    logged: dict[str, list[Any]] = {}
    asked = status
    if progress is not None:
        check_progress(progress)
    if asked is Status.DROPPED and not note:
        raise ValidationError(f'Dropping {action.ref} needs a reason: kt log {action.ref} "why" --status dropped.')
    outcome = lifecycle.resolve(action.ref, action.status, action.progress, status=asked, progress=progress)
    if outcome.progress != action.progress:
        updated.progress = outcome.progress
        logged["progress"] = [action.progress, outcome.progress]
    new_status = outcome.status
    if new_status is not action.status:
        updated.status = new_status
        logged["status"] = [action.status.value, new_status.value]
        updated.completed_on = s.today if new_status is Status.COMPLETE else None
        updated.dropped_reason = note if new_status is Status.DROPPED else ""
        if not new_status.is_open and updated.rag_override is not None:
            # Closing an action ends its override; the log says so, so board
            # snapshots rebuilt from the log see it too.
            logged["rag_override"] = [updated.rag_override.value, None]
            updated.rag_override, updated.rag_reason = None, ""
    entry = append_log(s, updated, note=note, changes=logged)
    s.store.save(updated)
    return updated, entry


def complete_action(s: Session, action_id: int, note: str = "") -> tuple[Action, LogEntry]:
    """Mark an action complete (progress 100) with an optional closing note."""
    action = s.store.get(Action, action_id)
    if action.status is Status.COMPLETE:
        since = f" (since {format_date(action.completed_on)})" if action.completed_on else ""
        raise ValidationError(f"{action.ref} is already complete{since}.")
    return log_progress(s, action_id, note, status=Status.COMPLETE)


def append_log(s: Session, action: Action, *, note: str, changes: dict[str, list[Any]]) -> LogEntry:
    """Add a log entry and update the action's latest-entry fields (the caller saves the action)."""
    entry = s.store.add(LogEntry(action_id=action.id, at=s.stamp(), by=s.user, note=note, changes=changes))
    action.last_logged_at = entry.at
    if note:
        action.last_note = note
    return entry


def action_log(s: Session, action_id: int) -> list[LogEntry]:
    """Every log entry of one action, oldest first."""
    return list(s.store.select(LogEntry, Eq("action_id", action_id)))


# -- evidence ----------------------------------------------------------------------


def add_evidence(
    s: Session,
    action_id: int,
    title: str,
    *,
    day: date,
    link: str = "",
    kind: EvidenceKind = EvidenceKind.DOCUMENT,
) -> Evidence:
    """Attach a piece of evidence, dated ``day``, to an action."""
    s.texts(title=title, link=link)
    action = s.store.get(Action, action_id)
    evidence = Evidence(
        action_id=action.id,
        title=title,
        date=day,
        link=link,
        kind=kind,
        added_at=s.stamp(),
        by=s.user,
    )
    return s.store.add(evidence)


def list_evidence(s: Session, ref: str | None = None) -> list[tuple[Evidence, Action | None]]:
    wanted = s.action(ref).id if ref else None
    actions = {a.id: a for a in s.store.all(Action)}
    return [(e, actions.get(e.action_id)) for e in s.store.all(Evidence) if wanted is None or e.action_id == wanted]


def remove_evidence(s: Session, evidence_id: int) -> Removed[Evidence]:
    return removal.remove(s.store, s.store.get(Evidence, evidence_id))


# -- listing -------------------------------------------------------------------------


def list_actions(
    s: Session,
    *,
    focus: str | None = None,
    owner: str | None = None,
    status: str | None = None,
    rec: str | None = None,
    rag: str | None = None,
    overdue: bool = False,
    due_within: int | None = None,
) -> list[ActionView]:
    """Actions matching every filter given, soonest due first."""
    if due_within is not None and due_within < 0:
        raise ValidationError("--due-within takes a number of days, 0 or more.")
    focus_id = s.focus(focus).id if focus else None
    owner_id = s.owner(owner).id if owner else None
    wanted_status = Status.parse(status, "status") if status else None
    wanted_rag = Rag.parse(rag, "RAG") if rag else None
    rec_id = s.recommendation(rec).id if rec else None
    index = PlanIndex(s)
    chosen: list[Action] = []
    for action in index.actions:
        if owner_id is not None and action.owner_id != owner_id:
            continue
        if wanted_status is not None and action.status is not wanted_status:
            continue
        if rec_id is not None and action.rec_id != rec_id:
            continue
        if overdue and not (action.status.is_open and action.due is not None and action.due < s.today):
            continue
        if due_within is not None and not (
            action.status.is_open and action.due is not None and 0 <= (action.due - s.today).days <= due_within
        ):
            continue
        chosen.append(action)
    out = [
        view
        for view in index.views(chosen)
        if (focus_id is None or (view.focus is not None and view.focus.id == focus_id))
        and (wanted_rag is None or view.rating.rag is wanted_rag)
    ]
    out.sort(key=lambda v: (v.action.due or date.max, v.action.id))
    return out


def show_action(s: Session, ref: str) -> ActionDetail:
    action = s.action(ref)
    index = PlanIndex(s)
    evidence = list(s.store.select(Evidence, Eq("action_id", action.id)))
    return ActionDetail(view=index.view(action), log=action_log(s, action.id), evidence=evidence)
