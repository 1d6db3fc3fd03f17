"""The follow-up register: what the analyst decided about each data-quality flag.

The workbench writes ``data/followup.xlsx`` in the workspace (:func:`update_register`):
one row per flag with its stable id, the school, the value, the expected range and the
reason, and empty cells for the analyst's decision — confirmed as true, corrected to a
value, excluded, or to ask the school — with a comment and a date. The next run reads it
back (:func:`read_register`) and applies corrections and exclusions as a layer on top of
the processed tables (:func:`apply`): the raw files and the processed tables are never
changed, and the log of what was applied goes with the dataset. A decision belongs to a
flag id, and a flag id to one value: when the school sends the same value again it is
flagged with the same id and the decision carries over; when it sends another value, the
old decision is reported as no longer matching and is not applied.

Bad entries (an unknown id, a decision that is not one of the four, a correction that is
not a number, a date that is not a date) stop the run with an :class:`IngestError` that
names the file, the row and the column, as ingest does.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.worksheet.datavalidation import DataValidation

from analysis.core import paths
from analysis.core.files import replacing
from analysis.core.text import NotANumber, header_key, is_na, parse_number, parse_school_year
from analysis.data import schema
from analysis.data.ingest.errors import IngestError

FILENAME = "followup.xlsx"
SHEET = "Theo dõi kiểm tra"
ID_PATTERN = re.compile(r"^Q-[0-9A-F]{10}$")
# decision code -> (Vietnamese word written in the dropdown, English word also accepted)
DECISIONS = {
    "confirmed": ("Xác nhận đúng", "Confirmed as true"),
    "corrected": ("Sửa thành giá trị", "Corrected to a value"),
    "excluded": ("Loại bỏ", "Excluded"),
    "ask": ("Hỏi lại trường", "Ask the school"),
}
RESOLVING = ("confirmed", "corrected", "excluded")  # "ask" leaves the flag open
# register column -> Vietnamese header (Excel-friendly: the analyst reads Vietnamese)
HEADERS = {
    "flag_id": "Mã cờ",
    "state": "Tình trạng",
    "district_name": "Huyện",
    "school_id": "Mã trường",
    "school_name": "Tên trường",
    "school_year": "Năm học",
    "column_label": "Số liệu",
    "value": "Giá trị báo cáo",
    "lower": "Dự kiến từ",
    "upper": "Dự kiến đến",
    "reason": "Lý do",
    "decision": "Quyết định",
    "corrected_value": "Giá trị đúng",
    "comment": "Ghi chú",
    "decided_on": "Ngày quyết định",
    "column": "Mã cột",
}
EDITABLE = ("decision", "corrected_value", "comment", "decided_on")
STATES = {"open": "Chưa xử lý", "waiting": "Chờ trường trả lời", "resolved": "Đã xử lý"}
LOG_COLUMNS = [
    "flag_id",
    "school_id",
    "year",
    "column",
    "reported",
    "applied_value",
    "decision",
    "comment",
    "decided_on",
    "applied",
    "note",
]


def default_path() -> Path:
    """``data/followup.xlsx`` of the project or workspace, or ``$WORKBENCH_FOLLOWUP``."""
    env = os.environ.get("WORKBENCH_FOLLOWUP")
    return Path(env).resolve() if env else paths.project_root() / "data" / FILENAME


def flag_id(school_id: str, year: int, column: str, value: float) -> str:
    """A flag's stable id: the same school, year, column and value give the same id.

    Parameters
    ----------
    school_id, year, column
        Where the value was reported.
    value
        The value as reported (compared to 6 significant digits, so a float's last bits
        do not change the id).

    Returns
    -------
    str
        ``"Q-"`` and ten hexadecimal digits, e.g. ``"Q-3F09A1C2B7"``.
    """
    key = f"{school_id}|{int(year)}|{column}|{float(value):.6g}"
    return "Q-" + hashlib.sha1(key.encode("utf-8")).hexdigest()[:10].upper()


def _school_year(year: int) -> str:
    return f"{int(year) - 1}-{int(year)}"


def empty_register() -> pd.DataFrame:
    """A register with no row, in the shape :func:`read_register` returns."""
    return pd.DataFrame(columns=[*HEADERS, "year"])


def read_register(path: Path | str | None = None) -> pd.DataFrame:
    """The register as the analyst left it, validated.

    Parameters
    ----------
    path
        Default :func:`default_path`. A missing file is an empty register.

    Returns
    -------
    pandas.DataFrame
        One row per flag: the columns of :data:`HEADERS` (``decision`` as its code, or
        None when blank; ``corrected_value`` a float; ``decided_on`` a date) and
        ``year`` (the school year's end year); ``row`` the sheet row, for messages.

    Raises
    ------
    IngestError
        A header is missing, an id is malformed or repeated, a decision unknown, a
        correction not a number (or missing for "corrected"), a date not a date.
    """
    path = Path(path) if path else default_path()
    if not path.is_file():
        return empty_register()
    sheet = openpyxl.load_workbook(path, read_only=True, data_only=True).worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    if not rows:
        return empty_register()
    keys = {header_key(h): k for k, h in HEADERS.items()}
    found = [keys.get(header_key(h)) for h in rows[0]]
    absent = [
        HEADERS[k]
        for k in (
            "flag_id",
            "school_id",
            "school_year",
            "column",
            "value",
            "decision",
            "corrected_value",
        )
        if k not in found
    ]
    if absent:
        raise IngestError(
            path,
            "the follow-up register lacks columns",
            expected=absent,
            found=[str(h) for h in rows[0] if h is not None],
        )
    records = []
    for number, cells in enumerate(rows[1:], start=2):
        record = {k: v for k, v in zip(found, cells, strict=False) if k}
        if all(is_na(v) for v in record.values()):
            continue
        records.append(_validated(path, number, record))
    frame = pd.DataFrame(records, columns=[*HEADERS, "year", "row"])
    repeated = frame[frame["flag_id"].duplicated()]
    if len(repeated):
        first = repeated.iloc[0]
        raise IngestError(
            path,
            f"row {first['row']}: flag {first['flag_id']} appears twice",
            column=HEADERS["flag_id"],
            expected=["one row per flag"],
        )
    frame.attrs["path"] = path
    return frame


def _problem(path, number, column, problem, expected) -> IngestError:
    return IngestError(path, f"row {number}: {problem}", column=HEADERS[column], expected=expected)


def _validated(path: Path, number: int, record: dict) -> dict:
    """One register row checked and converted (see :func:`read_register`)."""
    flag = str(record.get("flag_id") or "").strip()
    if not ID_PATTERN.match(flag):
        raise _problem(
            path,
            number,
            "flag_id",
            f"{flag!r} is not a flag id",
            ["Q- and ten characters 0-9/A-F, as the workbench wrote it"],
        )
    record["flag_id"] = flag
    try:
        record["year"] = parse_school_year(record.get("school_year"))
        value = parse_number(record.get("value"))
    except (ValueError, NotANumber):
        raise _problem(
            path,
            number,
            "school_year",
            f"{record.get('school_year')!r} cannot be read",
            ["the school year and the value as the workbench wrote them"],
        ) from None
    record["value"] = value
    record["school_id"] = str(record.get("school_id") or "").strip()
    if (
        record["year"] is None
        or value is None
        or flag_id(record["school_id"], record["year"], str(record.get("column")), value) != flag
    ):
        raise _problem(
            path,
            number,
            "flag_id",
            f"unknown flag {flag}",
            ["the id the workbench wrote for this school, year, column and value"],
        )
    record["decision"] = _decision(path, number, record.get("decision"))
    record["corrected_value"] = _correction(path, number, record)
    when = record.get("decided_on")
    if isinstance(when, dt.datetime):
        record["decided_on"] = when.date()
    elif not is_na(when) and not isinstance(when, dt.date):
        try:
            record["decided_on"] = dt.datetime.strptime(str(when).strip(), "%d/%m/%Y").date()
        except ValueError:
            raise _problem(
                path,
                number,
                "decided_on",
                f"{when!r} is not a date",
                ["a date cell, or dd/mm/yyyy"],
            ) from None
    else:
        record["decided_on"] = None if is_na(when) else when
    record["row"] = number
    return record


def _decision(path: Path, number: int, cell: object) -> str | None:
    if is_na(cell):
        return None
    wanted = header_key(cell)
    for code, words in DECISIONS.items():
        if wanted in {header_key(code), *(header_key(w) for w in words)}:
            return code
    raise _problem(
        path, number, "decision", f"{cell!r} is not a decision", [w[0] for w in DECISIONS.values()]
    )


def _correction(path: Path, number: int, record: dict) -> float | None:
    cell = record.get("corrected_value")
    try:
        value = parse_number(cell)
    except NotANumber:
        raise _problem(
            path,
            number,
            "corrected_value",
            f"{cell!r} is not a number",
            ["a number, as Excel shows it (1.234,5 or 1234.5)"],
        ) from None
    if record["decision"] == "corrected" and value is None:
        raise _problem(
            path,
            number,
            "corrected_value",
            "a correction without a value",
            ["the correct value, for the decision 'Sửa thành giá trị'"],
        )
    return value


def apply(frame: pd.DataFrame, register: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Corrections and exclusions of ``register`` applied to a copy of ``frame``.

    Parameters
    ----------
    frame
        The school-year panel as ingested (``school_id``, ``year`` and the columns).
    register
        :func:`read_register`'s table.

    Returns
    -------
    (pandas.DataFrame, pandas.DataFrame)
        The panel with corrected values set and excluded values blank (``frame`` itself
        is not changed), and the log (:data:`LOG_COLUMNS`): one row per decision,
        ``applied`` false with a ``note`` when the reported value has changed since the
        decision (the school sent another value: the flag is a new one).

    Raises
    ------
    IngestError
        A register row names a school-year or a column the panel does not have.
    """
    out = frame.copy()
    log = []
    where = {
        (s, int(y)): i for i, (s, y) in enumerate(zip(out["school_id"], out["year"], strict=True))
    }
    for row in register.itertuples(index=False):
        if is_na(row.decision):
            continue
        at = where.get((row.school_id, int(row.year)))
        if at is None or row.column not in out.columns:
            raise IngestError(
                register.attrs.get("path", default_path()),
                f"row {row.row}: flag {row.flag_id} names a school-year or a column "
                "the processed tables do not have",
                column=HEADERS["flag_id"],
                expected=["a flag the workbench wrote for these tables"],
            )
        current = out[row.column].iloc[at]
        entry = {
            "flag_id": row.flag_id,
            "school_id": row.school_id,
            "year": int(row.year),
            "column": row.column,
            "reported": row.value,
            "decision": row.decision,
            "comment": row.comment,
            "decided_on": row.decided_on,
        }
        if (
            is_na(current)
            or flag_id(row.school_id, row.year, row.column, float(current)) != row.flag_id
        ):
            log.append(
                {
                    **entry,
                    "applied_value": np.nan,
                    "applied": False,
                    "note": "the reported value has changed since the decision",
                }
            )
            continue
        value = {"corrected": row.corrected_value, "excluded": np.nan}.get(row.decision, current)
        if row.decision in ("corrected", "excluded"):
            column = out[row.column]
            if not pd.api.types.is_float_dtype(column):
                out[row.column] = column.astype("float64")
            out.iloc[at, out.columns.get_loc(row.column)] = value
        log.append({**entry, "applied_value": value, "applied": True, "note": ""})
    return out, pd.DataFrame(log, columns=LOG_COLUMNS)


def state(decision: str | None) -> str:
    """A flag's state from its decision: ``open``, ``waiting`` (asked) or ``resolved``."""
    if decision in RESOLVING:
        return "resolved"
    return "waiting" if decision == "ask" else "open"


def update_register(flags: pd.DataFrame, path: Path | str | None = None) -> pd.DataFrame:
    """Write the register: today's flags with the decisions already recorded.

    A row keeps its decision, comment and date when its flag id is flagged again; a row
    with a decision whose flag is no longer raised (the value was corrected or excluded)
    stays, resolved; a row without a decision whose flag is gone is dropped.

    Parameters
    ----------
    flags
        :func:`analysis.measures.quality.flags` (ranked by impact).
    path
        Default :func:`default_path`.

    Returns
    -------
    pandas.DataFrame
        The register as written (the columns of :data:`HEADERS`, codes for decisions).
    """
    path = Path(path) if path else default_path()
    before = read_register(path).set_index("flag_id")
    rows = []
    for flag in flags.itertuples(index=False):
        rows.append(
            {
                "flag_id": flag.flag_id,
                "district_name": flag.district_name,
                "school_id": flag.school_id,
                "school_name": flag.school_name,
                "school_year": _school_year(flag.year),
                "column_label": _label(flag.column),
                "value": flag.value,
                "lower": round(flag.lower, 1),
                "upper": round(flag.upper, 1),
                "reason": flag.reason_vi,
                "column": flag.column,
                "year": int(flag.year),
            }
        )
    now = pd.DataFrame(rows, columns=[*HEADERS, "year"])
    for key in EDITABLE:
        now[key] = now["flag_id"].map(before[key]) if len(before) else None
    kept = before[before["decision"].notna() & ~before.index.isin(now["flag_id"])].reset_index()
    register = pd.concat([now, kept[[*HEADERS, "year"]]], ignore_index=True) if len(kept) else now
    register["state"] = [state(d if isinstance(d, str) else None) for d in register["decision"]]
    _write(register, path)
    return register


def _label(column: str) -> str:
    spec = schema.contract("panel").get(column)
    return spec.header if spec else column


def _write(register: pd.DataFrame, path: Path) -> None:
    """The register as an Excel workbook: Vietnamese headers, a dropdown of decisions."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = SHEET
    sheet.append(list(HEADERS.values()))
    words = {code: w[0] for code, w in DECISIONS.items()}
    for row in register.itertuples(index=False):
        cells = []
        for key in HEADERS:
            value = getattr(row, key)
            if key == "decision":
                value = words.get(value) if isinstance(value, str) else None
            elif key == "state":
                value = STATES[value]
            cells.append(None if is_na(value) else value)
        sheet.append(cells)
    bold, fill = Font(bold=True), PatternFill("solid", fgColor="FFF2CC")
    for k, key in enumerate(HEADERS, start=1):
        cell = sheet.cell(row=1, column=k)
        cell.font, cell.alignment = bold, Alignment(wrap_text=True, vertical="top")
        letter = cell.column_letter
        sheet.column_dimensions[letter].width = {"reason": 60, "school_name": 28}.get(key, 16)
        if key in EDITABLE:
            cell.fill = fill  # the cells the analyst fills in
    last = max(len(register) + 1, 2) + 500  # room for the rows of later runs
    choice = DataValidation(
        type="list",
        formula1='"' + ",".join(words.values()) + '"',
        allow_blank=True,
        showErrorMessage=True,
    )
    decision = list(HEADERS).index("decision") + 1
    letter = sheet.cell(row=1, column=decision).column_letter
    choice.add(f"{letter}2:{letter}{last}")
    sheet.add_data_validation(choice)
    dates = list(HEADERS).index("decided_on") + 1
    for r in range(2, len(register) + 2):
        sheet.cell(row=r, column=dates).number_format = "DD/MM/YYYY"
    sheet.freeze_panes = "B2"
    path.parent.mkdir(parents=True, exist_ok=True)
    with replacing(path) as tmp:
        book.save(tmp)


def empty_log() -> pd.DataFrame:
    """A log of applied decisions with no row (:func:`apply`'s second table)."""
    return pd.DataFrame(columns=LOG_COLUMNS)


def counts(log: pd.DataFrame) -> dict[str, int]:
    """Decisions applied, by kind: ``{"corrected": 2, "excluded": 1, "confirmed": 3, "ask": 0}``."""
    applied = log[log["applied"].astype(bool)] if len(log) else log
    return {
        code: int((applied["decision"] == code).sum()) if len(applied) else 0 for code in DECISIONS
    }
