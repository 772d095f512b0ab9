"""A throwaway PostgreSQL server for one test session, and the fixtures that use it.

Wired from conftest.py (``pytest_plugins``). Nothing starts until a test asks
for ``pg_server`` (directly or through ``pg_db``), so a run of the file-store
tests alone never pays for a server.

The server is ``initdb`` plus ``postgres`` in a new temporary folder of its own,
listening only on a Unix socket in that folder (``listen_addresses=''``), so
several developers' test sessions on one machine never meet. PostgreSQL refuses
to run as root; when the tests run as root (CI does) the server runs as an
unprivileged account (``postgres`` when it exists, else ``nobody``) that owns
the folder. The server is told to die with the test process (PR_SET_PDEATHSIG)
and is stopped with a fast shutdown at the end of the session.

Every login authenticates with a SCRAM password, as a council's server would ask.

When no server binaries can be found: with ``CI=true`` the tests that need one
fail (``.ci/run`` installs them, so that is a broken CI); elsewhere they skip,
saying what to install.
"""

from __future__ import annotations

import ctypes
import glob
import os
import pwd
import secrets
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

SUPERUSER = "kt_test_super"
INSTALLER = "kt_installer"
_PR_SET_PDEATHSIG = 1


def find_bin_dir() -> Path | None:
    """The folder holding initdb and postgres: KT_TEST_PG_BIN when set (to test another
    version, or none), else from PATH, else Debian's /usr/lib/postgresql/*/bin."""
    chosen = os.environ.get("KT_TEST_PG_BIN")
    if chosen is not None:
        folder = Path(chosen)
        return folder if all(os.access(folder / name, os.X_OK) for name in ("initdb", "postgres")) else None
    candidates: list[Path] = []
    found = shutil.which("initdb")
    if found:
        candidates.append(Path(found).resolve().parent)
    versions = sorted(
        glob.glob("/usr/lib/postgresql/*/bin"),
        key=lambda p: int(Path(p).parent.name) if Path(p).parent.name.isdigit() else 0,
        reverse=True,
    )
    candidates += [Path(p) for p in versions]
    for folder in candidates:
        if all(os.access(folder / name, os.X_OK) for name in ("initdb", "postgres")):
            return folder
    return None


def _server_account() -> tuple[int, int] | None:
    """The (uid, gid) to run the server as: None when we are not root (run as ourselves)."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            entry = pwd.getpwnam(name)
        except KeyError:
            continue
        return entry.pw_uid, entry.pw_gid
    raise RuntimeError("Running as root, and there is neither a postgres nor a nobody account to run the server as.")


def _die_with_parent() -> None:
    """Run in the child after it has switched user: when pytest dies, so does the server
    (SIGINT is PostgreSQL's fast shutdown)."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGINT, 0, 0, 0)


@dataclass
class PgServer:
    """A running server: connection settings and a superuser connection for set-up."""

    bin_dir: Path
    folder: Path
    port: int
    process: subprocess.Popen[bytes]
    log_path: Path
    passwords: dict[str, str] = field(default_factory=dict)
    _counter: int = 0

    @property
    def socket_dir(self) -> str:
        return str(self.folder)

    @property
    def version(self) -> str:
        return self.bin_dir.parent.name

    def conninfo(self, dbname: str, user: str, *, password: bool = True) -> str:
        """A libpq connection string; with the login's password unless ``password=False``."""
        parts = [f"host={self.socket_dir}", f"port={self.port}", f"dbname={dbname}", f"user={user}"]
        if password:
            parts.append(f"password={self.passwords[user]}")
        return " ".join(parts)

    def connect(self, dbname: str, user: str = SUPERUSER, *, autocommit: bool = False) -> Any:
        import psycopg

        return psycopg.connect(self.conninfo(dbname, user), autocommit=autocommit)

    def unique(self, prefix: str) -> str:
        self._counter += 1
        return f"{prefix}_{self._counter}_{secrets.token_hex(3)}"

    def create_login(self, name: str | None = None, *, createrole: bool = False) -> str:
        """A new login with a random password (kept in ``passwords``)."""
        from psycopg import sql

        login = name or self.unique("u")
        password = secrets.token_urlsafe(18)
        with self.connect("postgres", autocommit=True) as conn:
            conn.execute(
                sql.SQL("CREATE ROLE {} LOGIN PASSWORD {} {}").format(
                    sql.Identifier(login), sql.Literal(password), sql.SQL("CREATEROLE" if createrole else "")
                )
            )
        self.passwords[login] = password
        return login

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no server log)"


def _run_as(account: tuple[int, int] | None) -> dict[str, Any]:
    if account is None:
        return {}
    uid, gid = account
    return {"user": uid, "group": gid, "extra_groups": []}


