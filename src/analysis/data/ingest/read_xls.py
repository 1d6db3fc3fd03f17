"""Reading an old Excel ``.xls`` workbook (BIFF8), as Excel shows it.

The sector database and school-management software still export ``.xls``. It is read
with `xlrd <https://github.com/python-excel/xlrd>`_ (the reader pandas uses for the
format) with ``formatting_info=True``, because a reader needs each cell's number
format: a number shown as a percentage (``0.971`` formatted ``0.0%``, shown 97.1%)
becomes :class:`~analysis.data.ingest.sheet.Percent`, a date cell a date, a whole
number ``12`` (BIFF stores every number as a float) the integer Excel shows, and an
error cell its text (``#DIV/0!``), as an ``.xlsx`` is read. Every cell record is read,
whatever the sheet's stored ``DIMENSIONS`` record says. A workbook is at most 65,536
rows, so it is read whole, not streamed.

An encrypted (password-protected) or damaged workbook is a clean
:class:`~analysis.data.ingest.errors.IngestError` naming the file.
"""

from __future__ import annotations

import contextlib
import io
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import xlrd
from xlrd.compdoc import CompDocError

from analysis.data.ingest.errors import IngestError
from analysis.data.ingest.sheet import HEAD_ROWS, Percent, Sheet, is_percent_format

UNPROTECTED = "the workbook saved without a password (File → Info → Protect Workbook)"
OLE_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # a Compound File: .xls, or an encrypted .xlsx
# what xlrd raises for a damaged file: its own errors and those of the structures it unpacks
# (LookupError: a damaged CODEPAGE record names no codec; RecursionError: a damaged
# directory chain; both found by a byte-level fuzz)
_BROKEN = (
    *(xlrd.XLRDError, CompDocError, struct.error, AssertionError, EOFError, LookupError),
    *(ValueError, ArithmeticError, TypeError, UnicodeDecodeError, MemoryError, RecursionError),
)


def is_encrypted_package(path: Path) -> bool:
    """Whether a Compound File is an encrypted Office Open XML workbook (a password-protected
    ``.xlsx``): its directory names an ``EncryptedPackage`` stream."""
    name = "EncryptedPackage".encode("utf-16-le")
    with open(path, "rb") as handle:
        return name in handle.read()


@contextlib.contextmanager
def open_xls(path: Path, shown: str) -> Iterator[list[Sheet]]:
    """The worksheets of an ``.xls`` workbook, each cell as Excel shows it."""
    book = _open_book(path, shown)
    try:
        sheets = []
        for index in range(book.nsheets):
            ws = book.sheet_by_index(index)
            rows = _shown_rows(book, ws, shown)
            sheets.append(Sheet(shown, ws.name, rows[:HEAD_ROWS], iter(rows[HEAD_ROWS:])))
        yield sheets
    finally:
        book.release_resources()


def _open_book(path: Path, shown: str) -> Any:
    """The workbook opened with its formats, or a clear error for what cannot be read."""
    with open(path, "rb") as handle:
        head = handle.read(8)
    if head != OLE_SIGNATURE:
        what = (
            "an .xlsx workbook saved as .xls" if head.startswith(b"PK") else "not an .xls workbook"
        )
        raise IngestError(shown, what, expected=["an .xls workbook, or rename it to its own type"])
    if is_encrypted_package(path):
        raise IngestError(shown, "the workbook is password-protected", expected=[UNPROTECTED])
    try:
        # xlrd's notes on a damaged file go to its log, not the user's terminal
        log = io.StringIO()
        return xlrd.open_workbook(str(path), formatting_info=True, logfile=log, verbosity=0)
    except _BROKEN as exc:
        if "encrypted" in str(exc).lower():
            raise IngestError(
                shown, "the workbook is password-protected", expected=[UNPROTECTED]
            ) from exc
        raise IngestError(
            shown,
            f"cannot open the .xls workbook ({exc.__class__.__name__}: {exc})",
            expected=["a complete, unprotected .xls workbook (open it in Excel and save it again)"],
        ) from exc


def _shown_rows(book: Any, ws: Any, shown: str) -> list[list[Any]]:
    """Every row of the sheet, each cell converted to what Excel shows."""
    percent: dict[int, bool] = {}  # XF index → whether its number format is a percentage
    rows = []
    for r in range(ws.nrows):
        cells = []
        for cell in ws.row(r):
            try:
                cells.append(_shown(book, cell, percent))
            except _BROKEN as exc:
                raise IngestError(
                    f"{shown} [sheet {ws.name}]",
                    f"cannot read row {r + 1} ({exc.__class__.__name__}: {exc})",
                    expected=["a complete .xls workbook (open it in Excel and save it again)"],
                ) from exc
        while cells and cells[-1] is None:  # as openpyxl: no trailing blanks
            cells.pop()
        rows.append(cells)
    return rows


def _shown(book: Any, cell: Any, percent: dict[int, bool]) -> Any:
    """One cell's value as Excel shows it."""
    kind, value = cell.ctype, cell.value
    if kind in (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK):
        return None
    if kind == xlrd.XL_CELL_TEXT:
        return value if value != "" else None
    if kind == xlrd.XL_CELL_BOOLEAN:
        return bool(value)
    if kind == xlrd.XL_CELL_ERROR:
        return xlrd.error_text_from_code.get(value, f"#ERROR{value}")
    if kind == xlrd.XL_CELL_DATE:
        try:
            return xlrd.xldate.xldate_as_datetime(value, book.datemode)
        except (xlrd.xldate.XLDateError, ValueError, OverflowError):
            pass  # a number in a date format Excel itself shows as ####: kept as the number
    xf = cell.xf_index
    if xf not in percent:
        fmt = book.format_map.get(book.xf_list[xf].format_key) if xf is not None else None
        percent[xf] = fmt is not None and is_percent_format(fmt.format_str)
    if percent[xf]:
        return Percent(float(value))
    number = float(value)
    return int(number) if number.is_integer() and abs(number) < 2**53 else number
