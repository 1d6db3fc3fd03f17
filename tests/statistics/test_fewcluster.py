"""Few-cluster inference, judged by brute force: every bootstrap sample refitted with statsmodels.

The closed forms of :mod:`analysis.models.fewcluster` must give exactly what the
textbook algorithm gives (restricted fit, each weight vector's sample refitted,
its CRV1 t statistic): with Rademacher weights and all 2^G vectors enumerated
there is no Monte Carlo error, so the p-values must agree to rounding.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import statsmodels.api as sm

from analysis.models import fewcluster


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(11)
    G, per = 7, 15
    clusters = np.repeat(np.arange(G), per)
    n = len(clusters)
    x = rng.normal(size=n) + rng.normal(size=G)[clusters]
    z = rng.normal(size=n)
    y = (
        1
        + 0.3 * x
        + 0.1 * z
        + rng.normal(size=G)[clusters]
        + rng.normal(size=n) * (1 + x**2) ** 0.5
    )
    X = np.column_stack([np.ones(n), x, z])
    return X, y, clusters


def _refit_t(X, y, clusters, j, r):
    fit = sm.OLS(y, X).fit(cov_type="cluster", cov_kwds={"groups": clusters})
    return (fit.params[j] - r) / fit.bse[j]


def _brute_pvalue(X, y, clusters, j, r):
    keep = [i for i in range(X.shape[1]) if i != j]
    Xr, yr = X[:, keep], y - r * X[:, j]
    beta_r = np.linalg.lstsq(Xr, yr, rcond=None)[0]
    fitted, resid = Xr @ beta_r + r * X[:, j], yr - Xr @ beta_r
    t = _refit_t(X, y, clusters, j, r)
    G = clusters.max() + 1
    stars = [
        _refit_t(X, fitted + resid * np.array(v)[clusters], clusters, j, r)
        for v in itertools.product([-1.0, 1.0], repeat=G)
    ]
    return float(np.mean(np.abs(stars) >= abs(t) - 1e-12))


@pytest.mark.parametrize(("j", "r"), [(1, 0.0), (1, 0.25), (2, -0.1)])
def test_wild_pvalue_equals_refitting_every_sample(data, j, r):
    X, y, clusters = data
    design = fewcluster.Design(X, y, clusters)
    c = np.eye(X.shape[1])[j]
    fast = fewcluster.wild_pvalue(design, c, r, kind="rademacher")
    assert fast == pytest.approx(_brute_pvalue(X, y, clusters, j, r), abs=1e-12)


def _cv3_t(X, y, clusters, j, r):
    beta = np.linalg.lstsq(X, y, rcond=None)[0]
    G = clusters.max() + 1
    left_out = [
        np.linalg.lstsq(X[clusters != g], y[clusters != g], rcond=None)[0][j] for g in range(G)
    ]
    return (beta[j] - r) / np.sqrt((G - 1) / G * np.sum((np.array(left_out) - beta[j]) ** 2))


def test_jackknife_statistic_equals_refitting_every_sample(data):
    """The bootstrap with CV3 (jackknife) errors in its t statistic (stat="cv3")."""
    X, y, clusters = data
    j, r = 1, 0.2
    Xr, yr = X[:, [0, 2]], y - r * X[:, 1]
    beta_r = np.linalg.lstsq(Xr, yr, rcond=None)[0]
    fitted, resid = Xr @ beta_r + r * X[:, 1], yr - Xr @ beta_r
    t = _cv3_t(X, y, clusters, j, r)
    stars = [
        _cv3_t(X, fitted + resid * np.array(v)[clusters], clusters, j, r)
        for v in itertools.product([-1.0, 1.0], repeat=7)
    ]
    expected = np.mean(np.abs(stars) >= abs(t) - 1e-12)
    design = fewcluster.Design(X, y, clusters)
    fast = fewcluster.wild_pvalue(design, np.eye(3)[j], r, kind="rademacher", stat="cv3")
    assert fast == pytest.approx(expected, abs=1e-12)


def test_interval_ends_are_where_the_test_starts_rejecting(data):
    X, y, clusters = data
    design = fewcluster.Design(X, y, clusters)
    c = np.array([0.0, 1.0, 0.0])
    row = fewcluster.wild_interval(design, c, kind="rademacher")
    eps = 1e-3 * row["std_error"]
    for end, inward in ((row["conf_low"], 1), (row["conf_high"], -1)):
        assert fewcluster.wild_pvalue(design, c, end + inward * eps, kind="rademacher") > 0.05
        assert fewcluster.wild_pvalue(design, c, end - inward * eps, kind="rademacher") <= 0.05
    assert row["conf_low"] < row["estimate"] < row["conf_high"]


def test_joint_wald_equals_refitting_every_sample(data):
    X, y, clusters = data
    design = fewcluster.Design(X, y, clusters)
    R = np.array([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    fast = fewcluster.wild_wald(design, R, kind="rademacher")
    # brute force: impose both zeros, refit every sample, Wald with statsmodels' CRV1
    beta_r = np.linalg.lstsq(X[:, :1], y, rcond=None)[0]
    fitted, resid = X[:, :1] @ beta_r, y - X[:, :1] @ beta_r

    def wald(yy):
        fit = sm.OLS(yy, X).fit(cov_type="cluster", cov_kwds={"groups": clusters})
        b, V = R @ fit.params, R @ fit.cov_params() @ R.T
        return float(b @ np.linalg.solve(V, b))

    stat = wald(y)
    stars = [
        wald(fitted + resid * np.array(v)[clusters])
        for v in itertools.product([-1.0, 1.0], repeat=7)
    ]
    assert fast["statistic"] == pytest.approx(stat, rel=1e-9)
    assert fast["p_value"] == pytest.approx(np.mean(np.array(stars) >= stat - 1e-12), abs=1e-12)


def test_crv1_and_crv3_match_their_definitions(data):
    X, y, clusters = data
    design = fewcluster.Design(X, y, clusters)
    fit = sm.OLS(y, X).fit(cov_type="cluster", cov_kwds={"groups": clusters})
    np.testing.assert_allclose(fewcluster.crv1(design), fit.cov_params(), rtol=1e-10)
    beta = np.linalg.lstsq(X, y, rcond=None)[0]
    deltas = []
    for g in range(7):
        out = clusters != g
        deltas.append(np.linalg.lstsq(X[out], y[out], rcond=None)[0] - beta)
    deltas = np.array(deltas)
    np.testing.assert_allclose(fewcluster.crv3(design), 6 / 7 * deltas.T @ deltas, rtol=1e-10)


def test_weights_are_enumerated_when_few():
    w = fewcluster.weights_matrix(4, draws=9999)
    assert w.shape == (6**4, 4) and len({tuple(r) for r in w}) == 6**4
    assert set(np.round(np.unique(w) ** 2, 10)) == {0.5, 1.0, 1.5}
    sampled = fewcluster.weights_matrix(9, draws=999)
    assert sampled.shape == (999, 9)
    assert np.array_equal(sampled, fewcluster.weights_matrix(9, draws=999))  # seeded


def _two_groups(G: int, seed: int = 3):
    rng = np.random.default_rng(seed)
    clusters = np.repeat(np.arange(G), 30)
    d = (clusters < G // 2).astype(float)
    y = 5.0 * d + rng.normal(size=len(d)) + rng.normal(size=G)[clusters] * 0.1
    return fewcluster.Design(np.column_stack([np.ones(len(d)), d]), y, clusters)


def test_two_against_two_clusters_can_hardly_reject():
    """With 2 treated and 2 control clusters an effect of 10 standard errors still gets
    p near 0.05 (MacKinnon & Webb: few treated clusters); with 3 + 3 or 5 + 5 it does not."""
    c = np.array([0.0, 1.0])
    assert fewcluster.pvalue_far(_two_groups(4), c) > 0.03
    assert fewcluster.pvalue_far(_two_groups(6), c) < 0.01
    assert fewcluster.pvalue_far(_two_groups(10), c) < 0.001
    # the p-value's floor with 2 + 2: 16 of the 1,296 weight vectors are as extreme
    assert fewcluster.wild_interval(_two_groups(4), c)["p_value"] > 0.01
