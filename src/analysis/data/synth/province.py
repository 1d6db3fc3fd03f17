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


def generate(seed: int = 20250601, profile: str = "realistic", scale: float = 1.0) -> Province:
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

    Returns
    -------
    Province
        The register, the true panel, the reports as a Department receives them
        (one frame per school year) and the truth of every planted effect and flaw.

    Raises
    ------
    ValueError
        If ``profile`` is not one of :data:`PROFILES`.

    Example
    -------
    >>> province = generate(seed=1, profile="clean", scale=0.1)
    >>> sorted(province.reports) == SCHOOL_YEARS
    True
    >>> province.truth["synthetic"]
    True
    """
    if profile not in PROFILES:
        raise ValueError(f"unknown profile {profile!r}; expected one of {', '.join(PROFILES)}")
    rng = np.random.default_rng(seed)  # the register, then the simulation
    units, schools, membership, crosswalk = build_register(rng, scale)
    panel, extra = simulate(rng, schools)
    truth = _truth(seed, profile, scale, len(schools), extra)
    reports, record, variants = apply_realism(
        panel, PROFILES[profile], np.random.default_rng(seed + 1)
    )
    truth["realism"] = record
    truth["header_variants"] = variants
    return Province(seed, profile, units, schools, membership, crosswalk, panel, truth, reports)


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
        "model": PARAMS,
        "definitions": {
            "infra": "computers_teaching / enrolment * 100",
            "trained_share": "teachers_trained_cds / teachers",
            "use": "e_lessons / teachers",
            "ses": "poor_household_share / 100",
            "outcome": "mean_test_score",
        },
        **extra,
    }
