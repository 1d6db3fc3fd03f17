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
"""

from __future__ import annotations

import glob as globbing
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from analysis.core import paths, text
from analysis.core.config import load_yaml
from analysis.data import catalog

SUFFIXES = {".parquet", ".csv"}
OUTCOMES_FILE = catalog.PUPIL_OUTCOMES
SUBJECT_FILE = catalog.PUPIL_OUTCOMES_SUBJECT
REJECTS_FILE = catalog.PUPIL_REJECTS
MANIFEST_FILE = catalog.PUPIL_MANIFEST
DUCKDB_FILE = catalog.DUCKDB_FILE
REASONS = (
    "school_id_missing",
    "year_invalid",
    "subject_missing",
    "score_missing",
    "score_not_number",
    "score_out_of_range",
    "pass_flag_unknown",
)
OUTCOME_COLUMNS = [
    "pupil_records",
    "pupil_count",
    "pupil_mean_score",
    "pupil_score_sd",
    "pupil_pass_rate",
    "pupil_score_p10",
    "pupil_score_p25",
    "pupil_score_median",
    "pupil_score_p75",
    "pupil_score_p90",
    "pupil_below_threshold_share",
]
QUANTILES = {"p10": 0.10, "p25": 0.25, "median": 0.50, "p75": 0.75, "p90": 0.90}
STEPS = ("headers", "aggregate", "rejects", "write", "views")
ALL_SUBJECTS = "*"  # the subject of a row when the input has no subject column


class PupilError(RuntimeError):
    """Pupil results cannot be read (no file, a required column missing, …)."""


@dataclass
class PupilResult:
    """What an aggregation did: counts, reasons, where the tables went."""

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
        return self.input_rows == self.aggregated_rows + self.rejected_rows


# --------------------------------------------------------------------------
# Configuration


def config(path: Path | str | None = None) -> dict[str, Any]:
    """``config/pupils.yml``: column headers, score range, pass spellings, labels."""
    return load_yaml(path or paths.config_dir() / "pupils.yml")


def label(column: str, lang: str = "vi") -> str:
    """The Vietnamese or English label of an output column or a reject reason."""
    cfg = config()
    entry = cfg["outputs"].get(column) or cfg["reasons"].get(column)
    if entry is None:
        raise KeyError(f"no label for pupil column or reason {column!r}")
    return entry[lang]


def _header_lookup(cfg: dict[str, Any]) -> dict[str, str]:
    lookup: dict[str, str] = {}
    for canonical, spec in cfg["columns"].items():
        for spelling in (canonical, spec["header"], spec["en"], *spec.get("synonyms", [])):
            lookup.setdefault(text.header_key(spelling), canonical)
    return lookup


# --------------------------------------------------------------------------
# Inputs


def discover(source: Path | str | Iterable[Path | str]) -> list[Path]:
    """The input files: a file, a folder (its .parquet/.csv files) or a glob pattern."""
    sources = [source] if isinstance(source, str | Path) else list(source)
    found: list[Path] = []
    for item in sources:
        item_text = str(item)
        if any(ch in item_text for ch in "*?["):
            matches = [Path(p) for p in sorted(globbing.glob(item_text, recursive=True))]
            if not matches:
                raise PupilError(f"{item_text}: no file matches this pattern")
            found.extend(p for p in matches if p.is_file())
            continue
        path = Path(item)
        if path.is_dir():
            found.extend(
                sorted(p for p in path.rglob("*") if p.suffix.lower() in SUFFIXES and p.is_file())
            )
        elif path.is_file():
            found.append(path)
        else:
            raise PupilError(f"{path}: no such file or folder")
    files = []
    for path in found:
        if path.suffix.lower() not in SUFFIXES:
            raise PupilError(f"{path}: file type {path.suffix!r} not supported (.parquet, .csv)")
        files.append(path.resolve())
    if not files:
        raise PupilError(f"{', '.join(map(str, sources))}: no .parquet or .csv file found")
    return files


def _sql_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _reader(paths_: list[Path], *, sequential: bool = False) -> str:
    names = "[" + ", ".join(_sql_text(p.as_posix()) for p in paths_) + "]"
    if paths_[0].suffix.lower() == ".parquet":
        return f"read_parquet({names}, filename = true)"
    # every CSV column as text: a score typed "8,5" or a year "2024-2025" is parsed below;
    # sequential: one thread, rows in file order (for their row numbers)
    parallel = ", parallel = false" if sequential else ""
    return f"read_csv({names}, header = true, all_varchar = true, filename = true{parallel})"


def _describe(con: duckdb.DuckDBPyConnection, path: Path) -> list[tuple[str, str]]:
    try:
        if path.suffix.lower() == ".parquet":
            rows = con.execute(
                f"DESCRIBE SELECT * FROM read_parquet({_sql_text(path.as_posix())})"
            ).fetchall()
        else:
            rows = con.execute(
                f"DESCRIBE SELECT * FROM read_csv({_sql_text(path.as_posix())}, header = true, "
                "all_varchar = true)"
            ).fetchall()
    except duckdb.Error as exc:
        raise PupilError(f"{path}: cannot be read as {path.suffix[1:]} ({exc})") from exc
    return [(row[0], row[1]) for row in rows]


def _mapping(path: Path, columns: list[tuple[str, str]], cfg: dict[str, Any]) -> dict[str, tuple]:
    """``canonical -> (header in the file, DuckDB type)``; a missing required column stops."""
    lookup = _header_lookup(cfg)
    found: dict[str, tuple[str, str]] = {}
    for header, dtype in columns:
        canonical = lookup.get(text.header_key(header))
        if canonical and canonical not in found:
            found[canonical] = (header, dtype)
    for canonical, spec in cfg["columns"].items():
        if spec.get("required", True) and canonical not in found:
            headers = ", ".join(h for h, _ in columns)
            raise PupilError(
                f"{path}: column {canonical!r} ({spec['header']} / {spec['en']}) not found; "
                f"the file's headers are: {headers}"
            )
    return found


# --------------------------------------------------------------------------
# Parsing, in SQL

_NUMERIC = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT",
            "UINTEGER", "UBIGINT", "FLOAT", "DOUBLE", "REAL")  # fmt: skip
_INTEGER = _NUMERIC[:9]


def _is(dtype: str, kinds: tuple[str, ...]) -> bool:
    upper = dtype.upper()
    return upper in kinds or (kinds is _NUMERIC and upper.startswith("DECIMAL"))


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _key_sql(expr: str) -> str:
    """The SQL twin of :func:`analysis.text.header_key` for a short text value."""
    bare = f"strip_accents(replace(replace(trim({expr}), 'đ', 'd'), 'Đ', 'D'))"
    return f"trim(regexp_replace(lower({bare}), '[^a-z0-9]+', ' ', 'g'))"


def _select_list(found: dict[str, tuple[str, str]], cfg: dict[str, Any], row_number: str) -> str:
    """The raw columns (``raw_school_id``, …), the file and the row number, for one file group."""
    parts = ["filename AS source_file", f"{row_number} AS source_row"]
    for canonical in cfg["columns"]:
        if canonical not in found:
            parts.append(f"NULL::VARCHAR AS raw_{canonical}")
            continue
        header, _dtype = found[canonical]
        parts.append(f"{_quote(header)} AS raw_{canonical}")
    return ", ".join(parts)


def _typed(found: dict[str, tuple[str, str]], cfg: dict[str, Any]) -> str:
    """Expressions over ``raw_*`` that give typed values (NULL when not readable)."""
    types = {c: found[c][1] if c in found else "VARCHAR" for c in cfg["columns"]}

    school = "NULLIF(trim(CAST(raw_school_id AS VARCHAR)), '')"
    if _is(types["year"], _INTEGER):
        year = "CAST(raw_year AS INTEGER)"
    else:
        y = "trim(CAST(raw_year AS VARCHAR))"
        pair = r"'^(\d{4})\s*[-–—/]\s*(\d{4})$'"
        start = f"TRY_CAST(regexp_extract({y}, {pair}, 1) AS INTEGER)"
        end = f"TRY_CAST(regexp_extract({y}, {pair}, 2) AS INTEGER)"
        year = (
            f"CASE WHEN regexp_full_match({y}, '\\d{{4}}') THEN CAST({y} AS INTEGER) "
            f"WHEN {end} = {start} + 1 THEN {end} END"
        )
    year = f"(CASE WHEN ({year}) BETWEEN 1900 AND 2200 THEN ({year}) END)"
    if "subject" in found:
        subject = "NULLIF(trim(CAST(raw_subject AS VARCHAR)), '')"
    else:
        subject = f"{_sql_text(ALL_SUBJECTS)}"
    if _is(types["score"], _NUMERIC):
        score = "CAST(raw_score AS DOUBLE)"
    else:
        s = "trim(CAST(raw_score AS VARCHAR))"
        score = f"TRY_CAST(replace({s}, ',', '.') AS DOUBLE)"
    score = f"(CASE WHEN isfinite({score}) THEN {score} END)"
    passed_type = types["passed"].upper()
    if passed_type == "BOOLEAN":
        passed = "raw_passed"
    elif _is(passed_type, _NUMERIC):
        passed = "CASE WHEN raw_passed = 1 THEN TRUE WHEN raw_passed = 0 THEN FALSE END"
    else:
        yes = ", ".join(_sql_text(text.header_key(w)) for w in cfg["pass_values"][True])
        no = ", ".join(_sql_text(text.header_key(w)) for w in cfg["pass_values"][False])
        key = _key_sql("CAST(raw_passed AS VARCHAR)")
        passed = f"CASE WHEN {key} IN ({yes}) THEN TRUE WHEN {key} IN ({no}) THEN FALSE END"
    if "pupil_id" not in found:
        pupil = "NULL"
    elif _is(types["pupil_id"], _INTEGER):
        pupil = "raw_pupil_id"  # no text cast in the hot path: integers are distinct as numbers
    else:
        pupil = "NULLIF(trim(CAST(raw_pupil_id AS VARCHAR)), '')"
    return (
        f"{school} AS school_id, {year} AS year, {subject} AS subject, {score} AS score, "
        f"{passed} AS passed, {pupil} AS pupil_id"
    )


def _reason(cfg: dict[str, Any], has_subject: bool) -> str:
    """The reject reason of a row as a small integer (1 + its place in ``REASONS``), else NULL."""
    code = {reason: i + 1 for i, reason in enumerate(REASONS)}
    low, high = float(cfg["score"]["min"]), float(cfg["score"]["max"])
    raw_score_blank = "NULLIF(trim(CAST(raw_score AS VARCHAR)), '') IS NULL"
    cases = [
        f"WHEN school_id IS NULL THEN {code['school_id_missing']}",
        f"WHEN year IS NULL THEN {code['year_invalid']}",
    ]
    if has_subject:
        cases.append(f"WHEN subject IS NULL THEN {code['subject_missing']}")
    cases += [
        f"WHEN score IS NULL AND {raw_score_blank} THEN {code['score_missing']}",
        f"WHEN score IS NULL THEN {code['score_not_number']}",
        f"WHEN score < {low!r} OR score > {high!r} THEN {code['score_out_of_range']}",
        f"WHEN passed IS NULL THEN {code['pass_flag_unknown']}",
    ]
    return "CASE " + " ".join(cases) + " END"


def _row_number(kind: str, sequential: bool) -> str:
    """The 0-based row of a record in its file, or NULL where DuckDB cannot say it cheaply.

    Parquet has it (``file_row_number``). DuckDB 2.0.1's CSV reader has no row
    number, and a parallel read has no order; a sequential read of one file
    numbers its records with a streaming ``row_number()``.
    """
    if kind == ".parquet":
        return "file_row_number"
    return "row_number() OVER () - 1" if sequential else "NULL::BIGINT"


def parsed_sql(
    files: list[Path],
    *,
    con: duckdb.DuckDBPyConnection,
    cfg: dict[str, Any] | None = None,
    sequential: bool = False,
) -> tuple[str, bool, bool]:
    """SQL for the parsed pupil rows: typed columns, raw values, file, row, ``reason_code``.

    Files are grouped by their headers and kinds so that each group is one
    DuckDB scan; the groups are joined with ``UNION ALL BY NAME``. Returns the
    SQL, whether a subject column exists and whether a pupil id exists.
    ``reason_code`` is NULL for a valid row, else 1 + the reason's place in
    :data:`REASONS`. ``source_row`` is the 0-based record of the file (NULL for
    a CSV unless ``sequential``, which is for one CSV file at a time).
    """
    cfg = cfg or config()
    groups: dict[tuple, list[Path]] = {}
    found_by_group: dict[tuple, dict] = {}
    for path in files:
        columns = _describe(con, path)
        found = _mapping(path, columns, cfg)
        key = (path.suffix.lower(), tuple(sorted((k, v) for k, v in found.items())))
        groups.setdefault(key, []).append(path)
        found_by_group[key] = found
    has_subject = any("subject" in f for f in found_by_group.values())
    has_pupil = any("pupil_id" in f for f in found_by_group.values())
    selects = []
    for key, group in groups.items():
        found = found_by_group[key]  # a file without subjects: its rows are subject "*"
        row = _row_number(key[0], sequential)
        selects.append(
            f"SELECT {_typed(found, cfg)}, * FROM "
            f"(SELECT {_select_list(found, cfg, row)} FROM {_reader(group, sequential=sequential)})"
        )
    union = " UNION ALL BY NAME ".join(f"({s})" for s in selects)
    sql = f"SELECT *, {_reason(cfg, has_subject)} AS reason_code FROM ({union})"
    return sql, has_subject, has_pupil


def _cells_sql(
    parsed: str, threshold: float, raw_columns: list[str], *, quantiles: bool, pupils: bool
) -> str:
    """One pass over the input: outcome cells per reason × school × year (× subject).

    ``GROUPING SETS`` lets DuckDB feed one scan to two hash tables: school ×
    year × subject (``pooled = 0``) and school × year over all subjects
    (``pooled = 1``); ``reason_code`` is part of both keys, so valid rows
    (``reason_code`` NULL) and each reason's rejected rows land in separate
    cells. A rejected row's raw values, file and row are collected in its
    cell, so input rows, outcomes and rejects all come from the same scan.
    Exact quantiles are DuckDB's ``quantile_cont``; distinct pupils are
    counted from each cell's list of ids after the pass (see
    :func:`_outcomes_sql`), far cheaper than ``count(DISTINCT)``, which builds
    one more hash table per grouping set keyed by every pupil and spilled to
    disk at national scale.
    """
    levels = "[" + ", ".join(repr(q) for q in QUANTILES.values()) + "]"
    raw = ", ".join(
        ["'source_file': source_file", "'source_row': source_row"]
        + [f"'{c}_raw': raw_{c}" for c in raw_columns]
    )
    parts = [
        "reason_code",
        "school_id",
        "year",
        "subject",
        "GROUPING(subject) AS pooled",
        "count(*) AS n",
        "avg(score) AS mean",
        "stddev_samp(score) AS sd",
        "count_if(passed) AS n_passed",
        f"count_if(score < {float(threshold)!r}) AS n_below",
        f"quantile_cont(score, {levels}) AS q" if quantiles else "NULL::DOUBLE[] AS q",
        "list(pupil_id) AS pupils" if pupils else "NULL::VARCHAR[] AS pupils",
        f"list({{{raw}}}) FILTER (WHERE reason_code IS NOT NULL) AS rejected",
    ]
    return (
        f"SELECT {', '.join(parts)} FROM ({parsed}) GROUP BY GROUPING SETS "
        "((reason_code, school_id, year), (reason_code, school_id, year, subject))"
    )


def _outcomes_sql(by_subject: bool, *, pupils: bool) -> str:
    """The outcome table from the valid cells: per subject, or all subjects pooled."""
    keys = "school_id, year, subject" if by_subject else "school_id, year"
    school_year = "printf('%d-%d', year - 1, year) AS school_year"
    subject = ", subject" if by_subject else ""
    named = ", ".join(f"q[{i + 1}] AS pupil_score_{name}" for i, name in enumerate(QUANTILES))
    cells = f"SELECT * FROM cells WHERE reason_code IS NULL AND pooled = {int(not by_subject)}"
    if by_subject and pupils:  # a few dozen ids a cell: sort and count changes, no hash set
        cells = f"SELECT *, list_sort(pupils, 'ASC', 'NULLS LAST') AS ids FROM ({cells})"
        distinct = (
            "len(list_filter(ids, lambda x, i: x IS NOT NULL AND (i = 1 OR x <> ids[i - 1])))"
        )
    else:
        distinct = "list_unique(pupils)"
    # no pupil id in a cell (a file without the column, in a mix): unknown, not 0 pupils
    count = f"CAST(NULLIF({distinct}, 0) AS BIGINT)" if pupils else "NULL::BIGINT"
    return (
        f"SELECT school_id, year, {school_year}{subject}, n AS pupil_records, "
        f"{count} AS pupil_count, mean AS pupil_mean_score, sd AS pupil_score_sd, "
        f"n_passed / n AS pupil_pass_rate, {named}, n_below / n AS pupil_below_threshold_share "
        f"FROM ({cells}) ORDER BY {keys}"
    )


# --------------------------------------------------------------------------
# The aggregation


def _connect(
    memory_limit: str | None, threads: int | None, temp: Path
) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    if memory_limit:
        con.execute(f"SET memory_limit = {_sql_text(memory_limit)}")
    if threads:
        con.execute(f"SET threads = {int(threads)}")
    con.execute(f"SET temp_directory = {_sql_text(temp.as_posix())}")
    con.execute("SET preserve_insertion_order = false")  # lets big COPYs stream
    return con


def _copy(con: duckdb.DuckDBPyConnection, query: str, target: Path) -> None:
    catalog.copy_query(con, query, target)


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
    """
    started = time.perf_counter()
    step = progress or (lambda _name: None)
    cfg = config()
    threshold = float(cfg["score"]["threshold"] if threshold is None else threshold)
    settings = cfg.get("aggregation") or {}
    quantiles = _setting(settings, "quantiles", quantiles)
    pupil_count = _setting(settings, "pupil_count", pupil_count)
    out_dir = Path(out_dir) if out_dir is not None else paths.processed_dir()
    out_dir.mkdir(parents=True, exist_ok=True)
    files = discover(source)
    spill = out_dir / ".pupils_tmp"
    spill.mkdir(exist_ok=True)
    con = _connect(memory_limit, threads, spill)
    raw_columns = [c for c in cfg["columns"] if c != "pupil_id"]
    try:
        step("headers")
        parsed, has_subject, has_pupil = parsed_sql(files, con=con, cfg=cfg)
        step("aggregate")
        con.execute(
            "CREATE TEMP TABLE cells AS "
            + _cells_sql(
                parsed,
                threshold,
                raw_columns,
                quantiles=quantiles,
                pupils=pupil_count and has_pupil,
            )
        )
        step("rejects")
        names = "[" + ", ".join(_sql_text(r) for r in REASONS) + "]"
        raw_text = ", ".join(f"CAST(r.{c}_raw AS VARCHAR) AS {c}_raw" for c in raw_columns)
        con.execute(
            "CREATE TEMP TABLE rejects AS SELECT r.source_file, r.source_row + 1 AS source_row, "
            f"{names}[reason_code] AS reason, {raw_text} FROM "
            "(SELECT reason_code, unnest(rejected) AS r FROM cells "
            "WHERE reason_code IS NOT NULL AND pooled = 0)"
        )
        _number_csv_rejects(con, cfg, names, raw_columns)
        rejects = out_dir / REJECTS_FILE
        _copy(con, "SELECT * FROM rejects ORDER BY source_file, source_row", rejects)
        step("write")
        pupils = pupil_count and has_pupil
        outcomes = out_dir / OUTCOMES_FILE
        _copy(con, _outcomes_sql(False, pupils=pupils), outcomes)
        _copy(con, _outcomes_sql(True, pupils=pupils), out_dir / SUBJECT_FILE)
        input_rows = con.execute(
            "SELECT coalesce(sum(n), 0) FROM cells WHERE pooled = 0"
        ).fetchone()[0]
        aggregated = con.execute(
            "SELECT coalesce(sum(pupil_records), 0), count(*) FROM "
            f"read_parquet({_sql_text(outcomes.as_posix())})"
        ).fetchone()
        by_reason = dict(
            con.execute(
                f"SELECT reason, count(*) FROM read_parquet({_sql_text(rejects.as_posix())}) "
                "GROUP BY reason ORDER BY reason"
            ).fetchall()
        )
        subjects = [
            r[0]
            for r in con.execute(
                "SELECT DISTINCT subject FROM cells WHERE reason_code IS NULL AND pooled = 0 "
                "ORDER BY 1"
            ).fetchall()
        ]
    finally:
        con.close()
        for leftover in spill.glob("*"):
            leftover.unlink(missing_ok=True)
        spill.rmdir()
    result = PupilResult(
        files=[str(f) for f in files],
        input_rows=int(input_rows),
        aggregated_rows=int(aggregated[0]),
        rejected_rows=int(sum(by_reason.values())),
        rejects_by_reason={r: int(by_reason.get(r, 0)) for r in REASONS},
        school_years=int(aggregated[1]),
        subjects=subjects if has_subject else [],
        out_dir=out_dir,
        outputs={
            "outcomes": str(outcomes),
            "outcomes_subject": str(out_dir / SUBJECT_FILE),
            "rejects": str(rejects),
        },
        quantiles=quantiles,
        pupil_count=pupil_count and has_pupil,
    )
    if not result.accounting_holds:  # a bug, not a user error: say so loudly
        raise AssertionError(
            f"pupil rows do not add up: {result.input_rows} input, "
            f"{result.aggregated_rows} aggregated, {result.rejected_rows} rejected"
        )
    step("views")
    write_views(out_dir)
    result.seconds = time.perf_counter() - started
    _write_manifest(result, threshold, cfg)
    return result


