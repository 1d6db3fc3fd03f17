"""ATT(g, t) as one regression, so that inference can be made at the level of assignment.

With never-treated units as the comparison group and no covariates, the
group-time effects of Callaway & Sant'Anna (2021) are the coefficients of one
least squares fit on the balanced panel: unit fixed effects, period effects,
and a dummy for every cohort × period except the period before the cohort's
first treated one. Its coefficient β(g, s) is the change in the cohort's mean
outcome from period g − 1 to s, less the same change among never-treated
units, so

- ATT(g, t) = β(g, t) for t ≥ g (the "universal" base g − 1 of ``did``);
- ATT(g, t) = β(g, t) − β(g, t − 1) for t < g (the "varying" base, one period
  apart, with β(g, g − 1) = 0), as ``csdid`` reports pre-treatment cells;
- the overall, event-time and cohort aggregates are fixed linear combinations
  of the β (weights: cohort sizes, as ``did``'s ``aggte``).

``tests/statistics/test_evaluation.py`` checks every one of these against
``csdid`` to 1e-8. Because each is a contrast ``c'β`` of one fit, the
few-cluster methods of :mod:`analysis.models.fewcluster` apply to all of them,
with the clusters (districts) that were assigned.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis.models.fewcluster import Design


@dataclass
class Saturated:
    """The fitted saturated regression and what each estimate is made of."""

    design: Design
    periods: list[int]
    cohorts: list[int]  # treated cohorts, first treated period
    sizes: dict[int, int]  # units per cohort (0: never treated)
    columns: dict[tuple[int, int], int]  # (cohort, period) → column of the design
    work: pd.DataFrame  # the balanced panel used: unit, time, cohort, cluster, outcome
    notes: list[str]

    def cells(self) -> list[tuple[int, int]]:
        """The (cohort, period) cells ``csdid`` reports: every period after the first."""
        return [(g, t) for g in self.cohorts for t in self.periods[1:]]

    def cell(self, g: int, t: int) -> np.ndarray:
        """Contrast of ATT(g, t)."""
        c = np.zeros(self.design.k)
        if t >= g:
            c[self.columns[(g, t)]] = 1.0
            return c
        previous = self.periods[self.periods.index(t) - 1]
        if (g, t) in self.columns:
            c[self.columns[(g, t)]] += 1.0
        if (g, previous) in self.columns:
            c[self.columns[(g, previous)]] -= 1.0
        return c

    def overall(self) -> np.ndarray:
        """The simple aggregate: post cells weighted by cohort size."""
        post = [(g, t) for g, t in self.cells() if t >= g]
        return self._weighted(post)

    def event_time(self, e: int) -> np.ndarray:
        """Event time ``e``: cells with t − g = e, weighted by cohort size."""
        return self._weighted([(g, t) for g, t in self.cells() if self._event(g, t) == e])

    def cohort(self, g: int) -> np.ndarray:
        """Cohort ``g``: the mean of its post cells."""
        post = [t for t in self.periods if t >= g]
        return sum(self.cell(g, t) for t in post) / len(post)

    def event_times(self) -> list[int]:
        return sorted({self._event(g, t) for g, t in self.cells()})

    def post_weights(self) -> dict[tuple[int, int], float]:
        """Weight of each post cell in the overall effect."""
        post = [(g, t) for g, t in self.cells() if t >= g]
        total = sum(self.sizes[g] for g, _ in post)
        return {(g, t): self.sizes[g] / total for g, t in post}

    def _event(self, g: int, t: int) -> int:
        # in periods, not years, so that a gap in the panel does not stretch event time
        return self.periods.index(t) - self.periods.index(g)

    def _weighted(self, cells: list[tuple[int, int]]) -> np.ndarray:
        total = sum(self.sizes[g] for g, _ in cells)
        return sum(self.sizes[g] / total * self.cell(g, t) for g, t in cells)


def balanced_panel(
    frame: pd.DataFrame, outcome: str, unit: str, time: str, cohort: str, cluster: str
) -> tuple[pd.DataFrame, list[str]]:
    """Complete rows of units observed in every period, as ``csdid`` keeps them; notes why not."""
    columns = list(dict.fromkeys([outcome, unit, time, cohort, cluster]))
    work = frame[columns].dropna().copy()
    work[time] = work[time].astype(int)
    work[cohort] = work[cohort].astype(int)
    work[outcome] = work[outcome].astype(float)
    notes = []
    periods = sorted(work[time].unique())
    counts = work.groupby(unit)[time].nunique()
    full = counts.index[counts == len(periods)]
    if len(full) < len(counts):
        notes.append(f"{len(counts) - len(full)} units not observed in every period were left out")
    work = work[work[unit].isin(full)]
    late = work[cohort] > periods[-1]
    work.loc[late, cohort] = 0  # reached after the last period: not yet treated in the data
    early = (work[cohort] > 0) & (work[cohort] <= periods[0])
    if early.any():
        notes.append(
            f"{work.loc[early, unit].nunique()} units treated from the first period were left out"
        )
        work = work[~early]
    if not (work[cohort] == 0).any():
        raise ValueError("no never-treated units: the comparison group is empty")
    return work, notes


def saturated(
    frame: pd.DataFrame, *, outcome: str, unit: str, time: str, cohort: str, cluster: str
) -> Saturated:
    """Fit the saturated regression (unit effects removed by demeaning within unit).

    Parameters
    ----------
    frame
        Long panel.
    outcome, unit, time, cohort
        Columns; ``cohort`` is the first treated period (0: never treated).
    cluster
        The level at which treatment was assigned. A unit that moved between
        clusters (the 2025 reform) is counted in its first period's one, so
        that unit effects nest in the clusters.

    Returns
    -------
    Saturated
    """
    work, notes = balanced_panel(frame, outcome, unit, time, cohort, cluster)
    moved = work.groupby(unit)[cluster].nunique() > 1
    if moved.any():
        # a unit is clustered where the programme found it, its first period's cluster (as
        # evaluation.cohorts fixes its wave); unit effects must nest in the clusters
        home = work.sort_values(time).drop_duplicates(unit).set_index(unit)[cluster]
        work = work.assign(**{cluster: work[unit].map(home)})
        notes.append(
            f"{int(moved.sum())} units changed {cluster} during the panel; each is counted in "
            "the one it belonged to in the first period"
        )
    periods = sorted(int(p) for p in work[time].unique())
    cohorts = sorted(int(g) for g in work[cohort].unique() if g > 0)
    names, blocks, columns = [], [], {}
    for p in periods[1:]:
        names.append(f"period={p}")
        blocks.append((work[time] == p).to_numpy(float))
    for g in cohorts:
        base = periods[max(periods.index(g) - 1, 0)] if g in periods else _before(periods, g)
        in_g = (work[cohort] == g).to_numpy()
        for p in periods:
            if p == base:
                continue
            columns[(g, p)] = len(names)
            names.append(f"cohort={g}:period={p}")
            blocks.append((in_g & (work[time] == p).to_numpy()).astype(float))
    X = np.column_stack(blocks)
    y = work[outcome].to_numpy(float)
    codes = pd.factorize(work[unit])[0]
    design = Design(
        _demean(X, codes), _demean(y[:, None], codes)[:, 0], work[cluster].to_numpy(), names
    )
    sizes = work.drop_duplicates(unit)[cohort].value_counts().to_dict()
    return Saturated(
        design, periods, cohorts, {int(k): int(v) for k, v in sizes.items()}, columns, work, notes
    )


def _before(periods: list[int], g: int) -> int:
    earlier = [p for p in periods if p < g]
    return earlier[-1]


def _demean(values: np.ndarray, codes: np.ndarray) -> np.ndarray:
    sums = np.zeros((codes.max() + 1, values.shape[1]))
    np.add.at(sums, codes, values)
    counts = np.bincount(codes).astype(float)
    return values - (sums / counts[:, None])[codes]
