"""``kt remind``: which owners get a reminder digest, who is copied, and what was sent.

Each owner with an e-mail address gets one digest of their actions that are
overdue, due within ``remind.due_within`` days, or without an update for
``remind.stale_days`` days (the items ``kt check`` finds). An action overdue
by more than ``remind.lead_after_days`` is copied to its focus area's lead (the
owner whose role, and name if given, is the lead's); beyond
``remind.escalate_after_days`` also to ``remind.escalation_to``.

A reminder is one action, for one reason (overdue, due, stale), at one level
(owner, lead, escalation). The latest sending of each is kept as a
:class:`Reminder` record, and it is not sent again within
``remind.repeat_days`` unless forced. Records are written only for addresses
the mail server accepted, and for copies that could not be made (no lead address,
no escalation address, outside the domains), recorded with no address once the
owner has the digest, so that neither they nor the owner's digest are repeated on
every run; a copy that can be made later (the lead is given an address) is made
on the next run. An owner who leads the focus area is not copied to themselves.
Nothing is ever sent to an address outside ``remind.domains`` unless external addresses are allowed, and a digest whose
text the personal-data guard flags is withheld. Building the messages is
:mod:`knowsley_tracker.render.reminder_mail`'s job; sending them is
:mod:`knowsley_tracker.service.mail_sending`'s.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field, replace
from datetime import date
from typing import TYPE_CHECKING, NamedTuple

from knowsley_tracker import guard
from knowsley_tracker.dates import local_date_of
from knowsley_tracker.errors import ValidationError
from knowsley_tracker.models import Action, FocusArea, Owner, Reminder
from knowsley_tracker.service.actions import PlanIndex
from knowsley_tracker.service.check import CheckOptions, run_check
from knowsley_tracker.service.session import Session

if TYPE_CHECKING:  # smtplib and email are imported only when mail is sent
    from email.message import EmailMessage

    from knowsley_tracker.service.mail_sending import Delivery, SendReport

OWNER, LEAD, ESCALATION = "owner", "lead", "escalation"
KIND_ORDER = {"overdue": 0, "due": 1, "stale": 2}


class RemindOptions(NamedTuple):
    force: bool = False  # send even what was sent within remind.repeat_days
    allow_external: bool = False  # send to addresses outside remind.domains


class Rules(NamedTuple):
    """The settings kt remind runs with."""

    due_within: int
    stale_days: int
    lead_after: int
    escalate_after: int
    repeat_days: int
    escalation_to: str
    domains: tuple[str, ...]
    sender: str


def rules(s: Session) -> Rules:
    domains = tuple(d for d in s.setting("remind.domains").split(",") if d)
    return Rules(
        due_within=s.setting("remind.due_within"),
        stale_days=s.setting("remind.stale_days"),
        lead_after=s.setting("remind.lead_after_days"),
        escalate_after=s.setting("remind.escalate_after_days"),
        repeat_days=s.setting("remind.repeat_days"),
        escalation_to=s.setting("remind.escalation_to"),
        domains=domains,
        sender=s.setting("smtp.from"),
    )


class Target(NamedTuple):
    """Where a copy level goes: an address and a name, or no address and a note saying why not."""

    address: str  # "" when the copy cannot be made
    name: str = ""
    note: str = ""


@dataclass(frozen=True)
class Item:
    """One action in a digest, and the levels it is sent at this time."""

    action: Action
    kind: str  # overdue, due or stale
    days: int | None  # to the due date (negative: overdue), or since the last update (stale)
    focus: FocusArea | None
    last_update: date | None
    levels: tuple[str, ...]
    # For each copy level (lead, escalation) in levels: where it goes, or why it cannot go.
    targets: dict[str, Target] = field(default_factory=dict)


@dataclass(frozen=True)
class Copy:
    """Someone copied on a digest: the address, who they are, and why."""

    address: str
    name: str
    level: str  # lead or escalation
    refs: tuple[str, ...]  # the actions that put them on it


@dataclass
class Digest:
    owner: Owner
    items: list[Item]
    copies: list[Copy] = field(default_factory=list)

    @property
    def refs(self) -> list[str]:
        return [i.action.ref for i in self.items]


@dataclass
class ReminderPlan:
    """Everything kt remind would send, and everyone it cannot reach (never skipped silently)."""

    authority: str
    today: date
    rules: Rules
    digests: list[Digest] = field(default_factory=list)
    # (owner, refs): owners with no e-mail address; owner None for actions with no owner.
    without_email: list[tuple[Owner | None, list[str]]] = field(default_factory=list)
    # One sentence each: leads with no address, escalation not configured, addresses outside the domains.
    not_copied: list[str] = field(default_factory=list)
    external: list[tuple[Owner, str, list[str]]] = field(default_factory=list)  # owner, address, refs
    withheld: list[tuple[Owner, str, list[str]]] = field(default_factory=list)  # owner, what the guard found, refs
    recent: int = 0  # reminders left out: sent within remind.repeat_days


def is_internal(address: str, domains: tuple[str, ...]) -> bool:
    """True when the address's domain matches one of the patterns (``*.gov.uk``, ``knowsley.gov.uk``)."""
    domain = address.rpartition("@")[2].lower()
    return any(fnmatch.fnmatchcase(domain, pattern) or domain == pattern.removeprefix("*.") for pattern in domains)


