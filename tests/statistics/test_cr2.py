"""CR2 and its Bell–McCaffrey degrees of freedom, judged by the textbook algebra and by simulation.

:class:`analysis.models.cr2.CR2` never forms an n × n matrix and removes demeaned
fixed effects through ``Design.absorbed``. The reference below does it the slow,
obvious way (Bell & McCaffrey 2002; Pustejovsky & Tipton 2018): the full hat
matrix, ``A_g`` as the symmetric (pseudo-)inverse square root of ``I − H_gg`` by
eigendecomposition, and the degrees of freedom from the G columns
``(I − H)_{·g} A_g X_g M c``. A simulation checks what the two numbers mean:
under independent homoskedastic errors ``c'V̂c`` is unbiased for the variance
of ``c'β̂`` and its distribution has the Satterthwaite degrees of freedom
``2 E[c'V̂c]² / Var(c'V̂c)``.
"""

from __future__ import annotations

import numpy as np
import pytest

from analysis.models.cr2 import CR2
from analysis.models.fewcluster import Design


def _pinv_sqrt(B: np.ndarray) -> np.ndarray:
    w, V = np.linalg.eigh(B)
    inv = np.where(w > 1e-10, 1 / np.sqrt(np.clip(w, 1e-300, None)), 0.0)
    return (V * inv) @ V.T


def dense_cr2(Xs: np.ndarray, ys: np.ndarray, groups: np.ndarray, c: np.ndarray):
    """CR2 covariance and df_BM of ``c'β`` by the n × n formulas (rows already √w-scaled)."""
    M = np.linalg.pinv(Xs.T @ Xs)
    H = Xs @ M @ Xs.T
    IH = np.eye(len(ys)) - H
    e = IH @ ys
    meat = np.zeros((Xs.shape[1], Xs.shape[1]))
    columns = []
    for g in np.unique(groups):
        idx = np.flatnonzero(groups == g)
        A = _pinv_sqrt(IH[np.ix_(idx, idx)])
        u = Xs[idx].T @ A @ e[idx]
        meat += np.outer(u, u)
        columns.append(IH[:, idx] @ A @ Xs[idx] @ M @ c)
    P = np.column_stack(columns)
    gram = P.T @ P
    return M @ meat @ M, np.trace(gram) ** 2 / np.sum(gram * gram)


