"""Record, the base of every record kind, and its mapping to and from the plain JSON values stored.

``to_record()`` and ``from_record()`` are the only place field names meet the stored JSON: dates
become ISO ``YYYY-MM-DD`` strings, enums their values. Loading a kind many times switches to a
generated straight-line loader (GENERATE_AFTER); tests patch the names here to reach it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import MISSING, dataclass, field, fields
from datetime import date, datetime
from enum import StrEnum
from functools import partial
from typing import Any, ClassVar, TypeVar, dataclass_transform

from knowsley_tracker.dates import RANGE_TEXT, format_date, in_range, is_moment
from knowsley_tracker.errors import CorruptStoreError, ValidationError
from knowsley_tracker.models.vocabularies import Vocabulary

R = TypeVar("R", bound="Record")


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


@dataclass_transform(eq_default=False, field_specifiers=(field,))
def record_class(cls: type[R]) -> type[R]:
    """Make ``cls`` a record kind: a slotted dataclass whose ``__init__`` is written the first
    time a record of the kind is made, not when the module is imported.

    Every command imports all thirteen kinds, and most only load records (which skips
    ``__init__``, see :meth:`Record.from_record`). Writing the thirteen ``__init__``
    methods was over half of what making the dataclasses cost at start-up (about 2 ms of
    3.4; benchmarks/README.md). The method written is the one ``dataclass`` would write:
    fields in order, defaults and default factories, keyword-only ``id``, then
    ``__post_init__``."""
    made = dataclass(slots=True, repr=False, eq=False, init=False)(cls)

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        made.__init__ = _make_init(made)  # type: ignore[method-assign]  # replaced once, for good
        made.__init__(self, *args, **kwargs)

    made.__init__ = __init__  # type: ignore[method-assign]
    return made


_NO_VALUE = object()  # an argument left out whose field has a default factory


def _make_init(cls: type[Record]) -> Callable[..., None]:
    names: dict[str, Any] = {"NO_VALUE": _NO_VALUE}
    positional: list[str] = []
    keyword: list[str] = []
    body: list[str] = []
    for n, f in enumerate(fields(cls)):
        if not f.init:
            raise TypeError(f"{cls.__name__}.{f.name}: record_class does not write fields left out of __init__")
        if f.default_factory is not MISSING:
            names[f"factory_{n}"] = f.default_factory
            param = f"{f.name}=NO_VALUE"
            body.append(f"    self.{f.name} = factory_{n}() if {f.name} is NO_VALUE else {f.name}")
        else:
            if f.default is not MISSING:
                names[f"default_{n}"] = f.default
            param = f.name if f.default is MISSING else f"{f.name}=default_{n}"
            body.append(f"    self.{f.name} = {f.name}")
        (keyword if f.kw_only else positional).append(param)
    params = ", ".join(["self", *positional, *(["*", *keyword] if keyword else [])])
    if hasattr(cls, "__post_init__"):
        body.append("    self.__post_init__()")
    source = "\n".join([f"def __init__({params}):", *(body or ["    pass"])])
    exec(compile(source, f"<{cls.__name__} __init__>", "exec"), names)  # noqa: S102
    init: Callable[..., None] = names["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    return init


@record_class
class Record:
    """Base for stored records: ``id`` is the record's number within its kind, shown as ``ref`` (``A12``)."""

    TABLE: ClassVar[str] = ""
    PREFIX: ClassVar[str] = ""
    DATE_FIELDS: ClassVar[tuple[str, ...]] = ()
    ENUM_FIELDS: ClassVar[dict[str, type[Vocabulary]]] = {}
    # Whole-number fields and the range a stored value must lie in (checked as it loads, like
    # the moments in TIMESTAMP_FIELDS: in the generated loaders a comparison, not a call).
    RANGES: ClassVar[dict[str, tuple[int, int]]] = {}

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
    def from_record(cls: type[R], record_id: int, record: dict[str, Any]) -> R:
        """Build the record from its stored dict; fields missing from older stores take defaults.

        Stored records were checked when they were saved, so loading skips
        ``__init__`` and its checks: reports build thousands of records per
        command, and the checks made up most of the cost of loading them.

        The first records of a kind are filled by a loop over its fields; once a
        command has loaded :data:`GENERATE_AFTER` of one kind, a straight-line
        loader is written for it (:meth:`from_records` writes it at once for a
        table that big). Generating one costs about as much as looping over that
        many records, and then loads each in about half the instructions
        (benchmarks/README.md): it pays only in a big table."""
        loader = _LOADERS.get(cls)
        if loader is None:
            count = _LOADED[cls] = _LOADED.get(cls, 0) + 1
            if count < GENERATE_AFTER:
                return _load_plainly(cls, record_id, record)
            loader = _LOADERS[cls] = _make_loader(cls)
        try:
            obj: R = loader(record_id, record)
        except (ValueError, TypeError, AttributeError, OverflowError):
            # A stored value the generated code could not convert: the loop says which field.
            return _load_plainly(cls, record_id, record)
        return obj

    @classmethod
    def from_records(cls: type[R], rows: list[tuple[int, dict[str, Any]]]) -> list[R]:
        """:meth:`from_record` for many rows at once (a whole table, in the order given): a
        table big enough for the generated loader gets it at once, and each row costs one
        call of it."""
        loader = _LOADERS.get(cls)
        if loader is None:
            if _LOADED.get(cls, 0) + len(rows) < GENERATE_AFTER:
                return [cls.from_record(record_id, row) for record_id, row in rows]
            loader = _LOADERS[cls] = _make_loader(cls)
        try:
            return [loader(record_id, row) for record_id, row in rows]
        except (ValueError, TypeError, AttributeError, OverflowError):
            # A stored value the generated code could not convert: row by row, the loop names it.
            return [cls.from_record(record_id, row) for record_id, row in rows]

    @classmethod
    def from_untrusted(cls: type[R], record_id: int, record: dict[str, Any]) -> R:
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
                        what = "date" if name == "date" else name.replace("_", " ") + " date"
                        raise ValidationError(
                            f"The {what} {format_date(day)} is outside the dates kt handles: use one from {RANGE_TEXT}."
                        )
            elif isinstance(value, str) and value and name in TIMESTAMP_FIELDS:
                _check_timestamp(name, value)
            elif value is not None and name in cls.ENUM_FIELDS:
                value = cls.ENUM_FIELDS[name](value)  # a clear ValueError for an unknown value
            kwargs[name] = value
        return cls(id=record_id, **kwargs)

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


