"""kt action, kt log and kt done through the CLI, on the small plan from conftest."""

from __future__ import annotations

import json
from typing import Any

from knowsley_tracker.errors import NotFoundError, ValidationError


def test_list_is_tab_separated_when_piped(plan: Any) -> None:
    result = plan("action", "list")
    assert result.exit_code == 0
    assert result.stdout == (
        "id\tdue\tstatus\tprogress\trag\towner\trec\tfocus\ttitle\n"
        "A4\t30 Sep 2025\tcomplete\t100%\tComplete\tHead of Service, Care Leavers\tR2\tCL\tAgree a PA caseload cap\n"
        "A1\t15 Nov 2025\tin-progress\t40%\tRed\tHead of Service, Disabled Children (Sam Carter)\tR1\tDIS\t"
        "Audit open disabled children's cases\n"
        "A2\t10 Dec 2025\tnot-started\t0%\tAmber\tHead of Service, Disabled Children (Sam Carter)\tR1\tDIS\t"
        "Publish a plan for the disabled children's service\n"
        "A3\t31 Mar 2026\tnot-started\t0%\tGreen\tHead of Service, Care Leavers\tR2\tCL\tRecruit two more personal advisers\n"
    )


def test_list_filters(plan: Any) -> None:
    def ids(*args: str) -> list[str]:
        result = plan("action", "list", "--json", *args)
        assert result.exit_code == 0, result.stderr
        return [a["ref"] for a in json.loads(result.stdout)]

    assert ids("--focus", "dis") == ["A1", "A2"]
    assert ids("--owner", "head of service, care leavers") == ["A4", "A3"]
    assert ids("--owner", "O1", "--status", "in-progress") == ["A1"]
    assert ids("--overdue") == ["A1"]
    assert ids("--due-within", "10") == ["A2"]
    assert ids("--due-within", "0") == []
    assert ids("--status", "Completed") == ["A4"]
    assert ids("--rag", "red") == ["A1"]


def test_list_json_fields(plan: Any) -> None:
    rows = json.loads(plan("action", "list", "--json", "--focus", "CL").stdout)
    first = rows[0]
    assert first["ref"] == "A4"
    assert first["due"] == "2025-09-30"
    assert first["completed_on"] == "2025-11-30"
    assert first["status"] == "complete"
    assert first["rag"] == "complete"
    assert first["rec"] == "R2"
    assert first["focus"] == "CL"
    assert first["owner_ref"] == "O2"


def test_log_updates_progress_and_status(plan: Any) -> None:
    result = plan("log", "a2", "Draft plan shared with the board", "--progress", "30")
    assert result.exit_code == 0
    assert result.stdout == "Logged L3 on A2: progress 0% -> 30%; status not-started -> in-progress.\n"
    shown = json.loads(plan("action", "show", "A2", "--json").stdout)
    assert shown["progress"] == 30
    assert shown["status"] == "in-progress"
    assert shown["log"][-1]["note"] == "Draft plan shared with the board"
    assert shown["log"][-1]["by"] == "Test Officer"
    assert shown["log"][-1]["at"] == "2025-11-30T09:00:00+00:00"


def test_log_by_option_and_env(plan: Any) -> None:
    plan("log", "A2", "Note from the chair", "--by", "Independent Chair")
    shown = json.loads(plan("action", "show", "A2", "--json").stdout)
    assert shown["log"][-1]["by"] == "Independent Chair"


def test_done_completes(plan: Any) -> None:
    result = plan("done", "A3", "Both posts filled")
    assert result.exit_code == 0
    assert result.stdout == "A3 is complete: Recruit two more personal advisers (logged L3).\n"
    again = plan("done", "A3")
    assert again.exit_code == ValidationError.exit_code
    assert again.stderr == "Error: A3 is already complete (since 30 Nov 2025).\n"


