"""kt report end to end on a small plan built over three months: exact Markdown, JSON and text,
the board pack files, escaping of hostile text, and errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from knowsley_tracker.errors import NotFoundError, ValidationError

# Each step runs on its own day (09:00 UTC), so the progress log and the board
# snapshot read like three months of work. "Today" is 30 Nov 2025 (conftest).
STEPS: list[tuple[str, list[str]]] = [
    ("2025-09-01", ["init", "--authority", "Test Council"]),
    ("2025-09-01", ["inspection", "add", "18/11/2024", "--end", "29/11/2024", "--published", "20/01/2025",
                    "-j", "inadequate"]),
    ("2025-09-01", ["focus", "add", "DIS", "Children with disabilities", "--lead", "Head of Service, Disabled Children"]),
    ("2025-09-01", ["focus", "add", "CL", "Care-experienced young people", "--lead", "Head of Service, Care Leavers"]),
    ("2025-09-01", ["owner", "add", "Head of Service, Disabled Children", "--name", "Sam Carter"]),
    ("2025-09-01", ["owner", "add", "Head of Service, Care Leavers"]),
    ("2025-09-01", ["rec", "add", "The quality of social work practice and management oversight for disabled children.",
                    "--focus", "DIS", "--ref", "3", "--summary", "Disabled children: practice and oversight"]),
    ("2025-09-01", ["rec", "add", "The caseloads of personal advisers (PAs).", "--focus", "CL", "--ref", "9"]),
    ("2025-09-01", ["action", "add", "R1", "Audit open disabled children's cases", "--owner", "O1",
                    "--due", "15/11/2025"]),
    ("2025-09-01", ["action", "add", "R1", "Publish a plan for the disabled children's service", "--owner", "O1",
                    "--due", "10/12/2025"]),
    ("2025-09-01", ["action", "add", "R2", "Recruit two more personal advisers", "--owner", "O2",
                    "--due", "31/03/2026"]),
    ("2025-09-01", ["action", "add", "R2", "Agree a PA caseload cap", "--owner", "O2", "--due", "30/09/2025"]),
    ("2025-09-01", ["action", "add", "R2", "Commission an external review of PA caseloads", "--owner", "O2",
                    "--due", "31/01/2026"]),
    ("2025-09-01", ["kpi", "add", "DIS-01", "Disabled children's cases with an up-to-date plan", "--target", "95",
                    "--unit", "%", "--focus", "DIS", "--rec", "R1"]),
    ("2025-09-01", ["kpi", "add", "CL-04", "Average personal adviser caseload", "--target", "20",
                    "--unit", "young people per PA", "--lower-is-better", "--focus", "CL", "--rec", "R2"]),
    ("2025-09-01", ["kpi", "record", "DIS-01", "--period", "2025-08", "--numerator", "55", "--denominator", "100"]),
    ("2025-09-01", ["kpi", "record", "CL-04", "28", "--period", "2025-Q2"]),
    ("2025-09-01", ["visit", "add", "10/02/2026", "--theme", "DIS", "--status", "confirmed"]),
    ("2025-09-20", ["log", "A1", "Audit tool agreed", "--progress", "40"]),
    ("2025-09-20", ["done", "A4", "Cap of 20 agreed at corporate parenting board"]),
    ("2025-10-01", ["kpi", "record", "DIS-01", "62", "--period", "2025-09"]),
    ("2025-10-01", ["kpi", "record", "CL-04", "24", "--period", "2025-Q3", "--note", "Two PAs started"]),
    ("2025-10-15", ["board", "add", "15/10/2025", "--note", "Board 4"]),
    ("2025-10-20", ["evidence", "add", "A4", "Corporate parenting board minutes", "--kind", "minutes",
                    "--date", "16/09/2025"]),
    ("2025-11-03", ["action", "edit", "A2", "--due", "31/01/2026", "--reason", "Awaiting new service manager"]),
    ("2025-11-05", ["action", "edit", "A3", "--rag", "amber", "--reason", "Recruitment market is difficult"]),
    ("2025-11-05", ["kpi", "record", "DIS-01", "70", "--period", "2025-10"]),
    ("2025-11-10", ["action", "add", "R1", "Brief all staff on the new plan", "--owner", "O1", "--due", "12/12/2025"]),
    ("2025-11-10", ["log", "A5", "Superseded by the regional review", "--status", "dropped"]),
    ("2025-11-30", ["board", "add", "14/01/2026", "--note", "Board 6"]),
]  # fmt: skip


@pytest.fixture
def pack(kt: Any) -> Any:
    """The small plan, built through the CLI one day at a time; returns ``kt``."""
    for day, args in STEPS:
        result = kt(*args, env={"KNOWSLEY_TRACKER_NOW": f"{day}T09:00:00+00:00"})
        assert result.exit_code == 0, (day, args, result.stdout, result.stderr)
    return kt


def test_markdown_is_exact(pack: Any) -> None:
    result = pack("report", "--format", "markdown")
    assert (result.exit_code, result.stderr) == (0, "")
    assert result.stdout == EXPECTED_MARKDOWN


def test_json_is_exact_for_one_focus_area(pack: Any) -> None:
    result = pack("report", "--format", "json", "--focus", "cl")
    assert (result.exit_code, result.stderr) == (0, "")
    assert json.loads(result.stdout) == EXPECTED_CL_JSON
    # Stable layout too: two-space indent, sorted keys, ISO dates.
    assert result.stdout == json.dumps(EXPECTED_CL_JSON, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    assert pack("report", "--json", "--focus", "CL").stdout == result.stdout


def test_plain_text_when_piped_is_exact_and_has_no_colour(pack: Any) -> None:
    result = pack("report", "--focus", "CL")
    assert result.exit_code == 0
    assert result.stdout == EXPECTED_CL_TEXT
    assert "\x1b" not in pack("report").stdout


def test_whole_plan_json_sections(pack: Any) -> None:
    data = json.loads(pack("report", "--json").stdout)
    assert data["schema"] == "knowsley-tracker/report" and data["version"] == 1
    assert [f["key"] for f in data["focus_areas"]] == ["DIS", "CL"]
    assert data["totals"]["rag_counts"] == {"red": 1, "amber": 3, "green": 0, "complete": 0, "blue": 1, "dropped": 1}
    assert (data["totals"]["actions"], data["totals"]["progress"]) == (5, 28.0)
    assert [e["action"] for e in data["exceptions"]] == ["A1"]
    assert data["exceptions"][0]["latest_note"] == "Audit tool agreed"
    assert data["exceptions"][0]["days_to_due"] == -15
    assert [e["action"] for e in data["due_soon"]] == ["A6"]
    moved = data["since_last_board"]
    assert [(c["action"], c["was"], c["now"]) for c in moved["rag_changes"]] == [
        ("A1", "green", "red"),
        ("A2", "green", "amber"),
        ("A3", "green", "amber"),
        ("A4", "complete", "blue"),
        ("A5", "green", "dropped"),
    ]
    assert moved["slipped"] == [
        {
            "action": "A2",
            "title": "Publish a plan for the disabled children's service",
            "was_due": "2025-12-10",
            "now_due": "2026-01-31",
            "reasons": ["Awaiting new service manager"],
        }
    ]
    assert moved["kpi_changes"] == [
        {
            "key": "DIS-01",
            "name": "Disabled children's cases with an up-to-date plan",
            "was": {"period": "2025-09", "value": {"text": "62%", "value": 62.0}},
            "now": {"period": "2025-10", "value": {"text": "70%", "value": 70.0}},
            "trend": "improving",
        }
    ]


def test_since_a_date_measures_from_the_plan_then(pack: Any) -> None:
    data = json.loads(pack("report", "--json", "--since", "1/11/2025").stdout)["since_last_board"]
    assert (data["since"], data["board"], data["method"]) == ("2025-11-01", None, "reconstructed")
    # On 1 Nov A1 was due in 14 days at 40% (amber) and A4 already had its evidence (blue).
    assert [(c["action"], c["was"], c["now"]) for c in data["rag_changes"]] == [
        ("A1", "amber", "red"),
        ("A2", "green", "amber"),
        ("A3", "green", "amber"),
        ("A5", "green", "dropped"),
    ]
    assert [n["action"] for n in data["new_actions"]] == ["A6"]
    assert data["new_evidence"] == []
    text = pack("report", "--since", "1/11/2025").stdout
    assert "Since 1 Nov 2025 (the plan as it stood then, rebuilt from the progress log)." in text


def test_board_pack_files(pack: Any, tmp_path: Path) -> None:
    for name, fmt in [("pack.html", "html"), ("pack.md", "markdown"), ("pack.json", "json"), ("pack.txt", "text")]:
        target = tmp_path / name
        result = pack("report", "-o", str(target))
        assert (result.exit_code, result.stderr) == (0, "")
        assert result.stdout == f"Wrote the {fmt} board paper to {target}.\n"
    assert (tmp_path / "pack.md").read_text(encoding="utf-8") == EXPECTED_MARKDOWN
    assert json.loads((tmp_path / "pack.json").read_text(encoding="utf-8"))["report_date"] == "2025-11-30"
    assert "\x1b" not in (tmp_path / "pack.txt").read_text(encoding="utf-8")
    forced = tmp_path / "pack"  # no suffix: refused even with --format (the name would not say what it holds)
    assert pack("report", "--format", "md", "-o", str(forced)).exit_code == 4
    assert not forced.exists()
    assert pack("report", "--format", "md", "-o", str(forced.with_suffix(".md"))).exit_code == 0
    assert forced.with_suffix(".md").read_text(encoding="utf-8") == EXPECTED_MARKDOWN
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


def test_html_is_one_self_contained_printable_page(pack: Any) -> None:
    page = pack("report", "--format", "html").stdout
    assert page.startswith('<!DOCTYPE html>\n<html lang="en-GB">')
    assert page.rstrip().endswith("</html>")
    for needle in ["@page { size: A4;", "@media print", 'aria-label="Progress by focus area"',
                   'aria-label="DIS-01 trend"', 'aria-label="CL-04 trend"', "<h2>4. Since the last board</h2>",
                   '<td class="rag rag-red">Red</td>', '<td class="rag rag-amber">Amber*</td>']:  # fmt: skip
        assert needle in page, needle
    # No external assets: nothing is fetched (the only URLs are SVG namespaces).
    assert "<link" not in page and "<script" not in page and "src=" not in page
    assert page.count("http://") == page.count('xmlns="http://www.w3.org/2000/svg"')


def test_hostile_text_is_shown_literally_in_every_format(pack: Any) -> None:
    title = "[bold]Hostile[/] *now* | <b>x</b> & `y` # _z_\n- item \x1b[31mred"
    assert pack("action", "add", "R1", title, "--due", "1/12/2025").exit_code == 0
    text = pack("report").stdout
    assert "[bold]Hostile[/] *now* | <b>x</b> & `y` # _z_\\x0a- item \\x1b[31mred" in text
    assert "\x1b" not in text
    md = pack("report", "--format", "md").stdout
    assert (
        "\\[bold\\]Hostile\\[/\\] \\*now\\* \\| \\<b\\>x\\</b\\> \\& \\`y\\` \\# \\_z\\_ - item \\\\x1b\\[31mred" in md
    )
    page = pack("report", "--format", "html").stdout
    assert "[bold]Hostile[/] *now* | &lt;b&gt;x&lt;/b&gt; &amp; `y` # _z_\\x0a- item \\x1b[31mred" in page
    assert "<b>x</b>" not in page
    data = json.loads(pack("report", "--json").stdout)
    assert title in [e["title"] for e in data["due_soon"]]
    shown = pack("report", "--wide", env={"TTY_COMPATIBLE": "1", "COLUMNS": "300"}).stdout
    assert "[bold]Hostile[/]" in shown and "\x1b[31mred" not in shown


def test_markdown_escapes_leading_list_and_heading_markers() -> None:
    from knowsley_tracker.render.report_markdown import md

    assert md("- item") == "\\- item"
    assert md("+ item") == "\\+ item"
    assert md("=== ") == "\\=== "
    assert md("a-b") == "a-b"
    assert md("line one\r\nline two") == "line one line two"


def test_terminal_output_is_coloured(pack: Any) -> None:
    result = pack("report", env={"TTY_COMPATIBLE": "1", "COLUMNS": "200"})
    assert result.exit_code == 0
    assert "\x1b[" in result.stdout
    for heading in ["Board status report", "1. Focus areas", "2. Readiness by recommendation", "3. Exceptions",
                    "4. Since the last board", "5. KPI scorecard", "Recruitment market is difficult"]:  # fmt: skip
        assert heading in result.stdout


def test_report_on_a_new_plan(kt: Any) -> None:
    assert kt("init", "--authority", "New Council").exit_code == 0
    result = kt("report")
    assert result.exit_code == 0
    assert result.stdout == (
        "OFFICIAL\n"
        "New Council Improvement Board\n"
        "Board status report\n"
        "Meeting: none recorded (kt board add DATE)\n"
        "===================\n"
        "\n"
        "Authority:   New Council\n"
        "Report date: 30 Nov 2025\n"
        "Author:      not set (kt config set paper.author ROLE)\n"
        "\n"
        "\n"
        "Summary\n"
        "-------\n"
        "\n"
        "- No actions are recorded yet.\n"
        "\n"
        "\n"
        "Director's narrative\n"
        "--------------------\n"
        "\n"
        "No board meeting is recorded for this paper (kt board add DATE).\n"
        "\n"
        "\n"
        "Decisions and asks of the board\n"
        "-------------------------------\n"
        "\n"
        "No board meeting is recorded for this paper (kt board add DATE).\n"
        "\n"
        "\n"
        "Position at a glance\n"
        "--------------------\n"
        "\n"
        "Latest inspection:     none recorded (kt inspection add)\n"
        "Next monitoring visit: none expected (kt visit add)\n"
        "\n"
        "\n"
        "1. Focus areas\n"
        "--------------\n"
        "\n"
        "No focus areas yet (kt focus add).\n"
        "\n"
        "\n"
        "2. Readiness by recommendation\n"
        "------------------------------\n"
        "\n"
        "No recommendations yet (kt rec add).\n"
        "\n"
        "\n"
        "3. Exceptions\n"
        "-------------\n"
        "\n"
        "Red or overdue:\n"
        "\n"
        "No red or overdue actions.\n"
        "\n"
        "Due in the next 30 days:\n"
        "\n"
        "No other open actions are due in the next 30 days.\n"
        "\n"
        "\n"
        "4. Since the last board\n"
        "-----------------------\n"
        "\n"
        "No board meeting before today is recorded: record one with kt board add DATE.\n"
        "\n"
        "\n"
        "5. KPI scorecard\n"
        "----------------\n"
        "\n"
        "No KPIs yet (kt kpi add).\n"
        "\n"
        "\n"
        "Next meetings\n"
        "-------------\n"
        "\n"
        "Next board meeting:    none recorded (kt board add DATE)\n"
        "Next monitoring visit: none expected (kt visit add)\n"
        "\n"
        "OFFICIAL\n"
    )


def test_errors_are_one_line_and_change_nothing(pack: Any, db: Path, tmp_path: Path) -> None:
    before = db.read_bytes()
    cases = [
        (["report", "--format", "rtf"], ValidationError.exit_code,
         "Error: Unknown format 'rtf': choose text, markdown, html, json, pdf or docx.\n"),
        (["report", "--json", "--format", "html"], ValidationError.exit_code,
         "Error: --json and --format disagree: give one of them.\n"),
        (["report", "--focus", "XX"], NotFoundError.exit_code, "Error: No focus area 'XX'. Known keys: DIS, CL.\n"),
        (["report", "--since", "1/1/2026"], ValidationError.exit_code,
         "Error: --since takes a day before today (30 Nov 2025): movement is measured from the end of that day.\n"),
        (["report", "--since", "someday"], ValidationError.exit_code,
         "Error: Cannot read 'someday' as a date: use 1/9/2025, 2025-09-01, 1 Sep 2025, today, tomorrow, +10d, "
         "+2w or +3m.\n"),
        (["report", "-o", str(tmp_path / "missing" / "pack.html")], 10,
         f"Error: Could not write {tmp_path / 'missing' / 'pack.html'} (No such file or directory).\n"),
    ]  # fmt: skip
    for args, code, stderr in cases:
        result = pack(*args)
        assert (result.exit_code, result.stderr, result.stdout) == (code, stderr, ""), args
    assert db.read_bytes() == before
    assert not (tmp_path / "missing").exists()


def test_non_terminal_formats_do_not_import_rich(pack: Any, db: Path) -> None:
    code = (
        "import io, sys, contextlib\n"
        "from knowsley_tracker.cli import app\n"
        "for fmt in ('text', 'markdown', 'html', 'json'):\n"
        "    with contextlib.redirect_stdout(io.StringIO()):\n"
        "        assert app(['report', '--format', fmt], standalone_mode=False) == 0\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('rich', 'dateutil', 'filelock')))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert (done.returncode, done.stdout, done.stderr) == (0, "[]\n", "")


def test_every_kpi_figure_goes_through_one_function(pack: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Small-number suppression lives in Figures.figure: replace it, and no KPI number may leak."""
    from knowsley_tracker.service.kpis import Figure, Figures

    def suppressed(self: Figures, value: float | None, **_: Any) -> Figure:
        return Figure(None, "c") if value is not None else Figure(None, "")

    monkeypatch.setattr(Figures, "figure", suppressed)
    md = pack("report", "--format", "md").stdout
    kpi_part = md[md.index("### KPI changes") : md.index("## Next meetings")]
    for number in ("55", "62", "70", "24", "28", "95", "20"):
        assert number not in kpi_part.replace("2025", "").replace("DIS-01", "").replace("CL-04", ""), number
    # No "met" or "not met" beside a suppressed value (Markdown escapes the dash).
    assert "| DIS-01 | Disabled children's cases with an up-to-date plan | c | Oct 2025 | c | \\- |" in md
    assert "DIS-01 c |" in md and "DIS-01 no data" not in md  # readiness links show the suppressed value
    assert "| c (Sep 2025) | c (Oct 2025) |" in md

    data = json.loads(pack("report", "--json").stdout)

    def figures_in(node: Any) -> list[Any]:
        if isinstance(node, dict):
            if set(node) == {"value", "text"}:
                return [node]
            return [f for v in node.values() for f in figures_in(v)]
        if isinstance(node, list):
            return [f for v in node for f in figures_in(v)]
        return []

    shown = figures_in(data["kpis"]) + figures_in(data["since_last_board"]["kpi_changes"])
    assert len(shown) > 10
    assert all(f["value"] is None and f["text"] in ("c", "") for f in shown)
    page = pack("report", "--format", "html").stdout
    assert "target 95%" not in page and "62%" not in page
    text = pack("kpi", "show", "DIS-01").stdout
    assert "Latest:          c (Oct 2025)" in text and "62" not in text
    board = pack("board", "show", "B1").stdout
    assert board.endswith(
        "DIS-01\tDisabled children's cases with an up-to-date plan\tc\tSep 2025\n"
        "CL-04\tAverage personal adviser caseload\tc\t2025 Q3\n"
    )


