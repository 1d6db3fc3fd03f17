"""Parsing a recognised sheet: every cell to its column's value, every row accounted for.

Each cell is read by :func:`~analysis.data.ingest.cells.parse_cell`; a cell that
cannot be read becomes a reject with its rule; a row holding one line of text only is a
note, rejected as such; blank rows are counted. Rows are gathered in chunks of
:data:`CHUNK_ROWS` so that a large file never sits in memory as Python objects.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from analysis.core.text import clean_text, is_na
from analysis.data import schema
from analysis.data.ingest.cells import (
    CellProblem,
    Undecided,
    code_lookup,
    parse_cell,
    year_from_text,
)
from analysis.data.ingest.decimals import DecimalMarks
from analysis.data.ingest.detect import Detected
from analysis.data.ingest.errors import IngestError
from analysis.data.ingest.sheet import Sheet, col_letter, sheet_suffix

CHUNK_ROWS = 5000
EXTRA_COLUMNS = {
    "file": "str",
    "sheet": "str",
    "row": "int64",
    "header": "str",
    "value": "str",
}


def typed_frame(frame: pd.DataFrame, table: str) -> pd.DataFrame:
    """Parsed records as the processed table's dtypes (ints nullable until validated)."""
    out = frame[["_file", "_sheet", "_row"]].copy()
    for name, dtype in schema.processed_columns(table).items():
        values = frame[name]
        if dtype == "boolean":
            out[name] = pd.array(values.tolist(), dtype="boolean")
        elif dtype == "Int64":
            out[name] = pd.array(values.tolist(), dtype="Int64")
        elif dtype.startswith("datetime"):
            out[name] = pd.to_datetime(values).astype(dtype)
        elif dtype == "int64":
            out[name] = pd.array(values.tolist(), dtype="Int64")  # made int64 after validation
        elif dtype == "str":
            out[name] = values.astype("object").where(values.notna(), None).astype("str")
        else:
            out[name] = pd.to_numeric(values, errors="coerce").astype(dtype)
    return out


@dataclass
class ParsedSheet:
    """One sheet parsed: its rows typed, the cells that failed, the unknown columns' values."""

    table: str
    frame: pd.DataFrame  # parsed values plus _file, _sheet, _row
    problems: list[dict[str, Any]]
    extra: list[dict[str, Any]]
    input_rows: int
    blank_rows: int
    file_info: dict[str, Any]


def parse_sheet(sheet: Sheet, found: Detected, file_path: Path | None = None) -> ParsedSheet:
    """Parse every row under the header of a recognised sheet.

    Parameters
    ----------
    sheet
        The sheet as :func:`~analysis.data.ingest.read.open_sheets` yields it; its
        ``rest`` is consumed.
    found
        What :func:`~analysis.data.ingest.detect.detect` recognised in it.
    file_path
        Not used; accepted for the callers that pass the file the sheet came from.

    Returns
    -------
    ParsedSheet
        The typed rows (with ``_file``, ``_sheet``, ``_row``), a reject record per
        unreadable cell and per note row, the values of unknown columns, and the
        counts: every non-blank row is an input row, kept in ``frame`` or (as a note)
        only in ``problems``.

    Raises
    ------
    IngestError
        When a required column is missing, or a school-year report has its school
        year neither as a column nor in its title or file name.

    Example
    -------
    >>> from analysis.data.ingest.detect import detect
    >>> header = ["Mã trường", "Năm học", "Số học sinh", "Số giáo viên"]
    >>> sheet = Sheet("r.csv", "", [header, ["79001", "2024-2025", "1.234", "56"]])
    >>> parsed = parse_sheet(sheet, detect(sheet))
    >>> parsed.frame[["school_id", "year", "enrolment", "teachers"]].to_dict("records")
    [{'school_id': '79001', 'year': 2025, 'enrolment': 1234, 'teachers': 56}]
    """
    contract = schema.contract(found.table)
    where = f"{sheet.file}{sheet_suffix(sheet)}"
    constant_year = _constant_year(sheet, found, contract, where)
    _require_columns(found, contract, constant_year is not None, where)
    return _parse_rows(sheet, found, contract, constant_year)


