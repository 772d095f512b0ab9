"""Reading a spreadsheet (CSV, or .xlsx through :mod:`xlsx_reading`) into a :class:`Sheet`:
rows of text, the header row and which column is which.

Imports are bounded: a file over ``import.max_mb`` is refused before it is read,
and reading stops at the first row past ``import.max_rows`` (both settings,
:data:`DEFAULT_MAX_MB` and :data:`DEFAULT_MAX_ROWS` unless changed). The header
row may sit below a title block: the first of the top :data:`HEADER_SEARCH_ROWS`
rows that names every required column is taken. The csv module is imported here
only, away from ``kt check``'s start-up path.
"""

from __future__ import annotations

import codecs
import csv
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from knowsley_tracker.commit_point import standard_input
from knowsley_tracker.errors import NotFoundError, TrackerError, ValidationError
from knowsley_tracker.service.plan_sheet import COLUMNS, HEADER_NAMES, REQUIRED, header_key, restore

DEFAULT_MAX_ROWS = 20_000
DEFAULT_MAX_MB = 50
# How far down a header row is looked for (title blocks above it are skipped).
HEADER_SEARCH_ROWS = 30
# Characters of a header shown in messages.
_SHOWN = 40


class ColumnSpec(NamedTuple):
    """The columns a kind of sheet has: every column, those required, and header_key -> column."""

    columns: tuple[str, ...]
    required: tuple[str, ...]
    names: dict[str, str]
    # How the missing-column message ends: where to look for the headers kt knows.
    hint: str = "kt import --help lists the headers it knows."


PLAN_SPEC = ColumnSpec(COLUMNS, REQUIRED, HEADER_NAMES)


class ImportLimits(NamedTuple):
    """How much a spreadsheet import reads at most (settings import.max_rows, import.max_mb)."""

    max_rows: int = DEFAULT_MAX_ROWS
    max_mb: int = DEFAULT_MAX_MB

    @property
    def max_bytes(self) -> int:
        return self.max_mb * 1024 * 1024


class SheetFile(NamedTuple):
    """Where a spreadsheet comes from: ``path``, or standard input when it is None."""

    name: str
    path: Path | None


class ReadOptions(NamedTuple):
    """How to read the file: ``mapping`` is --map (a header as written -> a column),
    ``encoding`` --encoding (CSV only), ``sheet`` --sheet (.xlsx only)."""

    mapping: tuple[tuple[str, str], ...] = ()
    encoding: str | None = None
    sheet: str | None = None


class Grid(NamedTuple):
    """A file's cells as text, before any column is known: (row number, cells) per row."""

    rows: list[tuple[int, list[str]]]
    # Excel-safe apostrophes (kt's CSV export) are removed from cells; an .xlsx keeps its text exactly.
    apostrophes: bool
    notes: list[str]


@dataclass
class Sheet:
    """The rows under the header, as text, with where each known column is."""

    columns: dict[str, int]
    unrecognised: list[str]
    rows: list[tuple[int, list[str]]]  # (spreadsheet row number, cells)
    header_row: int = 1
    apostrophes: bool = True
    notes: list[str] = field(default_factory=list)

    def cell(self, cells: list[str], column: str) -> str:
        at = self.columns.get(column)
        if at is None or at >= len(cells):
            return ""
        text = cells[at]
        return (restore(text) if self.apostrophes else text).strip()


# -- reading the bytes -------------------------------------------------------------------


def limit_message(name: str, what: str, setting: str, limit: int) -> str:
    return (
        f"{name} {what}, over the import limit: split the file, or raise the limit with "
        f"kt config set {setting} {limit * 2}."
    )


def read_bounded(source: SheetFile, limits: ImportLimits) -> bytes:
    """The file's bytes; a file over the size limit is refused before it is read."""
    cap = limits.max_bytes
    too_big = limit_message(source.name, f"is larger than {limits.max_mb} MB", "import.max_mb", limits.max_mb)
    if source.path is None:
        # Once per command: a command a server broke off is run again with the same bytes.
        raw = standard_input(cap + 1)
        if len(raw) > cap:
            raise ValidationError(too_big)
        return raw
    try:
        with source.path.open("rb") as handle:
            if os.fstat(handle.fileno()).st_size > cap:
                raise ValidationError(too_big)
            raw = handle.read(cap + 1)
    except FileNotFoundError:
        raise NotFoundError(f"No file {source.path}.") from None
    except IsADirectoryError:
        raise ValidationError(f"{source.path} is a folder, not a file.") from None
    except OSError as exc:
        raise TrackerError(f"Could not read {source.path} ({exc.strerror or exc}).") from None
    if len(raw) > cap:  # grew while being read, or not a regular file
        raise ValidationError(too_big)
    return raw


