"""The domain model: one dataclass per record kind, plus the vocabularies they use.

``to_record()`` and ``from_record()`` are the only place field names meet the
stored JSON: dates become ISO ``YYYY-MM-DD`` strings, enums their values.
Shape checks live in ``__post_init__``; checks that need other records live in
the service layer. Nothing here imports storage, rendering or the CLI.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import MISSING, dataclass, field, fields
from datetime import date, datetime
from enum import StrEnum
from functools import partial
from typing import Any, ClassVar, TypeVar

from knowsley_tracker.dates import RANGE_TEXT, format_date, in_range
from knowsley_tracker.errors import ValidationError

E = TypeVar("E", bound="Vocabulary")
R = TypeVar("R", bound="Record")


def normalise_word(text: str) -> str:
    """Fold case, spaces, hyphens and underscores: ``In progress`` -> ``inprogress``."""
    return re.sub(r"[\s_\-]+", "", text.strip().lower())


class Vocabulary(StrEnum):
    """A closed list of values, matched leniently when a user types one."""

    @classmethod
    def aliases(cls) -> dict[str, str]:
        """Other words users type for a value (normalised word -> value)."""
        return {}

    @classmethod
    def parse(cls: type[E], text: str, what: str | None = None) -> E:
        """Match ``text`` ignoring case, spaces, hyphens and underscores."""
        word = normalise_word(text)
        for member in cls:
            if normalise_word(member.value) == word:
                return member
        alias = cls.aliases().get(word)
        if alias is not None:
            return cls(alias)
        label = what or cls.__name__.lower()
        choices = ", ".join(m.value for m in cls)
        from knowsley_tracker.suggest import nearest

        names = {normalise_word(m.value): m.value for m in cls} | {a: v for a, v in cls.aliases().items()}
        guess = nearest(word, names) if word else None
        if guess is not None:
            raise ValidationError(f"Unknown {label} {text!r}; did you mean {guess}? (Choose one of {choices}.)")
        raise ValidationError(f"Unknown {label} {text!r}: choose one of {choices}.")

    @property
    def label(self) -> str:
        """The value as people write it."""
        return self.value.replace("-", " ").capitalize()


class Status(Vocabulary):
    NOT_STARTED = "not-started"
    IN_PROGRESS = "in-progress"
    BLOCKED = "blocked"
    COMPLETE = "complete"
    DROPPED = "dropped"

    @classmethod
    def aliases(cls) -> dict[str, str]:
        return {
            "completed": "complete",
            "done": "complete",
            "closed": "complete",
            "started": "in-progress",
            "ongoing": "in-progress",
            "onhold": "blocked",
            "notyetstarted": "not-started",
            "todo": "not-started",
            "open": "not-started",
            "cancelled": "dropped",
            "superseded": "dropped",
        }

    @property
    def is_open(self) -> bool:
        return self not in (Status.COMPLETE, Status.DROPPED)


class Rag(Vocabulary):
    RED = "red"
    AMBER = "amber"
    GREEN = "green"
    COMPLETE = "complete"
    BLUE = "blue"
    DROPPED = "dropped"

    @classmethod
    def aliases(cls) -> dict[str, str]:
        return {"r": "red", "a": "amber", "g": "green", "b": "blue", "bluecompleteverified": "blue"}

    @property
    def label(self) -> str:
        # str.__str__ rather than .value: Enum's value property is slow, and reports call this per row.
        return "Blue (complete, evidenced)" if self is Rag.BLUE else str.__str__(self).capitalize()


# RAG values an officer may set by hand (the others follow from status and evidence).
OVERRIDABLE_RAGS = (Rag.RED, Rag.AMBER, Rag.GREEN)
# Display order, worst first, used for roll-ups and sorting.
RAG_ORDER = (Rag.RED, Rag.AMBER, Rag.GREEN, Rag.BLUE, Rag.COMPLETE, Rag.DROPPED)


class Judgement(Vocabulary):
    OUTSTANDING = "outstanding"
    GOOD = "good"
    REQUIRES_IMPROVEMENT = "requires-improvement"
    INADEQUATE = "inadequate"

    @classmethod
    def aliases(cls) -> dict[str, str]:
        return {
            "ri": "requires-improvement",
            "requiresimprovementtobegood": "requires-improvement",
            "requiresimprovement": "requires-improvement",
        }

    @property
    def label(self) -> str:
        if self is Judgement.REQUIRES_IMPROVEMENT:
            return "Requires improvement to be good"
        return self.value.capitalize()


class InspectionType(Vocabulary):
    STANDARD = "standard"
    SHORT = "short"
    FOCUSED_VISIT = "focused-visit"
    JTAI = "jtai"
    MONITORING_VISIT = "monitoring-visit"

    @classmethod
    def aliases(cls) -> dict[str, str]:
        return {
            "standardinspection": "standard",
            "ilacs": "standard",
            "full": "standard",
            "reinspection": "standard",
            "sif": "standard",
            "shortinspection": "short",
            "focused": "focused-visit",
            "monitoring": "monitoring-visit",
            "mv": "monitoring-visit",
            "jointtargetedareainspection": "jtai",
        }

    @property
    def label(self) -> str:
        return {
            "standard": "Standard inspection",
            "short": "Short inspection",
            "focused-visit": "Focused visit",
            "jtai": "Joint targeted area inspection",
            "monitoring-visit": "Monitoring visit",
        }[self.value]

    @property
    def is_graded(self) -> bool:
        """Only full inspections carry judgements; visits and JTAIs are not graded."""
        return self in (InspectionType.STANDARD, InspectionType.SHORT)


class Framework(Vocabulary):
    ILACS_2023 = "ilacs-2023"
    ILACS_2018 = "ilacs-2018"
    SIF = "sif"

    @classmethod
    def aliases(cls) -> dict[str, str]:
        return {"ilacs": "ilacs-2023", "singleinspectionframework": "sif"}

    @property
    def label(self) -> str:
        return {
            "ilacs-2023": "ILACS (from January 2023)",
            "ilacs-2018": "ILACS (2018 to 2022)",
            "sif": "Single inspection framework (2013 to 2017)",
        }[self.value]

    @classmethod
    def in_force_on(cls, day: date) -> Framework:
        """The framework Ofsted used for inspections starting on ``day``."""
        if day >= date(2023, 1, 1):
            return cls.ILACS_2023
        if day >= date(2018, 1, 1):
            return cls.ILACS_2018
        return cls.SIF


# Judgement areas per framework: key -> the heading as printed in reports.
JUDGEMENT_AREAS: dict[Framework, dict[str, str]] = {
    Framework.ILACS_2023: {
        "leaders": "The impact of leaders on social work practice with children and families",
        "help-protection": "The experiences and progress of children who need help and protection",
        "children-in-care": "The experiences and progress of children in care",
        "care-leavers": "The experiences and progress of care leavers",
    },
    Framework.ILACS_2018: {
        "leaders": "The impact of leaders on social work practice with children and families",
        "help-protection": "The experiences and progress of children who need help and protection",
        "children-in-care": "The experiences and progress of children in care and care leavers",
    },
    Framework.SIF: {
        "help-protection": "Children who need help and protection",
        "looked-after": "Children looked after and achieving permanence",
        "adoption": "Adoption performance",
        "care-leavers": "Experiences and progress of care leavers",
        "leadership": "Leadership, management and governance",
    },
}


class VisitStatus(Vocabulary):
    PROJECTED = "projected"
    EXPECTED = "expected"
    CONFIRMED = "confirmed"
    DONE = "done"

    @classmethod
    def aliases(cls) -> dict[str, str]:
        return {"completed": "done", "complete": "done", "held": "done", "planned": "expected"}


class EvidenceKind(Vocabulary):
    DOCUMENT = "document"
    AUDIT = "audit"
    DATA = "data"
    MINUTES = "minutes"
    FEEDBACK = "feedback"
    TRAINING = "training"
    POLICY = "policy"
    OTHER = "other"

    @classmethod
    def aliases(cls) -> dict[str, str]:
        return {"doc": "document", "report": "document", "kpi": "data", "survey": "feedback"}


class InterventionType(Vocabulary):
    IMPROVEMENT_NOTICE = "improvement-notice"
    STATUTORY_DIRECTION = "statutory-direction"

    @classmethod
    def aliases(cls) -> dict[str, str]:
        return {"notice": "improvement-notice", "direction": "statutory-direction"}


class PartnerKind(Vocabulary):
    SLIP = "slip"
    SPECIALIST = "specialist"
    ADVISER = "adviser"
    OTHER = "other"

    @classmethod
    def aliases(cls) -> dict[str, str]:
        return {"sectorledimprovementpartner": "slip", "consultant": "specialist", "external": "specialist"}

    @property
    def label(self) -> str:
        return "SLIP (sector-led improvement partner)" if self is PartnerKind.SLIP else self.value.capitalize()


# ---------------------------------------------------------------------------
# Records


def require_text(value: str, what: str) -> str:
    """Trim surrounding white space and refuse text that is then empty."""
    if not isinstance(value, str):
        raise ValidationError(f"The {what} must be text.")
    trimmed = value.strip()
    if not trimmed:
        raise ValidationError(f"The {what} cannot be empty.")
    return trimmed


def optional_text(value: str | None) -> str:
    return (value or "").strip()


@dataclass(slots=True, repr=False, eq=False)
class Record:
    """Base for stored records: ``id`` is TinyDB's doc_id, shown as ``ref``."""

    TABLE: ClassVar[str] = ""
    PREFIX: ClassVar[str] = ""
    DATE_FIELDS: ClassVar[tuple[str, ...]] = ()
    ENUM_FIELDS: ClassVar[dict[str, type[Vocabulary]]] = {}

    id: int = field(default=0, kw_only=True)

    @property
    def ref(self) -> str:
        return f"{self.PREFIX}{self.id}"

    # One __eq__ and __repr__ for every record, instead of dataclass-generated
    # ones per class: generating them cost about a fifth of this module's
    # import time, which every command pays.
    def __eq__(self, other: object) -> bool:
        """Equal when every field holds an equal value of the same type: a date is not its
        ISO string, nor an enum member its value, so a loader that forgot to convert
        one is caught by any round-trip comparison."""
        if type(other) is not type(self):
            return NotImplemented
        return all(_same(getattr(self, f.name), getattr(other, f.name)) for f in fields(self))

    __hash__ = None  # type: ignore[assignment]  # records are mutable

    def __repr__(self) -> str:
        return f"{type(self).__name__}(id={self.id}, {self.to_record()!r})"

    def to_record(self) -> dict[str, Any]:
        """The JSON-ready dict stored for this record (without its id)."""
        dumper = _DUMPERS.get(type(self))
        if dumper is None:
            dumper = _DUMPERS[type(self)] = _make_dumper(type(self))
        out: dict[str, Any] = dumper(self)
        return out

    @classmethod
    def from_record(cls: type[R], doc_id: int, record: dict[str, Any]) -> R:
        """Build the record from its stored dict; fields missing from older stores take defaults.

        Stored records were checked when they were saved, so loading skips
        ``__init__`` and its checks: reports build thousands of records per
        command, and the checks made up most of the cost of loading them.

        The first records of a kind are filled by a loop over its fields; once a
        command has loaded :data:`GENERATE_AFTER` of one kind, a straight-line
        loader is written for it. Generating one costs about as much as looping
        over that many records, and then loads each in about half the
        instructions (benchmarks/README.md): it pays only in a big table."""
        loader = _LOADERS.get(cls)
        if loader is None:
            count = _LOADED[cls] = _LOADED.get(cls, 0) + 1
            if count < GENERATE_AFTER:
                return _load_plainly(cls, doc_id, record)
            loader = _LOADERS[cls] = _make_loader(cls)
        obj: R = loader(doc_id, record)
        return obj

    @classmethod
    def from_untrusted(cls: type[R], doc_id: int, record: dict[str, Any]) -> R:
        """Build the record from a dict that has not been checked (an import file):
        through ``__init__``, so every shape check runs and raises ValidationError."""
        kwargs: dict[str, Any] = {}
        for name, _convert, _default in _load_plan(cls):
            if name not in record:
                continue
            value = record[name]
            if value is not None and name in cls.DATE_FIELDS:
                value = _to_date(value)
                for day in value if isinstance(value, list) else [value]:
                    if not in_range(day):
                        raise ValidationError(
                            f"The {name} date {day.isoformat()} is outside the dates kt handles: use one from "
                            f"{RANGE_TEXT}."
                        )
            elif isinstance(value, str) and value and name in TIMESTAMP_FIELDS:
                _check_timestamp(name, value)
            elif value is not None and name in cls.ENUM_FIELDS:
                value = cls.ENUM_FIELDS[name](value)  # a clear ValueError for an unknown value
            kwargs[name] = value
        return cls(id=doc_id, **kwargs)

    def _loaded(self) -> None:
        """Normalise a record just read from the store (a hook for subclasses)."""


