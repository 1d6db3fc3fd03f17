"""Did a programme change outcomes? Staggered difference-in-differences and TWFE.

:func:`staggered` estimates group-time average treatment effects ATT(g, t) in
the style of Callaway & Sant'Anna (2021) with the ``csdid`` package (a Python
port of the authors' R ``did`` package: the same doubly-robust ATT(g, t),
aggregations and multiplier-bootstrap bands, released through 2026). pyfixest's
staggered estimators are imputation and local-projection designs rather than
group-time ATTs, so they answer a different question; ``differences`` also
implements ATT(g, t) but was not compared here beyond its documentation. The
ATT(g, t) are aggregated to event time, to cohorts and to one overall effect.
Never-treated units are the comparison group by default. Standard errors are
clustered on the school; the programme was assigned by district, and with nine
districts a district-clustered error would rest on too few clusters.

:func:`twfe` is the two-way fixed-effects regression on a treated dummy beside
it. With effects that differ across waves or grow with exposure, TWFE uses
already-treated units as controls and weights some ATT(g, t) negatively, so it
can be biased (Goodman-Bacon 2021; de Chaisemartin & D'Haultfœuille 2020); the
tests show that bias on data with heterogeneous effects.

All results come back in the tidy shape of :mod:`analysis.links`.
"""

from __future__ import annotations

import contextlib
import io
import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from analysis.models.links import TIDY_COLUMNS, estimate


@dataclass
class StaggeredResult:
    """ATT(g, t) and their aggregations, tidy."""

    attgt: pd.DataFrame  # term, cohort, year, event_time, estimate, std_error, …
    aggregations: dict[str, pd.DataFrame] = field(default_factory=dict)
    n_units: int = 0
    cohorts: list[int] = field(default_factory=list)
    pretrend: dict[str, float] = field(default_factory=dict)

    def tidy(self, kind: str = "simple") -> pd.DataFrame:
        """``"attgt"``, ``"simple"`` (one overall ATT), ``"dynamic"`` (event time), ``"group"``."""
        if kind == "attgt":
            return self.attgt.copy()
        return self.aggregations[kind].copy()


def _quiet(func, *args, **kwargs):
    with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return func(*args, **kwargs)


def _rows(terms, estimates, ses, crit) -> pd.DataFrame:
    est = np.ravel(np.asarray(estimates, dtype=float))
    se = np.ravel(np.asarray(ses, dtype=float))
    z = est / se
    return pd.DataFrame(
        {
            "term": terms,
            "estimate": est,
            "std_error": se,
            "statistic": z,
            "p_value": 2 * stats.norm.sf(np.abs(z)),
            "conf_low": est - crit * se,
            "conf_high": est + crit * se,
        }
    )[TIDY_COLUMNS]


def staggered(
    data,
    *,
    outcome: str,
    unit: str,
    time: str,
    cohort: str,
    controls: str | None = None,
    control_group: str = "nevertreated",
    method: str = "dr",
) -> StaggeredResult:
    """Group-time ATTs for staggered adoption, with event-time, cohort and overall aggregates.

    Parameters
    ----------
    data
        Long panel (one row per unit and period) or a Dataset.
    outcome, unit, time
        Column names.
    cohort
        First treated period of each unit (0 for never treated).
    controls
        Optional covariate formula (``"~ x1 + x2"``) for doubly-robust adjustment.
    control_group
        ``"nevertreated"`` or ``"notyettreated"``.
    method
        ``"dr"`` (doubly robust), ``"ipw"`` or ``"reg"``.

    Intervals of ATT(g, t) and event-time effects are simultaneous 95% bands
    (multiplier bootstrap, as in ``did``); the overall and cohort effects use
    pointwise normal intervals. Standard errors are clustered on the unit.
    """
    from csdid.att_gt import ATTgt

    frame = getattr(data, "data", data)
    columns = [outcome, unit, time, cohort]
    work = frame[columns].dropna().copy()
    work["_id"] = pd.factorize(work[unit])[0] + 1
    work[time] = work[time].astype(int)
    work[cohort] = work[cohort].astype(int)
    work[outcome] = work[outcome].astype(float)
    if controls:
        for name in controls.replace("~", " ").replace("+", " ").split():
            work[name] = frame.loc[work.index, name].astype(float)
    np.random.seed(0)  # the multiplier bootstrap behind the simultaneous bands
    model = ATTgt(
        yname=outcome,
        gname=cohort,
        idname="_id",
        tname=time,
        xformla=controls,
        data=work,
        control_group=control_group,
    )
    fitted = _quiet(model.fit, est_method=method)
    res = fitted.results
    groups = np.asarray(res["group"], dtype=int)
    years = np.asarray(res["year"], dtype=int)
    crit = float(np.atleast_1d(res["c"])[0])
    attgt = _rows(
        [f"ATT({g},{t})" for g, t in zip(groups, years, strict=True)], res["att"], res["se"], crit
    )
    attgt.insert(1, "cohort", groups)
    attgt.insert(2, "year", years)
    attgt.insert(3, "event_time", years - groups)
    aggregations = {}
    for kind in ("simple", "dynamic", "group"):
        _quiet(fitted.aggte, typec=kind)
        agg = fitted.atte
        overall = _rows(
            ["overall"], [agg["overall_att"]], [agg["overall_se"]], stats.norm.ppf(0.975)
        )
        if kind == "simple":
            aggregations[kind] = overall
            continue
        labels = np.asarray(agg["egt"], dtype=int)
        crit_e = float(agg.get("crit_val_egt") or stats.norm.ppf(0.975))
        if kind == "group":
            crit_e = stats.norm.ppf(0.975)  # pointwise per cohort
        name = "event_time" if kind == "dynamic" else "cohort"
        table = _rows([f"{name}={e}" for e in labels], agg["att_egt"], agg["se_egt"], crit_e)
        table.insert(1, name, labels)
        aggregations[kind] = table
    # formal pre-trend check: are the pre-treatment ATT(g,t) jointly zero? A Wald statistic
    # that treats them as independent (their covariances are not exposed by csdid)
    pre = attgt[attgt["event_time"] < 0]
    if len(pre):
        wald = float(((pre["estimate"] / pre["std_error"]) ** 2).sum())
        pretrend = {
            "statistic": wald,
            "df": len(pre),
            "p_value": float(stats.chi2.sf(wald, len(pre))),
        }
    else:
        pretrend = {}
    return StaggeredResult(
        attgt=attgt,
        aggregations=aggregations,
        n_units=int(work["_id"].nunique()),
        cohorts=sorted(int(g) for g in set(groups)),
        pretrend=pretrend,
    )


