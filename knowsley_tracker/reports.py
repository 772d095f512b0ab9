"""The board status report, built as plain dataclasses: no Rich, no printing.

:func:`build_report` reads the plan once (records indexed by id, the progress
log only back to the movement baseline) and returns a :class:`Report` that
every renderer (terminal, plain text, Markdown, HTML, JSON) shows in the same
six sections: header, focus areas, readiness per recommendation, exceptions,
movement since the last board, and the KPI scorecard. The parts are
NamedTuples: generating dataclass methods cost every ``kt report`` about a
millisecond per class at start-up.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import NamedTuple

from knowsley_tracker.dates import format_date, local_date_of
from knowsley_tracker.errors import NotFoundError, ValidationError
from knowsley_tracker.images import Image
from knowsley_tracker.models import (
    Action,
    Board,
    Evidence,
    FocusArea,
    Inspection,
    InspectionType,
    LogEntry,
    Rag,
    Recommendation,
    Status,
)
from knowsley_tracker.rag import RagRules, Rollup, is_overdue, rag_label, rollup
from knowsley_tracker.service.actions import ActionView, PlanIndex
from knowsley_tracker.service.boards import ActionState, Baseline, KpiState, baseline, meeting_number
from knowsley_tracker.service.governance import InterventionView, PartnerView, current_intervention, list_partners
from knowsley_tracker.service.kpis import Figure, KpiBook, KpiStatus, Trend, trend
from knowsley_tracker.service.plan import ActionPlanDeadline, action_plan_deadlines, latest_graded_inspection
from knowsley_tracker.service.session import Session
from knowsley_tracker.service.visits import VisitView, list_visits
from knowsley_tracker.store_interface import In

# An open action is listed as due soon within this many days.
DUE_SOON_DAYS = 30
# A recommendation with open actions and no update for longer than this is a gap.
STALE_DAYS = 30
# How many action refs a gap lists before saying "and N more".
GAP_REFS = 5

SEVERITY = {Rag.RED: 0, Rag.AMBER: 1, Rag.GREEN: 2, Rag.COMPLETE: 3, Rag.BLUE: 4, Rag.DROPPED: 5}


# -- the report's parts ------------------------------------------------------------------


class Header(NamedTuple):
    authority: str
    report_date: date
    inspection: Inspection | None  # the latest graded inspection
    next_visit: VisitView | None  # the next monitoring visit
    focus: FocusArea | None  # set when the report is narrowed to one focus area
    rules: RagRules
    intervention: InterventionView | None = None  # the DfE intervention in force today
    action_plan: ActionPlanDeadline | None = None  # the latest statutory action-plan deadline


class FocusRow(NamedTuple):
    """One focus area's actions summed up (``area`` None: recommendations with no focus area)."""

    area: FocusArea | None
    recs: int
    rollup: Rollup

    @property
    def key(self) -> str:
        return self.area.key if self.area else "-"

    @property
    def name(self) -> str:
        return self.area.name if self.area else "No focus area"


class RecRow(NamedTuple):
    """How ready one recommendation is to show an inspector."""

    rec: Recommendation
    focus: FocusArea | None
    status: str  # No actions, Not started, In progress or Complete
    rollup: Rollup
    evidence: int
    last_update: date | None
    days_since_update: int | None
    kpis: list[KpiStatus]
    gaps: list[str]


class ActionLine(NamedTuple):
    """An action in the exception lists."""

    view: ActionView
    days_to_due: int | None  # negative when overdue; None: no due date

    @property
    def action(self) -> Action:
        return self.view.action

    @property
    def rag(self) -> str:
        return rag_label(self.view.rating.rag, self.view.rating.overridden)

    @property
    def why(self) -> str:
        """Why the RAG is what it is; for an override, the officer's reason."""
        rating = self.view.rating
        if rating.overridden:
            return f"{self.view.action.rag_reason} (rules: {rag_label(rating.computed)})"
        return rating.reason

    @property
    def owner(self) -> str:
        return self.view.owner.display if self.view.owner else ""


class RagChange(NamedTuple):
    view: ActionView
    before: ActionState

    @property
    def before_label(self) -> str:
        return rag_label(self.before.rag, self.before.overridden)

    @property
    def after_label(self) -> str:
        return rag_label(self.view.rating.rag, self.view.rating.overridden)

    @property
    def worse(self) -> bool:
        return SEVERITY[self.view.rating.rag] < SEVERITY[self.before.rag]

    @property
    def reason(self) -> str:
        """The officer's reason for an override now in force, or why an action was dropped."""
        action = self.view.action
        if action.status is Status.DROPPED:
            return action.dropped_reason
        if self.view.rating.overridden:
            return action.rag_reason
        return self.view.rating.reason


