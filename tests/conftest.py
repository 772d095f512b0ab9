"""Shared fixtures: every test gets its own store path, a fixed clock and a runner.

The autouse ``isolate`` fixture points KNOWSLEY_TRACKER_DB at a temporary
folder, so no test can touch real data, and pins "now" to 30 Nov 2025 09:00
UTC (the example plan's "as of" date) in UTC.

Service-level tests take ``plan_store`` (or ``session``), which runs them once
over every implementation of the storage interface in :data:`STORE_KINDS`, as
TinyDB's own tests run over every storage; ``store`` is the JSON file store,
for tests about files. A new store joins by adding its kind and opener here.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from knowsley_tracker.cli import app
from knowsley_tracker.dates import Clock
from knowsley_tracker.memory_store import MemoryStore
from knowsley_tracker.service.session import Session
from knowsley_tracker.storage import Store
from knowsley_tracker.store_interface import PlanStore

# The PostgreSQL test server and its fixtures (pg_server, pg_db...): started only
# when a test asks for one.
pytest_plugins = ["helpers.pg_server"]

NOW = "2025-11-30T09:00:00+00:00"
TODAY = date(2025, 11, 30)


@pytest.fixture(autouse=True)
def isolate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    db = tmp_path / "plan.json"
    monkeypatch.setenv("KNOWSLEY_TRACKER_DB", str(db))
    monkeypatch.setenv("KNOWSLEY_TRACKER_USER", "Test Officer")
    monkeypatch.setenv("KNOWSLEY_TRACKER_NOW", NOW)
    monkeypatch.delenv("KNOWSLEY_TRACKER_LOCK_TIMEOUT", raising=False)
    monkeypatch.delenv("KNOWSLEY_TRACKER_PLAN", raising=False)
    monkeypatch.delenv("TTY_COMPATIBLE", raising=False)
    # Terminal output depends on these: the same for every test, wherever it runs.
    for name in ("NO_COLOR", "COLORTERM", "COLUMNS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TERM", "xterm")
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield db
    time.tzset()


@pytest.fixture
def db(isolate: Path) -> Path:
    return isolate


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def run(runner: CliRunner, *args: str, **kwargs: Any) -> Result:
    """Invoke kt in-process; stdout and stderr are kept apart."""
    return runner.invoke(app, list(args), catch_exceptions=False, **kwargs)


@pytest.fixture
def kt(runner: CliRunner) -> Any:
    def invoke(*args: str, **kwargs: Any) -> Result:
        return run(runner, *args, **kwargs)

    return invoke


@pytest.fixture
def store(db: Path) -> Iterator[Store]:
    """A new, empty JSON file store open for writing."""
    s = Store.create(db, authority="Test Council", now=Clock.at(NOW).now())
    yield s
    s.close()


@pytest.fixture
def file_store(db: Path) -> Iterator[Store]:
    """The JSON file store, by name, where a module runs its other tests over every store."""
    s = Store.create(db, authority="Test Council", now=Clock.at(NOW).now())
    yield s
    s.close()


def _open_file_store(db: Path) -> PlanStore:
    return Store.create(db, authority="Test Council", now=Clock.at(NOW).now())


def _open_memory_store(db: Path) -> PlanStore:
    return MemoryStore(authority="Test Council", created_at=NOW)


# Every implementation of knowsley_tracker.store_interface.PlanStore: a new, empty plan.
STORE_KINDS: dict[str, Callable[[Path], PlanStore]] = {
    "json": _open_file_store,
    "memory": _open_memory_store,
}


# Stores on a database server: opened by a fixture of tests/helpers/pg_server.py, which
# starts the session's PostgreSQL server (CI fails if it cannot).
SERVER_STORE_KINDS: dict[str, str] = {"postgresql": "pg_plan_store"}


@pytest.fixture(params=[*STORE_KINDS, *SERVER_STORE_KINDS])
def plan_store(request: pytest.FixtureRequest, db: Path) -> Iterator[PlanStore]:
    """A new, empty plan, open for writing, in each kind of store in turn."""
    if request.param in SERVER_STORE_KINDS:
        server_store: PlanStore = request.getfixturevalue(SERVER_STORE_KINDS[request.param])
        yield server_store
        return
    s = STORE_KINDS[request.param](db)
    yield s
    s.close()


@pytest.fixture
def session(plan_store: PlanStore) -> Session:
    return Session(store=plan_store, clock=Clock.at(NOW), user="Test Officer")


@pytest.fixture
def plan(kt: Any) -> Any:
    """A small plan built through the CLI: 1 inspection, 2 focus areas, 2 owners,
    2 recommendations, 4 actions in mixed states (on 30 Nov 2025)."""
    steps = [
        ["init", "--authority", "Test Council"],
        [
            "inspection",
            "add",
            "18/11/2024",
            "--end",
            "29/11/2024",
            "--published",
            "20/01/2025",
            "-j",
            "inadequate",
            "--area",
            "leaders=inadequate",
            "--area",
            "help-protection=inadequate",
            "--area",
            "children-in-care=requires-improvement",
            "--area",
            "care-leavers=inadequate",
            "--action-plan-sent",
            "25/04/2025",
        ],
        ["focus", "add", "DIS", "Children with disabilities", "--lead", "Head of Service, Disabled Children"],
        ["focus", "add", "CL", "Care-experienced young people", "--lead", "Head of Service, Care Leavers"],
        ["owner", "add", "Head of Service, Disabled Children", "--name", "Sam Carter"],
        ["owner", "add", "Head of Service, Care Leavers"],
        [
            "rec",
            "add",
            "The quality of social work practice and management oversight for disabled children.",
            "--focus",
            "DIS",
            "--ref",
            "3",
            "--summary",
            "Disabled children: practice and oversight",
        ],
        ["rec", "add", "The caseloads of personal advisers (PAs).", "--focus", "CL", "--ref", "9"],
        ["action", "add", "R1", "Audit open disabled children's cases", "--owner", "O1", "--due", "15/11/2025"],
        [
            "action",
            "add",
            "R1",
            "Publish a plan for the disabled children's service",
            "--owner",
            "O1",
            "--due",
            "10/12/2025",
        ],
        ["action", "add", "R2", "Recruit two more personal advisers", "--owner", "O2", "--due", "31/03/2026"],
        ["action", "add", "R2", "Agree a PA caseload cap", "--owner", "O2", "--due", "30/09/2025"],
        ["log", "A1", "Audit tool agreed", "--progress", "40"],
        ["done", "A4", "Cap of 20 agreed at corporate parenting board"],
    ]
    for step in steps:
        result = kt(*step)
        assert result.exit_code == 0, (step, result.stdout, result.stderr)
    return kt


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Print what the fault-injection tests exercised (tests/helpers/fault_counts.py) for CI logs."""
    try:
        from helpers.fault_counts import summary_lines
    except ImportError:  # run from elsewhere: nothing was counted
        return
    lines = summary_lines()
    if lines:
        terminalreporter.write_sep("=", "fault injection counts")
        for line in lines:
            terminalreporter.write_line(line)
