"""Raw school reports → validated tables: read, detect, parse, validate, write.

``ingest(path)`` reads a file or folder of Excel workbooks and CSV files, recognises each
table by its headers, parses every cell as Excel shows it, validates the rows and writes
the accepted ones to ``data/processed`` and every other row, with its reason, to the
rejects table.
"""

from analysis.data.catalog import DUCKDB_FILE
from analysis.data.ingest.pipeline import (
    CHUNK_ROWS,
    HEAD_ROWS,
    KEYS,
    MANIFEST_FILE,
    TABLE_ORDER,
    IngestError,
    IngestResult,
    _lookup,
    ingest,
    open_sheets,
)

__all__ = [
    "CHUNK_ROWS",
    "DUCKDB_FILE",
    "HEAD_ROWS",
    "KEYS",
    "MANIFEST_FILE",
    "TABLE_ORDER",
    "IngestError",
    "IngestResult",
    "_lookup",
    "ingest",
    "open_sheets",
]