def _same(a: Any, b: Any) -> bool:
    """Equal values of the same type, containers compared item by item."""
    if type(a) is not type(b):
        return False
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(v, b[k]) for k, v in a.items())
    return bool(a == b)


_MISSING = object()
_LOAD_PLANS: dict[type[Record], list[tuple[str, Callable[[Any], Any] | None, Callable[[], Any]]]] = {}


def require_dates_in_range(record: Record) -> None:
    """Refuse a record whose dates kt could not handle, however they were reached (a computed
    deadline, projected visits...): the store never holds a date outside the supported range."""
    for name in record.DATE_FIELDS:
        value = getattr(record, name)
        for day in value if isinstance(value, list) else [value]:
            if day is not None and not in_range(day):
                raise ValidationError(
                    f"{record.ref}'s {name.replace('_', ' ')} would be {format_date(day)}, outside the dates kt "
                    f"handles ({RANGE_TEXT})."
                )


# Fields holding a moment (ISO 8601 with its UTC offset), as Clock.stamp() writes them.
TIMESTAMP_FIELDS = frozenset({"at", "created_at", "added_at", "recorded_at", "frozen_at", "last_logged_at"})


def _check_timestamp(name: str, value: str) -> None:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ValidationError(f"The {name} time {value!r} is not an ISO 8601 date and time.") from None
    if not in_range(moment.date()):
        raise ValidationError(f"The {name} time {value} is outside the dates kt handles: use one from {RANGE_TEXT}.")


