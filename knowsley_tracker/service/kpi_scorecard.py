"""The KPI scorecard: figures, status against target and tolerance, trend, sparklines, comparators.

Every KPI number that is shown anywhere (values, targets, numerators and denominators, in tables,
board packs and JSON) becomes text in one place, :meth:`Figures.figure`, so that small-number
suppression can be added there once. Nothing here writes to the store, prints or imports Rich.
"""

from __future__ import annotations

import re
from datetime import date
from functools import lru_cache
from typing import Literal, NamedTuple

from knowsley_tracker import dates
from knowsley_tracker.config import SETTINGS
from knowsley_tracker.errors import ValidationError
from knowsley_tracker.models import COMPARATOR_KINDS, FocusArea, Kpi, KpiValue, Rag, Recommendation
from knowsley_tracker.patterns import LazyPattern
from knowsley_tracker.service.session import Session

SPARK_CHARS = "▁▂▃▄▅▆▇█"
SPARK_POINTS = 8
# Reported values that differ by less than this are treated as unchanged (the
# figures are shown to one decimal place).
FLAT = 0.05

Trend = Literal["improving", "worsening", "flat"]
Direction = Literal["up", "down", "flat"]


# -- figures: the one place KPI numbers become text --------------------------------


class Figure(NamedTuple):
    """A KPI number as reports show it. ``value`` is None when there is nothing to show."""

    value: float | None
    text: str


def format_number(value: float) -> str:
    """``81``, ``81.5``, ``1,204``: at most one decimal place, thousands separated."""
    rounded = round(value, 1)
    if rounded == int(rounded):
        return f"{int(rounded):,}"
    return f"{rounded:,.1f}"


SUPPRESSED = "c"
_NO_FIGURE = Figure(None, "")
_tuple_new = tuple.__new__
_SUPPRESSED_FIGURE = Figure(None, SUPPRESSED)


@lru_cache(maxsize=64)
def _is_percent_unit(unit: str) -> bool:
    return unit.strip().lower() in ("%", "percent", "per cent", "percentage")


DEFAULT_SMALL_NUMBERS: int = SETTINGS["small_numbers"].default


class Figures:
    """Turns KPI values and counts into figures for display.

    Built once per command (:meth:`for_session`), so the plan's small-number
    rule applies to every figure in every format. Like councils and the DfE,
    reports never show a count of children from 1 up to the ``small_numbers``
    threshold (default 5; 0 turns suppression off): it is shown as "c". A rate
    is suppressed too when its numerator or denominator is such a count, since
    either would let a reader work the small number out. Zero is shown.
    Suppressed figures carry no value, so charts and sparklines leave them out.
    """

    def __init__(self, small_numbers: int = 0) -> None:
        self.small_numbers = small_numbers

    @classmethod
    def for_session(cls, s: Session) -> Figures:
        return cls(s.setting("small_numbers"))

    def figure(
        self, value: float | None, *, unit: str = "", count: bool = False, based_on: tuple[int | None, ...] = ()
    ) -> Figure:
        """The displayed form of one KPI value (``count`` marks a count of people or cases,
        ``based_on`` the counts a rate was worked out from)."""
        if value is None:
            return _NO_FIGURE
        limit = self.small_numbers
        if limit > 1:  # a report may show thousands of figures: test the common case cheaply
            if count and 0 < value < limit:
                return _SUPPRESSED_FIGURE
            for n in based_on:
                if n is not None and 0 < n < limit:
                    return _SUPPRESSED_FIGURE
        text = format_number(value)
        if unit and _is_percent_unit(unit):
            text += "%"
        return _tuple_new(Figure, (float(value), text))  # a report makes thousands: see kpi_status

    def value_of(
        self, kpi: Kpi, value: float | None, numerator: int | None = None, denominator: int | None = None
    ) -> Figure:
        """A reported value of ``kpi`` (suppressed when it, or what it was worked out from, is small)."""
        return self.figure(value, unit=kpi.unit, count=kpi.is_count, based_on=(numerator, denominator))

    def target_of(self, kpi: Kpi) -> Figure:
        """A target is not a count of children, so it is always shown."""
        return self.figure(kpi.target, unit=kpi.unit)

    def count(self, value: int | None) -> Figure:
        if value is None:  # most values have no numerator or denominator
            return _NO_FIGURE
        return self.figure(value, count=True)


# -- views ---------------------------------------------------------------------------


class KpiPoint(NamedTuple):
    """One reported value, ready to show."""

    record: KpiValue
    value: Figure
    numerator: Figure
    denominator: Figure
    met: bool
    trend: Trend | None  # against the value before it; None for the first

    @property
    def period_label(self) -> str:
        return dates.format_period(self.record.period)