def check_moments(record: Record, *names: str) -> None:
    """Each named field, when set, holds a moment kt wrote (ISO 8601). Every kind's moment
    fields (TIMESTAMP_FIELDS) are checked this way as they load."""
    for name in names:
        value = getattr(record, name)
        if value and not is_moment(value):
            what = "time" if name == "at" else name.replace("_", " ")
            raise ValueError(f"its {what} {value[:40]!r} is not an ISO 8601 date and time")


def _check_timestamp(name: str, value: str) -> None:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ValidationError(f"The {name} time {value!r} is not an ISO 8601 date and time.") from None
    if not in_range(moment.date()):
        raise ValidationError(f"The {name} time {value} is outside the dates kt handles: use one from {RANGE_TEXT}.")


def _to_date(value: Any) -> Any:
    return [date.fromisoformat(v) for v in value] if isinstance(value, list) else date.fromisoformat(value)


def _to_dates(value: Any) -> list[date]:
    """A stored list of dates (a single date where a list belongs is damage, not a list)."""
    if value.__class__ is not list:
        raise TypeError("not a list")
    return [date.fromisoformat(v) for v in value]


def _load_plainly(cls: type[R], record_id: int, record: dict[str, Any]) -> R:
    """Fill a record's slots from its stored dict by looping over its field plan, checking
    each stored value's type: one kt cannot use is a damaged store (CorruptStoreError,
    naming the record and field), never a crash further on."""
    if record.__class__ is not dict:
        raise CorruptStoreError(f"{_where(cls, record_id)} is {_shown(record)}, not a record: {_DAMAGED}")
    obj = cls.__new__(cls)
    obj.id = record_id
    get = record.get
    for name, convert, default in _LOAD_PLANS.get(cls) or _load_plan(cls):
        value = get(name, _MISSING)
        if value is _MISSING:  # written by a version before the field existed
            value = default()
        elif value is not None and convert is not None:
            try:
                value = convert(value)
            except (ValueError, TypeError, KeyError, OverflowError):
                raise bad_value(cls, record_id, name, value) from None
        elif not _fits(_CHECKS[cls][name], value):
            raise bad_value(cls, record_id, name, value)
        setattr(obj, name, value)
    try:
        _check_ranges(obj)
        obj._loaded()
        check_moments(obj, *_moment_fields(cls))
    except _LOAD_ERRORS as exc:
        raise unreadable(cls, record_id, exc) from None
    return obj


