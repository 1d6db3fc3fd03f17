"""A synthetic *national* school system, large enough to test the pupil pipeline at scale.

About 50,000 schools in 63 provinces over five school years, with a
school-year panel (every column the indicators need, plus the hierarchy) and
about 20 million pupil results (one row per pupil and subject), streamed to
Parquet in row groups so the pupil table is never held in memory. Everything
is **synthetic**; the province and district names say so.

The planted model, per school *s*, school year *t* (end year) and subject *j*::

    mu[s, t, j] = 5.8 + u_province + u_school + 0.05 (t - 2021)
                  + 1.0 (trained_share[s, t] - 0.5) + 0.03 (infra[s, t] - 8) + subject_j
    score       = clip(Normal(mu, 1.4), 0, 10), rounded to 0.01
    passed      = score >= 5

so a school-year's mean score is ``mu`` ± 1.4 / sqrt(n) (clipping at 0 and 10
is negligible for the planted range) and its pass rate is
``1 - Phi((4.995 - mu) / 1.4)``. A small share of rows is corrupted on purpose
(no school id, a score out of range, a pass flag that is no code) and counted
per school-year, so ``aggregated = generated - corrupted`` can be checked.

The modules, each importing only from those above it in this list:

* :mod:`.scale` — the planted parameters (:data:`SCORE_SD`, :data:`TRAINING_EFFECT`,
  :data:`INFRA_EFFECT`, …) and :class:`Scale`
* :mod:`.register` — the school register, :func:`schools`
* :mod:`.school_years` — the school-year panel, :func:`panel`
* :mod:`.planted` — the planted truth per school, year and subject, :func:`truth`
* :mod:`.pupil_files` — the pupil results streamed to Parquet, :func:`write_pupils`,
  :data:`PUPIL_SCHEMA`
* :mod:`.system` — :func:`generate` writes it all, :class:`National`
"""

from __future__ import annotations

from analysis.data.national.planted import truth
from analysis.data.national.pupil_files import PUPIL_SCHEMA, write_pupils
from analysis.data.national.register import schools
from analysis.data.national.scale import (
    AREAS,
    CORRUPTIONS,
    GRAND_MEAN,
    INFRA_EFFECT,
    LEVELS,
    PASS_MARK,
    PROVINCE_SD,
    SCHOOL_SD,
    SCORE_SD,
    SUBJECTS,
    TRAINING_EFFECT,
    YEAR_TREND,
    YEARS,
    Scale,
)
from analysis.data.national.school_years import panel
from analysis.data.national.system import National, generate

__all__ = [
    "AREAS",
    "CORRUPTIONS",
    "GRAND_MEAN",
    "INFRA_EFFECT",
    "LEVELS",
    "PASS_MARK",
    "PROVINCE_SD",
    "PUPIL_SCHEMA",
    "SCHOOL_SD",
    "SCORE_SD",
    "SUBJECTS",
    "TRAINING_EFFECT",
    "YEARS",
    "YEAR_TREND",
    "National",
    "Scale",
    "generate",
    "panel",
    "schools",
    "truth",
    "write_pupils",
]
