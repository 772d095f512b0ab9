"""The PostgreSQL test server itself, and the schema's migrations and doctor checks."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

import psycopg
import pytest
from helpers.pg_server import INSTALLER, SUPERUSER, PgDatabase, PgServer, start_server, stop_server

from knowsley_tracker.errors import CorruptStoreError
from knowsley_tracker.pgstore import schema

TESTS = Path(__file__).resolve().parent

# ---------------------------------------------------------------------------
# The test server


def test_the_server_listens_only_on_a_socket_in_its_own_folder(pg_server: PgServer) -> None:
    with pg_server.connect("postgres") as conn:
        settings = dict(
            conn.execute(
                "SELECT name, setting FROM pg_settings WHERE name IN "
                "('listen_addresses', 'unix_socket_directories', 'unix_socket_permissions', 'port')"
            ).fetchall()
        )
    assert settings == {
        "listen_addresses": "",
        "unix_socket_directories": pg_server.socket_dir,
        "unix_socket_permissions": "0700",
        "port": str(pg_server.port),
    }
    folder = os.stat(pg_server.folder)
    assert folder.st_mode & 0o777 == 0o700
    status = Path(f"/proc/{pg_server.process.pid}/status").read_text()
    uids = next(line for line in status.splitlines() if line.startswith("Uid:")).split()[1:]
    if os.geteuid() == 0:
        assert "0" not in uids  # real, effective, saved and filesystem uid all unprivileged
        assert folder.st_uid == int(uids[0])
    else:
        assert uids[0] == str(os.geteuid())


def test_each_session_gets_its_own_server(pg_server: PgServer) -> None:
    """A second server (as another developer's test session would start) has its own
    folder and socket, and neither sees the other's databases."""
    other = start_server()
    try:
        assert other.folder != pg_server.folder
        with other.connect("postgres", autocommit=True) as conn:
            conn.execute("CREATE DATABASE only_in_the_other")
        with pg_server.connect("postgres") as conn:
            names = {r[0] for r in conn.execute("SELECT datname FROM pg_database").fetchall()}
        assert "only_in_the_other" not in names
    finally:
        stop_server(other)
    assert not other.folder.exists()
    assert other.process.poll() is not None
    with pg_server.connect("postgres") as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,)


def test_the_server_refuses_a_login_without_its_password(pg_server: PgServer, tmp_path: Path) -> None:
    env = {**os.environ, "PGPASSFILE": str(tmp_path / "none")}
    env.pop("PGPASSWORD", None)
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            f"import psycopg; psycopg.connect({pg_server.conninfo('postgres', SUPERUSER, password=False)!r})",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0
    assert "no password supplied" in done.stderr


_NEEDS_SERVER = """
def test_needs_a_server(pg_server):
    assert pg_server.port
"""


@pytest.mark.parametrize(("ci", "outcome"), [("true", "1 error"), ("", "1 skipped")])
def test_without_server_binaries_ci_fails_and_elsewhere_tests_skip(tmp_path: Path, ci: str, outcome: str) -> None:
    (tmp_path / "conftest.py").write_text('pytest_plugins = ["helpers.pg_server"]\n')
    (tmp_path / "test_needs_server.py").write_text(_NEEDS_SERVER)
    env = {**os.environ, "KT_TEST_PG_BIN": str(tmp_path / "no-such-folder"), "CI": ci, "PYTHONPATH": str(TESTS)}
    env.pop("PYTEST_ADDOPTS", None)
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider", str(tmp_path)],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "No PostgreSQL test server: no PostgreSQL server binaries (initdb, postgres)" in done.stdout
    assert outcome in done.stdout
    assert done.returncode == (1 if ci else 0)


# ---------------------------------------------------------------------------
# Migrations


def test_migrations_are_numbered_plain_sql_files_in_the_package() -> None:
    found = schema.migrations()
    assert [m.version for m in found] == list(range(1, len(found) + 1))
    assert [m.name for m in found[:4]] == ["tables", "access", "officer_history", "writer_lock"]
    assert schema.latest_version() == len(found)


