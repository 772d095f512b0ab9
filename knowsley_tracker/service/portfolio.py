"""The portfolio: one line of headline figures per plan, for someone who follows
several (a regional or DfE adviser reading a region's plans on one server).

Each line is worked out from that plan's own board report (:func:`build_report`),
so its figures are the ones the plan's board sees.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from knowsley_tracker.models import Rag
from knowsley_tracker.reports import build_report
from knowsley_tracker.service.session import Session


@dataclass(frozen=True)
class PortfolioLine:
    key: str
    authority: str
    judgement: str  # the latest graded inspection's overall judgement ("" when none)
    judged_on: date | None
    intervention: str  # the DfE intervention in force today ("" when none)
    rag: dict[str, int]  # red, amber, green, complete, blue
    actions: int
    overdue: int
    kpis_met: int
    kpis_measured: int  # KPIs with a latest value that can be compared with a target
    next_visit: date | None  # the next monitoring visit
    action_plan_due: date | None
    action_plan_sent: date | None


def plan_line(s: Session, key: str) -> PortfolioLine:
    """The headline figures of the plan open in ``s``."""
    report = build_report(s)
    header, totals = report.header, report.totals
    inspection = header.inspection
    judged = inspection.judgement if inspection is not None else None
    met = [k.met for k in report.kpis if k.met is not None]
    in_force = header.intervention
    return PortfolioLine(
        key=key,
        authority=s.store.authority,
        judgement=judged.value if judged is not None else "",
        judged_on=(inspection.published or inspection.end or inspection.start) if inspection is not None else None,
        intervention=in_force.intervention.type.value if in_force is not None else "",
        rag={rag.value: totals.count(rag) for rag in (Rag.RED, Rag.AMBER, Rag.GREEN, Rag.COMPLETE, Rag.BLUE)},
        actions=totals.actions,
        overdue=totals.overdue,
        kpis_met=sum(1 for m in met if m),
        kpis_measured=len(met),
        next_visit=header.next_visit.visit.date if header.next_visit is not None else None,
        action_plan_due=header.action_plan.due if header.action_plan is not None else None,
        action_plan_sent=header.action_plan.sent if header.action_plan is not None else None,
    )
