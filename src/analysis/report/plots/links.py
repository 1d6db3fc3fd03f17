"""Figures of a link analysis: coefficients, marginal effects, residuals, influence."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from scipy import stats

from analysis.core import i18n
from analysis.report.plots.base import _label


def coefficients(
    table: pd.DataFrame,
    *,
    terms: list[str] | None = None,
    labels: dict[str, str] | None = None,
    lang: str = "vi",
    ax=None,
):
    """Forest plot of a tidy table (estimate with conf_low–conf_high).

    Parameters
    ----------
    table
        A tidy coefficient table (``result.tidy()`` of :func:`analysis.links.estimate`):
        ``term``, ``estimate``, ``conf_low``, ``conf_high``. ``Intercept`` is left out.
    terms
        Terms to show (default all), drawn top to bottom in table order.
    labels
        Term → label for the axis; other terms show as they are.
    lang
        Language of the axis and title labels and of the numbers.
    ax : matplotlib.axes.Axes, optional
        Draw into this Axes; default a new figure.

    Returns
    -------
    matplotlib.axes.Axes
        The Axes drawn on (seaborn's convention: pass ``ax`` to draw into a
        figure of your own, style it further with the returned Axes).

    Example
    -------
    >>> table = result.tidy()  # doctest: +SKIP
    >>> ax = plots.coefficients(table, terms=focus, labels=labels, lang=lang)  # doctest: +SKIP
    """
    data = table if terms is None else table[table["term"].isin(terms)]
    data = data[data["term"] != "Intercept"].iloc[::-1]
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 0.45 * len(data) + 1.5))
    names = [(labels or {}).get(t, t) for t in data["term"]]
    y = np.arange(len(data))
    ax.errorbar(
        data["estimate"], y,
        xerr=[data["estimate"] - data["conf_low"], data["conf_high"] - data["estimate"]],
        fmt="o", color="#2c7fb8", ecolor="#2c7fb8", capsize=3,
    )  # fmt: skip
    ax.axvline(0, color="#666666", linestyle="--", linewidth=1, label=_label("zero", lang))
    ax.set_yticks(y, names)
    ax.set_xlabel(_label("estimate", lang))
    ax.set_title(_label("coefficients_title", lang))
    i18n.axis(ax, lang, which="x")
    return ax


def marginal_effects(effects: pd.DataFrame, *, lang: str = "vi", ax=None):
    """The effect of infrastructure across training levels, with its interval band.

    Parameters
    ----------
    effects
        :func:`analysis.links.marginal_effects` output: ``at`` (the moderator's
        value), ``estimate``, ``conf_low``, ``conf_high``.
    lang
        Language of the labels and numbers.
    ax : matplotlib.axes.Axes, optional
        Draw into this Axes; default a new figure.

    Returns
    -------
    matplotlib.axes.Axes
        The Axes drawn on (seaborn's convention: pass ``ax`` to draw into a
        figure of your own, style it further with the returned Axes).
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4.2))
    ax.plot(effects["at"], effects["estimate"], marker="o", color="#2c7fb8")
    ax.fill_between(effects["at"], effects["conf_low"], effects["conf_high"], alpha=0.25,
                    color="#2c7fb8")  # fmt: skip
    ax.axhline(0, color="#666666", linestyle="--", linewidth=1)
    ax.set_xlabel(_label("at_training", lang))
    ax.set_ylabel(_label("marginal_effect", lang))
    ax.set_title(_label("interaction_title", lang))
    i18n.axis(ax, lang)
    return ax


def residuals(result, *, lang: str = "vi"):
    """Residuals against fitted values, and a normal Q–Q plot.

    Parameters
    ----------
    result
        A fitted link (:func:`analysis.links.estimate`) whose ``fit`` has
        ``fittedvalues`` and ``resid``.
    lang
        Language of the labels and numbers.

    Returns
    -------
    matplotlib.figure.Figure
        A new figure with two Axes (residuals, Q–Q), as seaborn's figure-level
        functions return theirs.
    """
    fitted = np.asarray(result.fit.fittedvalues, dtype=float)
    resid = np.asarray(result.fit.resid, dtype=float)
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    left.scatter(fitted, resid, s=8, alpha=0.5, color="#2c7fb8")
    left.axhline(0, color="#666666", linestyle="--", linewidth=1)
    left.set_xlabel(_label("fitted", lang))
    left.set_ylabel(_label("residual", lang))
    left.set_title(_label("residuals_title", lang))
    (osm, osr), (slope, intercept, _) = stats.probplot(resid, dist="norm")
    right.scatter(osm, osr, s=8, alpha=0.5, color="#2c7fb8")
    right.plot(osm, slope * np.asarray(osm) + intercept, color="#d73027")
    right.set_xlabel(_label("theoretical_quantiles", lang))
    right.set_ylabel(_label("sample_quantiles", lang))
    right.set_title(_label("qq_title", lang))
    for ax in (left, right):
        i18n.axis(ax, lang)
    fig.tight_layout()
    return fig


def influence(frame: pd.DataFrame, *, lang: str = "vi", ax=None):
    """Leverage against studentised residuals, point size by Cook's distance.

    Parameters
    ----------
    frame
        :func:`analysis.links.influence` output: ``leverage``, ``student_resid``,
        ``cooks_d``.
    lang
        Language of the labels and numbers.
    ax : matplotlib.axes.Axes, optional
        Draw into this Axes; default a new figure.

    Returns
    -------
    matplotlib.axes.Axes
        The Axes drawn on (seaborn's convention: pass ``ax`` to draw into a
        figure of your own, style it further with the returned Axes).
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4.5))
    size = 10 + 400 * frame["cooks_d"] / max(frame["cooks_d"].max(), 1e-12)
    ax.scatter(frame["leverage"], frame["student_resid"], s=size, alpha=0.5, color="#2c7fb8")
    ax.axhline(0, color="#666666", linestyle="--", linewidth=1)
    ax.set_xlabel(_label("leverage", lang))
    ax.set_ylabel(_label("student_resid", lang))
    ax.set_title(_label("influence_title", lang))
    i18n.axis(ax, lang)
    return ax
