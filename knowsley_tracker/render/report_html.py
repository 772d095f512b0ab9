"""The board status report as one self-contained HTML file: the board pack.

No external assets: the styles are inline, and the charts (progress per focus
area, KPI trends) are inline SVG drawn here. ``@page`` and print rules lay it
out on A4 with headings kept with their tables. All user text passes through
:func:`h` (terminal-safe, then escaped as ``html.escape`` does), so nothing typed becomes markup.
"""

from __future__ import annotations

from knowsley_tracker.dates import format_date
from knowsley_tracker.models import Rag
from knowsley_tracker.render import charts, paper_columns
from knowsley_tracker.render.narrative import Block, Span
from knowsley_tracker.render.report_common import Cell, Layout, Table, layout
from knowsley_tracker.render.text import pct, safe
from knowsley_tracker.reports import FocusRow, Report
from knowsley_tracker.service.kpis import KpiPoint, KpiStatus

RAG_COLOURS = {
    Rag.RED: "#c62828",
    Rag.AMBER: "#ef8f00",
    Rag.GREEN: "#2e7d32",
    Rag.COMPLETE: "#6b7280",
    Rag.BLUE: "#1f5fbf",
    Rag.DROPPED: "#d1d5db",
}
INK = "#1f2937"
MUTED = "#6b7280"
GRID = "#e5e7eb"
TARGET = "#7c3aed"

