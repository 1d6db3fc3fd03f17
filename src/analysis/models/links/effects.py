"""Effects built from fitted links: interactions and mediation.

:func:`marginal_effects` gives the effect of infrastructure at levels of
training from a fit's coefficients and covariance; :func:`mediation` splits
infrastructure → use → outcome into indirect, direct and total effects with
bootstrap intervals.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import patsy
from scipy import stats

from analysis.models.links.prepare import complete_rows, formula_columns
from analysis.models.links.result import LinkError, LinkResult, critical

_MEDIATION_TERMS = ["indirect", "direct", "total"]

# --------------------------------------------------------------------------
# Interaction: marginal effect of infrastructure at levels of training


def _interaction_term(result: LinkResult, focal: str, moderator: str) -> str:
    """The name of the focal × moderator term in the fit, in either order."""
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

    Parameters
    ----------
    result
        A fit whose formula has the ``focal × moderator`` interaction.
    focal, moderator
        The two interacting columns.
    at
        Values of the moderator; default its 10th, 25th, 50th, 75th and 90th
        percentiles in the model's rows.
    conf_level
        Level of the intervals; default the fit's.

    Returns
    -------
    pandas.DataFrame
        One row per value: focal, moderator, at, estimate, std_error,
        statistic, p_value, conf_low, conf_high.

    Raises
    ------
    LinkError
        If the fit has no such interaction term.

    Example
    -------
    >>> marginal_effects(result, focal="infra", moderator="trained_share", at=[0, 1])
    ... # doctest: +SKIP
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
    crit = critical(level, result.df)
    stat = est / se
    p = 2 * (stats.t.sf(np.abs(stat), result.df) if result.df else stats.norm.sf(np.abs(stat)))
    low, high = est - crit * se, est + crit * se
    if result.few is not None:  # few clusters: each effect's interval from the fit's method
        terms = list(result.table["term"])
        rows = []
        for a in at:
            c = np.zeros(result.few.design.k)
            c[terms.index(focal)], c[terms.index(inter)] = 1.0, a
            rows.append(result.few.row(c, level))
        p = np.array([r["p_value"] for r in rows])
        low = np.array([r["conf_low"] for r in rows])
        high = np.array([r["conf_high"] for r in rows])
        if result.few.method == "cr2":
            se = np.array([r["std_error"] for r in rows])
            stat = est / se
    return pd.DataFrame(
        {
            "focal": focal,
            "moderator": moderator,
            "at": at,
            "estimate": est,
            "std_error": se,
            "statistic": stat,
            "p_value": p,
            "conf_low": low,
            "conf_high": high,
        }
    )


# --------------------------------------------------------------------------
# Mediation: infrastructure → use → outcome


@dataclass
class MediationResult:
    """Indirect, direct, total effects and the proportion mediated, with the bootstrap draws."""

    table: pd.DataFrame
    n_obs: int
    n_boot: int
    draws: pd.DataFrame = field(repr=False)

    def tidy(self) -> pd.DataFrame:
        """The effects table.

        Returns
        -------
        pandas.DataFrame
            Rows indirect, direct, total, proportion_mediated; columns as
            :data:`~analysis.models.links.TIDY_COLUMNS`.
        """
        return self.table.copy()


class _Paths:
    """The two regressions of a mediation as matrices, refitted on any resample of rows."""

    def __init__(self, rows: pd.DataFrame, exposure: str, mediator: str, outcome: str, rhs: str):
        ya, xa = patsy.dmatrices(f"{mediator} ~ {rhs}", rows, return_type="dataframe")
        yb, xb = patsy.dmatrices(f"{outcome} ~ {mediator} + {rhs}", rows, return_type="dataframe")
        self.ia = list(xa.columns).index(exposure)
        self.ib_med = list(xb.columns).index(mediator)
        self.ib_exp = list(xb.columns).index(exposure)
        self.ya, self.xa, self.yb, self.xb = (m.to_numpy(dtype=float) for m in (ya, xa, yb, xb))

    def effects(self, index: np.ndarray) -> tuple[float, float, float]:
        """(indirect a × b, direct c′, total) on the rows ``index``."""
        a = np.linalg.lstsq(self.xa[index], self.ya[index, 0], rcond=None)[0][self.ia]
        coef = np.linalg.lstsq(self.xb[index], self.yb[index, 0], rcond=None)[0]
        b, direct = coef[self.ib_med], coef[self.ib_exp]
        return a * b, direct, a * b + direct


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

    Parameters
    ----------
    data
        A DataFrame or a :class:`~analysis.data.datasets.Dataset`.
    exposure, mediator, outcome
        The three columns of the path exposure → mediator → outcome.
    covariates
        Right-hand side terms added to both models (patsy), e.g. ``"ses + C(year)"``.
    cluster
        Column whose clusters the bootstrap resamples whole; ``None``: rows.
    n_boot, seed
        Bootstrap replications and the seed of their generator.
    conf_level
        Level of the percentile intervals.

    Returns
    -------
    MediationResult
        ``tidy()``: indirect, direct, total and proportion_mediated; the
        p-values are the bootstrap's two-sided sign proportions.

    Example
    -------
    >>> mediation(frame, exposure="infra", mediator="use", outcome="score",
    ...           covariates="ses", cluster="school_id").tidy()  # doctest: +SKIP
    """
    frame = getattr(data, "data", data)
    rhs = " + ".join(x for x in (exposure, covariates) if x)
    used = formula_columns(f"{outcome} ~ {mediator} + {rhs}", frame.columns)
    if cluster and cluster not in used:
        used.append(cluster)
    rows, _ = complete_rows(frame, used)
    paths = _Paths(rows, exposure, mediator, outcome, rhs)
    point = paths.effects(np.arange(len(rows)))
    draws = _bootstrap(paths, rows, cluster, n_boot, seed)
    table = _mediation_table(point, draws, conf_level)
    return MediationResult(table, len(rows), n_boot, pd.DataFrame(draws, columns=_MEDIATION_TERMS))


def _bootstrap(
    paths: _Paths, rows: pd.DataFrame, cluster: str | None, n_boot: int, seed: int
) -> np.ndarray:
    """``n_boot`` × 3 draws of the effects, resampling rows or whole clusters."""
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
        draws[k] = paths.effects(index)
    return draws


def _mediation_table(point, draws: np.ndarray, conf_level: float) -> pd.DataFrame:
    """Point estimates with bootstrap SDs, sign p-values and percentile intervals."""
    alpha = 1 - conf_level
    low, high = np.quantile(draws, [alpha / 2, 1 - alpha / 2], axis=0)
    sd = draws.std(axis=0, ddof=1)
    table = pd.DataFrame(
        {
            "term": _MEDIATION_TERMS,
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
    return table
