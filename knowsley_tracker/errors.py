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


class ValidationError(TrackerError):
    """Input that breaks a rule: bad date, progress out of range, empty title..."""

    exit_code = 4


class ConflictError(TrackerError):
    """The request clashes with what is stored (duplicate key, record in use)."""

    exit_code = 5


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
    """Saving failed (disk full, I/O error); the previous store is intact."""

    exit_code = 11


class MailError(TrackerError):
    """E-mail could not be sent: the mail server refused, dropped the connection or was unreachable."""

    exit_code = 16


EXIT_CODES: list[tuple[int, str]] = [
    (0, "success (kt check: nothing needs attention)"),
    (1, "kt check: something needs attention; kt doctor: the store has problems"),
    (2, "usage error: unknown command or option, missing argument"),
    (NotFoundError.exit_code, "no record with that id, key or name"),
    (ValidationError.exit_code, "invalid input: bad date, value out of range, empty text..."),
    (ConflictError.exit_code, "conflict: duplicate key, record still referenced, store exists"),
    (PersonalDataError.exit_code, "text looks like personal data about a child (refused)"),
    (StoreLockedError.exit_code, "store is busy: another process held the lock too long"),
    (StoreMissingError.exit_code, "no store at that path: create one with kt init"),
    (CorruptStoreError.exit_code, "store unreadable: empty, truncated, not a tracker store, or newer"),
    (TrackerError.exit_code, "other error reported by the tracker"),
    (StoreWriteError.exit_code, "saving failed (disk full, I/O error); the previous store is intact"),
    (MailError.exit_code, "kt remind: e-mail could not be sent (what was sent is recorded)"),
    (130, "interrupted (Ctrl-C); nothing was saved"),
]
