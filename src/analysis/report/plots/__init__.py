"""One visual style for the workbench; every label from the vi/en catalogue.

Functions take data and return the matplotlib Axes or Figure, like seaborn.
DejaVu Sans (matplotlib's default font) covers Vietnamese diacritics.

The modules (call the functions from here: ``plots.trend(...)``):

* :mod:`.base` — :func:`use_style`, applied once below when the package is first
  imported, and the label helpers the others share
* :mod:`.links` — :func:`coefficients`, :func:`marginal_effects`, :func:`residuals`,
  :func:`influence`
* :mod:`.monitoring` — :func:`district_comparison`, :func:`trend`,
  :func:`maturity_levels`, :func:`completeness_heatmap`, :func:`status_counts`,
  :func:`status_colours`
* :mod:`.evaluation` — :func:`event_study_plot`, :func:`overlap_plot`
* :mod:`.typology` — :func:`profile_heatmap`, :func:`risk_plots`
* :mod:`.inspection` — :func:`flags_by_district`
"""

from __future__ import annotations

from analysis.core import i18n as i18n  # `plots.i18n`, as before the split
from analysis.report.plots.base import use_style
from analysis.report.plots.evaluation import event_study_plot, overlap_plot
from analysis.report.plots.inspection import flags_by_district
from analysis.report.plots.links import coefficients, influence, marginal_effects, residuals
from analysis.report.plots.monitoring import (
    completeness_heatmap,
    district_comparison,
    maturity_levels,
    status_colours,
    status_counts,
    trend,
)
from analysis.report.plots.typology import profile_heatmap, risk_plots
from analysis.report.style import FONT, PALETTE

__all__ = [
    "FONT",
    "PALETTE",
    "coefficients",
    "completeness_heatmap",
    "district_comparison",
    "event_study_plot",
    "flags_by_district",
    "influence",
    "marginal_effects",
    "maturity_levels",
    "overlap_plot",
    "profile_heatmap",
    "residuals",
    "risk_plots",
    "status_colours",
    "status_counts",
    "trend",
    "use_style",
]

use_style()  # once, when the package is first imported: every figure gets the same look
