"""The board paper's own parts: the cover, the headline sentences, the Director's
narrative and the decisions as plain lines, and the closing list of next meetings."""

from __future__ import annotations

from knowsley_tracker.dates import format_date, in_days
from knowsley_tracker.models import Board, Rag
from knowsley_tracker.render.narrative import Block, plain
from knowsley_tracker.render.report_layout import Cover, Layout, plural
from knowsley_tracker.reports import RecRow, Report


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
