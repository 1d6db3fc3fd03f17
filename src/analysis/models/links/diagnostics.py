"""Many tests and model checks: adjusted p-values, one-predictor screens, VIF, influence."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import patsy
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.outliers_influence import variance_inflation_factor

from analysis.models.links.fit import estimate
from analysis.models.links.result import TIDY_COLUMNS, LinkError, LinkResult

_ADJUSTMENTS = {"holm": "holm", "bh": "fdr_bh", "fdr_bh": "fdr_bh",
                "benjamini-hochberg": "fdr_bh"}  # fmt: skip


def adjust_pvalues(
    table: pd.DataFrame, method: str = "holm", column: str = "p_value"
) -> pd.DataFrame:
    """Add ``p_adjusted`` (Holm or Benjamini–Hochberg) over the rows of ``table``.

    Parameters
    ----------
    table
        One row per test.
    method
        ``"holm"`` (family-wise error) or ``"bh"`` / ``"fdr_bh"`` /
        ``"benjamini-hochberg"`` (false discovery rate).
    column
        The column of unadjusted p-values; missing ones stay missing.

    Returns
    -------
    pandas.DataFrame
        A copy with ``p_adjusted`` and ``adjustment`` (the statsmodels method name).

    Raises
    ------
    LinkError
        If the method is not one of those.

    Example
    -------
    >>> t = pd.DataFrame({"term": ["a", "b"], "p_value": [0.01, 0.04]})
    >>> adjust_pvalues(t, "holm")["p_adjusted"].tolist()
    [0.02, 0.04]
    """
    if method not in _ADJUSTMENTS:
        raise LinkError(f"method {method!r}; expected holm or bh")
    out = table.copy()
    ok = out[column].notna()
    out["p_adjusted"] = np.nan
    if ok.any():
        adjusted = multipletests(out.loc[ok, column], method=_ADJUSTMENTS[method])[1]
        out.loc[ok, "p_adjusted"] = adjusted
    out["adjustment"] = _ADJUSTMENTS[method]
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
    """One model per predictor (``outcome ~ predictor + controls``), p-values adjusted.

    Parameters
    ----------
    data
        A DataFrame or a :class:`~analysis.data.datasets.Dataset`.
    outcome
        The outcome column.
    predictors
        Columns screened one at a time.
    controls
        Right-hand side terms in every model, e.g. ``"ses + C(year)"``.
    method
        The p-value adjustment over the predictors (see :func:`adjust_pvalues`).
    **kwargs
        Passed to :func:`~analysis.models.links.estimate` (``cluster=``, ``model=``, …).

    Returns
    -------
    pandas.DataFrame
        One row per predictor: :data:`TIDY_COLUMNS`, n_obs, p_adjusted, adjustment.

    Raises
    ------
    LinkError
        If a model cannot be fitted or the method is unknown.
    """
    rows = []
    for predictor in predictors:
        formula = f"{outcome} ~ {predictor}" + (f" + {controls}" if controls else "")
        res = estimate(data, formula, **kwargs)
        row = res.table.set_index("term").loc[predictor].to_dict()
        rows.append({"term": predictor, **row, "n_obs": res.stats["n_obs"]})
    table = pd.DataFrame(rows)[[*TIDY_COLUMNS, "n_obs"]]
    return adjust_pvalues(table, method)


def vif(result: LinkResult) -> pd.DataFrame:
    """Variance inflation factors of the fixed-effect regressors (intercept left out).

    Parameters
    ----------
    result
        Any fit; a panel's entity and time effects are left out of the design.

    Returns
    -------
    pandas.DataFrame
        Columns term, vif; one row per regressor, in design order.
    """
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
    """OLS diagnostics per row: fitted, residual, studentised residual, leverage, Cook's D.

    Parameters
    ----------
    result
        An OLS fit.

    Returns
    -------
    pandas.DataFrame
        Indexed like the model's rows: fitted, residual, student_resid,
        leverage, cooks_d.

    Raises
    ------
    LinkError
        If the fit is not OLS.
    """
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