CSS = """
* { box-sizing: border-box; }
html { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
body { font-family: "Segoe UI", Arial, Helvetica, "Liberation Sans", sans-serif; color: #1f2937; margin: 0 auto;
  max-width: 1100px; padding: 24px; font-size: 13px; line-height: 1.35; overflow-wrap: break-word; }
h1 { font-size: 24px; margin: 0 0 4px; }
h2 { font-size: 17px; margin: 24px 0 8px; padding-bottom: 4px; border-bottom: 2px solid #1f2937; }
h3 { font-size: 14px; margin: 14px 0 6px; }
.marking-banner { text-align: center; font-weight: 700; letter-spacing: 0.05em; margin: 0 0 12px; }
.marking-banner:last-child { margin: 16px 0 0; }
.cover { border-bottom: 3px solid #1f2937; padding-bottom: 10px; }
.cover-top { display: flex; justify-content: space-between; align-items: flex-start; }
.cover-top .logo { max-height: 56px; max-width: 220px; }
.marking-tag { margin: 0 0 0 auto; font-weight: 700; border: 1.5px solid #1f2937; padding: 2px 8px; }
.board-name { font-size: 15px; font-weight: 600; margin: 10px 0 2px; color: #374151; }
.meeting { font-size: 15px; margin: 0 0 8px; }
ul.headline { margin: 4px 0; padding-left: 18px; }
ul.headline li { margin: 2px 0; }
#narrative p, #narrative li, #decisions li { max-width: 60em; }
#decisions ol { font-weight: 600; }
dl.facts { display: grid; grid-template-columns: max-content minmax(0, 1fr); gap: 2px 16px; margin: 0 0 8px; }
dl.facts dt { font-weight: 600; }
dl.facts dd { margin: 0; }
p.intro { margin: 4px 0 8px; }
p.note, p.empty { color: #6b7280; margin: 4px 0; }
/* Fixed layout: each table's <colgroup> gives its columns' widths, worked out from what they hold
   (render/paper_columns.py). Short values (dates, ids, statuses, RAG words: class s) never wrap;
   other text wraps at spaces, and a word too long for its column breaks inside its cell. */
table { border-collapse: collapse; width: 100%; margin: 4px 0 6px; table-layout: fixed; }
th, td { border-bottom: 1px solid #e5e7eb; padding: 4px 6px; text-align: left; vertical-align: top; }
td { overflow-wrap: anywhere; }
th { background: #f3f4f6; font-weight: 600; font-size: 12px; overflow-wrap: normal; word-break: keep-all;
  hyphens: manual; }
td.num, th.num { text-align: right; }
td.progress, td.s { white-space: nowrap; overflow-wrap: normal; }
tr.total td { font-weight: 700; border-top: 2px solid #9ca3af; }
td.rag { font-weight: 700; white-space: nowrap; text-align: center; }
td.rag-red { background: #c62828; color: #fff; }
td.rag-amber { background: #ef8f00; color: #111; }
td.rag-green { background: #2e7d32; color: #fff; }
td.rag-blue { background: #1f5fbf; color: #fff; }
td.rag-complete { background: #e5e7eb; color: #111; }
td.rag-dropped { color: #6b7280; }
.bar { display: inline-block; width: 70px; height: 9px; background: #e5e7eb; margin-right: 6px;
  vertical-align: middle; }
.bar span { display: block; height: 100%; background: #2e7d32; }
.chart { margin: 8px 0 12px; }
.chart svg { max-width: 100%; height: auto; }
.kpi-grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(250px, 1fr)); gap: 10px; }
.kpi-row { display: contents; }
.kpi-card { border: 1px solid #e5e7eb; border-radius: 4px; padding: 6px 8px; break-inside: avoid; }
.kpi-card h4 { margin: 0; font-size: 12px; }
.kpi-card p { margin: 0 0 4px; font-size: 11px; color: #6b7280; }
footer { margin-top: 20px; color: #6b7280; font-size: 11px; }
@media print {
  /* Arial (or Liberation Sans, its metric twin): the column widths are measured in it. */
  body { max-width: none; padding: 0; font-size: 8pt; font-family: Arial, Helvetica, "Liberation Sans", sans-serif; }
  .marking-banner { display: none; }
  h1 { font-size: 17pt; }
  h2 { font-size: 12pt; margin-top: 12pt; break-after: avoid; page-break-after: avoid; }
  h3 { font-size: 10pt; break-after: avoid; page-break-after: avoid; }
  p.intro { break-after: avoid; page-break-after: avoid; }
  .board-name, .meeting { font-size: 11pt; }
  th { font-size: 7.5pt; }
  th, td { padding: 1.5pt 3pt; }
  .bar { width: 36pt; }
  thead { display: table-header-group; }
  tr, .chart, .kpi-card, dl.facts, ul.headline li, #decisions li { break-inside: avoid; page-break-inside: avoid; }
  /* Three cards a row, each row's cards as tall as its tallest, the row reaching both margins. */
  .kpi-grid { display: block; }
  .kpi-row { display: flex; margin: 0 0 4pt; break-inside: avoid; page-break-inside: avoid; }
  .kpi-card { width: 32%; box-sizing: border-box; margin: 0; }
  .kpi-card + .kpi-card { margin-left: 2%; }
  .kpi-card svg { width: 100%; height: auto; }
  footer { font-size: 7.5pt; }
  #kpis td svg { width: 20mm; height: auto; }
}
"""


def h(text: object) -> str:
    """User text for HTML: control characters made visible, then escaped."""
    raw = str(text)
    # Most text has nothing to escape. Five substring searches (memchr in C) tell so in a
    # fraction of the time a set test takes, which hashes every character.
    if (
        raw.isascii()
        and raw.isprintable()
        and "&" not in raw
        and "<" not in raw
        and ">" not in raw
        and '"' not in raw
        and "'" not in raw
    ):
        return raw
    return _escape(safe(raw))


def _escape(text: str) -> str:
    """What ``html.escape(text, quote=True)`` writes; importing the html package also loads
    its table of 2,000 named entities (about a millisecond), which kt never uses."""
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return text.replace('"', "&quot;").replace("'", "&#x27;")


# -- tables -----------------------------------------------------------------------------------


# The print layout's measures, for the column widths (see render/paper_columns.py): A4 less
# 12 mm margins, 8 pt cells, 7.5 pt headers, 3 pt padding each side, the 36 pt progress bar and
# its 6 px gap, and the 20 mm chart of a KPI's recent values.
PRINT_WIDTH_MM = 186.0
PRINT_PAD_MM = 6 * paper_columns.PT_MM + 0.3
PRINT_BAR_MM = (36 + 4.5) * paper_columns.PT_MM
PRINT_CHART_MM = 20.0


