"""CĐS maturity levels of schools under MOET Decision 4725/QĐ-BGDĐT.

The framework (groups, criteria, sub-items, points, mandatory conditions,
level thresholds, names) is data: ``config/frameworks/moet_4725.yml``. Each
school-year gets, per group, a score out of 100 and a level:

* level 1 below 50 points, level 2 from 50 to 75, level 3 above 75;
* a mandatory condition that is not met — or not reported — caps the group
  at level 1, as the framework requires the conditions for any higher level;
* a criterion with no reported points leaves the group unscored (level
  missing, reason given), never silently counted as zero.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from analysis.core import i18n, paths
from analysis.core.config import ConfigError, load_yaml
from analysis.measures.indicators import LEVELS

SCORE_COLUMNS = [
    "school_id", "year", "group", "points", "listed_points", "score", "level", "capped",
    "reason",
]  # fmt: skip


@dataclass(frozen=True)
class Criterion:
    """A scored criterion of a group.

    Attributes
    ----------
    id : str
        Its number in the decision (``"1.3"``).
    column : str
        The panel column that reports its points.
    max_points : float
        The most it can score (equal to the sum of its sub-items when listed).
    name : dict
        ``{"vi": …, "en": …}``.
    sub_items : tuple of dict
        The parts of the criterion and their points (``points``, ``vi``, ``en``).
    """

    id: str
    column: str
    max_points: float
    name: dict[str, str]
    sub_items: tuple[dict[str, Any], ...]


@dataclass(frozen=True)
class Group:
    """A criteria group, scored out of 100 and given a level of its own.

    Attributes
    ----------
    id : str
        ``g1`` (CĐS in teaching and learning) or ``g2`` (CĐS in school governance).
    name : dict
        ``{"vi": …, "en": …}``.
    max_points : float
        The group's maximum in the decision (100).
    criteria : tuple of Criterion
        The scored criteria.
    mandatory : tuple of dict
        Conditions (``id``, ``column`` of a yes/no, ``vi``, ``en``) without which
        the group stays at level 1.
    """

    id: str
    name: dict[str, str]
    max_points: float
    criteria: tuple[Criterion, ...]
    mandatory: tuple[dict[str, Any], ...]

    @property
    def listed_points(self) -> float:
        """The sum of the criteria's ``max_points`` (may fall short of ``max_points``)."""
        return sum(c.max_points for c in self.criteria)


@dataclass(frozen=True)
class Framework:
    """The maturity framework of ``config/frameworks/moet_4725.yml``.

    Attributes
    ----------
    name : dict
        ``{"vi": …, "en": …}``.
    decision : str
        The decision it implements (Decision 4725/QĐ-BGDĐT, 30/12/2022).
    verified : bool
        False while the criteria are not checked against the decision's annex.
    verification_note : dict
        What must be checked, ``{"vi": …, "en": …}``.
    scoring : str
        ``points`` (points out of 100 as is) or ``share_of_listed`` (100 × points
        ÷ listed maximum, for a group whose listing is incomplete).
    levels : tuple of dict
        ``level`` (1–3) with its ``vi`` and ``en`` names.
    groups : tuple of Group
        The criteria groups.
    """

    name: dict[str, str]
    decision: str
    verified: bool
    verification_note: dict[str, str]
    scoring: str
    levels: tuple[dict[str, Any], ...]
    groups: tuple[Group, ...]

    def level_name(self, level: int, lang: str = "vi") -> str:
        """The name of maturity level ``level`` (1–3) in ``lang``.

        Raises
        ------
        KeyError
            No such level in the framework, or no name in ``lang``.
        """
        for entry in self.levels:
            if entry["level"] == level:
                return entry[lang]
        raise KeyError(level)

    def columns(self) -> list[str]:
        """The panel columns scoring needs: each group's mandatory conditions, then
        its criteria."""
        cols = []
        for g in self.groups:
            cols += [m["column"] for m in g.mandatory] + [c.column for c in g.criteria]
        return cols