def _setting(settings: dict[str, Any], name: str, given: bool | None) -> bool:
    """An aggregation switch: the argument if given, else ``config/pupils.yml`` (default on)."""
    value = settings.get(name, True) if given is None else given
    if not isinstance(value, bool):
        raise PupilError(
            f"config/pupils.yml: aggregation.{name} should be true or false, not {value!r}"
        )
    return value


def _number_csv_rejects(
    con: duckdb.DuckDBPyConnection, cfg: dict[str, Any], names: str, raw_columns: list[str]
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
    raw_text = ", ".join(f"CAST(raw_{c} AS VARCHAR) AS {c}_raw" for c in raw_columns)
    con.execute("SET preserve_insertion_order = true")  # the streaming row_number keeps file order
    try:
        for name in files:
            sql, _, _ = parsed_sql([Path(name)], con=con, cfg=cfg, sequential=True)
            removed = con.execute("DELETE FROM rejects WHERE source_file = ?", [name]).fetchone()[0]
            added = con.execute(
                f"INSERT INTO rejects SELECT source_file, source_row + 1, {names}[reason_code], "
                f"{raw_text} FROM ({sql}) WHERE reason_code IS NOT NULL"
            ).fetchone()[0]
            if added != removed:  # the two reads disagree: a bug, not a user error
                raise AssertionError(f"{name}: {removed} rejects in the first read, {added} after")
    finally:
        con.execute("SET preserve_insertion_order = false")


def write_views(out_dir: Path) -> None:
    """Add the pupil views to ``workbench.duckdb`` (created when ingest has not run)."""
    catalog.refresh_views(out_dir)


def _write_manifest(result: PupilResult, threshold: float, cfg: dict[str, Any]) -> None:
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

    ``outcomes`` is ``pupil_outcomes.parquet`` read as a DataFrame (one row per
    school-year, so the join never multiplies panel rows); school-years without
    pupil results get missing outcomes.
    """
    keep = ["school_id", "year", *[c for c in OUTCOME_COLUMNS if c in outcomes]]
    return panel.merge(outcomes[keep], on=["school_id", "year"], how="left", validate="one_to_one")
