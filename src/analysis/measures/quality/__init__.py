"""Can the data be trusted? Completeness, validation rules and outliers (DHIS2 practice).

* :func:`completeness` — reports received ÷ reports expected per unit and year,
  with every missing school listed (and whether its report arrived but was
  rejected at ingest).
* :func:`rule_violations` — rules ``left op right`` from config, each violation
  with school, year and both sides.
* :func:`outliers` — per indicator, z-score, modified z-score (median/MAD) and
  min–max bounds, with a threshold (default 3.0). The plain z-score assumes a
  roughly symmetric distribution: for skewed or zero-heavy indicators use the
  modified z-score, which one extreme value cannot mask.
* :func:`summary` — one row per unit: completeness, rejects, violations, outliers.
* :func:`flags` — values worth reading: each against the school's own other years, related
  figures of the same report, last year's cumulative count and peers, one row per value
  with a stable id, its reason in words, the expected range and its impact on the district
  figure, ranked by that impact.
* :func:`exclude` — blank flagged values for later analysis, with a log of
  exactly what was excluded and why.

The modules, each importing only from those above it in this list:

* :mod:`.rules` — :data:`OPERATORS`, :class:`QualityRule`, :func:`load_rules`,
  :func:`rule_violations`
* :mod:`.scoring` — :data:`METHODS`, :func:`outlier_settings`, :func:`robust_z`,
  :func:`plain_z`, :func:`outliers`
* :mod:`.coverage` — :func:`completeness`, :func:`summary`
* :mod:`.flagging` — :func:`flags`, :func:`flag_id`, :func:`flag_settings`, the checks,
  :func:`with_followup` and :func:`to_check` (the analyst's list)
* :mod:`.cleaning` — :data:`BASE_COLUMNS`, :func:`exclude`, :func:`without_paths`
"""

from __future__ import annotations

from analysis.measures.quality.cleaning import BASE_COLUMNS, exclude, without_paths
from analysis.measures.quality.coverage import completeness, summary
from analysis.measures.quality.flagging import (
    flag_id,
    flag_settings,
    flags,
    to_check,
    with_followup,
)
from analysis.measures.quality.rules import OPERATORS, QualityRule, load_rules, rule_violations
from analysis.measures.quality.scoring import (
    METHODS,
    outlier_settings,
    outliers,
    plain_z,
    robust_z,
)

__all__ = [
    "BASE_COLUMNS",
    "METHODS",
    "OPERATORS",
    "QualityRule",
    "completeness",
    "exclude",
    "flag_id",
    "flag_settings",
    "flags",
    "load_rules",
    "outlier_settings",
    "outliers",
    "plain_z",
    "robust_z",
    "rule_violations",
    "summary",
    "to_check",
    "with_followup",
    "without_paths",
]