def load_framework(path: Path | str | None = None) -> Framework:
    """Read ``config/frameworks/moet_4725.yml`` and check its arithmetic.

    Parameters
    ----------
    path
        The framework file; default ``config/frameworks/moet_4725.yml``.

    Returns
    -------
    Framework
        Groups, criteria and levels in file order.

    Raises
    ------
    ConfigError
        A criterion's sub-items do not sum to its ``max_points``, a group lists
        more points than its maximum, ``scoring`` is neither ``points`` nor
        ``share_of_listed``, or the file cannot be read.
    KeyError
        A required key (``groups``, ``criteria``, ``max_points``…) is missing.
    """
    path = Path(path) if path else paths.config_dir() / "frameworks" / "moet_4725.yml"
    raw = load_yaml(path)
    groups = []
    for g in raw["groups"]:
        criteria = []
        for c in g["criteria"]:
            items = tuple(c.get("sub_items") or ())
            total = sum(float(i["points"]) for i in items)
            if items and total != float(c["max_points"]):
                raise ConfigError(
                    f"{path}: criterion {c['id']}: sub-items sum to {total:g}, "
                    f"max_points is {c['max_points']}"
                )
            criteria.append(
                Criterion(
                    id=str(c["id"]),
                    column=c["column"],
                    max_points=float(c["max_points"]),
                    name={"vi": c["vi"], "en": c["en"]},
                    sub_items=items,
                )
            )
        group = Group(
            id=g["id"],
            name=dict(g["name"]),
            max_points=float(g["max_points"]),
            criteria=tuple(criteria),
            mandatory=tuple(g.get("mandatory") or ()),
        )
        if group.listed_points > group.max_points:
            raise ConfigError(f"{path}: group {group.id} lists more than {group.max_points:g}")
        groups.append(group)
    if raw.get("scoring") not in {"points", "share_of_listed"}:
        raise ConfigError(f"{path}: scoring must be 'points' or 'share_of_listed'")
    return Framework(
        name=dict(raw["name"]),
        decision=raw["decision"],
        verified=bool(raw.get("verified", False)),
        verification_note=dict(raw.get("verification_note") or {}),
        scoring=raw["scoring"],
        levels=tuple(raw["levels"]),
        groups=tuple(groups),
    )


def level_of(score: float | np.ndarray) -> np.ndarray:
    """Level 1 below 50, level 2 from 50 to 75 inclusive, level 3 above 75.

    The thresholds are fixed here; the ``levels`` of the framework file only
    describe them.

    Parameters
    ----------
    score
        Group scores out of 100; NaN for unscored.

    Returns
    -------
    numpy.ndarray
        Levels as floats (1.0, 2.0, 3.0), NaN where the score is NaN.

    Example
    -------
    >>> level_of([49.9, 50, 75, 75.1]).tolist()
    [1.0, 2.0, 2.0, 3.0]
    """
    score = np.asarray(score, dtype=float)
    level = np.where(score < 50, 1, np.where(score <= 75, 2, 3)).astype(float)
    return np.where(np.isnan(score), np.nan, level)


