"""Safety use-cases: the audit history, undo, backups and restore, and the store doctor.

The history is the ``history`` table: one row per committed command (id =
txn) listing its changes as ``[op, table, id, payload]``. Undo replays one
command's changes backwards as a new, recorded command. Restore and doctor work
on the store's files through :mod:`knowsley_tracker.storage` without opening a
possibly damaged ``plan.json`` as a store. No rendering here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import datetime, time
from pathlib import Path
from typing import Any

from knowsley_tracker import dates
from knowsley_tracker.config import read_setting_or_default, setting_problems, show_value
from knowsley_tracker.errors import ConflictError, NotFoundError, TrackerError, UnsafeStoreError, ValidationError
from knowsley_tracker.filenames import name_problem, shown
from knowsley_tracker.models import (
    PREFIXES,
    RECORD_TYPES,
    TABLES,
    Action,
    LogEntry,
)
from knowsley_tracker.service import consistency
from knowsley_tracker.service.removal import Dangling, dangling
from knowsley_tracker.service.session import Session
from knowsley_tracker.storage import (
    DEFAULT_BACKUPS,
    SCHEMA_VERSION,
    Backup,
    Problem,
    Restored,
    Store,
    StorePaths,
    Undone,
    backup_problem,
    check_files,
    decode,
    fix_permissions,
    list_damaged,
    migrate,
    newest_good_backup,
    probe,
    read_backup,
)
from knowsley_tracker.storage import list_backups as storage_backups
from knowsley_tracker.store_interface import HISTORY, META, Change, ChangeConflict, PlanStore, Txn
from knowsley_tracker.store_rows import noun, ref_of
from knowsley_tracker.store_safety import check_shared_folder

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


def _field_order(table: str, row: Mapping[str, Any]) -> list[str]:
    cls = TABLES.get(table)
    order = [f.name for f in fields(cls) if f.name != "id"] if cls is not None else []
    return [name for name in order if name in row] + sorted(name for name in row if name not in order)


def _is_blank(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def _expand(change: Change, log_rows: dict[int, Mapping[str, Any]], store: PlanStore) -> RecordChange:
    if change.op == "update":
        changed = [FieldChange(str(name), old, new) for name, (old, new) in dict(change.diff or {}).items()]
        return RecordChange(change.op, change.table, change.record_id, changed)
    row: Mapping[str, Any] | None = change.row
    if row is None and change.table == LogEntry.TABLE:
        row = log_rows.get(change.record_id)
        if row is None:
            entry = store.find(LogEntry, change.record_id)
            row = None if entry is None else entry.to_record()
    shown: list[FieldChange] = []
    if row is not None:
        for name in _field_order(change.table, row):
            value = row[name]
            if change.op == "create" and _is_blank(value):
                continue
            shown.append(FieldChange(name, None, value) if change.op == "create" else FieldChange(name, value, None))
    return RecordChange(change.op, change.table, change.record_id, shown, None if row is None else dict(row))


def _entry(txn: Txn, changes: list[RecordChange]) -> HistoryEntry:
    return HistoryEntry(txn.txn, txn.at, txn.by, txn.what, changes, dict(txn.extra))


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
        found = store.history_entry(wanted[1])
        if found is None:
            raise NotFoundError(f"No txn {wanted[1]} in the history.")
        return [_entry(found, _expand_all(store, found.changes, {}))]
    # Commands from the start of ``since`` in local time.
    start = datetime.combine(since_day, time(0)).astimezone() if since_day is not None else None
    picked: list[Txn] = []
    # Log entries removed by a later undo or restore are kept in that later change.
    removed_logs: dict[int, Mapping[str, Any]] = {}
    for entry in store.history(newest_first=True, since=start, touching=wanted):
        for change in entry.changes:
            if change.op == "delete" and change.table == LogEntry.TABLE and change.row is not None:
                removed_logs[change.record_id] = change.row
        picked.append(entry)
        if limit is not None and len(picked) >= limit:
            break
    if wanted is not None and not picked and not _exists(store, *wanted):
        raise NotFoundError(f"No changes to {ref_of(*wanted)} are recorded, and there is no such record.")
    out = []
    for entry in reversed(picked):
        changes: Sequence[Change] = entry.changes
        if wanted is not None:
            changes = [c for c in changes if c.key == wanted]
        out.append(_entry(entry, _expand_all(store, changes, removed_logs)))
    return out


def _exists(store: PlanStore, table: str, record_id: int) -> bool:
    cls = TABLES.get(table)
    return cls is not None and store.exists(cls, record_id)


def _expand_all(
    store: PlanStore, changes: Sequence[Change], removed_logs: dict[int, Mapping[str, Any]]
) -> list[RecordChange]:
    return [_expand(change, removed_logs, store) for change in changes]


# ---------------------------------------------------------------------------
# References between records: declared in knowsley_tracker.relations


def _dangling_problem(found: Dangling) -> Problem:
    return Problem(
        "problem",
        f"{found.source_ref} refers to {noun(found.relation.target)} {found.target_ref}, which does not exist.",
        found.fix,
    )


def reference_problems(store: PlanStore, only: set[tuple[str, int]] | None = None) -> list[Problem]:
    """Records that refer to records which do not exist. With ``only``, just the
    references to and from those records."""
    return [_dangling_problem(found) for found in dangling(store, only)]


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
    target: Txn | None = None
    for entry in store.history(newest_first=True):
        if txn is not None and entry.txn < txn:
            break
        if entry.undo_of is not None:
            undone.add(entry.undo_of)
            if entry.txn == txn:
                raise ConflictError(f"txn {txn} is itself an undo, and an undo is never undone.")
            continue
        if entry.barrier is not None:
            raise ConflictError(_barrier_message(entry, txn))
        if entry.txn in undone:
            if entry.txn == txn:
                raise ConflictError(f"txn {txn} has already been undone.")
            continue
        if txn is not None:
            if entry.txn == txn:
                target = entry
                break
            continue
        if entry.by != s.user:
            later_by_others += 1
            continue
        target = entry
        break
    if target is None:
        if txn is not None:
            raise NotFoundError(f"No txn {txn} in the history (see kt history).")
        raise NotFoundError(f"Nothing to undo: {s.user} has no command left to undo in the history.")
    if not target.changes:
        raise ConflictError(f"txn {target.txn} ({target.what}) changed nothing, so there is nothing to undo.")
    s.audit_extra["undo"] = target.txn
    start = len(store.pending_changes())
    touched: set[tuple[str, int]] = set()
    for change in reversed(target.changes):
        try:
            store.revert(change)
        except ChangeConflict as exc:
            raise ConflictError(_conflict_message(store, target, exc)) from None
        if change.table != META:
            touched.add(change.key)
    broken = reference_problems(store, touched)
    if broken:
        raise ConflictError(
            f"Cannot undo txn {target.txn} ({target.what}): records would be left pointing at nothing "
            f"({broken[0].message.rstrip('.')}). Change that first, or restore a backup (kt backup list)."
        )
    consistency.check_undo(s, touched, f"Cannot undo txn {target.txn} ({target.what})")
    own = store.pending_changes()[start:]
    return UndoResult(
        _entry(target, _expand_all(store, target.changes, {})), _expand_all(store, own, {}), later_by_others
    )


def _barrier_message(barrier: Txn, txn: int | None) -> str:
    kind = "restored from a backup" if barrier.barrier == "restore" else "upgraded to a new schema version"
    when = dates.format_timestamp(barrier.at)
    if txn == barrier.txn:
        return (
            f"txn {txn} is a {'restore' if barrier.barrier == 'restore' else 'schema upgrade'}, which undo does not "
            "reverse; restore another backup instead (kt backup list)."
        )
    if txn is not None:
        return f"txn {txn} is from before the store was {kind} (txn {barrier.txn}, {when}); undo stops there."
    return f"Nothing to undo: the store was {kind} at txn {barrier.txn} ({when}), and undo stops there."


def _conflict_message(store: PlanStore, target: Txn, exc: ChangeConflict) -> str:
    head = f"Cannot undo txn {target.txn} ({target.what}): "
    ref = ref_of(exc.table, exc.record_id)
    for later in store.history(since_txn=target.txn, touching=(exc.table, exc.record_id)):
        if later.undo_of is not None:
            continue
        for change in later.changes:
            if change.key != (exc.table, exc.record_id):
                continue
            if exc.field is not None and change.op == "update" and exc.field not in (change.diff or {}):
                continue
            what = "changed" if change.op == "update" else ("removed" if change.op == "delete" else "re-created")
            subject = f"{ref}'s {exc.field}" if exc.field and change.op == "update" else ref
            when = dates.format_timestamp(later.at)
            return (
                f"{head}{subject} was {what} later by txn {later.txn} ({later.what}, "
                f"{later.by}, {when}). Undo that first (kt undo --txn {later.txn}), or change {ref} by hand."
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
        raw = read_backup(backup)
    except UnsafeStoreError:
        return BackupInfo(backup, 0, backup_problem(backup))
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
        keep = read_setting_or_default(data[META]["1"].get("settings", {}), "backups")
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


def restore(path: Path, name: str | None, *, by: str, lock_timeout: float, yes: bool = False) -> Restored:
    """Bring back a backup (default: the newest good one); what it replaces is kept.

    Commands saved after the backup are undone (their history stays). When any of them
    was made by someone other than ``by``, the restore is refused unless ``yes``: the
    count is taken under the lock, so it is the count of what the restore would undo."""
    chosen = find_backup(path, name) if name else None

    def confirm(backup: Backup, undone: list[Undone]) -> None:
        others = [u for u in undone if u.by != by]
        if others and not yes:
            raise ConflictError(
                f"Restoring {backup.name} would undo {undone_summary(undone, by)}. Nothing was restored; "
                f"to undo them anyway: kt restore {backup.name} --yes"
            )

    return Store.restore(path, chosen, by=by, lock_timeout=lock_timeout, confirm=confirm)


def undone_summary(undone: list[Undone] | tuple[Undone, ...], by: str) -> str:
    """``3 commands saved since it: 2 by Alice Example (txn 14 log A1, ...), 1 by you``."""
    n = len(undone)
    people: dict[str, list[Undone]] = {}
    for item in undone:
        people.setdefault(item.by, []).append(item)
    parts = []
    for who, items in sorted(people.items(), key=lambda kv: (kv[0] == by, -len(kv[1]), kv[0])):
        name = f"you ({who})" if who == by else who
        shown = ", ".join(f"txn {u.txn} {u.what}" for u in items[:3]) + (", ..." if len(items) > 3 else "")
        parts.append(f"{len(items)} by {name} ({shown})")
    return f"{n} command{'s' if n != 1 else ''} saved since it: {'; '.join(parts)}"


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
    try:
        backups_found = storage_backups(paths)
        newest = newest_good_backup(paths)
    except TrackerError:  # the backups folder is a link: reported with the other links
        backups_found, newest = [], None
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
    problems += check_shared_folder(paths)
    problems += _check_stored_names(store)
    problems += _check_settings(store)
    damaged = _check_rows(store)
    problems += damaged
    if not damaged:  # records that cannot be read are reported once, above
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


def reference_problems_safe(store: PlanStore) -> list[Problem]:
    try:
        return reference_problems(store)
    except TrackerError:
        return []  # a missing segment is reported by the file checks


def _check_stored_names(store: Store) -> list[Problem]:
    """Board rows naming a snapshot file kt would not have written (segment names are
    checked with the segments): kt refuses to open them, so say which record and field."""
    problems: list[Problem] = []
    try:
        boards = list(store.rows("boards"))
    except TrackerError:
        return problems
    for board_id, row in boards:
        name = row.get("snapshot_file")
        problem = name_problem("snapshot", name) if name else None
        if problem is not None:
            problems.append(
                Problem(
                    "problem",
                    f"{ref_of('boards', board_id)}'s snapshot_file {shown(name)} {problem}; kt will not open it.",
                    "Restore a backup from before it was changed (kt backup list, kt restore NAME).",
                )
            )
    return problems


def _check_settings(store: Store) -> list[Problem]:
    """Settings edited into the store by hand that kt cannot use, and names it does not know."""
    problems: list[Problem] = []
    for bad in setting_problems(store.meta.get("settings", {})):
        if bad.setting is not None:
            problems.append(
                Problem(
                    "problem",
                    f"The setting {bad.name} is {show_value(bad.value)}, which kt cannot use: it takes "
                    f"{bad.setting.kind.accepted}.",
                    f"Run kt config set {bad.name} VALUE, or kt config unset {bad.name} for the default "
                    f"({bad.setting.kind.show(bad.setting.default)}).",
                )
            )
        else:
            problems.append(
                Problem(
                    "warning",
                    f"The store holds a setting {show_value(bad.name)}, which is {bad.message}.",
                    f"Remove it with kt config unset {bad.name} (kt config list shows the settings in use).",
                )
            )
    return problems


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


def _latest_log(store: PlanStore) -> dict[int, tuple[int, str, str]]:
    """For each action: (latest entry id, its time, the latest non-empty note)."""
    latest: dict[int, tuple[int, str, str]] = {}
    for entry in store.all(LogEntry):
        _, _, note = latest.get(entry.action_id, (0, "", ""))
        latest[entry.action_id] = (entry.id, entry.at or "", entry.note or note)
    return latest


def _check_last_logged(store: PlanStore) -> list[Problem]:
    problems: list[Problem] = []
    try:
        latest = _latest_log(store)
    except TrackerError:
        return problems
    for action in store.all(Action):
        entry_id, at, note = latest.get(action.id, (0, "", ""))
        logged = action.last_logged_at or ""
        ref = action.ref
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
        elif note and (action.last_note or "") != note:
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
    done = _repair_files(store) if isinstance(store, Store) else []
    for cls in sorted(RECORD_TYPES, key=lambda c: c.TABLE):
        highest = store.highest_id(cls)
        if store.raise_counter(cls.TABLE, highest):
            done.append(f"Moved the id counter for {cls.TABLE} up to {highest}.")
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


def _repair_files(store: Store) -> list[str]:
    """The file store's own repairs: temporary files, group permissions, its txn counter."""
    done: list[str] = []
    for path in store.remove_stale_temp_files():
        done.append(f"Deleted the temporary file {path}.")
    for path in fix_permissions(store.paths):
        done.append(f"Shared {path} with the store's group.")
    raised = store.raise_txn_counter()
    if raised is not None:
        done.append(f"Moved the txn counter up to {raised}.")
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
    for cls in RECORD_TYPES:
        for record in s.store.all(cls):
            row = record.to_record()
            for path, text in _free_text({k: v for k, v in row.items() if k != "changes"}, ""):
                kinds = find_personal_data(text)
                if kinds:
                    hits.append(PersonalDataHit(record.ref, path, kinds))
    for entry in s.store.history():
        for change in entry.changes:
            prefix = TABLES[change.table].PREFIX if change.table in TABLES else change.table
            if change.op == "update":
                values: Any = {name: old_new[0] for name, old_new in (change.diff or {}).items()}
            else:
                values = change.row or {}
            for path, text in _free_text(values, f"{prefix}{change.record_id}"):
                kinds = find_personal_data(text)
                if kinds:
                    hits.append(PersonalDataHit(f"t{entry.txn}", path, kinds))
    return hits
