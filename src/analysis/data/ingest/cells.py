"""Parsing one cell as its column's type, the way Excel shows it.

Numbers typed the Vietnamese way (``1.234,5``), percentages, dates as typed or as
Excel serials, yes/no in Vietnamese, codes by any of their spellings, ids that Excel
turned into numbers. A cell that cannot be read raises :class:`CellProblem` naming the
rule it breaks; :mod:`~analysis.data.ingest.parse` turns that into a reject.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from typing import Any

import pandas as pd

from analysis.core.text import (
    AmbiguousNumber,
    NotANumber,
    clean_text,
    decimal_evidence,
    header_key,
    is_na,
    parse_bool,
    parse_number,
    parse_school_year,
)
from analysis.data import schema
from analysis.data.ingest.sheet import Percent, Uncomputed

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
    """An id as text, whitespace removed; a whole float (Excel's number) without ``.0``."""
    if is_na(value):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return re.sub(r"\s+", "", clean_text(value))


class Undecided(Exception):
    """A number the sheet's own decimal convention must decide: ``1.234`` is 1234 or 1.234.

    ``readings`` maps each decimal mark to the value it gives (already checked
    against the column); :mod:`~analysis.data.ingest.parse` chooses once the sheet
    has been read, or rejects the cell when the sheet does not say.
    """

    def __init__(self, value: str, readings: dict[str, Any]):
        super().__init__(value)
        self.value, self.readings = value, readings


class CellProblem(Exception):
    """A cell that cannot be read as its column's type."""

    def __init__(self, column: str, value: str, rule: str, message: str):
        super().__init__(f"{column}: {value!r}: {message}")
        self.column, self.value, self.rule, self.message = column, value, rule, message


def code_lookup(spec: schema.ColumnSpec) -> dict[str, Any]:
    """Header key of every spelling of a coded column's values → code.

    For a yes/no column, every word of the yes/no vocabulary → its answer.
    """
    if spec.dtype == "bool":
        return dict(schema.yes_no().keys)
    out = {}
    for code, spellings in spec.values.items():
        for text in (code, *spellings):
            out[header_key(text)] = code
    return out


def parse_cell(value: Any, spec: schema.ColumnSpec, codes: dict[str, Any]):
    """One cell as its column's type; raises :class:`CellProblem` with the rule broken."""
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
        return _parse_text(value, spec, codes)
    if kind in {"int", "float"}:
        return _parse_numeric(value, spec)
    if kind == "bool":
        try:
            return parse_bool(value, codes or schema.yes_no().keys)
        except ValueError:
            words = schema.yes_no().text()
            raise CellProblem(
                spec.name, str(value), "not_yes_no", f"expected yes or no: {words}"
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


def _parse_text(value: Any, spec: schema.ColumnSpec, codes: dict[str, str]) -> str | None:
    """A text cell: an id, a code (by any of its spellings) or free text."""
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


def _parse_numeric(value: Any, spec: schema.ColumnSpec) -> int | float | None:
    """A number typed the Vietnamese way; finite, within reach, whole for an ``int`` column.

    A cell Excel shows as a percentage (:class:`Percent`) reads as shown: 97.1 in a
    column of percentages, 0.971 elsewhere. A number that reads two ways (``1.234``)
    keeps the readings the column allows; one left is taken, two raise
    :class:`Undecided`.
    """
    if isinstance(value, Percent):
        # 0.971 × 100 is 97.10000000000001 in binary: keep the digits Excel shows
        shown = float(f"{value.fraction * 100:.12g}") if spec.percent else value.fraction
        return _checked_number(shown, str(value), spec)
    try:
        number = parse_number(value, percent=spec.percent, decimal=None)
    except AmbiguousNumber as two_ways:
        readings = {}
        for mark, reading in two_ways.readings.items():
            try:
                readings[mark] = _checked_number(reading, str(value), spec)
            except CellProblem:
                continue
        if len(readings) == 1:
            return next(iter(readings.values()))
        if not readings:
            raise CellProblem(
                spec.name, str(value), "not_whole_number", "expected a whole number (a count)"
            ) from None
        raise Undecided(str(value), readings) from None
    except NotANumber:
        raise CellProblem(
            spec.name, str(value), "not_a_number", f"expected a number ({spec.range_text})"
        ) from None
    if number is None:
        return None
    return _checked_number(number, str(value), spec)


def decimal_evidence_of(value: Any, spec: schema.ColumnSpec) -> str | None:
    """The decimal mark a numeric cell shows its file was written with, if any.

    Besides what :func:`~analysis.core.text.decimal_evidence` sees in the text, a count
    typed ``1.234`` says the dot groups thousands (1.234 pupils cannot be), so the comma
    is the decimal mark.
    """
    if not isinstance(value, str) or spec.dtype not in {"int", "float"}:
        return None
    mark = decimal_evidence(value)
    if mark is not None or spec.dtype != "int":
        return mark
    try:
        parse_number(value, decimal=None)
    except AmbiguousNumber as two_ways:
        whole = [m for m, r in two_ways.readings.items() if float(r).is_integer()]
        return whole[0] if len(whole) == 1 else None
    except NotANumber:
        return None
    return None


def _checked_number(number: float, shown: str, spec: schema.ColumnSpec) -> int | float:
    """``number`` if it is finite, within reach and (for an ``int`` column) whole."""
    if math.isinf(number) or math.isnan(number):
        raise CellProblem(spec.name, shown, "not_a_number", "expected a finite number")
    if abs(number) > _INT_LIMIT:
        raise CellProblem(
            spec.name, shown, "out_of_range", f"expected a value from {spec.range_text}"
        )
    if spec.dtype == "int":
        if not float(number).is_integer():
            raise CellProblem(
                spec.name, shown, "not_whole_number", "expected a whole number (a count)"
            )
        return int(number)
    return number


def year_from_text(text: str) -> int | None:
    """The (ending) year of the first school year written in ``text``, e.g. 2024-2025 → 2025."""
    for match in re.finditer(r"(\d{4})\s*[-–—_/]\s*(\d{2,4})", text):
        try:
            return parse_school_year(match.group(0).replace("_", "-"))
        except ValueError:
            continue
    return None
