"""Monitoring visits (and other Ofsted visits) the plan is working towards."""

from __future__ import annotations

from dataclasses import replace
from typing import Any, NamedTuple

from knowsley_tracker.errors import ValidationError
from knowsley_tracker.models import FocusArea, InspectionType, Visit, VisitStatus
from knowsley_tracker.service import removal
from knowsley_tracker.service.removal import Removed
from knowsley_tracker.service.session import Session


class VisitView(NamedTuple):
    visit: Visit
    themes: list[FocusArea]
    days_to_go: int | None  # None once the visit is done or in the past
    number: int | None  # 1 for the first monitoring visit, and so on


def add_visit(
    s: Session,
    when: str,
    *,
    type: str = "monitoring-visit",
    themes: list[str] | None = None,
    status: str = "expected",
    outcome: str = "",
) -> Visit:
    """Record a visit: expected, confirmed or done."""
    s.texts(outcome=outcome)
    visit = Visit(
        date=s.parse_date(when),
        type=InspectionType.parse(type, "visit type"),
        status=VisitStatus.parse(status, "visit status"),
        themes=[s.focus(t).id for t in themes or []],
        outcome=outcome.strip(),
    )
    return s.store.add(visit)


def edit_visit(
    s: Session,
    ref: str,
    *,
    when: str | None = None,
    type: str | None = None,
    themes: list[str] | None = None,
    status: str | None = None,
    outcome: str | None = None,
) -> tuple[Visit, dict[str, list[Any]]]:
    s.texts(outcome=outcome)
    visit = s.visit(ref)
    updated = replace(
        visit,
        date=s.parse_date(when) if when else visit.date,
        type=InspectionType.parse(type, "visit type") if type else visit.type,
        themes=[s.focus(t).id for t in themes] if themes else visit.themes,
        status=VisitStatus.parse(status, "visit status") if status else visit.status,
        outcome=outcome.strip() if outcome is not None else visit.outcome,
    )
    return updated, s.store.save(updated)


def remove_visit(s: Session, visit_id: int) -> Removed[Visit]:
    return removal.remove(s.store, s.store.get(Visit, visit_id))


def view_visits(s: Session, visits: list[Visit]) -> list[VisitView]:
    areas = {f.id: f for f in s.store.all(FocusArea)}
    monitoring = sorted(
        (v for v in s.store.all(Visit) if v.type is InspectionType.MONITORING_VISIT), key=lambda v: (v.date, v.id)
    )
    numbers = {v.id: n for n, v in enumerate(monitoring, start=1)}
    out = []
    for visit in sorted(visits, key=lambda v: (v.date, v.id)):
        days = (visit.date - s.today).days
        upcoming = visit.status is not VisitStatus.DONE and days >= 0
        themes = [areas[t] for t in visit.themes if t in areas]
        out.append(VisitView(visit, themes, days if upcoming else None, numbers.get(visit.id)))
    return out


def list_visits(s: Session, upcoming_only: bool = False) -> list[VisitView]:
    views = view_visits(s, s.store.all(Visit))
    return [v for v in views if v.days_to_go is not None] if upcoming_only else views


def next_visit(s: Session) -> VisitView | None:
    upcoming = list_visits(s, upcoming_only=True)
    return upcoming[0] if upcoming else None


def project_visits(s: Session, *, count: int = 3, every_months: int | None = None) -> list[Visit]:
    """Replace projected monitoring visits with ``count`` new ones, spaced from the last real one.

    Inadequate councils are visited every few months (4 to 6 in recent cases),
    so the next visits can be pencilled in; they stay 'projected' until confirmed.
    """
    from knowsley_tracker.dates import add_months
    from knowsley_tracker.models import Inspection, Judgement

    if not 1 <= count <= 12:
        raise ValidationError("Project between 1 and 12 visits.")
    interval = every_months if every_months is not None else s.setting("visit_interval_months")
    if not 1 <= interval <= 24:
        raise ValidationError("Visits are projected 1 to 24 months apart.")
    monitoring = [v for v in s.store.all(Visit) if v.type is InspectionType.MONITORING_VISIT]
    for old in monitoring:
        if old.status is VisitStatus.PROJECTED:
            s.store.delete(Visit, old.id)
    real = [v.date for v in monitoring if v.status is not VisitStatus.PROJECTED]
    if real:
        base = max(real)
    else:
        inadequate = [i for i in s.store.all(Inspection) if i.judgement is Judgement.INADEQUATE]
        if not inadequate:
            raise ValidationError(
                "Nothing to project from: record a monitoring visit (kt visit add) or an inadequate inspection first."
            )
        base = max(i.report_date for i in inadequate)
    return [
        s.store.add(Visit(date=add_months(base, interval * n), status=VisitStatus.PROJECTED))
        for n in range(1, count + 1)
    ]
