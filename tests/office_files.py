"""Raw files shaped the way offices and other software write them, for ingest tests.

Each builder writes the same true rows (:func:`~tests.helpers.sample_panel`) in one
of the shapes that ingest once lost or misread: a workbook whose stored dimension
lies, percentages kept as formatted fractions, numbers typed with either decimal
mark, yes/no words. :func:`same_as_truth` compares what ingest read cell by cell.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import pandas as pd
import pandas.testing as pdt

from analysis.data import schema
from tests.helpers import cell_text

SPECS = schema.contract("panel")


def typed_rows(panel: pd.DataFrame) -> list[list]:
    """Header + rows with numbers as numbers (as a workbook holds them), yes/no as words."""
    rows: list[list] = [[s.header for s in SPECS.values()]]
    for record in panel.to_dict(orient="records"):
        row: list = []
        for name, spec in SPECS.items():
            value = record[name]
            if value is None or pd.isna(value):
                row.append(None)
            elif spec.dtype == "bool":
                row.append("Có" if value else "Không")
            elif spec.dtype in {"int", "float"}:
                row.append(float(value) if spec.dtype == "float" else int(value))
            else:
                row.append(str(value))
        rows.append(row)
    return rows


def _cells(rows: list[list], scale: dict[str, float]):
    """(row, column, value, column name) of every filled cell; a number below the header
    comes scaled, with its panel column's name (``""`` past the panel's columns), and any
    other cell with ``None``."""
    names = list(SPECS)
    for r, values in enumerate(rows):
        for c, value in enumerate(values):
            if value is None or value == "":
                continue
            if r and isinstance(value, int | float) and not isinstance(value, bool):
                name = names[c] if c < len(names) else ""
                yield r, c, value * scale.get(name, 1), name
            else:
                yield r, c, value, None


def write_book(path: Path, rows: list[list], formats: dict[str, str] | None = None,
               scale: dict[str, float] | None = None) -> Path:  # fmt: skip
    """An .xlsx of ``rows``; columns in ``formats`` get that number format, their values
    multiplied by ``scale`` (0.01 stores 97.1 as 0.971, as a percentage cell does)."""
    import xlsxwriter

    formats, scale = formats or {}, scale or {}
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("Sheet1")
    styles = {name: book.add_format({"num_format": f}) for name, f in formats.items()}
    for r, c, value, name in _cells(rows, scale):
        if name is not None:
            sheet.write_number(r, c, value, styles.get(name))
        else:
            sheet.write(r, c, value)
    book.close()
    return path


def with_dimension(path: Path, ref: str | None) -> Path:
    """The workbook with its sheets' stored dimension set to ``ref`` (``None``: removed)."""
    out = path.with_name(path.stem + "_dim.xlsx")
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as sink:
        for info in source.infolist():
            data = source.read(info)
            if info.filename.startswith("xl/worksheets/sheet"):
                text = data.decode()
                if ref is None:
                    text = re.sub(r"<dimension[^>]*/>", "", text)
                else:
                    text = re.sub(r'<dimension ref="[^"]*"', f'<dimension ref="{ref}"', text)
                data = text.encode()
            sink.writestr(info, data)
    path.unlink()
    return out


def text_rows(panel: pd.DataFrame, number=None) -> list[list[str]]:
    """Header + rows as text; ``number(name, value)`` writes the numbers (default: str)."""
    rows = [[s.header for s in SPECS.values()]]
    for record in panel.to_dict(orient="records"):
        row = []
        for name, spec in SPECS.items():
            value = record[name]
            if number is not None and spec.dtype in {"int", "float"} and not pd.isna(value):
                row.append(number(name, value))
            else:
                row.append(cell_text(value, spec.dtype))
        rows.append(row)
    return rows


def same_as_truth(result, truth: pd.DataFrame, skip: tuple[str, ...] = ()) -> None:
    """Every row accepted and every cell equal to the true value (as Excel shows it)."""
    assert result.accounting_holds()
    assert result.rejects.empty, result.rejects.to_string()
    panel = result.tables["panel"].sort_values(["school_id", "year"]).reset_index(drop=True)
    expected = truth.sort_values(["school_id", "year"]).reset_index(drop=True)
    columns = [c for c in panel.columns if c not in skip]
    pdt.assert_frame_equal(panel[columns], expected[columns], check_exact=False, rtol=1e-9)


def write_xls(path: Path, rows: list[list], formats: dict[str, str] | None = None,
              scale: dict[str, float] | None = None) -> Path:  # fmt: skip
    """An old .xls workbook of ``rows`` (BIFF8, as xlwt and the sector's software write it);
    ``formats`` and ``scale`` as in :func:`write_book`."""
    import xlwt

    formats, scale = formats or {}, scale or {}
    book = xlwt.Workbook(encoding="utf-8")
    sheet = book.add_sheet("Sheet1")
    styles = {name: xlwt.easyxf(num_format_str=f) for name, f in formats.items()}
    plain = xlwt.easyxf("")
    for r, c, value, name in _cells(rows, scale):
        sheet.write(r, c, value, styles.get(name, plain) if name is not None else plain)
    book.save(str(path))
    return path


def with_xls_dimension(path: Path, last_row: int, last_col: int) -> Path:
    """The .xls with every sheet's stored DIMENSIONS record claiming rows ``0..last_row`` and
    columns ``0..last_col`` only (a record rewritten in place; the cells stay)."""
    import struct

    data = bytearray(path.read_bytes())
    marker = struct.pack("<HH", 0x0200, 14)  # DIMENSIONS, 14 bytes long
    found = 0
    at = data.find(marker)
    while at != -1:
        struct.pack_into("<IIHH", data, at + 4, 0, last_row + 1, 0, last_col + 1)
        found += 1
        at = data.find(marker, at + 4)
    assert found, "no DIMENSIONS record"
    path.write_bytes(bytes(data))
    return path