EXPECTED_MARKDOWN = (
    "**OFFICIAL**\n"
    "\n"
    "# Board status report\n"
    "\n"
    "**Test Council Improvement Board**, Meeting 2, 14 Jan 2026\n"
    "\n"
    "- **Authority:** Test Council\n"
    "- **Report date:** 30 Nov 2025\n"
    "- **Author:** not set (kt config set paper.author ROLE)\n"
    "\n"
    "## Summary\n"
    "\n"
    "- 1 of 5 actions is red (1 overdue) and 1 is complete with evidence; 3 amber.\n"
    "- 1 recommendation has no evidence yet (recommendation 3).\n"
    "- The next monitoring visit is in 72 days (10 Feb 2026).\n"
    "- The action plan to Ofsted was due 214 days ago (30 Apr 2025) and is not recorded as sent"
    ".\n"
    "- KPIs: 0 of 2 on target, 2 off target.\n"
    "- Since the board on 15 Oct 2025, 3 actions got worse, 1 due date slipped and 1 action was"
    " added.\n"
    "\n"
    "## Director's narrative\n"
    "\n"
    "No narrative is recorded with meeting B2 (kt board edit B2 --narrative-file FILE).\n"
    "\n"
    "## Decisions and asks of the board\n"
    "\n"
    'No decisions or asks are recorded with meeting B2 (kt board edit B2 --decision "...").\n'
    "\n"
    "## Position at a glance\n"
    "\n"
    "- **Latest inspection:** Inadequate (standard inspection, published 20 Jan 2025)\n"
    "- **Next monitoring visit:** 10 Feb 2026, in 72 days (confirmed, visit 1)\n"
    "- **Action plan to Ofsted:** due 30 Apr 2025, 214 days ago; not recorded as sent\n"
    "\n"
    "## 1. Focus areas\n"
    "\n"
    "| Key | Focus area | Recs | Actions | Overdue | Red | Amber | Green | Complete | Blue | Pr"
    "ogress |\n"
    "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|\n"
    "| DIS | Children with disabilities | 1 | 3 | 1 | 1 | 2 | 0 | 0 | 0 | █░░░░░░░░░ 13% |\n"
    "| CL | Care-experienced young people | 1 | 2 | 0 | 0 | 1 | 0 | 0 | 1 | █████░░░░░ 50% |\n"
    "|  | **All focus areas** | **2** | **5** | **1** | **1** | **3** | **0** | **0** | **1** |"
    " **███░░░░░░░ 28%** |\n"
    "\n"
    "*Red, Amber, Green, Complete and Blue add up to Actions. Complete: complete, no evidence y"
    "et; Blue: complete with evidence. Progress: the average of the actions, complete counting "
    "as 100%; dropped actions are left out.*\n"
    "\n"
    "## 2. Readiness by recommendation\n"
    "\n"
    "| Rec | Recommendation | Focus | Status | RAG | Actions | Progress | Evidence | Days since"
    " update | KPIs | Gaps |\n"
    "|---|---|---|---|---|---|---:|---:|---:|---|---|\n"
    "| R1 (rec 3) | Disabled children: practice and oversight | DIS | In progress | Red | 1 red"
    ", 2 amber | 13% | 0 | 20 | DIS-01 not met | 3 actions without evidence (A1, A2, A6) |\n"
    "| R2 (rec 9) | The caseloads of personal advisers (PAs). | CL | In progress | Amber | 1 am"
    "ber, 1 blue | 50% | 1 | 25 | CL-04 not met | 1 action without evidence (A3) |\n"
    "\n"
    "## 3. Exceptions\n"
    "\n"
    "### Red or overdue\n"
    "\n"
    "| Action | Title | Owner | Due | Status | Progress | RAG | Why | Latest note |\n"
    "|---|---|---|---|---|---:|---|---|---|\n"
    "| A1 | Audit open disabled children's cases | Head of Service, Disabled Children (Sam Cart"
    "er) | 15 Nov 2025 | in-progress | 40% | Red | overdue by 15 days | Audit tool agreed |\n"
    "\n"
    "### Due in the next 30 days\n"
    "\n"
    "| Action | Title | Owner | Due | When | Progress | RAG |\n"
    "|---|---|---|---|---|---:|---|\n"
    "| A6 | Brief all staff on the new plan | Head of Service, Disabled Children (Sam Carter) |"
    " 12 Dec 2025 | in 12 days | 0% | Amber |\n"
    "\n"
    "## 4. Since the last board\n"
    "\n"
    "Since board B1 on 15 Oct 2025 (snapshot frozen on the day).\n"
    "\n"
    "### RAG changes\n"
    "\n"
    "| Action | Title | Was | Now | Why |\n"
    "|---|---|---|---|---|\n"
    "| A1 | Audit open disabled children's cases | Green | Red | overdue by 15 days |\n"
    "| A2 | Publish a plan for the disabled children's service | Green | Amber | due date slipp"
    "ed |\n"
    "| A3 | Recruit two more personal advisers | Green | Amber\\* | Recruitment market is diffic"
    "ult |\n"
    "| A4 | Agree a PA caseload cap | Complete | Blue | complete with 1 evidence |\n"
    "| A5 | Commission an external review of PA caseloads | Green | Dropped | Superseded by the"
    " regional review |\n"
    "\n"
    "### New actions\n"
    "\n"
    "| Action | Title | Due | RAG |\n"
    "|---|---|---|---|\n"
    "| A6 | Brief all staff on the new plan | 12 Dec 2025 | Amber |\n"
    "\n"
    "### Due dates slipped\n"
    "\n"
    "| Action | Title | Was due | Now due | Reason |\n"
    "|---|---|---|---|---|\n"
    "| A2 | Publish a plan for the disabled children's service | 10 Dec 2025 | 31 Jan 2026 | Aw"
    "aiting new service manager |\n"
    "\n"
    "### New evidence\n"
    "\n"
    "| Action | Evidence | Kind | Dated | Title |\n"
    "|---|---|---|---|---|\n"
    "| A4 | E1 | minutes | 16 Sep 2025 | Corporate parenting board minutes |\n"
    "\n"
    "### KPI changes\n"
    "\n"
    "| KPI | Name | Was | Now | Trend |\n"
    "|---|---|---|---|---|\n"
    "| DIS-01 | Disabled children's cases with an up-to-date plan | 62% (Sep 2025) | 70% (Oct 2"
    "025) | ▲ improving |\n"
    "\n"
    "\\* marks an officer's override, shown with its reason. RAG: Red, overdue or blocked; Amber, due soon with "
    "little progress or slipped; Green, on track; Complete, awaiting evidence; Blue, complete with evidence.\n"
    "\n"
    "## 5. KPI scorecard\n"
    "\n"
    "| KPI | Name | Latest | Period | Target | Met | Trend | Last values |\n"
    "|---|---|---:|---|---:|---|---|---|\n"
    "| DIS-01 | Disabled children's cases with an up-to-date plan | 70% | Oct 2025 | 95% | no |"
    " ▲ improving | ▁▄█ |\n"
    "| CL-04 | Average personal adviser caseload (young people per PA) | 24 | 2025 Q3 | 20 | no"
    " | ▲ improving | █▁ |\n"
    "\n"
    "*Met: yes, near (within the KPI's tolerance of its target: amber) or no. Trend compares th"
    "e latest value with the one before, judged by the KPI's direction (for some, lower is bett"
    "er).*\n"
    "\n"
    "## Next meetings\n"
    "\n"
    "- **Next board meeting:** none recorded after this one (kt board add DATE)\n"
    "- **Next monitoring visit:** 10 Feb 2026, in 72 days\n"
    "\n"
    "**OFFICIAL**\n"
)


