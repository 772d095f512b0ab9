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
from helpers.pg_server import INSTALLER, PgDatabase, PgServer
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


# ---------------------------------------------------------------------------
# A council's plan on the server, as logins of different roles


@dataclass
class Council:
    """A plan on the server built through kt by its admin, and logins of each role."""

    db: PgDatabase
    logins: dict[str, str]
    runner: Any

    def kt(self, who: str, *args: str, **kwargs: Any) -> Result:
        login = self.logins.get(who, who)
        env = {
            "KNOWSLEY_TRACKER_DB": uri(self.db.server, self.db.name, login),
            "PGPASSWORD": self.db.server.passwords[login],
        }
        return run(self.runner, *args, env=env, **kwargs)

    def sql(self, who: str, query: str, params: tuple[Any, ...] = ()) -> list[Any]:
        with self.db.connect(self.logins[who], autocommit=True) as conn:
            cursor = conn.execute(query, params)
            return cursor.fetchall() if cursor.description else []

    def snapshot(self) -> str:
        """Everything the plan holds, as its admin exports it."""
        result = self.kt("admin", "export", "--format", "json")
        assert result.exit_code == 0, result.stderr
        document = json.loads(result.stdout)
        document.pop("exported_at", None)
        return json.dumps(document, sort_keys=True)


@pytest.fixture
def council(pg_db: PgDatabase, runner: Any) -> Council:
    logins = {"admin": pg_db.planner(), **{role: pg_db.login() for role in ("editor", "officer", "reader", "other")}}
    place = Council(db=pg_db, logins=logins, runner=runner)
    steps = [
        ["init", "--authority", "Test Council", "--plan", PLAN_KEY],
        *(["access", "grant", logins[role], role] for role in ("editor", "officer", "reader")),
        ["inspection", "add", "18/11/2024", "--end", "29/11/2024", "-j", "inadequate"],
        ["focus", "add", "DIS", "Children with disabilities", "--lead", "Head of Service, Disabled Children"],
        ["owner", "add", "Head of Service, Disabled Children"],
        ["owner", "add", "Head of Service, Care Leavers"],
        ["owner", "edit", "O1", "--login", logins["officer"]],
        ["rec", "add", "Management oversight for disabled children.", "--focus", "DIS", "--ref", "3"],
        ["action", "add", "R1", "Audit open cases", "--owner", "O1", "--due", "15/11/2025"],
        ["action", "add", "R1", "Publish a service plan", "--owner", "O2", "--due", "10/12/2025"],
    ]
    for step in steps:
        result = place.kt("admin", *step)
        assert result.exit_code == 0, (step, result.stdout, result.stderr)
    return place


def test_history_lists_a_large_command_s_first_changes_on_both_stores(
    kt_on: Callable[..., Result], target: Target
) -> None:
    """An import is one command holding every record it made: kt history lists its first
    50 changes and says how many more (the server slices them in SQL, and neither store
    looks up the log entries or prints what is not listed); kt history tN lists all."""
    build_plan(kt_on, target)
    rows = "".join(
        f'R7,Timely visits.,DIS,Visit batch {n},"Head of Service, Care Leavers",1/12/2025\n' for n in range(60)
    )
    imported = kt_on(
        "import", "-", "--format", "csv", input="rec_ref,recommendation,focus_area,action,owner,due\n" + rows
    )
    assert imported.exit_code == 0, imported.stderr
    listed = kt_on("history", "--json", "-n", "2")
    assert listed.exit_code == 0, listed.stderr
    before, last = json.loads(listed.stdout)
    assert last["what"] == "import standard input"
    assert (len(last["changes"]), last["more_changes"]) == (50, 11)  # R7 and 60 actions
    assert [c["ref"] for c in last["changes"][:3]] == ["R7", "A3", "A4"]
    assert "more_changes" not in before
    piped = kt_on("history", "-n", "1")
    lines = piped.stdout.splitlines()
    assert (
        len(lines)
        == 1 + sum(len([v for v in c["row"].values() if v not in (None, "", [], {})]) for c in last["changes"]) + 1
    )
    assert lines[-1].split("\t")[4:7] == ["...", "11 more changes", f"kt history t{last['txn']} lists all"]
    whole = json.loads(kt_on("history", f"t{last['txn']}", "--json").stdout)[0]
    assert len(whole["changes"]) == 61 and "more_changes" not in whole
    assert whole["changes"][:50] == last["changes"]
    one = json.loads(kt_on("history", "A62", "--json").stdout)  # one record's changes: never cut
    assert [c["ref"] for e in one for c in e["changes"]] == ["A62"]


