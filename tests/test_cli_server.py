"""kt's commands over both stores: the JSON file and a real PostgreSQL server.

The same command lines run against a file (``--db plan.json``) and a database
(``--db postgresql:///...``, started by tests/helpers/pg_server.py), and must give
the same results; on the server, as logins of different roles, including the
attacks (a reader writing through kt and through raw SQL, an officer changing an
action it does not own, ``--by`` trying to pass for someone else).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from conftest import run
from helpers.pg_server import INSTALLER, PgServer
from typer.testing import Result

PLAN_KEY = "test-plan"


@dataclass
class Target:
    """Where kt's commands go: a file, or a database as one login or another."""

    kind: str
    db: str
    server: PgServer | None = None
    dbname: str = ""
    login: str = ""
    extra_env: dict[str, str] = field(default_factory=dict)

    @property
    def on_server(self) -> bool:
        return self.server is not None

    def env(self, login: str | None = None) -> dict[str, str]:
        env = {"KNOWSLEY_TRACKER_DB": self.db, **self.extra_env}
        if self.server is not None:
            who = login or self.login
            env["KNOWSLEY_TRACKER_DB"] = uri(self.server, self.dbname, who)
            env["PGPASSWORD"] = self.server.passwords[who]
        return env


def uri(server: PgServer, dbname: str, login: str) -> str:
    """A libpq URI over the test server's Unix socket, with no password in it."""
    return f"postgresql://{login}@/{dbname}?host={server.socket_dir}&port={server.port}"


@pytest.fixture(params=["file", "postgresql"])
def target(request: pytest.FixtureRequest, db: Path) -> Iterator[Target]:
    if request.param == "file":
        yield Target("file", str(db))
        return
    server: PgServer = request.getfixturevalue("pg_server")
    make: Callable[[], str] = request.getfixturevalue("pg_empty_db")
    yield Target("postgresql", "", server=server, dbname=make(), login=INSTALLER)


@pytest.fixture
def kt_on(runner: Any, target: Target) -> Callable[..., Result]:
    """Run kt against the target, as its login (``login=`` another one)."""

    def invoke(*args: str, login: str | None = None, **kwargs: Any) -> Result:
        return run(runner, *args, env=target.env(login), **kwargs)

    return invoke


def init_args(target: Target) -> list[str]:
    return ["init", "--authority", "Test Council", *(["--plan", PLAN_KEY] if target.on_server else [])]


def build_plan(kt_on: Callable[..., Result], target: Target) -> None:
    steps = [
        init_args(target),
        [
            "inspection",
            "add",
            "18/11/2024",
            "--end",
            "29/11/2024",
            "-j",
            "inadequate",
            "--action-plan-sent",
            "25/04/2025",
        ],
        ["focus", "add", "DIS", "Children with disabilities", "--lead", "Head of Service, Disabled Children"],
        ["owner", "add", "Head of Service, Disabled Children", "--name", "Sam Carter"],
        ["owner", "add", "Head of Service, Care Leavers"],
        ["rec", "add", "Management oversight for disabled children.", "--focus", "DIS", "--ref", "3"],
        ["action", "add", "R1", "Audit open cases", "--owner", "O1", "--due", "15/11/2025"],
        ["action", "add", "R1", "Publish a service plan", "--owner", "O2", "--due", "10/12/2025"],
        ["log", "A1", "Audit tool agreed", "--progress", "40"],
    ]
    for step in steps:
        result = kt_on(*step)
        assert result.exit_code == 0, (step, result.stdout, result.stderr)


def test_init_creates_the_schema_and_the_plan_on_a_server(kt_on: Callable[..., Result], target: Target) -> None:
    result = kt_on(*init_args(target))
    assert result.exit_code == 0, result.stderr
    if target.on_server:
        assert "Created the knowsley-tracker schema" in result.stdout
        assert f"Created the plan {PLAN_KEY} for Test Council" in result.stdout
        again = kt_on(*init_args(target))
        assert again.exit_code == 5
        assert "exists already" in again.stderr
        listed = kt_on("plan", "list", "--json")
        assert listed.exit_code == 0, listed.stderr
        assert [(p["key"], p["authority"], p["role"]) for p in json.loads(listed.stdout)] == [
            (PLAN_KEY, "Test Council", "admin")
        ]
    else:
        assert result.stdout.startswith("Created a store for Test Council at ")
        refused = kt_on("plan", "list")
        assert refused.exit_code == 2
        assert "is for a PostgreSQL store" in refused.stderr


def test_everyday_commands_give_the_same_results_on_both_stores(kt_on: Callable[..., Result], target: Target) -> None:
    build_plan(kt_on, target)
    listed = kt_on("action", "list", "--json")
    assert listed.exit_code == 0, listed.stderr
    actions = json.loads(listed.stdout)
    assert [(a["ref"], a["title"], a["progress"]) for a in actions] == [
        ("A1", "Audit open cases", 40),
        ("A2", "Publish a service plan", 0),
    ]
    shown = kt_on("action", "show", "A1", "--json")
    assert shown.exit_code == 0, shown.stderr
    assert json.loads(shown.stdout)["owner"] == "Head of Service, Disabled Children (Sam Carter)"
    log = kt_on("action", "show", "A1")
    assert "Audit tool agreed" in log.stdout
    check = kt_on("check")
    assert check.exit_code == 1  # A1 is overdue on 30 Nov 2025
    assert "A1" in check.stdout
    report = kt_on("report", "--format", "json")
    assert report.exit_code == 0, report.stderr
    history = kt_on("history", "--json")
    assert history.exit_code == 0, history.stderr
    entries = json.loads(history.stdout)
    who = INSTALLER if target.on_server else "Test Officer"
    assert {e["by"] for e in entries} == {who}
    undone = kt_on("undo")
    assert undone.exit_code == 0, undone.stderr
    after = json.loads(kt_on("action", "show", "A1", "--json").stdout)
    assert after["progress"] == 0
