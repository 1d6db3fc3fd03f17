"""Ordinary (or weighted) least squares with classical, HC1 or cluster-robust errors.

The covariance is chosen in one place, :func:`_covariance`: statsmodels fixes
it when the model is fitted, so that function fits the model and returns the
coefficients with their standard errors, p-values and reference degrees of
freedom. With fewer than 30 clusters a ``cov="cluster"`` fit takes its
standard errors, p-values and intervals from CR2 on t(Bell–McCaffrey degrees
of freedom) (:mod:`analysis.models.cr2`); ``few_clusters="wild"`` asks for the
restricted wild cluster bootstrap instead and ``"crv1"`` for CRV1 on t(G − 1).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import statsmodels.formula.api as smf
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


def fit_ols(
    rows: pd.DataFrame,
    formula: str,
    cov: str,
    cluster: str | None,
    weights: str | None,
    conf_level: float,
    few: str = "cr2",
) -> LinkResult:
    """Fit OLS (WLS with ``weights``) on complete rows.

    Parameters
    ----------
    rows
        Complete rows (see :func:`~analysis.models.links.prepare.complete_rows`).
    formula
        A patsy formula.
    cov
        ``"nonrobust"``, ``"HC1"`` or ``"cluster"``.
    cluster
        The cluster column (needed for ``cov="cluster"``).
    weights
        Column of analytic weights, or ``None``.
    conf_level
        Level of the intervals.
    few
        With fewer than 30 clusters: ``"cr2"`` (CR2 on t(Bell–McCaffrey df)),
        ``"wild"`` (the wild cluster bootstrap's p-values and intervals) or
        ``"crv1"`` (t(G − 1)).

    Returns
    -------
    LinkResult
        With ``df`` the residual degrees of freedom, or G − 1 when clustered.

    Raises
    ------
    patsy.PatsyError
        If the formula cannot be built on the rows.
    """
    if weights:
        model = smf.wls(formula, data=rows, weights=rows[weights].astype(float))
    else:
        model = smf.ols(formula, data=rows)
    inference = _covariance(model, rows, cov, cluster)
    if cov == "cluster" and few in FEW_METHODS and few_clusters(inference.n_clusters):
        few_inference(few, _design(model, rows[cluster]), inference)
    table = tidy_table(inference, conf_level)
    glance = _glance(inference.fit, cov, inference.n_clusters)
    glance["inference"] = inference_method(cov, inference)
    return LinkResult(
        "ols",
        formula,
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


def _design(model, clusters: pd.Series) -> Design:
    """The fit as the bootstrap sees it (rows scaled by √weight for WLS)."""
    root = np.sqrt(np.asarray(getattr(model, "weights", 1.0), dtype=float))
    X = np.asarray(model.exog, dtype=float) * np.reshape(root, (-1, 1))
    y = np.asarray(model.endog, dtype=float) * root
    return Design(X, y, clusters.to_numpy(), list(model.exog_names))


def _covariance(model, rows: pd.DataFrame, cov: str, cluster: str | None) -> Inference:
    """Fit ``model`` with the covariance ``cov`` asks for; the t reference's degrees of freedom."""
    if cov == "cluster":
        codes = pd.factorize(rows[cluster])[0]
        fit = model.fit(cov_type="cluster", cov_kwds={"groups": codes}, use_t=True)
        n_clusters = len(np.unique(codes))
        df = float(n_clusters - 1)
        # statsmodels' cluster p-values use df_resid; recompute with G − 1 like Stata
        tvalues = fit.tvalues.to_numpy(dtype=float)
        pvalues = pd.Series(2 * stats.t.sf(np.abs(tvalues), df), index=fit.params.index)
    elif cov == "HC1":
        fit = model.fit(cov_type="HC1", use_t=True)
        df, n_clusters, pvalues = float(fit.df_resid), None, fit.pvalues
    else:
        fit = model.fit()
        df, n_clusters, pvalues = float(fit.df_resid), None, fit.pvalues
    vcov = pd.DataFrame(fit.cov_params(), index=fit.params.index, columns=fit.params.index)
    return Inference(fit, fit.params, fit.bse, fit.tvalues, pvalues, vcov, df, n_clusters)


def _glance(fit, cov: str, n_clusters: int | None) -> dict:
    """The one-row summary of an OLS fit (``n_groups``: the clusters, if any)."""
    return {
        "model": "ols",
        "cov": cov,
        "n_obs": int(fit.nobs),
        "n_groups": n_clusters,
        "r_squared": float(fit.rsquared),
        "adj_r_squared": float(fit.rsquared_adj),
        "aic": float(fit.aic),
        "bic": float(fit.bic),
        "group_var": np.nan,
        "residual_var": float(fit.scale),
    }
