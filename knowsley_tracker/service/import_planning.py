"""Planning a spreadsheet import: every row checked and resolved against the plan and
the rows before it, before anything is written (all or nothing, every problem
reported with its spreadsheet row). Recommendations, focus areas, owners and
actions already in the plan are matched; the rest are planned as new records,
and rows that describe an existing action differently become notes.
"""

from __future__ import annotations

import re
from datetime import date
from typing import TypeVar

from knowsley_tracker import lifecycle
from knowsley_tracker.errors import TrackerError, ValidationError
from knowsley_tracker.models import (
    OVERRIDABLE_RAGS,
    Action,
    FocusArea,
    Owner,
    Rag,
    Recommendation,
    Record,
    Status,
    Vocabulary,
    check_progress,
    parse_ref,
)
from knowsley_tracker.patterns import LazyPattern
from knowsley_tracker.rag import rate
from knowsley_tracker.service.actions import PlanIndex
from knowsley_tracker.service.council_values import read_due, read_status
from knowsley_tracker.service.exchange import Problem, reject
from knowsley_tracker.service.plan_sheet import ACTION_COLUMNS, COLUMNS
from knowsley_tracker.service.planned_records import (
    ImportPlan,
    NewAction,
    NewFocus,
    NewOwner,
    NewRec,
    log_note,
)
from knowsley_tracker.service.session import Session
from knowsley_tracker.service.sheet_reading import Sheet

V = TypeVar("V", bound=Vocabulary)

# DOTALL: a focus area's name may hold a line break, and must still find its key on re-import.
_KEYED_NAME = LazyPattern(r"(.*\S)\s*\(([A-Za-z0-9][A-Za-z0-9\-]{0,23})\)", re.DOTALL)
_KEY_SHAPE = LazyPattern(r"[A-Za-z0-9][A-Za-z0-9\-]{0,23}")
_ROLE_AND_NAME = LazyPattern(r"(.*\S)\s*\(([^()]+)\)", re.DOTALL)
_PROGRESS = LazyPattern(r"(\d{1,3})(?:\.0+)?\s*%?")
_STOP_WORDS = frozenset({"a", "an", "and", "for", "in", "of", "on", "the", "to", "with"})


def _norm(text: str) -> str:
    """Text compared the way people read it: white space collapsed, case ignored."""
    return " ".join(text.split()).casefold()


Resolved = Recommendation | NewRec


