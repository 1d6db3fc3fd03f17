"""The structural model of the synthetic province, and the truth it plants.

Per school *i* and school year *t* (end year)::

    I   = computers_teaching / enrolment × 100       (computers per 100 pupils)
    T   = teachers_trained_cds / teachers             (trained teacher share, 0–1)
    U   = e_lessons / teachers                        (e-lessons per teacher, "use")
    SES = poor_household_share / 100
    U   = a0 + a_I·I + a_T·T + a_IT·I·T + use noise
    score = b0 + area_a + b_I·I + b_T·T + b_IT·I·T + b_U·U + b_SES·SES
            + year_t + u_district + s_district,t + u_school + ε

Infrastructure and SES are confounded through area type; a teacher-training
programme reaches districts in staggered waves and raises T; the effect of a
wave on the score, ATT(g, t), is computed from both potential outcomes with
shared noise. The parameters are :data:`~analysis.data.synth.constants.PARAMS`;
the district × year shocks s_district,t come from :mod:`~analysis.data.synth.shocks`.

Parallel trends (issue 16). The equation above is the same either way; what
moves over time differs. With ``parallel_trends=True`` the untreated outcomes trend
alike in every district, in expectation: every district's poor-household share
falls by the same points a year (spread over its schools in proportion to their
share, so none falls below zero), without the programme a school's trained share
stays at its baseline level, and the floor of infrastructure holds a school's level,
not each year's value. With ``parallel_trends=False`` the model plants the violation
the generator always had: SES falls by the same *proportion* everywhere, so by more
points in the poor mountain districts; trained shares grow organically, which pays
off more where infrastructure is higher (I·T); and the poorest schools, held at the
infrastructure floor in the first years, gain fewer computers. The never-treated
cities then trend differently from the districts the programme reached.

Why not hold the SES in the score at its baseline and let only the reported share
fall: the link models control for the reported, yearly share, and would then be
misspecified (over 30 clean provinces the clustered OLS slope of the trained share
came out 0.165 against a planted 0.230). Here the score follows the reported share,
as the link models assume.

:func:`draw` runs the stages in the order of the random stream (size, SES,
infrastructure, training, use, score); :func:`truth` reads the programme's
effect off the two potential outcomes. Arrays are (schools, years) unless noted.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from analysis.data.synth.constants import DISTRICTS, LEVELS, PARAMS, SCHOOL_YEARS

YEARS = np.array(SCHOOL_YEARS)  # end years, the columns of every (schools, years) array
YEARS.setflags(write=False)
N_YEARS = len(YEARS)


@dataclass(frozen=True)
class Schools:
    """The register columns the simulation reads, one entry per school."""

    area: np.ndarray
    level: np.ndarray
    district: np.ndarray
    ethnic: np.ndarray  # ethnic-minority share, 0–1
    urban: np.ndarray
    mountain: np.ndarray

    @classmethod
    def of(cls, schools: pd.DataFrame) -> Schools:
        """The arrays of the register's ``schools`` frame."""
        area = schools["area_type"].to_numpy()
        return cls(
            area=area,
            level=schools["school_level"].to_numpy(),
            district=schools["_district"].to_numpy(),
            ethnic=schools["ethnic_minority_share"].to_numpy() / 100,
            urban=area == "urban",
            mountain=area == "mountainous",
        )

    @property
    def n(self) -> int:
        return len(self.area)


@dataclass(frozen=True)
class Training:
    """Trained teachers without (0) and with (1) the programme, and who is treated when."""

    t_base: np.ndarray  # trained share before the first school year, (schools,)
    wave: np.ndarray  # first treated end year, 0 if never, (schools,)
    trained0: np.ndarray
    trained1: np.ndarray
    T0: np.ndarray
    T1: np.ndarray
    treated_now: np.ndarray


@dataclass(frozen=True)
class Structural:
    """What the structural model drew: both potential worlds and the observed one."""

    enrol: np.ndarray
    teachers: np.ndarray
    classrooms: np.ndarray
    ses: np.ndarray  # as reported: poor-household share / 100, one decimal in percent
    computers: np.ndarray
    infra: np.ndarray  # I, computers per 100 pupils
    training: Training
    y0: np.ndarray  # score without the programme
    y1: np.ndarray  # score with it
    effect: np.ndarray  # y1 - y0, taken before the shocks common to both, so exact
    shock: np.ndarray  # the district × year shock in both outcomes
    u_district: dict[str, float]
    u_s: np.ndarray  # school random effects, (schools,)
    trained: np.ndarray  # observed: treated schools show their treated outcome
    e_lessons: np.ndarray
    T: np.ndarray
    mean_score: np.ndarray


