"""KPI records: the indicator with its target and tolerance, and the values reported each period."""

from __future__ import annotations

import math
import re
from dataclasses import field
from datetime import date
from typing import Any, ClassVar

from knowsley_tracker.dates import format_period
from knowsley_tracker.errors import ValidationError
from knowsley_tracker.models.record import Record, optional_text, record_class, require_text


@record_class
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
            raise ValidationError(
                f"The target of {self.key} must be a number of at most 15 digits, not {self.target!r}."
            )
        if self.tolerance is not None and not (_is_number(self.tolerance) and self.tolerance >= 0):
            raise ValidationError(
                f"The tolerance of {self.key} must be a number, 0 or more, of at most 15 digits, "
                f"not {self.tolerance!r}."
            )
        check_comparators(self.key, self.comparators)

    def _loaded(self) -> None:
        check_comparators(self.key, self.comparators)
        if not _is_number(self.target):
            raise ValueError(f"its target {self.target!r} is not a number of at most 15 digits")
        if self.tolerance is not None and not (_is_number(self.tolerance) and self.tolerance >= 0):
            raise ValueError(f"its tolerance {self.tolerance!r} is not a number, 0 or more, of at most 15 digits")

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


def check_comparators(key: str, comparators: Any) -> None:
    """At most one comparator of each of COMPARATOR_KINDS, each with a number and the
    period it describes (ValidationError otherwise)."""
    kinds: list[str] = []
    for item in comparators if isinstance(comparators, list) else [None]:
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
                f"A comparator of {key} must be one each of {', '.join(COMPARATOR_KINDS)}, "
                "with a number and the period it describes."
            )
        kinds.append(item["kind"])


# KPI figures have at most 15 digits before the point: a float holds those exactly, and a
# chart's range (the highest less the lowest) cannot overflow.
LARGEST_KPI_FIGURE = 1e15


# Numerators and denominators: counts, held as a 32-bit integer on a PostgreSQL server.
LARGEST_COUNT = 2_147_483_647


def _is_count(value: object) -> bool:
    return not isinstance(value, bool) and isinstance(value, int) and 0 <= value <= LARGEST_COUNT


def _is_number(value: object) -> bool:
    return (
        not isinstance(value, bool)
        and isinstance(value, int | float)
        and math.isfinite(value)
        and -LARGEST_KPI_FIGURE < value < LARGEST_KPI_FIGURE
    )


@record_class
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
        if not _is_number(self.value):
            raise ValidationError(f"A KPI value must be a number of at most 15 digits, not {self.value!r}.")
        for name in ("numerator", "denominator"):
            count = getattr(self, name)
            if count is not None and not _is_count(count):
                raise ValidationError(
                    f"The {name} must be a whole number from 0 to 999,999,999,999,999, not {count!r}."
                )
        if self.denominator == 0:
            raise ValidationError("The denominator cannot be 0.")
        self.note = optional_text(self.note)

    def _loaded(self) -> None:
        if not _is_number(self.value):
            raise ValueError(f"its value {self.value!r} is not a number of at most 15 digits")
        for name in ("numerator", "denominator"):
            count = getattr(self, name)
            if count is not None and not _is_count(count):
                raise ValueError(f"its {name} {count!r} is not a whole number from 0 to {LARGEST_COUNT:,}")
        try:
            format_period(self.period)  # a label kt wrote (2025-06, 2025-Q2, 2025-06-30), or damage
        except ValueError:
            shown = repr(self.period[:40])
            raise ValueError(f"its period {shown} is not one kt writes (2025-06, 2025-Q2, 2025-06-30)") from None