def _lead_owner(area: FocusArea | None, owners: list[Owner]) -> Owner | None:
    """The owner who is the focus area's lead: the same role, and the same name when the lead has one."""
    if area is None or not (area.lead_role or area.lead_name):
        return None
    role, name = area.lead_role.casefold(), area.lead_name.casefold()
    for owner in owners:
        if role and owner.role.casefold() == role and (not name or owner.name.casefold() == name):
            return owner
        if not role and name in (owner.name.casefold(), owner.role.casefold()):
            return owner
    return None


def _sent_dates(s: Session) -> dict[tuple[int, str, str], tuple[date, bool]]:
    """When each reminder was last handled, and whether it went to an address (a copy that
    could not be made is recorded with no address, so that it is not tried on every run)."""
    out: dict[tuple[int, str, str], tuple[date, bool]] = {}
    for reminder in s.store.all(Reminder):
        try:
            out[(reminder.action_id, reminder.kind, reminder.level)] = (
                local_date_of(reminder.sent_at),
                bool(reminder.to),
            )
        except ValueError:
            continue  # a damaged stamp counts as never sent (kt doctor reports it)
    return out


def plan_reminders(s: Session, options: RemindOptions = RemindOptions()) -> ReminderPlan:
    """Work out each owner's digest and who is copied; sends nothing, writes nothing."""
    r = rules(s)
    if not r.sender:
        raise ValidationError("Reminders need a From address: kt config set smtp.from improvement.plan@example.gov.uk")
    plan = ReminderPlan(authority=s.store.authority, today=s.today, rules=r)
    check = run_check(
        s,
        CheckOptions(
            visit_within=None, due_within=r.due_within, overdue=True, stale=r.stale_days, deadline_within=None
        ),
    )
    index = PlanIndex(s)
    owners = list(index.owners.values())
    actions = {a.id: a for a in index.actions}
    sent = {} if options.force else _sent_dates(s)

    def recent(action_id: int, kind: str, level: str, deliverable: bool) -> bool:
        """Handled within remind.repeat_days. A copy recorded as not made does not count once
        it can be made (a lead who has since been given an address is copied now)."""
        last = sent.get((action_id, kind, level))
        if last is None or (s.today - last[0]).days >= r.repeat_days:
            return False
        return last[1] or not deliverable

    by_owner: dict[int | None, list[Item]] = {}
    for found in check.items:
        if found.kind not in KIND_ORDER:
            continue
        action = actions[int(found.ref[len(Action.PREFIX) :])]
        overdue_by = -found.days if found.kind == "overdue" and found.days is not None else 0
        view = index.view(action)
        wanted = [OWNER]
        targets: dict[str, Target] = {}
        if overdue_by > r.lead_after:
            lead = _lead_target(action, -(found.days or 0), view.focus, owners, r, options)
            if lead is not None:  # None: the owner leads the focus area, and the digest reaches them
                wanted.append(LEAD)
                targets[LEAD] = lead
        if overdue_by > r.escalate_after:
            wanted.append(ESCALATION)
            targets[ESCALATION] = _escalation_target(action, -(found.days or 0), r, options)
        levels = tuple(
            level
            for level in wanted
            if not recent(action.id, found.kind, level, level == OWNER or bool(targets[level].address))
        )
        plan.recent += len(wanted) - len(levels)
        if not levels:
            continue
        last = action.last_logged_at or action.created_at
        item = Item(
            action=action,
            kind=found.kind,
            days=found.days,
            focus=view.focus,
            last_update=local_date_of(last) if last else None,
            levels=levels,
            targets={level: targets[level] for level in levels if level != OWNER},
        )
        by_owner.setdefault(action.owner_id, []).append(item)

    for owner_id, items in by_owner.items():
        items.sort(key=lambda i: (KIND_ORDER[i.kind], i.days if i.days is not None else 0, i.action.id))
        refs = [i.action.ref for i in items]
        owner = index.owners.get(owner_id) if owner_id is not None else None
        if owner is None or not owner.email:
            plan.without_email.append((owner, refs))
            continue
        if not options.allow_external and not is_internal(owner.email, r.domains):
            plan.external.append((owner, owner.email, refs))
            continue
        kinds = _personal_data(owner, items)
        if kinds:
            plan.withheld.append((owner, guard.describe(kinds), refs))
            continue
        digest = Digest(owner=owner, items=items)
        _add_copies(plan, digest)
        plan.digests.append(digest)
    plan.digests.sort(key=lambda d: d.owner.id)
    return plan


