"""Every command has help with an example, and the README's commands stay true."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from typer.main import get_command

from knowsley_tracker.cli import COMMANDS, SUMMARIES, app
from knowsley_tracker.errors import EXIT_CODES

README = Path(__file__).resolve().parent.parent / "README.md"


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
    # "\b" asks Click to keep the example's lines as written (see cli._plain_help).
    example = help_text.split("Example:", 1)[1].replace("\b", "").strip().splitlines()[0].strip()
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


def test_the_readme_exit_code_table_is_the_one_in_errors() -> None:
    section = README.read_text(encoding="utf-8").split("## Exit codes", 1)[1]
    rows = [line for line in section.split("\n\n", 2)[1].splitlines() if line.startswith("| ")][1:]
    table = [(int(code), meaning) for code, meaning in (row.strip("| ").split(" | ", 1) for row in rows)]
    assert table == EXIT_CODES
    assert len({code for code, _ in EXIT_CODES}) == len(EXIT_CODES)


def test_root_help_summaries_are_each_commands_own_first_line() -> None:
    root = get_command(app)
    for name in COMMANDS:
        command = root.get_command(None, name)  # type: ignore[attr-defined]
        assert SUMMARIES[name] == (command.help or "").strip().splitlines()[0], name
    assert set(SUMMARIES) == set(COMMANDS)


def test_help_loads_no_command_group_and_no_rich() -> None:
    import subprocess
    import sys

    code = (
        "import sys, io, contextlib\n"
        "from knowsley_tracker.cli import app\n"
        "with contextlib.redirect_stdout(io.StringIO()) as out:\n"
        "    app(['--help'], standalone_mode=False)\n"
        "assert 'Every day:' in out.getvalue()\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'rich' or m.startswith('knowsley_tracker.cli.')"
        " or m.startswith('markdown_it')))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert (done.returncode, done.stdout, done.stderr) == (
        0,
        "['knowsley_tracker.cli._complete', 'knowsley_tracker.cli._context']\n",
        "",
    )


def test_an_example_keeps_its_line_in_help(kt: Any) -> None:
    shown = kt("action", "add", "--help").stdout
    assert (
        '      kt action add R3 "Audit all open disabled children\'s cases" --owner "Head of Service, Disabled '
        'Children" --due 30/09/2025\n' in shown
    )
