"""kt report: the board status report on screen, or written as a board pack."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from knowsley_tracker.cli import _complete
from knowsley_tracker.cli._context import WideOption, app_context, format_from_suffix, say
from knowsley_tracker.errors import ValidationError
from knowsley_tracker.outputs import write_output
from knowsley_tracker.rag import rules_text
from knowsley_tracker.render.text import emit, is_terminal, safe
from knowsley_tracker.reports import Report, build_report

report_app = typer.Typer(add_completion=False)

FORMATS = {"text": "text", "txt": "text", "markdown": "markdown", "md": "markdown", "html": "html", "json": "json"}
SUFFIXES = {".md": "markdown", ".markdown": "markdown", ".html": "html", ".htm": "html", ".json": "json"}


def choose_format(fmt: str | None, output: Path | None, as_json: bool) -> str:
    """The format asked for; else the one the output file's suffix names; else text."""
    if as_json:
        if fmt is not None and FORMATS.get(fmt.strip().lower()) != "json":
            raise ValidationError("--json and --format disagree: give one of them.")
        return "json"
    if fmt is not None:
        found = FORMATS.get(fmt.strip().lower())
        if found is None:
            raise ValidationError(f"Unknown format {fmt!r}: choose text, markdown, html or json.")
        return found
    return format_from_suffix(output, SUFFIXES) or "text"


def render(report: Report, fmt: str) -> str:
    """The report as text in one of the file formats (each renderer is imported only when used)."""
    if fmt == "markdown":
        from knowsley_tracker.render.report_markdown import to_markdown

        return to_markdown(report)
    if fmt == "html":
        from knowsley_tracker.render.report_html import to_html

        return to_html(report)
    if fmt == "json":
        from knowsley_tracker.render.report_json import dumps, to_json

        return dumps(to_json(report)) + "\n"
    from knowsley_tracker.render.report_text import to_plain

    return to_plain(report)


SECTIONS = (
    "The report has a header (authority, latest inspection, next monitoring visit with days to go, report date) "
    "and five sections: 1 focus areas (actions, complete, overdue, RAG counts, progress); 2 readiness by "
    "recommendation (status, RAG, evidence, days since the last update, linked KPIs, gaps); 3 exceptions (red or "
    "overdue actions with owner and latest note, then what is due in the next 30 days); 4 since the last board "
    "(RAG changes, completed and new actions, slipped due dates with their reasons, new evidence, KPI changes, "
    "measured from the latest board snapshot before today or from --since); 5 the KPI scorecard (latest value, "
    "target, met, trend and the last values)."
)


@report_app.command("report", epilog=SECTIONS + "\n\n" + rules_text())
def report(
    ctx: typer.Context,
    fmt: Annotated[
        str | None,
        typer.Option(
            "--format",
            "-f",
            help="text (the default: colour on a terminal, plain when piped), markdown, html or json. "
            "With -o, the file's suffix (.md, .html, .json) chooses when --format is left out.",
            show_default=False,
        ),
    ] = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write to this file instead of the screen.", dir_okay=False)
    ] = None,
    focus: Annotated[
        str | None,
        typer.Option("--focus", help="Only this focus area (key, e.g. DIS).", autocompletion=_complete.focus_areas),
    ] = None,
    since: Annotated[
        str | None,
        typer.Option("--since", help="Measure movement from this date, not the last board before today."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="The same as --format json.")] = False,
    wide: WideOption = False,
) -> None:
    """Print the board status report, or write it as a board pack.

    Example:

        kt report --format html -o board-pack.html
    """
    chosen = choose_format(fmt, output, as_json)
    with app_context(ctx).reading() as s:
        built = build_report(s, focus=focus, since=since)
    if output is None and chosen == "text" and is_terminal():
        from knowsley_tracker.render import terminal
        from knowsley_tracker.render.report_terminal import terminal_lines

        terminal.write_lines(terminal_lines(built, terminal.terminal_width(), terminal.Painter(), wide=wide))
        return
    content = render(built, chosen)
    if output is None:
        emit(content.rstrip("\n"))
        return
    write_output(output, content.encode("utf-8"), store=app_context(ctx).db)
    say(f"Wrote the {chosen} board pack to {safe(output)}.")
