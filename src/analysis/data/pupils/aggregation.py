"""The aggregation: pupil rows → school-year outcomes and rejects, one DuckDB scan.

:func:`aggregate` runs its steps in order — settings, connect, parse, cells,
rejects, outcomes, row accounting, views, manifest — each a function below; the
SQL they run is built in :mod:`analysis.data.pupils.sql`. Every table goes to the
processed folder through :mod:`analysis.data.catalog`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from analysis.core import paths
from analysis.data import catalog
from analysis.data.pupils.result import PupilResult
from analysis.data.pupils.settings import (
    OUTCOME_COLUMNS,
    OUTCOMES_FILE,
    REASONS,
    REJECTS_FILE,
    SUBJECT_FILE,
    _setting,
    config,
)
from analysis.data.pupils.sql import (
    _cells_sql,
    _numbered_rejects_sql,
    _outcomes_sql,
    _rejects_sql,
    _sql_text,
    discover,
    parsed_sql,
)


@dataclass(frozen=True)
class _Options:
    """The aggregation's settings once arguments and ``config/pupils.yml`` are merged."""

    threshold: float
    quantiles: bool
    pupil_count: bool


@dataclass(frozen=True)
class _Counts:
    """The row accounting of one aggregation, read back from the cells and the outputs."""

    input_rows: int
    aggregated_rows: int
    school_years: int
    by_reason: dict[str, int]
    subjects: list[str]


def aggregate(
    source: Path | str | Iterable[Path | str],
    *,
    out_dir: Path | None = None,
    threshold: float | None = None,
    quantiles: bool | None = None,
    pupil_count: bool | None = None,
    memory_limit: str | None = "3GB",
    threads: int | None = None,
    progress: Callable[[str], None] | None = None,
) -> PupilResult:
    """Aggregate pupil results to school-year outcomes, in DuckDB, and write them.

    Parameters
    ----------
    source
        A .parquet or .csv file, a folder of them, a glob pattern
        (``"data/raw/pupils/*.parquet"``) or a list of any of these. Headers
        are matched through ``config/pupils.yml``.
    out_dir
        The processed folder (default ``data/processed``).
    threshold
        Scores strictly below it count in ``pupil_below_threshold_share``
        (default: ``score.threshold`` in ``config/pupils.yml``, 5 of 10).
    quantiles
        Exact quantiles; ``False`` leaves the five quantile columns empty and
        does not keep every score of a cell until the end. Default:
        ``aggregation.quantiles`` in ``config/pupils.yml`` (true).
    pupil_count
        Distinct pupil ids per school-year and subject (when the files have a
        pupil id); ``False`` leaves ``pupil_count`` empty and does not keep
        the ids. Default: ``aggregation.pupil_count`` (true). These two are
        most of the aggregation's time at national scale (see Notes); every
        other outcome is the same, and exact, either way.
    memory_limit, threads
        DuckDB settings; past the limit DuckDB spills to ``out_dir``.
    progress
        Called with the name of each step (:data:`STEPS`) as it starts.

    Returns
    -------
    PupilResult
        Counts; ``input_rows == aggregated_rows + rejected_rows`` always holds
        (a row that fails a rule is in the rejects, never dropped).

    Raises
    ------
    PupilError
        When no input file is found, a file cannot be read or lacks a required
        column, or a switch of ``config/pupils.yml`` is not true or false.

    Notes
    -----
    Outcomes are per school and year over all subjects and per subject.
    ``pupil_mean_score`` is the mean over records (pupil × subject),
    ``pupil_pass_rate`` the share of records passed; ``pupil_score_sd`` is the
    sample standard deviation (n − 1); quantiles are exact (linear
    interpolation, like ``numpy.quantile``: DuckDB's ``quantile_cont``);
    ``pupil_count`` counts distinct pupil ids when the files have them.

    How: the input is scanned **once**, into cells of two grouping sets —
    school × year × subject and school × year — each split by reject reason
    (valid rows have none): count, mean, sd, passes, scores below the
    threshold, exact quantiles and the list of pupil ids of the valid cells;
    the raw values, file and row of each rejected row in its reason's cell.
    The outcomes are the valid cells, the rejects are unnested from the
    reasons' cells and the row accounting is the cells' counts: no separate
    count or rejects pass. Distinct pupils are counted from the id lists
    rather than with ``count(DISTINCT …)``, whose extra hash table on every
    pupil spilled to disk at national scale. A rejected row's
    ``source_row`` is its record in the file counting from 1 (Parquet: the
    row; CSV: the data record after the header, blank lines not counted); CSV
    files with rejects are read once more, on one thread, to number them,
    since DuckDB cannot number the rows of a parallel CSV read.

    Cost at national scale (20 million rows; ``benchmarks/bench_national.py``):
    the quantiles and the distinct pupils are most of the time, so
    ``quantiles=False`` and ``pupil_count=False`` are the fast settings when
    those columns are not needed.

    Example
    -------
    >>> result = aggregate("data/raw/pupils", quantiles=False)  # doctest: +SKIP
    >>> result.accounting_holds
    True
    """
    started = time.perf_counter()
    step = progress or (lambda _name: None)
    cfg = config()
    options = _options(cfg, threshold, quantiles, pupil_count)
    out_dir = Path(out_dir) if out_dir is not None else paths.processed_dir()
    out_dir.mkdir(parents=True, exist_ok=True)
    files = discover(source)
    raw_columns = [c for c in cfg["columns"] if c != "pupil_id"]
    with _session(out_dir, memory_limit, threads) as con:
        step("headers")
        parsed, has_subject, has_pupil = parsed_sql(files, con=con, cfg=cfg)
        pupils = options.pupil_count and has_pupil
        step("aggregate")
        _make_cells(con, parsed, options, raw_columns, pupils=pupils)
        step("rejects")
        rejects = _write_rejects(con, cfg, raw_columns, out_dir)
        step("write")
        outcomes = _write_outcomes(con, out_dir, pupils=pupils)
        counts = _count(con, outcomes, rejects)
    outputs = {
        "outcomes": str(outcomes),
        "outcomes_subject": str(out_dir / SUBJECT_FILE),
        "rejects": str(rejects),
    }
    result = _result(files, counts, out_dir, outputs, options, has_subject, pupils)
    step("views")
    write_views(out_dir)
    result.seconds = time.perf_counter() - started
    _write_manifest(result, options.threshold, cfg)
    return result


