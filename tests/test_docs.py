"""Every command has help with an example, and the README's commands stay true."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from typer.main import get_command

from knowsley_tracker.cli import COMMANDS, app
from knowsley_tracker.config import SETTINGS


def all_commands() -> list[tuple[str, Any]]:
    root = get_command(app)
    found = []
    for name in COMMANDS:
        command = root.get_command(None, name)  # type: ignore[attr-defined]
        subcommands = getattr(command, "commands", None)
        if subcommands:
            found += [(f"{name} {sub}", cmd) for sub, cmd in subcommands.items()]
        else:
            found.append((name, command))
    return found


@pytest.mark.parametrize(("name", "command"), all_commands(), ids=lambda v: v if isinstance(v, str) else "")
def test_every_command_has_help_with_an_example(name: str, command: Any) -> None:
    help_text = command.help or ""
    first_line = help_text.strip().splitlines()[0]
    assert first_line.endswith("."), name
    assert "Example:" in help_text, name
    example = help_text.split("Example:", 1)[1].strip().splitlines()[0].strip()
    assert example.startswith("kt "), name
    assert f"kt {name}" in example or example.startswith("kt --db") or name in ("init",), name


def test_help_runs_for_every_command(kt: Any) -> None:
    for name, _command in all_commands():
        result = kt(*name.split(), "--help")
        assert result.exit_code == 0, name
        assert "Example" in result.stdout, name


def test_root_help_lists_every_group(kt: Any) -> None:
    result = kt("--help")
    assert result.exit_code == 0
    for name in COMMANDS:
        assert name in result.stdout


def test_the_readme_lists_every_setting_as_declared() -> None:
    """README "Settings" table rows are the declarations in knowsley_tracker/config.py."""
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    rows = [line for line in readme.splitlines() if line.startswith("| `") and line.count("|") == 5]
    table = {}
    for line in rows:
        name, takes, default, meaning = (cell.strip() for cell in line.strip("|").split("|"))
        table[name.strip("`")] = (takes, default, meaning)
    declared = {s.name: (s.kind.accepted, s.kind.show(s.default), s.help) for s in SETTINGS.values()}
    assert {name: table.get(name) for name in declared} == declared
