"""Writers for the SIGKILL test, forked on request by one long-lived parent.

Usage: python kill_writer.py DB SEGMENT_ROWS

Reads commands on stdin, one per line:

    go TAG          fork a writer that commits log entries on A1 in a loop
    go TAG STEP     the same, but the writer kills itself with SIGKILL at its
                    STEPth low-level file call (a write is cut off half-way)
    quit

A writer prints "ok ID NOTE" after each commit has returned, so every id it
prints was reported as saved. The parent prints "pid TAG PID" when a writer
starts and "dead TAG SIGNAL" once it has died. Forking keeps each writer's
start-up cheap, so a test can kill hundreds of them.
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path
from typing import Any

from knowsley_tracker import storage
from knowsley_tracker.dates import Clock
from knowsley_tracker.service.actions import log_progress
from knowsley_tracker.service.session import Session
from knowsley_tracker.storage import folders, segments

CLOCK = Clock.at("2025-11-30T09:00:00+00:00")


def say(line: str) -> None:
    os.write(1, (line + "\n").encode())  # one write per line: lines from several processes never interleave


def kill_at(step: int) -> None:
    """Make the STEPth call to the store's low-level file functions kill this process."""
    calls = [0]

    def wrap(name: str, real: Any) -> Any:
        def call(*args: Any, **kwargs: Any) -> Any:
            calls[0] += 1
            if calls[0] == step:
                if name == "_os_write":
                    fd, data = args
                    os.write(fd, bytes(data[: max(1, len(data) // 2)]))
                os.kill(os.getpid(), signal.SIGKILL)
            return real(*args, **kwargs)

        return call

    for name in ("_os_write", "_os_fsync", "_os_replace", "_os_link"):
        setattr(folders, name, wrap(name, getattr(folders, name)))


def writer(db: Path, tag: str, step: int | None) -> None:
    if step is not None:
        kill_at(step)
    i = 0
    while True:
        note = f"{tag} write {i}"
        store = storage.Store.open(db, write=True, lock_timeout=60)
        try:
            s = Session(store=store, clock=CLOCK, user="Kill Test")
            with s.transaction("log A1"):
                _, entry = log_progress(
                    s, 1, note, progress=i % 100
                )  # never 100: that completes A1, and a complete action is not lowered
        finally:
            store.close()
        say(f"ok {entry.id} {note}")
        i += 1


def main() -> None:
    db = Path(sys.argv[1])
    segments.SEGMENT_ROWS = int(sys.argv[2])  # seal often, so kills also land in segment writes
    for line in sys.stdin:
        words = line.split()
        if not words or words[0] == "quit":
            break
        tag = words[1]
        step = int(words[2]) if len(words) > 2 else None
        pid = os.fork()
        if pid == 0:
            try:
                writer(db, tag, step)
            finally:
                os._exit(1)
        say(f"pid {tag} {pid}")
        _, status = os.waitpid(pid, 0)
        say(f"dead {tag} {os.WTERMSIG(status) if os.WIFSIGNALED(status) else -os.WEXITSTATUS(status)}")


if __name__ == "__main__":
    main()
