"""The README's transcripts are replayed command by command, and must match exactly."""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

README = Path(__file__).resolve().parent.parent / "README.md"
MARKER = "<!-- replayed by tests/test_readme.py"
ANSI = re.compile(r"\x1b\[[0-9;]*m")
README_DB = "/home/officer/.config/knowsley-tracker/plan.json"


def replayed_blocks() -> list[list[str]]:
    lines = README.read_text(encoding="utf-8").splitlines()
    blocks = []
    for n, line in enumerate(lines):
        if line.startswith(MARKER):
            assert lines[n + 1] == "```console"
            end = lines.index("```", n + 2)
            blocks.append(lines[n + 2 : end])
    return blocks


def commands_and_output(block: list[str]) -> list[tuple[str, list[str]]]:
    steps: list[tuple[str, list[str]]] = []
    for line in block:
        if line.startswith("$ "):
            steps.append((line[2:], []))
        else:
            steps[-1][1].append(line)
    return steps


def test_readme_has_the_two_commands() -> None:
    text = README.read_text(encoding="utf-8")
    assert (
        "pip install -q . && KNOWSLEY_TRACKER_NOW=2025-11-30 .venv/bin/kt --db examples/knowsley-2025/plan.json report"
        in text
    )
    assert "pip install -q -e '.[dev,pdf]' && .venv/bin/python -m pytest" in text
    # CI installs the same extras the README's test command does.
    ci = (README.parent / ".ci" / "run").read_text(encoding="utf-8")
    assert "pip install --quiet -e '.[dev,pdf]'" in ci


def test_readme_transcripts_are_true(kt: Any, db: Path, monkeypatch: Any) -> None:
    monkeypatch.setenv("KNOWSLEY_TRACKER_USER", "Improvement Programme Manager")
    monkeypatch.setenv("TTY_COMPATIBLE", "1")
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("COLUMNS", "100")
    blocks = replayed_blocks()
    assert len(blocks) == 2
    for block in blocks:
        for command, expected in commands_and_output(block):
            args = shlex.split(command)
            assert args[0] == "kt", command
            result = kt(*args[1:])
            shown = ANSI.sub("", result.stdout + result.stderr).replace(str(db), README_DB)
            assert [line.rstrip() for line in shown.splitlines()] == expected, command
