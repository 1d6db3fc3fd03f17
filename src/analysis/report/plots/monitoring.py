"""Figures of indicator monitoring: units against targets, trends, maturity, completeness."""

from __future__ import annotations

import textwrap

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from analysis.core import i18n
from analysis.report.plots.base import _chart
from analysis.report.style import PALETTE


def district_comparison(
    values: pd.DataFrame,
    *,
    indicator: str,
    year: int,
    level: str = "analysis_district",
    highlight: str | None = None,
    lang: str = "vi",
    ax=None,
):
    """Units of a level ranked on one indicator in one year, with the target line.

    Bars are coloured by status (met, on track, behind); with ``highlight`` the
    other units are drawn faded.

    Parameters
    ----------
    values
        :func:`analysis.indicators.compute` output (``indicator``, ``level``,
        ``year``, ``unit_id``, ``unit_name``, ``value``, ``status``, ``target``,
        ``name``, ``measure``).
    indicator
        The indicator's id.
    year
        End year of the school year.
    level
        The level whose units are compared.
    highlight
        ``unit_id`` of the unit to stand out.
    lang
        Language of the labels and numbers.
    ax : matplotlib.axes.Axes, optional
        Draw into this Axes; default a new figure.

    Returns
    -------
    matplotlib.axes.Axes
        The Axes drawn on (seaborn's convention: pass ``ax`` to draw into a
        figure of your own, style it further with the returned Axes).

    Example
    -------
    >>> ax = plots.district_comparison(  # doctest: +SKIP
    ...     values, indicator="teachers_trained_cds", year=2025, highlight=unit
    ... )
    """
    rows = values[
        (values["indicator"] == indicator) & (values["level"] == level) & (values["year"] == year)
    ]
    rows = rows.sort_values("value")
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 0.35 * len(rows) + 1.5))
    colours = [PALETTE.get(s, "#2c7fb8") for s in rows["status"]]
    if highlight is not None:
        colours = [
            c if u == highlight else c + "66" for c, u in zip(colours, rows["unit_id"], strict=True)
        ]
    ax.barh(rows["unit_name"].astype(str), rows["value"], color=colours)
    target = rows["target"].dropna()
    if len(target):
        ax.axvline(
            target.iloc[0],
            color="#333333",
            linestyle="--",
            linewidth=1,
            label=_chart("target", lang),
        )
        ax.legend(loc="lower right")
    name = rows["name"].iloc[0] if len(rows) else indicator
    measure = rows["measure"].iloc[0] if len(rows) else ""
    ax.set_xlabel(f"{name} ({measure})")
    ax.set_title(f"{name} — {year}")
    i18n.axis(ax, lang, which="x")
    return ax


def trend(
    values: pd.DataFrame, *, indicator: str, units: list[tuple[str, str]], lang: str = "vi", ax=None
):
    """Lines over school years for (level, unit_id) pairs, with the target as a dashed line.

    Parameters
    ----------
    values
        :func:`analysis.indicators.compute` output.
    indicator
        The indicator's id.
    units
        ``(level, unit_id)`` pairs, one line each (a pair without rows is skipped).
    lang
        Language of the labels and numbers.
    ax : matplotlib.axes.Axes, optional
        Draw into this Axes; default a new figure.

    Returns
    -------
    matplotlib.axes.Axes
        The Axes drawn on (seaborn's convention: pass ``ax`` to draw into a
        figure of your own, style it further with the returned Axes).

    Example
    -------
    >>> shown = [("analysis_district", unit), ("analysis_province", province_id)]  # doctest: +SKIP
    >>> plots.trend(values, indicator="teachers_trained_cds", units=shown)  # doctest: +SKIP
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4))
    rows = values[values["indicator"] == indicator]
    for level, unit in units:
        part = rows[(rows["level"] == level) & (rows["unit_id"] == unit)].sort_values("year")
        if len(part):
            ax.plot(part["year"], part["value"], marker="o", label=str(part["unit_name"].iloc[0]))
    target = rows.dropna(subset=["target"])
    if len(target):
        last = target.sort_values("year").iloc[-1]
        ax.scatter(
            [last["target_year"]],
            [last["target"]],
            marker="*",
            s=160,
            color="#333333",
            label=_chart("target", lang),
            zorder=5,
        )
    name = rows["name"].iloc[0] if len(rows) else indicator
    ax.set_title(i18n.text("brief", "trend", lang, indicator=name))
    ax.set_xlabel(_chart("school_year", lang))
    ax.set_ylabel(rows["measure"].iloc[0] if len(rows) else "")
    ax.xaxis.set_major_locator(plt.MaxNLocator(integer=True))  # years: no thousands dot
    i18n.axis(ax, lang, which="y")
    ax.legend()
    return ax


def maturity_levels(dist: pd.DataFrame, *, year: int, lang: str = "vi", ax=None):
    """Stacked shares of schools at each maturity level, per unit and criteria group.

    Parameters
    ----------
    dist
        :func:`analysis.maturity.distribution` output (``year``, ``unit_name``,
        ``group``, ``maturity_level``, ``share`` in %).
    year
        End year of the school year.
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
    rows = dist[dist["year"] == year]
    wide = rows.pivot_table(
        index=["unit_name", "group"],
        columns="maturity_level",
        values="share",
        aggfunc="sum",
        fill_value=0,
    )
    wide = wide[sorted(wide.columns)]
    if ax is None:
        _, ax = plt.subplots(figsize=(9, 0.6 * len(wide) + 2.6))
    # "unit · criteria group" names run long: wrap them instead of squeezing the bars
    labels = [textwrap.fill(f"{u} · {g}", 38) for u, g in wide.index]
    left = np.zeros(len(wide))
    by_level = {"1": "#d73027", "2": "#fdae61", "3": "#1a9850"}
    for column in wide.columns:
        digits = [c for c in str(column) if c.isdigit()]
        colour = by_level.get(digits[0], "#bbbbbb") if digits else "#bbbbbb"  # not assessed
        ax.barh(labels, wide[column], left=left, color=colour, label=column)
        left += wide[column].to_numpy()
    ax.set_xlabel(_chart("share", lang))
    ax.set_title(_chart("maturity_title", lang, year=year))
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.22), ncol=2, fontsize="small")
    ax.figure.tight_layout()
    return ax


