"""Figures of the typology: group profiles and the at-risk model's curves."""

from __future__ import annotations

import textwrap

import matplotlib.pyplot as plt
import seaborn as sns
from sklearn.metrics import precision_recall_curve, roc_curve

from analysis.core import i18n
from analysis.measures import indicators


def profile_heatmap(result, *, lang: str = "vi", ax=None):
    """Standardised profile of each group (rows) on each indicator (columns).

    Parameters
    ----------
    result
        :func:`analysis.typology.profiles` output (``profile``, ``names``, ``sizes``).
    lang
        Language of the indicator names and title.
    ax : matplotlib.axes.Axes, optional
        Draw into this Axes; default a new figure.

    Returns
    -------
    matplotlib.axes.Axes
        The Axes drawn on (seaborn's convention: pass ``ax`` to draw into a
        figure of your own, style it further with the returned Axes).
    """
    meta = {i.id: i for i in indicators.load_indicators()}
    shown = result.profile.copy()
    # the colour says better or worse than average in each indicator's own direction
    # (fewer learners per computer is better); the numbers stay the standardised values
    sign = [{"lower": -1.0}.get(meta[c].better, 1.0) for c in shown.columns]
    colour = shown * sign
    text = shown.map(lambda v: i18n.number(v, lang, 1))  # the reader's decimal comma
    shown.columns = [textwrap.fill(meta[c].name[lang], 28) for c in shown.columns]
    shown.index = [
        textwrap.fill(f"{g + 1}. {result.names[g]} ({i18n.integer(result.sizes[g], lang)})", 34)
        for g in shown.index
    ]
    colour.index, colour.columns = shown.index, shown.columns
    if ax is None:
        _, ax = plt.subplots(
            figsize=(max(11, 0.75 * len(shown.columns) + 4), 0.8 * len(shown) + 4.5)
        )
    sns.heatmap(colour, annot=text.to_numpy(), fmt="", cmap="RdYlGn", center=0, ax=ax,
                cbar=False, annot_kws={"fontsize": 10})  # fmt: skip
    ax.tick_params(labelsize=10)
    ax.set_title(i18n.label("typology", "heatmap_title", lang))
    ax.tick_params(axis="x", rotation=60)
    plt.setp(ax.get_xticklabels(), ha="right")
    return ax


def risk_plots(result, *, lang: str = "vi"):
    """ROC and precision–recall curves and the calibration plot, side by side.

    Parameters
    ----------
    result
        :func:`analysis.typology.at_risk` output (out-of-fold predictions, AUC,
        average precision, calibration).
    lang
        Language of the labels.

    Returns
    -------
    matplotlib.figure.Figure
        A new figure with three Axes.
    """
    fig, (a, b, c) = plt.subplots(1, 3, figsize=(13, 4))
    y, p = result.predictions["outcome"], result.predictions["risk"]
    fpr, tpr, _ = roc_curve(y, p)
    a.plot(fpr, tpr, color="#2c7fb8", label=f"AUC {result.auc:.2f}")
    a.plot([0, 1], [0, 1], linestyle="--", color="#999999")
    a.set_title(i18n.label("typology", "roc_title", lang))
    a.set_xlabel(i18n.label("typology", "fpr", lang))
    a.set_ylabel(i18n.label("typology", "tpr", lang))
    a.legend()
    precision, recall, _ = precision_recall_curve(y, p)
    b.plot(recall, precision, color="#d73027", label=f"AP {result.average_precision:.2f}")
    b.set_title(i18n.label("typology", "pr_title", lang))
    b.set_xlabel(i18n.label("typology", "recall", lang))
    b.set_ylabel(i18n.label("typology", "precision", lang))
    b.legend()
    c.plot(result.calibration["predicted"], result.calibration["observed"], marker="o")
    c.plot([0, 1], [0, 1], linestyle="--", color="#999999")
    c.set_title(i18n.label("typology", "calibration_title", lang))
    c.set_xlabel(i18n.label("typology", "predicted", lang))
    c.set_ylabel(i18n.label("typology", "observed", lang))
    fig.tight_layout()
    return fig
