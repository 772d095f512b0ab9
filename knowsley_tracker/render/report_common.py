"""The report laid out once as titled sections of labelled fields, paragraphs and tables.

Terminal, plain-text, Markdown and HTML renderers all draw this same layout,
so every format carries the same figures in the same order; each adds only
its own escaping and decoration (colour, bars, charts). Cells hold raw user
text: each renderer escapes it for its format. No Rich, and no dataclasses
(NamedTuples cost a fraction as much to define at start-up).
"""

from __future__ import annotations

from typing import NamedTuple

from knowsley_tracker.dates import format_date, format_period
from knowsley_tracker.models import Rag
from knowsley_tracker.rag import Rollup
from knowsley_tracker.reports import (
    DUE_SOON_DAYS,
    Movement,
    RecRow,
    Report,
    rag_label,
)
from knowsley_tracker.service.governance import InterventionView
from knowsley_tracker.service.kpis import KpiStatus
from knowsley_tracker.service.plan import ActionPlanDeadline

TREND_MARKS = {"improving": "▲", "worsening": "▼", "flat": "►"}
DIRECTION_MARKS = {"up": "▲", "down": "▼", "flat": "►"}
BAR_WIDTH = 10


class Cell(NamedTuple):
    text: str
    rag: Rag | None = None  # colours the cell in the terminal and HTML
    progress: float | None = None  # draws a progress bar (0-100) before the text
    spark: str = ""  # a KPI's values for the HTML chart, as "1,2,3"


class Col(NamedTuple):
    title: str
    right: bool = False


class Table:
    """A titled table; ``note`` is a line under it, ``total`` a totals row drawn apart."""

    def __init__(
        self, title: str, columns: list[Col], *, empty: str = "None.", note: str = "", total: list[Cell] | None = None
    ) -> None:
        self.title = title
        self.columns = columns
        self.rows: list[list[Cell]] = []
        self.empty = empty
        self.note = note
        self.total = total

    def add(self, *cells: Cell | str) -> None:
        self.rows.append([c if isinstance(c, Cell) else Cell(c) for c in cells])


class Section(NamedTuple):
    key: str  # a stable anchor: focus-areas, readiness, exceptions, movement, kpis
    title: str
    intro: str = ""
    tables: list[Table] = []  # shared default, never mutated
    empty: str = ""  # shown instead of the tables when none has rows


class Layout(NamedTuple):
    title: str
    fields: list[tuple[str, str]]
    sections: list[Section]


# -- words and numbers ----------------------------------------------------------------------


def plural(n: int, noun: str, nouns: str | None = None) -> str:
    return f"{n} {noun if n == 1 else nouns or noun + 's'}"


def pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}%"


def text_bar(value: float | None, width: int = BAR_WIDTH) -> str:
    """``█████░░░░░`` for 50%: a bar of block characters for text and Markdown."""
    if value is None:
        return ""
    filled = round(max(0.0, min(100.0, value)) / 100 * width)
    return "█" * filled + "░" * (width - filled)


def in_days(days: int | None) -> str:
    if days is None:
        return "no due date"
    if days == 0:
        return "today"
    if days > 0:
        return f"in {plural(days, 'day')}"
    return f"{plural(-days, 'day')} overdue"


def rag_mix(roll: Rollup) -> str:
    """``1 red, 2 amber, 1 blue``: the RAG of each action, worst first (dropped left out)."""
    parts = [
        f"{roll.count(rag)} {rag_label(rag).lower()}"
        for rag in (Rag.RED, Rag.AMBER, Rag.GREEN, Rag.COMPLETE, Rag.BLUE)
        if roll.count(rag)
    ]
    return ", ".join(parts) or "none"


def kpi_name(status: KpiStatus) -> str:
    kpi = status.kpi
    if kpi.unit and not kpi.is_percent and kpi.unit.lower() not in ("count", "number", "no."):
        return f"{kpi.name} ({kpi.unit})"
    return kpi.name


def trend_text(trend: str | None) -> str:
    return f"{TREND_MARKS[trend]} {trend}" if trend else "-"


