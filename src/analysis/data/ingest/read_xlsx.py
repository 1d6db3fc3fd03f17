"""Reading an Excel workbook: every worksheet streamed, formulas without a value marked.

A workbook is opened read-only and streamed row by row; when it holds formulas it is
opened a second time for the formula text, so that a formula Excel never computed
becomes :class:`~analysis.data.ingest.sheet.Uncomputed` instead of a blank. A workbook
that is damaged when opened or part-way through is a clean :class:`IngestError`.
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from xml.etree import ElementTree
from xml.parsers import expat

from analysis.data.ingest.errors import IngestError
from analysis.data.ingest.sheet import HEAD_ROWS, Sheet, Uncomputed

# what zipfile raises for a damaged archive that claims a feature it does not support
# (an unknown compression method, "compressed patched data") or an encrypted member;
# found by tests/unit/test_ingest_fuzz.py
_ZIP_FEATURE_ERRORS = (NotImplementedError, RuntimeError)
# what a damaged workbook raises while it is opened or streamed
_XML_ERRORS = (ElementTree.ParseError, expat.ExpatError, zlib.error)


def _has_formulas(path: Path) -> bool:
    """Whether any worksheet holds a formula (scanned in blocks, never whole)."""
    with zipfile.ZipFile(path) as archive:
        for info in archive.infolist():
            if not info.filename.startswith("xl/worksheets/"):
                continue
            with archive.open(info) as member:
                tail = b""
                for block in iter(functools.partial(member.read, 1 << 20), b""):
                    if b"<f>" in tail + block or b"<f " in tail + block:
                        return True
                    tail = block[-3:]
    return False


def _uncomputed(values: Iterator[tuple], formulas: Iterator[tuple]) -> Iterator[list[Any]]:
    """Cells whose formula has no cached value become :class:`Uncomputed`."""
    for row, raw in itertools.zip_longest(values, formulas, fillvalue=()):
        cells = list(row)
        for i, formula in enumerate(raw):
            missing = i < len(cells) and cells[i] is None
            if missing and isinstance(formula, str) and formula.startswith("="):
                cells[i] = Uncomputed(formula)
        yield cells


def _check_signature(path: Path, shown: str) -> None:
    """Raise unless the file starts like an .xlsx (a zip archive)."""
    with open(path, "rb") as handle:
        head = handle.read(8)
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise IngestError(
            shown,
            "the workbook is password-protected or in the old .xls format",
            expected=["an unprotected .xlsx workbook (File → Save As → .xlsx)"],
        )
    if not head.startswith(b"PK"):
        raise IngestError(
            shown,
            "not an Excel workbook (it may be a CSV or text file)",
            expected=["an .xlsx workbook", "or rename a text file to .csv"],
        )


@contextlib.contextmanager
def open_xlsx(path: Path, shown: str) -> Iterator[list[Sheet]]:
    """The worksheets of a workbook, each streamed while the context is open."""
    # imported here, not at the top: reading CSV files alone never loads openpyxl
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    _check_signature(path, shown)
    books = []
    try:
        try:
            books.append(load_workbook(path, read_only=True, data_only=True))
            if _has_formulas(path):
                books.append(load_workbook(path, read_only=True, data_only=False))
        except (
            zipfile.BadZipFile,
            InvalidFileException,
            KeyError,
            OSError,
            ValueError,
            *_ZIP_FEATURE_ERRORS,
            *_XML_ERRORS,
        ) as exc:
            raise IngestError(
                shown,
                f"cannot open the workbook ({exc.__class__.__name__}: {exc})",
                expected=["a complete, unprotected .xlsx workbook"],
            ) from exc
        sheets = []
        for i, ws in enumerate(books[0].worksheets):
            source: Iterator[Any] = ws.iter_rows(values_only=True)
            if len(books) == 2:
                source = _uncomputed(source, books[1].worksheets[i].iter_rows(values_only=True))
            source = _guarded(source, shown, ws.title)
            head = [list(r) for r in itertools.islice(source, HEAD_ROWS)]
            sheets.append(Sheet(shown, ws.title, head, (list(r) for r in source)))
        yield sheets
    finally:
        for book in books:
            book.close()


def _guarded(rows: Iterator[Any], shown: str, sheet: str) -> Iterator[Any]:
    """A workbook that breaks while streamed (truncated, corrupt) is a clean error."""
    number = 0
    try:
        for row in rows:
            number += 1
            yield row
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, EOFError, *_ZIP_FEATURE_ERRORS,
            *_XML_ERRORS) as exc:  # fmt: skip
        raise IngestError(
            f"{shown} [sheet {sheet}]",
            f"the workbook is damaged after row {number} ({exc.__class__.__name__}: {exc})",
            expected=["a complete .xlsx workbook (open it in Excel and save it again)"],
        ) from exc
