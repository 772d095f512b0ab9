"""The personal-data scan (kt doctor --personal-data): every free-text field in the plan and in its
audit history that the personal-data guard (guard.py) would refuse today. It reports where, never
what it found.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from knowsley_tracker.models import (
    RECORD_TYPES,
    TABLES,
)
from knowsley_tracker.service.session import Session

# Fields that hold ids, dates, enum values or timestamps, never free text.
_NOT_FREE_TEXT = {"at", "added_at", "created_at", "recorded_at", "completed_on", "due", "original_due", "date",
                  "start", "end", "published", "issued", "lifted", "period", "period_end", "status", "type",
                  "kind", "framework", "judgement", "rag_override", "snapshot_file", "snapshot_method",
                  "frozen_at", "last_logged_at", "target_date"}  # fmt: skip


@dataclass(frozen=True)
class PersonalDataHit:
    """Where something that looks like personal data is (never what it is)."""

    where: str  # a record ref (A12) or a history entry (t15)
    field: str  # the field, e.g. title, people[0].name, or A12.title inside a history entry
    kinds: list[str]


def _free_text(value: Any, path: str) -> Iterable[tuple[str, str]]:
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, list):
        for n, item in enumerate(value):
            yield from _free_text(item, f"{path}[{n}]")
    elif isinstance(value, dict):
        for key, item in value.items():
            if key not in _NOT_FREE_TEXT:
                yield from _free_text(item, f"{path}.{key}" if path else str(key))


def scan_personal_data(s: Session) -> list[PersonalDataHit]:
    """Every free-text field in the plan, and in its audit history, that the
    personal-data guard would refuse today. Earlier versions in the history
    matter: editing a record leaves its old text there, and in backups."""
    from knowsley_tracker.guard import find_personal_data

    hits: list[PersonalDataHit] = []
    for cls in RECORD_TYPES:
        for record in s.store.all(cls):
            row = record.to_record()
            for path, text in _free_text({k: v for k, v in row.items() if k != "changes"}, ""):
                kinds = find_personal_data(text)
                if kinds:
                    hits.append(PersonalDataHit(record.ref, path, kinds))
    for entry in s.store.history():
        for change in entry.changes:
            prefix = TABLES[change.table].PREFIX if change.table in TABLES else change.table
            if change.op == "update":
                values: Any = {name: old_new[0] for name, old_new in (change.diff or {}).items()}
            else:
                values = change.row or {}
            for path, text in _free_text(values, f"{prefix}{change.record_id}"):
                kinds = find_personal_data(text)
                if kinds:
                    hits.append(PersonalDataHit(f"t{entry.txn}", path, kinds))
    return hits