def _to_date(value: Any) -> Any:
    return [date.fromisoformat(v) for v in value] if isinstance(value, list) else date.fromisoformat(value)


def _load_plainly(cls: type[R], doc_id: int, record: dict[str, Any]) -> R:
    """Fill a record's slots from its stored dict by looping over its field plan."""
    obj = cls.__new__(cls)
    obj.id = doc_id
    get = record.get
    for name, convert, default in _LOAD_PLANS.get(cls) or _load_plan(cls):
        value = get(name, _MISSING)
        if value is _MISSING:  # written by a version before the field existed
            value = default()
        elif value is not None and convert is not None:
            value = convert(value)
        setattr(obj, name, value)
    obj._loaded()
    return obj


# Records of one kind a command loads by the loop before a straight-line loader is
# generated for that kind. Measured with callgrind on the region plan: generating
# the Action loader costs 1.9M instructions, and the loop takes about 11k more per
# action than the generated code, so generating pays from about 170 actions.
GENERATE_AFTER = 200
_LOADED: dict[type[Record], int] = {}
_LOADERS: dict[type[Record], Callable[[int, dict[str, Any]], Any]] = {}


def _make_loader(cls: type[Record]) -> Callable[[int, dict[str, Any]], Any]:
    """Write a function that fills a record's slots from its stored dict, field by field
    in straight-line code (each assignment to a slot is then the interpreter's fast
    path). A record missing a field (written by an older version) takes the loop."""
    names: dict[str, Any] = {"cls": cls, "plainly": _load_plainly}
    lines = [
        "def load(doc_id, r):",
        "    try:",
        "        o = cls.__new__(cls)",
        "        o.id = doc_id",
    ]
    for n, (name, convert, _default) in enumerate(_load_plan(cls)):
        if convert is None:
            lines.append(f"        o.{name} = r[{name!r}]")
        else:
            names[f"convert_{n}"] = convert
            lines.append(f"        v = r[{name!r}]")
            lines.append(f"        o.{name} = None if v is None else convert_{n}(v)")
    lines += ["    except KeyError:", "        return plainly(cls, doc_id, r)", "    o._loaded()", "    return o"]
    exec(compile("\n".join(lines), f"<{cls.__name__} loader>", "exec"), names)  # noqa: S102
    loader: Callable[[int, dict[str, Any]], Any] = names["load"]
    return loader


