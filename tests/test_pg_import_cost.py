"""psycopg is imported only when the store is a PostgreSQL server: a JSON-file
command never loads it (measured with python -X importtime, which lists every
module a whole kt process imported)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "knowsley-2025" / "plan.json"


def imported_modules(*args: str) -> set[str]:
    env = {**os.environ, "KNOWSLEY_TRACKER_NOW": "2025-11-30"}
    done = subprocess.run(
        [sys.executable, "-X", "importtime", *args], capture_output=True, text=True, env=env, cwd=ROOT, timeout=120
    )
    assert done.returncode in (0, 1), done.stderr[-2000:]
    names = set()
    for line in done.stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            names.add(line.rsplit("|", 1)[1].strip())
    assert names, "python -X importtime reported nothing"
    return names


@pytest.mark.parametrize(
    "command",
    [
        ["action", "list"],
        ["check"],
        ["report", "--format", "json"],
    ],
)
def test_a_json_store_command_never_imports_psycopg(command: list[str]) -> None:
    modules = imported_modules("-c", "from knowsley_tracker.entry import main; main()", "--db", str(EXAMPLE), *command)
    assert "knowsley_tracker.cli" in modules  # the command really ran through kt
    assert sorted(m for m in modules if m.startswith(("psycopg", "knowsley_tracker.pgstore"))) == []


def test_the_pgstore_package_itself_imports_nothing_heavy() -> None:
    modules = imported_modules("-c", "import knowsley_tracker.pgstore")
    assert "knowsley_tracker.pgstore" in modules
    assert sorted(m for m in modules if m.startswith("psycopg")) == []


def test_the_server_modules_do_import_psycopg() -> None:
    """The guard above would pass vacuously if the parsing were wrong: here it must find it."""
    modules = imported_modules("-c", "import knowsley_tracker.pgstore.connection")
    assert "psycopg" in modules