def _options(
    cfg: dict[str, Any],
    threshold: float | None,
    quantiles: bool | None,
    pupil_count: bool | None,
) -> _Options:
    """The arguments of :func:`aggregate`, with ``config/pupils.yml`` where they are None."""
    settings = cfg.get("aggregation") or {}
    return _Options(
        threshold=float(cfg["score"]["threshold"] if threshold is None else threshold),
        quantiles=_setting(settings, "quantiles", quantiles),
        pupil_count=_setting(settings, "pupil_count", pupil_count),
    )


def _connect(
    memory_limit: str | None, threads: int | None, temp: Path
) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB that spills to ``temp`` and streams its big COPYs."""
    con = duckdb.connect()
    if memory_limit:
        con.execute(f"SET memory_limit = {_sql_text(memory_limit)}")
    if threads:
        con.execute(f"SET threads = {int(threads)}")
    con.execute(f"SET temp_directory = {_sql_text(temp.as_posix())}")
    con.execute("SET preserve_insertion_order = false")  # lets big COPYs stream
    return con


@contextmanager
def _session(
    out_dir: Path, memory_limit: str | None, threads: int | None
) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection spilling to ``out_dir/.pupils_tmp``; closed and the folder removed after."""
    spill = out_dir / ".pupils_tmp"
    spill.mkdir(exist_ok=True)
    con = _connect(memory_limit, threads, spill)
    try:
        yield con
    finally:
        con.close()
        for leftover in spill.glob("*"):
            leftover.unlink(missing_ok=True)
        spill.rmdir()


