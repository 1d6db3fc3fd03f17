"""One entry point for every link model: :func:`estimate`.

The steps, each its own function: check the names asked for, fill what the
dataset spec implies (formula, groups, entity, time), choose the covariance
(:func:`_choose_cov`: the default per model kind and the combinations
refused), collect the columns the model uses and its complete rows, then hand
them to the model kind's module (:mod:`.ols`, :mod:`.mixed`, :mod:`.panel`),
where the covariance is computed.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import pandas as pd
import patsy

from analysis.models.links import identification
from analysis.models.links.mixed import fit_mixed
from analysis.models.links.ols import fit_ols
from analysis.models.links.panel import fit_panel
from analysis.models.links.prepare import complete_rows, formula_columns, role_formula, standardize
from analysis.models.links.result import COVS, MODELS, LinkError, LinkResult

# the covariance when none is asked for (OLS: "cluster" once cluster= is given)
_DEFAULT_COV = {"ols": "HC1", "mixed": "nonrobust", "panel": "cluster"}


@dataclass(frozen=True)
class _Request:
    """A model as asked for, with the spec's defaults filled in and the covariance chosen."""

    model: str
    formula: str
    cov: str
    cluster: str | None
    groups: str | None
    re_formula: str | None
    vc: dict[str, str] | None
    reml: bool
    entity: str | None
    time: str | None
    time_effects: bool
    weights: str | None
    standardize: bool
    conf_level: float
    few_clusters: str


def estimate(
    data,
    formula: str | None = None,
    *,
    spec=None,
    outcome: str | None = None,
    model: str = "ols",
    cov: str | None = None,
    cluster: str | None = None,
    groups: str | None = None,
    re_formula: str | None = None,
    vc: dict[str, str] | None = None,
    reml: bool = True,
    entity: str | None = None,
    time: str | None = None,
    time_effects: bool = True,
    weights: str | None = None,
    standardize: bool = False,
    interaction: bool = True,
    conf_level: float = 0.95,
    few_clusters: str = "cr2",
    lang: str = "en",
) -> LinkResult:
    """Fit one model; every estimator returns the same :class:`LinkResult` shape.

    Parameters
    ----------
    data
        A DataFrame, or a :class:`~analysis.data.datasets.Dataset` (then ``spec`` is
        taken from it).
    formula
        ``"y ~ x1 + x2 * x3 + C(cat)"`` (patsy syntax). Without it, the formula
        is built from the spec's roles (:func:`role_formula`) for ``outcome``.
    spec, outcome, interaction
        The dataset spec (default ``data.spec``) whose roles build the formula
        and give groups, entity and time; the outcome (default its first);
        whether to include infrastructure × training.
    model
        ``"ols"``, ``"mixed"`` (MixedLM) or ``"panel"`` (two-way fixed effects).
    cov
        ``"nonrobust"``, ``"HC1"`` or ``"cluster"``. Defaults: OLS ``HC1``
        (``cluster`` when ``cluster=`` is given), panel ``cluster`` by entity,
        mixed ``nonrobust`` (model-based; the only choice for MixedLM).
    cluster
        Column to cluster standard errors on (OLS, panel).
    groups, re_formula, vc, reml
        MixedLM: grouping column (default: the spec's first group), random
        slopes (e.g. ``"~trained_share"``), nested variance components (e.g.
        ``{"school": "0 + C(school_id)"}`` with ``groups`` the district), REML
        (default) or ML (``reml=False``, needed for AIC/BIC).
    entity, time, time_effects
        Panel: unit and time columns (default: the spec's unit and time).
    weights
        Column of analytic weights (OLS as WLS; panel weights).
    standardize
        Z-score the outcome and the continuous predictors first, so that
        coefficients are in standard deviations.
    conf_level
        Level of ``conf_low``/``conf_high``.
    few_clusters
        What a clustered OLS or panel fit with fewer than 30 clusters uses for
        its errors, p-values and intervals: ``"cr2"`` (default; CR2 errors on
        t with Bell–McCaffrey degrees of freedom, :mod:`analysis.models.cr2`,
        chosen by calibration), ``"wild"`` (the restricted wild cluster
        bootstrap with Webb weights, :mod:`analysis.models.fewcluster`) or
        ``"crv1"`` (CRV1 with t(G − 1), which covers too rarely with so few
        clusters). ``glance()['inference']`` names the method used.
    lang
        The language of the identification warning (``vi`` or ``en``).

    Returns
    -------
    LinkResult
        ``tidy()``, ``glance()`` and ``vcov()``; ``dropped`` lists the columns
        whose missing values left rows out; ``problems`` what
        :func:`~analysis.models.links.identification.check` found (about one row per
        group, a variance at its boundary, no convergence, collinear terms), also in
        ``glance()['identification']`` and warned as an ``IdentificationWarning``.

    Raises
    ------
    LinkError
        If the model, covariance or columns asked for do not fit together, or
        the formula cannot be built on the data.

    Example
    -------
    >>> estimate(frame, "score ~ infra * trained + C(year)", cluster="school_id").tidy()
    ... # doctest: +SKIP
    """
    _check_names(model, cov)
    if few_clusters not in ("cr2", "wild", "crv1"):
        raise LinkError(f"few_clusters {few_clusters!r}; expected 'cr2', 'wild' or 'crv1'")
    frame = getattr(data, "data", data)
    spec = spec or getattr(data, "spec", None)
    if formula is None:
        formula = _spec_formula(
            spec, frame, outcome, interaction, time_effects and model != "panel"
        )
    if spec is not None:
        groups = groups or (spec.groups[0] if spec.groups else None)
        entity = entity or spec.unit
        time = time or spec.time
    _check_structure(model, groups, entity, time)
    cov = _choose_cov(model, cov, cluster)
    request = _Request(model, formula, cov, cluster, groups, re_formula, vc, reml, entity, time,
                       time_effects, weights, standardize, conf_level, few_clusters)  # fmt: skip
    rows, dropped = _model_rows(frame, request)
    result = _fit(rows, request)
    result.dropped = dropped
    result.n_input = len(frame)
    result.stats["n_dropped"] = len(frame) - len(rows)
    if cov == "cluster":  # the clustering column (a panel's default: its entity)
        result.stats["cluster"] = cluster or entity
    result.problems = identification.check(result)
    result.stats["identification"] = ", ".join(p.code for p in result.problems)
    if result.problems:  # a fit that is not identified says so, and not only in glance()
        text = " ".join(identification.describe(result.problems, lang=lang))
        warnings.warn(identification.IdentificationWarning(text.replace("**", "")), stacklevel=2)
    return result


