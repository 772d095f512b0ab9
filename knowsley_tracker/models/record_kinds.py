"""Every record kind by table name and reference prefix, and turning a reference such as ``A12``
into an id.
"""

from __future__ import annotations

import re

from knowsley_tracker.errors import ValidationError
from knowsley_tracker.models.kpi_records import Kpi, KpiValue
from knowsley_tracker.models.oversight_records import Board, Intervention, Partner
from knowsley_tracker.models.plan_records import (
    Action,
    Evidence,
    FocusArea,
    Inspection,
    LogEntry,
    Owner,
    Recommendation,
    Reminder,
    Visit,
)
from knowsley_tracker.models.record import Record

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
