"""A synthetic Thái Nguyên province with planted, documented effects.

No school-level CĐS data is public, so the workbench ships a province whose
truth is known: every estimator can be checked against it. The district names
are real; everything else (schools, communes, numbers) is **synthetic**.

:func:`generate` builds it in three steps, each in its own module: the school
register (:mod:`~analysis.data.synth.register`), the school-year simulation of
the structural model in :mod:`~analysis.data.synth.structural`
(:mod:`~analysis.data.synth.simulate`), and the flaws of the reports as a
Department receives them (:mod:`~analysis.data.synth.realism`). All of the truth
goes to :attr:`Province.truth`, which :func:`~analysis.data.synth.raw_files.write`
puts in ``truth.json`` beside the raw files.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from analysis.data.synth import shocks, structural
from analysis.data.synth.constants import (
    DISTRICTS,
    PARAMS,
    PROFILES,
    REFORM_DATE,
    SCHOOL_YEARS,
    school_year_label,
)
from analysis.data.synth.realism import apply_realism
from analysis.data.synth.register import build_register
from analysis.data.synth.simulate import simulate


@dataclass
class Province:
    """The generated province: register, clean panel and the truth."""

    seed: int
    profile: str
    units: pd.DataFrame
    schools: pd.DataFrame
    membership: pd.DataFrame
    crosswalk: pd.DataFrame
    panel: pd.DataFrame  # true values, before any realism flaw
    truth: dict[str, Any]
    reports: dict[int, pd.DataFrame] = field(default_factory=dict)  # as written, per year


def generate(
    seed: int = 20250601,
    profile: str = "realistic",
    scale: float = 1.0,
    *,
    district_year_sd: float | None = None,
    parallel_trends: bool = True,
) -> Province:
    """Generate the province in memory.

    Parameters
    ----------
    seed
        Random seed; the same seed gives the same province, byte for byte on disk.
    profile
        ``"clean"``, ``"realistic"`` (the default data) or ``"messy"``: which
        realism flaws (:class:`Realism`) the raw reports carry.
    scale
        Share of the ~600 schools to generate (tests use a small province); every
        district keeps at least 4 schools.
    district_year_sd
        Standard deviation (score units) of the district × year shocks, added to
        both potential outcomes of every school of a district in a school year;
        ``None`` takes the profile's default (:data:`DISTRICT_YEAR_SD`: 0.03 for
        ``realistic`` and ``messy``, 0 for ``clean``). They come from their own
        random stream: with 0, the province is the one without shocks.
    parallel_trends
        ``True`` (the default): the untreated outcomes trend in parallel across
        districts. ``False`` plants the old generator's violation on purpose (the
        score follows the yearly fall of SES, untreated training grows), as a test
        case for sensitivity analyses; see :mod:`~analysis.data.synth.structural`.

    Returns
    -------
    Province
        The register, the true panel, the reports as a Department receives them
        (one frame per school year) and the truth of every planted effect and flaw.

    Raises
    ------
    ValueError
        If ``profile`` is not one of :data:`PROFILES`, or ``district_year_sd`` is
        negative.

    Example
    -------
    >>> province = generate(seed=1, profile="clean", scale=0.1)
    >>> sorted(province.reports) == SCHOOL_YEARS
    True
    >>> province.truth["synthetic"]
    True
    >>> province.truth["parallel_trends"]["holds"], province.truth["district_year_shocks"]["sd"]
    (True, 0.0)
    """
    if profile not in PROFILES:
        raise ValueError(f"unknown profile {profile!r}; expected one of {', '.join(PROFILES)}")
    sd = shocks.resolve_sd(profile, district_year_sd)
    district_year = shocks.draw(seed, sd)  # own stream: the rest does not depend on sd
    rng = np.random.default_rng(seed)  # the register, then the simulation
    units, schools, membership, crosswalk = build_register(rng, scale)
    panel, extra = simulate(
        rng, schools, district_year=district_year, parallel_trends=parallel_trends
    )
    extra["parallel_trends"] = structural.parallel_trends_truth(parallel_trends)
    extra["district_year_shocks"] = shocks.truth(district_year, sd)
    truth = _truth(seed, profile, scale, len(schools), extra)
    reports, record, variants = apply_realism(
        panel, PROFILES[profile], np.random.default_rng(seed + 1)
    )
    truth["realism"] = record
    truth["header_variants"] = variants
    return Province(seed, profile, units, schools, membership, crosswalk, panel, truth, reports)


def _model(district_year_sd: float) -> dict[str, Any]:
    """The planted parameters as recorded: :data:`PARAMS` with this province's shock sd."""
    return {**PARAMS, "score": {**PARAMS["score"], "district_year_sd": district_year_sd}}


def _truth(
    seed: int, profile: str, scale: float, n_schools: int, extra: dict[str, Any]
) -> dict[str, Any]:
    """The truth file's content before the realism record: setup, model and ``extra``."""
    return {
        "synthetic": True,
        "note": (
            "SYNTHETIC DATA. District names are real; schools, communes and all "
            "numbers are generated. Do not cite as facts about Thái Nguyên."
        ),
        "seed": seed,
        "profile": profile,
        "school_years": [school_year_label(y) for y in SCHOOL_YEARS],
        "n_schools": n_schools,
        "scale": scale,
        "districts": [
            {
                "unit_id": d[0],
                "name": d[1],
                "name_en": d[2],
                "area_type": d[3],
                "ethnic_minority_share": d[4],
                "n_schools": d[5],
            }
            for d in DISTRICTS
        ],
        "reform": {
            "date": REFORM_DATE.isoformat(),
            "note": "district level removed; schools move to new communes (see crosswalk)",
        },
        "model": _model(extra["district_year_shocks"]["sd"]),
        "definitions": {
            "infra": "computers_teaching / enrolment * 100",
            "trained_share": "teachers_trained_cds / teachers",
            "use": "e_lessons / teachers",
            "ses": "poor_household_share / 100",
            "outcome": "mean_test_score",
        },
        **extra,
    }
