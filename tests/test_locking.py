"""locking.py: the store's write lock, on the operating system's own file locks."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from knowsley_tracker.locking import FileLock, LockTimeout, LockUnsafe

HOLDER = textwrap.dedent(
    """
    import sys, time
    from knowsley_tracker.locking import FileLock
    lock = FileLock(sys.argv[1], timeout=5)
    lock.acquire()
    print("held", flush=True)
    time.sleep(60)
    """
)


def hold_in_another_process(path: Path) -> subprocess.Popen[str]:
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(path)], stdout=subprocess.PIPE, text=True)
    assert holder.stdout is not None and holder.stdout.readline() == "held\n"
    return holder


def test_acquire_release_and_reacquire(tmp_path: Path) -> None:
    path = tmp_path / "lock"
    lock = FileLock(path, timeout=1)
    with lock:
        assert lock.is_locked
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert not lock.is_locked
    lock.acquire()
    lock.release()
    lock.release()  # releasing twice is harmless


def test_a_second_holder_times_out(tmp_path: Path) -> None:
    path = tmp_path / "lock"
    holder = hold_in_another_process(path)
    try:
        with pytest.raises(LockTimeout):
            FileLock(path, timeout=0.2).acquire()
        with pytest.raises(LockTimeout):
            FileLock(path, timeout=0).acquire()  # no wait at all
    finally:
        holder.kill()
        holder.communicate()


def test_a_killed_holder_leaves_no_lock_behind(tmp_path: Path) -> None:
    path = tmp_path / "lock"
    holder = hold_in_another_process(path)
    os.kill(holder.pid, signal.SIGKILL)
    holder.communicate()
    with FileLock(path, timeout=2) as lock:
        assert lock.is_locked


def test_never_through_a_symbolic_link(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere"
    target.write_text("precious")
    link = tmp_path / "lock"
    link.symlink_to(target)
    with pytest.raises(LockUnsafe) as refused:
        FileLock(link, timeout=0).acquire()
    assert (refused.value.what, refused.value.target) == ("symbolic link", str(target))
    assert target.read_text() == "precious"


def test_never_through_a_second_name(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere"
    target.write_text("precious")
    target.chmod(0o600)
    os.link(target, tmp_path / "lock")
    with pytest.raises(LockUnsafe) as refused:
        FileLock(tmp_path / "lock", timeout=0, mode=0o666).acquire()
    assert refused.value.what == "hard link"
    assert (target.read_text(), stat.S_IMODE(target.stat().st_mode)) == ("precious", 0o600)


def test_a_group_shared_mode_is_applied_to_our_own_lock_file(tmp_path: Path) -> None:
    path = tmp_path / "lock"
    path.touch(mode=0o600)
    with FileLock(path, timeout=1, mode=0o660):
        assert stat.S_IMODE(path.stat().st_mode) == 0o660
