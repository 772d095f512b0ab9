"""JSON as kt prints it: the one encoder behind every --json and the JSON report.

Indented, key-sorted JSON, byte for byte what the standard library's
``json.dumps(indent=2, sort_keys=True, ensure_ascii=False, default=str)`` writes,
except that characters a terminal would act on are written as ``\\u`` escapes
(still the same JSON value). Kept apart from report_json so that ``kt check
--json`` does not import the report. No Rich.

The standard library is pure Python when indenting: 37 ms for the 3,000
actions of a regional plan. orjson writes the same document in about a
millisecond. The two differ only in how they write a few floats (``1e-05``
against ``0.00001``), non-string keys and lone surrogates: those documents,
rare in practice, are still written by the standard library, so the bytes never
change. (Infinity and NaN, which the two would also write differently, never get
this far: the models refuse them and the store's JSON cannot hold them.)
"""

from __future__ import annotations

import re
from typing import Any

from knowsley_tracker.patterns import LazyPattern

# JSON allows these raw, but a terminal would act on them: write them as \\u escapes.
_UNSAFE = LazyPattern("[\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]")


def dumps(data: Any) -> str:
    """``data`` as indented, key-sorted JSON, terminal-safe, without a final newline."""
    raw = _orjson(data)
    if raw is None:
        return terminal_safe(_stdlib(data))
    text = raw.decode("utf-8")
    return terminal_safe(text) if _needs_escapes(raw) else text


def dumps_ascii(data: Any) -> str:
    """:func:`dumps` with every character outside ASCII written as a \\u escape (the same JSON
    value), for an output that cannot take UTF-8."""
    return terminal_safe(_stdlib(data, ascii_only=True))


def dumps_utf8(data: Any) -> bytes:
    """:func:`dumps` as UTF-8 bytes with a final newline, what ``--json`` writes. Mostly
    orjson's own bytes, never decoded and encoded again: 2.3 MB for a regional plan's
    action list, where the round trip through text cost about 2.5 ms."""
    raw = _orjson(data)
    if raw is None:
        return (terminal_safe(_stdlib(data)) + "\n").encode("utf-8")
    if _needs_escapes(raw):
        return (terminal_safe(raw.decode("utf-8")) + "\n").encode("utf-8")
    return raw + b"\n"


def terminal_safe(text: str) -> str:
    """JSON text with the characters a terminal would act on written as \\u escapes."""
    return _UNSAFE.sub(_escape, text)


def _escape(m: re.Match[str]) -> str:
    return f"\\u{ord(m[0]):04x}"


# The same characters in UTF-8 (which is self-synchronising, so a match is always
# one of them): orjson's bytes are searched once, and only a document holding one is
# decoded and rewritten by _UNSAFE. Searching the 2.3 MB of the region's action list
# as text took 6 ms; ASCII bytes are checked for DEL alone, in well under one.
_UNSAFE_UTF8 = LazyPattern(rb"\x7f|\xc2[\x80-\x9f]|\xd8\x9c|\xe2\x80[\x8e\x8f\xa8-\xae]|\xe2\x81[\xa6-\xa9]")


def _needs_escapes(raw: bytes) -> bool:
    if raw.isascii():
        return b"\x7f" in raw
    return _UNSAFE_UTF8.search(raw) is not None


def _orjson(data: Any) -> bytes | None:
    """The document as orjson writes it, or None where its bytes would differ from the
    standard library's (see the module's docstring)."""
    import orjson

    # Dates, datetimes and dataclasses go to str(), as the standard library's default=str does.
    options = orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS | orjson.OPT_PASSTHROUGH_DATETIME
    options |= orjson.OPT_PASSTHROUGH_DATACLASS
    try:
        raw = orjson.dumps(data, default=str, option=options)
    except (orjson.JSONEncodeError, TypeError):
        return None
    return None if _tiny_float(raw) else raw


def _tiny_float(raw: bytes) -> bool:
    """True when the document may hold a float under 0.0001, which orjson writes
    differently (``0.00001``, ``2.5e-7``) from the standard library (``1e-05``,
    ``2.5e-07``). Text that merely looks like one only costs the slower writer."""
    if b"0.0000" in raw:
        return True
    # A digit, e-, a digit. The search starts from the literal "e-" (fast in C); a pattern
    # starting with [0-9] was tried at every byte (10 ms on the region's action list).
    return any(raw[m.start() - 1 : m.start()].isdigit() for m in _EXPONENT.finditer(raw))


_EXPONENT = LazyPattern(rb"e-[0-9]")


def _stdlib(data: Any, *, ascii_only: bool = False) -> str:
    import json

    if not ascii_only:
        text = json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False, default=str)
        try:
            text.encode("utf-8")
            return text
        except UnicodeEncodeError:  # lone surrogates: escape them rather than fail
            pass
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=True, default=str)
