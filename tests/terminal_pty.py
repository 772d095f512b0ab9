"""Run kt in a real pseudo-terminal of a given size, and read what it drew.

Used by tests/test_terminal_tables.py and by ``python tests/terminal_pty.py
--update`` (which rewrites the snapshots in tests/snapshots/terminal/; look at
each one before committing it). ``--update-piped`` rewrites the piped ones, for
a change meant to alter what scripts read.
"""

from __future__ import annotations

import argparse
import errno
import fcntl
import os
import pty
import shutil
import struct
import subprocess
import sys
import tempfile
import termios
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "knowsley-2025" / "plan.json"
SNAPSHOTS = Path(__file__).resolve().parent / "snapshots" / "terminal"
WIDTHS = (60, 80, 100, 120, 200)
# What is snapshotted at every width: (file name stem, kt arguments).
COMMANDS = (
    ("action-list", ["action", "list"]),
    ("report", ["report"]),
)
# Snapshotted at some widths only: (file name stem, kt arguments, widths).
COMMANDS_AT = (
    ("check", ["check"], (60, 80, 120)),
    ("kpi-show-HP-01", ["kpi", "show", "HP-01"], (60, 80)),
)
# Commands whose usual exit code is not 0: kt check says "needs attention" with 1.
EXIT_CODES = {"check": 1}
PIPED = Path(__file__).resolve().parent / "snapshots" / "piped"
# What piped output is kept byte for byte (tests/snapshots/piped/NAME.txt).
PIPED_COMMANDS = {
    "action-list": ["action", "list"],
    "action-list-overdue": ["action", "list", "--overdue"],
    "rec-list": ["rec", "list"],
    "focus-list": ["focus", "list"],
    "focus-show-HP": ["focus", "show", "HP"],
    "owner-list": ["owner", "list"],
    "evidence-list": ["evidence", "list"],
    "visit-list": ["visit", "list"],
    "inspection-list": ["inspection", "list"],
    "inspection-show-I1": ["inspection", "show", "I1"],
    "intervention-list": ["intervention", "list"],
    "partner-list": ["partner", "list"],
    "kpi-list": ["kpi", "list"],
    "board-list": ["board", "list"],
    "board-show-B6": ["board", "show", "B6"],
    "history": ["history"],
    "config-list": ["config", "list"],
    "report": ["report"],
    "check": ["check"],
}


def base_env(**extra: str) -> dict[str, str]:
    """A clean environment: the example's "today", UTC, no COLUMNS (the pty's size counts)."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/tmp"),
        "LANG": "C.UTF-8",
        "TZ": "UTC",
        "TERM": "xterm-256color",
        "KNOWSLEY_TRACKER_NOW": "2025-11-30",
        "KNOWSLEY_TRACKER_USER": "Reader",
    }
    env.update(extra)
    return env


def run_in_pty(args: list[str], columns: int, env: dict[str, str], rows: int = 50) -> tuple[int, str]:
    """Run ``python -m knowsley_tracker ARGS`` with a pty of ``columns`` x ``rows`` as its
    terminal; return the exit code and everything it wrote (line ends as ``\\n``)."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
    try:
        process = subprocess.Popen(
            [sys.executable, "-m", "knowsley_tracker", *args],
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=env,
            close_fds=True,
        )
    finally:
        os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 65536)
        except OSError as exc:  # EIO: the child closed the terminal
            if exc.errno != errno.EIO:
                raise
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    code = process.wait(timeout=60)
    return code, b"".join(chunks).decode("utf-8").replace("\r\n", "\n")


def example_copy(folder: Path) -> Path:
    """A copy of the shipped example store, so nothing can touch the original."""
    shutil.copy2(EXAMPLE, folder / "plan.json")
    shutil.copytree(EXAMPLE.with_name("plan.json.d"), folder / "plan.json.d")
    return folder / "plan.json"


def snapshot_path(stem: str, width: int) -> Path:
    return SNAPSHOTS / f"{stem}-{width}.txt"


def render(db: Path, args: list[str], width: int) -> str:
    """What kt draws at ``width`` columns, without colour (NO_COLOR), as stored in a snapshot."""
    code, out = run_in_pty(["--db", str(db), *args], width, base_env(NO_COLOR="1"))
    if code != EXIT_CODES.get(args[0], 0):
        raise AssertionError(f"kt {' '.join(args)} exited {code}: {out}")
    return out


def piped(db: Path, args: list[str]) -> bytes:
    """What kt writes to a pipe (COLUMNS set, to show that it changes nothing)."""
    result = subprocess.run(
        [sys.executable, "-m", "knowsley_tracker", "--db", str(db), *args],
        env=base_env(COLUMNS="60"),
        capture_output=True,
        check=False,
    )
    if result.returncode != EXIT_CODES.get(args[0], 0):
        raise AssertionError(f"kt {' '.join(args)} exited {result.returncode}: {result.stderr!r}")
    return result.stdout


def main() -> int:
    parser = argparse.ArgumentParser(description="Rewrite the terminal snapshots (review each before committing).")
    parser.add_argument("--update", action="store_true", help="write tests/snapshots/terminal/*.txt")
    parser.add_argument(
        "--update-piped",
        action="store_true",
        help="write tests/snapshots/piped/*.txt (only when piped output is meant to change: say why in the commit)",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = example_copy(Path(tmp))
        if args.update_piped:
            for name, kt_args in PIPED_COMMANDS.items():
                (PIPED / f"{name}.txt").write_bytes(piped(db, kt_args))
                print(f"wrote tests/snapshots/piped/{name}.txt")
        every = [(stem, kt_args, WIDTHS) for stem, kt_args in COMMANDS]
        for stem, kt_args, widths in [*every, *COMMANDS_AT]:
            for width in widths:
                text = render(db, kt_args, width)
                path = snapshot_path(stem, width)
                if args.update:
                    path.parent.mkdir(parents=True, exist_ok=True)
                    path.write_text(text, encoding="utf-8")
                    print(f"wrote {path.relative_to(ROOT)} ({text.count(chr(10))} lines)")
                else:
                    same = path.exists() and path.read_text(encoding="utf-8") == text
                    print(f"{path.relative_to(ROOT)}: {'unchanged' if same else 'DIFFERS'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
