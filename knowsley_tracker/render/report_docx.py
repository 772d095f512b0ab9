"""The board paper as a Word document, for councils' committee systems (python-docx).

The same layout as every other format (:func:`knowsley_tracker.render.report_common.layout`),
written with Word's own parts so the committee clerk can work with it: the
Title and Heading 1-3 styles (the navigation pane and a table of contents see
them), List Bullet and List Number, real tables whose header row repeats on
every page and whose rows never split across pages, and a header and footer on
every page with the protective marking and "Page N of M" as Word fields. RAG
cells are shaded and keep their word, so the paper reads in black and white.
Each KPI's last values are a small chart (a PNG picture, render/spark_png.py)
with the values in words as its alternative text. The logo is embedded, never
linked. A4 portrait.

User text goes in as text: python-docx escapes it for XML, and control
characters (which XML cannot hold) become visible escapes first. python-docx
is imported only when a Word paper is asked for.
"""

from __future__ import annotations

import io
from typing import Any

from knowsley_tracker.dates import format_date
from knowsley_tracker.models import Rag
from knowsley_tracker.patterns import LazyPattern
from knowsley_tracker.render import charts, paper_columns, spark_png
from knowsley_tracker.render.narrative import Block, Span
from knowsley_tracker.render.report_common import Cell, Layout, Table, layout
from knowsley_tracker.render.text import safe
from knowsley_tracker.reports import Report
from knowsley_tracker.service.kpis import KpiStatus

# Fill and text colours of RAG cells (hex, no #): as in the HTML pack.
RAG_FILLS = {
    Rag.RED: ("C62828", "FFFFFF"),
    Rag.AMBER: ("EF8F00", "111111"),
    Rag.GREEN: ("2E7D32", "FFFFFF"),
    Rag.BLUE: ("1F5FBF", "FFFFFF"),
    Rag.COMPLETE: ("E5E7EB", "111111"),
    Rag.DROPPED: ("FFFFFF", "6B7280"),
}
HEADER_FILL = "F3F4F6"
ID_HYPHEN = LazyPattern(r"(?<=\w)-(?=\d)")  # the hyphen of "HP-03" or "2024-25": never a line break


def _text(value: object) -> str:
    """User text Word can hold: control characters and lone surrogates shown as escapes."""
    return safe(value)


