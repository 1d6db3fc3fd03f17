"""How infrastructure and teacher training relate to outcomes: one entry point, one result shape.

:func:`estimate` fits ordinary least squares (with classical, HC1 or
cluster-robust errors), multilevel models (statsmodels ``MixedLM``: random
intercepts and slopes, nested variance components) and two-way fixed-effects
panels (``linearmodels.PanelOLS``: school and year effects, clustered errors).
Every fit returns a :class:`LinkResult` whose ``tidy()`` and ``glance()`` have
the same columns whatever the estimator.

Why linearmodels for panels: it is the long-maintained reference for panel
econometrics in Python (PanelOLS, RandomEffects, IV; Kevin Sheppard, releases
since 2017, 7.1 in 2026), depends only on the scientific stack the workbench
already uses, and its clustered covariance follows the Stata/R conventions
that published panel results use. pyfixest is faster on very large
high-dimensional problems but pulls a larger, faster-moving stack; the
estimates are the same (see tests: statsmodels with dummies agrees).

All numbers are associations unless the design allows more (a randomised
experiment such as STAR, or the evaluation module's designs).

The modules, each importing only from those above it in this list:

* :mod:`.result` — :class:`LinkResult`, :data:`TIDY_COLUMNS`, :class:`LinkError`
* :mod:`.prepare` — formulas from spec roles, the columns a formula uses, complete rows
* :mod:`.ols`, :mod:`.mixed`, :mod:`.panel` — one model kind each; its ``_covariance``
  is where that kind's standard errors and reference distribution are chosen
* :mod:`.identification` — whether a fit is identified: groups of one row, variances at
  their boundary, no convergence, collinear terms
* :mod:`.fit` — :func:`estimate`: defaults, checks, rows, the model kind, its identification
* :mod:`.effects` — :func:`marginal_effects`, :func:`mediation`
* :mod:`.diagnostics` — :func:`adjust_pvalues`, :func:`screen`, :func:`vif`, :func:`influence`
* :mod:`.spec` — for notebooks: :func:`from_spec`, :func:`interaction_pair`, :func:`term_labels`,
  :func:`describe_formula`, :func:`describe_identification`, :func:`describe_title`
"""

from __future__ import annotations

from analysis.models.links.diagnostics import adjust_pvalues, influence, screen, vif
from analysis.models.links.effects import MediationResult, marginal_effects, mediation
from analysis.models.links.fit import estimate
from analysis.models.links.identification import IdentificationWarning, Problem
from analysis.models.links.prepare import empty_roles, formula_columns, role_formula
from analysis.models.links.result import COVS, MODELS, TIDY_COLUMNS, LinkError, LinkResult
from analysis.models.links.spec import (
    describe_formula,
    describe_identification,
    describe_title,
    from_spec,
    interaction_pair,
    term_labels,
)

__all__ = [
    "COVS",
    "MODELS",
    "TIDY_COLUMNS",
    "IdentificationWarning",
    "LinkError",
    "LinkResult",
    "MediationResult",
    "Problem",
    "adjust_pvalues",
    "describe_formula",
    "describe_identification",
    "describe_title",
    "empty_roles",
    "estimate",
    "formula_columns",
    "from_spec",
    "influence",
    "interaction_pair",
    "marginal_effects",
    "mediation",
    "role_formula",
    "screen",
    "term_labels",
    "vif",
]
