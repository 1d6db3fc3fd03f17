"""Can the data be trusted? Completeness, validation rules and outliers (DHIS2 practice).

* :func:`completeness` — reports received ÷ reports expected per unit and year,
  with every missing school listed (and whether its report arrived but was
  rejected at ingest).
* :func:`rule_violations` — rules ``left op right`` from config, each violation
  with school, year and both sides.
* :func:`outliers` — per indicator, z-score, modified z-score (median/MAD) and
  min–max bounds, with a threshold (default 3.0). The plain z-score assumes a
  roughly symmetric distribution: for skewed or zero-heavy indicators use the
  modified z-score, which one extreme value cannot mask.
* :func:`summary` — one row per unit: completeness, rejects, violations, outliers.
* :func:`exclude` — blank flagged values for later analysis, with a log of
  exactly what was excluded and why.
"""

from __future__ import annotations

import operator
import re
from pathlib import Path, PurePath

import numpy as np
import pandas as pd

from analysis.core import paths
from analysis.core.config import ConfigError, load_yaml
from analysis.data import schema
from analysis.measures import indicators as ind

OPERATORS = {**schema.OPERATORS, "!=": operator.ne}
METHODS = ("z", "modified_z", "bounds")
# Size columns are the denominators of many indicators: an outlying ratio blanks
# the measured column, not the school's size.
BASE_COLUMNS = frozenset({"enrolment", "teachers", "classrooms"})


# Plausibility rules have the shape of the ingest rules: left, op, right, vi, en.
QualityRule = schema.Rule


def load_rules(path: Path | str | None = None, *, include_hard: bool = True) -> list[QualityRule]:
    """Plausibility rules (``config/quality.yml``) and, optionally, the hard ingest rules.

    Parameters
    ----------
    path
        The plausibility rules; default ``config/quality.yml``.
    include_hard
        Add the ingest rules of ``config/columns.yml`` (:func:`analysis.schema.rules`).

    Returns
    -------
    list of QualityRule
        Plausibility rules first (``left``/``right`` are expressions), then the
        hard rules.

    Raises
    ------
    ConfigError
        A rule has an unknown operator (``<=``, ``<``, ``>=``, ``>``, ``==``,
        ``!=`` are known), or a file cannot be read.
    """
    path = Path(path) if path else paths.config_dir() / "quality.yml"
    raw = load_yaml(path)
    rules = []
    for entry in raw.get("rules", []):
        rule = QualityRule(**entry)
        if rule.op not in OPERATORS:
            raise ConfigError(f"{path}: rule {rule.id}: operator {rule.op!r} unknown")
        rules.append(rule)
    if include_hard:
        rules += schema.rules()
    return rules


def outlier_settings() -> dict:
    """The ``outliers`` section of ``config/quality.yml``: ``threshold``,
    ``default_method``, ``group_by`` (empty dict when absent)."""
    return load_yaml(paths.config_dir() / "quality.yml").get("outliers", {})


# --------------------------------------------------------------------------
# Completeness


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


# --------------------------------------------------------------------------
# Validation rules


def rule_violations(data: pd.DataFrame, rules: list[QualityRule] | None = None) -> pd.DataFrame:
    """Every violation of every rule: school, year, rule, both sides and their values.

    A rule with a blank side is not broken (it cannot be judged).

    Parameters
    ----------
    data
        The school-year panel (or a Dataset).
    rules
        Default :func:`load_rules` (plausibility and hard rules).

    Returns
    -------
    pandas.DataFrame
        One row per broken rule and school-year: ``school_id``, ``year``,
        ``rule``, ``left``, ``op``, ``right`` (the expressions), ``left_value``,
        ``right_value`` and ``message_vi``, ``message_en``.

    Raises
    ------
    ConfigError
        A rule cannot be evaluated on ``data`` (a column is missing).
    """
    rules = rules if rules is not None else load_rules()
    numeric = ind._numeric(getattr(data, "data", data))
    rows = []
    for rule in rules:
        try:
            left = ind._evaluate(numeric, rule.left)
            right = ind._evaluate(numeric, rule.right)
        except Exception as exc:
            raise ConfigError(f"quality rule {rule.id}: cannot evaluate ({exc})") from exc
        holds = OPERATORS[rule.op](left, right)
        broken = ~(holds | left.isna() | right.isna())
        for i in np.flatnonzero(broken.to_numpy()):
            rows.append(
                {
                    "school_id": numeric["school_id"].iloc[i],
                    "year": int(numeric["year"].iloc[i]),
                    "rule": rule.id,
                    "left": rule.left,
                    "op": rule.op,
                    "right": rule.right,
                    "left_value": float(left.iloc[i]),
                    "right_value": float(right.iloc[i]),
                    "message_vi": rule.vi,
                    "message_en": rule.en,
                }
            )
    columns = ["school_id", "year", "rule", "left", "op", "right", "left_value", "right_value",
               "message_vi", "message_en"]  # fmt: skip
    return pd.DataFrame(rows, columns=columns)


