"""A model that cannot be identified says so: data built to trip each check.

The published fits that must not trip them are in tests/statistics/test_published.py
(HSB's random-effects ANOVA and Fox's random slopes, MASchools, STAR).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from analysis.data import datasets
from analysis.models import links
from analysis.models.links import identification


def _grouped(n_groups: int = 40, size: int = 5, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n = n_groups * size
    frame = pd.DataFrame({"g": np.repeat(np.arange(n_groups), size), "x": rng.normal(size=n)})
    effect = np.repeat(rng.normal(size=n_groups), size)
    frame["y"] = frame["x"] + effect + rng.normal(size=n)
    return frame


def _fit(*args, **kwargs):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = links.estimate(*args, **kwargs)
    ours = [w for w in caught if issubclass(w.category, links.IdentificationWarning)]
    return result, [str(w.message) for w in ours]


def test_a_well_identified_mixed_model_passes():
    result, warned = _fit(_grouped(), "y ~ x", model="mixed", groups="g")
    assert result.problems == [] and warned == []
    assert result.glance()["identification"].iloc[0] == ""
    assert links.describe_identification(result, None, "vi")[0].startswith("Kiểm tra")


def test_one_row_per_group_is_not_identified():
    frame = _grouped().assign(g=lambda f: np.arange(len(f)))  # every row its own group
    result, warned = _fit(frame, "y ~ x", model="mixed", groups="g", lang="vi")
    assert [p.code for p in result.problems] == ["one_row_per_group"]
    assert result.glance()["identification"].iloc[0] == "one_row_per_group"
    assert len(warned) == 1 and "200 dòng chia vào 200 nhóm" in warned[0]
    # two rows per group on average is enough
    pairs = _grouped(n_groups=100, size=2)
    assert _fit(pairs, "y ~ x", model="mixed", groups="g")[0].problems == []


def test_a_zero_group_variance_is_a_boundary_fit():
    # within each pair the deviations cancel: the group means carry no variance at all
    rng = np.random.default_rng(5)
    e = rng.normal(size=100)
    frame = pd.DataFrame({"g": np.repeat(np.arange(100), 2), "x": rng.normal(size=200)})
    frame["y"] = frame["x"] + np.column_stack([e, -e]).ravel()
    result, warned = _fit(frame, "y ~ x", model="mixed", groups="g")
    codes = [p.code for p in result.problems]
    assert codes[0] == "boundary" and result.problems[0].values["components"] == ["Group"]
    assert warned and "zero" in warned[0]
    sentences = links.describe_identification(result, None, "vi")
    assert "hệ số chặn theo nhóm" in sentences[0]


def test_a_random_slope_without_variance_is_singular():
    # no slope variance is planted: the fitted slopes are perfectly correlated with the
    # intercepts (lme4's isSingular), or their variance is at zero
    result, _ = _fit(_grouped(), "y ~ x", model="mixed", groups="g", re_formula="~x")
    assert [p.code for p in result.problems][:1] == ["boundary"]
    assert any("x" in c for c in result.problems[0].values["components"])


def test_collinear_terms_are_named():
    frame = _grouped().assign(x2=lambda f: 2 * f["x"] + 1, z=lambda f: f["x"] ** 2)
    result, warned = _fit(frame, "y ~ x + x2 + z")
    problem = next(p for p in result.problems if p.code == "collinear")
    assert set(problem.values["terms"]) == {"Intercept", "x", "x2"}  # z is not part of it
    assert warned
    # a term a thousand times larger than the others is not taken for a collinear one
    scaled = _grouped().assign(big=lambda f: 1e6 * f["x"] ** 3)
    assert _fit(scaled, "y ~ x + big")[0].problems == []


def test_a_fit_that_did_not_converge_says_so():
    result, _ = _fit(_grouped(), "y ~ x", model="mixed", groups="g")
    result.stats["converged"] = False  # as _optimise reports it when no optimiser converged
    assert [p.code for p in identification.check(result)] == ["not_converged"]
    text = identification.describe(identification.check(result), lang="en")[0]
    assert "did not converge" in text


@pytest.mark.slow
def test_maschools_grouped_by_district_is_refused_in_words():
    """The issue's case: 211 districts, one row each, a mixed model by district."""
    data = datasets.load("maschools")
    result, warned = _fit(data, outcome=None, model="mixed", groups="district", lang="vi")
    assert [p.code for p in result.problems] == ["one_row_per_group"]
    assert len(warned) == 1
    sentence = links.describe_identification(result, data.spec, "vi")[0]
    assert "211 dòng chia vào 211 nhóm" in sentence
    english = links.describe_identification(result, data.spec, "en")[0]
    assert "about one row per group" in english
