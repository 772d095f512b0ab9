"""The README's "Sharing a plan across a council" is kept true: every kt command line
in it is one kt accepts, and its set-up is replayed on a real server, step by step
(the DBA's logins, kt init, the grants, an officer's service file and .pgpass)."""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

from conftest import run
from helpers.pg_server import INSTALLER, PgServer
from typer.main import get_command

from knowsley_tracker.cli import app

README = Path(__file__).resolve().parent.parent / "README.md"
TITLE = "## Sharing a plan across a council"


def section() -> str:
    text = README.read_text(encoding="utf-8")
    start = text.index(TITLE)
    return text[start : text.index("\n## ", start + len(TITLE))]


def blocks(kind: str) -> list[str]:
    return re.findall(rf"```{kind}\n(.*?)```", section(), flags=re.DOTALL)


def kt_lines() -> list[list[str]]:
    """Every kt command line of the section's shell blocks, as words (cron's too)."""
    found = []
    for block in blocks("sh"):
        for line in block.splitlines():
            line = line.split("    #")[0]
            words = shlex.split(line, comments=False)
            for i, word in enumerate(words):
                if word == "kt" or word.endswith("/bin/kt"):
                    found.append(words[i + 1 :])
                    break
    return found


def test_the_section_exists_and_shows_every_step() -> None:
    text = section()
    for needed in ("CREATE DATABASE", "init --authority", "access grant", "pg_service.conf", ".pgpass", "sslmode"):
        assert needed in text, needed
    assert len(kt_lines()) >= 9


def _is_group(command: Any) -> bool:
    return hasattr(command, "commands")  # Typer's own copy of Click's Group


def _rest(ctx: Any) -> list[str]:
    """The words a group left for its subcommand (Click 8.2 keeps them in _protected_args)."""
    return [*getattr(ctx, "_protected_args", []), *ctx.args]


def test_every_kt_line_in_the_section_is_one_kt_accepts() -> None:
    root = get_command(app)
    for words in kt_lines():
        ctx: Any = root.make_context("kt", list(words), resilient_parsing=False)
        args = _rest(ctx)
        command: Any = root
        while _is_group(command) and args:
            name, command, args = command.resolve_command(ctx, args)
            assert command is not None, words
            ctx = command.make_context(name, args, parent=ctx)
            args = _rest(ctx) if _is_group(command) else []
        assert not _is_group(command), words  # ended on a command, not a group


def test_the_set_up_replays_on_a_real_server(
    pg_server: PgServer, pg_empty_db: Any, runner: Any, tmp_path: Path
) -> None:
    dbname = pg_empty_db()
    # 1. The DBA's logins (the installer and the database are the test server's own).
    sql = blocks("sql")[0]
    logins = [m for m in re.findall(r"CREATE ROLE (\w+) LOGIN", sql) if m != INSTALLER]
    assert logins == ["jlee", "board_chair", "perf_team", "kt_cron"]
    for login in logins:
        if login not in pg_server.passwords:
            pg_server.create_login(login)

    def here(text: str) -> str:
        uri = f"postgresql://{INSTALLER}@/{dbname}?host={pg_server.socket_dir}&port={pg_server.port}"
        return text.replace(f"postgresql://{INSTALLER}@db.council.local/improvement", uri)

    def kt(words: list[str], login: str, **env: str) -> Any:
        result = run(runner, *words, env={"PGPASSWORD": pg_server.passwords[login], **env})
        assert result.exit_code == 0, (words, result.stdout, result.stderr)
        return result

    # 2. kt init creates the schema and the plan.
    init = [w for w in kt_lines() if "init" in w][0]
    out = kt([here(w) for w in init], INSTALLER).stdout
    assert "Created the knowsley-tracker schema" in out and "Created the plan knowsley-2025 for Knowsley" in out
    # 3. The grants, and linking the officer's owner (once the plan has owners and actions).
    grants_block = blocks("sh")[1]
    uri = here(re.search(r"KNOWSLEY_TRACKER_DB=(\S+)", grants_block)[1])  # type: ignore[index]
    env = {"KNOWSLEY_TRACKER_DB": uri}
    for step in (
        ["owner", "add", "Head of Service, Disabled Children"],
        ["owner", "add", "Head of Service, Care Leavers"],
        ["owner", "add", "Head of Quality Assurance"],
        ["rec", "add", "Management oversight for disabled children."],
        ["action", "add", "R1", "Audit open cases", "--owner", "O3", "--due", "15/12/2025"],
    ):
        kt(step, INSTALLER, **env)
    for line in grants_block.splitlines()[1:]:
        kt(shlex.split(line.split("    #")[0])[1:], INSTALLER, **env)
    listed = kt(["access", "list", "--plan", "knowsley-2025", "--json"], INSTALLER, **env).stdout
    assert all(f'"login": "{login}"' in listed for login in logins)
    # 4. The officer's service file and .pgpass, as the README writes them (over the
    # test server's Unix socket, where libpq does not use TLS).
    ini = blocks("ini")[0]
    service = (
        ini.replace("host=db.council.local", f"host={pg_server.socket_dir}\nport={pg_server.port}")
        .replace("dbname=improvement", f"dbname={dbname}")
        .replace("sslrootcert=/etc/ssl/certs/council-ca.pem\n", "")
    )
    (tmp_path / "pg_service.conf").write_text(service)
    officer_block = blocks("sh")[2]
    pgpass_line = re.search(r"echo '([^']+)'", officer_block)[1]  # type: ignore[index]
    pgpass = tmp_path / "pgpass"
    pgpass.write_text(
        pgpass_line.replace("db.council.local:5432", f"{pg_server.socket_dir}:{pg_server.port}")
        .replace(":improvement:", f":{dbname}:")
        .replace("their-password", pg_server.passwords["jlee"])
        + "\n"
    )
    pgpass.chmod(0o600)
    exported = dict(re.findall(r"(KNOWSLEY_TRACKER_\w+)=(\S+)", officer_block))
    assert exported == {"KNOWSLEY_TRACKER_DB": "service=improvement", "KNOWSLEY_TRACKER_PLAN": "knowsley-2025"}
    log = shlex.split([line for line in officer_block.splitlines() if line.startswith("kt log")][0])[1:]
    log = ["A1" if word == "A12" else word for word in log]
    officer_env = {"PGSERVICEFILE": str(tmp_path / "pg_service.conf"), "PGPASSFILE": str(pgpass), **exported}
    result = run(runner, *log, env={**officer_env, "PGPASSWORD": ""})
    assert result.exit_code == 0, result.stderr
    with pg_server.connect(dbname) as conn:
        assert conn.execute("SELECT login, note FROM kt.log").fetchall() == [("jlee", "Audit complete")]
