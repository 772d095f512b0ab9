"""The board status report as JSON, for other tools: a stable, documented contract.

``kt report --format json`` prints one object. Field names never change within
a ``version``; dates are ISO ``YYYY-MM-DD``; keys are sorted. Every KPI number
is a *figure*, ``{"value": 81.0, "text": "81%"}``: ``text`` is what the report
shows, and ``value`` is null when there is nothing to show.

Top level:

``schema``, ``version``
    ``"knowsley-tracker/report"`` and ``1``.
``report_date``, ``authority``
    The day the report describes and the council.
``focus``
    ``{"key", "name"}`` when narrowed with ``--focus``, else null.
``inspection``
    The latest graded inspection: ``ref``, ``type``, ``start``, ``published``,
    ``judgement`` (``inadequate``...), ``judgement_label``; or null.
``next_monitoring_visit``
    ``ref``, ``date``, ``days_to_go``, ``number``, ``status``; or null.
``intervention``
    The DfE intervention in force: ``ref``, ``type`` (``improvement-notice``,
    ``statutory-direction``), ``issued``, ``revised[]``, ``in_force_for``
    (``1 year 4 months``) and ``people[]`` (``role``, ``name``); or null.
``action_plan``
    The latest statutory action-plan deadline (70 working days after an
    inadequate report): ``inspection``, ``due``, ``sent`` (or null) and
    ``days_left`` (negative once past); or null.
``partners[]``
    Improvement partners engaged on the report date: ``ref``, ``name``,
    ``kind``, ``purpose``, ``start``, ``end``, ``recommendations[]``,
    ``focus_areas[]``. With ``--focus``, those linked to that area.
``rag_rules``
    ``amber_days`` and ``amber_progress`` in force.
``totals`` and each of ``focus_areas[]`` (plus ``key``, ``name``, ``lead``, ``recommendations``)
    A roll-up: ``actions`` (dropped left out), ``complete``, ``overdue``,
    ``dropped``, ``progress`` (average %, one decimal, or null), ``rag``
    (overall: worst open, else ``blue``/``complete``; null with no actions) and
    ``rag_counts`` (``red``, ``amber``, ``green``, ``complete``, ``blue``, ``dropped``).
``recommendations[]``
    A roll-up plus ``ref``, ``report_ref``, ``summary``, ``text``, ``focus``,
    ``status``, ``evidence``, ``last_update``, ``days_since_update``,
    ``kpis[]`` (``key``, ``met``) and ``gaps[]`` (sentences).
``exceptions[]`` (red or overdue) and ``due_soon[]`` (other open actions due within 30 days)
    ``action``, ``title``, ``rec``, ``focus``, ``owner``, ``due``,
    ``days_to_due``, ``status``, ``progress``, ``rag``, ``rag_overridden``,
    ``rag_computed``, ``rag_reason`` (the officer's, for an override), ``why``,
    ``latest_note``.
``since_last_board``
    Null when no board before today is recorded; else ``since``, ``board``
    (ref or null), ``method`` (``current``: frozen on the day;
    ``reconstructed``: rebuilt from the log), ``rag_changes[]`` (``action``,
    ``title``, ``was``, ``was_overridden``, ``now``, ``now_overridden``,
    ``worse``, ``why``), ``completed[]`` (``action``, ``title``,
    ``completed_on``, ``rag``), ``new_actions[]`` (``action``, ``title``,
    ``due``, ``rag``), ``slipped[]`` (``action``, ``title``, ``was_due``,
    ``now_due``, ``reasons[]``), ``new_evidence[]`` (``evidence``, ``action``,
    ``title``, ``kind``, ``date``, ``link``) and ``kpi_changes[]`` (``key``,
    ``name``, ``was`` and ``now`` as ``{"period", "value": figure}``,
    ``trend``).
``paper``
    The board paper around the report: ``board_name``, ``marking`` (the
    protective marking), ``author`` (a role), ``logo`` (``type``, ``width``,
    ``height``; or null), ``meeting`` and ``next_meeting`` (``ref``,
    ``number``, ``date``; or null), ``headline[]`` (the summary sentences),
    ``narrative`` (the Director's Markdown, as stored) and ``decisions[]``.
``kpis[]``
    ``key``, ``name``, ``unit``, ``lower_is_better``, ``target`` (figure),
    ``target_date``, ``focus``, ``recommendations[]``, ``latest`` and
    ``previous`` (``period``, ``period_end``, ``value``, ``numerator``,
    ``denominator`` as figures; or null), ``met``, ``rag`` (``green`` met,
    ``amber`` within tolerance, ``red``; null with no value or a suppressed
    one), ``tolerance`` (figure), ``comparators[]`` (``kind``: ``england``,
    ``neighbours`` or ``regional``; ``label``; ``value`` as a figure;
    ``period``, such as ``2024-25``), ``trend``
    (``improving``/``worsening``/``flat``), ``direction`` (``up``/``down``/``flat``),
    ``sparkline`` and ``history[]`` (the last 12 values, oldest first).
"""

