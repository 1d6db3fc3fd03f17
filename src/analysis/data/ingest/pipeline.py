"""Raw school reports → validated tables in ``data/processed``.

A raw folder holds Excel workbooks (``.xlsx``) and CSV files as a DOET
receives them: a title above the header, Vietnamese headers with or without
diacritics, numbers typed the Vietnamese way. Each sheet is recognised by its
headers (school-year report, school register, units, memberships,
crosswalk), parsed against ``config/columns.yml`` and validated with pandera.

Every data row ends up either in a processed table or in ``rejects`` with
file, sheet, row, column, value and rule; :class:`IngestResult` keeps the
count so that input rows = accepted + rejected holds, and tests check it.
A fatal problem raises :class:`IngestError` naming the file and column.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import datetime as dt
import difflib
import itertools
import math
import re
import unicodedata
import zipfile
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.etree import ElementTree
from xml.parsers import expat

import pandas as pd
import pandera.pandas as pa

from analysis.core import legacy, paths, provenance
from analysis.core.text import (
    NotANumber,
    clean_text,
    header_key,
    is_na,
    parse_bool,
    parse_number,
    parse_school_year,
)
from analysis.data import catalog, hierarchy, schema

DATA_SUFFIXES = {".xlsx", ".xlsm", ".csv", ".txt", ".tsv"}
HEADER_SCAN_ROWS = 25
CHUNK_ROWS = 5000
TABLE_ORDER = ("schools", "units", "membership", "crosswalk", "panel")
REJECT_COLUMNS = {
    "table": "str",
    "file": "str",
    "sheet": "str",
    "row": "int64",
    "school_id": "str",
    "year": "Int64",
    "column": "str",
    "value": "str",
    "rule": "str",
    "message": "str",
}
EXTRA_COLUMNS = {
    "file": "str",
    "sheet": "str",
    "row": "int64",
    "header": "str",
    "value": "str",
}
MANIFEST_FILE = catalog.INGEST_MANIFEST


class IngestError(Exception):
    """A problem that stops ingest: it names the file, the column and what was expected."""

    def __init__(
        self,
        file: str | Path,
        problem: str,
        *,
        column: str | None = None,
        expected: Iterable[str] | None = None,
        found: Iterable[str] | None = None,
    ):
        self.file = str(file)
        self.problem = problem
        self.column = column
        self.expected = list(expected or [])
        self.found = list(found or [])
        super().__init__(str(self))

    def __str__(self) -> str:
        lines = [f"{self.file}: {self.problem}"]
        if self.column:
            lines.append(f"  column: {self.column}")
        if self.expected:
            lines.append("  expected: " + "; ".join(self.expected))
        if self.found:
            lines.append("  found: " + "; ".join(self.found))
        return "\n".join(lines)


@dataclass
class Sheet:
    """One sheet (or CSV file): the first rows read eagerly, the rest streamed once.

    ``head`` holds enough rows to find the header; ``rest`` yields the others
    without loading the file whole. Row numbers are the spreadsheet's.
    """

    file: str
    name: str
    head: list[list[Any]]
    rest: Iterator[list[Any]] = field(default_factory=lambda: iter(()))
    notes: list[str] = field(default_factory=list)  # warnings found while reading

    def rows_from(self, index: int) -> Iterator[tuple[int, list[Any]]]:
        """(row number, cells) from 0-based position ``index`` to the end."""
        for i in range(index, len(self.head)):
            yield i + 1, self.head[i]
        number = len(self.head)
        for row in self.rest:
            number += 1
            yield number, row


@dataclass(frozen=True)
class Uncomputed:
    """An Excel formula the workbook holds no computed value for."""

    formula: str

    def __str__(self) -> str:
        return self.formula


@dataclass
class Detected:
    table: str
    header_index: int  # 0-based position of the (last) header row in Sheet.head
    columns: dict[int, str]  # cell position → canonical column
    unknown: dict[int, str]  # cell position → header text that matched nothing
    title: str
    guessed: dict[int, str] = field(default_factory=dict)  # position → misspelt header read
    headers: dict[int, str] = field(default_factory=dict)  # position → header text as shown


@dataclass
class IngestResult:
    """What ingest produced and the row accounting behind it."""

    tables: dict[str, pd.DataFrame]
    rejects: pd.DataFrame
    extra_values: pd.DataFrame
    files: list[dict[str, Any]]
    input_rows: dict[str, int]
    blank_rows: int
    warnings: list[str] = field(default_factory=list)
    out_dir: Path | None = None

    def accepted_rows(self, table: str) -> int:
        return len(self.tables.get(table, ()))

    def rejected_rows(self, table: str) -> int:
        rej = self.rejects[self.rejects["table"] == table]
        return int(rej[["file", "sheet", "row"]].drop_duplicates().shape[0])

    def accounting_holds(self) -> bool:
        return all(
            self.input_rows.get(t, 0) == self.accepted_rows(t) + self.rejected_rows(t)
            for t in TABLE_ORDER
        )


# --------------------------------------------------------------------------
# Reading files


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


# what a damaged workbook raises while it is opened or streamed
_XML_ERRORS = (ElementTree.ParseError, expat.ExpatError, zlib.error)
SNIFF_BYTES = 1 << 20  # how much of a text file decides its encoding and delimiter
HEAD_ROWS = HEADER_SCAN_ROWS + 2  # the header may sit on two merged rows


def sniff_encoding(data: bytes, file: str) -> str:
    """The encoding of a text file from its first bytes.

    UTF-8 (with or without BOM), UTF-16 (BOM, or LE/BE told by the zero bytes),
    else an 8-bit file: Windows-1258, or Latin-1 when the text reads as a legacy
    TCVN3/VNI font (then :func:`_legacy_rows` converts it).
    """
    if data.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    if len(data) >= 4 and data[1:2] == b"\x00" and data[3:4] == b"\x00":
        return "utf-16-le"
    if len(data) >= 4 and data[0:1] == b"\x00" and data[2:3] == b"\x00":
        return "utf-16-be"
    try:
        codecs.getincrementaldecoder("utf-8")().decode(data, final=len(data) < SNIFF_BYTES)
        return "utf-8"
    except UnicodeDecodeError as exc:
        not_utf8 = exc
    as_latin1 = data.decode("latin-1")
    if legacy.guess(re.split(r"[,;\t|\r\n]+", as_latin1)).convert:
        return "latin-1"
    try:
        data.decode("cp1258")
    except UnicodeDecodeError as exc:
        row = data[: not_utf8.start].count(b"\n") + 1
        raise IngestError(
            file,
            f"cannot decode the text: not UTF-8 from row {row} (byte {not_utf8.start}) and "
            f"not Windows-1258 either (byte {exc.start}); the file may mix encodings",
            expected=["UTF-8", "UTF-8 with BOM", "UTF-16", "Windows-1258", "TCVN3", "VNI"],
        ) from exc
    return "cp1258"


def _cell_text(cell: str) -> str | None:
    if cell == "":
        return None
    return cell if cell.isascii() else unicodedata.normalize("NFC", cell)


@contextlib.contextmanager
def _open_csv(path: Path, shown: str) -> Iterator[list[Sheet]]:
    with open(path, "rb") as handle:
        sample = handle.read(SNIFF_BYTES)
    if not sample.strip(b" \t\r\n\x00\xef\xbb\xbf\xff\xfe"):
        raise IngestError(
            shown, "the file is empty", expected=["a header row and one row per school"]
        )
    if sample.startswith(b"PK\x03\x04"):
        raise IngestError(
            shown,
            "the file is an Excel workbook saved with a .csv name",
            expected=["rename it to .xlsx"],
        )
    if sample.startswith(b"\xd0\xcf\x11\xe0"):
        raise IngestError(
            shown,
            "the file is an old .xls or password-protected workbook saved with a .csv name",
            expected=["save it as an unprotected .xlsx or as CSV"],
        )
    encoding = sniff_encoding(sample, shown)
    text_sample = sample.decode(encoding, errors="ignore")[:20000]
    delimiter = _delimiter(text_sample, shown, path.suffix.lower())
    stream = open(path, encoding=encoding, newline="", errors="strict")  # noqa: SIM115
    try:
        reader = csv.reader(stream, delimiter=delimiter)

        def rows() -> Iterator[list[Any]]:
            try:
                for row in reader:
                    yield [_cell_text(cell.replace("\x00", "")) for cell in row]
            except UnicodeDecodeError as exc:
                row = _first_undecodable_line(path, encoding) or f"after {reader.line_num}"
                raise IngestError(
                    shown,
                    f"cannot decode the text of row {row} as {encoding} (the file mixes encodings)",
                    expected=[f"the whole file in one encoding ({encoding})"],
                ) from exc
            except csv.Error as exc:
                raise IngestError(
                    shown,
                    f"row {reader.line_num}: malformed CSV ({exc})",
                    expected=["a well-formed CSV file"],
                ) from exc

        source = rows()
        head = list(itertools.islice(source, HEAD_ROWS))
        yield [Sheet(shown, "", head, source)]
    finally:
        stream.close()


def _delimiter(sample: str, shown: str, suffix: str) -> str:
    """The delimiter under which the header is recognised best; else csv.Sniffer's guess.

    A title such as "BÁO CÁO CĐS, NĂM HỌC 2024-2025" or a ragged row fools a
    sniffer; parsing the first rows with each candidate and matching headers does not.
    """
    lines = sample.splitlines()[: HEAD_ROWS + 5]
    best, best_score = None, 1
    for candidate in (",", ";", "\t", "|"):
        rows = [[c or None for c in r] for r in csv.reader(lines, delimiter=candidate)]
        try:
            found = detect(Sheet(shown, "", rows))
        except IngestError:  # e.g. a duplicated header: reported when the file is read
            found = None
        score = len(found.columns) if found else 0
        if score > best_score:
            best, best_score = candidate, score
    if best is not None:
        return best
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
    except csv.Error:
        return "\t" if suffix == ".tsv" else ","


def _first_undecodable_line(path: Path, encoding: str) -> int | None:
    """The first line that does not decode (line-wise, so only for 8-bit and UTF-8 files)."""
    if encoding.startswith("utf-16"):
        return None
    with open(path, "rb") as handle:
        for number, line in enumerate(handle, start=1):
            try:
                line.decode(encoding.replace("-sig", ""))
            except UnicodeDecodeError:
                return number
    return None


def _has_formulas(path: Path) -> bool:
    """Whether any worksheet holds a formula (scanned in blocks, never whole)."""
    with zipfile.ZipFile(path) as archive:
        for info in archive.infolist():
            if not info.filename.startswith("xl/worksheets/"):
                continue
            with archive.open(info) as member:
                tail = b""
                for block in iter(lambda m=member: m.read(1 << 20), b""):
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


@contextlib.contextmanager
def _open_xlsx(path: Path, shown: str) -> Iterator[list[Sheet]]:
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

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
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, EOFError, *_XML_ERRORS) as exc:
        raise IngestError(
            f"{shown} [sheet {sheet}]",
            f"the workbook is damaged after row {number} ({exc.__class__.__name__}: {exc})",
            expected=["a complete .xlsx workbook (open it in Excel and save it again)"],
        ) from exc


@contextlib.contextmanager
def open_sheets(path: Path) -> Iterator[list[Sheet]]:
    """The sheets of a raw file, streamed; legacy-font text converted to Unicode."""
    shown = _display(path)
    suffix = path.suffix.lower()
    if suffix in {".xlsx", ".xlsm"}:
        opener = _open_xlsx
    elif suffix in {".csv", ".txt", ".tsv"}:
        opener = _open_csv
    elif suffix == ".xls":
        raise IngestError(shown, "old .xls workbooks are not read", expected=["save it as .xlsx"])
    else:
        raise IngestError(shown, f"unknown file type {suffix!r}", expected=sorted(DATA_SUFFIXES))
    with opener(path, shown) as sheets:
        yield [_legacy_rows(sheet) for sheet in sheets]


def _legacy_rows(sheet: Sheet) -> Sheet:
    """Convert text typed in a TCVN3 or VNI font; warn where that is not unambiguous.

    The sheet's first rows decide its font (:func:`legacy.guess`). In a legacy
    sheet every cell that could be legacy text is converted; in a Unicode sheet
    a stray legacy cell further down is judged on its own.
    """
    where = f"{sheet.file}{_sheet_suffix(sheet)}"
    texts = [c for r in sheet.head for c in r if isinstance(c, str)]
    decided = legacy.guess(texts)
    converted: list[str] = []
    unsure: list[str] = []

    def fix(number: int, row: list[Any]) -> list[Any]:
        for i, cell in enumerate(row):
            if not isinstance(cell, str) or not legacy.could_be_legacy(cell):
                continue
            mode = decided.encoding
            if mode not in legacy.CONVERTERS:
                if not legacy.looks_legacy(cell):
                    continue
                mode = legacy.guess([cell]).encoding
            if mode in legacy.CONVERTERS:
                new = legacy.to_unicode(cell, mode)
                if legacy.implausible_words(new) <= legacy.implausible_words(cell):
                    if len(converted) < 3:
                        shown = f"row {number} column {_col_letter(i)}: {cell!r} → {new!r}"
                        converted.append(shown)
                    counts[mode] = counts.get(mode, 0) + 1
                    row[i] = new
                    continue
            counts["unsure"] = counts.get("unsure", 0) + 1
            if len(unsure) < 5:
                unsure.append(f"row {number} column {_col_letter(i)}: {cell!r}")
        return row

    counts: dict[str, int] = {}
    sheet.head = [fix(n + 1, r) for n, r in enumerate(sheet.head)]
    start = len(sheet.head)

    source = sheet.rest

    def rest() -> Iterator[list[Any]]:
        for n, row in enumerate(source, start=start + 1):
            yield fix(n, list(row))
        for mode in legacy.CONVERTERS:
            if counts.get(mode):
                sheet.notes.append(
                    f"{where}: {counts[mode]} cells typed in the legacy {legacy.NAMES[mode]} "
                    f"font converted to Unicode (e.g. {'; '.join(converted)}); "
                    + (
                        "capital letters with a tone come out in lower case"
                        if mode == "tcvn3"
                        else "check them"
                    )
                )
        if counts.get("unsure"):
            sheet.notes.append(
                f"{where}: {counts['unsure']} cells look like legacy-font Vietnamese (TCVN3 or "
                f"VNI) but cannot be converted unambiguously and are kept as typed: "
                + "; ".join(unsure)
            )

    sheet.rest = rest()
    return sheet


def discover(path: Path) -> list[Path]:
    """The data files under ``path`` (a file or a folder), in a stable order."""
    if not path.exists():
        raise IngestError(_display(path), "no such file or folder")
    if path.is_file():
        return [path]
    files = sorted(
        p
        for p in path.rglob("*")
        if p.is_file() and p.suffix.lower() in DATA_SUFFIXES and not p.name.startswith(("~$", "."))
    )
    if not files:
        raise IngestError(
            _display(path),
            "the folder holds no data files",
            expected=["*.xlsx or *.csv reports and the school register"],
        )
    return files


# --------------------------------------------------------------------------
# Recognising a sheet


def _lookup(table: str) -> dict[str, str]:
    keys: dict[str, str] = {}
    for name, spec in schema.contract(table).items():
        for text in (name, spec.header, spec.en, *spec.synonyms):
            keys.setdefault(header_key(text), name)
    return keys


def _header_texts(rows: list[list[Any]], index: int, two_rows: bool) -> dict[int, list[str]]:
    """Cell position → header texts to try, best first.

    With ``two_rows`` the header spans rows ``index`` and ``index + 1`` (a title
    merged over sub-columns): the parent is carried right over its merged span and
    each sub-header is tried as "parent sub" first, then alone.
    """
    top = rows[index]
    if not two_rows:
        return {p: [clean_text(c)] for p, c in enumerate(top) if header_key(c)}
    sub = rows[index + 1] if index + 1 < len(rows) else []
    out: dict[int, list[str]] = {}
    parent = ""
    for p in range(max(len(top), len(sub))):
        above = top[p] if p < len(top) else None
        below = sub[p] if p < len(sub) else None
        if header_key(above):
            parent = clean_text(above)
        elif not header_key(below):
            parent = ""
        if header_key(below):
            out[p] = [f"{parent} {clean_text(below)}".strip(), clean_text(below)]
        elif header_key(above):
            out[p] = [clean_text(above)]
    return out


def _match(keys: list[str], lookup: dict[str, str]) -> str | None:
    for key in keys:
        name = lookup.get(key)
        if name:
            return name
    return None


def _close_match(text: str, lookup: dict[str, str], taken: set[str]) -> str | None:
    """A misspelt header: one close spelling, same digits, a column not yet present."""
    key = header_key(text)
    if len(key) < 6:
        return None
    digits = re.sub(r"\D", "", key)
    candidates = [
        k
        for k in difflib.get_close_matches(key, lookup, n=4, cutoff=0.88)
        if re.sub(r"\D", "", k) == digits and lookup[k] not in taken
    ]
    names = {lookup[k] for k in candidates}
    return names.pop() if len(names) == 1 else None


def detect(sheet: Sheet) -> Detected | None:
    """Find the header row (or two merged rows) and the table a sheet holds, or ``None``."""
    rows = sheet.head
    lookups = {t: _lookup(t) for t in TABLE_ORDER}
    best: tuple[tuple[int, float, int], int, str, bool] | None = None
    for index in range(min(HEADER_SCAN_ROWS, len(rows))):
        for two_rows in (False, True):
            if two_rows and index + 1 >= len(rows):
                continue
            keys = [
                [header_key(t) for t in o] for o in _header_texts(rows, index, two_rows).values()
            ]
            for table, lookup in lookups.items():
                matched = {m for k in keys if (m := _match(k, lookup))}
                if len(matched) < 2:
                    continue
                # more columns win; on a tie the single row (a data row is no sub-header)
                score = (len(matched), len(matched) / len(lookup), -int(two_rows))
                if best is None or score > best[0]:
                    best = (score, index, table, two_rows)
    if best is None:
        return None
    _, index, table, two_rows = best
    lookup = lookups[table]
    columns: dict[int, str] = {}
    unknown: dict[int, str] = {}
    guessed: dict[int, str] = {}
    seen: dict[str, int] = {}
    texts = _header_texts(rows, index, two_rows)
    header_row = index + 1 + int(two_rows)
    for pos, options in texts.items():
        name = _match([header_key(t) for t in options], lookup)
        if name is None:
            unknown[pos] = options[0]
            continue
        if name in seen:
            spec = schema.contract(table)[name]
            raise IngestError(
                f"{sheet.file}{_sheet_suffix(sheet)}",
                f"two columns mean the same thing (header row {header_row}, "
                f"columns {_col_letter(seen[name])} and {_col_letter(pos)})",
                column=f"{spec.header} ({name})",
                expected=["each column once"],
            )
        seen[name] = pos
        columns[pos] = name
    for pos in list(unknown):
        name = _close_match(unknown[pos], lookup, set(seen))
        if name is not None:
            guessed[pos] = unknown.pop(pos)
            seen[name] = pos
            columns[pos] = name
    title = " ".join(clean_text(c) for r in rows[:index] for c in r if c is not None)
    headers = {pos: options[0] for pos, options in texts.items()}
    return Detected(table, index + int(two_rows), columns, unknown, title, guessed, headers)


def _sheet_suffix(sheet: Sheet) -> str:
    return f" [sheet {sheet.name}]" if sheet.name else ""


def _col_letter(pos: int) -> str:
    letters = ""
    pos += 1
    while pos:
        pos, rem = divmod(pos - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


# --------------------------------------------------------------------------
# Parsing values

_INT_LIMIT = 2**53  # beyond any count, and where floats stop holding whole numbers exactly

_DATE_FORMATS = (
    "%d/%m/%Y",
    "%d-%m-%Y",
    "%Y-%m-%d",
    "%d.%m.%Y",
    "%Y/%m/%d",
    "%Y-%m-%d %H:%M:%S",
    "%d/%m/%Y %H:%M:%S",
    "%Y-%m-%dT%H:%M:%S",
)
_VN_DATE = re.compile(r"(?:ngày\s*)?(\d{1,2})\s*tháng\s*(\d{1,2})\s*năm\s*(\d{4})", re.I)
_EXCEL_EPOCH = dt.date(1899, 12, 30)


def _parse_date(value: Any) -> pd.Timestamp | None:
    """A date as typed: 31/08/2025, 2025-08-31, 31.08.2025, "ngày 31 tháng 8 năm 2025",
    an Excel date cell, or an Excel serial number (45900) that lost its date format."""
    if is_na(value):
        return None
    if isinstance(value, dt.datetime | dt.date):
        return pd.Timestamp(value).normalize()
    if isinstance(value, int | float) and not isinstance(value, bool):
        serial = float(value)
    else:
        text = clean_text(value)
        for fmt in _DATE_FORMATS:
            try:
                return pd.Timestamp(dt.datetime.strptime(text, fmt)).normalize()
            except ValueError:
                continue
        found = _VN_DATE.fullmatch(text)
        if found:
            day, month, year = (int(g) for g in found.groups())
            return pd.Timestamp(dt.date(year, month, day))
        if not re.fullmatch(r"\d{5}(?:\.0+)?", text):
            raise ValueError(value)
        serial = float(text)
    # Excel serial days: only a plausible range (1955–2119) counts as a date
    if not serial.is_integer() or not 20000 <= serial <= 80000:
        raise ValueError(value)
    return pd.Timestamp(_EXCEL_EPOCH + dt.timedelta(days=int(serial)))


def _parse_id(value: Any) -> str | None:
    if is_na(value):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return re.sub(r"\s+", "", clean_text(value))


class CellProblem(Exception):
    """A cell that cannot be read as its column's type."""

    def __init__(self, column: str, value: str, rule: str, message: str):
        super().__init__(f"{column}: {value!r}: {message}")
        self.column, self.value, self.rule, self.message = column, value, rule, message


