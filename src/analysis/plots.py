"""One visual style for the workbench; every label from the vi/en catalogue.

Functions take data and return the matplotlib Axes or Figure, like seaborn.
DejaVu Sans (matplotlib's default font) covers Vietnamese diacritics.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from analysis import i18n

PALETTE = {"met": "#1a9850", "on_track": "#fdae61", "behind": "#d73027", "no_trend": "#999999",
           "no_target": "#bbbbbb"}  # fmt: skip
FONT = "DejaVu Sans"


def use_style() -> None:
    """The workbench style: seaborn whitegrid, a font with Vietnamese glyphs."""
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
    """Forest plot of a tidy table (estimate with conf_low–conf_high)."""
    use_style()
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
    return ax


def marginal_effects(effects: pd.DataFrame, *, lang: str = "vi", ax=None):
    """The effect of infrastructure across training levels, with its interval band."""
    use_style()
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4.2))
    ax.plot(effects["at"], effects["estimate"], marker="o", color="#2c7fb8")
    ax.fill_between(effects["at"], effects["conf_low"], effects["conf_high"], alpha=0.25,
                    color="#2c7fb8")  # fmt: skip
    ax.axhline(0, color="#666666", linestyle="--", linewidth=1)
    ax.set_xlabel(_label("at_training", lang))
    ax.set_ylabel(_label("marginal_effect", lang))
    ax.set_title(_label("interaction_title", lang))
    return ax


def residuals(result, *, lang: str = "vi"):
    """Residuals against fitted values, and a normal Q–Q plot."""
    from scipy import stats

    use_style()
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
    fig.tight_layout()
    return fig


def influence(frame: pd.DataFrame, *, lang: str = "vi", ax=None):
    """Leverage against studentised residuals, point size by Cook's distance."""
    use_style()
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4.5))
    size = 10 + 400 * frame["cooks_d"] / max(frame["cooks_d"].max(), 1e-12)
    ax.scatter(frame["leverage"], frame["student_resid"], s=size, alpha=0.5, color="#2c7fb8")
    ax.axhline(0, color="#666666", linestyle="--", linewidth=1)
    ax.set_xlabel(_label("leverage", lang))
    ax.set_ylabel(_label("student_resid", lang))
    ax.set_title(_label("influence_title", lang))
    return ax