EXPECTED_CL_TEXT = (
    "OFFICIAL\n"
    "Test Council Improvement Board\n"
    "Board status report: CL Care-experienced young people\n"
    "Meeting 2, 14 Jan 2026\n"
    "=====================================================\n"
    "\n"
    "Authority:   Test Council\n"
    "Report date: 30 Nov 2025\n"
    "Author:      not set (kt config set paper.author ROLE)\n"
    "\n"
    "\n"
    "Summary\n"
    "-------\n"
    "\n"
    "- 0 of 2 actions are red and 1 is complete with evidence; 1 amber.\n"
    "- Every recommendation with actions has evidence (1 of 1).\n"
    "- The next monitoring visit is in 72 days (10 Feb 2026).\n"
    "- The action plan to Ofsted was due 214 days ago (30 Apr 2025) and is not recorded as sent"
    ".\n"
    "- KPIs: 0 of 1 on target, 1 off target.\n"
    "- Since the board on 15 Oct 2025, 1 action got worse.\n"
    "\n"
    "\n"
    "Director's narrative\n"
    "--------------------\n"
    "\n"
    "No narrative is recorded with meeting B2 (kt board edit B2 --narrative-file FILE).\n"
    "\n"
    "\n"
    "Decisions and asks of the board\n"
    "-------------------------------\n"
    "\n"
    'No decisions or asks are recorded with meeting B2 (kt board edit B2 --decision "...").\n'
    "\n"
    "\n"
    "Position at a glance\n"
    "--------------------\n"
    "\n"
    "Latest inspection:     Inadequate (standard inspection, published 20 Jan 2025)\n"
    "Next monitoring visit: 10 Feb 2026, in 72 days (confirmed, visit 1)\n"
    "Action plan to Ofsted: due 30 Apr 2025, 214 days ago; not recorded as sent\n"
    "Focus area:            CL Care-experienced young people\n"
    "\n"
    "\n"
    "1. Focus areas\n"
    "--------------\n"
    "\n"
    "Key  Focus area                     Recs  Actions  Overdue  Red  Amber  Green  Complete  B"
    "lue  Progress\n"
    "---  -----------------------------  ----  -------  -------  ---  -----  -----  --------  -"
    "---  --------------\n"
    "CL   Care-experienced young people     1        2        0    0      1      0         0   "
    "  1  █████░░░░░ 50%\n"
    "\n"
    "Red, Amber, Green, Complete and Blue add up to Actions. Complete: complete, no evidence ye"
    "t; Blue: complete with evidence. Progress: the average of the actions, complete counting a"
    "s 100%; dropped actions are left out.\n"
    "\n"
    "\n"
    "2. Readiness by recommendation\n"
    "------------------------------\n"
    "\n"
    "Rec         Recommendation                             Focus  Status       RAG    Actions "
    "         Progress  Evidence  Days since update  KPIs           Gaps\n"
    "----------  -----------------------------------------  -----  -----------  -----  --------"
    "-------  --------  --------  -----------------  -------------  ---------------------------"
    "---\n"
    "R2 (rec 9)  The caseloads of personal advisers (PAs).  CL     In progress  Amber  1 amber,"
    " 1 blue       50%         1                 25  CL-04 not met  1 action without evidence ("
    "A3)\n"
    "\n"
    "\n"
    "3. Exceptions\n"
    "-------------\n"
    "\n"
    "Red or overdue:\n"
    "\n"
    "No red or overdue actions.\n"
    "\n"
    "Due in the next 30 days:\n"
    "\n"
    "No other open actions are due in the next 30 days.\n"
    "\n"
    "\n"
    "4. Since the last board\n"
    "-----------------------\n"
    "\n"
    "Since board B1 on 15 Oct 2025 (snapshot frozen on the day).\n"
    "\n"
    "RAG changes:\n"
    "\n"
    "Action  Title                                          Was       Now      Why\n"
    "------  ---------------------------------------------  --------  -------  ----------------"
    "-----------------\n"
    "A3      Recruit two more personal advisers             Green     Amber*   Recruitment mark"
    "et is difficult\n"
    "A4      Agree a PA caseload cap                        Complete  Blue     complete with 1 "
    "evidence\n"
    "A5      Commission an external review of PA caseloads  Green     Dropped  Superseded by th"
    "e regional review\n"
    "\n"
    "New evidence:\n"
    "\n"
    "Action  Evidence  Kind     Dated        Title\n"
    "------  --------  -------  -----------  ---------------------------------\n"
    "A4      E1        minutes  16 Sep 2025  Corporate parenting board minutes\n"
    "\n"
    "* marks an officer's override, shown with its reason. RAG: Red, overdue or blocked; Amber, due soon with "
    "little progress or slipped; Green, on track; Complete, awaiting evidence; Blue, complete with evidence.\n"
    "\n"
    "\n"
    "5. KPI scorecard\n"
    "----------------\n"
    "\n"
    "KPI    Name                                                     Latest  Period   Target  M"
    "et  Trend        Last values\n"
    "-----  -------------------------------------------------------  ------  -------  ------  -"
    "--  -----------  -----------\n"
    "CL-04  Average personal adviser caseload (young people per PA)      24  2025 Q3      20  n"
    "o   ▲ improving  █▁\n"
    "\n"
    "Met: yes, near (within the KPI's tolerance of its target: amber) or no. Trend compares the"
    " latest value with the one before, judged by the KPI's direction (for some, lower is bette"
    "r).\n"
    "\n"
    "\n"
    "Next meetings\n"
    "-------------\n"
    "\n"
    "Next board meeting:    none recorded after this one (kt board add DATE)\n"
    "Next monitoring visit: 10 Feb 2026, in 72 days\n"
    "\n"
    "OFFICIAL\n"
)