def _constant_year(
    sheet: Sheet, found: Detected, contract: dict[str, schema.ColumnSpec], where: str
) -> int | None:
    """The school year of a report without a year column, from its title or file name."""
    if found.table != "panel" or "school_year" in set(found.columns.values()):
        return None
    constant_year = year_from_text(found.title) or year_from_text(Path(sheet.file).stem)
    if constant_year is None:
        raise IngestError(
            where,
            "the school year is neither a column nor in the title or file name",
            column=f"{contract['school_year'].header} (school_year)",
            expected=["a 'Năm học' column", "or a title such as 'NĂM HỌC 2024-2025'"],
        )
    return constant_year


def _require_columns(
    found: Detected, contract: dict[str, schema.ColumnSpec], year_known: bool, where: str
) -> None:
    """Raise when a column that may not be blank has no header in the sheet."""
    present = set(found.columns.values())
    missing = [
        spec
        for name, spec in contract.items()
        if not spec.nullable and name not in present and not (name == "school_year" and year_known)
    ]
    if missing:
        raise IngestError(
            where,
            f"required column missing (header row {found.header_index + 1}, table {found.table})",
            column=", ".join(f"{s.header} ({s.name})" for s in missing),
            expected=[f"{s.header} ({s.name})" for s in contract.values() if not s.nullable],
            found=list(found.headers.values()),
            hint=_closest_headers(found, missing),
        )


SUGGEST_AT = 0.4  # the least similarity (0–1) of an unmatched header named for a missing column


def _closest_headers(found: Detected, missing: list[schema.ColumnSpec]) -> str:
    """For each missing column, the unmatched header of the sheet it most looks like."""
    expand = schema.abbreviations()
    unknown = [(position, text) for position, text in found.unknown.items() if text.strip()]
    advice = []
    for spec in missing:
        scored = [(schema.similarity(text, spec, expand), p, text) for p, text in unknown]
        best = max(scored, default=None)
        if best is None or best[0] < SUGGEST_AT:
            advice.append(f"no header of the sheet looks like {spec.header} ({spec.name})")
            continue
        advice.append(
            f"the header {best[2]!r} (column {col_letter(best[1])}) looks most like "
            f"{spec.header} ({spec.name}): if it is, add it to the synonyms of "
            f"{spec.name} in config/columns.yml (your workspace's, see workbench init)"
        )
    return "; ".join(advice)


def _parse_rows(
    sheet: Sheet,
    found: Detected,
    contract: dict[str, schema.ColumnSpec],
    constant_year: int | None,
) -> ParsedSheet:
    """The row loop: blank rows counted, note rows rejected, the others parsed in chunks."""
    codes = {name: code_lookup(spec) for name, spec in contract.items()}
    columns = ["_file", "_sheet", "_row", *schema.processed_columns(found.table)]
    records: list[dict[str, Any]] = []
    problems: list[dict[str, Any]] = []
    extra: list[dict[str, Any]] = []
    chunks: list[pd.DataFrame] = []
    marks = DecimalMarks()
    blank = 0
    input_rows = 0
    done = 0  # rows already in chunks
    for row_number, row in sheet.rows_from(found.header_index + 1):
        filled = [c for c in row if not (is_na(c) or (isinstance(c, str) and not c.strip()))]
        if not filled:
            blank += 1
            continue
        input_rows += 1
        note = _note_text(filled[0]) if len(filled) == 1 else None
        if note is not None:
            problems.append(_note_problem(found.table, sheet, row_number, note))
            continue
        record = {"_file": sheet.file, "_sheet": sheet.name, "_row": row_number}
        cells = _Cells(found, contract, codes, marks, done + len(records))
        problems += _parse_record(record, row, cells, constant_year)
        extra += _extra_values(sheet, found, row_number, row)
        records.append(record)
        if len(records) >= CHUNK_ROWS:  # a large file never sits in memory as Python objects
            chunks.append(typed_frame(pd.DataFrame(records, columns=columns), found.table))
            done += len(records)
            records = []
    chunks.append(typed_frame(pd.DataFrame(records, columns=columns), found.table))
    frame = pd.concat(chunks, ignore_index=True) if len(chunks) > 1 else chunks[0]
    undecided, notes = marks.settle(frame, found.table, f"{sheet.file}{sheet_suffix(sheet)}")
    problems += undecided
    sheet.notes.extend(notes)
    info = _file_info(sheet, found, input_rows, blank)
    return ParsedSheet(found.table, frame, problems, extra, input_rows, blank, info)


