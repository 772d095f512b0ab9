"""Board meetings, and the plan as it stood at each: frozen snapshots and movement baselines.

A meeting on or before today is frozen when recorded: every action's status,
progress, due date, RAG and evidence count and every KPI's latest value are
written to an immutable snapshot file (``store.save_snapshot``) that the Board
record names. For a past date the state is rebuilt from the progress log,
whose entries record each change as ``field -> [old, new]``; a meeting still to
come is frozen later with ``kt board freeze``.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any, Literal, NamedTuple

from knowsley_tracker.dates import format_date, local_date_of
from knowsley_tracker.errors import ConflictError, CorruptStoreError, ValidationError
from knowsley_tracker.filenames import name_problem, shown, snapshot_stem
from knowsley_tracker.models import Action, Board, Evidence, LogEntry, Rag, Status, parse_ref
from knowsley_tracker.rag import DEFAULT_AMBER_DAYS, DEFAULT_AMBER_PROGRESS, RagRules, rate
from knowsley_tracker.service.actions import PlanIndex
from knowsley_tracker.service.kpis import Figure, KpiBook, latest_as_of
from knowsley_tracker.service.session import Session

SNAPSHOT_KIND = "knowsley-tracker board snapshot"
SNAPSHOT_VERSION = 1

Method = Literal["current", "reconstructed"]
# Plain lookups: calling the enums is slow when a snapshot holds thousands of actions.
_STATUSES = {s.value: s for s in Status}
_RAGS = {r.value: r for r in Rag}


class ActionState(NamedTuple):
    """One action as it stood on a given day."""

    id: int
    ref: str
    title: str
    rec_id: int
    status: Status
    progress: int
    due: date | None
    rag: Rag
    overridden: bool
    rag_reason: str
    evidence: int

    def to_json(self) -> dict[str, Any]:
        return {
            "ref": self.ref,
            "title": self.title,
            "rec_id": self.rec_id,
            "status": self.status.value,
            "progress": self.progress,
            "due": self.due.isoformat() if self.due else None,
            "rag": self.rag.value,
            "rag_overridden": self.overridden,
            "rag_reason": self.rag_reason,
            "evidence": self.evidence,
        }

    @classmethod
    def from_json(cls, action_id: int, data: dict[str, Any]) -> ActionState:
        # Positional, in field order: a snapshot holds an action state per action (3,000 on
        # a regional plan), and keyword arguments cost NamedTuple's __new__ a third more.
        due = data.get("due")
        return _tuple_new(  # not cls(...): NamedTuple's __new__ is a Python function
            cls,
            (
                action_id,
                data["ref"],
                data["title"],
                int(data["rec_id"]),
                _STATUSES[data["status"]],
                int(data["progress"]),
                date.fromisoformat(due) if due else None,
                _RAGS[data["rag"]],
                bool(data.get("rag_overridden", False)),
                str(data.get("rag_reason", "")),
                int(data.get("evidence", 0)),
            ),
        )


_tuple_new = tuple.__new__


class KpiState(NamedTuple):
    """A KPI's latest value as it stood on a given day (``value`` None: none reported yet)."""

    id: int
    key: str
    name: str
    period: str | None
    period_end: date | None
    value: float | None

    def to_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "name": self.name,
            "period": self.period,
            "period_end": self.period_end.isoformat() if self.period_end else None,
            "value": self.value,
        }

    @classmethod
    def from_json(cls, kpi_id: int, data: dict[str, Any]) -> KpiState:
        end = data.get("period_end")
        value = data.get("value")
        return cls(
            id=kpi_id,
            key=data["key"],
            name=data.get("name", ""),
            period=data.get("period"),
            period_end=date.fromisoformat(end) if end else None,
            value=float(value) if value is not None else None,
        )


