"""kt doctor's status rules: find stored actions whose status, progress and RAG
contradict each other (older stores, hand edits, imports), and repair them.

The rules themselves live in :mod:`knowsley_tracker.lifecycle`. A repair is
saved like any change an officer makes: the action is updated and a progress
log entry records what changed and why, so reports and rebuilt board snapshots
see it, and ``kt history`` shows who ran the fix.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from knowsley_tracker.errors import ConflictError, NotFoundError
from knowsley_tracker.lifecycle import breaches
from knowsley_tracker.models import Action, Vocabulary
from knowsley_tracker.service.actions import append_log
from knowsley_tracker.service.session import Session
from knowsley_tracker.storage import Problem, Store

FIX = "Run kt doctor --fix to repair it (the reason is logged on the action)."


def status_problems(store: Store) -> list[Problem]:
    """Every stored action that breaks the status rules (unreadable rows are reported elsewhere)."""
    problems: list[Problem] = []
    for record_id, row in store.rows(Action.TABLE):
        try:
            action = Action.from_untrusted(record_id, row)
        except Exception:  # reported by the row check, with its own advice
            continue
        for breach in breaches(action):
            problems.append(Problem("problem", breach.message, FIX, True))
    return problems


def _stored(value: Any) -> Any:
    if isinstance(value, Vocabulary):
        return value.value
    if isinstance(value, date):
        return value.isoformat()
    return value


def repair_status(s: Session) -> list[str]:
    """Bring every action back within the status rules, logging each repair on the action."""
    done: list[str] = []
    for action in s.store.all(Action):
        changes: dict[str, list[Any]] = {}
        reasons: list[str] = []
        for _ in range(3):  # one repair can reveal another (100% and open -> complete -> undated)
            found = breaches(action, s.today)
            if not found:
                break
            for breach in found:
                for name, value in breach.fix.items():
                    old = getattr(action, name)
                    if name != "rag_reason":
                        changes.setdefault(name, [_stored(old), None])[1] = _stored(value)
                    setattr(action, name, value)
                reasons.append(breach.reason)
        if not changes:
            continue
        append_log(s, action, note=f"kt doctor --fix: {'; '.join(reasons)}.", changes=changes)
        s.store.save(action)
        done.append(f"Brought {action.ref} within the status rules: {'; '.join(reasons)}.")
    return done


def check_undo(s: Session, touched: set[tuple[str, int]], head: str) -> None:
    """Refuse an undo that would put an action back into a state the rules forbid (say,
    the state a ``kt doctor --fix`` repaired)."""
    for table, record_id in sorted(touched):
        if table != Action.TABLE:
            continue
        try:
            action = s.store.get(Action, record_id)
        except NotFoundError:  # the undo removed it
            continue
        found = breaches(action)
        if found:
            raise ConflictError(
                f"{head}: it would leave {action.ref} {found[0].state}, which the status rules do not allow "
                f"({found[0].rule}). Change {action.ref} with kt log instead."
            )
