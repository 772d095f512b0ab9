"""What needs attention today: the items ``kt check`` reports, made for cron.

Each finding is a generic :class:`CheckItem` (kind, urgency, date, ref,
message) produced by one collector per kind, so a new kind needs a collector
and a :data:`KINDS` entry, not changes to the renderers. Speed matters here:
the store is asked only for open actions and visits not yet done (filters it
applies before building records), each read once; the progress log and
evidence are never read (``Action.last_logged_at`` says when an action was
last updated). Nothing here
imports Rich, dateutil's parser, csv or icalendar.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from datetime import date, timedelta
from enum import IntEnum
from typing import NamedTuple

from knowsley_tracker.dates import format_date, in_days, local_date_of
from knowsley_tracker.errors import ValidationError
from knowsley_tracker.models import Action, Inspection, Owner, Status, Visit, VisitStatus
from knowsley_tracker.service.session import Session
from knowsley_tracker.store_interface import NotIn

# Statuses of actions that need no more work.
_CLOSED = (Status.COMPLETE, Status.DROPPED)
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
        self._open: list[Action] | None = None
        self.owner_id = session.owner(options.owner).id if options.owner else None

    def open_actions(self) -> list[Action]:
        """Open actions (the owner's only, with --owner), read once for every collector that needs them."""
        if self._open is None:
            self._open = [
                action
                for action in self.session.store.select(Action, NotIn("status", _CLOSED))
                if self.owner_id is None or action.owner_id == self.owner_id
            ]
        return self._open

    def owner(self, owner_id: object) -> Owner | None:
        """The action's owner; the owners table is read only if an action is flagged."""
        if not isinstance(owner_id, int):
            return None
        if self._owners is None:
            self._owners = {owner.id: owner for owner in self.session.store.all(Owner)}
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
    today = ctx.today
    horizon = today + timedelta(days=opts.due_within) if opts.due_within is not None else None
    for action in ctx.open_actions():
        due = action.due
        if due is None:  # no due date yet ("TBC" in a council's sheet)
            continue
        if opts.overdue and due < today:
            kind = "overdue"
        elif horizon is not None and today <= due <= horizon:
            kind = "due"
        else:
            continue
        days = (due - today).days
        title = action.title
        owner = ctx.owner(action.owner_id)
        if kind == "overdue":
            when = f"due {format_date(due)}, {_plural(-days, 'day')} overdue"
            urgency = Urgency.HIGH
        else:
            when = f"due {format_date(due)}, {in_days(days)}"
            urgency = Urgency.HIGH if days == 0 else Urgency.MEDIUM
        yield CheckItem(
            kind=kind,
            urgency=urgency,
            ref=action.ref,
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
    for visit in ctx.session.store.select(Visit, NotIn("status", (VisitStatus.DONE,))):
        day = visit.date
        days = (day - ctx.today).days
        if not 0 <= days <= window:
            continue
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
            message=f"{what} on {format_date(day)}, {in_days(days)} ({visit.status.value})",
        )


def collect_stale(ctx: CheckContext) -> Iterator[CheckItem]:
    """Open actions with no log entry for ``stale`` days (counting from creation when
    there is none); an action already reported above is not repeated."""
    window = ctx.options.stale
    if window is None:
        return
    for action in ctx.open_actions():
        ref = action.ref
        if ref in ctx.flagged:
            continue
        logged = action.last_logged_at or ""
        last = _stamp_date(logged or action.created_at or "")
        days = (ctx.today - last).days if last is not None else None
        if days is not None and days < window:
            continue
        title = action.title
        owner = ctx.owner(action.owner_id)
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
    for inspection in ctx.session.store.all(Inspection):
        due = inspection.action_plan_due
        if due is None or inspection.action_plan_sent is not None:
            continue
        days = (due - ctx.today).days
        if days > window:
            continue
        ref = inspection.ref
        when = in_days(days)
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
