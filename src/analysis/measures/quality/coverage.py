"""Completeness (reports received ÷ expected) and the per-unit quality summary."""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.measures import indicators as ind
from analysis.measures.quality.rules import rule_violations
from analysis.measures.quality.scoring import outliers


def completeness(
    hierarchy: pd.DataFrame,
    panel: pd.DataFrame,
    *,
    rejects: pd.DataFrame | None = None,
    level: str = "analysis_district",
    years: list[int] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Reports received ÷ expected, per unit and year, and the missing schools.

    Parameters
    ----------
    hierarchy
        ``school_hierarchy`` (which schools are expected when: a school is
        expected in a year when it has a managing unit at that year's date).
    panel
        The accepted school-year panel (valid reports).
    rejects
        Ingest rejects; a school-year with a rejected row and no valid report
        is listed as ``rejected`` rather than ``missing``.
    level
        Hierarchy level to summarise by.
    years
        School years (end years) to count; default those in ``panel``.

    Returns
    -------
    summary : pandas.DataFrame
        One row per unit and year: ``level``, ``unit_id``, ``unit_name``,
        ``year``, ``expected``, ``received``, ``rejected``, ``missing`` (school
        counts) and ``completeness`` (% received of expected, 0–100).
    missing : pandas.DataFrame
        Every expected school-year without a valid report: ``school_id``,
        ``year``, ``unit_id``, ``unit_name``, ``state`` (``rejected`` or
        ``missing``); sorted by year and school.

    Raises
    ------
    KeyError
        Unknown level.

    Example
    -------
    >>> summary, missing = quality.completeness(  # doctest: +SKIP
    ...     data.tables["school_hierarchy"], data.data, rejects=data.tables.get("rejects")
    ... )
    """
    id_col, name_col = ind.LEVELS[level]
    expected = hierarchy[hierarchy["unit_id"].notna()]
    if years is None:
        years = sorted(panel["year"].unique())
    expected = expected[expected["year"].isin(years)]
    received = set(zip(panel["school_id"], panel["year"], strict=True))
    rejected: set[tuple[str, int]] = set()
    if rejects is not None and len(rejects):
        r = rejects[(rejects["table"] == "panel") & rejects["school_id"].notna()]
        r = r[r["year"].notna()]
        rejected = set(zip(r["school_id"], r["year"].astype(int), strict=True))
    keys = list(zip(expected["school_id"], expected["year"], strict=True))
    state = np.array(
        ["received" if k in received else "rejected" if k in rejected else "missing" for k in keys]
    )
    frame = expected.assign(state=state)
    summary = (
        frame.groupby([id_col, name_col, "year"])["state"]
        .value_counts()
        .unstack(fill_value=0)
        .reindex(columns=["received", "rejected", "missing"], fill_value=0)
        .reset_index()
        .rename(columns={id_col: "unit_id", name_col: "unit_name"})
    )
    summary.columns.name = None
    summary["expected"] = summary[["received", "rejected", "missing"]].sum(axis=1)
    summary["completeness"] = 100 * summary["received"] / summary["expected"]
    summary.insert(0, "level", level)
    summary = summary[
        ["level", "unit_id", "unit_name", "year", "expected", "received", "rejected", "missing",
         "completeness"]
    ]  # fmt: skip
    missing = frame.loc[
        frame["state"] != "received", ["school_id", "year", id_col, name_col, "state"]
    ]
    missing = missing.rename(columns={id_col: "unit_id", name_col: "unit_name"})
    return summary.reset_index(drop=True), missing.sort_values(["year", "school_id"]).reset_index(
        drop=True
    )


def summary(
    data: pd.DataFrame,
    *,
    hierarchy: pd.DataFrame,
    rejects: pd.DataFrame | None = None,
    level: str = "analysis_district",
    threshold: float | None = None,
) -> pd.DataFrame:
    """One row per unit and year: completeness, rejects, rule violations, outliers.

    Parameters
    ----------
    data
        The school-year panel joined with the hierarchy (or a Dataset).
    hierarchy
        ``school_hierarchy`` (which schools are expected when).
    rejects
        Ingest rejects (school-years rejected rather than missing).
    level
        Hierarchy level to summarise by.
    threshold
        Outlier threshold (default from ``config/quality.yml``).

    Returns
    -------
    pandas.DataFrame
        The columns of :func:`completeness`'s summary (``unit_id``, ``year``
        first), then ``violations`` (broken rules, all of :func:`load_rules`)
        and ``outliers`` (flagged values, default method), counted per unit and
        year.

    Raises
    ------
    KeyError, ConfigError
        As for :func:`completeness`, :func:`rule_violations` and :func:`outliers`.
    """
    frame = getattr(data, "data", data)
    id_col, _ = ind.LEVELS[level]
    comp, _ = completeness(hierarchy, frame, rejects=rejects, level=level)
    where = frame[["school_id", "year", id_col]].rename(columns={id_col: "unit_id"})
    violations = rule_violations(frame).merge(where, on=["school_id", "year"], how="left")
    flagged = outliers(frame, threshold=threshold).merge(
        where, on=["school_id", "year"], how="left"
    )
    counts = comp.set_index(["unit_id", "year"])
    counts["violations"] = violations.groupby(["unit_id", "year"]).size()
    counts["outliers"] = flagged.groupby(["unit_id", "year"]).size()
    counts[["violations", "outliers"]] = counts[["violations", "outliers"]].fillna(0).astype(int)
    return counts.reset_index()
