"""Figures of a programme evaluation: the event study and propensity-score overlap."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from analysis.core import i18n


def event_study_plot(result, *, lang: str = "vi", ax=None):
    """Event-time effects with their 95% intervals; pre-periods left of the line.

    Parameters
    ----------
    result
        A staggered result (:func:`analysis.evaluation.staggered`):
        ``result.tidy("dynamic")`` has ``event_time``, ``estimate``, ``conf_low``,
        ``conf_high``.
    lang
        Language of the labels.
    ax : matplotlib.axes.Axes, optional
        Draw into this Axes; default a new figure.

    Returns
    -------
    matplotlib.axes.Axes
        The Axes drawn on (seaborn's convention: pass ``ax`` to draw into a
        figure of your own, style it further with the returned Axes).
    """
    table = result.tidy("dynamic")
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4))
    # an interval the bootstrap cannot bound on one side is drawn to the plot's edge with
    # an arrow there, instead of an infinite bar
    bounds = table[["estimate", "conf_low", "conf_high"]].to_numpy(dtype=float)
    finite = bounds[np.isfinite(bounds)]
    span = float(finite.max() - finite.min()) or 1.0
    edge_low, edge_high = finite.min() - 0.25 * span, finite.max() + 0.25 * span
    table = table.assign(low=table["conf_low"].clip(lower=edge_low),
                         high=table["conf_high"].clip(upper=edge_high))  # fmt: skip
    pre = table["event_time"] < 0
    for mask, colour in ((pre, "#999999"), (~pre, "#2c7fb8")):
        part = table[mask]
        ax.errorbar(
            part["event_time"],
            part["estimate"],
            yerr=[part["estimate"] - part["low"], part["high"] - part["estimate"]],
            fmt="o",
            color=colour,
            capsize=3,
        )
        for marker, side, edge in (("v", "conf_low", edge_low), ("^", "conf_high", edge_high)):
            open_end = part[~np.isfinite(part[side])]
            ax.scatter(open_end["event_time"], [edge] * len(open_end), marker=marker, color=colour)
    ax.axhline(0, color="#666666", linestyle="--", linewidth=1)
    ax.axvline(-0.5, color="#333333", linestyle=":", linewidth=1)
    ax.set_xlabel(i18n.label("evaluation", "event_time", lang))
    ax.set_ylabel(i18n.label("evaluation", "effect", lang))
    ax.set_title(i18n.label("evaluation", "event_study_title", lang))
    i18n.axis(ax, lang, which="y")  # the reader's decimal mark
    return ax


def overlap_plot(result, *, lang: str = "vi", labels: tuple[str, str] | None = None, ax=None):
    """Propensity-score distributions of treated and comparison units.

    Parameters
    ----------
    result
        A weighting result (:func:`analysis.evaluation.weighting`) with
        ``propensity`` (0–1) and ``treated`` (1 or 0) per unit.
    lang
        Language of the labels.
    labels
        The names of the treated and comparison groups (default "treated", "comparison").
    ax : matplotlib.axes.Axes, optional
        Draw into this Axes; default a new figure.

    Returns
    -------
    matplotlib.axes.Axes
        The Axes drawn on (seaborn's convention: pass ``ax`` to draw into a
        figure of your own, style it further with the returned Axes).
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4))
    bins = np.linspace(0, 1, 31)
    names = labels or tuple(i18n.label("evaluation", k, lang) for k in ("treated", "comparison"))
    for value, colour, name in ((1, "#d73027", names[0]), (0, "#2c7fb8", names[1])):
        ax.hist(
            result.propensity[result.treated == value],
            bins=bins,
            alpha=0.5,
            color=colour,
            density=True,
            label=name,
        )
    ax.set_xlabel(i18n.label("evaluation", "propensity", lang))
    ax.set_title(i18n.label("evaluation", "overlap_title", lang))
    ax.legend()
    i18n.axis(ax, lang)  # the reader's decimal mark
    return ax
