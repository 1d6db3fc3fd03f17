"""What ingest returns: :class:`IngestResult`, the tables with the row accounting behind them."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from analysis.data.ingest.detect import TABLE_ORDER


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
    synthetic: bool = False  # every file read came from the generator (its truth.json beside)

    def accepted_rows(self, table: str) -> int:
        """Rows of ``table`` in the processed table."""
        return len(self.tables.get(table, ()))

    def rejected_rows(self, table: str) -> int:
        """Rows of ``table`` with at least one reject (a row with several counts once)."""
        rej = self.rejects[self.rejects["table"] == table]
        return int(rej[["file", "sheet", "row"]].drop_duplicates().shape[0])

    def accounting_holds(self) -> bool:
        """Whether every table's input rows = accepted + rejected rows."""
        return all(
            self.input_rows.get(t, 0) == self.accepted_rows(t) + self.rejected_rows(t)
            for t in TABLE_ORDER
        )