class _Planner:
    """Reads every row, resolving references against the plan and the rows before it."""

    def __init__(self, s: Session, sheet: Sheet, source: str, accept_rag: str | None = None) -> None:
        self.s = s
        self.sheet = sheet
        self.index = PlanIndex(s)
        self.plan = ImportPlan(
            source=source,
            rows=len(sheet.rows),
            unrecognised_columns=sheet.unrecognised,
            notes=list(sheet.notes),
            rag_reason=accept_rag,
        )
        self.problems: list[Problem] = []
        self.recs_by_text = {_norm(r.text): r for r in self.index.recs.values()}
        self.actions_by_id = {a.id: a for a in self.index.actions}
        self.actions_by_title = {(a.rec_id, _norm(a.title)): a for a in self.index.actions}
        # What earlier rows of the file said or planned.
        self.file_recs: dict[str, tuple[int, str, str, Resolved]] = {}
        self.new_recs_by_text: dict[str, NewRec] = {}
        self.new_focus: list[NewFocus] = []
        self.new_owners: dict[str, NewOwner] = {}
        self.action_rows: dict[int, int] = {}  # action id -> the row that names it
        self.new_action_rows: dict[tuple[int, str], int] = {}  # (id(rec), title) -> row
        self.claimed: dict[str, set[int]] = {}  # ids named in the file and kept, per table
        self.previous: Resolved | None = None
        self.row_ok = True

    # -- helpers ------------------------------------------------------------------

    def problem(self, row: int, column: str, message: str | TrackerError) -> None:
        """A problem with a cell: a message, or the error (its kind decides the import's exit code)."""
        if isinstance(message, TrackerError):
            self.problems.append(Problem.of(f"row {row}", column, message))
        else:
            self.problems.append(Problem(f"row {row}", column, message))
        self.row_ok = False

    def guarded(self, row: int, column: str, label: str, text: str) -> bool:
        """Pass free text through the personal-data guard; a refusal is this cell's problem."""
        try:
            self.s.text(label, text)
        except TrackerError as exc:
            self.problem(row, column, exc)
            return False
        return True

    # -- rows ---------------------------------------------------------------------

    def run(self) -> ImportPlan:
        for number, cells in self.sheet.rows:
            self.row_ok = True
            self.read_row(number, cells)
        if self.problems:
            raise reject(self.plan.source, self.problems)
        self.allocate_ids()
        return self.plan

    def read_row(self, row: int, cells: list[str]) -> None:
        get = {name: self.sheet.cell(cells, name) for name in COLUMNS}
        if not (get["rec_ref"] or get["recommendation"] or get["focus_area"]) and self.previous is not None:
            # Merged cells in Excel come out blank below their first row: the row
            # belongs to the recommendation above it.
            target: Resolved | None = self.previous
        else:
            target = self.recommendation(row, get["rec_ref"], get["recommendation"], get["focus_area"])
            self.previous = target
        if not any(get[name] for name in ACTION_COLUMNS):
            if target is not None and self.row_ok and isinstance(target, Recommendation):
                self.plan.matched += 1
            return
        self.action(row, target, get)

    def recommendation(self, row: int, ref: str, text: str, focus_text: str) -> Resolved | None:
        if not ref:
            self.problem(
                row, "rec_ref", "The recommendation's reference is empty (e.g. R1, or its number in the report)."
            )
        elif not self.guarded(row, "rec_ref", "recommendation's reference", ref):
            ref = ""
        if not text:
            self.problem(row, "recommendation", "The recommendation's text is empty.")
        text_ok = bool(text) and self.guarded(row, "recommendation", "recommendation", text)
        focus = self.focus(row, focus_text) if focus_text else None
        if not ref or not text_ok or (focus_text and focus is None):
            return None
        key = ref.upper()
        seen = self.file_recs.get(key)
        if seen is not None:
            first_row, first_text, first_focus, earlier = seen
            if _norm(first_text) != _norm(text):
                self.problem(row, "recommendation", f"{ref} has different text on row {first_row}.")
                return None
            if _norm(first_focus) != _norm(focus_text):
                shown = f"focus area {first_focus!r}" if first_focus else "no focus area"
                self.problem(row, "focus_area", f"{ref} has {shown} on row {first_row}.")
                return None
            return earlier
        target = self.resolve_recommendation(row, ref, text, focus, focus_text)
        if target is not None:
            self.file_recs[key] = (row, text, focus_text, target)
        return target

    def resolve_recommendation(
        self, row: int, ref: str, text: str, focus: FocusArea | NewFocus | None, focus_text: str
    ) -> Resolved | None:
        existing = self.recs_by_text.get(_norm(text))
        if existing is not None:
            focus_id = focus.id if isinstance(focus, FocusArea) else None
            if focus_text and (isinstance(focus, NewFocus) or existing.focus_id != focus_id):
                self.plan.differences.append(
                    Problem(
                        f"row {row}",
                        "focus_area",
                        f"{existing.ref} is already in the plan under another focus area; it was not changed "
                        f"(use kt rec edit {existing.ref} --focus ...).",
                    )
                )
            return existing
        planned = self.new_recs_by_text.get(_norm(text))
        if planned is not None:
            return planned
        number = _tracker_id(ref, Recommendation)
        clash = self.index.recs.get(number) if number is not None else None
        clash = clash or next(
            (r for r in self.index.recs.values() if r.report_ref and r.report_ref.casefold() == ref.casefold()), None
        )
        if clash is not None:
            self.problem(
                row,
                "recommendation",
                f"{ref} is already in the plan as {clash.ref} with different text ({clash.short!r}): "
                "correct the text, or give this recommendation a reference the plan does not use.",
            )
            return None
        try:
            Recommendation(text=text)
        except ValidationError as exc:
            self.problem(row, "recommendation", exc)
            return None
        kept = self.claim_id(Recommendation, number)
        new = NewRec(
            id=kept,
            text=text,
            report_ref="" if kept else ref,
            focus=focus,
            row=row,
        )
        self.plan.recs.append(new)
        self.new_recs_by_text[_norm(text)] = new
        return new

    def claim_id(self, cls: type[Record], number: int | None) -> int:
        """``number`` if this store never handed it out and no earlier row claimed it
        (it is then claimed), else 0: the record gets a fresh id when the plan is allocated."""
        if number is None:
            return 0
        claimed = self.claimed.setdefault(cls.TABLE, set())
        if number <= self.s.store.next_id(cls.TABLE) - 1 or number in claimed:
            return 0
        claimed.add(number)
        return number

    def focus(self, row: int, text: str) -> FocusArea | NewFocus | None:
        if not self.guarded(row, "focus_area", "focus area", text):
            return None
        keyed = _KEYED_NAME.fullmatch(text)
        name, key = (keyed[1].strip(), keyed[2].upper()) if keyed else (text, "")
        areas: list[FocusArea | NewFocus] = [*self.index.areas.values(), *self.new_focus]
        for area in areas:
            if key and area.key == key:
                return area
        for area in areas:
            ref = area.ref if isinstance(area, FocusArea) else ""
            if _norm(area.name) == _norm(name) or (not key and text.upper() in (area.key, ref)):
                return area
        if not key:
            key = text.upper() if _KEY_SHAPE.fullmatch(text) else _derive_key(name, {a.key for a in areas})
        try:
            FocusArea(key=key, name=name)
        except ValidationError as exc:
            self.problem(row, "focus_area", exc)
            return None
        new = NewFocus(key=key, name=name, row=row)
        self.new_focus.append(new)
        self.plan.focus_areas.append(new)
        return new

    def owner(self, row: int, text: str) -> Owner | NewOwner | None:
        if not self.guarded(row, "owner", "owner", text):
            return None
        owners = list(self.index.owners.values())
        wanted = text.casefold()
        for owner in owners:
            if owner.ref.casefold() == wanted:
                return owner
        if re.fullmatch(r"o\d+", wanted):
            self.problem(row, "owner", f"No owner {text}: use an owner's role or name, or one of the plan's ids.")
            return None
        matches = [o for o in owners if o.display.casefold() == wanted]
        matches = matches or [o for o in owners if wanted in (o.role.casefold(), o.name.casefold(), o.email.casefold())]
        active = [o for o in matches if o.active] or matches
        if len(active) == 1:
            return active[0]
        if len(active) > 1:
            refs = ", ".join(f"{o.ref} ({o.display})" for o in active)
            self.problem(row, "owner", f"{text!r} matches several owners: {refs}. Use the id.")
            return None
        planned = self.new_owners.get(wanted)
        if planned is not None:
            return planned
        split = _ROLE_AND_NAME.fullmatch(text)
        role, name = (split[1], split[2].strip()) if split else (text, "")
        try:
            Owner(role=role, name=name)
        except ValidationError as exc:
            self.problem(row, "owner", exc)
            return None
        new = NewOwner(role=role, name=name, row=row)
        self.new_owners[wanted] = new
        self.plan.owners.append(new)
        return new

    def action(self, row: int, target: Resolved | None, get: dict[str, str]) -> None:
        title = get["action"]
        if not title:
            self.problem(
                row, "action", "The action is empty (a row with no action must leave every action column empty)."
            )
        else:
            self.guarded(row, "action", "action", title)
        readings: list[Problem] = []
        due: date | None = None
        due_ok = True
        try:
            reading = read_due(get["due"], self.s.parse_date)
            due = reading.due
            if reading.note:
                readings.append(Problem(f"row {row}", "due", reading.note))
        except ValidationError as exc:
            self.problem(row, "due", exc)
            due_ok = False
        owner = self.owner(row, get["owner"]) if get["owner"] else None
        status: Status | None = None
        word = ""
        if get["status"]:
            try:
                status_reading = read_status(get["status"])
                status, word = status_reading.status, status_reading.word
                if status_reading.note:
                    readings.append(Problem(f"row {row}", "status", status_reading.note))
            except ValidationError as exc:
                self.problem(row, "status", exc)
        rag = self.rag(row, get["rag"])
        progress = self.progress(row, get["progress"])
        note = get["latest_update"]
        if note:
            self.guarded(row, "latest_update", "latest update", note)
        action_id: int | None = None
        if get["action_id"]:
            try:
                action_id = parse_ref(get["action_id"], Action)
            except ValidationError as exc:
                self.problem(row, "action_id", f"{exc.message} Leave it empty for a new action.")
        if not self.row_ok or target is None or not due_ok:
            return
        try:
            status, progress = lifecycle.resolve("the action", None, 0, status=status, progress=progress)[:2]
        except lifecycle.StatusConflict as exc:
            self.problem(row, "status" if get["status"] else "progress", exc.sheet)
            return
        if status is Status.DROPPED and not note:
            self.problem(row, "latest_update", "A dropped action needs the reason it was dropped in latest_update.")
            return
        existing = self.existing_action(row, target, title, action_id)
        if not self.row_ok:
            return
        if existing is not None:
            self.compare(
                row,
                existing,
                target,
                title,
                due,
                owner,
                status if get["status"] else None,
                progress,
                rag,
                log_note(note, word),
            )
            return
        override = self.override(row, title, due, status, progress or 0, rag, get["rag"], readings)
        if not self.row_ok:
            return
        self.plan.interpretations.extend(readings)
        self.plan.actions.append(
            NewAction(
                id=self.claim_id(Action, action_id),
                rec=target,
                title=title,
                due=due,
                owner=owner,
                status=status,
                progress=progress or 0,
                rag_override=override,
                note=note,
                row=row,
                sheet_status=word,
            )
        )

    def rag(self, row: int, text: str) -> Rag | None:
        """The RAG cell: checked when --accept-rag takes it as an override, else read if it can be."""
        if not text:
            return None
        if self.plan.rag_reason is not None:
            return self.vocabulary(row, "rag", text, Rag)
        try:
            return Rag.parse(text, "RAG")
        except ValidationError:
            return None

    def vocabulary(self, row: int, column: str, text: str, kind: type[V]) -> V | None:
        if not text:
            return None
        try:
            return kind.parse(text, "RAG" if kind is Rag else column)
        except ValidationError as exc:
            self.problem(row, column, exc)
            return None

    def progress(self, row: int, text: str) -> int | None:
        if not text:
            return None
        m = _PROGRESS.fullmatch(text)
        try:
            return check_progress(int(m[1]) if m else text)
        except ValidationError as exc:
            self.problem(row, "progress", exc)
            return None

    def existing_action(self, row: int, target: Resolved, title: str, action_id: int | None) -> Action | None:
        if action_id is not None:
            earlier = self.action_rows.get(action_id)
            if earlier is not None:
                self.problem(row, "action_id", f"A{action_id} is also on row {earlier}.")
                return None
            self.action_rows[action_id] = row
            return self.actions_by_id.get(action_id)
        if isinstance(target, Recommendation):
            found = self.actions_by_title.get((target.id, _norm(title)))
            if found is not None:
                earlier = self.action_rows.get(found.id)
                if earlier is not None:
                    self.problem(row, "action", f"The same action as row {earlier} ({found.ref}).")
                    return None
                self.action_rows[found.id] = row
                return found
        key = (id(target), _norm(title))
        earlier = self.new_action_rows.get(key)
        if earlier is not None:
            self.problem(row, "action", f"The same action as row {earlier}.")
        else:
            self.new_action_rows[key] = row
        return None

    def override(
        self,
        row: int,
        title: str,
        due: date | None,
        status: Status,
        progress: int,
        rag: Rag | None,
        text: str,
        readings: list[Problem],
    ) -> Rag | None:
        """The RAG the file gives, as an override when it differs from what the rules say
        and --accept-rag was given; without it, a difference is only noted."""
        if not text:
            return None
        where = f"row {row}"
        if self.plan.rag_reason is None:
            probe = Action(rec_id=1, title=title, due=due, status=status, progress=progress)
            computed = rate(probe, self.s.today, 0, self.s.rag_rules).rag
            if rag is not computed:
                said = rag.label if rag is not None else repr(text)
                readings.append(
                    Problem(
                        where,
                        "rag",
                        f"the sheet says {said}, the rules say {computed.label}: not applied "
                        '(kt import --accept-rag "reason" takes the sheet\'s RAG as an override).',
                    )
                )
            return None
        if rag is None:
            return None
        if not status.is_open:
            closed = {Status.COMPLETE: (Rag.COMPLETE, Rag.BLUE), Status.DROPPED: (Rag.DROPPED,)}[status]
            if rag not in closed and rag not in OVERRIDABLE_RAGS:
                self.problem(row, "rag", f"RAG {rag.label} does not fit an action that is {status.label.lower()}.")
            elif rag is not Rag.COMPLETE:
                # A closed action's RAG follows its status and evidence, which a CSV
                # cannot carry: say so now rather than lose it quietly.
                why = "it has no evidence yet (kt evidence add)" if rag is Rag.BLUE else "it follows the status"
                self.plan.differences.append(
                    Problem(where, "rag", f"{rag.value.capitalize()} is not kept for a {status.value} action: {why}.")
                )
            return None
        if rag not in OVERRIDABLE_RAGS:
            self.problem(row, "rag", f"RAG {rag.label} is only for closed actions; this one is {status.label.lower()}.")
            return None
        probe = Action(rec_id=1, title=title, due=due, status=status, progress=progress)
        computed = rate(probe, self.s.today, 0, self.s.rag_rules).rag
        return rag if rag is not computed else None

    def compare(
        self,
        row: int,
        existing: Action,
        target: Resolved,
        title: str,
        due: date | None,
        owner: Owner | NewOwner | None,
        status: Status | None,
        progress: int | None,
        rag: Rag | None,
        note: str,
    ) -> None:
        """Note how a row differs from the action already in the plan (which is left as it is)."""
        differs: list[str] = []
        if not isinstance(target, Recommendation) or existing.rec_id != target.id:
            differs.append("recommendation")
        if _norm(existing.title) != _norm(title):
            differs.append("action")
        if existing.due != due:
            differs.append("due")
        if (owner.id if isinstance(owner, Owner) else None) != existing.owner_id or isinstance(owner, NewOwner):
            differs.append("owner")
        if status is not None and status is not existing.status:
            differs.append("status")
        if progress is not None and progress != existing.progress:
            differs.append("progress")
        # Red, amber or green on a closed action is ignored, as it is for new actions; without
        # --accept-rag the RAG column is not read for actions already in the plan.
        rag_counts = (
            self.plan.rag_reason is not None
            and rag is not None
            and (existing.status.is_open or rag not in OVERRIDABLE_RAGS)
        )
        if rag_counts and rag is not self.index.view(existing).rating.rag:
            differs.append("rag")
        if note and _norm(note) != _norm(existing.last_note):
            differs.append("latest_update")
        if differs:
            self.plan.differences.append(
                Problem(
                    f"row {row}",
                    ", ".join(differs),
                    f"{existing.ref} is already in the plan and differs; it was not changed "
                    "(use kt log or kt action edit).",
                )
            )
        else:
            self.plan.matched += 1

    def allocate_ids(self) -> None:
        """Give new recommendations and actions their ids: ids named in the file are kept
        where the store never used them; the rest take the lowest ids never used."""
        for cls, items in ((Recommendation, self.plan.recs), (Action, self.plan.actions)):
            claimed = {item.id for item in items if item.id}
            candidate = self.s.store.next_id(cls.TABLE)
            for item in items:
                if item.id == 0:
                    while candidate in claimed:
                        candidate += 1
                    item.id = candidate
                    claimed.add(candidate)


