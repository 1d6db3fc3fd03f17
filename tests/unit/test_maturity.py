"""Decision 4725 maturity scores and levels on hand-computed schools."""

from __future__ import annotations

import pandas as pd
import pytest

from analysis.data import datasets
from analysis.measures import maturity


@pytest.fixture(scope="module")
def framework():
    return maturity.load_framework()


def test_framework_is_data_and_says_it_must_be_checked(framework):
    assert not framework.verified
    assert "4725" in framework.decision
    assert "annex" in framework.verification_note["en"]
    g1, g2 = framework.groups
    assert g1.listed_points == 100
    assert g2.listed_points == 90  # about 10 points missing from the listing
    for group in framework.groups:
        assert group.mandatory
        for crit in group.criteria:
            assert sum(i["points"] for i in crit.sub_items) == crit.max_points
            assert crit.name["vi"] and crit.name["en"]
    for level in (1, 2, 3):
        assert framework.level_name(level, "vi").startswith("Mức độ")
        assert framework.level_name(level, "en").startswith("Level")


def _school(**points):
    base = {
        "school_id": "s",
        "year": 2024,
        "m1_online_teaching_plan": True,
        "c1_3_online_software": 30,
        "c1_4_digitised_material": 10,
        "c1_5_computer_testing": 20,
        "c1_6_teachers": 20,
        "c1_7_infrastructure": 20,
        "m2_steering_plan": True,
        "c2_3_management_system": 60,
        "c2_4_online_services": 30,
    }
    base.update(points)
    return base


def _score(framework, **points):
    frame = pd.DataFrame([_school(**points)])
    frame["m1_online_teaching_plan"] = frame["m1_online_teaching_plan"].astype("boolean")
    frame["m2_steering_plan"] = frame["m2_steering_plan"].astype("boolean")
    for c in frame.columns[2:]:
        if c.startswith("c"):
            frame[c] = frame[c].astype("Int64")
    return maturity.scores(frame, framework).set_index("group")


@pytest.mark.parametrize(
    ("g1_points", "level"),
    [
        # 1.3 + 1.4 + 1.5 + 1.6 + 1.7
        ((30, 10, 20, 20, 20), 3),  # 100
        ((24, 6, 15, 14, 17), 3),  # 76 > 75
        ((24, 6, 15, 14, 16), 2),  # 75 is still level 2
        ((18, 5, 15, 7, 5), 2),  # 50 is level 2
        ((18, 5, 15, 7, 4), 1),  # 49
        ((0, 0, 0, 0, 0), 1),
    ],
)
def test_group1_levels_by_hand(framework, g1_points, level):
    cols = [
        "c1_3_online_software",
        "c1_4_digitised_material",
        "c1_5_computer_testing",
        "c1_6_teachers",
        "c1_7_infrastructure",
    ]
    got = _score(framework, **dict(zip(cols, g1_points, strict=True)))
    assert got.loc["g1", "score"] == pytest.approx(sum(g1_points))
    assert got.loc["g1", "level"] == level
    assert not got.loc["g1", "capped"]


def test_group2_is_scored_on_its_listed_points(framework):
    # 45 of the 90 listed points → 50 → level 2; 68 → 75.56 → level 3
    got = _score(framework, c2_3_management_system=30, c2_4_online_services=15)
    assert got.loc["g2", "score"] == pytest.approx(50)
    assert got.loc["g2", "level"] == 2
    got = _score(framework, c2_3_management_system=44, c2_4_online_services=24)
    assert got.loc["g2", "score"] == pytest.approx(75.56, abs=0.01)
    assert got.loc["g2", "level"] == 3


def test_failed_mandatory_condition_caps_at_level_1(framework):
    got = _score(framework, m1_online_teaching_plan=False)
    assert got.loc["g1", "score"] == pytest.approx(100)
    assert got.loc["g1", "level"] == 1 and got.loc["g1", "capped"]
    assert "m1 not met" in got.loc["g1", "reason"]
    assert got.loc["g2", "level"] == 3  # the other group is unaffected
    got = _score(framework, m2_steering_plan=None)
    assert got.loc["g2", "level"] == 1 and "m2 not reported" in got.loc["g2", "reason"]


def test_unreported_criterion_leaves_the_group_unscored(framework):
    got = _score(framework, c1_5_computer_testing=None)
    assert pd.isna(got.loc["g1", "score"]) and pd.isna(got.loc["g1", "level"])
    assert "1.5" in got.loc["g1", "reason"]


def test_distribution_by_district_and_year(realistic_ingested):
    data = datasets.load("thai_nguyen_synthetic", processed=realistic_ingested[2])
    dist = maturity.distribution(data, level="analysis_district", lang="en")
    shares = dist.groupby(["unit_id", "year", "group"])["share"].sum()
    assert shares.round(6).eq(100).all()
    assert dist["unit_id"].nunique() == 9
    assert set(dist["year"]) == {2021, 2022, 2023, 2024, 2025}
    # the province matures over time in the synthetic data
    level3 = dist[dist["maturity_level"].str.startswith("Level 3")]
    by_year = level3.groupby("year")["count"].sum()
    assert by_year.get(2025, 0) > by_year.get(2021, 0)
