"""Board papers: Word and PDF read back as a chair's software would, the paper's structure in
every format, the format chosen from -o, the narrative and decisions, KPI tolerance and
comparators, truthful charts, RAG columns that add up, and the logo."""

from __future__ import annotations

import io
import json
import re
import struct
import subprocess
import sys
import zlib
from pathlib import Path
from typing import Any

import pytest
from helpers.needs import need_libreoffice, need_pdf_engine
from pypdf import PdfReader
from test_cli_report import STEPS

from knowsley_tracker.errors import ConflictError, ExtraMissingError, PersonalDataError, ValidationError

NARRATIVE = """The service has **held its improvement** since the *first* visit.

- Caseloads are down to 20 per adviser
- Audit moderation has started <script>alert(1)</script>

1. Recruit two team managers
"""


@pytest.fixture
def paper(kt: Any) -> Any:
    """The three-month plan of test_cli_report, with settings, a narrative and decisions for B2."""
    for day, args in STEPS:
        result = kt(*args, env={"KNOWSLEY_TRACKER_NOW": f"{day}T09:00:00+00:00"})
        assert result.exit_code == 0, (day, args, result.stderr)
    for name, value in [("board.name", "Test Children's Services Improvement Board"),
                        ("paper.author", "Director of Children's Services"),
                        ("paper.marking", "OFFICIAL-SENSITIVE")]:  # fmt: skip
        assert kt("config", "set", name, value).exit_code == 0
    result = kt("board", "edit", "B2", "--narrative-file", "-", "--decision", "Agree the revised date for A2",
                "--decision", "Note the KPI tolerances", input=NARRATIVE)  # fmt: skip
    assert (result.exit_code, result.stdout) == (
        0,
        "Updated board meeting B2 on 14 Jan 2026: narrative, decisions and asks.\n",
    )
    return kt