def _check_ranges(record: Record) -> None:
    """Each of the kind's ranged numbers (``RANGES``) is a whole number in its range."""
    for name, (low, high) in record.RANGES.items():
        value = getattr(record, name)
        if value.__class__ is not int or not low <= value <= high:
            raise ValueError(f"{name.capitalize()} must be a whole number from {low} to {high}, not {value!r}.")


def _moment_fields(cls: type[Record]) -> tuple[str, ...]:
    found = _MOMENT_FIELDS.get(cls)
    if found is None:
        found = _MOMENT_FIELDS[cls] = tuple(name for name, _, _ in _load_plan(cls) if name in TIMESTAMP_FIELDS)
    return found


_MOMENT_FIELDS: dict[type[Record], tuple[str, ...]] = {}


# What a kind's _loaded() raises for a value it cannot use.
_LOAD_ERRORS = (ValueError, TypeError, KeyError, AttributeError, ValidationError)


def unreadable(cls: type[Record], record_id: int, exc: Exception) -> CorruptStoreError:
    """The error for a record whose values do not hold together (``_loaded`` refused them)."""
    return CorruptStoreError(f"{_where(cls, record_id)} cannot be read ({exc}): {_DAMAGED}")


# What a stored value of each field's declared type may be: its JSON types (None for an
# optional field), and for a list or table the type of what it holds. Checked on every load,
# in the generated loaders too (an identity test per field).
_JSON_TYPES: dict[str, tuple[type, ...]] = {
    "str": (str,),
    "int": (int,),
    "bool": (bool,),
    "float": (float, int),
    "date": (str,),
    "Any": (str, int, float, bool, list, dict, type(None)),
}
_WORDS = {str: "text", int: "a whole number", bool: "true or false", float: "a number", list: "a list", dict: "a table"}
_ITEM_WORDS = {str: "text", int: "whole numbers", float: "numbers", bool: "true/false", list: "lists", dict: "tables"}
_DAMAGED = (
    "the store was edited by hand or damaged. kt doctor lists what it cannot read; kt restore brings back a backup."
)


class _Check:
    """What a field's stored value may be (a plain class: a dataclass here cost import time)."""

    __slots__ = ("types", "items")

    def __init__(self, types: tuple[type, ...], items: tuple[type, ...] | None = None) -> None:
        self.types = types  # the value's own class must be one of these
        self.items = items  # a list's items, or a table's values


def _check_for(kind: str) -> _Check:
    optional = kind.endswith(" | None")
    base = kind.removesuffix(" | None")
    none: tuple[type, ...] = (type(None),) if optional else ()
    for outer, container in (("list[", list), ("dict[str, ", dict)):
        if base.startswith(outer) and base.endswith("]"):
            inner = base[len(outer) : -1]
            container_of = (dict,) if inner.startswith("dict[") else (list,) if "[" in inner else (str,)
            items = _JSON_TYPES.get(inner, container_of)
            return _Check((container, *none), items)
    return _Check((*_JSON_TYPES.get(base, (str,)), *none))


def _fits(check: _Check, value: Any) -> bool:
    if value.__class__ not in check.types:
        return False
    if check.items is None or value is None:
        return True
    allowed = check.items
    if isinstance(value, dict):
        return all(item.__class__ in allowed for item in value.values())
    return isinstance(value, list) and all(item.__class__ in allowed for item in value)


def _expected(cls: type[Record], name: str) -> str:
    if name in cls.DATE_FIELDS:
        return "a list of dates (YYYY-MM-DD)" if name in _LIST_FIELDS.get(cls, ()) else "a date (YYYY-MM-DD)"
    if name in cls.ENUM_FIELDS:
        return "one of " + ", ".join(m.value for m in cls.ENUM_FIELDS[name])
    check = _CHECKS[cls][name]
    what = _WORDS.get(check.types[0], check.types[0].__name__)
    if check.items is not None:
        what += " of " + _ITEM_WORDS.get(check.items[0], "values")
    return what + (" or null" if type(None) in check.types else "")


def _where(cls: type[Record], record_id: int) -> str:
    return f"{cls.PREFIX}{record_id} (in the store's {cls.TABLE} table)"


