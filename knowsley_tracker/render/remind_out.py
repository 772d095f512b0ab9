"""What ``kt remind`` prints: each message sent (or, with --dry-run, each message in full),
everyone it could not reach and why, and a summary; or the same as JSON.

No message goes unreported: owners without an e-mail address, actions with no
owner, addresses outside the allowed domains, digests withheld by the
personal-data guard, leads and escalations that could not be copied, and
reminders left out because they were sent recently.
"""

from __future__ import annotations

from email.message import EmailMessage
from typing import Any

from knowsley_tracker.render.reminder_mail import shown
from knowsley_tracker.render.text import safe
from knowsley_tracker.service.mail_sending import SendReport
from knowsley_tracker.service.reminders import ReminderPlan

REMIND_JSON_VERSION = 1


def _plural(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def _to(msg: EmailMessage) -> str:
    return str(msg["To"])


def _reach_lines(plan: ReminderPlan) -> list[str]:
    lines = []
    for owner, refs in plan.without_email:
        listed = ", ".join(refs)
        if owner is None:
            lines.append(f"No owner for {listed}: not reminded (kt action edit {refs[0]} --owner O1).")
        else:
            lines.append(
                f"No e-mail address for {owner.ref} {safe(owner.display)}: {listed} not reminded "
                f"(kt owner edit {owner.ref} --email ADDRESS)."
            )
    domains = ", ".join(plan.rules.domains) or "none set"
    for owner, address, refs in plan.external:
        lines.append(
            f"Not sent to {owner.ref} {safe(owner.display)} <{safe(address)}>: outside remind.domains ({domains}); "
            f"--allow-external sends there ({', '.join(refs)})."
        )
    for owner, found, refs in plan.withheld:
        lines.append(
            f"Not sent to {owner.ref} {safe(owner.display)}: the text of {', '.join(refs)} looks like it contains "
            f"{found} (the personal-data guard)."
        )
    lines += [f"Note: {safe(note)}" for note in plan.not_copied]
    if plan.recent:
        lines.append(
            f"{_plural(plan.recent, 'reminder', 'reminders')} sent within the last {plan.rules.repeat_days} days "
            "left out (--force sends them again)."
        )
    return lines


def dry_run(plan: ReminderPlan, messages: list[EmailMessage]) -> list[str]:
    lines: list[str] = []
    for n, msg in enumerate(messages, start=1):
        lines.append(f"----- message {n} of {len(messages)} -----")
        lines.append(safe(shown(msg), keep_newlines=True))
    if messages:
        lines.append("-----")
    lines += _reach_lines(plan)
    actions = sum(len(d.items) for d in plan.digests)
    if messages:
        lines.append(
            f"Dry run: would send {_plural(len(messages), 'reminder', 'reminders')} "
            f"({_plural(actions, 'action', 'actions')}). Nothing was sent."
        )
    else:
        lines.append("Dry run: nothing to send.")
    return lines


def sent(plan: ReminderPlan, messages: list[EmailMessage], report: SendReport) -> list[str]:
    lines: list[str] = []
    for delivery in report.deliveries:
        msg = delivery.message
        refs = str(msg["X-Kt-Actions"])
        cc = f", cc {msg['Cc']}" if msg["Cc"] else ""
        if delivery.sent:
            lines.append(f"Sent to {safe(_to(msg))}{safe(cc)}: {refs}.")
        else:
            lines.append(f"Not sent to {safe(_to(msg))}{safe(cc)} ({refs}): {safe(delivery.error)}.")
        for address, reply in delivery.refused.items():
            lines.append(f"The server refused {safe(address)} ({safe(reply)}): not recorded as sent.")
    for msg in report.not_attempted:
        lines.append(f"Not sent to {safe(_to(msg))} ({msg['X-Kt-Actions']}): the session had stopped.")
    reach = _reach_lines(plan)
    if not lines and not report.stopped and all(line.endswith("(--force sends them again).") for line in reach):
        return []  # nothing sent and nobody to report: silent, so cron sends no mail
    lines += reach
    count = sum(1 for d in report.deliveries if d.sent)
    if report.stopped:
        lines.append(f"{safe(report.stopped)}: {count} of {_plural(len(messages), 'reminder', 'reminders')} sent.")
    elif messages:
        lines.append(f"Sent {count} of {_plural(len(messages), 'reminder', 'reminders')}.")
    else:
        lines.append("Nothing to send.")
    return lines


def to_json(plan: ReminderPlan, messages: list[EmailMessage], report: SendReport | None) -> dict[str, Any]:
    """The --json document (``report`` None for a dry run)."""
    outcome: dict[int, dict[str, Any]] = {}
    if report is not None:
        for delivery in report.deliveries:
            status = "sent" if delivery.sent and not delivery.refused else "partly sent" if delivery.sent else "failed"
            outcome[id(delivery.message)] = {
                "status": status,
                "accepted": sorted(delivery.accepted),
                "refused": delivery.refused,
                "error": delivery.error,
            }
    items = []
    for digest, msg in zip(plan.digests, messages, strict=True):
        status = "would send" if report is None else "not attempted"
        default: dict[str, Any] = {"status": status, "accepted": [], "refused": {}, "error": ""}
        items.append(
            {
                "owner": digest.owner.ref,
                "to": digest.owner.email,
                "cc": [{"address": c.address, "level": c.level, "actions": list(c.refs)} for c in digest.copies],
                "subject": str(msg["Subject"]),
                "message_id": str(msg["Message-ID"]),
                "actions": [{"ref": i.action.ref, "kind": i.kind, "days": i.days} for i in digest.items],
                **outcome.get(id(msg), default),
            }
        )
    return {
        "version": REMIND_JSON_VERSION,
        "date": plan.today.isoformat(),
        "dry_run": report is None,
        "messages": items,
        "without_email": [
            {"owner": o.ref if o else None, "name": o.display if o else None, "actions": refs}
            for o, refs in plan.without_email
        ],
        "external": [{"owner": o.ref, "address": a, "actions": refs} for o, a, refs in plan.external],
        "withheld": [{"owner": o.ref, "found": f, "actions": refs} for o, f, refs in plan.withheld],
        "notes": plan.not_copied,
        "left_out_recent": plan.recent,
        "stopped": report.stopped if report else "",
    }
