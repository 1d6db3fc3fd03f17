"""CR2 cluster-robust errors with Bell–McCaffrey degrees of freedom, for few clusters.

With nine clusters the usual CRV1 standard error is too small and t(G − 1) is
too generous. CR2 (Bell & McCaffrey 2002) corrects each cluster's residuals by
``A_g = (I − H_gg)^(-1/2)``, which makes the covariance unbiased when the errors
are independent and homoskedastic; its t reference takes the Satterthwaite
degrees of freedom of that covariance under the same working model
(Bell & McCaffrey 2002; Imbens & Kolesár 2016, who show these intervals hold
their level with as few as a handful of clusters). With fixed effects nested
in the clusters ``I − H_gg`` is singular and the Moore–Penrose inverse square
root is used, as Pustejovsky & Tipton (2018, R package clubSandwich) do. Fixed
effects nested in the clusters and removed by demeaning (a panel's schools
within districts) need nothing more: within each cluster the demeaned columns
are orthogonal to those effects' dummies, so the covariance and the degrees of
freedom computed on the demeaned design equal those of the design with the
dummies (``tests/statistics/test_cr2.py`` checks it against the dense formulas).

Why this method for the link models, and the wild bootstrap for the
evaluation. ``benchmarks/bench_calibration.py`` measured, over 400–500
synthetic provinces per district × year shock size (sd 0, 0.02, 0.05), the
coverage of 95% intervals for the three link coefficients (infrastructure,
trained share, their interaction) with district and year effects, clustered
by the nine districts: the restricted wild cluster bootstrap 0.906–0.964
(0.906–0.924 for the trained share and the interaction under shocks),
CRV1 with t(G − 1) 0.918–0.940, CR2 with t(G − 1) 0.928–0.953, CR2 with
Bell–McCaffrey degrees of freedom (about 5.5 here) 0.935–0.963 at every shock
size. For the staggered evaluation's overall effect the same correction
over-covered (0.967–0.976) while the bootstrap held 0.930–0.942 (see
:mod:`analysis.models.fewcluster`), so each design keeps the method that holds
its level on it.

The computation never forms an n × n matrix: ``H_gg`` has rank at most k, so
``A_g`` is the identity plus a rank-k correction found from a thin SVD of the
cluster's rows (``n_g × k``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from analysis.models.fewcluster import Design, analytic_row

_ONE = 1 - 1e-8  # a leverage this close to 1 is a direction the residuals cannot take


@dataclass(frozen=True)
class _Block:
    """One cluster's rows, and ``A_g = (I − Q_g) + U_g diag(f_g) U_g'``."""

    rows: np.ndarray
    U: np.ndarray
    f: np.ndarray

    def adjust(self, v: np.ndarray) -> np.ndarray:
        """``A_g v`` for a vector ``v`` on the cluster's rows."""
        return v + self.U @ (self.f * (self.U.T @ v))


class CR2:
    """CR2 covariance and Bell–McCaffrey degrees of freedom of a least squares fit.

    Parameters
    ----------
    design
        The fit (``X``, ``y``, clusters), its rows already scaled by the square
        roots of the weights of a weighted fit.

    Example
    -------
    >>> CR2(design).row(c)  # doctest: +SKIP
    {'estimate': ..., 'std_error': ..., 'df': 5.6, 'conf_low': ..., ...}
    """

    def __init__(self, design: Design) -> None:
        self.design = design
        w, V = np.linalg.eigh(design.xtx_inv)
        half = V * np.sqrt(np.clip(w, 0, None))  # M^(1/2), M = (X'X)^+
        self.blocks = [
            self._block(np.flatnonzero(design.codes == g), half) for g in range(design.G)
        ]
        meat_rows = np.array(
            [design.X[b.rows].T @ b.adjust(design.resid[b.rows]) for b in self.blocks]
        )
        self.vcov = design.xtx_inv @ (meat_rows.T @ meat_rows) @ design.xtx_inv

    def _block(self, rows: np.ndarray, half: np.ndarray) -> _Block:
        U, sigma, _ = np.linalg.svd(self.design.X[rows] @ half, full_matrices=False)
        s = sigma**2
        keep = s > 1e-12
        U, s = U[:, keep], s[keep]
        with np.errstate(divide="ignore"):
            f = np.where(s < _ONE, 1 / np.sqrt(np.clip(1 - s, 1e-300, None)), 0.0) - 1
        return _Block(rows, U, f)

    def df(self, c: np.ndarray) -> float:
        """Bell–McCaffrey degrees of freedom of ``c'β̂`` (errors i.i.d. as working model)."""
        d = self.design
        m = d.xtx_inv @ np.asarray(c, dtype=float)
        columns = np.zeros((d.n, d.G))
        for g, b in enumerate(self.blocks):
            z = b.adjust(d.X[b.rows] @ m)
            columns[b.rows, g] = z
            columns[:, g] -= d.X @ (d.xtx_inv @ (d.X[b.rows].T @ z))
        gram = columns.T @ columns
        square = float(np.sum(gram * gram))
        return float(np.trace(gram) ** 2 / square) if square > 0 else np.nan

    def row(self, c: np.ndarray, level: float = 0.95) -> dict:
        """Estimate, CR2 standard error, t statistic, p-value and interval on t(df_BM).

        Returns
        -------
        dict
            As :func:`~analysis.models.fewcluster.analytic_row`, plus ``df``.
        """
        c = np.asarray(c, dtype=float)
        df = self.df(c)
        variance = float(c @ self.vcov @ c)
        if not np.isfinite(df) or df <= 0:
            df, variance = 1.0, np.inf
        out = analytic_row(float(c @ self.design.beta), variance, df, level)
        out["df"] = df
        return out