def read_sheet(
    source: SheetFile, fmt: str, options: ReadOptions, limits: ImportLimits, spec: ColumnSpec = PLAN_SPEC
) -> Sheet:
    """Read a CSV or .xlsx file within ``limits`` and find its header row."""
    raw = read_bounded(source, limits)
    if fmt == "xlsx":
        if options.encoding:
            raise ValidationError("--encoding is for CSV files: an .xlsx workbook says its own encoding.")
        from knowsley_tracker.service.xlsx_reading import read_xlsx

        grid = read_xlsx(raw, source.name, options.sheet, limits)
    else:
        if options.sheet:
            raise ValidationError("--sheet is for .xlsx workbooks: a CSV file has one sheet.")
        grid = read_csv(raw, source.name, options.encoding, limits, _mapping(options.mapping, spec), spec)
    return find_header(grid, source.name, options.mapping, limits, spec)


# -- CSV ---------------------------------------------------------------------------------

_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
# Bytes Windows-1252 leaves undefined: a file holding them is not Windows-1252 either.
_CP1252_UNDEFINED = frozenset(b"\x81\x8d\x8f\x90\x9d")


def _utf16_without_bom(raw: bytes) -> str | None:
    """``utf-16-le`` or ``utf-16-be`` when the start of the file is text with a NUL
    byte beside every character, as UTF-16 holds Latin text; else None."""
    head = raw[:400]
    if len(head) < 4:
        return None
    even, odd = head[0::2], head[1::2]
    if odd.count(0) >= 0.9 * len(odd) and even.count(0) == 0:
        return "utf-16-le"
    if even.count(0) >= 0.9 * len(even) and odd.count(0) == 0:
        return "utf-16-be"
    return None


def decode(raw: bytes, name: str, encoding: str | None) -> tuple[str, list[str]]:
    """The file as text, and a note when it was not read as UTF-8.

    UTF-8 (with or without a byte-order mark) is the default; UTF-16 (Excel's
    "Unicode Text") is recognised by its byte-order mark or its NUL bytes; any
    other encoding is named with --encoding, and Windows-1252 is suggested when
    the bytes fit it."""
    notes: list[str] = []
    if encoding:
        try:
            codec = codecs.lookup(encoding).name
        except LookupError:
            raise ValidationError(
                f"Unknown encoding {encoding!r}: use utf-8, cp1252 (Windows-1252), utf-16 or latin-1."
            ) from None
        label = encoding
        if codec == "utf-8":
            codec = "utf-8-sig"
    elif raw.startswith(_UTF16_BOMS):
        codec, label = "utf-16", "UTF-16"
    elif (guess := _utf16_without_bom(raw)) is not None:
        codec, label = guess, "UTF-16"
    else:
        codec, label = "utf-8-sig", "UTF-8"
    try:
        text = raw.decode(codec)
    except UnicodeDecodeError as exc:
        where = f"byte {exc.start + 1} is not valid"
        if codec == "utf-8-sig" and not encoding:
            if not _CP1252_UNDEFINED.intersection(raw):
                shown = raw[exc.start : exc.start + 1].decode("cp1252")
                raise ValidationError(
                    f"{name} is not UTF-8 text ({where}; in Windows-1252 it is {shown!r}): if Excel saved it as "
                    "'CSV (Comma delimited)', repeat with --encoding cp1252, or in Excel use Save As, "
                    "'CSV UTF-8 (Comma delimited)'."
                ) from None
            raise ValidationError(
                f"{name} is not UTF-8 text ({where}): in Excel use Save As, 'CSV UTF-8 (Comma delimited)', "
                "or name its encoding with --encoding."
            ) from None
        raise ValidationError(f"{name} is not {label} text ({where}).") from None
    if codec not in ("utf-8-sig",):
        notes.append(f"Read {name} as {label} text.")
    if "\x00" in text:
        raise ValidationError(f"{name} is not a CSV file (it contains NUL characters).")
    return text.removeprefix("\ufeff"), notes


def read_csv(
    raw: bytes,
    name: str,
    encoding: str | None,
    limits: ImportLimits,
    mapping: dict[str, str] | None = None,
    spec: ColumnSpec = PLAN_SPEC,
) -> Grid:
    """Decode and split a CSV file (comma, semicolon or tab: whichever finds a header)."""
    text, notes = decode(raw, name, encoding)
    if not text.strip():
        raise ValidationError(f"{name} is empty: the first row must name the columns.")
    delimiter = _choose_delimiter(text, mapping or {}, spec)
    rows: list[tuple[int, list[str]]] = []
    # Rows are counted as they are read: a file past the limit is refused without reading the rest.
    cap = limits.max_rows + HEADER_SEARCH_ROWS
    try:
        for number, cells in enumerate(csv.reader(_lines(text), delimiter=delimiter), start=1):
            if any(c.strip() for c in cells):
                rows.append((number, cells))
                if len(rows) > cap:
                    break
    except csv.Error as exc:
        raise ValidationError(f"{name} cannot be read as CSV: {exc}.") from None
    return Grid(rows=rows, apostrophes=True, notes=notes)


def _lines(text: str) -> Iterator[str]:
    """The text's lines, one at a time, with their line ends (as csv wants them).

    Not io.StringIO: it copies the text into four bytes a character, which for
    a 50 MB file cost 200 MB before a row was read."""
    end_of_line = "\n" if "\n" in text or "\r" not in text else "\r"  # old Mac files end lines with CR alone
    start, size = 0, len(text)
    while start < size:
        end = text.find(end_of_line, start)
        end = size if end == -1 else end + 1
        yield text[start:end]
        start = end


