"""The whole plan as one versioned JSON document, and restoring it into an empty store.

``kt export --format json`` writes :data:`FORMAT_NAME` version
:data:`FORMAT_VERSION`: the store's identity and settings, every record of
every kind with its id (field names as stored, dates ISO), the board snapshot
files, and the audit history (kept for the record; a restore starts a new
history). ``kt import FILE.json`` checks the whole document first (kinds,
ids, fields, references between records) and then recreates every record
under its own id, so refs such as A12 survive the move.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from knowsley_tracker import __version__, lifecycle
from knowsley_tracker.config import setting_problems
from knowsley_tracker.errors import ConflictError, TrackerError, ValidationError
from knowsley_tracker.filenames import name_problem, shown, snapshot_stem
from knowsley_tracker.models import RECORD_TYPES, TABLES, Action, Board, Record
from knowsley_tracker.relations import RELATIONS
from knowsley_tracker.service.exchange import ImportLimit, Problem, reject
from knowsley_tracker.service.session import Session
from knowsley_tracker.storage import FORMAT as STORE_FORMAT
from knowsley_tracker.storage import decode
from knowsley_tracker.store_interface import META
from knowsley_tracker.store_rows import txn_to_row

FORMAT_NAME = "knowsley-tracker-export"
FORMAT_VERSION = 1
ABOUT = (
    "A complete knowsley-tracker plan. 'store' holds the plan's identity (authority, created_at), settings and "
    "id counters; 'records' holds every record of every kind, keyed by table name, each with its 'id' and its "
    "stored fields (dates as ISO YYYY-MM-DD, timestamps as ISO 8601 UTC); 'snapshots' holds the frozen board "
    "snapshots named by boards[].snapshot_file; 'history' is the audit history, one entry per saved change "
    "(exported for the record, not replayed by kt import). Restore with: kt init --authority NAME, then "
    "kt import FILE.json."
)

NOUNS: dict[str, tuple[str, str]] = {
    "inspections": ("inspection", "inspections"),
    "focus_areas": ("focus area", "focus areas"),
    "owners": ("owner", "owners"),
    "recommendations": ("recommendation", "recommendations"),
    "actions": ("action", "actions"),
    "log": ("log entry", "log entries"),
    "evidence": ("piece of evidence", "pieces of evidence"),
    "visits": ("visit", "visits"),
    "kpis": ("KPI", "KPIs"),
    "kpi_values": ("KPI value", "KPI values"),
    "boards": ("board meeting", "board meetings"),
    "interventions": ("intervention", "interventions"),
    "partners": ("improvement partner", "improvement partners"),
}


def count_label(table: str, n: int) -> str:
    one, many = NOUNS.get(table, (table, table))
    return f"{n} {one if n == 1 else many}"


# -- export ----------------------------------------------------------------------------


def export_store(s: Session) -> dict[str, Any]:
    """The whole store as a JSON-ready document (see :data:`ABOUT`)."""
    store = s.store
    records: dict[str, list[dict[str, Any]]] = {}
    snapshots: dict[str, Any] = {}
    for cls in RECORD_TYPES:
        records[cls.TABLE] = [{"id": record.id, **record.to_record()} for record in store.all(cls)]
    for row in records[Board.TABLE]:
        name = row.get("snapshot_file")
        if name:
            snapshots[name] = store.load_snapshot(name)
    return {
        "format": FORMAT_NAME,
        "version": FORMAT_VERSION,
        "about": ABOUT,
        "exported_at": s.stamp(),
        "exported_by": f"knowsley-tracker {__version__}",
        "store": {
            "authority": store.authority,
            "created_at": store.created_at,
            "schema_version": store.schema_version,
            "txn": store.txn,
            "settings": store.settings(),
            "counters": store.counters(),
        },
        "records": records,
        "snapshots": snapshots,
        "history": [{"txn": entry.txn, **txn_to_row(entry)} for entry in store.history()],
    }


# -- import ----------------------------------------------------------------------------


@dataclass
class RestoreSummary:
    source: str
    authority: str
    exported_at: str
    counts: dict[str, int] = field(default_factory=dict)
    settings: int = 0
    # Actions whose status and progress break the rules (kt doctor --fix repairs them);
    # a restore keeps the records exactly as exported.
    breaking_rules: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(self.counts.values())


@dataclass
class _Checked:
    records: dict[str, list[Record]]
    snapshots: dict[str, dict[str, Any]]
    store: dict[str, Any]


def import_limit(s: Session) -> ImportLimit:
    """The largest JSON export kt import reads (the import.json_max_mb setting, MB of 1,000,000 bytes).
    Parsing takes about five times the file's size in memory: the regional benchmark plan's
    58 MB export peaked at 320 MB."""
    return ImportLimit(s.setting("import.json_max_mb") * 1_000_000, "import.json_max_mb")


def import_store(s: Session, raw: bytes, source: str, *, dry_run: bool = False) -> RestoreSummary:
    """Restore an export into this store, which must hold no records. All or nothing."""
    document = _parse(raw, source)
    _require_empty(s, source)
    checked = _check(document, source)
    summary = RestoreSummary(
        source=source,
        authority=str(checked.store.get("authority", "")),
        exported_at=str(document.get("exported_at", "")),
        counts={table: len(items) for table, items in checked.records.items()},
        settings=len(checked.store.get("settings", {})),
        breaking_rules=[
            r.ref for r in checked.records.get(Action.TABLE, []) if isinstance(r, Action) and lifecycle.breaches(r)
        ],
    )
    if not dry_run:
        _restore(s, checked)
    return summary


def _parse(raw: bytes, source: str) -> dict[str, Any]:
    try:
        document = decode(raw)
    except (ValueError, UnicodeDecodeError):
        raise ValidationError(f"{source} is not JSON (damaged, or not an export).") from None
    if not isinstance(document, dict):
        raise ValidationError(f"{source} is not a knowsley-tracker export.")
    meta = document.get(META, {}).get("1") if isinstance(document.get(META), dict) else None
    if isinstance(meta, dict) and meta.get("format") == STORE_FORMAT:
        raise ValidationError(
            f"{source} is a knowsley-tracker store, not an export: use it with --db, "
            "or make an export with kt --db FILE export --format json."
        )
    if document.get("format") != FORMAT_NAME:
        raise ValidationError(f'{source} is not a knowsley-tracker export (no "format": "{FORMAT_NAME}").')
    version = document.get("version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise ValidationError(f"{source} has no valid format version.")
    if version > FORMAT_VERSION:
        raise ValidationError(
            f"{source} uses export format version {version}, newer than this knowsley-tracker reads "
            f"({FORMAT_VERSION}): upgrade knowsley-tracker."
        )
    return document


def _require_empty(s: Session, source: str) -> None:
    held = {cls.TABLE: s.store.count(cls) for cls in RECORD_TYPES}
    held = {table: n for table, n in held.items() if n}
    if held:
        listing = ", ".join(count_label(table, n) for table, n in held.items())
        raise ConflictError(
            f"The store {s.store.location} already holds a plan ({listing}); an export is restored only "
            f"into an empty store: create one with kt --db NEW.json init --authority NAME, then "
            f"kt --db NEW.json import {source}."
        )


def _check(document: dict[str, Any], source: str) -> _Checked:
    """Every record rebuilt and every reference resolved, or every problem found."""
    problems: list[Problem] = []
    store = document.get("store")
    if not isinstance(store, dict):
        problems.append(Problem("store", "", "missing: the export must say which plan it holds."))
        store = {}
    else:
        for name in ("authority", "created_at"):
            if not isinstance(store.get(name), str) or not store[name].strip():
                problems.append(Problem("store", name, "missing or not text."))
        settings = store.get("settings", {})
        if not isinstance(settings, dict):
            problems.append(Problem("store", "settings", "must be an object of setting names and values."))
        else:
            for bad in setting_problems(settings):
                problems.append(Problem("store.settings", str(bad.name), f"{bad.message}."))
        counters = store.get("counters", {})
        if not isinstance(counters, dict) or not all(
            isinstance(v, int) and not isinstance(v, bool) for v in counters.values()
        ):
            problems.append(Problem("store", "counters", "must be an object of table names and whole numbers."))
    raw_records = document.get("records")
    if not isinstance(raw_records, dict):
        raise reject(source, [*problems, Problem("records", "", "missing: the export holds no records object.")])
    records: dict[str, list[tuple[int, Record]]] = {}
    for table, items in raw_records.items():
        cls = TABLES.get(table)
        if cls is None:
            problems.append(Problem(f"records.{table}", "", "not a kind of record this knowsley-tracker knows."))
            continue
        if not isinstance(items, list):
            problems.append(Problem(f"records.{table}", "", "must be a list of records."))
            continue
        records[table] = _build(cls, items, problems)
    snapshots = document.get("snapshots", {})
    if not isinstance(snapshots, dict):
        problems.append(Problem("snapshots", "", "must be an object of snapshot file names and snapshots."))
        snapshots = {}
    _check_references(records, snapshots, problems)
    if problems:
        raise reject(source, problems)
    ordered = {
        cls.TABLE: sorted((record for _, record in records.get(cls.TABLE, [])), key=lambda r: r.id)
        for cls in RECORD_TYPES
    }
    return _Checked(records=ordered, snapshots=snapshots, store=store)


def _build(cls: type[Record], items: list[Any], problems: list[Problem]) -> list[tuple[int, Record]]:
    """Each record built from its fields, with its position in the export's list."""
    built: list[tuple[int, Record]] = []
    seen: set[int] = set()
    for at, item in enumerate(items):
        where = f"records.{cls.TABLE}[{at}]"
        if not isinstance(item, dict):
            problems.append(Problem(where, "", "must be an object."))
            continue
        doc_id = item.get("id")
        if isinstance(doc_id, bool) or not isinstance(doc_id, int) or doc_id < 1:
            problems.append(Problem(where, "id", "must be a whole number, 1 or more."))
            continue
        where += f" ({cls.PREFIX}{doc_id})"
        if doc_id in seen:
            problems.append(Problem(where, "id", f"{cls.PREFIX}{doc_id} appears more than once."))
            continue
        seen.add(doc_id)
        fields = {k: v for k, v in item.items() if k != "id"}
        try:
            built.append((at, cls.from_untrusted(doc_id, fields)))
        except TrackerError as exc:
            problems.append(Problem.of(where, "", exc))
        except (TypeError, ValueError, KeyError, AttributeError) as exc:
            problems.append(Problem(where, "", _describe_shape_error(exc)))
    return built


