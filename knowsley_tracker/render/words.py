"""Stored field names and values in the words and date style of the rest of the tool.

Confirmations and log lines say "due date 31 Oct 2025 -> 3 Apr 2026" and "RAG
override Red", never "due, rag_override, rag_reason" or "2025-11-30". No Rich.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from knowsley_tracker.dates import format_date, format_period, format_timestamp
from knowsley_tracker.models import TIMESTAMP_FIELDS, Record

# Stored field -> words. None: bookkeeping nobody asked to change, left out of messages.
FIELD_WORDS: dict[str, str | None] = {
    "title": "title",
    "owner_id": "owner",
    "rec_id": "recommendation",
    "rec_ids": "recommendations",
    "success_measure": "success measure",
    "due": "due date",
    "original_due": None,
    "status": "status",
    "progress": "progress",
    "dropped_reason": "reason for dropping",
    "rag_override": "RAG override",
    "rag_reason": None,
    "completed_on": "completion date",
    "created_at": None,
    "last_logged_at": None,
    "last_note": None,
    "focus_id": "focus area",
    "inspection_id": "inspection",
    "report_ref": "report paragraph",
    "summary": "summary",
    "text": "text",
    "key": "key",
    "name": "name",
    "lead_role": "lead",
    "lead_name": "lead's name",
    "description": "description",
    "role": "role",
    "email": "email",
    "active": "active",
    "date": "date",
    "type": "type",
    "themes": "themes",
    "outcome": "outcome",
    "start": "start date",
    "end": "end date",
    "published": "publication date",
    "framework": "framework",
    "judgement": "judgement",
    "areas": "area judgements",
    "report_url": "report link",
    "notes": "notes",
    "note": "note",
    "action_plan_due": "action plan due date",
    "action_plan_sent": "action plan sent",
    "issued": "date issued",
    "revised": "dates revised",
    "lifted": "date lifted",
    "people": "people",
    "kind": "kind",
    "purpose": "purpose",
    "focus_ids": "focus areas",
    "unit": "unit",
    "target": "target",
    "target_date": "target date",
    "lower_is_better": "direction",
}
# Id fields shown as refs, and the prefix of each.
_ID_FIELDS = {"owner_id": "O", "rec_id": "R", "focus_id": "F", "inspection_id": "I"}
# Values worth echoing (short, typed as codes or dates); free text is only named.
_SHOWN = {"status", "progress", "rag_override", "type", "judgement", "framework", "kind", "active", "report_ref"}


def field_words(name: str) -> str | None:
    """A stored field's name in words (None: bookkeeping, not worth saying)."""
    return FIELD_WORDS.get(name, name.replace("_", " "))


def _iso(value: Any) -> Any:
    return date.fromisoformat(value) if isinstance(value, str) else value


def value_words(name: str, value: Any, date_fields: tuple[str, ...] = ()) -> str:
    """A stored value in words: dates as ``1 Sep 2025``, ids as refs, RAG capitalised."""
    if value is None or value == "" or value == []:
        return "none"
    if isinstance(value, list):
        return ", ".join(value_words(name, v, date_fields) for v in value)
    if name in date_fields or name in ("due", "completed_on", "original_due"):
        return format_date(_iso(value))
    if name in _ID_FIELDS:
        return f"{_ID_FIELDS[name]}{value}"
    if name == "progress":
        return f"{value}%"
    if name == "rag_override":
        return str(value).capitalize()
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def _blank(value: Any) -> bool:
    return value is None or value == "" or value == []


