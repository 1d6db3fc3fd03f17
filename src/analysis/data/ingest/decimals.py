"""The decimal mark of a sheet, decided from its own cells.

Vietnamese templates write ``1.234,5``; software set to English writes ``1,234.5``.
Most typed numbers show which convention they follow (``12,5``, ``0.512``,
``1.234.567``), and a count typed ``1.234`` says the dot groups thousands. A number
with one mark and one group of three digits (``1.234``, ``1,234``) reads two ways;
such a cell waits until the whole sheet has been read, then takes the sheet's
convention. When the sheet shows none, or shows both, the cell is rejected as
ambiguous, with a message that says why: never guessed.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from analysis.data import schema
from analysis.data.ingest.cells import Undecided, decimal_evidence_of

_EXAMPLES = 2  # cells quoted in a message as the evidence for a mark
_NAMES = {",": "a decimal comma (1.234,5)", ".": "a decimal point (1,234.5)"}


@dataclass
class _Pending:
    position: int  # row of the sheet's frame
    column: str
    value: str
    readings: dict[str, Any]
    record: dict[str, Any]  # the row's record: file, sheet, row, school and year


@dataclass
class DecimalMarks:
    """Evidence for each decimal mark in one sheet, and the cells waiting for it."""

    evidence: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    counts: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    pending: list[_Pending] = field(default_factory=list)

    def observe(self, value: Any, spec: schema.ColumnSpec, row: int) -> None:
        """Count the mark ``value`` shows it was typed with, if it shows one."""
        mark = decimal_evidence_of(value, spec)
        if mark is None:
            return
        self.counts[mark] += 1
        if len(self.evidence[mark]) < _EXAMPLES:
            self.evidence[mark].append(f"{value!r} (row {row}, column {spec.name})")

    def defer(self, position: int, column: str, undecided: Undecided, record: dict) -> None:
        """Keep a two-way number until the sheet's mark is known."""
        self.pending.append(_Pending(position, column, undecided.value, undecided.readings, record))

    def mark(self) -> str | None:
        """The sheet's decimal mark: the only one its cells show, else ``None``."""
        shown = [m for m in (",", ".") if self.counts[m]]
        return shown[0] if len(shown) == 1 else None

    def settle(self, frame: pd.DataFrame, table: str, where: str) -> tuple[list[dict], list[str]]:
        """Fill the waiting cells of ``frame``; the reject records and warnings of the rest."""
        mark = self.mark()
        notes = []
        if self.counts[","] and self.counts["."]:
            notes.append(
                f"{where}: numbers are typed with both decimal marks ("
                + "; ".join(f"{_NAMES[m]}: {', '.join(self.evidence[m])}" for m in (",", "."))
                + "); a number such as 1.234 that reads either way is rejected"
            )
        problems = []
        for cell in self.pending:
            if mark is not None and mark in cell.readings:
                frame.at[cell.position, cell.column] = cell.readings[mark]
                continue
            problems.append(self._ambiguous(cell, table, mark))
        return problems, notes

    def _ambiguous(self, cell: _Pending, table: str, mark: str | None) -> dict[str, Any]:
        """The reject record of a number the sheet does not decide."""
        one, other = (f"{cell.readings[m]:g}" for m in (",", ".") if m in cell.readings)
        if mark is None and not (self.counts[","] or self.counts["."]):
            why = "no other number in this sheet shows which decimal mark it uses"
        elif mark is None:
            why = "this sheet uses both decimal marks"
        else:
            why = f"this sheet uses {_NAMES[mark]}, which does not give a valid value here"
        return {
            "table": table,
            "file": cell.record["_file"],
            "sheet": cell.record["_sheet"],
            "row": cell.record["_row"],
            "column": cell.column,
            "value": cell.value,
            "rule": "ambiguous_decimal",
            "message": f"{cell.value!r} is {one} with a decimal comma and {other} with a decimal "
            f"point, and {why}; retype it without a thousands separator",
            "school_id": cell.record.get("school_id"),
            "year": cell.record.get("year"),
        }
