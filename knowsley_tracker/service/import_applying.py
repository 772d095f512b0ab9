"""``kt import`` of a spreadsheet: read the file within the import limits, plan every
row (:mod:`import_planning`), and create what was planned inside the caller's
transaction (so all are saved, or none).
"""

from __future__ import annotations

from knowsley_tracker.models import Action, FocusArea, LogEntry, Owner, Recommendation, Status
from knowsley_tracker.service.import_planning import plan_sheet_import
from knowsley_tracker.service.plan import latest_graded_inspection
from knowsley_tracker.service.planned_records import ImportPlan
from knowsley_tracker.service.session import Session
from knowsley_tracker.service.sheet_reading import ImportLimits, ReadOptions, SheetFile, read_sheet


def import_limits(s: Session) -> ImportLimits:
    """The plan's import limits (settings import.max_rows and import.max_mb)."""

    return ImportLimits(max_rows=s.setting("import.max_rows"), max_mb=s.setting("import.max_mb"))


def import_sheet(
    s: Session,
    source: SheetFile,
    fmt: str,
    options: ReadOptions = ReadOptions(),
    *,
    accept_rag: str | None = None,
    dry_run: bool = False,
) -> ImportPlan:
    """Import a spreadsheet plan (CSV or .xlsx): all rows or none. With ``dry_run`` nothing is written."""
    sheet = read_sheet(source, fmt, options, import_limits(s))
    plan = plan_sheet_import(s, sheet, source.name, accept_rag=accept_rag)
    if not dry_run:
        apply_import(s, plan)
    return plan


def apply_import(s: Session, plan: ImportPlan) -> None:
    """Create what :func:`plan_sheet_import` planned (inside the caller's transaction)."""
    store = s.store
    for area in plan.focus_areas:
        area.id = store.add(FocusArea(key=area.key, name=area.name)).id
    for owner in plan.owners:
        owner.id = store.add(Owner(role=owner.role, name=owner.name)).id
    inspection = latest_graded_inspection(s)
    for rec in plan.recs:
        store.add_with_id(
            Recommendation(
                id=rec.id,
                text=rec.text,
                focus_id=rec.focus.id if rec.focus else None,
                inspection_id=inspection.id if inspection else None,
                report_ref=rec.report_ref,
            )
        )
    stamp = s.stamp()
    for new in plan.actions:
        note = new.log_note
        logged = bool(note or new.rag_override)
        action = Action(
            id=new.id,
            rec_id=new.rec.id,
            title=new.title,
            due=new.due,
            owner_id=new.owner.id if new.owner else None,
            status=new.status,
            progress=new.progress,
            dropped_reason=new.note if new.status is Status.DROPPED else "",
            rag_override=new.rag_override,
            rag_reason=(plan.rag_reason or "") if new.rag_override else "",
            completed_on=s.today if new.status is Status.COMPLETE else None,
            created_at=stamp,
            last_logged_at=stamp if logged else "",
            last_note=note,
        )
        store.add_with_id(action)
        if logged:
            changes = {"rag_override": [None, new.rag_override.value]} if new.rag_override else {}
            store.add(LogEntry(action_id=action.id, at=stamp, by=s.user, note=note, changes=changes))