from __future__ import annotations

from typing import Any

from knowsley_tracker.models import Board, Rag
from knowsley_tracker.rag import Rollup
from knowsley_tracker.render.json_out import dumps as dumps
from knowsley_tracker.reports import ActionLine, Movement, RecRow, Report
from knowsley_tracker.service.governance import InterventionView
from knowsley_tracker.service.kpis import Figure, KpiPoint, KpiStatus

SCHEMA = "knowsley-tracker/report"
VERSION = 1
HISTORY_POINTS = 12


def figure_json(figure: Figure) -> dict[str, Any]:
    return {"value": figure.value, "text": figure.text}


def rollup_json(roll: Rollup) -> dict[str, Any]:
    return {
        "actions": roll.actions,
        "complete": roll.complete,
        "overdue": roll.overdue,
        "dropped": roll.dropped,
        "progress": round(roll.progress, 1) if roll.progress is not None else None,
        "rag": roll.rag.value if roll.rag else None,
        "rag_counts": {rag.value: roll.count(rag) for rag in Rag},
    }


def rec_json(row: RecRow) -> dict[str, Any]:
    return {
        "ref": row.rec.ref,
        "report_ref": row.rec.report_ref,
        "summary": row.rec.summary,
        "text": row.rec.text,
        "focus": row.focus.key if row.focus else None,
        "status": row.status,
        **rollup_json(row.rollup),
        "evidence": row.evidence,
        "last_update": row.last_update.isoformat() if row.last_update else None,
        "days_since_update": row.days_since_update,
        "kpis": [{"key": k.kpi.key, "met": k.met} for k in row.kpis],
        "gaps": row.gaps,
    }


def action_line_json(line: ActionLine) -> dict[str, Any]:
    v = line.view
    a = v.action
    return {
        "action": a.ref,
        "title": a.title,
        "rec": v.rec.ref if v.rec else None,
        "focus": v.focus.key if v.focus else None,
        "owner": v.owner.display if v.owner else None,
        "due": a.due.isoformat() if a.due else None,
        "days_to_due": line.days_to_due,
        "status": a.status.value,
        "progress": a.progress,
        "rag": v.rating.rag.value,
        "rag_overridden": v.rating.overridden,
        "rag_computed": v.rating.computed.value,
        "rag_reason": a.rag_reason if v.rating.overridden else "",
        "why": v.rating.reason if not v.rating.overridden else f"override: {a.rag_reason}",
        "latest_note": a.last_note,
    }


def movement_json(m: Movement) -> dict[str, Any]:
    return {
        "since": m.since.isoformat(),
        "board": m.board.ref if m.board else None,
        "method": m.method,
        "rag_changes": [
            {
                "action": c.view.action.ref,
                "title": c.view.action.title,
                "was": c.before.rag.value,
                "was_overridden": c.before.overridden,
                "now": c.view.rating.rag.value,
                "now_overridden": c.view.rating.overridden,
                "worse": c.worse,
                "why": c.reason,
            }
            for c in m.rag_changes
        ],
        "completed": [
            {
                "action": v.action.ref,
                "title": v.action.title,
                "completed_on": v.action.completed_on.isoformat() if v.action.completed_on else None,
                "rag": v.rating.rag.value,
            }
            for v in m.completed
        ],
        "new_actions": [
            {
                "action": v.action.ref,
                "title": v.action.title,
                "due": v.action.due.isoformat() if v.action.due else None,
                "rag": v.rating.rag.value,
            }
            for v in m.new_actions
        ],
        "slipped": [
            {
                "action": s.view.action.ref,
                "title": s.view.action.title,
                "was_due": s.old_due.isoformat(),
                "now_due": s.new_due.isoformat(),
                "reasons": s.reasons,
            }
            for s in m.slipped
        ],
        "new_evidence": [
            {
                "evidence": n.evidence.ref,
                "action": n.action.ref,
                "title": n.evidence.title,
                "kind": n.evidence.kind.value,
                "date": n.evidence.date.isoformat(),
                "link": n.evidence.link,
            }
            for n in m.new_evidence
        ],
        "kpi_changes": [
            {
                "key": k.status.kpi.key,
                "name": k.status.kpi.name,
                "was": {
                    "period": k.before.period if k.before else None,
                    "value": figure_json(k.before_value),
                },
                "now": {
                    "period": k.status.latest.record.period if k.status.latest else None,
                    "value": figure_json(k.status.latest.value) if k.status.latest else None,
                },
                "trend": k.trend,
            }
            for k in m.kpi_changes
        ],
    }


def point_json(point: KpiPoint | None) -> dict[str, Any] | None:
    if point is None:
        return None
    return {
        "period": point.record.period,
        "period_end": point.record.period_end.isoformat(),
        "value": figure_json(point.value),
        "numerator": figure_json(point.numerator),
        "denominator": figure_json(point.denominator),
    }


