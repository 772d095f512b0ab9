"""JSON as kt prints it: the one encoder behind every --json and the JSON report.

Indented, key-sorted JSON (the store's fast encoder, so dates come out ISO),
in which no character can act on a terminal. Kept apart from report_json so
that ``kt check --json`` does not import the report. No Rich.
"""

from __future__ import annotations

import re
from typing import Any

from knowsley_tracker.storage import encode

# JSON allows these raw, but a terminal would act on them: write them as \\u escapes.
_UNSAFE = re.compile("[\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]")


def dumps(data: Any) -> str:
    """``data`` as indented, key-sorted JSON, terminal-safe, without a final newline."""
    text = encode(data).decode("utf-8").rstrip("\n")
    return _UNSAFE.sub(lambda m: f"\\u{ord(m[0]):04x}", text)
