"""History, undo, backups, restore and doctor results as tables, lines and JSON, without Rich.

Every piece of user text (notes, titles, the command words saved in the
history, file paths) goes through :func:`knowsley_tracker.render.text.safe`
before it is printed as a line; table cells are escaped by the table printers.
"""

from __future__ import annotations

import json
from typing import Any

from knowsley_tracker.dates import format_timestamp
from knowsley_tracker.errors import UnsafeStoreError
from knowsley_tracker.guard import describe as guard_describe
from knowsley_tracker.render.text import Column, TableView, safe
from knowsley_tracker.render.words import field_words, history_field, history_value
from knowsley_tracker.service.audit import (
    BackupInfo,
    BackupList,
    DoctorReport,
    HistoryEntry,
    PersonalDataHit,
    RecordChange,
    UndoResult,
)
from knowsley_tracker.storage import Restored


def value_text(value: Any) -> str:
    """A stored value as one line: text as it is, lists and objects as compact JSON."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)):
        return str(value)
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(", ", ": "))


def command_label(entry: HistoryEntry) -> str:
    if entry.undo_of is not None:
        return f"undo of txn {entry.undo_of}"
    return entry.what


_VERBS = {"create": "created", "update": "changed", "delete": "removed"}


def history_table(entries: list[HistoryEntry], title: str = "History", *, words: bool = False) -> TableView:
    """One line per field changed: who, when, which command, old and new value. ``words``
    (a terminal): fields and values as the rest of the tool says them (``period end``,
    ``31 Oct 2025``, local time); without it (piped) exactly as stored, for scripts."""
    table = TableView(
        [
            Column("Txn", justify="right", priority=0),
            Column("When", no_wrap=True, priority=6),
            Column("By", max_width=24, priority=8),
            Column("Command", max_width=30, priority=7),
            Column("Record", max_width=10, priority=1),  # refs; "the plan's settings" wraps
            Column("Change", priority=5),
            Column("Field", priority=2),
            Column("Old", max_width=40, priority=4),
            Column("New", max_width=40, priority=3),
        ],
        title=title,
        empty="No changes recorded.",
    )
    for entry in entries:
        head = [entry.txn, format_timestamp(entry.at) if entry.at else "", entry.by, command_label(entry)]
        if not entry.changes:
            table.add([*head, "", "", "", "", ""])
        for change in entry.changes:
            verb = _VERBS.get(change.op, change.op)
            if not change.fields:
                table.add([*head, change.ref, verb, "", "", ""])
            for item in change.fields:
                if words:
                    name = history_field(item.name)
                    old, new = history_value(item.name, item.old), history_value(item.name, item.new)
                else:
                    name, old, new = item.name, value_text(item.old), value_text(item.new)
                table.add([*head, change.ref, verb, name, old, new])
        if entry.more_changes:
            more = f"{entry.more_changes:,} more change{'s' if entry.more_changes != 1 else ''}"
            table.add([*head, "...", more, f"kt history t{entry.txn} lists all", "", ""])
    return table


def change_json(change: RecordChange) -> dict[str, Any]:
    out: dict[str, Any] = {"op": change.op, "table": change.table, "id": change.record_id, "ref": change.ref}
    if change.op == "update":
        out["fields"] = {item.name: [item.old, item.new] for item in change.fields}
    else:
        out["row"] = change.row
    return out


def history_json(entries: list[HistoryEntry]) -> list[dict[str, Any]]:
    out = []
    for entry in entries:
        item: dict[str, Any] = dict(entry.extra)
        item.update(
            {
                "txn": entry.txn,
                "at": entry.at,
                "by": entry.by,
                "what": entry.what,
                "changes": [change_json(c) for c in entry.changes],
            }
        )
        if entry.more_changes:  # the changes not listed (kt history tN --json has them all)
            item["more_changes"] = entry.more_changes
        out.append(item)
    return out


def _effects(changes: list[RecordChange]) -> str:
    parts: list[str] = []
    for change in changes:
        if change.op == "update":
            words = [w for item in change.fields if (w := field_words(item.name)) is not None]
            names = ", ".join(dict.fromkeys(words)) or "log summary"
            text = f"put back {change.ref}'s {names}" if change.table != "_meta" else f"put back {names}"
        elif change.op == "delete":
            text = f"removed {change.ref}"
        else:
            text = f"brought back {change.ref}"
        if text not in parts:
            parts.append(text)
    return "; ".join(parts)


def undo_lines(result: UndoResult, undo_txn: int) -> list[str]:
    target = result.target
    lines = [
        f"Undid txn {target.txn}: {safe(target.what)} (by {safe(target.by)}, {format_timestamp(target.at)}).",
        f"It {_effects(result.changes)}.",
    ]
    if result.later_by_others:
        n = result.later_by_others
        lines.append(f"{n} later command{'s' if n != 1 else ''} by other people {'were' if n != 1 else 'was'} kept.")
    lines.append(f"Saved as txn {undo_txn}; run kt undo again to go one more step back.")
    return lines


def undo_json(result: UndoResult, undo_txn: int) -> dict[str, Any]:
    return {
        "txn": undo_txn,
        "undone": history_json([result.target])[0],
        "changes": [change_json(c) for c in result.changes],
        "later_by_others": result.later_by_others,
    }


# -- backups and restore ---------------------------------------------------------


def _status(info: BackupInfo) -> str:
    return "good" if info.problem is None else info.problem


def backups_table(listing: BackupList) -> TableView:
    table = TableView(
        [
            Column("Backup"),
            Column("Txn", justify="right"),
            Column("Saved"),
            Column("Size", justify="right"),
            Column("Saved by command", max_width=40),
            Column("Status", max_width=40),
        ],
        title=f"Backups in {listing.folder} (keeping the last {listing.keep})",
        empty=f"No backups yet in {listing.folder}: each command that saves keeps the version it replaces.",
    )
    for info in listing.backups:
        command = f"{info.last_command} ({info.last_by})" if info.last_by else info.last_command
        table.add(
            [info.backup.name, info.backup.txn, info.backup.saved_label, _size(info.size), command, _status(info)]
        )
    for info in listing.damaged:
        table.add([info.backup.name, "", info.backup.saved_label, _size(info.size), "", _status(info)])
    return table


def _size(size: int) -> str:
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KB"
    return f"{size / 1024 / 1024:.1f} MB"


def backup_json(info: BackupInfo) -> dict[str, Any]:
    return {
        "name": info.backup.name,
        "path": str(info.backup.path),
        "txn": info.backup.txn if not info.backup.damaged else None,
        "saved": info.backup.saved.isoformat(),
        "size": info.size,
        "good": info.problem is None,
        "problem": info.problem,
        "command": info.last_command or None,
        "by": info.last_by or None,
    }


def backups_json(listing: BackupList) -> dict[str, Any]:
    return {
        "folder": str(listing.folder),
        "keep": listing.keep,
        "backups": [backup_json(i) for i in listing.backups],
        "damaged": [backup_json(i) for i in listing.damaged],
    }


def restore_lines(result: Restored) -> list[str]:
    backup = result.backup
    head = (
        f"Restored {safe(backup.name)} (txn {result.backup_txn}, saved {backup.saved_label}); saved as txn {result.txn}"
    )
    if result.replaced_txn is not None:
        head += f", changing {result.changes} record{'s' if result.changes != 1 else ''}"
    lines = [head + "."]
    if result.undone:
        n = len(result.undone)
        shown = ", ".join(f"txn {u.txn} {safe(u.what)} ({safe(u.by)})" for u in result.undone[:5])
        more = f" and {n - 5} more" if n > 5 else ""
        lines.append(
            f"It undid {n} command{'s' if n != 1 else ''} saved after that backup (kt history keeps "
            f"{'them' if n != 1 else 'it'}): {shown}{more}."
        )
    if result.replaced_damaged and result.kept_as is not None:
        lines.append(f"The damaged store it replaced is kept as {safe(result.kept_as)}.")
        if result.lost_txns:
            n = result.lost_txns
            lines.append(
                f"The damaged store held {n} later command{'s' if n != 1 else ''} that this backup does not have: "
                f"check the plan and redo {'them' if n != 1 else 'it'}."
            )
    elif result.kept_as is not None:
        lines.append(
            f"The store it replaced (txn {result.replaced_txn}) is kept as {safe(result.kept_as.name)}: "
            f"kt restore {safe(result.kept_as.name)} puts it back."
        )
    return lines


def restore_json(result: Restored) -> dict[str, Any]:
    return {
        "restored": result.backup.name,
        "backup_txn": result.backup_txn,
        "txn": result.txn,
        "replaced_txn": result.replaced_txn,
        "replaced_damaged": result.replaced_damaged,
        "kept_as": str(result.kept_as) if result.kept_as else None,
        "lost_txns": result.lost_txns,
        "changes": result.changes,
        "undone": [{"txn": u.txn, "by": u.by, "what": u.what} for u in result.undone],
    }


# -- doctor ------------------------------------------------------------------------


def doctor_lines(report: DoctorReport, fixed: list[str] | None = None) -> list[str]:
    lines = [f"Fixed: {safe(item)}" for item in fixed or []]
    if report.error is not None:
        lines.append(f"Checked {safe(report.path)}: it cannot be read.")
        lines.append(f"Problem: {safe(report.error.message)}")
        if isinstance(report.error, UnsafeStoreError):
            lines.append("  Fix: remove what the message names (after checking who put it there), then run kt doctor.")
        elif report.newest_good is not None:
            lines.append(
                f"  Fix: kt restore brings back {safe(report.newest_good.name)} "
                f"(saved {report.newest_good.saved_label}) and keeps the damaged file aside."
            )
        else:
            lines.append("  Fix: no good backup is available; put the file back from your file backups.")
        return lines
    backups = f"{report.backups} backup{'s' if report.backups != 1 else ''}"
    lines.append(
        f"Checked {safe(report.path)}: schema {report.schema_version}, txn {report.txn}, "
        f"{report.records} record{'s' if report.records != 1 else ''}, {backups}."
    )
    for problem in report.problems:
        label = "Problem" if problem.severity == "problem" else "Warning"
        lines.append(f"{label}: {safe(problem.message)}")
        lines.append(f"  Fix: {safe(problem.fix)}")
    problems = sum(1 for p in report.problems if p.severity == "problem")
    warnings = len(report.problems) - problems
    if not report.problems:
        lines.append("No problems found.")
    else:
        counts = f"{problems} problem{'s' if problems != 1 else ''}, {warnings} warning{'s' if warnings != 1 else ''}."
        if report.fixable:
            counts += " kt doctor --fix repairs the ones that say so."
        lines.append(counts)
    return lines


def doctor_json(report: DoctorReport, fixed: list[str] | None = None) -> dict[str, Any]:
    problems = [
        {"severity": p.severity, "message": p.message, "fix": p.fix, "fixable": p.fixable} for p in report.problems
    ]
    if report.error is not None:
        problems.insert(
            0, {"severity": "problem", "message": report.error.message, "fix": "kt restore", "fixable": False}
        )
    return {
        "store": str(report.path),
        "healthy": report.healthy,
        "readable": report.error is None,
        "schema_version": report.schema_version,
        "txn": report.txn,
        "records": report.records,
        "backups": report.backups,
        "newest_good_backup": report.newest_good.name if report.newest_good else None,
        "problems": problems,
        "fixed": fixed or [],
    }


def personal_data_lines(hits: list[PersonalDataHit]) -> list[str]:
    """Where the scan found what looks like personal data; the text itself is never shown."""
    if not hits:
        return ["Personal data: no free text looks like personal data about a child."]
    in_records = [h for h in hits if not h.where.startswith("t")]
    in_history = [h for h in hits if h.where.startswith("t")]
    lines = [
        f"Personal data: {len(hits)} field{'s' if len(hits) != 1 else ''} look like personal data "
        "(the text is not shown here):"
    ]
    for hit in hits:
        lines.append(f"  {safe(hit.where)} {safe(hit.field)}: {guard_describe(hit.kinds)}")
    if any(not h.where.startswith(("t", "L")) for h in in_records):
        lines.append("  Fix: edit those records to take it out (for example kt action edit A12 --title ...).")
    if any(h.where.startswith("L") for h in in_records) or in_history:
        lines.append(
            "  Fix: progress-log entries and the audit history (t...) cannot be edited. If the text was saved "
            "with --allow-personal-data, kt history shows the reason given. If it must go, the store's owner "
            "exports the plan without it (kt export --format csv) and rebuilds it."
        )
    return lines


def personal_data_json(hits: list[PersonalDataHit]) -> list[dict[str, Any]]:
    return [{"where": h.where, "field": h.field, "kinds": h.kinds} for h in hits]
