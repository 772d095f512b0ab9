"""The shape of the plan: inspections, focus areas, owners and recommendations."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import NamedTuple

from knowsley_tracker.errors import ConflictError, ValidationError
from knowsley_tracker.models import (
    JUDGEMENT_AREAS,
    Action,
    FocusArea,
    Framework,
    Inspection,
    InspectionType,
    Judgement,
    Owner,
    Recommendation,
)
from knowsley_tracker.service import removal
from knowsley_tracker.service.removal import Removed
from knowsley_tracker.service.session import Session
from knowsley_tracker.workdays import action_plan_deadline

# -- inspections ---------------------------------------------------------------


def parse_area_judgements(pairs: list[str], framework: Framework) -> dict[str, Judgement]:
    """Read ``AREA=JUDGEMENT`` pairs such as ``leaders=inadequate``."""
    areas: dict[str, Judgement] = {}
    valid = JUDGEMENT_AREAS[framework]
    for pair in pairs:
        key, sep, value = pair.partition("=")
        key = key.strip().lower()
        if not sep or not value.strip():
            raise ValidationError(f"Give each area as AREA=JUDGEMENT (e.g. leaders=inadequate), not {pair!r}.")
        if key not in valid:
            raise ValidationError(f"Unknown judgement area {key!r} for {framework.label}: use {', '.join(valid)}.")
        areas[key] = Judgement.parse(value, "judgement")
    return areas


def add_inspection(
    s: Session,
    *,
    start: str,
    type: str = "standard",
    end: str | None = None,
    published: str | None = None,
    framework: str | None = None,
    judgement: str | None = None,
    areas: list[str] | None = None,
    title: str = "",
    report_url: str = "",
    notes: str = "",
    action_plan_sent: str | None = None,
) -> Inspection:
    """Record an inspection or visit and its judgements."""
    s.texts(title=title, notes=notes)
    start_day = s.parse_date(start)
    kind = InspectionType.parse(type, "inspection type")
    scheme = Framework.parse(framework, "framework") if framework else Framework.in_force_on(start_day)
    inspection = Inspection(
        start=start_day,
        type=kind,
        framework=scheme,
        end=s.optional_date(end),
        published=s.optional_date(published),
        judgement=Judgement.parse(judgement, "judgement") if judgement else None,
        areas=parse_area_judgements(areas or [], scheme),
        title=title.strip(),
        report_url=report_url.strip(),
        notes=notes.strip(),
    )
    if kind.is_graded and inspection.judgement is None:
        raise ValidationError(f"A {kind.label.lower()} needs an overall judgement (--judgement inadequate, good, ...).")
    _set_action_plan_due(inspection)
    if action_plan_sent:
        if inspection.action_plan_due is None:
            raise ValidationError("Only an inadequate judgement needs an action plan sent to Ofsted.")
        inspection.action_plan_sent = s.parse_date(action_plan_sent)
    return s.store.add(inspection)


def _set_action_plan_due(inspection: Inspection, override: date | None = None) -> None:
    """After an inadequate judgement the action plan is due 70 working days after the report."""
    if override is not None:
        inspection.action_plan_due = override
    elif inspection.judgement is Judgement.INADEQUATE:
        inspection.action_plan_due = action_plan_deadline(inspection.report_date)
    else:
        inspection.action_plan_due = None


def edit_inspection(
    s: Session,
    ref: str,
    *,
    end: str | None = None,
    published: str | None = None,
    judgement: str | None = None,
    areas: list[str] | None = None,
    title: str | None = None,
    report_url: str | None = None,
    notes: str | None = None,
    action_plan_due: str | None = None,
    action_plan_sent: str | None = None,
) -> tuple[Inspection, dict[str, list[object]]]:
    """Correct an inspection, or record when its action plan was sent."""
    s.texts(title=title, notes=notes)
    inspection = get_inspection(s, ref)
    assert inspection.framework is not None
    merged_areas = dict(inspection.areas)
    merged_areas.update(parse_area_judgements(areas or [], inspection.framework))
    updated = Inspection(
        id=inspection.id,
        start=inspection.start,
        type=inspection.type,
        framework=inspection.framework,
        end=s.parse_date(end) if end else inspection.end,
        published=s.parse_date(published) if published else inspection.published,
        judgement=Judgement.parse(judgement, "judgement") if judgement else inspection.judgement,
        areas=merged_areas,
        title=title.strip() if title is not None else inspection.title,
        report_url=report_url.strip() if report_url is not None else inspection.report_url,
        notes=notes.strip() if notes is not None else inspection.notes,
        action_plan_due=inspection.action_plan_due,
        action_plan_sent=s.parse_date(action_plan_sent) if action_plan_sent else inspection.action_plan_sent,
    )
    if action_plan_due:
        _set_action_plan_due(updated, s.parse_date(action_plan_due))
    elif end or published or judgement:
        _set_action_plan_due(updated)
    return updated, s.store.save(updated)


class ActionPlanDeadline(NamedTuple):
    inspection: Inspection
    due: date
    sent: date | None
    days_left: int


def action_plan_deadlines(s: Session) -> list[ActionPlanDeadline]:
    """Statutory action-plan deadlines of inadequate judgements, latest first."""
    found = [
        ActionPlanDeadline(i, i.action_plan_due, i.action_plan_sent, (i.action_plan_due - s.today).days)
        for i in s.store.all(Inspection)
        if i.action_plan_due is not None
    ]
    return sorted(found, key=lambda d: d.due, reverse=True)


def list_inspections(s: Session) -> list[Inspection]:
    return sorted(s.store.all(Inspection), key=lambda i: (i.start, i.id))


def get_inspection(s: Session, ref: str) -> Inspection:
    return s.record(Inspection, ref, "kt inspection list")


def latest_graded_inspection(s: Session) -> Inspection | None:
    graded = [i for i in s.store.all(Inspection) if i.judgement is not None]
    return max(graded, key=lambda i: (i.start, i.id), default=None)


# -- focus areas ---------------------------------------------------------------


def add_focus(
    s: Session, key: str, name: str, lead_role: str = "", lead_name: str = "", description: str = ""
) -> FocusArea:
    """Add a focus area; keys are unique, ignoring case."""
    s.texts(name=name, lead=lead_role, lead_name=lead_name, description=description)
    area = FocusArea(
        key=key, name=name, lead_role=lead_role.strip(), lead_name=lead_name.strip(), description=description.strip()
    )
    for existing in s.store.all(FocusArea):
        if existing.key == area.key:
            raise ConflictError(f"Focus area {area.key} already exists ({existing.name}).")
    return s.store.add(area)


def edit_focus(
    s: Session,
    key: str,
    *,
    new_key: str | None = None,
    name: str | None = None,
    lead_role: str | None = None,
    lead_name: str | None = None,
    description: str | None = None,
) -> tuple[FocusArea, dict[str, list[object]]]:
    s.texts(name=name, lead=lead_role, lead_name=lead_name, description=description)
    area = s.focus(key)
    updated = replace(
        area,
        key=new_key if new_key is not None else area.key,
        name=name if name is not None else area.name,
        lead_role=lead_role.strip() if lead_role is not None else area.lead_role,
        lead_name=lead_name.strip() if lead_name is not None else area.lead_name,
        description=description.strip() if description is not None else area.description,
    )
    if updated.key != area.key and any(f.key == updated.key for f in s.store.all(FocusArea)):
        raise ConflictError(f"Focus area {updated.key} already exists.")
    return updated, s.store.save(updated)


def remove_focus(s: Session, area_id: int) -> Removed[FocusArea]:
    """Remove a focus area, as its relations declare (refused while recommendations,
    KPIs or visits refer to it)."""
    return removal.remove(s.store, s.store.get(FocusArea, area_id))


# -- owners --------------------------------------------------------------------


def add_owner(s: Session, role: str, name: str = "", email: str = "") -> Owner:
    s.texts(role=role, name=name)
    owner = Owner(role=role, name=name, email=email)
    for existing in s.store.all(Owner):
        if (
            existing.active
            and existing.role.casefold() == owner.role.casefold()
            and existing.name.casefold() == owner.name.casefold()
        ):
            raise ConflictError(f"Owner {existing.ref} ({existing.display}) already exists.")
    return s.store.add(owner)


def edit_owner(
    s: Session,
    ref: str,
    *,
    role: str | None = None,
    name: str | None = None,
    email: str | None = None,
    active: bool | None = None,
    login: str | None = None,
) -> tuple[Owner, dict[str, list[object]]]:
    """Change an owner; ``login`` links it to a database login ("" unlinks)."""
    s.texts(role=role, name=name)
    if login is not None and login.strip() and (len(login.strip().encode()) > 63 or not login.strip().isprintable()):
        raise ValidationError(f"{login!r} is not a database login name.")
    owner = s.owner(ref)
    updated = replace(
        owner,
        role=role if role is not None else owner.role,
        name=name if name is not None else owner.name,
        email=email if email is not None else owner.email,
        active=active if active is not None else owner.active,
        login=login.strip() if login is not None else owner.login,
    )
    return updated, s.store.save(updated)


def remove_owner(s: Session, owner_id: int) -> Removed[Owner]:
    """Remove an owner who owns no actions."""
    return removal.remove(s.store, s.store.get(Owner, owner_id))


def list_owners(s: Session, include_inactive: bool = True) -> list[Owner]:
    return [o for o in s.store.all(Owner) if include_inactive or o.active]


# -- recommendations -------------------------------------------------------------


def add_recommendation(
    s: Session,
    text: str,
    *,
    focus: str | None = None,
    inspection: str | None = None,
    report_ref: str = "",
    summary: str = "",
) -> Recommendation:
    """Record one of the report's recommendations (its text as printed)."""
    s.texts(text=text, summary=summary)
    rec = Recommendation(
        text=text,
        focus_id=s.focus(focus).id if focus else None,
        inspection_id=get_inspection(s, inspection).id if inspection else _default_inspection(s),
        report_ref=report_ref,
        summary=summary,
    )
    return s.store.add(rec)


