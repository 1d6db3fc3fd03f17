"""What a page says instead of a blank: the indicators with no value, and why.

:func:`~analysis.measures.indicators.values.compute` has no row for an indicator no
school-year can give (its numerator and denominator are both needed): left there, the
indicator would vanish from a page without a word. :func:`not_computed` names each such
indicator of a year with its reason, in the reader's language: a column no report
holds a value for (the header to add), or no school reporting it that year.
:func:`schools_counted` gives the "15 of 596 schools" a summary is computed from.
"""

from __future__ import annotations

import pandas as pd

from analysis.core import i18n
from analysis.data import schema
from analysis.measures.indicators.spec import load_indicators, referenced_columns


def _header(column: str, lang: str) -> str:
    spec = schema.contract("panel").get(column)
    if spec is None:
        return column
    return spec.header if lang == "vi" else spec.en


def not_computed(values: pd.DataFrame, data, year: int, lang: str = "vi") -> pd.DataFrame:
    """The indicators with no value in ``year`` at any level of ``values``, and why.

    Parameters
    ----------
    values
        What :func:`~analysis.measures.indicators.values.compute` returned.
    data
        The dataset (or its frame) the values were computed from.
    year
        The school year (end year) the page reports.
    lang
        ``vi`` or ``en``.

    Returns
    -------
    pandas.DataFrame
        ``indicator``, ``name`` and ``reason`` (a sentence), in definition order; empty
        when every indicator has a value.
    """
    frame = getattr(data, "data", data)
    shown = set(values.loc[values["year"] == year, "indicator"])
    in_year = frame[frame["year"] == year] if "year" in frame else frame
    rows = []
    for indicator in load_indicators():
        if indicator.id in shown:
            continue
        columns = sorted(
            referenced_columns(f"{indicator.numerator} {indicator.denominator}") & set(frame)
        )
        empty = [c for c in columns if frame[c].notna().sum() == 0]
        if empty:
            headers = ", ".join(f"“{_header(c, lang)}”" for c in empty)
            reason = i18n.text("indicator_gaps", "no_column", lang, headers=headers)
        elif columns and in_year[columns].notna().all(axis=1).sum() == 0:
            reason = i18n.text("indicator_gaps", "no_school", lang, year=year)
        else:
            reason = i18n.text("indicator_gaps", "not_at_level", lang, year=year)
        rows.append({"indicator": indicator.id, "name": indicator.name[lang], "reason": reason})
    return pd.DataFrame(rows, columns=["indicator", "name", "reason"])


def unit_not_computed(
    values: pd.DataFrame,
    data,
    ids: list[str],
    *,
    unit: str,
    year: int,
    level: str | None = None,
    lang: str = "vi",
) -> pd.DataFrame:
    """Of the indicators ``ids``, those one unit has no row for in ``year``, and why.

    A unit lacks an indicator either because no school anywhere can give it (the reason
    of :func:`not_computed`) or because none of the unit's schools reported both its
    numerator and its denominator that year. A value hidden by the privacy rules is
    not missing: its row is there, and it is not listed.

    Parameters
    ----------
    values
        What :func:`~analysis.measures.indicators.values.compute` returned, every level.
    data
        The dataset (or its frame) the values were computed from.
    ids
        The indicators the page shows (the headline ones).
    unit
        ``unit_id`` of the unit.
    level
        The unit's level in ``values`` (``analysis_district``); ``None``: any.
    year, lang
        The school year (end year); ``vi`` or ``en``.

    Returns
    -------
    pandas.DataFrame
        ``indicator``, ``name`` and ``reason``, in the order of ``ids``.
    """
    mine = values[(values["unit_id"].astype(str) == str(unit)) & (values["year"] == year)]
    if level is not None:
        mine = mine[mine["level"] == level]
    lacking = [i for i in ids if i not in set(mine["indicator"])]
    anywhere = not_computed(values, data, year, lang=lang).set_index("indicator")
    names = {i.id: i.name[lang] for i in load_indicators()}
    rows = []
    for indicator in lacking:
        if indicator in anywhere.index:
            reason = anywhere.loc[indicator, "reason"]
        else:
            reason = i18n.text("indicator_gaps", "unit_no_school", lang, year=year)
        rows.append({"indicator": indicator, "name": names.get(indicator, indicator),
                     "reason": reason})  # fmt: skip
    return pd.DataFrame(rows, columns=["indicator", "name", "reason"])


def schools_counted(
    data, year: int, unit: str | None = None, column: str = "analysis_district_id"
) -> tuple[int, int]:
    """(schools reporting in ``year``, schools in the register): "15 of 596 schools".

    Parameters
    ----------
    data
        The dataset (its frame and, when read, its ``schools`` and ``school_hierarchy``).
    year
        The school year (end year).
    unit, column
        One unit (``column == unit``): its schools that year in the hierarchy; ``None``
        counts the whole register.
    """
    frame = getattr(data, "data", data)
    tables = getattr(data, "tables", {}) or {}
    rows = frame[frame["year"] == year]
    if unit is not None:
        rows = rows[rows[column].astype(str) == str(unit)]
        hierarchy = tables.get("school_hierarchy")
        if hierarchy is not None and column in hierarchy:
            mine = hierarchy[
                (hierarchy["year"] == year) & (hierarchy[column].astype(str) == str(unit))
            ]
            total = mine["school_id"].nunique()
        else:
            total = rows["school_id"].nunique()
    else:
        register = tables.get("schools")
        source = register if register is not None else frame
        total = source["school_id"].nunique()
    reporting = rows["school_id"].nunique()
    return int(reporting), int(max(total, reporting))
