"""KPIs: targets, the values reported each period, and the scorecard built from them.

Every KPI number that is shown anywhere (values, targets, numerators and
denominators, in tables, board packs and JSON) becomes text in one place,
:meth:`Figures.figure`, so that small-number suppression can be added there
once. Nothing here prints or imports Rich.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date
from functools import lru_cache
from typing import Any, Literal, NamedTuple

from knowsley_tracker import dates
from knowsley_tracker.config import SETTINGS
from knowsley_tracker.errors import ConflictError, ValidationError
from knowsley_tracker.models import COMPARATOR_KINDS, FocusArea, Kpi, KpiValue, Rag, Recommendation
from knowsley_tracker.service.session import Session
from knowsley_tracker.store_interface import Eq

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
        return Figure(float(value), text)

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


_FINANCIAL_YEAR = re.compile(r"(\d{4})-(\d{2})")


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
    # What value_of() asks of the KPI, asked once (the region's scorecard has 2,200 values).
    unit, is_count, shown_as, count_of = kpi.unit, kpi.is_count, figures.figure, figures.count
    for value in values:
        raw = value.value
        numerator, denominator = value.numerator, value.denominator
        figure = shown_as(raw, unit=unit, count=is_count, based_on=(numerator, denominator))
        point = KpiPoint(
            value,
            figure,
            count_of(numerator),
            count_of(denominator),
            kpi.meets_target(raw),
            # No trend into or out of a suppressed value: its direction would hint at it.
            trend(kpi, before.record.value, raw)
            if before is not None and before.value.value is not None and figure.value is not None
            else None,
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


# -- use-cases -----------------------------------------------------------------------


def parse_number(text: str, what: str) -> float:
    cleaned = text.strip().replace(",", "")
    if cleaned.endswith("%"):
        cleaned = cleaned[:-1].strip()
    try:
        number = float(cleaned)
    except ValueError:
        raise ValidationError(f"The {what} must be a number, not {text!r}.") from None
    if number != number or number in (float("inf"), float("-inf")):
        raise ValidationError(f"The {what} must be a number, not {text!r}.")
    return number


def _check_percent(kpi: Kpi, value: float, what: str) -> None:
    if kpi.is_percent and not 0 <= value <= 100:
        raise ValidationError(f"{kpi.key} is a percentage: the {what} must be from 0 to 100, not {value:g}.")


def add_kpi(
    s: Session,
    key: str,
    name: str,
    *,
    target: str,
    unit: str = "",
    lower_is_better: bool = False,
    focus: str | None = None,
    recs: list[str] | None = None,
    target_date: str | None = None,
) -> KpiStatus:
    """Add a KPI with its target (keys are unique, ignoring case); returns it as the scorecard shows it."""
    s.texts(name=name, unit=unit)
    rec_ids: list[int] = []
    for ref in recs or []:
        rec = s.recommendation(ref)
        if rec.id not in rec_ids:
            rec_ids.append(rec.id)
    kpi = Kpi(
        key=key,
        name=name,
        target=parse_number(target, "target"),
        unit=unit,
        lower_is_better=lower_is_better,
        focus_id=s.focus(focus).id if focus else None,
        rec_ids=rec_ids,
        target_date=s.optional_date(target_date),
        created_at=s.stamp(),
    )
    _check_percent(kpi, kpi.target, "target")
    for existing in s.store.all(Kpi):
        if existing.key == kpi.key:
            raise ConflictError(f"KPI {kpi.key} already exists ({existing.name}).")
    added = s.store.add(kpi)
    return KpiBook.load(s).status(added)


def period_start(label: str) -> date:
    """The first day of a stored period label (month, quarter or day)."""
    if m := re.fullmatch(r"(\d{4})-(\d{2})", label):
        return date(int(m[1]), int(m[2]), 1)
    if m := re.fullmatch(r"(\d{4})-Q([1-4])", label):
        return date(int(m[1]), int(m[2]) * 3 - 2, 1)
    return date.fromisoformat(label)


class Recorded(NamedTuple):
    """A value just recorded, the one it replaced (if any), and the KPI with it."""

    value: KpiValue
    replaced: KpiValue | None
    status: KpiStatus

    @property
    def point(self) -> KpiPoint:
        return next(p for p in self.status.history if p.record.id == self.value.id)

    @property
    def before(self) -> KpiPoint | None:
        """The value for the period before this one."""
        index = self.status.history.index(self.point)
        return self.status.history[index - 1] if index > 0 else None


def record_value(
    s: Session,
    key: str,
    value: str | None,
    *,
    period: str,
    numerator: int | None = None,
    denominator: int | None = None,
    note: str = "",
    replace_existing: bool = False,
) -> Recorded:
    """Record a KPI's value for a period (``replace_existing`` corrects one already recorded)."""
    s.texts(note=note)
    kpi = s.kpi(key)
    try:
        label, period_end = dates.parse_period(period, s.today)
    except ValueError as exc:
        raise ValidationError(str(exc)) from None
    if period_start(label) > s.today:
        raise ValidationError(
            f"The period {dates.format_period(label)} has not started yet (today is {dates.format_date(s.today)})."
        )
    if (numerator is None) != (denominator is None):
        raise ValidationError("Give --numerator and --denominator together.")
    if value is None or not value.strip():
        if numerator is None or denominator is None:
            raise ValidationError(f"Give the value of {kpi.key}, or --numerator and --denominator to work it out.")
        if denominator == 0:
            raise ValidationError("The denominator cannot be 0.")
        number = round((100 if kpi.is_percent else 1) * numerator / denominator, 1)
    else:
        number = parse_number(value, "value")
    _check_percent(kpi, number, "value")
    if kpi.is_percent and numerator is not None and denominator:
        worked = 100 * numerator / denominator
        if abs(worked - number) > 0.5:
            raise ValidationError(
                f"{format_number(number)}% does not match {numerator}/{denominator} = {format_number(worked)}%: "
                "check the figures, or leave out the value to work it out."
            )
    record = KpiValue(
        kpi_id=kpi.id,
        period=label,
        period_end=period_end,
        value=number,
        numerator=numerator,
        denominator=denominator,
        note=note,
        recorded_at=s.stamp(),
        by=s.user,
    )
    existing = next(s.store.select(KpiValue, Eq("kpi_id", kpi.id), Eq("period", label), limit=1), None)
    if existing is None:
        added = s.store.add(record)
        return Recorded(added, None, KpiBook.load(s).status(kpi))
    if not replace_existing:
        shown = Figures.for_session(s).value_of(kpi, existing.value, existing.numerator, existing.denominator).text
        raise ConflictError(
            f"{kpi.key} already has a value for {dates.format_period(label)} ({shown}): add --replace to correct it."
        )
    updated = replace(record, id=existing.id)
    s.store.save(updated)
    return Recorded(updated, existing, KpiBook.load(s).status(kpi))


