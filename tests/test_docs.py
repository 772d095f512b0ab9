"""Every command has help with an example, and the README's commands stay true."""

from __future__ import annotations

from typing import Any

import pytest
from typer.main import get_command

from knowsley_tracker.cli import COMMANDS, app


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


def test_the_readme_exit_code_table_lists_exactly_the_codes_kt_uses() -> None:
    import re
    from pathlib import Path

    from knowsley_tracker.errors import EXIT_CODES

    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    table = readme.split("## Exit codes", 1)[1].split("\n\n", 2)[1]
    documented = [int(m[1]) for m in re.finditer(r"^\| (\d+) \|", table, re.MULTILINE)]
    assert documented == [code for code, _ in EXIT_CODES]