def _check_names(model: str, cov: str | None) -> None:
    """Refuse a model kind or covariance the workbench does not know."""
    if model not in MODELS:
        raise LinkError(f"model {model!r}; expected one of {MODELS}")
    if cov is not None and cov not in COVS:
        raise LinkError(f"cov {cov!r}; expected one of {COVS}")


def _spec_formula(spec, frame: pd.DataFrame, outcome, interaction, time_effects) -> str:
    """The formula a spec's roles build, when none was given."""
    if spec is None:
        raise LinkError("give a formula, or a dataset spec whose roles build one")
    return role_formula(
        spec, frame, outcome=outcome, interaction=interaction, time_effects=time_effects
    )


def _check_structure(model: str, groups, entity, time) -> None:
    """Refuse a panel without entity and time, or a mixed model without groups."""
    if model == "panel" and not (entity and time):
        raise LinkError("a panel model needs entity= and time= (or a spec with unit and time)")
    if model == "mixed" and not groups:
        raise LinkError("a mixed model needs groups= (or a spec with groups)")


def _choose_cov(model: str, cov: str | None, cluster: str | None) -> str:
    """The covariance a fit uses: the model kind's default, or the one asked for if it applies.

    How each is computed lives with the model kind (``_covariance`` in
    :mod:`.ols`, :mod:`.mixed`, :mod:`.panel`).
    """
    if cov is None:
        cov = "cluster" if model == "ols" and cluster else _DEFAULT_COV[model]
    if cov == "cluster" and model == "ols" and not cluster:
        raise LinkError("cov='cluster' needs cluster= (a column)")
    if model == "mixed" and cov != "nonrobust":
        raise LinkError("MixedLM gives model-based standard errors only (cov='nonrobust')")
    return cov


def _used_columns(request: _Request, columns) -> list[str]:
    """Every column the model reads: formula, random slopes, cluster, weights, structure."""
    used = formula_columns(request.formula, columns)
    if request.re_formula:
        used += [c for c in formula_columns(request.re_formula, columns) if c not in used]
    for extra in (request.cluster, request.weights):
        if extra and extra not in used:
            used.append(extra)
    if request.model == "mixed":
        used += [c for c in [request.groups] if c not in used]
        for expr in (request.vc or {}).values():
            used += [c for c in formula_columns(expr, columns) if c not in used]
    if request.model == "panel":
        used += [c for c in (request.entity, request.time) if c not in used]
    return used


def _model_rows(frame: pd.DataFrame, request: _Request) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The complete rows the model is fitted on (standardised if asked), and what was dropped."""
    used = _used_columns(request, frame.columns)
    outcome_name = request.formula.split("~", 1)[0].strip()
    if outcome_name not in frame.columns:
        raise LinkError(f"outcome {outcome_name!r} is not a column of the data")
    rows, dropped = complete_rows(frame, used)
    if request.standardize:
        structure = (request.cluster, request.groups, request.entity, request.time, request.weights)
        skip = {c for c in structure if c}
        rows = standardize(rows, formula_columns(request.formula, rows.columns), skip)
    if len(rows) == 0:
        raise LinkError("no complete rows left for the model")
    return rows, dropped


def _fit(rows: pd.DataFrame, r: _Request) -> LinkResult:
    """Hand the rows to the model kind's fit; a formula patsy cannot build is a LinkError."""
    try:
        if r.model == "ols":
            return fit_ols(rows, r.formula, r.cov, r.cluster, r.weights, r.conf_level,
                           r.few_clusters)  # fmt: skip
        if r.model == "mixed":
            return fit_mixed(rows, r.formula, r.groups, r.re_formula, r.vc, r.reml, r.conf_level)
        return fit_panel(rows, r.formula, r.entity, r.time, r.time_effects, r.cov, r.cluster,
                         r.weights, r.conf_level, r.few_clusters)  # fmt: skip
    except patsy.PatsyError as exc:
        raise LinkError(f"cannot build the model {r.formula!r}: {exc}") from exc
