"""Fault suite, part 3: exit codes tell the truth (cron decides retries from them).

A change that was saved is never reported as failed or as "nothing was saved":
Ctrl-C after the commit point, a confirmation that cannot be printed (standard
output closed, /dev/full) and a lock file that cannot be closed all end in exit
0 or 12 with the change in the store. Output that cannot be written in full
(disk full, file-size limit) is exit 11 with one line, while a reader that goes
away (``| head``) stays quiet and successful. A read-only filesystem and a
filesystem out of inodes are real (a tmpfs in a private mount namespace, as
root), and give exit 11 and one line. ``kt restore`` while another officer
writes says exactly what it would undo, under the lock.
"""

from __future__ import annotations

import errno
import json
import os
import random
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from helpers.fault_counts import add as count
from test_faults import LogReader, child_env, kt_command, one_action_store, tree

from knowsley_tracker import locking
from knowsley_tracker.errors import SAVED_BUT_EXIT, ConflictError, OutputWriteError, StoreWriteError, TrackerError
from knowsley_tracker.render import text as render_text
from knowsley_tracker.storage import backups, highwater

HELPERS = Path(__file__).parent / "helpers"
SEED = 20251130


def saved_notes(db: Path) -> list[str]:
    _, rows = LogReader(db).read()
    return [row["note"] for _, row in sorted(rows.items())]


def run_kt(db: Path, *args: str, **popen: Any) -> subprocess.CompletedProcess[str]:
    """kt as a process; stdout and stderr captured unless ``popen`` says where stdout goes."""
    popen.setdefault("stdout", subprocess.PIPE)
    return subprocess.run(
        [*kt_command(), *args], stderr=subprocess.PIPE, text=True, env=child_env(db), timeout=120, check=False, **popen
    )


def no_traceback(*streams: str) -> None:
    for text in streams:
        assert "Traceback" not in text and "OSError" not in text, text


# ---------------------------------------------------------------------------
# Ctrl-C after the commit point


def _interrupt_then(real: Callable[..., Any]) -> Callable[..., Any]:
    def call(*args: Any, **kwargs: Any) -> Any:
        count("Ctrl-C interrupts")
        os.kill(os.getpid(), signal.SIGINT)
        return real(*args, **kwargs)

    return call


AFTER_COMMIT: dict[str, Callable[[pytest.MonkeyPatch], None]] = {
    # Where older kt exited 130 "nothing was saved" although the entry was saved.
    "high-water write": lambda mp: mp.setattr(
        highwater, "_write_highwater", _interrupt_then(highwater._write_highwater)
    ),
    "lock release (unlock)": lambda mp: mp.setattr(locking, "_unlock", _interrupt_then(locking._unlock)),
    "lock release (close)": lambda mp: mp.setattr(locking, "_close", _interrupt_then(locking._close)),
    "backup pruning": lambda mp: mp.setattr(backups, "_prune_backups", _interrupt_then(backups._prune_backups)),
    "printing the confirmation": lambda mp: mp.setattr(
        "knowsley_tracker.cli._context.emit", _interrupt_then(render_text.emit)
    ),
}


@pytest.mark.parametrize("where", sorted(AFTER_COMMIT))
def test_ctrl_c_after_the_commit_point_finishes_the_command_and_exits_0(
    kt: Any, db: Path, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    one_action_store(kt, db)
    AFTER_COMMIT[where](monkeypatch)
    result = kt("log", "A1", "Advert out")
    assert (result.exit_code, result.stdout, result.stderr) == (0, "Logged L1 on A1.\n", "")
    assert saved_notes(db) == ["Advert out"]
    # Ctrl-C works again for the next command (the handler was put back).
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_ctrl_c_at_random_moments_never_reports_a_saved_entry_as_lost(db: Path, tmp_path: Path, kt: Any) -> None:
    """Real kt processes sent SIGINT at random moments, many landing late in the command
    (where the commit, the high-water write and the lock release are)."""
    one_action_store(kt, db)
    timings = []
    for n in range(3):
        started = time.monotonic()
        assert run_kt(db, "log", "A1", f"timing {n}").returncode == 0
        timings.append(time.monotonic() - started)
    span = statistics.median(timings)
    rng = random.Random(SEED)
    outcomes = {"saved, exit 0": 0, "not saved, exit 130": 0, "not saved, Python itself still starting": 0}
    trials = 160
    for n in range(trials):
        note = f"trial {n}"
        # Half anywhere in the command, half in its last stretch (the save, high-water file, lock release).
        delay = rng.uniform(0.25 * span, 1.15 * span) if n % 2 else rng.uniform(0.6 * span, 1.05 * span)
        proc = subprocess.Popen(
            [*kt_command(), "log", "A1", note],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=child_env(db),
        )
        time.sleep(delay)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=120)
        count("Ctrl-C interrupts")
        saved = note in saved_notes(db)
        if proc.returncode == 0:
            assert saved and out.startswith("Logged L") and err == "", (n, out, err)
            outcomes["saved, exit 0"] += 1
        elif proc.returncode == 130:
            assert not saved and (out, err) == ("", "Interrupted: nothing was saved.\n"), (n, out, err)
            outcomes["not saved, exit 130"] += 1
        else:
            # Ctrl-C before Python had set itself up (its own site import, or before its handler):
            # the interpreter stops on its own, long before kt could have saved anything.
            assert not saved and out == "", (n, proc.returncode, err)
            assert proc.returncode == -signal.SIGINT or "init_import_site" in err, (n, proc.returncode, err)
            outcomes["not saved, Python itself still starting"] += 1
    for outcome, n in outcomes.items():
        count(f"Ctrl-C trials: {outcome}", n)
    assert sum(outcomes.values()) == trials
    assert outcomes["saved, exit 0"] and outcomes["not saved, exit 130"], outcomes
    doctor = run_kt(db, "doctor")
    assert doctor.returncode == 0, doctor.stdout


