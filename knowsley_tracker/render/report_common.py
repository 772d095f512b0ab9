"""The report laid out once as titled sections of labelled fields, paragraphs and tables.

Terminal, plain-text, Markdown and HTML renderers all draw this same layout,
so every format carries the same figures in the same order; each adds only
its own escaping and decoration (colour, bars, charts). Cells hold raw user
text: each renderer escapes it for its format. No Rich, and no dataclasses
(NamedTuples cost a fraction as much to define at start-up).
"""

from __future__ import annotations

from typing import NamedTuple

from knowsley_tracker.dates import format_date, format_period, in_days
from knowsley_tracker.images import Image
from knowsley_tracker.models import Board, Rag, Recommendation
from knowsley_tracker.rag import Rollup, rag_label
from knowsley_tracker.render.narrative import Block, parse, plain
from knowsley_tracker.render.text import pct
from knowsley_tracker.reports import (
    DUE_SOON_DAYS,
    Movement,
    RecRow,
    Report,
)
from knowsley_tracker.service.governance import InterventionView
from knowsley_tracker.service.kpis import KpiStatus, format_number
from knowsley_tracker.service.plan import ActionPlanDeadline

TREND_MARKS = {"improving": "▲", "worsening": "▼", "flat": "►"}
DIRECTION_MARKS = {"up": "▲", "down": "▼", "flat": "►"}
BAR_WIDTH = 10


class Cell(NamedTuple):
    text: str
    rag: Rag | None = None  # colours the cell in the terminal and HTML
    progress: float | None = None  # draws a progress bar (0-100) before the text
    kpi: KpiStatus | None = None  # a KPI whose recent values HTML draws as a small chart


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


class Cover(NamedTuple):
    """The paper's first lines: who it is for, which meeting, and its protective marking."""

    board_name: str
    title: str
    meeting: str  # "Meeting 7, 14 Jan 2026"
    fields: list[tuple[str, str]]  # authority, report date, author
    marking: str  # also printed in every page's header and footer
    logo: Image | None


class Layout(NamedTuple):
    title: str
    fields: list[tuple[str, str]]  # the position at a glance: inspection, visit, intervention...
    sections: list[Section]
    cover: Cover
    headline: list[str]  # computed sentences
    narrative: list[Block]  # the Director's narrative, read from its Markdown
    decisions: list[str]  # the decisions or asks of the board
    missing: tuple[str, str]  # what to print where the narrative or the decisions are not recorded
    closing: list[tuple[str, str]]  # the next board meeting and the next monitoring visit


# -- words and numbers ----------------------------------------------------------------------


def plural(n: int, noun: str, nouns: str | None = None) -> str:
    return f"{n} {noun if n == 1 else nouns or noun + 's'}"


def text_bar(value: float | None, width: int = BAR_WIDTH) -> str:
    """``█████░░░░░`` for 50%: a bar of block characters for text and Markdown."""
    if value is None:
        return ""
    filled = round(max(0.0, min(100.0, value)) / 100 * width)
    return "█" * filled + "░" * (width - filled)


def rag_mix(roll: Rollup) -> str:
    """``1 red, 2 amber, 1 blue``: the RAG of each action, worst first (dropped left out)."""
    parts = [
        f"{roll.count(rag)} {rag_label(rag).lower()}"
        for rag in (Rag.RED, Rag.AMBER, Rag.GREEN, Rag.COMPLETE, Rag.BLUE)
        if roll.count(rag)
    ]
    return ", ".join(parts) or "none"


def rec_label(rec: Recommendation) -> str:
    """``R1 (rec 9)``: the tracker's id beside the report's own number, which boards speak of."""
    return f"{rec.ref} (rec {rec.report_ref})" if rec.report_ref else rec.ref


def kpi_name(status: KpiStatus) -> str:
    kpi = status.kpi
    if kpi.unit and not kpi.is_percent and kpi.unit.lower() not in ("count", "number", "no."):
        return f"{kpi.name} ({kpi.unit})"
    return kpi.name


def trend_text(trend: str | None) -> str:
    return f"{TREND_MARKS[trend]} {trend}" if trend else "-"


def met_text(met: bool | None) -> str:
    return "-" if met is None else "yes" if met else "no"


KPI_RAG_WORDS = {Rag.GREEN: "yes", Rag.AMBER: "near", Rag.RED: "no"}


def kpi_met_text(status: KpiStatus) -> str:
    """``yes``, ``near`` (within the tolerance: amber), ``no``; ``-`` with no value or a suppressed one."""
    rag = status.rag
    return "-" if rag is None else KPI_RAG_WORDS[rag]


