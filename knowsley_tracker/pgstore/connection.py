"""Connecting to the server through libpq, and the server's errors as kt's.

A store target is a server when it is a libpq connection URI
(``postgresql://jlee@db.council.local/improvement``,
``postgresql:///improvement?host=/run/postgresql``) or a ``service=NAME`` entry of
pg_service.conf. Passwords, TLS (``sslmode``) and the rest come from libpq's own
places (``.pgpass``, ``PGPASSWORD``, the service file, ``PG*`` variables), never
from a kt option. Anything else is a file path.

Errors map to kt's exit codes: refused by role or login 14, server unreachable
15, busy 7 (a lock wait that timed out, or serialisation failures that went on
after the retries), conflict 5 (a duplicate or a reference), invalid input 4
(a value the schema's checks refused).
"""

from __future__ import annotations

import re
from typing import Any

import psycopg
from psycopg import errors as pg_errors
from psycopg.conninfo import conninfo_to_dict

from knowsley_tracker.errors import (
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    ServerUnreachableError,
    StoreLockedError,
    StoreMissingError,
    TrackerError,
    ValidationError,
)
from knowsley_tracker.patterns import LazyPattern

_SERVICE = LazyPattern(r"\s*service\s*=", re.IGNORECASE)
APPLICATION_NAME = "knowsley-tracker"
# Messages libpq gives when the server answered but would not let the login in.
_REFUSED_LOGIN = (
    "password authentication failed",
    "no password supplied",
    "authentication failed",
    "no pg_hba.conf entry",
    "permission denied for database",
)


class ServerBusyError(StoreLockedError):
    """The server broke off the command's transaction to keep others consistent (a
    serialisation failure or a deadlock with another client): nothing of it was
    saved. The command line runs the whole command again (:func:`.writing.retrying`)
    unless it had already done something a second run would repeat (sent e-mail,
    written a file, printed); busy (exit 7) when it is not run again."""

    retry_whole_command = True


def is_server_target(target: str) -> bool:
    """True when ``--db`` names a database server rather than a file."""
    text = target.strip()
    return text.startswith(("postgresql://", "postgres://")) or _SERVICE.match(text) is not None


def describe(conninfo: str) -> str:
    """A connection target for messages: login, host and database, never a password."""
    try:
        params = conninfo_to_dict(conninfo)
    except psycopg.ProgrammingError:
        return "the database server"
    if "service" in params and len(params) == 1:
        return f"service {params['service']}"
    host = str(params.get("host") or "the local socket")
    where = f"{host}:{params['port']}" if params.get("port") else host
    db = str(params.get("dbname") or "")
    user = str(params.get("user") or "")
    return f"{user + '@' if user else ''}{where}{'/' + db if db else ''}"


def connect(conninfo: str, **kwargs: Any) -> psycopg.Connection[Any]:
    """Open an autocommit connection (transactions are explicit: ``conn.transaction()``).

    A password in ``conninfo`` is refused: it comes from libpq's own places. (``kwargs``
    reach libpq unchecked: they are for kt's own code and tests, not for users' input.)

    Raises ``ServerUnreachableError`` (15) when no server answers and
    ``PermissionDeniedError`` (14) when it refuses the login."""
    try:
        params = conninfo_to_dict(conninfo)
    except psycopg.ProgrammingError as exc:
        raise ValidationError(f"Cannot read the database connection string: {_first_line(exc)}") from None
    if "password" in params:
        # A password written into --db ends up in shell history and process lists.
        raise ValidationError(
            "Put the database password in ~/.pgpass, PGPASSWORD or a service file, not in the connection string."
        )
    if "application_name" not in params:
        kwargs.setdefault("application_name", APPLICATION_NAME)
    try:
        return psycopg.connect(conninfo, autocommit=True, **kwargs)
    except psycopg.OperationalError as exc:
        raise connect_error(exc, conninfo) from None


def connect_error(exc: psycopg.OperationalError, conninfo: str) -> TrackerError:
    """The kt error for a connection attempt that failed."""
    text = _first_line(exc)
    where = describe(conninfo)
    if re.search(r'database ".*" does not exist', text):
        return StoreMissingError(
            f"There is no such database at {where} ({text}): the database administrator creates it."
        )
    if any(part in text for part in _REFUSED_LOGIN) or re.search(r'role ".*" does not exist', text):
        return PermissionDeniedError(f"The database server at {where} refused the login: {text}")
    return ServerUnreachableError(f"Cannot reach the database server at {where}: {text}")


def server_error(exc: psycopg.Error, *, needs: str | None = None) -> TrackerError:
    """The kt error for a statement the server refused. ``needs`` says what the
    refused step needed (e.g. "the editor role on plan knowsley"), for the message."""
    text = _first_line(exc)
    if _ours(exc):
        # Raised by kt's own schema functions and triggers: already a sentence for the user.
        hint = exc.diag.message_hint
        text = f"{text}. {hint}" if hint else f"{text}."
    if isinstance(exc, pg_errors.InsufficientPrivilege):
        if _ours(exc):
            return PermissionDeniedError(text)
        if needs:
            return PermissionDeniedError(f"{_capital(needs)} (the server said: {text})")
        return PermissionDeniedError(f"The database refused: {text}")
    if isinstance(exc, pg_errors.SerializationFailure | pg_errors.DeadlockDetected):
        return ServerBusyError(f"The plan is busy: {text}. Try again.")
    if isinstance(exc, pg_errors.LockNotAvailable):
        return StoreLockedError(f"The plan is busy: {text}. Try again.")
    conflicts = pg_errors.UniqueViolation | pg_errors.ForeignKeyViolation | pg_errors.ExclusionViolation
    if isinstance(exc, conflicts | pg_errors.RestrictViolation):
        return ConflictError(text if _ours(exc) else f"The database refused a conflicting change: {text}")
    if isinstance(exc, pg_errors.UndefinedObject):
        return NotFoundError(_capital(text))
    if isinstance(exc, psycopg.IntegrityError | psycopg.DataError):
        return ValidationError(text if _ours(exc) else f"The database refused a value: {text}")
    if isinstance(exc, pg_errors.InvalidSchemaName | pg_errors.UndefinedTable):
        return TrackerError(f"The database has no knowsley-tracker schema ({text}): create it with kt init.")
    if isinstance(exc, psycopg.OperationalError):
        return ServerUnreachableError(f"Lost the database server: {text}")
    return TrackerError(f"The database server reported an error: {text}")


def _ours(exc: psycopg.Error) -> bool:
    """True for an error raised by PL/pgSQL RAISE, which only kt's schema functions do."""
    return exc.diag.source_function == "exec_stmt_raise"


def _first_line(exc: BaseException) -> str:
    diag = getattr(exc, "diag", None)
    primary = getattr(diag, "message_primary", None) if diag is not None else None
    text = primary or str(exc)
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines:
        return type(exc).__name__
    # libpq wraps connection failures: 'connection failed: connection to server on socket
    # "/run/postgresql/.s.PGSQL.5432" failed: FATAL:  password authentication failed ...'.
    first = re.sub(r"^connection (is bad|failed):\s*", "", lines[0])
    first = re.sub(r"^connection to server .*? failed:\s*", "", first)
    first = re.sub(r"^(FATAL|ERROR):\s*", "", first)
    return first.rstrip(".")


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]
