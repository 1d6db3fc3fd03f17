"""The national school-year panel: the indicator columns, the hierarchy, planted outcomes."""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from analysis.data.national.register import schools
from analysis.data.national.scale import (
    GRAND_MEAN,
    INFRA_EFFECT,
    PASS_MARK,
    SCORE_SD,
    TRAINING_EFFECT,
    YEAR_TREND,
    Scale,
    _normal_cdf,
    _sigmoid,
)


class _Rows(NamedTuple):
    """The panel's rows, one per school and school year (schools outer, years inner)."""

    school: np.ndarray  # the school's position in the register
    year: np.ndarray  # end year of the school year
    step: np.ndarray  # years since the first school year
    area: np.ndarray  # area type: urban, rural or mountainous
    urban: np.ndarray  # 1.0 for an urban school, else 0.0
    mountain: np.ndarray  # 1.0 for a mountainous school, else 0.0

    @property
    def n(self) -> int:
        return len(self.school)


class _Resources(NamedTuple):
    """Size and equipment of each school-year."""

    enrolment: np.ndarray
    teachers: np.ndarray
    classrooms: np.ndarray
    computers: np.ndarray
    infra: np.ndarray  # computers per 100 pupils, as realised


def _rows(register: pd.DataFrame, years: np.ndarray) -> _Rows:
    """Every school of the register in every year (no random draw)."""
    n, t = len(register), len(years)
    school = np.repeat(np.arange(n), t)
    year = np.tile(years, n)
    area = register["area_type"].to_numpy()[school]
    return _Rows(
        school=school,
        year=year,
        step=year - years[0],
        area=area,
        urban=(area == "urban").astype(float),
        mountain=(area == "mountainous").astype(float),
    )


def _resources(rng: np.random.Generator, register: pd.DataFrame, rows: _Rows) -> _Resources:
    """Enrolment, teachers, classrooms and computers (more in towns, growing each year)."""
    enrolment = np.maximum(
        30, rng.poisson(np.maximum(1, 450 * register["size"].to_numpy()[rows.school]))
    )
    teachers = np.maximum(2, np.round(enrolment / rng.uniform(16, 24, rows.n))).astype(int)
    classrooms = np.maximum(2, np.round(enrolment / rng.uniform(28, 38, rows.n))).astype(int)
    level = np.log(6 + 3 * rows.urban - 2 * rows.mountain + 0.8 * rows.step)
    infra = np.clip(rng.lognormal(level, 0.35), 0.5, 60)
    computers = np.round(enrolment * infra / 100).astype(int)
    infra = computers / enrolment * 100  # the realised ratio, as the indicators see it
    return _Resources(enrolment, teachers, classrooms, computers, infra)


def _training(
    rng: np.random.Generator, rows: _Rows, teachers: np.ndarray, n_schools: int
) -> tuple[np.ndarray, np.ndarray]:
    """Teachers trained in CĐS: the count and its share of the teachers."""
    school_training = rng.normal(0, 0.6, n_schools)[rows.school]
    trained_share = _sigmoid(-1.0 + 0.6 * rows.step + school_training - 0.3 * rows.mountain)
    trained = rng.binomial(teachers, trained_share)
    return trained, trained / teachers


def _planted_mean(
    register: pd.DataFrame, rows: _Rows, trained_share: np.ndarray, infra: np.ndarray
) -> np.ndarray:
    """The subject-free part of ``mu`` (module docstring)."""
    return (
        GRAND_MEAN
        + register["u_province"].to_numpy()[rows.school]
        + register["u_school"].to_numpy()[rows.school]
        + YEAR_TREND * rows.step
        + TRAINING_EFFECT * (trained_share - 0.5)
        + INFRA_EFFECT * (infra - 8)
    )


def _reported(
    rng: np.random.Generator,
    rows: _Rows,
    res: _Resources,
    trained: np.ndarray,
    trained_share: np.ndarray,
) -> dict[str, Any]:
    """The reported CĐS columns from ``computers_internet`` to ``security_incidents_reported``,
    drawn in template order (the order fixes the random stream)."""
    n, step, urban = rows.n, rows.step, rows.urban
    teachers, classrooms, computers = res.teachers, res.classrooms, res.computers

    def share(p) -> np.ndarray:
        return rng.random(n) < p

    return {
        "computers_internet": rng.binomial(computers, 0.75 + 0.2 * urban),
        "classrooms_projector_internet": rng.binomial(
            classrooms, np.clip(0.3 + 0.1 * step + 0.2 * urban, 0, 1)
        ),
        "bandwidth_mbps": np.round(rng.lognormal(np.log(40 + 60 * urban + 15 * step), 0.5), 1),
        "has_internet": share(0.9 + 0.09 * urban),
        "teachers_online_account": rng.binomial(teachers, np.clip(trained_share + 0.2, 0, 1)),
        "teachers_trained_cds": trained,
        "training_hours": np.round(trained * rng.uniform(4, 20, n), 1),
        "teachers_digital_material": rng.binomial(teachers, trained_share * 0.6),
        "e_lessons": rng.poisson(teachers * (1 + 4 * trained_share)),
        "lms_in_use": share(0.3 + 0.1 * step),
        "online_teaching_weeks": rng.integers(0, 12, n),
        "pupils_digital_records": rng.binomial(res.enrolment, np.clip(0.5 + 0.1 * step, 0, 1)),
        "mis_modules_in_use": rng.integers(0, 8, n),
        "online_admission": share(0.2 + 0.15 * step),
        "cashless_fees": share(0.3 + 0.15 * step),
        "family_school_app": share(0.4 + 0.1 * step),
        "it_staff": rng.integers(0, 3, n),
        "security_designated_person": share(0.5),
        "security_backups": share(0.4),
        "security_incidents_reported": rng.poisson(0.2, n),
    }