def _code_lookup(spec: schema.ColumnSpec) -> dict[str, str]:
    out = {}
    for code, spellings in spec.values.items():
        for text in (code, *spellings):
            out[header_key(text)] = code
    return out


def _parse_cell(value: Any, spec: schema.ColumnSpec, codes: dict[str, str]):
    if isinstance(value, Uncomputed):
        raise CellProblem(
            spec.name,
            value.formula,
            "formula_not_computed",
            "the cell holds a formula with no computed value; open the file in Excel, "
            "let it calculate and save it",
        )
    kind = spec.dtype
    if kind == "str":
        if spec.name.endswith("_id"):
            return _parse_id(value)
        if is_na(value):
            return None
        text = clean_text(value)
        if codes:
            code = codes.get(header_key(text))
            if code is None:
                allowed = ", ".join(spec.values[c][0] for c in spec.values)
                raise CellProblem(spec.name, text, "unknown_code", f"expected one of: {allowed}")
            return code
        return text
    if kind in {"int", "float"}:
        try:
            number = parse_number(value, percent=spec.percent)
        except NotANumber:
            raise CellProblem(
                spec.name, str(value), "not_a_number", f"expected a number ({spec.range_text})"
            ) from None
        if number is None:
            return None
        if math.isinf(number) or math.isnan(number):
            raise CellProblem(spec.name, str(value), "not_a_number", "expected a finite number")
        if abs(number) > _INT_LIMIT:
            raise CellProblem(
                spec.name, str(value), "out_of_range", f"expected a value from {spec.range_text}"
            )
        if kind == "int":
            if not float(number).is_integer():
                raise CellProblem(
                    spec.name, str(value), "not_whole_number", "expected a whole number (a count)"
                )
            return int(number)
        return number
    if kind == "bool":
        try:
            return parse_bool(value)
        except ValueError:
            raise CellProblem(
                spec.name, str(value), "not_yes_no", "expected Có/Không (yes/no, 1/0)"
            ) from None
    if kind == "date":
        try:
            return _parse_date(value)
        except ValueError:
            raise CellProblem(
                spec.name, str(value), "not_a_date", "expected a date such as 31/05/2025"
            ) from None
    if kind == "school_year":
        try:
            return parse_school_year(value)
        except ValueError:
            raise CellProblem(
                spec.name,
                str(value),
                "not_a_school_year",
                "expected a school year such as 2024-2025",
            ) from None
    raise AssertionError(kind)


