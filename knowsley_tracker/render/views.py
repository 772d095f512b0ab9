"""Domain objects turned into tables, detail views and JSON, without Rich.

JSON keeps the stored field names (a stable contract) plus ``ref`` and a few
derived fields such as ``rag``; dates are ISO. Tables show dates the UK way.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from knowsley_tracker.dates import format_date, format_timestamp
from knowsley_tracker.models import (
    JUDGEMENT_AREAS,
    Action,
    Evidence,
    FocusArea,
    Inspection,
    LogEntry,
    Owner,
    Rag,
    Recommendation,
    Record,
)
from knowsley_tracker.rag import rag_label
from knowsley_tracker.render.text import Column, TableView, pct
from knowsley_tracker.render.words import describe_changes
from knowsley_tracker.service.actions import ActionDetail, ActionView

if TYPE_CHECKING:  # annotations only: kt action list need not import these services (about 2.5 ms)
    from knowsley_tracker.service.governance import InterventionView, PartnerView
    from knowsley_tracker.service.plan import RecommendationView
    from knowsley_tracker.service.visits import VisitView


class DetailView:
    """A record shown as labelled fields followed by tables. (A plain class: see render.text.Column.)"""

    __slots__ = ("title", "fields", "tables", "rag")

    def __init__(
        self, title: str, fields: list[tuple[str, str]], tables: list[TableView] | None = None, rag: str = ""
    ) -> None:
        self.title = title
        self.fields = fields
        self.tables: list[TableView] = [] if tables is None else tables
        self.rag = rag


def record_json(record: Record, **extra: Any) -> dict[str, Any]:
    """A record as JSON: ``ref``, ``id`` and its stored fields, plus any extras."""
    out: dict[str, Any] = {"ref": record.ref, "id": record.id}
    out.update(record.to_record())
    out.update(extra)
    return out


# -- actions ---------------------------------------------------------------------


def rag_style(rag: Rag) -> str:
    return f"rag.{rag.value}"


def rec_label(rec: Recommendation) -> str:
    """``R1 (rec 9)``: the tracker's id beside the report's own paragraph number, which boards use."""
    return f"{rec.ref} (rec {rec.report_ref})" if rec.report_ref else rec.ref


def actions_table(views: list[ActionView], title: str = "Actions") -> TableView:
    table = TableView(
        [
            Column("ID", no_wrap=True, priority=0),
            Column("Due", no_wrap=True, priority=1),
            Column("Status", no_wrap=True, priority=4),
            Column("Progress", justify="right", no_wrap=True, priority=5, short="%"),
            Column("RAG", no_wrap=True, priority=2),
            Column("Owner", max_width=28, min_width=16, priority=6),
            Column("Rec", no_wrap=True, priority=7, terminal=False),
            Column("Rec", no_wrap=True, priority=7, piped=False),
            Column("Focus", no_wrap=True, priority=8),
            Column("Title", max_width=60, min_width=30, priority=3),
        ],
        title=title,
        empty="No actions match.",
        more="kt action show ID",
    )
    # A regional list has 3,000 rows but a few hundred distinct dates, owners, recommendations,
    # statuses and RAGs: each is written once and looked up after (same text, a third of the time).
    dates: dict[object, str] = {}
    owners: dict[int, str] = {}
    recs: dict[int, tuple[str, str, str]] = {}
    ratings: dict[tuple[Rag, bool], tuple[str, str]] = {}
    rows = table.rows
    styles = table.row_styles
    for v in views:
        a = v.action
        due = dates.get(a.due)
        if due is None:
            due = dates[a.due] = format_date(a.due, "no due date")
        owner = v.owner
        who = ""
        if owner is not None:
            known = owners.get(owner.id)
            who = known if known is not None else owners.setdefault(owner.id, owner.display)
        rec = v.rec
        rec_cells = ("", "", v.focus.key if v.focus else "")
        if rec is not None:
            found = recs.get(rec.id)
            rec_cells = found if found is not None else recs.setdefault(rec.id, (rec.ref, rec_label(rec), rec_cells[2]))
        rating = v.rating
        shown = ratings.get((rating.rag, rating.overridden))
        if shown is None:
            shown = ratings[(rating.rag, rating.overridden)] = (
                rag_label(rating.rag, rating.overridden),
                rag_style(rating.rag),
            )
        # TableView.add's conversions are not needed: every cell is already a string.
        rows.append(
            [
                a.ref,
                due,
                a.status.value,
                pct(a.progress),
                shown[0],
                who,
                rec_cells[0],
                rec_cells[1],
                rec_cells[2],
                a.title,
            ]
        )
        styles.append({4: shown[1]})
    return table


def action_json(v: ActionView) -> dict[str, Any]:
    return actions_json([v])[0]


def actions_json(views: list[ActionView]) -> list[dict[str, Any]]:
    """Actions as JSON (record_json's fields and extras, written out): the words that
    come from an action's recommendation, owner and RAG are worked out once each, as a
    regional listing has 3,000 actions and a few hundred of those."""
    out: list[dict[str, Any]] = []
    links: dict[tuple[int, int], dict[str, Any]] = {}  # (recommendation id, owner id) -> fields
    rags: dict[Rag, str] = {}
    for v in views:
        action, owner, rating, rec = v.action, v.owner, v.rating, v.rec
        key = (rec.id if rec else 0, owner.id if owner else 0)
        linked = links.get(key)
        if linked is None:
            linked = links[key] = {
                "rec": rec.ref if rec else None,
                "focus": v.focus.key if v.focus else None,
                "owner": owner.display if owner else None,
                "owner_ref": owner.ref if owner else None,
            }
        rag, computed = rating.rag, rating.computed
        # The stored fields' own fresh dict, the rest added to it (the output sorts its keys).
        item = action.to_record()
        item["ref"] = action.ref
        item["id"] = action.id
        item.update(linked)
        item["rag"] = rags.get(rag) or rags.setdefault(rag, rag.value)
        item["rag_computed"] = rags.get(computed) or rags.setdefault(computed, computed.value)
        item["rag_why"] = rating.reason
        item["evidence_count"] = v.evidence_count
        out.append(item)
    return out


def log_table(entries: list[LogEntry], title: str = "Progress log") -> TableView:
    table = TableView(
        [
            Column("When", no_wrap=True, priority=0),
            Column("By", max_width=24, priority=3),
            Column("Change", max_width=40, min_width=20, priority=1),
            Column("Note", max_width=70, min_width=24, priority=2),
        ],
        title=title,
        empty="No log entries yet.",
    )
    for e in entries:
        table.add([format_timestamp(e.at), e.by, describe_changes(e.changes), e.note])
    return table


def evidence_table(items: list[tuple[Evidence, Action | None]], title: str = "Evidence") -> TableView:
    table = TableView(
        [
            Column("ID"),
            Column("Action"),
            Column("Date"),
            Column("Kind"),
            Column("Title", max_width=50),
            Column("Link", max_width=40),
        ],
        title=title,
        empty="No evidence yet.",
    )
    for e, action in items:
        table.add(
            [e.ref, action.ref if action else f"A{e.action_id}", format_date(e.date), e.kind.value, e.title, e.link]
        )
    return table


def evidence_json(e: Evidence, action: Action | None) -> dict[str, Any]:
    return record_json(e, action=action.ref if action else f"A{e.action_id}")


def action_detail(d: ActionDetail) -> DetailView:
    v = d.view
    a = v.action
    due = format_date(a.due, "no due date")
    if a.has_slipped:
        due += f" (first agreed {format_date(a.original_due)})"
    rating = rag_label(v.rating.rag, v.rating.overridden) + f" - {v.rating.reason}"
    if v.rating.overridden:
        rating += f" (rules say {v.rating.computed.label})"
    fields = [
        ("Action", a.title),
        ("Recommendation", f"{rec_label(v.rec)} {v.rec.short}" if v.rec else ""),
        ("Focus area", f"{v.focus.key} {v.focus.name}" if v.focus else ""),
        ("Owner", v.owner.display if v.owner else "(none)"),
        ("Due", due),
        ("Status", a.status.value + (f" - {a.dropped_reason}" if a.dropped_reason else "")),
        ("Progress", pct(a.progress)),
        ("RAG", rating),
        ("Success measure", a.success_measure),
        ("Completed", format_date(a.completed_on)),
    ]
    tables = [log_table(d.log), evidence_table([(e, a) for e in d.evidence])]
    return DetailView(f"{a.ref}", fields, tables, rag=rag_style(v.rating.rag))


def action_detail_json(d: ActionDetail) -> dict[str, Any]:
    out = action_json(d.view)
    out["log"] = [record_json(e) for e in d.log]
    out["evidence"] = [record_json(e) for e in d.evidence]
    return out


# -- plan structure -----------------------------------------------------------------


def inspections_table(items: list[Inspection]) -> TableView:
    table = TableView(
        [Column("ID"), Column("Start"), Column("Type"), Column("Framework"), Column("Judgement"), Column("Published")],
        title="Inspections",
        empty="No inspections recorded yet (kt inspection add).",
    )
    for i in items:
        table.add(
            [
                i.ref,
                format_date(i.start),
                i.type.label,
                i.framework.value if i.framework else "",
                i.judgement.label if i.judgement else "not graded",
                format_date(i.published),
            ],
            {4: f"judgement.{i.judgement.value}" if i.judgement else ""},
        )
    return table


def inspection_detail(i: Inspection, extra: list[tuple[str, str]] | None = None) -> DetailView:
    on_site = format_date(i.start) + (f" to {format_date(i.end)}" if i.end else "")
    fields = [
        ("Type", i.type.label),
        ("Title", i.title),
        ("On site", on_site),
        ("Published", format_date(i.published)),
        ("Framework", i.framework.label if i.framework else ""),
        ("Overall", i.judgement.label if i.judgement else "not graded"),
        ("Report", i.report_url),
        ("Notes", i.notes),
    ]
    if i.action_plan_due is not None:
        fields.append(("Action plan due", f"{format_date(i.action_plan_due)} (70 working days after the report)"))
        fields.append(("Action plan sent", format_date(i.action_plan_sent) or "not yet"))
    fields += extra or []
    tables = []
    if i.framework is not None and i.type.is_graded:
        areas = TableView(
            [Column("Area"), Column("Judgement")], title="Judgements", empty="No area judgements recorded."
        )
        for key, heading in JUDGEMENT_AREAS[i.framework].items():
            judgement = i.areas.get(key)
            areas.add(
                [f"{heading} ({key})", judgement.label if judgement else "not recorded"],
                {1: f"judgement.{judgement.value}" if judgement else ""},
            )
        tables.append(areas)
    return DetailView(f"{i.ref} {i.type.label}, {format_date(i.start)}", fields, tables)


def focus_table(items: list[FocusArea], counts: dict[int, tuple[int, int]] | None = None) -> TableView:
    table = TableView(
        [
            Column("Key"),
            Column("Name", max_width=50),
            Column("Lead", max_width=40),
            Column("Recs", justify="right"),
            Column("Actions", justify="right"),
        ],
        title="Focus areas",
        empty="No focus areas yet (kt focus add).",
    )
    for f in items:
        recs, actions = (counts or {}).get(f.id, (0, 0))
        table.add([f.key, f.name, f.lead, recs, actions])
    return table


def owners_table(items: list[Owner], owned: dict[int, int] | None = None) -> TableView:
    table = TableView(
        [
            Column("ID"),
            Column("Role", max_width=40),
            Column("Name"),
            Column("Email"),
            Column("Active"),
            Column("Open actions", justify="right"),
        ],
        title="Owners",
        empty="No owners yet (kt owner add).",
    )
    for o in items:
        table.add([o.ref, o.role, o.name, o.email, "yes" if o.active else "no", (owned or {}).get(o.id, 0)])
    return table


def recs_table(items: list[RecommendationView]) -> TableView:
    table = TableView(
        [
            Column("ID"),
            Column("Report ref"),
            Column("Focus"),
            Column("Actions", justify="right"),
            Column("Complete", justify="right"),
            Column("Recommendation", max_width=70),
        ],
        title="Recommendations",
        empty="No recommendations yet (kt rec add).",
    )
    for r in items:
        done = sum(1 for a in r.actions if not a.status.is_open)
        table.add([r.rec.ref, r.rec.report_ref, r.focus.key if r.focus else "", len(r.actions), done, r.rec.short])
    return table


def rec_json(r: RecommendationView) -> dict[str, Any]:
    return record_json(
        r.rec,
        focus=r.focus.key if r.focus else None,
        inspection=r.inspection.ref if r.inspection else None,
        actions=[a.ref for a in r.actions],
    )


def rec_detail(r: RecommendationView, action_views: list[ActionView]) -> DetailView:
    fields = [
        ("Recommendation", r.rec.text),
        ("Report ref", r.rec.report_ref),
        ("Summary", r.rec.summary),
        ("Focus area", f"{r.focus.key} {r.focus.name}" if r.focus else ""),
        (
            "Inspection",
            f"{r.inspection.ref} {r.inspection.type.label}, {format_date(r.inspection.start)}" if r.inspection else "",
        ),
    ]
    return DetailView(rec_label(r.rec), fields, [actions_table(action_views, title="Actions")])


# -- visits -------------------------------------------------------------------------


def visits_table(items: list[VisitView]) -> TableView:
    table = TableView(
        [
            Column("ID"),
            Column("No.", justify="right"),
            Column("Date"),
            Column("Days to go", justify="right", short="Days"),
            Column("Type"),
            Column("Status"),
            Column("Themes", max_width=30),
            Column("Outcome", max_width=50),
        ],
        title="Visits",
        empty="No visits recorded yet (kt visit add).",
    )
    for v in items:
        table.add(
            [
                v.visit.ref,
                v.number if v.number is not None else "",
                format_date(v.visit.date),
                v.days_to_go if v.days_to_go is not None else "",
                v.visit.type.label,
                v.visit.status.value,
                ", ".join(t.key for t in v.themes),
                v.visit.outcome,
            ]
        )
    return table


def visit_json(v: VisitView) -> dict[str, Any]:
    return record_json(v.visit, number=v.number, days_to_go=v.days_to_go, theme_keys=[t.key for t in v.themes])


# -- governance ----------------------------------------------------------------------


def interventions_table(items: list[InterventionView]) -> TableView:
    table = TableView(
        [
            Column("ID"),
            Column("Type"),
            Column("Issued"),
            Column("Revised"),
            Column("Lifted"),
            Column("In force"),
            Column("People", max_width=50),
        ],
        title="DfE intervention",
        empty="No DfE intervention recorded (kt intervention add).",
    )
    for v in items:
        i = v.intervention
        table.add(
            [
                i.ref,
                i.type.label,
                format_date(i.issued),
                ", ".join(format_date(d) for d in i.revised),
                format_date(i.lifted),
                f"yes, {v.in_force_for}" if v.in_force else f"no (lasted {v.in_force_for})" if i.lifted else "not yet",
                "; ".join(f"{p['role']}: {p['name']}" for p in i.people),
            ]
        )
    return table


def intervention_json(v: InterventionView) -> dict[str, Any]:
    return record_json(v.intervention, in_force=v.in_force, in_force_for=v.in_force_for)


def partners_table(items: list[PartnerView]) -> TableView:
    table = TableView(
        [
            Column("ID", priority=0),
            Column("Partner", max_width=30, min_width=20),
            Column("Kind"),
            Column("Engaged for", max_width=50),
            Column("From"),
            Column("To"),
            Column("Addresses", max_width=30),
            Column("Active"),
        ],
        title="Improvement partners",
        empty="No improvement partners recorded (kt partner add).",
    )
    for v in items:
        p = v.partner
        links = [r.ref for r in v.recs] + [f.key for f in v.areas]
        table.add(
            [
                p.ref,
                p.name,
                p.kind.value,
                p.purpose,
                format_date(p.start),
                format_date(p.end),
                ", ".join(links),
                "yes" if v.active else "no",
            ]
        )
    return table


def partner_json(v: PartnerView) -> dict[str, Any]:
    return record_json(v.partner, recs=[r.ref for r in v.recs], focus=[f.key for f in v.areas], active=v.active)
