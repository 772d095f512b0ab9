"""CSV bytes for spreadsheets.

The file is UTF-8 with a byte-order mark (so Excel reads accents and symbols
correctly), CRLF line ends and RFC 4180 quoting; every cell a spreadsheet
could run as a formula is neutralised. Imported only by ``kt export``/``kt
import``, never on ``kt check``'s path.
"""

from __future__ import annotations

import csv
import io

from knowsley_tracker.patterns import LazyPattern
from knowsley_tracker.service.plan_sheet import neutralise

BOM = "\ufeff"
_SURROGATE = LazyPattern("[\ud800-\udfff]")


def to_csv(rows: list[list[str]]) -> bytes:
    """Rows of text as spreadsheet-safe CSV bytes."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    for row in rows:
        writer.writerow([neutralise(cell) for cell in row])
    # Lone surrogates (undecodable bytes typed on a terminal) cannot be UTF-8:
    # show them as the replacement character rather than fail the export.
    text = _SURROGATE.sub("\ufffd", BOM + buffer.getvalue())
    return text.encode("utf-8")
