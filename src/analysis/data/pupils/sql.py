"""The SQL of the pupil aggregation: finding and reading the files, parsing, the queries.

Nothing here runs a query over the rows: :func:`parsed_sql` reads only the headers
(``DESCRIBE``), every other function returns SQL text that :mod:`.aggregation` runs.
"""

from __future__ import annotations

import glob as globbing
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import duckdb

from analysis.core import text
from analysis.data.pupils.result import PupilError
from analysis.data.pupils.settings import (
    ALL_SUBJECTS,
    QUANTILES,
    REASONS,
    SUFFIXES,
    _header_lookup,
    config,
)

# --------------------------------------------------------------------------
# Inputs


def discover(source: Path | str | Iterable[Path | str]) -> list[Path]:
    """The input files: a file, a folder (its .parquet/.csv files) or a glob pattern.

    Parameters
    ----------
    source
        A file, a folder (searched recursively), a glob pattern (``**`` allowed) or a
        list of any of these.

    Returns
    -------
    list of Path
        The files, resolved; a folder's and a pattern's in sorted order.

    Raises
    ------
    PupilError
        When a path does not exist, a pattern matches nothing, a file is neither
        .parquet nor .csv, or no file is found at all.

    Example
    -------
    >>> discover("data/raw/pupils/*.parquet")  # doctest: +SKIP
    [PosixPath('/…/data/raw/pupils/part-000.parquet'), …]
    """
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
    """``value`` as an SQL string literal (single quotes doubled)."""
    return "'" + value.replace("'", "''") + "'"


def _reader(paths_: list[Path], *, sequential: bool = False) -> str:
    """The DuckDB table function reading a group of files of one kind, with their names."""
    names = "[" + ", ".join(_sql_text(p.as_posix()) for p in paths_) + "]"
    if paths_[0].suffix.lower() == ".parquet":
        return f"read_parquet({names}, filename = true)"
    # every CSV column as text: a score typed "8,5" or a year "2024-2025" is parsed below;
    # sequential: one thread, rows in file order (for their row numbers)
    parallel = ", parallel = false" if sequential else ""
    return f"read_csv({names}, header = true, all_varchar = true, filename = true{parallel})"


def _describe(con: duckdb.DuckDBPyConnection, path: Path) -> list[tuple[str, str]]:
    """(header, DuckDB type) of every column of one file; unreadable → :class:`PupilError`."""
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
    """Whether a DuckDB type is one of ``kinds`` (any ``DECIMAL`` is numeric)."""
    upper = dtype.upper()
    return upper in kinds or (kinds is _NUMERIC and upper.startswith("DECIMAL"))


def _quote(name: str) -> str:
    """``name`` as an SQL identifier (double quotes doubled)."""
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


def _year_sql(dtype: str) -> str:
    """The school year's end year from ``raw_year`` (``2025``, ``"2024-2025"``), else NULL."""
    if _is(dtype, _INTEGER):
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
    return f"(CASE WHEN ({year}) BETWEEN 1900 AND 2200 THEN ({year}) END)"


def _score_sql(dtype: str) -> str:
    """The score from ``raw_score`` as a finite double (``"8,5"`` read as 8.5), else NULL."""
    if _is(dtype, _NUMERIC):
        score = "CAST(raw_score AS DOUBLE)"
    else:
        s = "trim(CAST(raw_score AS VARCHAR))"
        score = f"TRY_CAST(replace({s}, ',', '.') AS DOUBLE)"
    return f"(CASE WHEN isfinite({score}) THEN {score} END)"


def _passed_sql(dtype: str, cfg: dict[str, Any]) -> str:
    """The pass flag from ``raw_passed`` (boolean, 1/0 or a spelling of ``pass_values``)."""
    passed_type = dtype.upper()
    if passed_type == "BOOLEAN":
        return "raw_passed"
    if _is(passed_type, _NUMERIC):
        return "CASE WHEN raw_passed = 1 THEN TRUE WHEN raw_passed = 0 THEN FALSE END"
    yes = ", ".join(_sql_text(text.header_key(w)) for w in cfg["pass_values"][True])
    no = ", ".join(_sql_text(text.header_key(w)) for w in cfg["pass_values"][False])
    key = _key_sql("CAST(raw_passed AS VARCHAR)")
    return f"CASE WHEN {key} IN ({yes}) THEN TRUE WHEN {key} IN ({no}) THEN FALSE END"


