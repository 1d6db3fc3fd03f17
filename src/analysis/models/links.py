"""How infrastructure and teacher training relate to outcomes: one entry point, one result shape.

:func:`estimate` fits ordinary least squares (with classical, HC1 or
cluster-robust errors), multilevel models (statsmodels ``MixedLM``: random
intercepts and slopes, nested variance components) and two-way fixed-effects
panels (``linearmodels.PanelOLS``: school and year effects, clustered errors).
Every fit returns a :class:`LinkResult` whose ``tidy()`` and ``glance()`` have
the same columns whatever the estimator.

Why linearmodels for panels: it is the long-maintained reference for panel
econometrics in Python (PanelOLS, RandomEffects, IV; Kevin Sheppard, releases
since 2017, 7.1 in 2026), depends only on the scientific stack the workbench
already uses, and its clustered covariance follows the Stata/R conventions
that published panel results use. pyfixest is faster on very large
high-dimensional problems but pulls a larger, faster-moving stack; the
estimates are the same (see tests: statsmodels with dummies agrees).

All numbers are associations unless the design allows more (a randomised
experiment such as STAR, or the evaluation module's designs).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from analysis.core import i18n

TIDY_COLUMNS = ["term", "estimate", "std_error", "statistic", "p_value", "conf_low", "conf_high"]
MODELS = ("ols", "mixed", "panel")
COVS = ("nonrobust", "HC1", "cluster")
_FUNCTIONS = {"C", "np", "log", "exp", "I", "Q", "center", "scale", "standardize", "Treatment",
              "EntityEffects", "TimeEffects", "FixedEffects", "Sum", "Poly", "bs"}  # fmt: skip


class LinkError(ValueError):
    """A model cannot be specified or fitted as asked."""


@dataclass
class LinkResult:
    """A fitted model in the workbench's one result shape."""

    model: str
    formula: str
    cov: str
    table: pd.DataFrame
    stats: dict[str, Any]
    dropped: pd.DataFrame
    n_input: int
    fit: Any = field(repr=False)
    data: pd.DataFrame = field(repr=False)
    vcov_matrix: pd.DataFrame = field(repr=False)
    conf_level: float = 0.95
    df: float | None = None  # degrees of freedom for t intervals; None → normal

    def tidy(self, conf_level: float | None = None) -> pd.DataFrame:
        """term, estimate, std_error, statistic, p_value, conf_low, conf_high."""
        if conf_level is None or conf_level == self.conf_level:
            return self.table.copy()
        crit = _critical(conf_level, self.df)
        out = self.table.copy()
        out["conf_low"] = out["estimate"] - crit * out["std_error"]
        out["conf_high"] = out["estimate"] + crit * out["std_error"]
        return out

    def glance(self) -> pd.DataFrame:
        """One row: n_obs, n_groups, r_squared, aic, bic, group_var, residual_var, …"""
        return pd.DataFrame([self.stats])

    def vcov(self) -> pd.DataFrame:
        return self.vcov_matrix.copy()

    def __repr__(self) -> str:
        return (
            f"LinkResult({self.model}, cov={self.cov}, n={self.stats.get('n_obs')}): {self.formula}"
        )


def _critical(conf_level: float, df: float | None) -> float:
    alpha = 1 - conf_level
    return float(stats.t.ppf(1 - alpha / 2, df) if df else stats.norm.ppf(1 - alpha / 2))


def formula_columns(formula: str, columns) -> list[str]:
    """Columns of ``columns`` that a formula refers to, in order of appearance."""
    names = re.findall(r"[A-Za-z_][A-Za-z0-9_.]*", formula)
    seen: list[str] = []
    for name in names:
        if name in columns and name not in _FUNCTIONS and name not in seen:
            seen.append(name)
    return seen


