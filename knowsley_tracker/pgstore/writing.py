"""One command, one transaction: how writers share a plan on the server.

The rule, as for the file store: one writer per plan at a time, readers never
wait. A writing command

1. begins a READ COMMITTED transaction;
2. takes the plan's writer lock, ``pg_advisory_xact_lock(PLAN_LOCK_CLASS, plan_id)``,
   waiting at most the lock timeout (``lock_timeout``; 10 s by default, as for the
   file store's lock);
3. reads what it needs and makes its changes: nobody else changes the plan
   meanwhile, so what it read stays true until it commits (no lost update);
   new ids come from the plan's counters, row-locked as they are handed out, so
   no two commands get the same id and a deleted record's id is never handed out
   again;
4. commits (the lock goes with the transaction, also when the client dies).

Writers to different plans never wait for each other. Readers take no lock;
a read-only command runs in one REPEATABLE READ READ ONLY transaction, so it
sees one committed state of the plan from start to end.

A command that waited longer than the lock timeout is "busy" (exit 7).
Serialisation failures and deadlocks cannot arise between kt commands (each
takes one lock), but can against other clients writing the same rows through
SQL; they are retried, each attempt a fresh transaction, at most
``DEFAULT_RETRIES`` times with a short random back-off, then reported as busy.
The command body must therefore do nothing outside the database that it could
not do twice.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import psycopg
from psycopg import errors as pg_errors

from knowsley_tracker.errors import StoreLockedError
from knowsley_tracker.pgstore.connection import ServerBusyError, server_error
from knowsley_tracker.pgstore.schema import LOCK_CLASS

T = TypeVar("T")

PLAN_LOCK_CLASS = LOCK_CLASS + 1
DEFAULT_LOCK_TIMEOUT = 10.0
DEFAULT_RETRIES = 3
_RETRYABLE = (pg_errors.SerializationFailure, pg_errors.DeadlockDetected)


@contextmanager
def plan_write(
    conn: psycopg.Connection[Any], plan_id: int, *, lock_timeout: float = DEFAULT_LOCK_TIMEOUT
) -> Iterator[psycopg.Connection[Any]]:
    """A transaction holding the plan's writer lock; commits when the block ends.

    Raises ``StoreLockedError`` when another writer held the plan for longer than
    ``lock_timeout`` seconds. Other server errors propagate as psycopg errors
    (retried by :func:`run_write`)."""
    with conn.transaction():
        conn.execute("SELECT set_config('lock_timeout', %s, true)", (f"{max(1, round(lock_timeout * 1000))}ms",))
        try:
            conn.execute("SELECT pg_advisory_xact_lock(%s, %s)", (PLAN_LOCK_CLASS, plan_id))
        except pg_errors.LockNotAvailable:
            raise StoreLockedError(
                f"The plan is busy: another kt command held it for {lock_timeout:g} s. "
                "Try again, or wait longer with --lock-timeout or KNOWSLEY_TRACKER_LOCK_TIMEOUT."
            ) from None
        yield conn


def lock_plan(conn: psycopg.Connection[Any], plan_id: int, lock_timeout: float = DEFAULT_LOCK_TIMEOUT) -> None:
    """Take the plan's writer lock for the session (a store open for writing keeps it
    until it closes, across its transactions); ``StoreLockedError`` after ``lock_timeout``.
    The same lock as :func:`plan_write`'s: the two wait for each other."""
    try:
        with conn.transaction():
            conn.execute("SELECT set_config('lock_timeout', %s, true)", (f"{max(1, round(lock_timeout * 1000))}ms",))
            conn.execute("SELECT pg_advisory_lock(%s, %s)", (PLAN_LOCK_CLASS, plan_id))
    except pg_errors.LockNotAvailable:
        raise StoreLockedError(
            f"The plan is busy: another kt command held it for {lock_timeout:g} s. "
            "Try again, or wait longer with --lock-timeout or KNOWSLEY_TRACKER_LOCK_TIMEOUT."
        ) from None
    except psycopg.Error as exc:
        raise server_error(exc) from None


def unlock_plan(conn: psycopg.Connection[Any], plan_id: int) -> None:
    conn.execute("SELECT pg_advisory_unlock(%s, %s)", (PLAN_LOCK_CLASS, plan_id))


@contextmanager
def plan_read(conn: psycopg.Connection[Any]) -> Iterator[psycopg.Connection[Any]]:
    """A read-only transaction that sees one committed state throughout."""
    with conn.transaction():
        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        yield conn


def retrying(command: Callable[[], T], *, retries: int = DEFAULT_RETRIES) -> T:
    """Run a whole command (open the store, do the work, commit, close) again when the
    server broke it off (``ServerBusyError``), at most ``retries`` more times with a
    short random back-off; then it is busy (exit 7). For the command line's writers."""
    attempt = 0
    while True:
        try:
            return command()
        except ServerBusyError as exc:
            attempt += 1
            if attempt > retries:
                raise StoreLockedError(
                    f"The plan is busy: the server could not fit this command between other changes "
                    f"after {retries + 1} tries ({exc}). Try again."
                ) from None
            time.sleep(random.uniform(0.005, 0.02) * 2**attempt)  # noqa: S311  # back-off jitter, not secrecy


def run_write(
    conn: psycopg.Connection[Any],
    plan_id: int,
    body: Callable[[psycopg.Connection[Any]], T],
    *,
    lock_timeout: float = DEFAULT_LOCK_TIMEOUT,
    retries: int = DEFAULT_RETRIES,
    needs: str | None = None,
) -> T:
    """Run one command's changes as one transaction under the plan's writer lock.

    Serialisation failures and deadlocks are retried (a new transaction each time)
    at most ``retries`` times; then, like a lock wait that timed out, they are
    "busy" (``StoreLockedError``, exit 7). Other server errors become kt's errors
    (:func:`knowsley_tracker.pgstore.connection.server_error`; ``needs`` names the
    role the command needs, for a refusal's message)."""
    attempt = 0
    while True:
        try:
            with plan_write(conn, plan_id, lock_timeout=lock_timeout):
                return body(conn)
        except _RETRYABLE as exc:
            attempt += 1
            if attempt > retries:
                raise StoreLockedError(
                    f"The plan is busy: the server could not fit this command between other changes "
                    f"after {retries + 1} tries ({exc.diag.message_primary or exc}). Try again."
                ) from None
            time.sleep(random.uniform(0.005, 0.02) * 2**attempt)  # noqa: S311  # back-off jitter, not secrecy
        except psycopg.Error as exc:
            raise server_error(exc, needs=needs) from None
