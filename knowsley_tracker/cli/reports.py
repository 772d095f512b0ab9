"""kt report: the board status report on screen, or written as a board paper."""

from pathlib import Path
from typing import Annotated

import typer

from knowsley_tracker.cli import _complete
from knowsley_tracker.cli._context import WideOption, app_context, say
from knowsley_tracker.errors import ValidationError
from knowsley_tracker.outputs import write_output, write_stdout
from knowsley_tracker.paper_logo import LOGO_FORMATS, with_logo
from knowsley_tracker.rag import rules_text
from knowsley_tracker.render.text import emit, is_terminal, safe
from knowsley_tracker.reports import Report, build_report

report_app = typer.Typer(add_completion=False)

FORMATS = {
    "text": "text",
    "txt": "text",
    "markdown": "markdown",
    "md": "markdown",
    "html": "html",
    "json": "json",
    "pdf": "pdf",
    "docx": "docx",
    "word": "docx",
}
# What a file's name says it holds; the first suffix of each format is the one suggested.
SUFFIXES = {
    ".docx": "docx",
    ".pdf": "pdf",
    ".html": "html",
    ".htm": "html",
    ".md": "markdown",
    ".markdown": "markdown",
    ".json": "json",
    ".txt": "text",
}
SUFFIX_OF = {fmt: suffix for suffix, fmt in reversed(SUFFIXES.items())}
BINARY = ("pdf", "docx")
KNOWN_SUFFIXES = ".docx, .pdf, .html, .md, .json or .txt"


def choose_format(fmt: str | None, output: Path | None, as_json: bool, terminal: bool) -> str:
    """The format asked for (``--format`` or ``--json``) and the one the output file's suffix
    names must agree; either alone chooses; neither gives text. An unknown suffix is refused,
    so no file's name lies about its contents, and so is a binary format to a terminal."""
    asked: str | None = None
    if fmt is not None:
        asked = FORMATS.get(fmt.strip().lower())
        if asked is None:
            raise ValidationError(f"Unknown format {fmt!r}: choose text, markdown, html, json, pdf or docx.")
    if as_json:
        if asked is not None and asked != "json":
            raise ValidationError("--json and --format disagree: give one of them.")
        asked = "json"
    if output is not None:
        suffix = output.suffix.lower()
        named = SUFFIXES.get(suffix)
        if suffix and named is None:
            raise ValidationError(
                f"{output.name} ends in {suffix}, which names no format kt writes: use {KNOWN_SUFFIXES}."
            )
        if asked is not None and named is not None and named != asked:
            raise ValidationError(
                f"{output.name} names a {named} file, but {asked} was asked for: "
                f"end the name in {SUFFIX_OF[asked]} or leave out --format."
            )
        if named is None:
            raise ValidationError(
                f"{output.name} has no suffix to say what it holds: "
                + (f"name it {output.name}{SUFFIX_OF[asked]}" if asked else f"add one ({KNOWN_SUFFIXES})")
                + ", or give -o - for standard output."
            )
        return asked or named or "text"
    chosen = asked or "text"
    if chosen in BINARY and terminal:
        raise ValidationError(
            f"A {chosen} paper is a binary file, not for the terminal: write it with -o, "
            f"e.g. kt report -o paper{SUFFIX_OF[chosen]}."
        )
    return chosen


def render(report: Report, fmt: str) -> str | bytes:
    """The report in one of the file formats (each renderer is imported only when used)."""
    if fmt == "markdown":
        from knowsley_tracker.render.report_markdown import to_markdown

        return to_markdown(report)
    if fmt == "html":
        from knowsley_tracker.render.report_html import to_html

        return to_html(report)
    if fmt == "json":
        from knowsley_tracker.render.report_json import dumps, to_json

        return dumps(to_json(report)) + "\n"
    if fmt == "pdf":
        from knowsley_tracker.render.report_pdf import to_pdf

        return to_pdf(report)
    if fmt == "docx":
        from knowsley_tracker.render.report_docx import to_docx

        return to_docx(report)
    from knowsley_tracker.render.report_text import to_plain

    return to_plain(report)


SECTIONS = (
    "The paper opens with a cover (the board's name, the meeting with its number and date, the authority, the "
    "report date, the author's role and the protective marking, which is also printed on every page), a summary "
    "in sentences, the Director's narrative and the decisions or asks of the board (kt board edit), and the "
    "position at a glance (latest inspection, next monitoring visit, DfE intervention, action plan). Then: "
    "1 focus areas (actions, overdue, RAG counts that add up to the actions, progress); 2 readiness by "
    "recommendation (status, RAG, evidence, days since the last update, linked KPIs, gaps); 3 exceptions (red or "
    "overdue actions with owner and latest note, then what is due in the next 30 days); 4 since the last board "
    "(RAG changes, completed and new actions, slipped due dates with their reasons, new evidence, KPI changes, "
    "measured from the latest board snapshot before today or from --since); 5 the KPI scorecard (latest value, "
    "comparators, target and tolerance, met, trend and the last values); 6 improvement partners engaged today, "
    "when there are any. It closes with the next board meeting and the next monitoring visit."
)


@report_app.command("report", epilog=SECTIONS + "\n\n" + rules_text())
def report(
    ctx: typer.Context,
    fmt: Annotated[
        str | None,
        typer.Option(
            "--format",
            "-f",
            help="text (the default: colour on a terminal, plain when piped), markdown, html, json, pdf or docx. "
            "With -o, the file's suffix (.docx, .pdf, .html, .md, .json, .txt) chooses; the two must agree.",
            show_default=False,
        ),
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output", "-o", help="Write to this file instead of the screen (- for standard output).", dir_okay=False
        ),
    ] = None,
    focus: Annotated[
        str | None,
        typer.Option("--focus", help="Only this focus area (key, e.g. DIS).", autocompletion=_complete.focus_areas),
    ] = None,
    since: Annotated[
        str | None,
        typer.Option("--since", help="Measure movement from this date, not the last board before today."),
    ] = None,
    board: Annotated[
        str | None,
        typer.Option("--board", help="The meeting the paper is for, e.g. B7 (default: the next one from today)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="The same as --format json.")] = False,
    wide: WideOption = False,
) -> None:
    """Print the board status report, or write it as a board paper (Word, PDF, HTML, Markdown).

    Example:

        kt report -o board-paper.docx
    """
    terminal = is_terminal()
    if output is not None and str(output) == "-":
        output = None  # standard output, as without -o (a binary paper still not to a terminal)
    chosen = choose_format(fmt, output, as_json, terminal)
    with app_context(ctx).reading() as s:
        built = build_report(s, focus=focus, since=since, board=board)
    if chosen in LOGO_FORMATS:
        built = with_logo(built)
    if output is None and chosen == "text" and terminal:
        from knowsley_tracker.render import terminal as term
        from knowsley_tracker.render.report_terminal import terminal_lines

        term.write_lines(terminal_lines(built, term.terminal_width(), term.Painter(), wide=wide))
        return
    content = render(built, chosen)
    if output is None:
        if isinstance(content, bytes):
            write_stdout(content)
        else:
            emit(content.rstrip("\n"))
        return
    data = content if isinstance(content, bytes) else content.encode("utf-8")
    write_output(output, data, store=app_context(ctx).db)
    say(f"Wrote the {chosen} board paper to {safe(output)}.")
