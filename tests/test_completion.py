"""Shell completion: the script for the shell named, and values completed from the store
(exactly as each shell reads them), answered without loading the command tree."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.main import get_command

from knowsley_tracker import completing
from knowsley_tracker.cli import COMMANDS, _complete, app

KT = [sys.executable, "-c", "import sys; sys.argv[0] = 'kt'; from knowsley_tracker.entry import main; main()"]
# The same, straight into the command tree: Typer answers, not completing.py.
KT_TYPER = [sys.executable, "-c", "import sys; sys.argv[0] = 'kt'; from knowsley_tracker.cli import main; main()"]


@pytest.mark.parametrize(
    ("shell", "start", "contains"),
    [
        ("zsh", "#compdef kt", "_KT_COMPLETE=complete_zsh kt"),
        ("fish", "complete --command kt", "_KT_COMPLETE=complete_fish"),
        ("bash", "_kt_completion() {", "complete -o default -F _kt_completion kt"),
    ],
)
def test_show_completion_prints_the_script_of_the_shell_named(kt: Any, shell: str, start: str, contains: str) -> None:
    result = kt("--show-completion", shell)
    assert result.exit_code == 0
    assert result.stdout.startswith(start)
    assert contains in result.stdout


def test_an_unknown_shell_is_refused(kt: Any) -> None:
    result = kt("--show-completion", "tcsh")
    assert (result.exit_code, result.stderr) == (
        4,
        "Error: Unknown shell 'tcsh': choose bash, zsh, fish or powershell.\n",
    )


def test_with_no_shell_named_the_running_shell_is_used(monkeypatch: pytest.MonkeyPatch) -> None:
    import shellingham  # type: ignore[import-untyped]

    def undetectable() -> tuple[str, str]:
        raise shellingham.ShellDetectionFailure()

    monkeypatch.setattr(shellingham, "detect_shell", undetectable)
    monkeypatch.setenv("SHELL", "/usr/bin/zsh")
    assert _complete.default_shell(["--show-completion"]) == ["--show-completion", "zsh"]
    assert _complete.default_shell(["--show-completion", "fish"]) == ["--show-completion", "fish"]
    # After the command name it is a note, not an option.
    assert _complete.default_shell(["log", "A1", "--show-completion"]) == ["log", "A1", "--show-completion"]


# -- values from the store -------------------------------------------------------------------


def ask(db: Path, env: dict[str, str], command: list[str] = KT) -> subprocess.CompletedProcess[str]:
    full = {k: v for k, v in os.environ.items() if not k.startswith(("_KT", "COMP_", "_TYPER"))}
    full.update(env, KNOWSLEY_TRACKER_DB=str(db))
    return subprocess.run(command, env=full, capture_output=True, text=True, check=False)


def zsh(db: Path, line: str, command: list[str] = KT) -> str:
    done = ask(db, {"_KT_COMPLETE": "complete_zsh", "_TYPER_COMPLETE_ARGS": line}, command)
    assert (done.returncode, done.stderr) == (0, "")
    return done.stdout


def bash(db: Path, line: str, command: list[str] = KT) -> list[str]:
    words = line.split(" ")
    env = {"_KT_COMPLETE": "complete_bash", "COMP_WORDS": line, "COMP_CWORD": str(len(words) - 1)}
    done = ask(db, env, command)
    assert (done.returncode, done.stderr) == (0, "")
    return done.stdout.splitlines()


def test_zsh_gets_ids_with_their_titles(plan: Any, db: Path) -> None:
    assert zsh(db, "kt log A").splitlines() == [
        '_arguments \'*: :(("A1":"Audit open disabled children\'\'s cases"',
        '"A2":"Publish a plan for the disabled children\'\'s service"',
        '"A3":"Recruit two more personal advisers"',
        '"A4":"Agree a PA caseload cap"))\'',
    ]
    assert (
        zsh(db, "kt action show a2")
        == "_arguments '*: :((\"a2\":\"Publish a plan for the disabled children''s service\"))'\n"
    )
    assert zsh(db, "kt action show A9") == "_files\n"


def test_bash_completes_each_kind_of_value(plan: Any, db: Path) -> None:
    assert bash(db, "kt action add R") == ["R1", "R2"]
    assert bash(db, "kt action list --owner O") == ["O1", "O2"]
    assert bash(db, "kt action list --owner Head") == [
        "Head of Service, Disabled Children",
        "Head of Service, Care Leavers",
    ]
    assert bash(db, "kt action list --focus C") == ["CL"]
    assert bash(db, "kt recs list --focus ") == ["DIS", "CL"]
    assert bash(db, "kt log A1 note --status ") == ["not-started", "in-progress", "blocked", "complete", "dropped"]
    assert bash(db, "kt log A1 note -s c") == ["complete"]
    assert bash(db, "kt action list --rag a") == ["amber"]
    assert bash(db, "kt focus show ") == ["DIS", "CL"]
    assert bash(db, "kt owner edit O") == ["O1", "O2"]
    assert bash(db, "kt report --focus D") == ["DIS"]


def test_fish_gets_values_with_tabs_and_is_args_says_whether_there_are_any(plan: Any, db: Path) -> None:
    env = {"_KT_COMPLETE": "complete_fish", "_TYPER_COMPLETE_FISH_ACTION": "get-args"}
    got = ask(db, env | {"_TYPER_COMPLETE_ARGS": "kt rec show R"})
    assert (
        got.stdout == "R1\tDisabled children: practice and oversight\nR2\tThe caseloads of personal advisers (PAs).\n"
    )
    is_args = {"_KT_COMPLETE": "complete_fish", "_TYPER_COMPLETE_FISH_ACTION": "is-args"}
    assert ask(db, is_args | {"_TYPER_COMPLETE_ARGS": "kt rec show R"}).returncode == 0
    assert ask(db, is_args | {"_TYPER_COMPLETE_ARGS": "kt rec show R9"}).returncode == 1


def test_the_db_option_in_the_typed_line_is_used(plan: Any, db: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "none" / "plan.json"
    assert bash(elsewhere, f"kt --db {db} log A") == ["A1", "A2", "A3", "A4"]
    assert bash(db, f"kt --db {elsewhere} log A") == []  # no store there: nothing offered, nothing said


def test_user_text_in_descriptions_is_escaped(plan: Any, db: Path) -> None:
    assert (
        plan("action", "add", "R1", "Title with \x1b[31mred\x1b[0m and $(rm) `x` 'q' \"d\"", "--due", "+1w").exit_code
        == 0
    )
    line = zsh(db, "kt log A5")
    assert "\x1b" not in line
    assert line == '_arguments \'*: :(("A5":"Title with \\x1b[31mred\\x1b[0m and \\$(rm) \\`x\\` \'\'q\'\' ""d"""))\'\n'