def _tracker_id(ref: str, cls: type[Record]) -> int | None:
    """The id in a tracker reference such as R3 (not a bare number: that is the report's own)."""
    m = re.fullmatch(rf"{cls.PREFIX}(\d+)", ref.strip(), re.IGNORECASE)
    return int(m[1]) if m and int(m[1]) > 0 else None


def _derive_key(name: str, taken: set[str]) -> str:
    """A focus-area key from a name: the initials of its main words (``CEYP``), made unique."""
    words = [w for w in re.findall(r"[A-Za-z0-9]+", name) if w.lower() not in _STOP_WORDS]
    base = "".join(w[0] for w in words).upper()[:8] if len(words) > 1 else (words[0][:8].upper() if words else "FA")
    key, n = base, 1
    while key in taken:
        n += 1
        key = f"{base}-{n}"
    return key


def plan_sheet_import(s: Session, sheet: Sheet, source: str, *, accept_rag: str | None = None) -> ImportPlan:
    """Check every row of a sheet and work out what importing it would create; writes nothing."""
    if accept_rag is not None:
        if not accept_rag.strip():
            raise ValidationError('--accept-rag needs a reason, e.g. --accept-rag "Agreed at the May board".')
        s.text("--accept-rag reason", accept_rag)
    return _Planner(s, sheet, source, accept_rag.strip() if accept_rag else None).run()