EXPECTED_CL_JSON = {
    "action_plan": {"days_left": -214, "due": "2025-04-30", "inspection": "I1", "sent": None},
    "authority": "Test Council",
    "due_soon": [],
    "exceptions": [],
    "focus": {"key": "CL", "name": "Care-experienced young people"},
    "focus_areas": [
        {
            "actions": 2,
            "complete": 1,
            "dropped": 1,
            "key": "CL",
            "lead": "Head of Service, Care Leavers",
            "name": "Care-experienced young people",
            "overdue": 0,
            "progress": 50.0,
            "rag": "amber",
            "rag_counts": {"amber": 1, "blue": 1, "complete": 0, "dropped": 1, "green": 0, "red": 0},
            "recommendations": 1,
        }
    ],
    "inspection": {
        "judgement": "inadequate",
        "judgement_label": "Inadequate",
        "published": "2025-01-20",
        "ref": "I1",
        "start": "2024-11-18",
        "type": "standard",
    },
    "intervention": None,
    "kpis": [
        {
            "comparators": [],
            "direction": "down",
            "focus": "CL",
            "history": [
                {
                    "denominator": {"text": "", "value": None},
                    "met": False,
                    "note": "",
                    "numerator": {"text": "", "value": None},
                    "period": "2025-Q2",
                    "period_end": "2025-06-30",
                    "trend": None,
                    "value": {"text": "28", "value": 28.0},
                },
                {
                    "denominator": {"text": "", "value": None},
                    "met": False,
                    "note": "Two PAs started",
                    "numerator": {"text": "", "value": None},
                    "period": "2025-Q3",
                    "period_end": "2025-09-30",
                    "trend": "improving",
                    "value": {"text": "24", "value": 24.0},
                },
            ],
            "key": "CL-04",
            "latest": {
                "denominator": {"text": "", "value": None},
                "numerator": {"text": "", "value": None},
                "period": "2025-Q3",
                "period_end": "2025-09-30",
                "value": {"text": "24", "value": 24.0},
            },
            "lower_is_better": True,
            "met": False,
            "name": "Average personal adviser caseload",
            "previous": {
                "denominator": {"text": "", "value": None},
                "numerator": {"text": "", "value": None},
                "period": "2025-Q2",
                "period_end": "2025-06-30",
                "value": {"text": "28", "value": 28.0},
            },
            "rag": "red",
            "recommendations": ["R2"],
            "sparkline": "█▁",
            "target": {"text": "20", "value": 20.0},
            "target_date": None,
            "tolerance": {"text": "", "value": None},
            "trend": "improving",
            "unit": "young people per PA",
        }
    ],
    "next_monitoring_visit": {"date": "2026-02-10", "days_to_go": 72, "number": 1, "ref": "V1", "status": "confirmed"},
    "paper": {
        "author": "",
        "board_name": "Test Council Improvement Board",
        "decisions": [],
        "headline": [
            "0 of 2 actions are red and 1 is complete with evidence; 1 amber.",
            "Every recommendation with actions has evidence (1 of 1).",
            "The next monitoring visit is in 72 days (10 Feb 2026).",
            "The action plan to Ofsted was due 214 days ago (30 Apr 2025) and is not recorded as sent.",
            "KPIs: 0 of 1 on target, 1 off target.",
            "Since the board on 15 Oct 2025, 1 action got worse.",
        ],
        "logo": None,
        "marking": "OFFICIAL",
        "meeting": {"date": "2026-01-14", "number": 2, "ref": "B2"},
        "narrative": "",
        "next_meeting": None,
    },
    "partners": [],
    "rag_rules": {"amber_days": 14, "amber_progress": 75},
    "recommendations": [
        {
            "actions": 2,
            "complete": 1,
            "days_since_update": 25,
            "dropped": 1,
            "evidence": 1,
            "focus": "CL",
            "gaps": ["1 action without evidence (A3)"],
            "kpis": [{"key": "CL-04", "met": False}],
            "last_update": "2025-11-05",
            "overdue": 0,
            "progress": 50.0,
            "rag": "amber",
            "rag_counts": {"amber": 1, "blue": 1, "complete": 0, "dropped": 1, "green": 0, "red": 0},
            "ref": "R2",
            "report_ref": "9",
            "status": "In progress",
            "summary": "",
            "text": "The caseloads of personal advisers (PAs).",
        }
    ],
    "report_date": "2025-11-30",
    "schema": "knowsley-tracker/report",
    "since_last_board": {
        "board": "B1",
        "completed": [],
        "kpi_changes": [],
        "method": "current",
        "new_actions": [],
        "new_evidence": [
            {
                "action": "A4",
                "date": "2025-09-16",
                "evidence": "E1",
                "kind": "minutes",
                "link": "",
                "title": "Corporate parenting board minutes",
            }
        ],
        "rag_changes": [
            {
                "action": "A3",
                "now": "amber",
                "now_overridden": True,
                "title": "Recruit two more personal advisers",
                "was": "green",
                "was_overridden": False,
                "why": "Recruitment market is difficult",
                "worse": True,
            },
            {
                "action": "A4",
                "now": "blue",
                "now_overridden": False,
                "title": "Agree a PA caseload cap",
                "was": "complete",
                "was_overridden": False,
                "why": "complete with 1 evidence",
                "worse": False,
            },
            {
                "action": "A5",
                "now": "dropped",
                "now_overridden": False,
                "title": "Commission an external review of PA caseloads",
                "was": "green",
                "was_overridden": False,
                "why": "Superseded by the regional review",
                "worse": False,
            },
        ],
        "since": "2025-10-15",
        "slipped": [],
    },
    "totals": {
        "actions": 2,
        "complete": 1,
        "dropped": 1,
        "overdue": 0,
        "progress": 50.0,
        "rag": "amber",
        "rag_counts": {"amber": 1, "blue": 1, "complete": 0, "dropped": 1, "green": 0, "red": 0},
    },
    "version": 1,
}


