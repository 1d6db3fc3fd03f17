"""The school register: schools, their province and district, the planted effects."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from analysis.data.national.scale import AREAS, LEVELS, PROVINCE_SD, SCHOOL_SD, Scale


def schools(scale: Scale) -> pd.DataFrame:
    """The school register with the planted school and province effects.

    Parameters
    ----------
    scale
        The size of the system and its seed (stream ``[scale.seed, 1]``).

    Returns
    -------
    pandas.DataFrame
        One row per school: ``school_id`` (``S000000``…), ``school_name``,
        ``province_id``/``province_name``, ``district_id``/``district_name``
        (synthetic names that say so), ``area_type`` (urban, rural or
        mountainous), ``school_level``, ``size`` (relative size, mean 1),
        ``u_province`` and ``u_school`` (planted effects, score points).
    """
    rng = np.random.default_rng([scale.seed, 1])
    n = scale.schools
    province = rng.integers(0, scale.provinces, n)
    district = province * scale.districts_per_province + rng.integers(
        0, scale.districts_per_province, n
    )
    u_province = rng.normal(0, PROVINCE_SD, scale.provinces)
    area = rng.choice(len(AREAS), n, p=[0.3, 0.4, 0.3])
    return pd.DataFrame(
        {
            "school_id": [f"S{i:06d}" for i in range(n)],
            "school_name": [f"Trường mô phỏng {i:06d}" for i in range(n)],
            "province_id": [f"P{p + 1:02d}" for p in province],
            "province_name": [f"Tỉnh mô phỏng {p + 1:02d}" for p in province],
            "district_id": [f"D{d + 1:04d}" for d in district],
            "district_name": [f"Huyện mô phỏng {d + 1:04d}" for d in district],
            "area_type": np.asarray(AREAS)[area],
            "school_level": rng.choice(LEVELS, n, p=[0.45, 0.37, 0.08, 0.10]),
            "size": np.exp(rng.normal(0, 0.5, n)) / math.exp(0.125),  # mean 1
            "u_province": u_province[province],
            "u_school": rng.normal(0, SCHOOL_SD, n),
        }
    )
