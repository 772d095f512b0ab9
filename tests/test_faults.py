"""Fault injection: the store keeps every saved change under real failures.

Concurrent `kt log` processes, writers killed with SIGKILL, Ctrl-C, writes that
fail with ENOSPC or EIO at each step, a lock held by another process, and
damaged store files. Each test counts what it exercised
(tests/helpers/fault_counts.py); the counts are printed after the pytest run.
The fault suite goes on in test_faults_links.py (another member of the store's
group plants links) and test_faults_exits.py (exit codes under Ctrl-C, full
disks, file-size limits, a read-only filesystem and a racing restore).
"""

from __future__ import annotations

import errno
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

import pytest
from helpers.fault_counts import add as count

from knowsley_tracker import storage
from knowsley_tracker.errors import CorruptStoreError, StoreLockedError, StoreWriteError
from knowsley_tracker.storage import SCHEMA_VERSION, Store, StorePaths, file_format, folders, read_store_file, segments

HELPERS = Path(__file__).parent / "helpers"
NOW = "2025-11-30T09:00:00+00:00"
SAVED = "30 Nov 2025 09:00"
SEED = 20251130


def kt_command() -> list[str]:
    """The installed kt, as a user would run it."""
    script = Path(sys.executable).parent / "kt"
    return [str(script)] if script.exists() else [sys.executable, "-m", "knowsley_tracker"]


def child_env(db: Path, **extra: str) -> dict[str, str]:
    """The environment for a subprocess, given explicitly (not inherited from the test's fixtures)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("KNOWSLEY_TRACKER_")}
    env.update(
        KNOWSLEY_TRACKER_DB=str(db),
        KNOWSLEY_TRACKER_NOW=NOW,
        KNOWSLEY_TRACKER_USER="Test Officer",
        KNOWSLEY_TRACKER_LOCK_TIMEOUT="120",
        TZ="UTC",
    )
    env.update(extra)
    return env


def tree(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` with its bytes: the whole store, backups included."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def one_action_store(kt: Any, db: Path) -> None:
    for step in (
        ["--db", str(db), "init", "--authority", "Test Council"],
        ["--db", str(db), "rec", "add", "The caseloads of personal advisers (PAs)."],
        ["--db", str(db), "action", "add", "R1", "Recruit two more personal advisers", "--due", "31/03/2026"],
    ):
        result = kt(*step)
        assert result.exit_code == 0, (step, result.stderr)


class LogReader:
    """Reads a store's log as a fresh command would, reusing sealed segments already
    read (they are immutable, and named by the txn that wrote them)."""

    def __init__(self, db: Path) -> None:
        self.db = db
        self.segments: dict[str, dict[str, Any]] = {}

    def read(self) -> tuple[Store, dict[int, dict[str, Any]]]:
        store = Store(StorePaths(self.db), read_store_file(self.db), writable=False)
        store._segment_cache.update(self.segments)
        rows = dict(store.rows("log"))
        self.segments.update(store._segment_cache)
        return store, rows


def check_log(store: Store, rows: dict[int, dict[str, Any]], reported: dict[int, str], *, final: bool = True) -> None:
    """Every reported write is present with its note; ids have no gaps or duplicates; the
    action's summary fields and the progress chain agree with the log."""
    missing = {i: note for i, note in reported.items() if rows.get(i, {}).get("note") != note}
    assert not missing, f"writes reported as saved are missing: {sorted(missing.items())[:5]}"
    assert sorted(rows) == list(range(1, len(rows) + 1))
    notes = [row["note"] for row in rows.values()]
    assert len(set(notes)) == len(notes)
    progress = 0
    for entry_id in sorted(rows):
        change = rows[entry_id]["changes"].get("progress")
        if change is not None:
            assert change[0] == progress, f"L{entry_id} saw progress {change[0]}, not {progress}: a lost update"
            progress = change[1]
    action = store.row("actions", 1)
    assert action is not None
    assert action["progress"] == progress
    if rows:
        latest = rows[max(rows)]
        assert (action["last_logged_at"], action["last_note"]) == (latest["at"], latest["note"])
    history = [i for i, _ in store.rows("history")]
    assert history == list(range(1, store.txn + 1))
    assert store.meta["counters"].get("log", 0) >= len(rows)
    count("store checks")
    if final:
        count("records verified", len(rows))


