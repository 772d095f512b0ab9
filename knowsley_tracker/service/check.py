"""What needs attention today: the items ``kt check`` reports, made for cron.

Each finding is a generic :class:`CheckItem` (kind, urgency, date, ref,
message) produced by one collector per kind, so a new kind needs a collector
and a :data:`KINDS` entry, not changes to the renderers. Speed matters here:
the actions and visits tables are read once as raw rows and records are built
only for what is flagged; the progress log and evidence are never read
(``Action.last_logged_at`` says when an action was last updated). Nothing here
imports Rich, dateutil's parser, csv or icalendar.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from datetime import date, timedelta
from enum import IntEnum
from typing import NamedTuple

from knowsley_tracker.dates import format_date, local_date_of
from knowsley_tracker.errors import ValidationError
from knowsley_tracker.models import Action, Inspection, Owner, Status, Visit, VisitStatus
from knowsley_tracker.service.session import Session

# Stored status values of actions that need no more work, and the default.
_CLOSED = frozenset({Status.COMPLETE.value, Status.DROPPED.value})
_NOT_STARTED = Status.NOT_STARTED.value
# A visit this close (in days) is as urgent as an overdue action.
VISIT_IMMINENT_DAYS = 7


class Urgency(IntEnum):
    """How soon someone must act; higher sorts first."""

    LOW = 1
    MEDIUM = 2
    HIGH = 3

    @property
    def label(self) -> str:
        return self.name.lower()


class CheckKind(NamedTuple):
    """A kind of finding: its heading in the digest and its place among equally urgent groups."""

    name: str
    title: str
    order: int


KINDS: dict[str, CheckKind] = {
    kind.name: kind
    for kind in (
        CheckKind("deadline", "Statutory deadlines", 5),
        CheckKind("overdue", "Overdue actions", 10),
        CheckKind("visit", "Visits coming up", 20),
        CheckKind("due", "Actions due soon", 30),
        CheckKind("stale", "Actions with no recent update", 40),
    )
}


# Named tuples rather than dataclasses: kt check runs from cron all day, and a
# dataclass costs about a millisecond to define at import (it compiles its methods).
class CheckItem(NamedTuple):
    """One thing that needs attention.

    ``date`` is the date the item is about (a due date, a visit, the last
    update) and ``days`` how far it is from today (negative when past).
    ``subject`` and ``owner`` are user text: renderers must escape them, and
    ``message`` (which embeds them).
    """

    kind: str
    urgency: Urgency
    ref: str
    date: date | None
    days: int | None
    subject: str
    message: str
    owner: str | None = None
    owner_ref: str | None = None  # O3
    owner_email: str | None = None


class CheckOptions(NamedTuple):
    """Which checks run and their windows in days; None switches a check off."""

    visit_within: int | None = 30
    due_within: int | None = 7
    overdue: bool = True
    stale: int | None = 30
    deadline_within: int | None = 30
    # Only this owner's actions (id, role or name); statutory deadlines and visits are nobody's.
    owner: str | None = None

    def validate(self) -> None:
        for name in ("visit_within", "due_within", "stale", "deadline_within"):
            value = getattr(self, name)
            if value is not None and value < 0:
                raise ValidationError(f"--{name.replace('_', '-')} takes a number of days, 0 or more.")


class CheckResult(NamedTuple):
    today: date
    authority: str
    options: CheckOptions
    items: list[CheckItem]

    @property
    def needs_attention(self) -> bool:
        return bool(self.items)

    def groups(self) -> list[tuple[CheckKind, list[CheckItem]]]:
        """Items grouped by kind, in the order they are reported (most urgent first)."""
        grouped: dict[str, list[CheckItem]] = {}
        for item in self.items:
            grouped.setdefault(item.kind, []).append(item)
        return [(KINDS[name], items) for name, items in grouped.items()]


# A collector yields items of one or more kinds from a CheckContext. To add a
# kind, add its CheckKind to KINDS and its collector to COLLECTORS (order
# matters: ``ctx.flagged`` holds the refs already reported, so an action
# appears once, under its most urgent heading).
Collector = Callable[["CheckContext"], Iterable[CheckItem]]


class CheckContext:
    """What collectors share during one run: the session, the options, and tables read once."""

    def __init__(self, session: Session, options: CheckOptions) -> None:
        self.session = session
        self.options = options
        self.today = session.today
        self.flagged: set[str] = set()
        self._owners: dict[int, Owner] | None = None
        self._open: list[tuple[int, dict[str, object]]] | None = None
        self.owner_id = session.owner(options.owner).id if options.owner else None

    def open_actions(self) -> list[tuple[int, dict[str, object]]]:
        """Raw rows of open actions (the owner's only, with --owner), read once for every collector."""
        if self._open is None:
            self._open = [
                (doc_id, row)
                for doc_id, row in self.session.store.rows(Action.TABLE)
                if row.get("status", _NOT_STARTED) not in _CLOSED
                and (self.owner_id is None or row.get("owner_id") == self.owner_id)
            ]
        return self._open

    def owner(self, owner_id: object) -> Owner | None:
        """The action's owner; the owners table is read only if an action is flagged."""
        if not isinstance(owner_id, int):
            return None
        if self._owners is None:
            self._owners = {
                doc_id: Owner.from_record(doc_id, row) for doc_id, row in self.session.store.rows(Owner.TABLE)
            }
        return self._owners.get(owner_id)


def run_check(s: Session, options: CheckOptions) -> CheckResult:
    """Everything that needs attention on ``s.today``, most urgent first."""
    options.validate()
    ctx = CheckContext(s, options)
    items: list[CheckItem] = []
    for collect in COLLECTORS:
        for item in collect(ctx):
            ctx.flagged.add(item.ref)
            items.append(item)
    return CheckResult(today=ctx.today, authority=s.store.authority, options=options, items=_ordered(items))


def _ordered(items: list[CheckItem]) -> list[CheckItem]:
    """Groups by their most urgent item (then kind order); inside a group, most urgent
    then earliest date first, so the longest-overdue action leads. The sort is stable:
    ties keep the order collectors found them in (record id order)."""
    top: dict[str, int] = {}
    for item in items:
        top[item.kind] = max(top.get(item.kind, 0), item.urgency)
    order = {name: kind.order for name, kind in KINDS.items()}
    return sorted(items, key=lambda i: (-top[i.kind], order[i.kind], -i.urgency, i.date or date.min))


# -- collectors -------------------------------------------------------------------


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _in_days(days: int) -> str:
    if days == 0:
        return "today"
    if days == 1:
        return "tomorrow"
    return f"in {days} days"


def _owner_suffix(owner: Owner | None) -> str:
    return f" [{owner.display}]" if owner else " [no owner]"


def _owner_fields(owner: Owner | None) -> dict[str, str | None]:
    if owner is None:
        return {"owner": None, "owner_ref": None, "owner_email": None}
    return {"owner": owner.display, "owner_ref": owner.ref, "owner_email": owner.email or None}


def _stamp_date(stamp: str) -> date | None:
    """The local date of a stored timestamp; None when there is none or it cannot be read."""
    try:
        return local_date_of(stamp) if stamp else None
    except ValueError:
        return None


def collect_deadlines(ctx: CheckContext) -> Iterator[CheckItem]:
    """Open actions past their due date, and those due within the window."""
    opts = ctx.options
    if not opts.overdue and opts.due_within is None:
        return
    # Stored dates are ISO strings, which compare like the dates they hold.
    today = ctx.today.isoformat()
    horizon = (ctx.today + timedelta(days=opts.due_within)).isoformat() if opts.due_within is not None else ""
    for doc_id, row in ctx.open_actions():
        if row.get("due") is None:  # no due date yet ("TBC" in a council's sheet)
            continue
        due_text = str(row["due"])
        if opts.overdue and due_text < today:
            kind = "overdue"
        elif opts.due_within is not None and today <= due_text <= horizon:
            kind = "due"
        else:
            continue
        due = date.fromisoformat(due_text)
        days = (due - ctx.today).days
        title = str(row["title"])
        owner = ctx.owner(row.get("owner_id"))
        if kind == "overdue":
            when = f"due {format_date(due)}, {_plural(-days, 'day')} overdue"
            urgency = Urgency.HIGH
        else:
            when = f"due {format_date(due)}, {_in_days(days)}"
            urgency = Urgency.HIGH if days == 0 else Urgency.MEDIUM
        yield CheckItem(
            kind=kind,
            urgency=urgency,
            ref=f"{Action.PREFIX}{doc_id}",
            date=due,
            days=days,
            subject=title,
            message=f"{when}: {title}{_owner_suffix(owner)}",
            **_owner_fields(owner),
        )


def collect_visits(ctx: CheckContext) -> Iterator[CheckItem]:
    """Visits not yet done that fall within the window (today included), projected ones too."""
    window = ctx.options.visit_within
    if window is None or ctx.owner_id is not None:
        return
    for doc_id, row in ctx.session.store.rows(Visit.TABLE):
        if row.get("status") == VisitStatus.DONE.value:
            continue
        day = date.fromisoformat(str(row["date"]))
        days = (day - ctx.today).days
        if not 0 <= days <= window:
            continue
        visit = Visit.from_record(doc_id, row)
        what = visit.type.label
        # A projected visit is the tracker's own estimate, never as urgent as a real date.
        imminent = days <= VISIT_IMMINENT_DAYS and visit.status is not VisitStatus.PROJECTED
        yield CheckItem(
            kind="visit",
            urgency=Urgency.HIGH if imminent else Urgency.MEDIUM,
            ref=visit.ref,
            date=day,
            days=days,
            subject=what,
            message=f"{what} on {format_date(day)}, {_in_days(days)} ({visit.status.value})",
        )


def collect_stale(ctx: CheckContext) -> Iterator[CheckItem]:
    """Open actions with no log entry for ``stale`` days (counting from creation when
    there is none); an action already reported above is not repeated."""
    window = ctx.options.stale
    if window is None:
        return
    for doc_id, row in ctx.open_actions():
        ref = f"{Action.PREFIX}{doc_id}"
        if ref in ctx.flagged:
            continue
        logged = str(row.get("last_logged_at") or "")
        last = _stamp_date(logged or str(row.get("created_at") or ""))
        days = (ctx.today - last).days if last is not None else None
        if days is not None and days < window:
            continue
        title = str(row["title"])
        owner = ctx.owner(row.get("owner_id"))
        if last is None or days is None:
            when = "no update recorded"
        elif logged:
            when = f"last update {format_date(last)}, {_plural(days, 'day')} ago"
        else:
            when = f"no update since it was added on {format_date(last)}, {_plural(days, 'day')} ago"
        yield CheckItem(
            kind="stale",
            urgency=Urgency.LOW,
            ref=ref,
            date=last,
            days=-days if days is not None else None,
            subject=title,
            message=f"{when}: {title}{_owner_suffix(owner)}",
            **_owner_fields(owner),
        )


def collect_statutory(ctx: CheckContext) -> Iterator[CheckItem]:
    """The written action plan due to Ofsted 70 working days after an inadequate report,
    from ``deadline_within`` days before it until it is recorded as sent.

    The deadline was worked out (with England's bank holidays) when the inspection
    was recorded, so nothing here needs the holidays library."""
    window = ctx.options.deadline_within
    if window is None or ctx.owner_id is not None:
        return
    for doc_id, row in ctx.session.store.rows(Inspection.TABLE):
        due_text, sent = row.get("action_plan_due"), row.get("action_plan_sent")
        if not due_text or sent:
            continue
        due = date.fromisoformat(str(due_text))
        days = (due - ctx.today).days
        if days > window:
            continue
        ref = f"{Inspection.PREFIX}{doc_id}"
        when = f"{_plural(-days, 'day')} overdue" if days < 0 else _in_days(days)
        yield CheckItem(
            kind="deadline",
            urgency=Urgency.HIGH if days <= VISIT_IMMINENT_DAYS else Urgency.MEDIUM,
            ref=ref,
            date=due,
            days=days,
            subject="Action plan to Ofsted",
            message=(
                f"action plan to Ofsted due {format_date(due)}, {when} "
                f"(record it with kt inspection edit {ref} --action-plan-sent DATE)"
            ),
        )


# Run in this order: an action flagged by an earlier collector is skipped by later ones.
COLLECTORS: list[Collector] = [collect_statutory, collect_deadlines, collect_visits, collect_stale]