def _default_inspection(s: Session) -> int | None:
    latest = latest_graded_inspection(s)
    return latest.id if latest else None


def edit_recommendation(
    s: Session,
    ref: str,
    *,
    text: str | None = None,
    focus: str | None = None,
    inspection: str | None = None,
    report_ref: str | None = None,
    summary: str | None = None,
) -> tuple[Recommendation, dict[str, list[object]]]:
    s.texts(text=text, summary=summary)
    rec = s.recommendation(ref)
    updated = replace(
        rec,
        text=text if text is not None else rec.text,
        focus_id=s.focus(focus).id if focus else rec.focus_id,
        inspection_id=get_inspection(s, inspection).id if inspection else rec.inspection_id,
        report_ref=report_ref if report_ref is not None else rec.report_ref,
        summary=summary if summary is not None else rec.summary,
    )
    return updated, s.store.save(updated)


def remove_recommendation(s: Session, rec_id: int) -> Removed[Recommendation]:
    """Remove a recommendation no action or KPI refers to; partners' links to it are cleared."""
    return removal.remove(s.store, s.store.get(Recommendation, rec_id))


class RecommendationView(NamedTuple):
    rec: Recommendation
    focus: FocusArea | None
    inspection: Inspection | None
    actions: list[Action]


def list_recommendations(s: Session, focus: str | None = None) -> list[RecommendationView]:
    areas = {f.id: f for f in s.store.all(FocusArea)}
    inspections = {i.id: i for i in s.store.all(Inspection)}
    by_rec: dict[int, list[Action]] = {}
    for action in s.store.all(Action):
        by_rec.setdefault(action.rec_id, []).append(action)
    wanted = s.focus(focus).id if focus else None
    return [
        RecommendationView(
            rec,
            areas.get(rec.focus_id) if rec.focus_id else None,
            inspections.get(rec.inspection_id) if rec.inspection_id else None,
            by_rec.get(rec.id, []),
        )
        for rec in s.store.all(Recommendation)
        if wanted is None or rec.focus_id == wanted
    ]


def show_recommendation(s: Session, ref: str) -> RecommendationView:
    rec = s.recommendation(ref)
    return RecommendationView(
        rec,
        s.store.find(FocusArea, rec.focus_id) if rec.focus_id else None,
        s.store.find(Inspection, rec.inspection_id) if rec.inspection_id else None,
        [a for a in s.store.all(Action) if a.rec_id == rec.id],
    )


def list_focus_areas(s: Session) -> list[FocusArea]:
    return s.store.all(FocusArea)