# ---------------------------------------------------------------------------
# Many processes at once


def test_concurrent_kt_log_processes_keep_every_entry(kt: Any, db: Path) -> None:
    one_action_store(kt, db)
    workers, each = 8, 4
    env = child_env(db)
    procs = [
        subprocess.Popen(
            [sys.executable, str(HELPERS / "kt_worker.py"), str(w), str(each), *kt_command()],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for w in range(workers)
    ]
    outputs: list[str] = []
    try:
        for proc in procs:
            assert proc.stdout is not None
            assert proc.stdout.readline() == "ready\n"
        for proc in procs:  # all start at the same moment
            assert proc.stdin is not None
            proc.stdin.write("go\n")
            proc.stdin.flush()
        for proc in procs:
            out, err = proc.communicate(timeout=240)
            assert proc.returncode == 0, err
            outputs += out.splitlines()
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
    count("concurrent processes", workers)
    results = [json.loads(line) for line in outputs]
    count("concurrent kt commands", len(results))
    assert len(results) == workers * each
    reported: dict[int, str] = {}
    for result in results:
        assert (result["rc"], result["stderr"]) == (0, ""), result
        m = re.fullmatch(r"Logged L(\d+) on A1(: .*)?\.\n", result["stdout"])
        assert m, result["stdout"]
        assert int(m[1]) not in reported
        reported[int(m[1])] = result["note"]
    store, rows = LogReader(db).read()
    assert sorted(reported) == list(range(1, workers * each + 1))
    check_log(store, rows, reported)
    assert store.txn == 2 + workers * each
    # Each command with --progress left A1 at its value until the next one.
    by_note = {r["note"]: r for r in results}
    progress = 0
    for entry_id in sorted(rows):
        given = by_note[rows[entry_id]["note"]]["progress"]
        if given is not None:
            progress = given
        assert rows[entry_id]["changes"].get("progress", [None, progress])[1] == progress
    doctor = kt("--db", str(db), "doctor")
    assert doctor.exit_code == 0, doctor.stdout


# ---------------------------------------------------------------------------
# SIGKILL


class KillWriter:
    """Drives tests/helpers/kill_writer.py: forks writers, kills them, collects what they reported."""

    def __init__(self, db: Path, segment_rows: int) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, str(HELPERS / "kill_writer.py"), str(db), str(segment_rows)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=child_env(db),
        )
        self.reported: dict[int, str] = {}

    def _line(self) -> str:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            raise AssertionError(f"the writer process died: {self.stderr()}")
        return line.rstrip("\n")

    def stderr(self) -> str:
        self.proc.kill()
        _, err = self.proc.communicate()
        return err

    def run(self, tag: str, *, step: int | None = None, delay: float | None = None) -> int:
        """Start one writer; kill it after ``delay`` seconds (or let it kill itself at ``step``)."""
        assert self.proc.stdin is not None
        self.proc.stdin.write(f"go {tag}{'' if step is None else f' {step}'}\n")
        self.proc.stdin.flush()
        kind, _, pid = self._line().split()
        assert kind == "pid"
        if delay is not None:
            time.sleep(delay)
            os.kill(int(pid), signal.SIGKILL)
        while True:
            line = self._line()
            if line.startswith("ok "):
                _, entry_id, note = line.split(" ", 2)
                self.reported[int(entry_id)] = note
            elif line.startswith(f"dead {tag} "):
                signum = int(line.split()[2])
                assert signum == signal.SIGKILL, f"writer {tag} ended without SIGKILL: {self.stderr()}"
                count("SIGKILLs")
                return signum
            else:
                raise AssertionError(f"unexpected line from the writer: {line!r}")

    def close(self) -> None:
        if self.proc.poll() is None:
            assert self.proc.stdin is not None
            self.proc.stdin.write("quit\n")
            self.proc.stdin.flush()
            self.proc.communicate(timeout=30)


