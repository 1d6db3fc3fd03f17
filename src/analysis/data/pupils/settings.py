"""Names and settings of the pupil aggregation: output files, columns, reasons, labels.

The column headers, the score range, the pass spellings, the switches and the labels
live in ``config/pupils.yml``; the names here are fixed by the code.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from analysis.core import paths, text
from analysis.core.config import load_yaml
from analysis.data import catalog
from analysis.data.pupils.result import PupilError

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


def config(path: Path | str | None = None) -> dict[str, Any]:
    """``config/pupils.yml``: column headers, score range, pass spellings, labels.

    Parameters
    ----------
    path
        Another file of the same shape (default ``config/pupils.yml``).

    Returns
    -------
    dict
        The parsed YAML: ``columns``, ``score``, ``pass_values``, ``aggregation``,
        ``outputs`` and ``reasons``.

    Example
    -------
    >>> config()["score"]["max"]  # doctest: +SKIP
    10
    """
    return load_yaml(path or paths.config_dir() / "pupils.yml")


def label(column: str, lang: str = "vi") -> str:
    """The Vietnamese or English label of an output column or a reject reason.

    Parameters
    ----------
    column
        An output column (:data:`OUTCOME_COLUMNS`, ``school_year``, …) or a reason
        (:data:`REASONS`).
    lang
        ``"vi"`` or ``"en"``.

    Returns
    -------
    str
        The label from ``config/pupils.yml``.

    Raises
    ------
    KeyError
        When ``column`` is neither an output column nor a reason.

    Example
    -------
    >>> label("pupil_pass_rate", "en")  # doctest: +SKIP
    'Pass rate'
    """
    cfg = config()
    entry = cfg["outputs"].get(column) or cfg["reasons"].get(column)
    if entry is None:
        raise KeyError(f"no label for pupil column or reason {column!r}")
    return entry[lang]


def _setting(settings: dict[str, Any], name: str, given: bool | None) -> bool:
    """An aggregation switch: the argument if given, else ``config/pupils.yml`` (default on)."""
    value = settings.get(name, True) if given is None else given
    if not isinstance(value, bool):
        raise PupilError(
            f"config/pupils.yml: aggregation.{name} should be true or false, not {value!r}"
        )
    return value


def _header_lookup(cfg: dict[str, Any]) -> dict[str, str]:
    """Header key of every spelling (name, header, English, synonyms) → canonical column."""
    lookup: dict[str, str] = {}
    for canonical, spec in cfg["columns"].items():
        for spelling in (canonical, spec["header"], spec["en"], *spec.get("synonyms", [])):
            lookup.setdefault(text.header_key(spelling), canonical)
    return lookup