# --------------------------------------------------------------------------
# Outliers


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


# --------------------------------------------------------------------------
# Summary and exclusion


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


def exclude(
    data: pd.DataFrame,
    flags: pd.DataFrame,
    *,
    reason: str | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Blank the panel columns behind flagged indicator values; log each exclusion.

    ``flags`` is the output of :func:`outliers` (school_id, year, indicator) or
    of :func:`rule_violations` (school_id, year, rule — the rule's left column
    is blanked). Returns the cleaned copy and the log (school_id, year, column,
    value, reason) — nothing is removed without a line in the log.

    The columns blanked are those the indicator's numerator and denominator (or
    the rule's left side) name, except the size columns of
    :data:`BASE_COLUMNS` unless they are the only ones.

    Parameters
    ----------
    data
        The school-year panel (or a Dataset); not changed.
    flags
        Rows of :func:`outliers` or :func:`rule_violations`; flags for
        school-years not in ``data`` are skipped.
    reason
        The reason logged for every exclusion; default one built from the flag.

    Returns
    -------
    cleaned : pandas.DataFrame
        A copy of the panel with the flagged values blank (NaN, or NA in
        nullable columns).
    log : pandas.DataFrame
        ``school_id``, ``year``, ``column``, ``value`` (as text), ``reason``; one
        row per value blanked.

    Raises
    ------
    KeyError
        A flag names an unknown indicator or rule.
    """
    frame = getattr(data, "data", data).copy()
    by_id = {i.id: i for i in ind.load_indicators()}
    rules = {r.id: r for r in load_rules()}
    index = {
        (s, int(y)): i
        for i, (s, y) in enumerate(zip(frame["school_id"], frame["year"], strict=True))
    }
    log = []
    for flag in flags.to_dict(orient="records"):
        if "indicator" in flag:
            spec = by_id[flag["indicator"]]
            expression = f"{spec.numerator} {spec.denominator}"
            why = reason or (
                f"outlier: {flag['indicator']} = {flag['value']:.4g} "
                f"({flag['method']} {flag['score'] if pd.notna(flag['score']) else ''} "
                f"> {flag['threshold']:g})"
            )
        else:
            expression = rules[flag["rule"]].left
            why = (
                reason
                or f"rule {flag['rule']} broken: "
                f"{flag['left_value']:g} {flag['op']} {flag['right_value']:g}"
            )
        named = _names(expression)
        columns = [c for c in frame.columns if c in named and c not in BASE_COLUMNS]
        if not columns:
            columns = [c for c in frame.columns if c in named]
        row = index.get((flag["school_id"], int(flag["year"])))
        if row is None:
            continue
        for column in columns:
            value = frame.at[row, column]
            if pd.isna(value):
                continue
            log.append({"school_id": flag["school_id"], "year": int(flag["year"]),
                        "column": column, "value": str(value), "reason": why})  # fmt: skip
            frame.at[row, column] = (
                pd.NA if str(frame[column].dtype) in {"Int64", "boolean"} else np.nan
            )
    log_frame = pd.DataFrame(log, columns=["school_id", "year", "column", "value", "reason"])
    return frame, log_frame.drop_duplicates(["school_id", "year", "column"]).reset_index(drop=True)


def _names(expression: str) -> set[str]:
    import re

    return set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", expression))


_PATH = re.compile(r"(?:[A-Za-z]:)?(?:[\\/][^\\/\s]+)+[\\/]([^\\/\s]+)")


def without_paths(rejects: pd.DataFrame) -> pd.DataFrame:
    """Rejects as a report shows them: file names without the server's folders, in the
    ``file`` column and inside the messages ("already read at /srv/…/bao_cao.xlsx row 4").

    Parameters
    ----------
    rejects
        The ``rejects`` table of ingest (any table with ``file`` or ``message``).

    Returns
    -------
    pandas.DataFrame
        A copy with the paths cut to their file names; other columns unchanged.
    """
    out = rejects.copy()
    if "file" in out:
        out["file"] = out["file"].map(lambda f: f if pd.isna(f) else PurePath(str(f)).name)
    if "message" in out:
        out["message"] = out["message"].map(
            lambda m: m if not isinstance(m, str) else _PATH.sub(r"\1", m)
        )
    return out
