"""The JSON bytes of every store file: plain, indented, key-sorted JSON that diffs cleanly.

orjson writes and reads it; the standard library takes over for what orjson refuses (lone
surrogates from undecodable command-line bytes).
"""

from __future__ import annotations

import json
from typing import Any

import orjson

_JSON_OPTIONS = orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS | orjson.OPT_APPEND_NEWLINE


def encode(data: Any) -> bytes:
    """Plain, indented, key-sorted JSON that diffs cleanly."""
    try:
        return orjson.dumps(data, option=_JSON_OPTIONS)
    except orjson.JSONEncodeError:
        # orjson refuses lone surrogates (from undecodable command-line bytes);
        # the standard library escapes them as \\udcxx and reads them back.
        return (json.dumps(data, indent=2, sort_keys=True, ensure_ascii=True) + "\n").encode("ascii")


class NotFinite(ValueError):
    """NaN or an infinity in a file: not JSON, and never written by kt (the standard library reads them)."""


def _not_finite(text: str) -> float:
    raise NotFinite(text)


def _finite(text: str) -> float:
    value = float(text)
    if value - value != 0:  # inf or nan
        raise NotFinite(text)
    return value


def decode(raw: bytes) -> Any:
    """Parse JSON written by :func:`encode`; raises ``ValueError`` when it is not JSON
    (:class:`NotFinite` for NaN, Infinity or a number too big for a float)."""
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        return json.loads(raw.decode("utf-8"), parse_constant=_not_finite, parse_float=_finite)
