"""CĐS indicators at every level of the hierarchy, against their targets.

Definitions live in ``config/indicators.yml``. A value at any level is always
``factor × Σ numerator ÷ Σ denominator`` over the school-years of that unit
(DHIS2 practice) — never an average of school ratios. A school-year counts for
an indicator only where both its numerator and denominator are present.

Status against a target (the earliest target whose year is at or after the
value's year):

* ``met`` — the value already meets the target;
* ``on_track`` — the linear trend (least squares) of the unit's last
  ``projection_years`` yearly values, extrapolated to the target year, meets it;
* ``not_met`` — the target year has come and the target is not reached ("không đạt");
* ``behind`` — neither, with time left ("chậm tiến độ");
* ``no_trend`` — not met and fewer than two yearly values to project from
  (for example a post-reform commune with one year);
* ``no_target`` — no target at or after that year, or no direction.

``gap`` is the shortfall in the indicator's direction: ``target − value`` when
higher is better, ``value − target`` when lower is better; ``gap ≤ 0`` is met.

The modules, each importing only from those above it in this list:

* :mod:`.spec` — :class:`Indicator`, :class:`Target`, :data:`LEVELS`, reading and
  checking the definitions (:func:`load_indicators`, :func:`referenced_columns`,
  :func:`check_expressions`), :func:`definitions`, :func:`headline`
* :mod:`.status` — change, target, gap, projection, status and rank of aggregated values
* :mod:`.values` — :func:`components`, :func:`aggregate`, :func:`compute`,
  :data:`RESULT_COLUMNS`
* :mod:`.gaps` — :func:`not_computed` (the indicators with no value, and why),
  :func:`unit_not_computed` (the same for one unit) and :func:`schools_counted`
  (the "15 of 596 schools" a summary comes from)
"""

from __future__ import annotations

from analysis.measures.indicators.gaps import not_computed, schools_counted, unit_not_computed
from analysis.measures.indicators.spec import (
    BETTER,
    DEFAULT_LEVELS,
    DOMAINS,
    LEVELS,
    SECTORS,
    Indicator,
    Target,
    check_expressions,
    default_path,
    definitions,
    headline,
    load_indicators,
    referenced_columns,
)
from analysis.measures.indicators.spec import _select as _select  # used by quality
from analysis.measures.indicators.values import RESULT_COLUMNS, aggregate, components, compute
from analysis.measures.indicators.values import _evaluate as _evaluate  # used by quality
from analysis.measures.indicators.values import _numeric as _numeric  # used by quality

__all__ = [
    "BETTER",
    "DEFAULT_LEVELS",
    "DOMAINS",
    "LEVELS",
    "RESULT_COLUMNS",
    "SECTORS",
    "Indicator",
    "Target",
    "aggregate",
    "check_expressions",
    "components",
    "compute",
    "default_path",
    "definitions",
    "headline",
    "load_indicators",
    "not_computed",
    "referenced_columns",
    "schools_counted",
    "unit_not_computed",
]
