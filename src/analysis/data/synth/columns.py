"""The report columns outside the structural model: equipment, teachers, pupils, services.

A DOET report carries many more numbers than the structural model needs; they are drawn
here from the model's arrays so they move with it (better-equipped schools report more
projector rooms, higher scores mean higher pass rates), and the Decision 4725
self-assessment points are derived from them. Each stage returns the panel columns it
draws, keyed by their contract names; the stages run in the order they consume ``rng``.
"""

from __future__ import annotations

import numpy as np

from analysis.data.synth.structural import N_YEARS, Schools, Structural

Columns = dict[str, np.ndarray]  # panel column -> (schools, years) array

_YR = np.arange(N_YEARS)[None, :]  # years since the first school year, as a row
_YR.setflags(write=False)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def report_columns(rng: np.random.Generator, s: Schools, st: Structural) -> Columns:
    """Draw every report column the structural model does not give, in stream order."""
    cols = _equipment(rng, s, st)
    cols |= _teachers(rng, st)
    cols |= _pupils(rng, s, st)
    cols |= _services(rng, s, cols)
    cols |= _self_assessment(rng, st, cols)
    return cols


def _equipment(rng: np.random.Generator, s: Schools, st: Structural) -> Columns:
    """Internet, connected computers, bandwidth, projector rooms, LMS and MIS modules."""
    n, yr = s.n, _YR
    has_internet = rng.random((n, N_YEARS)) < np.clip(
        np.where(s.mountain, 0.86, 0.97)[:, None] + 0.03 * yr, 0, 1
    )
    p_conn = np.clip(np.where(s.mountain, 0.55, 0.75)[:, None] + 0.07 * yr, 0, 0.98)
    computers_internet = np.where(has_internet, rng.binomial(st.computers, p_conn), 0)
    bandwidth = np.where(
        has_internet,
        np.round(
            np.where(s.urban, 60.0, np.where(s.mountain, 18.0, 35.0))[:, None]
            * 1.3**yr
            * rng.lognormal(0, 0.3, (n, N_YEARS)),
            1,
        ),
        0.0,
    )
    p_proj = np.clip(0.12 + 0.10 * yr + 0.03 * (st.infra - 4), 0.02, 0.95)
    projector_rooms = np.where(has_internet, rng.binomial(st.classrooms, p_proj), 0)
    lms = rng.random((n, N_YEARS)) < _sigmoid(-1.6 + 0.25 * (st.infra - 4) + 0.6 * yr)
    mis_modules = rng.binomial(7, np.clip(0.35 + 0.11 * yr, 0, 0.97), (n, N_YEARS))
    return {
        "computers_internet": computers_internet,
        "has_internet": has_internet,
        "bandwidth_mbps": bandwidth,
        "classrooms_projector_internet": projector_rooms,
        "lms_in_use": lms,
        "mis_modules_in_use": mis_modules,
    }


def _teachers(rng: np.random.Generator, st: Structural) -> Columns:
    """Online accounts, teachers trained this year, training hours, digital material."""
    yr, teachers, trained = _YR, st.teachers, st.trained
    online_account = rng.binomial(teachers, np.clip(0.55 + 0.1 * yr, 0, 0.99))
    baseline = np.round(st.training.t_base * teachers[:, 0])[:, None]
    trained_year = np.diff(trained, axis=1, prepend=baseline)
    trained_year = np.clip(trained_year, 0, None).astype(int)
    trained_year = np.minimum(trained_year, trained)
    hours = np.round(trained_year * rng.gamma(8, 2.5, trained.shape) + teachers * 1.5, 1)
    digital_material = rng.binomial(teachers, np.clip(0.08 + 0.55 * st.T, 0, 0.95))
    return {
        "teachers_online_account": online_account,
        "teachers_trained_cds_year": trained_year,
        "training_hours": hours,
        "teachers_digital_material": digital_material,
    }


def _pupils(rng: np.random.Generator, s: Schools, st: Structural) -> Columns:
    """Digital pupil records, exam pass rate (from the score), weeks taught online (COVID)."""
    n, yr = s.n, _YR
    p_records = np.where(
        (s.level == "primary")[:, None],
        np.clip(0.15 + 0.19 * yr, 0, 0.93),
        np.clip(0.05 + 0.11 * yr, 0, 0.6),
    )
    records = rng.binomial(st.enrol, p_records)
    pass_rate = np.round(
        100 * _sigmoid(2.3 + 2.5 * st.mean_score + rng.normal(0, 0.15, (n, N_YEARS))), 1
    )
    covid_weeks = np.array([7.0, 11.0, 1.0, 0.0, 0.0])
    online_weeks = rng.poisson(covid_weeks[None, :] * np.where(s.urban, 1.2, 0.9)[:, None])
    return {
        "exam_pass_rate": pass_rate,
        "pupils_digital_records": records,
        "online_teaching_weeks": np.minimum(online_weeks, 30),
    }