_DROPPED_INTERRUPT = """
import os, signal, sys
from knowsley_tracker.service import session

real = session.Session.transaction


class Dropped:
    def __del__(self):  # Python can only drop what is raised here: "Exception ignored in ..."
        os.kill(os.getpid(), signal.SIGINT)
        for _ in range(3):
            pass


def transaction(self, what):
    Dropped()
    return real(self, what)


session.Session.transaction = transaction
sys.argv = ["kt", "log", "A1", "dropped interrupt"]
from knowsley_tracker.entry import main

main()
"""


def test_a_ctrl_c_python_drops_still_stops_the_save(db: Path, kt: Any) -> None:
    """Ctrl-C that lands in a __del__ (Python prints "Exception ignored" and carries on)
    once let kt log save and exit 0 under a traceback; it is remembered and the save is
    abandoned: exit 130, one line, nothing saved."""
    one_action_store(kt, db)
    before = db.read_bytes()
    done = subprocess.run(
        [sys.executable, "-c", _DROPPED_INTERRUPT], capture_output=True, text=True, env=child_env(db), timeout=120
    )
    assert (done.returncode, done.stdout, done.stderr) == (130, "", "Interrupted: nothing was saved.\n")
    assert db.read_bytes() == before
    assert "dropped interrupt" not in saved_notes(db)


# ---------------------------------------------------------------------------
# Standard output that cannot be written


@pytest.fixture
def big_store(kt: Any, db: Path) -> Path:
    """A store whose JSON export and report are well over a pipe's 64 KiB."""
    one_action_store(kt, db)
    from knowsley_tracker.dates import Clock
    from knowsley_tracker.service.actions import add_action, log_progress
    from knowsley_tracker.service.session import Session
    from knowsley_tracker.storage import Store

    store = Store.open(db, write=True)
    try:
        s = Session(store=store, clock=Clock.at("2025-11-30T09:00:00+00:00"), user="Test Officer")
        with s.transaction("bulk"):
            for n in range(300):
                action = add_action(
                    s, 1, f"Action {n}: recruit and train a further personal adviser", due=date(2025, 11, 1)
                )
                log_progress(s, action.id, f"Progress note {n} " + "with some detail " * 8)
    finally:
        store.close()
    return db