class Slip(NamedTuple):
    view: ActionView
    old_due: date
    new_due: date
    reasons: list[str]  # the notes logged with each change of due date, oldest first


class NewEvidence(NamedTuple):
    evidence: Evidence
    action: Action


class KpiChange(NamedTuple):
    status: KpiStatus
    before: KpiState | None  # None: the KPI was added since
    before_value: Figure
    trend: Trend | None  # None when there was no value before


class Movement(NamedTuple):
    """What moved between the baseline (a board's snapshot or a date) and today."""

    since: date
    board: Board | None
    method: str  # current (frozen on the day) or reconstructed (rebuilt from the log)
    rag_changes: list[RagChange]
    completed: list[ActionView]
    new_actions: list[ActionView]
    slipped: list[Slip]
    new_evidence: list[NewEvidence]
    kpi_changes: list[KpiChange]


class Paper(NamedTuple):
    """What makes the report a board paper: who it is for, the meeting it goes to, its marking,
    and the Director's narrative and decisions stored with that meeting."""

    board_name: str
    marking: str  # printed in every page's header and footer
    author: str  # the author's role
    logo: Image | None
    meeting: Board | None  # the meeting the paper goes to (None: none recorded)
    meeting_number: int | None
    next_board: Board | None  # the meeting after it
    next_board_number: int | None
    logo_file: str = ""  # the paper.logo setting; read only by the formats that embed it (paper_logo.py)


class Report(NamedTuple):
    header: Header
    totals: Rollup
    focus_areas: list[FocusRow]
    recommendations: list[RecRow]
    exceptions: list[ActionLine]  # red or overdue
    due_soon: list[ActionLine]  # other open actions due within DUE_SOON_DAYS
    movement: Movement | None  # None: no board before today to measure from
    kpis: list[KpiStatus]
    paper: Paper
    partners: list[PartnerView] = []  # improvement partners engaged today (shared default, never mutated)


# -- building ------------------------------------------------------------------------------


class After:
    """Tells whether a stored timestamp fell after the local calendar day ``day``.

    The clock stores UTC stamps (``2025-11-30T09:00:00+00:00``), which sort as
    text, so most are compared with one precomputed cut-off instead of being
    parsed; any other form is parsed.
    """

    def __init__(self, day: date) -> None:
        self.day = day
        midnight = datetime.combine(day + timedelta(days=1), time(0)).astimezone()
        self.cutoff = midnight.astimezone(UTC).isoformat(timespec="seconds")

    def __call__(self, stamp: str) -> bool:
        if len(stamp) == 25 and stamp.endswith("+00:00"):
            return stamp >= self.cutoff
        return local_date_of(stamp) > self.day


def _status(roll: Rollup, actions: list[Action]) -> str:
    if roll.actions == 0:
        return "No actions"
    if roll.complete == roll.actions:
        return "Complete"
    started = any(
        a.status is not Status.DROPPED and (a.status is not Status.NOT_STARTED or a.progress > 0) for a in actions
    )
    return "In progress" if started else "Not started"


def _refs(views: list[ActionView]) -> str:
    refs = [v.action.ref for v in views[:GAP_REFS]]
    more = len(views) - GAP_REFS
    return ", ".join(refs) + (f" and {more} more" if more > 0 else "")


def _rec_row(
    rec: Recommendation,
    focus: FocusArea | None,
    views: list[ActionView],
    kpis: list[KpiStatus],
    today: date,
) -> RecRow:
    roll = rollup(((v.action, v.rating.rag) for v in views), today)
    # One pass over the live (not dropped) actions for the latest stamp, the evidence and the gaps.
    # Stamps are stored in UTC by the clock, so the latest sorts last as text: parse just that one.
    live: list[ActionView] = []
    unevidenced: list[ActionView] = []
    undated: list[ActionView] = []
    latest = ""
    evidence = 0
    for v in views:
        action = v.action
        status = action.status
        if status is Status.DROPPED:
            continue
        live.append(v)
        stamp = action.last_logged_at or action.created_at
        if stamp and stamp > latest:
            latest = stamp
        if v.evidence_count == 0:
            unevidenced.append(v)
        else:
            evidence += v.evidence_count
        if action.due is None and status.is_open:
            undated.append(v)
    last = local_date_of(latest) if latest else None
    days = (today - last).days if last else None
    gaps: list[str] = []
    if not live:
        gaps.append("no actions")
    if unevidenced:
        noun = "action" if len(unevidenced) == 1 else "actions"
        gaps.append(f"{len(unevidenced)} {noun} without evidence ({_refs(unevidenced)})")
    if roll.open and (days is None or days >= STALE_DAYS):  # as kt check --stale counts
        gaps.append(f"no update in {STALE_DAYS} days")
    if undated:
        noun = "action" if len(undated) == 1 else "actions"
        gaps.append(f"{len(undated)} {noun} with no due date ({_refs(undated)})")
    return RecRow(
        rec=rec,
        focus=focus,
        status=_status(roll, [v.action for v in views]),
        rollup=roll,
        evidence=evidence,
        last_update=last,
        days_since_update=days,
        kpis=kpis,
        gaps=gaps,
    )


