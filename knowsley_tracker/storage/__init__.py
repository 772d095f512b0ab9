"""The JSON file store: a TinyDB document ``plan.json`` kept safe for several officers and cron jobs.

This package is the only part of kt that imports tinydb or orjson, and the only one that touches
the store's files (locking.py holds the lock, safe_files.py the link-safe file calls). On disk a
store is ``plan.json`` (the plan and a ``_meta`` table) plus the folder ``plan.json.d/`` beside it::

    plan.json.d/lock            the lock every writing command holds throughout
    plan.json.d/highwater.json  the highest txn and ids ever handed out (a hint for restore)
    plan.json.d/segments/       older rows of the append-only tables (sealed, immutable)
    plan.json.d/snapshots/      board snapshots (immutable)
    plan.json.d/backups/        previous versions of plan.json (hard links), and
                                damaged stores kept aside by kt restore

One module per concern:

    file_store.py     Store: opening, changing records, the transaction and its commit
    store_reading.py  StoreReading, Store's reading half: records, rows, meta, snapshots, history
    committing.py     writing a commit's files: segments, snapshots, then plan.json (the commit point)
    tinydb_tables.py  the TinyDB glue (tables keyed by id, storage held in memory)
    codec.py          the JSON bytes of every store file (orjson, standard library fallback)
    file_format.py    what a store file must hold, its schema version and migrations
    reading.py        reading plan.json and the errors that point to a backup
    paths.py          where each file lives, and the names kt gives its files
    folders.py        the folders opened once, never through a link; the low-level writes
    segments.py       sealing the append-only tables into immutable segment files
    backups.py        keeping, pruning, listing and reading backups
    highwater.py      the highest txn and ids ever handed out
    restoring.py      kt restore: putting a backup back without ever going backwards
    file_checks.py    kt doctor's checks of the files, folders and permissions

Every name other modules use is re-exported here, so ``from knowsley_tracker.storage import Store``
keeps working. Tests that inject faults patch the module that holds the name (``folders._os_write``,
``highwater._write_highwater``, ``backups._prune_backups``, ``segments.SEGMENT_ROWS``,
``file_format.SCHEMA_VERSION`` and ``MIGRATIONS``).
"""

from knowsley_tracker.storage.backups import (
    DEFAULT_BACKUPS as DEFAULT_BACKUPS,
)
from knowsley_tracker.storage.backups import (
    Backup as Backup,
)
from knowsley_tracker.storage.backups import (
    backup_problem as backup_problem,
)
from knowsley_tracker.storage.backups import (
    list_backups as list_backups,
)
from knowsley_tracker.storage.backups import (
    list_damaged as list_damaged,
)
from knowsley_tracker.storage.backups import (
    newest_good_backup as newest_good_backup,
)
from knowsley_tracker.storage.backups import (
    read_backup as read_backup,
)
from knowsley_tracker.storage.backups import (
    remove_store as remove_store,
)
from knowsley_tracker.storage.codec import (
    decode as decode,
)
from knowsley_tracker.storage.codec import (
    encode as encode,
)
from knowsley_tracker.storage.file_checks import (
    Problem as Problem,
)
from knowsley_tracker.storage.file_checks import (
    _group_name as _group_name,
)
from knowsley_tracker.storage.file_checks import (
    check_files as check_files,
)
from knowsley_tracker.storage.file_checks import (
    check_permissions as check_permissions,
)
from knowsley_tracker.storage.file_checks import (
    fix_permissions as fix_permissions,
)
from knowsley_tracker.storage.file_checks import (
    foreign_owner as foreign_owner,
)
from knowsley_tracker.storage.file_checks import (
    group_name as group_name,
)
from knowsley_tracker.storage.file_checks import (
    in_group as in_group,
)
from knowsley_tracker.storage.file_checks import (
    planted_link as planted_link,
)
from knowsley_tracker.storage.file_checks import (
    probe as probe,
)
from knowsley_tracker.storage.file_checks import (
    stale_temp_files as stale_temp_files,
)
from knowsley_tracker.storage.file_checks import (
    store_file_stat as store_file_stat,
)
from knowsley_tracker.storage.file_checks import (
    user_name as user_name,
)
from knowsley_tracker.storage.file_format import (
    FORMAT as FORMAT,
)
from knowsley_tracker.storage.file_format import (
    MIGRATIONS as MIGRATIONS,
)
from knowsley_tracker.storage.file_format import (
    SCHEMA_VERSION as SCHEMA_VERSION,
)
from knowsley_tracker.storage.file_format import (
    migrate as migrate,
)
from knowsley_tracker.storage.file_store import (
    DEFAULT_LOCK_TIMEOUT as DEFAULT_LOCK_TIMEOUT,
)
from knowsley_tracker.storage.file_store import (
    Store as Store,
)
from knowsley_tracker.storage.folders import (
    StoreFolders as StoreFolders,
)
from knowsley_tracker.storage.highwater import (
    read_highwater as read_highwater,
)
from knowsley_tracker.storage.highwater import (
    salvage_numbers as salvage_numbers,
)
from knowsley_tracker.storage.paths import (
    SUBFOLDERS as SUBFOLDERS,
)
from knowsley_tracker.storage.paths import (
    StorePaths as StorePaths,
)
from knowsley_tracker.storage.paths import (
    is_temp_name as is_temp_name,
)
from knowsley_tracker.storage.reading import (
    check_store_entry as check_store_entry,
)
from knowsley_tracker.storage.reading import (
    read_store_bytes as read_store_bytes,
)
from knowsley_tracker.storage.reading import (
    read_store_file as read_store_file,
)
from knowsley_tracker.storage.reading import (
    validate_store_bytes as validate_store_bytes,
)
from knowsley_tracker.storage.restoring import (
    Restored as Restored,
)
from knowsley_tracker.storage.restoring import (
    Undone as Undone,
)
from knowsley_tracker.storage.segments import (
    SEGMENT_ROWS as SEGMENT_ROWS,
)
from knowsley_tracker.storage.segments import (
    SEGMENTED as SEGMENTED,
)
from knowsley_tracker.store_interface import (
    HISTORY as HISTORY,
)
from knowsley_tracker.store_interface import (
    META as META,
)
from knowsley_tracker.store_interface import (
    ChangeConflict as ChangeConflict,
)
from knowsley_tracker.store_rows import (
    ref_of as ref_of,
)