def test_a_saved_change_whose_confirmation_cannot_be_printed_exits_12(kt: Any, db: Path) -> None:
    one_action_store(kt, db)
    with open("/dev/full", "w") as full:
        result = run_kt(db, "log", "A1", "Printed to a full disk", stdout=full)
    assert result.returncode == SAVED_BUT_EXIT
    assert result.stderr == (
        "Saved as txn 3, but the confirmation could not be shown: standard output failed (No space left on device). "
        "kt history shows what was saved.\n"
    )
    closed = subprocess.run(
        [*kt_command(), "log", "A1", "Printed nowhere"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=child_env(db),
        check=False,
        preexec_fn=lambda: os.close(1),
    )
    assert closed.returncode == SAVED_BUT_EXIT
    assert closed.stderr == (
        "Saved as txn 4, but the confirmation could not be shown: standard output failed (it is closed). "
        "kt history shows what was saved.\n"
    )
    assert saved_notes(db) == ["Printed to a full disk", "Printed nowhere"]
    count("output faults", 2)


def _fsize_limit(limit: int) -> Callable[[], None]:
    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return apply


@pytest.mark.parametrize(
    "args", [["export", "--format", "json"], ["export", "--format", "csv"], ["report"]], ids=" ".join
)
def test_output_to_standard_output_that_cannot_be_completed_exits_11(
    big_store: Path, tmp_path: Path, args: list[str]
) -> None:
    whole = run_kt(big_store, *args)
    assert whole.returncode == 0 and len(whole.stdout) > 65536
    with open("/dev/full", "w") as full:
        result = run_kt(big_store, *args, stdout=full)
    assert (result.returncode, result.stderr) == (
        OutputWriteError.exit_code,
        "Error: Could not write to standard output (No space left on device); the output is incomplete.\n",
    )
    target = tmp_path / "out"
    with open(target, "w") as out:
        limited = run_kt(big_store, *args, stdout=out, preexec_fn=_fsize_limit(4096))
    assert (limited.returncode, limited.stderr) == (
        OutputWriteError.exit_code,
        "Error: Could not write to standard output (File too large); the output is incomplete.\n",
    )
    assert target.stat().st_size == 4096  # truncated, and said so
    count("output faults", 2)


@pytest.mark.parametrize(
    "args", [["export", "--format", "json"], ["report"], ["action", "list"], ["history", "-n", "500"]], ids=" ".join
)
def test_a_reader_that_goes_away_is_quiet_and_successful(big_store: Path, args: list[str]) -> None:
    proc = subprocess.Popen(
        [*kt_command(), *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=child_env(big_store)
    )
    assert proc.stdout is not None and proc.stderr is not None
    assert proc.stdout.read(100)
    proc.stdout.close()  # like | head -c 100
    err = proc.stderr.read()
    proc.stderr.close()
    assert (proc.wait(timeout=60), err) == (0, b"")
    count("output faults")


def test_export_to_a_file_over_the_size_limit_keeps_the_previous_file(big_store: Path, tmp_path: Path) -> None:
    out = tmp_path / "backup.json"
    out.write_text("yesterday's backup\n")
    result = run_kt(big_store, "export", "-o", str(out), preexec_fn=_fsize_limit(4096))
    assert (result.returncode, result.stdout, result.stderr) == (
        StoreWriteError.exit_code,
        "",
        f"Error: Could not write {out} (File too large); nothing was written there.\n",
    )
    assert out.read_text() == "yesterday's backup\n"
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".backup")) == []
    count("output faults")


# ---------------------------------------------------------------------------
# A real read-only filesystem, and one out of inodes


def _in_own_mount_namespace(mode: str, store_dir: Path) -> list[dict[str, Any]]:
    """Run the helper in a mount namespace of its own (as root; otherwise inside a user
    namespace, where an ordinary user may mount a tmpfs too)."""
    as_user = [] if os.geteuid() == 0 else ["--map-root-user"]
    done = subprocess.run(
        ["unshare", *as_user, "-m", "--propagation", "private", sys.executable, str(HELPERS / "full_or_readonly_fs.py")]
        + [mode, str(store_dir), *kt_command()],
        capture_output=True,
        text=True,
        env=child_env(store_dir / "plan.json"),
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    results: list[dict[str, Any]] = json.loads(done.stdout)
    return results


@pytest.fixture
def real_mounts() -> None:
    """Root (as in CI), or a user allowed to make a user namespace, can mount a tmpfs."""
    if os.geteuid() == 0:
        return
    probe = subprocess.run(["unshare", "--map-root-user", "-m", "true"], capture_output=True, check=False)
    if probe.returncode != 0:
        message = (
            "cannot mount a tmpfs here (not root, no user namespaces); "
            "test_a_read_only_filesystem_at_each_file_step covers the same code by injection"
        )
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)