def _cell(cell: Cell, right: bool, whole: bool) -> str:
    if not right and cell.rag is None and cell.progress is None and cell.kpi is None:
        return f'<td class="s">{h(cell.text)}</td>' if whole else f"<td>{h(cell.text)}</td>"
    classes = []
    if right:
        classes.append("num")
    if cell.rag is not None:
        classes += ["rag", f"rag-{cell.rag.value}"]
    if cell.progress is not None:
        classes.append("progress")
    if whole and cell.rag is None and cell.progress is None:
        classes.append("s")  # kept on one line (RAG words and progress never wrap anyway)
    attr = f' class="{" ".join(classes)}"' if classes else ""
    if cell.progress is not None:
        width = max(0.0, min(100.0, cell.progress))
        bar = f'<span class="bar"><span style="width:{width:.0f}%"></span></span>'
        return f"<td{attr}>{bar}{h(cell.text)}</td>"
    if cell.kpi is not None:
        return f"<td{attr}>{spark_svg(cell.kpi, cell.text)}</td>"
    return f"<td{attr}>{h(cell.text)}</td>"


def _colgroup(table: Table) -> str:
    """Each column's share of the table, worked out from what it holds as printed on A4, so
    the fixed layout keeps dates, ids and statuses whole and gives the long text the rest."""
    widths = paper_columns.column_widths(
        table,
        PRINT_WIDTH_MM,
        size_pt=8,
        head_pt=7.5,
        pad_mm=PRINT_PAD_MM,
        bar_mm=PRINT_BAR_MM,
        chart_mm=PRINT_CHART_MM,
    )
    total = sum(widths)
    return "<colgroup>" + "".join(f'<col style="width:{100 * w / total:.1f}%">' for w in widths) + "</colgroup>"


def _table(table: Table) -> list[str]:
    out: list[str] = []
    if table.title:
        out.append(f"<h3>{h(table.title)}</h3>")
    if not table.rows:
        out.append(f'<p class="empty">{h(table.empty)}</p>')
        return out
    out.append("<table>")
    out.append(_colgroup(table))
    num = ' class="num"'
    heads = "".join(f'<th{num if c.right else ""} scope="col">{h(c.title)}</th>' for c in table.columns)
    out.append(f"<thead><tr>{heads}</tr></thead>")
    out.append("<tbody>")
    rights = [col.right for col in table.columns]
    # A column of short values (dates, ids, statuses, RAG words) is kept on one line: class "s".
    keeps = [paper_columns.kept(table, i) for i in range(len(table.columns))]
    for row in table.rows:
        tds = []
        # _cell's commonest case written out (a region's pack has 10,000 cells, most plain text).
        for c, right, whole in zip(row, rights, keeps, strict=True):
            if right or c.rag is not None or c.progress is not None or c.kpi is not None:
                tds.append(_cell(c, right, whole))
                continue
            text = h(c.text)
            tds.append(f'<td class="s">{text}</td>' if whole else f"<td>{text}</td>")
        out.append("<tr>" + "".join(tds) + "</tr>")
    if table.total:
        cells = "".join(
            _cell(c, col.right, whole) for c, col, whole in zip(table.total, table.columns, keeps, strict=True)
        )
        out.append(f'<tr class="total">{cells}</tr>')
    out.append("</tbody></table>")
    if table.note:
        out.append(f'<p class="note">{h(table.note)}</p>')
    return out


# -- charts -------------------------------------------------------------------------------------


_NUMS: dict[float, str] = {}


def _num(value: float) -> str:
    """A coordinate with at most one decimal place (``12``, ``12.5``); charts draw thousands.
    Remembered: the region's board pack writes 23,000 coordinates, most of them repeats
    (the same periods and ticks on 200 KPI charts)."""
    text = _NUMS.get(value)
    if text is None:
        text = _NUMS[value] = "%g" % round(value, 1)  # noqa: UP031 - one step, faster than f-string + strips
    return text