def _load_plan(cls: type[Record]) -> list[tuple[str, Callable[[Any], Any] | None, Callable[[], Any]]]:
    """For each field: its name, how to convert the stored value, and its default."""
    plan = _LOAD_PLANS.get(cls)
    if plan is None:
        plan = []
        for f in fields(cls):
            if f.name == "id":
                continue
            convert: Callable[[Any], Any] | None = None
            if f.name in cls.DATE_FIELDS:
                convert = _to_date if "list" in str(f.type) else date.fromisoformat
            elif f.name in cls.ENUM_FIELDS:
                # The member lookup table, not the class: calling an Enum is slow.
                convert = cls.ENUM_FIELDS[f.name]._value2member_map_.__getitem__
            if f.default_factory is not MISSING:
                default: Callable[[], Any] = f.default_factory
            else:
                constant = None if f.default is MISSING else f.default
                default = partial(_constant, constant)
            plan.append((f.name, convert, default))
        _LOAD_PLANS[cls] = plan
    return plan


def _constant(value: Any) -> Any:
    return value


_DUMPERS: dict[type[Record], Callable[[Any], dict[str, Any]]] = {}
# Field types whose values are stored as they are.
_PLAIN_TYPES = {"str", "int", "bool", "float", "str | None", "int | None", "float | None", "bool | None", "int | float"}


def _plain(value: Any) -> Any:
    """Any field's value as stored: dates as ISO text, vocabulary members as their values."""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, StrEnum):
        return value.value
    if isinstance(value, list):
        return [v.isoformat() if isinstance(v, date) else v for v in value]
    if isinstance(value, dict):
        return {k: (v.value if isinstance(v, StrEnum) else v) for k, v in value.items()}
    return value


def _make_dumper(cls: type[Record]) -> Callable[[Any], dict[str, Any]]:
    """Write, once per process, the function that turns a record into its stored dict
    (as :func:`_make_loader` does the other way): listing 3,000 actions as JSON spent
    half its time looping over fields and testing each value's type."""
    names: dict[str, Any] = {"plain": _plain}
    body = ["def dump(o):", "    return {"]
    for f in fields(cls):
        if f.name == "id":
            continue
        kind = str(f.type)
        if f.name in cls.DATE_FIELDS and "list" not in kind:
            body.append(f"        {f.name!r}: None if o.{f.name} is None else o.{f.name}.isoformat(),")
        elif f.name in cls.ENUM_FIELDS and "dict" not in kind and "list" not in kind:
            body.append(f"        {f.name!r}: None if o.{f.name} is None else o.{f.name}.value,")
        elif kind in _PLAIN_TYPES:
            body.append(f"        {f.name!r}: o.{f.name},")
        else:
            body.append(f"        {f.name!r}: plain(o.{f.name}),")
    body.append("    }")
    exec(compile("\n".join(body), f"<{cls.__name__} dumper>", "exec"), names)  # noqa: S102
    dumper: Callable[[Any], dict[str, Any]] = names["dump"]
    return dumper


