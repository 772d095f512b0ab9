"""KPIs and board meetings as tables, detail views and JSON for ``kt kpi`` and ``kt board``.

No Rich: the CLI shows these ``TableView``s as Rich tables on a terminal and
tab-separated text when piped. KPI numbers arrive already shown as figures
(:class:`knowsley_tracker.service.kpis.Figure`); nothing here formats one.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from knowsley_tracker.dates import format_date, format_period, format_timestamp
from knowsley_tracker.models import Board, Rag
from knowsley_tracker.rag import rag_label
from knowsley_tracker.render.report_common import (
    KPI_RAG_WORDS,
    comparators_text,
    kpi_met_text,
    kpi_name,
    target_text,
    trend_text,
)
from knowsley_tracker.render.report_json import kpi_json
from knowsley_tracker.render.text import Column, TableView
from knowsley_tracker.render.views import DetailView, rec_label, record_json
from knowsley_tracker.service.boards import BoardView
from knowsley_tracker.service.kpis import KpiPoint, KpiStatus, Recorded

# -- KPIs ---------------------------------------------------------------------------------------


def scorecard_table(items: list[KpiStatus]) -> TableView:
    table = TableView(
        [
            Column("KPI"),
            Column("Name", max_width=50),
            Column("Latest", justify="right"),
            Column("Period"),
            Column("Target", justify="right"),
            Column("Met"),
            Column("Trend"),
            Column("Last values"),
            Column("Focus"),
        ],
        title="KPI scorecard",
        empty="No KPIs yet (kt kpi add).",
    )
    for st in items:
        latest = st.latest
        table.add(
            [
                st.kpi.key,
                kpi_name(st),
                latest.value.text if latest else "-",
                latest.period_label if latest else "-",
                st.target.text,
                kpi_met_text(st),
                trend_text(st.trend),
                st.sparkline.rstrip() or "-",
                st.focus.key if st.focus else "",
            ],
            {} if st.rag is None else {5: f"rag.{st.rag.value}"},
        )
    return table


def point_rag(st: KpiStatus, point: KpiPoint) -> Rag | None:
    """One value's RAG, as the scorecard judges the latest: Green when met, Amber within the
    KPI's tolerance, else Red; None for a suppressed value (even "met" would hint at it)."""
    if point.value.value is None:
        return None
    if point.met:
        return Rag.GREEN
    return Rag.AMBER if st.kpi.within_tolerance(point.record.value) else Rag.RED


def kpi_detail(st: KpiStatus) -> DetailView:
    kpi = st.kpi
    latest = st.latest
    fields = [
        ("Name", kpi.name),
        ("Unit", kpi.unit),
        ("Target", target_text(st)),
        ("Comparators", comparators_text(st) if st.comparators else ""),
        ("Better when", "lower" if kpi.lower_is_better else "higher"),
        ("Focus area", f"{st.focus.key} {st.focus.name}" if st.focus else ""),
        ("Recommendations", ", ".join(rec_label(r) for r in st.recs)),
        ("Latest", f"{latest.value.text} ({latest.period_label})" if latest else "no values yet"),
        ("Target met", kpi_met_text(st)),
        ("Trend", trend_text(st.trend) if st.trend else ""),
        ("Last values", st.sparkline),
    ]
    history = TableView(
        [
            Column("Period"),
            Column("Value", justify="right"),
            Column("Numerator", justify="right"),
            Column("Denominator", justify="right"),
            Column("Met"),
            Column("Trend"),
            Column("Note", max_width=50),
            Column("Recorded"),
            Column("By", max_width=24),
        ],
        title="History",
        empty=f"No values yet: kt kpi record {kpi.key} VALUE --period 2025-06",
    )
    for p in st.history:
        rag = point_rag(st, p)
        history.add(
            [
                p.period_label,
                p.value.text,
                p.numerator.text,
                p.denominator.text,
                "-" if rag is None else KPI_RAG_WORDS[rag],
                trend_text(p.trend) if p.trend else "",
                p.record.note,
                format_timestamp(p.record.recorded_at) if p.record.recorded_at else "",
                p.record.by,
            ],
            {} if rag is None else {4: f"rag.{rag.value}"},
        )
    return DetailView(f"{kpi.key} {kpi.name}", fields, [history])


def kpi_detail_json(st: KpiStatus) -> dict[str, Any]:
    return kpi_json(st, history=None)


