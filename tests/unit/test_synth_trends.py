"""The synthetic province's trends: parallel unless planted otherwise; district × year shocks.

Parallel trends is a statement about expectations, so it is checked over many clean
provinces: the mean, over seeds, of what the untreated outcome's trend would add to a
difference-in-differences against the never-treated districts must be zero within its
Monte-Carlo error, and clearly not zero when ``parallel_trends=False`` plants the old
generator's violation. Only the structural model is drawn (no report columns, no
realism), which keeps 2 × 40 provinces at about two seconds.
"""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from analysis.data import synth
from analysis.data.synth import shocks, structural
from analysis.data.synth.register import build_register
from analysis.data.synth.structural import YEARS, Schools

N_SEEDS = 40
COHORTS = (2022, 2023, 2024)
# sha256 of panel.to_csv(index=False) for generate(1, "clean", 0.1) at commit ad29a59,
# before the generator had shocks or parallel trends: the flag off must give it back.
OLD_PANEL_SHA256 = "cd1087dc149a94578cbbc54642831d394ce6e0e263c3c270b52d98af32f49b7f"


def _structural(seed: int, *, parallel_trends: bool, sd: float = 0.0, scale: float = 1.0):
    """The structural model as :func:`synth.generate` draws it (same streams, same order)."""
    rng = np.random.default_rng(seed)
    _, schools, _, _ = build_register(rng, scale)
    s = Schools.of(schools)
    shock = shocks.of_schools(shocks.draw(seed, sd), s.district)
    return schools, structural.draw(rng, s, shock=shock, parallel_trends=parallel_trends)


def _untreated_trend_gaps(st) -> dict[int, float]:
    """Per cohort g: the DiD of the untreated outcome against the never-treated, from g - 1.

    The mean over t >= g of [y0_g(t) - y0_g(g-1)] - [y0_never(t) - y0_never(g-1)]: what
    the untreated trends alone add to ATT(g, t) of a staggered DiD (0 under parallel
    trends); the key 0 holds the cohort-size weighted mean, as for the overall ATT.
    """
    wave, y0 = st.training.wave, st.y0
    never = y0[wave == 0].mean(axis=0)
    gaps, weighted, weights = {}, 0.0, 0.0
    for g in COHORTS:
        members = wave == g
        gap = y0[members].mean(axis=0) - never
        years = YEARS  # a name, so the comparisons read left to right
        post = gap[years >= g] - gap[years == g - 1]
        gaps[g] = float(post.mean())
        weighted += members.sum() * post.sum()
        weights += members.sum() * len(post)
    gaps[0] = weighted / weights
    return gaps


def _mean_and_se(parallel_trends: bool) -> dict[int, tuple[float, float]]:
    rows = [
        _untreated_trend_gaps(_structural(seed, parallel_trends=parallel_trends)[1])
        for seed in range(1000, 1000 + N_SEEDS)
    ]
    out = {}
    for key in (*COHORTS, 0):
        values = np.array([r[key] for r in rows])
        out[key] = (float(values.mean()), float(values.std(ddof=1) / np.sqrt(N_SEEDS)))
    return out


def test_the_helper_draws_what_generate_draws():
    province = synth.generate(5, "clean", 0.2, district_year_sd=0.04)
    _, st = _structural(5, parallel_trends=True, sd=0.04, scale=0.2)
    np.testing.assert_array_equal(
        province.panel["mean_test_score"].to_numpy(dtype=float), st.mean_score.reshape(-1)
    )


def test_untreated_trends_are_parallel_unless_a_violation_is_planted(report):
    parallel, violated = _mean_and_se(True), _mean_and_se(False)
    for key, (mean, se) in parallel.items():
        assert abs(mean) < 3 * se, (key, mean, se)
    # the old generator: cities (never treated) trend differently from the districts
    mean, se = violated[0]
    assert mean > 0.004 and mean > 5 * se, (mean, se)
    assert violated[2022][0] > 5 * violated[2022][1]
    report(
        f"untreated-trend DiD bias vs never-treated over {N_SEEDS} clean provinces "
        "(mean ± se; overall, then cohorts 2022/2023/2024): parallel trends "
        + ", ".join(f"{parallel[k][0]:+.4f}±{parallel[k][1]:.4f}" for k in (0, *COHORTS))
        + "; planted violation "
        + ", ".join(f"{violated[k][0]:+.4f}±{violated[k][1]:.4f}" for k in (0, *COHORTS))
    )


