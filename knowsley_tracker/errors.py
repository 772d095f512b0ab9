"""Errors the user can act on, each carrying the process exit code it maps to.

The CLI prints ``Error: <message>`` on stderr and exits with ``exit_code``.
Nothing here imports the rest of the package.
"""

from __future__ import annotations


class TrackerError(Exception):
    """Base class: a problem the user can fix, reported without a traceback."""

    exit_code = 10

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


# Exit codes 0-2 belong to the shell and Typer: 0 success, 1 "needs attention"
# (kt check) and 2 usage errors (unknown option, missing argument).


class NotFoundError(TrackerError):
    """An id, key or name that matches no record."""

    exit_code = 3


class RecordNotFoundError(NotFoundError):
    """No record of kind ``kind`` (its table) with id ``record_id``."""

    def __init__(self, message: str, *, kind: str, record_id: int) -> None:
        super().__init__(message)
        self.kind = kind
        self.record_id = record_id


class ValidationError(TrackerError):
    """Input that breaks a rule: bad date, progress out of range, empty title..."""

    exit_code = 4


class ConflictError(TrackerError):
    """The request clashes with what is stored (duplicate key, record in use)."""

    exit_code = 5


class RecordInUseError(ConflictError):
    """A record cannot be removed while others refer to it (see knowsley_tracker.relations).

    ``kind`` is its table, ``record`` how it is named (``R2``, ``CL``), and
    ``referrers`` the (table, name) of each record in the way, in the order the
    relations are declared. Front ends word the message; this one is plain."""

    def __init__(self, *, kind: str, record: str, referrers: tuple[tuple[str, str], ...]) -> None:
        names = ", ".join(name for _, name in referrers)
        super().__init__(f"{record} is still referred to by {names}.")
        self.kind = kind
        self.record = record
        self.referrers = referrers


class PersonalDataError(ValidationError):
    """Free text that looks like personal data about a child."""

    exit_code = 6


class StoreLockedError(TrackerError):
    """Another process held the store's lock for longer than the timeout."""

    exit_code = 7


class StoreMissingError(TrackerError):
    """No store file where one was expected."""

    exit_code = 8


class CorruptStoreError(TrackerError):
    """The store file cannot be read as a tracker store (or is from a newer version)."""

    exit_code = 9


class StoreWriteError(TrackerError):
    """Saving failed (disk full, I/O error, read-only filesystem); the previous store is intact."""

    exit_code = 11


class ExtraMissingError(TrackerError):
    """An optional extra the command needs is not installed (e.g. knowsley-tracker[pdf])."""

    exit_code = 17


class MailError(TrackerError):
    """E-mail could not be sent: the mail server refused, dropped the connection or was unreachable."""

    exit_code = 16


class OutputWriteError(StoreWriteError):
    """An output (a file given with -o, or standard output) could not be written completely."""


# Exit code 12: the change was saved, but something after the commit point failed
# (the confirmation could not be printed, the lock file could not be closed). It is
# never raised as an error: the CLI's boundary reports it after the command ends.
SAVED_BUT_EXIT = 12


class UnsafeStoreError(TrackerError):
    """A link, or a file that is not kt's, where a store file or folder should be."""

    exit_code = 13


class PermissionDeniedError(TrackerError):
    """The database server refused: the login's role on the plan does not allow it."""

    exit_code = 14


class ServerUnreachableError(TrackerError):
    """The database server could not be reached (down, wrong host or socket, network)."""

    exit_code = 15


# Every exit code kt uses and what it means, as the README's "Exit codes" table
# gives them (tests/test_docs.py keeps the two identical).
EXIT_CODES: list[tuple[int, str]] = [
    (0, "success (`kt check`: nothing needs attention)"),
    (1, "`kt check`: something needs attention; `kt doctor`: the store has problems"),
    (
        2,
        "usage error: unknown command or option, missing argument, not a number, a command for the other kind of "
        "store (`kt backup` or `kt restore` on a PostgreSQL server: use `pg_dump`/`pg_restore`; `kt plan` on a file)",
    ),
    (NotFoundError.exit_code, "no record with that id, key or name"),
    (
        ValidationError.exit_code,
        "invalid input: a date that does not parse or is outside 1 Jan 1900 to 31 Dec 2999, progress outside "
        "0-100, empty title, unknown status, a setting value it does not take, an import file with problems or "
        "over its size limit...",
    ),
    (ConflictError.exit_code, "conflict: duplicate key, a record still referred to, a store that already exists"),
    (PersonalDataError.exit_code, "text that looks like personal data about a child (refused)"),
    (StoreLockedError.exit_code, "the store is busy: another command held the lock too long"),
    (StoreMissingError.exit_code, "no store at that path (create one with `kt init`)"),
    (
        CorruptStoreError.exit_code,
        "the store cannot be read: empty, damaged, not a tracker store, from a newer version, or edited to hold a "
        "setting, file name or value kt cannot use, such as a date not written YYYY-MM-DD or text where a number "
        "belongs (the error names the record and field; `kt doctor` lists them all)",
    ),
    (
        TrackerError.exit_code,
        "another error, such as permission denied; `kt check` also uses it for a fault inside kt, never 1",
    ),
    (
        StoreWriteError.exit_code,
        "saving or writing failed (disk full, out of inodes, read-only filesystem, file-size limit, I/O error): "
        "the store is intact, an `-o` file is unchanged, output to standard output is incomplete",
    ),
    (
        SAVED_BUT_EXIT,
        "the change **was saved**, but its confirmation could not be printed (standard output closed or full) "
        "or the lock file could not be closed; standard error says so. Do not retry",
    ),
    (
        UnsafeStoreError.exit_code,
        "a link, pipe or second name where a store file or folder should be (planted, or `--db` through a link): "
        "nothing was read or written",
    ),
    (
        PermissionDeniedError.exit_code,
        "PostgreSQL: the database refused the change or the login: your role on the plan does not allow it (the "
        "message names the role it needs); nothing was changed",
    ),
    (
        ServerUnreachableError.exit_code,
        "PostgreSQL: the database server could not be reached (down, wrong host or socket, network); nothing was "
        "changed",
    ),
    (
        MailError.exit_code,
        "`kt remind`: not every digest was sent (the mail server refused, dropped the connection or was "
        "unreachable, the store could not save the run, or Ctrl-C stopped it); what was sent is recorded",
    ),
    (
        ExtraMissingError.exit_code,
        "an optional extra is not installed: `pip install 'knowsley-tracker[pdf]'` for PDF papers",
    ),
    (130, "interrupted with Ctrl-C before anything was saved"),
]