def test_migrate_applies_each_file_once_in_order(pg_server: PgServer, pg_empty_db: Callable[[], str]) -> None:
    name = pg_empty_db()
    with pg_server.connect(name, INSTALLER, autocommit=True) as conn:
        assert schema.current_version(conn) == 0
        assert schema.schema_problems(conn)[0].message == "The database has no knowsley-tracker schema."
        assert schema.migrate(conn) == list(range(1, schema.latest_version() + 1))
        assert schema.migrate(conn) == []
        rows = conn.execute("SELECT version, name, applied_by FROM kt.schema_version ORDER BY version").fetchall()
        assert rows == [(m.version, m.name, INSTALLER) for m in schema.migrations()]
        assert schema.schema_problems(conn) == []


def test_two_installers_at_once_apply_the_migrations_once(pg_server: PgServer, pg_empty_db: Callable[[], str]) -> None:
    name = pg_empty_db()
    results: list[list[int]] = []
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def install() -> None:
        try:
            with pg_server.connect(name, INSTALLER, autocommit=True) as conn:
                start.wait()
                results.append(schema.migrate(conn))
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=install) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    assert sorted(results) == [[], list(range(1, schema.latest_version() + 1))]


def test_a_failed_migration_leaves_nothing_behind(pg_server: PgServer, pg_empty_db: Callable[[], str]) -> None:
    """All files go in one transaction: a database where one fails keeps no half schema.
    (Here the installer lacks CREATEROLE, so the second file fails.)"""
    name = pg_empty_db()
    weak = pg_server.create_login()
    with pg_server.connect("postgres", autocommit=True) as conn:
        conn.execute(f'GRANT CREATE ON DATABASE "{name}" TO "{weak}"')
    with pg_server.connect(name, weak, autocommit=True) as conn:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            schema.migrate(conn)
        assert schema.current_version(conn) == 0
        assert conn.execute("SELECT to_regnamespace('kt')").fetchone() == (None,)


def test_a_newer_schema_is_refused(pg_db: PgDatabase) -> None:
    with pg_db.connect(pg_db.installer, autocommit=True) as conn:
        conn.execute("INSERT INTO kt.schema_version (version, name) VALUES (99, 'from the future')")
        with pytest.raises(CorruptStoreError, match="version 99, newer than this kt understands"):
            schema.migrate(conn)
        assert "newer than this kt understands" in schema.schema_problems(conn)[0].message


def test_every_table_with_plan_data_has_forced_row_level_security(pg_db: PgDatabase) -> None:
    with pg_db.connect(pg_db.installer) as conn:
        rows = conn.execute(
            "SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity FROM pg_class c "
            "WHERE c.relnamespace = 'kt'::regnamespace AND c.relkind = 'r' "
            "AND (c.relname IN ('plans') OR EXISTS (SELECT 1 FROM pg_attribute a "
            "     WHERE a.attrelid = c.oid AND a.attname = 'plan_id'))"
        ).fetchall()
    assert len(rows) == 21
    assert [r for r in rows if not (r[1] and r[2])] == []


def test_columns_have_real_types(pg_db: PgDatabase) -> None:
    with pg_db.connect(pg_db.installer) as conn:
        types = dict(
            conn.execute(
                "SELECT table_name || '.' || column_name, data_type FROM information_schema.columns "
                "WHERE table_schema = 'kt'"
            ).fetchall()
        )
    assert types["actions.due"] == "date"
    assert types["actions.progress"] == "integer"
    assert types["actions.last_logged_at"] == "timestamp with time zone"
    assert types["log.at"] == "timestamp with time zone"
    assert types["history.at"] == "timestamp with time zone"
    assert types["inspections.areas"] == "jsonb"
    assert types["interventions.revised"] == "ARRAY"
    assert types["kpis.target"] == "double precision"


# ---------------------------------------------------------------------------
# What kt doctor will report


def _tamper(db: PgDatabase, statement: str) -> list[str]:
    with db.connect(db.installer, autocommit=True) as conn:
        conn.execute(statement.encode())
        return [p.message for p in schema.schema_problems(conn)]


