"""Realism: what the DOET actually receives, with every planted flaw written down.

:func:`apply_realism` turns the clean panel into the yearly reports as sent: some
school-years missing, some values impossible, some extreme, some numbers typed as text,
some rows sent twice, and (in some years) another template's headers. Each kind of flaw
has its own function and its own entry in the record that goes to ``truth.json``.
The rows each flaw hits come from one permutation of the panel, taken in a fixed order
(missing, impossible, duplicated, outliers), so flaws of those kinds never overlap.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from analysis.core.text import strip_diacritics
from analysis.data import schema
from analysis.data.synth.constants import SCHOOL_YEARS, Realism, school_year_label

# (column, rule the quality checks must catch), cycled over the impossible rows
IMPOSSIBLE_KINDS = [
    ("teachers_trained_cds", "trained_le_teachers"),
    ("computers_internet", "connected_le_computers"),
    ("enrolment", "range"),
    ("exam_pass_rate", "range"),
    ("computers_teaching", "not_a_number"),
    ("school_id", "unknown_school"),
]
OUTLIER_KINDS = [("bandwidth_mbps", 40.0), ("training_hours", 25.0)]  # (column, factor)
TEXT_NUMBER_COLUMNS = ["enrolment", "bandwidth_mbps", "exam_pass_rate", "training_hours"]
# school year (end year) -> header variant, when the profile has header variants
VARIANT_YEARS = {2022: "no_diacritics", 2023: "synonym", 2024: "spacing"}
UNKNOWN_COLUMN = "Ghi chú"  # the extra column of the "spacing" template


def apply_realism(
    panel: pd.DataFrame, realism: Realism, rng: np.random.Generator
) -> tuple[dict[int, pd.DataFrame], dict[str, Any], dict[int, str]]:
    """Plant ``realism``'s flaws: (reports per year as sent, record of flaws, header variants).

    The reports are ``panel`` as objects (``None`` for missing) with a ``_cell_text``
    column: per row, column -> the text typed instead of a number.
    """
    n = len(panel)
    record: dict[str, Any] = {"settings": realism.__dict__.copy()}
    missing, impossible, duplicated, outliers = _split(
        rng.permutation(n),
        [
            realism.missing_reports,
            realism.impossible_values,
            realism.duplicate_rows,
            realism.outliers,
        ],
    )
    record["missing_reports"] = [_row_key(panel, i) for i in missing]
    reports = panel.astype(object).where(panel.notna(), None)
    reports["_cell_text"] = [{} for _ in range(n)]  # column -> text typed instead of a number
    record["impossible_values"] = _plant_impossible(reports, panel, impossible)
    record["outliers"] = _plant_outliers(reports, panel, outliers)
    untouched = np.setdiff1d(np.arange(n), np.concatenate([impossible, missing]))
    record["text_numbers"] = _plant_text_numbers(reports, rng, realism.text_numbers, untouched)
    rows = reports.iloc[np.setdiff1d(np.arange(n), missing)]
    extra_rows, duplicate_log = _plant_duplicates(reports, panel, duplicated)
    record["duplicate_rows"] = duplicate_log
    if extra_rows:
        rows = pd.concat([rows, *extra_rows])
    variants = VARIANT_YEARS.copy() if realism.header_variants else {}
    record["header_variants"] = {school_year_label(y): v for y, v in variants.items()}
    record["unknown_columns"] = (
        [{"school_year": school_year_label(2024), "header": UNKNOWN_COLUMN}] if variants else []
    )
    reports_by_year = {year: rows[rows["year"] == year] for year in SCHOOL_YEARS}
    return reports_by_year, record, variants


def _split(order: np.ndarray, rates: list[float]) -> list[np.ndarray]:
    """Consecutive slices of the permutation ``order``, one per rate (share of rows), sorted."""
    n, cursor, chosen = len(order), 0, []
    for rate in rates:
        k = round(rate * n)
        chosen.append(np.sort(order[cursor : cursor + k]))
        cursor += k
    return chosen


def _row_key(panel: pd.DataFrame, i: int) -> dict[str, Any]:
    """The school-year a flaw is recorded against."""
    return {"school_id": panel.at[i, "school_id"], "year": int(panel.at[i, "year"])}


def _plant_impossible(
    reports: pd.DataFrame, panel: pd.DataFrame, rows: np.ndarray
) -> list[dict[str, Any]]:
    """Values that must be rejected, cycling over :data:`IMPOSSIBLE_KINDS` (in place)."""
    log = []
    for k, i in enumerate(rows):
        column, rule = IMPOSSIBLE_KINDS[k % len(IMPOSSIBLE_KINDS)]
        original = reports.at[i, column]
        if rule == "trained_le_teachers":
            value: Any = int(reports.at[i, "teachers"]) + 3
        elif rule == "connected_le_computers":
            value = int(reports.at[i, "computers_teaching"]) + 5
        elif column == "enrolment":
            value = -int(original)
        elif column == "exam_pass_rate":
            value = 112.5
        elif rule == "not_a_number":
            value = "chưa có số liệu"
            reports.at[i, "_cell_text"][column] = value
        else:
            value = "19999" + f"{k:03d}"
        reports.at[i, column] = value
        log.append(
            {
                **_row_key(panel, i),
                "column": column,
                "original": original if not isinstance(original, np.generic) else original.item(),
                "value": value,
                "expected_rule": rule,
            }
        )
    return log


def _plant_outliers(
    reports: pd.DataFrame, panel: pd.DataFrame, rows: np.ndarray
) -> list[dict[str, Any]]:
    """Extreme values inside the valid range (in place), cycling over :data:`OUTLIER_KINDS`."""
    log = []
    for k, i in enumerate(rows):
        column, factor = OUTLIER_KINDS[k % len(OUTLIER_KINDS)]
        original = float(reports.at[i, column])
        # extreme but inside the valid range: the quality module must flag it, not ingest
        limit = schema.contract("panel")[column].max
        if limit is None:  # every column of OUTLIER_KINDS has a maximum in columns.yml
            raise ValueError(f"config/columns.yml: {column} needs a max for planted outliers")
        ceiling = 0.9 * limit
        value = round(min(max(original, 1.0) * factor, ceiling), 1)
        reports.at[i, column] = value
        log.append({**_row_key(panel, i), "column": column, "original": original, "value": value})
    return log


def _plant_text_numbers(
    reports: pd.DataFrame, rng: np.random.Generator, rate: float, candidates: np.ndarray
) -> int:
    """Numbers typed as text the Vietnamese way ("1.234", "12,5", "85%"); how many (in place)."""
    count = 0
    if not rate:
        return count  # draws nothing: the stream stays as it was without this flaw
    chosen = rng.choice(candidates, size=round(rate * len(reports)), replace=False)
    for k, i in enumerate(np.sort(chosen)):
        column = TEXT_NUMBER_COLUMNS[k % len(TEXT_NUMBER_COLUMNS)]
        value = reports.at[i, column]
        if value is None:
            continue
        if column == "enrolment":
            text = f"{int(value):,}".replace(",", ".")
        elif column == "exam_pass_rate":
            text = f"{value:.1f}".replace(".", ",") + "%"
        else:
            text = f"{value:,.1f}".replace(",", " ").replace(".", ",").replace(" ", ".")
        reports.at[i, "_cell_text"][column] = text
        count += 1
    return count


def _plant_duplicates(
    reports: pd.DataFrame, panel: pd.DataFrame, rows: np.ndarray
) -> tuple[list[pd.DataFrame], list[dict[str, Any]]]:
    """Rows sent twice: every third copy conflicts (other enrolment). (copies, log)."""
    copies, log = [], []
    for k, i in enumerate(rows):
        copy = reports.iloc[[i]].copy()
        copy.at[copy.index[0], "_cell_text"] = dict(copy.iloc[0]["_cell_text"])
        kind = "conflict" if k % 3 == 2 else "exact"
        if kind == "conflict":
            copy.at[copy.index[0], "enrolment"] = int(reports.at[i, "enrolment"]) + 7
            copy.at[copy.index[0], "_cell_text"].pop("enrolment", None)
        copies.append(copy)
        log.append({**_row_key(panel, i), "kind": kind})
    return copies, log


def header_variant(kind: str, spec: schema.ColumnSpec) -> str:
    """The header of column ``spec`` as a template of variant ``kind`` spells it."""
    if kind == "no_diacritics":
        return strip_diacritics(spec.header).upper()
    if kind == "synonym":
        vietnamese = [s for s in spec.synonyms if strip_diacritics(s) != s]
        return vietnamese[0] if vietnamese else spec.header
    if kind == "spacing":
        return "  " + spec.header.replace(" ", "  ").lower() + " "
    return spec.header