def test_sigkill_at_random_points_never_loses_a_reported_write(kt: Any, db: Path) -> None:
    one_action_store(kt, db)
    writer = KillWriter(db, segment_rows=4)
    reader = LogReader(db)
    rng = random.Random(SEED)
    try:
        # First at each low-level step in turn (a write cut off half-way, before each
        # fsync, before the rename, after it), through commits that seal segments...
        for step in range(1, 31):
            writer.run(f"step{step}", step=step)
            store, rows = reader.read()
            check_log(store, rows, writer.reported, final=False)
        # ...then at random moments.
        for n in range(120):
            writer.run(f"kill{n}", delay=rng.uniform(0.0, 0.08))
            store, rows = reader.read()
            check_log(store, rows, writer.reported, final=False)
    finally:
        writer.close()
    assert len(writer.reported) > 100
    assert store.meta["segments"]["log"], "no segment was sealed, so no kill landed in a segment write"
    # A fresh read of everything (no cached segments) and the doctor agree.
    store, rows = LogReader(db).read()
    check_log(store, rows, writer.reported)
    doctor = kt("--db", str(db), "doctor")
    assert doctor.exit_code == 0, doctor.stdout
    fixed = kt("--db", str(db), "doctor", "--fix")
    assert fixed.exit_code == 0, fixed.stdout
    assert storage.stale_temp_files(StorePaths(db)) == []
    assert kt("--db", str(db), "doctor").stdout.endswith("No problems found.\n")


# ---------------------------------------------------------------------------
# Failed writes and Ctrl-C, step by step


