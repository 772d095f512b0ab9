"""Safety use-cases: the audit history, undo, backups and restore, and the store doctor.

The history is the ``history`` table: one row per committed command (id =
txn) listing its changes as ``[op, table, id, payload]``. Undo replays one
command's changes backwards as a new, recorded command. Restore and doctor work
on the store's files through :mod:`knowsley_tracker.storage` without opening a
possibly damaged ``plan.json`` as a store. No rendering here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from knowsley_tracker import dates
from knowsley_tracker.errors import ConflictError, NotFoundError, TrackerError, ValidationError
from knowsley_tracker.models import (
    PREFIXES,
    TABLES,
    Action,
    Evidence,
    FocusArea,
    Inspection,
    Kpi,
    KpiValue,
    LogEntry,
    Owner,
    Partner,
    Recommendation,
    Record,
    Visit,
)
from knowsley_tracker.service import consistency
from knowsley_tracker.service.session import Session
from knowsley_tracker.storage import (
    DEFAULT_BACKUPS,
    HISTORY,
    META,
    SCHEMA_VERSION,
    Backup,
    ChangeConflict,
    Problem,
    Restored,
    Store,
    StorePaths,
    backup_problem,
    check_files,
    decode,
    fix_permissions,
    list_damaged,
    migrate,
    newest_good_backup,
    probe,
    ref_of,
)
from knowsley_tracker.storage import list_backups as storage_backups

DEFAULT_HISTORY_LIMIT = 20


# ---------------------------------------------------------------------------
# History


@dataclass(frozen=True)
class FieldChange:
    name: str
    old: Any
    new: Any


@dataclass(frozen=True)
class RecordChange:
    """One change to one record, as kept in the history."""

    op: str  # create, update or delete
    table: str
    record_id: int
    fields: list[FieldChange]
    # The whole row for creates and deletes; for a log entry's create (stored
    # without a copy, since log entries never change) the entry itself.
    row: dict[str, Any] | None = None

    @property
    def ref(self) -> str:
        return ref_of(self.table, self.record_id)


@dataclass(frozen=True)
class HistoryEntry:
    """One committed command: who, when, what, and the changes it made."""

    txn: int
    at: str
    by: str
    what: str
    changes: list[RecordChange]
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def undo_of(self) -> int | None:
        value = self.extra.get("undo")
        return int(value) if isinstance(value, int) else None

    @property
    def is_restore(self) -> bool:
        return "restore" in self.extra

    @property
    def is_migration(self) -> bool:
        return "migrate" in self.extra


_REF = re.compile(r"([A-Za-z]{1,2})(\d+)")


def parse_record_ref(text: str) -> tuple[str, int]:
    """Read any record id (``A12``, ``L40``, ``KV3``, ``t15`` for a txn) as (table, id)."""
    m = _REF.fullmatch(text.strip())
    if m:
        prefix = m[1].upper()
        if prefix == "T":
            return HISTORY, int(m[2])
        cls = PREFIXES.get(prefix)
        if cls is not None and int(m[2]) > 0:
            return cls.TABLE, int(m[2])
    known = ", ".join(sorted(PREFIXES))
    raise ValidationError(f"{text!r} is not a record id: use a prefix ({known}) and a number, e.g. A12 or L40.")


def _field_order(table: str, row: dict[str, Any]) -> list[str]:
    cls = TABLES.get(table)
    order = [f.name for f in fields(cls) if f.name != "id"] if cls is not None else []
    return [name for name in order if name in row] + sorted(name for name in row if name not in order)


def _is_blank(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def _expand(change: list[Any], log_rows: dict[int, dict[str, Any]], store: Store) -> RecordChange:
    op, table, record_id, payload = change
    if op == "update":
        changed = [FieldChange(str(name), old, new) for name, (old, new) in dict(payload).items()]
        return RecordChange(op, table, int(record_id), changed)
    row = payload if isinstance(payload, dict) else None
    if row is None and table == LogEntry.TABLE:
        row = log_rows.get(int(record_id)) or store.row(table, int(record_id))
    shown: list[FieldChange] = []
    if row is not None:
        for name in _field_order(table, row):
            value = row[name]
            if op == "create" and _is_blank(value):
                continue
            shown.append(FieldChange(name, None, value) if op == "create" else FieldChange(name, value, None))
    return RecordChange(op, table, int(record_id), shown, row)


def _entry(txn: int, row: dict[str, Any], changes: list[RecordChange]) -> HistoryEntry:
    extra = {k: v for k, v in row.items() if k not in ("at", "by", "what", "changes")}
    return HistoryEntry(txn, str(row.get("at", "")), str(row.get("by", "")), str(row.get("what", "")), changes, extra)


def history(
    s: Session, record: str | None = None, *, since: str | None = None, limit: int | None = None
) -> list[HistoryEntry]:
    """Commands that changed the plan, oldest first: for one record, since a date, or the latest."""
    if limit is not None and limit < 1:
        raise ValidationError("--limit takes a number of commands, 1 or more.")
    wanted = parse_record_ref(record) if record else None
    since_day = s.parse_date(since) if since else None
    if wanted is None and since_day is None and limit is None:
        limit = DEFAULT_HISTORY_LIMIT
    store = s.store
    if wanted is not None and wanted[0] == HISTORY:
        row = store.row(HISTORY, wanted[1])
        if row is None:
            raise NotFoundError(f"No txn {wanted[1]} in the history.")
        return [_entry(wanted[1], row, _expand_all(store, row["changes"], {}))]
    picked: list[tuple[int, dict[str, Any]]] = []
    # Log entries removed by a later undo or restore are kept in that later change.
    removed_logs: dict[int, dict[str, Any]] = {}
    for txn, row in store.rows_newest_first(HISTORY):
        if since_day is not None and dates.local_date_of(str(row.get("at"))) < since_day:
            continue
        for op, table, record_id, payload in row.get("changes", []):
            if op == "delete" and table == LogEntry.TABLE and isinstance(payload, dict):
                removed_logs[int(record_id)] = payload
        if wanted is not None and not any((c[1], int(c[2])) == wanted for c in row.get("changes", [])):
            continue
        picked.append((txn, row))
        if limit is not None and len(picked) >= limit:
            break
    if wanted is not None and not picked and store.row(*wanted) is None:
        raise NotFoundError(f"No changes to {ref_of(*wanted)} are recorded, and there is no such record.")
    out = []
    for txn, row in reversed(picked):
        changes = row.get("changes", [])
        if wanted is not None:
            changes = [c for c in changes if (c[1], int(c[2])) == wanted]
        out.append(_entry(txn, row, _expand_all(store, changes, removed_logs)))
    return out


def _expand_all(store: Store, changes: list[list[Any]], removed_logs: dict[int, dict[str, Any]]) -> list[RecordChange]:
    return [_expand(change, removed_logs, store) for change in changes]


# ---------------------------------------------------------------------------
# References between records (shared by undo and doctor)


@dataclass(frozen=True)
class Reference:
    source: type[Record]
    field: str
    target: type[Record]
    fix: str  # {ref}: the referring record, {target}: the missing one
    many: bool = False


_RESTORE_HINT = "or restore a backup from before {target} was removed (kt backup list, kt restore NAME)"
REFERENCES: tuple[Reference, ...] = (
    Reference(
        Action,
        "rec_id",
        Recommendation,
        "Move {ref} under an existing recommendation (kt action edit {ref} --rec R1), " + _RESTORE_HINT + ".",
    ),
    Reference(Action, "owner_id", Owner, "Give {ref} an existing owner (kt action edit {ref} --owner O1)."),
    Reference(
        LogEntry,
        "action_id",
        Action,
        "Log entries cannot be moved: restore a backup from before {target} was removed "
        "(kt backup list, kt restore NAME).",
    ),
    Reference(
        Evidence,
        "action_id",
        Action,
        "Remove {ref} (kt evidence remove {ref}) and attach it to an existing action, " + _RESTORE_HINT + ".",
    ),
    Reference(
        Recommendation,
        "focus_id",
        FocusArea,
        "Give {ref} an existing focus area (kt rec edit {ref} --focus KEY), " + _RESTORE_HINT + ".",
    ),
    Reference(
        Recommendation,
        "inspection_id",
        Inspection,
        "Point {ref} at an existing inspection (kt rec edit {ref} --inspection I1), " + _RESTORE_HINT + ".",
    ),
    Reference(Kpi, "focus_id", FocusArea, "Correct {ref} with kt kpi, " + _RESTORE_HINT + "."),
    Reference(Kpi, "rec_ids", Recommendation, "Correct {ref} with kt kpi, " + _RESTORE_HINT + ".", many=True),
    Reference(
        KpiValue,
        "kpi_id",
        Kpi,
        "Restore a backup from before {target} was removed (kt backup list, kt restore NAME).",
    ),
    Reference(Visit, "themes", FocusArea, "Change {ref}'s themes (kt visit edit {ref} --theme KEY).", many=True),
    Reference(Partner, "rec_ids", Recommendation, "Correct {ref}, " + _RESTORE_HINT + ".", many=True),
    Reference(Partner, "focus_ids", FocusArea, "Correct {ref}, " + _RESTORE_HINT + ".", many=True),
)


def _targets(ref: Reference, row: dict[str, Any]) -> list[int]:
    value = row.get(ref.field)
    if ref.many:
        return [int(v) for v in value if isinstance(v, int)] if isinstance(value, list) else []
    return [int(value)] if isinstance(value, int) and not isinstance(value, bool) else []


_NOUNS = {FocusArea: "focus area", Kpi: "KPI", Recommendation: "recommendation", Action: "action"}


def _dangling(ref: Reference, source_id: int, target_id: int) -> Problem:
    source = ref_of(ref.source.TABLE, source_id)
    target = ref_of(ref.target.TABLE, target_id)
    noun = _NOUNS.get(ref.target, ref.target.__name__.lower())
    return Problem(
        "problem",
        f"{source} refers to {noun} {target}, which does not exist.",
        ref.fix.format(ref=source, target=target),
    )


def reference_problems(store: Store, only: set[tuple[str, int]] | None = None) -> list[Problem]:
    """Records that refer to records which do not exist. With ``only``, just the
    references to and from those records."""
    problems: list[Problem] = []
    ids: dict[str, set[int]] = {}

    def exists(table: str, record_id: int) -> bool:
        if only is not None:
            return store.row(table, record_id) is not None
        if table not in ids:
            ids[table] = {i for i, _ in store.rows(table)}
        return record_id in ids[table]

    for ref in REFERENCES:
        if only is not None:
            relevant_sources = {i for t, i in only if t == ref.source.TABLE}
            relevant_targets = {i for t, i in only if t == ref.target.TABLE}
            if not relevant_sources and not relevant_targets:
                continue
            if relevant_targets:
                rows: Iterable[tuple[int, dict[str, Any]]] = store.rows(ref.source.TABLE)
            else:
                rows = [(i, r) for i in relevant_sources if (r := store.row(ref.source.TABLE, i)) is not None]
        else:
            rows = store.rows(ref.source.TABLE)
        for source_id, row in rows:
            for target_id in _targets(ref, row):
                if (
                    only is not None
                    and (ref.source.TABLE, source_id) not in only
                    and (
                        ref.target.TABLE,
                        target_id,
                    )
                    not in only
                ):
                    continue
                if not exists(ref.target.TABLE, target_id):
                    problems.append(_dangling(ref, source_id, target_id))
    return problems


# ---------------------------------------------------------------------------
# Undo


@dataclass(frozen=True)
class UndoResult:
    target: HistoryEntry
    changes: list[RecordChange]  # what the undo itself changed
    later_by_others: int  # later commands by other people, left as they were


def undo(s: Session, txn: int | None = None) -> UndoResult:
    """Reverse your last command (or the command ``txn``), as a new recorded command.

    Walks back from the newest entry: undo entries and the commands they undid
    are passed over, so repeated undos go further back; an undo is never
    undone, and nothing from before a restore or a schema upgrade is.
    """
    store = s.store
    undone: set[int] = set()
    later_by_others = 0
    target: tuple[int, dict[str, Any]] | None = None
    for entry_txn, row in store.rows_newest_first(HISTORY):
        if txn is not None and entry_txn < txn:
            break
        if isinstance(row.get("undo"), int):
            undone.add(int(row["undo"]))
            if entry_txn == txn:
                raise ConflictError(f"txn {txn} is itself an undo, and an undo is never undone.")
            continue
        if "restore" in row or "migrate" in row:
            raise ConflictError(_barrier_message(entry_txn, row, txn))
        if entry_txn in undone:
            if entry_txn == txn:
                raise ConflictError(f"txn {txn} has already been undone.")
            continue
        if txn is not None:
            if entry_txn == txn:
                target = (entry_txn, row)
                break
            continue
        if row.get("by") != s.user:
            later_by_others += 1
            continue
        target = (entry_txn, row)
        break
    if target is None:
        if txn is not None:
            raise NotFoundError(f"No txn {txn} in the history (see kt history).")
        raise NotFoundError(f"Nothing to undo: {s.user} has no command left to undo in the history.")
    entry_txn, row = target
    changes = row.get("changes", [])
    if not changes:
        raise ConflictError(f"txn {entry_txn} ({row.get('what')}) changed nothing, so there is nothing to undo.")
    s.audit_extra["undo"] = entry_txn
    start = len(store._pending or [])
    touched: set[tuple[str, int]] = set()
    for change in reversed(changes):
        try:
            store.apply_raw(change, reverse=True)
        except ChangeConflict as exc:
            raise ConflictError(_conflict_message(store, entry_txn, row, exc)) from None
        if change[1] != META:
            touched.add((str(change[1]), int(change[2])))
    broken = reference_problems(store, touched)
    if broken:
        raise ConflictError(
            f"Cannot undo txn {entry_txn} ({row.get('what')}): records would be left pointing at nothing "
            f"({broken[0].message.rstrip('.')}). Change that first, or restore a backup (kt backup list)."
        )
    consistency.check_undo(s, touched, f"Cannot undo txn {entry_txn} ({row.get('what')})")
    own = (store._pending or [])[start:]
    entry = _entry(entry_txn, row, _expand_all(store, changes, {}))
    return UndoResult(entry, _expand_all(store, own, {}), later_by_others)


def _barrier_message(barrier_txn: int, row: dict[str, Any], txn: int | None) -> str:
    kind = "restored from a backup" if "restore" in row else "upgraded to a new schema version"
    when = dates.format_timestamp(str(row.get("at")))
    if txn == barrier_txn:
        return (
            f"txn {txn} is a {'restore' if 'restore' in row else 'schema upgrade'}, which undo does not reverse; "
            "restore another backup instead (kt backup list)."
        )
    if txn is not None:
        return f"txn {txn} is from before the store was {kind} (txn {barrier_txn}, {when}); undo stops there."
    return f"Nothing to undo: the store was {kind} at txn {barrier_txn} ({when}), and undo stops there."


def _conflict_message(store: Store, target_txn: int, row: dict[str, Any], exc: ChangeConflict) -> str:
    head = f"Cannot undo txn {target_txn} ({row.get('what')}): "
    ref = ref_of(exc.table, exc.record_id)
    for later_txn, later in store.rows(HISTORY, since_id=target_txn):
        if isinstance(later.get("undo"), int):
            continue
        for op, table, record_id, payload in later.get("changes", []):
            if (table, int(record_id)) != (exc.table, exc.record_id):
                continue
            if exc.field is not None and op == "update" and exc.field not in payload:
                continue
            what = "changed" if op == "update" else ("removed" if op == "delete" else "re-created")
            subject = f"{ref}'s {exc.field}" if exc.field and op == "update" else ref
            when = dates.format_timestamp(str(later.get("at")))
            return (
                f"{head}{subject} was {what} later by txn {later_txn} ({later.get('what')}, "
                f"{later.get('by')}, {when}). Undo that first (kt undo --txn {later_txn}), or change {ref} by hand."
            )
    return head + exc.message.removeprefix("Cannot undo: ")


# ---------------------------------------------------------------------------
# Backups and restore


@dataclass(frozen=True)
class BackupInfo:
    backup: Backup
    size: int
    problem: str | None  # why it cannot be restored; None when good
    last_command: str = ""  # the command that saved this version
    last_by: str = ""


@dataclass(frozen=True)
class BackupList:
    folder: Path
    keep: int
    backups: list[BackupInfo]
    damaged: list[BackupInfo]


def _describe_backup(backup: Backup) -> BackupInfo:
    try:
        raw = backup.path.read_bytes()
    except OSError as exc:
        return BackupInfo(backup, 0, f"cannot be read ({exc.strerror or exc})")
    if backup.damaged:
        return BackupInfo(backup, len(raw), "a damaged store kept aside by kt restore")
    problem = backup_problem(backup)
    if problem is not None:
        return BackupInfo(backup, len(raw), problem)
    data = decode(raw)
    last = data.get(HISTORY, {}).get(str(backup.txn))
    if backup.txn == 0 or not isinstance(last, dict):
        # A new store has no history entry; an older one's may be sealed in a segment.
        return BackupInfo(backup, len(raw), None, "kt init" if backup.txn == 0 else "")
    what = f"undo of txn {last['undo']}" if isinstance(last.get("undo"), int) else str(last.get("what", ""))
    return BackupInfo(backup, len(raw), None, what, str(last.get("by", "")))


def backups(path: Path) -> BackupList:
    """Every backup of the store, newest first, with what each holds (works on a damaged store)."""
    paths = StorePaths(path)
    data, _ = probe(path)
    keep = DEFAULT_BACKUPS
    if data is not None:
        keep = int(data[META]["1"].get("settings", {}).get("backups", DEFAULT_BACKUPS))
    return BackupList(
        paths.backups,
        keep,
        [_describe_backup(b) for b in storage_backups(paths)],
        [_describe_backup(b) for b in list_damaged(paths)],
    )


def find_backup(path: Path, name: str) -> Backup:
    """A backup by file name (as kt backup list shows it) or by the txn it holds (``t11`` or ``11``)."""
    paths = StorePaths(path)
    wanted = Path(name.strip()).name
    found = storage_backups(paths)
    for backup in found:
        if backup.name == wanted:
            return backup
    for kept in list_damaged(paths):
        if kept.name == wanted:
            raise ValidationError(
                f"{kept.name} is a damaged store that kt restore kept aside; it cannot be restored. "
                "Choose a backup from kt backup list."
            )
    number = wanted.lower().removeprefix("t")
    if number.isdigit():
        for backup in found:
            if backup.txn == int(number):
                return backup
    raise NotFoundError(f"No backup {name!r} in {paths.backups}: see kt backup list.")


def restore(path: Path, name: str | None, *, by: str, lock_timeout: float) -> Restored:
    """Bring back a backup (default: the newest good one); what it replaces is kept."""
    chosen = find_backup(path, name) if name else None
    return Store.restore(path, chosen, by=by, lock_timeout=lock_timeout)


# ---------------------------------------------------------------------------
# Doctor


@dataclass(frozen=True)
class DoctorReport:
    path: Path
    problems: list[Problem]
    error: TrackerError | None = None  # the store cannot be read at all
    schema_version: int | None = None
    txn: int | None = None
    records: int = 0
    backups: int = 0
    newest_good: Backup | None = None

    @property
    def healthy(self) -> bool:
        return self.error is None and not any(p.severity == "problem" for p in self.problems)

    @property
    def fixable(self) -> bool:
        return self.error is None and any(p.fixable for p in self.problems)

    @property
    def exit_code(self) -> int:
        if self.error is not None:
            return self.error.exit_code
        return 0 if self.healthy else 1


def diagnose(path: Path) -> DoctorReport:
    """Check a store without changing it: the file, schema, files it refers to,
    id counters, references between records, the log summary on each action,
    and permissions. Works when plan.json is damaged (it says how to restore)."""
    paths = StorePaths(path)
    backups_found = storage_backups(paths)
    newest = newest_good_backup(paths)
    data, error = probe(path)
    if data is None:
        assert error is not None
        return DoctorReport(path, [], error, backups=len(backups_found), newest_good=newest)
    problems: list[Problem] = []
    version = int(data[META]["1"]["schema_version"])
    if version < SCHEMA_VERSION:
        problems.append(
            Problem(
                "warning",
                f"The store uses schema version {version}; this knowsley-tracker uses {SCHEMA_VERSION}.",
                "It is upgraded (after a backup) by the next command that saves; or run kt doctor --fix.",
                fixable=True,
            )
        )
    try:
        migrate(data, path)
    except TrackerError as exc:
        return DoctorReport(path, problems, exc, version, backups=len(backups_found), newest_good=newest)
    store = Store(paths, data, writable=False)
    problems += check_files(store)
    problems += _check_rows(store)
    problems += reference_problems_safe(store)
    problems += _check_last_logged(store)
    problems += consistency.status_problems(store)
    if not newest and store.txn > 0:
        problems.append(
            Problem(
                "warning",
                f"There is no good backup in {paths.backups}.",
                "The next command that saves makes one; keep copies of the store elsewhere too.",
            )
        )
    records = 0
    for table in store.tables():
        if table != HISTORY:
            records += store.count(table)
    return DoctorReport(path, problems, None, version, store.txn, records, len(backups_found), newest)


def reference_problems_safe(store: Store) -> list[Problem]:
    try:
        return reference_problems(store)
    except TrackerError:
        return []  # a missing segment is reported by the file checks


def _check_rows(store: Store) -> list[Problem]:
    problems: list[Problem] = []
    for table in store.tables():
        cls = TABLES.get(table)
        if cls is None:
            continue
        try:
            rows = list(store.rows(table))
        except TrackerError:
            continue
        for record_id, row in rows:
            try:
                cls.from_untrusted(record_id, row)
            except Exception as exc:  # any field a record cannot be built from
                problems.append(
                    Problem(
                        "problem",
                        f"{ref_of(table, record_id)} cannot be read ({type(exc).__name__}: {exc}).",
                        "Restore a backup from before it was damaged (kt backup list, kt restore NAME).",
                    )
                )
    return problems


def _latest_log(store: Store) -> dict[int, tuple[int, str, str]]:
    """For each action: (latest entry id, its time, the latest non-empty note)."""
    latest: dict[int, tuple[int, str, str]] = {}
    for entry_id, row in store.rows(LogEntry.TABLE):
        action_id = row.get("action_id")
        if not isinstance(action_id, int):
            continue
        _, _, note = latest.get(action_id, (0, "", ""))
        latest[action_id] = (entry_id, str(row.get("at", "")), str(row.get("note") or note))
    return latest


def _check_last_logged(store: Store) -> list[Problem]:
    problems: list[Problem] = []
    try:
        latest = _latest_log(store)
    except TrackerError:
        return problems
    for action_id, row in store.rows(Action.TABLE):
        entry_id, at, note = latest.get(action_id, (0, "", ""))
        logged = str(row.get("last_logged_at") or "")
        ref = ref_of(Action.TABLE, action_id)
        if logged != at:
            said = dates.format_timestamp(logged) if logged else "never"
            actual = f"{ref_of(LogEntry.TABLE, entry_id)} ({dates.format_timestamp(at)})" if entry_id else "none"
            problems.append(
                Problem(
                    "problem",
                    f"{ref} says it was last logged {said}, but its latest log entry is {actual}.",
                    f"Run kt doctor --fix to copy the latest entry's time and note onto {ref}.",
                    fixable=True,
                )
            )
        elif note and str(row.get("last_note") or "") != note:
            problems.append(
                Problem(
                    "problem",
                    f"{ref}'s latest note does not match its log.",
                    f"Run kt doctor --fix to copy the latest note onto {ref}.",
                    fixable=True,
                )
            )
    return problems


def repair(s: Session) -> list[str]:
    """Fix what kt doctor can fix safely (inside the caller's writing session):
    id counters, the log summary on actions, temporary files, group permissions.
    A schema upgrade has already happened when the store was opened for writing."""
    store = s.store
    done: list[str] = []
    for path in store.remove_stale_temp_files():
        done.append(f"Deleted the temporary file {path}.")
    for path in fix_permissions(store.paths):
        done.append(f"Shared {path} with the store's group.")
    highest_txn = max((i for i, _ in store.rows(HISTORY)), default=0)
    if store.txn < highest_txn:
        store.meta["txn"] = highest_txn
        done.append(f"Moved the txn counter up to {highest_txn}.")
    for table in store.tables():
        if table in (HISTORY,):
            continue
        highest = max((i for i, _ in store.rows(table)), default=0)
        if store.raise_counter(table, highest):
            done.append(f"Moved the id counter for {table} up to {highest}.")
    latest = _latest_log(store)
    for action in store.all(Action):
        _, at, note = latest.get(action.id, (0, "", ""))
        changed = False
        if action.last_logged_at != at:
            action.last_logged_at = at
            changed = True
        if note and action.last_note != note:
            action.last_note = note
            changed = True
        if changed:
            store.save(action)
            done.append(f"Copied the latest log entry's time and note onto {action.ref}.")
    done += consistency.repair_status(s)
    return done


# -- personal data ----------------------------------------------------------------------

# Fields that hold ids, dates, enum values or timestamps, never free text.
_NOT_FREE_TEXT = {"at", "added_at", "created_at", "recorded_at", "completed_on", "due", "original_due", "date",
                  "start", "end", "published", "issued", "lifted", "period", "period_end", "status", "type",
                  "kind", "framework", "judgement", "rag_override", "snapshot_file", "snapshot_method",
                  "frozen_at", "last_logged_at", "target_date"}  # fmt: skip


@dataclass(frozen=True)
class PersonalDataHit:
    """Where something that looks like personal data is (never what it is)."""

    where: str  # a record ref (A12) or a history entry (t15)
    field: str  # the field, e.g. title, people[0].name, or A12.title inside a history entry
    kinds: list[str]


def _free_text(value: Any, path: str) -> Iterable[tuple[str, str]]:
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, list):
        for n, item in enumerate(value):
            yield from _free_text(item, f"{path}[{n}]")
    elif isinstance(value, dict):
        for key, item in value.items():
            if key not in _NOT_FREE_TEXT:
                yield from _free_text(item, f"{path}.{key}" if path else str(key))


def scan_personal_data(s: Session) -> list[PersonalDataHit]:
    """Every free-text field in the plan, and in its audit history, that the
    personal-data guard would refuse today. Earlier versions in the history
    matter: editing a record leaves its old text there, and in backups."""
    from knowsley_tracker.guard import find_personal_data

    hits: list[PersonalDataHit] = []
    for table, cls in TABLES.items():
        for record_id, row in s.store.rows(table):
            for path, text in _free_text({k: v for k, v in row.items() if k != "changes"}, ""):
                kinds = find_personal_data(text)
                if kinds:
                    hits.append(PersonalDataHit(f"{cls.PREFIX}{record_id}", path, kinds))
    for txn, row in s.store.rows(HISTORY):
        for op, table, record_id, payload in row.get("changes", []):
            prefix = TABLES[table].PREFIX if table in TABLES else table
            if op == "update":
                values: Any = {name: change[0] for name, change in (payload or {}).items()}
            else:
                values = payload or {}
            for path, text in _free_text(values, f"{prefix}{record_id}"):
                kinds = find_personal_data(text)
                if kinds:
                    hits.append(PersonalDataHit(f"t{txn}", path, kinds))
    return hits