def test_words_the_store_cannot_answer_are_left_to_typer(plan: Any, db: Path) -> None:
    assert bash(db, "kt acti") == ["action"]
    assert bash(db, "kt action l") == ["list"]
    assert completing.what_is_completed(["log", "A1"]) is None  # the note
    assert completing.what_is_completed(["log", "A1", "note", "--progress"]) is None


@pytest.mark.parametrize(
    "line",
    ["kt log A", "kt action show A1", "kt action add R", "kt action list --owner O", "kt action list --status ",
     "kt rec edit R", "kt rec add text --focus ", "kt focus edit C", "kt action list --rag "],
)  # fmt: skip
def test_the_fast_answer_is_the_one_typer_would_give(plan: Any, db: Path, line: str) -> None:
    assert bash(db, line) == bash(db, line, KT_TYPER)


def _declared() -> dict[tuple[tuple[str, ...], str], str]:
    """What each command declares with autocompletion=: (command words, option or argument
    position) -> the kind of value (read from the closure Typer keeps)."""
    kinds = {"actions": "action", "recommendations": "rec", "owners": "owner", "focus_areas": "focus"}
    kinds |= {"statuses": "status", "rags": "rag"}
    found: dict[tuple[tuple[str, ...], str], str] = {}
    root = get_command(app)
    for name in COMMANDS:
        group = root.get_command(None, name)  # type: ignore[attr-defined]
        subs = getattr(group, "commands", None) or {"": group}
        for sub, command in subs.items():
            words = (name, sub) if sub else (name,)
            position = 0
            for param in command.params:
                wrapper = getattr(param, "_custom_shell_complete", None)
                cells = [c.cell_contents for c in (getattr(wrapper, "__closure__", None) or ())]
                fn = next((c for c in cells if getattr(c, "__module__", "") == _complete.__name__), None)
                if param.param_type_name == "argument":
                    if fn is not None:
                        found[(words, str(position))] = kinds[fn.__name__]
                    position += 1
                elif fn is not None:
                    for opt in param.opts:
                        found[(words, opt)] = kinds[fn.__name__]
    return found


def test_the_fast_tables_match_what_each_command_declares() -> None:
    tables: dict[tuple[tuple[str, ...], str], str] = {}
    for words, kinds in completing.POSITIONAL.items():
        for position, kind in enumerate(kinds):
            tables[(words, str(position))] = kind
    for words, options in completing.OPTIONS.items():
        for opt, kind in options.items():
            tables[(words, opt)] = kind
    assert tables == _declared()


def test_a_role_holding_control_characters_is_offered_escaped(plan: Any, db: Path) -> None:
    assert plan("owner", "add", "Head\x1b[2J of Audit").exit_code == 0
    assert bash(db, "kt action list --owner Head\x1b") == ["Head\\x1b[2J of Audit"]
    assert "\x1b" not in zsh(db, "kt action list --owner H")
