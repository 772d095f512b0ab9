"""Errors that guide: the nearest match for a slip, dates explained the UK way, a hint to
quote a note, and confirmations in words (no field names, no ISO dates). Exact output."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from knowsley_tracker.errors import NotFoundError, ValidationError

USAGE = 2


@pytest.fixture
def named(plan: Any) -> Any:
    """The conftest plan with a named owner to mistype: O3 is Jordan Lee."""
    assert plan("owner", "add", "Head of Quality Assurance", "--name", "Jordan Lee").exit_code == 0
    return plan


def refused(kt: Any, db: Path, *args: str) -> tuple[int, str]:
    before = db.read_bytes()
    result = kt(*args)
    assert result.stdout == "" or result.exit_code == 0, result.stdout
    assert db.read_bytes() == before, "a refused command changed the store"
    return result.exit_code, result.stderr


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (
            ["action", "list", "--owner", "Jordon Lee"],
            NotFoundError.exit_code,
            "No owner 'Jordon Lee'; did you mean 'Jordan Lee' (O3)?",
        ),
        (
            ["action", "add", "R1", "Audit", "--due", "+2w", "--owner", "Head of Quality Asurance"],
            NotFoundError.exit_code,
            "No owner 'Head of Quality Asurance'; did you mean 'Head of Quality Assurance' (O3)?",
        ),
        (
            ["action", "list", "--owner", "Care Leavers"],
            NotFoundError.exit_code,
            "No owner 'Care Leavers'; did you mean 'Head of Service, Care Leavers' (O2)?",
        ),
        (
            ["action", "list", "--owner", "Director"],
            NotFoundError.exit_code,
            "No owner 'Director'. Add one with: kt owner add Director (see kt owner list).",
        ),
        (
            ["action", "list", "--focus", "DSI"],
            NotFoundError.exit_code,
            "No focus area 'DSI'; did you mean DIS (Children with disabilities)?",
        ),
        (
            ["action", "list", "--focus", "care experienced young people"],
            NotFoundError.exit_code,
            "No focus area 'care experienced young people'; did you mean CL (Care-experienced young people)?",
        ),
        (  # too short for a likeness score: one letter changed
            ["action", "list", "--focus", "CK"],
            NotFoundError.exit_code,
            "No focus area 'CK'; did you mean CL (Care-experienced young people)?",
        ),
        (  # part of several roles: every one is named, not the first
            ["action", "list", "--owner", "head of service"],
            NotFoundError.exit_code,
            "No owner 'head of service'; it is part of 2 owners' roles or names: O1 Head of Service, Disabled "
            "Children; O2 Head of Service, Care Leavers. Give the id, or the whole role or name.",
        ),
        (
            ["action", "list", "--status", "in progres"],
            ValidationError.exit_code,
            "Unknown status 'in progres'; did you mean in-progress? (Choose one of not-started, in-progress, "
            "blocked, complete, dropped.)",
        ),
        (
            ["log", "A1", "x", "--status", "complet"],
            ValidationError.exit_code,
            "Unknown status 'complet'; did you mean complete? (Choose one of not-started, in-progress, blocked, "
            "complete, dropped.)",
        ),
        (
            ["action", "list", "--status", "wibble"],
            ValidationError.exit_code,
            "Unknown status 'wibble': choose one of not-started, in-progress, blocked, complete, dropped.",
        ),
        (["action", "show", "A1O"], ValidationError.exit_code, "'A1O' is not an action id; did you mean A10?"),
        (
            ["log", "R2", "x"],
            ValidationError.exit_code,
            "'R2' is not an action id: R2 is a recommendation; action ids start with A, e.g. A3.",
        ),
        (
            ["action", "show", "A44"],
            NotFoundError.exit_code,
            "No action A44; did you mean A4 (Agree a PA caseload cap)?",
        ),
        (  # A1 and A4 are both one slip away: no guess
            ["action", "show", "A14"],
            NotFoundError.exit_code,
            "No action A14: the highest is A4 (see kt action list).",
        ),
        (["action", "show", "A9"], NotFoundError.exit_code, "No action A9: the highest is A4 (see kt action list)."),
        (
            ["rec", "show", "R22"],
            NotFoundError.exit_code,
            "No recommendation R22; did you mean R2 (The caseloads of personal advisers (PAs…)?",
        ),
    ],
)
def test_a_slip_names_the_nearest_match(named: Any, db: Path, args: list[str], code: int, message: str) -> None:
    assert refused(named, db, *args) == (code, f"Error: {message}\n")


def test_an_owner_is_found_by_id_role_or_name_in_any_case(named: Any) -> None:
    by = [named("action", "list", "--owner", text).stdout for text in ("O1", "o1", "head of service, disabled children",
                                                                         "Sam Carter", "SAM CARTER")]  # fmt: skip
    assert len(set(by)) == 1
    assert by[0].splitlines()[1:] == [
        line for line in named("action", "list").stdout.splitlines()[1:] if "Sam Carter" in line
    ]


def test_a_mistyped_command_or_subcommand_is_suggested(kt: Any) -> None:
    assert kt("acton", "list").stderr == "Error: No such command 'acton'. Did you mean 'action'? See 'kt --help'.\n"
    assert kt("action", "lst").stderr == (
        "Error: No such command 'lst'. Did you mean 'list'? See 'kt action --help'.\n"
    )
    assert kt("action", "list", "--ovredue").stderr == (
        "Error: No such option: --ovredue (Possible options: --overdue). See 'kt action list --help'.\n"
    )


# -- dates ---------------------------------------------------------------------------------


def test_a_month_first_date_is_explained_with_the_date_meant(plan: Any, db: Path) -> None:
    code, stderr = refused(plan, db, "action", "add", "R1", "Audit", "--due", "09/30/2025")
    assert (code, stderr) == (
        ValidationError.exit_code,
        "Error: Cannot read '09/30/2025' as a date: dates are day-first, as in the UK (1/9/2025 is 1 September "
        "2025), so there is no month 30; did you mean 30 Sep 2025 (30/09/2025)?\n",
    )
    assert refused(plan, db, "report", "--since", "02/31/2025")[1] == (
        "Error: Cannot read '02/31/2025' as a date: dates are day-first, as in the UK (1/9/2025 is 1 September "
        "2025), and there is no month 31.\n"
    )


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["action", "add", "R1", "Audit", "--due", "03/04/2026"], "Added A5, due 3 Apr 2026: Audit"),
        (
            ["action", "edit", "A2", "--due", "03/04/2026", "--reason", "Partner delay"],
            "Updated A2: due date 10 Dec 2025 -> 3 Apr 2026 (reason logged).",
        ),
        (["visit", "add", "03/04/2026"], "Added V1: monitoring visit on 3 Apr 2026 (expected)."),
        (
            ["board", "add", "03/04/2026"],
            "Recorded board meeting B1 on 3 Apr 2026, still to come: freeze its snapshot on the day with kt board "
            "freeze B1.",
        ),
        (["evidence", "add", "A4", "Minutes", "--date", "03/04/2025"], "Added E1 to A4, dated 3 Apr 2025: Minutes"),
        (
            [
                "partner",
                "add",
                "SLIP",
                "--kind",
                "slip",
                "--purpose",
                "Audit",
                "--from",
                "03/04/2025",
                "--to",
                "04/03/2026",
            ],
            "Added P1: SLIP, from 3 Apr 2025 to 4 Mar 2026.",
        ),  # fmt: skip
        (
            ["intervention", "add", "improvement-notice", "--issued", "03/04/2025"],
            "Added N1: improvement notice issued 3 Apr 2025.",
        ),
        (
            ["kpi", "add", "CL-01", "Pathway plans", "--target", "90", "--unit", "%", "--target-date", "03/04/2026"],
            "Added KPI CL-01: Pathway plans (target 90% by 3 Apr 2026).",
        ),
        (
            ["inspection", "edit", "I1", "--action-plan-sent", "03/04/2025"],
            "Updated I1: action plan sent 25 Apr 2025 -> 3 Apr 2025.",
        ),
    ],
)
def test_an_ambiguous_date_is_echoed_in_words(plan: Any, args: list[str], said: str) -> None:
    result = plan(*args)
    assert (result.exit_code, result.stdout, result.stderr) == (0, said + "\n", "")


# -- too many arguments ------------------------------------------------------------------------


def test_words_left_over_are_shown_quoted(plan: Any, db: Path) -> None:
    assert refused(plan, db, "log", "A1", "Audit", "complete", "and", "shared", "-p", "60") == (
        USAGE,
        "Error: Got unexpected extra argument(s) (complete and shared). If they belong to the text, put it in "
        'quotes: kt log A1 "Audit complete and shared" --progress 60\n',
    )
    assert refused(plan, db, "done", "A1", "Cap", "agreed")[1] == (
        "Error: Got unexpected extra argument(s) (agreed). If they belong to the text, put it in quotes: "
        'kt done A1 "Cap agreed"\n'
    )
    assert refused(plan, db, "action", "list", "extra")[1] == (
        "Error: Got unexpected extra argument(s) (extra). See 'kt action list --help'.\n"
    )


# -- words, not internal names ---------------------------------------------------------------------

SNAKE = re.compile(r"\b[a-z]+_[a-z_]+\b")
ISO = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")


def test_confirmations_use_words_not_field_names_or_iso_dates(plan: Any) -> None:
    said = []
    for args in (
        ["action", "edit", "A2", "--rag", "red", "--reason", "Partner sign-off missed"],
        ["action", "edit", "A2", "--rag", "auto"],
        ["action", "edit", "A2", "--title", "Publish the plan", "--success", "Plan on the intranet", "--owner", "O2"],
        ["action", "edit", "A2", "--due", "+1w", "--reason", "Late"],
        ["focus", "edit", "DIS", "--lead", "Principal Social Worker"],
        ["owner", "edit", "O2", "--name", "Jordan Lee", "--email", "jordan.lee@example.gov.uk"],
        ["rec", "edit", "R2", "--summary", "PA caseloads", "--ref", "10"],
        ["inspection", "edit", "I1", "--action-plan-sent", "20/04/2025"],
        ["done", "A1", "Audit complete"],
        ["undo"],
        ["log", "A4", "x", "-p", "50"],
        ["done", "A4"],
    ):
        result = plan(*args)
        said.append(result.stdout + result.stderr)
    text = "".join(said)
    assert SNAKE.findall(text.replace("jordan.lee@example.gov.uk", "")) == []
    assert ISO.findall(text) == []
    assert said[0] == "Updated A2: RAG override Red (reason logged).\n"
    assert said[1] == "Updated A2: RAG override cleared.\n"
    assert said[2] == "Updated A2: title; owner O1 -> O2; success measure.\n"
    assert said[9].splitlines()[1] == "It put back A1's completion date, progress, status; removed L6."


def test_history_on_a_terminal_speaks_in_words_and_local_time(plan: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    import time

    assert plan("kpi", "add", "HP-01", "Assessments in time", "--target", "90", "--unit", "%").exit_code == 0
    recorded = plan("kpi", "record", "HP-01", "81", "--period", "2025-10",
                    env={"KNOWSLEY_TRACKER_NOW": "2025-10-10T11:00:00+00:00"})  # fmt: skip
    assert recorded.exit_code == 0
    monkeypatch.setenv("TZ", "Europe/London")  # stamps are stored in UTC; the terminal shows local time (BST)
    time.tzset()
    try:
        shown = plan("history", "KV1", "--wide", env={"TTY_COMPATIBLE": "1", "COLUMNS": "200", "NO_COLOR": "1"}).stdout
    finally:
        monkeypatch.setenv("TZ", "UTC")
        time.tzset()
    for field, value in [("KPI", "K1"), ("period", "Oct 2025"), ("period end", "31 Oct 2025"), ("value", "81"),
                         ("recorded", "10 Oct 2025 12:00")]:  # fmt: skip
        assert re.search(rf"  created  {field}  +{value}\s*$", shown, re.MULTILINE), (field, shown)
    for internal in ("kpi_id", "period_end", "recorded_at", "2025-10-31", "2025-10-10T", "81.0"):
        assert internal not in shown, internal
    # Piped, for scripts: the stored names and values, as before.
    piped = plan("history", "KV1").stdout
    assert "\tkpi_id\t\t1\n" in piped and "\tperiod_end\t\t2025-10-31\n" in piped
    assert "\trecorded_at\t\t2025-10-10T11:00:00+00:00\n" in piped
