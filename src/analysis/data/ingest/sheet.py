"""What the stages hand each other: a :class:`Sheet` of raw cells, and how to name a place.

Reading yields sheets; recognising looks at their first rows (``head``); parsing
streams the rest. The helpers here spell a file, sheet and column the way every
message and warning shows them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HEADER_SCAN_ROWS = 25  # the header row is looked for among a sheet's first rows
HEAD_ROWS = HEADER_SCAN_ROWS + 2  # the header may sit on two merged rows


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


@dataclass(frozen=True)
class Percent:
    """A number a spreadsheet shows as a percentage: ``fraction`` 0.971 is shown 97.1%.

    Where the column holds percentages (0–100) it reads as 97.1, as Excel shows it;
    elsewhere as the fraction, like the typed text "97.1%".
    """

    fraction: float

    def __str__(self) -> str:
        return f"{self.fraction * 100:.15g}%"


# quoted text and backslash-escaped characters in a number format are shown as typed
_FORMAT_LITERALS = re.compile(r'"[^"]*"|\\.|\[[^\]]*\]')


def is_percent_format(number_format: str | None) -> bool:
    """Whether an Excel number format shows its number × 100 with a % sign.

    ``0.0%`` and ``0%`` do; ``0.0"%"`` and ``0.0\\%`` print a literal sign without
    scaling, and a colour or condition in brackets is not a sign either.

    Example
    -------
    >>> is_percent_format("0.0%"), is_percent_format('0.0"%"'), is_percent_format("General")
    (True, False, False)
    """
    if not number_format or "%" not in number_format:
        return False
    return "%" in _FORMAT_LITERALS.sub("", number_format)


def display_path(path: Path) -> str:
    """``path`` relative to the working directory when it lies under it, else as given."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def sheet_suffix(sheet: Sheet) -> str:
    """`` [sheet NAME]`` for a workbook sheet; nothing for a CSV file."""
    return f" [sheet {sheet.name}]" if sheet.name else ""


def col_letter(pos: int) -> str:
    """The spreadsheet letter of 0-based column ``pos`` (0 → A, 26 → AA)."""
    letters = ""
    pos += 1
    while pos:
        pos, rem = divmod(pos - 1, 26)
        letters = chr(65 + rem) + letters
    return letters
