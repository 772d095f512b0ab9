"""Run kt on a store kept on a real read-only filesystem, or on one out of inodes.

Usage (as root): unshare -m --propagation private python full_or_readonly_fs.py MODE STORE_DIR KT...

MODE ``readonly``: mounts a tmpfs in this process's own mount namespace, copies
STORE_DIR (plan.json and plan.json.d) into it, remounts it read-only and runs
``kt log``, ``kt restore``, ``kt doctor --fix`` and ``kt export -o``.
MODE ``inodes``: a tmpfs with few inodes, the store copied in without its lock
file, every remaining inode used up, then ``kt log`` (which must create the lock
file) and, with the lock file back, ``kt log`` again (which must create its
temporary file).

Prints a JSON list: each command's arguments, exit code, stdout and stderr, and
whether the store's files were left unchanged. Nothing leaks out of the namespace.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path


def files(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): p.read_bytes().hex() for p in sorted(folder.rglob("*")) if p.is_file()}


def run(kt: list[str], db: Path, *args: str) -> dict[str, object]:
    """One kt command, and whether the store's files were left exactly as they were."""
    before = files(db.parent)
    done = subprocess.run([*kt, "--db", str(db), *args], capture_output=True, text=True, check=False)
    return {
        "args": list(args),
        "rc": done.returncode,
        "stdout": done.stdout,
        "stderr": done.stderr,
        "unchanged": files(db.parent) == before,
    }


def main() -> None:
    mode, source, kt = sys.argv[1], Path(sys.argv[2]), sys.argv[3:]
    mount = Path(tempfile.mkdtemp(prefix="kt-fs-"))
    options = "size=8m" if mode == "readonly" else "size=8m,nr_inodes=64"
    subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(mount)], check=True)
    try:
        store = mount / "store"
        shutil.copytree(source, store, symlinks=True)
        db = store / "plan.json"
        results = []
        if mode == "readonly":
            (store / ".plan.json.4242.tmp").write_text("half a store")  # something for doctor --fix to fix
            subprocess.run(["mount", "-o", "remount,ro", str(mount)], check=True)
            results += [
                run(kt, db, "log", "A1", "On a read-only disk"),
                run(kt, db, "restore"),
                run(kt, db, "doctor", "--fix"),
                run(kt, db, "export", "--format", "json", "-o", str(store / "backup.json")),
                run(kt, db, "doctor"),  # what it advises about a read-only disk
            ]
        else:
            (store / "plan.json.d" / "lock").unlink()
            filler = mount / "filler"
            filler.mkdir()
            n = 0
            try:
                while True:
                    (filler / str(n)).touch()
                    n += 1
            except OSError:
                pass
            results.append(run(kt, db, "log", "A1", "No inode for the lock"))
            (filler / "0").unlink()  # one inode: the lock file, but none for the temporary file
            os.close(os.open(store / "plan.json.d" / "lock", os.O_CREAT | os.O_RDWR, 0o600))
            results.append(run(kt, db, "log", "A1", "No inode for the new store"))
        print(json.dumps(results))
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)
        os.rmdir(mount)


if __name__ == "__main__":
    main()