# Each KPI's chart worked out once: the scorecard's cell and the KPI's card draw the same
# one. Keyed by id, holding the status so that the id cannot be reused while remembered.
_CHARTS: dict[int, tuple[KpiStatus, charts.KpiChart]] = {}


def _chart(st: KpiStatus) -> charts.KpiChart:
    found = _CHARTS.get(id(st))
    if found is not None and found[0] is st:
        return found[1]
    chart = charts.kpi_chart(st)
    _CHARTS[id(st)] = (st, chart)
    return chart


# Period labels as shown ("Mar 2025"): every chart repeats the plan's periods.
_PERIODS: dict[str, str] = {}


def _period_label(point: KpiPoint) -> str:
    period = point.record.period
    label = _PERIODS.get(period)
    if label is None:
        label = _PERIODS[period] = point.period_label
    return label


def spark_svg(st: KpiStatus, label: str, width: int = 96, height: int = 22) -> str:
    """A small chart of the last values in a table cell: in time, broken at suppressed values."""
    chart = _chart(st)
    if not chart.runs:
        return h(label)
    shown = [m.value for m in chart.marks if m.value is not None]
    low, high = min(shown), max(shown)
    span = (high - low) or 1.0

    def xy(mark: charts.Mark) -> tuple[float, float]:
        assert mark.value is not None
        return 2 + mark.x * (width - 4), height - 3 - (mark.value - low) / span * (height - 6)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'role="img" aria-label="{h(charts.describe(chart, st.kpi.key))}">'
    ]
    for run in chart.runs:
        if len(run) > 1:
            coords = " ".join([f"{_num(x)},{_num(y)}" for x, y in map(xy, run)])
            parts.append(f'<polyline points="{coords}" fill="none" stroke="{INK}" stroke-width="1.5"/>')
        else:  # a value on its own between suppressed ones: a short dash, not nothing
            x, y = xy(run[0])
            parts.append(
                f'<line x1="{_num(x - 1.5)}" y1="{_num(y)}" x2="{_num(x + 1.5)}" y2="{_num(y)}" '
                f'stroke="{INK}" stroke-width="1.5"/>'
            )
    for mark in chart.marks:
        if mark.value is None:
            x = 2 + mark.x * (width - 4)
            parts.append(
                f'<text x="{_num(x)}" y="{height - 2}" font-size="8" text-anchor="middle" fill="{MUTED}">c</text>'
            )
    last = chart.runs[-1][-1]
    x, y = xy(last)
    parts.append(f'<circle cx="{_num(x)}" cy="{_num(y)}" r="2.2" fill="{INK}"/></svg>')
    return "".join(parts)


LABEL_CHARS = 40  # a focus area's label line in the progress chart (250 px of 11-12 px text)


def label_lines(name: str) -> list[str]:
    """A focus area's name for the chart: one line, or two broken between words, the second
    cut short with an ellipsis only when even two lines cannot hold it (the table beneath
    gives every name in full)."""
    if len(name) <= LABEL_CHARS - 2:
        return [name]
    words = name.split(" ")
    first = ""
    while words and len(first) + len(words[0]) + (1 if first else 0) <= LABEL_CHARS:
        first += (" " if first else "") + words.pop(0)
    if not first:  # one long word: cut it
        first, words = name[: LABEL_CHARS - 1] + "-", [name[LABEL_CHARS - 1 :]]
    second = " ".join(words)
    if len(second) > LABEL_CHARS:
        second = second[: LABEL_CHARS - 1].rstrip() + "…"
    return [first, second]


