"""A synthetic Thái Nguyên province with planted, documented effects.

No school-level CĐS data is public, so the workbench ships a province whose
truth is known: every estimator can be checked against it. The district names
are real; everything else (schools, communes, numbers) is **synthetic**.

The structural model (per school *i* and school year *t*, end year)::

    I   = computers_teaching / enrolment × 100       (computers per 100 pupils)
    T   = teachers_trained_cds / teachers             (trained teacher share, 0–1)
    U   = e_lessons / teachers                        (e-lessons per teacher, "use")
    SES = poor_household_share / 100
    U   = a0 + a_I·I + a_T·T + a_IT·I·T + use noise
    score = b0 + area_a + b_I·I + b_T·T + b_IT·I·T + b_U·U + b_SES·SES
            + year_t + u_district + u_school + ε

Infrastructure and SES are confounded through area type; a teacher-training
programme reaches districts in staggered waves and raises T; the effect of a
wave on the score, ATT(g, t), is computed from both potential outcomes with
shared noise. All of it goes to ``truth.json`` beside the raw files.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xlsxwriter

from analysis.core.text import strip_diacritics
from analysis.data import schema

SCHOOL_YEARS = [2021, 2022, 2023, 2024, 2025]  # end years: 2020–21 … 2024–25
REFORM_DATE = dt.date(2025, 7, 1)
PROVINCE_ID = "19"
NEW_PROVINCE_ID = "19N"
FIXED_TIMESTAMP = dt.datetime(2025, 6, 30, 0, 0, 0)

# (GSO code, Vietnamese name, English name, area type, ethnic-minority share,
#  number of schools, programme wave: first school year (end year) treated or None)
# Ethnic-minority shares and school counts are synthetic orders of magnitude.
DISTRICTS = [
    ("164", "Thành phố Thái Nguyên", "Thai Nguyen city", "urban", 0.08, 112, None),
    ("165", "Thành phố Sông Công", "Song Cong city", "urban", 0.06, 34, None),
    ("172", "Thành phố Phổ Yên", "Pho Yen city", "urban", 0.10, 64, 2024),
    ("173", "Huyện Phú Bình", "Phu Binh district", "rural", 0.12, 66, 2024),
    ("169", "Huyện Đồng Hỷ", "Dong Hy district", "rural", 0.32, 54, 2023),
    ("171", "Huyện Đại Từ", "Dai Tu district", "mountainous", 0.46, 94, 2023),
    ("168", "Huyện Phú Lương", "Phu Luong district", "mountainous", 0.44, 58, 2023),
    ("167", "Huyện Định Hóa", "Dinh Hoa district", "mountainous", 0.72, 62, 2022),
    ("170", "Huyện Võ Nhai", "Vo Nhai district", "mountainous", 0.76, 52, 2022),
]

LEVELS = {
    # level: (share of schools, Vietnamese name prefix, typical enrolment)
    "primary": (0.45, "Trường Tiểu học", 420),
    "lower_secondary": (0.37, "Trường THCS", 430),
    "upper_secondary": (0.08, "Trường THPT", 1050),
    "multi_level": (0.10, "Trường TH và THCS", 320),
}
LEVEL_VI = {
    "primary": "Tiểu học",
    "lower_secondary": "Trung học cơ sở",
    "upper_secondary": "Trung học phổ thông",
    "multi_level": "Liên cấp",
}
UNIT_LEVEL_VI = {"province": "Cấp tỉnh", "district": "Cấp huyện", "commune": "Cấp xã"}
AREA_VI = {"urban": "Thành thị", "rural": "Nông thôn", "mountainous": "Miền núi"}

COMMUNE_SYLLABLES = [
    "An", "Bình", "Hòa", "Minh", "Tân", "Phúc", "Thịnh", "Quang", "Hưng", "Lạc",
    "Sơn", "Trung", "Đức", "Thành", "Phú", "Yên", "Hợp", "Tiến", "Thuận", "Vinh",
    "Cường", "Khánh", "Lương", "Nghĩa", "Đồng", "Linh", "Hà", "Xuân", "Kim", "Long",
]  # fmt: skip

# Planted parameters (see module docstring). Units: score in pupil-level SD.
PARAMS: dict[str, Any] = {
    "use": {"a0": 1.0, "a_I": 0.15, "a_T": 2.0, "a_IT": 0.10, "noise_sd": 0.30},
    "score": {
        "b0": 0.0,
        "b_I": 0.010,
        "b_T": 0.150,
        "b_IT": 0.030,
        "b_U": 0.040,
        "b_SES": -0.80,
        "area": {"urban": 0.12, "rural": 0.0, "mountainous": -0.12},
        "year": {"2021": -0.05, "2022": -0.08, "2023": 0.0, "2024": 0.02, "2025": 0.04},
        "district_sd": 0.05,
        "school_sd": 0.15,
        "noise_sd": 0.10,
    },
    "programme": {
        "name": "Provincial CĐS teacher-training programme (synthetic)",
        "increase_in_trained_share": {"2022": 0.45, "2023": 0.35, "2024": 0.30},
        "ramp": "half the increase in the first school year, all of it from the second",
    },
    "training_organic_per_year": 0.04,
    "infrastructure": {
        "base_by_area": {"urban": 7.0, "rural": 5.0, "mountainous": 3.5},
        "ses_slope": -6.0,
        "growth_per_year": 0.6,
        "school_sd": 1.2,
    },
}


@dataclass(frozen=True)
class Realism:
    """Switchable flaws, each recorded in the truth file."""

    missing_reports: float = 0.0  # share of school-years with no report
    header_variants: bool = False  # some files use other spellings and orders
    impossible_values: float = 0.0  # share of rows with a value that must be rejected
    duplicate_rows: float = 0.0  # share of rows sent twice (2/3 exact, 1/3 conflicting)
    outliers: float = 0.0  # share of rows with a valid but extreme value
    text_numbers: float = 0.0  # share of numeric cells typed as Vietnamese text


PROFILES = {
    "clean": Realism(),
    "realistic": Realism(0.01, True, 0.005, 0.004, 0.004, 0.02),
    "messy": Realism(0.03, True, 0.03, 0.02, 0.01, 0.10),
}


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


def school_year_label(end_year: int) -> str:
    return f"{end_year - 1}-{end_year}"


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _build_register(rng: np.random.Generator, scale: float = 1.0) -> tuple[pd.DataFrame, ...]:
    old_from = dt.date(2008, 8, 1)
    old_to = REFORM_DATE - dt.timedelta(days=1)
    units = [
        {
            "unit_id": PROVINCE_ID,
            "unit_name": "Tỉnh Thái Nguyên",
            "unit_name_en": "Thai Nguyen province",
            "unit_level": "province",
            "parent_id": None,
            "area_type": None,
            "ethnic_minority_share": None,
            "valid_from": old_from,
            "valid_to": old_to,
        },
        {
            "unit_id": NEW_PROVINCE_ID,
            "unit_name": "Tỉnh Thái Nguyên (sau sáp nhập)",
            "unit_name_en": "Thai Nguyen province (merged)",
            "unit_level": "province",
            "parent_id": None,
            "area_type": None,
            "ethnic_minority_share": None,
            "valid_from": REFORM_DATE,
            "valid_to": None,
        },
    ]
    schools, membership, crosswalk = [], [], []
    used_communes: set[str] = set()
    level_names = list(LEVELS)
    level_p = np.array([LEVELS[k][0] for k in level_names])
    for code, name_vi, name_en, area, ethnic, full_size, _wave in DISTRICTS:
        n_schools = max(4, round(full_size * scale))
        units.append(
            {
                "unit_id": code,
                "unit_name": name_vi,
                "unit_name_en": name_en,
                "unit_level": "district",
                "parent_id": PROVINCE_ID,
                "area_type": area,
                "ethnic_minority_share": round(ethnic * 100, 1),
                "valid_from": old_from,
                "valid_to": old_to,
            }
        )
        # Old communes (for school names) merge into new communes of about 3.
        n_old = max(6, n_schools // 5)
        communes = []
        while len(communes) < n_old:
            a, b = rng.choice(len(COMMUNE_SYLLABLES), size=2, replace=False)
            candidate = f"{COMMUNE_SYLLABLES[a]} {COMMUNE_SYLLABLES[b]}"
            if candidate not in used_communes:
                used_communes.add(candidate)
                communes.append(candidate)
        n_new = math.ceil(n_old / 3)
        new_ids = [f"{code}{k + 1:02d}" for k in range(n_new)]
        for k, new_id in enumerate(new_ids):
            kind = "Phường" if area == "urban" else "Xã"
            units.append(
                {
                    "unit_id": new_id,
                    "unit_name": f"{kind} {communes[3 * k]}",
                    "unit_name_en": f"{communes[3 * k]} {'ward' if area == 'urban' else 'commune'}",
                    "unit_level": "commune",
                    "parent_id": NEW_PROVINCE_ID,
                    "area_type": area,
                    "ethnic_minority_share": None,
                    "valid_from": REFORM_DATE,
                    "valid_to": None,
                }
            )
        levels = rng.choice(level_names, size=n_schools, p=level_p)
        seen_names: dict[str, int] = {}
        district_schools = []
        for seq, level in enumerate(levels, start=1):
            commune_idx = int(rng.integers(0, n_old))
            base = f"{LEVELS[level][1]} {communes[commune_idx]}"
            seen_names[base] = seen_names.get(base, 0) + 1
            name = base if seen_names[base] == 1 else f"{base} số {seen_names[base]}"
            school_id = f"{PROVINCE_ID}{code}{seq:03d}"
            private = area == "urban" and rng.random() < 0.04
            schools.append(
                {
                    "school_id": school_id,
                    "school_name": name,
                    "school_level": level,
                    "ownership": "Tư thục" if private else "Công lập",
                    "area_type": area,
                    "ethnic_minority_share": float(
                        np.round(np.clip(rng.normal(ethnic, 0.08), 0, 0.99) * 100, 1)
                    ),
                    "_district": code,
                    "_new_unit": new_ids[min(commune_idx // 3, n_new - 1)],
                }
            )
            district_schools.append(school_id)
            membership.append(
                {
                    "school_id": school_id,
                    "unit_id": code,
                    "valid_from": old_from,
                    "valid_to": old_to,
                }
            )
            membership.append(
                {
                    "school_id": school_id,
                    "unit_id": schools[-1]["_new_unit"],
                    "valid_from": REFORM_DATE,
                    "valid_to": None,
                }
            )
    schools_df = pd.DataFrame(schools)
    # Crosswalk: share of each new unit's schools that came from each old district.
    # A few schools near borders move to a neighbouring district's new commune.
    movers = rng.choice(len(schools_df), size=12, replace=False)
    new_units = [u["unit_id"] for u in units if u["unit_level"] == "commune"]
    member_df = pd.DataFrame(membership)
    for idx in movers:
        target = new_units[int(rng.integers(0, len(new_units)))]
        sid = schools_df.at[idx, "school_id"]
        schools_df.at[idx, "_new_unit"] = target
        mask = (member_df["school_id"] == sid) & (member_df["valid_from"] == REFORM_DATE)
        member_df.loc[mask, "unit_id"] = target
    counts = (
        schools_df.rename(columns={"_new_unit": "new_unit_id", "_district": "old_unit_id"})
        .groupby(["new_unit_id", "old_unit_id"])
        .size()
        .rename("n")
        .reset_index()
    )
    counts["share"] = (counts["n"] / counts.groupby("new_unit_id")["n"].transform("sum")).round(4)
    crosswalk = counts[["new_unit_id", "old_unit_id", "share"]].to_dict(orient="records")
    units_df = pd.DataFrame(units)
    for col in ("valid_from", "valid_to"):
        units_df[col] = pd.to_datetime(units_df[col]).astype("datetime64[us]")
        member_df[col] = pd.to_datetime(member_df[col]).astype("datetime64[us]")
    return units_df, schools_df, member_df, pd.DataFrame(crosswalk)


def _simulate(rng: np.random.Generator, schools: pd.DataFrame) -> tuple[pd.DataFrame, dict]:
    p = PARAMS
    n = len(schools)
    years = np.array(SCHOOL_YEARS)
    n_years = len(years)
    district_codes = [d[0] for d in DISTRICTS]
    wave_of = {d[0]: d[6] for d in DISTRICTS}
    area = schools["area_type"].to_numpy()
    level = schools["school_level"].to_numpy()
    district = schools["_district"].to_numpy()
    ethnic = schools["ethnic_minority_share"].to_numpy() / 100
    urban = area == "urban"
    mountain = area == "mountainous"

    # Size: enrolment grows slowly; teachers and classrooms follow.
    typical = np.array([LEVELS[lv][2] for lv in level], dtype=float)
    size_factor = np.where(urban, 1.45, np.where(mountain, 0.65, 1.0))
    enrol0 = typical * size_factor * rng.lognormal(0, 0.30, n)
    growth = rng.normal(0.01, 0.015, n)
    enrol = np.maximum(
        40, np.round(enrol0[:, None] * (1 + growth[:, None]) ** np.arange(n_years)[None, :])
    ).astype(int)
    pupils_per_teacher = np.where(level == "primary", 21.0, 18.0) * np.where(mountain, 0.8, 1.0)
    teachers = np.maximum(
        8, np.round(enrol / pupils_per_teacher[:, None] * rng.normal(1, 0.05, (n, 1)))
    ).astype(int)
    classrooms = np.maximum(5, np.ceil(enrol / 33) + rng.integers(0, 4, (n, 1))).astype(int)

    # Socio-economic status (poor and near-poor households), falling over time.
    ses_base = {"urban": 0.03, "rural": 0.07, "mountainous": 0.16}
    ses0 = np.clip(
        np.array([ses_base[a] for a in area]) + 0.25 * ethnic + rng.normal(0, 0.04, n), 0.0, 0.85
    )
    ses = ses0[:, None] * (1 - 0.06 * np.arange(n_years))[None, :]
    ses = np.round(ses * 100, 1) / 100  # as reported, one decimal in percent

    # Infrastructure: computers per 100 pupils, confounded by area and SES.
    ip = p["infrastructure"]
    base_i = np.array([ip["base_by_area"][a] for a in area])
    infra_latent = np.maximum(
        0.6,
        base_i[:, None]
        + ip["ses_slope"] * ses0[:, None]
        + rng.normal(0, ip["school_sd"], (n, 1))
        + ip["growth_per_year"] * np.arange(n_years)[None, :]
        + rng.normal(0, 0.25, (n, n_years)),
    )
    computers = np.round(infra_latent * enrol / 100).astype(int)
    infra = computers / enrol * 100

    # Training: a baseline share, organic growth, and the programme waves.
    t_base = np.clip(rng.beta(2, 8, n), 0, 0.5)
    t0_share = np.clip(
        t_base[:, None] + p["training_organic_per_year"] * np.arange(1, n_years + 1)[None, :],
        0,
        0.95,
    )
    wave = np.array([wave_of[d] if wave_of[d] is not None else 0 for d in district])
    increase = p["programme"]["increase_in_trained_share"]
    delta = np.array([increase.get(str(w), 0.0) for w in wave])
    exposure = years[None, :] - wave[:, None]
    ramp = np.where(wave[:, None] == 0, 0.0, np.clip((exposure + 1) / 2, 0, 1))
    t1_share = np.clip(t0_share + delta[:, None] * ramp, 0, 0.98)
    trained0 = np.round(t0_share * teachers).astype(int)
    trained1 = np.round(t1_share * teachers).astype(int)
    # Cumulative counts never fall, except when teachers leave the school.
    trained0 = np.minimum(np.maximum.accumulate(trained0, axis=1), teachers)
    trained1 = np.minimum(np.maximum(np.maximum.accumulate(trained1, axis=1), trained0), teachers)
    T0 = trained0 / teachers
    T1 = trained1 / teachers
    treated_now = ramp > 0

    # Use (e-lessons per teacher) with shared noise across potential outcomes.
    up = p["use"]
    use_noise = rng.normal(0, up["noise_sd"], (n, n_years))

    def use(trained_share: np.ndarray) -> np.ndarray:
        mean = (
            up["a0"]
            + up["a_I"] * infra
            + up["a_T"] * trained_share
            + up["a_IT"] * infra * trained_share
            + use_noise
        )
        return np.maximum(0, np.round(mean * teachers)).astype(int)

    e_lessons0, e_lessons1 = use(T0), use(T1)

    sp = p["score"]
    area_eff = np.array([sp["area"][a] for a in area])
    year_eff = np.array([sp["year"][str(y)] for y in years])
    u_district = dict(
        zip(district_codes, rng.normal(0, sp["district_sd"], len(district_codes)), strict=True)
    )
    u_d = np.array([u_district[d] for d in district])
    u_s = rng.normal(0, sp["school_sd"], n)
    eps = rng.normal(0, sp["noise_sd"], (n, n_years))

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

    y0, y1 = score(T0, e_lessons0), score(T1, e_lessons1)
    # Observed world: treated schools show their treated potential outcome.
    trained = np.where(treated_now, trained1, trained0)
    e_lessons = np.where(treated_now, e_lessons1, e_lessons0)
    observed = np.where(treated_now, y1, y0)
    T = trained / teachers
    mean_score = np.round(observed, 4)

    # Everything else a DOET report carries.
    yr = np.arange(n_years)[None, :]
    has_internet = rng.random((n, n_years)) < np.clip(
        np.where(mountain, 0.86, 0.97)[:, None] + 0.03 * yr, 0, 1
    )
    p_conn = np.clip(np.where(mountain, 0.55, 0.75)[:, None] + 0.07 * yr, 0, 0.98)
    computers_internet = np.where(has_internet, rng.binomial(computers, p_conn), 0)
    bandwidth = np.where(
        has_internet,
        np.round(
            np.where(urban, 60.0, np.where(mountain, 18.0, 35.0))[:, None]
            * 1.3**yr
            * rng.lognormal(0, 0.3, (n, n_years)),
            1,
        ),
        0.0,
    )
    p_proj = np.clip(0.12 + 0.10 * yr + 0.03 * (infra - 4), 0.02, 0.95)
    projector_rooms = np.where(has_internet, rng.binomial(classrooms, p_proj), 0)
    lms = rng.random((n, n_years)) < _sigmoid(-1.6 + 0.25 * (infra - 4) + 0.6 * yr)
    mis_modules = rng.binomial(7, np.clip(0.35 + 0.11 * yr, 0, 0.97), (n, n_years))
    online_account = rng.binomial(teachers, np.clip(0.55 + 0.1 * yr, 0, 0.99))
    trained_year = np.diff(trained, axis=1, prepend=np.round(t_base * teachers[:, 0])[:, None])
    trained_year = np.clip(trained_year, 0, None).astype(int)
    trained_year = np.minimum(trained_year, trained)
    hours = np.round(trained_year * rng.gamma(8, 2.5, (n, n_years)) + teachers * 1.5, 1)
    digital_material = rng.binomial(teachers, np.clip(0.08 + 0.55 * T, 0, 0.95))
    p_records = np.where(
        (level == "primary")[:, None],
        np.clip(0.15 + 0.19 * yr, 0, 0.93),
        np.clip(0.05 + 0.11 * yr, 0, 0.6),
    )
    records = rng.binomial(enrol, p_records)
    pass_rate = np.round(
        100 * _sigmoid(2.3 + 2.5 * mean_score + rng.normal(0, 0.15, (n, n_years))), 1
    )
    covid_weeks = np.array([7.0, 11.0, 1.0, 0.0, 0.0])
    online_weeks = rng.poisson(covid_weeks[None, :] * np.where(urban, 1.2, 0.9)[:, None])
    online_weeks = np.minimum(online_weeks, 30)
    admission = rng.random((n, n_years)) < _sigmoid(-1.5 + 0.8 * yr + 1.0 * urban[:, None])
    cashless = rng.random((n, n_years)) < _sigmoid(-2.0 + 0.9 * yr + 1.2 * urban[:, None])
    family_app = rng.random((n, n_years)) < _sigmoid(-0.5 + 0.6 * yr)
    it_staff = rng.binomial(2, np.where(level == "upper_secondary", 0.55, 0.15)[:, None], (n, 5))
    sec_person = rng.random((n, n_years)) < np.clip(0.25 + 0.12 * yr + 0.3 * (it_staff > 0), 0, 1)
    backups = rng.random((n, n_years)) < np.clip(0.2 + 0.12 * yr + 0.25 * (it_staff > 0), 0, 1)
    incidents = rng.poisson(0.25 + 0.1 * has_internet)

    # Decision 4725 self-assessment points, from the school's real conditions.
    c1_3 = 6 * rng.binomial(5, np.clip(0.25 + 0.35 * lms + 0.03 * infra, 0, 0.95))
    dm_share = digital_material / teachers
    c1_4 = np.clip(np.round(10 * np.minimum(1, dm_share * 1.3)), 0, 10).astype(int)
    cbt = rng.random((n, n_years)) < _sigmoid(-2.2 + 0.25 * infra + 0.3 * yr)
    exchange = cbt & (rng.random((n, n_years)) < 0.6)
    c1_5 = 15 * cbt + 5 * exchange
    c1_6 = np.round(7 * online_account / teachers + 7 * T + 6 * dm_share).astype(int)
    studio = rng.random((n, n_years)) < np.clip(0.08 + 0.06 * yr, 0, 1)
    c1_7 = np.round(8 * projector_rooms / classrooms + 7 * np.minimum(1, infra / 8) + 5 * studio)
    m1 = rng.random((n, n_years)) < np.clip(0.8 + 0.04 * yr, 0, 1)
    module_points = np.array([6, 10, 6, 10, 10, 6, 6])
    # which of the 7 modules are in use: a random order per school-year, the first k
    order = rng.random((n, n_years, 7)).argsort(axis=2).argsort(axis=2)
    in_use = order < mis_modules[:, :, None]
    rules_point = 6 * (rng.random((n, n_years)) < 0.8)
    c2_3 = (in_use * module_points).sum(axis=2) + rules_point
    c2_4 = 8 * family_app + 12 * admission + 10 * cashless
    m2 = rng.random((n, n_years)) < np.clip(0.85 + 0.03 * yr, 0, 1)

    def long(values: np.ndarray) -> np.ndarray:
        return np.asarray(values).reshape(-1)

    ids = np.repeat(schools["school_id"].to_numpy(), n_years)
    end_years = np.tile(years, n)
    panel = pd.DataFrame(
        {
            "school_id": pd.array(ids, dtype="str"),
            "year": end_years.astype("int64"),
            "school_year": pd.array([school_year_label(y) for y in end_years], dtype="str"),
            "school_name": pd.array(np.repeat(schools["school_name"].to_numpy(), n_years), "str"),
            "enrolment": long(enrol),
            "teachers": long(teachers),
            "classrooms": long(classrooms),
            "computers_teaching": long(computers),
            "computers_internet": long(computers_internet),
            "has_internet": long(has_internet),
            "bandwidth_mbps": long(bandwidth),
            "classrooms_projector_internet": long(projector_rooms),
            "lms_in_use": long(lms),
            "mis_modules_in_use": long(mis_modules),
            "teachers_online_account": long(online_account),
            "teachers_trained_cds_year": long(trained_year),
            "teachers_trained_cds": long(trained),
            "training_hours": long(hours),
            "teachers_digital_material": long(digital_material),
            "mean_test_score": long(mean_score),
            "exam_pass_rate": long(pass_rate),
            "pupils_digital_records": long(records),
            "e_lessons": long(e_lessons),
            "online_teaching_weeks": long(online_weeks),
            "online_admission": long(admission),
            "cashless_fees": long(cashless),
            "family_school_app": long(family_app),
            "it_staff": long(it_staff),
            "security_designated_person": long(sec_person),
            "security_backups": long(backups),
            "security_incidents_reported": long(incidents),
            "poor_household_share": long(np.round(ses * 100, 1)),
            "m1_online_teaching_plan": long(m1),
            "c1_3_online_software": long(c1_3),
            "c1_4_digitised_material": long(c1_4),
            "c1_5_computer_testing": long(c1_5),
            "c1_6_teachers": long(c1_6),
            "c1_7_infrastructure": long(c1_7),
            "m2_steering_plan": long(m2),
            "c2_3_management_system": long(c2_3),
            "c2_4_online_services": long(c2_4),
        }
    )
    panel = conform(panel, "panel")

    # Truth of the programme: ATT(g, t) from both potential outcomes.
    att_rows = []
    effect = y1 - y0
    for g in sorted({w for w in wave if w}):
        members = wave == g
        for j, year in enumerate(years):
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
    overall = float(np.average(post["att"], weights=post["n_schools"]))
    by_event = (
        post.assign(w=post["n_schools"])
        .groupby("event_time")
        .apply(lambda d: float(np.average(d["att"], weights=d["w"])), include_groups=False)
    )
    by_cohort = post.groupby("cohort")["att"].mean()
    use_p, score_p = p["use"], p["score"]
    reduced = {
        "infra": score_p["b_I"] + score_p["b_U"] * use_p["a_I"],
        "trained_share": score_p["b_T"] + score_p["b_U"] * use_p["a_T"],
        "infra_x_trained_share": score_p["b_IT"] + score_p["b_U"] * use_p["a_IT"],
    }
    programme_truth = {
        "waves": {d[0]: {"district": d[1], "first_treated_year": d[6]} for d in DISTRICTS},
        "never_treated_districts": [d[0] for d in DISTRICTS if d[6] is None],
        "att_gt": att.to_dict(orient="records"),
        "att_by_event_time": {str(int(k)): float(v) for k, v in by_event.items()},
        "att_by_cohort": {str(int(k)): float(v) for k, v in by_cohort.items()},
        "att_overall": overall,
        "aggregation": "simple: ATT(g,t) for t >= g weighted by cohort size",
    }
    extra = {
        "reduced_form": reduced,
        "programme": programme_truth,
        "random_effects": {
            "district": {k: float(v) for k, v in u_district.items()},
            "school_sd_realised": float(np.std(u_s)),
        },
    }
    return panel, extra


def conform(frame: pd.DataFrame, table: str) -> pd.DataFrame:
    """Cast ``frame`` to the processed dtypes of ``table`` (columns in contract order)."""
    columns = schema.processed_columns(table)
    out = pd.DataFrame(index=frame.index)
    for name, dtype in columns.items():
        if name not in frame:
            continue
        values = frame[name]
        if dtype == "boolean":
            out[name] = values.astype("boolean")
        elif dtype.startswith("datetime"):
            out[name] = pd.to_datetime(values).astype(dtype)
        else:
            out[name] = values.astype(dtype)
    return out.reset_index(drop=True)


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
        Share of the ~600 schools to generate (tests use a small province).
    """
    if profile not in PROFILES:
        raise ValueError(f"unknown profile {profile!r}; expected one of {', '.join(PROFILES)}")
    rng = np.random.default_rng(seed)
    units, schools, membership, crosswalk = _build_register(rng, scale)
    panel, extra = _simulate(rng, schools)
    truth: dict[str, Any] = {
        "synthetic": True,
        "note": (
            "SYNTHETIC DATA. District names are real; schools, communes and all "
            "numbers are generated. Do not cite as facts about Thái Nguyên."
        ),
        "seed": seed,
        "profile": profile,
        "school_years": [school_year_label(y) for y in SCHOOL_YEARS],
        "n_schools": len(schools),
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
    province = Province(seed, profile, units, schools, membership, crosswalk, panel, truth)
    _apply_realism(province, PROFILES[profile], np.random.default_rng(seed + 1))
    return province


# --------------------------------------------------------------------------
# Realism: what the DOET actually receives


def _header_variant(kind: str, spec: schema.ColumnSpec) -> str:

    if kind == "no_diacritics":
        return strip_diacritics(spec.header).upper()
    if kind == "synonym":
        vietnamese = [s for s in spec.synonyms if strip_diacritics(s) != s]
        return vietnamese[0] if vietnamese else spec.header
    if kind == "spacing":
        return "  " + spec.header.replace(" ", "  ").lower() + " "
    return spec.header


def _apply_realism(province: Province, realism: Realism, rng: np.random.Generator) -> None:
    panel = province.panel
    record: dict[str, Any] = {"settings": realism.__dict__.copy()}
    n = len(panel)
    order = rng.permutation(n)
    cursor = 0

    def take(rate: float) -> np.ndarray:
        nonlocal cursor
        k = round(rate * n)
        chosen = np.sort(order[cursor : cursor + k])
        cursor += k
        return chosen

    missing = take(realism.missing_reports)
    impossible = take(realism.impossible_values)
    duplicated = take(realism.duplicate_rows)
    outliers = take(realism.outliers)
    record["missing_reports"] = [
        {"school_id": panel.at[i, "school_id"], "year": int(panel.at[i, "year"])} for i in missing
    ]

    reports = panel.astype(object).where(panel.notna(), None)
    reports["_cell_text"] = [{} for _ in range(n)]  # column -> text typed instead of a number
    impossible_log = []
    kinds = [
        ("teachers_trained_cds", "trained_le_teachers"),
        ("computers_internet", "connected_le_computers"),
        ("enrolment", "range"),
        ("exam_pass_rate", "range"),
        ("computers_teaching", "not_a_number"),
        ("school_id", "unknown_school"),
    ]
    for k, i in enumerate(impossible):
        column, rule = kinds[k % len(kinds)]
        original = reports.at[i, column]
        if rule == "trained_le_teachers":
            value: Any = int(reports.at[i, "teachers"]) + 3
        elif rule == "connected_le_computers":
            value = int(reports.at[i, "computers_teaching"]) + 5
        elif column == "enrolment":
            value = -int(original)
        elif column == "exam_pass_rate":
            value = 112.5
        elif rule == "not_a_number":
            value = "chưa có số liệu"
            reports.at[i, "_cell_text"][column] = value
        else:
            value = "19999" + f"{k:03d}"
        reports.at[i, column] = value
        impossible_log.append(
            {
                "school_id": panel.at[i, "school_id"],
                "year": int(panel.at[i, "year"]),
                "column": column,
                "original": original if not isinstance(original, np.generic) else original.item(),
                "value": value,
                "expected_rule": rule,
            }
        )
    record["impossible_values"] = impossible_log

    outlier_log = []
    for k, i in enumerate(outliers):
        column, factor = [("bandwidth_mbps", 40.0), ("training_hours", 25.0)][k % 2]
        original = float(reports.at[i, column])
        # extreme but inside the valid range: the quality module must flag it, not ingest
        ceiling = 0.9 * schema.contract("panel")[column].max
        value = round(min(max(original, 1.0) * factor, ceiling), 1)
        reports.at[i, column] = value
        outlier_log.append(
            {
                "school_id": panel.at[i, "school_id"],
                "year": int(panel.at[i, "year"]),
                "column": column,
                "original": original,
                "value": value,
            }
        )
    record["outliers"] = outlier_log

    # Numbers typed as text the Vietnamese way ("1.234", "12,5", "85%").
    text_log = 0
    numeric = ["enrolment", "bandwidth_mbps", "exam_pass_rate", "training_hours"]
    if realism.text_numbers:
        untouched = np.setdiff1d(np.arange(n), np.concatenate([impossible, missing]))
        chosen = rng.choice(untouched, size=round(realism.text_numbers * n), replace=False)
        for k, i in enumerate(np.sort(chosen)):
            column = numeric[k % len(numeric)]
            value = reports.at[i, column]
            if value is None:
                continue
            if column == "enrolment":
                text = f"{int(value):,}".replace(",", ".")
            elif column == "exam_pass_rate":
                text = f"{value:.1f}".replace(".", ",") + "%"
            else:
                text = f"{value:,.1f}".replace(",", " ").replace(".", ",").replace(" ", ".")
            reports.at[i, "_cell_text"][column] = text
            text_log += 1
    record["text_numbers"] = text_log

    keep = np.setdiff1d(np.arange(n), missing)
    rows = reports.iloc[keep]
    extra_rows = []
    duplicate_log = []
    for k, i in enumerate(duplicated):
        copy = reports.iloc[[i]].copy()
        copy.at[copy.index[0], "_cell_text"] = dict(copy.iloc[0]["_cell_text"])
        kind = "conflict" if k % 3 == 2 else "exact"
        if kind == "conflict":
            copy.at[copy.index[0], "enrolment"] = int(reports.at[i, "enrolment"]) + 7
            copy.at[copy.index[0], "_cell_text"].pop("enrolment", None)
        extra_rows.append(copy)
        duplicate_log.append(
            {"school_id": panel.at[i, "school_id"], "year": int(panel.at[i, "year"]), "kind": kind}
        )
    record["duplicate_rows"] = duplicate_log
    if extra_rows:
        rows = pd.concat([rows, *extra_rows])

    variants = {}
    if realism.header_variants:
        variants = {2022: "no_diacritics", 2023: "synonym", 2024: "spacing"}
    record["header_variants"] = {school_year_label(y): v for y, v in variants.items()}
    record["unknown_columns"] = (
        [{"school_year": school_year_label(2024), "header": "Ghi chú"}] if variants else []
    )
    for year in SCHOOL_YEARS:
        province.reports[year] = rows[rows["year"] == year]
    province.truth["realism"] = record
    province.truth["header_variants"] = variants


# --------------------------------------------------------------------------
# Writing the files a DOET receives


def _bool_text(value: Any) -> str | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return "Có" if bool(value) else "Không"


def _workbook(path: Path) -> xlsxwriter.Workbook:
    book = xlsxwriter.Workbook(str(path))
    book.set_properties(
        {
            "title": "Synthetic Thái Nguyên CĐS data (dữ liệu mô phỏng)",
            "author": "cds-workbench synth",
            "created": FIXED_TIMESTAMP,
        }
    )
    return book


def _write_sheet(book, name: str, title: list[str], headers: list[str], rows: list[list]):
    sheet = book.add_worksheet(name)
    bold = book.add_format({"bold": True})
    head = book.add_format({"bold": True, "text_wrap": True, "border": 1, "bg_color": "#DDEBF7"})
    for r, line in enumerate(title):
        sheet.write_string(r, 0, line, bold)
    header_row = len(title) + 1  # one blank row between title and header
    for c, text in enumerate(headers):
        sheet.write_string(header_row, c, text, head)
    for r, values in enumerate(rows, start=header_row + 1):
        for c, value in enumerate(values):
            if value is None:
                continue
            if isinstance(value, str):
                sheet.write_string(r, c, value)
            elif isinstance(value, bool | np.bool_):
                sheet.write_string(r, c, "Có" if value else "Không")
            elif isinstance(value, dt.date | dt.datetime | pd.Timestamp):
                sheet.write_string(r, c, pd.Timestamp(value).strftime("%d/%m/%Y"))
            else:
                number = float(value)
                if not math.isnan(number):
                    sheet.write_number(r, c, number)
    sheet.freeze_panes(header_row + 1, 2)
    return sheet


def report_filename(end_year: int) -> str:
    return f"bao_cao_cds_{school_year_label(end_year)}.xlsx"


REGISTER_FILENAME = "danh_muc_truong.xlsx"


def write(province: Province, out: Path) -> list[Path]:
    """Write the raw files (one workbook per school year, the register, truth.json)."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    specs = schema.contract("panel")
    variants = province.truth.get("header_variants", {})
    rng = np.random.default_rng(province.seed + 2)
    for year, rows in province.reports.items():
        kind = variants.get(year, "canonical")
        columns = list(specs)
        if kind == "synonym":  # another template version: other order
            head, tail = columns[:3], columns[3:]
            columns = head + [tail[i] for i in rng.permutation(len(tail))]
        headers = [_header_variant(kind, specs[c]) for c in columns]
        if kind == "spacing":
            headers.append("Ghi chú")
        body = []
        for record in rows.to_dict(orient="records"):
            texts = record["_cell_text"]
            line = []
            for c in columns:
                value = texts.get(c, record[c])
                if specs[c].dtype == "bool":
                    value = _bool_text(value)
                line.append(value)
            if kind == "spacing":
                line.append(None)
            body.append(line)
        path = out / report_filename(year)
        book = _workbook(path)
        _write_sheet(
            book,
            "Báo cáo",
            [
                "SỞ GIÁO DỤC VÀ ĐÀO TẠO TỈNH THÁI NGUYÊN",
                f"BÁO CÁO SỐ LIỆU CHUYỂN ĐỔI SỐ NĂM HỌC {school_year_label(year)}"
                " (DỮ LIỆU MÔ PHỎNG / SYNTHETIC)",
            ],
            headers,
            body,
        )
        book.close()
        written.append(path)

    path = out / REGISTER_FILENAME
    book = _workbook(path)
    title = ["SỞ GIÁO DỤC VÀ ĐÀO TẠO TỈNH THÁI NGUYÊN", "DANH MỤC TRƯỜNG (DỮ LIỆU MÔ PHỎNG)"]
    tables = {
        "Danh sách trường": ("schools", province.schools),
        "Đơn vị hành chính": ("units", province.units),
        "Trực thuộc": ("membership", province.membership),
        "Bảng chuyển đổi": ("crosswalk", province.crosswalk),
    }
    for sheet_name, (table, frame) in tables.items():
        contract = schema.contract(table)
        values = []
        for record in frame.to_dict(orient="records"):
            line = []
            for c in contract:
                value = record.get(c)
                if value is None or pd.isna(value):
                    value = None
                elif table == "schools" and c == "school_level":
                    value = LEVEL_VI[value]
                elif c == "area_type":
                    value = AREA_VI[value]
                elif c == "unit_level":
                    value = UNIT_LEVEL_VI[value]
                line.append(value)
            values.append(line)
        _write_sheet(book, sheet_name, title, [s.header for s in contract.values()], values)
    book.close()
    written.append(path)

    truth_path = out / "truth.json"
    truth_path.write_text(
        json.dumps(province.truth, ensure_ascii=False, indent=2, default=_json_default) + "\n",
        encoding="utf-8",
    )
    written.append(truth_path)
    return written


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, dt.date | pd.Timestamp):
        return value.isoformat()
    raise TypeError(f"cannot write {type(value).__name__} to JSON")
