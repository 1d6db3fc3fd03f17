"""Writing the files a DOET receives: yearly report workbooks, the register, ``truth.json``.

The workbooks carry a fixed creation time (:data:`FIXED_TIMESTAMP`) and are written
cell by cell in a fixed order, so the same province gives the same bytes.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xlsxwriter
from xlsxwriter.worksheet import Worksheet

from analysis.data import catalog, schema
from analysis.data.synth.constants import (
    AREA_VI,
    FIXED_TIMESTAMP,
    LEVEL_VI,
    UNIT_LEVEL_VI,
    school_year_label,
)
from analysis.data.synth.province import Province
from analysis.data.synth.realism import UNKNOWN_COLUMN, header_variant

REGISTER_FILENAME = "danh_muc_truong.xlsx"
TRUTH_FILENAME = catalog.TRUTH_FILE
DEPARTMENT = "SỞ GIÁO DỤC VÀ ĐÀO TẠO TỈNH THÁI NGUYÊN"
REGISTER_SHEETS = {  # sheet name -> (contract table, Province attribute)
    "Danh sách trường": ("schools", "schools"),
    "Đơn vị hành chính": ("units", "units"),
    "Trực thuộc": ("membership", "membership"),
    "Bảng chuyển đổi": ("crosswalk", "crosswalk"),
}


def report_filename(end_year: int) -> str:
    """The file name of the report for the school year ending in ``end_year``.

    Parameters
    ----------
    end_year
        The calendar year in which the school year ends.

    Returns
    -------
    str
        ``bao_cao_cds_<start>-<end>.xlsx``.

    Example
    -------
    >>> report_filename(2025)
    'bao_cao_cds_2024-2025.xlsx'
    """
    return f"bao_cao_cds_{school_year_label(end_year)}.xlsx"


def write(province: Province, out: Path) -> list[Path]:
    """Write the raw files: one workbook per school year, the register, ``truth.json``.

    Parameters
    ----------
    province
        A province from :func:`~analysis.data.synth.generate`; its ``reports`` are
        written as they are, flaws included.
    out
        The folder to write to; created if missing, files in it are overwritten.

    Returns
    -------
    list of pathlib.Path
        The files written: the reports in school-year order, then
        :data:`REGISTER_FILENAME`, then ``truth.json``.

    Raises
    ------
    TypeError
        If the truth holds a value JSON cannot represent.

    Example
    -------
    >>> import tempfile
    >>> from analysis.data import synth
    >>> province = synth.generate(seed=1, profile="clean", scale=0.1)
    >>> [p.name for p in write(province, Path(tempfile.mkdtemp()))][-2:]
    ['danh_muc_truong.xlsx', 'truth.json']
    """
    out.mkdir(parents=True, exist_ok=True)
    written = []
    variants = province.truth.get("header_variants", {})
    rng = np.random.default_rng(province.seed + 2)  # column order of the "synonym" template
    for year, rows in province.reports.items():
        path = out / report_filename(year)
        _write_report(path, year, rows, variants.get(year, "canonical"), rng)
        written.append(path)
    written.append(_write_register(province, out / REGISTER_FILENAME))
    written.append(_write_truth(province.truth, out / TRUTH_FILENAME))
    return written


NOTE_TEXT = "Đã rà soát số liệu"  # the text of the "Ghi chú" cells that are filled
NOTE_EVERY = 40  # one row in this many carries a note


def _write_report(
    path: Path, year: int, rows: pd.DataFrame, kind: str, rng: np.random.Generator
) -> None:
    """One school year's report in the template of variant ``kind``."""
    specs = schema.contract("panel")
    columns = list(specs)
    if kind == "synonym":  # another template version: other order
        head, tail = columns[:3], columns[3:]
        columns = head + [tail[i] for i in rng.permutation(len(tail))]
    headers = [header_variant(kind, specs[c]) for c in columns]
    if kind == "spacing":
        headers.append(UNKNOWN_COLUMN)
    body = []
    for position, record in enumerate(rows.to_dict(orient="records")):
        texts = record["_cell_text"]
        line = []
        for c in columns:
            value = texts.get(c, record[c])
            if specs[c].dtype == "bool":
                value = _bool_text(value)
            line.append(value)
        if kind == "spacing":  # a note on some rows, as offices write them; most left blank
            line.append(NOTE_TEXT if position % NOTE_EVERY == NOTE_EVERY - 1 else None)
        body.append(line)
    title = [
        DEPARTMENT,
        f"BÁO CÁO SỐ LIỆU CHUYỂN ĐỔI SỐ NĂM HỌC {school_year_label(year)}"
        " (DỮ LIỆU MÔ PHỎNG / SYNTHETIC)",
    ]
    book = _workbook(path)
    _write_sheet(book, "Báo cáo", title, headers, body)
    book.close()


