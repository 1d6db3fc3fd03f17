"""Calibration over many provinces: the intervals cover the planted truth about 95% of the time.

The suite's smaller version of ``benchmarks/bench_calibration.py``: 100 clean
provinces at each district × year shock size, the staggered design and the link
model both clustered by district (wild-bootstrap intervals for the evaluation,
CR2 with Bell–McCaffrey degrees of freedom for the links). A coverage
outside the band where 99% of an exact 95% interval's coverages fall fails the
test; so does a cohort effect below it (those may be above: with two or three
districts a wave's interval is honest but wide). A last check plants non-parallel
trends and shows the same check failing, so it can fail.
"""

from __future__ import annotations

import numpy as np
import pytest

from analysis.models import calibration, fewcluster
from analysis.models.staggered import saturated

REPLICATIONS = 100
SEEDS = range(5000, 5000 + REPLICATIONS)


@pytest.fixture(scope="module", params=[0.0, 0.02, 0.05], ids=lambda sd: f"shock_sd={sd}")
def table(request):
    return request.param, calibration.coverage(SEEDS, request.param, draws=499, jobs=2)


@pytest.mark.slow
def test_coverage_within_the_binomial_band(table, report):
    sd, summary = table
    report(
        f"coverage over {REPLICATIONS} provinces, district × year shock sd {sd}: "
        + ", ".join(f"{r.quantity} {r.coverage:.2f}" for r in summary.itertuples())
    )
    for row in summary.itertuples():
        assert row.coverage >= row.band_low, row
        if not row.quantity.startswith("cohort="):
            assert row.coverage <= row.band_high, row


@pytest.mark.slow
def test_school_clustered_intervals_would_fail_the_same_check():
    """The check can fail: the old inference (clusters = schools) under district shocks."""
    hits = []
    for seed in range(6000, 6040):
        frame, truth = calibration.province_frame(seed, 0.05)
        fit = saturated(
            frame,
            outcome="mean_test_score",
            unit="school_id",
            time="year",
            cohort="cohort",
            cluster="school_id",
        )
        c = fit.overall()
        se = float(np.sqrt(c @ fewcluster.crv1(fit.design) @ c))
        estimate = float(c @ fit.design.beta)
        hits.append(abs(estimate - truth["programme"]["att_overall"]) <= 1.96 * se)
    assert np.mean(hits) < 0.8