def _personal_data(owner: Owner, items: list[Item]) -> list[str]:
    """What the guard finds in the text a digest would carry (kinds, never the text)."""
    texts = [owner.display]
    for item in items:
        texts += [item.action.title, item.action.last_note]
        if item.focus is not None:
            texts.append(item.focus.name)
    kinds: list[str] = []
    for text in texts:
        for kind in guard.find_personal_data(text):
            if kind not in kinds:
                kinds.append(kind)
    return kinds


def _lead_target(
    action: Action, overdue: int, area: FocusArea | None, owners: list[Owner], r: Rules, options: RemindOptions
) -> Target | None:
    """Where the copy to the focus area's lead goes, or why it cannot be made; None when
    the owner is the lead (the digest already reaches them)."""
    ref = action.ref
    late = f"{ref} is {overdue} days overdue, but"
    if area is None:
        return Target("", note=f"{late} its recommendation has no focus area, so no lead to copy.")
    if not (area.lead_role or area.lead_name):
        return Target(
            "", note=f"{late} focus area {area.key} has no lead: not copied (kt focus edit {area.key} --lead ROLE)."
        )
    lead = _lead_owner(area, owners)
    if lead is None:
        return Target(
            "",
            note=f"{late} the lead of focus area {area.key} ({area.lead}) is not one of the plan's owners: "
            f'not copied (kt owner add "{area.lead_role or area.lead_name}" --email ADDRESS).',
        )
    if lead.id == action.owner_id:
        return None
    if not lead.email:
        return Target(
            "",
            note=f"{late} the lead of focus area {area.key} ({lead.ref} {lead.display}) has no e-mail address: "
            f"not copied (kt owner edit {lead.ref} --email ADDRESS).",
        )
    if not options.allow_external and not is_internal(lead.email, r.domains):
        return Target(
            "",
            note=f"{ref}: the lead of focus area {area.key} ({lead.email}) is outside {_domains(r)}: not copied "
            "(--allow-external sends there).",
        )
    return Target(lead.email, lead.display)


def _escalation_target(action: Action, overdue: int, r: Rules, options: RemindOptions) -> Target:
    """Where the escalation copy goes, or why it cannot be made."""
    if not r.escalation_to:
        return Target(
            "",
            note=f"{action.ref} is {overdue} days overdue, but remind.escalation_to is not set: not escalated "
            "(kt config set remind.escalation_to ADDRESS).",
        )
    if not options.allow_external and not is_internal(r.escalation_to, r.domains):
        return Target(
            "",
            note=f"{action.ref}: the escalation address ({r.escalation_to}) is outside {_domains(r)}: not escalated "
            "(--allow-external sends there).",
        )
    return Target(r.escalation_to)


def _add_copies(plan: ReminderPlan, digest: Digest) -> None:
    leads: dict[str, tuple[str, str, list[str]]] = {}
    escalated: list[str] = []
    escalation_to = ""
    for item in digest.items:
        ref = item.action.ref
        for level in (LEAD, ESCALATION):
            if level not in item.levels:
                continue
            target = item.targets[level]
            if not target.address:
                plan.not_copied.append(target.note)
            elif level == LEAD:
                leads.setdefault(target.address.casefold(), (target.address, target.name, []))[2].append(ref)
            else:
                escalated.append(ref)
                escalation_to = target.address
    for address, name, refs in leads.values():
        digest.copies.append(Copy(address, name, LEAD, tuple(refs)))
    if escalated:
        digest.copies.append(Copy(escalation_to, "", ESCALATION, tuple(escalated)))