@dataclass(slots=True, repr=False, eq=False)
class Inspection(Record):
    TABLE: ClassVar[str] = "inspections"
    PREFIX: ClassVar[str] = "I"
    DATE_FIELDS: ClassVar[tuple[str, ...]] = ("start", "end", "published", "action_plan_due", "action_plan_sent")
    ENUM_FIELDS: ClassVar[dict[str, type[Vocabulary]]] = {
        "type": InspectionType,
        "framework": Framework,
        "judgement": Judgement,
    }

    start: date
    type: InspectionType = InspectionType.STANDARD
    framework: Framework | None = None
    end: date | None = None
    published: date | None = None
    judgement: Judgement | None = None
    areas: dict[str, Judgement] = field(default_factory=dict)
    title: str = ""
    report_url: str = ""
    notes: str = ""
    # After an inadequate judgement: when the written action plan is due (70
    # working days from the report, computed when recorded) and when it was sent.
    action_plan_due: date | None = None
    action_plan_sent: date | None = None

    def __post_init__(self) -> None:
        if self.framework is None:
            self.framework = Framework.in_force_on(self.start)
        self.areas = {k: (v if isinstance(v, Judgement) else Judgement(v)) for k, v in self.areas.items()}
        if self.end is not None and self.end < self.start:
            raise ValidationError("The inspection cannot end before it starts.")
        if self.published is not None and self.published < self.start:
            raise ValidationError("The report cannot be published before the inspection starts.")
        if not self.type.is_graded and (self.judgement is not None or self.areas):
            raise ValidationError(f"A {self.type.label.lower()} is not graded: leave out the judgements.")
        valid = JUDGEMENT_AREAS[self.framework]
        for key in self.areas:
            if key not in valid:
                raise ValidationError(
                    f"Unknown judgement area {key!r} for {self.framework.label}: use {', '.join(valid)}."
                )

    def _loaded(self) -> None:
        if self.framework is None:
            self.framework = Framework.in_force_on(self.start)
        self.areas = {k: Judgement(v) for k, v in self.areas.items()}

    @property
    def report_date(self) -> date:
        """The date the statutory clock runs from: publication, else the last day on site."""
        return self.published or self.end or self.start


@dataclass(slots=True, repr=False, eq=False)
class FocusArea(Record):
    TABLE: ClassVar[str] = "focus_areas"
    PREFIX: ClassVar[str] = "F"

    key: str
    name: str
    lead_role: str = ""
    lead_name: str = ""
    description: str = ""

    def __post_init__(self) -> None:
        self.key = require_text(self.key, "focus area key").upper()
        if not re.fullmatch(r"[A-Z0-9][A-Z0-9\-]{0,23}", self.key):
            raise ValidationError(
                f"Focus area key {self.key!r} must be 1-24 letters, digits or hyphens, e.g. DIS or FA-CL."
            )
        self.name = require_text(self.name, "focus area name")

    @property
    def lead(self) -> str:
        if self.lead_role and self.lead_name:
            return f"{self.lead_role} ({self.lead_name})"
        return self.lead_role or self.lead_name


@dataclass(slots=True, repr=False, eq=False)
class Owner(Record):
    TABLE: ClassVar[str] = "owners"
    PREFIX: ClassVar[str] = "O"

    role: str
    name: str = ""
    email: str = ""
    active: bool = True
    login: str = ""  # on a PostgreSQL server: the database login of the officer in the role

    def __post_init__(self) -> None:
        self.role = require_text(self.role, "owner's role")
        self.name = optional_text(self.name)
        self.email = optional_text(self.email)
        self.login = optional_text(self.login)
        if self.email and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", self.email):
            raise ValidationError(f"{self.email!r} is not an email address.")

    @property
    def display(self) -> str:
        return f"{self.role} ({self.name})" if self.name else self.role


@dataclass(slots=True, repr=False, eq=False)
class Recommendation(Record):
    TABLE: ClassVar[str] = "recommendations"
    PREFIX: ClassVar[str] = "R"

    text: str
    focus_id: int | None = None
    inspection_id: int | None = None
    report_ref: str = ""
    summary: str = ""

    def __post_init__(self) -> None:
        self.text = require_text(self.text, "recommendation text")
        self.report_ref = optional_text(self.report_ref)
        self.summary = optional_text(self.summary)

    @property
    def short(self) -> str:
        """A label for tables: the summary if given, else the text cut to 60 characters."""
        if self.summary:
            return self.summary
        return self.text if len(self.text) <= 60 else self.text[:59].rstrip() + "…"