def role_formula(
    spec,
    data: pd.DataFrame,
    *,
    outcome: str | None = None,
    interaction: bool = True,
    controls: bool = True,
    time_effects: bool = True,
) -> str:
    """A formula from a dataset spec's column roles.

    ``outcome ~ treatment + infrastructure × training + controls + C(time)``:
    the first infrastructure and the first training column, with their
    interaction when both exist; text controls enter as categories.
    """
    roles = spec.roles
    outcome = outcome or roles["outcomes"][0]
    terms: list[str] = list(roles.get("treatment", []))
    infra = roles.get("infrastructure", [])[:1]
    training = roles.get("training", [])[:1]
    if infra and training and interaction:
        terms.append(f"{infra[0]} * {training[0]}")
    else:
        terms += infra + training
    if controls:
        for column in roles.get("controls", []):
            values = data[column]
            numeric = pd.api.types.is_numeric_dtype(values)
            categorical = not numeric or pd.api.types.is_bool_dtype(values)
            terms.append(f"C({column})" if categorical else column)
    if time_effects and spec.time and data[spec.time].nunique() > 1:
        terms.append(f"C({spec.time})")
    if not terms:
        raise LinkError(f"spec {spec.name}: no predictor roles to build a formula from")
    return f"{outcome} ~ " + " + ".join(terms)