def _copy(con: duckdb.DuckDBPyConnection, query: str, target: Path) -> None:
    """Write a query's rows to a Parquet file of the processed folder (via the catalog)."""
    catalog.copy_query(con, query, target)


def _make_cells(
    con: duckdb.DuckDBPyConnection,
    parsed: str,
    options: _Options,
    raw_columns: list[str],
    *,
    pupils: bool,
) -> None:
    """The one scan of the input: temp table ``cells`` (see :func:`_cells_sql`)."""
    con.execute(
        "CREATE TEMP TABLE cells AS "
        + _cells_sql(
            parsed,
            options.threshold,
            raw_columns,
            quantiles=options.quantiles,
            pupils=pupils,
        )
    )


def _write_rejects(
    con: duckdb.DuckDBPyConnection, cfg: dict[str, Any], raw_columns: list[str], out_dir: Path
) -> Path:
    """Temp table ``rejects`` from the reasons' cells, CSV rows numbered, written out."""
    con.execute("CREATE TEMP TABLE rejects AS " + _rejects_sql(raw_columns))
    _number_csv_rejects(con, cfg, raw_columns)
    rejects = out_dir / REJECTS_FILE
    _copy(con, "SELECT * FROM rejects ORDER BY source_file, source_row", rejects)
    return rejects


def _number_csv_rejects(
    con: duckdb.DuckDBPyConnection, cfg: dict[str, Any], raw_columns: list[str]
) -> None:
    """Give the rejects of CSV files their row numbers: one sequential read per such file.

    The main pass reads CSV files in parallel, so their rejects come without a
    row; only files with rejects are read again, one thread, rows in order.
    """
    files = [
        row[0]
        for row in con.execute(
            "SELECT DISTINCT source_file FROM rejects WHERE source_row IS NULL ORDER BY 1"
        ).fetchall()
    ]
    if not files:
        return
    con.execute("SET preserve_insertion_order = true")  # the streaming row_number keeps file order
    try:
        for name in files:
            sql, _, _ = parsed_sql([Path(name)], con=con, cfg=cfg, sequential=True)
            (removed,) = _one(con, "DELETE FROM rejects WHERE source_file = ?", [name])
            (added,) = _one(con, "INSERT INTO rejects " + _numbered_rejects_sql(sql, raw_columns))
            if added != removed:  # the two reads disagree: a bug, not a user error
                raise AssertionError(f"{name}: {removed} rejects in the first read, {added} after")
    finally:
        con.execute("SET preserve_insertion_order = false")


def _one(
    con: duckdb.DuckDBPyConnection, query: str, parameters: list[Any] | None = None
) -> tuple[Any, ...]:
    """The one row a statement returns (an aggregate, or the count of a DELETE or INSERT)."""
    row = con.execute(query, parameters).fetchone()
    if row is None:  # a bug, not a user error: these statements always return a row
        raise AssertionError(f"no row from {query[:60]}…")
    return row


def _write_outcomes(con: duckdb.DuckDBPyConnection, out_dir: Path, *, pupils: bool) -> Path:
    """The two outcome tables (pooled and per subject) from the valid cells; the pooled one."""
    outcomes = out_dir / OUTCOMES_FILE
    _copy(con, _outcomes_sql(False, pupils=pupils), outcomes)
    _copy(con, _outcomes_sql(True, pupils=pupils), out_dir / SUBJECT_FILE)
    return outcomes


def _count(con: duckdb.DuckDBPyConnection, outcomes: Path, rejects: Path) -> _Counts:
    """Input rows and subjects from the cells; aggregated and rejected rows from the files."""
    (input_rows,) = _one(con, "SELECT coalesce(sum(n), 0) FROM cells WHERE pooled = 0")
    records, school_years = _one(
        con,
        "SELECT coalesce(sum(pupil_records), 0), count(*) FROM "
        f"read_parquet({_sql_text(outcomes.as_posix())})",
    )
    by_reason = dict(
        con.execute(
            f"SELECT reason, count(*) FROM read_parquet({_sql_text(rejects.as_posix())}) "
            "GROUP BY reason ORDER BY reason"
        ).fetchall()
    )
    subjects = [
        r[0]
        for r in con.execute(
            "SELECT DISTINCT subject FROM cells WHERE reason_code IS NULL AND pooled = 0 ORDER BY 1"
        ).fetchall()
    ]
    return _Counts(
        input_rows=int(input_rows),
        aggregated_rows=int(records),
        school_years=int(school_years),
        by_reason=by_reason,
        subjects=subjects,
    )