class _Writer:
    """Builds one document; python-docx's names are looked up once."""

    def __init__(self) -> None:
        import docx
        from docx.enum.section import WD_ORIENT
        from docx.enum.table import WD_TABLE_ALIGNMENT
        from docx.enum.text import WD_ALIGN_PARAGRAPH
        from docx.oxml import OxmlElement
        from docx.oxml.ns import qn
        from docx.oxml.shape import CT_Inline
        from docx.shared import Mm, Pt, RGBColor

        self.Mm, self.Pt, self.RGBColor = Mm, Pt, RGBColor
        self.OxmlElement, self.qn = OxmlElement, qn
        self.CT_Inline = CT_Inline
        self.next_shape_id = 0  # the next picture's id, once the first chart has asked python-docx
        self.CENTER = WD_ALIGN_PARAGRAPH.CENTER
        self.RIGHT = WD_ALIGN_PARAGRAPH.RIGHT
        self.doc: Any = docx.Document()
        section = self.doc.sections[0]
        section.orientation = WD_ORIENT.PORTRAIT
        section.page_width, section.page_height = Mm(210), Mm(297)
        section.left_margin = section.right_margin = Mm(15)
        section.top_margin = section.bottom_margin = Mm(18)
        section.header_distance = section.footer_distance = Mm(8)
        self.table_alignment = WD_TABLE_ALIGNMENT.CENTER
        styles = self.doc.styles
        normal = styles["Normal"]
        normal.font.name = "Arial"
        normal.font.size = Pt(9.5)
        normal.paragraph_format.space_after = Pt(3)
        for name, size in (("Title", 20), ("Heading 1", 14), ("Heading 2", 11.5), ("Heading 3", 10)):
            style = styles[name]
            style.font.name = "Arial"
            style.font.size = Pt(size)
            style.font.color.rgb = RGBColor(0x1F, 0x29, 0x37)
            style.paragraph_format.keep_with_next = True

    # -- pieces --------------------------------------------------------------------------

    def field(self, paragraph: Any, instruction: str) -> None:
        """A Word field (PAGE, NUMPAGES) that Word fills in when it lays the pages out."""
        field = self.OxmlElement("w:fldSimple")
        field.set(self.qn("w:instr"), instruction)
        run = self.OxmlElement("w:r")
        text = self.OxmlElement("w:t")
        text.text = "1"
        run.append(text)
        field.append(run)
        paragraph._p.append(field)

    def header_footer(self, marking: str, where: str) -> None:
        section = self.doc.sections[0]
        top = section.header.paragraphs[0]
        top.alignment = self.CENTER
        run = top.add_run(_text(marking))
        run.bold = True
        foot = section.footer.paragraphs[0]
        foot.alignment = self.CENTER
        run = foot.add_run(_text(marking))
        run.bold = True
        pages = section.footer.add_paragraph()
        pages.alignment = self.CENTER
        pages.add_run(_text(where) + "    Page ").font.size = self.Pt(8)
        self.field(pages, "PAGE")
        pages.add_run(" of ").font.size = self.Pt(8)
        self.field(pages, "NUMPAGES")

    def shade(self, cell: Any, fill: str) -> None:
        shading = self.OxmlElement("w:shd")
        shading.set(self.qn("w:val"), "clear")
        shading.set(self.qn("w:color"), "auto")
        shading.set(self.qn("w:fill"), fill)
        cell._tc.get_or_add_tcPr().append(shading)

    def row_flag(self, row: Any, flag: str) -> None:
        """``w:tblHeader`` (repeat this row on every page) or ``w:cantSplit`` (keep the row on one page)."""
        element = self.OxmlElement(flag)
        element.set(self.qn("w:val"), "true")
        row._tr.get_or_add_trPr().append(element)

    def facts(self, fields: list[tuple[str, str]]) -> None:
        for label, value in fields:
            p = self.doc.add_paragraph()
            p.paragraph_format.space_after = self.Pt(1)
            p.add_run(_text(label) + ": ").bold = True
            p.add_run(_text(value))

    def spans(self, paragraph: Any, spans: list[Span]) -> None:
        for span in spans:
            run = paragraph.add_run(_text(span.text))
            run.bold = span.bold or None
            run.italic = span.italic or None

    def new_numbering(self) -> str:
        """A new numbering instance of the List Number style's list, starting again at 1.

        Word (and LibreOffice) number every paragraph of one ``w:num`` as one list, so two
        lists in the List Number style would run on (3., 4.) without this: each list gets
        its own ``w:num`` over the same abstract numbering, with a ``w:startOverride``."""
        qn = self.qn
        style_num = self.doc.styles["List Number"].element.pPr.numPr.numId.val
        numbering = self.doc.part.numbering_part.element
        nums = numbering.findall(qn("w:num"))
        abstract = next(
            n.find(qn("w:abstractNumId")).get(qn("w:val")) for n in nums if n.get(qn("w:numId")) == str(style_num)
        )
        num_id = str(max(int(n.get(qn("w:numId"))) for n in nums) + 1)
        num = self.OxmlElement("w:num")
        num.set(qn("w:numId"), num_id)
        abstract_id = self.OxmlElement("w:abstractNumId")
        abstract_id.set(qn("w:val"), abstract)
        num.append(abstract_id)
        override = self.OxmlElement("w:lvlOverride")
        override.set(qn("w:ilvl"), "0")
        start = self.OxmlElement("w:startOverride")
        start.set(qn("w:val"), "1")
        override.append(start)
        num.append(override)
        numbering.append(num)
        return num_id

    def numbered_paragraph(self, num_id: str) -> Any:
        """A List Number paragraph in the list ``num_id`` (from :meth:`new_numbering`)."""
        paragraph = self.doc.add_paragraph(style="List Number")
        num_pr = paragraph._p.get_or_add_pPr().get_or_add_numPr()
        num_pr.get_or_add_ilvl().val = 0
        num_pr.get_or_add_numId().val = int(num_id)
        return paragraph

    def narrative(self, blocks: list[Block]) -> None:
        for block in blocks:
            if block.kind == "h":
                self.spans(self.doc.add_heading(level=3), block.items[0])
            elif block.kind == "p":
                self.spans(self.doc.add_paragraph(), block.items[0])
            elif block.kind == "ol":
                num_id = self.new_numbering()
                for item in block.items:
                    self.spans(self.numbered_paragraph(num_id), item)
            else:
                for item in block.items:
                    self.spans(self.doc.add_paragraph(style="List Bullet"), item)

    def table(self, table: Table) -> None:
        if table.title:
            self.doc.add_heading(_text(table.title), level=3)
        if not table.rows:
            self.muted(table.empty)
            return
        rows = [*table.rows, *([table.total] if table.total else [])]
        out = self.doc.add_table(rows=1 + len(rows), cols=len(table.columns))
        out.style = "Table Grid"
        out.alignment = self.table_alignment
        out.autofit = False
        self.cell_margins(out)
        self.widths(out, column_widths(table, TEXT_WIDTH_MM))
        size = self.Pt(CELL_PT)
        all_rows = out.rows
        head = all_rows[0]
        self.row_flag(head, "w:tblHeader")
        self.row_flag(head, "w:cantSplit")
        for cell, col in zip(head.cells, table.columns, strict=True):
            self.shade(cell, HEADER_FILL)
            p = cell.paragraphs[0]
            if col.right:
                p.alignment = self.RIGHT
            run = p.add_run(_text(col.title))
            run.bold = True
            run.font.size = size
        total_row = len(rows) if table.total else -1
        keep = [paper_columns.kept(table, i) for i in range(len(table.columns))]
        for n, (row, cells) in enumerate(zip(rows, all_rows[1:], strict=True), start=1):
            self.row_flag(cells, "w:cantSplit")
            for cell, value, col, whole in zip(cells.cells, row, table.columns, keep, strict=True):
                self.cell(cell, value, col.right, size, bold=n == total_row, whole=whole)
        if table.note:
            self.muted(table.note)

    def cell_margins(self, table: Any) -> None:
        """Narrow left and right cell margins (1 mm, not Word's 1.9 mm): eleven columns fit A4."""
        margins = self.OxmlElement("w:tblCellMar")
        for side in ("left", "right"):
            margin = self.OxmlElement(f"w:{side}")
            margin.set(self.qn("w:w"), str(round(CELL_MARGIN_MM * 56.7)))
            margin.set(self.qn("w:type"), "dxa")
            margins.append(margin)
        table._tbl.tblPr.append(margins)

    def widths(self, table: Any, widths: list[float]) -> None:
        """Column widths in the table grid (LibreOffice reads these) and on each cell (Word does)."""
        twips = [str(round(mm * 56.7)) for mm in widths]
        for col, value in zip(table._tbl.tblGrid.findall(self.qn("w:gridCol")), twips, strict=True):
            col.set(self.qn("w:w"), value)
        for row in table._tbl.tr_lst:
            for tc, value in zip(row.tc_lst, twips, strict=True):
                width = tc.get_or_add_tcPr().get_or_add_tcW()
                width.set(self.qn("w:type"), "dxa")
                width.set(self.qn("w:w"), value)

    def cell(self, cell: Any, value: Cell, right: bool, size: Any, bold: bool, whole: bool) -> None:
        """One cell's text. In a column of short values (``whole``) its hyphens are Word's
        non-breaking hyphen, so "in-progress" is never split at the end of a line; elsewhere
        so is a hyphen before a digit, so ids ("HP-03") and periods ("2024-25") stay whole."""
        p = cell.paragraphs[0]
        p.paragraph_format.space_after = self.Pt(0)
        if right:
            p.alignment = self.RIGHT
        if value.kpi is not None and self.chart(p, value.kpi):
            return
        text = _text(value.text)
        parts = text.split("-") if whole else ID_HYPHEN.split(text)
        if len(parts) > 1:
            run = p.add_run()
            for n, part in enumerate(parts):
                if n:
                    run._r.append(self.OxmlElement("w:noBreakHyphen"))
                if part:
                    run._r.add_t(part)
        else:
            run = p.add_run(text)
        run.font.size = size
        if bold:
            run.bold = True
        if value.rag is not None:
            fill, ink = RAG_FILLS[value.rag]
            self.shade(cell, fill)
            run.bold = True
            run.font.color.rgb = self.RGBColor.from_string(ink)

    def chart(self, p: Any, status: KpiStatus) -> bool:
        """A KPI's last values drawn as a small chart (render/spark_png.py), with the values in
        words as its alternative text; False when there is no value to draw."""
        chart = charts.kpi_chart(status)
        png = spark_png.sparkline_png(chart)
        if png is None:
            return False
        self.picture(p.add_run(), png, charts.describe(chart, status.kpi.key), width=self.Mm(CHART_MM))
        return True

    def picture(self, run: Any, data: bytes, descr: str, *, width: Any = None, height: Any = None) -> None:
        """An inline picture at the end of ``run``, with ``descr`` as its alternative text.

        What python-docx's Run.add_picture does, but with the pictures numbered here: it finds
        the next free id by searching the whole document each time, which for a region's 200
        KPI charts took 1.2 s. Every picture of the paper goes through here, so ids stay unique."""
        part = self.doc.part
        if self.next_shape_id == 0:
            self.next_shape_id = part.next_id
        rid, image = part.get_or_add_image(io.BytesIO(data))
        cx, cy = image.scaled_dimensions(width, height)
        inline = self.CT_Inline.new_pic_inline(self.next_shape_id, rid, image.filename, cx, cy)
        self.next_shape_id += 1
        for side in ("distT", "distB", "distL", "distR"):  # as Word writes: LibreOffice else keeps 3 mm clear
            inline.set(side, "0")
        inline.docPr.set("descr", _text(descr))
        run._r.add_drawing(inline)

    def muted(self, text: str) -> None:
        p = self.doc.add_paragraph()
        run = p.add_run(_text(text))
        run.italic = True
        run.font.size = self.Pt(8)
        run.font.color.rgb = self.RGBColor(0x6B, 0x72, 0x80)


