"""What a store file must hold: the format name, the schema version and its migrations.

Migrations upgrade raw store data in place from version N to N + 1. They see plan.json only: a
migration that changes log or history rows must also rewrite the sealed segments (none has needed
to yet). Tests patch ``SCHEMA_VERSION`` and ``MIGRATIONS`` here; other modules read them through
this module.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from knowsley_tracker.errors import (
    CorruptStoreError,
)
from knowsley_tracker.storage.codec import NotFinite, decode, encode
from knowsley_tracker.store_interface import META

FORMAT = "knowsley-tracker"
SCHEMA_VERSION = 1
# Migrations upgrade raw store data in place from version N to N + 1. They see
# plan.json only: a migration that changes log or history rows must also
# rewrite the sealed segments (none has needed to yet).
MIGRATIONS: dict[int, Callable[[dict[str, Any]], None]] = {}


class _Invalid(ValueError):
    """Why some bytes are not a store this version can read."""

    def __init__(self, lead: str, rest: str, *, newer: bool = False) -> None:
        super().__init__(lead + rest)
        self.lead = lead
        self.rest = rest
        self.newer = newer

    def message(self, path: Path) -> str:
        return f"{self.lead} {path}{self.rest}"


def _check(raw: bytes) -> dict[str, Any]:
    """Parse and check store bytes; raises :class:`_Invalid`."""
    if not raw or raw.isspace():  # not raw.strip(): that copied the whole store (3.5 MB for a region)
        raise _Invalid("The store", " is empty (0 bytes)." if not raw else " holds only white space.")
    if b"\x00" in raw:
        raise _Invalid("The store", " is damaged: it contains NUL bytes.")
    try:
        data = decode(raw)
    except NotFinite as exc:
        number = str(exc)[:20]
        raise _Invalid("The store", f" is damaged: it holds the number {number}, which kt never writes.") from None
    except (ValueError, UnicodeDecodeError):
        raise _Invalid("The store", " is damaged: it is not complete JSON (truncated or overwritten).") from None
    meta_table = data.get(META) if isinstance(data, dict) else None
    meta = meta_table.get("1") if isinstance(meta_table, dict) else None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise _Invalid("The file", " is JSON but not a knowsley-tracker store.")
    version = meta.get("schema_version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise _Invalid("The store", " has no valid schema version.")
    if version > SCHEMA_VERSION:
        raise _Invalid(
            "The store",
            f" uses schema version {version}, newer than this knowsley-tracker understands "
            f"({SCHEMA_VERSION}): upgrade knowsley-tracker.",
            newer=True,
        )
    assert isinstance(data, dict)
    for name, table in data.items():
        # Every row a dict under a decimal id; checked with C-level calls, as every command pays for it.
        keys = "".join(table) if type(table) is dict else "-"
        if (
            (keys and not (keys.isascii() and keys.isdigit()))
            or "" in table
            or not set(map(type, table.values())) <= {dict}
        ):
            raise _Invalid("The store", f" is damaged: its {name!r} table is not a table of records.")
    for name, kind in (("txn", int), ("counters", dict), ("settings", dict), ("segments", dict)):
        if name in meta and (type(meta[name]) is not kind):
            raise _Invalid("The store", f" is damaged: its {name!r} record is not valid.")
    for name in ("authority", "created_at", "updated_at"):
        if name in meta and type(meta[name]) is not str:
            raise _Invalid("The store", f" is damaged: its {name!r} record is not text.")
    for table, counter in meta.get("counters", {}).items():
        if type(counter) is not int or counter < 0:
            raise _Invalid(
                "The store", f" is damaged: its id counter for {table!r} is {_short(counter)}, not a whole number."
            )
    for table, entries in meta.get("segments", {}).items():
        _check_segments(table, entries)
    return data


# What plan.json says about each sealed segment file: its name, its first and last ids, and its row count.
_SEGMENT_ENTRY = {"file": str, "first": int, "last": int, "rows": int}


def _check_segments(table: str, entries: Any) -> None:
    """The store's list of a table's sealed segments (a few entries: cheap to check in full)."""
    if type(entries) is not list:
        raise _Invalid("The store", f" is damaged: its list of {table!r} segments is {_short(entries)}, not a list.")
    for n, entry in enumerate(entries, 1):
        if type(entry) is not dict:
            raise _Invalid(
                "The store", f" is damaged: {table!r} segment {n} is {_short(entry)}, not a record of the segment."
            )
        for field, kind in _SEGMENT_ENTRY.items():
            if type(entry.get(field)) is not kind:
                value = _short(entry[field]) if field in entry else "missing"
                raise _Invalid(
                    "The store",
                    f" is damaged: {table!r} segment {n}'s {field!r} is {value}, not "
                    f"{'a file name' if kind is str else 'a whole number'}.",
                )


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def migrate(data: dict[str, Any], path: Path | None = None) -> bool:
    """Upgrade raw data from an older schema in place; True when anything changed."""
    meta = data[META]["1"]
    where = f"The store {path}" if path is not None else "The store"
    changed = False
    while meta["schema_version"] < SCHEMA_VERSION:
        version = meta["schema_version"]
        step = MIGRATIONS.get(version)
        if step is None:
            raise CorruptStoreError(
                f"{where} uses schema version {version}, which this knowsley-tracker cannot upgrade; "
                "the file has not been changed."
            )
        try:
            step(data)
        except Exception as exc:  # a migration meeting data it did not expect
            raise CorruptStoreError(
                f"{where} could not be upgraded from schema version {version} to {version + 1} "
                f"({type(exc).__name__}: {exc}); the file has not been changed. Run kt doctor."
            ) from None
        meta = data[META]["1"]
        meta["schema_version"] = version + 1
        changed = True
    if changed:
        try:
            _check(encode(data))
        except _Invalid as problem:
            raise CorruptStoreError(
                f"{where} could not be upgraded to schema version {SCHEMA_VERSION}: the result "
                f"{problem.rest.strip().removeprefix('is ')} The file has not been changed."
            ) from None
    return changed
