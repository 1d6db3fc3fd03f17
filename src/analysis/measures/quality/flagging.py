"""Flags worth reading: each value against what the school and its own report lead one to expect.

The plain outlier scores (:mod:`.scoring`) compare a school with every other school of
the province, so a large urban school or a training wave looks as odd as a typing error.
The checks here follow the WHO data-quality review and DHIS2's practice instead:

* ``history`` — the value against the school's own other years: the range of its other
  values, moved by the province's median change between the years (bounds learned from
  history);
* ``related`` — the value against what related columns of the same report predict (training
  hours from teachers and teachers trained this year, connected computers from computers),
  a robust regression fitted on the whole province;
* ``cumulative`` — a cumulative count against last year's count plus this year's additions;
* ``peers`` — for a school with fewer than two other years, the value per pupil or teacher
  against schools of the same level and area in that year (robust z-score).

A value is flagged when it lies beyond its expected range by more than the tolerance
(``config/quality.yml``, ``flags``). Each flag has a stable id (the same value flagged again
gets the same id, so a decision recorded on it carries over), its reason in words, the
expected range and its impact on the district figure of the indicator it feeds; the list is
ranked by that impact.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import statsmodels.api as sm
from statsmodels.tools.sm_exceptions import ConvergenceWarning

from analysis.core import i18n, paths
from analysis.core.config import load_yaml
from analysis.data import followup
from analysis.data.followup import flag_id
from analysis.measures import indicators as ind
from analysis.measures.quality.scoring import robust_z

CHECKS = ("history", "related", "cumulative", "peers")
DISTRICT = "analysis_district_id"
COLUMNS = [
    "flag_id",
    "school_id",
    "school_name",
    "year",
    DISTRICT,
    "district_name",
    "column",
    "value",
    "expected",
    "lower",
    "upper",
    "checks",
    "fold",
    "indicator",
    "district_value",
    "district_value_expected",
    "impact",
    "impact_share",
    "reason_vi",
    "reason_en",
]


def flag_settings() -> dict:
    """The ``flags`` section of ``config/quality.yml`` (tolerances and the columns checked)."""
    return load_yaml(paths.config_dir() / "quality.yml").get("flags", {})


def _offset(values: pd.Series, share: float) -> float:
    """The damping constant c of log(x + c): ``share`` of the median positive value."""
    positive = values[values > 0]
    return float(share * positive.median()) if len(positive) else 1.0


def _tolerance(changes: pd.Series | np.ndarray, settings: dict) -> float:
    """Log-fold tolerance: the configured fold, or ``spread_k`` robust SDs where wider."""
    changes = np.asarray(changes, dtype=float)
    changes = changes[np.isfinite(changes)]
    spread = 1.4826 * np.median(np.abs(changes - np.median(changes))) if len(changes) else 0.0
    return max(
        np.log(float(settings.get("tolerance_fold", 5))),
        float(settings.get("spread_k", 4)) * spread,
    )


def _empty() -> pd.DataFrame:
    return pd.DataFrame(
        columns=["school_id", "year", "column", "check", "value", "expected", "lower", "upper"]
    )


def _rows(frame, mask, column, check, expected, lower, upper) -> pd.DataFrame:
    """The flagged rows of one check in the common long shape."""
    hit = frame.loc[mask, ["school_id", "year"]].copy()
    hit["column"], hit["check"] = column, check
    hit["value"] = frame.loc[mask, column].astype(float).to_numpy()
    for name, series in (("expected", expected), ("lower", lower), ("upper", upper)):
        hit[name] = np.asarray(series, dtype=float)[np.flatnonzero(mask.to_numpy())]
    return hit


def history_check(frame: pd.DataFrame, columns: list[str], settings: dict) -> pd.DataFrame:
    """Values beyond the range of the school's own other years (moved by the year trend).

    Only positive values are compared: a zero is a different kind of answer (no Internet,
    no training), judged by the plausibility rules.
    """
    out = []
    for column in [c for c in columns if c in frame]:
        x = frame[column].astype(float)
        c = _offset(x, float(settings.get("offset_share", 0.5)))
        log = np.log(x.where(x > 0) + c)
        year_median = log.groupby(frame["year"]).transform("median")
        adjusted = pd.DataFrame(
            {"school_id": frame["school_id"], "year": frame["year"], "a": log - year_median}
        )
        wide = adjusted.pivot_table(index="school_id", columns="year", values="a", aggfunc="first")
        years = list(wide.columns)
        lo = pd.DataFrame({y: wide.drop(columns=y).min(axis=1) for y in years}).stack()
        hi = pd.DataFrame({y: wide.drop(columns=y).max(axis=1) for y in years}).stack()
        mid = pd.DataFrame({y: wide.drop(columns=y).median(axis=1) for y in years}).stack()
        n_other = pd.DataFrame({y: wide.drop(columns=y).notna().sum(axis=1) for y in years}).stack()
        tol = _tolerance(wide.diff(axis=1).stack(), settings)
        key = pd.MultiIndex.from_frame(frame[["school_id", "year"]])
        lo, hi, mid, n_other = (s.reindex(key).to_numpy() for s in (lo, hi, mid, n_other))
        a = adjusted["a"].to_numpy()
        beyond = np.maximum(a - hi, lo - a)
        mask = pd.Series((n_other >= 2) & (beyond > tol), index=frame.index)
        shift = year_median.to_numpy()
        out.append(
            _rows(
                frame,
                mask,
                column,
                "history",
                np.exp(mid + shift) - c,
                np.maximum(np.exp(lo + shift - tol) - c, 0),
                np.exp(hi + shift + tol) - c,
            )
        )
    return pd.concat(out, ignore_index=True) if out else _empty()


def related_check(frame: pd.DataFrame, pairs: list[dict], settings: dict) -> pd.DataFrame:
    """Values far from what related columns predict (Huber regression through the origin)."""
    out = []
    for pair in pairs:
        column, sources = pair["column"], list(pair["from"])
        if column not in frame or any(s not in frame for s in sources):
            continue
        used = frame[[column, *sources]].astype(float).notna().all(axis=1) & (frame[column] > 0)
        y, x = frame.loc[used, column].astype(float), frame.loc[used, sources].astype(float)
        if len(y) < 20:
            continue  # too few reports to learn the relation from
        with warnings.catch_warnings():
            # a synthetic baseline can be fitted exactly (scale 0): the fit is still right
            warnings.simplefilter("ignore", ConvergenceWarning)
            fit = sm.RLM(y, x, M=sm.robust.norms.HuberT()).fit()
        predicted = frame[sources].astype(float).to_numpy() @ fit.params.to_numpy()
        predicted = pd.Series(np.clip(predicted, 0, None), index=frame.index)
        c = _offset(y, float(settings.get("offset_share", 0.5)))
        residual = np.log(frame[column].astype(float) + c) - np.log(predicted + c)
        tol = _tolerance(residual[used], settings)
        mask = used & (residual.abs() > tol)
        out.append(
            _rows(
                frame,
                mask,
                column,
                "related",
                predicted,
                np.maximum((predicted + c) * np.exp(-tol) - c, 0),
                (predicted + c) * np.exp(tol) - c,
            )
        )
    return pd.concat(out, ignore_index=True) if out else _empty()


def cumulative_check(frame: pd.DataFrame, pairs: list[dict], settings: dict) -> pd.DataFrame:
    """A cumulative count against last year's count plus this year's additions."""
    out = []
    ordered = frame.sort_values(["school_id", "year"])
    for pair in pairs:
        column, added = pair["column"], pair["added"]
        if column not in frame or added not in frame:
            continue
        previous = ordered.groupby("school_id")[column].shift(1)
        consecutive = ordered.groupby("school_id")["year"].diff() == 1
        expected = (previous + ordered[added]).where(consecutive).reindex(frame.index).astype(float)
        value = frame[column].astype(float)
        c = _offset(value, float(settings.get("offset_share", 0.5)))
        residual = np.log(value + c) - np.log(expected + c)
        tol = _tolerance(residual, settings)
        mask = (residual.abs() > tol).fillna(False)
        out.append(
            _rows(
                frame,
                mask,
                column,
                "cumulative",
                expected,
                np.maximum((expected + c) * np.exp(-tol) - c, 0),
                (expected + c) * np.exp(tol) - c,
            )
        )
    return pd.concat(out, ignore_index=True) if out else _empty()


def peer_check(frame: pd.DataFrame, columns: list[str], settings: dict) -> pd.DataFrame:
    """For schools with fewer than two other years: the value per pupil against peers.

    Peers are the schools of the same level and area type in the same year; the score is
    the modified z-score of log(value per pupil).
    """
    reports = frame.groupby("school_id")["year"].transform("size")
    out = []
    groups = [frame[g] for g in ("school_level", "area_type", "year") if g in frame]
    threshold = float(settings.get("peer_z", 5))
    for column in [c for c in columns if c in frame and c != "enrolment"]:
        x = frame[column].astype(float)
        per = np.log(x.where(x > 0) / frame["enrolment"].astype(float))
        z = per.groupby(groups).transform(robust_z)
        median = per.groupby(groups).transform("median")
        mask = ((reports < 3) & (z.abs() > threshold)).fillna(False)
        size = frame["enrolment"].astype(float)
        expected = np.exp(median) * size
        spread = (per - median).abs() / z.abs().replace(0, np.nan) * threshold
        out.append(
            _rows(
                frame,
                mask,
                column,
                "peers",
                expected,
                np.exp(median - spread) * size,
                np.exp(median + spread) * size,
            )
        )
    return pd.concat(out, ignore_index=True) if out else _empty()


def _feeds(column: str) -> ind.Indicator | None:
    """The indicator a column feeds, for the impact of a flag: numerator first."""
    chosen = ind.load_indicators()
    for side in ("numerator", "denominator"):
        for indicator in chosen:
            if column in ind.referenced_columns(getattr(indicator, side)):
                return indicator
    return None


def _district_figure(rows: pd.DataFrame, indicator: ind.Indicator) -> float:
    """factor × Σ numerator ÷ Σ denominator over the rows where both are present."""
    numeric = ind._numeric(rows)
    num = ind._evaluate(numeric, indicator.numerator)
    den = ind._evaluate(numeric, indicator.denominator)
    both = num.notna() & den.notna()
    total = den[both].sum()
    return float(indicator.factor * num[both].sum() / total) if total else np.nan


def _impact(frame: pd.DataFrame, flagged: pd.DataFrame) -> pd.DataFrame:
    """The district figure with the value as reported and with the expected value instead."""
    values = {"indicator": [], "district_value": [], "district_value_expected": []}
    for row in flagged.itertuples(index=False):
        indicator = _feeds(row.column)
        district = frame[(frame[DISTRICT] == getattr(row, DISTRICT)) & (frame["year"] == row.year)]
        if indicator is None or district.empty:
            values["indicator"].append(None)
            values["district_value"].append(np.nan)
            values["district_value_expected"].append(np.nan)
            continue
        changed = district.copy()
        at = changed.index[changed["school_id"] == row.school_id]
        changed[row.column] = changed[row.column].astype(float)
        changed.loc[at, row.column] = row.expected
        values["indicator"].append(indicator.id)
        values["district_value"].append(_district_figure(district, indicator))
        values["district_value_expected"].append(_district_figure(changed, indicator))
    out = flagged.assign(**values)
    out["impact"] = out["district_value"] - out["district_value_expected"]
    out["impact_share"] = out["impact"].abs() / out["district_value_expected"].abs()
    return out


def reason(row: pd.Series | dict, lang: str = "vi") -> str:
    """A flag's reason in words: what the value is against, how far, the expected range.

    Parameters
    ----------
    row
        One row of :func:`flags` (``checks``, ``column``, ``value``, ``expected``,
        ``lower``, ``upper``, ``fold``).
    lang
        ``vi`` or ``en``.

    Returns
    -------
    str
        For example "Gấp 24,1 lần mức dự kiến theo các năm khác của trường (khoảng dự
        kiến 12,0–250,0)".
    """
    first = str(row["checks"]).split("+")[0]
    direction = "above" if row["value"] > row["expected"] else "below"
    against = i18n.label("flags", f"against_{first}", lang)
    digits = 0 if float(row["upper"]) >= 100 else 1
    return i18n.text(
        "flags",
        f"reason_{direction}",
        lang,
        fold=i18n.number(row["fold"], lang, 1),
        against=against,
        lower=i18n.number(row["lower"], lang, digits),
        upper=i18n.number(row["upper"], lang, digits),
    )


def flags(data: pd.DataFrame, settings: dict | None = None) -> pd.DataFrame:
    """Every value that fails a check, one row per value, ranked by impact on its district.

    Parameters
    ----------
    data
        The school-year panel joined with the hierarchy (or a Dataset): ``school_id``,
        ``year``, ``analysis_district_id`` and the checked columns.
    settings
        Default :func:`flag_settings` (``config/quality.yml``, ``flags``).

    Returns
    -------
    pandas.DataFrame
        :data:`COLUMNS`: the stable ``flag_id``; where (school, year, district); the
        ``column``, its ``value``, the ``expected`` value and range (``lower``,
        ``upper``, from the check that judges it strictest); ``checks`` failed, joined by
        "+"; ``fold`` (how many times beyond the expected value); the ``indicator`` the
        column feeds, the district figure as reported and with the expected value
        (``district_value``, ``district_value_expected``), their difference ``impact`` and
        its share ``impact_share``; ``reason_vi``, ``reason_en``. Largest impact first.

    Example
    -------
    >>> to_check = quality.flags(dataset)  # doctest: +SKIP
    >>> to_check[["school_name", "column", "reason_vi"]].head(10)  # doctest: +SKIP
    """
    settings = flag_settings() if settings is None else settings
    frame = getattr(data, "data", data).reset_index(drop=True)
    history = list(settings.get("history", []))
    found = pd.concat(
        [
            history_check(frame, history, settings),
            related_check(frame, settings.get("related", []), settings),
            cumulative_check(frame, settings.get("cumulative", []), settings),
            peer_check(frame, history, settings),
        ],
        ignore_index=True,
    )
    if found.empty:
        return pd.DataFrame(columns=COLUMNS)
    found["fold"] = np.maximum(found["value"], found["expected"]) / np.maximum(
        np.minimum(found["value"], found["expected"]), 1e-9
    )
    found["order"] = found["check"].map({c: k for k, c in enumerate(CHECKS)})
    found = found.sort_values(["school_id", "year", "column", "order"])
    key = ["school_id", "year", "column"]
    checks = found.groupby(key, sort=False)["check"].agg("+".join)
    merged = found.drop_duplicates(key).set_index(key).assign(checks=checks).reset_index()
    places = frame[["school_id", "year", DISTRICT, "analysis_district_name", "school_name"]]
    merged = merged.merge(
        places.rename(columns={"analysis_district_name": "district_name"}),
        on=["school_id", "year"],
        how="left",
    )
    merged["flag_id"] = [
        flag_id(s, y, c, v)
        for s, y, c, v in zip(
            merged["school_id"], merged["year"], merged["column"], merged["value"], strict=True
        )
    ]
    merged = _impact(frame, merged)
    for lang in ("vi", "en"):
        merged[f"reason_{lang}"] = [reason(r, lang) for _, r in merged.iterrows()]
    merged = merged.sort_values(["impact_share", "fold"], ascending=False, na_position="last")
    return merged[COLUMNS].reset_index(drop=True)


def with_followup(flags: pd.DataFrame, register: pd.DataFrame) -> pd.DataFrame:
    """The flags with their follow-up ``state`` and ``decision`` from the register.

    A flag whose value was corrected or excluded is no longer raised on the corrected
    tables; it comes back here from the register, resolved, so the list shows open
    against resolved flags.

    Parameters
    ----------
    flags
        :func:`flags` (on the tables with the register applied).
    register
        :func:`analysis.data.followup.read_register`.

    Returns
    -------
    pandas.DataFrame
        ``flags`` with ``decision`` (a code, or None) and ``state`` (``open``,
        ``waiting``, ``resolved``), then the corrected and excluded flags of the register
        (their reason: the decision).
    """
    decided = (
        register.set_index("flag_id")["decision"] if len(register) else pd.Series(dtype=object)
    )
    out = flags.copy()
    out["decision"] = out["flag_id"].map(decided).where(lambda s: s.notna(), None)
    gone = (
        register[register["decision"].isin(["corrected", "excluded"])]
        if len(register)
        else register
    )
    gone = gone[~gone["flag_id"].isin(out["flag_id"])]
    if len(gone):
        extra = gone[["flag_id", "school_id", "school_name", "district_name", "year", "column",
                      "value", "lower", "upper", "decision"]].copy()  # fmt: skip
        for lang in ("vi", "en"):
            extra[f"reason_{lang}"] = [
                i18n.label("followup_decisions", d, lang) for d in extra["decision"]
            ]
        out = pd.concat([out, extra.astype({"year": int})], ignore_index=True)
    out["state"] = [followup.state(d if isinstance(d, str) else None) for d in out["decision"]]
    return out


def to_check(flags: pd.DataFrame, lang: str = "vi") -> pd.DataFrame:
    """The flags as an analyst reads them: where, what, why, how much it moves the district.

    Parameters
    ----------
    flags
        :func:`flags` (or :func:`with_followup`), ranked.
    lang
        ``vi`` or ``en``: the language of the reason.

    Returns
    -------
    pandas.DataFrame
        ``flag_id``, ``district_name``, ``school_name``, ``school_id``, ``year``,
        ``column``, ``value``, ``lower``, ``upper``, ``reason``, ``indicator``,
        ``impact_share`` (per cent of the district figure), and ``state`` when known.
    """
    columns = [
        "flag_id",
        "district_name",
        "school_name",
        "school_id",
        "year",
        "column",
        "value",
        "lower",
        "upper",
        f"reason_{lang}",
        "indicator",
        "impact_share",
    ]
    if "state" in flags:
        columns.append("state")
    out = flags[columns].rename(columns={f"reason_{lang}": "reason"})
    out["impact_share"] = 100 * out["impact_share"]
    if "state" in out:
        out["state"] = out["state"].map(lambda s: i18n.label("followup_states", s, lang))
    return out.reset_index(drop=True)
