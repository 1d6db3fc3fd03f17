"""A :class:`~analysis.report.document.Document` as a Word file (python-docx).

The layout of Decree 30/2020/NĐ-CP, Appendix I: A4 portrait, margins top and bottom 2 cm,
left 3 cm, right 1.5 cm; Times New Roman throughout (the East Asian and complex-script
font slots too, so Word never substitutes another font for Vietnamese), body 13 pt
justified with a first-line indent; the header as a borderless two-column table (issuing
body and number on the left, national title, motto and date on the right); page numbers
centred at the top from the second page; headings in Word's heading styles (so the
navigation pane and a table of contents work) restyled black, bold, 13 pt; tables with a
repeated header row. Places the Department fills in are highlighted in yellow.
"""

from __future__ import annotations

import io
from pathlib import Path

from docx import Document as new_document
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_COLOR_INDEX
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt, RGBColor

from analysis.core import files
from analysis.report.document import Ask, Document, Figure, Heading, Paragraph, Table, caption

FONT = "Times New Roman"
TEXT_WIDTH = 16.5  # cm: A4's 21 cm less the decree's 3 cm and 1.5 cm margins
LANG_TAGS = {"vi": "vi-VN", "en": "en-GB"}


def write_docx(document: Document, path: Path) -> Path:
    """Write ``document`` to ``path`` (``.docx``), atomically; returns ``path``."""
    doc = new_document()
    _page(doc)
    _styles(doc, document.lang)
    _header(doc, document)
    for block in document.blocks:
        if isinstance(block, Heading):
            para = doc.add_paragraph(f"{block.number} {block.text}", style=f"Heading {block.level}")
        elif isinstance(block, Paragraph):
            para = doc.add_paragraph()
            para.add_run(block.text).italic = block.italic
        elif isinstance(block, Ask):
            para = doc.add_paragraph()
            run = para.add_run(block.text)
            run.italic = True
            run.font.highlight_color = WD_COLOR_INDEX.YELLOW
        elif isinstance(block, Table):
            _table(doc, block, caption(document, block))
        elif isinstance(block, Figure):
            doc.add_picture(io.BytesIO(block.png), width=Cm(block.width_cm))
            doc.paragraphs[-1].alignment = WD_ALIGN_PARAGRAPH.CENTER
            _caption(doc, caption(document, block))
    if document.signature is not None:
        _signature(doc, document)
    doc.core_properties.title = document.title
    doc.core_properties.language = LANG_TAGS.get(document.lang, document.lang)
    buffer = io.BytesIO()
    doc.save(buffer)
    files.atomic_write(Path(path), buffer.getvalue())
    return Path(path)


def _page(doc) -> None:
    section = doc.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Cm(21), Cm(29.7)
    section.top_margin = section.bottom_margin = Cm(2)
    section.left_margin, section.right_margin = Cm(3), Cm(1.5)
    section.header_distance = Cm(1)
    section.different_first_page_header_footer = True  # no number on the first page
    para = section.header.paragraphs[0]
    para.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _field(para, "PAGE")


def _field(paragraph, instruction: str) -> None:
    """A Word field (``PAGE``) in ``paragraph``: Word computes it when it lays out."""
    run = paragraph.add_run()
    for kind, text in (("begin", None), (None, instruction), ("separate", None), ("end", None)):
        if kind is None:
            element = OxmlElement("w:instrText")
            element.set(qn("xml:space"), "preserve")
            element.text = f" {text} "
        else:
            element = OxmlElement("w:fldChar")
            element.set(qn("w:fldCharType"), kind)
        run._r.append(element)


def _fonts(style, size: float, *, bold: bool = False, italic: bool = False) -> None:
    style.font.name = FONT
    style.font.size = Pt(size)
    style.font.bold = bold
    style.font.italic = italic
    style.font.color.rgb = RGBColor(0, 0, 0)
    fonts = style.element.get_or_add_rPr().get_or_add_rFonts()
    for slot in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        fonts.set(qn(slot), FONT)
    for theme in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        fonts.attrib.pop(qn(theme), None)  # a theme font (the headings' Calibri Light) wins


def _styles(doc, lang: str) -> None:
    normal = doc.styles["Normal"]
    _fonts(normal, 13)
    language = OxmlElement("w:lang")
    language.set(qn("w:val"), LANG_TAGS.get(lang, lang))
    normal.element.get_or_add_rPr().append(language)  # Word's spelling check in Vietnamese
    fmt = normal.paragraph_format
    fmt.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY
    fmt.first_line_indent = Cm(1)
    fmt.space_after = Pt(6)
    fmt.line_spacing = 1.15
    for level in (1, 2, 3):
        style = doc.styles[f"Heading {level}"]
        _fonts(style, 13, bold=True, italic=level == 3)
        style.paragraph_format.first_line_indent = Cm(1)
        style.paragraph_format.space_before = Pt(8)
        style.paragraph_format.space_after = Pt(4)
        style.paragraph_format.keep_with_next = True


