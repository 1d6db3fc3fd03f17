"""Indicator values: school-year components, sums at a level, the full tidy table."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from analysis.core import i18n
from analysis.core.config import ConfigError
from analysis.measures.indicators.spec import DEFAULT_LEVELS, LEVELS, Indicator, _select
from analysis.measures.indicators.status import _rank, _trend_status

RESULT_COLUMNS = [
    "indicator", "name", "domain", "sector", "level", "unit_id", "unit_name", "year",
    "numerator", "denominator", "n_schools", "value", "measure", "target", "target_year",
    "target_source", "gap", "projected", "status", "change", "rank",
]  # fmt: skip


def _numeric(frame: pd.DataFrame) -> pd.DataFrame:
    """Booleans as 1.0/0.0 (missing stays missing) so they sum as counts."""
    bools = [c for c in frame.columns if pd.api.types.is_bool_dtype(frame[c])]
    return frame.assign(**{c: frame[c].astype("Float64") for c in bools})


def _evaluate(numeric: pd.DataFrame, expression: str) -> pd.Series:
    """An expression over the columns as float64 per row (a constant repeated)."""
    frame = numeric
    result = numeric.eval(expression, engine="python")
    if np.isscalar(result):
        return pd.Series(float(result), index=frame.index)
    return pd.to_numeric(result, errors="coerce").astype("Float64").astype("float64")


def components(data: pd.DataFrame, indicators: list[Indicator] | list[str] | None = None):
    """School-year numerators and denominators, long: one row per indicator and school-year.

    Rows where the numerator or denominator is missing are left out here (they
    do not count for that indicator), so sums at any level use the same rows.

    Parameters
    ----------
    data
        The school-year panel (yes/no columns count as 1 and 0).
    indicators
        Indicator ids or :class:`Indicator` objects; default all.

    Returns
    -------
    pandas.DataFrame
        ``school_id`` and ``year`` (those in ``data``), ``indicator``,
        ``numerator``, ``denominator`` (before ``factor``) and ``_row``, the
        position of the school-year in ``data``.

    Raises
    ------
    KeyError
        An unknown indicator id.
    ConfigError
        An expression cannot be evaluated on ``data`` (a column is missing).
    """
    chosen = _select(indicators)
    keys = [c for c in ("school_id", "year") if c in data]
    numeric = _numeric(data)
    parts = []
    for ind in chosen:
        try:
            num = _evaluate(numeric, ind.numerator)
            den = _evaluate(numeric, ind.denominator)
        except Exception as exc:
            raise ConfigError(
                f"indicator {ind.id}: cannot evaluate {ind.numerator!r} / {ind.denominator!r} "
                f"({exc})"
            ) from exc
        ok = num.notna() & den.notna()
        part = data.loc[ok, keys].copy()
        part["indicator"] = ind.id
        part["numerator"] = num[ok].to_numpy()
        part["denominator"] = den[ok].to_numpy()
        part["_row"] = np.flatnonzero(ok.to_numpy())
        parts.append(part)
    return pd.concat(parts, ignore_index=True)


def aggregate(
    data: pd.DataFrame,
    *,
    level: str,
    indicators: list[Indicator] | list[str] | None = None,
    years: list[int] | None = None,
) -> pd.DataFrame:
    """Values at one level: ``factor × Σ numerator ÷ Σ denominator`` per unit and year.

    Parameters
    ----------
    data
        The school-year panel joined with the hierarchy.
    level
        One of :data:`LEVELS` (``school``, ``unit``, ``analysis_district``…).
    indicators
        Indicator ids or :class:`Indicator` objects; default all.
    years
        School years (end years) to keep; default all.

    Returns
    -------
    pandas.DataFrame
        One row per indicator, unit and year: ``indicator``, ``unit_id``,
        ``year``, ``unit_name``, ``numerator``, ``denominator``, ``n_schools``
        (school-years counted), ``value`` (missing where the denominator sums to
        0) and ``level``. School-years without a unit at this level (the district
        level after the reform) are left out. No targets or status: see
        :func:`compute`.

    Raises
    ------
    KeyError
        Unknown level or indicator, or ``data`` lacks the level's id column.
    ConfigError
        An expression cannot be evaluated on ``data``.
    """
    if level not in LEVELS:
        raise KeyError(f"unknown level {level!r}; expected one of {', '.join(LEVELS)}")
    chosen = _select(indicators)
    id_col, name_col = LEVELS[level]
    if id_col not in data:
        raise KeyError(f"level {level!r} needs column {id_col!r} (join the hierarchy first)")
    if years is not None:
        data = data[data["year"].isin(years)]
    data = data.reset_index(drop=True)
    comp = components(data, chosen)
    comp["unit_id"] = data[id_col].to_numpy()[comp["_row"]]
    names = data[name_col] if name_col in data else data[id_col]
    comp["unit_name"] = names.to_numpy()[comp["_row"]]
    comp = comp[comp["unit_id"].notna()]  # e.g. district level after the reform
    grouped = comp.groupby(["indicator", "unit_id", "year"], sort=True, dropna=False).agg(
        unit_name=("unit_name", "first"),
        numerator=("numerator", "sum"),
        denominator=("denominator", "sum"),
        n_schools=("numerator", "size"),
    )
    grouped = grouped.reset_index()
    factor = grouped["indicator"].map({i.id: i.factor for i in chosen})
    with np.errstate(divide="ignore", invalid="ignore"):
        value = factor * grouped["numerator"] / grouped["denominator"]
    grouped["value"] = value.where(grouped["denominator"] != 0)
    grouped["level"] = level
    return grouped


def compute(
    data: pd.DataFrame | Any,
    *,
    indicators: list[Indicator] | list[str] | None = None,
    levels: tuple[str, ...] | list[str] = DEFAULT_LEVELS,
    years: list[int] | None = None,
    lang: str = "vi",
    projection_years: int = 3,
) -> pd.DataFrame:
    """Every indicator at every requested level and year, in one tidy table.

    Parameters
    ----------
    data
        The school-year panel joined with the hierarchy (``Dataset.data`` of the
        ``thai_nguyen_synthetic`` spec, or a :class:`~analysis.datasets.Dataset`).
    indicators
        Indicator ids (default: all in ``config/indicators.yml``).
    levels
        Among ``school``, ``unit`` (the managing unit as of each year: district
        before the 2025 reform, commune after), ``district``, ``commune``,
        ``analysis_district`` (one grouping across the reform, via the
        crosswalk), ``province`` (as of each year) and ``analysis_province``
        (the pre-reform province, for one trend line).
    years
        School years (end year) to keep; default all.
    lang
        Language of the ``name`` and ``measure`` columns.
    projection_years
        Years in the linear trend used for the on-track rule.

    Returns
    -------
    pandas.DataFrame
        One row per indicator, level, unit and year with :data:`RESULT_COLUMNS`:
        ``indicator``, ``name``, ``domain``, ``sector``, ``level``, ``unit_id``,
        ``unit_name``, ``year``, ``numerator``, ``denominator``, ``n_schools``,
        ``value`` (``factor × Σ numerator ÷ Σ denominator``), ``measure``,
        ``target``, ``target_year``, ``target_source``, ``gap`` (shortfall in the
        indicator's direction; ``≤ 0`` is met), ``projected`` (the trend's value
        in the target year), ``status`` (``met``, ``on_track``, ``behind``, ``not_met``,
        ``no_trend``, ``no_target``), ``change`` (on the previous school year)
        and ``rank``: 1 for the best unit of a level in a year, ties sharing the
        lowest rank (none for indicators without a direction). Sorted by
        indicator (definition order), level (``levels`` order), year, unit.

    Raises
    ------
    ValueError
        ``lang`` is not supported.
    KeyError
        Unknown level or indicator, or a level's id column is missing.
    ConfigError
        An expression cannot be evaluated on ``data``.

    Example
    -------
    >>> data = datasets.load("thai_nguyen_synthetic")  # doctest: +SKIP
    >>> levels = ("analysis_district", "analysis_province")
    >>> values = indicators.compute(data, levels=levels, lang="en")  # doctest: +SKIP
    >>> behind = values[values["status"] == "behind"]  # doctest: +SKIP
    >>> behind[["unit_name", "name", "value", "target"]]  # doctest: +SKIP
    """
    i18n.check_lang(lang)
    frame = getattr(data, "data", data)
    chosen = _select(indicators)
    parts = [aggregate(frame, level=lv, indicators=chosen, years=years) for lv in levels]
    table = pd.concat(parts, ignore_index=True)
    table = _trend_status(table, chosen, projection_years)
    table["rank"] = _rank(table, chosen)
    meta = {i.id: i for i in chosen}
    table["name"] = table["indicator"].map(lambda k: meta[k].name[lang])
    table["measure"] = table["indicator"].map(lambda k: meta[k].unit[lang])
    table["domain"] = table["indicator"].map(lambda k: meta[k].domain)
    table["sector"] = table["indicator"].map(lambda k: meta[k].sector)
    order = {i.id: n for n, i in enumerate(chosen)}
    level_order = {lv: n for n, lv in enumerate(levels)}
    table = table.assign(
        _i=table["indicator"].map(order), _l=table["level"].map(level_order)
    ).sort_values(["_i", "_l", "year", "unit_id"], kind="stable")
    table["n_schools"] = table["n_schools"].astype("int64")
    return table[RESULT_COLUMNS].reset_index(drop=True)
