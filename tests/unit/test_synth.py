"""The synthetic province: deterministic, realistic in shape, with a documented truth."""

from __future__ import annotations

import json

import numpy as np
import pytest

from analysis.data import synth


def _bytes(folder):
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_same_seed_gives_byte_identical_files(tmp_path):
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    synth.write(synth.generate(seed=11), a)
    synth.write(synth.generate(seed=11), b)
    synth.write(synth.generate(seed=12), c)
    first, second, other = _bytes(a), _bytes(b), _bytes(c)
    assert set(first) == {
        *(synth.report_filename(y) for y in synth.SCHOOL_YEARS),
        synth.REGISTER_FILENAME,
        "truth.json",
    }
    assert first == second
    assert first[synth.report_filename(2023)] != other[synth.report_filename(2023)]


def test_province_shape(clean_province):
    province, raw = clean_province
    truth = json.loads((raw / "truth.json").read_text(encoding="utf-8"))
    assert truth["synthetic"] is True
    names = {d["name"] for d in truth["districts"]}
    assert names == {
        "Thành phố Thái Nguyên",
        "Thành phố Sông Công",
        "Thành phố Phổ Yên",
        "Huyện Phú Bình",
        "Huyện Đồng Hỷ",
        "Huyện Võ Nhai",
        "Huyện Định Hóa",
        "Huyện Đại Từ",
        "Huyện Phú Lương",
    }
    assert {d["area_type"] for d in truth["districts"]} == {"urban", "rural", "mountainous"}
    assert 550 <= truth["n_schools"] <= 650
    assert set(province.schools["school_level"]) == set(synth.LEVELS)
    assert truth["school_years"] == [
        "2020-2021",
        "2021-2022",
        "2022-2023",
        "2023-2024",
        "2024-2025",
    ]
    panel = province.panel
    assert len(panel) == truth["n_schools"] * 5
    assert (panel["teachers_trained_cds"] <= panel["teachers"]).all()
    assert (panel["computers_internet"] <= panel["computers_teaching"]).all()
    assert (panel["teachers_trained_cds_year"] <= panel["teachers_trained_cds"]).all()


def test_covid_years_have_more_online_teaching(clean_province):
    panel = clean_province[0].panel
    weeks = panel.groupby("year")["online_teaching_weeks"].mean()
    assert min(weeks[2021], weeks[2022]) > 3 * max(weeks[2023], weeks[2024], weeks[2025])


def test_infrastructure_is_confounded_by_area_and_ses(clean_province):
    province = clean_province[0]
    panel = province.panel.merge(province.schools[["school_id", "area_type"]], on="school_id")
    infra = panel["computers_teaching"] / panel["enrolment"] * 100
    by_area = infra.groupby(panel["area_type"]).mean()
    assert by_area["urban"] > by_area["rural"] > by_area["mountainous"]
    assert np.corrcoef(infra, panel["poor_household_share"])[0, 1] < -0.3


def test_programme_waves_raise_training_and_truth_is_recorded(clean_province):
    province = clean_province[0]
    programme = province.truth["programme"]
    waves = {k: v["first_treated_year"] for k, v in programme["waves"].items()}
    assert sorted({w for w in waves.values() if w}) == [2022, 2023, 2024]
    assert programme["never_treated_districts"]
    att = programme["att_gt"]
    assert all(r["att"] == pytest.approx(0) for r in att if r["event_time"] < 0)
    assert all(r["att"] > 0.03 for r in att if r["event_time"] >= 0)
    assert programme["att_overall"] > 0
    # trained share jumps in the first treated year of a wave, relative to never-treated
    panel = province.panel.merge(province.schools[["school_id", "_district"]], on="school_id")
    share = panel["teachers_trained_cds"] / panel["teachers"]
    wave = panel["_district"].map(waves)
    early = share[(wave == 2022) & (panel["year"] == 2023)].mean()
    early_before = share[(wave == 2022) & (panel["year"] == 2021)].mean()
    never = share[wave.isna() & (panel["year"] == 2023)].mean()
    never_before = share[wave.isna() & (panel["year"] == 2021)].mean()
    assert (early - early_before) - (never - never_before) > 0.3


def test_realism_flaws_are_recorded(messy_province):
    province, _ = messy_province
    realism = province.truth["realism"]
    n = len(province.panel)
    assert len(realism["missing_reports"]) == round(0.03 * n)
    assert len(realism["impossible_values"]) == round(0.03 * n)
    assert len(realism["duplicate_rows"]) == round(0.02 * n)
    assert len(realism["outliers"]) == round(0.01 * n)
    assert realism["text_numbers"] > 0
    assert set(realism["header_variants"].values()) == {"no_diacritics", "synonym", "spacing"}


def test_clean_profile_has_no_flaws(clean_province):
    realism = clean_province[0].truth["realism"]
    for key in ("missing_reports", "impossible_values", "duplicate_rows", "outliers"):
        assert realism[key] == []
    assert realism["header_variants"] == {}


def test_unknown_profile_is_refused():
    with pytest.raises(ValueError, match="unknown profile"):
        synth.generate(profile="chaotic")
