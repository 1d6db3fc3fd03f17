"""Reading a CSV or text file: its encoding, its delimiter, its rows streamed.

The encoding is told from the first bytes (:func:`sniff_encoding`); the delimiter is
the one under which a known header is recognised best, so this part of reading uses
:func:`~analysis.data.ingest.detect.detect`.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import itertools
import re
import unicodedata
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from analysis.core import legacy
from analysis.data.ingest.detect import detect
from analysis.data.ingest.errors import IngestError
from analysis.data.ingest.sheet import HEAD_ROWS, Sheet

SNIFF_BYTES = 1 << 20  # how much of a text file decides its encoding and delimiter


def sniff_encoding(data: bytes, file: str) -> str:
    """The encoding of a text file from its first bytes.

    UTF-8 (with or without BOM), UTF-16 (BOM, or LE/BE told by the zero bytes),
    else an 8-bit file: Windows-1258, or Latin-1 when the text reads as a legacy
    TCVN3/VNI font (then :func:`analysis.data.ingest.read._legacy_rows` converts it).

    Parameters
    ----------
    data
        The file's first bytes, up to :data:`SNIFF_BYTES`; when shorter the file is
        taken to end there, so a UTF-8 character cut at the end is an error.
    file
        The file as shown in messages.

    Returns
    -------
    str
        A codec name for :func:`open`: ``utf-8-sig``, ``utf-16``, ``utf-16-le``,
        ``utf-16-be``, ``utf-8``, ``latin-1`` or ``cp1258``.

    Raises
    ------
    IngestError
        When the bytes are neither UTF-8 nor Windows-1258 (e.g. a file that mixes
        encodings); the message names the first row that is not UTF-8.

    Example
    -------
    >>> sniff_encoding("Mã trường,Năm học".encode(), "r.csv")
    'utf-8'
    >>> sniff_encoding(b"\\xef\\xbb\\xbfschool_id,year", "r.csv")
    'utf-8-sig'
    """
    if data.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    if len(data) >= 4 and data[1:2] == b"\x00" and data[3:4] == b"\x00":
        return "utf-16-le"
    if len(data) >= 4 and data[0:1] == b"\x00" and data[2:3] == b"\x00":
        return "utf-16-be"
    try:
        codecs.getincrementaldecoder("utf-8")().decode(data, final=len(data) < SNIFF_BYTES)
        return "utf-8"
    except UnicodeDecodeError as exc:
        not_utf8 = exc
    as_latin1 = data.decode("latin-1")
    if legacy.guess(re.split(r"[,;\t|\r\n]+", as_latin1)).convert:
        return "latin-1"
    try:
        data.decode("cp1258")
    except UnicodeDecodeError as exc:
        row = data[: not_utf8.start].count(b"\n") + 1
        raise IngestError(
            file,
            f"cannot decode the text: not UTF-8 from row {row} (byte {not_utf8.start}) and "
            f"not Windows-1258 either (byte {exc.start}); the file may mix encodings",
            expected=["UTF-8", "UTF-8 with BOM", "UTF-16", "Windows-1258", "TCVN3", "VNI"],
        ) from exc
    return "cp1258"


def _cell_text(cell: str) -> str | None:
    """A CSV cell: ``None`` when empty, else NFC-normalised text."""
    if cell == "":
        return None
    return cell if cell.isascii() else unicodedata.normalize("NFC", cell)


def _refuse_binary(sample: bytes, shown: str) -> None:
    """Raise for an empty file or a workbook saved under a .csv name."""
    if not sample.strip(b" \t\r\n\x00\xef\xbb\xbf\xff\xfe"):
        raise IngestError(
            shown, "the file is empty", expected=["a header row and one row per school"]
        )
    if sample.startswith(b"PK\x03\x04"):
        raise IngestError(
            shown,
            "the file is an Excel workbook saved with a .csv name",
            expected=["rename it to .xlsx"],
        )
    if sample.startswith(b"\xd0\xcf\x11\xe0"):
        raise IngestError(
            shown,
            "the file is an old .xls or password-protected workbook saved with a .csv name",
            expected=["save it as an unprotected .xlsx or as CSV"],
        )


@contextlib.contextmanager
def open_csv(path: Path, shown: str) -> Iterator[list[Sheet]]:
    """The one sheet of a CSV or text file, its rows streamed while the context is open."""
    with open(path, "rb") as handle:
        sample = handle.read(SNIFF_BYTES)
    _refuse_binary(sample, shown)
    encoding = sniff_encoding(sample, shown)
    text_sample = sample.decode(encoding, errors="ignore")[:20000]
    delimiter = _delimiter(text_sample, shown, path.suffix.lower())
    stream = open(path, encoding=encoding, newline="", errors="strict")  # noqa: SIM115
    try:
        source = _rows(csv.reader(stream, delimiter=delimiter), path, shown, encoding)
        head = list(itertools.islice(source, HEAD_ROWS))
        yield [Sheet(shown, "", head, source)]
    finally:
        stream.close()


def _rows(reader: Any, path: Path, shown: str, encoding: str) -> Iterator[list[Any]]:
    """The cells of each CSV row; a decoding or CSV error becomes an :class:`IngestError`."""
    try:
        for row in reader:
            yield [_cell_text(cell.replace("\x00", "")) for cell in row]
    except UnicodeDecodeError as exc:
        row = _first_undecodable_line(path, encoding) or f"after {reader.line_num}"
        raise IngestError(
            shown,
            f"cannot decode the text of row {row} as {encoding} (the file mixes encodings)",
            expected=[f"the whole file in one encoding ({encoding})"],
        ) from exc
    except csv.Error as exc:
        raise IngestError(
            shown,
            f"row {reader.line_num}: malformed CSV ({exc})",
            expected=["a well-formed CSV file"],
        ) from exc


def _delimiter(sample: str, shown: str, suffix: str) -> str:
    """The delimiter under which the header is recognised best; else csv.Sniffer's guess.

    A title such as "BÁO CÁO CĐS, NĂM HỌC 2024-2025" or a ragged row fools a
    sniffer; parsing the first rows with each candidate and matching headers does not.
    """
    lines = sample.splitlines()[: HEAD_ROWS + 5]
    best, best_score = None, 1
    for candidate in (",", ";", "\t", "|"):
        rows = [[c or None for c in r] for r in csv.reader(lines, delimiter=candidate)]
        try:
            found = detect(Sheet(shown, "", rows))
        except IngestError:  # e.g. a duplicated header: reported when the file is read
            found = None
        score = len(found.columns) if found else 0
        if score > best_score:
            best, best_score = candidate, score
    if best is not None:
        return best
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
    except csv.Error:
        return "\t" if suffix == ".tsv" else ","


def _first_undecodable_line(path: Path, encoding: str) -> int | None:
    """The first line that does not decode (line-wise, so only for 8-bit and UTF-8 files)."""
    if encoding.startswith("utf-16"):
        return None
    with open(path, "rb") as handle:
        for number, line in enumerate(handle, start=1):
            try:
                line.decode(encoding.replace("-sig", ""))
            except UnicodeDecodeError:
                return number
    return None
