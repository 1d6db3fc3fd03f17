"""The school → unit hierarchy at a date, from memberships with validity periods.

Vietnam removed the district level on 1 July 2025, so a school's parent unit
depends on the date. Analysis groups therefore come from the register's
membership table (school → unit, valid from/to), the units table (unit →
parent, valid from/to) and a crosswalk from new units to former ones — never
from a hard-coded district list.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from analysis.core import paths
from analysis.core.config import load_yaml

HIERARCHY_COLUMNS = {
    "school_id": "str",
    "year": "int64",
    "reference_date": "datetime64[us]",
    "unit_id": "str",
    "unit_level": "str",
    "unit_name": "str",
    "district_id": "str",
    "district_name": "str",
    "commune_id": "str",
    "commune_name": "str",
    "province_id": "str",
    "province_name": "str",
    "analysis_district_id": "str",
    "analysis_district_name": "str",
    "analysis_province_id": "str",
    "analysis_province_name": "str",
}


def reference_date(year: int) -> pd.Timestamp:
    """The day whose hierarchy a school year ending in ``year`` is reported in.

    Set in ``config/hierarchy.yml`` (31 August by default: the year-end summary).

    Parameters
    ----------
    year
        End year of the school year (2025 for 2024–2025).

    Returns
    -------
    pandas.Timestamp
        The reference day in ``year``: 2025-08-31 by default, after the 1 July
        2025 reform, so 2024–2025 is grouped by the new communes.

    Raises
    ------
    ConfigError
        ``config/hierarchy.yml`` is missing or not valid YAML.
    """

    config = load_yaml(paths.config_dir() / "hierarchy.yml")["reference_date"]
    return pd.Timestamp(dt.date(year, int(config["month"]), int(config["day"])))


def _valid_at(frame: pd.DataFrame, when: pd.Timestamp) -> pd.Series:
    starts = frame["valid_from"].isna() | (frame["valid_from"] <= when)
    ends = frame["valid_to"].isna() | (frame["valid_to"] >= when)
    return starts & ends


def school_hierarchy(
    *,
    schools: pd.DataFrame,
    units: pd.DataFrame,
    membership: pd.DataFrame,
    crosswalk: pd.DataFrame,
    years: list[int],
) -> pd.DataFrame:
    """Each school's place in the hierarchy for each school year.

    Returns one row per school and year with the direct unit, the district,
    commune and province it belongs to at :func:`reference_date`, and an
    ``analysis_district_*`` pair that stays comparable across the 2025 reform:
    the district itself before it, and afterwards the former district that
    contributed most of the new commune's schools (from the crosswalk); and
    ``analysis_province_*``, that district's province (the pre-reform boundary).
    Schools with no membership at a date get blank unit columns.

    Parameters
    ----------
    schools
        The register: ``school_id``.
    units
        Administrative units: ``unit_id``, ``unit_name``, ``unit_level``
        (``district``, ``commune``, ``province``), ``parent_id``, ``valid_from``,
        ``valid_to`` (a blank bound is open).
    membership
        School → unit: ``school_id``, ``unit_id``, ``valid_from``, ``valid_to``.
    crosswalk
        New unit → former unit: ``new_unit_id``, ``old_unit_id``, ``share`` (of
        the new unit's schools that came from the former one); may be empty.
    years
        School years (end years) to place the schools in.

    Returns
    -------
    pandas.DataFrame
        One row per school and year, the columns of :data:`HIERARCHY_COLUMNS` in
        that order: ``school_id``, ``year``, ``reference_date``, ``unit_id``,
        ``unit_level``, ``unit_name``, then id and name of ``district``,
        ``commune``, ``province``, ``analysis_district`` and ``analysis_province``
        (blank where a school has no such level at the date).

    Raises
    ------
    ConfigError
        ``config/hierarchy.yml`` is missing or not valid YAML.
    """
    names = units.set_index("unit_id")["unit_name"].to_dict()
    # a unit's parent as recorded on the unit (the former district's former province)
    parents = {
        u: p for u, p in zip(units["unit_id"], units["parent_id"], strict=True) if pd.notna(p)
    }
    majority = {}
    if len(crosswalk):
        ordered = crosswalk.sort_values(
            ["new_unit_id", "share", "old_unit_id"], ascending=[True, False, True]
        )
        first = ordered.drop_duplicates("new_unit_id")
        majority = dict(zip(first["new_unit_id"], first["old_unit_id"], strict=True))
    rows = []
    for year in years:
        when = reference_date(year)
        live_units = units[_valid_at(units, when)].set_index("unit_id")
        live_members = membership[_valid_at(membership, when)]
        parent_of = dict(zip(live_members["school_id"], live_members["unit_id"], strict=True))
        for school_id in schools["school_id"]:
            row = {"school_id": school_id, "year": year, "reference_date": when}
            unit = parent_of.get(school_id)
            row["unit_id"] = unit
            if unit in live_units.index:
                row["unit_level"] = live_units.at[unit, "unit_level"]
                row["unit_name"] = names.get(unit)
            chain = unit
            seen = set()
            while chain is not None and chain in live_units.index and chain not in seen:
                seen.add(chain)
                level = live_units.at[chain, "unit_level"]
                row[f"{level}_id"] = chain
                row[f"{level}_name"] = names.get(chain)
                parent = live_units.at[chain, "parent_id"]
                chain = None if pd.isna(parent) else parent
            district = row.get("district_id")
            if district is None and row.get("commune_id") is not None:
                district = majority.get(row["commune_id"])
            row["analysis_district_id"] = district
            row["analysis_district_name"] = names.get(district) if district else None
            province = parents.get(district) if district else None
            row["analysis_province_id"] = province
            row["analysis_province_name"] = names.get(province) if province else None
            rows.append(row)
    out = pd.DataFrame(rows, columns=list(HIERARCHY_COLUMNS))
    return out.astype(HIERARCHY_COLUMNS)
