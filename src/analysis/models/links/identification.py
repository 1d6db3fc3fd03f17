"""Whether a fitted link model is identified: checks a fit makes on itself.

A model can be fitted and still say nothing about what it reports. Four ways are
checked after every fit (:func:`check`):

* ``one_row_per_group`` — a mixed model whose groups hold about one row each: the
  group variance cannot be told apart from the residual variance (lme4 refuses the
  same fit with "number of levels of each grouping factor must be < number of
  observations");
* ``boundary`` — a variance component at zero, or random effects perfectly
  correlated: a singular fit (lme4's ``isSingular``), whose variances are not
  estimates of anything;
* ``not_converged`` — no optimiser converged; the reported values are the best
  found, not a maximum;
* ``collinear`` — a term is a linear combination of others: its coefficient is
  not identified (statsmodels answers with a pseudo-inverse and says nothing).

Each check gives a :class:`Problem` (a code and the values its sentence needs);
:func:`describe` says it in the reader's language (``config/labels.yml``,
``identification``). ``glance()`` carries the codes (``identification``) and
:func:`~analysis.models.links.estimate` warns with :class:`IdentificationWarning`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from analysis.core import i18n

# a mixed model needs groups of more than one row on average (lme4 refuses n_groups ≥ n)
MIN_ROWS_PER_GROUP = 1.5
# a variance this small relative to the residual variance is at its boundary (zero);
# lme4's isSingular uses 1e-4 on the relative Cholesky factor, i.e. 1e-8 on variances
BOUNDARY = 1e-6
# random effects this correlated are perfectly correlated (a singular covariance)
PERFECT_CORRELATION = 0.999
# a singular value of the scaled design this small relative to the largest: collinear
COLLINEAR = 1e-9

CODES = ("one_row_per_group", "boundary", "not_converged", "collinear")


class IdentificationWarning(UserWarning):
    """A fitted model is not identified in some part (see the module docstring)."""


@dataclass(frozen=True)
class Problem:
    """One identification problem: its code and what its sentence names."""

    code: str
    values: dict[str, Any] = field(default_factory=dict)


def check(result) -> list[Problem]:
    """The identification problems of a fitted :class:`LinkResult` (empty: none found).

    Parameters
    ----------
    result
        What :func:`~analysis.models.links.estimate` returned.

    Returns
    -------
    list of Problem
        In the order of :data:`CODES`.
    """
    problems = []
    if result.model == "mixed":
        problems += _mixed(result)
    exog, names = _design(result.fit)
    collinear = collinear_terms(exog, names) if exog is not None else []
    if collinear:
        problems.append(Problem("collinear", {"terms": collinear}))
    return sorted(problems, key=lambda p: CODES.index(p.code))


def _design(fit) -> tuple[Any, list[str]]:
    """The fixed-effect design matrix of a fit and its column names (statsmodels, or a
    linearmodels panel's regressors before the within transformation)."""
    model = getattr(fit, "model", None)
    exog = getattr(model, "exog", None)
    if exog is None:
        return None, []
    if hasattr(exog, "values2d"):  # linearmodels PanelData
        return exog.values2d, [str(v) for v in exog.vars]
    return exog, [str(n) for n in getattr(model, "exog_names", [])]


def _mixed(result) -> list[Problem]:
    stats, out = result.stats, []
    n_obs, n_groups = int(stats["n_obs"]), int(stats["n_groups"])
    if n_groups and n_obs / n_groups < MIN_ROWS_PER_GROUP:
        out.append(Problem("one_row_per_group", {"n_obs": n_obs, "n_groups": n_groups,
                                                 "group": stats.get("group_column")}))  # fmt: skip
    at_zero = boundary_components(result.fit)
    if at_zero:
        out.append(Problem("boundary", {"components": at_zero}))
    if not stats.get("converged", True):
        out.append(Problem("not_converged"))
    return out


def boundary_components(fit) -> list[str]:
    """Names of a MixedLM fit's variance components at zero, and of random-effect pairs
    perfectly correlated (``"Group"`` for the intercept, the slope's term otherwise)."""
    scale = max(float(fit.scale), np.finfo(float).tiny)
    cov = np.atleast_2d(np.asarray(fit.cov_re, dtype=float))
    names = ["Group" if n == "Group" else str(n) for n in getattr(fit.cov_re, "index", [])]
    names = names or [f"re{i}" for i in range(cov.shape[0])]
    out = [n for n, v in zip(names, np.diag(cov), strict=True) if v / scale < BOUNDARY]
    sd = np.sqrt(np.clip(np.diag(cov), 0, None))
    for i in range(cov.shape[0]):
        for j in range(i + 1, cov.shape[0]):
            if sd[i] > 0 and sd[j] > 0 and abs(cov[i, j] / (sd[i] * sd[j])) > PERFECT_CORRELATION:
                out.append(f"{names[i]} ~ {names[j]}")
    for name, value in zip(getattr(fit.model.exog_vc, "names", []) or [],
                           np.atleast_1d(getattr(fit, "vcomp", [])), strict=False):  # fmt: skip
        if float(value) / scale < BOUNDARY:
            out.append(str(name))
    return out


def collinear_terms(exog, names: list[str]) -> list[str]:
    """The terms of a design matrix that are linear combinations of the others.

    The columns are scaled to unit length first (so a term measured in thousands is
    not taken for a collinear one); the terms named are those with weight in the
    null space, the last ones first dropped by a rank-revealing QR.
    """
    x = np.asarray(exog, dtype=float)
    if x.ndim != 2 or x.shape[1] == 0:
        return []
    norms = np.linalg.norm(x, axis=0)
    zero = [names[j] for j in np.flatnonzero(norms == 0)]
    x = x[:, norms > 0] / norms[norms > 0]
    kept = [n for n, s in zip(names, norms, strict=True) if s > 0]
    s = np.linalg.svd(x, compute_uv=False)
    if s.size == 0 or s[-1] > COLLINEAR * s[0]:
        return zero
    _, vt = np.linalg.svd(x)[1:]
    null = vt[s <= COLLINEAR * s[0]]
    involved = np.flatnonzero(np.abs(null).max(axis=0) > 1e-6)
    return zero + [kept[j] for j in involved]


def describe(problems: list[Problem], *, lang: str = "vi", label=None, terms=None) -> list[str]:
    """One sentence per problem in ``lang``.

    Parameters
    ----------
    problems
        From :func:`check`.
    lang
        ``vi`` or ``en``.
    label
        Column name → its label (the grouping column); default the name.
    terms
        Term name → its label (collinear terms, random slopes); default the name.
    """
    label = label or str
    terms = terms or {}
    out = []
    for p in problems:
        values = dict(p.values)
        if "group" in values:
            values["group"] = label(values["group"]) if values["group"] else "—"
            values["n_obs"] = i18n.integer(values["n_obs"], lang)
            values["n_groups"] = i18n.integer(values["n_groups"], lang)
        for key in ("terms", "components"):
            if key in values:
                intercept = i18n.label("identification", "intercept_variance", lang)
                shown = [intercept if n == "Group" else terms.get(n, n) for n in values[key]]
                values[key] = ", ".join(shown)
        out.append(i18n.text("identification", p.code, lang, **values))
    return out