def focus_chart(rows: list[FocusRow], totals: FocusRow | None) -> str:
    """Horizontal bars: each focus area's average progress, with the RAG mix of its actions beneath."""
    shown = [*rows, *([totals] if totals else [])]
    if not shown:
        return ""
    label_w, bar_x, bar_w = 250, 260, 380
    names = ["All focus areas" if row is totals else f"{row.key} {row.name}" if row.area else row.name for row in shown]
    labels = [label_lines(name) for name in names]
    two = any(len(lines) > 1 for lines in labels)
    row_h = 30 if two else 25  # room for a name on two lines
    height = 24 + row_h * len(shown) + 26
    width = bar_x + bar_w + 60
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="Progress by focus area" '
        'font-family="Segoe UI, Arial, Helvetica, sans-serif" font-size="12">',
        f'<text x="{bar_x}" y="14" fill="{MUTED}" font-size="11">Average progress, and the RAG of each action</text>',
    ]
    for tick in (0, 25, 50, 75, 100):
        x = bar_x + bar_w * tick / 100
        parts.append(f'<line x1="{_num(x)}" y1="20" x2="{_num(x)}" y2="{height - 22}" stroke="{GRID}"/>')
        parts.append(
            f'<text x="{_num(x)}" y="{height - 8}" fill="{MUTED}" font-size="10" text-anchor="middle">{tick}%</text>'
        )
    for n, (row, full, lines) in enumerate(zip(shown, names, labels, strict=True)):
        y = 24 + n * row_h
        weight = ' font-weight="700"' if row is totals else ""
        if len(lines) == 1:
            size = ' font-size="11"' if two else ""  # one size for every label of the chart
            parts.append(
                f'<text x="{label_w}" y="{y + 12}" text-anchor="end" fill="{INK}"{size}{weight}>'
                f"<title>{h(full)}</title>{h(lines[0])}</text>"
            )
        else:
            parts.append(
                f'<text x="{label_w}" y="{y + 10}" text-anchor="end" fill="{INK}" font-size="11"{weight}>'
                f"<title>{h(full)}</title>"
                f'<tspan x="{label_w}">{h(lines[0])}</tspan><tspan x="{label_w}" dy="12">{h(lines[1])}</tspan></text>'
            )
        progress = row.rollup.progress
        parts.append(f'<rect x="{bar_x}" y="{y + 2}" width="{bar_w}" height="13" fill="{GRID}"/>')
        if progress is not None:
            parts.append(
                f'<rect x="{bar_x}" y="{y + 2}" width="{_num(bar_w * progress / 100)}" height="13" fill="{INK}"/>'
            )
        parts.append(f'<text x="{bar_x + bar_w + 6}" y="{y + 13}" fill="{INK}"{weight}>{h(pct(progress))}</text>')
        total = sum(row.rollup.count(r) for r in Rag if r is not Rag.DROPPED)
        x = float(bar_x)
        for rag in (Rag.RED, Rag.AMBER, Rag.GREEN, Rag.COMPLETE, Rag.BLUE):
            count = row.rollup.count(rag)
            if not count or not total:
                continue
            w = bar_w * count / total
            parts.append(
                f'<rect x="{_num(x)}" y="{y + 18}" width="{_num(w)}" height="7" fill="{RAG_COLOURS[rag]}">'
                f"<title>{count} {rag.value}</title></rect>"
            )
            x += w
    parts.append("</svg>")
    legend = " ".join(
        f'<span style="display:inline-block;width:10px;height:10px;background:{RAG_COLOURS[r]};'
        f'margin:0 3px 0 10px"></span>{r.value.capitalize()}'
        for r in (Rag.RED, Rag.AMBER, Rag.GREEN, Rag.COMPLETE, Rag.BLUE)
    )
    return f'<div class="chart">{"".join(parts)}<p class="note">{legend}</p></div>'


REFERENCE_STYLES = {
    "target": (TARGET, "4 3"),
    "england": ("#374151", "7 2 1.5 2"),
    "neighbours": ("#0f766e", "2 2"),
    "regional": ("#9a3412", "9 3"),
}


