"""Raw school reports → validated tables: read, detect, parse, validate, write.

``ingest(path)`` reads a file or folder of Excel workbooks and CSV files, recognises each
table by its headers, parses every cell as Excel shows it, validates the rows and writes
the accepted ones to ``data/processed`` and every other row, with its reason, to the
rejects table.

The stages are modules, each importing only those before it::

    errors, sheet                 IngestError; Sheet, Uncomputed and message helpers
    detect                        which table a sheet holds, from its headers
    read_csv, read_xlsx, read     find files, open them as sheets, stream the rows
    cells                         one cell → its column's value, or the rule it breaks
    parse                         a sheet's rows → typed frame and rejects (parse_sheet)
    validate                      pandera schemas, the register, duplicates, rejects
    result, write                 IngestResult; Parquet, DuckDB and the manifest
    pipeline                      ingest(): the stages in order

(``read_csv`` comes after ``detect``: a CSV file's delimiter is the one under which
a header is recognised.)
"""

from analysis.data.catalog import DUCKDB_FILE
from analysis.data.ingest.detect import TABLE_ORDER, _lookup
from analysis.data.ingest.errors import IngestError
from analysis.data.ingest.parse import CHUNK_ROWS
from analysis.data.ingest.pipeline import ingest
from analysis.data.ingest.read import open_sheets
from analysis.data.ingest.result import IngestResult
from analysis.data.ingest.sheet import HEAD_ROWS
from analysis.data.ingest.validate import KEYS
from analysis.data.ingest.write import MANIFEST_FILE

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