def cohorts(dataset) -> pd.Series:
    """First treated year of each row from the spec's ``programme`` (0 = not reached)."""
    programme = dataset.spec.programme
    if not programme:
        raise ValueError(f"dataset {dataset.spec.name} has no programme in its spec")
    first = {str(k): int(v) for k, v in programme["first_year"].items()}
    frame = dataset.data
    spec = dataset.spec
    # a school's cohort is fixed: the programme reached the unit it belonged to when first
    # observed (a few schools changed district grouping with the 2025 reform)
    order = frame.sort_values(spec.time) if spec.time else frame
    home = order.drop_duplicates(spec.unit).set_index(spec.unit)[programme["unit"]].astype(str)
    cohort = frame[spec.unit].map(home).map(first).fillna(0).astype(int)
    return cohort


def twfe(data, *, outcome: str, unit: str, time: str, cohort: str, cluster: str | None = None):
    """Two-way fixed effects on ``treated = (cohort > 0) & (time >= cohort)``; a LinkResult."""
    frame = getattr(data, "data", data).copy()
    g = frame[cohort].fillna(0).astype(int)
    frame["treated"] = ((g > 0) & (frame[time].astype(int) >= g)).astype(float)
    return estimate(
        frame, f"{outcome} ~ treated", model="panel", entity=unit, time=time, cluster=cluster
    )


# --------------------------------------------------------------------------
# A one-off programme without waves: inverse-probability weighting


@dataclass
class WeightingResult:
    table: pd.DataFrame  # tidy: the weighted effect
    balance: pd.DataFrame  # covariate, smd_before, smd_after
    propensity: pd.Series
    treated: pd.Series

    def tidy(self) -> pd.DataFrame:
        return self.table.copy()


def _smd(x: pd.Series, treated: pd.Series, weights: pd.Series | None = None) -> float:
    w = pd.Series(1.0, index=x.index) if weights is None else weights
    t, c = treated == 1, treated == 0
    m1 = np.average(x[t], weights=w[t])
    m0 = np.average(x[c], weights=w[c])
    v1 = np.average((x[t] - m1) ** 2, weights=w[t])
    v0 = np.average((x[c] - m0) ** 2, weights=w[c])
    pooled = np.sqrt((v1 + v0) / 2)
    return float((m1 - m0) / pooled) if pooled > 0 else 0.0


def weighting(
    data,
    *,
    outcome: str,
    treatment: str,
    covariates: list[str],
    estimand: str = "ATE",
    cluster: str | None = None,
    trim: float = 0.01,
) -> WeightingResult:
    """Inverse-probability weighting on school characteristics, with a balance table.

    The propensity score is a logistic regression of ``treatment`` on
    ``covariates``; weights are 1/p and 1/(1−p) (ATE) or 1 and p/(1−p) (ATT),
    with scores trimmed to [trim, 1 − trim]. The effect is the weighted
    regression of the outcome on treatment with HC1 (or clustered) errors, which
    treats the weights as known. ``balance`` gives standardised mean differences
    before and after weighting (|SMD| < 0.1 is the usual bar).
    """
    import statsmodels.api as sm

    frame = getattr(data, "data", data)
    used = [outcome, treatment, *covariates] + ([cluster] if cluster else [])
    rows = frame[used].dropna().copy()
    treated = rows[treatment].astype(float)
    X = sm.add_constant(rows[covariates].astype(float))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        score = sm.Logit(treated, X).fit(disp=0).predict(X).clip(trim, 1 - trim)
    if estimand == "ATE":
        weights = np.where(treated == 1, 1 / score, 1 / (1 - score))
    elif estimand == "ATT":
        weights = np.where(treated == 1, 1.0, score / (1 - score))
    else:
        raise ValueError("estimand must be 'ATE' or 'ATT'")
    rows["_w"] = weights
    result = estimate(
        rows,
        f"{outcome} ~ {treatment}",
        weights="_w",
        cov="cluster" if cluster else "HC1",
        cluster=cluster,
    )
    table = result.tidy()
    table = table[table["term"] == treatment].assign(term=f"{estimand} ({treatment})")
    balance = pd.DataFrame(
        {
            "covariate": covariates,
            "smd_before": [_smd(rows[c].astype(float), treated) for c in covariates],
            "smd_after": [_smd(rows[c].astype(float), treated, rows["_w"]) for c in covariates],
        }
    )
    return WeightingResult(table.reset_index(drop=True), balance, score, treated)