def target_text(status: KpiStatus) -> str:
    """``92% (amber from 87%)``, ``20 (amber up to 22) by 31 Mar 2026``."""
    kpi = status.kpi
    text = status.target.text
    if kpi.tolerance:
        edge = kpi.target + kpi.tolerance if kpi.lower_is_better else kpi.target - kpi.tolerance
        suffix = "%" if kpi.is_percent else ""
        text += f" (amber {'up to' if kpi.lower_is_better else 'from'} {format_number(edge)}{suffix})"
    if kpi.target_date:
        text += f" by {format_date(kpi.target_date)}"
    return text


def comparators_text(status: KpiStatus) -> str:
    """``England 78% (2024-25); Statistical neighbours 74% (2024-25)``."""
    return "; ".join(f"{c.label} {c.value.text} ({c.period_label})" for c in status.comparators) or "-"


def kpi_links(statuses: list[KpiStatus]) -> str:
    parts = []
    for st in statuses:
        rag = st.rag
        if st.latest is None:
            state = "no data"
        elif rag is None:
            state = st.latest.value.text  # suppressed: "c", never met or not met
        else:
            state = {Rag.GREEN: "met", Rag.AMBER: "near target", Rag.RED: "not met"}[rag]
        parts.append(f"{st.kpi.key} {state}")
    return ", ".join(parts) or "-"


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


# -- the paper: cover, headline, narrative and decisions, closing ----------------------------------


def narrative_lines(blocks: list[Block]) -> list[str]:
    """The narrative as plain lines (formatting dropped; a blank line between blocks)."""
    lines: list[str] = []
    for block in blocks:
        if lines:
            lines.append("")
        if block.kind in ("p", "h"):
            lines.append(plain(block.items[0]))
        else:
            for n, item in enumerate(block.items, start=1):
                lines.append(f"{n}. {plain(item)}" if block.kind == "ol" else f"- {plain(item)}")
    return lines


def paper_head_lines(doc: Layout) -> list[tuple[str, list[str]]]:
    """The paper's opening parts, as (heading, lines) for plain text; the lines hold raw user
    text for the renderer to escape. The position at a glance follows them."""
    return [
        ("Summary", [f"- {sentence}" for sentence in doc.headline]),
        ("Director's narrative", narrative_lines(doc.narrative) or [doc.missing[0]]),
        (
            "Decisions and asks of the board",
            [f"{n}. {d}" for n, d in enumerate(doc.decisions, start=1)] or [doc.missing[1]],
        ),
    ]


def meeting_text(board: Board | None, number: int | None) -> str:
    """``Meeting 7, 14 Jan 2026``."""
    if board is None:
        return "Meeting: none recorded (kt board add DATE)"
    return f"Meeting {number}, {format_date(board.date)}" if number is not None else format_date(board.date)


def cover(report: Report, title: str) -> Cover:
    paper = report.paper
    fields = [
        ("Authority", report.header.authority),
        ("Report date", format_date(report.header.report_date)),
        ("Author", paper.author or "not set (kt config set paper.author ROLE)"),
    ]
    return Cover(
        board_name=paper.board_name,
        title=title,
        meeting=meeting_text(paper.meeting, paper.meeting_number),
        fields=fields,
        marking=paper.marking,
        logo=paper.logo,
    )


