"""KPIs: the commands that add, edit and remove KPIs and record the values reported each period.

The scorecard they are shown in (figures, status, trend, comparators) is worked out in
kpi_scorecard.py. Its names are re-exported here, since render/, reports.py and boards import them
from this module. Nothing here prints or imports Rich.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date
from typing import Any, NamedTuple

from knowsley_tracker import dates
from knowsley_tracker.errors import ConflictError, ValidationError
from knowsley_tracker.models import COMPARATOR_KINDS, LARGEST_COUNT, LARGEST_KPI_FIGURE, Kpi, KpiValue, Recommendation
from knowsley_tracker.service.kpi_scorecard import DEFAULT_SMALL_NUMBERS as DEFAULT_SMALL_NUMBERS
from knowsley_tracker.service.kpi_scorecard import FLAT as FLAT
from knowsley_tracker.service.kpi_scorecard import SPARK_CHARS as SPARK_CHARS
from knowsley_tracker.service.kpi_scorecard import SPARK_POINTS as SPARK_POINTS
from knowsley_tracker.service.kpi_scorecard import SUPPRESSED as SUPPRESSED
from knowsley_tracker.service.kpi_scorecard import Comparator as Comparator
from knowsley_tracker.service.kpi_scorecard import Direction as Direction
from knowsley_tracker.service.kpi_scorecard import Figure as Figure
from knowsley_tracker.service.kpi_scorecard import Figures as Figures
from knowsley_tracker.service.kpi_scorecard import KpiBook as KpiBook
from knowsley_tracker.service.kpi_scorecard import KpiPoint as KpiPoint
from knowsley_tracker.service.kpi_scorecard import KpiStatus as KpiStatus
from knowsley_tracker.service.kpi_scorecard import Trend as Trend
from knowsley_tracker.service.kpi_scorecard import comparator_period as comparator_period
from knowsley_tracker.service.kpi_scorecard import comparator_period_label as comparator_period_label
from knowsley_tracker.service.kpi_scorecard import direction as direction
from knowsley_tracker.service.kpi_scorecard import format_number as format_number
from knowsley_tracker.service.kpi_scorecard import kpi_status as kpi_status
from knowsley_tracker.service.kpi_scorecard import latest_as_of as latest_as_of
from knowsley_tracker.service.kpi_scorecard import sparkline as sparkline
from knowsley_tracker.service.kpi_scorecard import trend as trend
from knowsley_tracker.service.kpi_scorecard import values_by_kpi as values_by_kpi
from knowsley_tracker.service.session import Session
from knowsley_tracker.store_interface import Eq


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
    if abs(number) >= LARGEST_KPI_FIGURE:  # beyond, whole numbers lose digits, and charts' ranges overflow
        raise ValidationError(f"The {what} must have at most 15 digits before the point, not {text!r}.")
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
    for name, count in (("numerator", numerator), ("denominator", denominator)):
        if count is not None and not 0 <= count <= LARGEST_COUNT:  # before any dividing: a huge count overflows
            shown = f"{count}" if abs(count) < 10**20 else "a number that long"
            raise ValidationError(f"The {name} must be a whole number from 0 to {LARGEST_COUNT:,}, not {shown}.")
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