def describe_update(record: Record, changes: dict[str, list[Any]]) -> str:
    """What an edit changed, in words: ``due date 31 Oct 2025 -> 3 Apr 2026; title``.
    Dates, ids and codes are echoed (a slip shows); free text is only named."""
    date_fields = type(record).DATE_FIELDS
    parts = []
    for name, (old, new) in changes.items():
        words = field_words(name)
        if words is None:
            continue
        if name == "rag_override":
            parts.append(f"RAG override {value_words(name, new)}" if new else "RAG override cleared")
        elif name in date_fields or name in _ID_FIELDS or name in _SHOWN or name == "due":
            if _blank(old):
                parts.append(f"{words} {value_words(name, new, date_fields)}")
            elif _blank(new):
                parts.append(f"{words} cleared")
            else:
                parts.append(f"{words} {value_words(name, old, date_fields)} -> {value_words(name, new, date_fields)}")
        else:
            parts.append(words)
    return "; ".join(parts)


def describe_changes(changes: dict[str, list[Any]]) -> str:
    """A progress-log entry's changes: ``progress 40% -> 60%; status in-progress -> complete``."""
    parts = []
    for name, (old, new) in changes.items():
        if name == "progress":
            parts.append(f"progress {old}% -> {new}%")
        elif name == "due":
            parts.append(f"due {format_date(_iso(old), 'none')} -> {format_date(_iso(new), 'none')}")
        elif name == "rag_override":
            parts.append(f"RAG override {old or 'none'} -> {new or 'cleared'}")
        elif name == "completed_on":
            parts.append(
                f"completion date {format_date(_iso(old))} -> {format_date(_iso(new))}"
                if old and new
                else f"completion date {format_date(_iso(new))}"
                if new
                else "completion date cleared"
            )
        else:
            parts.append(f"{field_words(name) or name} {old} -> {new}")
    return "; ".join(parts)


# -- kt history on a terminal -----------------------------------------------------------------

# Every stored field in words, bookkeeping too: the history shows every field a command saved.
_HISTORY_FIELD_WORDS: dict[str, str] = {
    "kpi_id": "KPI",
    "action_id": "action",
    "original_due": "original due date",
    "rag_reason": "RAG reason",
    "created_at": "created",
    "added_at": "added",
    "recorded_at": "recorded",
    "frozen_at": "frozen",
    "last_logged_at": "last logged",
    "last_note": "last note",
    "period_end": "period end",
    "rag_counts": "RAG counts",
    "by": "by",
}
_HISTORY_IDS = {**_ID_FIELDS, "kpi_id": "K", "action_id": "A"}


def _date_fields() -> frozenset[str]:
    """Every record kind's date fields (due, period_end, published...)."""
    found: set[str] = set()
    kinds: list[type[Record]] = [Record]
    while kinds:
        kind = kinds.pop()
        found.update(kind.DATE_FIELDS)
        kinds.extend(kind.__subclasses__())
    return frozenset(found)


def history_field(name: str) -> str:
    """A field's name in the history, in words: ``period end``, ``KPI``, ``setting board.name``."""
    if name.startswith("settings."):
        return f"setting {name.removeprefix('settings.')}"
    return _HISTORY_FIELD_WORDS.get(name) or field_words(name) or name.replace("_", " ")


def history_value(name: str, value: Any) -> str:
    """A stored value in the history, in words: ``31 Oct 2025``, local time for a stamp
    (``10 Oct 2025 12:00``), ``Sep 2025`` for a period, refs for ids (``K10``); free text as
    it is. Anything that does not read as its kind is shown as stored, never dropped."""
    if value is None or value == "" or value == []:
        return ""
    try:
        if isinstance(value, str) and name in TIMESTAMP_FIELDS:
            return format_timestamp(value)
        if name in _date_fields():
            return value_words(name, value, (name,))
        if name == "period" and isinstance(value, str):
            return format_period(value)
    except ValueError:
        return str(value)
    if name in _HISTORY_IDS and isinstance(value, int) and not isinstance(value, bool):
        return f"{_HISTORY_IDS[name]}{value}"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (str, int, float)):
        return str(value)
    if isinstance(value, dict) and all(isinstance(v, (str, int, float)) for v in value.values()):
        return ", ".join(f"{k} {v}" for k, v in value.items())
    import json

    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(", ", ": "))
