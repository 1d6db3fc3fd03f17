"""Reading cells as the rules see them: numbers (also written as text) and blanks.

Shared by the suppression (:mod:`.suppress`) and the scanners (:mod:`.scanner`),
so both read a ``"3"`` held as text as the count 3.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np
import pandas as pd

from analysis.core import i18n


def parse_plain(text: str) -> float | None:
    """A number written plainly (``"3"``, ``"1234.5"``), as CSV files and workbooks hold them.

    Parameters
    ----------
    text
        A cell's text, stripped.

    Returns
    -------
    float or None
        The number, or None when the text is not one.

    Example
    -------
    >>> parse_plain("3"), parse_plain("[ẩn]")
    (3.0, None)
    """
    try:
        return float(text)
    except ValueError:
        return None


def _number(value: Any, parse=None) -> float | None:
    """A cell as a number (None for text, markers and blanks)."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, numbers.Number):
        value = float(value)
        return None if math.isnan(value) else value
    if parse is not None and isinstance(value, str) and value.strip():
        return parse(value.strip())
    return None


def _numbers(frame: pd.DataFrame, parse=None, columns=None) -> np.ndarray:
    """Every cell (of ``columns``, by position) as a float (NaN for text, markers, booleans
    and blanks; ``parse`` reads numbers written as text)."""
    out = np.full(frame.shape, np.nan)
    for c in range(frame.shape[1]) if columns is None else columns:
        column = frame.iloc[:, c]
        if pd.api.types.is_bool_dtype(column.dtype):
            continue
        if pd.api.types.is_numeric_dtype(column.dtype):
            out[:, c] = column.to_numpy(dtype=float, na_value=np.nan)
        else:
            out[:, c] = [np.nan if (n := _number(v, parse)) is None else n for v in column]
    return out


def _blank(value: Any) -> bool:
    """Missing: None, NaN, empty text or the dash reports show for missing."""
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip() or value.strip() == i18n.MISSING
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False