def png(width: int = 2, height: int = 1) -> bytes:
    """A real PNG image (grey pixels), built by hand."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + b"\x80\x80\x80" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def style(paragraph: Any) -> str:
    return str(paragraph.style.name) if paragraph.style is not None else ""


def pdf_pages(path: Path) -> list[str]:
    return [page.extract_text() for page in PdfReader(path).pages]


# -- Word ------------------------------------------------------------------------------------


def test_docx_has_word_headings_headline_marking_and_page_numbers(paper: Any, tmp_path: Path) -> None:
    import docx

    target = tmp_path / "paper.docx"
    result = paper("report", "-o", str(target))
    assert (result.exit_code, result.stdout) == (0, f"Wrote the docx board paper to {target}.\n")
    document = docx.Document(str(target))
    headings = [(style(p), p.text) for p in document.paragraphs if style(p).startswith(("Heading", "Title"))]
    assert headings[:6] == [
        ("Title", "Board status report"),
        ("Heading 1", "Summary"),
        ("Heading 1", "Director's narrative"),
        ("Heading 1", "Decisions and asks of the board"),
        ("Heading 1", "Position at a glance"),
        ("Heading 1", "1. Focus areas"),
    ]
    assert ("Heading 1", "5. KPI scorecard") in headings and headings[-1] == ("Heading 1", "Next meetings")
    texts = [p.text for p in document.paragraphs]
    assert "Test Children's Services Improvement Board" in texts
    assert "Meeting 2, 14 Jan 2026" in texts
    assert "1 of 5 actions is red (1 overdue) and 1 is complete with evidence; 3 amber." in texts
    # The narrative's Markdown is Word formatting: a bold run, a bullet, a numbered item; the HTML is text.
    para = next(p for p in document.paragraphs if p.text.startswith("The service has"))
    assert [(r.text, bool(r.bold), bool(r.italic)) for r in para.runs] == [
        ("The service has ", False, False),
        ("held its improvement", True, False),
        (" since the ", False, False),
        ("first", False, True),
        (" visit.", False, False),
    ]
    bullets = [p.text for p in document.paragraphs if style(p) == "List Bullet"]
    assert "Audit moderation has started <script>alert(1)</script>" in bullets
    numbered = [p.text for p in document.paragraphs if style(p) == "List Number"]
    assert numbered == ["Recruit two team managers", "Agree the revised date for A2", "Note the KPI tolerances"]
    # Each list numbers from 1: its own numbering instance (w:num) of the List Number style's
    # list, restarted with a startOverride, so the decisions do not run on from the narrative.
    ns = {"w": "http://schemas.openxmlformats.org/wordprocessingml/2006/main"}
    num_ids = [p._p.find("w:pPr/w:numPr/w:numId", ns) for p in document.paragraphs if style(p) == "List Number"]
    assert all(n is not None for n in num_ids)
    lists = [n.get(f"{{{ns['w']}}}val") for n in num_ids if n is not None]
    assert lists[1] == lists[2] != lists[0]
    numbering = document.part.numbering_part.element
    style_num = document.styles["List Number"].element.pPr.numPr.numId.val
    w_val = f"{{{ns['w']}}}val"

    def num(num_id: str) -> Any:
        return numbering.find(f"w:num[@w:numId='{num_id}']", ns)

    for num_id in (lists[0], lists[1]):
        found = num(num_id)
        assert found.find("w:abstractNumId", ns).get(w_val) == num(str(style_num)).find("w:abstractNumId", ns).get(
            w_val
        )
        assert found.find("w:lvlOverride[@w:ilvl='0']/w:startOverride", ns).get(w_val) == "1"
    # The marking in every page's header and footer; "Page N of M" as Word fields.
    section = document.sections[0]
    assert section.header.paragraphs[0].text == "OFFICIAL-SENSITIVE"
    assert section.footer.paragraphs[0].text == "OFFICIAL-SENSITIVE"
    footer_xml = section.footer._element.xml
    assert re.search(r'<w:fldSimple w:instr="PAGE"', footer_xml) and 'w:instr="NUMPAGES"' in footer_xml
    assert "Page " in section.footer.paragraphs[1].text and " of " in section.footer.paragraphs[1].text
    width, height = section.page_width, section.page_height
    assert width is not None and height is not None
    assert (round(width.mm), round(height.mm)) == (210, 297)
    # Tables: a header row that repeats on every page, rows that never split; RAG as words.
    focus = document.tables[0]
    header = [c.text for c in focus.rows[0].cells]
    assert header == ["Key", "Focus area", "Recs", "Actions", "Overdue", "Red", "Amber", "Green", "Complete",
                      "Blue", "Progress"]  # fmt: skip
    assert 'w:tblHeader w:val="true"' in focus.rows[0]._tr.xml
    assert all('w:cantSplit w:val="true"' in row._tr.xml for row in focus.rows)
    exceptions = next(t for t in document.tables if t.rows[0].cells[0].text == "Action")
    assert "Red" in [c.text for c in exceptions.rows[1].cells]


def test_docx_embeds_the_logo_and_carries_hostile_text_as_text(paper: Any, tmp_path: Path) -> None:
    import docx

    logo = tmp_path / "logo.png"
    logo.write_bytes(png(4, 2))
    assert paper("config", "set", "paper.logo", str(logo)).exit_code == 0
    title = "[bold]x[/] <w:t>y</w:t> \x1b[31m & \x07"
    assert paper("action", "add", "R1", title, "--due", "1/12/2025").exit_code == 0
    target = tmp_path / "paper.docx"
    assert paper("report", "-o", str(target)).exit_code == 0
    document = docx.Document(str(target))
    images = {rid: r.target_part.blob for rid, r in document.part.rels.items() if "image" in r.reltype}
    pictures = document.element.body.xpath(".//wp:inline")  # the logo, then each KPI's last values
    assert len(pictures) > 1
    assert images[pictures[0].xpath(".//a:blip/@r:embed")[0]] == logo.read_bytes()
    assert pictures[0].xpath("./wp:docPr/@descr") == ["Logo"]
    ids = [int(i) for i in document.element.body.xpath(".//wp:docPr/@id")]
    assert len(ids) == len(pictures) == len(set(ids))  # Word wants each picture's id its own
    cells = [c.text for t in document.tables for row in t.rows for c in row.cells]
    assert "[bold]x[/] <w:t>y</w:t> \\x1b[31m & \\x07" in cells


def test_docx_draws_each_kpis_last_values_in_time_broken_at_suppressed_values(kt: Any, tmp_path: Path) -> None:
    """The scorecard's "Last values" in Word: a picture of the same chart as the PDF's, 20 mm
    wide, its values in words as the alternative text. The line runs only between shown
    values: nothing crosses March to July, where April to June are suppressed; March, alone,
    is a short dash; the latest value has a dot; and a KPI with no shown value keeps "-"."""
    import docx
    from PIL import Image

    from knowsley_tracker.render import spark_png

    assert kt("init", "--authority", "Test Council").exit_code == 0
    assert kt("kpi", "add", "VULN-01", "Young carers waiting", "--target", "0", "--unit", "count").exit_code == 0
    for period, value in [("2025-03", "7"), ("2025-04", "2"), ("2025-05", "3"), ("2025-06", "1"),
                          ("2025-07", "0"), ("2025-10", "9")]:  # fmt: skip
        assert kt("kpi", "record", "VULN-01", value, "--period", period).exit_code == 0
    assert kt("kpi", "add", "VULN-02", "Young carers reviewed", "--target", "0", "--unit", "count").exit_code == 0
    assert kt("kpi", "record", "VULN-02", "2", "--period", "2025-10").exit_code == 0  # suppressed: nothing to draw
    target = tmp_path / "paper.docx"
    assert kt("report", "-o", str(target)).exit_code == 0
    document = docx.Document(str(target))
    scorecard = next(t for t in document.tables if t.rows[0].cells[-1].text == "Last values")
    cells = [row.cells[-1] for row in scorecard.rows[1:]]
    assert [c.text for c in cells] == ["", "-"]
    drawings = cells[0]._tc.xpath(".//wp:inline")
    assert len(drawings) == 1 and not cells[1]._tc.xpath(".//wp:inline")
    inline = drawings[0]
    assert inline.xpath("./wp:extent/@cx") == [str(20 * 36000)]  # 20 mm
    assert [inline.get(side) for side in ("distT", "distB", "distL", "distR")] == ["0", "0", "0", "0"]
    assert inline.xpath("./wp:docPr/@descr") == ["Last values of VULN-01: 7, c, c, c, 0, 9 (Mar 2025 to Oct 2025)."]
    rid = inline.xpath(".//a:blip/@r:embed")[0]
    image = Image.open(io.BytesIO(document.part.related_parts[rid].blob))
    scale = spark_png.SAVED
    assert (image.format, image.mode, image.size) == ("PNG", "RGBA", (96 * scale, 22 * scale))
    alpha = image.getchannel("A").load()
    assert alpha is not None

    def opacity(x: int, y: int) -> int:
        value = alpha[x, y]
        assert isinstance(value, int)
        return value

    def ink(x_pt: float, y_pt: float, reach: int = 1) -> int:
        """The most opaque pixel within ``reach`` pixels of a point given in the chart's points."""
        x, y = round(x_pt * scale), round(y_pt * scale)
        return max(opacity(i, j) for i in range(x - reach, x + reach + 1) for j in range(y - reach, y + reach + 1))

    def at(month_end: int, value: float) -> tuple[float, float]:
        """Where a value sits: days since 31 March over the 214 days to 31 October; 0 to 9 over the height."""
        return 2 + month_end / 214 * 92, 22 - 3 - value / 9 * 16

    march, july, october = at(0, 7), at(122, 0), at(214, 9)
    assert ink(*march) > 200 and ink(*july) > 200 and ink(*october) > 200
    assert ink(october[0] + 1.6, october[1], reach=0) > 150  # the dot: the line ends at its centre
    assert ink(march[0] + 1.2, march[1], reach=0) > 150  # March alone: a short dash
    assert ink(march[0] + 2.5, march[1], reach=1) < 10  # ... and only that
    middle = ((march[0] + july[0]) / 2, (march[1] + july[1]) / 2)
    assert ink(*middle, reach=3) < 10  # nothing drawn across the suppressed months
    may = 2 + 61 / 214 * 92  # a grey "c" at May's place in time, at the foot
    assert ink(may, 17.5, reach=7) > 150


