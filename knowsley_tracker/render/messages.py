"""The CLI's words for errors that carry data, and for what a removal did besides.

Service code raises errors with the facts (which record, which others refer to
it); another front end (an e-mail, a web page) words them its own way. This
module words them for the terminal, with the hint of what to type next. No Rich.
"""

from __future__ import annotations

from knowsley_tracker.errors import RecordInUseError, TrackerError
from knowsley_tracker.models import Action, Evidence, FocusArea, LogEntry, Owner, Recommendation, Record
from knowsley_tracker.service.removal import Removed


def error_message(exc: TrackerError) -> str:
    """The one line the CLI prints after ``Error:``."""
    if isinstance(exc, RecordInUseError):
        return in_use_message(exc)
    return exc.message


def in_use_message(exc: RecordInUseError) -> str:
    names = [name for _, name in exc.referrers]
    listing = ", ".join(names)
    if exc.kind == FocusArea.TABLE:
        return f"Focus area {exc.record} is still used by {listing}; move those first."
    if exc.kind == Owner.TABLE:
        return (
            f"Owner {exc.record} still owns {listing}: give those actions another owner "
            f"(kt action edit {names[0]} --owner ...) or mark the owner inactive "
            f"(kt owner edit {exc.record} --inactive)."
        )
    if exc.kind == Recommendation.TABLE:
        return f"Recommendation {exc.record} is still referred to by {listing}."
    if exc.kind == Action.TABLE:
        entries = sum(1 for table, _ in exc.referrers if table == LogEntry.TABLE)
        evidence = sum(1 for table, _ in exc.referrers if table == Evidence.TABLE)
        return (
            f"{exc.record} has {entries} log entries and {evidence} evidence items, so it cannot be removed: "
            f'drop it instead with kt log {exc.record} "why" --status dropped.'
        )
    return exc.message


def cleared_note(removed: Removed[Record]) -> str:
    """`` P1 no longer refers to it.`` when the removal cleared references (else empty)."""
    if not removed.cleared:
        return ""
    names = ", ".join(record.ref for record in removed.cleared)
    verb = "refers" if len(removed.cleared) == 1 else "refer"
    return f" {names} no longer {verb} to it."
