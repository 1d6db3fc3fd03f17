"""The one owner of ``data/processed``: its file names, the DuckDB catalogue, its writes.

``data/processed`` holds one Parquet file per table (what ingest and the pupil
aggregation produce), their manifests, and ``workbench.duckdb``: SQL views over those
Parquet files, so an analyst can query them from any DuckDB client. Nothing else in the
package builds a path inside the folder or writes to it; the readers
(:mod:`analysis.data.datasets`, the runner's cache keys) ask this module which files
exist.

Writes are whole (:mod:`analysis.core.files`): a table, the catalogue or a manifest is
written under a temporary name and renamed, so a reader never sees half a file, and
the catalogue is rebuilt from every table present each time any producer writes, so the
views of ingest and of the pupil aggregation never clobber each other.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from analysis.core import files, paths

DUCKDB_FILE = "workbench.duckdb"
INGEST_MANIFEST = "ingest_manifest.json"
PUPIL_MANIFEST = "pupil_manifest.json"
# the generator writes the planted truth beside its raw files: a folder of raw files that
# holds it is synthetic, whatever a dataset spec says (ingest records which it read)
TRUTH_FILE = "truth.json"
PUPIL_OUTCOMES = "pupil_outcomes.parquet"
PUPIL_OUTCOMES_SUBJECT = "pupil_outcomes_subject.parquet"
PUPIL_REJECTS = "pupil_rejects.parquet"

# view → Parquet file, for the pupil aggregation's tables
PUPIL_VIEWS = {
    "pupil_outcomes": PUPIL_OUTCOMES,
    "pupil_outcomes_subject": PUPIL_OUTCOMES_SUBJECT,
    "pupil_rejects": PUPIL_REJECTS,
}
_PANEL_HIERARCHY = (
    "CREATE VIEW panel_hierarchy AS SELECT p.*, s.school_level, s.area_type, "
    "h.unit_id, h.unit_level, h.unit_name, h.district_id, h.district_name, "
    "h.commune_id, h.commune_name, h.province_id, "
    "h.analysis_district_id, h.analysis_district_name, "
    "h.analysis_province_id, h.analysis_province_name "
    "FROM panel p JOIN schools s USING (school_id) "
    "LEFT JOIN school_hierarchy h USING (school_id, year)"
)


def folder(out_dir: Path | str | None = None) -> Path:
    """The processed folder: ``out_dir`` when given, else ``data/processed`` (or
    ``$WORKBENCH_PROCESSED``)."""
    return Path(out_dir) if out_dir is not None else paths.processed_dir()


def table_path(name: str, out_dir: Path | str | None = None) -> Path:
    """``<processed>/<name>.parquet``."""
    return folder(out_dir) / f"{name}.parquet"


def has_table(name: str, out_dir: Path | str | None = None) -> bool:
    """Whether table ``name`` was written to the processed folder."""
    return table_path(name, out_dir).is_file()


def read_table(name: str, out_dir: Path | str | None = None) -> pd.DataFrame:
    """Table ``name`` as a DataFrame."""
    return pd.read_parquet(table_path(name, out_dir))


def table_files(out_dir: Path | str | None = None) -> list[Path]:
    """Every Parquet table of the processed folder, sorted (what a run's inputs are)."""
    return sorted(folder(out_dir).glob("*.parquet"))


def manifest_path(kind: str, out_dir: Path | str | None = None) -> Path:
    """The manifest of a producer: ``kind`` is ``"ingest"`` or ``"pupils"``."""
    names = {"ingest": INGEST_MANIFEST, "pupils": PUPIL_MANIFEST}
    return folder(out_dir) / names[kind]


def write_table(frame: pd.DataFrame, name: str, out_dir: Path | str | None = None) -> Path:
    """Write ``frame`` as table ``name`` (whole, without the index); returns its path."""
    target = table_path(name, out_dir)
    with files.replacing(target) as tmp:
        frame.to_parquet(tmp, index=False)
    return target


def copy_query(con: duckdb.DuckDBPyConnection, query: str, target: Path) -> None:
    """DuckDB's ``COPY (query) TO target`` as Parquet, streamed, and renamed whole."""
    with files.replacing(target) as tmp:
        con.execute(f"COPY ({query}) TO {sql_text(tmp.as_posix())} (FORMAT parquet)")


def write_manifest(kind: str, manifest: dict[str, Any], out_dir: Path | str | None = None) -> Path:
    """Write a producer's manifest (UTF-8 JSON, indented) whole; returns its path."""
    target = manifest_path(kind, out_dir)
    files.write_json(target, manifest)
    return target


def sql_text(value: str) -> str:
    """``value`` as a quoted SQL string literal."""
    return "'" + str(value).replace("'", "''") + "'"


def refresh_views(out_dir: Path | str | None = None) -> Path:
    """(Re)build ``workbench.duckdb``: a view per table present, and the joined views.

    ``panel_hierarchy`` (the panel with each school's level, area and managing units)
    needs the ingest tables; ``panel_pupil_outcomes`` the panel and the pupil outcomes.
    The catalogue is built under a temporary name and renamed, so a client never opens
    a half-built one.

    Returns
    -------
    Path
        The catalogue file.
    """
    out = folder(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    present = {p.stem: p for p in table_files(out)}
    with files.replacing(out / DUCKDB_FILE) as tmp, duckdb.connect(str(tmp)) as con:
        for name, path in present.items():
            target = sql_text(path.resolve().as_posix())
            con.execute(f"CREATE VIEW {name} AS SELECT * FROM read_parquet({target})")
        if {"panel", "school_hierarchy", "schools"} <= present.keys():
            con.execute(_PANEL_HIERARCHY)
        if {"panel", "pupil_outcomes"} <= present.keys():
            outcome_columns = _pupil_outcome_columns(con)
            con.execute(
                "CREATE VIEW panel_pupil_outcomes AS SELECT p.*, "
                + ", ".join(f"o.{c}" for c in outcome_columns)
                + " FROM panel p LEFT JOIN pupil_outcomes o USING (school_id, year)"
            )
    return out / DUCKDB_FILE


def _pupil_outcome_columns(con: duckdb.DuckDBPyConnection) -> list[str]:
    columns = [row[0] for row in con.execute("DESCRIBE pupil_outcomes").fetchall()]
    return [c for c in columns if c not in {"school_id", "year"}]
