"""Another officer saving log entries on A1, one after another, until told to stop.

Usage: python steady_writer.py DB NAME
Prints "ok ENTRY_ID TXN NOTE" after each commit has returned (so every line is
an acknowledged write), and "stopped" when a line arrives on stdin.
"""

from __future__ import annotations

import os
import select
import sys
import time
from pathlib import Path

from knowsley_tracker.dates import Clock
from knowsley_tracker.service.actions import log_progress
from knowsley_tracker.service.session import Session
from knowsley_tracker.storage import Store


def main() -> None:
    db, name = Path(sys.argv[1]), sys.argv[2]
    clock = Clock.at("2025-11-30T09:00:00+00:00")
    i = 0
    while not select.select([sys.stdin], [], [], 0)[0]:
        note = f"{name} write {i} from {os.getpid()}"  # unique across runs
        store = Store.open(db, write=True, lock_timeout=60)
        try:
            s = Session(store=store, clock=clock, user=name)
            with s.transaction("log A1"):
                _, entry = log_progress(s, 1, note)
            txn = store.txn
        finally:
            store.close()
        os.write(1, f"ok {entry.id} {txn} {note}\n".encode())
        i += 1
        time.sleep(0.005)  # an officer's pace, give or take: the race needs tens of writes, not thousands
    os.write(1, b"stopped\n")


if __name__ == "__main__":
    main()