def _year_from_text(text: str) -> int | None:
    for match in re.finditer(r"(\d{4})\s*[-–—_/]\s*(\d{2,4})", text):
        try:
            return parse_school_year(match.group(0).replace("_", "-"))
        except ValueError:
            continue
    return None


@dataclass
class _Parsed:
    table: str
    frame: pd.DataFrame  # parsed values plus _file, _sheet, _row
    problems: list[dict[str, Any]]
    extra: list[dict[str, Any]]
    input_rows: int
    blank_rows: int
    file_info: dict[str, Any]


def parse_sheet(sheet: Sheet, found: Detected, file_path: Path | None = None) -> _Parsed:
    contract = schema.contract(found.table)
    where = f"{sheet.file}{_sheet_suffix(sheet)}"
    present = set(found.columns.values())
    constant_year = None
    if found.table == "panel" and "school_year" not in present:
        constant_year = _year_from_text(found.title) or _year_from_text(Path(sheet.file).stem)
        if constant_year is None:
            raise IngestError(
                where,
                "the school year is neither a column nor in the title or file name",
                column=f"{contract['school_year'].header} (school_year)",
                expected=["a 'Năm học' column", "or a title such as 'NĂM HỌC 2024-2025'"],
            )
    year_known = constant_year is not None
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
        )
    codes = {name: _code_lookup(spec) for name, spec in contract.items()}
    records, problems, extra = [], [], []
    columns = ["_file", "_sheet", "_row", *schema.processed_columns(found.table)]
    chunks: list[pd.DataFrame] = []
    blank = 0
    input_rows = 0
    for row_number, row in sheet.rows_from(found.header_index + 1):
        filled = [c for c in row if not (is_na(c) or (isinstance(c, str) and not c.strip()))]
        if not filled:
            blank += 1
            continue
        note = _note_text(filled[0]) if len(filled) == 1 else None
        if note is not None:
            input_rows += 1
            problems.append(
                {
                    "table": found.table,
                    "file": sheet.file,
                    "sheet": sheet.name,
                    "row": row_number,
                    "column": "",
                    "value": note[:200],
                    "rule": "note_row",
                    "message": "a line of text only (a note, signature or subtotal label), "
                    "not a school's report; nothing read from it",
                }
            )
            continue
        input_rows += 1
        row_problems = len(problems)
        record: dict[str, Any] = {"_file": sheet.file, "_sheet": sheet.name, "_row": row_number}
        for pos, name in found.columns.items():
            value = row[pos] if pos < len(row) else None
            try:
                parsed = _parse_cell(value, contract[name], codes[name])
            except CellProblem as problem:
                problems.append(_problem(found.table, record, problem))
                parsed = None
            if name == "school_year":
                record["year"] = parsed
                record[name] = None if parsed is None else f"{parsed - 1}-{parsed}"
            else:
                record[name] = parsed
        if constant_year is not None:
            record["year"] = constant_year
            record["school_year"] = f"{constant_year - 1}-{constant_year}"
        for problem in problems[row_problems:]:
            problem["school_id"] = record.get("school_id")
            problem["year"] = record.get("year")
        for pos, header in found.unknown.items():
            value = row[pos] if pos < len(row) else None
            if not is_na(value):
                extra.append(
                    {
                        "file": sheet.file,
                        "sheet": sheet.name,
                        "row": row_number,
                        "header": header,
                        "value": clean_text(value),
                    }
                )
        records.append(record)
        if len(records) >= CHUNK_ROWS:  # a large file never sits in memory as Python objects
            chunks.append(_typed(pd.DataFrame(records, columns=columns), found.table))
            records = []
    chunks.append(_typed(pd.DataFrame(records, columns=columns), found.table))
    frame = pd.concat(chunks, ignore_index=True) if len(chunks) > 1 else chunks[0]
    info = {
        "file": sheet.file,
        "sheet": sheet.name,
        "table": found.table,
        "header_row": found.header_index + 1,
        "rows": input_rows,
        "blank_rows": blank,
        "columns": {found.headers[p]: n for p, n in found.columns.items()},
        "unknown_columns": list(found.unknown.values()),
    }
    return _Parsed(found.table, frame, problems, extra, input_rows, blank, info)