def _movement(
    s: Session,
    base: Baseline,
    views: list[ActionView],
    book: KpiBook,
    kpis: list[KpiStatus],
) -> Movement:
    since = base.since
    before = base.state.actions
    in_scope = {v.action.id: v for v in views}
    rag_changes: list[RagChange] = []
    completed: list[ActionView] = []
    new_actions: list[ActionView] = []
    slipped_ids: list[tuple[ActionView, ActionState]] = []
    for v in views:
        then = before.get(v.action.id)
        now = v.rating.rag
        if then is None:
            new_actions.append(v)
            if v.action.status is Status.COMPLETE:
                completed.append(v)
            continue
        if v.action.status is Status.COMPLETE and then.status is not Status.COMPLETE:
            completed.append(v)
            if not then.status.is_open:  # reopened-and-closed or un-dropped: still a RAG change
                rag_changes.append(RagChange(v, then))
        elif now is not then.rag:
            rag_changes.append(RagChange(v, then))
        if v.action.due is not None and then.due is not None and v.action.due > then.due:
            slipped_ids.append((v, then))
    rag_changes.sort(key=lambda c: (SEVERITY[c.view.rating.rag], c.view.action.id))

    # Why each due date moved: the notes logged with the change, read back only as far as the baseline.
    later = After(since)
    reasons: dict[int, list[str]] = {}
    wanted = {v.action.id for v, _ in slipped_ids}
    if wanted:
        for entry in s.store.select(LogEntry, newest_first=True):
            if not later(entry.at):
                break
            if entry.action_id in wanted and "due" in (entry.changes or {}) and entry.note:
                reasons.setdefault(entry.action_id, []).insert(0, entry.note)
    slipped = [
        Slip(v, then.due, v.action.due, reasons.get(v.action.id, []))
        for v, then in slipped_ids
        if then.due is not None and v.action.due is not None
    ]

    new_evidence: list[NewEvidence] = []
    for item in s.store.select(Evidence, In("action_id", in_scope)):
        if item.added_at and later(item.added_at):
            new_evidence.append(NewEvidence(item, in_scope[item.action_id].action))
    new_evidence.sort(key=lambda n: (n.action.id, n.evidence.id))

    kpi_changes: list[KpiChange] = []
    for status in kpis:
        latest = status.latest
        old = base.state.kpis.get(status.kpi.id)
        if latest is None:
            continue
        if old is not None and old.period == latest.record.period and old.value == latest.record.value:
            continue
        old_value = old.value if old is not None else None
        before_value = book.figure_for(status.kpi, old.period if old else None, old_value)
        comparable = old_value is not None and before_value.value is not None and latest.value.value is not None
        kpi_changes.append(
            KpiChange(
                status=status,
                before=old,
                before_value=before_value,
                trend=trend(status.kpi, old_value, latest.record.value)
                if comparable and old_value is not None
                else None,
            )
        )
    return Movement(
        since=since,
        board=base.board,
        method=base.state.method,
        rag_changes=rag_changes,
        completed=sorted(completed, key=lambda v: v.action.id),
        new_actions=new_actions,
        slipped=slipped,
        new_evidence=new_evidence,
        kpi_changes=kpi_changes,
    )


def build_paper(s: Session, board: str | None = None) -> Paper:
    """The paper's settings and meeting: ``board`` names it (``B7``), else the next meeting
    on or after today."""
    from knowsley_tracker.models import parse_ref

    boards = sorted(s.store.all(Board), key=lambda b: (b.date, b.id))
    if board is not None:
        wanted = parse_ref(board, Board)
        meeting = next((b for b in boards if b.id == wanted), None)
        if meeting is None:
            known = ", ".join(b.ref for b in boards) or "none yet (kt board add DATE)"
            raise NotFoundError(f"No board meeting {board!r}. Known: {known}.")
    else:
        meeting = next((b for b in boards if b.date >= s.today), None)
    after = [b for b in boards if meeting is not None and b.date > meeting.date]
    logo_path = s.setting("paper.logo")
    name = s.setting("board.name") or f"{s.store.authority} Improvement Board"
    return Paper(
        board_name=name,
        marking=s.setting("paper.marking"),
        author=s.setting("paper.author"),
        logo=None,
        logo_file=logo_path or "",
        meeting=meeting,
        meeting_number=meeting_number(meeting, boards) if meeting is not None else None,
        next_board=after[0] if after else None,
        next_board_number=meeting_number(after[0], boards) if after else None,
    )


