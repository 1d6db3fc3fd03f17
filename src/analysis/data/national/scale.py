"""The planted parameters of the national system and :class:`Scale`, its size and seed."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from scipy.special import ndtr

YEARS = (2021, 2022, 2023, 2024, 2025)
SUBJECTS = {"toan": -0.2, "ngu_van": 0.3, "tieng_anh": -0.4}  # planted subject offsets
SCORE_SD = 1.4
GRAND_MEAN = 5.8
YEAR_TREND = 0.05
TRAINING_EFFECT = 1.0  # score points per unit of trained teacher share
INFRA_EFFECT = 0.03  # score points per computer per 100 pupils
PROVINCE_SD = 0.35
SCHOOL_SD = 0.5
PASS_MARK = 5.0
CORRUPTIONS = ("school_id_missing", "score_out_of_range", "pass_flag_unknown")
AREAS = ("urban", "rural", "mountainous")
LEVELS = ("primary", "lower_secondary", "upper_secondary", "multi_level")


@dataclass(frozen=True)
class Scale:
    """How big the national system is. ``Scale()`` is the full national size.

    ``pupil_rows`` is a target: the number of pupils per school-year is drawn,
    so the rows written are close to it (the truth records the exact count).

    Attributes
    ----------
    schools : int
        Schools in the register.
    pupil_rows : int
        Target number of pupil result rows (one per pupil and subject), over all years.
    provinces : int
        Provinces; schools are spread over them at random.
    districts_per_province : int
        Districts in each province.
    years : tuple of int
        School years, each as its end year (2021 is 2020–2021).
    subjects : tuple of str
        Subjects each pupil sits (keys of :data:`SUBJECTS` carry a planted offset; others 0).
    bad_share : float
        Share (0–1) of pupil rows corrupted on purpose.
    rows_per_file : int
        Pupil rows per Parquet part at most.
    row_group_rows : int
        Rows per Parquet row group (and about the rows drawn per batch).
    seed : int
        Random seed; the same scale writes the same files.

    Example
    -------
    >>> small = Scale().scaled(0.01)  # 500 schools, about 200,000 pupil rows
    """

    schools: int = 50_000
    pupil_rows: int = 20_000_000
    provinces: int = 63
    districts_per_province: int = 11
    years: tuple[int, ...] = YEARS
    subjects: tuple[str, ...] = tuple(SUBJECTS)
    bad_share: float = 0.0005
    rows_per_file: int = 4_000_000
    row_group_rows: int = 1_000_000
    seed: int = 20250901

    def scaled(self, factor: float) -> Scale:
        """The same system with ``factor`` times the schools and pupil rows.

        Parameters
        ----------
        factor
            Multiplier of ``schools`` and ``pupil_rows`` (0.01 is a hundredth).

        Returns
        -------
        Scale
            A copy with at least 10 schools, 1,000 pupil rows and 2 provinces, and
            about one province per 50 schools up to this scale's ``provinces``.
        """
        return Scale(
            **{
                **asdict(self),
                "schools": max(10, round(self.schools * factor)),
                "pupil_rows": max(1000, round(self.pupil_rows * factor)),
                "provinces": max(2, min(self.provinces, round(self.schools * factor / 50))),
            }
        )


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _normal_cdf(x: np.ndarray) -> np.ndarray:
    return ndtr(x)