def test_a_read_only_filesystem_gives_exit_11_and_one_line(real_mounts: None, kt: Any, db: Path) -> None:
    one_action_store(kt, db)
    assert kt("log", "A1", "Before the disk went read-only").exit_code == 0
    results = _in_own_mount_namespace("readonly", db.parent)
    doctor = results.pop()
    commands = [r["args"][0] if r["args"][0] != "doctor" else "doctor --fix" for r in results]
    assert commands == ["log", "restore", "doctor --fix", "export"]
    for result in results:
        count("read-only filesystem commands")
        no_traceback(result["stdout"], result["stderr"])
        assert result["rc"] == StoreWriteError.exit_code, result
        assert result["stderr"].count("\n") == 1 and "(Read-only file system)" in result["stderr"], result
        assert result["unchanged"], result
    store = Path(results[0]["stderr"].split()[4])
    assert (store.name, store.parent.name) == ("plan.json", "store")  # the copy on the read-only mount
    assert results[0]["stderr"] == (
        f"Error: Could not save {store} (Read-only file system); the store is unchanged and nothing was lost.\n"
    )
    assert results[1]["stderr"] == results[0]["stderr"]
    assert results[3]["stderr"] == (
        f"Error: Could not write {store.parent / 'backup.json'} (Read-only file system); nothing was written there.\n"
    )
    # kt doctor says the disk is read-only (not "ask the store's owner to add you to its group").
    mount = store.parent.parent
    assert (doctor["args"], doctor["rc"], doctor["stderr"], doctor["unchanged"]) == (["doctor"], 0, "", True)
    assert (
        f"Warning: {store} is on a filesystem mounted read-only ({mount}): commands can read the store, but none "
        "can save to it, whoever runs them.\n"
        f"  Fix: Ask whoever manages that disk to make it writable again (mount -o remount,rw {mount}; a disk "
        "remounted read-only after errors needs checking first), or copy the store to a writable folder.\n"
    ) in doctor["stdout"], doctor["stdout"]
    assert "group" not in doctor["stdout"]


def test_a_filesystem_out_of_inodes_gives_exit_11_and_one_line(real_mounts: None, kt: Any, db: Path) -> None:
    one_action_store(kt, db)
    results = _in_own_mount_namespace("inodes", db.parent)
    store = Path(results[0]["stderr"].split()[4])
    assert len(results) == 2
    for result in results:
        count("out-of-inode commands")
        no_traceback(result["stdout"], result["stderr"])
        assert (result["rc"], result["stdout"], result["stderr"]) == (
            StoreWriteError.exit_code,
            "",
            f"Error: Could not save {store} (No space left on device); the store is unchanged and nothing was lost.\n",
        ), result
        assert result["unchanged"]


