"""Programme evaluation: staggered DiD recovers the planted waves; TWFE's bias; STAR agreement."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from analysis.data import datasets, synth
from analysis.models import evaluation, links
from analysis.report import plots


@pytest.fixture(scope="module")
def province():
    p = synth.generate(seed=3, profile="clean")
    d = p.panel.merge(p.schools[["school_id", "_district"]], on="school_id")
    waves = {k: v["first_treated_year"] or 0 for k, v in p.truth["programme"]["waves"].items()}
    d["cohort"] = d["_district"].map(waves).astype(int)
    d["mean_test_score"] = d["mean_test_score"].astype(float)
    return p.truth["programme"], d


KEYS = dict(outcome="mean_test_score", unit="school_id", time="year", cohort="cohort")


@pytest.fixture(scope="module")
def staggered(province):
    _, d = province
    result = evaluation.staggered(d, cluster="_district", **KEYS)
    evaluation.design_checks(result, sims=100)
    return result


@pytest.fixture(scope="module")
def csdid_reference(province):
    """The same ATT(g, t) from csdid itself (via the covariate path with a constant)."""
    from csdid.att_gt import ATTgt

    _, d = province
    work = d[list(KEYS.values())].copy()
    work["_id"] = pd.factorize(work["school_id"])[0] + 1
    work["mean_test_score"] = work["mean_test_score"].astype(float)
    model = ATTgt(
        yname="mean_test_score",
        gname="cohort",
        idname="_id",
        tname="year",
        data=work,
        control_group="nevertreated",
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fitted = evaluation._quiet(model.fit, est_method="dr")
        out = {"attgt": np.asarray(fitted.results["att"], dtype=float)}
        for kind in ("simple", "dynamic", "group"):
            evaluation._quiet(fitted.aggte, typec=kind)
            agg = fitted.atte
            out[kind] = np.atleast_1d(agg["overall_att"] if kind == "simple" else agg["att_egt"])
    return out


def test_regression_form_reproduces_csdid(staggered, csdid_reference):
    np.testing.assert_allclose(
        staggered.tidy("attgt")["estimate"], csdid_reference["attgt"], atol=1e-8
    )
    for kind in ("simple", "dynamic", "group"):
        np.testing.assert_allclose(
            staggered.tidy(kind)["estimate"], csdid_reference[kind], atol=1e-8
        )


def test_inference_is_at_the_level_of_assignment(staggered):
    glance = staggered.glance().iloc[0]
    assert glance["method"].startswith("wild cluster bootstrap")
    assert glance["cluster"] == "_district"
    assert (
        glance["n_clusters"],
        glance["n_treated_clusters"],
        glance["n_never_treated_clusters"],
    ) == (9, 7, 2)
    by_cohort = staggered.tidy("group").set_index("cohort")["n_clusters"].to_dict()
    assert by_cohort == {2022: 4, 2023: 5, 2024: 4}  # its districts and the two cities
    # the analytic cross-check exists for every row, and CRV3 is wider than CRV1
    cross = staggered.crosscheck["simple"].iloc[0]
    assert cross["std_error"] > staggered.tidy("simple").iloc[0]["std_error"]


def test_design_checks(staggered, report):
    checks = staggered.checks
    overall = staggered.tidy("simple").iloc[0]
    assert 0 < checks["mde"] < overall["estimate"]  # this design detects an effect this large
    table = checks["sensitivity"]
    assert list(table["mbar"][:3]) == [0.5, 1.0, 2.0]
    assert (table["conf_low"] <= overall["conf_low"]).all()
    breakdown = table[table["breakdown"]].iloc[0]
    assert breakdown["conf_low"] == pytest.approx(0, abs=1e-12)
    assert 2022 not in checks["informative_cohorts"]  # two districts against two cities
    report(
        f"staggered design: MDE {checks['mde']:.4f} (80% power), breakdown M̄ "
        f"{checks['breakdown_mbar']:.2f}, pre-trend p {staggered.pretrend['p_value']:.2f}"
    )


def test_covariates_use_csdid_and_say_it_is_not_a_few_cluster_method(province):
    _, d = province
    d = d.assign(const_x=np.random.default_rng(0).normal(size=len(d)))
    with pytest.warns(UserWarning, match="clusters"):
        result = evaluation.staggered(d, cluster="_district", controls="~ const_x", **KEYS)
    assert result.glance().iloc[0]["method"] == evaluation.CSDID
    assert result.pretrend["method"].startswith("independent")


def _inside(row, value) -> bool:
    return bool(row["conf_low"] <= value <= row["conf_high"])


def test_overall_and_wave_effects_recovered(province, staggered, report):
    truth, _ = province
    overall = staggered.tidy("simple").iloc[0]
    assert list(staggered.tidy("simple").columns) == links.TIDY_COLUMNS
    assert _inside(overall, truth["att_overall"]), (overall, truth["att_overall"])
    by_cohort = staggered.tidy("group").set_index("cohort")
    for cohort, value in truth["att_by_cohort"].items():
        assert _inside(by_cohort.loc[int(cohort)], value), (
            cohort,
            by_cohort.loc[int(cohort)],
            value,
        )
    report(
        f"staggered DiD overall ATT {overall['estimate']:.4f} "
        f"[{overall['conf_low']:.4f}, {overall['conf_high']:.4f}], truth {truth['att_overall']:.4f}"
    )


def test_pre_trends_are_flat(staggered):
    dynamic = staggered.tidy("dynamic")
    pre = dynamic[dynamic["event_time"] < 0]
    assert len(pre) >= 1
    assert ((pre["conf_low"] <= 0) & (pre["conf_high"] >= 0)).all()
    assert staggered.pretrend["p_value"] > 0.05


def test_twfe_is_biased_when_effects_differ_across_waves(province, staggered, report):
    """Effects grow with exposure and differ by wave: TWFE misses the truth, CS does not."""
    truth, d = province
    tw = (
        evaluation.twfe(
            d, outcome="mean_test_score", unit="school_id", time="year", cohort="cohort"
        )
        .tidy()
        .set_index("term")
        .loc["treated"]
    )
    cs = staggered.tidy("simple").iloc[0]
    assert not _inside(tw, truth["att_overall"])
    assert tw["estimate"] < truth["att_overall"]  # already-treated units used as controls
    assert _inside(cs, truth["att_overall"])
    report(
        f"TWFE {tw['estimate']:.4f} [{tw['conf_low']:.4f}, {tw['conf_high']:.4f}] vs truth "
        f"{truth['att_overall']:.4f}: biased; staggered DiD covers it"
    )


def test_twfe_is_fine_when_the_effect_is_constant():
    rng = np.random.default_rng(0)
    units, years = 400, np.arange(2018, 2024)
    cohort = rng.choice([0, 2020, 2022], size=units)
    rows = []
    for i in range(units):
        alpha = rng.normal()
        for t in years:
            treated = cohort[i] > 0 and t >= cohort[i]
            rows.append(
                {
                    "id": i,
                    "t": t,
                    "g": cohort[i],
                    "y": alpha + 0.1 * (t - 2018) + 0.5 * treated + rng.normal(0, 0.3),
                }
            )
    frame = pd.DataFrame(rows)
    tw = evaluation.twfe(frame, outcome="y", unit="id", time="t", cohort="g").tidy().iloc[0]
    result = evaluation.staggered(frame, outcome="y", unit="id", time="t", cohort="g")
    assert result.glance().iloc[0]["method"] == evaluation.CRV1_T  # 400 units, each its own
    cs = result.tidy().iloc[0]
    assert _inside(tw, 0.5) and _inside(cs, 0.5)


def test_star_small_class_effect_agrees(report):
    """STAR was randomised: weighting, difference in means and regression agree (S&W: 13.90)."""
    star = datasets.load("star").data
    star = star[star["regular_aide"] == 0].dropna(
        subset=["score", "boy", "free_lunch", "african_american"]
    )
    covariates = ["boy", "free_lunch", "african_american"]
    weighted = evaluation.weighting(
        star, outcome="score", treatment="small_class", covariates=covariates
    )
    ipw = weighted.tidy().iloc[0]
    means = star.groupby("small_class")["score"].mean()
    difference = means[1.0] - means[0.0]
    regression = (
        links.estimate(star, "score ~ small_class + boy + free_lunch + african_american", cov="HC1")
        .tidy()
        .set_index("term")
        .loc["small_class"]
    )
    assert abs(ipw["estimate"] - difference) < 0.5
    assert abs(ipw["estimate"] - regression["estimate"]) < 0.5
    # Stock & Watson Table 13.2 (1): 13.90 (2.45); Krueger (1999): a small class raises
    # kindergarten scores by about 5 percentile points — the same effect on another scale
    assert abs(ipw["estimate"] - 13.90) < ipw["std_error"]
    assert (weighted.balance["smd_after"].abs() < 0.1).all()
    report(
        f"STAR small class: IPW {ipw['estimate']:.2f} ({ipw['std_error']:.2f}), difference in "
        f"means {difference:.2f}, regression {regression['estimate']:.2f}; S&W 13.90"
    )


def test_weighting_balances_a_confounded_programme():
    rng = np.random.default_rng(1)
    n = 3000
    ses = rng.normal(size=n)
    urban = rng.random(n) < 0.4
    p = 1 / (1 + np.exp(-(-0.3 + 1.2 * ses + 0.8 * urban)))
    treated = (rng.random(n) < p).astype(float)
    y = 1.0 * treated + 2.0 * ses + 1.0 * urban + rng.normal(size=n)
    frame = pd.DataFrame({"y": y, "d": treated, "ses": ses, "urban": urban.astype(float)})
    naive = frame.groupby("d")["y"].mean().diff().iloc[-1]
    result = evaluation.weighting(frame, outcome="y", treatment="d", covariates=["ses", "urban"])
    row = result.tidy().iloc[0]
    assert naive > 2  # confounded
    assert _inside(row, 1.0)
    assert (result.balance["smd_before"].abs() > 0.2).any()
    assert (result.balance["smd_after"].abs() < 0.1).all()


def test_plots_draw(staggered):
    import matplotlib

    matplotlib.use("Agg")
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        rng = np.random.default_rng(2)
        frame = pd.DataFrame({"x": rng.normal(size=400)})
        frame["d"] = (rng.random(400) < 1 / (1 + np.exp(-frame["x"]))).astype(float)
        frame["y"] = frame["d"] + frame["x"] + rng.normal(size=400)
        weighted = evaluation.weighting(frame, outcome="y", treatment="d", covariates=["x"])
        for lang in ("vi", "en"):
            plots.event_study_plot(staggered, lang=lang).figure.canvas.draw()
            plots.overlap_plot(weighted, lang=lang).figure.canvas.draw()
