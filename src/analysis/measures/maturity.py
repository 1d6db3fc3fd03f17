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
    id: str
    column: str
    max_points: float
    name: dict[str, str]
    sub_items: tuple[dict[str, Any], ...]


@dataclass(frozen=True)
class Group:
    id: str
    name: dict[str, str]
    max_points: float
    criteria: tuple[Criterion, ...]
    mandatory: tuple[dict[str, Any], ...]

    @property
    def listed_points(self) -> float:
        return sum(c.max_points for c in self.criteria)


@dataclass(frozen=True)
class Framework:
    name: dict[str, str]
    decision: str
    verified: bool
    verification_note: dict[str, str]
    scoring: str
    levels: tuple[dict[str, Any], ...]
    groups: tuple[Group, ...]

    def level_name(self, level: int, lang: str = "vi") -> str:
        for entry in self.levels:
            if entry["level"] == level:
                return entry[lang]
        raise KeyError(level)

    def columns(self) -> list[str]:
        cols = []
        for g in self.groups:
            cols += [m["column"] for m in g.mandatory] + [c.column for c in g.criteria]
        return cols


def load_framework(path: Path | str | None = None) -> Framework:
    """Read ``config/frameworks/moet_4725.yml`` and check its arithmetic."""
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
    """Level 1 below 50, level 2 from 50 to 75 inclusive, level 3 above 75."""
    score = np.asarray(score, dtype=float)
    level = np.where(score < 50, 1, np.where(score <= 75, 2, 3)).astype(float)
    return np.where(np.isnan(score), np.nan, level)


def scores(data: pd.DataFrame, framework: Framework | None = None) -> pd.DataFrame:
    """Score and level per school-year and group (long, :data:`SCORE_COLUMNS`)."""
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