def recorded_message(done: Recorded) -> str:
    """``Recorded DIS-01 for Oct 2025: 84% (target 95%, not met; improving on Sep 2025's 80%).``"""
    st, point, before = done.status, done.point, done.before
    verb = "Corrected" if done.replaced is not None else "Recorded"
    # A suppressed value: even "met" or "not met" would hint at the small number.
    met = "shown as c: a small number" if point.value.value is None else ("met" if point.met else "not met")
    text = f"{verb} {st.kpi.key} for {point.period_label}: {point.value.text} (target {st.target.text}, {met}"
    if before is not None and point.trend:
        text += f"; {point.trend} on {before.period_label}'s {before.value.text}"
    text += ")."
    if st.latest is not None and st.latest is not point:
        text += f" The latest value is still {st.latest.period_label}'s ({st.latest.value.text})."
    return text


# -- boards --------------------------------------------------------------------------------------

COUNTED = (Rag.RED, Rag.AMBER, Rag.GREEN, Rag.COMPLETE, Rag.BLUE)


def counts_text(counts: dict[str, int]) -> str:
    """``2 red, 1 amber, 3 blue`` (dropped left out)."""
    parts = [f"{counts[r.value]} {rag_label(r).lower()}" for r in COUNTED if counts.get(r.value)]
    return ", ".join(parts) or "no actions"


def boards_table(boards: list[Board]) -> TableView:
    table = TableView(
        [Column("ID"), Column("Date"), Column("Snapshot")]
        + [Column(rag_label(r), justify="right") for r in COUNTED]
        + [Column("Note", max_width=50)],
        title="Board meetings",
        empty="No board meetings yet (kt board add DATE).",
    )
    for b in boards:
        if b.is_frozen:
            snapshot = "frozen on the day" if b.snapshot_method == "current" else "rebuilt from the log"
        else:
            snapshot = "still to come"
        counts = [str(b.rag_counts.get(r.value, 0)) if b.is_frozen else "" for r in COUNTED]
        table.add([b.ref, format_date(b.date), snapshot, *counts, b.note])
    return table


def board_json(board: Board) -> dict[str, Any]:
    return record_json(board)


def board_detail(view: BoardView) -> DetailView:
    board, state = view.board, view.state
    fields = [
        ("Date", format_date(board.date)),
        ("Note", board.note),
        (
            "Snapshot",
            "still to come: freeze it on the day with kt board freeze " + board.ref
            if state is None
            else ("frozen on the day" if state.method == "current" else "rebuilt from the progress log")
            + (f", {format_timestamp(board.frozen_at)}" if board.frozen_at else ""),
        ),
        ("Actions", counts_text(board.rag_counts) if state is not None else ""),
        ("Number", str(board.number) if board.number is not None else ""),
        ("Narrative", " ".join(board.narrative.split())),
        ("Decisions", "; ".join(f"{n}. {d}" for n, d in enumerate(board.decisions, start=1))),
    ]
    tables: list[TableView] = []
    if state is not None:
        actions = TableView(
            [
                Column("Action"),
                Column("Due"),
                Column("Status"),
                Column("Progress", justify="right"),
                Column("RAG"),
                Column("Evidence", justify="right"),
                Column("Title", max_width=60),
            ],
            title="Actions as they stood",
            empty="No actions then.",
        )
        for a in sorted(state.actions.values(), key=lambda a: (a.due or date.max, a.id)):
            actions.add(
                [
                    a.ref,
                    format_date(a.due, "no due date"),
                    a.status.value,
                    f"{a.progress}%",
                    rag_label(a.rag, a.overridden),
                    a.evidence,
                    a.title,
                ],
                {4: f"rag.{a.rag.value}"},
            )
        kpis = TableView(
            [Column("KPI"), Column("Name", max_width=50), Column("Value", justify="right"), Column("Period")],
            title="KPIs as they stood",
            empty="No KPIs then.",
        )
        for k in state.kpis.values():
            shown = view.kpi_values[k.id].text or "-"
            kpis.add([k.key, k.name, shown, format_period(k.period) if k.period else "-"])
        tables = [actions, kpis]
    return DetailView(f"{board.ref} board meeting, {format_date(board.date)}", fields, tables)


def board_detail_json(view: BoardView) -> dict[str, Any]:
    out = record_json(view.board)
    state = view.state
    if state is None:
        out["snapshot"] = None
        return out
    out["snapshot"] = {
        "as_of": state.as_of.isoformat(),
        "method": state.method,
        "rag_rules": {"amber_days": state.rules.amber_days, "amber_progress": state.rules.amber_progress},
        "actions": [
            {"action": a.ref, "id": a.id, **{k: v for k, v in a.to_json().items() if k != "ref"}}
            for a in sorted(state.actions.values(), key=lambda a: a.id)
        ],
        "kpis": [
            {
                "key": k.key,
                "name": k.name,
                "period": k.period,
                "period_end": k.period_end.isoformat() if k.period_end else None,
                "value": {"value": view.kpi_values[k.id].value, "text": view.kpi_values[k.id].text},
            }
            for k in sorted(state.kpis.values(), key=lambda k: k.id)
        ],
    }
    return out
