"""What ``kt import`` prints about a spreadsheet: each record created (or that would be),
every note (how a cell was read, what differs from the plan), the columns not
imported, and a summary line. User text is escaped with :func:`safe`.
"""

from __future__ import annotations

from datetime import date

from knowsley_tracker.dates import format_date
from knowsley_tracker.render.text import safe
from knowsley_tracker.render.words import describe_changes
from knowsley_tracker.service.owner_returns import ReturnResult
from knowsley_tracker.service.planned_records import ImportPlan


def _clip(text: str, width: int = 70) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1].rstrip() + "…"


def _count(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def _listing(parts: list[str]) -> str:
    if len(parts) <= 1:
        return "".join(parts)
    return ", ".join(parts[:-1]) + " and " + parts[-1]


def _due(day: date | None) -> str:
    return f"due {format_date(day)}" if day is not None else "no due date"


def import_report(plan: ImportPlan, *, dry_run: bool) -> list[str]:
    """One line per record created (or that would be), then notes and a summary line."""
    verb = "Would create" if dry_run else "Created"
    lines = [safe(note) for note in plan.notes]
    lines += [f"{verb} focus area {a.key}: {safe(_clip(a.name))}" for a in plan.focus_areas]
    lines += [f"{verb} owner: {safe(_clip(o.display))}" for o in plan.owners]
    lines += [f"{verb} {r.ref}: {safe(_clip(r.text))}" for r in plan.recs]
    lines += [f"{verb} {a.ref} under {a.rec.ref}, {_due(a.due)}: {safe(_clip(a.title))}" for a in plan.actions]
    for note in [*plan.interpretations, *plan.differences]:
        lines.append(f"Note: {safe(str(note))}")
    if plan.unrecognised_columns:
        lines.append(
            f"Ignored columns (not recognised): {safe(', '.join(plan.unrecognised_columns))}. "
            'To import one, name its column with --map "Header=column".'
        )
    parts = [
        _count(len(plan.focus_areas), "focus area", "focus areas"),
        _count(len(plan.owners), "owner", "owners"),
        _count(len(plan.recs), "recommendation", "recommendations"),
        _count(len(plan.actions), "action", "actions"),
        _count(plan.log_entries, "progress note", "progress notes"),
    ]
    created = _listing([p for p in parts if not p.startswith("0 ")]) or "nothing new"
    rows = _count(plan.rows, "row", "rows")
    matched = f"; {_count(plan.matched, 'row matches', 'rows match')} the plan already" if plan.matched else ""
    source = safe(plan.source)
    if dry_run:
        lines.append(f"Dry run of {source} ({rows}{matched}): would create {created}. Nothing was saved.")
    elif plan.creates_anything:
        lines.append(f"Imported {source} ({rows}{matched}): created {created}.")
    else:
        lines.append(f"Nothing to import from {source} ({rows}{matched}): the plan is unchanged.")
    return lines


def return_report(result: ReturnResult, *, dry_run: bool) -> list[str]:
    """One line per update logged (or that would be), the rows already applied, and a summary."""
    lines = []
    for row in result.applied:
        change = describe_changes(row.entry.changes)
        note = f' "{safe(_clip(row.entry.note, 80))}"' if row.entry.note else ""
        what = "; ".join(part for part in (change, f"note{note}" if note else "") if part)
        head = f"Would log on {row.action.ref}" if dry_run else f"Logged {row.entry.ref} on {row.action.ref}"
        lines.append(f"{head} (row {row.row}): {what}.")
    for number, action in result.already:
        lines.append(f"Row {number}: {action.ref} already has this update (from an earlier import of this return).")
    parts = [
        _count(len(result.applied), "update", "updates") + (" to log" if dry_run else " logged"),
        _count(len(result.already), "row already applied", "rows already applied"),
        _count(result.unchanged, "row unchanged", "rows unchanged"),
        _count(result.blank, "row left blank", "rows left blank"),
    ]
    summary = "; ".join(p for p in parts if not p.startswith("0 "))
    who = f" from {result.owner.ref} {safe(result.owner.display)}" if result.owner else ""
    source = safe(result.source)
    rows = _count(result.rows, "row", "rows")
    if dry_run:
        lines.append(f"Dry run of the return {source}{who} ({rows}): {summary or 'nothing to log'}. Nothing was saved.")
    elif result.applied:
        lines.append(f"Imported the return {source}{who} ({rows}): {summary}.")
    else:
        lines.append(
            f"Nothing to import from the return {source}{who} ({rows}: {summary or 'empty'}): the plan is unchanged."
        )
    return lines