def _note_text(cell: Any) -> str | None:
    """The text of a row's only filled cell when it is words (a note under a table)."""
    if not isinstance(cell, str):
        return None
    text = clean_text(cell)
    words = [w for w in text.split() if any(ch.isalpha() for ch in w)]
    return text if len(words) >= 2 else None


def _problem(table: str, record: dict[str, Any], problem: CellProblem) -> dict[str, Any]:
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


# --------------------------------------------------------------------------
# Validation


def _typed(frame: pd.DataFrame, table: str) -> pd.DataFrame:
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


def _rule_label(check: str, spec: schema.ColumnSpec | None) -> tuple[str, str]:
    if check == "not_nullable":
        return "missing_value", "a value is required"
    if check.startswith(("range", "in_range", "greater_than", "less_than")):
        shown = spec.range_text if spec else check
        return "out_of_range", f"expected a value from {shown}"
    if check.startswith(("known code", "isin")):
        return "unknown_code", "expected a known code"
    if check.startswith("dtype"):
        return "wrong_type", check
    return check, check


def validate(table: str, frame: pd.DataFrame) -> tuple[pd.DataFrame, list[dict[str, Any]]]:
    """Row-wise pandera validation; returns the typed frame and the failures."""
    typed = _typed(frame, table)
    check_frame = typed.drop(columns=["_file", "_sheet", "_row"])
    if "year" in check_frame:
        check_frame = check_frame.assign(year=check_frame["year"].fillna(0).astype("int64"))
        check_frame["school_year"] = check_frame["school_year"].fillna("missing")
    problems: list[dict[str, Any]] = []
    contract = schema.contract(table)
    try:
        schema.pandera_schema(table, unique=False).validate(check_frame, lazy=True)
    except pa.errors.SchemaErrors as errors:
        rules = {r.id: r for r in schema.rules()} if table == "panel" else {}
        cases = errors.failure_cases
        cases = cases[cases["index"].notna()]
        # a rule over a value that is already out of range says nothing new
        bad_cells = {
            (int(c.index), str(c.column))
            for c in cases.itertuples(index=False)
            if str(c.check) not in rules
        }
        for case in cases.itertuples(index=False):
            idx = int(case.index)
            check = str(case.check)
            if check in rules:
                rule = rules[check]
                if case.column != rule.left:
                    continue
                if (idx, rule.left) in bad_cells or (idx, rule.right) in bad_cells:
                    continue
                left, right = check_frame.at[idx, rule.left], check_frame.at[idx, rule.right]
                value = f"{rule.left}={left}, {rule.right}={right}"
                code, message = rule.id, rule.en
            else:
                value = str(case.failure_case)
                code, message = _rule_label(check, contract.get(str(case.column)))
                if case.column == "year" or case.column == "school_year":
                    code, message = "missing_value", "a school year is required"
            problems.append(
                {
                    "table": table,
                    "file": typed.at[idx, "_file"],
                    "sheet": typed.at[idx, "_sheet"],
                    "row": int(typed.at[idx, "_row"]),
                    "school_id": typed.at[idx, "school_id"] if "school_id" in typed else None,
                    "year": typed.at[idx, "year"] if "year" in typed else None,
                    "column": str(case.column),
                    "value": value,
                    "rule": code,
                    "message": message,
                }
            )
    return typed, problems