def start_server() -> PgServer:
    """initdb and start a server in a new temporary folder; raises RuntimeError saying why not."""
    bin_dir = find_bin_dir()
    if bin_dir is None:
        raise FileNotFoundError(
            "no PostgreSQL server binaries (initdb, postgres) on PATH or in /usr/lib/postgresql/*/bin: "
            "install Debian's postgresql package (apt-get install postgresql), as .ci/run does"
        )
    account = _server_account()
    # Short and in /tmp: a Unix socket path must fit in 107 bytes, and the server's
    # account must be able to reach the folder (pytest's own temp folders are root's, 0700).
    folder = Path(tempfile.mkdtemp(prefix="kt-pg-", dir="/tmp"))
    try:
        data = folder / "data"
        pwfile = folder / "pwfile"
        superuser_password = secrets.token_urlsafe(18)
        pwfile.write_text(superuser_password + "\n")
        if account is not None:
            os.chown(folder, *account)
            os.chown(pwfile, *account)
        folder.chmod(0o700)
        initdb = subprocess.run(
            [
                str(bin_dir / "initdb"),
                "-D",
                str(data),
                "-U",
                SUPERUSER,
                "--auth=scram-sha-256",
                f"--pwfile={pwfile}",
                "-E",
                "UTF8",
                "--no-locale",
                "--no-sync",
                "--no-instructions",
            ],
            capture_output=True,
            text=True,
            check=False,
            **_run_as(account),
        )
        pwfile.unlink()
        if initdb.returncode != 0:
            raise RuntimeError(f"initdb failed ({initdb.returncode}): {initdb.stderr.strip() or initdb.stdout.strip()}")
        port = 20000 + secrets.randbelow(40000)
        log_path = folder / "server.log"
        log = open(log_path, "wb")  # noqa: SIM115  # the server writes to it until the session ends
        if account is not None:
            os.chown(log_path, *account)
        settings = {
            "listen_addresses": "",
            "unix_socket_directories": str(folder),
            "unix_socket_permissions": "0700",
            "port": str(port),
            # A throwaway server: durability is not what these tests are about.
            "fsync": "off",
            "synchronous_commit": "off",
            "full_page_writes": "off",
            "max_connections": "80",
            "shared_buffers": "32MB",
            "dynamic_shared_memory_type": "mmap",
            "log_min_messages": "warning",
        }
        command = [str(bin_dir / "postgres"), "-D", str(data)]
        for name, value in settings.items():
            command += ["-c", f"{name}={value}"]
        process = subprocess.Popen(  # noqa: S603
            command,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C in the terminal reaches pytest, which stops the server itself
            preexec_fn=_die_with_parent,  # noqa: PLW1509
            **_run_as(account),
        )
        log.close()
        server = PgServer(bin_dir=bin_dir, folder=folder, port=port, process=process, log_path=log_path)
        server.passwords[SUPERUSER] = superuser_password
        _wait_until_ready(server)
        return server
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise


def _wait_until_ready(server: PgServer, timeout: float = 60.0) -> None:
    import psycopg

    deadline = time.monotonic() + timeout
    while True:
        if server.process.poll() is not None:
            raise RuntimeError(f"the server exited ({server.process.returncode}):\n{server.log_tail()}")
        try:
            with psycopg.connect(server.conninfo("postgres", SUPERUSER), connect_timeout=2):
                return
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                stop_server(server)
                raise RuntimeError(
                    f"the server did not accept connections within {timeout:g} s:\n{server.log_tail()}"
                ) from None
            time.sleep(0.05)


def stop_server(server: PgServer) -> None:
    """Fast shutdown, then the folder goes."""
    if server.process.poll() is None:
        server.process.send_signal(signal.SIGINT)
        try:
            server.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.wait()
    shutil.rmtree(server.folder, ignore_errors=True)


# ---------------------------------------------------------------------------
# Fixtures


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    """One PostgreSQL server for the whole session."""
    try:
        server = start_server()
    except (FileNotFoundError, RuntimeError) as exc:
        message = f"No PostgreSQL test server: {exc}"
        if os.environ.get("CI") == "true":
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    try:
        yield server
    finally:
        stop_server(server)