def kpi_chart(st: KpiStatus, width: int = 250, height: int = 118) -> str:
    """One KPI's recent values on a time axis, broken at suppressed values, with its target and
    comparators as labelled reference lines and round ticks (see render/charts.py)."""
    chart = _chart(st)
    axis = chart.axis
    left, right, top, bottom = 34, 8, 8, 20
    plot_w, plot_h = width - left - right, height - top - bottom
    legend = [*chart.references]
    legend_h = 12 * len(legend) + (12 if axis.note else 0)
    total_h = height + legend_h

    def y_of(v: float) -> float:
        return top + plot_h - (v - axis.low) / (axis.high - axis.low) * plot_h

    def x_of(fraction: float) -> float:
        return left + 6 + fraction * (plot_w - 12)

    colour = RAG_COLOURS.get(st.rag or Rag.GREEN, INK) if st.rag is not None else INK
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{total_h}" '
        f'viewBox="0 0 {width} {total_h}" role="img" aria-label="{h(st.kpi.key)} trend" '
        'font-family="Segoe UI, Arial, Helvetica, sans-serif" font-size="9">',
        f'<rect x="{left}" y="{top}" width="{plot_w}" height="{plot_h}" fill="#fafafa" stroke="{GRID}"/>',
    ]
    for tick in axis.ticks:
        ty = y_of(tick)
        parts.append(f'<line x1="{left}" y1="{_num(ty)}" x2="{left + plot_w}" y2="{_num(ty)}" stroke="{GRID}"/>')
        parts.append(
            f'<text x="{left - 3}" y="{_num(ty + 3)}" text-anchor="end" fill="{MUTED}">{h(axis.label(tick))}</text>'
        )
    for ref in chart.references:
        stroke, dash = REFERENCE_STYLES[ref.kind]
        ry = y_of(ref.value)
        parts.append(
            f'<line x1="{left}" y1="{_num(ry)}" x2="{left + plot_w}" y2="{_num(ry)}" stroke="{stroke}" '
            f'stroke-dasharray="{dash}" stroke-width="1.2"><title>{h(ref.label)}</title></line>'
        )
    # Each mark's coordinates as written, worked out once: a mark is drawn as a tick, in its
    # run's line and as a point.
    spots: dict[int, tuple[str, str]] = {}
    tick_top, tick_bottom, c_y = top + plot_h, top + plot_h + 3, top + plot_h - 3
    for mark in chart.marks:
        sx = _num(x_of(mark.x))
        parts.append(f'<line x1="{sx}" y1="{tick_top}" x2="{sx}" y2="{tick_bottom}" stroke="{MUTED}"/>')
        if mark.value is None:
            parts.append(
                f'<text x="{sx}" y="{c_y}" text-anchor="middle" fill="{MUTED}">c'
                f"<title>{h(_period_label(mark.point))}: suppressed (a small number)</title></text>"
            )
        else:
            spots[id(mark)] = (sx, _num(y_of(mark.value)))

    def spot(m: charts.Mark) -> tuple[str, str]:
        found = spots.get(id(m))
        return found if found is not None else (_num(x_of(m.x)), _num(y_of(m.value or 0.0)))

    for run in chart.runs:
        run_spots = [spot(m) for m in run]
        if len(run) > 1:
            coords = " ".join([f"{sx},{sy}" for sx, sy in run_spots])
            parts.append(f'<polyline points="{coords}" fill="none" stroke="{colour}" stroke-width="2"/>')
        for m, (sx, sy) in zip(run, run_spots, strict=True):
            parts.append(
                f'<circle cx="{sx}" cy="{sy}" r="2.6" fill="{colour}">'
                f"<title>{h(_period_label(m.point))}: {h(m.point.value.text)}</title></circle>"
            )
    if chart.marks:
        parts.append(
            f'<text x="{left}" y="{height - 6}" fill="{MUTED}">{h(chart.first)}</text>'
            f'<text x="{left + plot_w}" y="{height - 6}" text-anchor="end" fill="{MUTED}">{h(chart.last)}</text>'
        )
    else:
        parts.append(
            f'<text x="{left + plot_w / 2}" y="{top + plot_h / 2}" text-anchor="middle" fill="{MUTED}">'
            "no values yet</text>"
        )
    y = height + 2
    for ref in legend:
        stroke, dash = REFERENCE_STYLES[ref.kind]
        parts.append(
            f'<line x1="{left}" y1="{y + 4}" x2="{left + 22}" y2="{y + 4}" stroke="{stroke}" '
            f'stroke-dasharray="{dash}" stroke-width="1.4"/>'
            f'<text x="{left + 27}" y="{y + 7}" fill="{INK}">{h(ref.label)}</text>'
        )
        y += 12
    if axis.note:
        parts.append(f'<text x="{left}" y="{y + 7}" fill="{MUTED}" font-size="8">{h(axis.note)}</text>')
    parts.append("</svg>")
    return "".join(parts)