def test_history_shows_log_entries_an_unlisted_change_removed(
    kt_on: Callable[..., Result], target: Target, runner: Any, tmp_path: Path
) -> None:
    """An import of 60 log entries, undone: the undo lists 50 of its removals, the
    import 50 of its creates. A log entry is not copied into the history when created;
    gone, it is shown as the undo's unlisted change kept it, not as an empty create."""
    source = tmp_path / "source.json"
    steps = [
        ["init", "--authority", "Source Council"],
        ["focus", "add", "DIS", "Children with disabilities"],
        ["owner", "add", "Head of Service"],
        ["rec", "add", "Management oversight.", "--focus", "DIS", "--ref", "3"],
        ["action", "add", "R1", "Audit open cases", "--owner", "O1", "--due", "15/11/2025"],
        *(["log", "A1", f"Audit step {n}"] for n in range(1, 61)),
    ]
    for step in steps:
        assert run(runner, "--db", str(source), *step).exit_code == 0, step
    exported = tmp_path / "export.json"
    assert run(runner, "--db", str(source), "export", "--format", "json", "-o", str(exported)).exit_code == 0
    assert kt_on(*init_args(target)).exit_code == 0
    imported = kt_on("import", str(exported))
    assert imported.exit_code == 0, imported.stderr
    undone = kt_on("undo")
    assert undone.exit_code == 0, undone.stderr
    entries = json.loads(kt_on("history", "-n", "2", "--json").stdout)
    creates = {c["ref"]: c["row"] for c in entries[0]["changes"] if c["ref"].startswith("L")}
    assert entries[0]["more_changes"] > 0 and entries[1]["more_changes"] > 0
    assert sorted(creates, key=lambda ref: int(ref[1:]))[:2] == ["L1", "L2"]
    assert all(row is not None and row["note"].startswith("Audit step ") for row in creates.values())
    assert creates["L1"]["note"] == "Audit step 1"


def test_access_is_granted_listed_and_revoked_by_the_admin_only(council: Council) -> None:
    listed = council.kt("admin", "access", "list", "--json")
    assert listed.exit_code == 0, listed.stderr
    roles = {a["login"]: a["role"] for a in json.loads(listed.stdout)["access"]}
    assert roles == {council.logins[r]: r for r in ("admin", "editor", "officer", "reader")}
    for who in ("editor", "officer", "reader"):
        refused = council.kt(who, "access", "grant", council.logins["other"], "editor")
        assert refused.exit_code == 14, (who, refused.stderr)
        assert refused.stderr.count("\n") == 1
        assert "admin" in refused.stderr
    assert council.kt("other", "plan", "list").stdout.startswith("Your login holds no role on any plan")
    revoked = council.kt("admin", "access", "revoke", council.logins["reader"])
    assert revoked.exit_code == 0, revoked.stderr
    assert revoked.stdout == f"{council.logins['reader']} no longer holds a role on plan {PLAN_KEY}.\n"
    gone = council.kt("reader", "action", "list")
    assert gone.exit_code == 3
    assert "holds no role on any plan" in gone.stderr


def test_a_reader_reads_but_cannot_write_through_kt_or_sql(council: Council) -> None:
    before = council.snapshot()
    listed = council.kt("reader", "action", "list", "--json")
    assert listed.exit_code == 0, listed.stderr
    assert [a["ref"] for a in json.loads(listed.stdout)] == ["A1", "A2"]
    for attempt in (
        ["log", "A1", "Looks fine to me", "--progress", "90"],
        ["action", "add", "R1", "A reader's action", "--owner", "O1", "--due", "1/1/2026"],
        ["owner", "edit", "O2", "--login", council.logins["reader"]],
        ["config", "set", "rag.amber_days", "3"],
    ):
        refused = council.kt("reader", *attempt)
        assert refused.exit_code == 14, (attempt, refused.stdout, refused.stderr)
        assert refused.stdout == ""
        assert refused.stderr.count("\n") == 1 and "Traceback" not in refused.stderr
        assert "needs the officer role" in refused.stderr  # names the role a change needs
    import psycopg

    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        council.sql("reader", "UPDATE kt.actions SET progress = 90")
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        council.sql(
            "reader",
            "INSERT INTO kt.log (plan_id, action_id, at, by, note) "
            "SELECT plan_id, id, now(), 'x', 'forged' FROM kt.actions LIMIT 1",
        )
    assert council.snapshot() == before