@dataclass
class PgDatabase:
    """A fresh database holding the migrated kt schema, and the logins made for one test."""

    server: PgServer
    name: str
    installer: str

    def conninfo(self, user: str, *, password: bool = True) -> str:
        return self.server.conninfo(self.name, user, password=password)

    def connect(self, user: str, *, autocommit: bool = False) -> Any:
        return self.server.connect(self.name, user, autocommit=autocommit)

    def wait_for_a_lock_wait(self, application_name: str = "knowsley-tracker", timeout: float = 20.0) -> None:
        """Block until a session of kt (its connections' application_name) waits for a lock
        in this database: for tests that must make a deadlock happen, whatever the load."""
        deadline = time.monotonic() + timeout
        with self.server.connect(self.name, autocommit=True) as conn:
            while True:
                row = conn.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND application_name = %s "
                    "AND wait_event_type = 'Lock'",
                    (self.name, application_name),
                ).fetchone()
                if row[0]:
                    return
                if time.monotonic() > deadline:
                    raise AssertionError(f"no {application_name} session waited for a lock within {timeout:g} s")
                time.sleep(0.02)

    @contextmanager
    def deadlock_kt_on(self, table: str, plan_key: str) -> Iterator[None]:
        """Make the next kt command that writes ``table`` deadlock, deterministically: another
        client (the superuser, through SQL) holds kt.<table>, waits until kt, holding the
        plan's writer lock, waits for it, then asks for that writer lock. kt waited first, so
        the server breaks kt's transaction off. Run the kt command inside the block."""
        holding = threading.Event()
        failures: list[BaseException] = []

        def client() -> None:
            try:
                with self.server.connect(self.name) as conn, conn.transaction():
                    conn.execute(f"LOCK TABLE kt.{table} IN EXCLUSIVE MODE")
                    holding.set()
                    self.wait_for_a_lock_wait()
                    conn.execute(
                        "SELECT 1 FROM kt.writers w JOIN kt.plans p ON p.id = w.plan_id WHERE p.key = %s "
                        "FOR UPDATE OF w",
                        (plan_key,),
                    )
            except Exception as exc:  # pragma: no cover - shown by the assertion below
                failures.append(exc)

        thread = threading.Thread(target=client)
        thread.start()
        assert holding.wait(10)
        try:
            yield
        finally:
            thread.join(30)
        assert failures == []

    def login(self) -> str:
        """A new login that may connect to this database (and holds no role on any plan)."""
        return self.server.create_login()

    def planner(self) -> str:
        """A new login that may create plans (a member of the planner group)."""
        from psycopg import sql

        login = self.login()
        with self.connect(self.installer, autocommit=True) as conn:
            group = conn.execute("SELECT kt.group_role('planner')").fetchone()[0]
            conn.execute(sql.SQL("GRANT {} TO {}").format(sql.Identifier(group), sql.Identifier(login)))
        return login


@pytest.fixture(scope="session")
def pg_installer(pg_server: PgServer) -> str:
    """The login that installs kt's schema: not a superuser, but with CREATEROLE (it
    makes the group roles), owning the databases (what a council's DBA would set up)."""
    return pg_server.create_login(INSTALLER, createrole=True)


@pytest.fixture(scope="session")
def pg_template(pg_server: PgServer, pg_installer: str) -> str:
    """A database migrated once by the installer, copied for each test that wants one."""
    from knowsley_tracker.pgstore import schema

    name = "kt_template"
    with pg_server.connect("postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}" OWNER "{INSTALLER}"')
    with pg_server.connect(name, INSTALLER) as conn:
        schema.migrate(conn)
    return name


@pytest.fixture
def pg_db(pg_server: PgServer, pg_template: str) -> PgDatabase:
    """A new database for this test, copied from the migrated template."""
    name = pg_server.unique("kt_db")
    with pg_server.connect("postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{pg_template}" OWNER "{INSTALLER}" STRATEGY FILE_COPY')
    return PgDatabase(server=pg_server, name=name, installer=INSTALLER)


@pytest.fixture
def pg_empty_db(pg_server: PgServer, pg_installer: str) -> Callable[[], str]:
    """Make a new, empty database owned by the installer (for migration tests)."""

    def make() -> str:
        name = pg_server.unique("kt_empty")
        with pg_server.connect("postgres", autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}" OWNER "{INSTALLER}"')
        return name

    return make


@dataclass
class SharedPlans:
    """One database for the session's store-matrix tests, and a planner who makes a new plan per test."""

    db: PgDatabase
    admin: str


@pytest.fixture(scope="session")
def pg_shared(pg_server: PgServer, pg_template: str) -> SharedPlans:
    name = "kt_store_matrix"
    with pg_server.connect("postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{pg_template}" OWNER "{INSTALLER}" STRATEGY FILE_COPY')
    db = PgDatabase(server=pg_server, name=name, installer=INSTALLER)
    return SharedPlans(db=db, admin=db.planner())


@pytest.fixture
def pg_plan_store(pg_shared: SharedPlans) -> Iterator[Any]:
    """A new, empty plan ("Test Council", created at the tests' NOW) in the shared
    database, open for writing as its admin: the PostgreSQL store of the store matrix.
    Every test's plan lives beside the others', as a region's plans would."""
    from datetime import datetime

    from knowsley_tracker.pgstore import access
    from knowsley_tracker.pgstore.store import PgStore

    server, db = pg_shared.db.server, pg_shared.db
    key = server.unique("plan").replace("_", "-")
    with db.connect(pg_shared.admin, autocommit=True) as conn:
        access.create_plan(conn, key, "Test Council", created_at=datetime.fromisoformat("2025-11-30T09:00:00+00:00"))
    store = PgStore.open(
        db.conninfo(pg_shared.admin, password=False), key, write=True, password=server.passwords[pg_shared.admin]
    )
    yield store
    store.close()