def test_truth_says_whether_parallel_trends_hold():
    holds = synth.generate(1, "clean", 0.1).truth["parallel_trends"]
    planted = synth.generate(1, "clean", 0.1, parallel_trends=False).truth["parallel_trends"]
    assert holds["holds"] is True and planted["holds"] is False
    assert "parallel" in holds["note"] and "violation" in planted["note"]


def test_the_flag_off_without_shocks_is_the_old_generator():
    province = synth.generate(1, "clean", 0.1, district_year_sd=0, parallel_trends=False)
    text = province.panel.to_csv(index=False).encode()
    assert hashlib.sha256(text).hexdigest() == OLD_PANEL_SHA256


def test_shocks_are_recorded_with_the_profile_default():
    for profile, sd in (("realistic", 0.03), ("messy", 0.03), ("clean", 0.0)):
        truth = synth.generate(2, profile, 0.1).truth
        record = truth["district_year_shocks"]
        assert record["sd"] == sd == truth["model"]["score"]["district_year_sd"]
        assert set(record["by_district"]) == {d["unit_id"] for d in truth["districts"]}
        for by_year in record["by_district"].values():
            assert set(by_year) == {str(y) for y in synth.SCHOOL_YEARS}
            assert (sd == 0) == all(v == 0 for v in by_year.values())
        if sd:  # the draws themselves have the recorded spread, not only the record says so
            draws = np.array([v for by in record["by_district"].values() for v in by.values()])
            assert 0.6 * sd < draws.std(ddof=1) < 1.4 * sd, draws.std(ddof=1)
    assert "district_year_sd" not in synth.PARAMS["score"]  # recorded, not planted globally


def test_shocks_have_the_planted_sd():
    draws = np.concatenate([shocks.draw(seed, 0.03).ravel() for seed in range(300)])
    assert draws.std() == pytest.approx(0.03, rel=0.03)  # se of an sd from 13,500 draws: 0.6%
    assert abs(draws.mean()) < 3 * 0.03 / np.sqrt(draws.size)
    # same seed, other sd: the same standard normals, scaled
    np.testing.assert_allclose(shocks.draw(7, 0.05), shocks.draw(7, 0.02) * 2.5)


def test_a_shock_hits_every_school_of_a_district_year_in_both_outcomes():
    schools, calm = _structural(11, parallel_trends=True, sd=0.0, scale=0.3)
    _, shaken = _structural(11, parallel_trends=True, sd=0.05, scale=0.3)
    recorded = shocks.truth(shocks.draw(11, 0.05), 0.05)["by_district"]
    expected = np.array(
        [[recorded[d][str(y)] for y in YEARS] for d in schools["_district"]], dtype=float
    )
    np.testing.assert_allclose(shaken.y0 - calm.y0, expected, atol=1e-12)
    np.testing.assert_allclose(shaken.y1 - calm.y1, expected, atol=1e-12)
    np.testing.assert_array_equal(shaken.effect, calm.effect)


def test_shocks_change_the_scores_and_nothing_else():
    calm = synth.generate(11, "clean", 0.3, district_year_sd=0.0)
    shaken = synth.generate(11, "clean", 0.3, district_year_sd=0.05)
    assert shaken.truth["programme"] == calm.truth["programme"]  # the planted ATT, exactly
    assert shaken.truth["programme"]["att_overall"] == calm.truth["programme"]["att_overall"]
    moved = {"mean_test_score", "exam_pass_rate"}  # the pass rate is drawn from the score
    for column in calm.panel.columns:
        same = calm.panel[column].equals(shaken.panel[column])
        assert same != (column in moved), column
    assert calm.schools.equals(shaken.schools)


def test_a_negative_shock_sd_is_refused():
    with pytest.raises(ValueError, match="district_year_sd"):
        synth.generate(1, "clean", 0.1, district_year_sd=-0.01)


def test_the_generate_command_passes_the_shock_sd_and_the_flag(tmp_path):
    import json

    from typer.testing import CliRunner

    from analysis import cli

    out = tmp_path / "raw"
    args = ["generate", "--out", str(out), "--seed", "3", "--profile", "clean", "--scale", "0.05"]
    done = CliRunner().invoke(
        cli.app, [*args, "--district-year-sd", "0.05", "--no-parallel-trends"]
    )
    assert done.exit_code == 0, done.output
    truth = json.loads((out / "truth.json").read_text(encoding="utf-8"))
    assert truth["district_year_shocks"]["sd"] == 0.05
    assert truth["parallel_trends"]["holds"] is False
    refused = CliRunner().invoke(cli.app, [*args, "--district-year-sd", "-1"])
    assert refused.exit_code == 2