@dataclass
class _Cells:
    """What reading one row's cells needs: the columns, their codes, the sheet's marks."""

    found: Detected
    contract: dict[str, schema.ColumnSpec]
    codes: dict[str, dict[str, str]]
    marks: DecimalMarks
    position: int  # the row's place in the sheet's frame


def _parse_record(
    record: dict[str, Any], row: list[Any], cells: _Cells, constant_year: int | None
) -> list[dict[str, Any]]:
    """Fill ``record`` with the row's parsed values; returns the row's unreadable cells.

    A number that reads two ways is left blank here and filled, or rejected, once the
    sheet's decimal mark is known (:class:`~analysis.data.ingest.decimals.DecimalMarks`).
    """
    problems = []
    for pos, name in cells.found.columns.items():
        value = row[pos] if pos < len(row) else None
        spec = cells.contract[name]
        cells.marks.observe(value, spec, record["_row"])
        try:
            parsed = parse_cell(value, spec, cells.codes[name])
        except CellProblem as cell_problem:
            problems.append(_problem(cells.found.table, record, cell_problem))
            parsed = None
        except Undecided as undecided:
            cells.marks.defer(cells.position, name, undecided, record)
            parsed = None
        if name == "school_year":
            record["year"] = parsed
            record[name] = None if parsed is None else f"{parsed - 1}-{parsed}"
        else:
            record[name] = parsed
    if constant_year is not None:
        record["year"] = constant_year
        record["school_year"] = f"{constant_year - 1}-{constant_year}"
    for problem in problems:
        problem["school_id"] = record.get("school_id")
        problem["year"] = record.get("year")
    return problems


def _extra_values(
    sheet: Sheet, found: Detected, row_number: int, row: list[Any]
) -> list[dict[str, Any]]:
    """The row's filled cells under headers that matched no column (kept in extra_values)."""
    out = []
    for pos, header in found.unknown.items():
        value = row[pos] if pos < len(row) else None
        if not is_na(value):
            out.append(
                {
                    "file": sheet.file,
                    "sheet": sheet.name,
                    "row": row_number,
                    "header": header,
                    "value": clean_text(value),
                }
            )
    return out


def _file_info(sheet: Sheet, found: Detected, input_rows: int, blank: int) -> dict[str, Any]:
    """What the manifest records about one sheet."""
    return {
        "file": sheet.file,
        "sheet": sheet.name,
        "table": found.table,
        "header_row": found.header_index + 1,
        "rows": input_rows,
        "blank_rows": blank,
        "columns": {found.headers[p]: n for p, n in found.columns.items()},
        "unknown_columns": list(found.unknown.values()),
    }


def _note_text(cell: Any) -> str | None:
    """The text of a row's only filled cell when it is words (a note under a table)."""
    if not isinstance(cell, str):
        return None
    text = clean_text(cell)
    words = [w for w in text.split() if any(ch.isalpha() for ch in w)]
    return text if len(words) >= 2 else None


def _note_problem(table: str, sheet: Sheet, row_number: int, note: str) -> dict[str, Any]:
    """The reject record of a row that holds one line of text only."""
    return {
        "table": table,
        "file": sheet.file,
        "sheet": sheet.name,
        "row": row_number,
        "column": "",
        "value": note[:200],
        "rule": "note_row",
        "message": "a line of text only (a note, signature or subtotal label), "
        "not a school's report; nothing read from it",
    }


def _problem(table: str, record: dict[str, Any], problem: CellProblem) -> dict[str, Any]:
    """The reject record of a cell that could not be read."""
    return {
        "table": table,
        "file": record["_file"],
        "sheet": record["_sheet"],
        "row": record["_row"],
        "column": problem.column,
        "value": problem.value,
        "rule": problem.rule,
        "message": problem.message,
    }


def extra_frame(parsed: list[ParsedSheet]) -> pd.DataFrame:
    """The values of unknown columns from all sheets, as the ``extra_values`` table."""
    extra_rows = [e for p in parsed for e in p.extra]
    extra = pd.DataFrame(extra_rows, columns=list(EXTRA_COLUMNS))
    return extra.astype(EXTRA_COLUMNS)