def encrypted_xls(path: Path) -> Path:
    """The .xls marked as encrypted: the record after BOF becomes FILEPASS, as Excel writes
    the workbook-globals stream of a password-protected file."""
    import struct

    data = bytearray(path.read_bytes())
    bof = data.find(struct.pack("<HH", 0x0809, 16))  # BIFF8 BOF of the globals stream
    assert bof != -1
    following = bof + 4 + 16
    struct.pack_into("<H", data, following, 0x002F)  # FILEPASS
    path.write_bytes(bytes(data))
    return path


_ODS_NS = (
    'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
    'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
    'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
    'xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0" '
    'xmlns:number="urn:oasis:names:tc:opendocument:xmlns:datastyle:1.0"'
)
_ODS_MIME = "application/vnd.oasis.opendocument.spreadsheet"


def _ods_cell(value, percent: bool) -> str:
    from xml.sax.saxutils import escape, quoteattr

    if value is None or value == "":
        return "<table:table-cell/>"
    if isinstance(value, bool):
        word = "true" if value else "false"
        return f'<table:table-cell office:value-type="boolean" office:boolean-value="{word}"><text:p>{word.upper()}</text:p></table:table-cell>'  # noqa: E501
    if isinstance(value, int | float):
        kind, style = ("percentage", ' table:style-name="ce1"') if percent else ("float", "")
        shown = f"{value * 100:g}%" if percent else f"{value:g}"
        return f'<table:table-cell{style} office:value-type="{kind}" office:value={quoteattr(repr(value))}><text:p>{shown}</text:p></table:table-cell>'  # noqa: E501
    return f'<table:table-cell office:value-type="string"><text:p>{escape(str(value))}</text:p></table:table-cell>'  # noqa: E501


def _ods_row(cells: list[str], compress: bool) -> str:
    """A row as LibreOffice writes it: runs of equal cells as one ``number-columns-repeated``."""
    out, i = [], 0
    while i < len(cells):
        j = i
        while compress and j + 1 < len(cells) and cells[j + 1] == cells[i]:
            j += 1
        run = j - i + 1
        cell = cells[i]
        if run > 1:
            tag = cell.split(" ", 1)[0].split(">", 1)[0].rstrip("/")
            cell = cell.replace(tag, f'{tag} table:number-columns-repeated="{run}"', 1)
        out.append(cell)
        i = j + 1
    if compress:
        out.append('<table:table-cell table:number-columns-repeated="1000"/>')
    return "<table:table-row>" + "".join(out) + "</table:table-row>"


def write_ods(path: Path, rows: list[list], percent: tuple[str, ...] = (), scale=None,
              *, blank_rows_above: int = 0, libreoffice: bool = True,
              encrypted: bool = False) -> Path:  # fmt: skip
    """An .ods of ``rows``; columns in ``percent`` hold percentage cells (values × ``scale``).

    ``libreoffice`` writes what LibreOffice saves: equal neighbouring cells as one repeated
    cell, each row padded to 1,024 columns, and the sheet closed by a million repeated
    empty rows; ``blank_rows_above`` empty rows (one repeated row) come before the header.
    ``encrypted`` marks the package the way a password-protected save does.
    """
    scale = scale or {}
    names = list(SPECS)
    body = []
    if blank_rows_above:
        body.append(
            f'<table:table-row table:number-rows-repeated="{blank_rows_above}">'
            '<table:table-cell table:number-columns-repeated="1024"/></table:table-row>'
        )
    for r, values in enumerate(rows):
        cells = []
        for c, value in enumerate(values):
            name = names[c] if c < len(names) else ""
            number = r and isinstance(value, int | float) and not isinstance(value, bool)
            cells.append(_ods_cell(value * scale.get(name, 1) if number else value,
                                   bool(number) and name in percent))  # fmt: skip
        body.append(_ods_row(cells, libreoffice))
    if libreoffice:
        body.append(
            '<table:table-row table:number-rows-repeated="1048000">'
            '<table:table-cell table:number-columns-repeated="1024"/></table:table-row>'
        )
    content = (
        f'<?xml version="1.0" encoding="UTF-8"?><office:document-content {_ODS_NS} '
        'office:version="1.3"><office:automatic-styles><number:percentage-style '
        'style:name="N11"><number:number number:decimal-places="1" '
        'number:min-integer-digits="1"/><number:text>%</number:text></number:percentage-style>'
        '<style:style style:name="ce1" style:family="table-cell" '
        'style:data-style-name="N11"/></office:automatic-styles><office:body>'
        '<office:spreadsheet><table:table table:name="Sheet1">'
        + "".join(body)
        + "</table:table></office:spreadsheet></office:body></office:document-content>"
    )
    entry = '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"'
    entry += (
        '><manifest:encryption-data manifest:checksum-type="SHA1/1K"/></manifest:file-entry>'
        if encrypted
        else "/>"
    )
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?><manifest:manifest '
        'xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" '
        f'manifest:version="1.3"><manifest:file-entry manifest:full-path="/" '
        f'manifest:media-type="{_ODS_MIME}"/>{entry}</manifest:manifest>'
    )
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(zipfile.ZipInfo("mimetype"), _ODS_MIME)  # first and stored
        archive.writestr("META-INF/manifest.xml", manifest, zipfile.ZIP_DEFLATED)
        archive.writestr("content.xml", content, zipfile.ZIP_DEFLATED)
    return path
