"""Recognise which table a sheet holds, and where its header is, from the header texts.

Each table's contract (``config/columns.yml`` through :mod:`analysis.data.schema`) lists
every column's Vietnamese header, English name and synonyms. The header row, or two
merged rows, that matches the most columns of one table decides the sheet; a misspelt
header close to exactly one missing column is read as that column and reported.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from typing import Any

from analysis.core.text import clean_text, header_key
from analysis.data import schema
from analysis.data.ingest.errors import IngestError
from analysis.data.ingest.sheet import HEADER_SCAN_ROWS, Sheet, col_letter, sheet_suffix

# the tables a sheet can hold, in the order they are tried, finished and reported
TABLE_ORDER = ("schools", "units", "membership", "crosswalk", "panel")


@dataclass
class Detected:
    """The table a sheet holds and where each of its columns is."""

    table: str
    header_index: int  # 0-based position of the (last) header row in Sheet.head
    columns: dict[int, str]  # cell position → canonical column
    unknown: dict[int, str]  # cell position → header text that matched nothing
    title: str
    guessed: dict[int, str] = field(default_factory=dict)  # position → misspelt header read
    headers: dict[int, str] = field(default_factory=dict)  # position → header text as shown


def _lookup(table: str, expand: dict[str, str]) -> dict[str, str]:
    """Match key (of a column's name, header, English name or synonym) → column."""
    keys: dict[str, str] = {}
    for name, spec in schema.contract(table).items():
        for text in (name, spec.header, spec.en, *spec.synonyms):
            keys.setdefault(schema.match_key(text, expand), name)
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
    """The column the first known key names, or ``None``."""
    for key in keys:
        name = lookup.get(key)
        if name:
            return name
    return None


def _close_match(
    text: str, lookup: dict[str, str], taken: set[str], expand: dict[str, str]
) -> str | None:
    """A misspelt header: one close spelling, same digits, a column not yet present."""
    key = schema.match_key(text, expand)
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


def _best_header(
    rows: list[list[Any]], lookups: dict[str, dict[str, str]], expand: dict[str, str]
) -> tuple[int, str, bool] | None:
    """(row index, table, two merged rows?) of the header matching most columns, or ``None``."""
    best: tuple[tuple[int, float, int], int, str, bool] | None = None
    for index in range(min(HEADER_SCAN_ROWS, len(rows))):
        for two_rows in (False, True):
            if two_rows and index + 1 >= len(rows):
                continue
            keys = [
                [schema.match_key(t, expand) for t in o]
                for o in _header_texts(rows, index, two_rows).values()
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
    return index, table, two_rows


def detect(sheet: Sheet) -> Detected | None:
    """Find the header row (or two merged rows) and the table a sheet holds.

    Every one of the first :data:`HEADER_SCAN_ROWS` rows of ``sheet.head``, alone and
    merged with the row below, is matched against each table's headers; the candidate
    matching most columns (at least two) wins.

    Parameters
    ----------
    sheet
        The sheet; only its ``head`` rows are looked at, ``rest`` is not consumed.

    Returns
    -------
    Detected or None
        The table, the header position and the column of every header cell (known,
        guessed from a misspelling, or unknown); ``None`` when no row looks like a
        header of any table.

    Raises
    ------
    IngestError
        When two header cells name the same column.

    Example
    -------
    >>> found = detect(Sheet("r.csv", "", [["Mã trường", "Năm học", "Số học sinh"]]))
    >>> found.table, found.header_index, sorted(found.columns.values())
    ('panel', 0, ['enrolment', 'school_id', 'school_year'])
    """
    rows = sheet.head
    expand = schema.abbreviations()
    lookups = {t: _lookup(t, expand) for t in TABLE_ORDER}
    best = _best_header(rows, lookups, expand)
    if best is None:
        return None
    index, table, two_rows = best
    texts = _header_texts(rows, index, two_rows)
    columns, unknown, guessed = _map_columns(
        sheet, table, lookups[table], texts, index + 1 + int(two_rows), expand
    )
    title = " ".join(clean_text(c) for r in rows[:index] for c in r if c is not None)
    headers = {pos: options[0] for pos, options in texts.items()}
    return Detected(table, index + int(two_rows), columns, unknown, title, guessed, headers)


def _map_columns(
    sheet: Sheet,
    table: str,
    lookup: dict[str, str],
    texts: dict[int, list[str]],
    header_row: int,
    expand: dict[str, str],
) -> tuple[dict[int, str], dict[int, str], dict[int, str]]:
    """Header cells → (known columns, unknown headers, misspelt headers read as a column)."""
    columns: dict[int, str] = {}
    unknown: dict[int, str] = {}
    guessed: dict[int, str] = {}
    seen: dict[str, int] = {}
    for pos, options in texts.items():
        name = _match([schema.match_key(t, expand) for t in options], lookup)
        if name is None:
            unknown[pos] = options[0]
            continue
        if name in seen:
            spec = schema.contract(table)[name]
            raise IngestError(
                f"{sheet.file}{sheet_suffix(sheet)}",
                f"two columns mean the same thing (header row {header_row}, "
                f"columns {col_letter(seen[name])} and {col_letter(pos)})",
                column=f"{spec.header} ({name})",
                expected=["each column once"],
            )
        seen[name] = pos
        columns[pos] = name
    for pos in list(unknown):
        name = _close_match(unknown[pos], lookup, set(seen), expand)
        if name is not None:
            guessed[pos] = unknown.pop(pos)
            seen[name] = pos
            columns[pos] = name
    return columns, unknown, guessed
