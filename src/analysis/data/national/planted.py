"""The planted truth: school × year × subject, planted mean and pass rate, pupils drawn."""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.data.national.scale import PASS_MARK, SCORE_SD, SUBJECTS, Scale, _normal_cdf


def truth(scale: Scale, school_years: pd.DataFrame) -> pd.DataFrame:
    """School × year × subject: planted mean and pass rate and the pupils drawn.

    Parameters
    ----------
    scale
        The size of the system and its seed (stream ``[scale.seed, 3]``); the
        pupils per school-year are drawn so that their total is about
        ``scale.pupil_rows``, in proportion to enrolment.
    school_years
        The panel from :func:`panel` (uses ``school_id``, ``year``,
        ``enrolment`` and ``planted_mean``).

    Returns
    -------
    pandas.DataFrame
        One row per school-year and subject of ``scale.subjects``:
        ``school_id``, ``year``, ``subject``, ``planted_mean`` (score points,
        with the subject's offset), ``planted_pass_rate`` (share, 0–1) and
        ``n_records`` (pupils drawn; the same for every subject of a school-year).
    """
    rng = np.random.default_rng([scale.seed, 3])
    per_group = scale.pupil_rows / (len(school_years) * len(scale.subjects))
    sizes = school_years["enrolment"].to_numpy() / school_years["enrolment"].mean()
    pupils = np.maximum(1, rng.poisson(per_group * sizes))
    k = len(scale.subjects)
    offsets = np.array([SUBJECTS.get(s, 0.0) for s in scale.subjects])
    mean = np.repeat(school_years["planted_mean"].to_numpy(), k) + np.tile(offsets, len(pupils))
    return pd.DataFrame(
        {
            "school_id": np.repeat(school_years["school_id"].to_numpy(), k),
            "year": np.repeat(school_years["year"].to_numpy(), k),
            "subject": np.tile(np.asarray(scale.subjects), len(pupils)),
            "planted_mean": mean,
            "planted_pass_rate": 1 - _normal_cdf((PASS_MARK - 0.005 - mean) / SCORE_SD),
            "n_records": np.repeat(pupils, k).astype("int64"),
        }
    )
