"""Reading an OpenDocument spreadsheet (``.ods``, LibreOffice's own format), as it is shown.

The values come from `python-calamine <https://github.com/dimastbk/python-calamine>`_
(the Rust calamine reader, which pandas also offers for the format): fast, and it
expands LibreOffice's run-length rows and columns (``number-columns-repeated``,
the million empty rows a saved sheet ends with) without materialising them.
calamine keeps no number formats, and a percentage cell holds its fraction
(``0.971``, shown 97.1%). So the sheet's ``content.xml`` is streamed once more for
the cells whose value type is ``percentage``, and those are read as
:class:`~analysis.data.ingest.sheet.Percent`, as LibreOffice shows them. A whole
number ``12`` is the integer shown, not calamine's ``12.0``.

A password-protected (encrypted) or damaged file is a clean
:class:`~analysis.data.ingest.errors.IngestError` naming the file.
"""

from __future__ import annotations

import contextlib
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import python_calamine

from analysis.data.ingest.errors import IngestError
from analysis.data.ingest.sheet import HEAD_ROWS, Percent, Sheet

MIMETYPE = b"application/vnd.oasis.opendocument.spreadsheet"
_TABLE = "{urn:oasis:names:tc:opendocument:xmlns:table:1.0}"
_OFFICE = "{urn:oasis:names:tc:opendocument:xmlns:office:1.0}"
_CELLS = {f"{_TABLE}table-cell", f"{_TABLE}covered-table-cell"}
_BROKEN = (zipfile.BadZipFile, KeyError, OSError, ValueError, EOFError, zlib.error,
           ElementTree.ParseError, NotImplementedError, RuntimeError)  # fmt: skip
_COMPLETE = "a complete, unprotected .ods file (open it in LibreOffice and save it again)"

# a block of percentage cells: rows [r0, r1) × columns [c0, c1) of one sheet
Block = tuple[int, int, int, int]


@contextlib.contextmanager
def open_ods(path: Path, shown: str) -> Iterator[list[Sheet]]:
    """The sheets of an ``.ods`` file, each cell as LibreOffice shows it."""
    _check_package(path, shown)
    try:
        percent = _percentage_blocks(path)
        book = python_calamine.CalamineWorkbook.from_path(str(path))
    except (python_calamine.CalamineError, *_BROKEN) as exc:
        raise IngestError(
            shown,
            f"cannot open the .ods file ({exc.__class__.__name__}: {exc})",
            expected=[_COMPLETE],
        ) from exc
    try:
        sheets = []
        for index, name in enumerate(book.sheet_names):
            try:
                grid = book.get_sheet_by_index(index).to_python(skip_empty_area=False)
            except python_calamine.CalamineError as exc:
                raise IngestError(
                    f"{shown} [sheet {name}]",
                    f"cannot read the sheet ({exc.__class__.__name__}: {exc})",
                    expected=[_COMPLETE],
                ) from exc
            rows = _shown_rows(grid, percent[index] if index < len(percent) else [])
            sheets.append(Sheet(shown, name, rows[:HEAD_ROWS], iter(rows[HEAD_ROWS:])))
        yield sheets
    finally:
        book.close()


def _check_package(path: Path, shown: str) -> None:
    """Raise unless the file is an unencrypted OpenDocument spreadsheet package."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            kind = archive.read("mimetype").strip() if "mimetype" in names else b""
            manifest = (
                archive.read("META-INF/manifest.xml") if "META-INF/manifest.xml" in names else b""
            )
    except _BROKEN as exc:
        raise IngestError(
            shown,
            f"not a readable .ods file ({exc.__class__.__name__}: {exc})",
            expected=[_COMPLETE],
        ) from exc
    if b"encryption-data" in manifest:
        raise IngestError(
            shown,
            "the file is password-protected",
            expected=[
                "the file saved without a password (File → Save As, untick 'Save with password')"
            ],
        )
    if kind != MIMETYPE or "content.xml" not in names:
        what = kind.decode("ascii", "replace") or "no OpenDocument mimetype"
        raise IngestError(shown, f"not an OpenDocument spreadsheet ({what})", expected=[_COMPLETE])


def _percentage_blocks(path: Path) -> list[list[Block]]:
    """For each sheet in order, the blocks of cells whose value type is ``percentage``.

    ``content.xml`` is streamed (each row cleared once read); rows and cells repeated
    with ``number-rows-repeated`` / ``number-columns-repeated`` count as many times
    as they repeat, and a covered (merged-away) cell takes its column, as in calamine.
    """
    sheets: list[list[Block]] = []
    row = col = depth = 0
    repeat_rows = 1
    with zipfile.ZipFile(path) as archive, archive.open("content.xml") as content:
        for event, elem in ElementTree.iterparse(content, events=("start", "end")):
            tag = elem.tag
            if tag == f"{_TABLE}table":
                depth += 1 if event == "start" else -1
                if event == "start" and depth == 1:
                    sheets.append([])
                    row = 0
            elif depth != 1:
                continue  # a table inside a cell is not a row of the sheet
            elif tag == f"{_TABLE}table-row":
                if event == "start":
                    col, repeat_rows = 0, int(elem.get(f"{_TABLE}number-rows-repeated", "1"))
                else:
                    row += repeat_rows
                    elem.clear()
            elif tag in _CELLS and event == "start":
                span = int(elem.get(f"{_TABLE}number-columns-repeated", "1"))
                if elem.get(f"{_OFFICE}value-type") == "percentage":
                    sheets[-1].append((row, row + repeat_rows, col, col + span))
                col += span
    return sheets


def _shown_rows(grid: list[list[Any]], percent: list[Block]) -> list[list[Any]]:
    """calamine's grid (from A1) as rows of shown values: blanks ``None``, no trailing blanks."""
    rows = []
    for values in grid:
        cells = [_shown(v) for v in values]
        while cells and cells[-1] is None:
            cells.pop()
        rows.append(cells)
    for r0, r1, c0, c1 in percent:
        for r in range(r0, min(r1, len(rows))):
            cells = rows[r]
            for c in range(c0, min(c1, len(cells))):
                value = cells[c]
                if isinstance(value, int | float) and not isinstance(value, bool):
                    cells[c] = Percent(float(value))
    return rows


def _shown(value: Any) -> Any:
    """One calamine value as shown: ``''`` is a blank, a whole float the integer."""
    if isinstance(value, str):
        return value if value != "" else None
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    return value