def _describe_shape_error(exc: Exception) -> str:
    text = str(exc)
    missing = re.search(r"missing \d+ required (?:positional |keyword-only )?arguments?: (.+)", text)
    if missing:
        return f"missing {missing[1].replace(chr(39), '')}."
    unexpected = re.search(r"unexpected keyword argument '(\w+)'", text)
    if unexpected:
        return f"unknown field {unexpected[1]}."
    return f"a field has the wrong type or value ({text})."


def _check_references(
    records: dict[str, list[tuple[int, Record]]], snapshots: dict[str, Any], problems: list[Problem]
) -> None:
    ids = {table: {r.id for _, r in items} for table, items in records.items()}
    for relation in RELATIONS:
        table, target = relation.source.TABLE, relation.target.TABLE
        for at, record in records.get(table, []):
            # Every value, not only whole numbers: a crafted file's "7" is refused too.
            value = getattr(record, relation.field, None)
            for ref in value if isinstance(value, list) else [value]:
                if ref is not None and ref not in ids.get(target, set()):
                    problems.append(
                        Problem(
                            f"records.{table}[{at}] ({record.ref})",
                            relation.field,
                            f"refers to {relation.target.PREFIX}{ref}, which is not in records.{target}.",
                        )
                    )
    for name in snapshots:
        problem = name_problem("snapshot", name)
        if problem is not None:
            problems.append(Problem("snapshots", "", f"{shown(name)} {problem}."))
    for at, record in records.get(Board.TABLE, []):
        assert isinstance(record, Board)
        problem = name_problem("snapshot", record.snapshot_file) if record.snapshot_file else None
        if problem is not None:
            # A stored name is a name, never a path: kt writes nothing outside the store's folders.
            problems.append(
                Problem(
                    f"records.boards[{at}] ({record.ref})", "snapshot_file", f"{shown(record.snapshot_file)} {problem}."
                )
            )
        elif record.snapshot_file and not isinstance(snapshots.get(record.snapshot_file), dict):
            problems.append(
                Problem(
                    f"records.boards[{at}] ({record.ref})",
                    "snapshot_file",
                    f"names {record.snapshot_file}, which is not in snapshots.",
                )
            )


def _restore(s: Session, checked: _Checked) -> None:
    store = s.store
    for cls in RECORD_TYPES:
        for record in checked.records[cls.TABLE]:
            if isinstance(record, Board) and record.snapshot_file:
                # Named afresh, as kt names every snapshot: after the board and the transaction that wrote it.
                snapshot = checked.snapshots[record.snapshot_file]
                record.snapshot_file = store.save_snapshot(snapshot_stem(record.date, record.ref), snapshot)
            store.add_with_id(record)
    for name, value in checked.store.get("settings", {}).items():
        store.set_setting(name, value)
    store.set_authority(checked.store["authority"])
    # Keep the plan's identity (calendar UIDs are built from it) across the move.
    store.set_created_at(checked.store["created_at"])
    for table, value in checked.store.get("counters", {}).items():
        if table in TABLES:
            # Ids deleted before the export stay retired after it.
            store.raise_counter(table, value)
