"""The school register: administrative units, schools, their membership and the crosswalk.

Before the reform (:data:`REFORM_DATE`) schools belong to districts; after it the district
level is gone and each school belongs to a new commune, made of about three old ones. The
steps below draw from one random stream in a fixed order (communes, levels and schools per
district, then the border movers), so the same seed gives the same register.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import numpy as np
import pandas as pd

from analysis.data.synth.constants import (
    COMMUNE_SYLLABLES,
    DISTRICTS,
    LEVELS,
    NEW_PROVINCE_ID,
    PROVINCE_ID,
    REFORM_DATE,
)

OLD_FROM = dt.date(2008, 8, 1)  # the old units and memberships are valid from here …
OLD_TO = REFORM_DATE - dt.timedelta(days=1)  # … to the day before the reform
N_MOVERS = 12  # schools near a border that move to a neighbouring district's new commune


def build_register(
    rng: np.random.Generator, scale: float = 1.0
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Draw the register: (units, schools, membership, crosswalk) frames."""
    units = _province_units()
    schools: list[dict[str, Any]] = []
    membership: list[dict[str, Any]] = []
    used_communes: set[str] = set()
    for code, name_vi, name_en, area, ethnic, full_size, _wave in DISTRICTS:
        n_schools = max(4, round(full_size * scale))
        units.append(
            _unit(code, name_vi, name_en, "district", PROVINCE_ID, area, ethnic, after_reform=False)
        )
        # Old communes (for school names) merge into new communes of about 3.
        communes = _commune_names(rng, max(6, n_schools // 5), used_communes)
        new_ids, commune_units = _new_communes(code, area, communes)
        units.extend(commune_units)
        district_schools = _district_schools(rng, code, area, ethnic, n_schools, communes, new_ids)
        schools.extend(district_schools)
        membership.extend(m for school in district_schools for m in _memberships(school))
    schools_df = pd.DataFrame(schools)
    member_df = pd.DataFrame(membership)
    new_units = [u["unit_id"] for u in units if u["unit_level"] == "commune"]
    _move_border_schools(rng, schools_df, member_df, new_units)
    crosswalk = _crosswalk(schools_df)
    units_df = pd.DataFrame(units)
    for col in ("valid_from", "valid_to"):
        units_df[col] = pd.to_datetime(units_df[col]).astype("datetime64[us]")
        member_df[col] = pd.to_datetime(member_df[col]).astype("datetime64[us]")
    return units_df, schools_df, member_df, crosswalk


def _unit(
    unit_id: str,
    name: str,
    name_en: str,
    level: str,
    parent_id: str | None,
    area: str | None = None,
    ethnic: float | None = None,
    *,
    after_reform: bool,
) -> dict[str, Any]:
    """One row of the units table: old units end the day before the reform, new ones start on it."""
    return {
        "unit_id": unit_id,
        "unit_name": name,
        "unit_name_en": name_en,
        "unit_level": level,
        "parent_id": parent_id,
        "area_type": area,
        "ethnic_minority_share": None if ethnic is None else round(ethnic * 100, 1),
        "valid_from": REFORM_DATE if after_reform else OLD_FROM,
        "valid_to": None if after_reform else OLD_TO,
    }


def _province_units() -> list[dict[str, Any]]:
    """The province before the reform and the merged province after it."""
    return [
        _unit(
            PROVINCE_ID,
            "Tỉnh Thái Nguyên",
            "Thai Nguyen province",
            "province",
            None,
            after_reform=False,
        ),
        _unit(
            NEW_PROVINCE_ID,
            "Tỉnh Thái Nguyên (sau sáp nhập)",
            "Thai Nguyen province (merged)",
            "province",
            None,
            after_reform=True,
        ),
    ]


def _commune_names(rng: np.random.Generator, n_old: int, used: set[str]) -> list[str]:
    """Draw ``n_old`` two-syllable commune names not used in any district so far."""
    communes: list[str] = []
    while len(communes) < n_old:
        a, b = rng.choice(len(COMMUNE_SYLLABLES), size=2, replace=False)
        candidate = f"{COMMUNE_SYLLABLES[a]} {COMMUNE_SYLLABLES[b]}"
        if candidate not in used:
            used.add(candidate)
            communes.append(candidate)
    return communes


def _new_communes(
    code: str, area: str, communes: list[str]
) -> tuple[list[str], list[dict[str, Any]]]:
    """The district's new communes (wards in cities), one per three old ones: ids and units."""
    n_new = math.ceil(len(communes) / 3)
    new_ids = [f"{code}{k + 1:02d}" for k in range(n_new)]
    kind, kind_en = ("Phường", "ward") if area == "urban" else ("Xã", "commune")
    units = [
        _unit(
            new_id,
            f"{kind} {communes[3 * k]}",
            f"{communes[3 * k]} {kind_en}",
            "commune",
            NEW_PROVINCE_ID,
            area,
            after_reform=True,
        )
        for k, new_id in enumerate(new_ids)
    ]
    return new_ids, units


def _district_schools(
    rng: np.random.Generator,
    code: str,
    area: str,
    ethnic: float,
    n_schools: int,
    communes: list[str],
    new_ids: list[str],
) -> list[dict[str, Any]]:
    """Draw the district's schools: level, commune (so name and new unit), ownership, ethnicity."""
    level_names = list(LEVELS)
    level_p = np.array([LEVELS[k][0] for k in level_names])
    levels = rng.choice(level_names, size=n_schools, p=level_p)
    seen_names: dict[str, int] = {}
    schools = []
    for seq, level in enumerate(levels, start=1):
        commune_idx = int(rng.integers(0, len(communes)))
        base = f"{LEVELS[level][1]} {communes[commune_idx]}"
        seen_names[base] = seen_names.get(base, 0) + 1
        name = base if seen_names[base] == 1 else f"{base} số {seen_names[base]}"
        private = area == "urban" and rng.random() < 0.04  # draws only for urban schools
        schools.append(
            {
                "school_id": f"{PROVINCE_ID}{code}{seq:03d}",
                "school_name": name,
                "school_level": level,
                "ownership": "Tư thục" if private else "Công lập",
                "area_type": area,
                "ethnic_minority_share": float(
                    np.round(np.clip(rng.normal(ethnic, 0.08), 0, 0.99) * 100, 1)
                ),
                "_district": code,
                "_new_unit": new_ids[min(commune_idx // 3, len(new_ids) - 1)],
            }
        )
    return schools


def _memberships(school: dict[str, Any]) -> list[dict[str, Any]]:
    """A school's two memberships: its district until the reform, its new commune after."""
    return [
        {
            "school_id": school["school_id"],
            "unit_id": school["_district"],
            "valid_from": OLD_FROM,
            "valid_to": OLD_TO,
        },
        {
            "school_id": school["school_id"],
            "unit_id": school["_new_unit"],
            "valid_from": REFORM_DATE,
            "valid_to": None,
        },
    ]


def _move_border_schools(
    rng: np.random.Generator,
    schools: pd.DataFrame,
    membership: pd.DataFrame,
    new_units: list[str],
) -> None:
    """Move a few schools to a random new commune (in place), so the crosswalk is not 1:1."""
    movers = rng.choice(len(schools), size=N_MOVERS, replace=False)
    for idx in movers:
        target = new_units[int(rng.integers(0, len(new_units)))]
        sid = schools.at[idx, "school_id"]
        schools.at[idx, "_new_unit"] = target
        mask = (membership["school_id"] == sid) & (membership["valid_from"] == REFORM_DATE)
        membership.loc[mask, "unit_id"] = target


def _crosswalk(schools: pd.DataFrame) -> pd.DataFrame:
    """Share of each new unit's schools that came from each old district."""
    counts = (
        schools.rename(columns={"_new_unit": "new_unit_id", "_district": "old_unit_id"})
        .groupby(["new_unit_id", "old_unit_id"])
        .size()
        .rename("n")
        .reset_index()
    )
    counts["share"] = (counts["n"] / counts.groupby("new_unit_id")["n"].transform("sum")).round(4)
    records = counts[["new_unit_id", "old_unit_id", "share"]].to_dict(orient="records")
    return pd.DataFrame(records)