@pytest.mark.parametrize(
    ("statement", "message"),
    [
        (
            "ALTER TABLE kt.actions DROP CONSTRAINT actions_progress_range",
            "The constraint actions.actions_progress_range is missing.",
        ),
        ("ALTER TABLE kt.log NO FORCE ROW LEVEL SECURITY", "The row-level security log has been changed."),
        ("ALTER TABLE kt.evidence DISABLE ROW LEVEL SECURITY", "The row-level security evidence has been changed."),
        (
            "CREATE POLICY everyone ON kt.actions FOR SELECT USING (true)",
            "The policy actions.everyone was not made by kt's migrations.",
        ),
        (
            "ALTER POLICY actions_read ON kt.actions USING (true)",
            "The policy actions.actions_read has been changed.",
        ),
        ("DROP TRIGGER assign_id ON kt.log", "The trigger log.assign_id is missing."),
        (
            "ALTER TABLE kt.actions DISABLE TRIGGER guard_action_update",
            "The trigger actions.guard_action_update has been changed.",
        ),
        (
            "ALTER TABLE kt.actions DROP CONSTRAINT actions_rec_fk, ADD CONSTRAINT actions_rec_fk FOREIGN KEY "
            "(plan_id, rec_id) REFERENCES kt.recommendations (plan_id, id) NOT VALID",
            "The constraint actions.actions_rec_fk has been changed.",
        ),
    ],
)
def test_doctor_finds_a_weakened_schema(pg_db: PgDatabase, statement: str, message: str) -> None:
    with pg_db.connect(pg_db.installer) as conn:
        assert schema.schema_problems(conn) == []
    assert _tamper(pg_db, statement) == [message]


def test_doctor_finds_an_old_schema(pg_db: PgDatabase) -> None:
    with pg_db.connect(pg_db.installer, autocommit=True) as conn:
        conn.execute("DELETE FROM kt.schema_version WHERE version = %s", (schema.latest_version(),))
        problems = schema.schema_problems(conn)
    assert [p.message for p in problems] == [
        f"The database's schema is version {schema.latest_version() - 1}; this kt needs version {schema.latest_version()}."
    ]


def test_foreign_keys_follow_the_declared_relations(pg_db: PgDatabase) -> None:
    """Each single-id relation of knowsley_tracker.relations is a foreign key within the
    plan; list-of-ids relations (arrays) cannot be, and kt doctor checks those. Every
    key refuses a removal at commit: CASCADE and CLEAR are done by the service, which
    records each change in the history so that undo can put it back."""
    from knowsley_tracker.relations import RELATIONS

    with pg_db.connect(pg_db.installer) as conn:
        rows = conn.execute(
            "SELECT c.conrelid::regclass::text, a.attname, c.confrelid::regclass::text, c.confdeltype::text, "
            "c.condeferrable, c.condeferred "
            "FROM pg_constraint c JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[2] "
            "WHERE c.contype = 'f' AND c.connamespace = 'kt'::regnamespace AND cardinality(c.conkey) = 2"
        ).fetchall()
        arrays = dict(
            conn.execute(
                "SELECT table_name || '.' || column_name, data_type FROM information_schema.columns "
                "WHERE table_schema = 'kt' AND data_type = 'ARRAY'"
            ).fetchall()
        )
    keys = {(src.removeprefix("kt."), col, dst.removeprefix("kt.")) for src, col, dst, *_ in rows}
    declared = {(r.source.TABLE, r.field, r.target.TABLE) for r in RELATIONS if not r.many}
    assert keys == declared
    assert {(deltype, deferrable, deferred) for *_, deltype, deferrable, deferred in rows} == {("a", True, True)}
    many = {f"{r.source.TABLE}.{r.field}" for r in RELATIONS if r.many}
    assert many <= set(arrays)


def test_a_held_upgrade_lock_is_busy_not_a_hang(
    pg_server: PgServer, pg_empty_db: Callable[[], str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Any login may take an advisory lock: one holding the migrations' lock makes an
    install wait at most MIGRATION_LOCK_TIMEOUT, then fail as busy (7), changing nothing."""
    from knowsley_tracker.errors import StoreLockedError

    name = pg_empty_db()
    monkeypatch.setattr(schema, "MIGRATION_LOCK_TIMEOUT", 0.3)
    squatter = pg_server.create_login()
    with pg_server.connect(name, squatter, autocommit=True) as holder:
        holder.execute("SELECT pg_advisory_lock(%s, %s)", (schema.LOCK_CLASS, schema.MIGRATION_LOCK))
        with pg_server.connect(name, INSTALLER, autocommit=True) as conn:
            with pytest.raises(StoreLockedError, match="held the schema's upgrade lock for 0.3 s") as caught:
                schema.migrate(conn)
            assert caught.value.exit_code == 7
            assert schema.current_version(conn) == 0
    with pg_server.connect(name, INSTALLER, autocommit=True) as conn:
        assert schema.migrate(conn) == list(range(1, schema.latest_version() + 1))
