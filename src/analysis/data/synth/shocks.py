"""District × year shocks: what hits every school of a district in one school year.

A district exam board that marks harder one year, a flood that closes the schools of a
valley for weeks: such shocks move the scores of all schools of a district together, in
one school year, whether or not the district was reached by the programme. They are what
makes errors clustered by district, and what a school-clustered interval cannot see.

The shocks come from their own random stream (``[seed, 16]``, issue 16), so switching them
on or off changes nothing else in the province; with the same seed the shocks of two
standard deviations differ only by the factor between them.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from analysis.data.synth.constants import DISTRICT_YEAR_SD, DISTRICTS, SCHOOL_YEARS

STREAM = 16  # the second entry of the shocks' seed sequence, [seed, STREAM]


def resolve_sd(profile: str, district_year_sd: float | None) -> float:
    """The shock standard deviation to use: the given one, or the profile's default.

    Parameters
    ----------
    profile
        A key of :data:`~analysis.data.synth.constants.DISTRICT_YEAR_SD`.
    district_year_sd
        Standard deviation in score units, or ``None`` for the profile's default.

    Returns
    -------
    float
        A finite, non-negative standard deviation.

    Raises
    ------
    ValueError
        If the given standard deviation is negative or not finite.
    """
    sd = DISTRICT_YEAR_SD[profile] if district_year_sd is None else float(district_year_sd)
    if not math.isfinite(sd) or sd < 0:
        raise ValueError(f"district_year_sd must be a finite number >= 0, got {district_year_sd}")
    return sd


def draw(seed: int, sd: float) -> np.ndarray:
    """Draw the shocks: (districts in :data:`DISTRICTS` order, school years), normal(0, sd).

    The standard normals are drawn whatever ``sd`` is, so the shocks scale with it.
    """
    rng = np.random.default_rng([seed, STREAM])
    return rng.normal(0.0, sd, (len(DISTRICTS), len(SCHOOL_YEARS)))


def of_schools(shocks: np.ndarray, district: np.ndarray) -> np.ndarray:
    """Each school's row of district shocks: (schools, years) from the schools' district codes."""
    row_of = {d[0]: k for k, d in enumerate(DISTRICTS)}
    return shocks[[row_of[code] for code in district]]


def truth(shocks: np.ndarray, sd: float) -> dict[str, Any]:
    """The truth file's record of the shocks: the sd and each district's realised shocks."""
    return {
        "sd": sd,
        "note": (
            "added to the score of every school of the district in that school year, "
            "in both potential outcomes (the programme's effect is unchanged)"
        ),
        "by_district": {
            d[0]: {str(y): float(v) for y, v in zip(SCHOOL_YEARS, row, strict=True)}
            for d, row in zip(DISTRICTS, shocks, strict=True)
        },
    }