def _services(rng: np.random.Generator, s: Schools, cols: Columns) -> Columns:
    """Online services to families, IT staff and information security."""
    n, yr, urban = s.n, _YR, s.urban[:, None]
    admission = rng.random((n, N_YEARS)) < _sigmoid(-1.5 + 0.8 * yr + 1.0 * urban)
    cashless = rng.random((n, N_YEARS)) < _sigmoid(-2.0 + 0.9 * yr + 1.2 * urban)
    family_app = rng.random((n, N_YEARS)) < _sigmoid(-0.5 + 0.6 * yr)
    it_staff = rng.binomial(
        2, np.where(s.level == "upper_secondary", 0.55, 0.15)[:, None], (n, N_YEARS)
    )
    sec_person = rng.random((n, N_YEARS)) < np.clip(0.25 + 0.12 * yr + 0.3 * (it_staff > 0), 0, 1)
    backups = rng.random((n, N_YEARS)) < np.clip(0.2 + 0.12 * yr + 0.25 * (it_staff > 0), 0, 1)
    incidents = rng.poisson(0.25 + 0.1 * cols["has_internet"])
    return {
        "online_admission": admission,
        "cashless_fees": cashless,
        "family_school_app": family_app,
        "it_staff": it_staff,
        "security_designated_person": sec_person,
        "security_backups": backups,
        "security_incidents_reported": incidents,
    }


def _self_assessment(rng: np.random.Generator, st: Structural, cols: Columns) -> Columns:
    """Decision 4725 self-assessment points, from the school's real conditions."""
    shape, yr, infra, teachers = st.infra.shape, _YR, st.infra, st.teachers
    lms = cols["lms_in_use"]
    c1_3 = 6 * rng.binomial(5, np.clip(0.25 + 0.35 * lms + 0.03 * infra, 0, 0.95))
    dm_share = cols["teachers_digital_material"] / teachers
    c1_4 = np.clip(np.round(10 * np.minimum(1, dm_share * 1.3)), 0, 10).astype(int)
    cbt = rng.random(shape) < _sigmoid(-2.2 + 0.25 * infra + 0.3 * yr)
    exchange = cbt & (rng.random(shape) < 0.6)
    c1_5 = 15 * cbt + 5 * exchange
    c1_6 = np.round(
        7 * cols["teachers_online_account"] / teachers + 7 * st.T + 6 * dm_share
    ).astype(int)
    studio = rng.random(shape) < np.clip(0.08 + 0.06 * yr, 0, 1)
    projector_rooms = cols["classrooms_projector_internet"]
    c1_7 = np.round(8 * projector_rooms / st.classrooms + 7 * np.minimum(1, infra / 8) + 5 * studio)
    m1 = rng.random(shape) < np.clip(0.8 + 0.04 * yr, 0, 1)
    module_points = np.array([6, 10, 6, 10, 10, 6, 6])
    # which of the 7 modules are in use: a random order per school-year, the first k
    order = rng.random((*shape, 7)).argsort(axis=2).argsort(axis=2)
    in_use = order < cols["mis_modules_in_use"][:, :, None]
    rules_point = 6 * (rng.random(shape) < 0.8)
    c2_3 = (in_use * module_points).sum(axis=2) + rules_point
    c2_4 = (
        8 * cols["family_school_app"] + 12 * cols["online_admission"] + 10 * cols["cashless_fees"]
    )
    m2 = rng.random(shape) < np.clip(0.85 + 0.03 * yr, 0, 1)
    return {
        "m1_online_teaching_plan": m1,
        "c1_3_online_software": c1_3,
        "c1_4_digitised_material": c1_4,
        "c1_5_computer_testing": c1_5,
        "c1_6_teachers": c1_6,
        "c1_7_infrastructure": c1_7,
        "m2_steering_plan": m2,
        "c2_3_management_system": c2_3,
        "c2_4_online_services": c2_4,
    }