@dataclass(slots=True, repr=False, eq=False)
class Action(Record):
    TABLE: ClassVar[str] = "actions"
    PREFIX: ClassVar[str] = "A"
    DATE_FIELDS: ClassVar[tuple[str, ...]] = ("due", "original_due", "completed_on")
    ENUM_FIELDS: ClassVar[dict[str, type[Vocabulary]]] = {"status": Status, "rag_override": Rag}

    rec_id: int
    title: str
    # None: no due date yet (a council sheet's "TBC" or "Ongoing").
    due: date | None
    owner_id: int | None = None
    original_due: date | None = None
    status: Status = Status.NOT_STARTED
    progress: int = 0
    success_measure: str = ""
    dropped_reason: str = ""
    rag_override: Rag | None = None
    rag_reason: str = ""
    completed_on: date | None = None
    created_at: str = ""
    # Kept in step with the progress log so that cron checks and reports need
    # not read the whole log: when the latest entry was made and its note.
    last_logged_at: str = ""
    last_note: str = ""

    def __post_init__(self) -> None:
        self.title = require_text(self.title, "action title")
        if self.original_due is None:
            self.original_due = self.due
        check_progress(self.progress)
        if self.status is Status.DROPPED and not self.dropped_reason.strip():
            raise ValidationError("Dropping an action needs a reason (--reason).")
        if self.rag_override is not None and self.rag_override not in OVERRIDABLE_RAGS:
            raise ValidationError("A RAG override must be red, amber or green.")

    @property
    def has_slipped(self) -> bool:
        """True when the due date has moved later than first agreed."""
        return self.original_due is not None and self.due is not None and self.due > self.original_due


def check_progress(progress: object) -> int:
    if not isinstance(progress, int) or isinstance(progress, bool) or not 0 <= progress <= 100:
        raise ValidationError(f"Progress must be a whole number from 0 to 100, not {progress!r}.")
    return progress


@dataclass(slots=True, repr=False, eq=False)
class LogEntry(Record):
    """One append-only progress note. ``changes`` maps a field to ``[old, new]``."""

    TABLE: ClassVar[str] = "log"
    PREFIX: ClassVar[str] = "L"

    action_id: int
    at: str
    by: str
    note: str = ""
    changes: dict[str, list[Any]] = field(default_factory=dict)


@dataclass(slots=True, repr=False, eq=False)
class Evidence(Record):
    TABLE: ClassVar[str] = "evidence"
    PREFIX: ClassVar[str] = "E"
    DATE_FIELDS: ClassVar[tuple[str, ...]] = ("date",)
    ENUM_FIELDS: ClassVar[dict[str, type[Vocabulary]]] = {"kind": EvidenceKind}

    action_id: int
    title: str
    date: date
    kind: EvidenceKind = EvidenceKind.DOCUMENT
    link: str = ""
    added_at: str = ""
    by: str = ""

    def __post_init__(self) -> None:
        self.title = require_text(self.title, "evidence title")
        self.link = optional_text(self.link)


@dataclass(slots=True, repr=False, eq=False)
class Visit(Record):
    TABLE: ClassVar[str] = "visits"
    PREFIX: ClassVar[str] = "V"
    DATE_FIELDS: ClassVar[tuple[str, ...]] = ("date",)
    ENUM_FIELDS: ClassVar[dict[str, type[Vocabulary]]] = {"type": InspectionType, "status": VisitStatus}

    date: date
    type: InspectionType = InspectionType.MONITORING_VISIT
    status: VisitStatus = VisitStatus.EXPECTED
    themes: list[int] = field(default_factory=list)
    outcome: str = ""