def draw(
    rng: np.random.Generator,
    s: Schools,
    *,
    shock: np.ndarray | None = None,
    parallel_trends: bool = True,
) -> Structural:
    """Run the stages of the structural model, in the order they consume ``rng``.

    Parameters
    ----------
    rng
        The stream that drew the register; the stages consume it in a fixed order,
        whatever the other arguments are.
    s
        The register's schools.
    shock
        The district × year shock of each school, (schools, years); none if ``None``.
    parallel_trends
        Whether the untreated outcomes trend in parallel (see the module docstring).

    Returns
    -------
    Structural
        Both potential worlds and the observed one.
    """
    enrol, teachers, classrooms = _size(rng, s)
    ses0, ses = _ses(rng, s, parallel=parallel_trends)
    computers, infra = _infrastructure(rng, s, ses0, enrol, floor_level=parallel_trends)
    training = _training(rng, s, teachers, organic_trend=not parallel_trends)
    use = _use_model(rng, infra, teachers)
    e_lessons0, e_lessons1 = use(training.T0), use(training.T1)
    score, u_district, u_s = _score_model(rng, s, infra, ses, teachers)
    base0, base1 = score(training.T0, e_lessons0), score(training.T1, e_lessons1)
    shock = np.zeros_like(base0) if shock is None else shock
    y0, y1 = base0 + shock, base1 + shock
    # Observed world: treated schools show their treated potential outcome.
    treated_now = training.treated_now
    trained = np.where(treated_now, training.trained1, training.trained0)
    return Structural(
        enrol=enrol,
        teachers=teachers,
        classrooms=classrooms,
        ses=ses,
        computers=computers,
        infra=infra,
        training=training,
        y0=y0,
        y1=y1,
        effect=base1 - base0,
        shock=shock,
        u_district=u_district,
        u_s=u_s,
        trained=trained,
        e_lessons=np.where(treated_now, e_lessons1, e_lessons0),
        T=trained / teachers,
        mean_score=np.round(np.where(treated_now, y1, y0), 4),
    )


