"""What a KPI chart shows, worked out apart from how it is drawn: truthful axes and gaps.

* The x axis is time: each value sits at the end of its period, so a
  three-month gap between values looks like three months.
* A suppressed value (a small number shown as "c") breaks the line: nothing is
  drawn into or out of it, and its place on the time axis is marked "c".
* The value axis has round ticks: 0 to 100 for a percentage, unless every
  figure on the chart lies in a narrow band high up, when the axis is zoomed
  and the chart says so; whole-number ticks from 0 for counts; round ticks
  from 0 for other units (from below 0 only when a value is negative).

Pure arithmetic over :class:`knowsley_tracker.service.kpis.KpiStatus`: no
drawing, no Rich.
"""

from __future__ import annotations

import math
from datetime import date
from typing import NamedTuple

from knowsley_tracker.service.kpis import KpiPoint, KpiStatus, format_number

CHART_POINTS = 12
# A percentage axis is zoomed only when every figure is at least this high and they span
# no more than ZOOM_SPAN points: otherwise 0 to 100 shows the movement well enough.
ZOOM_FLOOR = 50.0
ZOOM_SPAN = 20.0


class Axis(NamedTuple):
    low: float
    high: float
    ticks: list[float]
    suffix: str  # "%" for percentages
    note: str  # why the axis does not start at 0 ("" when it does)

    def label(self, value: float) -> str:
        return format_number(value) + self.suffix


class Mark(NamedTuple):
    """One period on the chart: where it falls in time (0 to 1) and its value (None: suppressed)."""

    point: KpiPoint
    x: float
    value: float | None


class Reference(NamedTuple):
    """A horizontal line: the target or a comparator."""

    kind: str  # target, england, neighbours, regional
    label: str  # "Target 95%", "England 78% (2024-25)"
    value: float


class KpiChart(NamedTuple):
    marks: list[Mark]
    runs: list[list[Mark]]  # unbroken stretches of shown values: a line is drawn along each
    axis: Axis
    references: list[Reference]
    first: str  # the first and last period labels, for the time axis
    last: str


def nice_step(span: float, ticks: int = 4, whole: bool = False) -> float:
    """A round step (1, 2, 2.5 or 5 times a power of ten) giving at most about ``ticks`` intervals."""
    if span <= 0:
        return 1.0
    raw = span / ticks
    power = 10.0 ** math.floor(math.log10(raw))
    for factor in (1.0, 2.0, 5.0, 10.0) if whole else (1.0, 2.0, 2.5, 5.0, 10.0):
        step = factor * power
        if step >= raw - 1e-12:
            break
    if whole:
        step = max(1.0, float(math.ceil(step)))
    return step


def value_axis(values: list[float], *, percent: bool, count: bool) -> Axis:
    """The value axis for these figures (values, target and comparators together)."""
    if percent:
        low_value = min(values, default=0.0)
        high_value = max(values, default=100.0)
        if values and low_value >= ZOOM_FLOOR and high_value - low_value <= ZOOM_SPAN:
            low = max(0.0, math.floor((low_value - 5) / 10) * 10)
            step = nice_step(100 - low, 4)
            ticks = _ticks(low, 100.0, step)
            note = f"Axis starts at {format_number(low)}%: every figure is above it."
            return Axis(low, 100.0, ticks, "%", note)
        return Axis(0.0, 100.0, [0.0, 25.0, 50.0, 75.0, 100.0], "%", "")
    top = max(values, default=0.0)
    bottom = min(values, default=0.0)
    low = 0.0
    step = nice_step(max(top, 1.0 if count else top) - min(bottom, 0.0), 4, whole=count)
    if bottom < 0:
        low = math.floor(bottom / step) * step
    high = max(step, math.ceil(top / step) * step)
    if high <= top:  # leave room above the highest figure
        high += step
    return Axis(low, high, _ticks(low, high, step), "", "")


def _ticks(low: float, high: float, step: float) -> list[float]:
    out: list[float] = []
    n = 0
    while True:
        tick = round(low + n * step, 6)
        if tick > high + 1e-9:
            return out
        out.append(tick)
        n += 1


def kpi_chart(status: KpiStatus, points: int = CHART_POINTS) -> KpiChart:
    """What to draw for one KPI: its last ``points`` periods in time, the runs of shown values
    between suppressed ones, the target and comparators as reference lines, and the axis."""
    history = status.history[-points:]
    kpi = status.kpi
    ends = [p.record.period_end for p in history]
    first: date | None = ends[0] if ends else None
    span = (ends[-1] - ends[0]).days if len(ends) > 1 else 0
    marks = [
        Mark(p, (p.record.period_end - first).days / span if span and first else 0.5, p.value.value) for p in history
    ]
    runs: list[list[Mark]] = []
    current: list[Mark] = []
    for mark in marks:
        if mark.value is None:
            if current:
                runs.append(current)
            current = []
        else:
            current.append(mark)
    if current:
        runs.append(current)
    references: list[Reference] = []
    if status.target.value is not None:
        references.append(Reference("target", f"Target {status.target.text}", status.target.value))
    for c in status.comparators:
        if c.value.value is not None:
            references.append(Reference(c.kind, f"{c.label} {c.value.text} ({c.period_label})", c.value.value))
    scale = [m.value for m in marks if m.value is not None] + [r.value for r in references]
    axis = value_axis(scale, percent=kpi.is_percent, count=kpi.is_count)
    return KpiChart(
        marks=marks,
        runs=runs,
        axis=axis,
        references=references,
        first=history[0].period_label if history else "",
        last=history[-1].period_label if history else "",
    )


def describe(chart: KpiChart, key: str) -> str:
    """A small chart of last values in words, for its alternative text: each value in order,
    "c" for a suppressed one, and the periods it covers."""
    values = ", ".join(m.point.value.text for m in chart.marks)
    periods = chart.first if chart.first == chart.last else f"{chart.first} to {chart.last}"
    return f"Last values of {key}: {values} ({periods})."
