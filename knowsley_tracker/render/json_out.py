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

# JSON allows these raw, but a terminal would act on them: write them as \\u escapes.
_UNSAFE = re.compile("[\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]")


def dumps(data: Any) -> str:
    """``data`` as indented, key-sorted JSON, terminal-safe, without a final newline."""
    return terminal_safe(_dumps(data))


def terminal_safe(text: str) -> str:
    """JSON text with the characters a terminal would act on written as \\u escapes."""
    return _UNSAFE.sub(lambda m: f"\\u{ord(m[0]):04x}", text)


def _dumps(data: Any) -> str:
    import orjson

    # Dates, datetimes and dataclasses go to str(), as the standard library's default=str does.
    options = orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS | orjson.OPT_PASSTHROUGH_DATETIME
    options |= orjson.OPT_PASSTHROUGH_DATACLASS
    try:
        raw = orjson.dumps(data, default=str, option=options)
    except (orjson.JSONEncodeError, TypeError):
        return _stdlib(data)
    if _tiny_float(raw):
        return _stdlib(data)
    return raw.decode("utf-8")


def _tiny_float(raw: bytes) -> bool:
    """True when the document may hold a float under 0.0001, which orjson writes
    differently (``0.00001``, ``2.5e-7``) from the standard library (``1e-05``,
    ``2.5e-07``). Text that merely looks like one only costs the slower writer."""
    if b"0.0000" in raw:
        return True
    at = raw.find(b"e-")
    while at != -1:
        if raw[at - 1 : at].isdigit() and raw[at + 2 : at + 3].isdigit():
            return True
        at = raw.find(b"e-", at + 2)
    return False


def _stdlib(data: Any) -> str:
    import json

    text = json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False, default=str)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates: escape them rather than fail
        text = json.dumps(data, indent=2, sort_keys=True, ensure_ascii=True, default=str)
    return text