def test_an_officer_updates_only_the_actions_it_owns(council: Council) -> None:
    done = council.kt("officer", "log", "A1", "Audit tool agreed", "--progress", "40")
    assert done.exit_code == 0, done.stderr
    before = council.snapshot()
    refused = council.kt("officer", "log", "A2", "Not mine to log", "--progress", "50")
    assert refused.exit_code == 14, refused.stderr
    assert refused.stderr.startswith(f"Error: That change to plan {PLAN_KEY} needs the editor role: an officer may ")
    assert refused.stderr.count("\n") == 1
    edit = council.kt("officer", "action", "edit", "A1", "--title", "Retitled by an officer")
    assert edit.exit_code == 14, edit.stderr
    # Through SQL, the row-level policy holds: the other owner's action is not changed.
    changed = council.sql("officer", "UPDATE kt.actions SET progress = 99 WHERE id = 2 RETURNING id")
    assert changed == []
    assert council.snapshot() == before
    shown = json.loads(council.kt("reader", "action", "show", "A1", "--json").stdout)
    assert shown["progress"] == 40


def test_by_on_a_server_is_recorded_beside_the_login_never_instead(council: Council) -> None:
    officer = council.logins["officer"]
    result = council.kt("officer", "log", "A1", "Audit started", "--by", "Director of Children's Services")
    assert result.exit_code == 0, result.stderr
    history = json.loads(council.kt("admin", "history", "--json").stdout)
    assert history[-1]["by"] == f"Director of Children's Services (by {officer})"
    rows = council.sql("admin", "SELECT login, on_behalf_of FROM kt.history ORDER BY txn DESC LIMIT 1")
    assert rows == [(officer, f"Director of Children's Services (by {officer})")]
    logged = council.sql("admin", "SELECT login, by FROM kt.log ORDER BY id DESC LIMIT 1")
    assert logged == [(officer, f"Director of Children's Services (by {officer})")]
    # Passing for another login changes nothing: the login is still the officer's.
    spoof = council.kt("officer", "log", "A1", "As the admin", "--by", council.logins["admin"])
    assert spoof.exit_code == 0, spoof.stderr
    rows = council.sql("admin", "SELECT login, on_behalf_of FROM kt.history ORDER BY txn DESC LIMIT 1")
    assert rows == [(officer, f"{council.logins['admin']} (by {officer})")]


def test_an_unreachable_server_is_one_line_and_exit_15(runner: Any, tmp_path: Path) -> None:
    result = run(runner, "--db", f"postgresql:///nowhere?host={tmp_path}&port=5999", "action", "list")
    assert result.exit_code == 15
    assert result.stderr.startswith(f"Error: Cannot reach the database server at {tmp_path}:5999/nowhere")
    assert result.stderr.count("\n") == 1


def test_a_password_on_the_command_line_is_refused(runner: Any) -> None:
    result = run(runner, "--db", "postgresql://jlee:secret@db.example/improvement", "action", "list")
    assert result.exit_code == 4
    assert "~/.pgpass" in result.stderr and "secret" not in result.stderr


def test_the_plan_variable_is_ignored_for_a_file_but_plan_is_refused(runner: Any, tmp_path: Path) -> None:
    """KNOWSLEY_TRACKER_PLAN exported in a shell profile for the council's server must not
    lock its user out of a local file; ``--plan`` given with a file is one clear line."""
    plan = tmp_path / "own.json"
    env = {"KNOWSLEY_TRACKER_PLAN": "knowsley-2025"}
    steps = [
        ["--db", str(plan), "init", "--authority", "Test Council"],
        ["--db", str(plan), "focus", "add", "DIS", "Children with disabilities"],
    ]
    for step in steps:
        result = run(runner, *step, env=env)
        assert result.exit_code == 0, (step, result.stderr)
    listed = run(runner, "--db", str(plan), "focus", "list", "--json", env=env)
    assert listed.exit_code == 0, listed.stderr
    assert [f["key"] for f in json.loads(listed.stdout)] == ["DIS"]
    assert listed.stderr == ""
    before = plan.read_bytes()
    for args in (["--plan", "knowsley-2025", "focus", "list"], ["--plan", "other", "focus", "add", "CL", "Care"]):
        refused = run(runner, "--db", str(plan), *args, env=env)
        assert refused.exit_code == 4, refused.stderr
        assert refused.stderr == ("Error: --plan chooses a plan on a PostgreSQL server; a store file holds one plan.\n")
    assert plan.read_bytes() == before


