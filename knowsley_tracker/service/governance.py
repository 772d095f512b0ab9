"""DfE intervention and improvement partners: the governance around the plan."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any, NamedTuple

from knowsley_tracker.errors import ValidationError
from knowsley_tracker.models import (
    FocusArea,
    Intervention,
    InterventionType,
    Partner,
    PartnerKind,
    Recommendation,
)
from knowsley_tracker.service.session import Session

# -- intervention -------------------------------------------------------------------


def parse_people(pairs: list[str]) -> list[dict[str, str]]:
    """Read ``ROLE=NAME`` pairs such as ``Independent board chair=Jo Example``."""
    people = []
    for pair in pairs:
        role, sep, name = pair.partition("=")
        if not sep or not role.strip() or not name.strip():
            raise ValidationError(
                f'Give each person as ROLE=NAME (e.g. "Improvement adviser=Jo Example"), not {pair!r}.'
            )
        people.append({"role": role.strip(), "name": name.strip()})
    return people


def _guard_people(s: Session, people: list[dict[str, str]]) -> None:
    for person in people:
        s.texts(role=person["role"], name=person["name"])


def add_intervention(
    s: Session,
    type: str,
    *,
    issued: str,
    revised: list[str] | None = None,
    lifted: str | None = None,
    people: list[str] | None = None,
    note: str = "",
) -> Intervention:
    """Record a DfE improvement notice or statutory direction."""
    s.texts(note=note)
    parsed_people = parse_people(people or [])
    _guard_people(s, parsed_people)
    intervention = Intervention(
        type=InterventionType.parse(type, "intervention type"),
        issued=s.parse_date(issued),
        revised=sorted(s.parse_date(r) for r in revised or []),
        lifted=s.optional_date(lifted),
        people=parsed_people,
        note=note.strip(),
    )
    return s.store.add(intervention)


def edit_intervention(
    s: Session,
    ref: str,
    *,
    type: str | None = None,
    issued: str | None = None,
    revised: list[str] | None = None,
    lifted: str | None = None,
    people: list[str] | None = None,
    note: str | None = None,
) -> tuple[Intervention, dict[str, list[Any]]]:
    """Change an intervention: add a revision date, lift it, or update who is involved.

    A person given with a role already listed replaces that role's name."""
    s.texts(note=note)
    current = s.record(Intervention, ref, "kt intervention list")
    merged = [dict(p) for p in current.people]
    new_people = parse_people(people or [])
    _guard_people(s, new_people)
    for person in new_people:
        for existing in merged:
            if existing["role"].casefold() == person["role"].casefold():
                existing["name"] = person["name"]
                break
        else:
            merged.append(person)
    revisions = set(current.revised) | {s.parse_date(r) for r in revised or []}
    updated = Intervention(
        id=current.id,
        type=InterventionType.parse(type, "intervention type") if type else current.type,
        issued=s.parse_date(issued) if issued else current.issued,
        revised=sorted(revisions),
        lifted=s.parse_date(lifted) if lifted else current.lifted,
        people=merged,
        note=note.strip() if note is not None else current.note,
    )
    return updated, s.store.save(updated)


class InterventionView(NamedTuple):
    intervention: Intervention
    in_force: bool
    in_force_for: str  # e.g. "1 year 4 months"; how long it lasted once lifted


def describe_span(start: date, end: date) -> str:
    """``1 year 4 months``, ``5 months``, ``3 weeks`` or ``4 days``."""
    months = (end.year - start.year) * 12 + end.month - start.month - (1 if end.day < start.day else 0)
    if months >= 1:
        years, rest = divmod(months, 12)
        parts = []
        if years:
            parts.append(f"{years} year{'s' if years != 1 else ''}")
        if rest:
            parts.append(f"{rest} month{'s' if rest != 1 else ''}")
        return " ".join(parts)
    days = (end - start).days
    if days >= 14:
        return f"{days // 7} weeks"
    return f"{days} day{'s' if days != 1 else ''}"


def view_intervention(s: Session, intervention: Intervention) -> InterventionView:
    end = intervention.lifted if intervention.lifted is not None else s.today
    in_force = intervention.issued <= s.today and (intervention.lifted is None or intervention.lifted > s.today)
    return InterventionView(intervention, in_force, describe_span(intervention.issued, end))


def list_interventions(s: Session) -> list[InterventionView]:
    items = sorted(s.store.all(Intervention), key=lambda i: (i.issued, i.id))
    return [view_intervention(s, i) for i in items]


def current_intervention(s: Session) -> InterventionView | None:
    """The intervention in force today (the most recently issued, if several)."""
    live = [v for v in list_interventions(s) if v.in_force]
    return live[-1] if live else None


# -- improvement partners --------------------------------------------------------------


def add_partner(
    s: Session,
    name: str,
    *,
    purpose: str,
    start: str,
    end: str | None = None,
    kind: str = "specialist",
    recs: list[str] | None = None,
    focus: list[str] | None = None,
) -> Partner:
    """Record an external specialist or sector-led improvement partner and what they are engaged for."""
    s.texts(name=name, purpose=purpose)
    partner = Partner(
        name=name,
        purpose=purpose,
        start=s.parse_date(start),
        end=s.optional_date(end),
        kind=PartnerKind.parse(kind, "partner kind"),
        rec_ids=[s.recommendation(r).id for r in recs or []],
        focus_ids=[s.focus(f).id for f in focus or []],
    )
    return s.store.add(partner)


def edit_partner(
    s: Session,
    ref: str,
    *,
    name: str | None = None,
    purpose: str | None = None,
    start: str | None = None,
    end: str | None = None,
    kind: str | None = None,
    recs: list[str] | None = None,
    focus: list[str] | None = None,
) -> tuple[Partner, dict[str, list[Any]]]:
    s.texts(name=name, purpose=purpose)
    current = s.record(Partner, ref, "kt partner list")
    updated = replace(
        current,
        name=name if name is not None else current.name,
        purpose=purpose if purpose is not None else current.purpose,
        start=s.parse_date(start) if start else current.start,
        end=s.parse_date(end) if end else current.end,
        kind=PartnerKind.parse(kind, "partner kind") if kind else current.kind,
        rec_ids=[s.recommendation(r).id for r in recs] if recs else current.rec_ids,
        focus_ids=[s.focus(f).id for f in focus] if focus else current.focus_ids,
    )
    if updated.end is not None and updated.end < updated.start:
        raise ValidationError("An engagement cannot end before it starts.")
    return updated, s.store.save(updated)


class PartnerView(NamedTuple):
    partner: Partner
    recs: list[Recommendation]
    areas: list[FocusArea]
    active: bool


def list_partners(s: Session, active_only: bool = False) -> list[PartnerView]:
    recs = {r.id: r for r in s.store.all(Recommendation)}
    areas = {f.id: f for f in s.store.all(FocusArea)}
    out = []
    for p in sorted(s.store.all(Partner), key=lambda p: (p.start, p.id)):
        active = p.start <= s.today and (p.end is None or p.end >= s.today)
        if active_only and not active:
            continue
        out.append(
            PartnerView(
                p, [recs[i] for i in p.rec_ids if i in recs], [areas[i] for i in p.focus_ids if i in areas], active
            )
        )
    return out
