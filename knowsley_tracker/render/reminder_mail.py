"""Reminder e-mails: one digest per owner, as a plain-text part and an HTML part.

Each names the council, lists the owner's actions by id and title (overdue,
then due soon, then without a recent update), gives the latest update and the
command that records progress (``kt log A12 "..."``), and says who is copied
and why. User text is data: control characters become visible escapes (``\\x1b``)
in both parts, and everything is HTML-escaped in the HTML part. Header values are
flattened to one line and addresses are built with :class:`email.headerregistry.Address`,
so no stored text can add a header or a recipient.
"""

from __future__ import annotations

import html
from datetime import datetime
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from knowsley_tracker.dates import format_date
from knowsley_tracker.render.text import safe
from knowsley_tracker.service.reminders import ESCALATION, LEAD, Digest, Item, ReminderPlan

HEADINGS = {"overdue": "Overdue", "due": "Due soon", "stale": "No recent update"}


def _one_line(text: str) -> str:
    """Header text: one line, no control characters."""
    return " ".join(safe(text).split())


def _address(address: str, name: str = "") -> Address:
    user, _, domain = address.rpartition("@")
    return Address(display_name=_one_line(name), username=user, domain=domain)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _when(item: Item) -> str:
    a = item.action
    if item.kind == "overdue":
        return f"due {format_date(a.due)}, {_plural(-(item.days or 0), 'day')} overdue"
    if item.kind == "due":
        days = item.days or 0
        soon = "today" if days == 0 else "tomorrow" if days == 1 else f"in {days} days"
        return f"due {format_date(a.due)}, {soon}"
    if item.last_update is None:
        return "no update recorded"
    return f"no update since {format_date(item.last_update)} ({_plural(-(item.days or 0), 'day')})"


def _copied_lines(digest: Digest, plan: ReminderPlan) -> list[str]:
    lines = []
    for copy in digest.copies:
        refs = ", ".join(copy.refs)
        if copy.level == LEAD:
            lines.append(
                f"Copied to {copy.name}, the focus area lead, because {refs} "
                f"{'is' if len(copy.refs) == 1 else 'are'} more than {plan.rules.lead_after} days overdue."
            )
        elif copy.level == ESCALATION:
            lines.append(
                f"Copied to {copy.address} (escalation) because {refs} "
                f"{'is' if len(copy.refs) == 1 else 'are'} more than {plan.rules.escalate_after} days overdue."
            )
    return lines


def subject(plan: ReminderPlan, digest: Digest) -> str:
    n = len(digest.items)
    overdue = sum(1 for i in digest.items if i.kind == "overdue")
    head = "Escalated: " if any(c.level == ESCALATION for c in digest.copies) else ""
    late = f", {overdue} overdue" if overdue else ""
    need = "needs" if n == 1 else "need"
    return _one_line(f"{head}{plan.authority} improvement plan: {_plural(n, 'action')} {need} your attention{late}")


def text_body(plan: ReminderPlan, digest: Digest) -> str:
    owner = digest.owner
    lines = [
        f"Dear {safe(owner.display)},",
        "",
        f"These actions in the {safe(plan.authority)} improvement plan need your attention on "
        f"{format_date(plan.today)}.",
    ]
    for kind, heading in HEADINGS.items():
        items = [i for i in digest.items if i.kind == kind]
        if not items:
            continue
        lines += ["", f"{heading} ({len(items)})"]
        for item in items:
            a = item.action
            lines.append(f"  {a.ref}  {safe(a.title)}")
            lines.append(f"       {_when(item)}; {a.progress}% done, {a.status.label.lower()}")
            if item.focus is not None:
                lines.append(f"       Focus area: {safe(item.focus.key)} {safe(item.focus.name)}")
            if a.last_note:
                note = " ".join(safe(a.last_note).split())
                lines.append(f"       Latest update: {note}")
            lines.append(f'       To record progress: kt log {a.ref} "what has happened" --progress N')
    copied = _copied_lines(digest, plan)
    if copied:
        lines += ["", *copied]
    lines += [
        "",
        'Record progress with kt log (e.g. kt log A12 "..."), or reply to the improvement team. '
        "Please include no personal data about children.",
        "",
        f"-- kt remind, {safe(plan.authority)} improvement plan",
    ]
    return "\n".join(lines) + "\n"


