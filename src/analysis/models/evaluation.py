"""Did a programme change outcomes? Staggered difference-in-differences and TWFE.

:func:`staggered` estimates group-time average treatment effects ATT(g, t) in
the style of Callaway & Sant'Anna (2021) and aggregates them to event time, to
cohorts and to one overall effect, with never-treated units as the comparison
group by default.

Inference is made at the level at which the programme was assigned
(``cluster=``, the spec's ``programme.unit``: the district), as Abadie, Athey,
Imbens & Wooldridge (2023) require. With fewer than
:data:`~analysis.models.fewcluster.FEW_CLUSTERS` clusters (the synthetic
province has nine districts, two never reached), p-values and intervals come
from the restricted wild cluster bootstrap with Webb weights, by test
inversion, and CRV3 (leave one district out) is computed beside it as an
analytic cross-check; :mod:`analysis.models.fewcluster` says why that method
was chosen (a Monte Carlo study of seven candidates). To make that possible
without covariates the ATT(g, t) are computed as the contrasts of one
saturated regression (:mod:`analysis.models.staggered`), which reproduces
``csdid`` (a port of the authors' R ``did``) to 1e-8; with covariates
(doubly-robust adjustment) or not-yet-treated comparisons the estimates come
from ``csdid`` itself, with its multiplier bootstrap clustered on ``cluster``,
and ``glance()`` says that this is not a few-cluster method.

What the design can detect and how robust it is: :func:`design_checks` adds the
minimum detectable effect and a Rambachan & Roth-style sensitivity analysis
(:mod:`analysis.models.sensitivity`). The pre-trend test is a joint Wald test
of the pre-period ATT(g, t) with their covariance, its p-value from the same
bootstrap.

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
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from analysis.models import fewcluster, sensitivity
from analysis.models.links import TIDY_COLUMNS, estimate
from analysis.models.staggered import Saturated, saturated

WILD = "wild cluster bootstrap (restricted, Webb weights)"
CRV1_T = "cluster-robust (CRV1), t(G - 1)"
CSDID = "csdid multiplier bootstrap, clustered (not a few-cluster method)"


@dataclass
class StaggeredResult:
    """ATT(g, t) and their aggregations, tidy, with how their uncertainty was computed."""

    attgt: pd.DataFrame  # term, cohort, year, event_time, estimate, std_error, …
    aggregations: dict[str, pd.DataFrame] = field(default_factory=dict)
    n_units: int = 0
    cohorts: list[int] = field(default_factory=list)
    pretrend: dict[str, float] = field(default_factory=dict)
    inference: dict[str, Any] = field(default_factory=dict)
    crosscheck: dict[str, pd.DataFrame] = field(default_factory=dict)  # CRV3, same rows
    checks: dict[str, Any] = field(default_factory=dict)  # design_checks: mde, sensitivity
    notes: list[str] = field(default_factory=list)
    fit: Saturated | None = field(default=None, repr=False)

    def tidy(self, kind: str = "simple") -> pd.DataFrame:
        """``"attgt"``, ``"simple"`` (one overall ATT), ``"dynamic"`` (event time), ``"group"``."""
        if kind == "attgt":
            return self.attgt.copy()
        return self.aggregations[kind].copy()

    def glance(self) -> pd.DataFrame:
        """One row: the method, the cluster column and counts, units, cohorts, pre-trend p."""
        row = {
            **self.inference,
            "n_units": self.n_units,
            "n_cohorts": len(self.cohorts),
            "pretrend_p": self.pretrend.get("p_value", np.nan),
        }
        for key in ("mde", "breakdown_mbar"):
            if key in self.checks:
                row[key] = self.checks[key]
        return pd.DataFrame([row])


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
    cluster: str | None = None,
    controls: str | None = None,
    control_group: str = "nevertreated",
    method: str = "dr",
    draws: int = fewcluster.DRAWS,
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
    cluster
        The column at which the programme was assigned (the spec's
        ``programme.unit``); inference is made at that level. ``None``
        clusters on the unit, which is right only if units were assigned one
        by one.
    controls
        Optional covariate formula (``"~ x1 + x2"``) for doubly-robust adjustment.
    control_group
        ``"nevertreated"`` or ``"notyettreated"``.
    method
        ``"dr"`` (doubly robust), ``"ipw"`` or ``"reg"`` (with ``controls``).
    draws
        Bootstrap draws (all distinct weight vectors when there are fewer).

    Returns
    -------
    StaggeredResult
        ``tidy(kind)`` per aggregation, each row with its interval and
        p-value from the few-cluster method (pointwise, also for event time);
        ``glance()`` names the method and the numbers of clusters, treated and
        never-treated clusters; ``crosscheck`` holds the CRV3 rows.
    """
    frame = getattr(data, "data", data)
    cluster = cluster or unit
    if controls or control_group != "nevertreated":
        return _csdid(frame, outcome, unit, time, cohort, cluster, controls, control_group, method)
    fit = saturated(frame, outcome=outcome, unit=unit, time=time, cohort=cohort, cluster=cluster)
    few = fit.design.G < fewcluster.FEW_CLUSTERS
    infer = _inferrer(fit, few, draws)
    cells = fit.cells()
    attgt, attgt3 = infer({f"ATT({g},{t})": fit.cell(g, t) for g, t in cells})
    for frame_ in (attgt, attgt3):
        frame_.insert(1, "cohort", [g for g, _ in cells])
        frame_.insert(2, "year", [t for _, t in cells])
        frame_.insert(3, "event_time", [fit._event(g, t) for g, t in cells])
    simple = infer({"overall": fit.overall()})
    events = fit.event_times()
    dynamic = infer({f"event_time={e}": fit.event_time(e) for e in events})
    group = infer({f"cohort={g}": fit.cohort(g) for g in fit.cohorts})
    for pair, name, labels in ((dynamic, "event_time", events), (group, "cohort", fit.cohorts)):
        for table in pair:
            table.insert(1, name, labels)
    pre = [fit.cell(g, t) for g, t in cells if t < g]
    return StaggeredResult(
        attgt=attgt,
        # the overall row keeps exactly the tidy columns; the others carry their label and
        # the number of clusters behind each estimate
        aggregations={"simple": simple[0][TIDY_COLUMNS], "dynamic": dynamic[0], "group": group[0]},
        n_units=int(fit.work[unit].nunique()),
        cohorts=fit.cohorts,
        pretrend=_pretrend(fit, pre, few, draws),
        inference=_inference(fit, cluster, cohort, WILD if few else CRV1_T, draws if few else 0),
        crosscheck={
            "attgt": attgt3,
            "simple": simple[1],
            "dynamic": dynamic[1],
            "group": group[1],
        },
        notes=fit.notes,
        fit=fit,
    )


