"""An administrative document as plain blocks, and its HTML for print.

The supervision report (:mod:`analysis.runner.supervision`) is built once as a
:class:`Document` — a header in the layout of Decree 30/2020/NĐ-CP (issuing body, national
title and motto, number, place and date, document type and summary) and a list of blocks
(headings, paragraphs, places the office fills in, tables, figures, the signature) — and
written twice from the same blocks: a Word file (:mod:`analysis.report.word`) and an HTML
page that Chromium prints to PDF (:func:`to_html`, :mod:`analysis.report.pdf`). Parts are
numbered from large to small (I, 1, a) and tables and figures in order of appearance
when the document is made (:func:`numbered`), so both files say the same.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field, replace

from jinja2 import Environment, PackageLoader, select_autoescape

ROMAN = ("I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII")


@dataclass(frozen=True)
class Heading:
    """A part's heading; ``level`` 1 (I, II), 2 (1, 2) or 3 (a, b). ``number`` is set by
    :func:`numbered`."""

    text: str
    level: int = 1
    number: str = ""


@dataclass(frozen=True)
class Paragraph:
    """A paragraph of body text, justified."""

    text: str
    italic: bool = False


@dataclass(frozen=True)
class Ask:
    """A marked place the Department writes itself (shown highlighted in both files)."""

    text: str


@dataclass(frozen=True)
class Table:
    """A captioned table of display strings; the first column is text, the rest values."""

    caption: str
    columns: list[str]
    rows: list[list[str]]
    note: str = ""


@dataclass(frozen=True)
class Figure:
    """A captioned figure: a PNG and its printed width in centimetres."""

    caption: str
    png: bytes
    width_cm: float = 16.0  # the text width of an A4 page with the decree's margins: 16.5 cm


Block = Heading | Paragraph | Ask | Table | Figure


@dataclass(frozen=True)
class Header:
    """The document's header block (Decree 30/2020/NĐ-CP, Appendix I)."""

    body: list[str]  # issuing body, the superior first
    national: str
    motto: str
    number: str  # "Số: ……/BC-SGDĐT": the office's register gives the number
    date: str  # "Thái Nguyên, ngày …… tháng …… năm 2026"
    kind: str  # "BÁO CÁO"
    summary: str
    addressee: str = ""


@dataclass(frozen=True)
class Signature:
    """Recipients (left) and the signer's position (right), after the body."""

    recipients_title: str
    recipients: list[str]
    signer: str
    signature: str


@dataclass
class Document:
    """A whole document: header, blocks, signature, and the words its files need."""

    lang: str
    title: str  # the file's title (metadata, the PDF's title)
    header: Header
    blocks: list[Block] = field(default_factory=list)
    signature: Signature | None = None
    table_label: str = "Bảng {n}. {caption}"
    figure_label: str = "Hình {n}. {caption}"
    page_label: str = "Trang"

    @property
    def tables(self) -> list[Table]:
        """The tables, in order."""
        return [b for b in self.blocks if isinstance(b, Table)]

    @property
    def figures(self) -> list[Figure]:
        """The figures, in order."""
        return [b for b in self.blocks if isinstance(b, Figure)]


def numbered(blocks: list[Block]) -> list[Block]:
    """``blocks`` with each heading numbered: I, II at level 1; 1, 2 under it; a, b under
    that (the count restarts under each higher heading)."""
    counts = [0, 0, 0]
    out: list[Block] = []
    for block in blocks:
        if isinstance(block, Heading):
            level = min(max(block.level, 1), 3)
            counts[level - 1] += 1
            counts[level:] = [0] * (3 - level)
            n = counts[level - 1]
            number = {1: f"{ROMAN[n - 1]}.", 2: f"{n}.", 3: f"{chr(ord('a') + n - 1)})"}[level]
            block = replace(block, level=level, number=number)
        out.append(block)
    return out


def caption(document: Document, block: Table | Figure) -> str:
    """ "Bảng 2. …" / "Hình 1. …": the block's caption with its number in the document."""
    if isinstance(block, Table):
        n = next(i for i, t in enumerate(document.tables, 1) if t is block)
        return document.table_label.format(n=n, caption=block.caption)
    n = next(i for i, f in enumerate(document.figures, 1) if f is block)
    return document.figure_label.format(n=n, caption=block.caption)


def to_html(document: Document) -> str:
    """The document as one HTML page laid out for A4 printing (margins, Times New Roman
    13 pt, page numbers centred at the top from the second page), images inline."""
    env = Environment(
        loader=PackageLoader("analysis.report", "templates"),
        autoescape=select_autoescape(["html", "j2"]),
    )
    blocks = []
    for block in document.blocks:
        kind = type(block).__name__.lower()
        item: dict = {"kind": kind, "block": block}
        if isinstance(block, Table | Figure):
            item["caption"] = caption(document, block)
        if isinstance(block, Figure):
            item["src"] = "data:image/png;base64," + base64.b64encode(block.png).decode()
        blocks.append(item)
    return env.get_template("document.html.j2").render(doc=document, blocks=blocks)