class Comparator(NamedTuple):
    """A published figure to compare a KPI with (England, statistical neighbours, region)."""

    kind: str  # a key of COMPARATOR_KINDS
    value: Figure
    period: str  # as stored: 2024-25, 2024, 2025-03...

    @property
    def label(self) -> str:
        return COMPARATOR_KINDS[self.kind]

    @property
    def period_label(self) -> str:
        return comparator_period_label(self.period)


class KpiStatus(NamedTuple):
    """A KPI on the scorecard: its latest value against target, and which way it is going."""

    kpi: Kpi
    focus: FocusArea | None
    recs: list[Recommendation]
    target: Figure
    history: list[KpiPoint]  # oldest first
    sparkline: str
    tolerance: Figure = Figure(None, "")
    comparators: list[Comparator] = []  # shared default, never mutated

    @property
    def latest(self) -> KpiPoint | None:
        return self.history[-1] if self.history else None

    @property
    def previous(self) -> KpiPoint | None:
        return self.history[-2] if len(self.history) > 1 else None

    @property
    def met(self) -> bool | None:
        """Whether the latest value meets the target; None with no value, or when the value
        is suppressed as a small number (saying "met" would hint at it)."""
        latest = self.latest
        return latest.met if latest is not None and latest.value.value is not None else None

    @property
    def rag(self) -> Rag | None:
        """Green when the latest value meets the target, Amber within the tolerance, else Red;
        None with no value or a suppressed one."""
        met = self.met
        if met is None:
            return None
        if met:
            return Rag.GREEN
        latest = self.latest
        assert latest is not None
        return Rag.AMBER if self.kpi.within_tolerance(latest.record.value) else Rag.RED

    @property
    def trend(self) -> Trend | None:
        return self.latest.trend if self.latest else None

    @property
    def direction(self) -> Direction | None:
        latest, previous = self.latest, self.previous
        if latest is None or previous is None:
            return None
        return direction(previous.record.value, latest.record.value)


def direction(old: float, new: float) -> Direction:
    if abs(new - old) < FLAT:
        return "flat"
    return "up" if new > old else "down"


def trend(kpi: Kpi, old: float, new: float) -> Trend:
    """Improving or worsening judged by the KPI's direction (lower is better for some)."""
    moved = direction(old, new)
    if moved == "flat":
        return "flat"
    better = "down" if kpi.lower_is_better else "up"
    return "improving" if moved == better else "worsening"


def sparkline(values: list[float | None]) -> str:
    """A small chart of the last values, lowest ▁ to highest █; a suppressed value (None)
    is a gap, so nothing is drawn into or out of it."""
    points = values[-SPARK_POINTS:]
    shown = [v for v in points if v is not None]
    if not shown:
        return ""
    low, high = min(shown), max(shown)
    top = len(SPARK_CHARS) - 1
    flat = high - low < FLAT
    return "".join(
        " " if v is None else SPARK_CHARS[3] if flat else SPARK_CHARS[round((v - low) / (high - low) * top)]
        for v in points
    )


_FINANCIAL_YEAR = LazyPattern(r"(\d{4})-(\d{2})")


def _is_financial_year(text: str) -> bool:
    """``2024-25``: a year and the next one's last two digits (so ``2025-03`` is March 2025)."""
    m = _FINANCIAL_YEAR.fullmatch(text)
    return m is not None and (int(m[1]) + 1) % 100 == int(m[2])


def comparator_period(text: str, today: date) -> str:
    """The period a published comparator describes: a financial or academic year (``2024-25``),
    a calendar year (``2024``), or a KPI period (month, quarter, date). Returns the stored label."""
    cleaned = text.strip()
    if _is_financial_year(cleaned):
        return cleaned
    if re.fullmatch(r"\d{4}", cleaned) and 1900 <= int(cleaned) <= today.year:
        return cleaned
    try:
        label, _ = dates.parse_period(cleaned, today)
    except ValueError:
        raise ValidationError(
            f"Cannot read {text!r} as the period a comparator describes: use a year (2024), a financial "
            "year (2024-25), a month (Mar 2025) or a quarter (2025-Q1)."
        ) from None
    return label


def comparator_period_label(label: str) -> str:
    """``2024-25``, ``2024``, else as a KPI period is shown (``Mar 2025``)."""
    if _is_financial_year(label) or re.fullmatch(r"\d{4}", label):
        return label
    return dates.format_period(label)


