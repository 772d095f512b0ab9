"""The commit point: what one command has saved, and Ctrl-C around the moment it saves.

A save becomes true at one moment, when the new ``plan.json`` is renamed into
place and its folder flushed (storage/file_store.py). Before that moment Ctrl-C abandons the
write and nothing is saved (exit 130). From the moment a save starts, Ctrl-C is
held back; once the save has landed it is ignored for the rest of the command, so
the high-water write, the lock release and the confirmation all happen and the
command exits 0 (or 12 when the confirmation itself could not be printed), never
130 "nothing was saved". The CLI's boundary opens one :func:`command` scope per
command and reads :func:`commits` and :func:`notes` at the end.

The same scope keeps what running the command again must not repeat. A
PostgreSQL server may break a command's transaction off (a deadlock with another
client); the CLI then runs the whole command again, unless it had already done
something outside the store (:func:`did_outside`: an e-mail sent, a file written,
output printed), which a second run would do twice. Standard input is read
through :func:`standard_input`, once per command: a second run gets the same
bytes, not what is left of the stream.

Imports only the standard library, so both storage/ and the CLI can use it.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


class _State:
    depth = 0  # nested command scopes (the entry point's and the boundary's)
    holding = False  # our SIGINT handler is installed
    previous: Any = None  # the handler it replaced
    received = False  # Ctrl-C came while we held it
    interrupted = False  # Ctrl-C came before the hold (it may have been swallowed, see interrupted())
    commits: list[int] = []  # txns this command saved, in order
    notes: list[str] = []  # things that went wrong after a save landed
    outside: list[str] = []  # what it did outside the store that a second run would repeat
    stdin: bytes = b""  # standard input as far as the command has read it
    stdin_ended = False  # ... and whether that was all of it


def _held(signum: int, frame: object) -> None:
    _State.received = True


def interrupted(signum: int, frame: object) -> None:
    """kt's Ctrl-C handler while a command runs, until a save holds it back: remember it,
    then interrupt as Python would. Python drops an exception raised where it cannot
    propagate (a ``__del__``, a weakref callback: "Exception ignored"), and the command
    then ran on and saved, exit 0; remembered, the save about to happen is abandoned
    all the same (:func:`interrupt_pending`), exit 130."""
    _State.interrupted = True
    raise KeyboardInterrupt


def quiet_dropped_interrupts(unraisable: Any) -> None:
    """``sys.unraisablehook`` for commands: a Ctrl-C Python had to drop is not printed as
    a traceback (:func:`interrupted` has remembered it); anything else is, as usual."""
    import sys

    if isinstance(unraisable.exc_value, KeyboardInterrupt):
        return
    sys.__unraisablehook__(unraisable)


def hold_interrupts() -> None:
    """Hold Ctrl-C back from here on (a save is starting). Only the main thread can."""
    if _State.holding or threading.current_thread() is not threading.main_thread():
        return
    _State.previous = signal.signal(signal.SIGINT, _held)
    _State.holding = True


def _let_go() -> bool:
    """Put the previous Ctrl-C handler back; True when a Ctrl-C arrived meanwhile."""
    received = _State.received
    if _State.holding:
        signal.signal(signal.SIGINT, _State.previous)
        _State.holding = False
        _State.previous = None
    _State.received = False
    return received


def interrupt_pending() -> bool:
    """True when Ctrl-C came before this command saved anything: the save about to
    happen must be abandoned. After a first save, later ones go ahead."""
    return (_State.received or _State.interrupted) and not _State.commits


def abandon() -> None:
    """A save failed or was interrupted before its commit point: stop holding Ctrl-C,
    unless an earlier save of this command has already landed."""
    if not _State.commits:
        _let_go()


def carry_on() -> None:
    """The command caught Ctrl-C, stopped what it was doing, and must still save what it
    did outside the store (``kt remind``: the e-mail that went out, or the next run sends
    it again): the interrupt no longer abandons that save."""
    _State.interrupted = False
    _State.received = False


def saved(txn: int) -> None:
    """The save of ``txn`` has landed (the commit point has passed)."""
    _State.commits.append(txn)


def note(message: str) -> None:
    """Something failed after a save landed; the boundary reports it and exits 12."""
    _State.notes.append(message)


def commits() -> list[int]:
    return list(_State.commits)


def did_outside(what: str) -> None:
    """The command did something outside the store that running it again would repeat
    (``what``, e.g. "sent e-mail"): from now on it is not run again when a server breaks
    its transaction off."""
    if what not in _State.outside:
        _State.outside.append(what)


def outside() -> list[str]:
    """What the command did outside the store, in order, each once (see :func:`did_outside`)."""
    return list(_State.outside)


def standard_input(size: int) -> bytes:
    """Up to ``size`` bytes of standard input (fewer when it ends first). Within a command,
    read once: a command run again gets the bytes its first run read (more are read only
    when a later call asks for more than has been read)."""
    import sys

    stream = sys.stdin.buffer
    if not in_command():
        return stream.read(size)
    if len(_State.stdin) < size and not _State.stdin_ended:
        wanted = size - len(_State.stdin)
        more = stream.read(wanted)
        _State.stdin += more
        _State.stdin_ended = len(more) < wanted
    return _State.stdin[:size]


def notes() -> list[str]:
    return list(_State.notes)


def in_command() -> bool:
    return _State.depth > 0


def settle() -> None:
    """Outside a CLI command (the store used as a library), stop holding Ctrl-C when the
    store is closed, and deliver a Ctrl-C that came after the save as usual."""
    if in_command() or not _State.holding:
        return
    _State.commits.clear()
    _State.notes.clear()
    if _let_go():
        raise KeyboardInterrupt


@contextmanager
def command(*, restore: bool = True) -> Iterator[None]:
    """One command's scope. ``restore=False`` keeps Ctrl-C held to the very end (the
    process is about to exit without unwinding)."""
    outermost = _State.depth == 0
    if outermost:
        _let_go()
        _State.interrupted = False  # a Ctrl-C an earlier command in this process caught is not this one's
        _State.commits = []
        _State.notes = []
        _State.outside = []
        _State.stdin = b""
        _State.stdin_ended = False
    _State.depth += 1
    try:
        yield
    finally:
        _State.depth -= 1
        if outermost and restore:
            _let_go()