def test_file_commands_on_a_server_name_the_engine_s_own_tools(council: Council) -> None:
    target = uri(council.db.server, council.db.name, council.logins["admin"])
    for args, tool in (
        (["backup", "list"], f"pg_dump -Fc -d '{target}' -f kt-backup.dump"),
        (["restore"], f"pg_restore --clean --if-exists -d '{target}' kt-backup.dump"),
    ):
        result = council.kt("admin", *args)
        assert result.exit_code == 2, result.stderr
        assert result.stderr.endswith(f"the server's own tools: {tool}\n"), result.stderr
        assert result.stderr.count("\n") == 1


def test_doctor_checks_the_server_s_schema(council: Council) -> None:
    healthy = council.kt("reader", "doctor")
    assert healthy.exit_code == 0, healthy.stdout + healthy.stderr
    assert "Healthy" in healthy.stdout
    with council.db.connect(council.db.installer, autocommit=True) as conn:
        conn.execute("ALTER TABLE kt.actions DROP CONSTRAINT actions_progress_range")
    broken = council.kt("reader", "doctor", "--json")
    assert broken.exit_code == 1
    problems = json.loads(broken.stdout)["problems"]
    assert [p["message"] for p in problems] == ["The constraint actions.actions_progress_range is missing."]


def test_doctor_on_a_server_scans_for_personal_data(council: Council) -> None:
    saved = council.kt(
        "admin", "log", "A1", "Case ref 123456 reviewed", "--allow-personal-data", "It is a contract number"
    )
    assert saved.exit_code == 0, saved.stderr
    scanned = council.kt("reader", "doctor", "--personal-data", "--json")
    assert scanned.exit_code == 1, scanned.stdout + scanned.stderr
    hits = json.loads(scanned.stdout)["personal_data"]
    assert len(hits) >= 1 and "123456" not in scanned.stdout
    assert council.kt("reader", "doctor").exit_code == 0  # without the scan: the schema is healthy


def test_a_plan_is_chosen_with_plan_when_the_login_sees_several(council: Council) -> None:
    second = council.kt("admin", "init", "--authority", "Second Council", "--plan", "second")
    assert second.exit_code == 0, second.stderr
    ambiguous = council.kt("admin", "action", "list")
    assert ambiguous.exit_code == 4
    assert f"can see 2 plans (second, {PLAN_KEY}): choose one with --plan KEY" in ambiguous.stderr
    chosen = council.kt("admin", "--plan", PLAN_KEY, "action", "list", "--json")
    assert [a["ref"] for a in json.loads(chosen.stdout)] == ["A1", "A2"]
    empty = council.kt("admin", "--plan", "second", "action", "list", "--json")
    assert json.loads(empty.stdout) == []
    # The reader holds a role on the first plan only, and sees only that one.
    assert json.loads(council.kt("reader", "plan", "list", "--json").stdout)[0]["key"] == PLAN_KEY
    hidden = council.kt("reader", "--plan", "second", "action", "list")
    assert hidden.exit_code == 3