def html_body(plan: ReminderPlan, digest: Digest) -> str:
    def e(text: str) -> str:  # control characters shown as in the text part (\x1b), then HTML-escaped
        return html.escape(safe(text))

    owner = digest.owner
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en-GB"><head><meta charset="utf-8">',
        f"<title>{e(subject(plan, digest))}</title></head>",
        '<body style="font-family: Arial, sans-serif; font-size: 14px; color: #222;">',
        f"<p>Dear {e(owner.display)},</p>",
        f"<p>These actions in the <strong>{e(plan.authority)}</strong> improvement plan need your attention on "
        f"{e(format_date(plan.today))}.</p>",
    ]
    for kind, heading in HEADINGS.items():
        items = [i for i in digest.items if i.kind == kind]
        if not items:
            continue
        parts.append(f"<h3>{e(heading)} ({len(items)})</h3>")
        parts.append('<table style="border-collapse: collapse;" cellpadding="4">')
        headings = ("Action", "Title", "When", "Progress", "Latest update", "To record progress")
        parts.append("<tr>" + "".join(f"<th align=left>{h}</th>" for h in headings) + "</tr>")
        for item in items:
            a = item.action
            parts.append(
                "<tr>"
                f"<td><strong>{e(a.ref)}</strong></td>"
                f"<td>{e(a.title)}</td>"
                f"<td>{e(_when(item))}</td>"
                f"<td>{a.progress}%, {e(a.status.label.lower())}</td>"
                f"<td>{e(a.last_note) if a.last_note else '-'}</td>"
                f'<td><code>kt log {e(a.ref)} "..."</code></td>'
                "</tr>"
            )
        parts.append("</table>")
    for line in _copied_lines(digest, plan):
        parts.append(f"<p><em>{e(line)}</em></p>")
    parts += [
        "<p>Record progress with <code>kt log</code>, or reply to the improvement team. "
        "Please include no personal data about children.</p>",
        f"<p style='color: #666;'>kt remind, {e(plan.authority)} improvement plan</p>",
        "</body></html>",
    ]
    return "\n".join(parts) + "\n"


def message(plan: ReminderPlan, digest: Digest, now: datetime) -> EmailMessage:
    """The e-mail for one digest: From, To, Cc, Subject, Date, Message-ID, text and HTML parts."""
    sender = plan.rules.sender
    # Headers are folded only past 998 characters: Python folds a 79-character Subject by
    # moving all of it to the next line, which mail clients then show with a leading space.
    msg = EmailMessage(policy=policy.default.clone(max_line_length=998))
    msg["From"] = _address(sender, f"{plan.authority} improvement plan")
    msg["To"] = _address(digest.owner.email, digest.owner.display)
    if digest.copies:
        msg["Cc"] = [_address(c.address, c.name) for c in digest.copies]
    msg["Subject"] = subject(plan, digest)
    msg["Date"] = format_datetime(now)
    msg["Message-ID"] = make_msgid("kt-remind", domain=sender.rpartition("@")[2])
    msg["Auto-Submitted"] = "auto-generated"
    msg["X-Kt-Actions"] = ", ".join(digest.refs)
    msg.set_content(text_body(plan, digest))
    msg.add_alternative(html_body(plan, digest), subtype="html")
    return msg


def shown(msg: EmailMessage) -> str:
    """A message as --dry-run prints it: its headers, the text part, and what the HTML part is."""
    lines = [f"{name}: {value}" for name, value in msg.items() if name.lower() not in ("content-type", "mime-version")]
    body = msg.get_body(preferencelist=("plain",))
    text = body.get_content() if body is not None else ""
    out = "\n".join(lines) + "\n\n" + text.rstrip("\n")
    page = msg.get_body(preferencelist=("html",))
    if page is not None and page.get_content_type() == "text/html":
        size = len(page.get_content().encode("utf-8"))
        out += f"\n\n[Also an HTML part (text/html, {size:,} bytes): the same actions as a table.]"
    return out