def _domains(r: Rules) -> str:
    return "remind.domains (" + ", ".join(r.domains) + ")" if r.domains else "remind.domains (not set)"


# -- what was sent --------------------------------------------------------------------------


def record_sent(s: Session, digest: Digest, accepted: set[str], message_id: str, *, at: str | None = None) -> int:
    """Record each reminder of a digest that reached an accepted address; returns how many.
    A copy that could not be made is recorded too, with no address, when the owner was reached.

    Inside the caller's transaction, after the server accepted the message (``at``: when;
    now, unless given)."""
    stamp = at or s.stamp()
    existing = {(r.action_id, r.kind, r.level): r.id for r in s.store.all(Reminder)}
    to_by_level: dict[tuple[str, str], str] = {}
    for copy in digest.copies:
        for ref in copy.refs:
            to_by_level[(ref, copy.level)] = copy.address
    recorded = 0
    owner_reached = bool(digest.owner.email) and digest.owner.email.casefold() in accepted
    for item in digest.items:
        for level in item.levels:
            address = digest.owner.email if level == OWNER else to_by_level.get((item.action.ref, level))
            if address is None and owner_reached and not item.targets[level].address:
                # A copy that cannot be made (no lead address, no escalation address, outside the
                # domains): recorded with no address once the owner has the digest, so that it is
                # not tried, and the owner not sent the digest again, on every run.
                address = ""
            elif address is None or address.casefold() not in accepted:
                continue
            key = (item.action.id, item.kind, level)
            record = Reminder(
                action_id=item.action.id,
                kind=item.kind,
                level=level,
                to=address,
                sent_at=stamp,
                message_id=message_id,
            )
            if key in existing:
                record.id = existing[key]
                s.store.save(record)
            else:
                existing[key] = s.store.add(record).id
            recorded += 1 if address else 0
    return recorded


class Sent(NamedTuple):
    """A digest the mail server accepted, and when: kept outside the store's transaction."""

    digest: Digest
    accepted: set[str]
    message_id: str
    at: str


@dataclass
class Sending:
    """What a run has sent so far, held by the caller: it outlives the store's transaction,
    which a database server may break off after mail has gone (see :func:`record_after_break`)."""

    report: SendReport
    sent: list[Sent] = field(default_factory=list)


def deliver(s: Session, plan: ReminderPlan, messages: list[EmailMessage], sending: Sending) -> SendReport:
    """Send one message per digest (``messages[i]`` for ``plan.digests[i]``) and record each
    reminder the server accepted, as it is accepted (inside the caller's transaction, which
    the caller saves even when sending stops part-way).

    ``sending`` is filled in as it goes (each delivery, and each accepted digest before it
    is recorded), so that the caller still knows what went out when the transaction is
    broken off."""
    from knowsley_tracker.service.mail_sending import send_all, smtp_settings

    settings = smtp_settings(s)

    def on_sent(i: int, delivery: Delivery) -> None:
        done = Sent(plan.digests[i], delivery.accepted, str(delivery.message["Message-ID"]), s.stamp())
        sending.sent.append(done)
        record_sent(s, done.digest, done.accepted, done.message_id, at=done.at)

    return send_all(settings, messages, on_sent, sending.report)


def record_after_break(s: Session, sent: list[Sent]) -> int:
    """Record, in a transaction of its own, the digests a broken-off run had sent.

    The store may fail to save a run's transaction after the mail server has accepted some
    digests (a database server broke it off, a deadlock with another client, or the
    connection was lost): their records went with it, and the next run would send them
    again. Recording them here, in a new transaction, with the time each was accepted,
    keeps them from being repeated; a record that did land is updated, not doubled. A
    reminder of an action deleted meanwhile is not recorded (there is nothing left to
    remind about). Returns how many were recorded."""
    live = {a.id for a in s.store.all(Action)}
    recorded = 0
    for done in sent:
        items = [item for item in done.digest.items if item.action.id in live]
        if items:
            recorded += record_sent(s, replace(done.digest, items=items), done.accepted, done.message_id, at=done.at)
    return recorded
