"""The JSON file store (TinyDB), split by concern; the public names are re-exported here."""

from knowsley_tracker.storage.file_store import (
    DEFAULT_BACKUPS as DEFAULT_BACKUPS,
)
from knowsley_tracker.storage.file_store import (
    DEFAULT_LOCK_TIMEOUT as DEFAULT_LOCK_TIMEOUT,
)
from knowsley_tracker.storage.file_store import (
    FORMAT as FORMAT,
)
from knowsley_tracker.storage.file_store import (
    HISTORY as HISTORY,
)
from knowsley_tracker.storage.file_store import (
    META as META,
)
from knowsley_tracker.storage.file_store import (
    MIGRATIONS as MIGRATIONS,
)
from knowsley_tracker.storage.file_store import (
    SCHEMA_VERSION as SCHEMA_VERSION,
)
from knowsley_tracker.storage.file_store import (
    SEGMENT_ROWS as SEGMENT_ROWS,
)
from knowsley_tracker.storage.file_store import (
    SEGMENTED as SEGMENTED,
)
from knowsley_tracker.storage.file_store import (
    SUBFOLDERS as SUBFOLDERS,
)
from knowsley_tracker.storage.file_store import (
    Backup as Backup,
)
from knowsley_tracker.storage.file_store import (
    ChangeConflict as ChangeConflict,
)
from knowsley_tracker.storage.file_store import (
    Problem as Problem,
)
from knowsley_tracker.storage.file_store import (
    Restored as Restored,
)
from knowsley_tracker.storage.file_store import (
    Store as Store,
)
from knowsley_tracker.storage.file_store import (
    StoreFolders as StoreFolders,
)
from knowsley_tracker.storage.file_store import (
    StorePaths as StorePaths,
)
from knowsley_tracker.storage.file_store import (
    Undone as Undone,
)
from knowsley_tracker.storage.file_store import (
    _group_name as _group_name,
)
from knowsley_tracker.storage.file_store import (
    _prune_backups as _prune_backups,
)
from knowsley_tracker.storage.file_store import (
    _write_highwater as _write_highwater,
)
from knowsley_tracker.storage.file_store import (
    backup_problem as backup_problem,
)
from knowsley_tracker.storage.file_store import (
    check_files as check_files,
)
from knowsley_tracker.storage.file_store import (
    check_permissions as check_permissions,
)
from knowsley_tracker.storage.file_store import (
    check_store_entry as check_store_entry,
)
from knowsley_tracker.storage.file_store import (
    decode as decode,
)
from knowsley_tracker.storage.file_store import (
    encode as encode,
)
from knowsley_tracker.storage.file_store import (
    fix_permissions as fix_permissions,
)
from knowsley_tracker.storage.file_store import (
    group_name as group_name,
)
from knowsley_tracker.storage.file_store import (
    is_temp_name as is_temp_name,
)
from knowsley_tracker.storage.file_store import (
    list_backups as list_backups,
)
from knowsley_tracker.storage.file_store import (
    list_damaged as list_damaged,
)
from knowsley_tracker.storage.file_store import (
    migrate as migrate,
)
from knowsley_tracker.storage.file_store import (
    newest_good_backup as newest_good_backup,
)
from knowsley_tracker.storage.file_store import (
    probe as probe,
)
from knowsley_tracker.storage.file_store import (
    read_backup as read_backup,
)
from knowsley_tracker.storage.file_store import (
    read_highwater as read_highwater,
)
from knowsley_tracker.storage.file_store import (
    read_store_bytes as read_store_bytes,
)
from knowsley_tracker.storage.file_store import (
    read_store_file as read_store_file,
)
from knowsley_tracker.storage.file_store import (
    ref_of as ref_of,
)
from knowsley_tracker.storage.file_store import (
    remove_store as remove_store,
)
from knowsley_tracker.storage.file_store import (
    salvage_numbers as salvage_numbers,
)
from knowsley_tracker.storage.file_store import (
    stale_temp_files as stale_temp_files,
)
from knowsley_tracker.storage.file_store import (
    store_file_stat as store_file_stat,
)
from knowsley_tracker.storage.file_store import (
    validate_store_bytes as validate_store_bytes,
)