def _plain(cell_or_doc, text: str, *, bold=False, italic=False, size=13.0, upper=False):
    para = cell_or_doc.add_paragraph()
    para.alignment = WD_ALIGN_PARAGRAPH.CENTER
    para.paragraph_format.first_line_indent = Cm(0)
    para.paragraph_format.space_after = Pt(0)
    run = para.add_run(text.upper() if upper else text)
    run.bold, run.italic, run.font.size = bold, italic, Pt(size)
    return para


def _header(doc, document: Document) -> None:
    head = document.header
    table = doc.add_table(rows=1, cols=2)
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    _widths(table, [6.6, 9.9])  # the issuing body and the national title on one line each
    left, right = table.rows[0].cells
    for i, line in enumerate(head.body):  # the superior body plain, the issuing body bold
        _plain(left, line, bold=i == len(head.body) - 1, upper=True)
    _plain(left, "───────")
    _plain(left, head.number)
    _plain(right, head.national, bold=True, size=12)  # the decree: 12–13 pt
    _plain(right, head.motto, bold=True, size=13.5)
    _plain(right, "──────────────")
    _plain(right, head.date, italic=True)
    for cell in (left, right):  # a new cell starts with an empty paragraph
        cell._tc.remove(cell.paragraphs[0]._p)
    _plain(doc, head.kind, bold=True, size=14).paragraph_format.space_before = Pt(12)
    _plain(doc, head.summary, bold=True, size=14)
    _plain(doc, "─────────")
    if head.addressee:
        _plain(doc, head.addressee).paragraph_format.space_after = Pt(8)


def _caption(doc, text: str, *, before_table: bool = False):
    para = _plain(doc, text, bold=True, size=12)
    para.paragraph_format.space_before = Pt(6 if before_table else 2)
    para.paragraph_format.space_after = Pt(3 if before_table else 8)
    para.paragraph_format.keep_with_next = before_table  # a table's caption stays with it
    return para


def _table(doc, block: Table, title: str) -> None:
    _caption(doc, title, before_table=True)
    table = doc.add_table(rows=1, cols=len(block.columns))
    table.style = doc.styles["Table Grid"]
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    head = table.rows[0]
    flag = OxmlElement("w:tblHeader")  # the header row repeats on every page
    flag.set(qn("w:val"), "true")
    head._tr.get_or_add_trPr().append(flag)
    for cell, text in zip(head.cells, block.columns, strict=True):
        _cell(cell, text, bold=True, align=WD_ALIGN_PARAGRAPH.CENTER)
    for row in block.rows:
        cells = table.add_row().cells
        for i, (cell, text) in enumerate(zip(cells, row, strict=True)):
            align = WD_ALIGN_PARAGRAPH.LEFT if i == 0 else WD_ALIGN_PARAGRAPH.RIGHT
            _cell(cell, text, align=align)
    n = len(block.columns)
    first = min(6.0, TEXT_WIDTH / 2) if n > 1 else TEXT_WIDTH  # the names' column is wider
    _widths(table, [first] + [(TEXT_WIDTH - first) / (n - 1)] * (n - 1) if n > 1 else [first])
    if block.note:
        note = doc.add_paragraph()
        note.paragraph_format.first_line_indent = Cm(0)
        run = note.add_run(block.note)
        run.italic, run.font.size = True, Pt(11)


def _widths(table, centimetres: list[float]) -> None:
    """Fixed column widths (Word reads the cells', LibreOffice the grid's: both set)."""
    table.autofit = False
    for column, width in zip(table.columns, centimetres, strict=True):
        column.width = Cm(width)
        for cell in column.cells:
            cell.width = Cm(width)


def _cell(cell, text: str, *, bold: bool = False, align=WD_ALIGN_PARAGRAPH.LEFT) -> None:
    para = cell.paragraphs[0]
    para.alignment = align
    para.paragraph_format.first_line_indent = Cm(0)
    para.paragraph_format.space_after = Pt(0)
    run = para.add_run(text)
    run.bold, run.font.size = bold, Pt(12)


def _signature(doc, document: Document) -> None:
    sign = document.signature
    assert sign is not None
    doc.add_paragraph()
    table = doc.add_table(rows=1, cols=2)
    left, right = table.rows[0].cells
    para = left.paragraphs[0]
    para.paragraph_format.first_line_indent = Cm(0)
    run = para.add_run(sign.recipients_title)
    run.bold, run.italic, run.font.size = True, True, Pt(12)
    for line in sign.recipients:
        item = left.add_paragraph()
        item.paragraph_format.first_line_indent = Cm(0)
        item.paragraph_format.space_after = Pt(0)
        item.add_run(line).font.size = Pt(11)
    right._tc.remove(right.paragraphs[0]._p)
    _plain(right, sign.signer, bold=True)
    _plain(right, sign.signature, italic=True)
