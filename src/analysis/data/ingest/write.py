"""Writing what ingest accepted: Parquet per table, DuckDB views and a manifest.

Everything goes through :mod:`analysis.data.catalog`, which owns the file layout of
``data/processed``.
"""

from __future__ import annotations

from pathlib import Path

from analysis.data import catalog
from analysis.data.ingest.detect import TABLE_ORDER
from analysis.data.ingest.result import IngestResult

MANIFEST_FILE = catalog.INGEST_MANIFEST


def write_outputs(result: IngestResult, out_dir: Path) -> Path:
    """Parquet per table, the DuckDB views over them, and a manifest (through the catalog).

    Parameters
    ----------
    result
        What :func:`~analysis.data.ingest.pipeline.ingest` read: every table, the
        ``rejects`` and ``extra_values`` tables are written.
    out_dir
        The folder, created if needed; tables already there are replaced.

    Returns
    -------
    Path
        ``out_dir``, now holding a Parquet file per table, the DuckDB database
        (:data:`~analysis.data.catalog.DUCKDB_FILE`) with a view per table (the pupil
        views too, when pupil tables are there) and :data:`MANIFEST_FILE`: the files
        read, the row accounting per table and the warnings.

    Example
    -------
    >>> result = ingest("data/raw", write=False)  # doctest: +SKIP
    >>> write_outputs(result, Path("data/processed"))  # doctest: +SKIP
    PosixPath('data/processed')
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    outputs = {**result.tables, "rejects": result.rejects, "extra_values": result.extra_values}
    for name, frame in outputs.items():
        catalog.write_table(frame, name, out_dir)
    catalog.refresh_views(out_dir)  # the pupil views, when there are pupil tables, come back too
    manifest = {
        "files": result.files,
        "input_rows": result.input_rows,
        "accepted_rows": {t: result.accepted_rows(t) for t in TABLE_ORDER},
        "rejected_rows": {t: result.rejected_rows(t) for t in TABLE_ORDER},
        "blank_rows": result.blank_rows,
        "tables": {name: len(frame) for name, frame in outputs.items()},
        "warnings": result.warnings,
        "synthetic": result.synthetic,
    }
    catalog.write_manifest("ingest", manifest, out_dir)
    return out_dir