def _reject_duplicates(table: str, frame: pd.DataFrame, keys: list[str]) -> list[dict[str, Any]]:
    """Exact repeats keep their first copy; conflicting copies are all rejected."""
    problems = []
    values = [c for c in frame.columns if not c.startswith("_")]
    dup_mask = frame.duplicated(keys, keep=False) & frame[keys].notna().all(axis=1)
    for _, group in frame[dup_mask].groupby(keys, sort=False):
        distinct = group[values].astype(str).drop_duplicates()
        label = "/".join(str(group.iloc[0][k]) for k in keys)
        if len(distinct) == 1:
            first = group.iloc[0]
            victims, rule = group.iloc[1:], "duplicate_row"
            message = (
                f"same {'/'.join(keys)} {label} already read at "
                f"{first['_file']} row {first['_row']}"
            )
        else:
            victims, rule = group, "duplicate_conflict"
            rows = ", ".join(f"{r['_file']} row {r['_row']}" for _, r in group.iterrows())
            message = (
                f"{'/'.join(keys)} {label} reported more than once with different values: {rows}"
            )
        for _, row in victims.iterrows():
            problems.append(
                {
                    "table": table,
                    "file": row["_file"],
                    "sheet": row["_sheet"],
                    "row": int(row["_row"]),
                    "school_id": row.get("school_id"),
                    "year": row.get("year"),
                    "column": ", ".join(keys),
                    "value": label,
                    "rule": rule,
                    "message": message,
                }
            )
    return problems


