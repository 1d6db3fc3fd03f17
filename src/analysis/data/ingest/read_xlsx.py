"""Reading an Excel workbook: every worksheet streamed, formulas without a value marked.

A workbook is opened read-only and streamed row by row; when it holds formulas it is
opened a second time for the formula text, so that a formula Excel never computed
becomes :class:`~analysis.data.ingest.sheet.Uncomputed` instead of a blank. A workbook
that is damaged when opened or part-way through is a clean :class:`IngestError`.

Every cell present is read, whatever the sheet's stored ``<dimension>`` says (streaming
writers leave ``A1``, a filled-in template keeps its old range), and a number shown as
a percentage (``0.971`` formatted ``0.0%``, shown 97.1%) is read as
:class:`~analysis.data.ingest.sheet.Percent`, as Excel shows it.
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
from analysis.data.ingest.sheet import HEAD_ROWS, Percent, Sheet, Uncomputed, is_percent_format

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
    books, handles = [], []
    try:
        try:
            # opened as files, not names: openpyxl refuses a name it does not know, and
            # software saves .xlsx workbooks as .xls (read.py tells them apart by content)
            handles.append(open(path, "rb"))  # noqa: SIM115 - closed in the finally below
            books.append(load_workbook(handles[-1], read_only=True, data_only=True))
            if _has_formulas(path):
                handles.append(open(path, "rb"))  # noqa: SIM115
                books.append(load_workbook(handles[-1], read_only=True, data_only=False))
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
            source: Iterator[Any] = _shown_rows(ws)
            if len(books) == 2:
                formulas = books[1].worksheets[i]
                formulas.reset_dimensions()
                source = _uncomputed(source, formulas.iter_rows(values_only=True))
            source = _guarded(source, shown, ws.title)
            head = [list(r) for r in itertools.islice(source, HEAD_ROWS)]
            sheets.append(Sheet(shown, ws.title, head, (list(r) for r in source)))
        yield sheets
    finally:
        for book in books:
            book.close()
        for handle in handles:
            handle.close()


def _shown_rows(ws: Any) -> Iterator[list[Any]]:
    """The sheet's rows, every cell present, numbers in a percentage format as :class:`Percent`.

    The stored dimension is dropped first: read-only openpyxl trusts it and would cut
    the sheet to it (or to A1) without a word.
    """
    ws.reset_dimensions()
    percent_styles: dict[int, bool] = {}  # style id → whether its number format is a percentage
    for row in ws.iter_rows():
        cells = []
        for cell in row:
            value = cell.value
            if isinstance(value, int | float) and not isinstance(value, bool):
                style = cell._style_id  # openpyxl keeps no public id; the cache needs one
                shown = percent_styles.get(style)
                if shown is None:
                    shown = percent_styles[style] = is_percent_format(cell.number_format)
                if shown:
                    value = Percent(float(value))
            cells.append(value)
        yield cells


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