def _result(
    files: list[Path],
    counts: _Counts,
    out_dir: Path,
    outputs: dict[str, str],
    options: _Options,
    has_subject: bool,
    pupils: bool,
) -> PupilResult:
    """The :class:`PupilResult`; rows that do not add up are a bug and raise."""
    result = PupilResult(
        files=[str(f) for f in files],
        input_rows=counts.input_rows,
        aggregated_rows=counts.aggregated_rows,
        rejected_rows=int(sum(counts.by_reason.values())),
        rejects_by_reason={r: int(counts.by_reason.get(r, 0)) for r in REASONS},
        school_years=counts.school_years,
        subjects=counts.subjects if has_subject else [],
        out_dir=out_dir,
        outputs=outputs,
        quantiles=options.quantiles,
        pupil_count=pupils,
    )
    if not result.accounting_holds:  # a bug, not a user error: say so loudly
        raise AssertionError(
            f"pupil rows do not add up: {result.input_rows} input, "
            f"{result.aggregated_rows} aggregated, {result.rejected_rows} rejected"
        )
    return result


def write_views(out_dir: Path) -> None:
    """Add the pupil views to ``workbench.duckdb`` (created when ingest has not run).

    Parameters
    ----------
    out_dir
        The processed folder holding the pupil tables.

    Returns
    -------
    None
        Views ``pupil_outcomes``, ``pupil_outcomes_subject``, ``pupil_rejects`` and,
        when the panel is there, ``panel_pupil_outcomes`` are (re)defined.
    """
    catalog.refresh_views(out_dir)


def _write_manifest(result: PupilResult, threshold: float, cfg: dict[str, Any]) -> None:
    """``pupil_manifest.json``: inputs with sizes, row accounting, reasons, settings."""
    manifest = {
        "files": [{"path": f, "bytes": Path(f).stat().st_size} for f in result.files],
        "input_rows": result.input_rows,
        "aggregated_rows": result.aggregated_rows,
        "rejected_rows": result.rejected_rows,
        "rejects_by_reason": result.rejects_by_reason,
        "school_years": result.school_years,
        "subjects": result.subjects,
        "score_range": [cfg["score"]["min"], cfg["score"]["max"]],
        "threshold": threshold,
        "quantiles": "exact" if result.quantiles else "not computed",
        "pupil_count": "distinct pupil ids" if result.pupil_count else "not computed",
        "outputs": result.outputs,
        "seconds": round(result.seconds, 3),
    }
    catalog.write_manifest("pupils", manifest, result.out_dir)


def join_panel(panel, outcomes):
    """The panel with the pupil outcomes: a left join on ``school_id`` + ``year``.

    Parameters
    ----------
    panel : pandas.DataFrame
        The school-year panel (``school_id``, ``year``, …).
    outcomes : pandas.DataFrame
        ``pupil_outcomes.parquet`` read as a DataFrame: one row per school-year, so
        the join never multiplies panel rows.

    Returns
    -------
    pandas.DataFrame
        ``panel`` with the outcome columns of :data:`OUTCOME_COLUMNS` it has;
        school-years without pupil results get missing outcomes.

    Raises
    ------
    pandas.errors.MergeError
        When ``outcomes`` has two rows for one school-year.

    Example
    -------
    >>> outcomes = pd.read_parquet("data/processed/pupil_outcomes.parquet")  # doctest: +SKIP
    >>> join_panel(panel, outcomes)  # doctest: +SKIP
    """
    keep = ["school_id", "year", *[c for c in OUTCOME_COLUMNS if c in outcomes]]
    return panel.merge(outcomes[keep], on=["school_id", "year"], how="left", validate="one_to_one")
