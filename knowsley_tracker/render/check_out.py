"""``kt check`` output: a plain-text digest for cron mail, and the same items as JSON.

No Rich and nothing heavy: this runs from cron every few minutes or hours.
User text (titles, owners, the authority) is escaped with :func:`safe`.
"""

from __future__ import annotations

from typing import Any

from knowsley_tracker.dates import format_date
from knowsley_tracker.render.text import safe
from knowsley_tracker.service.check import CheckItem, CheckResult

# Version of the --json document; bump it when a field changes meaning or goes.
CHECK_JSON_VERSION = 1


def digest(result: CheckResult) -> str:
    """One line per item under a heading per kind, most urgent group first.

    Empty when nothing needs attention, so cron sends no mail.
    """
    if not result.items:
        return ""
    count = len(result.items)
    noun = "item needs" if count == 1 else "items need"
    lines = [f"{safe(result.authority)} improvement plan: {count} {noun} attention on {format_date(result.today)}."]
    width = max(len(item.ref) for item in result.items)
    for kind, items in result.groups():
        lines.append("")
        lines.append(f"{kind.title} ({len(items)})")
        lines.extend(f"  {item.ref:<{width}}  {safe(item.message)}" for item in items)
    return "\n".join(lines)


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