class Faults:
    """Replaces the store's low-level file calls: records each one, and fails (or
    interrupts) the Nth. A failing write first writes half its bytes, as a disk
    that fills up part-way would."""

    def __init__(
        self, monkeypatch: pytest.MonkeyPatch, *, fail_at: int = 0, err: int = 0, interrupt_at: int = 0
    ) -> None:
        self.calls: list[str] = []
        self.fail_at, self.err, self.interrupt_at = fail_at, err, interrupt_at
        for name in ("_os_write", "_os_fsync", "_os_replace"):
            monkeypatch.setattr(folders, name, self._wrap(name, getattr(folders, name)))

    def _wrap(self, name: str, real: Callable[..., Any]) -> Callable[..., Any]:
        def call(*args: Any, **kwargs: Any) -> Any:
            self.calls.append(_describe(name, args))
            n = len(self.calls)
            if n == self.fail_at:
                count("write faults injected")
                if name == "_os_write":
                    real(args[0], bytes(args[1][: len(args[1]) // 2]))
                raise OSError(self.err, os.strerror(self.err))
            if n == self.interrupt_at:
                count("Ctrl-C interrupts")
                os.kill(os.getpid(), signal.SIGINT)
            return real(*args, **kwargs)

        return call


def _unguessable(name: str) -> str:
    """Temporary names carry 16 random hex digits; the steps show them as RANDOM."""
    return re.sub(r"\.[0-9a-f]{16}\.tmp$", ".RANDOM.tmp", name)


def _describe(name: str, args: tuple[Any, ...]) -> str:
    if name == "_os_replace":
        return f"rename {_unguessable(Path(args[0]).name)} -> {Path(args[1]).name}"
    target = Path(os.readlink(f"/proc/self/fd/{args[0]}"))
    what = "write" if name == "_os_write" else "fsync"
    return f"{what} {target.name}/" if target.is_dir() else f"{what} {_unguessable(target.name)}"


def _steps(names: list[str]) -> list[str]:
    return list(names)


def _store_steps(folder: str, tmp: str = ".plan.json.RANDOM.tmp") -> list[str]:
    return [f"write {tmp}", f"fsync {tmp}", f"rename {tmp} -> plan.json", f"fsync {folder}/"]


def _segment_steps(name: str) -> list[str]:
    tmp = f".{name}.RANDOM.tmp"
    return [f"write {tmp}", f"fsync {tmp}", f"rename {tmp} -> {name}", "fsync segments/"]


def _build(kt: Any, folder: Path, extra: list[list[str]]) -> Path:
    db = folder / "plan.json"
    one_action_store(kt, db)
    for step in extra:
        assert kt("--db", str(db), *step).exit_code == 0, step
    return db


SCENARIOS: dict[str, tuple[list[list[str]], list[str], Callable[[str], list[str]]]] = {
    # name: (commands that build the store, the command under test, its expected file steps)
    "log": ([], ["log", "A1", "Advert out"], lambda d: _store_steps(d)),
    "undo": ([["done", "A1"]], ["undo"], lambda d: _store_steps(d)),
    "seal": (
        [["log", "A1", f"note {i}"] for i in range(4)],
        ["log", "A1", "Advert out"],
        lambda d: (
            _segment_steps("log-0000001-0000002-t000007.json")
            + _segment_steps("history-0000001-0000002-t000007.json")
            + _store_steps(d)
        ),
    ),
}


@pytest.mark.parametrize("err", [errno.ENOSPC, errno.EIO], ids=["ENOSPC", "EIO"])
@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_write_failing_at_each_step_leaves_the_store_as_it_was(
    kt: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, scenario: str, err: int
) -> None:
    build, command, expected = SCENARIOS[scenario]
    base = _build(kt, tmp_path / "base", build)
    if scenario == "seal":
        monkeypatch.setattr(segments, "SEGMENT_ROWS", 2)
    # A clean run shows the steps a commit takes.
    trial = tmp_path / "trial"
    shutil.copytree(base.parent, trial)
    probe = Faults(monkeypatch)
    assert kt("--db", str(trial / "plan.json"), *command).exit_code == 0
    assert probe.calls == _steps(expected("trial"))
    for n in range(1, len(probe.calls) + 1):
        case = tmp_path / f"fail{n}"
        shutil.copytree(base.parent, case)
        before = tree(case)
        faults = Faults(monkeypatch, fail_at=n, err=err)
        result = kt("--db", str(case / "plan.json"), *command)
        assert (result.exit_code, result.stdout) == (StoreWriteError.exit_code, ""), (n, result.stderr)
        assert result.stderr == (
            f"Error: Could not save {case / 'plan.json'} ({os.strerror(err)}); "
            "the store is unchanged and nothing was lost.\n"
        ), faults.calls[n - 1]
        assert tree(case) == before, f"files changed after a failure at {faults.calls[n - 1]}"
        Faults(monkeypatch)  # no more faults: the store is usable and the lock was let go
        assert kt("--db", str(case / "plan.json"), *command).exit_code == 0
        shutil.rmtree(case)


@pytest.mark.parametrize("scenario", ["log", "seal"])
def test_ctrl_c_at_each_step_either_saves_everything_or_nothing(
    kt: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, scenario: str
) -> None:
    build, command, expected = SCENARIOS[scenario]
    base = _build(kt, tmp_path / "base", build)
    if scenario == "seal":
        monkeypatch.setattr(segments, "SEGMENT_ROWS", 2)
    steps = _steps(expected("case"))
    commit_point = next(i for i, s in enumerate(steps, 1) if s.endswith("-> plan.json"))
    for n in range(1, len(steps) + 1):
        case = tmp_path / "case"
        shutil.copytree(base.parent, case)
        before = tree(case)
        Faults(monkeypatch, interrupt_at=n)
        result = kt("--db", str(case / "plan.json"), *command)
        if n < commit_point:
            # Interrupted before the rename: nothing saved, no files left behind.
            assert (result.exit_code, result.stdout) == (130, ""), n
            assert tree(case) == before
        else:
            # The rename had started: the save completes and is reported.
            assert (result.exit_code, result.stdout) == (0, "Logged L5 on A1.\n" if build else "Logged L1 on A1.\n")
            store, rows = LogReader(case / "plan.json").read()
            assert rows[max(rows)]["note"] == "Advert out"
        Faults(monkeypatch)
        shutil.rmtree(case)


def test_failed_restore_keeps_the_damaged_store_where_it_was(
    kt: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    base = _build(kt, tmp_path / "base", [["log", "A1", "Advert out"]])
    base.write_bytes(base.read_bytes()[:200])
    for n in range(1, 5):
        case = tmp_path / f"case{n}"
        shutil.copytree(base.parent, case)
        before = tree(case)
        Faults(monkeypatch, fail_at=n, err=errno.EIO)
        result = kt("--db", str(case / "plan.json"), "restore")
        assert result.exit_code == StoreWriteError.exit_code, result.stderr
        assert tree(case) == before
    Faults(monkeypatch)
    assert kt("--db", str(case / "plan.json"), "restore").exit_code == 0


def test_failed_schema_upgrade_leaves_the_old_store(kt: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    base = _build(kt, tmp_path / "base", [])
    monkeypatch.setattr(file_format, "SCHEMA_VERSION", SCHEMA_VERSION + 1)
    monkeypatch.setattr(file_format, "MIGRATIONS", {SCHEMA_VERSION: lambda data: None})
    for n in range(1, 5):
        case = tmp_path / f"case{n}"
        shutil.copytree(base.parent, case)
        before = tree(case)
        Faults(monkeypatch, fail_at=n, err=errno.ENOSPC)
        result = kt("--db", str(case / "plan.json"), "log", "A1", "note")
        assert result.exit_code == StoreWriteError.exit_code, result.stderr
        assert tree(case) == before


def test_failed_snapshot_write_saves_nothing(store: Store, monkeypatch: pytest.MonkeyPatch, db: Path) -> None:
    with store.transaction(by="Test Officer", what="setup"):
        store.set_setting("backups", 3)
    before = tree(db.parent)
    for n in range(1, 9):
        faults = Faults(monkeypatch, fail_at=n, err=errno.ENOSPC)
        with pytest.raises(StoreWriteError), store.transaction(by="Test Officer", what=f"board freeze {n}"):
            store.save_snapshot("board-2025-11-30-B1", {"actions": ["A1"]})
        assert tree(db.parent) == before, faults.calls
    Faults(monkeypatch)
    with store.transaction(by="Test Officer", what="board freeze B1"):
        name = store.save_snapshot("board-2025-11-30-B1", {"actions": ["A1"]})
    assert store.load_snapshot(name) == {"actions": ["A1"]}
    assert (db.parent / "plan.json.d" / "snapshots" / name).exists()


# ---------------------------------------------------------------------------
# A lock held by another process


@pytest.fixture
def holder(db: Path) -> Iterator[Callable[[], subprocess.Popen[str]]]:
    started: list[subprocess.Popen[str]] = []

    def start() -> subprocess.Popen[str]:
        proc = subprocess.Popen(
            [sys.executable, str(HELPERS / "hold_lock.py"), str(db)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=child_env(db),
        )
        started.append(proc)
        assert proc.stdout is not None
        assert proc.stdout.readline() == "held\n", proc.stderr.read() if proc.stderr else ""
        return proc

    yield start
    for proc in started:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def _let_go(proc: subprocess.Popen[str], line: str = "release") -> None:
    stdin: IO[str] | None = proc.stdin
    assert stdin is not None
    stdin.write(line + "\n")
    stdin.flush()
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert out == "released\n"


def test_writers_give_up_with_store_busy_while_another_process_holds_the_lock(
    plan: Any, db: Path, holder: Callable[[], subprocess.Popen[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    proc = holder()
    before = tree(db.parent)
    busy = (
        f"Error: The store {db} is busy: another kt command held it for {{}} s. "
        "Try again, or wait longer with --lock-timeout or KNOWSLEY_TRACKER_LOCK_TIMEOUT.\n"
    )
    for args in (["log", "A1", "x"], ["undo"], ["restore"], ["action", "add", "R1", "New", "--due", "+2w"]):
        result = plan("--lock-timeout", "0.2", *args)
        assert (result.exit_code, result.stdout, result.stderr) == (StoreLockedError.exit_code, "", busy.format("0.2"))
        count("lock timeouts")
    monkeypatch.setenv("KNOWSLEY_TRACKER_LOCK_TIMEOUT", "0.1")
    result = plan("done", "A2")
    assert (result.exit_code, result.stderr) == (StoreLockedError.exit_code, busy.format("0.1"))
    count("lock timeouts")
    # Readers take no lock.
    assert plan("action", "list").exit_code == 0
    assert tree(db.parent) == before
    _let_go(proc)
    assert plan("--lock-timeout", "0.2", "log", "A1", "x").exit_code == 0


def test_a_writer_waits_for_the_lock_and_then_sees_the_holders_change(
    kt: Any, db: Path, holder: Callable[[], subprocess.Popen[str]]
) -> None:
    one_action_store(kt, db)
    proc = holder()
    waiter = subprocess.Popen(
        [*kt_command(), "log", "A1", "from the waiter"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=child_env(db, KNOWSLEY_TRACKER_LOCK_TIMEOUT="60"),
    )
    time.sleep(0.5)  # lets the waiter reach the lock; the checks below hold either way
    _let_go(proc, "commit from the holder")
    out, err = waiter.communicate(timeout=60)
    assert (waiter.returncode, out, err) == (0, "Logged L2 on A1.\n", "")
    store, rows = LogReader(db).read()
    # Had the waiter gone ahead unlocked, it would have read the store before the
    # holder's entry and saved over it.
    assert [r["note"] for _, r in sorted(rows.items())] == ["from the holder", "from the waiter"]
    check_log(store, rows, {1: "from the holder", 2: "from the waiter"})


# ---------------------------------------------------------------------------
# Damaged stores


def _meta_edit(good: bytes, **changes: Any) -> bytes:
    data = json.loads(good)
    data["_meta"]["1"].update(changes)
    return json.dumps(data).encode()


def _table_edit(good: bytes, table: str, value: Any) -> bytes:
    data = json.loads(good)
    data[table] = value
    return json.dumps(data).encode()


DAMAGE: dict[str, tuple[Callable[[bytes], bytes], str]] = {
    "empty": (lambda g: b"", "The store {db} is empty (0 bytes)."),
    "white space": (lambda g: b" \n\n", "The store {db} holds only white space."),
    "truncated": (
        lambda g: g[: len(g) // 2],
        "The store {db} is damaged: it is not complete JSON (truncated or overwritten).",
    ),
    "NUL bytes": (lambda g: g[:40] + b"\x00" * 64 + g[104:], "The store {db} is damaged: it contains NUL bytes."),
    "zeroed": (lambda g: b"\x00" * len(g), "The store {db} is damaged: it contains NUL bytes."),
    "not JSON": (
        lambda g: b"<html>Service unavailable</html>\n",
        "The store {db} is damaged: it is not complete JSON (truncated or overwritten).",
    ),
    "JSON list": (lambda g: b"[1, 2, 3]\n", "The file {db} is JSON but not a knowsley-tracker store."),
    "plain TinyDB": (
        lambda g: b'{"_default": {"1": {"title": "x"}}}',
        "The file {db} is JSON but not a knowsley-tracker store.",
    ),
    "other format": (
        lambda g: _meta_edit(g, format="another-tool"),
        "The file {db} is JSON but not a knowsley-tracker store.",
    ),
    "no schema": (lambda g: _meta_edit(g, schema_version="1"), "The store {db} has no valid schema version."),
    "bad table": (
        lambda g: _table_edit(g, "actions", [1, 2]),
        "The store {db} is damaged: its 'actions' table is not a table of records.",
    ),
    "bad counters": (
        lambda g: _meta_edit(g, counters=[3]),
        "The store {db} is damaged: its 'counters' record is not valid.",
    ),
}
NEWER = SCHEMA_VERSION + 1


@pytest.mark.parametrize("kind", sorted(DAMAGE))
def test_a_damaged_store_is_refused_unchanged_and_restore_brings_it_back(plan: Any, db: Path, kind: str) -> None:
    damage, message = DAMAGE[kind]
    db.write_bytes(damage(db.read_bytes()))
    before = tree(db.parent)
    # Each command keeps the version it replaces, so the newest backup is the plan
    # before the last command (kt done A4).
    newest = db.parent / "plan.json.d" / "backups" / "plan-t000012-20251130T090000Z.json"
    expected = (
        f"Error: {message.format(db=db)} The file has not been changed. "
        f"Newest good backup: {newest} (saved {SAVED}); bring it back with: kt restore.\n"
    )
    for args in (["action", "list"], ["log", "A1", "x"], ["history"], ["undo"], ["config", "set", "backups", "3"]):
        result = plan(*args)
        assert (result.exit_code, result.stdout, result.stderr) == (CorruptStoreError.exit_code, "", expected), args
        count("corrupt stores refused")
    assert tree(db.parent) == before
    doctor = plan("doctor")
    assert doctor.exit_code == CorruptStoreError.exit_code
    assert doctor.stdout == (
        f"Checked {db}: it cannot be read.\n"
        f"Problem: {expected.removeprefix('Error: ')}"
        f"  Fix: kt restore brings back {newest.name} (saved {SAVED}) and keeps the damaged file aside.\n"
    )
    assert tree(db.parent) == before
    restored = plan("restore")
    assert restored.exit_code == 0, restored.stderr
    kept = db.parent / "plan.json.d" / "backups" / "plan-damaged-20251130T090000Z.json"
    assert restored.stdout == (
        f"Restored {newest.name} (txn 12, saved {SAVED}); saved as txn 14.\n"
        f"The damaged store it replaced is kept as {kept}.\n"
        "The damaged store held 1 later command that this backup does not have: check the plan and redo it.\n"
    )
    assert kept.read_bytes() == before["plan.json"]
    assert json.loads(plan("action", "show", "A4", "--json").stdout)["status"] == "not-started"
    assert plan("doctor").exit_code == 0
    # Ids carry on from the damaged version: L2 (kt done A4) is never handed out again.
    assert plan("done", "A4", "Cap agreed again").stdout == ("A4 is complete: Agree a PA caseload cap (logged L3).\n")


def test_a_store_from_a_newer_version_is_refused_and_never_rewritten(plan: Any, db: Path) -> None:
    db.write_bytes(_meta_edit(db.read_bytes(), schema_version=NEWER))
    before = tree(db.parent)
    newest = db.parent / "plan.json.d" / "backups" / "plan-t000012-20251130T090000Z.json"
    expected = (
        f"Error: The store {db} uses schema version {NEWER}, newer than this knowsley-tracker understands "
        f"({SCHEMA_VERSION}): upgrade knowsley-tracker. The file has not been changed. The newest backup this "
        f"version can read is {newest} (saved {SAVED}), but restoring it would drop what the newer version saved.\n"
    )
    for args in (["action", "list"], ["log", "A1", "x"], ["doctor", "--fix"]):
        result = plan(*args)
        assert result.exit_code == CorruptStoreError.exit_code, args
        count("corrupt stores refused")
        if args[0] != "doctor":
            assert result.stderr == expected
    assert tree(db.parent) == before
