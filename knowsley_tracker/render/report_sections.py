"""The report's sections as tables: the position at a glance, focus areas, readiness by
recommendation, exceptions, movement since the last board, the KPI scorecard and the
improvement partners, each a :class:`~knowsley_tracker.render.report_layout.Section`."""

from __future__ import annotations

from knowsley_tracker.dates import format_date, format_period, in_days
from knowsley_tracker.models import Rag
from knowsley_tracker.rag import Rollup, rag_label
from knowsley_tracker.render.report_layout import (
    Cell,
    Col,
    Section,
    Table,
    comparators_text,
    kpi_links,
    kpi_met_text,
    kpi_name,
    plural,
    rag_mix,
    rec_label,
    target_text,
    trend_text,
)
from knowsley_tracker.render.text import pct
from knowsley_tracker.reports import DUE_SOON_DAYS, Movement, RecRow, Report
from knowsley_tracker.service.governance import InterventionView
from knowsley_tracker.service.plan import ActionPlanDeadline

# -- the header ---------------------------------------------------------------------------------


def header_fields(report: Report) -> list[tuple[str, str]]:
    h = report.header
    if h.inspection is None:
        inspection = "none recorded (kt inspection add)"
    else:
        i = h.inspection
        judgement = i.judgement.label if i.judgement else "not graded"
        when = f"published {format_date(i.published)}" if i.published else f"from {format_date(i.start)}"
        inspection = f"{judgement} ({i.type.label.lower()}, {when})"
    if h.next_visit is None:
        visit = "none expected (kt visit add)"
    else:
        v = h.next_visit
        days = v.days_to_go or 0
        number = f", visit {v.number}" if v.number else ""
        visit = f"{format_date(v.visit.date)}, {in_days(days)} ({v.visit.status.value}{number})"
    fields = [
        ("Authority", h.authority),
        ("Latest inspection", inspection),
        ("Next monitoring visit", visit),
        ("Report date", format_date(h.report_date)),
    ]
    if h.intervention is not None:
        fields.append(("DfE intervention", intervention_text(h.intervention)))
    if h.action_plan is not None:
        fields.append(("Action plan to Ofsted", action_plan_text(h.action_plan)))
    if h.focus is not None:
        fields.append(("Focus area", f"{h.focus.key} {h.focus.name}"))
    return fields


def intervention_text(v: InterventionView) -> str:
    """``Improvement notice since 10 Mar 2025 (8 months; revised 1 Sep 2025). Adviser: ...``"""
    i = v.intervention
    details = [v.in_force_for]
    if i.revised:
        details.append("revised " + ", ".join(format_date(d) for d in i.revised))
    text = f"{i.type.label} since {format_date(i.issued)} ({'; '.join(details)})"
    if i.people:
        text += ". " + "; ".join(f"{p['role']}: {p['name']}" for p in i.people)
    return text


def action_plan_text(d: ActionPlanDeadline) -> str:
    """When the statutory action plan was sent, or how long is left to send it."""
    due = format_date(d.due)
    if d.sent is not None:
        return f"sent {format_date(d.sent)} (due {due})"
    if d.days_left < 0:
        return f"due {due}, {plural(-d.days_left, 'day')} ago; not recorded as sent"
    return f"due {due}, {in_days(d.days_left)} (70 working days after the report)"


# -- sections ---------------------------------------------------------------------------------------


# The focus-area table's RAG columns, in order: together they add up to its Actions column.
ROLLUP_RAGS = (Rag.RED, Rag.AMBER, Rag.GREEN, Rag.COMPLETE, Rag.BLUE)


def _rollup_cells(roll: Rollup) -> list[Cell]:
    return [
        Cell(str(roll.actions)),
        Cell(str(roll.overdue), Rag.RED if roll.overdue else None),
        *(Cell(str(roll.count(rag)), rag if roll.count(rag) else None) for rag in ROLLUP_RAGS),
        Cell(pct(roll.progress), progress=roll.progress if roll.progress is not None else None),
    ]


