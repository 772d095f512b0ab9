"""A KPI's last values as a small PNG chart, for the Word paper's scorecard.

The same chart as the HTML and PDF papers' (:func:`knowsley_tracker.render.report_html.spark_svg`),
from the same arithmetic (:mod:`knowsley_tracker.render.charts`): the x axis is time, so
a gap of three months looks like three months; a line runs only between shown values,
never into or out of a suppressed one, whose place is marked with a small grey "c"; a
dot marks the latest value. Word has no vector format python-docx can embed, so it is
drawn with Pillow at four times its size and averaged down, which smooths its edges,
and saved at three times the on-screen size, sharp when printed at 20 mm (about 2 ms
and 4 KB a chart).

Pillow is imported only when a Word paper with KPI values is written.
"""

from __future__ import annotations

import io

from knowsley_tracker.render.charts import KpiChart, Mark

# The chart's box in points of its on-screen size (as spark_svg's 96 x 22 px), the
# inset its lines keep from the edges, and its colours (as the HTML paper's INK, MUTED).
WIDTH, HEIGHT = 96, 22
INSET_X, INSET_TOP, INSET_BOTTOM = 2.0, 3.0, 3.0
INK = (0x1F, 0x29, 0x37, 0xFF)
MUTED = (0x6B, 0x72, 0x80, 0xFF)
LINE = 1.5  # the line's width
DOT = 2.2  # the latest value's dot, radius
SAVED = 3  # the PNG is this many times the on-screen size
DRAWN = 4  # drawn this many times larger again, then scaled down


def sparkline_png(chart: KpiChart) -> bytes | None:
    """The chart as PNG bytes (``WIDTH * SAVED`` by ``HEIGHT * SAVED`` pixels), or None when
    it has no shown value to draw."""
    if not chart.runs:
        return None
    from PIL import Image, ImageDraw

    k = SAVED * DRAWN  # pixels per point while drawing
    image = Image.new("RGBA", (WIDTH * k, HEIGHT * k), (255, 255, 255, 0))  # clear: the cell's border shows
    draw = ImageDraw.Draw(image)
    line = round(LINE * k)
    shown = [m.value for m in chart.marks if m.value is not None]
    low = min(shown)
    span = (max(shown) - low) or 1.0

    def at(mark: Mark) -> tuple[float, float]:
        """Where a shown value sits, in pixels (y grows downwards)."""
        assert mark.value is not None
        x = INSET_X + mark.x * (WIDTH - 2 * INSET_X)
        y = HEIGHT - INSET_BOTTOM - (mark.value - low) / span * (HEIGHT - INSET_TOP - INSET_BOTTOM)
        return x * k, y * k

    for run in chart.runs:
        if len(run) > 1:
            draw.line([at(m) for m in run], fill=INK, width=line, joint="curve")
        else:  # a value on its own between suppressed ones: a short dash, not nothing
            x, y = at(run[0])
            draw.line([(x - line, y), (x + line, y)], fill=INK, width=line)
    for mark in chart.marks:
        if mark.value is None:  # a suppressed value: a small "c" at its place in time, at the foot
            x = (INSET_X + mark.x * (WIDTH - 2 * INSET_X)) * k
            y = (HEIGHT - 4.5) * k
            r = 2.2 * k
            draw.arc([x - r, y - r, x + r, y + r], start=45, end=315, fill=MUTED, width=max(1, round(0.9 * k)))
    x, y = at(chart.runs[-1][-1])
    r = DOT * k
    draw.ellipse([x - r, y - r, x + r, y + r], fill=INK)
    small = image.reduce(DRAWN)  # each pixel the mean of the DRAWN x DRAWN it covers: smooth edges
    out = io.BytesIO()
    small.save(out, format="PNG")
    return out.getvalue()
