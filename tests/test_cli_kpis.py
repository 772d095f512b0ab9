"""kt kpi through the CLI: add, record, list and show, with exact output and errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from knowsley_tracker.errors import ConflictError, NotFoundError, PersonalDataError, ValidationError


@pytest.fixture
def kpis(plan: Any) -> Any:
    """The conftest plan with two KPIs from section 5 of the domain brief."""
    steps = [
        ["kpi", "add", "DIS-01", "Disabled children's cases with an up-to-date plan", "--target", "95", "--unit", "%",
         "--focus", "DIS", "--rec", "R1", "--target-date", "31/03/2026"],
        ["kpi", "add", "CL-04", "Average personal adviser caseload", "--target", "20", "--unit", "young people per PA",
         "--lower-is-better", "--focus", "CL", "--rec", "R2"],
    ]  # fmt: skip
    for args in steps:
        result = plan(*args)
        assert result.exit_code == 0, (args, result.stderr)
    return plan


def test_add(plan: Any) -> None:
    result = plan("kpi", "add", "hp-01", "Assessments within 45 working days", "--target", "90", "--unit", "%")
    assert (result.exit_code, result.stderr) == (0, "")
    assert result.stdout == "Added KPI HP-01: Assessments within 45 working days (target 90%).\n"
    lower = plan("kpi", "add", "HP-03", "Re-referrals within 12 months", "-t", "18", "-u", "%", "--lower-is-better")
    assert lower.stdout == "Added KPI HP-03: Re-referrals within 12 months (target 18%, lower is better).\n"
    shown = json.loads(plan("kpi", "add", "X", "Other", "--target", "3", "--json").stdout)
    assert (shown["ref"], shown["key"], shown["target"], shown["rec_ids"]) == ("K3", "X", 3.0, [])


def test_record_and_its_messages(kpis: Any) -> None:
    def record(*args: str) -> str:
        result = kpis("kpi", "record", *args)
        assert (result.exit_code, result.stderr) == (0, ""), args
        return str(result.stdout)

    assert record("DIS-01", "55", "--period", "2025-08") == (
        "Recorded DIS-01 for Aug 2025: 55% (target 95%, not met).\n"
    )
    assert record("dis-01", "--period", "Sep 2025", "-n", "124", "-d", "200") == (
        "Recorded DIS-01 for Sep 2025: 62% (target 95%, not met; improving on Aug 2025's 55%).\n"
    )
    assert record("DIS-01", "60", "--period", "2025-07") == (
        "Recorded DIS-01 for Jul 2025: 60% (target 95%, not met). The latest value is still Sep 2025's (62%).\n"
    )
    assert record("CL-04", "24", "--period", "2025-Q3", "--note", "Two PAs started") == (
        "Recorded CL-04 for 2025 Q3: 24 (target 20, not met).\n"
    )
    assert record("CL-04", "19", "--period", "30/11/2025") == (
        "Recorded CL-04 for 30 Nov 2025: 19 (target 20, met; improving on 2025 Q3's 24).\n"
    )
    assert record("CL-04", "21", "--period", "30/11/2025", "--replace") == (
        "Corrected CL-04 for 30 Nov 2025: 21 (target 20, not met; improving on 2025 Q3's 24).\n"
    )


def test_list_is_the_scorecard(kpis: Any) -> None:
    for args in (["DIS-01", "55", "-p", "2025-08"], ["DIS-01", "62", "-p", "2025-09"], ["CL-04", "28", "-p", "2025-Q2"],
                 ["CL-04", "30", "-p", "2025-Q3"]):  # fmt: skip
        assert kpis("kpi", "record", *args).exit_code == 0
    assert kpis("kpi", "add", "QA-01", "Audits graded good or better", "--target", "60", "--unit", "%").exit_code == 0
    result = kpis("kpi", "list")
    assert result.stdout == (
        "kpi\tname\tlatest\tperiod\ttarget\tmet\ttrend\tlast_values\tfocus\n"
        "DIS-01\tDisabled children's cases with an up-to-date plan\t62%\tSep 2025\t95%\tno\t▲ improving\t▁█\tDIS\n"
        "CL-04\tAverage personal adviser caseload (young people per PA)\t30\t2025 Q3\t20\tno\t▼ worsening\t▁█\tCL\n"
        "QA-01\tAudits graded good or better\t-\t-\t60%\t-\t-\t-\t\n"
    )
    assert [k["key"] for k in json.loads(kpis("kpi", "list", "--focus", "cl", "--json").stdout)] == ["CL-04"]
    listed = json.loads(kpis("kpi", "list", "--json").stdout)[1]
    assert (listed["trend"], listed["direction"], listed["met"], listed["lower_is_better"]) == (
        "worsening",
        "up",
        False,
        True,
    )
    assert listed["latest"]["value"] == {"text": "30", "value": 30.0}
    assert listed["previous"]["period"] == "2025-Q2"


def test_show_has_the_history(kpis: Any) -> None:
    kpis("kpi", "record", "DIS-01", "55", "-p", "2025-08", "--by", "Performance Officer")
    kpis("kpi", "record", "DIS-01", "-p", "2025-09", "-n", "124", "-d", "200", "--note", "New audit tool")
    result = kpis("kpi", "show", "DIS-01")
    assert result.stdout == (
        "DIS-01 Disabled children's cases with an up-to-date plan\n"
        "Name:            Disabled children's cases with an up-to-date plan\n"
        "Unit:            %\n"
        "Target:          95% by 31 Mar 2026\n"
        "Better when:     higher\n"
        "Focus area:      DIS Children with disabilities\n"
        "Recommendations: R1 (rec 3)\n"
        "Latest:          62% (Sep 2025)\n"
        "Target met:      no\n"
        "Trend:           ▲ improving\n"
        "Last values:     ▁█\n"
        "\n"
        "# History\n"
        "period\tvalue\tnumerator\tdenominator\tmet\ttrend\tnote\trecorded\tby\n"
        "Aug 2025\t55%\t\t\tno\t\t\t30 Nov 2025 09:00\tPerformance Officer\n"
        "Sep 2025\t62%\t124\t200\tno\t▲ improving\tNew audit tool\t30 Nov 2025 09:00\tTest Officer\n"
    )
    data = json.loads(kpis("kpi", "show", "dis-01", "--json").stdout)
    assert [(h["period"], h["value"]["value"], h["numerator"]["value"]) for h in data["history"]] == [
        ("2025-08", 55.0, None),
        ("2025-09", 62.0, 124.0),
    ]
    assert data["target_date"] == "2026-03-31" and data["recommendations"] == ["R1"]


def test_show_a_kpi_with_no_values(kpis: Any) -> None:
    result = kpis("kpi", "show", "CL-04")
    assert "Latest:          no values yet\n" in result.stdout
    assert result.stdout.endswith("# History\nNo values yet: kt kpi record CL-04 VALUE --period 2025-06\n")


def test_errors_are_one_line_and_change_nothing(kpis: Any, db: Path) -> None:
    kpis("kpi", "record", "CL-04", "24", "--period", "2025-Q3")
    before = db.read_bytes()
    cases = [
        (["kpi", "add", "CL-04", "Again", "--target", "1"], ConflictError.exit_code,
         "Error: KPI CL-04 already exists (Average personal adviser caseload).\n"),
        (["kpi", "add", "NEW", "Bad", "--target", "ninety"], ValidationError.exit_code,
         "Error: The target must be a number, not 'ninety'.\n"),
        # So large that a chart's range overflowed (a traceback in the scorecard's sparkline).
        (["kpi", "record", "CL-04", "-p", "2025-06", "--", "-1e308"], ValidationError.exit_code,
         "Error: The value must have at most 15 digits before the point, not '-1e308'.\n"),
        (["kpi", "add", "NEW", "Big", "--target", "1000000000000000"], ValidationError.exit_code,
         "Error: The target must have at most 15 digits before the point, not '1000000000000000'.\n"),
        # Counts are a 32-bit integer on a PostgreSQL server; checked before dividing (a huge one overflowed).
        (["kpi", "record", "DIS-01", "-p", "2025-10", "-n", "3000000000", "-d", "3000000000"],
         ValidationError.exit_code,
         "Error: The numerator must be a whole number from 0 to 2,147,483,647, not 3000000000.\n"),
        (["kpi", "record", "DIS-01", "-p", "2025-10", "-n", "9" * 400, "-d", "3"], ValidationError.exit_code,
         "Error: The numerator must be a whole number from 0 to 2,147,483,647, not a number that long.\n"),
        (["kpi", "add", "BAD KEY", "Bad", "--target", "1"], ValidationError.exit_code,
         "Error: KPI key 'BAD KEY' must be 1-32 letters, digits, '-', '_' or '.'.\n"),
        (["kpi", "add", "NEW", "Visits for case ref 1234567", "--target", "1"], PersonalDataError.exit_code,
         "Error: The name looks like it contains a case or record reference. Plans must hold no personal data "
         "about children: remove it, or if it is not personal data, repeat with --allow-personal-data \"why\".\n"),
        (["kpi", "record", "ZZ", "1", "-p", "2025-06"], NotFoundError.exit_code,
         "Error: No KPI 'ZZ'. Known keys: DIS-01, CL-04.\n"),
        (["kpi", "record", "CL-04", "23", "-p", "2025-Q3"], ConflictError.exit_code,
         "Error: CL-04 already has a value for 2025 Q3 (24): add --replace to correct it.\n"),
        (["kpi", "record", "CL-04", "23", "-p", "2026-01"], ValidationError.exit_code,
         "Error: The period Jan 2026 has not started yet (today is 30 Nov 2025).\n"),
        (["kpi", "record", "DIS-01", "90", "-p", "2025-10", "-n", "9", "-d", "12"], ValidationError.exit_code,
         "Error: 90% does not match 9/12 = 75%: check the figures, or leave out the value to work it out.\n"),
        (["kpi", "record", "DIS-01", "-p", "2025-10", "-n", "9"], ValidationError.exit_code,
         "Error: Give --numerator and --denominator together.\n"),
        (["kpi", "record", "CL-04", "23", "-p", "2025-Q3", "--note", "DOB 01/02/2015", "--replace"],
         PersonalDataError.exit_code,
         "Error: The note looks like it contains a date of birth. Plans must hold no personal data about children: "
         "remove it, or if it is not personal data, repeat with --allow-personal-data \"why\".\n"),
        (["kpi", "show", "NOPE"], NotFoundError.exit_code, "Error: No KPI 'NOPE'. Known keys: DIS-01, CL-04.\n"),
        (["kpi", "list", "--focus", "XX"], NotFoundError.exit_code,
         "Error: No focus area 'XX'. Known keys: DIS, CL.\n"),
    ]  # fmt: skip
    for args, code, stderr in cases:
        result = kpis(*args)
        assert (result.exit_code, result.stderr, result.stdout) == (code, stderr, ""), args
    assert db.read_bytes() == before
    missing = kpis("kpi", "record", "CL-04", "23")
    assert missing.exit_code == 2 and "Missing option '--period'" in missing.stderr


def test_the_largest_figures_are_taken_and_charted(kpis: Any, tmp_path: Path) -> None:
    """Fifteen digits either side of zero, next to each other: the scorecard and its charts
    still work out their range (at 1e308 it overflowed, a traceback)."""
    low = kpis("kpi", "record", "CL-04", "-p", "2025-06", "--", "-999999999999999")
    assert (low.exit_code, low.stderr) == (0, "")
    assert low.stdout == "Recorded CL-04 for Jun 2025: -999,999,999,999,999 (target 20, met).\n"
    high = kpis("kpi", "record", "CL-04", "999999999999999", "-p", "2025-07")
    assert (high.exit_code, high.stderr) == (0, "")
    report = kpis("report")
    assert report.exit_code == 0, report.stderr
    assert "999,999,999,999,999" in report.stdout
    for suffix in ("html", "docx"):
        paper = kpis("report", "-o", str(tmp_path / f"paper.{suffix}"))
        assert paper.exit_code == 0, (suffix, paper.stderr)


def test_every_kpi_command_has_help_with_an_example(kt: Any) -> None:
    for command in ("add", "record", "list", "show"):
        result = kt("kpi", command, "--help")
        assert result.exit_code == 0
        assert "Example:" in result.stdout and f"kt kpi {command}" in result.stdout