KPI_STATE = {Rag.GREEN: "target met", Rag.AMBER: "within tolerance of the target", Rag.RED: "target not met"}


def kpi_cards(kpis: list[KpiStatus]) -> str:
    if not kpis:
        return ""
    cards = []
    for st in kpis:
        latest = st.latest
        status = "no values yet"
        if latest is not None:
            state = KPI_STATE[st.rag] if st.rag is not None else "shown as c: a small number"
            trend = f", {st.trend}" if st.trend else ""
            status = f"{latest.value.text} in {latest.period_label}: {state}{trend}"
        cards.append(
            f'<div class="kpi-card"><h4>{h(st.kpi.key)}: {h(st.kpi.name)}</h4><p>{h(status)}</p>{kpi_chart(st)}</div>'
        )
    # Rows of three for print (each row's cards as tall as its tallest, a page break only
    # between rows); on screen a row is display: contents and the grid places the cards.
    rows = ['<div class="kpi-row">' + "".join(cards[i : i + 3]) + "</div>" for i in range(0, len(cards), 3)]
    return '<h3>KPI trends</h3><div class="kpi-grid">' + "".join(rows) + "</div>"


# -- the paper ------------------------------------------------------------------------------------


def css_string(text: str) -> str:
    """User text as a CSS string literal: everything but letters, digits and spaces hex-escaped."""
    return '"' + "".join(ch if ch.isalnum() and ch.isascii() or ch == " " else f"\\{ord(ch):06x} " for ch in text) + '"'


def page_css(doc: Layout) -> str:
    """Print rules naming this paper: the marking at the top and bottom of every page, the board
    bottom left, the meeting and "Page N of M" bottom right, all on one line."""
    marking = css_string(doc.cover.marking)
    board = css_string(doc.cover.board_name)
    meeting = css_string(f"{doc.cover.meeting}  \u00b7  ")
    box = "font-family: Arial, Helvetica, sans-serif; font-size: 7.5pt; color: #374151;"
    return (
        "@page { size: A4; margin: 16mm 12mm 16mm; "
        f"@top-center {{ content: {marking}; font-family: Arial, Helvetica, sans-serif; font-size: 9pt; "
        "font-weight: bold; color: #111; } "
        f"@bottom-center {{ content: {marking}; font-family: Arial, Helvetica, sans-serif; font-size: 9pt; "
        "font-weight: bold; color: #111; white-space: nowrap; } "
        # One line: the board bottom left (an ellipsis only for a name too long for 70 mm), the
        # marking centred, the meeting and "Page N of M" bottom right.
        f"@bottom-left {{ content: {board}; {box} width: 70mm; white-space: nowrap; overflow: hidden; "
        "text-overflow: ellipsis; } "
        f'@bottom-right {{ content: {meeting} "Page " counter(page) " of " counter(pages); {box} width: 70mm; '
        "white-space: nowrap; } }"
    )


def _spans(spans: list[Span]) -> str:
    out = []
    for span in spans:
        text = h(span.text)
        if span.italic:
            text = f"<em>{text}</em>"
        if span.bold:
            text = f"<strong>{text}</strong>"
        out.append(text)
    return "".join(out)


def narrative_html(blocks: list[Block]) -> list[str]:
    out: list[str] = []
    for block in blocks:
        if block.kind == "h":
            out.append(f"<h3>{_spans(block.items[0])}</h3>")
        elif block.kind == "p":
            out.append(f"<p>{_spans(block.items[0])}</p>")
        else:
            items = "".join(f"<li>{_spans(item)}</li>" for item in block.items)
            out.append(f"<{block.kind}>{items}</{block.kind}>")
    return out