def _and(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def _rec_names(rows: list[RecRow]) -> str:
    """``recommendations 3, 7 and 9`` (the report's numbers; R-ids where none is recorded)."""
    names = [r.rec.report_ref or r.rec.ref for r in rows]
    shown = names[:8] + ([f"{len(names) - 8} more"] if len(names) > 8 else [])
    return ("recommendation " if len(rows) == 1 else "recommendations ") + _and(shown)


def headline(report: Report) -> list[str]:
    """The headline summary: sentences whose every figure is worked out from the plan.
    Only counts of actions, recommendations and KPIs appear, never a KPI's value, so
    small-number suppression holds (a suppressed KPI is counted as not shown)."""
    out: list[str] = []
    t = report.totals
    if t.actions:
        red, blue = t.count(Rag.RED), t.count(Rag.BLUE)
        rest = [
            f"{t.count(rag)} {label}"
            for rag, label in ((Rag.AMBER, "amber"), (Rag.GREEN, "green"), (Rag.COMPLETE, "complete awaiting evidence"))
            if t.count(rag)
        ]
        sentence = f"{red} of {plural(t.actions, 'action')} {'is' if red == 1 else 'are'} red"
        if t.overdue:
            sentence += f" ({t.overdue} overdue)"
        sentence += f" and {blue} {'is' if blue == 1 else 'are'} complete with evidence"
        if rest:
            sentence += "; " + _and(rest)
        out.append(sentence + ".")
    else:
        out.append("No actions are recorded yet.")
    live = [r for r in report.recommendations if r.rollup.actions]
    unevidenced = [r for r in live if r.evidence == 0]
    no_actions = [r for r in report.recommendations if not r.rollup.actions]
    if unevidenced:
        verb = "has" if len(unevidenced) == 1 else "have"
        out.append(f"{plural(len(unevidenced), 'recommendation')} {verb} no evidence yet ({_rec_names(unevidenced)}).")
    elif live:
        out.append(f"Every recommendation with actions has evidence ({len(live)} of {len(report.recommendations)}).")
    if no_actions:
        verb = "has" if len(no_actions) == 1 else "have"
        out.append(f"{plural(len(no_actions), 'recommendation')} {verb} no actions ({_rec_names(no_actions)}).")
    visit = report.header.next_visit
    if visit is not None:
        out.append(f"The next monitoring visit is {in_days(visit.days_to_go or 0)} ({format_date(visit.visit.date)}).")
    plan = report.header.action_plan
    if plan is not None:
        if plan.sent is not None:
            late = (plan.sent - plan.due).days
            when = "on time" if late <= 0 else f"{plural(late, 'day')} late"
            out.append(f"The action plan was sent to Ofsted {when} ({format_date(plan.sent)}).")
        elif plan.days_left < 0:
            out.append(
                f"The action plan to Ofsted was due {plural(-plan.days_left, 'day')} ago "
                f"({format_date(plan.due)}) and is not recorded as sent."
            )
        else:
            out.append(f"The action plan to Ofsted is due {in_days(plan.days_left)} ({format_date(plan.due)}).")
    if report.kpis:
        counts = {Rag.GREEN: 0, Rag.AMBER: 0, Rag.RED: 0}
        hidden = empty = 0
        for st in report.kpis:
            rag = st.rag
            if rag is not None:
                counts[rag] += 1
            elif st.latest is None:
                empty += 1
            else:
                hidden += 1
        parts = [f"{counts[Rag.GREEN]} of {len(report.kpis)} on target"]
        if counts[Rag.AMBER]:
            parts.append(f"{counts[Rag.AMBER]} within tolerance")
        parts.append(f"{counts[Rag.RED]} off target")
        sentence = "KPIs: " + ", ".join(parts)
        notes = []
        if hidden:
            notes.append(f"{hidden} cannot be shown (small numbers)")
        if empty:
            notes.append(f"{empty} with no value yet")
        out.append(sentence + ("; " + _and(notes) if notes else "") + ".")
    m = report.movement
    if m is not None:
        worse = sum(1 for c in m.rag_changes if c.worse)
        moved = [
            f"{plural(worse, 'action')} got worse" if worse else "",
            f"{len(m.completed)} {'was' if len(m.completed) == 1 else 'were'} completed" if m.completed else "",
            f"{plural(len(m.slipped), 'due date')} slipped" if m.slipped else "",
            f"{plural(len(m.new_actions), 'action')} {'was' if len(m.new_actions) == 1 else 'were'} added"
            if m.new_actions
            else "",
        ]
        since = f"the board on {format_date(m.since)}" if m.board is not None else format_date(m.since)
        shown = [p for p in moved if p]
        out.append(f"Since {since}, " + (_and(shown) if shown else "nothing moved") + ".")
    return out


def closing(report: Report) -> list[tuple[str, str]]:
    paper = report.paper
    v = report.header.next_visit
    visit = (
        "none expected (kt visit add)" if v is None else f"{format_date(v.visit.date)}, {in_days(v.days_to_go or 0)}"
    )
    board = meeting_text(paper.next_board, paper.next_board_number)
    if paper.next_board is None:
        board = (
            "none recorded after this one (kt board add DATE)" if paper.meeting else "none recorded (kt board add DATE)"
        )
    return [("Next board meeting", board), ("Next monitoring visit", visit)]


def missing_texts(meeting: Board | None) -> tuple[str, str]:
    """What the paper says where its meeting has no narrative, or no decisions, recorded."""
    if meeting is None:
        none = "No board meeting is recorded for this paper (kt board add DATE)."
        return none, none
    ref = meeting.ref
    return (
        f"No narrative is recorded with meeting {ref} (kt board edit {ref} --narrative-file FILE).",
        f'No decisions or asks are recorded with meeting {ref} (kt board edit {ref} --decision "...").',
    )


def layout(report: Report) -> Layout:
    """The report as sections, in the order every format shows them."""
    title = "Board status report"
    if report.header.focus is not None:
        title += f": {report.header.focus.key} {report.header.focus.name}"
    meeting = report.paper.meeting
    return Layout(
        cover=cover(report, title),
        headline=headline(report),
        narrative=parse(meeting.narrative) if meeting is not None and meeting.narrative else [],
        decisions=list(meeting.decisions) if meeting is not None else [],
        closing=closing(report),
        missing=missing_texts(meeting),
        title=title,
        # The cover gives the authority and the report date.
        fields=[f for f in header_fields(report) if f[0] not in ("Authority", "Report date")],
        sections=[
            focus_section(report),
            readiness_section(report),
            exceptions_section(report),
            movement_section(report),
            kpi_section(report),
            *([partners_section(report)] if report.partners else []),
        ],
    )
