"""The portfolio (``kt portfolio``) as a table, JSON, Markdown or HTML: one row per plan."""

from __future__ import annotations

from typing import Any

from knowsley_tracker.dates import format_date
from knowsley_tracker.render.text import Column, TableView
from knowsley_tracker.service.portfolio import PortfolioLine

# Most telling first: on a narrow terminal the last columns are the ones left out.
HEADINGS = [
    "Plan",
    "Authority",
    "Judgement",
    "Red",
    "Amber",
    "Green",
    "Overdue",
    "Next visit",
    "KPIs met",
    "Intervention",
    "Action plan",
    "Complete",
    "Blue",
]


def _judgement(line: PortfolioLine) -> str:
    if not line.judgement:
        return "none graded"
    return f"{line.judgement} ({format_date(line.judged_on)})" if line.judged_on else line.judgement


def _action_plan(line: PortfolioLine) -> str:
    if line.action_plan_due is None:
        return ""
    if line.action_plan_sent is not None:
        return f"sent {format_date(line.action_plan_sent)}"
    return f"due {format_date(line.action_plan_due)}"


def cells(line: PortfolioLine) -> list[str]:
    return [
        line.key,
        line.authority,
        _judgement(line),
        *(str(line.rag[rag]) for rag in ("red", "amber", "green")),
        str(line.overdue),
        format_date(line.next_visit) or "none booked",
        f"{line.kpis_met} of {line.kpis_measured}",
        line.intervention or "none",
        _action_plan(line),
        *(str(line.rag[rag]) for rag in ("complete", "blue")),
    ]


def portfolio_table(lines: list[PortfolioLine]) -> TableView:
    numeric = {"Red", "Amber", "Green", "Complete", "Blue", "Overdue"}
    table = TableView(
        [Column(h, justify="right" if h in numeric else "left", no_wrap=h in numeric) for h in HEADINGS],
        title="Portfolio",
        empty="No plans to show.",
    )
    for line in lines:
        table.add(cells(line))
    return table


def portfolio_json(lines: list[PortfolioLine]) -> list[dict[str, Any]]:
    def iso(d: Any) -> str | None:
        return d.isoformat() if d is not None else None

    return [
        {
            "plan": line.key,
            "authority": line.authority,
            "judgement": line.judgement or None,
            "judged_on": iso(line.judged_on),
            "intervention": line.intervention or None,
            "rag": line.rag,
            "actions": line.actions,
            "overdue": line.overdue,
            "kpis_met": line.kpis_met,
            "kpis_measured": line.kpis_measured,
            "next_visit": iso(line.next_visit),
            "action_plan_due": iso(line.action_plan_due),
            "action_plan_sent": iso(line.action_plan_sent),
        }
        for line in lines
    ]


def portfolio_markdown(lines: list[PortfolioLine], as_of: str) -> str:
    from knowsley_tracker.render.report_markdown import md

    out = [f"# Portfolio, {as_of}", "", "| " + " | ".join(HEADINGS) + " |", "|" + "---|" * len(HEADINGS)]
    out += ["| " + " | ".join(md(c) for c in cells(line)) + " |" for line in lines]
    return "\n".join(out) + "\n"


def portfolio_html(lines: list[PortfolioLine], as_of: str) -> str:
    from knowsley_tracker.render.report_html import h

    head = "".join(f"<th>{h(x)}</th>" for x in HEADINGS)
    rows = "".join("<tr>" + "".join(f"<td>{h(c)}</td>" for c in cells(line)) + "</tr>\n" for line in lines)
    return (
        '<!DOCTYPE html>\n<html lang="en-GB"><head><meta charset="utf-8">'
        f"<title>Portfolio, {h(as_of)}</title></head><body>\n<h1>Portfolio, {h(as_of)}</h1>\n"
        f"<table>\n<thead><tr>{head}</tr></thead>\n<tbody>\n{rows}</tbody>\n</table>\n</body></html>\n"
    )