def met_text(met: bool | None) -> str:
    return "-" if met is None else "yes" if met else "no"


def kpi_links(statuses: list[KpiStatus]) -> str:
    parts = []
    for st in statuses:
        if st.latest is None:
            state = "no data"
        elif st.met is None:
            state = st.latest.value.text  # suppressed: "c", never met or not met
        else:
            state = "met" if st.met else "not met"
        parts.append(f"{st.kpi.key} {state}")
    return ", ".join(parts) or "-"


def spark_values(status: KpiStatus) -> str:
    return ",".join(f"{p.value.value:g}" for p in status.history[-12:] if p.value.value is not None)


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


def _rollup_cells(roll: Rollup) -> list[Cell]:
    return [
        Cell(str(roll.actions)),
        Cell(str(roll.complete)),
        Cell(str(roll.overdue), Rag.RED if roll.overdue else None),
        Cell(str(roll.count(Rag.RED)), Rag.RED if roll.count(Rag.RED) else None),
        Cell(str(roll.count(Rag.AMBER)), Rag.AMBER if roll.count(Rag.AMBER) else None),
        Cell(str(roll.count(Rag.GREEN)), Rag.GREEN if roll.count(Rag.GREEN) else None),
        Cell(str(roll.count(Rag.BLUE)), Rag.BLUE if roll.count(Rag.BLUE) else None),
        Cell(pct(roll.progress), progress=roll.progress if roll.progress is not None else None),
    ]


def focus_section(report: Report) -> Section:
    table = Table(
        "",
        [Col("Key"), Col("Focus area"), Col("Recs", True), Col("Actions", True), Col("Complete", True)]
        + [Col("Overdue", True), Col("Red", True), Col("Amber", True), Col("Green", True), Col("Blue", True)]
        + [Col("Progress")],
        empty="No focus areas yet (kt focus add).",
        note="Blue: complete with evidence (counted in Complete too). Progress: the average of the actions, "
        "complete counting as 100%; dropped actions are left out.",
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
        Cell(row.rec.ref),
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
    table = Table(
        "",
        [Col("KPI"), Col("Name"), Col("Latest", True), Col("Period"), Col("Target", True), Col("Met")]
        + [Col("Trend"), Col("Last values")],
        empty="No KPIs yet (kt kpi add).",
        note="Trend compares the latest value with the one before, judged by the KPI's direction "
        "(for some, lower is better).",
    )
    for st in report.kpis:
        latest = st.latest
        table.add(
            st.kpi.key,
            kpi_name(st),
            latest.value.text if latest else "-",
            latest.period_label if latest else "-",
            st.target.text + (f" by {format_date(st.kpi.target_date)}" if st.kpi.target_date else ""),
            Cell(met_text(st.met), None if st.met is None else Rag.GREEN if st.met else Rag.RED),
            trend_text(st.trend),
            Cell(st.sparkline or "-", spark=spark_values(st)),
        )
    return Section("kpis", "KPI scorecard", tables=[table])


def partners_section(report: Report) -> Section:
    table = Table(
        "Improvement partners engaged",
        [Col("Partner"), Col("Kind"), Col("Engaged for"), Col("From"), Col("To"), Col("Addresses")],
    )
    for v in report.partners:
        p = v.partner
        links = ", ".join([r.ref for r in v.recs] + [f.key for f in v.areas]) or "-"
        table.add(p.name, p.kind.label, p.purpose, format_date(p.start), format_date(p.end) or "open-ended", links)
    return Section("partners", "Improvement partners", tables=[table])


def layout(report: Report) -> Layout:
    """The report as sections, in the order every format shows them."""
    title = "Board status report"
    if report.header.focus is not None:
        title += f": {report.header.focus.key} {report.header.focus.name}"
    return Layout(
        title=title,
        fields=header_fields(report),
        sections=[
            focus_section(report),
            readiness_section(report),
            exceptions_section(report),
            movement_section(report),
            kpi_section(report),
            *([partners_section(report)] if report.partners else []),
        ],
    )
