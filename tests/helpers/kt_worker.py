"""One process of the concurrency test: waits for "go", then runs real `kt log`
commands one after another against the store named in KNOWSLEY_TRACKER_DB.

Usage: python kt_worker.py WORKER COUNT KT_COMMAND...
Prints "ready", waits for a line on stdin, then prints one JSON line per
command: its note, progress, exit code, stdout and stderr.
"""

from __future__ import annotations

import json
import subprocess
import sys


def main() -> None:
    worker, count, kt = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3:]
    print("ready", flush=True)
    sys.stdin.readline()
    for i in range(count):
        note = f"worker {worker} entry {i}"
        progress = (worker * 7 + i * 13) % 101
        args = [*kt, "log", "A1", note]
        if i % 2 == 0:  # every other command also moves progress: a read-modify-write of A1
            args += ["--progress", str(progress)]
        done = subprocess.run(args, capture_output=True, text=True, check=False)
        result = {
            "note": note,
            "progress": progress if i % 2 == 0 else None,
            "rc": done.returncode,
            "stdout": done.stdout,
            "stderr": done.stderr,
        }
        print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
