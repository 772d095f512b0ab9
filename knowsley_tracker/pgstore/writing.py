"""One command, one transaction: how writers share a plan on the server.

The rule, as for the file store: one writer per plan at a time, readers never
wait. A writing command

1. begins a READ COMMITTED transaction;
2. takes the plan's writer lock, waiting at most the lock timeout (``lock_timeout``;
   10 s by default, as for the file store's lock): ``kt.lock_plan(plan)`` locks the
   plan's row of ``kt.writers`` FOR UPDATE, which only a login with the officer
   role or higher on that plan may do (an advisory lock would not do: any login
   of the database may take any advisory lock, and so hold every writer off);
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
takes one lock first), but can against other clients writing the same rows
through SQL; the server then breaks off one transaction (``ServerBusyError``).
:func:`retrying` runs a whole command again, at most ``DEFAULT_RETRIES`` times
with a short random back-off, then reports it as busy; :func:`run_write` does
the same for a function of a connection. A command that had already done
something outside the database (sent e-mail, written an ``-o`` file, printed:
``commit_point.did_outside``) is not run again but reported busy at once, as a
second run would do it twice; standard input is read once per command
(``commit_point.standard_input``), so ``kt import -`` runs again on the same bytes.
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

T = TypeVar("T")

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
        lock_plan(conn, plan_id, lock_timeout)
        yield conn


def lock_plan(conn: psycopg.Connection[Any], plan_id: int, lock_timeout: float = DEFAULT_LOCK_TIMEOUT) -> None:
    """Take the plan's writer lock in the open transaction (held until it ends);
    ``StoreLockedError`` after ``lock_timeout`` seconds, ``PermissionDeniedError`` for a
    login below officer on the plan."""
    try:
        conn.execute("SELECT set_config('lock_timeout', %s, true)", (f"{max(1, round(lock_timeout * 1000))}ms",))
        conn.execute("SELECT kt.lock_plan(%s)", (plan_id,))
    except pg_errors.LockNotAvailable:
        raise StoreLockedError(
            f"The plan is busy: another kt command held it for {lock_timeout:g} s. "
            "Try again, or wait longer with --lock-timeout or KNOWSLEY_TRACKER_LOCK_TIMEOUT."
        ) from None


@contextmanager
def plan_read(conn: psycopg.Connection[Any]) -> Iterator[psycopg.Connection[Any]]:
    """A read-only transaction that sees one committed state throughout."""
    with conn.transaction():
        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        yield conn


def retrying(
    command: Callable[[], T],
    *,
    retries: int = DEFAULT_RETRIES,
    broken: ServerBusyError | None = None,
    done: Callable[[], list[str]] = list,
) -> T:
    """Run a whole command (open the store, do the work, commit, close) again when the
    server broke it off (``ServerBusyError``), at most ``retries`` more times with a
    short random back-off; then it is busy (exit 7). For the command line's writers;
    ``broken``: the error that broke its first run off, when that run was made already.

    ``done()`` says what the broken-off run had already done that running it again would
    repeat (saved an earlier transaction, sent e-mail, written a file, printed output):
    when it says anything, the command is not run again, and is busy (exit 7) at once."""
    attempt = 0
    while True:
        if broken is not None:
            attempt += 1
            _may_run_again(broken, attempt, retries, done())
            time.sleep(random.uniform(0.005, 0.02) * 2**attempt)  # noqa: S311  # back-off jitter, not secrecy
        try:
            return command()
        except ServerBusyError as exc:
            broken = exc


def _may_run_again(broken: ServerBusyError, attempt: int, retries: int, done: list[str]) -> None:
    """Raise busy (``StoreLockedError``, exit 7) unless the command may run again."""
    why = broken.message.removeprefix("The plan is busy: ").removesuffix(" Try again.").rstrip(".")
    if done:
        raise StoreLockedError(
            f"The plan is busy: the server broke this command off ({why}) after it had {_and(done)}; kt did not "
            "run it again, which would do that twice. What the server broke off was not saved: check, then run "
            "the command again."
        )
    if attempt > retries:
        raise StoreLockedError(
            f"The plan is busy: the server could not fit this command between other changes "
            f"after {retries + 1} tries ({why}). Try again."
        )


def _and(items: list[str]) -> str:
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


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
