"""--json output written by orjson is byte-for-byte what the standard library wrote
(with the characters a terminal would act on escaped, as kt always writes them)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from knowsley_tracker.models import Rag, Status
from knowsley_tracker.render.json_out import dumps, terminal_safe


def stdlib(data: Any) -> str:
    text = json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False, default=str)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = json.dumps(data, indent=2, sort_keys=True, ensure_ascii=True, default=str)
    return terminal_safe(text)


scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
    | st.dates()
    | st.sampled_from([*Status, *Rag])
)
documents = st.recursive(
    scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4), max_leaves=30
)


@settings(max_examples=400, deadline=None)
@given(documents)
def test_any_document_is_written_as_the_standard_library_writes_it(data: Any) -> None:
    assert dumps(data) == stdlib(data)


def test_awkward_values() -> None:
    awkward: tuple[Any, ...] = (
        {"tiny": 1e-05, "tinier": 2.5e-07, "big": 1e16, "third": 100 / 3},
        {"moment": datetime(2025, 11, 30, 9, 0, tzinfo=UTC), "day": date(2025, 11, 30)},
        {"surrogate": "\ud800 lone", "escape": "\x1b[31m", "nul": "\x00", "del": "\x7f"},
        {1: "int key", 2: "another"},
        {"a": [(1, 2)]},
        {"set": {1, 2}},
        [],
        {},
    )
    for data in awkward:
        assert dumps(data) == stdlib(data), data


def test_characters_a_terminal_acts_on_are_escaped() -> None:
    assert dumps({"del": "\x7f", "bidi": "a\u202eb", "csi": "\x9b"}) == (
        '{\n  "bidi": "a\\u202eb",\n  "csi": "\\u009b",\n  "del": "\\u007f"\n}'
    )


def test_the_utf8_check_finds_exactly_the_characters_the_text_pattern_escapes() -> None:
    """dumps() looks for unsafe characters in orjson's bytes and rewrites only documents
    that hold one: the byte pattern must match every character the text pattern escapes,
    and nothing else, wherever it stands among other text."""
    from knowsley_tracker.render.json_out import _UNSAFE, _needs_escapes

    for cp in range(0x110000):
        if 0xD800 <= cp <= 0xDFFF:
            continue  # lone surrogates never reach the bytes (the standard library writes those)
        ch = chr(cp)
        raw = ("é" + ch + "x").encode()
        assert _needs_escapes(raw) is (_UNSAFE.search(ch) is not None), hex(cp)
    assert _needs_escapes(b'"plain ascii \\u001b"') is False
    assert _needs_escapes(b'"del \x7f"') is True
    assert dumps({"t": "caf\u00e9 \u202e gnp.exe"}) == '{\n  "t": "caf\u00e9 \\u202e gnp.exe"\n}'


def test_dumps_utf8_is_dumps_encoded_with_a_newline() -> None:
    """--json writes orjson's bytes without decoding them: the same bytes as the text,
    for plain documents, documents that need escapes, and those the standard library writes."""
    from knowsley_tracker.render.json_out import dumps_utf8

    for data in (
        {"t": "plain", "n": [1, 2.5, None]},
        {"t": "caf\u00e9 \u202e gnp.exe", "del": "\x7f"},
        {"tiny": 0.00001, "lone": "\ud800"},
    ):
        assert dumps_utf8(data) == (dumps(data) + "\n").encode("utf-8")


def test_json_output_through_a_pipe_in_utf8_and_in_another_encoding(tmp_path: Path) -> None:
    """A whole kt process: UTF-8 output is the document's bytes; an ASCII-only output gets
    the same JSON value with \\u escapes."""
    db = tmp_path / "plan.json"
    env = {**os.environ, "KNOWSLEY_TRACKER_DB": str(db), "KNOWSLEY_TRACKER_NOW": "2025-11-30"}

    def kt(*args: str, **extra: str) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run(
            [sys.executable, "-m", "knowsley_tracker", *args], env={**env, **extra}, capture_output=True, check=False
        )

    assert kt("init", "--authority", "Testshire").returncode == 0
    assert kt("owner", "add", "Head of Service", "--name", "Jos\u00e9 Ruiz").returncode == 0
    assert kt("rec", "add", "Improve planning \u202e now").returncode == 0
    utf8 = kt("rec", "list", "--json", PYTHONIOENCODING="utf-8")
    assert utf8.returncode == 0, utf8.stderr
    assert b'"Improve planning \\u202e now"' in utf8.stdout and utf8.stdout.endswith(b"}\n]\n")
    owners = kt("owner", "list", "--json", PYTHONIOENCODING="utf-8")
    assert "Jos\u00e9 Ruiz".encode() in owners.stdout
    for encoding in ("ascii", "ascii:backslashreplace"):  # once a traceback, then invalid JSON (\xe9)
        ascii_out = kt("owner", "list", "--json", PYTHONIOENCODING=encoding)
        assert (ascii_out.returncode, ascii_out.stderr) == (0, b""), encoding
        assert ascii_out.stdout == owners.stdout.replace("\u00e9".encode(), b"\\u00e9")
        assert json.loads(ascii_out.stdout) == json.loads(owners.stdout)
    text = kt("owner", "list", PYTHONIOENCODING="ascii")  # text output: escaped, not a traceback
    assert (text.returncode, text.stderr) == (0, b"") and b"Jos\\xe9 Ruiz" in text.stdout
