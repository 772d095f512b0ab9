"""The printed papers' tables as a chair reads them: dates, ids, statuses and RAG words never
wrap inside the value, every column is sized for what it holds, and hostile text (markup,
formulas, escapes, an 80-character word) prints literally and stays inside the page."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from helpers.needs import need, need_pdf_engine
from pypdf import PdfReader

from knowsley_tracker.render import paper_columns
from knowsley_tracker.render.report_layout import Cell, Col, Table

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "knowsley-2025" / "plan.json"
LONG = "Supercalifragilistic" * 4  # 80 characters, no break opportunity
HOSTILE = f"[bold]Loud[/] <script>alert(1)</script> =cmd() \x1b[31mred\x1b[0m {LONG}"
HOSTILE_SHOWN = "[bold]Loud[/] <script>alert(1)</script> =cmd() \\x1b[31mred\\x1b[0m"
NARRATIVE = f"Opening [bold]words[/] <script>alert(2)</script> =cmd()\n\n- \x1b[31mANSI\x1b[0m item {LONG}\n"


def layout_text(pdf: Path) -> str:
    """The PDF's text as laid out on its pages (poppler's pdftotext -layout)."""
    need(shutil.which("pdftotext") is not None, "pdftotext is not installed: apt-get install poppler-utils")
    done = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True)
    return done.stdout


def row(text: str, ref: str) -> str:
    """The line of a -layout page that starts with the id ``ref``."""
    found = re.findall(rf"^ *{re.escape(ref)} .*$", text, re.MULTILINE)
    assert found, ref
    return str(found[0])


def example(kt: Any, tmp_path: Path, suffix: str) -> Path:
    target = tmp_path / f"paper.{suffix}"
    result = kt("--db", str(EXAMPLE), "report", "-o", str(target))
    assert result.exit_code == 0, result.stderr
    return target


# -- PDF ----------------------------------------------------------------------------------------


def test_pdf_keeps_dates_statuses_and_ids_on_one_line(kt: Any, tmp_path: Path) -> None:
    """The exceptions' due dates printed as "31 Aug / 2025" and statuses as "in- / progress"."""
    need_pdf_engine()
    text = layout_text(example(kt, tmp_path, "pdf"))
    for ref, due in (("A14", "31 Aug 2025"), ("A35", "31 Aug 2025"), ("A5", "31 Oct 2025"), ("A33", "31 Oct 2025")):
        line = row(text, ref)
        assert due in line and "in-progress" in line and "%" in line, line
    assert re.search(r"^ *A8 .*31 Oct 2025 +blocked +75% +Red", text, re.MULTILINE)
    assert re.search(r"^ *A12 .*30 Nov 2025 +today +65% +Amber", text, re.MULTILINE)
    assert re.search(r"^ *A19 .*15 Dec 2025 +in 15 days +0% +Green", text, re.MULTILINE)
    for rec in ("R1 (rec 1)", "R10 (rec 10)"):
        assert "In progress" in row(text, rec), rec
    assert re.search(r"^ *HP-01 .*81% +Oct 2025 ", text, re.MULTILINE)
    # Headers of number columns wrap between their words rather than running into the next one.
    assert re.search(r"Evidence +Days +KPIs +Gaps", text)


def test_pdf_print_rules_size_every_table_and_keep_short_values_whole(paper_html: str) -> None:
    """Every table is laid out at fixed widths from its <colgroup>; short values are class s."""
    css = paper_html[paper_html.index("<style>") : paper_html.index("</style>")]
    assert "table-layout: fixed;" in css
    assert "td.progress, td.s { white-space: nowrap;" in css
    assert "td { overflow-wrap: anywhere; }" in css
    assert "#exceptions td" not in css and "white-space: normal" not in css  # nothing turns nowrap off again
    tables = paper_html.count("<table>")
    groups = re.findall(r"<colgroup>(.*?)</colgroup>", paper_html)
    assert tables == len(groups) >= 8
    for group in groups:
        shares = [float(x) for x in re.findall(r'<col style="width:([\d.]+)%">', group)]
        assert abs(sum(shares) - 100) < 0.5, shares
    assert '<td class="s">31 Aug 2025</td><td class="s">in-progress</td>' in paper_html
    assert '<td class="s">R10 (rec 10)</td>' in paper_html
    assert '<td class="num s">157</td>' in paper_html  # days since update
    assert "<td>Refresh the neglect strategy and assessment tool with partners</td>" in paper_html


@pytest.fixture
def paper_html(kt: Any) -> str:
    result = kt("--db", str(EXAMPLE), "report", "--format", "html")
    assert result.exit_code == 0, result.stderr
    return str(result.stdout)


# -- Word -----------------------------------------------------------------------------------------