def _typed(found: dict[str, tuple[str, str]], cfg: dict[str, Any]) -> str:
    """Expressions over ``raw_*`` that give typed values (NULL when not readable)."""
    types = {c: found[c][1] if c in found else "VARCHAR" for c in cfg["columns"]}
    school = "NULLIF(trim(CAST(raw_school_id AS VARCHAR)), '')"
    if "subject" in found:
        subject = "NULLIF(trim(CAST(raw_subject AS VARCHAR)), '')"
    else:
        subject = f"{_sql_text(ALL_SUBJECTS)}"
    if "pupil_id" not in found:
        pupil = "NULL"
    elif _is(types["pupil_id"], _INTEGER):
        pupil = "raw_pupil_id"  # no text cast in the hot path: integers are distinct as numbers
    else:
        pupil = "NULLIF(trim(CAST(raw_pupil_id AS VARCHAR)), '')"
    return (
        f"{school} AS school_id, {_year_sql(types['year'])} AS year, {subject} AS subject, "
        f"{_score_sql(types['score'])} AS score, {_passed_sql(types['passed'], cfg)} AS passed, "
        f"{pupil} AS pupil_id"
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
    DuckDB scan; the groups are joined with ``UNION ALL BY NAME``.

    Parameters
    ----------
    files
        The input files (see :func:`discover`).
    con
        A DuckDB connection, used to read each file's headers (``DESCRIBE``).
    cfg
        ``config/pupils.yml`` as read by :func:`config` (read when not given).
    sequential
        For one CSV file at a time: read it on one thread so that its rows are numbered.

    Returns
    -------
    sql : str
        A ``SELECT`` with ``school_id``, ``year``, ``subject``, ``score``, ``passed``,
        ``pupil_id``, the ``raw_*`` values, ``source_file``, ``source_row`` (the 0-based
        record of the file; NULL for a CSV unless ``sequential``) and ``reason_code``
        (NULL for a valid row, else 1 + the reason's place in :data:`REASONS`).
    has_subject : bool
        Whether any file has a subject column.
    has_pupil : bool
        Whether any file has a pupil id.

    Raises
    ------
    PupilError
        When a file cannot be read or lacks a required column.
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


# --------------------------------------------------------------------------
# The queries of the aggregation


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


def _reason_names() -> str:
    """:data:`REASONS` as an SQL list, indexed by ``reason_code`` (from 1)."""
    return "[" + ", ".join(_sql_text(r) for r in REASONS) + "]"


def _rejects_sql(raw_columns: list[str]) -> str:
    """The rejected rows, unnested from the reasons' cells: file, row (from 1), reason, raw."""
    raw_text = ", ".join(f"CAST(r.{c}_raw AS VARCHAR) AS {c}_raw" for c in raw_columns)
    return (
        "SELECT r.source_file, r.source_row + 1 AS source_row, "
        f"{_reason_names()}[reason_code] AS reason, {raw_text} FROM "
        "(SELECT reason_code, unnest(rejected) AS r FROM cells "
        "WHERE reason_code IS NOT NULL AND pooled = 0)"
    )


def _numbered_rejects_sql(parsed: str, raw_columns: list[str]) -> str:
    """The rejected rows of a sequential read (:func:`parsed_sql`), in the rejects' columns."""
    raw_text = ", ".join(f"CAST(raw_{c} AS VARCHAR) AS {c}_raw" for c in raw_columns)
    return (
        f"SELECT source_file, source_row + 1, {_reason_names()}[reason_code], "
        f"{raw_text} FROM ({parsed}) WHERE reason_code IS NOT NULL"
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
