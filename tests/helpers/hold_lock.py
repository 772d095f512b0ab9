"""Hold a store open for writing (its lock taken), as a long kt command would.

Usage: python hold_lock.py DB
Prints "held" once the lock is taken. Then reads one line from stdin:
"commit NOTE" logs NOTE on A1 and saves it before letting go; anything else
lets go without saving. Prints "released" at the end.
"""

from __future__ import annotations

import sys
from pathlib import Path

from knowsley_tracker.dates import Clock
from knowsley_tracker.service.actions import log_progress
from knowsley_tracker.service.session import Session
from knowsley_tracker.storage import Store


def main() -> None:
    store = Store.open(Path(sys.argv[1]), write=True, lock_timeout=60)
    try:
        print("held", flush=True)
        command = sys.stdin.readline().rstrip("\n")
        if command.startswith("commit "):
            s = Session(store=store, clock=Clock.at("2025-11-30T09:00:00+00:00"), user="Lock Holder")
            with s.transaction("log A1"):
                log_progress(s, 1, command.removeprefix("commit "))
    finally:
        store.close()
    print("released", flush=True)


if __name__ == "__main__":
    main()
