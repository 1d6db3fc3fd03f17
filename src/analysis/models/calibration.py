"""Calibration of the evaluation and link intervals over many synthetic provinces.

An estimator is checked by the coverage of its intervals over replications,
not by one lucky seed. :func:`replicate` draws one synthetic province (the
clean profile, with district × year shocks of a given size) and reports, for
the quantities whose truth the generator plants, whether the 95% interval of
the workbench's default inference covers it:

- the overall ATT and each wave's (cohort's) ATT of the staggered design,
  clustered by district (the level of assignment), intervals from the
  restricted wild cluster bootstrap;
- the three link coefficients (infrastructure, trained share, their
  interaction) of the OLS link model with district and year effects
  (:data:`LINK_FORMULA`, as ``tests/unit/test_links.py``), clustered by district,
  intervals from CR2 with Bell–McCaffrey degrees of freedom (the link models'
  default, :mod:`analysis.models.cr2`).

:func:`coverage` runs many replications, in parallel processes when asked,
and summarises each quantity's coverage with its binomial band. Used by
``benchmarks/bench_calibration.py`` (500+ provinces per shock size) and by the
suite's smaller check (``tests/statistics/test_calibration.py``).
"""

from __future__ import annotations

import concurrent.futures as cf
import os

import numpy as np
import pandas as pd
from scipy import stats
from threadpoolctl import threadpool_limits

from analysis.data import synth
from analysis.models import fewcluster, links
from analysis.models.staggered import saturated

LINK_FORMULA = "mean_test_score ~ infra * trained_share + ses + C(district) + C(year)"
LINK_TERMS = ("infra", "trained_share", "infra:trained_share")


def province_frame(seed: int, shock_sd: float, parallel_trends: bool = True) -> tuple:
    """The clean panel of one synthetic province with cohort, district and model columns."""
    province = synth.generate(
        seed=seed, profile="clean", district_year_sd=shock_sd, parallel_trends=parallel_trends
    )
    frame = province.panel.merge(
        province.schools[["school_id", "_district", "area_type"]], on="school_id"
    ).rename(columns={"_district": "district"})
    waves = {
        k: v["first_treated_year"] or 0 for k, v in province.truth["programme"]["waves"].items()
    }
    frame["cohort"] = frame["district"].map(waves).astype(int)
    for column in (
        "mean_test_score",
        "computers_teaching",
        "enrolment",
        "teachers",
        "teachers_trained_cds",
        "poor_household_share",
    ):
        frame[column] = frame[column].astype(float)
    frame["infra"] = frame["computers_teaching"] / frame["enrolment"] * 100
    frame["trained_share"] = frame["teachers_trained_cds"] / frame["teachers"]
    frame["ses"] = frame["poor_household_share"] / 100
    return frame, province.truth


def replicate(seed: int, shock_sd: float, draws: int = 999, parallel_trends: bool = True) -> dict:
    """Whether each 95% interval covers its truth in one province (1/0), and its width.

    Returns
    -------
    dict
        ``{quantity: covered}`` for ``overall``, ``cohort=<g>`` and the link
        terms, plus ``width:<quantity>`` for each.
    """
    frame, truth = province_frame(seed, shock_sd, parallel_trends)
    programme = truth["programme"]
    fit = saturated(
        frame,
        outcome="mean_test_score",
        unit="school_id",
        time="year",
        cohort="cohort",
        cluster="district",
    )
    targets = {"overall": (fit.overall(), programme["att_overall"])}
    for g in fit.cohorts:
        targets[f"cohort={g}"] = (fit.cohort(g), programme["att_by_cohort"][str(g)])
    out: dict[str, float] = {}
    for name, (c, value) in targets.items():
        row = fewcluster.wild_interval(fit.design, c, draws=draws, seed=seed)
        out[name] = float(row["conf_low"] <= value <= row["conf_high"])
        out[f"width:{name}"] = row["conf_high"] - row["conf_low"]
    model = links.estimate(frame, LINK_FORMULA, cluster="district").tidy().set_index("term")
    reduced = truth["reduced_form"]
    for term in LINK_TERMS:
        value = reduced["infra_x_trained_share" if term == "infra:trained_share" else term]
        low, high = model.loc[term, "conf_low"], model.loc[term, "conf_high"]
        out[f"link:{term}"] = float(low <= value <= high)
        out[f"width:link:{term}"] = high - low
    return out


def _single_thread() -> None:
    # one BLAS thread per worker: the workers already fill the cores
    threadpool_limits(limits=1)


def _one(args: tuple) -> dict:
    seed, shock_sd, draws, parallel_trends = args
    return {"seed": seed, "shock_sd": shock_sd, **replicate(seed, shock_sd, draws, parallel_trends)}


def coverage(
    seeds,
    shock_sd: float,
    *,
    draws: int = 999,
    jobs: int | None = None,
    parallel_trends: bool = True,
    progress=None,
) -> pd.DataFrame:
    """Coverage of each quantity over ``seeds``, with a 99% binomial band around 0.95.

    Parameters
    ----------
    seeds
        Province seeds.
    shock_sd
        District × year shock sd (score units).
    draws
        Bootstrap draws per interval.
    jobs
        Worker processes (default: the CPUs; 1 runs in this process).
    parallel_trends
        Whether the generator's untreated trends are parallel.
    progress
        Called with the number of replications done, if given.

    Returns
    -------
    pandas.DataFrame
        One row per quantity: ``quantity``, ``coverage``, ``replications``,
        ``band_low``, ``band_high`` (where 99% of coverages of an exact 95%
        interval fall), ``mean_width``.
    """
    tasks = [(int(s), float(shock_sd), draws, parallel_trends) for s in seeds]
    jobs = jobs or os.cpu_count() or 1
    rows = []
    if jobs == 1:
        for i, task in enumerate(tasks, 1):
            rows.append(_one(task))
            if progress:
                progress(i)
    else:
        with cf.ProcessPoolExecutor(jobs, initializer=_single_thread) as pool:
            for i, row in enumerate(pool.map(_one, tasks, chunksize=4), 1):
                rows.append(row)
                if progress:
                    progress(i)
    return summarise(pd.DataFrame(rows))


def summarise(results: pd.DataFrame) -> pd.DataFrame:
    """Coverage, binomial band and mean width per quantity, from :func:`replicate` rows."""
    n = len(results)
    band = stats.binom.ppf([0.005, 0.995], n, 0.95) / n
    quantities = [
        c for c in results.columns if c not in ("seed", "shock_sd") and not c.startswith("width:")
    ]
    return pd.DataFrame(
        [
            {
                "quantity": q,
                "coverage": float(results[q].mean()),
                "replications": n,
                "band_low": float(band[0]),
                "band_high": float(band[1]),
                "mean_width": float(np.mean(results[f"width:{q}"])),
            }
            for q in quantities
        ]
    )