def _choose_delimiter(text: str, mapping: dict[str, str], spec: ColumnSpec) -> str:
    """The delimiter whose best header row names the most required columns (comma on a tie)."""
    best, best_score = ",", (-1, -1)
    for delimiter in (",", ";", "\t"):
        try:
            top = _head(csv.reader(_lines(text), delimiter=delimiter))
        except csv.Error:
            continue
        score = max((_score(_match(cells, mapping, spec), spec) for _, cells in top), default=(0, 0))
        if score > best_score:
            best, best_score = delimiter, score
    return best


def _head(reader: Iterable[list[str]]) -> list[tuple[int, list[str]]]:
    out: list[tuple[int, list[str]]] = []
    for number, cells in enumerate(reader, start=1):
        if number > HEADER_SEARCH_ROWS:
            break
        out.append((number, cells))
    return out


# -- the header row ------------------------------------------------------------------------


class HeaderMatch(NamedTuple):
    columns: dict[str, int]
    unrecognised: list[str]
    duplicates: list[str]


def _mapping(pairs: Iterable[tuple[str, str]], spec: ColumnSpec) -> dict[str, str]:
    """--map pairs as header_key(header) -> column; an unknown column is refused."""
    out: dict[str, str] = {}
    for header, target in pairs:
        column = target.strip() if target.strip() in spec.columns else spec.names.get(header_key(target))
        if column is None:
            raise ValidationError(
                f"--map {header}={target}: {target!r} is not a column; use one of {', '.join(spec.columns)}."
            )
        out[header_key(header)] = column
    return out


def _match(cells: list[str], mapping: dict[str, str], spec: ColumnSpec) -> HeaderMatch:
    columns: dict[str, int] = {}
    unrecognised: list[str] = []
    duplicates: list[str] = []
    for at, title in enumerate(cells):
        key = header_key(title)
        if not key:
            continue
        name = mapping.get(key) or spec.names.get(key)
        if name is None:
            unrecognised.append(_shown(title))
        elif name in columns:
            duplicates.append(name)
        else:
            columns[name] = at
    return HeaderMatch(columns, unrecognised, duplicates)


def _score(match: HeaderMatch, spec: ColumnSpec) -> tuple[int, int]:
    return sum(1 for c in spec.required if c in match.columns), len(match.columns)


def _shown(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= _SHOWN else flat[: _SHOWN - 1] + "…"


def find_header(
    grid: Grid, name: str, pairs: Iterable[tuple[str, str]], limits: ImportLimits, spec: ColumnSpec = PLAN_SPEC
) -> Sheet:
    """The header row (the first near the top naming every required column) and the rows below it."""
    pairs = list(pairs)
    mapping = _mapping(pairs, spec)
    top = [(number, cells) for number, cells in grid.rows if number <= HEADER_SEARCH_ROWS]
    if not top:
        raise ValidationError(f"{name} has nothing in its first {HEADER_SEARCH_ROWS} rows: one must name the columns.")
    matches = [(number, cells, _match(cells, mapping, spec)) for number, cells in top]
    complete = [m for m in matches if all(c in m[2].columns for c in spec.required)]
    number, cells, match = complete[0] if complete else max(matches, key=lambda m: _score(m[2], spec))
    unused = [header for header, _ in pairs if header_key(header) not in {header_key(c) for c in cells}]
    if unused:
        listed = ", ".join(repr(_shown(c)) for c in cells if c.strip())
        raise ValidationError(
            f"--map {unused[0]}=...: no column {unused[0]!r} in the header row (row {number}: {listed})."
        )
    missing = [c for c in spec.required if c not in match.columns]
    if missing:
        plural = "s" if len(missing) > 1 else ""
        found = ", ".join(_shown(c) for c in cells if c.strip())
        optional = [c for c in spec.columns if c not in spec.required]
        may = f", and may name {', '.join(optional)}" if optional else ""
        raise ValidationError(
            f"{name} has no {', '.join(missing)} column{plural}: the header row (row {number}: {found}) must name "
            f'{", ".join(spec.required)}{may}. Name another header with --map "Header={missing[0]}"; {spec.hint}'
        )
    if match.duplicates:
        raise ValidationError(
            f"{name} has more than one {', '.join(match.duplicates)} column (row {number}): keep one of each, "
            "or --map the other to a different column."
        )
    rows = [(n, c) for n, c in grid.rows if n > number]
    if len(rows) > limits.max_rows:
        raise ValidationError(
            limit_message(name, f"has more than {limits.max_rows:,} rows", "import.max_rows", limits.max_rows)
        )
    notes = list(grid.notes)
    if number > 1:
        notes.append(f"Header row: row {number} (the rows above it were skipped).")
    return Sheet(
        columns=match.columns,
        unrecognised=match.unrecognised,
        rows=rows,
        header_row=number,
        apostrophes=grid.apostrophes,
        notes=notes,
    )