def test_a_file_plan_moves_to_the_server_and_back_without_loss(council: Council, runner: Any, tmp_path: Path) -> None:
    example = Path(__file__).resolve().parent.parent / "examples" / "knowsley-2025" / "plan.json"
    first = tmp_path / "first.json"
    second = tmp_path / "second.json"
    third = tmp_path / "third.json"
    assert run(runner, "--db", str(example), "export", "--format", "json", "-o", str(first)).exit_code == 0
    made = council.kt("admin", "init", "--authority", "Knowsley", "--plan", "moved")
    assert made.exit_code == 0, made.stderr
    imported = council.kt("admin", "--plan", "moved", "import", str(first))
    assert imported.exit_code == 0, imported.stdout + imported.stderr
    out = council.kt("admin", "--plan", "moved", "export", "--format", "json", "-o", str(second))
    assert out.exit_code == 0, out.stderr
    copy = tmp_path / "copy.json"
    assert run(runner, "--db", str(copy), "init", "--authority", "Placeholder").exit_code == 0
    back = run(runner, "--db", str(copy), "import", str(second))
    assert back.exit_code == 0, back.stdout + back.stderr
    assert run(runner, "--db", str(copy), "export", "--format", "json", "-o", str(third)).exit_code == 0
    from test_pg_store import _comparable

    expected = json.dumps(_comparable(json.loads(first.read_text())), sort_keys=True)
    assert json.dumps(_comparable(json.loads(second.read_text())), sort_keys=True) == expected
    assert json.dumps(_comparable(json.loads(third.read_text())), sort_keys=True) == expected


def test_a_writer_broken_off_by_a_deadlock_is_run_again_whole(council: Council) -> None:
    """Another client (an editor writing through SQL) holds A1 and then asks for the
    plan's writer lock, which kt holds while it waits for A1: a deadlock. The server
    breaks kt's transaction off (kt waited first, so its check runs first); the client
    then finishes, and kt runs the whole command again and saves it once."""
    import threading

    import psycopg

    plan_id = council.sql("admin", "SELECT id FROM kt.plans WHERE key = %s", (PLAN_KEY,))[0][0]
    holding = threading.Event()
    failures: list[BaseException] = []

    def client() -> None:
        try:
            with council.db.connect(council.logins["editor"]) as conn, conn.transaction():
                conn.execute("UPDATE kt.actions SET last_note = 'client' WHERE plan_id = %s AND id = 1", (plan_id,))
                holding.set()
                council.db.wait_for_a_lock_wait()  # kt has taken the plan's lock and waits for A1
                conn.execute("SELECT kt.lock_plan(%s)", (plan_id,))
        except psycopg.Error as exc:  # pragma: no cover - shown by the assertion below
            failures.append(exc)

    thread = threading.Thread(target=client)
    thread.start()
    assert holding.wait(10)
    result = council.kt("admin", "log", "A1", "Audit tool agreed", "--progress", "40")
    thread.join(30)
    assert failures == []  # the client was not the one broken off: kt was, and ran again
    assert result.exit_code == 0, result.stderr
    notes = council.sql("admin", "SELECT note FROM kt.log WHERE plan_id = %s", (plan_id,))
    assert notes == [("Audit tool agreed",)]
    shown = json.loads(council.kt("admin", "action", "show", "A1", "--json").stdout)
    assert shown["progress"] == 40


SHEET = (
    "rec_ref,recommendation,focus_area,action,owner,due\n"
    'R5,Supervision for personal advisers.,DIS,Train the advisers,"Head of Service, Care Leavers",1/12/2025\n'
    'R5,Supervision for personal advisers.,DIS,Audit supervision,"Head of Service, Care Leavers",1/01/2026\n'
)


def test_an_import_from_standard_input_broken_off_runs_again_on_the_same_bytes(council: Council) -> None:
    """``kt import -`` reads standard input once: when the server breaks the import off
    (a deadlock with another client, made as above: the superuser holds the
    recommendations table, then asks for the plan's writer lock while kt waits to insert),
    the command runs again on the bytes its first run read, and imports them once."""
    with council.db.deadlock_kt_on("recommendations", PLAN_KEY):  # kt waits to insert R5
        result = council.kt("admin", "import", "-", "--format", "csv", input=SHEET)
    assert result.exit_code == 0, result.stdout + result.stderr
    assert result.stdout.splitlines()[-1] == (
        "Imported standard input (2 rows): created 1 recommendation and 2 actions."
    )
    listed = json.loads(council.kt("admin", "action", "list", "--json").stdout)
    assert sorted((a["ref"], a["title"]) for a in listed) == [
        ("A1", "Audit open cases"),
        ("A2", "Publish a service plan"),
        ("A3", "Train the advisers"),
        ("A4", "Audit supervision"),
    ]
    imports = council.sql("admin", "SELECT what FROM kt.history WHERE what LIKE 'import%%'")
    assert imports == [("import standard input",)]