KEYS = {
    "panel": ["school_id", "year"],
    "schools": ["school_id"],
    "units": ["unit_id"],
    "membership": ["school_id", "unit_id", "valid_from"],
    "crosswalk": ["new_unit_id", "old_unit_id"],
}


def _restore_leading_zeros(
    table: str, clean: pd.DataFrame, register: dict[str, str]
) -> tuple[pd.DataFrame, list[str]]:
    """Ids that lost their leading zeros (Excel made them numbers) matched to the register.

    Only an all-digit id that is not in the register and pads to exactly one
    register id is restored; each restored row is named in a warning.
    """
    padded: dict[str, list[str]] = {}
    for school_id in register:
        if school_id.isdigit() and school_id.startswith("0"):
            padded.setdefault(school_id.lstrip("0"), []).append(school_id)
    if not padded:
        return clean, []
    ids = clean["school_id"]
    fixable = ~ids.isin(register.keys()) & ids.str.fullmatch(r"\d+").fillna(False)
    notes = []
    fixed = ids.copy()
    for idx in clean.index[fixable.to_numpy(dtype=bool)]:
        old = ids.at[idx]
        candidates = padded.get(old.lstrip("0"), [])
        if len(candidates) == 1:
            fixed.at[idx] = candidates[0]
            row = clean.loc[idx]
            notes.append(f"{row['_file']} row {row['_row']}: {old} → {candidates[0]}")
    if not notes:
        return clean, []
    clean = clean.assign(school_id=fixed)
    shown = "; ".join(notes[:5]) + (f"; … ({len(notes)} in all)" if len(notes) > 5 else "")
    return clean, [
        f"{table}: {len(notes)} school ids had lost their leading zeros (a number cell in "
        f"Excel) and were matched to the register (column school_id): {shown}"
    ]


