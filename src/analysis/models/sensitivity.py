"""What a staggered design can detect, and how far its answer survives non-parallel trends.

:func:`minimum_detectable_effect`
    The smallest constant programme effect that the design at hand would
    detect with the given power at the given level, by simulation from the
    data: outcomes are redrawn from the fitted model with no effect, by the
    wild cluster bootstrap (whole districts' residuals flipped and scaled
    together, Webb weights), and each redraw is tested as the real data are
    (the restricted wild cluster bootstrap of :mod:`analysis.models.fewcluster`).
    A constant effect δ moves every interval by δ and leaves the residuals as
    they are, so the test rejects on a redraw exactly when δ exceeds minus the
    lower end of that redraw's interval: the MDE is that quantity's
    ``power`` quantile. No analytic formula (z₁₋α/2 + z_power) × SE is used,
    since with nine clusters the standard error itself is unreliable.
:func:`relative_magnitudes`
    A sensitivity analysis in the style of Rambachan & Roth (2023), the
    "relative magnitudes" restriction: after the programme starts, the
    violation of parallel trends may change from one period to the next by at
    most M̄ times the largest such change seen before it. The pre-period
    event-time estimates (one period apart) measure those changes; a post
    effect e periods in can then be biased by at most (e + 1)·M̄·Δ. The robust
    interval widens the wild-bootstrap interval by the largest bias the
    overall effect admits; the *breakdown* M̄ is where it first reaches zero.
    This is the plug-in version: Δ is the estimated largest pre-period change,
    not an upper confidence bound on it as in Rambachan & Roth's conditional
    tests, so it is less conservative than their method when pre-periods are
    few and noisy (here two or three). The ``honestdid`` Python package was
    tried: it needs PyTorch and cvxpy, takes about 50 s a call and failed on an
    averaged post-period effect, so it was not adopted.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.models import fewcluster
from analysis.models.fewcluster import Design
from analysis.models.staggered import Saturated


def minimum_detectable_effect(
    fit: Saturated,
    c: np.ndarray | None = None,
    *,
    power: float = 0.8,
    level: float = 0.95,
    sims: int = 200,
    draws: int = 999,
    seed: int = 4725,
) -> float:
    """The smallest constant effect on ``c'β`` (default: the overall ATT) detected with ``power``.

    Parameters
    ----------
    fit
        The saturated regression of :func:`analysis.models.staggered.saturated`.
    c
        Contrast; default the overall effect.
    power, level
        Power and confidence level of the test (two-sided, level 1 − α).
    sims
        Redraws of the outcome with no effect.
    draws
        Bootstrap draws of each redraw's test.
    seed
        Seed of the redraws.

    Returns
    -------
    float
        The MDE in outcome units (``inf`` if no effect could be detected).
    """
    c = fit.overall() if c is None else np.asarray(c, dtype=float)
    design = fit.design
    M = design.xtx_inv
    # fitted values with c'β = 0, plus the unrestricted residuals (the noise; the restricted
    # ones would carry the estimated effect itself into the redraws)
    kappa = float(c @ M @ c)
    beta0 = design.beta - M @ c * (c @ design.beta) / kappa
    fitted0 = design.X @ beta0
    resid0 = design.resid
    rng = np.random.default_rng(seed)
    lows = np.empty(sims)
    for s in range(sims):
        v = fewcluster.WEBB[rng.integers(0, 6, design.G)]
        redraw = Design(design.X, fitted0 + resid0 * v[design.codes], design.clusters)
        lows[s] = fewcluster.wild_interval(redraw, c, level, draws=draws, seed=seed + s)["conf_low"]
    return float(np.quantile(-lows, power))


def relative_magnitudes(
    fit: Saturated,
    overall: dict,
    pre: pd.DataFrame,
    mbar: tuple[float, ...] = (0.5, 1.0, 2.0),
) -> pd.DataFrame:
    """Robust intervals of the overall effect for several M̄, and the breakdown value.

    Parameters
    ----------
    fit
        The saturated regression (its post cells and their weights).
    overall
        The overall effect's row (``estimate``, ``conf_low``, ``conf_high``).
    pre
        Pre-period event-time estimates (one period apart), column ``estimate``.
    mbar
        The M̄ values to report.

    Returns
    -------
    pandas.DataFrame
        One row per M̄ (and one for the breakdown value): ``mbar``,
        ``max_bias``, ``conf_low``, ``conf_high``, ``includes_zero``,
        ``breakdown`` (True on the breakdown row). Empty without pre-periods.
    """
    if pre.empty:
        return pd.DataFrame(
            columns=["mbar", "max_bias", "conf_low", "conf_high", "includes_zero", "breakdown"]
        )
    delta = float(pre["estimate"].abs().max())
    weights = fit.post_weights()
    exposure = sum(w * (fit._event(g, t) + 1) for (g, t), w in weights.items())
    per_mbar = delta * exposure  # the largest bias of the overall effect per unit of M̄
    low, high = overall["conf_low"], overall["conf_high"]
    if low > 0:
        breakdown = low / per_mbar if per_mbar > 0 else np.inf
    elif high < 0:
        breakdown = -high / per_mbar if per_mbar > 0 else np.inf
    else:
        breakdown = 0.0
    rows = [(float(m), False) for m in mbar] + [(float(breakdown), True)]
    table = pd.DataFrame(
        [
            {
                "mbar": m,
                "max_bias": m * per_mbar,
                "conf_low": low - m * per_mbar,
                "conf_high": high + m * per_mbar,
                "breakdown": is_breakdown,
            }
            for m, is_breakdown in rows
        ]
    )
    table["includes_zero"] = (table["conf_low"] <= 0) & (table["conf_high"] >= 0)
    return table[["mbar", "max_bias", "conf_low", "conf_high", "includes_zero", "breakdown"]]