def _clustered(seed: int, G: int = 8, per: int = 12, unequal: bool = True):
    rng = np.random.default_rng(seed)
    sizes = rng.integers(per // 2, 2 * per, size=G) if unequal else np.full(G, per)
    groups = np.repeat(np.arange(G), sizes)
    n = len(groups)
    x = rng.normal(size=n) + rng.normal(size=G)[groups]
    z = rng.binomial(1, 0.4, size=n).astype(float)
    y = 0.5 * x - 0.2 * z + rng.normal(size=G)[groups] + rng.normal(size=n) * (1 + np.abs(x))
    return rng, groups, x, z, y


def test_plain_ols_equals_the_dense_formulas():
    _, groups, x, z, y = _clustered(3)
    X = np.column_stack([np.ones(len(y)), x, z, x * z])
    for j in range(1, X.shape[1]):
        c = np.eye(X.shape[1])[j]
        vcov, df = dense_cr2(X, y, groups, c)
        cr2 = CR2(Design(X, y, groups))
        np.testing.assert_allclose(cr2.vcov, vcov, rtol=1e-8, atol=1e-12)
        assert cr2.df(c) == pytest.approx(df, rel=1e-8)


def test_cluster_fixed_effects_use_the_pseudo_inverse_root():
    """District dummies make ``I − H_gg`` singular (the link formula's ``C(district)``)."""
    _, groups, x, z, y = _clustered(5)
    dummies = (groups[:, None] == np.arange(groups.max() + 1)).astype(float)
    X = np.column_stack([x, z, dummies])
    vcov, df = dense_cr2(X, y, groups, np.eye(X.shape[1])[0])
    cr2 = CR2(Design(X, y, groups))
    np.testing.assert_allclose(cr2.vcov[:2, :2], vcov[:2, :2], rtol=1e-7)
    assert cr2.df(np.eye(X.shape[1])[0]) == pytest.approx(df, rel=1e-7)
    assert np.isfinite(cr2.vcov[:2, :2]).all() and df > 1


def test_weighted_panel_with_demeaned_entities_equals_entity_dummies():
    """Entities nested in clusters and removed by weighted demeaning, as the panel fit does.

    Within a cluster the demeaned columns are orthogonal to the entity dummies, so CR2 on
    the demeaned design needs no correction for the effects it removed.
    """
    rng, groups, x, z, y = _clustered(7, G=6, per=20)
    entity = groups * 10 + rng.integers(0, 4, size=len(y))  # 4 schools per district
    _, codes = np.unique(entity, return_inverse=True)
    y = y + rng.normal(size=codes.max() + 1)[codes]
    w = rng.uniform(20, 400, size=len(y))  # enrolment weights
    root = np.sqrt(w)
    X = np.column_stack([x, z])

    def demean(v):
        totals = np.bincount(codes, weights=w)
        means = np.column_stack(
            [np.bincount(codes, weights=w * col) / totals for col in np.atleast_2d(v.T)]
        )
        return v - (means[codes] if v.ndim == 2 else means[codes, 0])

    cr2 = CR2(Design(demean(X) * root[:, None], demean(y) * root, groups))
    dummies = (codes[:, None] == np.arange(codes.max() + 1)).astype(float)
    full = np.column_stack([X, dummies]) * root[:, None]
    for j in range(2):
        c_full = np.eye(full.shape[1])[j]
        vcov, df = dense_cr2(full, y * root, groups, c_full)
        np.testing.assert_allclose(cr2.vcov, vcov[:2, :2], rtol=1e-7)
        assert cr2.df(np.eye(2)[j]) == pytest.approx(df, rel=1e-7)
    # the equality rests on nesting: schools that cross districts break it (the check can fail,
    # and the panel fit takes CR2 only when the entities are nested in the clusters)
    crossed = rng.permutation(groups)
    vcov, _ = dense_cr2(full, y * root, crossed, np.eye(full.shape[1])[0])
    apart = CR2(Design(demean(X) * root[:, None], demean(y) * root, crossed))
    assert not np.allclose(apart.vcov, vcov[:2, :2], rtol=1e-3)


@pytest.mark.slow
def test_unbiased_with_the_satterthwaite_degrees_of_freedom_by_simulation(report):
    """Homoskedastic normal errors: E[c'V̂c] = σ² c'(X'X)⁻¹c and 2E²/Var = df_BM."""
    rng, groups, x, z, _ = _clustered(11, G=9, per=15)
    dummies = (groups[:, None] == np.arange(groups.max() + 1)).astype(float)
    X = np.column_stack([x, z, x * z, dummies])
    c = np.eye(X.shape[1])[0]
    truth = float(c @ np.linalg.pinv(X.T @ X) @ c)
    df = CR2(Design(X, rng.normal(size=len(groups)), groups)).df(c)
    draws = np.array(
        [c @ CR2(Design(X, rng.normal(size=len(groups)), groups)).vcov @ c for _ in range(6000)]
    )
    mean, var = draws.mean(), draws.var(ddof=1)
    report(
        f"CR2 by simulation (6000 draws, 9 clusters): E[c'Vc]/truth {mean / truth:.3f}, "
        f"2E²/Var {2 * mean**2 / var:.2f} against df_BM {df:.2f}"
    )
    assert mean == pytest.approx(truth, rel=0.03)
    assert 2 * mean**2 / var == pytest.approx(df, rel=0.10)
    assert df < 9 - 1  # fewer than G − 1: the point of the correction
