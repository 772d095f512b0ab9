"""The owners' monthly return: each owner gets a sheet of their open actions, fills in
new progress, status and a note, and ``kt import RETURN --updates`` logs each
filled-in row as a progress entry made by that owner through the return.

Each row carries a stamp (a hidden column) naming the plan, the owner, the
action, when the return was exported and the last log entry then, and a hash of
the action's stored state. On import a row whose action has changed since is refused, naming the
change; a row already applied by an earlier import of the same return is
counted, not applied twice. Each row goes through :func:`log_progress`, so the
rules of ``kt log`` apply; one bad row refuses the whole return (all or
nothing). The stamp detects changes and mix-ups, it is not a signature: the
audit history records who imported the return.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from knowsley_tracker.errors import TrackerError, ValidationError
from knowsley_tracker.models import Action, LogEntry, Owner, Status, parse_ref
from knowsley_tracker.patterns import LazyPattern
from knowsley_tracker.service.actions import ActionView, PlanIndex, log_progress
from knowsley_tracker.service.council_values import read_status
from knowsley_tracker.service.exchange import CONFLICT, Problem, reject, store_identity
from knowsley_tracker.service.planned_records import log_note
from knowsley_tracker.service.session import Session
from knowsley_tracker.service.sheet_reading import ColumnSpec, ReadOptions, SheetFile, read_sheet
from knowsley_tracker.store_interface import Eq

STAMP_VERSION = "kt1"
# The return's columns, as headed in the sheet; the first three are locked, the next three filled in.
HEADERS = {
    "action": "Action",
    "recommendation": "Recommendation",
    "title": "Title",
    "due": "Due",
    "status": "Status now",
    "progress": "Progress now",
    "latest": "Latest update",
    "new_progress": "New progress (%)",
    "new_status": "New status",
    "note": "Update note",
    "stamp": "kt stamp (do not edit)",
}
EDITABLE = ("new_progress", "new_status", "note")
# The statuses offered in the sheet's drop-down (kt import also reads the council words).
STATUS_CHOICES = ("Not started", "In progress", "Blocked", "Complete", "Dropped")
RETURN_SPEC = ColumnSpec(
    columns=("action", "new_progress", "new_status", "note", "stamp"),
    required=("action", "new_progress", "new_status", "note", "stamp"),
    names={
        _key: _column
        for _column, _title in HEADERS.items()
        if _column in ("action", "new_progress", "new_status", "note", "stamp")
        for _key in ["".join(ch for ch in _title.casefold() if ch.isalnum() or ch == "%")]
    },
    hint="export a fresh return with kt export --format xlsx --owner O3.",
)
_STAMP = LazyPattern(r"kt1\|([0-9a-f]{16})\|O(\d+)\|A(\d+)\|([0-9T:+\-]{19,25})\|L(\d+)\|([0-9a-f]{16})")
_PROGRESS = LazyPattern(r"(\d{1,3})(?:\.0+)?\s*%?")


def state_hash(action: Action) -> str:
    """A fingerprint of everything stored about the action: any change alters it."""
    record = action.to_record()
    text = "\n".join(f"{key}={record[key]!r}" for key in sorted(record))
    return hashlib.sha256(f"{action.id}\n{text}".encode()).hexdigest()[:16]


def make_stamp(identity: str, owner: Owner, action: Action, exported_at: str, last_entry: int) -> str:
    """``kt1|plan|O3|A12|exported at|L<last log entry then>|state hash``."""
    return f"{STAMP_VERSION}|{identity}|{owner.ref}|{action.ref}|{exported_at}|L{last_entry}|{state_hash(action)}"


# -- the export ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ReturnRow:
    view: ActionView
    stamp: str


@dataclass(frozen=True)
class OwnerReturn:
    """One owner's return: their open actions, soonest due first, each with its stamp."""

    authority: str
    owner: Owner
    exported_at: str
    rows: list[ReturnRow]

    @property
    def file_name(self) -> str:
        return f"return-{self.owner.ref}.xlsx"


def _returns(s: Session, owners: list[Owner], index: PlanIndex) -> list[OwnerReturn]:
    identity = store_identity(s)
    exported_at = s.stamp()
    last_entry = s.store.next_id(LogEntry.TABLE) - 1
    by_owner: dict[int, list[Action]] = {}
    for action in index.actions:
        if action.owner_id is not None and action.status.is_open:
            by_owner.setdefault(action.owner_id, []).append(action)
    out = []
    for owner in owners:
        actions = sorted(by_owner.get(owner.id, []), key=lambda a: (a.due is None, a.due, a.id))
        rows = [ReturnRow(index.view(a), make_stamp(identity, owner, a, exported_at, last_entry)) for a in actions]
        out.append(OwnerReturn(s.store.authority, owner, exported_at, rows))
    return out


def owner_return(s: Session, owner: str) -> OwnerReturn:
    """The return for one owner (id, role or name)."""
    found = s.owner(owner)
    return _returns(s, [found], PlanIndex(s))[0]


def all_owner_returns(s: Session) -> tuple[list[OwnerReturn], list[Owner]]:
    """A return for every active owner with open actions, and the active owners with none."""
    index = PlanIndex(s)
    owners = [o for o in index.owners.values() if o.active]
    returns = _returns(s, owners, index)
    return [r for r in returns if r.rows], [r.owner for r in returns if not r.rows]


# -- the import ---------------------------------------------------------------------------


@dataclass
class AppliedRow:
    row: int
    action: Action
    entry: LogEntry