def list_kpis(s: Session, focus: str | None = None) -> list[KpiStatus]:
    """The scorecard: every KPI (or one focus area's) with its latest value and trend."""
    book = KpiBook.load(s)
    return book.scorecard(s.focus(focus).id if focus else None)


def show_kpi(s: Session, key: str) -> KpiStatus:
    """One KPI with its whole history of values."""
    kpi = s.kpi(key)
    book = KpiBook.load(s)
    return book.status(kpi)


# A value given to `kt kpi edit` that clears an optional field.
CLEAR = "none"


def _cleared(text: str) -> bool:
    return text.strip().lower() in (CLEAR, "")


def edit_kpi(
    s: Session,
    key: str,
    *,
    name: str | None = None,
    target: str | None = None,
    unit: str | None = None,
    lower_is_better: bool | None = None,
    focus: str | None = None,
    recs: list[str] | None = None,
    target_date: str | None = None,
    tolerance: str | None = None,
    comparators: dict[str, str] | None = None,
    comparator_period_text: str | None = None,
) -> tuple[KpiStatus, list[str]]:
    """Change a KPI; returns it as the scorecard shows it and the names of the fields changed.

    ``focus``, ``target_date`` and ``tolerance`` take ``none`` to clear them; ``recs`` replaces
    the recommendations it evidences (an empty list unlinks them all). ``comparators`` maps a
    kind (england, neighbours, regional) to a value or ``none``; the values given need
    ``comparator_period_text``, the period they describe.
    """
    s.texts(name=name, unit=unit)
    kpi = s.kpi(key)
    changes: dict[str, Any] = {}
    if name is not None:
        changes["name"] = name
    if unit is not None:
        changes["unit"] = unit
    if target is not None:
        changes["target"] = parse_number(target, "target")
    if lower_is_better is not None:
        changes["lower_is_better"] = lower_is_better
    if focus is not None:
        changes["focus_id"] = None if _cleared(focus) else s.focus(focus).id
    if recs is not None:
        rec_ids: list[int] = []
        for ref in recs:
            rec = s.recommendation(ref)
            if rec.id not in rec_ids:
                rec_ids.append(rec.id)
        changes["rec_ids"] = rec_ids
    if target_date is not None:
        changes["target_date"] = None if _cleared(target_date) else s.parse_date(target_date)
    if tolerance is not None:
        changes["tolerance"] = None if _cleared(tolerance) else parse_number(tolerance, "tolerance")
        if changes["tolerance"] is not None and changes["tolerance"] < 0:
            raise ValidationError(f"The tolerance must be 0 or more, not {tolerance!r}.")
    if comparators:
        given = {kind: value for kind, value in comparators.items() if not _cleared(value)}
        if given and comparator_period_text is None:
            raise ValidationError(
                "Give --comparator-period with the comparators: the period they describe, e.g. 2024-25."
            )
        if not given and comparator_period_text is not None:
            raise ValidationError("--comparator-period goes with --england, --neighbours or --regional values.")
        period = comparator_period(comparator_period_text, s.today) if comparator_period_text is not None else ""
        kept = {c["kind"]: c for c in kpi.comparators if c["kind"] not in comparators}
        for kind, value in given.items():
            kept[kind] = {
                "kind": kind,
                "value": parse_number(value, f"{COMPARATOR_KINDS[kind]} figure"),
                "period": period,
            }
        changes["comparators"] = [kept[k] for k in COMPARATOR_KINDS if k in kept]
    elif comparator_period_text is not None:
        raise ValidationError("--comparator-period goes with --england, --neighbours or --regional values.")
    if not changes:
        raise ValidationError(f"Nothing to change: give what to change about {kpi.key} (see kt kpi edit --help).")
    updated = replace(kpi, **changes)  # __post_init__ checks the result
    _check_percent(updated, updated.target, "target")
    for c in updated.comparators:
        _check_percent(updated, c["value"], f"{COMPARATOR_KINDS[c['kind']]} figure")
    if updated.is_percent:
        for recorded in values_by_kpi(s).get(kpi.id, []):
            _check_percent(updated, recorded.value, f"value for {dates.format_period(recorded.period)}")
    changed = [field for field in changes if getattr(kpi, field) != getattr(updated, field)]
    if changed:
        s.store.save(updated)
    return KpiBook.load(s).status(updated), changed


def remove_kpi(s: Session, key: str, *, clear: bool = False) -> tuple[Kpi, int]:
    """Remove a KPI. While values are recorded for it, or it is linked to recommendations as
    readiness evidence, removal is refused, unless ``clear`` removes those too. Board
    snapshots keep the values they froze. Returns the KPI and how many values went with it."""
    kpi = s.kpi(key)
    value_ids = [v.id for v in s.store.select(KpiValue, Eq("kpi_id", kpi.id))]
    recs = {r.id: r for r in s.store.all(Recommendation)}
    linked = [recs[r].ref for r in kpi.rec_ids if r in recs]
    if (value_ids or linked) and not clear:
        uses = []
        if value_ids:
            uses.append(f"{len(value_ids)} recorded value{'s' if len(value_ids) != 1 else ''}")
        if linked:
            uses.append(f"readiness links to {', '.join(linked)}")
        raise ConflictError(
            f"KPI {kpi.key} still has {' and '.join(uses)}: give --clear to remove them with it "
            f"(kt undo puts them back), or keep the KPI."
        )
    for value_id in value_ids:
        s.store.delete(KpiValue, value_id)
    s.store.delete(Kpi, kpi.id)
    return kpi, len(value_ids)
