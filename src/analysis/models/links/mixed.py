"""Multilevel models (statsmodels ``MixedLM``): random intercepts and slopes, nested components.

The model is fitted by likelihood (:func:`_optimise` tries statsmodels'
optimisers in turn until one converges); the uncertainty of the fixed effects
is then chosen in :func:`_covariance` (model-based; the only choice for
MixedLM, with normal reference intervals).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import statsmodels.formula.api as smf
from scipy import stats
from statsmodels.tools.sm_exceptions import ConvergenceWarning

from analysis.models.links.result import Inference, LinkError, LinkResult, tidy_table

_METHODS = ("bfgs", "lbfgs", "powell", "nm")  # statsmodels' default optimiser first


def fit_mixed(
    rows: pd.DataFrame,
    formula: str,
    groups: str,
    re_formula: str | None,
    vc: dict[str, str] | None,
    reml: bool,
    conf_level: float,
) -> LinkResult:
    """Fit a linear mixed model on complete rows.

    Parameters
    ----------
    rows
        Complete rows.
    formula
        The fixed part, a patsy formula.
    groups
        The grouping column (random intercepts per group).
    re_formula
        Random slopes, e.g. ``"~trained_share"``; ``None`` for intercepts only.
    vc
        Nested variance components, e.g. ``{"school": "0 + C(school_id)"}``.
    reml
        REML (``True``) or ML (needed for AIC/BIC).
    conf_level
        Level of the (normal) intervals.

    Returns
    -------
    LinkResult
        ``cov`` is ``"nonrobust"``; ``glance()`` adds log_likelihood, reml,
        converged, group_column and the slope and component variances.

    Raises
    ------
    LinkError
        If no optimiser can fit the model.
    patsy.PatsyError
        If the formula cannot be built on the rows.
    """
    model = smf.mixedlm(formula, data=rows, groups=rows[groups], re_formula=re_formula,
                        vc_formula=vc)  # fmt: skip
    fit, converged = _optimise(model, reml)
    if fit is None:
        raise LinkError(f"the mixed model {formula!r} could not be fitted")
    inference = _covariance(fit, vc)
    table = tidy_table(inference, conf_level)
    glance = _glance(fit, groups, vc, reml, converged)
    return LinkResult("mixed", formula, "nonrobust", table, glance, pd.DataFrame(), len(rows),
                      fit, rows, inference.vcov, conf_level, None)  # fmt: skip


def _optimise(model, reml: bool):
    """The first converged fit over the optimisers, else the best one (or None); converged?

    Random-slope likelihoods can be flat, and a failed optimiser may still report a fit.
    """
    best, converged = None, False
    for method in _METHODS:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                candidate = model.fit(reml=reml, method=method)
            except (np.linalg.LinAlgError, ValueError):
                continue
        ok = (
            bool(getattr(candidate, "converged", True))
            and np.isfinite(candidate.llf)
            and not any(issubclass(w.category, ConvergenceWarning) for w in caught)
        )
        if best is None or (np.isfinite(candidate.llf) and candidate.llf > best.llf):
            best = candidate
        if ok:
            best, converged = candidate, True
            break
    return best, converged


def _covariance(fit, vc: dict[str, str] | None) -> Inference:
    """Fixed effects with model-based errors: GLS at the variance estimates, z reference.

    With nested variance components (``vc``) statsmodels' Hessian-based ``bse_fe``.
    """
    fe = fit.fe_params
    names = list(fe.index)
    if not vc:
        gls_cov = _gls_fixed_cov(fit)
        bse = pd.Series(np.sqrt(np.diag(gls_cov)), index=fe.index)
        vcov = pd.DataFrame(gls_cov, index=names, columns=names)
    else:
        bse = fit.bse_fe
        vcov = pd.DataFrame(fit.cov_params().loc[names, names])
    z = fe / bse
    p = pd.Series(2 * stats.norm.sf(np.abs(z)), index=fe.index)
    return Inference(fit, fe, bse, z, p, vcov, None)


def _gls_fixed_cov(fit) -> np.ndarray:
    """(X′V⁻¹X)⁻¹ at the estimated variance components.

    This is the fixed-effect covariance that nlme, lme4, SAS PROC MIXED and HLM
    report (conditional on the variance parameters); statsmodels' ``bse_fe``
    inverts the full Hessian instead and differs slightly.
    """
    model = fit.model
    psi = np.atleast_2d(np.asarray(fit.cov_re, dtype=float))
    scale = float(fit.scale)
    k = model.exog.shape[1]
    info = np.zeros((k, k))
    for x, z in zip(model.exog_li, model.exog_re_li, strict=True):
        v = z @ psi @ z.T + scale * np.eye(len(x))
        info += x.T @ np.linalg.solve(v, x)
    return np.linalg.inv(info)


def _glance(fit, groups: str, vc: dict[str, str] | None, reml: bool, converged: bool) -> dict:
    """The one-row summary of a mixed fit, with each random slope's and component's variance."""
    cov_re = fit.cov_re
    glance = {
        "model": "mixed",
        "cov": "nonrobust",
        "n_obs": int(fit.nobs),
        "n_groups": len(fit.model.group_labels),
        "r_squared": np.nan,
        "adj_r_squared": np.nan,
        "aic": float(fit.aic) if not reml else np.nan,
        "bic": float(fit.bic) if not reml else np.nan,
        "group_var": float(cov_re.iloc[0, 0]) if cov_re.size else np.nan,
        "residual_var": float(fit.scale),
        "log_likelihood": float(fit.llf),
        "reml": reml,
        "converged": converged,
        "group_column": groups,
    }
    if cov_re.shape[0] > 1:
        for name in cov_re.index[1:]:
            glance[f"slope_var[{name}]"] = float(cov_re.loc[name, name])
    if vc:
        for name, value in zip(fit.model.exog_vc.names, np.atleast_1d(fit.vcomp), strict=False):
            glance[f"vc_var[{name}]"] = float(value)
    return glance