def focus_section(report: Report) -> Section:
    table = Table(
        "",
        [Col("Key"), Col("Focus area"), Col("Recs", True), Col("Actions", True), Col("Overdue", True)]
        + [Col(rag_label(rag), True) for rag in ROLLUP_RAGS]
        + [Col("Progress")],
        empty="No focus areas yet (kt focus add).",
        note="Red, Amber, Green, Complete and Blue add up to Actions. Complete: complete, no evidence yet; "
        "Blue: complete with evidence. Progress: the average of the actions, complete counting as 100%; "
        "dropped actions are left out.",
    )
    for row in report.focus_areas:
        table.add(Cell(row.key), Cell(row.name), Cell(str(row.recs)), *_rollup_cells(row.rollup))
    if report.header.focus is None and len(report.focus_areas) > 1:
        recs = sum(r.recs for r in report.focus_areas)
        table.total = [Cell(""), Cell("All focus areas"), Cell(str(recs)), *_rollup_cells(report.totals)]
    return Section("focus-areas", "Focus areas", tables=[table])


def _rec_cells(row: RecRow) -> list[Cell]:
    rag = row.rollup.rag
    days = "never" if row.days_since_update is None else str(row.days_since_update)
    return [
        Cell(rec_label(row.rec)),
        Cell(row.rec.short),
        Cell(row.focus.key if row.focus else "-"),
        Cell(row.status),
        Cell(rag_label(rag) or "-", rag),
        Cell(rag_mix(row.rollup)),
        Cell(pct(row.rollup.progress)),
        Cell(str(row.evidence)),
        Cell(days),
        Cell(kpi_links(row.kpis)),
        Cell("; ".join(row.gaps) or "none"),
    ]


def readiness_section(report: Report) -> Section:
    table = Table(
        "",
        [Col("Rec"), Col("Recommendation"), Col("Focus"), Col("Status"), Col("RAG"), Col("Actions")]
        + [Col("Progress", True), Col("Evidence", True), Col("Days since update", True), Col("KPIs"), Col("Gaps")],
        empty="No recommendations yet (kt rec add).",
    )
    for row in report.recommendations:
        table.add(*_rec_cells(row))
    return Section("readiness", "Readiness by recommendation", tables=[table])


def exceptions_section(report: Report) -> Section:
    red = Table(
        "Red or overdue",
        [Col("Action"), Col("Title"), Col("Owner"), Col("Due"), Col("Status"), Col("Progress", True)]
        + [Col("RAG"), Col("Why"), Col("Latest note")],
        empty="No red or overdue actions.",
    )
    for line in report.exceptions:
        a = line.action
        red.add(
            a.ref,
            a.title,
            line.owner or "-",
            format_date(a.due, "no due date"),
            a.status.value,
            f"{a.progress}%",
            Cell(line.rag, line.view.rating.rag),
            line.why,
            a.last_note or "-",
        )
    soon = Table(
        f"Due in the next {DUE_SOON_DAYS} days",
        [Col("Action"), Col("Title"), Col("Owner"), Col("Due"), Col("When"), Col("Progress", True), Col("RAG")],
        empty=f"No other open actions are due in the next {DUE_SOON_DAYS} days.",
    )
    for line in report.due_soon:
        a = line.action
        soon.add(
            a.ref,
            a.title,
            line.owner or "-",
            format_date(a.due, "no due date"),
            in_days(line.days_to_due),
            f"{a.progress}%",
            Cell(line.rag, line.view.rating.rag),
        )
    return Section("exceptions", "Exceptions", tables=[red, soon])


def movement_intro(m: Movement) -> str:
    how = "frozen on the day" if m.method == "current" else "rebuilt from the progress log"
    if m.board is not None:
        return f"Since board {m.board.ref} on {format_date(m.since)} (snapshot {how})."
    return f"Since {format_date(m.since)} (the plan as it stood then, {how})."


