"""``kt check`` output: a plain-text digest for cron mail, and the same items as JSON.

No Rich and nothing heavy: this runs from cron every few minutes or hours.
User text (titles, owners, the authority) is escaped with :func:`safe`.
"""

from __future__ import annotations

from typing import Any

from knowsley_tracker.dates import format_date
from knowsley_tracker.render.fit import wrap
from knowsley_tracker.render.text import safe
from knowsley_tracker.service.check import CheckItem, CheckResult

# Version of the --json document; bump it when a field changes meaning or goes.
CHECK_JSON_VERSION = 1


def digest(result: CheckResult, width: int | None = None) -> str:
    """One line per item under a heading per kind, most urgent group first.

    Empty when nothing needs attention, so cron sends no mail. ``width`` (a terminal's):
    each item wrapped at spaces to that many columns, under its message (a hanging indent
    past the id), so the terminal never wraps it mid-word; None (a pipe, cron's mail):
    one line per item, exactly.
    """
    if not result.items:
        return ""
    count = len(result.items)
    noun = "item needs" if count == 1 else "items need"
    lines = _fitted(
        "", "", f"{safe(result.authority)} improvement plan: {count} {noun} attention on {format_date(result.today)}.",
        width,
    )  # fmt: skip
    ref_width = max(len(item.ref) for item in result.items)
    for kind, items in result.groups():
        lines.append("")
        lines.extend(_fitted("", "", f"{kind.title} ({len(items)})", width))
        for item in items:
            lines.extend(_fitted(f"  {item.ref:<{ref_width}}  ", " " * (ref_width + 4), safe(item.message), width))
    return "\n".join(lines)


def _fitted(first: str, rest: str, text: str, width: int | None) -> list[str]:
    """``first + text`` as one line, or wrapped at spaces to ``width`` with ``rest`` before
    each following line (every character kept: a word too long for a line is split)."""
    if width is None:
        return [first + text]
    room = max(width - len(first), 20)
    pieces = wrap(text, room, lines=None, whole=True)
    return [first + pieces[0], *(rest + piece for piece in pieces[1:])]


def item_json(item: CheckItem) -> dict[str, Any]:
    return {
        "kind": item.kind,
        "urgency": item.urgency.label,
        "ref": item.ref,
        "date": item.date.isoformat() if item.date else None,
        "days": item.days,
        "subject": item.subject,
        "owner": item.owner,
        "owner_id": item.owner_ref,
        "owner_email": item.owner_email,
        "message": item.message,
    }


def to_json(result: CheckResult) -> dict[str, Any]:
    """The --json document: printed even when empty, so scripts always get valid JSON."""
    opts = result.options
    return {
        "version": CHECK_JSON_VERSION,
        "authority": result.authority,
        "date": result.today.isoformat(),
        "needs_attention": result.needs_attention,
        "count": len(result.items),
        "checks": {
            "visit_within": opts.visit_within,
            "due_within": opts.due_within,
            "overdue": opts.overdue,
            "stale": opts.stale,
            "deadline_within": opts.deadline_within,
            "owner": opts.owner,
        },
        "items": [item_json(item) for item in result.items],
    }
