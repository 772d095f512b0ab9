"""The Director's narrative: the small part of Markdown a board paper needs, read into blocks.

A narrative is written in Markdown (paragraphs, ``-`` or ``1.`` lists, ``#``
headings, ``*emphasis*`` and ``**strong**``) and every format renders the blocks
read here with its own formatting: Word runs, HTML elements, Markdown again. It
is never passed through as markup: raw HTML, links and images are text like any
other (a link shows as ``text (address)``), and each renderer escapes every
span for its format. Pure: no I/O, no third-party imports.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from knowsley_tracker.patterns import LazyPattern


class Span(NamedTuple):
    text: str
    bold: bool = False
    italic: bool = False


class Block(NamedTuple):
    kind: str  # "p" (paragraph), "h" (heading), "ul" (bullets) or "ol" (numbered)
    items: list[list[Span]]  # one item for "p" and "h"; one per list entry


_BULLET = LazyPattern(r"^\s{0,3}[-*+]\s+(.*)$")
_NUMBERED = LazyPattern(r"^\s{0,3}\d{1,3}[.)]\s+(.*)$")
_HEADING = LazyPattern(r"^\s{0,3}#{1,6}\s+(.*?)\s*#*\s*$")
_RULE = LazyPattern(r"^\s{0,3}([-*_])(\s*\1){2,}\s*$")
_ESCAPABLE = "\\`*_{}[]()#+-.!<>|~"
# Escaped characters are parked in the private use area while emphasis is read.
_PARK = 0xE000
_LINK = LazyPattern(r"!?\[([^\]]*)\]\(([^)\s]*)\)")
_STRONG = LazyPattern(r"\*\*(?=\S)(.+?)(?<=\S)\*\*|(?<!\w)__(?=\S)(.+?)(?<=\S)__(?!\w)")
_EMPHASIS = LazyPattern(r"\*(?=\S)(.+?)(?<=\S)\*|(?<!\w)_(?=\S)(.+?)(?<=\S)_(?!\w)")


def _park(text: str) -> str:
    return re.sub(r"\\([\\`*_{}\[\]()#+\-.!<>|~])", lambda m: chr(_PARK + _ESCAPABLE.index(m[1])), text)


def _unpark(text: str) -> str:
    return "".join(_ESCAPABLE[ord(ch) - _PARK] if _PARK <= ord(ch) < _PARK + len(_ESCAPABLE) else ch for ch in text)


def _links(text: str) -> str:
    def shown(m: re.Match[str]) -> str:
        label, address = m[1].strip(), m[2].strip()
        if not address or address == label:
            return label or address
        return f"{label} ({address})" if label else address

    return _LINK.sub(shown, text)


def _emphasis(text: str, bold: bool) -> list[Span]:
    spans: list[Span] = []
    at = 0
    for m in _EMPHASIS.finditer(text):
        if m.start() > at:
            spans.append(Span(text[at : m.start()], bold, False))
        spans.append(Span(m[1] or m[2], bold, True))
        at = m.end()
    if at < len(text):
        spans.append(Span(text[at:], bold, False))
    return spans


def inline(text: str) -> list[Span]:
    """One paragraph's text as spans of plain, bold and italic text."""
    parked = _links(_park(" ".join(text.split())))
    spans: list[Span] = []
    at = 0
    for m in _STRONG.finditer(parked):
        if m.start() > at:
            spans += _emphasis(parked[at : m.start()], False)
        spans += _emphasis(m[1] or m[2], True)
        at = m.end()
    if at < len(parked):
        spans += _emphasis(parked[at:], False)
    out: list[Span] = []
    for span in spans:
        text_ = _unpark(span.text).replace("`", "")
        if not text_:
            continue
        if out and out[-1].bold == span.bold and out[-1].italic == span.italic:
            out[-1] = Span(out[-1].text + text_, span.bold, span.italic)
        else:
            out.append(Span(text_, span.bold, span.italic))
    return out


def parse(markdown: str) -> list[Block]:
    """A narrative as blocks: paragraphs, headings and lists (a line indented under a list
    item continues it; a blank line ends a paragraph)."""
    blocks: list[Block] = []
    lines: list[str] = []  # the paragraph being read
    kind = ""  # the list being read: "ul", "ol" or ""
    items: list[str] = []

    def flush() -> None:
        nonlocal lines, kind, items
        if lines:
            blocks.append(Block("p", [inline(" ".join(lines))]))
            lines = []
        if kind:
            blocks.append(Block(kind, [inline(item) for item in items]))
            kind, items = "", []

    for raw in markdown.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        if not raw.strip():
            if not kind:
                flush()
            continue
        if _RULE.match(raw):
            flush()
            continue
        heading = _HEADING.match(raw)
        bullet = _BULLET.match(raw)
        numbered = _NUMBERED.match(raw)
        if heading:
            flush()
            blocks.append(Block("h", [inline(heading[1])]))
        elif bullet or numbered:
            found = "ul" if bullet else "ol"
            if lines or (kind and kind != found):
                flush()
            kind = found
            items.append((bullet or numbered)[1])  # type: ignore[index]
        elif kind and (raw.startswith((" ", "\t")) and items):
            items[-1] += " " + raw.strip()
        else:
            if kind:
                flush()
            lines.append(raw.strip())
    flush()
    return [b for b in blocks if any(b.items)]


def plain(spans: list[Span]) -> str:
    """The spans' text without formatting."""
    return "".join(span.text for span in spans)
