"""One visual style for the workbench; every label from the vi/en catalogue.

Functions take data and return the matplotlib Axes or Figure, like seaborn.
DejaVu Sans (matplotlib's default font) covers Vietnamese diacritics.
"""

from __future__ import annotations

import textwrap

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from sklearn.metrics import precision_recall_curve, roc_curve

from analysis.core import i18n
from analysis.measures import indicators
from analysis.report.style import FONT, PALETTE


def use_style() -> None:
    """The workbench style: seaborn whitegrid, a font with Vietnamese glyphs.

    Applied once when the module is imported; call it again after changing the
    matplotlib settings to restore the workbench look (changes ``rcParams``
    globally).
    """

    sns.set_theme(style="whitegrid", context="notebook", font=FONT)
    plt.rcParams["figure.dpi"] = 110
    plt.rcParams["axes.titleweight"] = "bold"


def _label(key: str, lang: str) -> str:
    return i18n.label("plots", key, lang)


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
    from scipy import stats

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


def _chart(key: str, lang: str, **values) -> str:
    return i18n.text("charts", key, lang, **values)


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
    order = [s for s in ("met", "on_track", "behind", "no_trend", "no_target") if s in counts]
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


def event_study_plot(result, *, lang: str = "vi", ax=None):
    """Event-time effects with their simultaneous band; pre-periods left of the line.

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
    pre = table["event_time"] < 0
    for mask, colour in ((pre, "#999999"), (~pre, "#2c7fb8")):
        part = table[mask]
        ax.errorbar(
            part["event_time"],
            part["estimate"],
            yerr=[part["estimate"] - part["conf_low"], part["conf_high"] - part["estimate"]],
            fmt="o",
            color=colour,
            capsize=3,
        )
    ax.axhline(0, color="#666666", linestyle="--", linewidth=1)
    ax.axvline(-0.5, color="#333333", linestyle=":", linewidth=1)
    ax.set_xlabel(i18n.label("evaluation", "event_time", lang))
    ax.set_ylabel(i18n.label("evaluation", "effect", lang))
    ax.set_title(i18n.label("evaluation", "event_study_title", lang))
    return ax


def overlap_plot(result, *, lang: str = "vi", ax=None):
    """Propensity-score distributions of treated and comparison units.

    Parameters
    ----------
    result
        A weighting result (:func:`analysis.evaluation.weighting`) with
        ``propensity`` (0–1) and ``treated`` (1 or 0) per unit.
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
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4))
    bins = np.linspace(0, 1, 31)
    for value, colour, key in ((1, "#d73027", "treated"), (0, "#2c7fb8", "comparison")):
        ax.hist(
            result.propensity[result.treated == value],
            bins=bins,
            alpha=0.5,
            color=colour,
            density=True,
            label=i18n.label("evaluation", key, lang),
        )
    ax.set_xlabel(i18n.label("evaluation", "propensity", lang))
    ax.set_title(i18n.label("evaluation", "overlap_title", lang))
    ax.legend()
    return ax


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
    shown.columns = [meta[c].name[lang] for c in shown.columns]
    shown.index = [f"{g}: {result.names[g]} (n={result.sizes[g]})" for g in shown.index]
    if ax is None:
        _, ax = plt.subplots(figsize=(11, 0.6 * len(shown) + 4))
    sns.heatmap(shown, annot=True, fmt=".1f", cmap="RdBu_r", center=0, ax=ax, cbar=False)
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


use_style()  # once, when the module is first imported: every figure gets the same look
