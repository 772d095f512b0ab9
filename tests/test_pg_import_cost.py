"""What a command costs before it starts: psycopg is imported only when the store is
a PostgreSQL server, TinyDB only when a command changes the store, and Typer never
compiles a command's annotations (measured with python -X importtime, which lists
every module a whole kt process imported)."""

from __future__ import annotations

import importlib
import inspect
import os
import shutil
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


@pytest.mark.parametrize(
    "command", [["action", "list"], ["action", "show", "A3"], ["board", "show", "B1"], ["check"], ["report"]]
)
def test_a_command_that_only_reads_never_imports_tinydb(command: list[str]) -> None:
    modules = imported_modules("-c", "from knowsley_tracker.entry import main; main()", "--db", str(EXAMPLE), *command)
    assert "knowsley_tracker.storage.file_store" in modules
    assert sorted(m for m in modules if m.startswith("tinydb")) == []


def test_a_write_imports_tinydb_but_not_strptime(tmp_path: Path) -> None:
    """Every commit lists the backups; their names are read without strptime's parser."""
    db = tmp_path / "plan.json"
    shutil.copy(EXAMPLE, db)
    for _ in range(2):  # the second commit lists the backup the first one made
        modules = imported_modules(
            "-c", "from knowsley_tracker.entry import main; main()", "--db", str(db), "log", "A1", "Checked"
        )
    assert "tinydb" in modules
    assert "_strptime" not in modules
    assert len(list((tmp_path / "plan.json.d" / "backups").iterdir())) == 2


def test_command_annotations_are_objects_not_text() -> None:
    """A text annotation (``from __future__ import annotations``) costs Typer an eval and a
    compile for every parameter of the command it builds: the command modules write them as
    expressions (``plans`` excepted, for its psycopg types)."""
    from knowsley_tracker.cli import COMMANDS

    checked = 0
    for module_name, _attr, _panel in COMMANDS.values():
        if module_name == "plans":
            continue
        module = importlib.import_module(f"knowsley_tracker.cli.{module_name}")
        for name, function in vars(module).items():
            if inspect.isfunction(function) and function.__module__ == module.__name__:
                text = {k: v for k, v in inspect.get_annotations(function).items() if isinstance(v, str)}
                assert text == {}, f"{module_name}.{name}"
                checked += 1
    assert checked > 50
