"""Issue 7 pieces owned by the plan: intervention, partners, deadlines, projected visits."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from knowsley_tracker.errors import ValidationError


def test_knowsley_journey_2014_to_2025(kt: Any) -> None:
    steps = [
        ["init", "--authority", "Knowsley"],
        ["inspection", "add", "12/05/2014", "--published", "30/06/2014", "-j", "inadequate"],
        [
            "intervention",
            "add",
            "improvement-notice",
            "--issued",
            "15/09/2014",
            "--lifted",
            "31/07/2017",
            "--person",
            "Independent board chair=Jo Example",
        ],
        ["inspection", "add", "1/3/2017", "--published", "13/06/2017", "-j", "ri"],
        ["inspection", "add", "11/10/2021", "--published", "3/12/2021", "-j", "ri"],
        ["inspection", "add", "18/11/2024", "--end", "29/11/2024", "--published", "20/01/2025", "-j", "inadequate"],
        [
            "intervention",
            "add",
            "improvement-notice",
            "--issued",
            "10/03/2025",
            "--person",
            "Improvement adviser=Lee Example",
            "--person",
            "Independent board chair=Pat Example",
        ],
    ]
    for step in steps:
        result = kt(*step)
        assert result.exit_code == 0, (step, result.stderr)
    inspections = json.loads(kt("inspection", "list", "--json").stdout)
    assert [(i["framework"], i["judgement"], i["action_plan_due"]) for i in inspections] == [
        ("sif", "inadequate", "2014-10-07"),
        ("sif", "requires-improvement", None),
        ("ilacs-2018", "requires-improvement", None),
        ("ilacs-2023", "inadequate", "2025-04-30"),
    ]
    interventions = kt("intervention", "list").stdout.splitlines()
    assert interventions == [
        "id\ttype\tissued\trevised\tlifted\tin_force\tpeople",
        "N1\tImprovement notice\t15 Sep 2014\t\t31 Jul 2017\tno (lasted 2 years 10 months)\tIndependent board chair: Jo Example",
        "N2\tImprovement notice\t10 Mar 2025\t\t\tyes, 8 months\tImprovement adviser: Lee Example; Independent board chair: Pat Example",
    ]


def test_action_plan_deadline_shown_and_sent(kt: Any) -> None:
    kt("init", "--authority", "Knowsley")
    kt("inspection", "add", "18/11/2024", "--end", "29/11/2024", "--published", "20/01/2025", "-j", "inadequate")
    shown = kt("inspection", "show", "I1").stdout
    assert "Action plan due:  30 Apr 2025 (70 working days after the report)" in shown
    assert "Action plan sent: not yet" in shown
    assert (
        kt("inspection", "edit", "I1", "--action-plan-sent", "25/04/2025").stdout
        == "Updated I1: action plan sent 25 Apr 2025.\n"
    )
    assert "Action plan sent: 25 Apr 2025" in kt("inspection", "show", "I1").stdout
    override = kt("inspection", "edit", "I1", "--action-plan-due", "2/5/2025")
    assert override.stdout == "Updated I1: action plan due date 30 Apr 2025 -> 2 May 2025.\n"


def test_intervention_edit_revises_and_replaces_people(kt: Any) -> None:
    kt("init", "--authority", "Halton")
    kt("intervention", "add", "direction", "--issued", "30/08/2024", "--person", "Commissioner=Lee Example")
    result = kt(
        "intervention",
        "edit",
        "n1",
        "--revised",
        "14/02/2025",
        "--person",
        "Commissioner=Kim Example",
        "--person",
        "Improvement adviser=Ash Example",
    )
    assert result.stdout == "Updated N1: dates revised 14 Feb 2025; people.\n"
    item = json.loads(kt("intervention", "list", "--json").stdout)[0]
    assert item["type"] == "statutory-direction"
    assert item["revised"] == ["2025-02-14"]
    assert item["people"] == [
        {"role": "Commissioner", "name": "Kim Example"},
        {"role": "Improvement adviser", "name": "Ash Example"},
    ]
    assert item["in_force"] is True and item["in_force_for"] == "1 year 3 months"


def test_intervention_bad_input(kt: Any, db: Path) -> None:
    kt("init", "--authority", "Halton")
    before = db.read_bytes()
    cases = [
        (
            ["intervention", "add", "warning", "--issued", "1/1/2025"],
            "Error: Unknown intervention type 'warning': choose one of improvement-notice, statutory-direction.\n",
        ),
        (
            ["intervention", "add", "notice", "--issued", "1/1/2025", "--lifted", "1/1/2024"],
            "Error: An intervention cannot be lifted before it was issued.\n",
        ),
        (
            ["intervention", "add", "notice", "--issued", "1/1/2025", "--person", "Commissioner"],
            "Error: Give each person as ROLE=NAME (e.g. \"Improvement adviser=Jo Example\"), not 'Commissioner'.\n",
        ),
    ]
    for args, stderr in cases:
        result = kt(*args)
        assert (result.exit_code, result.stderr) == (ValidationError.exit_code, stderr), args
    assert db.read_bytes() == before


def test_partners_active_and_linked(plan: Any) -> None:
    added = plan(
        "partner",
        "add",
        "Neighbouring council (SLIP)",
        "--kind",
        "slip",
        "--purpose",
        "Case audit moderation",
        "--from",
        "01/09/2025",
        "--to",
        "31/03/2026",
        "--rec",
        "R1",
        "--focus",
        "DIS",
    )
    assert added.stdout == "Added P1: Neighbouring council (SLIP), from 1 Sep 2025 to 31 Mar 2026.\n"
    plan(
        "partner",
        "add",
        "Practice consultant",
        "--purpose",
        "Supervision training",
        "--from",
        "1/1/2025",
        "--to",
        "30/6/2025",
    )
    active = json.loads(plan("partner", "list", "--active", "--json").stdout)
    assert [(p["ref"], p["recs"], p["focus"], p["kind"]) for p in active] == [("P1", ["R1"], ["DIS"], "slip")]
    assert len(json.loads(plan("partner", "list", "--json").stdout)) == 2
    ended = plan("partner", "edit", "P1", "--to", "1/1/2025")
    assert (ended.exit_code, ended.stderr) == (
        ValidationError.exit_code,
        "Error: An engagement cannot end before it starts.\n",
    )


def test_projected_visits(plan: Any) -> None:
    plan("visit", "add", "16/09/2025", "--status", "done")
    result = plan("visit", "project", "--count", "2")
    assert result.stdout.splitlines()[0] == "Projected 2 monitoring visits: V2 16 Feb 2026, V3 16 Jul 2026."
    again = plan("visit", "project", "--count", "2", "--every", "4")
    assert again.stdout.splitlines()[0] == "Projected 2 monitoring visits: V4 16 Jan 2026, V5 16 May 2026."
    listed = json.loads(plan("visit", "list", "--json").stdout)
    assert [(v["ref"], v["status"], v["number"]) for v in listed] == [
        ("V1", "done", 1),
        ("V4", "projected", 2),
        ("V5", "projected", 3),
    ]
    plan("visit", "edit", "V4", "--status", "confirmed", "--date", "20/01/2026")
    third = plan("visit", "project", "--count", "1")
    assert third.stdout.splitlines()[0] == "Projected 1 monitoring visit: V6 20 Jun 2026."
    assert plan("action", "add", "R1", "Prepare evidence", "--due", "visit-1w").stdout == (
        "Added A5, due 13 Jan 2026: Prepare evidence\n"
    )


def test_projecting_needs_something_to_project_from(kt: Any) -> None:
    kt("init", "--authority", "Knowsley")
    result = kt("visit", "project")
    assert result.stderr == (
        "Error: Nothing to project from: record a monitoring visit (kt visit add) or an inadequate inspection first.\n"
    )
    kt("inspection", "add", "18/11/2024", "--published", "20/01/2025", "-j", "inadequate")
    assert kt("visit", "project", "-n", "1").stdout.splitlines()[0] == "Projected 1 monitoring visit: V1 20 Jun 2025."


def test_the_report_tells_the_journey(kt: Any) -> None:
    steps = [
        ["init", "--authority", "Knowsley"],
        ["inspection", "add", "12/05/2014", "--published", "30/06/2014", "-j", "inadequate"],
        ["intervention", "add", "improvement-notice", "--issued", "15/09/2014", "--lifted", "31/07/2017"],
        ["inspection", "add", "1/3/2017", "--published", "13/06/2017", "-j", "ri"],
        ["inspection", "add", "18/11/2024", "--end", "29/11/2024", "--published", "20/01/2025", "-j", "inadequate"],
        ["inspection", "edit", "I3", "--action-plan-sent", "25/04/2025"],
        ["intervention", "add", "notice", "--issued", "10/03/2025", "--person", "Independent board chair=Pat Example"],
        ["focus", "add", "QA", "Quality assurance"],
        [
            "partner",
            "add",
            "Neighbouring council",
            "--kind",
            "slip",
            "--purpose",
            "Audit moderation",
            "--from",
            "1/9/2025",
            "--focus",
            "QA",
        ],
        ["partner", "add", "Past consultant", "--purpose", "Diagnostic", "--from", "1/1/2025", "--to", "31/3/2025"],
    ]
    for step in steps:
        assert kt(*step).exit_code == 0, step
    markdown = kt("report", "--format", "markdown").stdout
    assert "- **Latest inspection:** Inadequate (standard inspection, published 20 Jan 2025)\n" in markdown
    assert (
        "- **DfE intervention:** Improvement notice since 10 Mar 2025 (8 months). "
        "Independent board chair: Pat Example\n"
    ) in markdown
    assert "- **Action plan to Ofsted:** sent 25 Apr 2025 (due 30 Apr 2025)\n" in markdown
    assert "## 6. Improvement partners\n" in markdown
    assert (
        "| Neighbouring council | SLIP (sector-led improvement partner) | Audit moderation | 1 Sep 2025 | open-ended | QA |"
        in markdown
    )
    assert "Past consultant" not in markdown  # engagement ended
    data = json.loads(kt("report", "--json").stdout)
    assert data["intervention"]["in_force_for"] == "8 months"
    assert data["action_plan"] == {"inspection": "I3", "due": "2025-04-30", "sent": "2025-04-25", "days_left": -214}
    assert [p["name"] for p in data["partners"]] == ["Neighbouring council"]


def test_board_anchor(plan: Any) -> None:
    missing = plan("action", "add", "R1", "Board paper", "--due", "board-1w")
    assert missing.stderr == (
        "Error: Cannot read 'board-1w' as a date: the plan has no upcoming board meeting (add one with kt board add).\n"
    )
    plan("board", "add", "15/10/2025")
    plan("board", "add", "14/01/2026")
    added = plan("action", "add", "R1", "Board paper", "--due", "board-1w")
    assert added.stdout == "Added A5, due 7 Jan 2026: Board paper\n"
    assert plan("action", "edit", "A5", "--due", "board+2d", "--reason", "Chair asked for it later").exit_code == 0
    assert json.loads(plan("action", "show", "A5", "--json").stdout)["due"] == "2026-01-16"
