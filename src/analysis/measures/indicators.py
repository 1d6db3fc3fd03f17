"""CĐS indicators at every level of the hierarchy, against their targets.

Definitions live in ``config/indicators.yml``. A value at any level is always
``factor × Σ numerator ÷ Σ denominator`` over the school-years of that unit
(DHIS2 practice) — never an average of school ratios. A school-year counts for
an indicator only where both its numerator and denominator are present.

Status against a target (the earliest target whose year is at or after the
value's year):

* ``met`` — the value already meets the target;
* ``on_track`` — the linear trend (least squares) of the unit's last
  ``projection_years`` yearly values, extrapolated to the target year, meets it;
* ``behind`` — neither;
* ``no_trend`` — not met and fewer than two yearly values to project from
  (for example a post-reform commune with one year);
* ``no_target`` — no target at or after that year, or no direction.

``gap`` is the shortfall in the indicator's direction: ``target − value`` when
higher is better, ``value − target`` when lower is better; ``gap ≤ 0`` is met.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from analysis.core import i18n, paths
from analysis.core.config import ConfigError, load_yaml

DOMAINS = ("infrastructure", "training", "use", "outcome", "governance")
BETTER = ("higher", "lower", "none")
SECTORS = ("in", "cross")

# level → (id column, name column) in a panel joined with the hierarchy
LEVELS: dict[str, tuple[str, str]] = {
    "school": ("school_id", "school_name"),
    "unit": ("unit_id", "unit_name"),
    "district": ("district_id", "district_name"),
    "commune": ("commune_id", "commune_name"),
    "analysis_district": ("analysis_district_id", "analysis_district_name"),
    "province": ("province_id", "province_name"),
    "analysis_province": ("analysis_province_id", "analysis_province_name"),
}
DEFAULT_LEVELS = ("school", "unit", "analysis_district", "analysis_province")

RESULT_COLUMNS = [
    "indicator", "name", "domain", "sector", "level", "unit_id", "unit_name", "year",
    "numerator", "denominator", "n_schools", "value", "measure", "target", "target_year",
    "target_source", "gap", "projected", "status", "change", "rank",
]  # fmt: skip


@dataclass(frozen=True)
class Target:
    """A target of an indicator: the value to reach by a school year.

    Attributes
    ----------
    year : int
        End year of the school year the target is for.
    value : float
        The target value, in the indicator's unit.
    source : str
        Where the target comes from (a decision, or a provincial placeholder
        until the DOET's figure replaces it).
    """

    year: int
    value: float
    source: str


@dataclass(frozen=True)
class Indicator:
    """One indicator definition of ``config/indicators.yml``.

    Attributes
    ----------
    id : str
        The indicator's id (``teachers_trained_cds``).
    name : dict
        ``{"vi": …, "en": …}``.
    domain : str
        One of :data:`DOMAINS`.
    numerator, denominator : str
        Expressions over panel columns, summed over the school-years of a unit.
    factor : float
        Multiplies the ratio: 100 for a percentage, 1000 per 1,000, 1 a number.
    unit : dict
        The measure, ``{"vi": …, "en": …}`` (``%``, ``học sinh/máy``).
    better : str
        ``higher``, ``lower`` or ``none`` (no direction: no rank, no status).
    sector : str
        ``in`` (chỉ tiêu nội ngành, the education sector's own) or ``cross``
        (chỉ tiêu ngoại ngành).
    source : str
        The definition's source document.
    targets : tuple of Target
        By year, earliest first.
    bounds : tuple of float or None
        Plausible range of a school's value (outliers), for continuous indicators.
    """

    id: str
    name: dict[str, str]
    domain: str
    numerator: str
    denominator: str
    factor: float
    unit: dict[str, str]
    better: str
    sector: str
    source: str
    targets: tuple[Target, ...] = field(default_factory=tuple)
    bounds: tuple[float, float] | None = None

    def target_for(self, year: int) -> Target | None:
        """The earliest target at or after ``year``.

        Parameters
        ----------
        year
            End year of the school year of a value.

        Returns
        -------
        Target or None
            None when every target is earlier (or there is none).
        """
        later = [t for t in self.targets if t.year >= year]
        return min(later, key=lambda t: t.year) if later else None


def default_path() -> Path:
    """``config/indicators.yml``."""
    return paths.config_dir() / "indicators.yml"


def load_indicators(path: Path | str | None = None) -> list[Indicator]:
    """Read and check the indicator definitions.

    Parameters
    ----------
    path
        The definitions file; default ``config/indicators.yml``.

    Returns
    -------
    list of Indicator
        In file order, targets sorted by year.

    Raises
    ------
    ConfigError
        No ``indicators`` list, a required key missing or blank, a name or unit
        without ``vi`` or ``en``, an unknown domain, direction or sector, a
        duplicate id, or a target without a source.
    """
    path = Path(path) if path else default_path()
    raw = load_yaml(path)
    entries = raw.get("indicators") if isinstance(raw, dict) else None
    if not entries:
        raise ConfigError(f"{path}: no 'indicators' list")
    out, seen = [], set()
    for i, entry in enumerate(entries):
        where = f"{path}: indicators[{i}] ({entry.get('id', '?')})"
        for key in ("id", "name", "domain", "numerator", "denominator", "factor", "better",
                    "sector", "source", "unit"):  # fmt: skip
            if entry.get(key) in (None, ""):
                raise ConfigError(f"{where}: {key!r} is missing")
        for lang in i18n.LANGUAGES:
            if not str(entry["name"].get(lang) or "").strip():
                raise ConfigError(f"{where}: name.{lang} is missing")
            if not str(entry["unit"].get(lang) or "").strip():
                raise ConfigError(f"{where}: unit.{lang} is missing")
        if entry["domain"] not in DOMAINS:
            raise ConfigError(f"{where}: domain {entry['domain']!r} not in {DOMAINS}")
        if entry["better"] not in BETTER:
            raise ConfigError(f"{where}: better {entry['better']!r} not in {BETTER}")
        if entry["sector"] not in SECTORS:
            raise ConfigError(f"{where}: sector {entry['sector']!r} not in {SECTORS}")
        if entry["id"] in seen:
            raise ConfigError(f"{where}: duplicate id")
        seen.add(entry["id"])
        targets = []
        for t in entry.get("targets") or []:
            if not str(t.get("source") or "").strip():
                raise ConfigError(f"{where}: target for {t.get('year')} has no source")
            targets.append(Target(int(t["year"]), float(t["value"]), str(t["source"])))
        bounds = entry.get("bounds")
        out.append(
            Indicator(
                id=entry["id"],
                name=dict(entry["name"]),
                domain=entry["domain"],
                numerator=str(entry["numerator"]),
                denominator=str(entry["denominator"]),
                factor=float(entry["factor"]),
                unit=dict(entry["unit"]),
                better=entry["better"],
                sector=entry["sector"],
                source=str(entry["source"]),
                targets=tuple(sorted(targets, key=lambda t: t.year)),
                bounds=(float(bounds[0]), float(bounds[1])) if bounds else None,
            )
        )
    return out


def referenced_columns(expression: str) -> set[str]:
    """Column names an expression uses (identifiers that are not numbers).

    Parameters
    ----------
    expression
        A numerator or denominator expression (``"teachers_trained_cds"``,
        ``"enrolment / computers_teaching"``).

    Returns
    -------
    set of str
        Its identifiers, Python keywords (``and``, ``or``…) left out.
    """
    import keyword
    import re

    names = set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", expression))
    return {n for n in names if not keyword.iskeyword(n) and n not in {"True", "False"}}


def check_expressions(available: set[str], path: Path | str | None = None) -> list[str]:
    """Problems with indicator expressions: columns not in ``available``.

    Parameters
    ----------
    available
        The columns of the table the indicators will be computed on.
    path
        The definitions file; default ``config/indicators.yml``.

    Returns
    -------
    list of str
        One line per numerator or denominator naming unknown columns; empty when
        every expression can be evaluated.
    """
    problems = []
    for ind in load_indicators(path):
        for side in ("numerator", "denominator"):
            unknown = referenced_columns(getattr(ind, side)) - available
            if unknown:
                problems.append(f"{ind.id}.{side}: unknown column(s) {sorted(unknown)}")
    return problems


def _select(indicators: list[Indicator] | list[str] | None) -> list[Indicator]:
    """The definitions asked for (ids or objects; all for None); KeyError for an unknown id."""
    every = load_indicators()
    if indicators is None:
        return every
    by_id = {i.id: i for i in every}
    chosen = []
    for item in indicators:
        if isinstance(item, Indicator):
            chosen.append(item)
        elif item in by_id:
            chosen.append(by_id[item])
        else:
            raise KeyError(f"unknown indicator {item!r}; known: {', '.join(by_id)}")
    return chosen


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


def _trend_status(table: pd.DataFrame, chosen: list[Indicator], window: int) -> pd.DataFrame:
    """Add change, target, gap, projection and status (module docstring) to aggregated rows."""
    by_id = {i.id: i for i in chosen}
    out = table.sort_values(["indicator", "level", "unit_id", "year"]).reset_index(drop=True)
    wide = out.pivot_table(
        index=["indicator", "level", "unit_id"], columns="year", values="value", aggfunc="first"
    )
    years = np.array(wide.columns, dtype=float)
    values = wide.to_numpy(dtype=float)
    # change on the previous school year (consecutive years only)
    change = np.full_like(values, np.nan)
    consecutive = np.diff(years) == 1
    change[:, 1:] = np.where(consecutive[None, :], values[:, 1:] - values[:, :-1], np.nan)
    # least-squares slope over the last `window` years that have values
    slope = np.full_like(values, np.nan)
    for j in range(len(years)):
        lo = max(0, j - window + 1)
        x = years[lo : j + 1]
        y = values[:, lo : j + 1]
        have = ~np.isnan(y)
        n = have.sum(axis=1)
        xs = np.where(have, x[None, :], 0.0)
        ys = np.where(have, y, 0.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            mx = xs.sum(axis=1) / n
            my = ys.sum(axis=1) / n
            sxx = (np.where(have, (x[None, :] - mx[:, None]) ** 2, 0.0)).sum(axis=1)
            sxy = (np.where(have, (x[None, :] - mx[:, None]) * (y - my[:, None]), 0.0)).sum(axis=1)
            s = sxy / sxx
        slope[:, j] = np.where((n >= 2) & ~np.isnan(values[:, j]), s, np.nan)
    extra = pd.DataFrame(
        {
            "change": change.ravel(),
            "slope": slope.ravel(),
        },
        index=pd.MultiIndex.from_tuples(
            [(*idx, int(y)) for idx in wide.index for y in years],
            names=["indicator", "level", "unit_id", "year"],
        ),
    )
    out = out.merge(extra.reset_index(), on=["indicator", "level", "unit_id", "year"], how="left")

    targets = [
        by_id[i].target_for(int(y)) for i, y in zip(out["indicator"], out["year"], strict=True)
    ]
    out["target"] = [t.value if t else np.nan for t in targets]
    out["target_year"] = pd.array([t.year if t else None for t in targets], dtype="Int64")
    out["target_source"] = [t.source if t else "" for t in targets]
    sign = out["indicator"].map(
        {i.id: {"higher": 1.0, "lower": -1.0}.get(i.better, np.nan) for i in chosen}
    )
    out["gap"] = sign * (out["target"] - out["value"])
    horizon = out["target_year"].astype("float64") - out["year"]
    out["projected"] = out["value"] + out["slope"] * horizon
    projected_gap = sign * (out["target"] - out["projected"])
    status = np.select(
        [
            out["target"].isna() | sign.isna() | out["value"].isna(),
            out["gap"] <= 0,
            out["slope"].isna() & (horizon > 0),
            projected_gap <= 0,
        ],
        ["no_target", "met", "no_trend", "on_track"],
        default="behind",
    )
    out["status"] = status
    out.loc[out["target"].isna(), "projected"] = np.nan
    return out.drop(columns=["slope"])


def _rank(table: pd.DataFrame, chosen: list[Indicator]) -> pd.Series:
    """1 for the best value per indicator, level and year (ties share the best rank)."""
    sign = table["indicator"].map(
        {i.id: {"higher": -1.0, "lower": 1.0}.get(i.better, np.nan) for i in chosen}
    )
    key = table["value"] * sign
    rank = key.groupby([table["indicator"], table["level"], table["year"]]).rank(method="min")
    return rank.astype("Int64")


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
        in the target year), ``status`` (``met``, ``on_track``, ``behind``,
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


def definitions(lang: str = "vi") -> pd.DataFrame:
    """The indicator definitions as a table (for reports and the KPI workbook).

    Parameters
    ----------
    lang
        Language of the names, measures and coded words.

    Returns
    -------
    pandas.DataFrame
        One row per indicator: ``indicator``, ``name``, ``domain``, ``sector``,
        ``numerator``, ``denominator``, ``measure``, ``factor``, ``better``
        (labels in ``lang``), ``source`` and ``targets`` (``"2025: 80 (source);
        …"``).
    """
    rows = []
    for ind in load_indicators():
        rows.append(
            {
                "indicator": ind.id,
                "name": ind.name[lang],
                "domain": i18n.label("domains", ind.domain, lang),
                "sector": i18n.label("sectors", ind.sector, lang),
                "numerator": ind.numerator,
                "denominator": ind.denominator,
                "measure": ind.unit[lang],
                "factor": ind.factor,
                "better": i18n.label("better", ind.better, lang),
                "source": ind.source,
                "targets": "; ".join(f"{t.year}: {t.value:g} ({t.source})" for t in ind.targets),
            }
        )
    return pd.DataFrame(rows)


def headline(path: Path | str | None = None) -> list[str]:
    """Ids of the headline indicators (``headline:`` in indicators.yml).

    Parameters
    ----------
    path
        The definitions file; default ``config/indicators.yml``.

    Returns
    -------
    list of str
        In file order: the order of a district brief's headline table.

    Raises
    ------
    ConfigError
        The list names an indicator that is not defined.
    """
    path = Path(path) if path else default_path()
    ids = load_yaml(path).get("headline") or []
    known = {i.id for i in load_indicators(path)}
    unknown = [i for i in ids if i not in known]
    if unknown:
        raise ConfigError(f"{path}: headline names unknown indicators {unknown}")
    return list(ids)