@dataclass
class ReturnResult:
    """What importing a return did (or, in a dry run, would do)."""

    source: str
    owner: Owner | None = None
    applied: list[AppliedRow] = field(default_factory=list)
    already: list[tuple[int, Action]] = field(default_factory=list)  # rows applied by an earlier import
    blank: int = 0  # rows with nothing filled in
    unchanged: int = 0  # rows whose progress and status are already as filled in, with no note
    rows: int = 0


def return_by(owner: Owner) -> str:
    """Who a log entry made through a return is recorded as."""
    return f"{owner.display} (return)"


def import_return(s: Session, source: SheetFile, fmt: str, options: ReadOptions = ReadOptions()) -> ReturnResult:
    """Apply a filled-in return as progress-log entries, inside the caller's transaction.

    Every row is checked (and applied to the session's copy of the plan) before
    anything is saved; the caller's transaction saves all or nothing. A problem
    in any row raises :class:`ImportRejectedError` listing every problem."""
    from knowsley_tracker.service.import_applying import import_limits

    sheet = read_sheet(source, fmt, options, import_limits(s), RETURN_SPEC)
    result = ReturnResult(source=source.name, rows=len(sheet.rows))
    problems: list[Problem] = []
    identity = store_identity(s)
    owner: Owner | None = None
    seen: dict[int, int] = {}
    for number, cells in sheet.rows:
        where = f"row {number}"
        get = {column: sheet.cell(cells, column) for column in RETURN_SPEC.columns}
        if not (get["new_progress"] or get["new_status"] or get["note"]):
            result.blank += 1
            continue
        try:
            stamp = _STAMP.fullmatch(get["stamp"])
            if stamp is None:
                raise ValidationError(
                    "The stamp column is empty or was changed, so this row cannot be checked: export a fresh return."
                )
            if stamp[1] != identity:
                raise ValidationError("This return was exported from another plan.")
            action_id = parse_ref(get["action"], Action) if get["action"] else 0
            if action_id != int(stamp[3]):
                raise ValidationError(
                    f"The action column says {get['action']!r} but the row was exported for A{stamp[3]}."
                )
            row_owner = s.store.get(Owner, int(stamp[2]))
            if owner is None:
                owner = row_owner
            elif row_owner.id != owner.id:
                raise ValidationError(f"This row is from {row_owner.ref}'s return; the rows above are {owner.ref}'s.")
            if action_id in seen:
                raise ValidationError(f"A{action_id} is also on row {seen[action_id]}.")
            seen[action_id] = number
            action = s.store.get(Action, action_id)
        except TrackerError as exc:
            problems.append(Problem.of(where, "", exc))
            continue
        try:
            progress = _progress(get["new_progress"])
        except ValidationError as exc:
            problems.append(Problem.of(where, HEADERS["new_progress"], exc))
            continue
        try:
            reading = read_status(get["new_status"]) if get["new_status"] else None
        except ValidationError as exc:
            problems.append(Problem.of(where, HEADERS["new_status"], exc))
            continue
        status = reading.status if reading else None
        # "Behind" means in progress; the word is kept in the note, as kt import keeps it.
        note = log_note(get["note"], reading.word if reading else "")
        if state_hash(action) != stamp[6]:
            if _already_applied(s, action, row_owner, note, progress, status):
                result.already.append((number, action))
            else:
                problems.append(Problem(where, "", _conflict(s, action, stamp[4], int(stamp[5])), CONFLICT))
            continue
        if not note and progress in (None, action.progress) and status in (None, action.status):
            result.unchanged += 1
            continue
        importer, s.user = s.user, return_by(row_owner)
        try:
            updated, entry = log_progress(s, action.id, note, progress=progress, status=status)
        except TrackerError as exc:
            problems.append(Problem.of(where, "", exc))
            continue
        finally:
            s.user = importer
        result.applied.append(AppliedRow(number, updated, entry))
    result.owner = owner
    if problems:
        raise reject(source.name, problems)
    return result


def _progress(text: str) -> int | None:
    """A progress cell as kt log --progress takes it (``60`` or ``60%``)."""
    if not text:
        return None
    m = _PROGRESS.fullmatch(text)
    if m is None or int(m[1]) > 100:
        raise ValidationError(f"Progress must be a whole number from 0 to 100, not {text!r}.")
    return int(m[1])


def _already_applied(
    s: Session, action: Action, owner: Owner, note: str, progress: int | None, status: Status | None
) -> bool:
    """True when the action's latest log entry is this row, made through this owner's return."""
    if not action.last_logged_at:
        return False
    latest = next(s.store.select(LogEntry, Eq("action_id", action.id), newest_first=True, limit=1), None)
    if latest is None or latest.by != return_by(owner) or latest.note != note.strip():
        return False
    return (progress is None or action.progress == progress) and (status is None or action.status is status)


def _conflict(s: Session, action: Action, exported_at: str, last_entry: int) -> str:
    """Why the row is refused: the log entries made on its action since the return was exported."""
    from knowsley_tracker.dates import format_timestamp

    changes: list[str] = []
    for entry in s.store.select(LogEntry, Eq("action_id", action.id), since_id=last_entry):
        what = ", ".join(f"{k} {v[0]} -> {v[1]}" for k, v in entry.changes.items()) or "a note"
        changes.append(f"{entry.ref} by {entry.by} on {format_timestamp(entry.at)} ({what})")
    when = format_timestamp(exported_at)
    found = "; ".join(changes) if changes else f"it was edited (kt history {action.ref} shows how)"
    return (
        f"{action.ref} changed after this return was exported on {when}: {found}. Nothing was imported: "
        f"check the row against the plan, then export a fresh return."
    )