TEXT_WIDTH_MM = 180.0  # A4 less 15 mm margins
CELL_PT = 7.5  # table text
CELL_MARGIN_MM = 1.0
PAD_MM = 2 * CELL_MARGIN_MM + 0.4  # a cell's left and right margins and its borders
CHART_MM = 20.0  # a KPI's chart of its last values, as in the PDF paper


def column_widths(table: Table, total: float = TEXT_WIDTH_MM) -> list[float]:
    """The table's column widths (mm): see :mod:`knowsley_tracker.render.paper_columns`."""
    return paper_columns.column_widths(table, total, size_pt=CELL_PT, head_pt=CELL_PT, pad_mm=PAD_MM, chart_mm=CHART_MM)


def to_docx(report: Report) -> bytes:
    """The whole paper as a .docx file's bytes."""
    doc = layout(report)
    return docx_bytes(report, doc)


def docx_bytes(report: Report, doc: Layout) -> bytes:
    w = _Writer()
    c = doc.cover
    w.header_footer(c.marking, f"{c.board_name}, {c.meeting}")
    props = w.doc.core_properties
    props.title = _text(f"{c.board_name}: {doc.title}")[:255]
    props.author = _text(report.paper.author)[:255]
    props.subject = _text(c.meeting)[:255]
    props.keywords = _text(c.marking)[:255]

    # The cover: logo, marking, board, title, meeting, then who and when.
    if c.logo is not None:
        w.picture(w.doc.add_paragraph().add_run(), c.logo.data, "Logo", height=w.Mm(16))
    marking = w.doc.add_paragraph()
    marking.alignment = w.RIGHT
    marking.add_run(_text(c.marking)).bold = True
    board = w.doc.add_paragraph()
    run = board.add_run(_text(c.board_name))
    run.bold = True
    run.font.size = w.Pt(13)
    w.doc.add_heading(_text(doc.title), level=0)
    meeting = w.doc.add_paragraph()
    meeting.add_run(_text(c.meeting)).font.size = w.Pt(12)
    w.facts(c.fields)

    w.doc.add_heading("Summary", level=1)
    for sentence in doc.headline:
        w.doc.add_paragraph(_text(sentence), style="List Bullet")
    w.doc.add_heading("Director's narrative", level=1)
    if doc.narrative:
        w.narrative(doc.narrative)
    else:
        w.muted(doc.missing[0])
    w.doc.add_heading("Decisions and asks of the board", level=1)
    if doc.decisions:
        num_id = w.new_numbering()
        for decision in doc.decisions:
            p = w.numbered_paragraph(num_id)
            p.add_run(_text(decision)).bold = True
    else:
        w.muted(doc.missing[1])
    w.doc.add_heading("Position at a glance", level=1)
    w.facts(doc.fields)

    for number, section in enumerate(doc.sections, start=1):
        w.doc.add_heading(f"{number}. {_text(section.title)}", level=1)
        if section.intro:
            w.doc.add_paragraph(_text(section.intro))
        if not section.tables and section.empty:
            w.muted(section.empty)
        for table in section.tables:
            w.table(table)

    w.doc.add_heading("Next meetings", level=1)
    w.facts(doc.closing)
    w.muted(
        f"Produced by knowsley-tracker on {format_date(report.header.report_date)}. RAG: Red, overdue or blocked; "
        "Amber, due soon with little progress or slipped; Green, on track; Complete, awaiting evidence; Blue, "
        "complete with evidence. * marks an officer's override, shown with its reason."
    )
    out = io.BytesIO()
    w.doc.save(out)
    return out.getvalue()