@dataclass(slots=True, repr=False, eq=False)
class Kpi(Record):
    """A key performance indicator the board tracks against a target."""

    TABLE: ClassVar[str] = "kpis"
    PREFIX: ClassVar[str] = "K"
    DATE_FIELDS: ClassVar[tuple[str, ...]] = ("target_date",)

    key: str
    name: str
    target: float
    unit: str = ""
    lower_is_better: bool = False
    focus_id: int | None = None
    rec_ids: list[int] = field(default_factory=list)
    target_date: date | None = None
    created_at: str = ""
    # Within this distance of the target (in the KPI's own unit) a value is amber, not red.
    tolerance: float | None = None
    # Published figures to compare with: {"kind": one of COMPARATOR_KINDS, "value": 78.0, "period": "2024-25"}.
    comparators: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.key = require_text(self.key, "KPI key").upper()
        if not re.fullmatch(r"[A-Z0-9][A-Z0-9\-_.]{0,31}", self.key):
            raise ValidationError(f"KPI key {self.key!r} must be 1-32 letters, digits, '-', '_' or '.'.")
        self.name = require_text(self.name, "KPI name")
        self.unit = optional_text(self.unit)
        if not _is_number(self.target):
            raise ValidationError(f"The target of {self.key} must be a number, not {self.target!r}.")
        if self.tolerance is not None and not (_is_number(self.tolerance) and self.tolerance >= 0):
            raise ValidationError(f"The tolerance of {self.key} must be a number, 0 or more, not {self.tolerance!r}.")
        kinds: list[str] = []
        for item in self.comparators:
            if (
                not isinstance(item, dict)
                or set(item) != {"kind", "value", "period"}
                or item["kind"] not in COMPARATOR_KINDS
                or item["kind"] in kinds
                or not _is_number(item["value"])
                or not isinstance(item["period"], str)
                or not item["period"].strip()
            ):
                raise ValidationError(
                    f"A comparator of {self.key} must be one each of {', '.join(COMPARATOR_KINDS)}, "
                    "with a number and the period it describes."
                )
            kinds.append(item["kind"])

    @property
    def is_count(self) -> bool:
        return self.unit.lower() in ("", "count", "number", "no.", "children", "young people")

    @property
    def is_percent(self) -> bool:
        return self.unit.lower() in ("%", "percent", "per cent", "percentage")

    def meets_target(self, value: float) -> bool:
        """True when ``value`` is at or better than the target (in the KPI's direction)."""
        return value <= self.target if self.lower_is_better else value >= self.target

    def within_tolerance(self, value: float) -> bool:
        """True when ``value`` misses the target by no more than the tolerance (amber, not red)."""
        if self.tolerance is None:
            return False
        short = value - self.target if self.lower_is_better else self.target - value
        return short <= self.tolerance + 1e-9


# Comparators a KPI can be shown against, in the order reports give them, with their labels.
COMPARATOR_KINDS: dict[str, str] = {
    "england": "England",
    "neighbours": "Statistical neighbours",
    "regional": "Region",
}


def _is_number(value: object) -> bool:
    return not isinstance(value, bool) and isinstance(value, int | float) and math.isfinite(value)


@dataclass(slots=True, repr=False, eq=False)
class KpiValue(Record):
    """One reported value of a KPI for a period (a month, a quarter or a day)."""

    TABLE: ClassVar[str] = "kpi_values"
    PREFIX: ClassVar[str] = "KV"
    DATE_FIELDS: ClassVar[tuple[str, ...]] = ("period_end",)

    kpi_id: int
    period: str
    period_end: date
    value: float
    numerator: int | None = None
    denominator: int | None = None
    note: str = ""
    recorded_at: str = ""
    by: str = ""

    def __post_init__(self) -> None:
        if isinstance(self.value, bool) or not isinstance(self.value, int | float) or not math.isfinite(self.value):
            raise ValidationError(f"A KPI value must be a number, not {self.value!r}.")
        for name in ("numerator", "denominator"):
            count = getattr(self, name)
            if count is not None and (isinstance(count, bool) or not isinstance(count, int) or count < 0):
                raise ValidationError(f"The {name} must be a whole number, 0 or more, not {count!r}.")
        if self.denominator == 0:
            raise ValidationError("The denominator cannot be 0.")
        self.note = optional_text(self.note)


@dataclass(slots=True, repr=False, eq=False)
class Board(Record):
    """A board meeting and, once held, the plan as it stood that day.

    The snapshot itself is an immutable file under ``plan.json.d/snapshots/``
    (``snapshot_file``), so it can never be edited after the meeting and every
    other command stays fast; ``rag_counts`` keeps its headline figures. A
    meeting still to come has no snapshot yet.
    """

    TABLE: ClassVar[str] = "boards"
    PREFIX: ClassVar[str] = "B"
    DATE_FIELDS: ClassVar[tuple[str, ...]] = ("date",)

    date: date
    note: str = ""
    snapshot_file: str = ""
    # "current" when frozen from the live plan, "reconstructed" when rebuilt from the log.
    snapshot_method: str = ""
    frozen_at: str = ""
    rag_counts: dict[str, int] = field(default_factory=dict)
    created_at: str = ""
    # The paper for the meeting: the board's own number for it, the Director's narrative
    # (Markdown) and the decisions or asks put to the board.
    number: int | None = None
    narrative: str = ""
    decisions: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.note = optional_text(self.note)
        self.narrative = self.narrative.strip()
        if self.number is not None and (
            isinstance(self.number, bool) or not isinstance(self.number, int) or self.number < 1
        ):
            raise ValidationError(f"A board meeting's number must be a whole number from 1, not {self.number!r}.")
        if not isinstance(self.decisions, list) or not all(isinstance(d, str) and d.strip() for d in self.decisions):
            raise ValidationError("Each decision or ask of the board must be text.")
        self.decisions = [d.strip() for d in self.decisions]

    @property
    def is_frozen(self) -> bool:
        return bool(self.snapshot_file)