def _size(rng: np.random.Generator, s: Schools) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Size: enrolment grows slowly; teachers and classrooms follow."""
    typical = np.array([LEVELS[lv][2] for lv in s.level], dtype=float)
    size_factor = np.where(s.urban, 1.45, np.where(s.mountain, 0.65, 1.0))
    enrol0 = typical * size_factor * rng.lognormal(0, 0.30, s.n)
    growth = rng.normal(0.01, 0.015, s.n)
    enrol = np.maximum(
        40, np.round(enrol0[:, None] * (1 + growth[:, None]) ** np.arange(N_YEARS)[None, :])
    ).astype(int)
    pupils_per_teacher = np.where(s.level == "primary", 21.0, 18.0) * np.where(s.mountain, 0.8, 1.0)
    teachers = np.maximum(
        8, np.round(enrol / pupils_per_teacher[:, None] * rng.normal(1, 0.05, (s.n, 1)))
    ).astype(int)
    classrooms = np.maximum(5, np.ceil(enrol / 33) + rng.integers(0, 4, (s.n, 1))).astype(int)
    return enrol, teachers, classrooms


def _ses(rng: np.random.Generator, s: Schools, *, parallel: bool) -> tuple[np.ndarray, np.ndarray]:
    """Socio-economic status (poor and near-poor households), falling over time: (base, yearly).

    With ``parallel`` every district falls by the same points a year, else by the
    same proportion (see the module docstring).
    """
    ses_base = {"urban": 0.03, "rural": 0.07, "mountainous": 0.16}
    ses0 = np.clip(
        np.array([ses_base[a] for a in s.area]) + 0.25 * s.ethnic + rng.normal(0, 0.04, s.n),
        0.0,
        0.85,
    )
    decline = PARAMS["ses_decline"]
    rate = (
        _parallel_decline_rates(ses0, s.district, decline["parallel_per_year"])
        if parallel
        else np.full(s.n, decline["proportional_per_year"])
    )
    ses = ses0[:, None] * (1 - rate[:, None] * np.arange(N_YEARS)[None, :])
    ses = np.round(ses * 100, 1) / 100  # as reported, one decimal in percent
    return ses0, ses


def _parallel_decline_rates(ses0: np.ndarray, district: np.ndarray, points: float) -> np.ndarray:
    """Each school's yearly proportional fall, so that its district falls by ``points`` a year.

    A school falls in proportion to its own share: the district's mean then falls by
    ``points`` (exactly, in this sample) and no share falls below zero. A district too
    little poor to lose ``points`` a year for the whole panel (only in tiny provinces)
    falls to zero by the last year instead: there the trend is not parallel.
    """
    rates = np.empty(len(ses0))
    for code in np.unique(district):
        members = district == code
        mean = float(ses0[members].mean())
        rates[members] = min(points / mean, 1 / (N_YEARS - 1)) if mean > 0 else 0.0
    return rates


def _infrastructure(
    rng: np.random.Generator,
    s: Schools,
    ses0: np.ndarray,
    enrol: np.ndarray,
    *,
    floor_level: bool,
) -> tuple[np.ndarray, np.ndarray]:
    """Infrastructure: computers per 100 pupils, confounded by area and SES.

    Every school has a few computers (at least 0.6 per 100 pupils). With ``floor_level``
    the floor holds the school's level, so a school at the floor grows like any other;
    otherwise it holds each year's value, and the poorest schools, stuck at the floor in
    the first years, grow less (a trend difference by area, through I and I·T).
    """
    ip = PARAMS["infrastructure"]
    base_i = np.array([ip["base_by_area"][a] for a in s.area])
    level = (
        base_i[:, None] + ip["ses_slope"] * ses0[:, None] + rng.normal(0, ip["school_sd"], (s.n, 1))
    )
    growth = ip["growth_per_year"] * np.arange(N_YEARS)[None, :]
    noise = rng.normal(0, 0.25, (s.n, N_YEARS))
    if floor_level:
        # yearly noise cut at two sd, symmetrically (its mean stays 0), so the value
        # stays above 0.1 without a second floor that would bend the growth again
        infra_latent = np.maximum(0.6, level) + growth + np.clip(noise, -0.5, 0.5)
    else:
        infra_latent = np.maximum(0.6, level + growth + noise)
    computers = np.round(infra_latent * enrol / 100).astype(int)
    return computers, computers / enrol * 100


def _training(
    rng: np.random.Generator, s: Schools, teachers: np.ndarray, *, organic_trend: bool
) -> Training:
    """Training: a baseline share, organic growth (if ``organic_trend``), the programme waves."""
    t_drawn = np.clip(rng.beta(2, 8, s.n), 0, 0.5)
    organic = PARAMS["training_organic_per_year"] * np.arange(1, N_YEARS + 1)
    if organic_trend:
        t_base = t_drawn
        t0_share = np.clip(t_base[:, None] + organic[None, :], 0, 0.95)
    else:
        # No untreated trend: the level organic growth reaches by the middle year, held,
        # so the shares (and the programme's effect) stay near the trending model's.
        t_base = t_drawn + organic[N_YEARS // 2]
        t0_share = np.clip(np.repeat(t_base[:, None], N_YEARS, axis=1), 0, 0.95)
    wave_of = {d[0]: d[6] for d in DISTRICTS}
    wave = np.array([wave_of[d] if wave_of[d] is not None else 0 for d in s.district])
    increase = PARAMS["programme"]["increase_in_trained_share"]
    delta = np.array([increase.get(str(w), 0.0) for w in wave])
    exposure = YEARS[None, :] - wave[:, None]
    ramp = np.where(wave[:, None] == 0, 0.0, np.clip((exposure + 1) / 2, 0, 1))
    t1_share = np.clip(t0_share + delta[:, None] * ramp, 0, 0.98)
    trained0 = np.round(t0_share * teachers).astype(int)
    trained1 = np.round(t1_share * teachers).astype(int)
    # Cumulative counts never fall, except when teachers leave the school.
    trained0 = np.minimum(np.maximum.accumulate(trained0, axis=1), teachers)
    trained1 = np.minimum(np.maximum(np.maximum.accumulate(trained1, axis=1), trained0), teachers)
    return Training(
        t_base=t_base,
        wave=wave,
        trained0=trained0,
        trained1=trained1,
        T0=trained0 / teachers,
        T1=trained1 / teachers,
        treated_now=ramp > 0,
    )


def _use_model(
    rng: np.random.Generator, infra: np.ndarray, teachers: np.ndarray
) -> Callable[[np.ndarray], np.ndarray]:
    """Use (e-lessons per teacher) as a function of T, with noise shared by both outcomes."""
    up = PARAMS["use"]
    use_noise = rng.normal(0, up["noise_sd"], (len(teachers), N_YEARS))

    def use(trained_share: np.ndarray) -> np.ndarray:
        mean = (
            up["a0"]
            + up["a_I"] * infra
            + up["a_T"] * trained_share
            + up["a_IT"] * infra * trained_share
            + use_noise
        )
        return np.maximum(0, np.round(mean * teachers)).astype(int)

    return use


def _score_model(
    rng: np.random.Generator, s: Schools, infra: np.ndarray, ses: np.ndarray, teachers: np.ndarray
) -> tuple[Callable[[np.ndarray, np.ndarray], np.ndarray], dict[str, float], np.ndarray]:
    """Draw the random effects and noise once; the score as a function of (T, e-lessons)."""
    sp = PARAMS["score"]
    district_codes = [d[0] for d in DISTRICTS]
    area_eff = np.array([sp["area"][a] for a in s.area])
    year_eff = np.array([sp["year"][str(y)] for y in YEARS])
    u_district = dict(
        zip(district_codes, rng.normal(0, sp["district_sd"], len(district_codes)), strict=True)
    )
    u_d = np.array([u_district[d] for d in s.district])
    u_s = rng.normal(0, sp["school_sd"], s.n)
    eps = rng.normal(0, sp["noise_sd"], (s.n, N_YEARS))

    def score(trained_share: np.ndarray, lessons: np.ndarray) -> np.ndarray:
        return (
            sp["b0"]
            + area_eff[:, None]
            + sp["b_I"] * infra
            + sp["b_T"] * trained_share
            + sp["b_IT"] * infra * trained_share
            + sp["b_U"] * lessons / teachers
            + sp["b_SES"] * ses
            + year_eff[None, :]
            + u_d[:, None]
            + u_s[:, None]
            + eps
        )

    return score, u_district, u_s


def truth(st: Structural) -> dict[str, Any]:
    """The planted truth: reduced-form slopes, the programme's ATT and the random effects."""
    use_p, score_p = PARAMS["use"], PARAMS["score"]
    return {
        "reduced_form": {
            "infra": score_p["b_I"] + score_p["b_U"] * use_p["a_I"],
            "trained_share": score_p["b_T"] + score_p["b_U"] * use_p["a_T"],
            "infra_x_trained_share": score_p["b_IT"] + score_p["b_U"] * use_p["a_IT"],
        },
        "programme": _programme_truth(st),
        "random_effects": {
            "district": {k: float(v) for k, v in st.u_district.items()},
            "school_sd_realised": float(np.std(st.u_s)),
        },
    }