def completeness_heatmap(summary: pd.DataFrame, *, lang: str = "vi", ax=None):
    """Completeness (%) by unit and year.

    A heatmap coloured from 80% (red) to 100% (green), each cell annotated.

    Parameters
    ----------
    summary
        The summary of :func:`analysis.quality.completeness` (``unit_name``,
        ``year``, ``completeness`` in %).
    lang
        Language of the labels and numbers.
    ax : matplotlib.axes.Axes, optional
        Draw into this Axes; default a new figure.

    Returns
    -------
    matplotlib.axes.Axes
        The Axes drawn on (seaborn's convention: pass ``ax`` to draw into a
        figure of your own, style it further with the returned Axes).

    Example
    -------
    >>> summary, _ = quality.completeness(hierarchy, data.data)  # doctest: +SKIP
    >>> plots.completeness_heatmap(summary, lang=lang)  # doctest: +SKIP
    """
    wide = summary.pivot_table(index="unit_name", columns="year", values="completeness")
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 0.4 * len(wide) + 1.5))

    annot = wide.apply(lambda col: [i18n.number(v, lang) for v in col])
    sns.heatmap(wide, annot=annot, fmt="", cmap="RdYlGn", vmin=80, vmax=100, ax=ax, cbar=False)
    ax.set_title(_chart("completeness_title", lang))
    ax.set_xlabel(_chart("school_year", lang))
    ax.set_ylabel("")
    return ax


def status_counts(values: pd.DataFrame, *, level: str, year: int, lang: str = "vi", ax=None):
    """How many indicators are met, on track or behind at one level in one year.

    Parameters
    ----------
    values
        :func:`analysis.indicators.compute` output.
    level
        The level counted (``analysis_province`` for the province).
    year
        End year of the school year.
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
    rows = values[(values["level"] == level) & (values["year"] == year)]
    counts = rows["status"].value_counts()
    order = [s for s in ("met", "on_track", "behind", "not_met", "no_trend", "no_target")
             if s in counts]  # fmt: skip
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3))
    names = [i18n.label("status", s, lang) for s in order]
    ax.bar(names, [counts[s] for s in order], color=[PALETTE[s] for s in order])
    ax.set_ylabel(_chart("indicators", lang))
    ax.set_title(_chart("status_title", lang, year=year))
    i18n.axis(ax, lang, which="y", integer=True)
    return ax


def status_colours(frame: pd.DataFrame, codes: list[str], column: str):
    """A pandas Styler that colours ``column`` by status (met / on track / behind).

    Cells and headers are HTML-escaped: unlike ``DataFrame``, a Styler writes text raw.

    Parameters
    ----------
    frame
        The table to show.
    codes
        The status code of each row (``met``, ``on_track``, ``behind``…), in row order.
    column
        The column to paint.

    Returns
    -------
    pandas.io.formats.style.Styler
        The Styler (index hidden), for display in a notebook.
    """
    colours = [PALETTE.get(c, "#ffffff") for c in codes]

    def paint(col):
        if col.name != column:
            return [""] * len(col)
        return [f"background-color: {c}; color: white; font-weight: bold" for c in colours]

    styler = frame.style.format(escape="html").format_index(escape="html", axis=1)
    return styler.apply(paint).hide(axis="index")