def test_word_columns_fit_their_values_and_hyphens_in_ids_do_not_break(kt: Any, tmp_path: Path) -> None:
    import docx
    from docx.oxml.ns import qn

    document = docx.Document(str(example(kt, tmp_path, "docx")))

    def table_with(header: list[str]) -> Any:
        return next(t for t in document.tables if [c.text for c in t.rows[0].cells] == header)

    def widths_mm(table: Any) -> list[float]:
        return [int(col.get(qn("w:w"))) / 56.7 for col in table._tbl.tblGrid.findall(qn("w:gridCol"))]

    red = table_with(["Action", "Title", "Owner", "Due", "Status", "Progress", "RAG", "Why", "Latest note"])
    widths = widths_mm(red)
    assert abs(sum(widths) - 180) < 1
    # Due and Status are as wide as "31 Aug 2025" and "in-progress" with the cell's margins.
    assert widths[3] >= paper_columns.text_mm("31 Aug 2025", 7.5) + 2
    assert widths[4] >= paper_columns.text_mm("in-progress", 7.5) + 2
    status = red.rows[1].cells[4]
    assert status.text == "in-progress"
    assert len(status._tc.findall(".//" + qn("w:noBreakHyphen"))) == 1
    # The readiness KPIs' ids: "HP-02 near target, HP-03 not met" broke as "HP- / 03" in LibreOffice.
    readiness = table_with(
        [
            "Rec",
            "Recommendation",
            "Focus",
            "Status",
            "RAG",
            "Actions",
            "Progress",
            "Evidence",
            "Days since update",
            "KPIs",
            "Gaps",
        ]  # fmt: skip
    )
    kpis = next(r.cells[9] for r in readiness.rows if r.cells[0].text == "R2 (rec 2)")
    assert kpis.text == "HP-02 near target, HP-03 not met"
    assert len(kpis._tc.findall(".//" + qn("w:noBreakHyphen"))) == 2
    # The gaps, the longest text, are the widest column but the recommendation (held at its
    # header's width), not squeezed to 16 mm under its longest word as before.
    rw = widths_mm(readiness)
    assert rw[10] >= 20 and rw[10] == max(w for n, w in enumerate(rw) if n != 1), rw


# -- the widths themselves ------------------------------------------------------------------------


def test_column_widths_keep_short_values_and_cap_long_words() -> None:
    table = Table("t", [Col("Action"), Col("Title"), Col("Due"), Col("Status")])
    table.add("A1", "Short title", "31 Aug 2025", "in-progress")
    table.add("A2", f"Title with {LONG} in it", "1 Sep 2025", Cell("not-started"))
    widths = paper_columns.column_widths(table, 186, size_pt=8, head_pt=7.5, pad_mm=2)
    assert abs(sum(widths) - 186) < 1e-6
    assert [paper_columns.kept(table, i) for i in range(4)] == [True, False, True, True]
    assert widths[2] >= paper_columns.text_mm("31 Aug 2025", 8) + 2
    assert widths[3] >= paper_columns.text_mm("not-started", 8) + 2
    assert widths[1] > 100  # the title takes the rest...
    # ...and the 80-character word is not given its full width: it wraps in its cell.
    squeezed = Table("t", [Col("Action"), Col("Title"), Col("Owner"), Col("Due")])
    squeezed.add("A1", LONG, LONG, "31 Aug 2025")
    w = paper_columns.column_widths(squeezed, 100, size_pt=8, head_pt=7.5, pad_mm=2)
    assert abs(sum(w) - 100) < 1e-6 and w[3] >= paper_columns.text_mm("31 Aug 2025", 8) + 2
    # Arial's widths: "31 Aug 2025" at 8 pt is 5.671 em wide (with the 4% to spare).
    assert paper_columns.text_mm("31 Aug 2025", 8) == pytest.approx(5.671 * 8 * 25.4 / 72 * 1.04)


# -- hostile text in every format -----------------------------------------------------------------


@pytest.fixture
def hostile(kt: Any, tmp_path: Path) -> Any:
    db = tmp_path / "plan.json"
    shutil.copyfile(EXAMPLE, db)
    shutil.copytree(EXAMPLE.parent / "plan.json.d", tmp_path / "plan.json.d")

    def run(*args: str, **kwargs: Any) -> Any:
        return kt("--db", str(db), *args, **kwargs)

    assert run("action", "add", "R1", HOSTILE, "--due", "1/11/2025").exit_code == 0
    result = run("board", "edit", "B7", "--narrative-file", "-", "--decision", f"Agree =cmd() <b>x</b> {LONG}",
                 input=NARRATIVE)  # fmt: skip
    assert result.exit_code == 0, result.stderr
    return run


def test_hostile_text_prints_literally_and_stays_on_the_pdf_page(hostile: Any, tmp_path: Path) -> None:
    need_pdf_engine()
    target = tmp_path / "paper.pdf"
    assert hostile("report", "-o", str(target)).exit_code == 0
    text = layout_text(target)
    flat = " ".join(text.split())
    assert "Opening [bold]words[/] <script>alert(2)</script> =cmd()" in flat
    assert f"\\x1b[31mANSI\\x1b[0m item {LONG}" in flat
    assert f"Agree =cmd() <b>x</b> {LONG}" in flat
    assert "[bold]Loud[/] <script>alert(1)</script> =cmd()" in flat and "\\x1b[31mred\\x1b[0m" in flat
    # In the exceptions the 80-character word wraps inside the title's cell: the row keeps its
    # date, status and RAG on its first line, and no word on any page passes the right margin.
    assert re.search(r"^ *A38 +\[bold\]Loud\[/\] .*1 Nov 2025 +not-started +0% +Red", text, re.MULTILINE)
    boxes = subprocess.run(["pdftotext", "-bbox", str(target), "-"], capture_output=True, text=True, check=True)
    right = max(float(x) for x in re.findall(r'xMax="([\d.]+)"', boxes.stdout))
    assert right <= (210 - 12) / 25.4 * 72 + 0.5, right  # A4 less its 12 mm margin, in points
    pages = PdfReader(target).pages
    assert all(len(page.mediabox) == 4 and round(float(page.mediabox.width)) == 595 for page in pages)