# -- PDF --------------------------------------------------------------------------------------


def test_pdf_has_the_headline_page_numbers_and_the_marking_on_every_page(paper: Any, tmp_path: Path) -> None:
    need_pdf_engine()
    target = tmp_path / "paper.pdf"
    result = paper("report", "-o", str(target))
    assert (result.exit_code, result.stdout) == (0, f"Wrote the pdf board paper to {target}.\n")
    assert target.read_bytes().startswith(b"%PDF-")
    reader = PdfReader(target)
    pages = [page.extract_text() for page in reader.pages]
    box = reader.pages[0].mediabox
    assert (round(float(box.width) / 72 * 25.4), round(float(box.height) / 72 * 25.4)) == (210, 297)
    assert len(pages) >= 2
    first = " ".join(pages[0].split())
    assert "1 of 5 actions is red (1 overdue) and 1 is complete with evidence; 3 amber." in first
    assert "Meeting 2, 14 Jan 2026" in first and "Director of Children's Services" in first
    for n, text in enumerate(pages, start=1):
        assert f"Page {n} of {len(pages)}" in text, n
        assert text.count("OFFICIAL-SENSITIVE") >= 2, n  # top and bottom of the page
    whole = " ".join(" ".join(pages).split())
    assert "held its improvement" in whole and "<script>alert(1)</script>" in whole
    assert "Agree the revised date for A2" in whole and "Next board meeting" in whole


def test_pdf_repeats_the_kpi_table_header_after_a_page_break(kt: Any, tmp_path: Path) -> None:
    need_pdf_engine()
    assert kt("init", "--authority", "Large Council").exit_code == 0
    for n in range(1, 61):
        key = f"K-{n:03d}"
        assert kt("kpi", "add", key, f"Measure number {n} of the improvement plan", "--target", "80",
                  "--unit", "%").exit_code == 0  # fmt: skip
        assert kt("kpi", "record", key, str(40 + n % 50), "--period", "2025-10").exit_code == 0
    target = tmp_path / "large.pdf"
    assert kt("report", "-o", str(target)).exit_code == 0
    pages = pdf_pages(target)
    header = re.compile(r"KPI\s+Name\s+Latest\s+Period\s+Target\s+Met\s+Trend\s+Last values")
    with_rows = [n for n, text in enumerate(pages) if re.search(r"K-0\d\d\s+Measure number", text)]
    assert len(with_rows) >= 2, "the scorecard should run over a page break"
    for n in with_rows:
        assert header.search(pages[n]), f"page {n + 1} has KPI rows without the table header"
    # No row is split: each KPI's row (key and name) is on one page.
    for k in range(1, 61):
        holding = [n for n in with_rows if re.search(rf"K-{k:03d}\s+Measure number {k} of", pages[n])]
        assert len(holding) == 1, k


