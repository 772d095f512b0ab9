"""Records <-> rows: how a record kind's fields are held in its table's columns.

The columns are the model's fields, with real types (``migrations/0001_tables.sql``).
Reading builds the same stored form the file store keeps (ISO dates, enum values,
ISO timestamps), mostly formatted by the server itself, so that a record loads
through the model's own loader and is equal whichever store it came from.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import UTC, date, datetime
from enum import Enum
from typing import Any

from psycopg import sql
from psycopg.types.json import Jsonb

from knowsley_tracker.models import Record

# Fields holding a moment (ISO 8601 text in the model, timestamptz in the database).
TIMESTAMP_FIELDS = frozenset({"at", "created_at", "last_logged_at", "added_at", "recorded_at", "frozen_at", "sent_at"})
# Text fields kept NULL when empty (the column's check refuses ''): an owner's login.
OPTIONAL_TEXT_FIELDS = frozenset({("owners", "login")})
PAGE = 1000  # rows fetched per query when a caller walks a table lazily


@dataclass(frozen=True)
class Column:
    """How one model field is held in the database."""

    name: str
    kind: str  # text, date, dates, moment, json, ints, optional (text, NULL when empty), plain

    def to_db(self, value: Any) -> Any:
        """A stored-form value (as ``to_record`` gives it) as a query parameter."""
        if value is None:
            return None
        if self.kind == "date":
            return value if isinstance(value, date) else date.fromisoformat(value)
        if self.kind == "dates":
            return [v if isinstance(v, date) else date.fromisoformat(v) for v in value]
        if self.kind == "moment":
            return None if value == "" else _moment(value)
        if self.kind == "json":
            return Jsonb(value)
        if self.kind == "optional":
            return value or None
        if isinstance(value, Enum):
            return value.value
        return value

    def from_db(self, value: Any) -> Any:
        """A column's value in stored form."""
        if value is None:
            return "" if self.kind in ("moment", "optional") else None
        if self.kind == "date":
            return value.isoformat()
        if self.kind == "dates":
            return [v.isoformat() for v in value]
        if self.kind == "moment":
            return stamp(value)
        return value


def _moment(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:  # kt writes moments with their offset; an older one without is UTC
        moment = moment.replace(tzinfo=UTC)
    return moment


def stamp(moment: datetime) -> str:
    """A moment as kt stores it: ISO 8601 in UTC, to the second unless it has a fraction."""
    moment = moment.astimezone(UTC)
    return moment.isoformat(timespec="seconds" if moment.microsecond == 0 else "microseconds")


_COLUMNS: dict[type[Record], tuple[Column, ...]] = {}
_COLUMN_MAPS: dict[type[Record], dict[str, Column]] = {}


def columns(cls: type[Record]) -> tuple[Column, ...]:
    """The table columns of a record kind, in field order (``id`` excluded)."""
    known = _COLUMNS.get(cls)
    if known is not None:
        return known
    out = []
    for f in fields(cls):
        if f.name == "id":
            continue
        text = str(f.type)
        if f.name in cls.DATE_FIELDS:
            kind = "dates" if text.startswith("list") else "date"
        elif f.name in TIMESTAMP_FIELDS:
            kind = "moment"
        elif (cls.TABLE, f.name) in OPTIONAL_TEXT_FIELDS:
            kind = "optional"
        elif text.startswith("dict") or text.startswith("list[dict"):
            kind = "json"
        elif text.startswith("list[int"):
            kind = "ints"
        else:
            kind = "plain"
        out.append(Column(f.name, kind))
    _COLUMNS[cls] = tuple(out)
    return _COLUMNS[cls]


def _column_map(cls: type[Record]) -> dict[str, Column]:
    known = _COLUMN_MAPS.get(cls)
    if known is None:
        known = _COLUMN_MAPS[cls] = {c.name: c for c in columns(cls)}
    return known


# Dates and moments are formatted by the server into their stored form, so that a
# fetched row becomes a record's stored dict without a Python call per value (the
# regional plan's 50,000 log entries made that a fifth of a report's time).
_AS_DATE = "to_char({0}, 'YYYY-MM-DD')"
_AS_MOMENT = (
    "CASE WHEN {0} IS NULL THEN '' ELSE to_char({0} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS')"
    " || CASE WHEN extract(microseconds FROM {0})::bigint %% 1000000 = 0 THEN ''"
    " ELSE to_char({0} AT TIME ZONE 'UTC', '.US') END || '+00:00' END"
)
_SELECT_LISTS: dict[type[Record], sql.Composable] = {}
_CONVERTED: dict[type[Record], tuple[tuple[str, ...], tuple[Column, ...]]] = {}


def _select_list(cls: type[Record]) -> sql.Composable:
    """``id`` and the record's columns, each as its stored form where the server can give it."""
    known = _SELECT_LISTS.get(cls)
    if known is None:
        parts: list[sql.Composable] = [sql.Identifier("id")]
        for c in columns(cls):
            name = sql.Identifier(c.name)
            if c.kind == "date":
                parts.append(sql.SQL(_AS_DATE).format(name))
            elif c.kind == "moment":
                parts.append(sql.SQL(_AS_MOMENT).format(name))
            elif c.kind == "optional":
                parts.append(sql.SQL("coalesce({}, '')").format(name))
            else:
                parts.append(name)
        known = _SELECT_LISTS[cls] = sql.Composed(parts).join(", ")
    return known


def _converted(cls: type[Record]) -> tuple[tuple[str, ...], tuple[Column, ...]]:
    """The field names in select order, and the columns still converted in Python (date lists)."""
    known = _CONVERTED.get(cls)
    if known is None:
        known = _CONVERTED[cls] = (
            tuple(c.name for c in columns(cls)),
            tuple(c for c in columns(cls) if c.kind == "dates"),
        )
    return known


def _table(table: str) -> sql.Composable:
    return sql.Identifier("kt", table)


def _stored_row(cls: type[Record], values: Sequence[Any]) -> dict[str, Any]:
    """A row fetched with :func:`_select_list` (without its id) in the stored form
    ``Record.from_record`` reads."""
    names, in_python = _converted(cls)
    row = dict(zip(names, values, strict=True))
    for column in in_python:
        row[column.name] = column.from_db(row[column.name])
    return row