def cover_html(doc: Layout) -> list[str]:
    c = doc.cover
    out = ['<header class="cover">', '<div class="cover-top">']
    if c.logo is not None:
        import base64  # only for a logo

        data = base64.b64encode(c.logo.data).decode("ascii")
        out.append(f'<img class="logo" alt="Logo" src="data:{c.logo.mime};base64,{data}">')
    out.append(f'<p class="marking-tag">{h(c.marking)}</p></div>')
    out.append(f'<p class="board-name">{h(c.board_name)}</p>')
    out.append(f"<h1>{h(c.title)}</h1>")
    out.append(f'<p class="meeting">{h(c.meeting)}</p>')
    out.append('<dl class="facts">')
    out += [f"<dt>{h(label)}</dt><dd>{h(value)}</dd>" for label, value in c.fields]
    out += ["</dl>", "</header>"]
    return out


def paper_head(doc: Layout) -> list[str]:
    """The cover, headline, narrative, decisions and position at a glance, before the sections."""
    out = cover_html(doc)
    out.append('<section id="summary"><h2>Summary</h2><ul class="headline">')
    out += [f"<li>{h(sentence)}</li>" for sentence in doc.headline]
    out.append("</ul></section>")
    out.append('<section id="narrative"><h2>Director\'s narrative</h2>')
    out += narrative_html(doc.narrative) or [f'<p class="empty">{h(doc.missing[0])}</p>']
    out.append("</section>")
    out.append('<section id="decisions"><h2>Decisions and asks of the board</h2>')
    if doc.decisions:
        out.append("<ol>" + "".join(f"<li>{h(d)}</li>" for d in doc.decisions) + "</ol>")
    else:
        out.append(f'<p class="empty">{h(doc.missing[1])}</p>')
    out.append("</section>")
    out.append('<section id="position"><h2>Position at a glance</h2><dl class="facts">')
    out += [f"<dt>{h(label)}</dt><dd>{h(value)}</dd>" for label, value in doc.fields]
    out.append("</dl></section>")
    return out


def html_page(report: Report, doc: Layout) -> str:
    title = f"{doc.cover.board_name}: {doc.title}, {format_date(report.header.report_date)}"
    out = [
        "<!DOCTYPE html>",
        '<html lang="en-GB">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{h(title)}</title>",
        f"<style>{CSS}{page_css(doc)}</style>",
        "</head>",
        "<body>",
        f'<p class="marking-banner">{h(doc.cover.marking)}</p>',
    ]
    out += paper_head(doc)
    for number, section in enumerate(doc.sections, start=1):
        out.append(f'<section id="{section.key}">')
        out.append(f"<h2>{number}. {h(section.title)}</h2>")
        if section.key == "focus-areas":
            totals = None
            if report.header.focus is None and len(report.focus_areas) > 1:
                totals = FocusRow(None, sum(r.recs for r in report.focus_areas), report.totals)
            out.append(focus_chart(report.focus_areas, totals))
        if section.intro:
            out.append(f'<p class="intro">{h(section.intro)}</p>')
        if not section.tables and section.empty:
            out.append(f'<p class="empty">{h(section.empty)}</p>')
        for table in section.tables:
            out += _table(table)
        if section.key == "kpis":
            out.append(kpi_cards(report.kpis))
        out.append("</section>")
    out.append('<section id="next"><h2>Next meetings</h2><dl class="facts">')
    out += [f"<dt>{h(label)}</dt><dd>{h(value)}</dd>" for label, value in doc.closing]
    out.append("</dl></section>")
    out.append(
        f"<footer>Produced by knowsley-tracker on {h(format_date(report.header.report_date))}. "
        "RAG: Red, overdue or blocked; Amber, due soon with little progress or slipped; Green, on track; "
        "Complete, awaiting evidence; Blue, complete with evidence. * marks an officer's override, shown with its "
        "reason.</footer>"
    )
    out.append(f'<p class="marking-banner">{h(doc.cover.marking)}</p>')
    out += ["</body>", "</html>"]
    return "\n".join(out) + "\n"


def to_html(report: Report) -> str:
    """The whole report as a single self-contained HTML page."""
    return html_page(report, layout(report))
