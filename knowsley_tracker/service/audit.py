"""The safety use-cases' former single module, kept as names only.

History, undo, backups and restore, the doctor and the personal-data scan now live in
service/history.py, undo.py, backups.py, doctor.py and privacy.py. These names stay importable
from here because render/audit_views.py and cli/safety.py (and older tests and branches) import
them from ``knowsley_tracker.service.audit``; new code imports the module that holds the name.
"""

from knowsley_tracker.service.backups import BackupInfo as BackupInfo
from knowsley_tracker.service.backups import BackupList as BackupList
from knowsley_tracker.service.backups import backups as backups
from knowsley_tracker.service.backups import find_backup as find_backup
from knowsley_tracker.service.backups import restore as restore
from knowsley_tracker.service.backups import undone_summary as undone_summary
from knowsley_tracker.service.doctor import DoctorReport as DoctorReport
from knowsley_tracker.service.doctor import diagnose as diagnose
from knowsley_tracker.service.doctor import reference_problems as reference_problems
from knowsley_tracker.service.doctor import reference_problems_safe as reference_problems_safe
from knowsley_tracker.service.doctor import repair as repair
from knowsley_tracker.service.history import DEFAULT_HISTORY_LIMIT as DEFAULT_HISTORY_LIMIT
from knowsley_tracker.service.history import FieldChange as FieldChange
from knowsley_tracker.service.history import HistoryEntry as HistoryEntry
from knowsley_tracker.service.history import RecordChange as RecordChange
from knowsley_tracker.service.history import history as history
from knowsley_tracker.service.history import parse_record_ref as parse_record_ref
from knowsley_tracker.service.privacy import PersonalDataHit as PersonalDataHit
from knowsley_tracker.service.privacy import scan_personal_data as scan_personal_data
from knowsley_tracker.service.undo import UndoResult as UndoResult
from knowsley_tracker.service.undo import undo as undo