def build_report(s: Session, *, focus: str | None = None, since: str | None = None, board: str | None = None) -> Report:
    """The board status report as of today, for the whole plan or one focus area, as the
    paper for a board meeting (``board``, else the next one)."""
    area = s.focus(focus) if focus else None
    since_day = s.parse_date(since) if since else None
    today = s.today
    if since_day is not None and since_day >= today:
        raise ValidationError(
            f"--since takes a day before today ({format_date(today)}): movement is measured from the end of that day."
        )
    index = PlanIndex(s)
    book = KpiBook.load(s, areas=index.areas, recs=index.recs)

    views = index.views(index.actions)
    if area is not None:
        views = [v for v in views if v.focus is not None and v.focus.id == area.id]
    by_rec: dict[int, list[ActionView]] = {}
    for v in views:
        by_rec.setdefault(v.action.rec_id, []).append(v)

    recs = [r for r in index.recs.values() if area is None or r.focus_id == area.id]
    kpis = book.scorecard(area.id if area else None)
    kpis_by_rec: dict[int, list[KpiStatus]] = {}
    for status in kpis:
        for rec_id in status.kpi.rec_ids:
            kpis_by_rec.setdefault(rec_id, []).append(status)

    rec_rows = [
        _rec_row(
            r,
            index.areas.get(r.focus_id) if r.focus_id else None,
            by_rec.get(r.id, []),
            kpis_by_rec.get(r.id, []),
            today,
        )
        for r in recs
    ]

    by_focus: dict[int | None, list[ActionView]] = {}
    for v in views:
        by_focus.setdefault(v.focus.id if v.focus is not None else None, []).append(v)
    recs_by_focus: dict[int | None, int] = {}
    for r in recs:
        key = r.focus_id if r.focus_id in index.areas else None
        recs_by_focus[key] = recs_by_focus.get(key, 0) + 1
    focus_rows: list[FocusRow] = []
    areas: list[FocusArea | None] = [area] if area is not None else list(index.areas.values())
    if area is None and (None in by_focus or None in recs_by_focus):
        areas.append(None)  # recommendations with no focus area
    for fa in areas:
        key = fa.id if fa is not None else None
        fa_views = by_focus.get(key, [])
        roll = rollup(((v.action, v.rating.rag) for v in fa_views), today)
        focus_rows.append(FocusRow(fa, recs_by_focus.get(key, 0), roll))

    exceptions: list[ActionLine] = []
    due_soon: list[ActionLine] = []
    for v in sorted(views, key=lambda v: (v.action.due or date.max, v.action.id)):
        days = (v.action.due - today).days if v.action.due is not None else None
        if v.rating.rag is Rag.RED or is_overdue(v.action, today):
            exceptions.append(ActionLine(v, days))
        elif v.action.status.is_open and days is not None and 0 <= days <= DUE_SOON_DAYS:
            due_soon.append(ActionLine(v, days))

    base = baseline(s, index, book, since_day)
    movement = _movement(s, base, views, book, kpis) if base is not None else None

    inspection = latest_graded_inspection(s)
    visits = [v for v in list_visits(s, upcoming_only=True) if v.visit.type is InspectionType.MONITORING_VISIT]
    deadlines = action_plan_deadlines(s)
    header = Header(
        authority=s.store.authority,
        report_date=today,
        inspection=inspection,
        next_visit=visits[0] if visits else None,
        focus=area,
        rules=s.rag_rules,
        intervention=current_intervention(s),
        action_plan=deadlines[0] if deadlines else None,
    )
    partners = list_partners(s, active_only=True)
    if area is not None:
        area_recs = {r.id for r in recs}
        partners = [p for p in partners if area.id in p.partner.focus_ids or area_recs.intersection(p.partner.rec_ids)]
    return Report(
        header=header,
        totals=rollup(((v.action, v.rating.rag) for v in views), today),
        focus_areas=focus_rows,
        recommendations=rec_rows,
        exceptions=exceptions,
        due_soon=due_soon,
        movement=movement,
        kpis=kpis,
        partners=partners,
        paper=build_paper(s, board),
    )
