"""Change on the previous year, target, gap, trend projection, status and rank of values."""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.measures.indicators.spec import Indicator


def _trend_status(table: pd.DataFrame, chosen: list[Indicator], window: int) -> pd.DataFrame:
    """Add change, target, gap, projection and status (package docstring) to aggregated rows."""
    by_id = {i.id: i for i in chosen}
    out = table.sort_values(["indicator", "level", "unit_id", "year"]).reset_index(drop=True)
    wide = out.pivot_table(
        index=["indicator", "level", "unit_id"], columns="year", values="value", aggfunc="first"
    )
    years = np.array(wide.columns, dtype=float)
    values = wide.to_numpy(dtype=float)
    # change on the previous school year (consecutive years only)
    change = np.full_like(values, np.nan)
    consecutive = np.diff(years) == 1
    change[:, 1:] = np.where(consecutive[None, :], values[:, 1:] - values[:, :-1], np.nan)
    # least-squares slope over the last `window` years that have values
    slope = np.full_like(values, np.nan)
    for j in range(len(years)):
        lo = max(0, j - window + 1)
        x = years[lo : j + 1]
        y = values[:, lo : j + 1]
        have = ~np.isnan(y)
        n = have.sum(axis=1)
        xs = np.where(have, x[None, :], 0.0)
        ys = np.where(have, y, 0.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            mx = xs.sum(axis=1) / n
            my = ys.sum(axis=1) / n
            sxx = (np.where(have, (x[None, :] - mx[:, None]) ** 2, 0.0)).sum(axis=1)
            sxy = (np.where(have, (x[None, :] - mx[:, None]) * (y - my[:, None]), 0.0)).sum(axis=1)
            s = sxy / sxx
        slope[:, j] = np.where((n >= 2) & ~np.isnan(values[:, j]), s, np.nan)
    extra = pd.DataFrame(
        {
            "change": change.ravel(),
            "slope": slope.ravel(),
        },
        index=pd.MultiIndex.from_tuples(
            [(*idx, int(y)) for idx in wide.index for y in years],
            names=["indicator", "level", "unit_id", "year"],
        ),
    )
    out = out.merge(extra.reset_index(), on=["indicator", "level", "unit_id", "year"], how="left")

    targets = [
        by_id[i].target_for(int(y)) for i, y in zip(out["indicator"], out["year"], strict=True)
    ]
    out["target"] = [t.value if t else np.nan for t in targets]
    out["target_year"] = pd.array([t.year if t else None for t in targets], dtype="Int64")
    out["target_source"] = [t.source if t else "" for t in targets]
    sign = out["indicator"].map(
        {i.id: {"higher": 1.0, "lower": -1.0}.get(i.better, np.nan) for i in chosen}
    )
    out["gap"] = sign * (out["target"] - out["value"])
    horizon = out["target_year"].astype("float64") - out["year"]
    out["projected"] = out["value"] + out["slope"] * horizon
    projected_gap = sign * (out["target"] - out["projected"])
    status = np.select(
        [
            out["target"].isna() | sign.isna() | out["value"].isna(),
            out["gap"] <= 0,
            horizon <= 0,  # the target year has come and the target was missed
            out["slope"].isna() & (horizon > 0),
            projected_gap <= 0,
        ],
        ["no_target", "met", "not_met", "no_trend", "on_track"],
        default="behind",
    )
    out["status"] = status
    out.loc[out["target"].isna(), "projected"] = np.nan
    return out.drop(columns=["slope"])


def _rank(table: pd.DataFrame, chosen: list[Indicator]) -> pd.Series:
    """1 for the best value per indicator, level and year (ties share the best rank)."""
    sign = table["indicator"].map(
        {i.id: {"higher": -1.0, "lower": 1.0}.get(i.better, np.nan) for i in chosen}
    )
    key = table["value"] * sign
    rank = key.groupby([table["indicator"], table["level"], table["year"]]).rank(method="min")
    return rank.astype("Int64")