def _add_hierarchy(frame: pd.DataFrame, register: pd.DataFrame, school: np.ndarray) -> None:
    """The hierarchy columns of every level, in place (no reform: analysis = actual units)."""
    for level, source in (("unit", "district"), ("district", "district")):
        frame[f"{level}_id"] = register[f"{source}_id"].to_numpy()[school]
        frame[f"{level}_name"] = register[f"{source}_name"].to_numpy()[school]
    frame["analysis_district_id"] = frame["district_id"]
    frame["analysis_district_name"] = frame["district_name"]
    for level in ("province", "analysis_province"):
        frame[f"{level}_id"] = register["province_id"].to_numpy()[school]
        frame[f"{level}_name"] = register["province_name"].to_numpy()[school]


def panel(scale: Scale, register: pd.DataFrame | None = None) -> pd.DataFrame:
    """The national school-year panel: indicator columns, hierarchy, planted outcomes.

    Columns follow ``config/columns.yml`` (``enrolment``, ``computers_teaching``,
    …), so :func:`analysis.indicators.compute` runs on it, with the hierarchy
    columns of every level (``unit`` = district; the analysis district and
    province are the district and province: no reform in this system).
    ``planted_mean`` is the subject-free part of ``mu``.

    Parameters
    ----------
    scale
        The size of the system and its seed (the panel draws from the stream
        ``[scale.seed, 2]``: the same scale gives the same panel).
    register
        The school register from :func:`schools`; default ``schools(scale)``.
        Pass it when the register is needed too, so it is drawn once.

    Returns
    -------
    pandas.DataFrame
        One row per school and school year (``len(register) × len(scale.years)``
        rows, schools in register order, years ascending): ``school_id``,
        ``school_name``, ``year`` (end year of the school year), ``school_year``
        (``"2020-2021"``), the reported columns of the panel contract
        (``enrolment`` … ``security_incidents_reported``), ``poor_household_share``
        (%), ``mean_test_score`` ((planted mean − 5.8) ÷ 1.4, in score SDs),
        ``exam_pass_rate`` (%, planted), the planted drivers ``infra`` (computers
        per 100 pupils), ``trained_share`` (share of teachers trained, 0–1) and
        ``ses`` (0–1), ``area_type``, ``school_level``, ``planted_mean`` (score
        points, 0–10 scale), ``planted_pass_rate`` (share, 0–1), then
        ``unit_*``, ``district_*``, ``analysis_district_*``, ``province_*`` and
        ``analysis_province_*`` id and name pairs.

    Example
    -------
    >>> scale = national.Scale(schools=200, pupil_rows=50_000, provinces=4)  # doctest: +SKIP
    >>> school_years = national.panel(scale)  # doctest: +SKIP
    >>> school_years.groupby("year")["trained_share"].mean()  # doctest: +SKIP
    """
    register = schools(scale) if register is None else register
    rng = np.random.default_rng([scale.seed, 2])
    rows = _rows(register, np.asarray(scale.years))
    # the draws keep their order: the same seed gives the same panel
    res = _resources(rng, register, rows)
    trained, trained_share = _training(rng, rows, res.teachers, len(register))
    ses = np.clip(rng.beta(2, 8, rows.n) + 0.15 * rows.mountain, 0, 1)
    planted = _planted_mean(register, rows, trained_share, res.infra)
    p_pass = 1 - _normal_cdf((PASS_MARK - 0.005 - planted) / SCORE_SD)
    school = rows.school
    frame = pd.DataFrame(
        {
            "school_id": register["school_id"].to_numpy()[school],
            "school_name": register["school_name"].to_numpy()[school],
            "year": rows.year.astype("int64"),
            "school_year": [f"{y - 1}-{y}" for y in rows.year],
            "enrolment": res.enrolment.astype("int64"),
            "teachers": res.teachers,
            "classrooms": res.classrooms,
            "computers_teaching": res.computers,
            **_reported(rng, rows, res, trained, trained_share),
            "poor_household_share": np.round(ses * 100, 1),
            "mean_test_score": np.round((planted - GRAND_MEAN) / SCORE_SD, 4),
            "exam_pass_rate": np.round(p_pass * 100, 2),
            "infra": res.infra,
            "trained_share": trained_share,
            "ses": ses,
            "area_type": rows.area,
            "school_level": register["school_level"].to_numpy()[school],
            "planted_mean": planted,
            "planted_pass_rate": p_pass,
        }
    )
    _add_hierarchy(frame, register, school)
    return frame
