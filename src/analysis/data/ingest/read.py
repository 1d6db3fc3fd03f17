"""Reading raw files: find them, open each as sheets, convert legacy-font text.

:func:`discover` lists the data files under a path; :func:`open_sheets` opens one as a
list of :class:`~analysis.data.ingest.sheet.Sheet` (an ``.xlsx`` workbook through
:mod:`~analysis.data.ingest.read_xlsx`, an old ``.xls`` through
:mod:`~analysis.data.ingest.read_xls`, an ``.ods`` through
:mod:`~analysis.data.ingest.read_ods`, a CSV or text file through
:mod:`~analysis.data.ingest.read_csv`), its first rows read and the rest streamed, and
converts text typed in the legacy TCVN3 and VNI fonts to Unicode on the way. An Excel
file is told by its content, not its name: software saves an ``.xlsx`` as ``.xls``,
and some "Excel exports" are web pages.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from analysis.core import legacy
from analysis.data.ingest.errors import IngestError
from analysis.data.ingest.read_csv import open_csv
from analysis.data.ingest.read_ods import open_ods
from analysis.data.ingest.read_xls import (
    OLE_SIGNATURE,
    UNPROTECTED,
    is_encrypted_package,
    open_xls,
)
from analysis.data.ingest.read_xlsx import open_xlsx
from analysis.data.ingest.sheet import Sheet, col_letter, display_path, sheet_suffix

DATA_SUFFIXES = {".xlsx", ".xlsm", ".xls", ".ods", ".csv", ".txt", ".tsv"}
WORKBOOK_SUFFIXES = {".xlsx", ".xlsm", ".xls"}


def discover(path: Path) -> list[Path]:
    """The data files under ``path`` (a file or a folder), in a stable order.

    Parameters
    ----------
    path
        A file (returned as it is, whatever its suffix) or a folder, searched
        recursively for :data:`DATA_SUFFIXES`; Excel lock files (``~$…``) and hidden
        files are left out.

    Returns
    -------
    list of Path
        The files, sorted.

    Raises
    ------
    IngestError
        When ``path`` does not exist, or a folder holds no data file.

    Example
    -------
    >>> [p.name for p in discover(Path("data/raw"))]  # doctest: +SKIP
    ['bao_cao_2023-2024.xlsx', 'bao_cao_2024-2025.xlsx', 'danh_muc_truong.csv']
    """
    if not path.exists():
        raise IngestError(display_path(path), "no such file or folder")
    if path.is_file():
        return [path]
    files = sorted(
        p
        for p in path.rglob("*")
        if p.is_file() and p.suffix.lower() in DATA_SUFFIXES and not p.name.startswith(("~$", "."))
    )
    if not files:
        raise IngestError(
            display_path(path),
            "the folder holds no data files",
            expected=["*.xlsx or *.csv reports and the school register"],
        )
    return files


@contextlib.contextmanager
def open_sheets(path: Path) -> Iterator[list[Sheet]]:
    """The sheets of a raw file, streamed; legacy-font text converted to Unicode.

    Parameters
    ----------
    path
        An ``.xlsx``/``.xlsm`` or old ``.xls`` workbook (told apart by their content,
        not their name), an ``.ods`` spreadsheet, or a ``.csv``/``.txt``/``.tsv`` text
        file.

    Returns
    -------
    contextlib.AbstractContextManager of list of Sheet
        A context manager; inside it each sheet's ``head`` holds its first
        :data:`~analysis.data.ingest.sheet.HEAD_ROWS` rows and ``rest`` streams the
        others from the open file, which is closed on leaving the context. Warnings
        about converted legacy-font cells land in ``Sheet.notes`` once ``rest`` is
        exhausted.

    Raises
    ------
    IngestError
        For an unknown file type, a password-protected workbook, a web page or XML
        file saved with a workbook's name, and a file that cannot be opened or
        decoded (also while ``rest`` is streamed).

    Example
    -------
    >>> with open_sheets(Path("data/raw/bao_cao_2024-2025.xlsx")) as sheets:  # doctest: +SKIP
    ...     for sheet in sheets:
    ...         print(sheet.name, len(sheet.head), sum(1 for _ in sheet.rest))
    """
    shown = display_path(path)
    suffix = path.suffix.lower()
    if suffix in WORKBOOK_SUFFIXES:
        opener = _workbook_opener(path, shown)
    elif suffix == ".ods":
        opener = open_ods
    elif suffix in {".csv", ".txt", ".tsv"}:
        opener = open_csv
    else:
        raise IngestError(shown, f"unknown file type {suffix!r}", expected=sorted(DATA_SUFFIXES))
    with opener(path, shown) as sheets:
        yield [_legacy_rows(sheet) for sheet in sheets]


def _workbook_opener(path: Path, shown: str) -> Any:
    """The reader for an Excel file by what it holds: software names an .xlsx ``.xls``
    and the other way round, and some "Excel exports" are web pages or XML."""
    with open(path, "rb") as handle:
        head = handle.read(4096)
    if head.startswith(b"PK"):
        return open_xlsx
    if head.startswith(OLE_SIGNATURE):
        if is_encrypted_package(path):
            raise IngestError(shown, "the workbook is password-protected", expected=[UNPROTECTED])
        return open_xls
    start = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if start.startswith((b"<html", b"<!doctype html", b"<table", b"<meta")):
        what = "a web page (HTML) saved with an Excel name, not a workbook"
    elif start.startswith(b"<?xml") and b"urn:schemas-microsoft-com:office:spreadsheet" in head:
        what = "an XML Spreadsheet 2003 file, not a workbook"
    elif start.startswith(b"<"):
        what = "an XML or web file saved with an Excel name, not a workbook"
    else:
        what = "not an Excel workbook (it may be a CSV or text file)"
    raise IngestError(
        shown,
        what,
        expected=["open it in Excel and save it as .xlsx", "or rename a text file to .csv"],
    )


class _LegacyCells:
    """Converts legacy-font cells row by row, counting and sampling what it did."""

    def __init__(self, decided: legacy.Guess):
        self.decided = decided
        self.counts: dict[str, int] = {}
        self.converted: list[str] = []  # a few examples, for the warning
        self.unsure: list[str] = []

    def fix(self, number: int, row: list[Any]) -> list[Any]:
        """Row ``number`` with every convertible legacy cell converted (in place)."""
        counts, converted, unsure = self.counts, self.converted, self.unsure
        for i, cell in enumerate(row):
            if not isinstance(cell, str) or not legacy.could_be_legacy(cell):
                continue
            mode = self.decided.encoding
            if mode not in legacy.CONVERTERS:
                if not legacy.looks_legacy(cell):
                    continue
                mode = legacy.guess([cell]).encoding
            if mode in legacy.CONVERTERS:
                new = legacy.to_unicode(cell, mode)
                if legacy.implausible_words(new) <= legacy.implausible_words(cell):
                    if len(converted) < 3:
                        shown = f"row {number} column {col_letter(i)}: {cell!r} → {new!r}"
                        converted.append(shown)
                    counts[mode] = counts.get(mode, 0) + 1
                    row[i] = new
                    continue
            counts["unsure"] = counts.get("unsure", 0) + 1
            if len(unsure) < 5:
                unsure.append(f"row {number} column {col_letter(i)}: {cell!r}")
        return row

    def notes(self, where: str) -> list[str]:
        """The warnings about what was converted and what could not be."""
        out = []
        for mode in legacy.CONVERTERS:
            if self.counts.get(mode):
                out.append(
                    f"{where}: {self.counts[mode]} cells typed in the legacy "
                    f"{legacy.NAMES[mode]} font converted to Unicode "
                    f"(e.g. {'; '.join(self.converted)}); "
                    + (
                        "capital letters with a tone come out in lower case"
                        if mode == "tcvn3"
                        else "check them"
                    )
                )
        if self.counts.get("unsure"):
            out.append(
                f"{where}: {self.counts['unsure']} cells look like legacy-font Vietnamese (TCVN3 "
                f"or VNI) but cannot be converted unambiguously and are kept as typed: "
                + "; ".join(self.unsure)
            )
        return out


def _legacy_rows(sheet: Sheet) -> Sheet:
    """Convert text typed in a TCVN3 or VNI font; warn where that is not unambiguous.

    The sheet's first rows decide its font (:func:`legacy.guess`). In a legacy
    sheet every cell that could be legacy text is converted; in a Unicode sheet
    a stray legacy cell further down is judged on its own.
    """
    where = f"{sheet.file}{sheet_suffix(sheet)}"
    texts = [c for r in sheet.head for c in r if isinstance(c, str)]
    cells = _LegacyCells(legacy.guess(texts))
    sheet.head = [cells.fix(n + 1, r) for n, r in enumerate(sheet.head)]
    sheet.rest = _fixed_rest(sheet, sheet.rest, len(sheet.head), cells, where)
    return sheet


def _fixed_rest(
    sheet: Sheet, source: Iterator[list[Any]], start: int, cells: _LegacyCells, where: str
) -> Iterator[list[Any]]:
    """The rows after the head, converted; the warnings go to ``sheet.notes`` at the end."""
    for n, row in enumerate(source, start=start + 1):
        yield cells.fix(n, list(row))
    sheet.notes.extend(cells.notes(where))
