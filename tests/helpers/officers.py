"""Two officers who share a store through a Unix group, as the README sets it up.

As root (CI), each officer is a real, separate user: commands run through
``setpriv``, which drops to the officer's uid and gid with the shared group as
the only supplementary group, under umask 007 (numeric ids, so no useradd is
needed).
As any other user the two officers are the same account: the attacks are
planted and checked all the same, but the victim cannot be told apart from the
attacker by the kernel (``TWO_USERS`` says which case ran).
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

TWO_USERS = os.geteuid() == 0
GROUP = 61000  # the store's group, kt-plan in the README
VICTIM_UID = 61001
ATTACKER_UID = 61002
NOW = "2025-11-30T09:00:00+00:00"


def kt_command() -> list[str]:
    script = Path(sys.executable).parent / "kt"
    return [str(script)] if script.exists() else [sys.executable, "-m", "knowsley_tracker"]


def umask_007() -> None:
    """The umask the README asks members of a shared store to use."""
    os.umask(0o007)


@dataclass(frozen=True)
class Officer:
    name: str
    uid: int  # os.geteuid() when the officers cannot be separate users

    def as_me(self, command: list[str]) -> list[str]:
        """``command`` run as this officer: setpriv drops to their uid and gid, with the
        store's group as the only other group (what a login in that group would have)."""
        if not TWO_USERS:
            return command
        uid = str(self.uid)
        return ["setpriv", "--reuid", uid, "--regid", uid, "--groups", str(GROUP), "--", *command]

    def env(self, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("KNOWSLEY_TRACKER_")}
        env.update(KNOWSLEY_TRACKER_NOW=NOW, KNOWSLEY_TRACKER_USER=self.name, TZ="UTC", HOME="/nonexistent")
        env.update(extra)
        return env

    def kt(self, db: Path, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        """Run kt as this officer against ``db``."""
        return subprocess.run(
            self.as_me([*kt_command(), "--db", str(db), *args]),
            capture_output=True,
            text=True,
            env=self.env(),
            preexec_fn=umask_007,
            timeout=timeout,
            check=False,
        )

    def python(self, code: str) -> str:
        """Run Python code as this officer (an attacker planting links uses only their own
        rights); returns what it printed."""
        done = subprocess.run(
            self.as_me([sys.executable, "-c", code]),
            capture_output=True,
            text=True,
            env=self.env(),
            preexec_fn=umask_007,
            timeout=60,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout


VICTIM = Officer("Victim Officer", VICTIM_UID if TWO_USERS else os.geteuid())
ATTACKER = Officer("Attacker Officer", ATTACKER_UID if TWO_USERS else os.geteuid())


@dataclass(frozen=True)
class Office:
    """The shared folder and each officer's own files."""

    base: Path
    shared: Path  # /srv/plans: setgid and sticky, owned by the administrator (root)
    folder: Path  # /srv/plans/knowsley: the store's own folder, setgid, group-writable
    db: Path
    victim_home: Path  # the victim's private folder (0700)
    private_file: Path  # the victim's private notes (0600)
    private_plan: Path  # another store the victim keeps privately (0600)
    shared_file: Path  # a file of the victim's that the group may read and write (0660)


def _own(path: Path, uid: int, gid: int, mode: int) -> None:
    if TWO_USERS:
        os.chown(path, uid, gid)
    os.chmod(path, mode)


def _office_at(base: Path) -> Office:
    shared = base / "plans"
    home = base / "victim"
    return Office(
        base=base,
        shared=shared,
        folder=shared / "knowsley",
        db=shared / "knowsley" / "plan.json",
        victim_home=home,
        private_file=home / "notes.txt",
        private_plan=home / "other-council.json",
        shared_file=shared / "minutes.txt",
    )


@contextmanager
def office(like: Office | None = None) -> Iterator[Office]:
    """A fresh office under /tmp (pytest's own temporary folders are private to root); with
    ``like``, an exact copy of that office (owners, modes and hard links kept: cp -a)."""
    base = Path(tempfile.mkdtemp(prefix="kt-office-", dir="/tmp"))
    try:
        os.chmod(base, 0o755)
        if like is not None:
            subprocess.run(["cp", "-a", f"{like.base}/.", str(base)], check=True)
            yield _office_at(base)
            return
        o = _office_at(base)
        o.shared.mkdir()
        _own(o.shared, 0 if TWO_USERS else os.geteuid(), GROUP if TWO_USERS else os.getegid(), 0o3770)
        o.victim_home.mkdir()
        _own(o.victim_home, VICTIM.uid, VICTIM.uid if TWO_USERS else os.getegid(), 0o700)
        yield o
    finally:
        shutil.rmtree(base, ignore_errors=True)


def snapshot(*paths: Path) -> dict[str, tuple[str, int, int, bytes]]:
    """Everything under the paths, links not followed: kind, mode, owner and bytes (a link's target)."""
    found: dict[str, tuple[str, int, int, bytes]] = {}

    def visit(p: Path) -> None:
        st = p.lstat()
        if stat.S_ISLNK(st.st_mode):
            found[str(p)] = ("link", 0, st.st_uid, os.readlink(p).encode())
        elif stat.S_ISDIR(st.st_mode):
            found[str(p)] = ("dir", stat.S_IMODE(st.st_mode), st.st_uid, b"")
            for child in sorted(p.iterdir()):
                visit(child)
        elif stat.S_ISREG(st.st_mode):
            found[str(p)] = ("file", stat.S_IMODE(st.st_mode), st.st_uid, p.read_bytes())
        else:
            found[str(p)] = ("other", stat.S_IMODE(st.st_mode), st.st_uid, b"")

    for path in paths:
        if os.path.lexists(path):
            visit(path)
    return found