def test_a_read_only_filesystem_at_each_file_step(kt: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The same by injection, step by step (works without root): EROFS at every write, fsync and rename."""
    from test_faults import Faults

    base = tmp_path / "base" / "plan.json"
    one_action_store(kt, base)
    probe = Faults(monkeypatch)
    trial = tmp_path / "trial"
    shutil.copytree(base.parent, trial)
    assert kt("--db", str(trial / "plan.json"), "log", "A1", "x").exit_code == 0
    for n in range(1, len(probe.calls) + 1):
        case = tmp_path / f"case{n}"
        shutil.copytree(base.parent, case)
        before = tree(case)
        Faults(monkeypatch, fail_at=n, err=errno.EROFS)
        result = kt("--db", str(case / "plan.json"), "log", "A1", "x")
        assert (result.exit_code, result.stderr) == (
            StoreWriteError.exit_code,
            f"Error: Could not save {case / 'plan.json'} (Read-only file system); "
            "the store is unchanged and nothing was lost.\n",
        )
        assert tree(case) == before
    Faults(monkeypatch)


# ---------------------------------------------------------------------------
# The lock


@pytest.mark.parametrize(
    ("err", "code", "message"),
    [
        (errno.EIO, StoreWriteError.exit_code, "Could not save {db} (Input/output error); the store is unchanged"),
        (errno.ENOSPC, StoreWriteError.exit_code, "Could not save {db} (No space left on device); the store is"),
        (errno.EMFILE, StoreWriteError.exit_code, "Could not save {db} (Too many open files); the store is"),
        (errno.EACCES, TrackerError.exit_code, "Permission denied locking {lock}: ask the store's owner for access."),
        (errno.ENAMETOOLONG, TrackerError.exit_code, "Could not lock {lock} (File name too long); nothing was saved."),
    ],
    ids=["EIO", "ENOSPC", "EMFILE", "EACCES", "ENAMETOOLONG"],
)
def test_a_lock_file_that_cannot_be_opened_is_one_line_and_a_documented_code(
    kt: Any, db: Path, monkeypatch: pytest.MonkeyPatch, err: int, code: int, message: str
) -> None:
    one_action_store(kt, db)
    before = tree(db.parent)

    def fail(self: locking.FileLock) -> int:
        count("lock faults injected")
        raise (PermissionError if err == errno.EACCES else OSError)(err, os.strerror(err))

    monkeypatch.setattr(locking.FileLock, "_open", fail)
    result = kt("log", "A1", "x")
    assert result.exit_code == code
    assert result.stderr.startswith("Error: " + message.format(db=db, lock=db.parent / "plan.json.d" / "lock"))
    assert result.stderr.count("\n") == 1
    assert tree(db.parent) == before


def test_a_lock_file_that_cannot_be_closed_after_the_save_exits_12(
    kt: Any, db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    one_action_store(kt, db)
    real_close = locking._close

    def close_fails(fd: int) -> None:
        real_close(fd)  # closing lets go of the lock even when the close reports an error
        count("lock faults injected")
        raise OSError(errno.EIO, os.strerror(errno.EIO))

    monkeypatch.setattr(locking, "_close", close_fails)
    result = kt("log", "A1", "Saved all the same")
    assert (result.exit_code, result.stdout) == (SAVED_BUT_EXIT, "Logged L1 on A1.\n")
    assert result.stderr == (
        f"Warning: saved as txn 3, but closing the lock file {db.parent / 'plan.json.d' / 'lock'} failed "
        "(Input/output error); the lock was let go all the same.\n"
    )
    assert saved_notes(db) == ["Saved all the same"]
    # Before any save, the command's own error is what is reported.
    missing = kt("log", "A9", "x")
    assert (missing.exit_code, missing.stderr) == (3, "Error: No action A9: the highest is A1 (see kt action list).\n")
    monkeypatch.setattr(locking, "_close", real_close)
    assert kt("--lock-timeout", "0", "log", "A1", "The lock was free").exit_code == 0


# ---------------------------------------------------------------------------
# kt restore while another officer writes


def _race_one_restore(
    db: Path, backup: str, writer: subprocess.Popen[str], acked: dict[int, str], gone: dict[int, str]
) -> dict[str, Any]:
    """While ``writer`` saves: a restore without --yes is refused, one with --yes goes ahead."""
    assert writer.stdout is not None and writer.stdin is not None
    for _ in range(3):
        _, _, txn, note = writer.stdout.readline().split(" ", 3)
        acked[int(txn)] = note.rstrip("\n")
    refused = run_kt(db, "restore", backup)
    assert refused.returncode == ConflictError.exit_code, refused.stderr
    assert refused.stderr.startswith(f"Error: Restoring {backup} would undo ")
    assert " by Alice Example (txn " in refused.stderr
    assert refused.stderr.endswith(f"Nothing was restored; to undo them anyway: kt restore {backup} --yes\n")
    present = saved_notes(db)
    missing = [note for txn, note in acked.items() if txn not in gone and note not in present]
    assert not missing, (missing, present[-5:], refused.stderr)
    done = run_kt(db, "restore", backup, "--yes", "--json")
    assert done.returncode == 0, done.stderr
    writer.stdin.write("stop\n")
    writer.stdin.flush()
    for line in writer.stdout:
        if line.startswith("ok "):
            _, _, txn, note = line.split(" ", 3)
            acked[int(txn)] = note.rstrip("\n")
    assert writer.wait(timeout=60) == 0
    report: dict[str, Any] = json.loads(done.stdout)
    return report


def test_restore_while_another_officer_writes_says_what_it_undoes_under_the_lock(kt: Any, db: Path) -> None:
    one_action_store(kt, db)
    assert kt("config", "set", "backups", "1000").exit_code == 0  # the chosen backup must outlive the race
    assert kt("log", "A1", "Kept as the backup's version").exit_code == 0
    backup = json.loads(kt("backup", "list", "--json").stdout)["backups"][0]["name"]
    acked: dict[int, str] = {}  # txn -> note: every write the other officer was told was saved
    gone: dict[int, str] = {}  # txn -> who: every command a restore reported as undone
    for _ in range(3):
        with subprocess.Popen(
            [sys.executable, str(HELPERS / "steady_writer.py"), str(db), "Alice Example"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=child_env(db),
        ) as writer:
            try:
                report = _race_one_restore(db, backup, writer, acked, gone)
            finally:
                if writer.poll() is None:
                    writer.kill()
        count("restore races")
        undone = {u["txn"]: u["by"] for u in report["undone"]}
        assert not set(undone) & set(gone)  # nothing is undone twice
        gone.update(undone)
        assert any(by == "Alice Example" for by in undone.values())
        # The count is true: every acknowledged write is either in the log or named as undone.
        notes = set(saved_notes(db))
        for txn, note in acked.items():
            assert (note in notes) != (txn in gone), (txn, note)
        unacknowledged = [txn for txn, by in gone.items() if by == "Alice Example" and txn not in acked]
        assert not unacknowledged, (unacknowledged, sorted(acked), report)
    count("acknowledged writes checked", len(acked))
    count("undone writes reported", sum(1 for by in gone.values() if by == "Alice Example"))
    assert kt("doctor").exit_code == 0


@pytest.fixture(autouse=True)
def _default_sigint() -> Iterator[None]:
    """Each test starts and ends with Python's own Ctrl-C handler."""
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    yield
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
