"""The report laid out once as titled sections of labelled fields, paragraphs and tables.

Terminal, plain-text, Markdown, HTML and Word renderers all draw this same
layout, so every format carries the same figures in the same order; each adds
only its own escaping and decoration (colour, bars, charts). :func:`layout`
puts together the parts built in three modules: the layout model and the words
its cells use (:mod:`~knowsley_tracker.render.report_layout`), the sections'
tables (:mod:`~knowsley_tracker.render.report_sections`) and the paper's
cover, headline and closing (:mod:`~knowsley_tracker.render.report_paper`).
The names renderers use are importable from here too.
"""

from __future__ import annotations

from knowsley_tracker.render.narrative import parse
from knowsley_tracker.render.report_layout import (
    BAR_WIDTH,
    DIRECTION_MARKS,
    KPI_RAG_WORDS,
    TREND_MARKS,
    Cell,
    Col,
    Cover,
    Layout,
    Section,
    Table,
    comparators_text,
    kpi_links,
    kpi_met_text,
    kpi_name,
    met_text,
    plural,
    rag_mix,
    rec_label,
    target_text,
    text_bar,
    trend_text,
)
from knowsley_tracker.render.report_paper import (
    closing,
    cover,
    headline,
    meeting_text,
    missing_texts,
    narrative_lines,
    paper_head_lines,
)
from knowsley_tracker.render.report_sections import (
    ROLLUP_RAGS,
    action_plan_text,
    exceptions_section,
    focus_section,
    header_fields,
    intervention_text,
    kpi_section,
    movement_intro,
    movement_section,
    partners_section,
    readiness_section,
)
from knowsley_tracker.reports import Report

__all__ = [
    "BAR_WIDTH",
    "DIRECTION_MARKS",
    "KPI_RAG_WORDS",
    "ROLLUP_RAGS",
    "TREND_MARKS",
    "Cell",
    "Col",
    "Cover",
    "Layout",
    "Section",
    "Table",
    "action_plan_text",
    "closing",
    "comparators_text",
    "cover",
    "exceptions_section",
    "focus_section",
    "header_fields",
    "headline",
    "intervention_text",
    "kpi_links",
    "kpi_met_text",
    "kpi_name",
    "kpi_section",
    "layout",
    "meeting_text",
    "met_text",
    "missing_texts",
    "movement_intro",
    "movement_section",
    "narrative_lines",
    "paper_head_lines",
    "partners_section",
    "plural",
    "rag_mix",
    "readiness_section",
    "rec_label",
    "target_text",
    "text_bar",
    "trend_text",
]


def layout(report: Report) -> Layout:
    """The report as sections, in the order every format shows them."""
    title = "Board status report"
    if report.header.focus is not None:
        title += f": {report.header.focus.key} {report.header.focus.name}"
    meeting = report.paper.meeting
    return Layout(
        cover=cover(report, title),
        headline=headline(report),
        narrative=parse(meeting.narrative) if meeting is not None and meeting.narrative else [],
        decisions=list(meeting.decisions) if meeting is not None else [],
        closing=closing(report),
        missing=missing_texts(meeting),
        title=title,
        # The cover gives the authority and the report date.
        fields=[f for f in header_fields(report) if f[0] not in ("Authority", "Report date")],
        sections=[
            focus_section(report),
            readiness_section(report),
            exceptions_section(report),
            movement_section(report),
            kpi_section(report),
            *([partners_section(report)] if report.partners else []),
        ],
    )