def _inferrer(fit: Saturated, few: bool, draws: int):
    """A function from {term: contrast} to (tidy table, CRV3 cross-check table)."""
    design = fit.design
    vcov3 = fewcluster.crv3(design)
    vcov1 = fewcluster.crv1(design)
    df = design.G - 1

    def infer(contrasts: dict[str, np.ndarray]) -> tuple[pd.DataFrame, pd.DataFrame]:
        rows, rows3 = [], []
        for term, c in contrasts.items():
            if few:
                row = fewcluster.wild_interval(design, c, draws=draws)
            else:
                row = fewcluster.analytic_row(float(c @ design.beta), float(c @ vcov1 @ c), df)
                row["n_clusters"] = design.G
            rows.append({"term": term, **row})
            rows3.append(
                {
                    "term": term,
                    **fewcluster.analytic_row(float(c @ design.beta), float(c @ vcov3 @ c), df),
                }
            )
        tidy = pd.DataFrame(rows)[[*TIDY_COLUMNS, "n_clusters"]]
        return tidy, pd.DataFrame(rows3)[TIDY_COLUMNS]

    return infer


def _pretrend(fit: Saturated, pre: list[np.ndarray], few: bool, draws: int) -> dict[str, float]:
    """Joint test that the pre-period ATT(g, t) are zero, with their covariance."""
    if not pre:
        return {}
    R = np.vstack(pre)
    if few:
        test = fewcluster.wild_wald(fit.design, R, draws=draws)
        test["method"] = WILD
        return test
    stat = fewcluster._wald(R @ fit.design.beta, R @ fewcluster.crv1(fit.design) @ R.T)
    p = float(stats.chi2.sf(stat, len(pre)))
    return {"statistic": stat, "df": len(pre), "p_value": p, "p_value_chi2": p, "method": CRV1_T}


