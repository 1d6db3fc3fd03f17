"""Scanning what is shared: a table, a CSV file, every table of a page or a workbook.

Each scanner returns the list of what breaks the rules (empty when the output may be
shared); ``workbench share`` refuses a bundle whose scan is not empty.
"""

from __future__ import annotations

import html
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from analysis.report.privacy.cells import _blank, _numbers, parse_plain
from analysis.report.privacy.rules import Rules, _count_cells, load_rules, markers


def parser_for(lang: str):
    """A reader of numbers as a report of ``lang`` writes them (``1.234,5`` in vi).

    Parameters
    ----------
    lang
        ``"vi"`` (Vietnamese: ``.`` groups thousands, ``,`` is the decimal mark) or
        another language, read as US English.

    Returns
    -------
    callable
        ``parse(text) -> float | None``: the number, or None when the text is not one
        (narrow and non-breaking spaces are ignored).

    Example
    -------
    >>> parser_for("vi")("1.234,5")
    1234.5
    """
    # babel only here: the one reader of formatted numbers; importing it at the top would
    # load it with every `from analysis.report import privacy`, which most callers never need
    from babel.numbers import NumberFormatError, parse_decimal

    locale = "vi_VN" if lang == "vi" else "en_US"

    def parse(text: str) -> float | None:
        try:
            return float(parse_decimal(text.replace("\u202f", "").replace("\xa0", ""), locale))
        except (NumberFormatError, ValueError):
            return None

    return parse


def scan(frame: pd.DataFrame, *, where: str = "", parse=None, rules: Rules | None = None):
    """What in ``frame`` breaks the rules: personal columns, small person counts that show
    a number, and measured cells that show a value in a row whose count is hidden.

    Parameters
    ----------
    frame
        The table as it would be shared.
    where
        Where the table is (a file, a page's table), to start each problem with.
    parse
        Reads numbers written as text (CSV cells, formatted HTML cells); without it,
        text cells are not numbers.
    rules
        The rules (default :func:`load_rules`).

    Returns
    -------
    list of str
        The problems, one sentence each; empty when the table may be shared.

    Example
    -------
    >>> scan(pd.DataFrame({"pupils": [3]}), where="t.csv")  # doctest: +SKIP
    ["t.csv: row 1, column 'pupils': a count of 3 persons (< k = 5) is shown"]
    """
    rules = rules or load_rules()
    problems = [f"{where}: personal column {c!r}" for c in frame.columns if rules.is_personal(c)]
    frame = frame.reset_index(drop=True)
    if frame.empty:
        return problems
    is_count = _count_cells(frame, rules).to_numpy(dtype=bool)
    used = [c for c in range(frame.shape[1]) if is_count[:, c].any()]
    num = _numbers(frame, parse, columns=used)
    hidden = markers()
    with np.errstate(invalid="ignore"):
        small = is_count & (num > 0) & (num < rules.k)
    for r, c in zip(*np.nonzero(small), strict=True):
        problems.append(
            f"{where}: row {r + 1}, column {frame.columns[c]!r}: a count of {num[r, c]:g} "
            f"persons (< k = {rules.k}) is shown"
        )
    descriptive = [rules.is_descriptive(c) for c in frame.columns]
    values = frame.to_numpy(dtype=object)
    marked = np.zeros(frame.shape, dtype=bool)
    for c in used:
        marked[:, c] = [isinstance(v, str) and v.strip() in hidden for v in values[:, c]]
    for r in np.flatnonzero((marked & is_count).any(axis=1)):
        counted = [c for c in used if is_count[r, c]]
        row = values[r]
        for c, value in enumerate(row):
            if descriptive[c] or c in counted or _blank(value):
                continue
            if not (isinstance(value, str) and value.strip() in hidden):
                problems.append(
                    f"{where}: row {r + 1}, column {frame.columns[c]!r} shows {value!r} "
                    "although the row's person count is suppressed"
                )
    return problems


