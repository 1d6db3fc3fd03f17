"""The one result shape of every link model, and the error every step raises.

:class:`LinkResult` is what :func:`~analysis.models.links.estimate` returns for
OLS, mixed and panel fits alike; :class:`Inference` is what each model kind's
covariance step hands to :func:`tidy_table` to build the coefficient table.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from analysis.models import fewcluster
from analysis.models.cr2 import CR2
from analysis.models.fewcluster import Design

TIDY_COLUMNS = ["term", "estimate", "std_error", "statistic", "p_value", "conf_low", "conf_high"]
MODELS = ("ols", "mixed", "panel")
COVS = ("nonrobust", "HC1", "cluster")


class LinkError(ValueError):
    """A model cannot be specified or fitted as asked."""


class Wild:
    """Few-cluster inference by the restricted wild cluster bootstrap (Webb weights).

    Kept for comparison (``few_clusters="wild"``); on the link models it covered
    less than CR2 under district × year shocks (see :mod:`analysis.models.cr2`).
    """

    method = "wild"

    def __init__(self, design: Design) -> None:
        self.design = design

    def row(self, c: np.ndarray, level: float = 0.95) -> dict:
        """p-value and interval of ``c'β`` by test inversion."""
        return fewcluster.wild_interval(self.design, c, level)


class Bell:
    """Few-cluster inference by CR2 errors on t(Bell–McCaffrey degrees of freedom)."""

    method = "cr2"

    def __init__(self, design: Design) -> None:
        self.design = design
        self.cr2 = CR2(design)

    def row(self, c: np.ndarray, level: float = 0.95) -> dict:
        """CR2 standard error, p-value and interval of ``c'β`` on t(df_BM)."""
        return self.cr2.row(c, level)

    def vcov(self) -> np.ndarray:
        """The CR2 covariance."""
        return self.cr2.vcov


FEW_METHODS = {"cr2": Bell, "wild": Wild}


@dataclass
class Inference:
    """Coefficients and their uncertainty, as one model kind's covariance step computed them.

    ``df`` is the degrees of freedom of the t reference distribution (``None``:
    normal); ``n_clusters`` the number of clusters when the errors are clustered.
    """

    fit: Any
    params: pd.Series
    std_error: pd.Series
    statistic: pd.Series
    p_value: pd.Series
    vcov: pd.DataFrame
    df: float | None
    n_clusters: int | None = None
    few: Wild | Bell | None = None  # set when intervals come from a few-cluster method


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
    few: Wild | Bell | None = field(default=None, repr=False)  # few clusters: their method
    left_out: list[str] = field(default_factory=list)  # role columns without values (from_spec)
    problems: list = field(default_factory=list)  # identification problems (identification.check)

    def tidy(self, conf_level: float | None = None) -> pd.DataFrame:
        """The coefficient table, one row per term.

        Parameters
        ----------
        conf_level
            Level of ``conf_low``/``conf_high``; ``None`` (default) keeps the
            level the model was fitted with.

        Returns
        -------
        pandas.DataFrame
            Columns :data:`TIDY_COLUMNS`: term, estimate, std_error, statistic,
            p_value, conf_low, conf_high.

        Example
        -------
        >>> result.tidy(conf_level=0.9)  # doctest: +SKIP
        """
        if conf_level is None or conf_level == self.conf_level:
            return self.table.copy()
        if self.few is not None:
            return few_table(self.few, self.table, conf_level)
        crit = critical(conf_level, self.df)
        out = self.table.copy()
        out["conf_low"] = out["estimate"] - crit * out["std_error"]
        out["conf_high"] = out["estimate"] + crit * out["std_error"]
        return out

    def glance(self) -> pd.DataFrame:
        """The model's summary in one row.

        Returns
        -------
        pandas.DataFrame
            One row: model, cov, n_obs, n_groups, r_squared, adj_r_squared,
            aic, bic, group_var, residual_var, n_dropped, and what the model
            kind adds (log_likelihood, slope and variance-component variances,
            n_periods, …).
        """
        return pd.DataFrame([self.stats])

    def vcov(self) -> pd.DataFrame:
        """The covariance matrix of the coefficients, labelled by term.

        Returns
        -------
        pandas.DataFrame
            A copy; robust or clustered when the fit was.
        """
        return self.vcov_matrix.copy()

    def __repr__(self) -> str:
        return (
            f"LinkResult({self.model}, cov={self.cov}, n={self.stats.get('n_obs')}): {self.formula}"
        )


