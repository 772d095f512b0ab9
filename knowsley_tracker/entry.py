"""The console-script entry point for ``kt`` and ``knowsley-tracker``.

Kept outside ``knowsley_tracker.cli`` so that it runs before anything heavy is
imported: it switches off Python's cyclic garbage collector first. A command is
a short-lived process whose objects are freed by reference counting; the
collector only re-scanned the growing heap while the store was parsed and the
report built (measured on the regional benchmark plan: 46 -> 30 ms to open the
store, 140 -> 106 ms to build the report, 85 -> 31 ms to lay it out as text).
"""

from __future__ import annotations

import gc
import os
import sys


def main() -> None:
    gc.disable()
    if "_KT_COMPLETE" in os.environ or "_KNOWSLEY_TRACKER_COMPLETE" in os.environ:
        # Tab completion of an id, key, owner or status is answered from the store
        # without loading the command tree (knowsley_tracker/completing.py).
        from knowsley_tracker.completing import answer

        prog = os.path.basename(sys.argv[0]) if sys.argv else ""
        if answer(prog if prog in ("kt", "knowsley-tracker") else "kt"):
            sys.stdout.flush()
            os._exit(0)
    _fill_standard_descriptors()
    import signal

    # Ctrl-C while the modules load is held until they have: an interrupt inside an import
    # can surface as any exception (a dataclass wraps it in RuntimeError), with a traceback.
    received: list[int] = []
    signal.signal(signal.SIGINT, lambda signum, frame: received.append(signum))
    from knowsley_tracker.cli import main as run

    if received:
        os.write(2, b"Interrupted: nothing was saved.\n")
        os._exit(130)
    from knowsley_tracker import commit_point

    # From here Ctrl-C interrupts as usual, but is also remembered, so that one Python
    # had to drop (raised inside a __del__) still stops the save (commit_point.interrupted).
    signal.signal(signal.SIGINT, commit_point.interrupted)
    sys.unraisablehook = commit_point.quiet_dropped_interrupts
    run()


def _fill_standard_descriptors() -> None:
    """Started with standard input, output or error closed (``kt log ... >&-``): put
    /dev/null there, so the first file kt opens (the store, its lock) cannot become
    descriptor 1 and receive what was meant for the terminal. Python has already set
    the closed stream to None, so writing to it is still reported as a failure."""
    for fd in (0, 1, 2):
        try:
            os.fstat(fd)
        except OSError:
            null = os.open(os.devnull, os.O_RDWR)
            if null != fd:  # a lower descriptor was free too: it is filled on its own turn
                os.dup2(null, fd)
                os.close(null)