def movement_section(report: Report) -> Section:
    m = report.movement
    if m is None:
        return Section(
            "movement",
            "Since the last board",
            intro="No board meeting before today is recorded: record one with kt board add DATE.",
        )
    changes = Table("RAG changes", [Col("Action"), Col("Title"), Col("Was"), Col("Now"), Col("Why")])
    for c in m.rag_changes:
        changes.add(
            c.view.action.ref,
            c.view.action.title,
            Cell(c.before_label, c.before.rag),
            Cell(c.after_label, c.view.rating.rag),
            c.reason,
        )
    completed = Table("Completed", [Col("Action"), Col("Title"), Col("Completed"), Col("RAG")])
    for v in m.completed:
        completed.add(
            v.action.ref,
            v.action.title,
            format_date(v.action.completed_on, "-"),
            Cell(rag_label(v.rating.rag), v.rating.rag),
        )
    new = Table("New actions", [Col("Action"), Col("Title"), Col("Due"), Col("RAG")])
    for v in m.new_actions:
        new.add(
            v.action.ref,
            v.action.title,
            format_date(v.action.due, "no due date"),
            Cell(rag_label(v.rating.rag, v.rating.overridden), v.rating.rag),
        )
    slipped = Table("Due dates slipped", [Col("Action"), Col("Title"), Col("Was due"), Col("Now due"), Col("Reason")])
    for s in m.slipped:
        slipped.add(
            s.view.action.ref,
            s.view.action.title,
            format_date(s.old_due),
            format_date(s.new_due),
            "; ".join(s.reasons) or "-",
        )
    evidence = Table("New evidence", [Col("Action"), Col("Evidence"), Col("Kind"), Col("Dated"), Col("Title")])
    for n in m.new_evidence:
        evidence.add(
            n.action.ref, n.evidence.ref, n.evidence.kind.value, format_date(n.evidence.date), n.evidence.title
        )
    kpis = Table("KPI changes", [Col("KPI"), Col("Name"), Col("Was"), Col("Now"), Col("Trend")])
    for k in m.kpi_changes:
        latest = k.status.latest
        assert latest is not None
        was = "no value" if k.before is None or k.before.period is None else k.before_value.text
        if k.before is not None and k.before.period is not None:
            was += f" ({format_period(k.before.period)})"
        kpis.add(
            k.status.kpi.key,
            kpi_name(k.status),
            was,
            f"{latest.value.text} ({latest.period_label})",
            trend_text(k.trend),
        )
    tables = [t for t in (changes, completed, new, slipped, evidence, kpis) if t.rows]
    return Section("movement", "Since the last board", intro=movement_intro(m), tables=tables, empty="Nothing moved.")


def kpi_section(report: Report) -> Section:
    compared = any(st.comparators for st in report.kpis)
    table = Table(
        "",
        [Col("KPI"), Col("Name"), Col("Latest", True), Col("Period")]
        + ([Col("Comparators")] if compared else [])
        + [Col("Target", True), Col("Met"), Col("Trend"), Col("Last values")],
        empty="No KPIs yet (kt kpi add).",
        note="Met: yes, near (within the KPI's tolerance of its target: amber) or no. Trend compares the latest "
        "value with the one before, judged by the KPI's direction (for some, lower is better)."
        + (" Comparators are published figures for the period shown." if compared else ""),
    )
    for st in report.kpis:
        latest = st.latest
        table.add(
            st.kpi.key,
            kpi_name(st),
            latest.value.text if latest else "-",
            latest.period_label if latest else "-",
            *([comparators_text(st)] if compared else []),
            target_text(st),
            Cell(kpi_met_text(st), st.rag),
            trend_text(st.trend),
            Cell(st.sparkline.rstrip() or "-", kpi=st),
        )
    return Section("kpis", "KPI scorecard", tables=[table])


def partners_section(report: Report) -> Section:
    table = Table(
        "Improvement partners engaged",
        [Col("Partner"), Col("Kind"), Col("Engaged for"), Col("From"), Col("To"), Col("Addresses")],
    )
    for v in report.partners:
        p = v.partner
        links = ", ".join([rec_label(r) for r in v.recs] + [f.key for f in v.areas]) or "-"
        table.add(p.name, p.kind.label, p.purpose, format_date(p.start), format_date(p.end) or "open-ended", links)
    return Section("partners", "Improvement partners", tables=[table])