def test_a_narrative_from_standard_input_survives_the_command_being_run_again(council: Council) -> None:
    """``kt board edit B1 --narrative-file -`` broken off by a deadlock (as above, the
    superuser holding kt.boards) runs again on the narrative its first run read: run on
    what was left of standard input, it would save an empty narrative and say it had
    updated it."""

    added = council.kt("admin", "board", "add", "26/11/2025", "--note", "Deep dive: care leavers")
    assert added.exit_code == 0, added.stderr
    narrative = "The audit of open cases is complete.\n\nSupervision records are now monthly.\n"
    with council.db.deadlock_kt_on("boards", PLAN_KEY):  # kt waits to update B1
        result = council.kt("admin", "board", "edit", "B1", "--narrative-file", "-", input=narrative)
    assert result.exit_code == 0, result.stdout + result.stderr
    stored = council.sql("admin", "SELECT narrative FROM kt.boards")
    assert stored == [(narrative.rstrip("\n"),)]  # kept whole, not emptied by a second read
    edits = council.sql("admin", "SELECT what FROM kt.history WHERE what LIKE 'board edit%%'")
    assert edits == [("board edit B1",)]


def test_portfolio_gives_one_line_per_plan_the_login_can_see(council: Council, tmp_path: Path) -> None:
    assert council.kt("admin", "visit", "add", "10/01/2026", "--type", "monitoring").exit_code == 0
    assert council.kt("admin", "log", "A1", "Audit tool agreed", "--progress", "40").exit_code == 0
    second = council.kt("admin", "init", "--authority", "<b>Second</b> Council", "--plan", "second")
    assert second.exit_code == 0, second.stderr
    result = council.kt("admin", "portfolio", "--json")
    assert result.exit_code == 0, result.stderr
    lines = {line["plan"]: line for line in json.loads(result.stdout)}
    assert sorted(lines) == ["second", PLAN_KEY]
    first = lines[PLAN_KEY]
    assert (first["judgement"], first["actions"], first["overdue"]) == ("inadequate", 2, 1)
    assert first["next_visit"] == "2026-01-10"
    assert sum(first["rag"].values()) == 2
    assert (lines["second"]["actions"], lines["second"]["judgement"]) == (0, None)
    # The reader holds a role on the first plan only: its portfolio has that one line.
    seen = json.loads(council.kt("reader", "portfolio", "--json").stdout)
    assert [line["plan"] for line in seen] == [PLAN_KEY]
    page = tmp_path / "portfolio.html"
    written = council.kt("admin", "portfolio", "--format", "html", "-o", str(page))
    assert written.exit_code == 0, written.stderr
    html = page.read_text()
    assert "&lt;b&gt;Second&lt;/b&gt; Council" in html and "<b>Second" not in html
    markdown = council.kt("admin", "portfolio", "--format", "markdown")
    assert markdown.stdout.splitlines()[0] == "# Portfolio, 30 Nov 2025"
    assert markdown.stdout.count("\n| ") == 3  # the heading row and a row per plan


def test_a_history_entry_put_in_through_sql_that_kt_cannot_replay_is_one_line_and_exit_9(council: Council) -> None:
    """An editor may insert history rows through SQL; one whose update is not [old, new]
    pairs is damage to kt history and kt undo (exit 9, naming the entry), not a traceback."""
    plan = council.sql("admin", "SELECT id FROM kt.plans WHERE key = %s", (PLAN_KEY,))[0][0]
    council.sql(
        "editor",
        "INSERT INTO kt.history (plan_id, at, what, changes) VALUES (%s, now(), 'hand', %s::jsonb) RETURNING txn",
        (plan, json.dumps([["update", "actions", 1, None]])),
    )
    txn = council.sql("admin", "SELECT max(txn) FROM kt.history WHERE plan_id = %s", (plan,))[0][0]
    for command in (["history"], ["undo"]):
        result = council.kt("admin", *command)
        assert (result.exit_code, result.stdout) == (9, ""), result.stderr
        assert result.stderr == (
            f"Error: History entry t{txn} in the store cannot be read (its changes are [['update', 'actions', 1, "
            "None]], not a list of [operation, table, id, values]): the store was edited by hand or damaged. kt "
            "doctor lists what it cannot read; kt restore brings back a backup.\n"
        )