def _name_mismatches(clean: pd.DataFrame, register: dict[str, str] | None) -> list[str]:
    """A school id reported under another name than the register's (or than its own rows)."""
    if "school_name" not in clean:
        return []
    named = clean[clean["school_name"].notna() & (clean["school_name"] != "None")]
    if named.empty:
        return []
    own = named.groupby("school_id")["school_name"].agg(lambda s: s.mode().iloc[0])
    reference = named["school_id"].map(lambda i: (register or {}).get(i) or own[i])
    texts = pd.unique(pd.concat([named["school_name"], reference]).dropna())
    key = {t: header_key(t) for t in texts}
    differ = named[named["school_name"].map(key) != reference.map(key)]
    out = []
    for (school_id, name), rows in differ.groupby(["school_id", "school_name"], sort=True):
        places = [f"{f} row {r}" for f, r in zip(rows["_file"], rows["_row"], strict=True)]
        where = ", ".join(places[:5]) + (f" (+{len(places) - 5})" if len(places) > 5 else "")
        in_register = bool(register) and school_id in register
        out.append(
            f"school id {school_id} is named {name!r} at {where} but "
            f"{reference.loc[rows.index[0]]!r} {'in the register' if in_register else 'elsewhere'}"
            " (column school_name): check that the id belongs to this school"
        )
    return out


def _finish(table: str, parsed: list[_Parsed], register: dict[str, str] | None):
    """Validate, drop unknown schools and duplicates; returns table, rejects, warnings."""
    warnings: list[str] = []
    frame = pd.concat([p.frame for p in parsed], ignore_index=True)
    problems = [q for p in parsed for q in p.problems]
    typed, found = validate(table, frame)
    # a cell that could not be parsed is blank for pandera; report it once
    unreadable = {(p["file"], p["sheet"], p["row"], p["column"]) for p in problems}
    problems += [
        p for p in found if (p["file"], p["sheet"], p["row"], p["column"]) not in unreadable
    ]
    bad = {(p["file"], p["sheet"], p["row"]) for p in problems}
    row_ids = zip(typed["_file"], typed["_sheet"], typed["_row"], strict=True)
    clean = typed.loc[pd.Series([r not in bad for r in row_ids], index=typed.index, dtype=bool)]
    if register is not None and "school_id" in clean and table in {"panel", "membership"}:
        clean, restored = _restore_leading_zeros(table, clean, register)
        warnings += restored
        known_schools = register.keys()
        unknown = clean[~clean["school_id"].isin(known_schools)]
        for _, row in unknown.iterrows():
            problems.append(
                {
                    "table": table,
                    "file": row["_file"],
                    "sheet": row["_sheet"],
                    "row": int(row["_row"]),
                    "school_id": row.get("school_id"),
                    "year": row.get("year"),
                    "column": "school_id",
                    "value": row["school_id"],
                    "rule": "unknown_school",
                    "message": "school id not in the school register",
                }
            )
        clean = clean[clean["school_id"].isin(known_schools)]
    if table == "panel":
        warnings += _name_mismatches(clean, register)
    dups = _reject_duplicates(table, clean, KEYS[table])
    problems += dups
    if dups:
        dropped = {(p["file"], p["sheet"], p["row"]) for p in dups}
        keep = [
            (f, s, r) not in dropped
            for f, s, r in zip(clean["_file"], clean["_sheet"], clean["_row"], strict=True)
        ]
        clean = clean.loc[pd.Series(keep, index=clean.index, dtype=bool)]
    out = clean.drop(columns=["_file", "_sheet", "_row"])
    if "year" in out:
        out["year"] = out["year"].astype("int64")
    out = out.sort_values(KEYS[table], kind="stable").reset_index(drop=True)
    schema.pandera_schema(table).validate(out)  # the contract of what leaves ingest
    return out, problems, warnings


# --------------------------------------------------------------------------
# The whole step