def test_hostile_text_is_text_in_word_html_and_markdown(hostile: Any, tmp_path: Path) -> None:
    import docx

    target = tmp_path / "paper.docx"
    assert hostile("report", "-o", str(target)).exit_code == 0
    document = docx.Document(str(target))
    cells = {c.text for t in document.tables for r in t.rows for c in r.cells}
    assert f"{HOSTILE_SHOWN} {LONG}" in cells
    paragraphs = [p.text for p in document.paragraphs]
    assert "Opening [bold]words[/] <script>alert(2)</script> =cmd()" in paragraphs
    assert f"Agree =cmd() <b>x</b> {LONG}" in paragraphs
    page = hostile("report", "--format", "html").stdout
    assert "<script>" not in page and "<b>x</b>" not in page and "\x1b" not in page
    assert f"<td>[bold]Loud[/] &lt;script&gt;alert(1)&lt;/script&gt; =cmd() \\x1b[31mred\\x1b[0m {LONG}</td>" in page
    assert "<p>Opening [bold]words[/] &lt;script&gt;alert(2)&lt;/script&gt; =cmd()</p>" in page
    md = hostile("report", "--format", "md").stdout
    assert "Opening \\[bold\\]words\\[/\\] \\<script\\>alert(2)\\</script\\> =cmd()" in md
    assert "\x1b" not in md and f"\\\\x1b\\[31mred\\\\x1b\\[0m {LONG} |" in md


def test_the_focus_chart_shows_each_name_whole_on_up_to_two_lines(paper_html: str) -> None:
    """The progress chart cut names short ("LEAD Leadership, management oversight…")."""
    from knowsley_tracker.render.report_html import label_lines

    assert label_lines("DIS Children with disabilities") == ["DIS Children with disabilities"]
    assert label_lines("LEAD Leadership, management oversight and supervision") == [
        "LEAD Leadership, management oversight",
        "and supervision",
    ]
    assert label_lines("X " + "word " * 20) == [
        "X word word word word word word word",
        "word word word word word word word word…",
    ]
    assert label_lines(LONG)[0] == LONG[:39] + "-"
    chart = paper_html[paper_html.index('aria-label="Progress by focus area"') : paper_html.index("</svg>")]
    assert "…" not in chart
    assert (
        '<tspan x="250">HP Help and protection: risk, assessment</tspan><tspan x="250" dy="12">and planning</tspan>'
        in chart
    )


def test_kpi_cards_print_in_rows_of_three_each_row_as_tall_as_its_tallest(paper_html: str) -> None:
    """The cards were inline blocks, each as tall as its own text: a row's borders ended at
    different heights. Now each row is one unbreakable box of up to three equal cards."""
    need_pdf_engine()
    from weasyprint import HTML

    assert paper_html.count('<div class="kpi-row">') == 4 and paper_html.count('<div class="kpi-card">') == 10
    document = HTML(string=paper_html).render()
    found: dict[int, list[tuple[int, float, float]]] = {}
    for number, page in enumerate(document.pages):
        for box in page._page_box.descendants():  # WeasyPrint's layout boxes (no public API)
            element = getattr(box, "element", None)
            if element is not None and element.get("class") == "kpi-card" and box.element_tag == "div":
                found.setdefault(id(element), []).append((number, box.position_y, box.border_height()))
    cards = [boxes[0] for boxes in found.values()]
    assert len(cards) == len(found) == 10  # each card whole on one page
    by_row: dict[tuple[int, float], list[float]] = {}
    for page, top, height in cards:
        by_row.setdefault((page, round(top, 1)), []).append(height)
    assert sorted(len(heights) for heights in by_row.values()) == [1, 3, 3, 3]
    assert all(max(heights) - min(heights) < 0.5 for heights in by_row.values()), by_row


def test_column_widths_do_not_depend_on_the_hash_seed() -> None:
    """Only a column's longest texts are measured; which of those of one length are measured
    came from a set's order, so a region's Word paper changed its widths from run to run."""
    import os
    import sys

    script = (
        "from knowsley_tracker.render.paper_columns import _widest\n"
        "texts = [c * 11 for c in 'iljtfWMmwQ@'] * 3 + ['31 Aug 2025', 'x']\n"
        "print(_widest(texts, 7.5, False))"
    )
    seen = {
        subprocess.run(
            [sys.executable, "-c", script],
            env={**os.environ, "PYTHONHASHSEED": str(seed)},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for seed in range(1, 9)
    }
    assert len(seen) == 1, seen