def test_bad_input_is_one_line_and_store_unchanged(plan: Any, db: Any) -> None:
    before = db.read_bytes()
    cases = [
        (["log", "A9", "x"], NotFoundError.exit_code, "Error: No action A9: the highest is A4 (see kt action list).\n"),
        (
            ["log", "A1", "--progress", "101"],
            ValidationError.exit_code,
            "Error: Progress must be a whole number from 0 to 100, not 101.\n",
        ),
        (
            ["log", "A1", "x", "--status", "finished"],
            ValidationError.exit_code,
            "Error: Unknown status 'finished': choose one of not-started, in-progress, blocked, complete, dropped.\n",
        ),
        (
            ["action", "add", "R1", "  ", "--due", "today"],
            ValidationError.exit_code,
            "Error: The action title cannot be empty.\n",
        ),
        (
            ["action", "add", "R9", "New", "--due", "today"],
            NotFoundError.exit_code,
            "Error: No recommendation R9: the highest is R2 (see kt rec list).\n",
        ),
        (
            ["action", "add", "R1", "New", "--due", "next tuesday"],
            ValidationError.exit_code,
            "Error: Cannot read 'next tuesday' as a date: use 1/9/2025, 2025-09-01, 1 Sep 2025, today, tomorrow, "
            "+10d, +2w or +3m.\n",
        ),
        (
            ["action", "add", "R1", "New", "--due", "31/02/2026"],
            ValidationError.exit_code,
            "Error: Cannot read '31/02/2026' as a date (no such day): use 1/9/2025, 2025-09-01, 1 Sep 2025, today, "
            "tomorrow, +10d, +2w or +3m.\n",
        ),
        (
            ["action", "edit", "A1", "--due", "31/12/2025"],
            ValidationError.exit_code,
            'Error: Changing the due date of A1 needs a reason: add --reason "..." (it is logged).\n',
        ),
        (
            ["log", "A1", "--progress", "ten"],
            2,
            "Error: Invalid value for '--progress' / '-p': 'ten' is not a valid int. See 'kt log --help'.\n",
        ),
    ]
    for args, code, stderr in cases:
        result = plan(*args)
        assert (result.exit_code, result.stderr, result.stdout) == (code, stderr, ""), args
    assert db.read_bytes() == before


def test_due_date_change_keeps_original_and_logs_reason(plan: Any) -> None:
    result = plan("action", "edit", "A2", "--due", "31/01/2026", "--reason", "Awaiting new service manager")
    assert result.exit_code == 0, result.stderr
    shown = json.loads(plan("action", "show", "A2", "--json").stdout)
    assert shown["due"] == "2026-01-31"
    assert shown["original_due"] == "2025-12-10"
    assert shown["rag"] == "amber"  # slipped
    assert shown["log"][-1]["changes"] == {"due": ["2025-12-10", "2026-01-31"]}
    assert shown["log"][-1]["note"] == "Awaiting new service manager"


def test_markup_and_escapes_are_stored_and_shown_literally(plan: Any) -> None:
    title = "[bold]Hostile[/] \x1b[31mred\x1b[0m =cmd()"
    assert plan("action", "add", "R1", title, "--due", "+2w").exit_code == 0
    shown = json.loads(plan("action", "show", "A5", "--json").stdout)
    assert shown["title"] == title
    listed = plan("action", "list", "--rec", "R1").stdout
    assert "[bold]Hostile[/] \\x1b[31mred\\x1b[0m =cmd()" in listed
    assert "\x1b" not in listed


def test_closing_an_action_logs_the_end_of_its_override(plan: Any) -> None:
    assert plan("action", "edit", "A3", "--rag", "red", "--reason", "Recruitment is stalled").exit_code == 0
    result = plan("done", "A3", "Both posts filled")
    assert result.exit_code == 0
    shown = json.loads(plan("action", "show", "A3", "--json").stdout)
    assert shown["rag_override"] is None
    assert shown["log"][-1]["changes"] == {
        "progress": [0, 100],
        "status": ["not-started", "complete"],
        "rag_override": ["red", None],
    }


def test_a_group_built_for_one_subcommand_leaves_the_others_working(plan: Any) -> None:
    """kt action list builds the action group with its list command alone (cli._only); the
    next command in the same process, another subcommand, a typo or the group's help still
    finds the whole group."""
    from knowsley_tracker import cli

    assert plan("action", "list").exit_code == 0
    shown = plan("action", "show", "A1")
    assert shown.exit_code == 0 and "Audit open disabled children's cases" in shown.stdout
    typo = plan("action", "lst")
    assert typo.exit_code == 2 and "Did you mean 'list'?" in typo.stderr
    listed = plan("action", "--help")
    assert listed.exit_code == 0
    assert [line.split()[0] for line in listed.stdout.split("Commands:")[1].strip().splitlines()] == [
        "add",
        "list",
        "show",
        "edit",
        "remove",
    ]
    only = cli._only(__import__("knowsley_tracker.cli.actions", fromlist=["app"]).app, "list")
    assert list(only.commands) == ["list"]
    assert cli._only(__import__("knowsley_tracker.cli.actions", fromlist=["app"]).app, "nope") is None
