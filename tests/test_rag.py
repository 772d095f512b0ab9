"""RAG: each rule, its boundaries and thresholds, the override with its reason, and roll-ups."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

import pytest

from knowsley_tracker.errors import ValidationError
from knowsley_tracker.models import Action, Rag, Status
from knowsley_tracker.rag import RagRules, Rating, rate, rollup, rules_text

TODAY = date(2025, 11, 30)
RULES = RagRules()


def action(days: int, progress: int = 0, status: Status = Status.IN_PROGRESS, **kw: Any) -> Action:
    """An action due ``days`` from TODAY."""
    if status is Status.DROPPED:
        kw.setdefault("dropped_reason", "superseded")
    return Action(
        rec_id=1, title="Audit cases", due=TODAY + timedelta(days=days), progress=progress, status=status, **kw
    )


def rag_of(a: Action, evidence: int = 0, rules: RagRules = RULES) -> Rag:
    return rate(a, TODAY, evidence, rules).rag


# -- Red -------------------------------------------------------------------------------------


def test_overdue_is_red_whatever_the_progress() -> None:
    rating = rate(action(-1, progress=95), TODAY, 0, RULES)
    assert rating == Rating(Rag.RED, Rag.RED, "overdue by 1 day")
    assert rate(action(-15), TODAY, 0, RULES).reason == "overdue by 15 days"


def test_blocked_is_red_even_when_far_off() -> None:
    assert rate(action(200, status=Status.BLOCKED), TODAY, 0, RULES) == Rating(Rag.RED, Rag.RED, "blocked")


def test_due_today_is_not_overdue() -> None:
    assert rate(action(0, progress=10), TODAY, 0, RULES) == Rating(Rag.AMBER, Rag.AMBER, "due today at 10%")
    assert rag_of(action(0, progress=80)) is Rag.GREEN


# -- Amber -----------------------------------------------------------------------------------


def test_due_within_14_days_with_little_progress_is_amber() -> None:
    assert rate(action(14, progress=74), TODAY, 0, RULES) == Rating(Rag.AMBER, Rag.AMBER, "due in 14 days at 74%")
    assert rate(action(1, progress=0), TODAY, 0, RULES).reason == "due in 1 day at 0%"


def test_amber_boundaries() -> None:
    assert rag_of(action(15, progress=0)) is Rag.GREEN  # outside the window
    assert rag_of(action(14, progress=75)) is Rag.GREEN  # far enough along
    assert rag_of(action(14, progress=74)) is Rag.AMBER


def test_a_slipped_due_date_is_amber() -> None:
    slipped = action(60, progress=50, original_due=TODAY + timedelta(days=30))
    assert rate(slipped, TODAY, 0, RULES) == Rating(Rag.AMBER, Rag.AMBER, "due date slipped")
    # Brought forward is not slipping.
    assert rag_of(action(60, original_due=TODAY + timedelta(days=90))) is Rag.GREEN


def test_overdue_beats_slipped() -> None:
    assert rag_of(action(-2, original_due=TODAY - timedelta(days=30))) is Rag.RED


# -- Green, Complete, Blue, Dropped -------------------------------------------------------------


def test_otherwise_green() -> None:
    assert rate(action(30, progress=0, status=Status.NOT_STARTED), TODAY, 0, RULES) == Rating(
        Rag.GREEN, Rag.GREEN, "on track"
    )


def test_complete_is_complete_until_evidenced_then_blue() -> None:
    done = action(-30, progress=100, status=Status.COMPLETE)
    assert rate(done, TODAY, 0, RULES) == Rating(Rag.COMPLETE, Rag.COMPLETE, "complete, no evidence yet")
    assert rate(done, TODAY, 2, RULES) == Rating(Rag.BLUE, Rag.BLUE, "complete with 2 evidence")


def test_dropped() -> None:
    assert rag_of(action(-30, status=Status.DROPPED)) is Rag.DROPPED


# -- thresholds -----------------------------------------------------------------------------------


def test_thresholds_come_from_settings() -> None:
    rules = RagRules.from_settings({"rag.amber_days": 21, "rag.amber_progress": 50})
    assert rules == RagRules(21, 50)
    assert rag_of(action(20, progress=40), rules=rules) is Rag.AMBER
    assert rag_of(action(20, progress=50), rules=rules) is Rag.GREEN
    assert RagRules.from_settings({}) == RagRules(14, 75)


def test_config_set_changes_the_report(plan: Any) -> None:
    def rag_of_a3() -> str:
        listed = json.loads(plan("action", "list", "--json", "--rec", "R2").stdout)
        return str(next(a["rag"] for a in listed if a["ref"] == "A3"))

    plan("log", "A3", "Interviews booked", "--progress", "10")
    assert rag_of_a3() == "green"  # due 31 Mar 2026, 121 days away
    assert plan("config", "set", "rag.amber_days", "150").exit_code == 0
    assert rag_of_a3() == "amber"
    assert plan("config", "set", "rag.amber_progress", "10").exit_code == 0
    assert rag_of_a3() == "green"


# -- the override --------------------------------------------------------------------------------


def test_override_replaces_the_computed_rag_of_an_open_action() -> None:
    a = action(60, rag_override=Rag.RED, rag_reason="Partner sign-off missed twice")
    assert rate(a, TODAY, 0, RULES) == Rating(
        Rag.RED, Rag.GREEN, "override: Partner sign-off missed twice", overridden=True
    )


def test_override_does_not_apply_once_closed() -> None:
    a = action(-5, progress=100, status=Status.COMPLETE, rag_override=Rag.RED, rag_reason="x")
    assert rate(a, TODAY, 1, RULES) == Rating(Rag.BLUE, Rag.BLUE, "complete with 1 evidence")


def test_only_red_amber_or_green_can_be_an_override() -> None:
    with pytest.raises(ValidationError, match="A RAG override must be red, amber or green."):
        action(5, rag_override=Rag.BLUE)


def test_override_through_the_cli_is_logged_shown_and_cleared(plan: Any) -> None:
    no_reason = plan("action", "edit", "A3", "--rag", "red")
    assert no_reason.exit_code == ValidationError.exit_code
    assert no_reason.stderr == 'Error: Overriding the RAG of A3 needs a reason: add --reason "...".\n'

    result = plan("action", "edit", "A3", "--rag", "red", "--reason", "Recruitment market is difficult")
    assert result.exit_code == 0, result.stderr
    shown = json.loads(plan("action", "show", "A3", "--json").stdout)
    assert (shown["rag"], shown["rag_computed"], shown["rag_why"]) == (
        "red",
        "green",
        "override: Recruitment market is difficult",
    )
    assert shown["log"][-1]["changes"] == {"rag_override": [None, "red"]}
    assert shown["log"][-1]["note"] == "Recruitment market is difficult"

    report = plan("report").stdout
    line = next(x for x in report.splitlines() if x.startswith("A3 "))
    assert "Red*" in line
    assert "Recruitment market is difficult (rules: Green)" in line
    pack = json.loads(plan("report", "--json").stdout)
    a3 = next(e for e in pack["exceptions"] if e["action"] == "A3")
    assert (a3["rag"], a3["rag_overridden"], a3["rag_computed"], a3["rag_reason"]) == (
        "red",
        True,
        "green",
        "Recruitment market is difficult",
    )

    cleared = plan("action", "edit", "A3", "--rag", "auto")
    assert cleared.exit_code == 0, cleared.stderr
    shown = json.loads(plan("action", "show", "A3", "--json").stdout)
    assert (shown["rag"], shown["rag_override"], shown["rag_reason"]) == ("green", None, "")
    assert shown["log"][-1]["changes"] == {"rag_override": ["red", None]}
    assert not any(x.startswith("A3 ") for x in plan("report").stdout.splitlines())


def test_override_refused_for_a_complete_action(plan: Any) -> None:
    result = plan("action", "edit", "A4", "--rag", "green", "--reason", "x")
    assert result.exit_code == ValidationError.exit_code
    assert result.stderr == "Error: A4 is complete: only open actions take a RAG override.\n"


# -- roll-ups ------------------------------------------------------------------------------------


def test_rollup_counts_every_rag_and_averages_progress_without_dropped() -> None:
    items = [
        action(-3, progress=40),  # red, overdue
        action(10, progress=20),  # amber
        action(90, progress=60),  # green
        action(-40, progress=80, status=Status.COMPLETE),  # complete (counts as 100)
        action(-40, progress=100, status=Status.COMPLETE),  # blue
        action(-40, progress=0, status=Status.DROPPED),  # left out
    ]
    evidence = [0, 0, 0, 0, 1, 0]
    roll = rollup(((a, rag_of(a, e)) for a, e in zip(items, evidence, strict=True)), TODAY)
    assert roll.counts == {
        Rag.RED: 1,
        Rag.AMBER: 1,
        Rag.GREEN: 1,
        Rag.BLUE: 1,
        Rag.COMPLETE: 1,
        Rag.DROPPED: 1,
    }
    assert (roll.actions, roll.complete, roll.overdue, roll.dropped, roll.open) == (5, 2, 1, 1, 3)
    assert roll.progress == (40 + 20 + 60 + 100 + 100) / 5
    assert roll.rag is Rag.RED


def test_rollup_overall_rag() -> None:
    def overall(*rags: Rag) -> Rag | None:
        return rollup(((action(30), r) for r in rags), TODAY).rag

    assert overall(Rag.GREEN, Rag.AMBER, Rag.BLUE) is Rag.AMBER
    assert overall(Rag.GREEN, Rag.BLUE) is Rag.GREEN
    assert overall(Rag.BLUE, Rag.COMPLETE) is Rag.COMPLETE  # not every action evidenced
    assert overall(Rag.BLUE, Rag.BLUE) is Rag.BLUE
    assert overall() is None
    empty = rollup([], TODAY)
    assert (empty.actions, empty.progress) == (0, None)


def test_rules_are_documented_in_report_help(kt: Any) -> None:
    result = kt("report", "--help")
    assert result.exit_code == 0
    flat = " ".join(result.stdout.split())
    for paragraph in rules_text().split("\n\n"):
        assert " ".join(paragraph.split()) in flat
    assert "Red: open and past its due date, or blocked." in flat
    assert "Amber: due within 14 days (setting rag.amber_days) with progress under 75% (rag.amber_progress)" in flat