def ingest(
    path: Path | str,
    *,
    out_dir: Path | str | None = None,
    write: bool = True,
    progress: Callable[[Iterable[Path]], Iterable[Path]] | None = None,
) -> IngestResult:
    """Read a raw file or folder into validated tables.

    Parameters
    ----------
    path
        A raw file (``.xlsx``/``.csv``) or a folder of them.
    out_dir
        Where to write Parquet files and the DuckDB database; defaults to
        ``data/processed``.
    write
        ``False`` validates without writing anything.
    progress
        Wraps the file list, e.g. a progress bar.
    """

    path = Path(path)
    files = discover(path)
    parsed: dict[str, list[_Parsed]] = {t: [] for t in TABLE_ORDER}
    file_info: list[dict[str, Any]] = []
    warnings: list[str] = []
    iterator = progress(files) if progress else files
    for file in iterator:
        shown = _display(file)
        digest = provenance.sha256_file(file)
        recognised = 0
        with open_sheets(file) as sheets:
            for sheet in sheets:
                where = f"{shown}{_sheet_suffix(sheet)}"
                found = detect(sheet)
                if found is None:
                    rows = itertools.chain(sheet.head, itertools.islice(sheet.rest, 1000))
                    if any(any(not is_na(c) for c in r) for r in rows):
                        warnings.append(f"{where}: no known table header found; sheet skipped")
                    continue
                recognised += 1
                result = parse_sheet(sheet, found, file)
                result.file_info["sha256"] = digest
                parsed[found.table].append(result)
                file_info.append(result.file_info)
                warnings.extend(sheet.notes)
                for pos, header in found.guessed.items():
                    name = found.columns[pos]
                    spec = schema.contract(found.table)[name]
                    warnings.append(
                        f"{where}: header {header!r} (column {_col_letter(pos)}) read as "
                        f"{spec.header!r} ({name}); check the spelling"
                    )
                for header in found.unknown.values():
                    warnings.append(f"{where}: unknown column {header!r} kept in extra_values")
                if result.input_rows == 0:
                    warnings.append(
                        f"{where}: no data rows under the header (row {found.header_index + 1})"
                    )
        if not recognised:
            raise IngestError(
                shown,
                "no sheet has a recognisable header row",
                expected=["a header row with at least 'Mã trường' and 'Năm học' or 'Số học sinh'"],
            )
    if not parsed["panel"] and not parsed["schools"]:
        raise IngestError(_display(path), "found neither school-year reports nor a school register")

    tables: dict[str, pd.DataFrame] = {}
    problems: list[dict[str, Any]] = []
    register = None
    for table in TABLE_ORDER:
        if not parsed[table]:
            continue
        out, found_problems, found_warnings = _finish(table, parsed[table], register)
        tables[table] = out
        problems += found_problems
        warnings += found_warnings
        if table == "schools":
            register = dict(zip(out["school_id"], out["school_name"], strict=True))
    if "schools" not in tables:
        warnings.append("no school register found: school ids are not checked against one")
    empty_crosswalk = pd.DataFrame(columns=["new_unit_id", "old_unit_id", "share"])
    if {"schools", "units", "membership"} <= tables.keys():
        years = sorted(set(tables["panel"]["year"]) if "panel" in tables else set())
        if years:
            years.append(years[-1] + 1)
        tables["school_hierarchy"] = hierarchy.school_hierarchy(
            schools=tables["schools"],
            units=tables["units"],
            membership=tables["membership"],
            crosswalk=tables.get("crosswalk", empty_crosswalk),
            years=years,
        )
        orphans = tables["school_hierarchy"]["unit_id"].isna().sum()
        if orphans:
            warnings.append(f"{orphans} school-years have no managing unit at their reference date")
    rejects = pd.DataFrame(problems, columns=list(REJECT_COLUMNS))
    order = ["table", "file", "sheet", "row", "column", "rule"]
    rejects = rejects.sort_values(order, kind="stable")
    rejects = rejects.astype(REJECT_COLUMNS).reset_index(drop=True)
    extra_rows = [e for ps in parsed.values() for p in ps for e in p.extra]
    extra = pd.DataFrame(extra_rows, columns=list(EXTRA_COLUMNS))
    extra = extra.astype(EXTRA_COLUMNS)
    result = IngestResult(
        tables=tables,
        rejects=rejects,
        extra_values=extra,
        files=file_info,
        input_rows={t: sum(p.input_rows for p in parsed[t]) for t in TABLE_ORDER},
        blank_rows=sum(p.blank_rows for ps in parsed.values() for p in ps),
        warnings=warnings,
    )
    if not result.accounting_holds():  # a bug, not a user error
        raise AssertionError("row accounting failed: input rows != accepted + rejected")
    if write:
        result.out_dir = write_outputs(result, Path(out_dir) if out_dir else paths.processed_dir())
    return result


def write_outputs(result: IngestResult, out_dir: Path) -> Path:
    """Parquet per table, the DuckDB views over them, and a manifest (through the catalog)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    outputs = {**result.tables, "rejects": result.rejects, "extra_values": result.extra_values}
    for name, frame in outputs.items():
        catalog.write_table(frame, name, out_dir)
    catalog.refresh_views(out_dir)  # the pupil views, when there are pupil tables, come back too
    manifest = {
        "files": result.files,
        "input_rows": result.input_rows,
        "accepted_rows": {t: result.accepted_rows(t) for t in TABLE_ORDER},
        "rejected_rows": {t: result.rejected_rows(t) for t in TABLE_ORDER},
        "blank_rows": result.blank_rows,
        "tables": {name: len(frame) for name, frame in outputs.items()},
        "warnings": result.warnings,
    }
    catalog.write_manifest("ingest", manifest, out_dir)
    return out_dir