class PlanState(NamedTuple):
    """The plan as it stood at the end of ``as_of``."""

    as_of: date
    method: Method
    rules: RagRules
    actions: dict[int, ActionState]
    kpis: dict[int, KpiState]

    def rag_counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for state in self.actions.values():
            counts[state.rag.value] = counts.get(state.rag.value, 0) + 1
        return {rag.value: counts[rag.value] for rag in Rag if rag.value in counts}

    def to_json(self, *, board: str, taken_at: str) -> dict[str, Any]:
        return {
            "kind": SNAPSHOT_KIND,
            "version": SNAPSHOT_VERSION,
            "board": board,
            "as_of": self.as_of.isoformat(),
            "method": self.method,
            "taken_at": taken_at,
            "rag_rules": {"amber_days": self.rules.amber_days, "amber_progress": self.rules.amber_progress},
            "actions": {str(k): v.to_json() for k, v in sorted(self.actions.items())},
            "kpis": {str(k): v.to_json() for k, v in sorted(self.kpis.items())},
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PlanState:
        if data.get("kind") != SNAPSHOT_KIND or data.get("version") != SNAPSHOT_VERSION:
            raise ValueError("not a version 1 board snapshot")
        rules = data.get("rag_rules", {})
        return cls(
            as_of=date.fromisoformat(data["as_of"]),
            method="reconstructed" if data.get("method") == "reconstructed" else "current",
            rules=RagRules(
                int(rules.get("amber_days", DEFAULT_AMBER_DAYS)),
                int(rules.get("amber_progress", DEFAULT_AMBER_PROGRESS)),
            ),
            actions={(i := int(k)): ActionState.from_json(i, v) for k, v in data["actions"].items()},
            kpis={int(k): KpiState.from_json(int(k), v) for k, v in data["kpis"].items()},
        )


# -- building states -------------------------------------------------------------------


def _kpi_states(book: KpiBook, day: date | None) -> dict[int, KpiState]:
    out: dict[int, KpiState] = {}
    for kpi in book.kpis:
        values = book.values.get(kpi.id, [])
        latest = latest_as_of(values, day) if day is not None else (values[-1] if values else None)
        out[kpi.id] = KpiState(
            id=kpi.id,
            key=kpi.key,
            name=kpi.name,
            period=latest.period if latest else None,
            period_end=latest.period_end if latest else None,
            value=latest.value if latest else None,
        )
    return out


def _action_state(action: Action, day: date, evidence: int, rules: RagRules) -> ActionState:
    rating = rate(action, day, evidence, rules)
    return ActionState(
        id=action.id,
        ref=action.ref,
        title=action.title,
        rec_id=action.rec_id,
        status=action.status,
        progress=action.progress,
        due=action.due,
        rag=rating.rag,
        overridden=rating.overridden,
        rag_reason=action.rag_reason if rating.overridden else "",
        evidence=evidence,
    )


def current_state(s: Session, index: PlanIndex, book: KpiBook) -> PlanState:
    """The plan as it stands now."""
    rules = s.rag_rules
    actions = {a.id: _action_state(a, s.today, index.evidence_counts.get(a.id, 0), rules) for a in index.actions}
    # Values for periods that end after today (none are accepted, but imports may hold them)
    # are left out, as they would be for a past date.
    return PlanState(s.today, "current", rules, actions, _kpi_states(book, s.today))


def _created_by(stamp: str, day: date) -> bool:
    return not stamp or local_date_of(stamp) <= day


def reconstructed_state(s: Session, day: date, index: PlanIndex, book: KpiBook) -> PlanState:
    """The plan at the end of a past ``day``, rebuilt by undoing the logged changes made after it.

    Status, progress, due date and RAG override change only through the
    progress log, each entry recording ``field -> [old, new]``, so walking the
    log back from the newest entry recovers their values on ``day``. Closing
    an action clears its override without a log entry; for those the walk goes
    on past ``day`` to the change that set the override in force then.
    """
    actions = {a.id: a for a in index.actions if _created_by(a.created_at, day)}
    fields: dict[int, dict[str, Any]] = {
        a.id: {
            "status": a.status.value,
            "progress": a.progress,
            "due": a.due.isoformat() if a.due else None,
            "override": a.rag_override.value if a.rag_override else None,
            "reason": a.rag_reason,
        }
        for a in actions.values()
    }
    need_value: set[int] = set()  # override on ``day`` still unknown
    need_reason: set[int] = set()  # override known, the reason given for it not yet
    for entry in s.store.select(LogEntry, newest_first=True):
        aid = entry.action_id
        state = fields.get(aid)
        after = local_date_of(entry.at) > day
        if not after and not need_value and not need_reason:
            break
        if state is None:
            continue
        changes: dict[str, list[Any]] = entry.changes or {}
        status_change = changes.get("status")
        closed = reopened = False
        if status_change is not None:
            was_open, now_open = Status(status_change[0]).is_open, Status(status_change[1]).is_open
            closed, reopened = was_open and not now_open, now_open and not was_open
        override_change = changes.get("rag_override")
        if after:
            for name in ("status", "progress", "due"):
                if name in changes:
                    state[name] = changes[name][0]
            if override_change is not None:
                state["override"], state["reason"] = override_change[0], ""
                need_value.discard(aid)
                if state["override"]:
                    need_reason.add(aid)
                else:
                    need_reason.discard(aid)
            if closed:  # just before closing, the override in force is not recorded here
                state["override"], state["reason"] = None, ""
                need_value.add(aid)
                need_reason.discard(aid)
            elif reopened:  # a closed action has no override
                state["override"], state["reason"] = None, ""
                need_value.discard(aid)
                need_reason.discard(aid)
        elif aid in need_value:
            if override_change is not None:
                state["override"], state["reason"] = override_change[1], entry.note
                need_value.discard(aid)
            elif closed or reopened:
                need_value.discard(aid)
        elif aid in need_reason and override_change is not None and override_change[1] == state["override"]:
            state["reason"] = entry.note
            need_reason.discard(aid)

    evidence: dict[int, int] = {}
    for item in s.store.all(Evidence):
        on = local_date_of(item.added_at) if item.added_at else item.date
        if on <= day:
            evidence[item.action_id] = evidence.get(item.action_id, 0) + 1

    rules = s.rag_rules
    states: dict[int, ActionState] = {}
    for aid, action in actions.items():
        f = fields[aid]
        status = Status(f["status"])
        then = replace(
            action,
            status=status,
            progress=int(f["progress"]),
            due=date.fromisoformat(f["due"]) if f["due"] else None,
            rag_override=Rag(f["override"]) if f["override"] and status.is_open else None,
            rag_reason=f["reason"] if f["override"] and status.is_open else "",
            dropped_reason=(action.dropped_reason or "dropped") if status is Status.DROPPED else "",
        )
        states[aid] = _action_state(then, day, evidence.get(aid, 0), rules)
    # A KPI's value on ``day`` is the one for the latest period ending by then, whenever it was entered.
    return PlanState(day, "reconstructed", rules, states, _kpi_states(book, day))


def state_as_of(s: Session, day: date, index: PlanIndex, book: KpiBook) -> PlanState:
    """The plan at the end of ``day``: as it is now for today, rebuilt from the log for a past day."""
    if day > s.today:
        raise ValidationError(f"{format_date(day)} is still to come: the plan cannot be shown as it will be.")
    if day == s.today:
        return current_state(s, index, book)
    return reconstructed_state(s, day, index, book)


def load_state(s: Session, board: Board) -> PlanState:
    """The frozen snapshot of a board meeting."""
    problem = name_problem("snapshot", board.snapshot_file)
    if problem is not None:
        raise CorruptStoreError(
            f"Board {board.ref}'s snapshot_file {shown(board.snapshot_file)} {problem}; kt will not open it. "
            "Run kt doctor."
        )
    data = s.store.load_snapshot(board.snapshot_file)
    try:
        return PlanState.from_json(data)
    except (KeyError, TypeError, ValueError):
        raise CorruptStoreError(
            f"The snapshot of board {board.ref} ({board.snapshot_file}) cannot be read. Run kt doctor."
        ) from None


# -- use-cases -----------------------------------------------------------------------------


def _freeze(s: Session, board: Board) -> Board:
    index = PlanIndex(s)
    book = KpiBook.load(s, areas=index.areas, recs=index.recs)
    state = state_as_of(s, board.date, index, book)
    stamp = s.stamp()
    board.snapshot_file = s.store.save_snapshot(
        snapshot_stem(board.date, board.ref), state.to_json(board=board.ref, taken_at=stamp)
    )
    board.snapshot_method = state.method
    board.frozen_at = stamp
    board.rag_counts = state.rag_counts()
    return board


def add_board(s: Session, when: str, note: str = "") -> Board:
    """Record a board meeting; one held today or earlier is frozen at once."""
    s.texts(note=note)
    day = s.parse_date(when)
    for existing in s.store.all(Board):
        if existing.date == day:
            hint = ""
            if not existing.is_frozen and day <= s.today:
                hint = f" Freeze its snapshot with kt board freeze {existing.ref}."
            raise ConflictError(f"A board meeting on {format_date(day)} is already recorded ({existing.ref}).{hint}")
    board = s.store.add(Board(date=day, note=note, created_at=s.stamp()))
    if day <= s.today:
        _freeze(s, board)
        s.store.save(board)
    return board


def freeze_board(s: Session, ref: str) -> Board:
    """Freeze the snapshot of a meeting recorded in advance, once its day has come."""
    board = s.record(Board, ref, "kt board list")
    if board.is_frozen:
        raise ConflictError(f"{board.ref} was frozen already; a board snapshot never changes.")
    if board.date > s.today:
        raise ValidationError(f"{board.ref} meets on {format_date(board.date)}: freeze it on or after that day.")
    _freeze(s, board)
    s.store.save(board)
    return board


def list_boards(s: Session) -> list[Board]:
    """Board meetings, oldest first."""
    return sorted(s.store.all(Board), key=lambda b: (b.date, b.id))


class BoardView(NamedTuple):
    """A board meeting with its snapshot (None while it is still to come) and its KPI figures."""

    board: Board
    state: PlanState | None
    kpi_values: dict[int, Figure]


def show_board(s: Session, ref: str) -> BoardView:
    board = s.record(Board, ref, "kt board list")
    if not board.is_frozen:
        return BoardView(board, None, {})
    state = load_state(s, board)
    book = KpiBook.load(s)
    units = {k.id: k for k in book.kpis}
    values: dict[int, Figure] = {}
    for kpi_id, k in state.kpis.items():
        kpi = units.get(kpi_id)
        # A KPI removed since the meeting is shown as a bare count (suppressed when small).
        values[kpi_id] = (
            book.figure_for(kpi, k.period, k.value)
            if kpi is not None
            else book.figures.count(None if k.value is None else int(k.value))
        )
    return BoardView(board, state, values)


class Baseline(NamedTuple):
    """What the report measures movement against: a board's snapshot, or the plan on a date."""

    state: PlanState
    board: Board | None

    @property
    def since(self) -> date:
        return self.state.as_of


def baseline(s: Session, index: PlanIndex, book: KpiBook, since: date | None = None) -> Baseline | None:
    """The latest board snapshot before today, or the plan as at ``since`` (a board's if one met that day)."""
    frozen = [b for b in s.store.all(Board) if b.is_frozen]
    if since is None:
        earlier = [b for b in frozen if b.date < s.today]
        if not earlier:
            return None
        board = max(earlier, key=lambda b: (b.date, b.id))
        return Baseline(load_state(s, board), board)
    on_day = [b for b in frozen if b.date == since]
    if on_day:
        board = max(on_day, key=lambda b: b.id)
        return Baseline(load_state(s, board), board)
    return Baseline(state_as_of(s, since, index, book), None)


# The Director's narrative is a page or two of a board paper, not a document store.
NARRATIVE_MAX_CHARS = 20_000
DECISION_MAX_CHARS = 500


def edit_board(
    s: Session,
    ref: str,
    *,
    number: int | None = None,
    note: str | None = None,
    narrative: str | None = None,
    decisions: list[str] | None = None,
) -> tuple[Board, list[str]]:
    """Set what the paper for a meeting says: its number, note, the Director's narrative
    (Markdown; empty clears it) and the decisions or asks of the board (replacing any
    there were; an empty list clears them). The snapshot is never touched. Returns the
    board and the names of the fields changed."""
    board = s.store.get(Board, parse_ref(ref, Board))
    changes: dict[str, Any] = {}
    if number is not None:
        taken = [b.ref for b in s.store.all(Board) if b.number == number and b.id != board.id]
        if taken:
            raise ConflictError(f"Board meeting {taken[0]} is already number {number}.")
        changes["number"] = number
    if note is not None:
        s.texts(note=note)
        changes["note"] = note
    if narrative is not None:
        if len(narrative) > NARRATIVE_MAX_CHARS:
            raise ValidationError(
                f"The narrative is {len(narrative):,} characters long: keep it to {NARRATIVE_MAX_CHARS:,} "
                "(a board paper's narrative is a page or two)."
            )
        s.text("narrative", narrative)
        changes["narrative"] = narrative
    if decisions is not None:
        for n, decision in enumerate(decisions, start=1):
            if not decision.strip():
                raise ValidationError(f"Decision {n} is empty: give the decision or ask in words.")
            if len(decision) > DECISION_MAX_CHARS:
                raise ValidationError(f"Decision {n} is longer than {DECISION_MAX_CHARS} characters.")
            s.text(f"decision {n}", decision)
        changes["decisions"] = decisions
    if not changes:
        raise ValidationError(f"Nothing to change: give what to change about {board.ref} (see kt board edit --help).")
    updated = replace(board, **changes)
    changed = [name for name in changes if getattr(board, name) != getattr(updated, name)]
    if changed:
        s.store.save(updated)
    return updated, changed


def meeting_number(board: Board, boards: list[Board]) -> int:
    """The board's own number for a meeting; else counted on from the latest earlier meeting
    that has one (``kt board edit B1 --number 4`` makes B2 the 5th); else its place among
    the meetings recorded, oldest first."""
    if board.number is not None:
        return board.number
    ordered = sorted(boards, key=lambda b: (b.date, b.id))
    place = next(n for n, b in enumerate(ordered) if b.id == board.id)
    for n in range(place - 1, -1, -1):
        numbered = ordered[n].number
        if numbered is not None:
            return numbered + place - n
    return place + 1