def test_terminal_report_shows_every_row_of_a_long_table(kt: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """A table of many rows is fitted like any other: every row, RAG cells coloured, user text literal."""
    kt("init", "--authority", "Test Council")
    kt("rec", "add", "A recommendation")
    count = 40
    for n in range(count):
        assert kt("action", "add", "R1", f"[bold]Overdue[/] action {n}", "--due", "1/11/2025").exit_code == 0
    monkeypatch.setenv("TTY_COMPATIBLE", "1")
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.setenv("TERM", "xterm")
    out = kt("report").stdout
    section = out[out.index("Red or overdue") :]
    for n in range(count):
        assert f"A{n + 1} " in section and f"[bold]Overdue[/] action {n}" in section
    assert "\x1b[1;37;41mRed\x1b[0m" in section  # the RAG cell carries the red style


def test_help_names_every_section_of_the_report(kt: Any) -> None:
    text = " ".join(kt("report", "--help", env={"COLUMNS": "200"}).stdout.split())
    for n, words in enumerate(["focus areas", "readiness by recommendation", "exceptions", "since the last board",
                               "the KPI scorecard", "improvement partners engaged today"], start=1):  # fmt: skip
        assert f"{n} {words}" in text, words


def test_the_rag_legend_is_under_the_section_that_shows_an_override(pack: Any) -> None:
    legend = "* marks an officer's override, shown with its reason."
    terminal = pack("report", env={"TTY_COMPATIBLE": "1", "NO_COLOR": "1", "COLUMNS": "200"}).stdout
    for shown, mark in [
        (terminal, "*"),
        (pack("report").stdout, "*"),
        (pack("report", "--format", "md").stdout, "\\*"),
    ]:
        said = legend.replace("*", mark)
        assert shown.index(f"Amber{mark}") < shown.index(said) < shown.index("5. KPI scorecard")
