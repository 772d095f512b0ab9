"""The board status report as one self-contained HTML file: the board pack.

No external assets: the styles are inline, and the charts (progress per focus
area, KPI trends) are inline SVG drawn here. ``@page`` and print rules lay it
out on A4 with headings kept with their tables. All user text passes through
:func:`h` (terminal-safe, then ``html.escape``), so nothing typed becomes markup.
"""

from __future__ import annotations

import html

from knowsley_tracker.dates import format_date
from knowsley_tracker.models import Rag
from knowsley_tracker.render.report_common import Cell, Layout, Table, layout
from knowsley_tracker.render.text import pct, safe
from knowsley_tracker.reports import FocusRow, Report
from knowsley_tracker.service.kpis import KpiStatus, format_number

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
@page { size: A4; margin: 14mm 12mm 16mm; }
* { box-sizing: border-box; }
html { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
body { font-family: "Segoe UI", Arial, Helvetica, sans-serif; color: #1f2937; margin: 0 auto;
  max-width: 1100px; padding: 24px; font-size: 13px; line-height: 1.35; }
h1 { font-size: 24px; margin: 0 0 8px; }
h2 { font-size: 17px; margin: 28px 0 8px; padding-bottom: 4px; border-bottom: 2px solid #1f2937; }
h3 { font-size: 14px; margin: 16px 0 6px; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; margin: 0 0 8px; }
dl.facts dt { font-weight: 600; }
dl.facts dd { margin: 0; }
p.intro { margin: 4px 0 8px; }
p.note, p.empty { color: #6b7280; margin: 4px 0; }
table { border-collapse: collapse; width: 100%; margin: 4px 0 6px; }
th, td { border-bottom: 1px solid #e5e7eb; padding: 4px 6px; text-align: left; vertical-align: top;
  overflow-wrap: break-word; }
th { background: #f3f4f6; font-weight: 600; font-size: 12px; }
td.num, th.num { text-align: right; white-space: nowrap; }
td.progress { white-space: nowrap; }
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
.kpi-card { border: 1px solid #e5e7eb; border-radius: 4px; padding: 6px 8px; break-inside: avoid; }
.kpi-card h4 { margin: 0; font-size: 12px; }
.kpi-card p { margin: 0 0 4px; font-size: 11px; color: #6b7280; }
footer { margin-top: 28px; color: #6b7280; font-size: 11px; }
@media print {
  body { max-width: none; padding: 0; font-size: 8.5pt; }
  h1 { font-size: 17pt; }
  h2 { font-size: 12.5pt; margin-top: 16pt; break-after: avoid; page-break-after: avoid; }
  h3 { font-size: 10pt; break-after: avoid; page-break-after: avoid; }
  th { font-size: 8pt; }
  th, td { padding: 2pt 4pt; }
  .bar { width: 36pt; }
  thead { display: table-header-group; }
  tr, .chart, .kpi-card { break-inside: avoid; page-break-inside: avoid; }
  .kpi-grid { grid-template-columns: repeat(3, 1fr); }
}
"""


_HTML_SPECIAL = frozenset("&<>\"'")


def h(text: object) -> str:
    """User text for HTML: control characters made visible, then escaped."""
    raw = str(text)
    if raw.isascii() and raw.isprintable() and _HTML_SPECIAL.isdisjoint(raw):  # most cells: nothing to do
        return raw
    return html.escape(safe(raw), quote=True)


# -- tables -----------------------------------------------------------------------------------


def _cell(cell: Cell, right: bool) -> str:
    if not right and cell.rag is None and cell.progress is None and not cell.spark:
        return f"<td>{h(cell.text)}</td>"  # most cells: plain text
    classes = []
    if right:
        classes.append("num")
    if cell.rag is not None:
        classes += ["rag", f"rag-{cell.rag.value}"]
    if cell.progress is not None:
        classes.append("progress")
    attr = f' class="{" ".join(classes)}"' if classes else ""
    if cell.progress is not None:
        width = max(0.0, min(100.0, cell.progress))
        bar = f'<span class="bar"><span style="width:{width:.0f}%"></span></span>'
        return f"<td{attr}>{bar}{h(cell.text)}</td>"
    if cell.spark:
        values = [float(v) for v in cell.spark.split(",")]
        return f"<td{attr}>{spark_svg(values, cell.text)}</td>"
    return f"<td{attr}>{h(cell.text)}</td>"


def _table(table: Table) -> list[str]:
    out: list[str] = []
    if table.title:
        out.append(f"<h3>{h(table.title)}</h3>")
    if not table.rows:
        out.append(f'<p class="empty">{h(table.empty)}</p>')
        return out
    out.append("<table>")
    num = ' class="num"'
    heads = "".join(f'<th{num if c.right else ""} scope="col">{h(c.title)}</th>' for c in table.columns)
    out.append(f"<thead><tr>{heads}</tr></thead>")
    out.append("<tbody>")
    for row in table.rows:
        out.append("<tr>" + "".join(_cell(c, col.right) for c, col in zip(row, table.columns, strict=True)) + "</tr>")
    if table.total:
        cells = "".join(_cell(c, col.right) for c, col in zip(table.total, table.columns, strict=True))
        out.append(f'<tr class="total">{cells}</tr>')
    out.append("</tbody></table>")
    if table.note:
        out.append(f'<p class="note">{h(table.note)}</p>')
    return out


# -- charts -------------------------------------------------------------------------------------


def _num(value: float) -> str:
    """A coordinate with at most one decimal place (``12``, ``12.5``); charts draw thousands."""
    return "%g" % round(value, 1)  # noqa: UP031 - one formatting step, faster than f-string + strips


def spark_svg(values: list[float], label: str, width: int = 96, height: int = 22) -> str:
    """A small line of the last values, for a table cell."""
    if not values:
        return h(label)
    low, high = min(values), max(values)
    span = (high - low) or 1.0
    step = (width - 4) / max(len(values) - 1, 1)
    points = " ".join(
        f"{_num(2 + i * step)},{_num(height - 3 - (v - low) / span * (height - 6))}" for i, v in enumerate(values)
    )
    last_x = 2 + (len(values) - 1) * step
    last_y = height - 3 - (values[-1] - low) / span * (height - 6)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'role="img" aria-label="{h(label)}"><polyline points="{points}" fill="none" stroke="{INK}" '
        f'stroke-width="1.5"/><circle cx="{_num(last_x)}" cy="{_num(last_y)}" r="2.2" fill="{INK}"/></svg>'
    )


def focus_chart(rows: list[FocusRow], totals: FocusRow | None) -> str:
    """Horizontal bars: each focus area's average progress, with the RAG mix of its actions beneath."""
    shown = [*rows, *([totals] if totals else [])]
    if not shown:
        return ""
    label_w, bar_x, bar_w, row_h = 250, 260, 380, 34
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
    for n, row in enumerate(shown):
        y = 24 + n * row_h
        name = "All focus areas" if row is totals else f"{row.key} {row.name}" if row.area else row.name
        full = name
        if len(name) > 38:
            name = name[:37].rstrip() + "…"
        weight = ' font-weight="700"' if row is totals else ""
        parts.append(
            f'<text x="{label_w}" y="{y + 12}" text-anchor="end" fill="{INK}"{weight}><title>{h(full)}</title>'
            f"{h(name)}</text>"
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


def kpi_chart(st: KpiStatus, width: int = 250, height: int = 120) -> str:
    """One KPI's recent values as a line, with its target as a dashed line."""
    points = [p for p in st.history[-12:] if p.value.value is not None]
    values = [p.value.value for p in points if p.value.value is not None]
    target = st.target.value
    left, right, top, bottom = 34, 8, 8, 20
    plot_w, plot_h = width - left - right, height - top - bottom
    scale = [*values, *([target] if target is not None else [])]
    low, high = (min(scale), max(scale)) if scale else (0.0, 1.0)
    if high - low < 1e-9:
        low, high = low - 1, high + 1
    pad = (high - low) * 0.1
    low, high = low - pad, high + pad
    if st.kpi.is_percent:
        low, high = max(low, 0.0), min(high, 100.0)

    def y_of(v: float) -> float:
        return top + plot_h - (v - low) / (high - low) * plot_h

    def x_of(i: int) -> float:
        return left + (plot_w * i / (len(values) - 1) if len(values) > 1 else plot_w / 2)

    suffix = "%" if st.kpi.is_percent else ""
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{h(st.kpi.key)} trend" '
        'font-family="Segoe UI, Arial, Helvetica, sans-serif" font-size="10">',
        f'<rect x="{left}" y="{top}" width="{plot_w}" height="{plot_h}" fill="#fafafa" stroke="{GRID}"/>',
        f'<text x="{left - 3}" y="{_num(top + 8)}" text-anchor="end" fill="{MUTED}">'
        f"{format_number(high)}{suffix}</text>",
        f'<text x="{left - 3}" y="{top + plot_h}" text-anchor="end" fill="{MUTED}">{format_number(low)}{suffix}</text>',
    ]
    if target is not None:
        ty = y_of(target)
        parts.append(
            f'<line x1="{left}" y1="{_num(ty)}" x2="{left + plot_w}" y2="{_num(ty)}" stroke="{TARGET}" '
            f'stroke-dasharray="4 3" stroke-width="1.2"><title>Target {h(st.target.text)}</title></line>'
        )
        parts.append(
            f'<text x="{left + plot_w - 2}" y="{_num(ty - 3)}" text-anchor="end" fill="{TARGET}">'
            f"target {h(st.target.text)}</text>"
        )
    if values:
        colour = RAG_COLOURS[Rag.GREEN] if st.met else RAG_COLOURS[Rag.RED]
        coords = " ".join(f"{_num(x_of(i))},{_num(y_of(v))}" for i, v in enumerate(values))
        parts.append(f'<polyline points="{coords}" fill="none" stroke="{colour}" stroke-width="2"/>')
        for i, (p, v) in enumerate(zip(points, values, strict=True)):
            parts.append(
                f'<circle cx="{_num(x_of(i))}" cy="{_num(y_of(v))}" r="2.6" fill="{colour}">'
                f"<title>{h(p.period_label)}: {h(p.value.text)}</title></circle>"
            )
        parts.append(
            f'<text x="{left}" y="{height - 6}" fill="{MUTED}">{h(points[0].period_label)}</text>'
            f'<text x="{left + plot_w}" y="{height - 6}" text-anchor="end" fill="{MUTED}">'
            f"{h(points[-1].period_label)}</text>"
        )
    else:
        parts.append(
            f'<text x="{left + plot_w / 2}" y="{top + plot_h / 2}" text-anchor="middle" fill="{MUTED}">'
            "no values yet</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def kpi_cards(kpis: list[KpiStatus]) -> str:
    if not kpis:
        return ""
    cards = []
    for st in kpis:
        latest = st.latest
        status = "no values yet"
        if latest is not None:
            met = "target met" if st.met else "target not met"
            trend = f", {st.trend}" if st.trend else ""
            status = f"{latest.value.text} in {latest.period_label}: {met}{trend}"
        cards.append(
            f'<div class="kpi-card"><h4>{h(st.kpi.key)}: {h(st.kpi.name)}</h4><p>{h(status)}</p>{kpi_chart(st)}</div>'
        )
    return '<h3>KPI trends</h3><div class="kpi-grid">' + "".join(cards) + "</div>"


# -- the page -------------------------------------------------------------------------------------


def html_page(report: Report, doc: Layout) -> str:
    title = f"{doc.title}, {report.header.authority}, {format_date(report.header.report_date)}"
    out = [
        "<!DOCTYPE html>",
        '<html lang="en-GB">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{h(title)}</title>",
        f"<style>{CSS}</style>",
        "</head>",
        "<body>",
        "<header>",
        f"<h1>{h(doc.title)}</h1>",
        '<dl class="facts">',
    ]
    out += [f"<dt>{h(label)}</dt><dd>{h(value)}</dd>" for label, value in doc.fields]
    out += ["</dl>", "</header>"]
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
    out.append(
        f"<footer>Produced by knowsley-tracker on {h(format_date(report.header.report_date))}. "
        "RAG: Red, overdue or blocked; Amber, due soon with little progress or slipped; Green, on track; "
        "Complete; Blue, complete with evidence. * marks an officer's override, shown with its reason.</footer>"
    )
    out += ["</body>", "</html>"]
    return "\n".join(out) + "\n"


def to_html(report: Report) -> str:
    """The whole report as a single self-contained HTML page."""
    return html_page(report, layout(report))