def critical(conf_level: float, df: float | None) -> float:
    """The two-sided critical value of a ``conf_level`` interval.

    Parameters
    ----------
    conf_level
        Interval level, e.g. 0.95.
    df
        Degrees of freedom of the t distribution; ``None`` (or 0) uses the normal.

    Returns
    -------
    float
        The ``1 - (1 - conf_level) / 2`` quantile.

    Example
    -------
    >>> round(critical(0.95, None), 2)
    1.96
    """
    alpha = 1 - conf_level
    return float(stats.t.ppf(1 - alpha / 2, df) if df else stats.norm.ppf(1 - alpha / 2))


def few_table(few: Wild | Bell, table: pd.DataFrame, conf_level: float) -> pd.DataFrame:
    """``table`` with p-values and intervals from a few-cluster method, one term at a time.

    With CR2 the standard error and statistic are CR2's too. The wild bootstrap
    keeps the analytic CRV1 standard error and statistic of ``table`` (the
    bootstrap does not depend on the small-sample factor of the standard
    error, which differs between conventions) and replaces ``p_value``,
    ``conf_low`` and ``conf_high`` (:mod:`analysis.models.fewcluster`).
    """
    out = table.copy()
    keys = ["p_value", "conf_low", "conf_high"]
    if few.method == "cr2":
        keys += ["std_error", "statistic"]
    for j in range(len(out)):
        c = np.zeros(few.design.k)
        c[j] = 1.0
        row = few.row(c, conf_level)
        for key in keys:
            out.loc[out.index[j], key] = row[key]
    return out[TIDY_COLUMNS]


def few_inference(method: str, design: Design, inference: Inference) -> None:
    """Set ``inference`` to use the few-cluster ``method`` ("cr2" or "wild") on ``design``."""
    inference.few = FEW_METHODS[method](design)
    if method == "cr2":  # the table's errors and the covariance other steps use are CR2's
        k = len(inference.params)
        index = inference.vcov.index
        inference.vcov = pd.DataFrame(inference.few.vcov()[:k, :k], index=index, columns=index)


def inference_method(cov: str, inference: Inference) -> str:
    """How the p-values and intervals were computed, in the words ``glance()`` reports."""
    n = inference.n_clusters
    if inference.few is not None and inference.few.method == "cr2":
        return f"cluster-robust CR2, t(Bell-McCaffrey df), {n} clusters"
    if inference.few is not None:
        return f"wild cluster bootstrap (restricted, Webb weights), {n} clusters"
    if cov == "cluster":
        return f"cluster-robust (CRV1), t({inference.n_clusters} - 1)"
    return {"HC1": "heteroskedasticity-robust (HC1)", "nonrobust": "classical"}.get(cov, cov)


def few_clusters(n_clusters: int | None) -> bool:
    """Whether a clustered fit has too few clusters for CRV1 with t(G − 1)."""
    return n_clusters is not None and n_clusters < fewcluster.FEW_CLUSTERS


def tidy_table(inference: Inference, conf_level: float) -> pd.DataFrame:
    """The coefficient table of a fit, with intervals at ``conf_level``.

    Parameters
    ----------
    inference
        Coefficients, standard errors, statistics, p-values and the degrees of
        freedom of the reference distribution.
    conf_level
        Level of ``conf_low``/``conf_high``.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`TIDY_COLUMNS`.
    """
    crit = critical(conf_level, inference.df)
    table = pd.DataFrame(
        {
            "term": inference.params.index.astype(str),
            "estimate": inference.params.to_numpy(dtype=float),
            "std_error": inference.std_error.to_numpy(dtype=float),
            "statistic": inference.statistic.to_numpy(dtype=float),
            "p_value": inference.p_value.to_numpy(dtype=float),
        }
    )
    table["conf_low"] = table["estimate"] - crit * table["std_error"]
    table["conf_high"] = table["estimate"] + crit * table["std_error"]
    if inference.few is not None:
        return few_table(inference.few, table, conf_level)
    return table[TIDY_COLUMNS]