def kpi_json(st: KpiStatus, history: int | None = HISTORY_POINTS) -> dict[str, Any]:
    """One KPI as JSON (also ``kt kpi list --json``); ``history`` None keeps every value."""
    points = st.history if history is None else st.history[-history:]
    return {
        "key": st.kpi.key,
        "name": st.kpi.name,
        "unit": st.kpi.unit,
        "lower_is_better": st.kpi.lower_is_better,
        "target": figure_json(st.target),
        "target_date": st.kpi.target_date.isoformat() if st.kpi.target_date else None,
        "focus": st.focus.key if st.focus else None,
        "recommendations": [r.ref for r in st.recs],
        "latest": point_json(st.latest),
        "previous": point_json(st.previous),
        "met": st.met,
        "rag": st.rag.value if st.rag is not None else None,
        "tolerance": figure_json(st.tolerance),
        "comparators": [
            {"kind": c.kind, "label": c.label, "value": figure_json(c.value), "period": c.period}
            for c in st.comparators
        ],
        "trend": st.trend,
        "direction": st.direction,
        "sparkline": st.sparkline,
        "history": [
            {
                "period": p.record.period,
                "period_end": p.record.period_end.isoformat(),
                "value": figure_json(p.value),
                "numerator": figure_json(p.numerator),
                "denominator": figure_json(p.denominator),
                "met": p.met,
                "trend": p.trend,
                "note": p.record.note,
            }
            for p in points
        ],
    }


def intervention_json(v: InterventionView) -> dict[str, Any]:
    i = v.intervention
    return {
        "ref": i.ref,
        "type": i.type.value,
        "issued": i.issued.isoformat(),
        "revised": [d.isoformat() for d in i.revised],
        "in_force_for": v.in_force_for,
        "people": i.people,
    }


def board_ref_json(board: Board | None, number: int | None) -> dict[str, Any] | None:
    if board is None:
        return None
    return {"ref": board.ref, "number": number, "date": board.date.isoformat()}


def paper_json(report: Report) -> dict[str, Any]:
    from knowsley_tracker.render.report_common import headline

    p = report.paper
    return {
        "board_name": p.board_name,
        "marking": p.marking,
        "author": p.author,
        "logo": {"type": p.logo.mime, "width": p.logo.width, "height": p.logo.height} if p.logo else None,
        "meeting": board_ref_json(p.meeting, p.meeting_number),
        "next_meeting": board_ref_json(p.next_board, p.next_board_number),
        "headline": headline(report),
        "narrative": p.meeting.narrative if p.meeting else "",
        "decisions": list(p.meeting.decisions) if p.meeting else [],
    }


def to_json(report: Report) -> dict[str, Any]:
    """The report as a JSON-ready dict (see the module docstring for the fields)."""
    h = report.header
    i = h.inspection
    v = h.next_visit
    return {
        "schema": SCHEMA,
        "version": VERSION,
        "report_date": h.report_date.isoformat(),
        "authority": h.authority,
        "focus": {"key": h.focus.key, "name": h.focus.name} if h.focus else None,
        "inspection": {
            "ref": i.ref,
            "type": i.type.value,
            "start": i.start.isoformat(),
            "published": i.published.isoformat() if i.published else None,
            "judgement": i.judgement.value if i.judgement else None,
            "judgement_label": i.judgement.label if i.judgement else None,
        }
        if i is not None
        else None,
        "next_monitoring_visit": {
            "ref": v.visit.ref,
            "date": v.visit.date.isoformat(),
            "days_to_go": v.days_to_go,
            "number": v.number,
            "status": v.visit.status.value,
        }
        if v is not None
        else None,
        "intervention": intervention_json(h.intervention) if h.intervention else None,
        "action_plan": {
            "inspection": h.action_plan.inspection.ref,
            "due": h.action_plan.due.isoformat(),
            "sent": h.action_plan.sent.isoformat() if h.action_plan.sent else None,
            "days_left": h.action_plan.days_left,
        }
        if h.action_plan
        else None,
        "partners": [
            {
                "ref": p.partner.ref,
                "name": p.partner.name,
                "kind": p.partner.kind.value,
                "purpose": p.partner.purpose,
                "start": p.partner.start.isoformat(),
                "end": p.partner.end.isoformat() if p.partner.end else None,
                "recommendations": [r.ref for r in p.recs],
                "focus_areas": [f.key for f in p.areas],
            }
            for p in report.partners
        ],
        "rag_rules": {"amber_days": h.rules.amber_days, "amber_progress": h.rules.amber_progress},
        "totals": rollup_json(report.totals),
        "focus_areas": [
            {
                "key": row.area.key if row.area else None,
                "name": row.name,
                "lead": row.area.lead if row.area else "",
                "recommendations": row.recs,
                **rollup_json(row.rollup),
            }
            for row in report.focus_areas
        ],
        "recommendations": [rec_json(r) for r in report.recommendations],
        "exceptions": [action_line_json(a) for a in report.exceptions],
        "due_soon": [action_line_json(a) for a in report.due_soon],
        "since_last_board": movement_json(report.movement) if report.movement else None,
        "kpis": [kpi_json(k) for k in report.kpis],
        "paper": paper_json(report),
    }