def values_by_kpi(s: Session) -> dict[int, list[KpiValue]]:
    """Every reported value, grouped by KPI, oldest period first."""
    grouped: dict[int, list[KpiValue]] = {}
    for value in s.store.all(KpiValue):
        grouped.setdefault(value.kpi_id, []).append(value)
    for values in grouped.values():
        values.sort(key=lambda v: (v.period_end, v.id))
    return grouped


def latest_as_of(values: list[KpiValue], day: date) -> KpiValue | None:
    """The value for the latest period ending on or before ``day`` (values oldest first)."""
    found = None
    for value in values:
        if value.period_end <= day:
            found = value
    return found


def kpi_status(
    kpi: Kpi,
    values: list[KpiValue],
    figures: Figures,
    areas: dict[int, FocusArea],
    recs: dict[int, Recommendation],
) -> KpiStatus:
    history: list[KpiPoint] = []
    before: KpiPoint | None = None
    # A region's scorecard has 2,400 values: the calls bound once, each point made by
    # tuple.__new__ in field order (NamedTuple's keyword __new__ is a Python function).
    value_of, count, meets, new = figures.value_of, figures.count, kpi.meets_target, tuple.__new__
    for value in values:
        figure = value_of(kpi, value.value, value.numerator, value.denominator)
        point: KpiPoint = new(
            KpiPoint,
            (
                value,
                figure,
                count(value.numerator),
                count(value.denominator),
                meets(value.value),
                # No trend into or out of a suppressed value: its direction would hint at it.
                trend(kpi, before.record.value, value.value)
                if before is not None and before.value.value is not None and figure.value is not None
                else None,
            ),
        )
        history.append(point)
        before = point
    return KpiStatus(
        kpi=kpi,
        focus=areas.get(kpi.focus_id) if kpi.focus_id else None,
        recs=[recs[r] for r in kpi.rec_ids if r in recs],
        target=figures.target_of(kpi),
        history=history,
        sparkline=sparkline([p.value.value for p in history]),
        tolerance=figures.figure(kpi.tolerance, unit=kpi.unit),
        comparators=[
            Comparator(c["kind"], figures.figure(c["value"], unit=kpi.unit), c["period"])
            for kind in COMPARATOR_KINDS
            for c in kpi.comparators
            if c["kind"] == kind
        ]
        if kpi.comparators
        else [],
    )


class KpiBook:
    """The plan's KPIs with their values, read once per command."""

    def __init__(
        self,
        kpis: list[Kpi],
        values: dict[int, list[KpiValue]],
        areas: dict[int, FocusArea],
        recs: dict[int, Recommendation],
        figures: Figures,
    ) -> None:
        self.kpis = kpis
        self.values = values
        self.areas = areas
        self.recs = recs
        self.figures = figures
        self._statuses: dict[int, KpiStatus] = {}

    @classmethod
    def load(
        cls,
        s: Session,
        *,
        areas: dict[int, FocusArea] | None = None,
        recs: dict[int, Recommendation] | None = None,
    ) -> KpiBook:
        return cls(
            kpis=s.store.all(Kpi),
            values=values_by_kpi(s),
            areas=areas if areas is not None else {f.id: f for f in s.store.all(FocusArea)},
            recs=recs if recs is not None else {r.id: r for r in s.store.all(Recommendation)},
            figures=Figures.for_session(s),
        )

    def status(self, kpi: Kpi) -> KpiStatus:
        found = self._statuses.get(kpi.id)
        if found is None:
            found = self._statuses[kpi.id] = kpi_status(
                kpi, self.values.get(kpi.id, []), self.figures, self.areas, self.recs
            )
        return found

    def figure_for(self, kpi: Kpi, period: str | None, value: float | None) -> Figure:
        """A value as it stood for ``period`` (from a board snapshot), suppressed by the
        same rule as live values: the period's numerator and denominator count too."""
        recorded = next((v for v in self.values.get(kpi.id, []) if v.period == period), None)
        if recorded is None:
            return self.figures.value_of(kpi, value)
        return self.figures.value_of(kpi, value, recorded.numerator, recorded.denominator)

    def in_focus(self, kpi: Kpi, focus_id: int) -> bool:
        """True when the KPI belongs to the focus area, directly or through a recommendation."""
        if kpi.focus_id == focus_id:
            return True
        return any(self.recs[r].focus_id == focus_id for r in kpi.rec_ids if r in self.recs)

    def scorecard(self, focus_id: int | None = None) -> list[KpiStatus]:
        return [self.status(k) for k in self.kpis if focus_id is None or self.in_focus(k, focus_id)]