def test_pdf_without_the_extra_says_how_to_install_it(paper: Any, tmp_path: Path, db: Path) -> None:
    code = (
        "import sys\n"
        "sys.modules['weasyprint'] = None  # as if the pdf extra were not installed\n"
        "from knowsley_tracker.cli import app\n"
        f"sys.exit(app(['--db', {str(db)!r}, 'report', '-o', {str(tmp_path / 'p.pdf')!r}], standalone_mode=False))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert (done.returncode, done.stdout) == (ExtraMissingError.exit_code, "")
    assert done.stderr == (
        "Error: PDF papers need the optional pdf extra (WeasyPrint): pip install 'knowsley-tracker[pdf]', "
        "or write --format docx or html.\n"
    )
    assert not (tmp_path / "p.pdf").exists()


# -- choosing the format ------------------------------------------------------------------------------


def test_the_file_suffix_chooses_the_format(paper: Any, tmp_path: Path) -> None:
    need_pdf_engine()
    made = {}
    for name in ["p.docx", "p.pdf", "p.html", "p.md", "p.json", "p.txt", "P.PDF"]:
        target = tmp_path / name
        assert paper("report", "-o", str(target)).exit_code == 0, name
        made[name] = target.read_bytes()
    assert made["p.pdf"].startswith(b"%PDF-") and made["P.PDF"].startswith(b"%PDF-")  # no longer plain text
    assert made["p.docx"].startswith(b"PK") and b"word/document.xml" in made["p.docx"]
    assert made["p.html"].startswith(b"<!DOCTYPE html>")
    assert made["p.md"].startswith(b"**OFFICIAL-SENSITIVE**\n\n# Board status report")
    assert json.loads(made["p.json"])["paper"]["marking"] == "OFFICIAL-SENSITIVE"
    assert made["p.txt"].startswith(b"OFFICIAL-SENSITIVE\nTest Children's Services Improvement Board\n")


def test_a_name_that_would_lie_is_refused(paper: Any, db: Path, tmp_path: Path) -> None:
    before = db.read_bytes()
    cases = [
        (["-o", str(tmp_path / "p.rtf")], "p.rtf ends in .rtf, which names no format kt writes: use .docx, .pdf, "
         ".html, .md, .json or .txt."),
        (["-o", str(tmp_path / "p.pdf"), "--format", "docx"], "p.pdf names a pdf file, but docx was asked for: end "
         "the name in .docx or leave out --format."),
        (["-o", str(tmp_path / "p.docx"), "--json"], "p.docx names a docx file, but json was asked for: end the "
         "name in .json or leave out --format."),
        (["-o", str(tmp_path / "paper")], "paper has no suffix to say what it holds: add one (.docx, .pdf, .html, "
         ".md, .json or .txt), or give -o - for standard output."),
        (["-o", str(tmp_path / "paperfile"), "--format", "pdf"], "paperfile has no suffix to say what it holds: "
         "name it paperfile.pdf, or give -o - for standard output."),
    ]  # fmt: skip
    for args, message in cases:
        result = paper("report", *args)
        assert (result.exit_code, result.stderr, result.stdout) == (4, f"Error: {message}\n", ""), args
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plan.json", "plan.json.d"]
    assert db.read_bytes() == before


def test_dash_is_standard_output(paper: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = paper("report", "--format", "docx", "-o", "-")
    assert (result.exit_code, result.stderr) == (0, "")
    assert result.stdout_bytes.startswith(b"PK") and b"word/document.xml" in result.stdout_bytes
    md = paper("report", "--format", "md", "-o", "-")
    assert (md.exit_code, md.stdout) == (0, paper("report", "--format", "md").stdout)
    refused = paper("report", "--format", "pdf", "-o", "-", env={"TTY_COMPATIBLE": "1"})
    assert (refused.exit_code, refused.stdout) == (ValidationError.exit_code, "")
    assert refused.stderr.startswith("Error: A pdf paper is a binary file, not for the terminal")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plan.json", "plan.json.d"]  # no file named -


@pytest.mark.parametrize("fmt", ["pdf", "docx"])
def test_binary_formats_are_refused_on_a_terminal(paper: Any, fmt: str) -> None:
    result = paper("report", "--format", fmt, env={"TTY_COMPATIBLE": "1"})
    assert (result.exit_code, result.stdout) == (ValidationError.exit_code, "")
    assert result.stderr == (
        f"Error: A {fmt} paper is a binary file, not for the terminal: write it with -o, e.g. kt report -o paper.{fmt}.\n"
    )


# -- the paper's structure in every format ----------------------------------------------------------------


def test_markdown_and_html_carry_the_paper(paper: Any) -> None:
    md = paper("report", "--format", "md").stdout
    order = ["**OFFICIAL-SENSITIVE**", "# Board status report", "**Test Children's Services Improvement Board**, "
             "Meeting 2, 14 Jan 2026", "- **Author:** Director of Children's Services", "## Summary",
             "## Director's narrative", "The service has **held its improvement** since the *first* visit.",
             "- Audit moderation has started \\<script\\>alert(1)\\</script\\>", "1. Recruit two team managers",
             "## Decisions and asks of the board", "1. Agree the revised date for A2", "2. Note the KPI tolerances",
             "## Position at a glance", "## 1. Focus areas", "## 5. KPI scorecard", "## Next meetings",
             "- **Next board meeting:** none recorded after this one (kt board add DATE)",
             "- **Next monitoring visit:** 10 Feb 2026, in 72 days\n"]  # fmt: skip
    at = [md.index(part) for part in order]
    assert at == sorted(at)
    assert md.rstrip().endswith("**OFFICIAL-SENSITIVE**")
    page = paper("report", "--format", "html").stdout
    order = ['<p class="marking-banner">OFFICIAL-SENSITIVE</p>', '<p class="board-name">Test Children&#x27;s '
             "Services Improvement Board</p>", "<h1>Board status report</h1>", '<p class="meeting">Meeting 2, 14 Jan '
             "2026</p>", "<h2>Summary</h2>", "<h2>Director's narrative</h2>",
             "<p>The service has <strong>held its improvement</strong> since the <em>first</em> visit.</p>",
             "<li>Audit moderation has started &lt;script&gt;alert(1)&lt;/script&gt;</li>",
             "<ol><li>Recruit two team managers</li></ol>", "<h2>Decisions and asks of the board</h2>",
             "<ol><li>Agree the revised date for A2</li><li>Note the KPI tolerances</li></ol>",
             "<h2>Position at a glance</h2>", "<h2>1. Focus areas</h2>", "<h2>Next meetings</h2>"]  # fmt: skip
    at = [page.index(part) for part in order]
    assert at == sorted(at)
    assert "<script>" not in page
    # Every page of the print: the marking top and bottom, "Page N of M".
    assert "@top-center { content: " in page and 'counter(page) " of " counter(pages)' in page


def test_the_paper_goes_to_the_meeting_asked_for(paper: Any) -> None:
    data = json.loads(paper("report", "--json", "--board", "B1").stdout)["paper"]
    assert data["meeting"] == {"ref": "B1", "number": 1, "date": "2025-10-15"}
    assert data["next_meeting"] == {"ref": "B2", "number": 2, "date": "2026-01-14"}
    assert (data["narrative"], data["decisions"]) == ("", [])
    assert paper("board", "edit", "B1", "--number", "4").exit_code == 0
    data = json.loads(paper("report", "--json").stdout)["paper"]
    assert (data["meeting"]["number"], data["decisions"]) == (5, ["Agree the revised date for A2",
                                                                  "Note the KPI tolerances"])  # fmt: skip
    assert data["narrative"] == NARRATIVE.strip()
    result = paper("report", "--board", "B9")
    assert (result.exit_code, result.stderr) == (3, "Error: No board meeting 'B9'. Known: B1, B2.\n")


def test_board_edit_guards_the_narrative_and_replaces_the_decisions(paper: Any, db: Path, tmp_path: Path) -> None:
    before = db.read_bytes()
    leaky = tmp_path / "leak.md"
    leaky.write_text("We reviewed case ref 123456 in detail.", encoding="utf-8")
    result = paper("board", "edit", "B2", "--narrative-file", str(leaky))
    assert result.exit_code == PersonalDataError.exit_code
    assert result.stderr.startswith("Error: The narrative looks like it contains a case or record reference.")
    result = paper("board", "edit", "B2", "--decision", "Agree the plan for DOB 01/02/2015")
    assert result.exit_code == PersonalDataError.exit_code
    bad = tmp_path / "bad.md"
    bad.write_bytes(b"\xff\xfe not utf-8 \x80")
    result = paper("board", "edit", "B2", "--narrative-file", str(bad))
    assert (result.exit_code, result.stderr) == (4, f"Error: {bad} is not UTF-8 text: save it as UTF-8 (Markdown or "
                                                    "plain text).\n")  # fmt: skip
    assert db.read_bytes() == before
    assert paper("board", "edit", "B2", "--decision", "Only this one").exit_code == 0
    assert json.loads(paper("report", "--json").stdout)["paper"]["decisions"] == ["Only this one"]
    assert paper("board", "edit", "B2", "--no-decisions", "--no-narrative").exit_code == 0
    shown = paper("board", "show", "B2").stdout
    assert "Narrative" not in shown and "Decisions" not in shown


def test_headline_counts_and_never_shows_a_suppressed_kpi(paper: Any) -> None:
    assert paper("kpi", "record", "CL-04", "3", "--period", "2025-10").exit_code == 0  # 3 young people: small
    assert paper("kpi", "edit", "CL-04", "--unit", "count").exit_code == 0
    headline = json.loads(paper("report", "--json").stdout)["paper"]["headline"]
    assert headline == [
        "1 of 5 actions is red (1 overdue) and 1 is complete with evidence; 3 amber.",
        "1 recommendation has no evidence yet (recommendation 3).",
        "The next monitoring visit is in 72 days (10 Feb 2026).",
        "The action plan to Ofsted was due 214 days ago (30 Apr 2025) and is not recorded as sent.",
        "KPIs: 0 of 2 on target, 1 off target; 1 cannot be shown (small numbers).",
        "Since the board on 15 Oct 2025, 3 actions got worse, 1 due date slipped and 1 action was added.",
    ]


# -- RAG columns ----------------------------------------------------------------------------------------


def test_focus_rag_columns_add_up_to_actions_in_every_format(paper: Any, tmp_path: Path) -> None:
    import docx

    assert paper("done", "A1", "Audit finished").exit_code == 0  # complete, no evidence: "Complete"
    data = json.loads(paper("report", "--json").stdout)
    for area in [*data["focus_areas"], data["totals"]]:
        counts = area["rag_counts"]
        assert sum(counts[r] for r in ("red", "amber", "green", "complete", "blue")) == area["actions"]
    md = paper("report", "--format", "md").stdout
    rows = [line for line in md.splitlines() if line.startswith(("| DIS ", "| CL ", "|  | **All"))]
    assert rows[0].startswith("| DIS | Children with disabilities | 1 | 3 | 0 | 0 | 2 | 0 | 1 | 0 |")
    for row in rows:
        cells = [c.strip("* ") for c in row.strip("|").split("|")]
        actions, rags = int(cells[3]), [int(c) for c in cells[5:10]]
        assert sum(rags) == actions, row
    text = paper("report").stdout
    assert "Key  Focus area                     Recs  Actions  Overdue  Red  Amber  Green  Complete  Blue" in text
    page = paper("report", "--format", "html").stdout
    assert '<td class="num rag rag-complete">1</td>' in page
    target = tmp_path / "p.docx"
    assert paper("report", "-o", str(target)).exit_code == 0
    table = docx.Document(str(target)).tables[0]
    for row in table.rows[1:]:
        cells = [c.text for c in row.cells]
        assert sum(int(c) for c in cells[5:10]) == int(cells[3])


# -- KPIs: tolerance, comparators, edit and remove ----------------------------------------------------------


def test_tolerance_makes_near_misses_amber(kt: Any) -> None:
    assert kt("init", "--authority", "Test Council").exit_code == 0
    for key, target, value, extra in [("T-90", "92", "90", []), ("T-32", "75", "32", []),
                                      ("T-LOW", "20", "23", ["--lower-is-better"]),
                                      ("T-LOW2", "20", "26", ["--lower-is-better"])]:  # fmt: skip
        assert kt("kpi", "add", key, "A measure", "--target", target, "--unit", "%", *extra).exit_code == 0
        assert kt("kpi", "record", key, value, "--period", "2025-10").exit_code == 0
        result = kt("kpi", "edit", key, "--tolerance", "5")
        assert result.exit_code == 0, result.stderr
    data = {k["key"]: k for k in json.loads(kt("report", "--json").stdout)["kpis"]}
    assert [(k, data[k]["rag"], data[k]["met"]) for k in ("T-90", "T-32", "T-LOW", "T-LOW2")] == [
        ("T-90", "amber", False),
        ("T-32", "red", False),
        ("T-LOW", "amber", False),
        ("T-LOW2", "red", False),
    ]
    md = kt("report", "--format", "md").stdout
    assert "| T-90 | A measure | 90% | Oct 2025 | 92% (amber from 87%) | near |" in md
    assert "| T-LOW | A measure | 23% | Oct 2025 | 20% (amber up to 25%) | near |" in md
    assert "T-90\tA measure\t90%\tOct 2025\t92%\tnear" in kt("kpi", "list").stdout
    # The history rows judge each value as the header does: near, not a flat no.
    assert kt("kpi", "record", "T-90", "80", "--period", "2025-09").exit_code == 0
    assert kt("kpi", "record", "T-90", "93", "--period", "2025-08").exit_code == 0
    shown = kt("kpi", "show", "T-90").stdout
    assert "Target met:  near\n" in shown
    rows = [line.split("\t")[:5] for line in shown.split("# History\n")[1].splitlines()[1:]]
    assert rows == [["Aug 2025", "93%", "", "", "yes"], ["Sep 2025", "80%", "", "", "no"],
                    ["Oct 2025", "90%", "", "", "near"]]  # fmt: skip
    result = kt("kpi", "edit", "T-90", "--tolerance", "-1")
    assert (result.exit_code, result.stderr) == (4, "Error: The tolerance must be 0 or more, not '-1'.\n")
    assert kt("kpi", "edit", "T-90", "--tolerance", "none").exit_code == 0
    assert json.loads(kt("kpi", "show", "T-90", "--json").stdout)["rag"] == "red"


def test_comparators_are_recorded_shown_and_drawn(kt: Any) -> None:
    assert kt("init", "--authority", "Test Council").exit_code == 0
    assert kt("kpi", "add", "HP-01", "Assessments in time", "--target", "85", "--unit", "%").exit_code == 0
    assert kt("kpi", "record", "HP-01", "81", "--period", "2025-10").exit_code == 0
    result = kt("kpi", "edit", "HP-01", "--england", "82", "--neighbours", "80.5", "--comparator-period", "2024-25")
    assert (result.exit_code, result.stdout) == (0, "Updated KPI HP-01: comparators (target 85%).\n")
    assert kt("kpi", "edit", "HP-01", "--regional", "79", "--comparator-period", "Mar 2025").exit_code == 0
    kpi = json.loads(kt("report", "--json").stdout)["kpis"][0]
    assert kpi["comparators"] == [
        {"kind": "england", "label": "England", "period": "2024-25", "value": {"text": "82%", "value": 82.0}},
        {"kind": "neighbours", "label": "Statistical neighbours", "period": "2024-25",
         "value": {"text": "80.5%", "value": 80.5}},
        {"kind": "regional", "label": "Region", "period": "2025-03", "value": {"text": "79%", "value": 79.0}},
    ]  # fmt: skip
    md = kt("report", "--format", "md").stdout
    assert ("| HP-01 | Assessments in time | 81% | Oct 2025 | England 82% (2024-25); Statistical neighbours 80.5% "
            "(2024-25); Region 79% (Mar 2025) | 85% | no |") in md  # fmt: skip
    page = kt("report", "--format", "html").stdout
    for label in ["Target 85%", "England 82% (2024-25)", "Statistical neighbours 80.5% (2024-25)",
                  "Region 79% (Mar 2025)"]:  # fmt: skip
        assert f"<title>{label}</title></line>" in page, label
    assert kt("kpi", "edit", "HP-01", "--england", "none").exit_code == 0
    kinds = [c["kind"] for c in json.loads(kt("report", "--json").stdout)["kpis"][0]["comparators"]]
    assert kinds == ["neighbours", "regional"]
    for args, message in [
        (["--england", "82"], "Give --comparator-period with the comparators: the period they describe, e.g. 2024-25."),
        (["--england", "82", "--comparator-period", "someday"], "Cannot read 'someday' as the period a comparator "
         "describes: use a year (2024), a financial year (2024-25), a month (Mar 2025) or a quarter (2025-Q1)."),
        (["--england", "120", "--comparator-period", "2024"], "HP-01 is a percentage: the England figure must be "
         "from 0 to 100, not 120."),
        ([], "Nothing to change: give what to change about HP-01 (see kt kpi edit --help)."),
    ]:  # fmt: skip
        result = kt("kpi", "edit", "HP-01", *args)
        assert (result.exit_code, result.stderr) == (4, f"Error: {message}\n"), args


def test_kpi_remove_refuses_while_values_or_links_refer_to_it(plan: Any) -> None:
    assert plan("kpi", "add", "X-1", "A measure", "--target", "5", "--rec", "R1").exit_code == 0
    assert plan("kpi", "record", "X-1", "7", "--period", "2025-10").exit_code == 0
    result = plan("kpi", "remove", "X-1")
    assert (result.exit_code, result.stderr) == (
        ConflictError.exit_code,
        "Error: KPI X-1 still has 1 recorded value and readiness links to R1: give --clear to remove them with it "
        "(kt undo puts them back), or keep the KPI.\n",
    )
    result = plan("kpi", "remove", "X-1", "--clear")
    assert (result.exit_code, result.stdout) == (0, "Removed KPI X-1 and its 1 recorded value: A measure. kt undo "
                                                    "puts it back.\n")  # fmt: skip
    assert plan("kpi", "show", "X-1").exit_code == 3
    assert plan("undo").exit_code == 0
    assert json.loads(plan("kpi", "show", "X-1", "--json").stdout)["latest"]["value"]["text"] == "7"


# -- charts ----------------------------------------------------------------------------------------------


def test_kpi_chart_uses_time_breaks_at_suppressed_values_and_has_round_ticks(session: Any) -> None:
    from knowsley_tracker.render.charts import kpi_chart, value_axis
    from knowsley_tracker.service import kpis

    with session.transaction("kpi add"):
        kpis.add_kpi(session, "VULN-01", "Young carers waiting", target="0", unit="count")
        for period, value in [("2025-03", "7"), ("2025-04", "2"), ("2025-05", "3"), ("2025-06", "1"),
                              ("2025-07", "0"), ("2025-10", "9")]:  # fmt: skip
            kpis.record_value(session, "VULN-01", value, period=period)
    chart = kpi_chart(kpis.show_kpi(session, "VULN-01"))
    # Time: the gap from July to October is three months wide, not one step.
    xs = [round(m.x, 3) for m in chart.marks]
    assert xs[0] == 0.0 and xs[-1] == 1.0
    assert 2.9 <= (xs[5] - xs[4]) / (xs[1] - xs[0]) <= 3.1  # 92 days against 30
    # The small numbers (2, 3, 1) break the line: March alone, then July to October.
    assert [[m.point.record.period for m in run] for run in chart.runs] == [["2025-03"], ["2025-07", "2025-10"]]
    assert [m.value for m in chart.marks] == [7.0, None, None, None, 0.0, 9.0]
    # A count: whole-number ticks from 0.
    assert chart.axis.ticks == [0.0, 5.0, 10.0] and chart.axis.note == ""
    assert value_axis([1.0, 3.0], percent=False, count=True).ticks == [0.0, 1.0, 2.0, 3.0, 4.0]
    # Percentages: 0 to 100, zoomed only with the reason stated.
    assert value_axis([21.0, 18.0, 35.0], percent=True, count=False).ticks == [0.0, 25.0, 50.0, 75.0, 100.0]
    zoomed = value_axis([81.0, 85.0, 88.0], percent=True, count=False)
    assert (zoomed.low, zoomed.ticks[0], zoomed.note) == (70.0, 70.0, "Axis starts at 70%: every figure is above it.")
    page_chart = __import__("knowsley_tracker.render.report_html", fromlist=["kpi_chart"]).kpi_chart
    svg = page_chart(kpis.show_kpi(session, "VULN-01"))
    assert svg.count("<polyline") == 1  # only July to October is joined
    spark = __import__("knowsley_tracker.render.report_html", fromlist=["spark_svg"]).spark_svg
    cell = spark(kpis.show_kpi(session, "VULN-01"), "unused")
    assert cell.count("<polyline") == 1 and cell.count("<line ") == 1  # March alone: a short dash
    assert 'aria-label="Last values of VULN-01: 7, c, c, c, 0, 9 (Mar 2025 to Oct 2025)."' in cell
    assert ">c<title>Apr 2025: suppressed (a small number)</title>" in svg
    assert "-1" not in re.sub(r'(points|x|y|x1|x2|y1|y2|cx|cy)="[^"]*"', "", svg)


# -- the logo ------------------------------------------------------------------------------------------


def test_the_logo_must_be_a_real_image_and_is_embedded(paper: Any, db: Path, tmp_path: Path) -> None:
    before = db.read_bytes()
    for name, data in [("fake.png", b"<svg onload='x'/>"), ("cut.png", png()[:-8]),
                       ("logo.svg", b'<svg xmlns="http://www.w3.org/2000/svg"/>')]:  # fmt: skip
        path = tmp_path / name
        path.write_bytes(data)
        result = paper("config", "set", "paper.logo", str(path))
        assert (result.exit_code, result.stderr) == (
            4,
            f"Error: The logo {path} is not a PNG or JPEG image: a logo must be one of those.\n",
        ), name
    result = paper("config", "set", "paper.logo", str(tmp_path / "missing.png"))
    assert result.stderr == f"Error: The logo {tmp_path / 'missing.png'} is not a file: give a PNG or JPEG image.\n"
    assert db.read_bytes() == before
    logo = tmp_path / "logo.png"
    logo.write_bytes(png())
    assert paper("config", "set", "paper.logo", str(logo)).stdout == f"paper.logo is now {logo}.\n"
    page = paper("report", "--format", "html").stdout
    assert '<img class="logo" alt="Logo" src="data:image/png;base64,' in page
    # Replaced by something else afterwards: the paper is refused rather than printed without checking.
    logo.write_text("not an image")
    result = paper("report", "--format", "html")
    assert (result.exit_code, result.stdout, result.stderr) == (
        4,
        "",
        f"Error: The logo {logo} is not a PNG or JPEG image: a logo must be one of those. Replace the file, "
        "or go without a logo: kt config unset paper.logo.\n",
    )


def test_a_deleted_logo_stops_only_the_formats_that_show_it(paper: Any, tmp_path: Path) -> None:
    logo = tmp_path / "logo.png"
    logo.write_bytes(png())
    assert paper("config", "set", "paper.logo", str(logo)).exit_code == 0
    logo.unlink()
    # Text and Markdown never show the logo: they are written as before.
    for args in [("report",), ("report", "--format", "md"), ("report", "-o", str(tmp_path / "p.txt"))]:
        result = paper(*args)
        assert (result.exit_code, result.stderr) == (0, ""), args
    assert "Decisions and asks of the board" in paper("report", "--format", "md").stdout
    missing = (
        f"Error: The logo {logo} (the paper.logo setting) is missing: put the file back, set another "
        "(kt config set paper.logo FILE) or go without (kt config unset paper.logo).\n"
    )
    for name in ("p.html", "p.docx", "p.json", "p.pdf"):
        result = paper("report", "-o", str(tmp_path / name))
        assert (result.exit_code, result.stdout, result.stderr) == (4, "", missing), name
        assert not (tmp_path / name).exists()
    assert paper("config", "unset", "paper.logo").exit_code == 0
    assert paper("report", "-o", str(tmp_path / "p.html")).exit_code == 0


def test_a_jpeg_logo_is_read_too() -> None:
    from knowsley_tracker.images import check_image

    frame = b"\xff\xc0\x00\x11\x08\x00\x20\x00\x40\x03" + b"\x01\x22\x00\x02\x11\x01\x03\x11\x01"
    jpeg = b"\xff\xd8" + b"\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + frame + b"\xff\xd9"
    image = check_image(jpeg, "logo.jpg")
    assert (image.mime, image.width, image.height) == ("image/jpeg", 64, 32)
    with pytest.raises(ValidationError):
        check_image(b"\xff\xd8\xff\xd9", "empty.jpg")
    with pytest.raises(ValidationError):
        check_image(io.BytesIO(png()).read()[:20], "short.png")


def test_the_example_plans_paper_fits_six_a4_pages(kt: Any, tmp_path: Path) -> None:
    need_pdf_engine()
    example = Path(__file__).resolve().parent.parent / "examples" / "knowsley-2025" / "plan.json"
    target = tmp_path / "paper.pdf"
    result = kt("--db", str(example), "report", "-o", str(target))
    assert result.exit_code == 0, result.stderr
    pages = pdf_pages(target)
    assert json.loads(kt("--db", str(example), "report", "--json").stdout)["totals"]["actions"] == 36
    assert len(pages) <= 6, len(pages)
    assert "Agree tolerances of 5 points for the timeliness KPIs" in " ".join(" ".join(pages).split())


def test_the_example_paper_breaks_no_header_word_and_keeps_its_footer_on_one_line(kt: Any, tmp_path: Path) -> None:
    need_pdf_engine()
    example = Path(__file__).resolve().parent.parent / "examples" / "knowsley-2025" / "plan.json"
    target = tmp_path / "paper.pdf"
    assert kt("--db", str(example), "report", "-o", str(target)).exit_code == 0
    pages = [page.extract_text(extraction_mode="layout") for page in PdfReader(target).pages]
    # Every table header word whole (they broke as "Recommendatio / n", "Progres / s", "Evidenc / e").
    readiness = next(p for p in pages if "2. Readiness by recommendation" in p)
    assert re.search(r"Rec +Recommendation +Focus +Status +RAG +Actions +Progress +Evidence +Days +KPIs +Gaps",
                     readiness)  # fmt: skip
    scorecard = next(p for p in pages if "5. KPI scorecard" in p)
    assert re.search(r"KPI +Name +Latest +Period +Comparators +Target +Met +Trend +Last values", scorecard)
    # The running footer is one line: the board, the marking, the meeting and the page number.
    for n, text in enumerate(pages, start=1):
        footer = re.compile(
            rf"^ *Knowsley Children's Services Improvement Board +OFFICIAL +Meeting 7, 14 Jan 2026 · Page {n} of "
            rf"{len(pages)} *$",
            re.MULTILINE,
        )
        assert footer.search(text), n
    # The scorecard's comparators have room: HP-01's three comparators take at most four lines, not eight.
    lines = scorecard.splitlines()
    start = next(i for i, line in enumerate(lines) if line.lstrip().startswith("HP-01"))
    end = next(i for i, line in enumerate(lines) if line.lstrip().startswith("HP-02"))
    assert end - start <= 4, lines[start:end]


def test_word_columns_keep_ids_and_dates_on_one_line(kt: Any, tmp_path: Path) -> None:
    """Converted by LibreOffice as a clerk would print it: "R1 (rec 1)" wrapped over three lines
    and "31 / Aug / 2025" over three in columns sized by header words alone."""
    need_libreoffice()
    example = Path(__file__).resolve().parent.parent / "examples" / "knowsley-2025" / "plan.json"
    target = tmp_path / "paper.docx"
    assert kt("--db", str(example), "report", "-o", str(target)).exit_code == 0
    subprocess.run(["soffice", "--headless", f"-env:UserInstallation=file://{tmp_path / 'lo'}", "--convert-to",
                    "pdf", "--outdir", str(tmp_path), str(target)], check=True, capture_output=True, timeout=180)  # fmt: skip
    text = "\n".join(p.extract_text(extraction_mode="layout") for p in PdfReader(tmp_path / "paper.pdf").pages)
    for rec in ("R1 (rec 1)", "R4 (rec 4)", "R10 (rec 10)"):
        assert re.search(rf"^ *{re.escape(rec)} ", text, re.MULTILINE), rec
    exceptions = re.findall(r"^ *(A\d+) .*?(\d{1,2} \w{3} \d{4})", text, re.MULTILINE)
    assert ("A14", "31 Aug 2025") in exceptions and ("A33", "31 Oct 2025") in exceptions
    # No header word broken either.
    assert re.search(r"Rec +Recommendation +Focus +Status +RAG +Actions +Progress +Evidence", text)
