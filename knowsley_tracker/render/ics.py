"""``kt export --format ics``: visits, board meetings, statutory action-plan deadlines and
action due dates as an iCalendar file.

Built with the icalendar library (RFC 5545 escaping and line folding are its
job, so user text is carried literally; characters the format cannot hold
become visible escapes, as on a terminal); only this module imports
it, and only ``kt export --format ics`` imports this module. Every event is an
all-day event whose UID joins the record's ref to the plan's identity, so
importing a newer export updates events instead of duplicating them. Visits,
boards and deadlines carry a reminder (VALARM) the set number of days before
(settings ics.visit_alarm_days, ics.deadline_alarm_days, ics.board_alarm_days).
"""

from __future__ import annotations

from datetime import date, timedelta

from icalendar import Alarm, Calendar, Event

from knowsley_tracker import __version__
from knowsley_tracker.dates import format_date
from knowsley_tracker.models import Board, Status, VisitStatus
from knowsley_tracker.render.text import safe
from knowsley_tracker.service.actions import ActionView
from knowsley_tracker.service.exchange import CalendarData
from knowsley_tracker.service.plan import ActionPlanDeadline
from knowsley_tracker.service.visits import VisitView

PRODID = f"-//knowsley-tracker//kt export {__version__}//EN"
UID_DOMAIN = "knowsley-tracker"


def uid(ref: str, identity: str) -> str:
    """The event's UID: stable for one record of one plan across exports."""
    return f"{ref.lower()}-{identity}@{UID_DOMAIN}"


def _all_day(event: Event, day: date) -> None:
    """An all-day event: DTEND is the next day (exclusive). The last day Python can hold
    (31 Dec 9999, only in a store edited by hand: kt refuses such dates at input) has no
    next day, so it says DURATION:P1D instead, which RFC 5545 reads the same."""
    event.add("dtstart", day)
    if day < date.max:
        event.add("dtend", day + timedelta(days=1))
    else:
        event.add("duration", timedelta(days=1))


def _text(value: str) -> str:
    """User text as iCalendar allows it: RFC 5545 text holds no control characters
    (bar tab) and UTF-8 holds no lone surrogates, so those become visible escapes
    (``\\x1b``, ``\\udcff``), as on a terminal; line breaks stay line breaks."""
    return safe(value, keep_newlines=True)


def _base(data: CalendarData, ref: str, day: date, summary: str, description: list[str]) -> Event:
    event = Event()
    event.add("uid", uid(ref, data.identity))
    event.add("dtstamp", data.stamp)
    event.add("sequence", data.sequence)
    _all_day(event, day)
    event.add("summary", _text(summary))
    event.add("description", _text("\n".join(line for line in description if line)))
    return event


def _alarm(event: Event, days: int, what: str) -> None:
    """A reminder ``days`` before the (all-day) event starts."""
    alarm = Alarm()
    alarm.add("action", "DISPLAY")
    alarm.add("description", _text(f"{what} {'today' if days == 0 else f'in {days} day' + ('s' if days != 1 else '')}"))
    alarm.add("trigger", timedelta(days=-days))
    event.add_component(alarm)


def visit_event(data: CalendarData, view: VisitView) -> Event:
    visit = view.visit
    name = f"Ofsted {visit.type.label.lower()}"
    if view.number is not None:
        name += f" {view.number}"
    if visit.status is VisitStatus.PROJECTED:
        name += " (projected)"
    themes = "; ".join(f"{t.key} {t.name}" for t in view.themes)
    event = _base(
        data,
        visit.ref,
        visit.date,
        name,
        [
            f"{visit.ref}, {data.authority} improvement plan.",
            f"Status: {visit.status.value}",
            f"Themes: {themes}" if themes else "",
            f"Outcome: {visit.outcome}" if visit.outcome else "",
        ],
    )
    tentative = visit.status in (VisitStatus.PROJECTED, VisitStatus.EXPECTED)
    event.add("status", "TENTATIVE" if tentative else "CONFIRMED")
    event.add("transp", "OPAQUE")
    event.add("categories", ["Ofsted visit"])
    _alarm(event, data.alarms.visit, name)
    return event


def board_event(data: CalendarData, board: Board) -> Event:
    name = "Improvement board" + (f": {board.note}" if board.note else "")
    event = _base(
        data,
        board.ref,
        board.date,
        name,
        [
            f"{board.ref}, {data.authority} improvement plan.",
            "The plan's status is frozen into a snapshot on the day (kt board show "
            f"{board.ref}); kt report prints the board pack.",
        ],
    )
    event.add("status", "CONFIRMED")
    event.add("transp", "OPAQUE")
    event.add("categories", ["Improvement board"])
    _alarm(event, data.alarms.board, "Improvement board")
    return event


def deadline_event(data: CalendarData, deadline: ActionPlanDeadline) -> Event:
    inspection = deadline.inspection
    summary = "Action plan to Ofsted due"
    if deadline.sent is not None:
        summary += f" (sent {format_date(deadline.sent)})"
    event = _base(
        data,
        f"{inspection.ref}-action-plan",
        deadline.due,
        summary,
        [
            f"{inspection.ref}, {data.authority} improvement plan.",
            "The written action plan is due to Ofsted 70 working days after the inspection report "
            f"(published {format_date(inspection.report_date)}).",
            f"Record it as sent with: kt inspection edit {inspection.ref} --action-plan-sent DATE"
            if deadline.sent is None
            else "",
        ],
    )
    event.add("status", "CONFIRMED")
    event.add("transp", "TRANSPARENT")
    event.add("categories", ["Statutory deadline"])
    if deadline.sent is None:
        _alarm(event, data.alarms.deadline, summary)
    return event


def action_event(data: CalendarData, view: ActionView, due: date) -> Event:
    action = view.action
    rec = f"{view.rec.ref} {view.rec.short}" if view.rec else ""
    summary = f"{action.ref} due: {action.title}"
    if not action.status.is_open:
        summary += f" ({action.status.label.lower()})"
    event = _base(
        data,
        action.ref,
        due,
        summary,
        [
            f"{action.ref}, {data.authority} improvement plan.",
            f"Recommendation: {rec}" if rec else "",
            f"Focus area: {view.focus.key} {view.focus.name}" if view.focus else "",
            f"Owner: {view.owner.display}" if view.owner else "Owner: none",
            f"Status: {action.status.label}, {action.progress}% done, RAG {view.rating.rag.label}",
            f"Due date first agreed: {format_date(action.original_due)}" if action.has_slipped else "",
            f"Success measure: {action.success_measure}" if action.success_measure else "",
            f"Latest update: {action.last_note}" if action.last_note else "",
        ],
    )
    event.add("status", "CANCELLED" if action.status is Status.DROPPED else "CONFIRMED")
    event.add("transp", "TRANSPARENT")
    event.add("categories", ["Action due"])
    return event


def calendar(data: CalendarData) -> Calendar:
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", _text(f"{data.authority} improvement plan"))
    for visit in data.visits:
        cal.add_component(visit_event(data, visit))
    for board in data.boards:
        cal.add_component(board_event(data, board))
    for deadline in data.deadlines:
        cal.add_component(deadline_event(data, deadline))
    for action in data.actions:
        if action.action.due is not None:  # an action with no due date has no day in the calendar
            cal.add_component(action_event(data, action, action.action.due))
    return cal


def to_ics(data: CalendarData) -> bytes:
    """The calendar as RFC 5545 bytes (UTF-8, CRLF line ends, folded lines)."""
    payload: bytes = calendar(data).to_ical()
    return payload
