"""What an aggregation of pupil results did, and the error it raises on bad input."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


class PupilError(RuntimeError):
    """Pupil results cannot be read (no file, a required column missing, …)."""


@dataclass
class PupilResult:
    """What an aggregation did: counts, reasons, where the tables went.

    Attributes
    ----------
    files
        The input files read, as resolved paths.
    input_rows, aggregated_rows, rejected_rows
        Row accounting: every input row is aggregated or rejected.
    rejects_by_reason
        Rejected rows per reason, every reason of :data:`REASONS` present (0 when none).
    school_years
        Rows of ``pupil_outcomes.parquet`` (one per school and year).
    subjects
        The subjects seen in valid rows (empty when the input has no subject column).
    out_dir
        The processed folder written to.
    outputs
        ``outcomes``, ``outcomes_subject`` and ``rejects``: the paths written.
    quantiles, pupil_count
        Whether the quantiles and the distinct pupils were computed.
    seconds
        Wall time of the aggregation.
    """

    files: list[str]
    input_rows: int
    aggregated_rows: int
    rejected_rows: int
    rejects_by_reason: dict[str, int]
    school_years: int
    subjects: list[str]
    out_dir: Path
    outputs: dict[str, str] = field(default_factory=dict)
    quantiles: bool = True
    pupil_count: bool = True
    seconds: float = 0.0

    @property
    def accounting_holds(self) -> bool:
        """Whether ``input_rows == aggregated_rows + rejected_rows`` (no row dropped)."""
        return self.input_rows == self.aggregated_rows + self.rejected_rows