def _write_register(province: Province, path: Path) -> Path:
    """The register workbook: schools, units, memberships and the crosswalk, one sheet each."""
    book = _workbook(path)
    title = [DEPARTMENT, "DANH MỤC TRƯỜNG (DỮ LIỆU MÔ PHỎNG)"]
    for sheet_name, (table, attribute) in REGISTER_SHEETS.items():
        contract = schema.contract(table)
        values = _register_rows(table, getattr(province, attribute), contract)
        _write_sheet(book, sheet_name, title, [s.header for s in contract.values()], values)
    book.close()
    return path


def _register_rows(
    table: str, frame: pd.DataFrame, contract: dict[str, schema.ColumnSpec]
) -> list[list[Any]]:
    """A register table's rows in contract order, codes shown in Vietnamese."""
    values = []
    for record in frame.to_dict(orient="records"):
        line = []
        for c in contract:
            value = record.get(c)
            if value is None or pd.isna(value):
                value = None
            elif table == "schools" and c == "school_level":
                value = LEVEL_VI[value]
            elif c == "area_type":
                value = AREA_VI[value]
            elif c == "unit_level":
                value = UNIT_LEVEL_VI[value]
            line.append(value)
        values.append(line)
    return values


def _write_truth(truth: dict[str, Any], path: Path) -> Path:
    """The truth as pretty UTF-8 JSON, one newline at the end."""
    text = json.dumps(truth, ensure_ascii=False, indent=2, default=_json_default)
    path.write_text(text + "\n", encoding="utf-8")
    return path


def _bool_text(value: Any) -> str | None:
    """A yes/no cell as the templates write it ("Có" / "Không"), ``None`` if missing."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return "Có" if bool(value) else "Không"


def _workbook(path: Path) -> xlsxwriter.Workbook:
    """A workbook with fixed properties, so the bytes do not depend on when it was written."""
    book = xlsxwriter.Workbook(str(path))
    book.set_properties(
        {
            "title": "Synthetic Thái Nguyên CĐS data (dữ liệu mô phỏng)",
            "author": "cds-workbench synth",
            "created": FIXED_TIMESTAMP,
        }
    )
    return book


def _write_sheet(
    book: xlsxwriter.Workbook,
    name: str,
    title: list[str],
    headers: list[str],
    rows: list[list[Any]],
) -> Worksheet:
    """A sheet as a Department's template lays it out: title lines, a blank row, headers."""
    sheet = book.add_worksheet(name)
    bold = book.add_format({"bold": True})
    head = book.add_format({"bold": True, "text_wrap": True, "border": 1, "bg_color": "#DDEBF7"})
    for r, line in enumerate(title):
        sheet.write_string(r, 0, line, bold)
    header_row = len(title) + 1  # one blank row between title and header
    for c, text in enumerate(headers):
        sheet.write_string(header_row, c, text, head)
    for r, values in enumerate(rows, start=header_row + 1):
        for c, value in enumerate(values):
            if value is None:
                continue
            if isinstance(value, str):
                sheet.write_string(r, c, value)
            elif isinstance(value, bool | np.bool_):
                sheet.write_string(r, c, "Có" if value else "Không")
            elif isinstance(value, dt.date | dt.datetime | pd.Timestamp):
                sheet.write_string(r, c, pd.Timestamp(value).strftime("%d/%m/%Y"))
            else:
                number = float(value)
                if not math.isnan(number):
                    sheet.write_number(r, c, number)
    sheet.freeze_panes(header_row + 1, 2)
    return sheet


def _json_default(value: Any) -> Any:
    """NumPy scalars and dates in the truth, as JSON can hold them."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, dt.date | pd.Timestamp):
        return value.isoformat()
    raise TypeError(f"cannot write {type(value).__name__} to JSON")