def _programme_truth(st: Structural) -> dict[str, Any]:
    """Truth of the programme: ATT(g, t) from both potential outcomes, and its aggregates."""
    wave, T0, T1 = st.training.wave, st.training.T0, st.training.T1
    att_rows = []
    effect = st.effect
    for g in sorted({w for w in wave if w}):
        members = wave == g
        for j, year in enumerate(YEARS):
            att_rows.append(
                {
                    "cohort": int(g),
                    "year": int(year),
                    "event_time": int(year - g),
                    "n_schools": int(members.sum()),
                    "att": float(effect[members, j].mean()),
                    "mean_increase_in_trained_share": float((T1 - T0)[members, j].mean()),
                }
            )
    att = pd.DataFrame(att_rows)
    post = att[att["event_time"] >= 0]
    by_event = (
        post.assign(w=post["n_schools"])
        .groupby("event_time")
        .apply(lambda d: float(np.average(d["att"], weights=d["w"])), include_groups=False)
    )
    by_cohort = post.groupby("cohort")["att"].mean()
    return {
        "waves": {d[0]: {"district": d[1], "first_treated_year": d[6]} for d in DISTRICTS},
        "never_treated_districts": [d[0] for d in DISTRICTS if d[6] is None],
        "att_gt": att.to_dict(orient="records"),
        "att_by_event_time": {str(int(k)): float(v) for k, v in by_event.items()},
        "att_by_cohort": {str(int(k)): float(v) for k, v in by_cohort.items()},
        "att_overall": float(np.average(post["att"], weights=post["n_schools"])),
        "aggregation": "simple: ATT(g,t) for t >= g weighted by cohort size",
    }


def parallel_trends_truth(holds: bool) -> dict[str, Any]:
    """The truth file's words on parallel trends: whether they hold, and why (not)."""
    if holds:
        note = (
            "Untreated outcomes trend in parallel across districts, in expectation: every "
            "district's poor-household share falls by the same "
            f"{100 * PARAMS['ses_decline']['parallel_per_year']:g} percentage points a year "
            "(each school in proportion to its share), without the programme a school's "
            "trained-teacher share stays at its baseline level (no organic growth), and a "
            "school at the infrastructure floor grows like any other. The score equation is "
            "unchanged and follows the reported yearly share. Differences between the "
            "untreated trends of districts are noise: school-year noise and the district x "
            "year shocks."
        )
    else:
        note = (
            "Planted violation (parallel_trends=False): the score follows the yearly "
            "poor-household share, which falls 6% a year, so more in absolute terms in the "
            "poorer mountain districts, and untreated trained shares grow "
            f"{PARAMS['training_organic_per_year']} a year, which raises scores more where "
            "infrastructure is higher (the infra x trained interaction); the poorest schools, "
            "held at the infrastructure floor in the first years, gain fewer computers. "
            "Untreated trends differ by area, and the never-treated districts are the two "
            "cities: a staggered DiD against them is biased upwards (over 200 clean provinces "
            "by +0.007 on the overall ATT, +0.013 for the 2022 wave, +0.007 for 2023)."
        )
    return {"holds": holds, "note": note}
