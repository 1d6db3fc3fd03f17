"""Inspection charts: the data-quality flags to check, by district and follow-up state."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd

from analysis.core import i18n
from analysis.report.style import PALETTE

# follow-up state -> the status colour it reads as (open is the one to act on)
STATE_COLOURS = {
    "open": PALETTE["not_met"],
    "waiting": PALETTE["on_track"],
    "resolved": PALETTE["met"],
}


def flags_by_district(
    data: pd.DataFrame, *, district: str = "district_name", lang: str = "vi", ax=None
):
    """Horizontal stacked bars: flags per district, split by follow-up state.

    Parameters
    ----------
    data
        :func:`analysis.measures.quality.with_followup` (a ``state`` column) or
        :func:`analysis.measures.quality.flags` (every flag counted as open).
    district
        The column naming the district.
    lang
        Language of the labels.
    ax : matplotlib.axes.Axes, optional
        Draw into this Axes; default a new figure.

    Returns
    -------
    matplotlib.axes.Axes
        The Axes drawn on.
    """
    frame = data.assign(state=data.get("state", "open"))
    counts = frame.groupby([district, "state"]).size().unstack(fill_value=0)
    counts = counts.reindex(columns=[s for s in STATE_COLOURS if s in counts.columns])
    counts = counts.loc[counts.sum(axis=1).sort_values().index]
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 0.4 * len(counts) + 1.5))
    left = pd.Series(0, index=counts.index)
    for state in counts.columns:
        ax.barh(counts.index, counts[state], left=left, color=STATE_COLOURS[state],
                label=i18n.label("followup_states", state, lang))  # fmt: skip
        left = left + counts[state]
    ax.set_xlabel(i18n.label("charts", "values_to_check", lang))
    ax.set_title(i18n.label("notebooks", "flags_by_district", lang))
    ax.legend(loc="lower right", frameon=True)
    i18n.axis(ax, lang, which="x", integer=True)
    return ax
