"""kt doctor: checks of the store's files, its settings, its rows and the references between
records, and the repairs ``--fix`` makes.

References are declared once in :mod:`knowsley_tracker.relations`; doctor reports the ones left
dangling. The files are checked through :mod:`knowsley_tracker.storage` before ``plan.json`` is
opened as a store, so a damaged store is still diagnosed. No rendering here.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from knowsley_tracker import dates
from knowsley_tracker.config import setting_problems, show_value
from knowsley_tracker.errors import CorruptStoreError, TrackerError
from knowsley_tracker.filenames import name_problem, shown
from knowsley_tracker.models import (
    RECORD_TYPES,
    TABLES,
    Action,
    LogEntry,
)
from knowsley_tracker.service import consistency
from knowsley_tracker.service.removal import Dangling, dangling
from knowsley_tracker.service.session import Session
from knowsley_tracker.storage import (
    SCHEMA_VERSION,
    Backup,
    Problem,
    Store,
    StorePaths,
    check_files,
    fix_permissions,
    migrate,
    newest_good_backup,
    probe,
)
from knowsley_tracker.storage import list_backups as storage_backups
from knowsley_tracker.store_interface import HISTORY, META, PlanStore
from knowsley_tracker.store_rows import noun, ref_of, txn_from_row
from knowsley_tracker.store_safety import check_shared_folder


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
                cls.from_record(record_id, row)  # what every command loads: a value of the wrong type or form
                cls.from_untrusted(record_id, row)  # and every rule a record is made under
            except CorruptStoreError as exc:
                message = str(exc).split(": the store was edited", 1)[0]
                problems.append(Problem("problem", f"{message}.", _RESTORE_RECORD))
            except Exception as exc:  # any field a record cannot be built from
                problems.append(
                    Problem(
                        "problem",
                        f"{ref_of(table, record_id)} cannot be read ({type(exc).__name__}: {exc}).",
                        _RESTORE_RECORD,
                    )
                )
    problems += _check_history(store)
    return problems


_RESTORE_RECORD = "Restore a backup from before it was damaged (kt backup list, kt restore NAME)."


def _check_history(store: Store) -> list[Problem]:
    """History entries every command that reads the history would refuse."""
    try:
        rows = list(store.rows(HISTORY))
    except TrackerError:
        return []  # a missing or damaged segment: reported with the segments
    problems: list[Problem] = []
    for txn, row in rows:
        try:
            txn_from_row(txn, row)
        except CorruptStoreError as exc:
            message = str(exc).split(": the store was edited", 1)[0]
            problems.append(Problem("problem", f"{message}.", _RESTORE_RECORD))
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
