"""Raw files shaped the way offices and other software write them, for ingest tests.

Each builder writes the same true rows (:func:`~tests.helpers.sample_panel`) in one
of the shapes that ingest once lost or misread: a workbook whose stored dimension
lies, percentages kept as formatted fractions, numbers typed with either decimal
mark, yes/no words. :func:`same_as_truth` compares what ingest read cell by cell.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import pandas as pd
import pandas.testing as pdt

from analysis.data import schema
from tests.helpers import cell_text

SPECS = schema.contract("panel")


def typed_rows(panel: pd.DataFrame) -> list[list]:
    """Header + rows with numbers as numbers (as a workbook holds them), yes/no as words."""
    rows: list[list] = [[s.header for s in SPECS.values()]]
    for record in panel.to_dict(orient="records"):
        row: list = []
        for name, spec in SPECS.items():
            value = record[name]
            if value is None or pd.isna(value):
                row.append(None)
            elif spec.dtype == "bool":
                row.append("Có" if value else "Không")
            elif spec.dtype in {"int", "float"}:
                row.append(float(value) if spec.dtype == "float" else int(value))
            else:
                row.append(str(value))
        rows.append(row)
    return rows


def write_book(path: Path, rows: list[list], formats: dict[str, str] | None = None,
               scale: dict[str, float] | None = None) -> Path:  # fmt: skip
    """An .xlsx of ``rows``; columns in ``formats`` get that number format, their values
    multiplied by ``scale`` (0.01 stores 97.1 as 0.971, as a percentage cell does)."""
    import xlsxwriter

    formats, scale = formats or {}, scale or {}
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("Sheet1")
    styles = {name: book.add_format({"num_format": f}) for name, f in formats.items()}
    names = list(SPECS)
    for r, values in enumerate(rows):
        for c, value in enumerate(values):
            name = names[c] if c < len(names) else ""
            if value is None or value == "":
                continue
            if r and isinstance(value, int | float):
                sheet.write_number(r, c, value * scale.get(name, 1), styles.get(name))
            else:
                sheet.write(r, c, value)
    book.close()
    return path


def with_dimension(path: Path, ref: str | None) -> Path:
    """The workbook with its sheets' stored dimension set to ``ref`` (``None``: removed)."""
    out = path.with_name(path.stem + "_dim.xlsx")
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as sink:
        for info in source.infolist():
            data = source.read(info)
            if info.filename.startswith("xl/worksheets/sheet"):
                text = data.decode()
                if ref is None:
                    text = re.sub(r"<dimension[^>]*/>", "", text)
                else:
                    text = re.sub(r'<dimension ref="[^"]*"', f'<dimension ref="{ref}"', text)
                data = text.encode()
            sink.writestr(info, data)
    path.unlink()
    return out


def text_rows(panel: pd.DataFrame, number=None) -> list[list[str]]:
    """Header + rows as text; ``number(name, value)`` writes the numbers (default: str)."""
    rows = [[s.header for s in SPECS.values()]]
    for record in panel.to_dict(orient="records"):
        row = []
        for name, spec in SPECS.items():
            value = record[name]
            if number is not None and spec.dtype in {"int", "float"} and not pd.isna(value):
                row.append(number(name, value))
            else:
                row.append(cell_text(value, spec.dtype))
        rows.append(row)
    return rows


def same_as_truth(result, truth: pd.DataFrame, skip: tuple[str, ...] = ()) -> None:
    """Every row accepted and every cell equal to the true value (as Excel shows it)."""
    assert result.accounting_holds()
    assert result.rejects.empty, result.rejects.to_string()
    panel = result.tables["panel"].sort_values(["school_id", "year"]).reset_index(drop=True)
    expected = truth.sort_values(["school_id", "year"]).reset_index(drop=True)
    columns = [c for c in panel.columns if c not in skip]
    pdt.assert_frame_equal(panel[columns], expected[columns], check_exact=False, rtol=1e-9)
