"""Building small raw files for ingest tests."""

from __future__ import annotations

import os
import re
import unicodedata
from pathlib import Path

import pandas as pd

from analysis.data import schema, synth

# Debian's chromium, which `make browser` installs, for the tests that drive a browser
CHROMIUM = Path(os.environ.get("WORKBENCH_CHROMIUM", "/usr/bin/chromium"))
# known-good on a closed network: without the background-networking flags Chromium tries
# to reach Google's services at start and logs every refused connection
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
THREE_DECIMALS = re.compile(r"^[+-]?\d{1,3}\.\d{3}$")  # a float str() that reads as thousands


def sample_panel(n: int = 6, seed: int = 3) -> pd.DataFrame:
    """A few true rows of a clean province."""
    panel = synth.generate(seed=seed, profile="clean").panel
    return panel.iloc[:: max(1, len(panel) // n)].head(n).reset_index(drop=True)


def cell_text(value, dtype: str) -> str:
    if value is None or pd.isna(value):
        return ""
    if dtype == "bool":
        return "Có" if value else "Không"
    text = str(value)
    # "0.174" reads as 174 the Vietnamese way (a dot groups thousands): write "0.1740"
    return text + "0" if dtype == "float" and THREE_DECIMALS.match(text) else text


def panel_rows(panel: pd.DataFrame, headers: dict[str, str] | None = None) -> list[list[str]]:
    """Header row + data rows as text, with canonical or given headers."""
    specs = schema.contract("panel")
    headers = headers or {}
    out = [[headers.get(c, specs[c].header) for c in specs]]
    for record in panel.to_dict(orient="records"):
        out.append([cell_text(record[c], specs[c].dtype) for c in specs])
    return out


def to_cp1258(text: str) -> bytes:
    """Encode as Windows-1258 does: precomposed where the code page has it, else base + tone."""
    out = bytearray()
    for ch in unicodedata.normalize("NFC", text):
        try:
            out += ch.encode("cp1258")
            continue
        except UnicodeEncodeError:
            pass
        decomposed = unicodedata.normalize("NFD", ch)
        base, marks = decomposed[0], decomposed[1:]
        # join the base with one mark the code page has (â, ê, ô, ơ, ư, ă), then the tone
        for i in [*range(len(marks)), None]:
            head = base if i is None else unicodedata.normalize("NFC", base + marks[i])
            rest = marks if i is None else marks[:i] + marks[i + 1 :]
            try:
                out += head.encode("cp1258") + rest.encode("cp1258")
                break
            except UnicodeEncodeError:
                continue
        else:
            raise UnicodeEncodeError("cp1258", ch, 0, 1, "cannot encode")
    return bytes(out)


def write_csv(
    path: Path, rows: list[list[str]], *, encoding: str = "utf-8", sep: str = ","
) -> Path:
    import csv
    import io

    buffer = io.StringIO(newline="")
    csv.writer(buffer, delimiter=sep, lineterminator="\r\n").writerows(rows)
    text = buffer.getvalue()
    if encoding == "cp1258":
        data = to_cp1258(text)
    elif encoding == "utf-16-le-nobom":
        data = text.encode("utf-16-le")
    else:
        data = text.encode(encoding)
    path.write_bytes(data)
    return path


def write_xlsx(path: Path, rows: list[list], *, title: list[str] | None = None) -> Path:
    import xlsxwriter

    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("Sheet1")
    r = 0
    for line in title or []:
        sheet.write_string(r, 0, line)
        r += 1
    for values in rows:
        for c, value in enumerate(values):
            if value is None or value == "":
                continue
            if isinstance(value, int | float):
                sheet.write_number(r, c, value)
            else:
                sheet.write_string(r, c, str(value))
        r += 1
    book.close()
    return path