class _Tables(HTMLParser):
    """Every ``<table>`` of a page as (header cells, body rows) of text."""

    def __init__(self) -> None:
        """An empty parser: no table read yet."""
        super().__init__(convert_charrefs=True)
        self.tables: list[tuple[list[str], list[list[str]]]] = []
        self._stack: list[dict] = []
        self._cell: list[str] | None = None
        self._row: list[str] | None = None
        self._in_head = False

    def handle_starttag(self, tag, attrs):
        """Open a table, a head, a row or a cell."""
        if tag == "table":
            self._stack.append({"head": [], "rows": []})
        elif not self._stack:
            return
        elif tag == "thead":
            self._in_head = True
        elif tag == "tr":
            self._row = []
        elif tag in {"td", "th"}:
            self._cell = []

    def handle_endtag(self, tag):
        """Close a cell (its text, spaces collapsed), a row, a head or a table."""
        if not self._stack:
            return
        if tag in {"td", "th"} and self._cell is not None and self._row is not None:
            self._row.append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "tr" and self._row is not None:
            table = self._stack[-1]
            (table["head"] if self._in_head else table["rows"]).append(self._row)
            self._row = None
        elif tag == "thead":
            self._in_head = False
        elif tag == "table":
            table = self._stack.pop()
            head = table["head"][-1] if table["head"] else []
            rows = table["rows"]
            if not head and rows:
                head, rows = rows[0], rows[1:]
            self.tables.append((head, rows))

    def handle_data(self, data):
        """Text inside a cell."""
        if self._cell is not None:
            self._cell.append(data)


def html_tables(text: str) -> list[pd.DataFrame]:
    """The tables of an HTML page as DataFrames of text (index cells aligned left).

    Parameters
    ----------
    text
        The page's HTML.

    Returns
    -------
    list of pandas.DataFrame
        One per ``<table>``, in page order: the last header row as the columns (the
        first row when the table has no ``<thead>``), short rows padded on the left,
        blank headers named ``_<i>`` and repeated ones numbered.

    Example
    -------
    >>> html_tables("<table><tr><th>a</th></tr><tr><td>1</td></tr></table>")[0]
       a
    0  1
    """
    parser = _Tables()
    parser.feed(text)
    parser.close()
    frames = []
    for head, rows in parser.tables:
        width = max([len(head), *(len(r) for r in rows)])
        head = [""] * (width - len(head)) + head
        head = [h or f"_{i}" for i, h in enumerate(head)]
        seen: dict[str, int] = {}
        unique = []
        for h in head:
            seen[h] = seen.get(h, 0) + 1
            unique.append(h if seen[h] == 1 else f"{h} ({seen[h]})")
        body = [[""] * (width - len(r)) + r for r in rows]
        frames.append(pd.DataFrame(body, columns=unique, dtype=object))
    return frames


def scan_html(text: str, *, where: str = "", lang: str = "vi") -> list[str]:
    """Every table of a page, scanned as a reader of ``lang`` sees it.

    Parameters
    ----------
    text
        The page's HTML.
    where
        The page, to start each problem with (then ``table <n>``).
    lang
        The page's language: how its numbers are written (see :func:`parser_for`).

    Returns
    -------
    list of str
        The problems of all its tables (see :func:`scan`).
    """
    parse = parser_for(lang)
    problems = []
    for i, frame in enumerate(html_tables(text)):
        problems += scan(frame, where=f"{where} table {i + 1}", parse=parse)
    return problems


def scan_csv(path: Path, *, where: str | None = None) -> list[str]:
    """A CSV file, every cell read as text (numbers written plainly).

    Parameters
    ----------
    path
        The file (UTF-8, with or without a byte-order mark).
    where
        What to call it in the problems (default the path).

    Returns
    -------
    list of str
        The problems (see :func:`scan`).
    """
    frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    return scan(frame, where=where or str(path), parse=parse_plain)


def scan_workbook(path: Path, *, where: str | None = None) -> list[str]:
    """Every sheet of an Excel workbook (its first row the header).

    Parameters
    ----------
    path
        The ``.xlsx`` file.
    where
        What to call it in the problems (default the path), followed by ``[sheet]``.

    Returns
    -------
    list of str
        The problems of all its sheets (see :func:`scan`); an empty sheet has none.
    """
    # openpyxl only here: the one scanner of workbooks; importing it at the top would load
    # it with every `from analysis.report import privacy`, which most callers never need
    from openpyxl import load_workbook

    problems = []
    book = load_workbook(path, read_only=True, data_only=True)
    try:
        for sheet in book.worksheets:
            rows = list(sheet.iter_rows(values_only=True))
            if not rows:
                continue
            head = [str(h) if h is not None else f"_{i}" for i, h in enumerate(rows[0])]
            frame = pd.DataFrame([list(r) for r in rows[1:]], columns=head, dtype=object)
            problems += scan(frame, where=f"{where or path}[{sheet.title}]", parse=parse_plain)
    finally:
        book.close()
    return problems


def escape(text: Any) -> str:
    """Any value as HTML text (``<``, ``>``, ``&`` and quotes escaped).

    Parameters
    ----------
    text
        The value; turned into text with ``str``.

    Returns
    -------
    str
        Safe to put in a page.

    Example
    -------
    >>> escape("<b>")
    '&lt;b&gt;'
    """
    return html.escape(str(text))