def scores(data: pd.DataFrame, framework: Framework | None = None) -> pd.DataFrame:
    """Score and level per school-year and group (long, :data:`SCORE_COLUMNS`).

    Each criterion's points are clipped to 0…``max_points`` and summed; the group
    score is out of 100 (:attr:`Framework.scoring`), rounded to 2 decimals. A
    criterion not reported leaves the group unscored; a mandatory condition not
    met or not reported caps a scored group at level 1.

    Parameters
    ----------
    data
        The school-year panel (or a :class:`~analysis.datasets.Dataset`) with the
        columns of :meth:`Framework.columns`.
    framework
        Default :func:`load_framework`.

    Returns
    -------
    pandas.DataFrame
        One row per school-year and group: ``school_id``, ``year``, ``group``
        (id), ``points`` (missing when unscored), ``listed_points``, ``score``
        (0–100), ``level`` (1–3, nullable Int64), ``capped`` (a mandatory
        condition held the level at 1) and ``reason`` (why unscored or capped;
        empty otherwise).

    Raises
    ------
    KeyError
        ``data`` lacks a column the framework needs.
    """
    fw = framework or load_framework()
    frame = getattr(data, "data", data)
    missing = [c for c in fw.columns() if c not in frame]
    if missing:
        raise KeyError(f"the 4725 framework needs columns {missing}")
    parts = []
    for group in fw.groups:
        points = np.zeros(len(frame))
        unreported: list[list[str]] = [[] for _ in range(len(frame))]
        for crit in group.criteria:
            values = pd.to_numeric(frame[crit.column], errors="coerce").astype("float64")
            for i in np.flatnonzero(values.isna().to_numpy()):
                unreported[i].append(crit.id)
            points += np.clip(values.fillna(0).to_numpy(), 0, crit.max_points)
        listed = group.listed_points
        if fw.scoring == "share_of_listed":
            score = 100 * points / listed
        else:
            score = points * 100 / group.max_points
        not_met: list[list[str]] = [[] for _ in range(len(frame))]
        for cond in group.mandatory:
            met = frame[cond["column"]].astype("boolean")
            for i in np.flatnonzero((met != True).fillna(True).to_numpy()):  # noqa: E712
                state = "not reported" if pd.isna(met.iloc[i]) else "not met"
                not_met[i].append(f"{cond['id']} {state}")
        incomplete = np.array([bool(u) for u in unreported])
        score = np.where(incomplete, np.nan, np.round(score, 2))
        level = level_of(score)
        capped = np.array([bool(n) for n in not_met]) & ~np.isnan(level)
        level = np.where(capped, 1.0, level)
        reasons = []
        for i in range(len(frame)):
            if unreported[i]:
                reasons.append("criteria not reported: " + ", ".join(unreported[i]))
            elif not_met[i]:
                reasons.append("mandatory condition " + "; ".join(not_met[i]) + " → level 1")
            else:
                reasons.append("")
        parts.append(
            pd.DataFrame(
                {
                    "school_id": frame["school_id"].to_numpy(),
                    "year": frame["year"].to_numpy(),
                    "group": group.id,
                    "points": np.where(incomplete, np.nan, points),
                    "listed_points": listed,
                    "score": score,
                    "level": pd.array(
                        [None if np.isnan(v) else int(v) for v in level], dtype="Int64"
                    ),
                    "capped": capped,
                    "reason": reasons,
                }
            )
        )
    return pd.concat(parts, ignore_index=True)[SCORE_COLUMNS]


def distribution(
    data: pd.DataFrame,
    *,
    level: str = "analysis_district",
    framework: Framework | None = None,
    lang: str = "vi",
) -> pd.DataFrame:
    """Counts and shares of schools at each maturity level, by unit, year and group.

    ``level`` is a hierarchy level as in :data:`analysis.indicators.LEVELS`.
    Unscored school-years are counted under level ``"not assessed"``.

    Parameters
    ----------
    data
        The school-year panel joined with the hierarchy (or a Dataset).
    level
        The hierarchy level to count by.
    framework
        Default :func:`load_framework`.
    lang
        Language of the level and group names.

    Returns
    -------
    pandas.DataFrame
        One row per unit, year, group and maturity level present: ``level``,
        ``unit_id``, ``unit_name``, ``year``, ``group`` (name in ``lang``),
        ``maturity_level`` (name in ``lang``, or the "not assessed" label),
        ``count`` (school-years) and ``share`` (% of the unit's schools in that
        year and group, 0–100). Sorted by unit, year, group, maturity level.

    Raises
    ------
    KeyError
        Unknown level, or ``data`` lacks a column the framework needs.

    Example
    -------
    >>> dist = maturity.distribution(data, level="analysis_district", lang="en")  # doctest: +SKIP
    >>> plots.maturity_levels(dist, year=2025, lang="en")  # doctest: +SKIP
    """

    fw = framework or load_framework()
    frame = getattr(data, "data", data)
    id_col, name_col = LEVELS[level]
    scored = scores(frame, fw)
    keys = frame[["school_id", "year", id_col, name_col]].rename(
        columns={id_col: "unit_id", name_col: "unit_name"}
    )
    scored = scored.merge(keys, on=["school_id", "year"], how="left")
    scored["maturity_level"] = [
        fw.level_name(int(v), lang) if pd.notna(v) else i18n.label("maturity", "not_assessed", lang)
        for v in scored["level"]
    ]
    counts = (
        scored.groupby(["unit_id", "unit_name", "year", "group", "maturity_level"], dropna=False)
        .size()
        .rename("count")
        .reset_index()
    )
    totals = counts.groupby(["unit_id", "year", "group"])["count"].transform("sum")
    counts["share"] = 100 * counts["count"] / totals
    counts["group"] = counts["group"].map({g.id: g.name[lang] for g in fw.groups})
    counts.insert(0, "level", level)
    return counts.sort_values(["unit_id", "year", "group", "maturity_level"]).reset_index(drop=True)
