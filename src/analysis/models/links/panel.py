"""Two-way fixed-effects panels (``linearmodels.PanelOLS``): unit and time effects.

The covariance is chosen in one place, :func:`_covariance`: clustered by
entity (the default) or by another column, heteroskedasticity-robust, or
classical, each with the degrees of freedom of its t reference (G − 1 when
clustered, like Stata, with linearmodels' ``group_debias``: the G/(G − 1)
factor of Stata and R's fixest). With fewer than 30 clusters, p-values and
intervals come from the restricted wild cluster bootstrap
(:mod:`analysis.models.fewcluster`) on the within-transformed fit (entity
effects removed by demeaning, time effects as dummies), which is exact when
entities nest in the clusters; otherwise t(G − 1) is kept and ``glance()``
says so.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from linearmodels.panel import PanelOLS
from scipy import stats

from analysis.models.fewcluster import Design
from analysis.models.links.result import (
    FEW_METHODS,
    Inference,
    LinkResult,
    few_clusters,
    few_inference,
    inference_method,
    tidy_table,
)


def fit_panel(
    rows: pd.DataFrame,
    formula: str,
    entity: str,
    time: str,
    time_effects: bool,
    cov: str,
    cluster: str | None,
    weights: str | None,
    conf_level: float,
    few: str = "cr2",
) -> LinkResult:
    """Fit a fixed-effects panel on complete rows (absorbed regressors dropped).

    Parameters
    ----------
    rows
        Complete rows, one per entity and period.
    formula
        A patsy formula without the effects (they are added here).
    entity, time
        The unit and time columns; ``time`` is made numeric.
    time_effects
        Add time effects to the entity effects.
    cov
        ``"nonrobust"``, ``"HC1"`` or ``"cluster"``.
    cluster
        Column to cluster on; ``None`` (or the entity) clusters by entity.
    weights
        Column of weights, or ``None``.
    conf_level
        Level of the intervals.
    few
        With fewer than 30 clusters: ``"cr2"``, ``"wild"`` or ``"crv1"`` (as for OLS).

    Returns
    -------
    LinkResult
        Whose ``formula`` includes ``EntityEffects`` (and ``TimeEffects``);
        ``r_squared`` is the within R².

    Raises
    ------
    patsy.PatsyError
        If the formula cannot be built on the rows.
    """
    indexed = rows.copy()
    indexed[time] = pd.to_numeric(indexed[time])
    indexed = indexed.set_index([entity, time])
    full = formula + " + EntityEffects" + (" + TimeEffects" if time_effects else "")
    model = PanelOLS.from_formula(
        full, data=indexed, weights=indexed[weights] if weights else None, drop_absorbed=True
    )
    inference = _covariance(model, indexed, cov, cluster, entity)
    nested = (
        cluster is None
        or cluster == entity
        or bool((rows.groupby(entity)[cluster].nunique() == 1).all())
    )
    if cov == "cluster" and few in FEW_METHODS and few_clusters(inference.n_clusters) and nested:
        design = _within_design(model, inference.fit, indexed, cluster, time_effects, weights)
        few_inference(few, design, inference)
    table = tidy_table(inference, conf_level)
    glance = _glance(inference.fit, cov, time_effects)
    glance["inference"] = inference_method(cov, inference)
    glance["n_clusters"] = inference.n_clusters
    return LinkResult(
        "panel",
        full,
        cov,
        table,
        glance,
        pd.DataFrame(),
        len(rows),
        inference.fit,
        rows,
        inference.vcov,
        conf_level,
        inference.df,
        inference.few,
    )


def _within_design(
    model, fit, indexed: pd.DataFrame, cluster, time_effects: bool, weights
) -> Design:
    """The fit after removing entity effects by (weighted) demeaning, time effects as dummies."""
    exog = model.exog.dataframe[list(fit.params.index)].to_numpy(dtype=float)
    y = model.dependent.dataframe.iloc[:, 0].to_numpy(dtype=float)
    entities = indexed.index.get_level_values(0)
    periods = indexed.index.get_level_values(1)
    if time_effects:
        dummies = pd.get_dummies(periods, drop_first=True, dtype=float).to_numpy()
        exog = np.column_stack([exog, dummies])
    w = indexed[weights].to_numpy(dtype=float) if weights else np.ones(len(y))
    codes = pd.factorize(entities)[0]
    X, yy = _demean(exog, codes, w), _demean(y[:, None], codes, w)[:, 0]
    root = np.sqrt(w)
    groups = indexed[cluster].to_numpy() if cluster and cluster in indexed else entities.to_numpy()
    names = [*map(str, fit.params.index)]
    design = Design(X * root[:, None], yy * root, groups, names)
    return _keep_columns(design, len(names))


def _demean(values: np.ndarray, codes: np.ndarray, w: np.ndarray) -> np.ndarray:
    sums = np.zeros((codes.max() + 1, values.shape[1]))
    np.add.at(sums, codes, values * w[:, None])
    totals = np.bincount(codes, weights=w)
    return values - (sums / totals[:, None])[codes]


def _keep_columns(design: Design, k: int) -> Design:
    """Order the coefficient columns first; the time dummies stay in the fit behind them."""
    design.names = design.names[:k]
    return design


def _covariance(
    model, indexed: pd.DataFrame, cov: str, cluster: str | None, entity: str
) -> Inference:
    """Fit ``model`` with the covariance ``cov`` asks for; the t reference's degrees of freedom."""
    n_clusters = None
    if cov == "cluster":
        if cluster and cluster != entity:
            fit = model.fit(cov_type="clustered", clusters=indexed[[cluster]], group_debias=True)
            n_clusters = indexed[cluster].nunique()
        else:
            fit = model.fit(cov_type="clustered", cluster_entity=True, group_debias=True)
            n_clusters = indexed.index.get_level_values(0).nunique()
        df = float(n_clusters - 1)
    elif cov == "HC1":
        fit = model.fit(cov_type="robust")
        df = float(fit.df_resid)
    else:
        fit = model.fit(cov_type="unadjusted")
        df = float(fit.df_resid)
    stat = fit.params / fit.std_errors
    pvalues = pd.Series(2 * stats.t.sf(np.abs(stat), df), index=fit.params.index)
    vcov = pd.DataFrame(fit.cov, index=fit.params.index, columns=fit.params.index)
    return Inference(fit, fit.params, fit.std_errors, stat, pvalues, vcov, df, n_clusters)


def _glance(fit, cov: str, time_effects: bool) -> dict:
    """The one-row summary of a panel fit (``n_groups``: entities; ``r_squared``: within)."""
    return {
        "model": "panel",
        "cov": cov,
        "n_obs": int(fit.nobs),
        "n_groups": int(fit.entity_info["total"]),
        "n_periods": int(fit.time_info["total"]),
        "r_squared": float(fit.rsquared_within),
        "adj_r_squared": np.nan,
        "aic": np.nan,
        "bic": np.nan,
        "group_var": np.nan,
        "residual_var": float(fit.s2),
        "time_effects": time_effects,
    }
