"""Outliers: z-score, modified z-score (median/MAD) or min–max bounds per indicator."""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.core import paths
from analysis.core.config import load_yaml
from analysis.measures import indicators as ind

METHODS = ("z", "modified_z", "bounds")


def outlier_settings() -> dict:
    """The ``outliers`` section of ``config/quality.yml``: ``threshold``,
    ``default_method``, ``group_by`` (empty dict when absent)."""
    return load_yaml(paths.config_dir() / "quality.yml").get("outliers", {})


def robust_z(values: pd.Series) -> pd.Series:
    """Modified z-score 0.6745 (x − median) / MAD (Iglewicz & Hoaglin).

    When the MAD is zero (more than half the values equal), the mean absolute
    deviation scaled by 1.2533 stands in, as is usual.

    Parameters
    ----------
    values
        The values of one group (NaN ignored by median and MAD).

    Returns
    -------
    pandas.Series
        Scores on the same index; all 0.0 when every value is the same.
    """
    x = values.astype(float)
    median = x.median()
    mad = (x - median).abs().median()
    if mad > 0:
        return 0.6745 * (x - median) / mad
    meanad = (x - median).abs().mean()
    if meanad > 0:
        return (x - median) / (1.2533 * meanad)
    return pd.Series(0.0, index=x.index)


def plain_z(values: pd.Series) -> pd.Series:
    """z-score (x − mean) / SD (sample SD, ddof 1); all 0.0 when the SD is 0 or undefined.

    Parameters
    ----------
    values
        The values of one group.

    Returns
    -------
    pandas.Series
        Scores on the same index.
    """
    x = values.astype(float)
    sd = x.std(ddof=1)
    if not sd or np.isnan(sd):
        return pd.Series(0.0, index=x.index)
    return (x - x.mean()) / sd


def outliers(
    data: pd.DataFrame,
    *,
    indicators: list[str] | None = None,
    method: str | None = None,
    threshold: float | None = None,
    group_by: list[str] | None = None,
) -> pd.DataFrame:
    """School-level indicator values flagged as outliers.

    Parameters
    ----------
    data
        Panel joined with the hierarchy (one row per school-year).
    indicators
        Indicator ids (default: the continuous ones, those with ``bounds`` in
        indicators.yml; yes/no shares of a single school are not scored).
    method
        ``"z"`` (default, config/quality.yml), ``"modified_z"`` (median/MAD,
        robust to masking) or ``"bounds"`` (the indicator's ``bounds``).
    threshold
        |score| above which a value is flagged (default 3.0, config/quality.yml).
    group_by
        Columns within which scores are computed (default per year), e.g.
        ``["year", "analysis_district_id"]`` to compare schools with neighbours.

    Returns
    -------
    pandas.DataFrame
        Only flagged rows: ``school_id``, ``year``, ``indicator``, ``value``,
        ``method``, ``score`` (missing for ``bounds``), ``threshold``, ``lower``
        and ``upper`` (the bounds, for ``bounds`` only). Sorted by indicator,
        year, school.

    Raises
    ------
    ValueError
        Unknown ``method``.
    KeyError
        Unknown indicator id.

    Example
    -------
    >>> flags = quality.outliers(data, method="modified_z", threshold=3.5)  # doctest: +SKIP
    >>> cleaned, log = quality.exclude(data, flags)  # doctest: +SKIP
    """
    settings = outlier_settings()
    method = method or settings.get("default_method", "z")
    if method not in METHODS:
        raise ValueError(f"method {method!r}; expected one of {METHODS}")
    threshold = float(threshold if threshold is not None else settings.get("threshold", 3.0))
    group_by = list(group_by or settings.get("group_by", ["year"]))
    frame = getattr(data, "data", data).reset_index(drop=True)
    chosen = ind._select(indicators)
    if indicators is None:
        chosen = [i for i in chosen if i.bounds is not None]
    school = ind.aggregate(frame, level="school", indicators=chosen)
    school = school.rename(columns={"unit_id": "school_id"})
    extra = [c for c in group_by if c not in ("year",)]
    if extra:
        school = school.merge(
            frame[["school_id", "year", *extra]].drop_duplicates(["school_id", "year"]),
            on=["school_id", "year"],
            how="left",
        )
    school = school[school["value"].notna()]
    bounds = {i.id: i.bounds for i in chosen}
    if method == "bounds":
        low = school["indicator"].map(lambda k: bounds[k][0] if bounds[k] else -np.inf)
        high = school["indicator"].map(lambda k: bounds[k][1] if bounds[k] else np.inf)
        flagged = school[(school["value"] < low) | (school["value"] > high)].copy()
        flagged["score"] = np.nan
        flagged["lower"], flagged["upper"] = low[flagged.index], high[flagged.index]
    else:
        scorer = robust_z if method == "modified_z" else plain_z
        score = school.groupby(["indicator", *group_by])["value"].transform(scorer)
        school = school.assign(score=score)
        flagged = school[school["score"].abs() > threshold].copy()
        flagged["lower"], flagged["upper"] = np.nan, np.nan
    flagged["method"] = method
    flagged["threshold"] = threshold
    columns = ["school_id", "year", "indicator", "value", "method", "score", "threshold",
               "lower", "upper"]  # fmt: skip
    return flagged[columns].sort_values(["indicator", "year", "school_id"]).reset_index(drop=True)
