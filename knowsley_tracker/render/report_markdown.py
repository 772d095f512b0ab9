"""The board status report as Markdown, for pasting into board papers.

GitHub-flavoured tables, one ``##`` heading per section. User text is data:
:func:`md` escapes everything Markdown would interpret (emphasis, links, HTML,
headings, table pipes, list markers at the start) and turns line breaks into
spaces, so a title such as ``*urgent* | [see](x)`` shows exactly as typed.
"""

from __future__ import annotations

from knowsley_tracker.patterns import LazyPattern
from knowsley_tracker.render.narrative import Block, Span
from knowsley_tracker.render.report_common import Cell, Layout, Table, layout, text_bar
from knowsley_tracker.render.report_legend import RAG_LEGEND, shows_override
from knowsley_tracker.render.text import safe
from knowsley_tracker.reports import Report

_SPECIAL = LazyPattern(r"([\\`*_\[\]<>#|&~])")
_LEADING = LazyPattern(r"^([-+=])")


_PLAIN = LazyPattern(r"[^\\`*_\[\]<>#|&~\r\n+=-][^\\`*_\[\]<>#|&~\r\n]*")


def md(text: object) -> str:
    """User text escaped so that Markdown shows it literally, on one line."""
    raw = str(text)
    if _PLAIN.fullmatch(raw):  # nothing to escape: most cells
        return safe(raw)
    one_line = " ".join(raw.replace("\r\n", "\n").split("\n"))
    escaped = _SPECIAL.sub(r"\\\1", safe(one_line))
    return _LEADING.sub(r"\\\1", escaped)


def _cell(cell: Cell) -> str:
    text = md(cell.text)
    if cell.progress is not None:
        return f"{text_bar(cell.progress)} {text}"
    return text


def _table(table: Table) -> list[str]:
    lines: list[str] = []
    if table.title:
        lines += [f"### {md(table.title)}", ""]
    if not table.rows:
        return [*lines, md(table.empty)]
    lines.append("| " + " | ".join(md(c.title) for c in table.columns) + " |")
    lines.append("|" + "|".join("---:" if c.right else "---" for c in table.columns) + "|")
    for row in table.rows:
        lines.append("| " + " | ".join(_cell(c) for c in row) + " |")
    if table.total:
        lines.append("| " + " | ".join(f"**{_cell(c)}**" if c.text else "" for c in table.total) + " |")
    if table.note:
        lines += ["", f"*{md(table.note)}*"]
    return lines


def spans_md(spans: list[Span]) -> str:
    """Narrative spans as Markdown again: the text escaped, the emphasis rewritten."""
    out = []
    for span in spans:
        text = md(span.text)
        if span.italic:
            text = f"*{text}*"
        if span.bold:
            text = f"**{text}**"
        out.append(text)
    return "".join(out)


def narrative_md(blocks: list[Block]) -> list[str]:
    lines: list[str] = []
    for block in blocks:
        if lines:
            lines.append("")
        if block.kind == "h":
            lines.append(f"### {spans_md(block.items[0])}")
        elif block.kind == "p":
            lines.append(spans_md(block.items[0]))
        else:
            for n, item in enumerate(block.items, start=1):
                lines.append(f"{n}. {spans_md(item)}" if block.kind == "ol" else f"- {spans_md(item)}")
    return lines


def _fields(fields: list[tuple[str, str]]) -> list[str]:
    return [f"- **{md(label)}:** {md(value)}" for label, value in fields]


def markdown_lines(doc: Layout) -> list[str]:
    c = doc.cover
    lines = [f"**{md(c.marking)}**", "", f"# {md(doc.title)}", "", f"**{md(c.board_name)}**, {md(c.meeting)}", ""]
    lines += _fields(c.fields)
    lines += ["", "## Summary", "", *(f"- {md(sentence)}" for sentence in doc.headline)]
    lines += ["", "## Director's narrative", "", *(narrative_md(doc.narrative) or [md(doc.missing[0])])]
    decisions = [f"{n}. {md(d)}" for n, d in enumerate(doc.decisions, start=1)] or [md(doc.missing[1])]
    lines += ["", "## Decisions and asks of the board", "", *decisions]
    lines += ["", "## Position at a glance", "", *_fields(doc.fields)]
    for number, section in enumerate(doc.sections, start=1):
        lines += ["", f"## {number}. {md(section.title)}", ""]
        if section.intro:
            lines.append(md(section.intro))
            if section.tables or section.empty:
                lines.append("")
        if not section.tables:
            if section.empty:
                lines.append(md(section.empty))
            continue
        for i, table in enumerate(section.tables):
            if i:
                lines.append("")
            lines += _table(table)
        if shows_override(section.tables):
            lines += ["", md(RAG_LEGEND)]
    lines += ["", "## Next meetings", "", *_fields(doc.closing), "", f"**{md(c.marking)}**"]
    return lines


def to_markdown(report: Report) -> str:
    """The whole report as one Markdown document."""
    return "\n".join(markdown_lines(layout(report))).rstrip("\n") + "\n"
