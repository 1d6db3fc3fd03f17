"""What the synthetic province is made of: years, ids, districts, names and planted parameters.

Everything here is data (plus the school-year label); the other modules of the generator
read it and never change it. The district names are real, everything else is synthetic.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

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

# Planted parameters (see analysis.data.synth.structural). Units: score in pupil-level SD.
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
    "training_organic_per_year": 0.04,  # untreated growth, only without parallel trends
    # poor-household share: proportional fall without parallel trends, the same points
    # (share units: 0.005 = half a percentage point) in every district with them
    "ses_decline": {"proportional_per_year": 0.06, "parallel_per_year": 0.005},
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

# Default sd (score units) of the district × year shocks (analysis.data.synth.shocks), per
# profile: real districts have them (issue 16), small next to the school spread of 0.15;
# the clean profile leaves them out so a single province checks estimators without them.
DISTRICT_YEAR_SD = {"clean": 0.0, "realistic": 0.03, "messy": 0.03}


def school_year_label(end_year: int) -> str:
    """The school year ending in ``end_year``, as the reports write it.

    Parameters
    ----------
    end_year
        The calendar year in which the school year ends (the panel's ``year``).

    Returns
    -------
    str
        ``"<start>-<end>"``, the label used in file names and ``school_year`` cells.

    Example
    -------
    >>> school_year_label(2025)
    '2024-2025'
    """
    return f"{end_year - 1}-{end_year}"
