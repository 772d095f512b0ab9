"""The session every use-case receives, and the lookups they share.

Lookups turn what a user typed (``A12``, ``dis``, ``Head of Service``) into
records, raising NotFoundError or ValidationError with a sentence that says
what to type instead.
"""

from __future__ import annotations

from datetime import date
from functools import cached_property
from typing import Any, TypeVar

from knowsley_tracker import dates, guard
from knowsley_tracker.config import read_setting
from knowsley_tracker.errors import NotFoundError, PersonalDataError, ValidationError
from knowsley_tracker.models import (
    Action,
    Board,
    FocusArea,
    Kpi,
    Owner,
    Recommendation,
    Record,
    Visit,
    VisitStatus,
    parse_ref,
    record_noun,
)
from knowsley_tracker.rag import RagRules
from knowsley_tracker.store_interface import PlanStore

R = TypeVar("R", bound=Record)


class Session:
    """One command's view of the plan: the store, "now", and who is acting.

    ``allow_personal_data`` is the reason given with --allow-personal-data (None: the guard
    refuses); ``audit_extra`` is filled while the command runs and saved with its entry in
    the audit history. (A plain class, not a dataclass: see render.text.Column.)"""

    def __init__(
        self,
        store: PlanStore,
        clock: dates.Clock,
        user: str,
        allow_personal_data: str | None = None,
        audit_extra: dict[str, Any] | None = None,
    ) -> None:
        self.store = store
        self.clock = clock
        self.user = user
        self.allow_personal_data = allow_personal_data
        self.audit_extra: dict[str, Any] = {} if audit_extra is None else audit_extra

    @cached_property
    def today(self) -> date:
        return self.clock.today()

    def stamp(self) -> str:
        return self.clock.stamp()

    @cached_property
    def rag_rules(self) -> RagRules:
        return RagRules.from_settings(self.store.settings())

    def setting(self, name: str) -> Any:
        """A plan setting declared in knowsley_tracker.config (its default when unset). A value
        kt cannot use, edited into the store by hand, is an error that says how to fix it."""
        return read_setting(self.store.settings(), name)

    def transaction(self, what: str) -> Any:
        """Start the one transaction a command's changes are saved in."""
        return self.store.transaction(by=self.user, what=what, extra=self.audit_extra, at=self.clock.now())

    # -- input checks -----------------------------------------------------------

    def parse_date(self, text: str) -> date:
        """Read a date typed by the user (UK day-first, relative, or plan-anchored)."""
        try:
            return dates.parse_date(text, self.today, anchors=self.anchor)
        except ValueError as exc:
            raise ValidationError(str(exc)) from None

    def optional_date(self, text: str | None) -> date | None:
        return None if text is None or not text.strip() else self.parse_date(text)

    def anchor(self, name: str) -> date | None:
        """The next monitoring visit or board meeting on or after today."""
        if name == "visit":
            upcoming = [
                v.date for v in self.store.all(Visit) if v.date >= self.today and v.status is not VisitStatus.DONE
            ]
        else:
            upcoming = [b.date for b in self.store.all(Board) if b.date >= self.today]
        return min(upcoming, default=None)

    def text(self, label: str, value: str) -> str:
        """Pass free text through the personal-data guard (see knowsley_tracker.guard)."""
        kinds = guard.find_personal_data(value)
        if not kinds:
            return value
        if self.allow_personal_data is None:
            raise PersonalDataError(
                f"The {label} looks like it contains {guard.describe(kinds)}. Plans must hold no "
                "personal data about children: remove it, or if it is not personal data, repeat "
                'with --allow-personal-data "why".'
            )
        allowed = self.audit_extra.setdefault(
            "personal_data_allowed", {"reason": self.allow_personal_data, "fields": []}
        )
        allowed["fields"].append({"field": label, "kinds": kinds})
        return value

    def texts(self, **fields: str | None) -> None:
        """Guard several optional free-text fields at once (None and empty are skipped)."""
        for label, value in fields.items():
            if value:
                self.text(label.replace("_", " "), value)

    # -- lookups ----------------------------------------------------------------

    def record(self, cls: type[R], ref: str, listing: str = "") -> R:
        """A record by id (``A12``, ``a12`` or ``12``); a missing id names the one probably meant."""
        record_id = parse_ref(ref, cls)
        found = self.store.find(cls, record_id)
        if found is not None:
            return found
        from knowsley_tracker.suggest import nearest_id

        ids = [r.id for r in self.store.all(cls)]
        kind = record_noun(cls)
        head = f"No {kind} {cls.PREFIX}{record_id}"
        guess = nearest_id(record_id, ids)
        if guess is not None:
            meant = self.store.get(cls, guess)
            about = getattr(meant, "title", "") or getattr(meant, "short", "")
            what = f" ({_clip(about)})" if about else ""
            raise NotFoundError(f"{head}; did you mean {cls.PREFIX}{guess}{what}?")
        if not ids:
            kinds = kind[:-1] + "ies" if kind.endswith("y") else kind + "s"
            raise NotFoundError(f"{head}: the plan has no {kinds} yet.")
        see = f" (see {listing})" if listing else ""
        raise NotFoundError(f"{head}: the highest is {cls.PREFIX}{max(ids)}{see}.")

    def action(self, ref: str) -> Action:
        return self.record(Action, ref, "kt action list")

    def recommendation(self, ref: str) -> Recommendation:
        return self.record(Recommendation, ref, "kt rec list")

    def visit(self, ref: str) -> Visit:
        return self.record(Visit, ref, "kt visit list")

    def focus(self, text: str) -> FocusArea:
        """A focus area by key (``DIS``), id (``F2``) or exact name, ignoring case."""
        areas = self.store.all(FocusArea)
        wanted = text.strip().upper()
        for area in areas:
            if area.key == wanted or area.ref == wanted or area.name.upper() == wanted:
                return area
        from knowsley_tracker.suggest import nearest, nearest_key

        guess = nearest(text, {a.key: a for a in areas} | {a.name: a for a in areas})
        if guess is None:
            guess = nearest_key(text, {a.key: a for a in areas})  # HQ for HP: too short for difflib
        if guess is not None:
            raise NotFoundError(f"No focus area {text!r}; did you mean {guess.key} ({guess.name})?")
        known = ", ".join(a.key for a in areas) or "none yet (add one with kt focus add)"
        raise NotFoundError(f"No focus area {text!r}. Known keys: {known}.")

    def kpi(self, text: str) -> Kpi:
        kpis = self.store.all(Kpi)
        wanted = text.strip().upper()
        for kpi in kpis:
            if kpi.key == wanted or kpi.ref == wanted:
                return kpi
        from knowsley_tracker.suggest import nearest, nearest_key

        guess = nearest(text, {k.key: k for k in kpis} | {k.name: k for k in kpis})
        if guess is None:
            guess = nearest_key(text, {k.key: k for k in kpis})
        if guess is not None:
            raise NotFoundError(f"No KPI {text!r}; did you mean {guess.key} ({_clip(guess.name)})?")
        known = ", ".join(k.key for k in kpis) or "none yet (add one with kt kpi add)"
        raise NotFoundError(f"No KPI {text!r}. Known keys: {known}.")

    def owner(self, text: str) -> Owner:
        """An owner by id (``O3``), role, name or email, ignoring case."""
        owners = self.store.all(Owner)
        wanted = text.strip().casefold()
        for owner in owners:
            if owner.ref.casefold() == wanted:
                return owner
        matches = [o for o in owners if wanted in (o.role.casefold(), o.name.casefold(), o.email.casefold()) and wanted]
        active = [o for o in matches if o.active] or matches
        if len(active) == 1:
            return active[0]
        if len(active) > 1:
            refs = ", ".join(f"{o.ref} ({o.display})" for o in active)
            raise ValidationError(f"{text!r} matches several owners: {refs}. Use the id.")
        # Part of several owners' roles or names ("Head of Service"): name them all, not one.
        partial = [
            o for o in owners if len(wanted) >= 3 and (wanted in o.role.casefold() or wanted in o.name.casefold())
        ]
        if len(partial) > 1:
            listed = "; ".join(f"{o.ref} {o.role}" for o in partial)
            raise NotFoundError(
                f"No owner {text!r}; it is part of {len(partial)} owners' roles or names: {listed}. "
                "Give the id, or the whole role or name."
            )
        from knowsley_tracker.suggest import nearest

        names = {o.role: (o.role, o) for o in owners} | {o.name: (o.name, o) for o in owners if o.name}
        names |= {o.email: (o.email, o) for o in owners if o.email}
        guess = nearest(text, names)
        if guess is not None:
            said, meant = guess
            raise NotFoundError(f"No owner {text!r}; did you mean {said!r} ({meant.ref})?")
        raise NotFoundError(f"No owner {text!r}. Add one with: kt owner add {_quote(text)} (see kt owner list).")


def _clip(text: str, width: int = 40) -> str:
    return text if len(text) <= width else text[: width - 1].rstrip() + "\u2026"


def _quote(text: str) -> str:
    return f'"{text}"' if " " in text else text
