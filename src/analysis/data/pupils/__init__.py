"""Pupil-level results → school-year outcomes, streamed through DuckDB.

A national results table (tens of millions of rows: one per pupil and exam or
subject) never fits comfortably in pandas, and need not: every step here is
SQL run by DuckDB over the Parquet or CSV files, which it scans in parallel
and, past its memory limit, spills to disk. Only the aggregated school-year
table (one row per school and year, tens of thousands of rows) is small.

Outputs (in the processed folder, beside the ingest tables):

``pupil_outcomes.parquet``
    one row per school and school year, all subjects pooled; joins the panel
    on ``school_id`` + ``year`` (see :func:`join_panel` and the ``joins`` key
    of a dataset spec);
``pupil_outcomes_subject.parquet``
    the same per school, year and subject;
``pupil_rejects.parquet``
    every rejected row with its file, its row (``source_row``, from 1), its
    reason and the raw values, as text;
``pupil_manifest.json``
    inputs (with sizes), row accounting (input = aggregated + rejected),
    rejects by reason, the settings used;
views ``pupil_outcomes``, ``pupil_outcomes_subject``, ``pupil_rejects`` and,
when the panel is there, ``panel_pupil_outcomes`` in ``workbench.duckdb``.

The package, lowest first: ``result`` (:class:`PupilResult`, :class:`PupilError`),
``settings`` (file names, columns, reasons, ``config/pupils.yml``), ``sql`` (finding
and reading the files, parsing, the queries) and ``aggregation`` (:func:`aggregate`,
run in named steps).
"""

from analysis.data.pupils.aggregation import aggregate, join_panel, write_views
from analysis.data.pupils.result import PupilError, PupilResult
from analysis.data.pupils.settings import (
    ALL_SUBJECTS,
    DUCKDB_FILE,
    MANIFEST_FILE,
    OUTCOME_COLUMNS,
    OUTCOMES_FILE,
    QUANTILES,
    REASONS,
    REJECTS_FILE,
    STEPS,
    SUBJECT_FILE,
    SUFFIXES,
    _setting,
    config,
    label,
)
from analysis.data.pupils.sql import discover, parsed_sql

__all__ = [
    "ALL_SUBJECTS",
    "DUCKDB_FILE",
    "MANIFEST_FILE",
    "OUTCOMES_FILE",
    "OUTCOME_COLUMNS",
    "QUANTILES",
    "REASONS",
    "REJECTS_FILE",
    "STEPS",
    "SUBJECT_FILE",
    "SUFFIXES",
    "PupilError",
    "PupilResult",
    "_setting",
    "aggregate",
    "config",
    "discover",
    "join_panel",
    "label",
    "parsed_sql",
    "write_views",
]