def _complete_rows(data: pd.DataFrame, columns: list[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    missing = data[columns].isna()
    dropped = pd.DataFrame(
        {
            "column": columns,
            "missing_rows": [int(missing[c].sum()) for c in columns],
        }
    )
    dropped = dropped[dropped["missing_rows"] > 0].reset_index(drop=True)
    dropped["reason"] = "missing value in this column (row left out of the model)"
    keep = ~missing.any(axis=1)
    return data.loc[keep].copy(), dropped


def _standardize(data: pd.DataFrame, columns: list[str], skip: set[str]) -> pd.DataFrame:
    out = data.copy()
    for column in columns:
        if column in skip:
            continue
        values = out[column]
        if pd.api.types.is_bool_dtype(values) or not pd.api.types.is_numeric_dtype(values):
            continue
        if values.nunique() <= 2:  # dummies stay 0/1
            continue
        sd = values.astype(float).std(ddof=1)
        if sd > 0:
            out[column] = (values.astype(float) - values.astype(float).mean()) / sd
    return out


def _table(params, bse, stat, pvalues, crit) -> pd.DataFrame:
    table = pd.DataFrame(
        {
            "term": params.index.astype(str),
            "estimate": params.to_numpy(dtype=float),
            "std_error": bse.to_numpy(dtype=float),
            "statistic": stat.to_numpy(dtype=float),
            "p_value": pvalues.to_numpy(dtype=float),
        }
    )
    table["conf_low"] = table["estimate"] - crit * table["std_error"]
    table["conf_high"] = table["estimate"] + crit * table["std_error"]
    return table[TIDY_COLUMNS]


def estimate(
    data,
    formula: str | None = None,
    *,
    spec=None,
    outcome: str | None = None,
    model: str = "ols",
    cov: str | None = None,
    cluster: str | None = None,
    groups: str | None = None,
    re_formula: str | None = None,
    vc: dict[str, str] | None = None,
    reml: bool = True,
    entity: str | None = None,
    time: str | None = None,
    time_effects: bool = True,
    weights: str | None = None,
    standardize: bool = False,
    interaction: bool = True,
    conf_level: float = 0.95,
) -> LinkResult:
    """Fit one model; every estimator returns the same :class:`LinkResult` shape.

    Parameters
    ----------
    data
        A DataFrame, or a :class:`~analysis.datasets.Dataset` (then ``spec`` is
        taken from it).
    formula
        ``"y ~ x1 + x2 * x3 + C(cat)"`` (patsy syntax). Without it, the formula
        is built from the spec's roles (:func:`role_formula`) for ``outcome``.
    model
        ``"ols"``, ``"mixed"`` (MixedLM) or ``"panel"`` (two-way fixed effects).
    cov
        ``"nonrobust"``, ``"HC1"`` or ``"cluster"``. Defaults: OLS ``HC1``
        (``cluster`` when ``cluster=`` is given), panel ``cluster`` by entity,
        mixed ``nonrobust`` (model-based; the only choice for MixedLM).
    cluster
        Column to cluster standard errors on (OLS, panel).
    groups, re_formula, vc, reml
        MixedLM: grouping column (default: the spec's first group), random
        slopes (e.g. ``"~trained_share"``), nested variance components (e.g.
        ``{"school": "0 + C(school_id)"}`` with ``groups`` the district), REML
        (default) or ML (``reml=False``, needed for AIC/BIC).
    entity, time, time_effects
        Panel: unit and time columns (default: the spec's unit and time).
    weights
        Column of analytic weights (OLS as WLS; panel weights).
    standardize
        Z-score the outcome and the continuous predictors first, so that
        coefficients are in standard deviations.
    conf_level
        Level of ``conf_low``/``conf_high``.
    """
    if model not in MODELS:
        raise LinkError(f"model {model!r}; expected one of {MODELS}")
    if cov is not None and cov not in COVS:
        raise LinkError(f"cov {cov!r}; expected one of {COVS}")
    frame = getattr(data, "data", data)
    spec = spec or getattr(data, "spec", None)
    if formula is None:
        if spec is None:
            raise LinkError("give a formula, or a dataset spec whose roles build one")
        formula = role_formula(
            spec,
            frame,
            outcome=outcome,
            interaction=interaction,
            time_effects=time_effects and model != "panel",
        )
    if spec is not None:
        groups = groups or (spec.groups[0] if spec.groups else None)
        entity = entity or spec.unit
        time = time or spec.time
    if model == "panel" and not (entity and time):
        raise LinkError("a panel model needs entity= and time= (or a spec with unit and time)")
    if model == "mixed" and not groups:
        raise LinkError("a mixed model needs groups= (or a spec with groups)")
    if cov is None:
        cov = {"ols": "cluster" if cluster else "HC1", "mixed": "nonrobust", "panel": "cluster"}[
            model
        ]
    if cov == "cluster" and model == "ols" and not cluster:
        raise LinkError("cov='cluster' needs cluster= (a column)")
    if model == "mixed" and cov != "nonrobust":
        raise LinkError("MixedLM gives model-based standard errors only (cov='nonrobust')")

    used = formula_columns(formula, frame.columns)
    if re_formula:
        used += [c for c in formula_columns(re_formula, frame.columns) if c not in used]
    for extra in (cluster, weights):
        if extra and extra not in used:
            used.append(extra)
    if model == "mixed":
        used += [c for c in [groups] if c not in used]
        for expr in (vc or {}).values():
            used += [c for c in formula_columns(expr, frame.columns) if c not in used]
    if model == "panel":
        used += [c for c in (entity, time) if c not in used]
    outcome_name = formula.split("~", 1)[0].strip()
    if outcome_name not in frame.columns:
        raise LinkError(f"outcome {outcome_name!r} is not a column of the data")
    rows, dropped = _complete_rows(frame, used)
    if standardize:
        skip = {c for c in (cluster, groups, entity, time, weights) if c}
        rows = _standardize(rows, formula_columns(formula, rows.columns), skip)
    if len(rows) == 0:
        raise LinkError("no complete rows left for the model")

    import patsy

    try:
        if model == "ols":
            result = _fit_ols(rows, formula, cov, cluster, weights, conf_level)
        elif model == "mixed":
            result = _fit_mixed(rows, formula, groups, re_formula, vc, reml, conf_level)
        else:
            result = _fit_panel(
                rows, formula, entity, time, time_effects, cov, cluster, weights, conf_level
            )
    except patsy.PatsyError as exc:
        raise LinkError(f"cannot build the model {formula!r}: {exc}") from exc
    result.dropped = dropped
    result.n_input = len(frame)
    result.stats["n_dropped"] = len(frame) - len(rows)
    return result


def _fit_ols(rows, formula, cov, cluster, weights, conf_level) -> LinkResult:
    import statsmodels.formula.api as smf

    if weights:
        mod = smf.wls(formula, data=rows, weights=rows[weights].astype(float))
    else:
        mod = smf.ols(formula, data=rows)
    if cov == "cluster":
        codes = pd.factorize(rows[cluster])[0]
        fit = mod.fit(cov_type="cluster", cov_kwds={"groups": codes}, use_t=True)
        df = float(len(np.unique(codes)) - 1)
        n_groups = len(np.unique(codes))
    elif cov == "HC1":
        fit = mod.fit(cov_type="HC1", use_t=True)
        df = float(fit.df_resid)
        n_groups = None
    else:
        fit = mod.fit()
        df = float(fit.df_resid)
        n_groups = None
    crit = _critical(conf_level, df)
    table = _table(fit.params, fit.bse, fit.tvalues, fit.pvalues, crit)
    # statsmodels' cluster p-values use df_resid; recompute with G − 1 like Stata
    if cov == "cluster":
        table["p_value"] = 2 * stats.t.sf(np.abs(table["statistic"]), df)
    glance = {
        "model": "ols",
        "cov": cov,
        "n_obs": int(fit.nobs),
        "n_groups": n_groups,
        "r_squared": float(fit.rsquared),
        "adj_r_squared": float(fit.rsquared_adj),
        "aic": float(fit.aic),
        "bic": float(fit.bic),
        "group_var": np.nan,
        "residual_var": float(fit.scale),
    }
    vcov = pd.DataFrame(fit.cov_params(), index=fit.params.index, columns=fit.params.index)
    return LinkResult("ols", formula, cov, table, glance, pd.DataFrame(), len(rows), fit, rows,
                      vcov, conf_level, df)  # fmt: skip


def _fit_mixed(rows, formula, groups, re_formula, vc, reml, conf_level) -> LinkResult:
    import warnings

    import statsmodels.formula.api as smf
    from statsmodels.tools.sm_exceptions import ConvergenceWarning

    mod = smf.mixedlm(formula, data=rows, groups=rows[groups], re_formula=re_formula,
                      vc_formula=vc)  # fmt: skip
    # statsmodels' default optimiser first; others only if it does not converge
    # (random-slope likelihoods can be flat, and a failed optimiser may report a fit).
    best, converged = None, False
    for method in ("bfgs", "lbfgs", "powell", "nm"):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                candidate = mod.fit(reml=reml, method=method)
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
    if best is None:
        raise LinkError(f"the mixed model {formula!r} could not be fitted")
    fit = best
    fe = fit.fe_params
    gls_cov = _gls_fixed_cov(fit) if not vc else None
    bse = (
        pd.Series(np.sqrt(np.diag(gls_cov)), index=fe.index) if gls_cov is not None else fit.bse_fe
    )
    z = fe / bse
    p = 2 * stats.norm.sf(np.abs(z))
    crit = _critical(conf_level, None)
    table = _table(fe, bse, z, pd.Series(p, index=fe.index), crit)
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
    names = list(fe.index)
    if gls_cov is not None:
        vcov = pd.DataFrame(gls_cov, index=names, columns=names)
    else:
        vcov = pd.DataFrame(fit.cov_params().loc[names, names])
    return LinkResult("mixed", formula, "nonrobust", table, glance, pd.DataFrame(), len(rows),
                      fit, rows, vcov, conf_level, None)  # fmt: skip


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


def _fit_panel(rows, formula, entity, time, time_effects, cov, cluster, weights, conf_level):
    from linearmodels.panel import PanelOLS

    indexed = rows.copy()
    indexed[time] = pd.to_numeric(indexed[time])
    indexed = indexed.set_index([entity, time])
    effects = " + EntityEffects" + (" + TimeEffects" if time_effects else "")
    full = formula + effects
    mod = PanelOLS.from_formula(full, data=indexed, weights=indexed[weights] if weights else None,
                                drop_absorbed=True)  # fmt: skip
    if cov == "cluster":
        if cluster and cluster != entity:
            fit = mod.fit(cov_type="clustered", clusters=indexed[[cluster]])
            n_clusters = indexed[cluster].nunique()
        else:
            fit = mod.fit(cov_type="clustered", cluster_entity=True)
            n_clusters = indexed.index.get_level_values(0).nunique()
        df = float(n_clusters - 1)
    elif cov == "HC1":
        fit = mod.fit(cov_type="robust")
        df = float(fit.df_resid)
    else:
        fit = mod.fit(cov_type="unadjusted")
        df = float(fit.df_resid)
    crit = _critical(conf_level, df)
    stat = fit.params / fit.std_errors
    pvalues = pd.Series(2 * stats.t.sf(np.abs(stat), df), index=fit.params.index)
    table = _table(fit.params, fit.std_errors, stat, pvalues, crit)
    glance = {
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
    vcov = pd.DataFrame(fit.cov, index=fit.params.index, columns=fit.params.index)
    return LinkResult("panel", full, cov, table, glance, pd.DataFrame(), len(rows), fit, rows,
                      vcov, conf_level, df)  # fmt: skip


# --------------------------------------------------------------------------
# Interaction: marginal effect of infrastructure at levels of training


def _interaction_term(result: LinkResult, focal: str, moderator: str) -> str:
    for name in (f"{focal}:{moderator}", f"{moderator}:{focal}"):
        if name in result.table["term"].values:
            return name
    raise LinkError(f"the model has no {focal} × {moderator} interaction term")


def marginal_effects(
    result: LinkResult,
    *,
    focal: str,
    moderator: str,
    at: list[float] | np.ndarray | None = None,
    conf_level: float | None = None,
) -> pd.DataFrame:
    """Effect of ``focal`` at chosen values of ``moderator``: b_f + b_fm × m, with its interval.

    The variance is Var(b_f) + m² Var(b_fm) + 2m Cov(b_f, b_fm) from the fit's
    covariance (robust or clustered when the fit was).
    """
    inter = _interaction_term(result, focal, moderator)
    if at is None:
        values = result.data[moderator].astype(float)
        at = np.round(np.quantile(values, [0.1, 0.25, 0.5, 0.75, 0.9]), 4)
    at = np.asarray(at, dtype=float)
    b = result.table.set_index("term")["estimate"]
    v = result.vcov()
    est = b[focal] + b[inter] * at
    var = v.loc[focal, focal] + at**2 * v.loc[inter, inter] + 2 * at * v.loc[focal, inter]
    se = np.sqrt(var)
    level = conf_level or result.conf_level
    crit = _critical(level, result.df)
    stat = est / se
    p = 2 * (stats.t.sf(np.abs(stat), result.df) if result.df else stats.norm.sf(np.abs(stat)))
    return pd.DataFrame(
        {
            "focal": focal,
            "moderator": moderator,
            "at": at,
            "estimate": est,
            "std_error": se,
            "statistic": stat,
            "p_value": p,
            "conf_low": est - crit * se,
            "conf_high": est + crit * se,
        }
    )


# --------------------------------------------------------------------------
# Mediation: infrastructure → use → outcome


@dataclass
class MediationResult:
    table: pd.DataFrame
    n_obs: int
    n_boot: int
    draws: pd.DataFrame = field(repr=False)

    def tidy(self) -> pd.DataFrame:
        return self.table.copy()


def mediation(
    data,
    *,
    exposure: str,
    mediator: str,
    outcome: str,
    covariates: str = "",
    cluster: str | None = None,
    n_boot: int = 500,
    seed: int = 0,
    conf_level: float = 0.95,
) -> MediationResult:
    """Indirect (a × b), direct (c′) and total effects with bootstrap percentile intervals.

    Two linear models: ``mediator ~ exposure + covariates`` (a) and
    ``outcome ~ mediator + exposure + covariates`` (b, c′). With ``cluster``
    the bootstrap resamples whole clusters (schools), keeping their years
    together. If the covariates interact with the exposure, the effects are
    those at the interacting variables' zero.
    """
    import patsy

    frame = getattr(data, "data", data)
    rhs = " + ".join(x for x in (exposure, covariates) if x)
    used = formula_columns(f"{outcome} ~ {mediator} + {rhs}", frame.columns)
    if cluster and cluster not in used:
        used.append(cluster)
    rows, _ = _complete_rows(frame, used)
    ya, xa = patsy.dmatrices(f"{mediator} ~ {rhs}", rows, return_type="dataframe")
    yb, xb = patsy.dmatrices(f"{outcome} ~ {mediator} + {rhs}", rows, return_type="dataframe")
    ia = list(xa.columns).index(exposure)
    ib_med, ib_exp = list(xb.columns).index(mediator), list(xb.columns).index(exposure)
    ya, xa, yb, xb = (m.to_numpy(dtype=float) for m in (ya, xa, yb, xb))

    def effects(index: np.ndarray) -> tuple[float, float, float]:
        a = np.linalg.lstsq(xa[index], ya[index, 0], rcond=None)[0][ia]
        coef = np.linalg.lstsq(xb[index], yb[index, 0], rcond=None)[0]
        b, direct = coef[ib_med], coef[ib_exp]
        return a * b, direct, a * b + direct

    point = effects(np.arange(len(rows)))
    rng = np.random.default_rng(seed)
    if cluster:
        codes, uniques = pd.factorize(rows[cluster])
        members = [np.flatnonzero(codes == k) for k in range(len(uniques))]
    draws = np.empty((n_boot, 3))
    for k in range(n_boot):
        if cluster:
            picked = rng.integers(0, len(members), len(members))
            index = np.concatenate([members[j] for j in picked])
        else:
            index = rng.integers(0, len(rows), len(rows))
        draws[k] = effects(index)
    alpha = 1 - conf_level
    low, high = np.quantile(draws, [alpha / 2, 1 - alpha / 2], axis=0)
    sd = draws.std(axis=0, ddof=1)
    names = ["indirect", "direct", "total"]
    table = pd.DataFrame(
        {
            "term": names,
            "estimate": point,
            "std_error": sd,
            "statistic": np.array(point) / sd,
            "p_value": [
                min(1.0, 2 * min((draws[:, i] <= 0).mean(), (draws[:, i] >= 0).mean()))
                for i in range(3)
            ],
            "conf_low": low,
            "conf_high": high,
        }
    )
    share = draws[:, 0] / draws[:, 2]
    table.loc[len(table)] = {
        "term": "proportion_mediated",
        "estimate": point[0] / point[2] if point[2] else np.nan,
        "std_error": np.nanstd(share, ddof=1),
        "statistic": np.nan,
        "p_value": np.nan,
        "conf_low": np.nanquantile(share, alpha / 2),
        "conf_high": np.nanquantile(share, 1 - alpha / 2),
    }
    return MediationResult(table, len(rows), n_boot, pd.DataFrame(draws, columns=names))


# --------------------------------------------------------------------------
# Many tests, diagnostics


def adjust_pvalues(
    table: pd.DataFrame, method: str = "holm", column: str = "p_value"
) -> pd.DataFrame:
    """Add ``p_adjusted`` (Holm or Benjamini–Hochberg) over the rows of ``table``."""
    from statsmodels.stats.multitest import multipletests

    methods = {"holm": "holm", "bh": "fdr_bh", "fdr_bh": "fdr_bh", "benjamini-hochberg": "fdr_bh"}
    if method not in methods:
        raise LinkError(f"method {method!r}; expected holm or bh")
    out = table.copy()
    ok = out[column].notna()
    out["p_adjusted"] = np.nan
    if ok.any():
        out.loc[ok, "p_adjusted"] = multipletests(out.loc[ok, column], method=methods[method])[1]
    out["adjustment"] = methods[method]
    return out


def screen(
    data,
    *,
    outcome: str,
    predictors: list[str],
    controls: str = "",
    method: str = "holm",
    **kwargs,
) -> pd.DataFrame:
    """One model per predictor (``outcome ~ predictor + controls``), p-values adjusted."""
    rows = []
    for predictor in predictors:
        formula = f"{outcome} ~ {predictor}" + (f" + {controls}" if controls else "")
        res = estimate(data, formula, **kwargs)
        row = res.table.set_index("term").loc[predictor].to_dict()
        rows.append({"term": predictor, **row, "n_obs": res.stats["n_obs"]})
    table = pd.DataFrame(rows)[[*TIDY_COLUMNS, "n_obs"]]
    return adjust_pvalues(table, method)


def vif(result: LinkResult) -> pd.DataFrame:
    """Variance inflation factors of the fixed-effect regressors (intercept left out)."""
    import patsy
    from statsmodels.stats.outliers_influence import variance_inflation_factor

    rhs = result.formula.split("~", 1)[1]
    rhs = re.sub(r"\+\s*(EntityEffects|TimeEffects)", "", rhs)
    X = patsy.dmatrix(rhs, result.data, return_type="dataframe")
    names = [c for c in X.columns if c != "Intercept"]
    values = X.to_numpy(dtype=float)
    out = []
    for i, name in enumerate(X.columns):
        if name == "Intercept":
            continue
        out.append({"term": name, "vif": float(variance_inflation_factor(values, i))})
    return pd.DataFrame(out, columns=["term", "vif"]).set_index("term").loc[names].reset_index()


def influence(result: LinkResult) -> pd.DataFrame:
    """OLS diagnostics per row: fitted, residual, studentised residual, leverage, Cook's D."""
    if result.model != "ols":
        raise LinkError("influence measures are for OLS fits")
    infl = result.fit.get_influence()
    frame = pd.DataFrame(
        {
            "fitted": result.fit.fittedvalues.to_numpy(),
            "residual": result.fit.resid.to_numpy(),
            "student_resid": infl.resid_studentized_internal,
            "leverage": infl.hat_matrix_diag,
            "cooks_d": infl.cooks_distance[0],
        },
        index=result.data.index,
    )
    return frame


# --------------------------------------------------------------------------
# For notebooks: a model from a spec and readable term labels


def from_spec(
    data,
    *,
    outcome: str | None = None,
    years: list[int] | None = None,
    model: str = "ols",
    group: str | None = None,
    **kwargs,
) -> LinkResult:
    """Fit the spec's role formula; ``group`` clusters (OLS) or groups (mixed) the rows.

    By default a panel clusters (or groups) on its unit, since a unit's years are
    correlated, and a cross-section on its first group (pupils within schools).

    A panel model on a dataset without a time column falls back to OLS with
    cluster-robust errors (recorded in ``glance()['fallback']``).
    """
    spec = data.spec
    frame = data.data
    if years is not None and spec.time:
        frame = frame[frame[spec.time].isin(years)]
    first_group = spec.groups[0] if spec.groups else None
    fallback = ""
    if model == "panel" and not spec.time:
        model, fallback = "ols", "panel needs a time column; OLS used instead"
    if model == "ols" and "cov" not in kwargs:
        # repeated years of a unit are correlated: cluster on the unit; a cross-section
        # clusters on its first group (pupils within schools), if any
        cluster = group or (spec.unit if spec.time else first_group)
        if cluster:
            kwargs.setdefault("cluster", cluster)
    if model == "mixed":
        kwargs.setdefault("groups", group or (spec.unit if spec.time else first_group) or spec.unit)
    result = estimate(frame, spec=spec, outcome=outcome, model=model, **kwargs)
    result.stats["fallback"] = fallback
    return result


def interaction_pair(result: LinkResult, spec) -> tuple[str, str] | None:
    """The (infrastructure, training) pair when the model has their interaction."""
    infra = spec.roles.get("infrastructure", [])[:1]
    training = spec.roles.get("training", [])[:1]
    if infra and training:
        terms = set(result.table["term"])
        if {f"{infra[0]}:{training[0]}", f"{training[0]}:{infra[0]}"} & terms:
            return infra[0], training[0]
    return None


def term_labels(terms, spec, lang: str = "vi") -> dict[str, str]:
    """Readable labels for model terms (``C(x)[T.v]`` → ``x: v``, ``a:b`` → ``a × b``)."""
    out = {}
    for term in terms:
        parts = []
        for piece in str(term).split(":"):
            match = re.fullmatch(r"C\((\w+)\)\[T\.(.+)\]", piece) or re.fullmatch(
                r"(\w+)\[T\.(.+)\]", piece
            )
            if match:
                parts.append(f"{spec.label(match.group(1), lang)}: {match.group(2)}")
            elif piece == "Intercept":
                parts.append(i18n.label("terms", "intercept", lang))
            else:
                parts.append(spec.label(piece, lang) if spec else piece)
        out[term] = " × ".join(parts)
    return out