def _inference(fit: Saturated, cluster: str, cohort: str, method: str, draws: int) -> dict:
    """What the intervals rest on: the method and the clusters (all, treated, never treated)."""
    by_cluster = fit.work.groupby(cluster)[cohort].max()
    return {
        "method": method,
        "cluster": cluster,
        "n_clusters": int(fit.design.G),
        "n_treated_clusters": int((by_cluster > 0).sum()),
        "n_never_treated_clusters": int((fit.work.groupby(cluster)[cohort].min() == 0).sum()),
        "draws": draws,
        "comparison": "never treated",
    }


def design_checks(result: StaggeredResult, *, power: float = 0.8, sims: int = 200) -> dict:
    """Add the minimum detectable effect and the sensitivity analysis to ``result.checks``.

    Returns
    -------
    dict
        ``mde`` (outcome units, ``power`` at 5%), ``sensitivity`` (the table of
        :func:`~analysis.models.sensitivity.relative_magnitudes`),
        ``breakdown_mbar`` and ``informative_cohorts`` (cohorts whose
        bootstrap would give p < 0.05 to an effect of ten standard errors:
        see :func:`~analysis.models.fewcluster.pvalue_far`).
    """
    fit = result.fit
    if fit is None:
        raise ValueError("design checks need the regression form (no controls, never treated)")
    overall = result.tidy("simple").iloc[0].to_dict()
    dynamic = result.tidy("dynamic")
    table = sensitivity.relative_magnitudes(fit, overall, dynamic[dynamic["event_time"] < 0])
    breakdown = table.loc[table["breakdown"], "mbar"]
    result.checks = {
        "mde": sensitivity.minimum_detectable_effect(fit, power=power, sims=sims),
        "power": power,
        "sensitivity": table,
        "breakdown_mbar": float(breakdown.iloc[0]) if len(breakdown) else np.nan,
        "informative_cohorts": [
            g for g in fit.cohorts if fewcluster.pvalue_far(fit.design, fit.cohort(g)) < 0.05
        ],
    }
    return result.checks


def _csdid(frame, outcome, unit, time, cohort, cluster, controls, control_group, method):
    """ATT(g, t) from ``csdid`` (covariates, or not-yet-treated comparisons)."""
    from csdid.att_gt import ATTgt

    columns = list(dict.fromkeys([outcome, unit, time, cohort, cluster]))
    work = frame[columns].dropna().copy()
    work["_id"] = pd.factorize(work[unit])[0] + 1
    work["_cluster"] = pd.factorize(work[cluster])[0] + 1
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
        clustervar="_cluster" if cluster != unit else None,
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
    # pre-trend check without the covariance of the pre-period cells (csdid does not expose
    # it): a Wald statistic that treats them as independent, said so in ``method``
    pre = attgt[attgt["event_time"] < 0]
    pretrend = {}
    if len(pre):
        wald = float(((pre["estimate"] / pre["std_error"]) ** 2).sum())
        pretrend = {
            "statistic": wald,
            "df": len(pre),
            "p_value": float(stats.chi2.sf(wald, len(pre))),
            "method": "independent cells (csdid)",
        }
    n_clusters = int(work["_cluster"].nunique())
    by_cluster = work.groupby(cluster)[cohort]
    inference = {
        "method": CSDID,
        "cluster": cluster,
        "n_clusters": n_clusters,
        "n_treated_clusters": int((by_cluster.max() > 0).sum()),
        "n_never_treated_clusters": int((by_cluster.min() == 0).sum()),
        "draws": 1000,
        "comparison": control_group.replace("treated", " treated"),
    }
    if n_clusters < fewcluster.FEW_CLUSTERS:
        warnings.warn(
            f"{n_clusters} clusters: csdid's clustered bootstrap is not made for so few",
            stacklevel=2,
        )
    return StaggeredResult(
        attgt=attgt,
        aggregations=aggregations,
        n_units=int(work["_id"].nunique()),
        cohorts=sorted(int(g) for g in set(groups)),
        pretrend=pretrend,
        inference=inference,
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


def unit_names(frame: pd.DataFrame, unit: str) -> dict[str, str]:
    """Unit id → name, from the ``*_name`` column beside ``*_id`` (the id itself without one)."""
    name = unit[:-3] + "_name" if unit.endswith("_id") else None
    if name is None or name not in frame:
        return {str(u): str(u) for u in frame[unit].dropna().unique()}
    pairs = frame[[unit, name]].dropna().drop_duplicates(unit)
    return dict(zip(pairs[unit].astype(str), pairs[name].astype(str), strict=True))


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
