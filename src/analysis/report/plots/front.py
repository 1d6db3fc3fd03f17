"""The province's figures of the front page and the supervision report.

Both take the tables of :func:`analysis.report.front.summary` (``headline``, ``maturity``)
and return the Axes, as seaborn does.
"""

from __future__ import annotations

import textwrap

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from analysis.core import i18n
from analysis.report.brief import STATUSES
from analysis.report.plots.monitoring import maturity_levels
from analysis.report.style import PALETTE


def targets(headline: pd.DataFrame, *, target: str, lang: str = "vi", ax=None):
    """The share indicators (%) against their targets: a bar per indicator in the colour of
    its status, the target as a black mark; the legend names the statuses shown.

    Parameters
    ----------
    headline
        :func:`analysis.report.front.headline` rows (``name``, ``value``, ``measure``,
        ``target``, ``status``); rows in another measure than % are left out.
    target
        The legend's word for the target mark.
    lang
        Language of the status words and the tick labels.
    ax : matplotlib.axes.Axes, optional
        Draw into this Axes; default a new figure.

    Returns
    -------
    matplotlib.axes.Axes
    """
    rows = headline[(headline["measure"] == "%") & headline["value"].notna()]
    rows = rows.iloc[::-1]  # the first indicator on top
    if ax is None:
        # the printed width (16 cm): 9-point labels stay 9 points on paper
        _, ax = plt.subplots(figsize=(6.5, 0.3 * len(rows) + 1.3))
    y = np.arange(len(rows))
    colours = [PALETTE.get(s, PALETTE["no_target"]) for s in rows["status"]]
    ax.barh(y, rows["value"], color=colours, height=0.7)
    ax.scatter(rows["target"], y, marker="|", s=300, color="black", linewidths=2.5, zorder=3)
    ax.set_yticks(y, [textwrap.fill(str(n), 44) for n in rows["name"]], fontsize=8)
    ax.set_xlim(0, 100)
    ax.set_xlabel("%")
    i18n.axis(ax, lang, which="x")
    shown = [s for s in STATUSES if s in set(rows["status"])]
    handles = [Patch(color=PALETTE[s], label=i18n.label("status", s, lang)) for s in shown]
    handles.append(Line2D([], [], color="black", marker="|", linestyle="none", markersize=14,
                          markeredgewidth=2.5, label=target))  # fmt: skip
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.08 - 1.2 / len(y)),
              ncol=len(handles), fontsize="small", frameon=False)  # fmt: skip
    ax.figure.tight_layout()
    return ax


def maturity(table: pd.DataFrame, *, year: int, lang: str = "vi", ax=None):
    """Stacked shares of the province's schools at each 4725 level in ``year``, one bar per
    area (:func:`analysis.report.front.maturity_change`'s table)."""
    frame = table.assign(year=year, unit_name="")
    if ax is None:
        _, ax = plt.subplots(figsize=(6.5, 0.5 * frame["group"].nunique() + 2.2))
    ax = maturity_levels(frame, year=year, lang=lang, ax=ax)
    ax.set_title("")  # the caption says it, with the school year
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.4), ncol=3, fontsize="x-small",
              frameon=False)  # fmt: skip
    ax.set_yticks(
        ax.get_yticks(), [textwrap.fill(str(g), 38) for g in sorted(table["group"].unique())]
    )
    i18n.axis(ax, lang, which="x")
    return ax