@dataclass(slots=True, repr=False, eq=False)
class Intervention(Record):
    TABLE: ClassVar[str] = "interventions"
    PREFIX: ClassVar[str] = "N"
    DATE_FIELDS: ClassVar[tuple[str, ...]] = ("issued", "lifted", "revised")
    ENUM_FIELDS: ClassVar[dict[str, type[Vocabulary]]] = {"type": InterventionType}

    type: InterventionType
    issued: date
    revised: list[date] = field(default_factory=list)
    lifted: date | None = None
    people: list[dict[str, str]] = field(default_factory=list)
    note: str = ""

    def __post_init__(self) -> None:
        if self.lifted is not None and self.lifted < self.issued:
            raise ValidationError("An intervention cannot be lifted before it was issued.")
        for day in self.revised:
            if day < self.issued:
                raise ValidationError("An intervention cannot be revised before it was issued.")


@dataclass(slots=True, repr=False, eq=False)
class Partner(Record):
    TABLE: ClassVar[str] = "partners"
    PREFIX: ClassVar[str] = "P"
    DATE_FIELDS: ClassVar[tuple[str, ...]] = ("start", "end")
    ENUM_FIELDS: ClassVar[dict[str, type[Vocabulary]]] = {"kind": PartnerKind}

    name: str
    purpose: str
    start: date
    kind: PartnerKind = PartnerKind.SPECIALIST
    end: date | None = None
    rec_ids: list[int] = field(default_factory=list)
    focus_ids: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.name = require_text(self.name, "partner's name")
        self.purpose = require_text(self.purpose, "engagement purpose")
        if self.end is not None and self.end < self.start:
            raise ValidationError("An engagement cannot end before it starts.")


@dataclass(slots=True, repr=False, eq=False)
class Reminder(Record):
    """The latest e-mail reminder ``kt remind`` sent about an action, for one reason
    (``kind``: overdue, due, stale) at one level (``level``: owner, lead, escalation).
    One record per action, kind and level, updated on each sending, so the table stays
    small; every sending is in the audit history (kt history M3)."""

    TABLE: ClassVar[str] = "reminders"
    PREFIX: ClassVar[str] = "M"

    action_id: int
    kind: str
    level: str
    to: str
    sent_at: str
    message_id: str = ""


RECORD_TYPES: tuple[type[Record], ...] = (
    Inspection,
    FocusArea,
    Owner,
    Recommendation,
    Action,
    LogEntry,
    Evidence,
    Visit,
    Kpi,
    KpiValue,
    Board,
    Intervention,
    Partner,
    Reminder,
)
TABLES: dict[str, type[Record]] = {cls.TABLE: cls for cls in RECORD_TYPES}
PREFIXES: dict[str, type[Record]] = {cls.PREFIX: cls for cls in RECORD_TYPES}


def parse_ref(text: str, cls: type[Record]) -> int:
    """Read a record id such as ``A12``, ``a12`` or ``12`` for the given record kind."""
    s = text.strip().upper()
    if s.startswith(cls.PREFIX) and s[len(cls.PREFIX) :].isdigit():
        s = s[len(cls.PREFIX) :]
    if s.isdigit() and int(s) > 0:
        return int(s)
    raise ValidationError(_not_an_id(text, cls))


def record_noun(cls: type[Record]) -> str:
    """``action``, ``focus area``, ``KPI``: a record kind in words."""
    return {"Kpi": "KPI", "KpiValue": "KPI value"}.get(cls.__name__) or re.sub(
        r"(?<!^)(?=[A-Z])", " ", cls.__name__
    ).lower()


def _not_an_id(text: str, cls: type[Record]) -> str:
    """Why ``text`` is not an id of this kind, with the id that was probably meant."""
    from knowsley_tracker.suggest import as_digits

    kind = record_noun(cls)
    article = "an" if kind[0] in "aeio" else "a"
    head = f"{text!r} is not {article} {kind} id"
    fixed = as_digits(text.strip()).upper()
    if fixed.startswith(cls.PREFIX) and fixed[len(cls.PREFIX) :].isdigit() and int(fixed[len(cls.PREFIX) :]) > 0:
        return f"{head}; did you mean {fixed}?"
    m = re.fullmatch(r"([A-Z]+)(\d+)", fixed)
    other = PREFIXES.get(m[1]) if m else None
    if other is not None and other is not cls:
        other_kind = record_noun(other)
        return (
            f"{head}: {text.strip().upper()} is {'an' if other_kind[0] in 'aeio' else 'a'} {other_kind}; "
            f"{kind} ids start with {cls.PREFIX}, e.g. {cls.PREFIX}3."
        )
    return f"{head}: use {cls.PREFIX} and a number, e.g. {cls.PREFIX}3."