def _shown(value: Any) -> str:
    """A stored value as it reads in the file (null, true), cut short."""
    if value is None or value.__class__ is bool:
        text = "null" if value is None else str(value).lower()
    else:
        text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def bad_value(cls: type[Record], record_id: int, name: str, value: Any) -> CorruptStoreError:
    """The error for a stored value kt cannot use, naming the record and field."""
    return CorruptStoreError(
        f"{_where(cls, record_id)} has {name} {_shown(value)}, which is not {_expected(cls, name)}: {_DAMAGED}"
    )


_CHECKS: dict[type[Record], dict[str, _Check]] = {}
_LIST_FIELDS: dict[type[Record], frozenset[str]] = {}


# Records of one kind a command loads by the loop before a straight-line loader is
# generated for that kind (at once when a whole table of this many is loaded together).
# Measured with callgrind on the region plan: generating the Action loader costs 1.9M
# instructions, and the loop takes about 11k more per action than the generated code,
# so generating pays from about 170 actions.
GENERATE_AFTER = 200
_LOADED: dict[type[Record], int] = {}
_LOADERS: dict[type[Record], Callable[[int, dict[str, Any]], Any]] = {}


def _make_loader(cls: type[Record]) -> Callable[[int, dict[str, Any]], Any]:
    """Write a function that fills a record's slots from its stored dict, field by field
    in straight-line code (each assignment to a slot is then the interpreter's fast
    path). A record missing a field (written by an older version) takes the loop."""
    names: dict[str, Any] = {
        "cls": cls,
        "plainly": _load_plainly,
        "NoneType": type(None),
        "fromiso": datetime.fromisoformat,
    }
    lines = [
        "def load(record_id, r):",
        "    try:",
        "        o = cls.__new__(cls)",
        "        o.id = record_id",
    ]
    for n, (name, convert, _default) in enumerate(_load_plan(cls)):
        if convert is None:
            # A value of another type sends the record to the loop, which names the field.
            check = _CHECKS[cls][name]
            test = " and ".join(f"v.__class__ is not {t.__name__}" for t in check.types)
            if check.items is not None:
                # Tested in C: the set of allowed item types is a superset of the items' types.
                names[f"items_{n}"] = frozenset(check.items)
                values = "v.values()" if check.types[0] is dict else "v"
                test = f"({test}) or not items_{n}.issuperset(map(type, {values}))"
            lines.append(f"        v = r[{name!r}]")
            lines.append(f"        if {test}:")
            lines.append("            return plainly(cls, record_id, r)")
            if name in TIMESTAMP_FIELDS:  # a moment kt did not write raises: the loop says what is wrong
                lines.append("        if v:")
                lines.append("            fromiso(v)")
            if name in cls.RANGES:
                low, high = cls.RANGES[name]
                lines.append(f"        if v.__class__ is not int or not {low} <= v <= {high}:")
                lines.append("            return plainly(cls, record_id, r)")
            lines.append(f"        o.{name} = v")
        else:
            names[f"convert_{n}"] = convert
            lines.append(f"        v = r[{name!r}]")
            if type(None) not in _CHECKS[cls][name].types:
                lines.append("        if v is None:")
                lines.append("            return plainly(cls, record_id, r)")
            lines.append(f"        o.{name} = None if v is None else convert_{n}(v)")
    lines += ["    except KeyError:", "        return plainly(cls, record_id, r)"]
    if cls._loaded is not Record._loaded:
        names.update(errors=_LOAD_ERRORS, unreadable=unreadable)
        lines += [
            "    try:",
            "        o._loaded()",
            "    except errors as exc:",
            "        raise unreadable(cls, record_id, exc) from None",
        ]
    lines.append("    return o")
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
            _CHECKS.setdefault(cls, {})[f.name] = _check_for(str(f.type))
            if "list" in str(f.type):
                _LIST_FIELDS[cls] = _LIST_FIELDS.get(cls, frozenset()) | {f.name}
            if f.name in cls.DATE_FIELDS:
                convert = _to_dates if "list" in str(f.type) else date.fromisoformat
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
            body.append(f"        {f.name!r}: None if o.{f.name} is None else o.{f.name}._value_,")
        elif kind in _PLAIN_TYPES:
            body.append(f"        {f.name!r}: o.{f.name},")
        else:
            body.append(f"        {f.name!r}: plain(o.{f.name}),")
    body.append("    }")
    exec(compile("\n".join(body), f"<{cls.__name__} dumper>", "exec"), names)  # noqa: S102
    dumper: Callable[[Any], dict[str, Any]] = names["dump"]
    return dumper
