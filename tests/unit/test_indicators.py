"""Indicator definitions, aggregation from sums, targets and status, the 2025 reform."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.core import i18n
from analysis.core.config import ConfigError
from analysis.data import datasets, hierarchy, schema
from analysis.measures import indicators

PROCESSED = (
    set(schema.processed_columns("panel"))
    | set(schema.processed_columns("schools"))
    | set(hierarchy.HIERARCHY_COLUMNS)
)


def test_at_least_twenty_indicators_with_labels_and_sources():
    every = indicators.load_indicators()
    assert len(every) >= 20
    for ind in every:
        assert ind.name["vi"].strip() and ind.name["en"].strip(), ind.id
        assert ind.unit["vi"].strip() and ind.unit["en"].strip(), ind.id
        assert ind.source.strip(), ind.id
        for target in ind.targets:
            # verified national figures name their decision; anything else is a labelled placeholder
            assert "Decision 131" in target.source or "placeholder" in target.source, ind.id


def test_required_topics_are_covered():
    ids = {i.id for i in indicators.load_indicators()}
    for required in [
        "learners_per_computer",
        "learners_per_connected_computer",
        "schools_with_internet",
        "classrooms_projector_internet",
        "bandwidth_per_learner",
        "teachers_online_account",
        "teachers_trained_cds",
        "training_hours_per_teacher",
        "teachers_digital_material",
        "pupils_digital_records",
        "e_lessons_per_teacher",
        "schools_using_lms",
        "management_system_coverage",
        "schools_online_admission",
        "schools_cashless_fees",
        "schools_with_it_staff",
        "schools_security_person",
        "schools_with_backups",
        "security_incidents_per_school",
        "exam_pass_rate",
    ]:
        assert required in ids
    sectors = {i.sector for i in indicators.load_indicators()}
    assert sectors == {"in", "cross"}


def test_expressions_reference_existing_columns():
    assert indicators.check_expressions(PROCESSED) == []


def test_a_bad_expression_or_missing_label_fails(tmp_path):
    bad = tmp_path / "ind.yml"
    bad.write_text(
        "indicators:\n  - id: x\n    name: {vi: X, en: X}\n    domain: use\n"
        "    numerator: computerz\n    denominator: enrolment\n    factor: 1\n"
        "    unit: {vi: a, en: a}\n    better: higher\n    sector: in\n    source: s\n"
    )
    assert indicators.check_expressions(PROCESSED, bad) == [
        "x.numerator: unknown column(s) ['computerz']"
    ]
    bad.write_text(bad.read_text().replace("{vi: X, en: X}", "{vi: X}"))
    with pytest.raises(ConfigError, match=r"name\.en"):
        indicators.load_indicators(bad)
    bad.write_text(
        bad.read_text().replace("{vi: X}", "{vi: X, en: X}").replace("source: s", "source: ''")
    )
    with pytest.raises(ConfigError, match="source"):
        indicators.load_indicators(bad)


def test_every_label_has_both_languages():
    assert i18n.missing_labels() == []


# --------------------------------------------------------------------------
# Aggregation is a ratio of sums, whatever the partition


schools_strategy = st.lists(
    st.tuples(
        st.integers(min_value=1, max_value=3000),  # enrolment
        st.integers(min_value=0, max_value=300),  # computers
        st.booleans(),  # has_internet
        st.integers(min_value=0, max_value=4),  # district (the partition)
    ),
    min_size=1,
    max_size=40,
)


@settings(max_examples=60, deadline=None)
@given(schools_strategy)
def test_district_value_is_ratio_of_summed_parts(rows):
    frame = pd.DataFrame(rows, columns=["enrolment", "computers_teaching", "has_internet", "d"])
    frame["school_id"] = [f"s{i}" for i in range(len(frame))]
    frame["year"] = 2024
    frame["district_id"] = "D" + frame["d"].astype(str)
    frame["district_name"] = frame["district_id"]
    frame["has_internet"] = frame["has_internet"].astype("boolean")
    out = indicators.aggregate(
        frame, level="district", indicators=["learners_per_computer", "schools_with_internet"]
    )
    for district, part in frame.groupby("district_id"):
        got = out[(out["unit_id"] == district)].set_index("indicator")
        computers = part["computers_teaching"].sum()
        expected = part["enrolment"].sum() / computers if computers else np.nan
        value = got.loc["learners_per_computer", "value"]
        assert (np.isnan(expected) and np.isnan(value)) or value == pytest.approx(expected)
        assert got.loc["schools_with_internet", "value"] == pytest.approx(
            100 * part["has_internet"].sum() / len(part)
        )
        assert got.loc["learners_per_computer", "n_schools"] == len(part)


def test_missing_parts_leave_the_school_out_of_both_sums():
    frame = pd.DataFrame(
        {
            "school_id": ["a", "b", "c"],
            "year": 2024,
            "province_id": "P",
            "province_name": "P",
            "enrolment": [100, 300, 50],
            "computers_teaching": pd.array([10, None, 5], dtype="Int64"),
        }
    )
    out = indicators.aggregate(frame, level="province", indicators=["learners_per_computer"])
    assert out["value"].iloc[0] == pytest.approx(150 / 15)
    assert out["n_schools"].iloc[0] == 2


# --------------------------------------------------------------------------
# Targets and status on hand-computed cases


def _unit_series(values: dict[str, list[float]], years=(2021, 2022, 2023)) -> pd.DataFrame:
    rows = []
    for unit, series in values.items():
        for year, v in zip(years, series, strict=True):
            rows.append(
                {
                    "school_id": f"{unit}{year}",
                    "year": year,
                    "province_id": unit,
                    "province_name": unit,
                    "enrolment": 100.0,
                    "e_lessons": v,
                }
            )
    return pd.DataFrame(rows)


def _indicator(better="higher", targets=((2025, 80.0),)):
    return indicators.Indicator(
        id="share",
        name={"vi": "Tỷ lệ", "en": "Share"},
        domain="use",
        numerator="e_lessons",
        denominator="enrolment",
        factor=100,
        unit={"vi": "%", "en": "%"},
        better=better,
        sector="in",
        source="test",
        targets=tuple(indicators.Target(y, v, "test") for y, v in targets),
    )


def test_status_met_on_track_behind_by_hand():
    data = _unit_series({"A": [40, 50, 60], "B": [40, 42, 44], "C": [70, 85, 90]})
    out = indicators.compute(data, indicators=[_indicator()], levels=("province",))
    got = out.set_index(["unit_id", "year"])
    # A: slope 10 a year; 2023: 60 + 10 × 2 = 80 reaches the 2025 target
    assert got.loc[("A", 2021), "status"] == "no_trend"
    assert got.loc[("A", 2022), "projected"] == pytest.approx(80)
    assert got.loc[("A", 2023), "status"] == "on_track"
    assert got.loc[("A", 2023), "gap"] == pytest.approx(20)
    assert got.loc[("A", 2023), "change"] == pytest.approx(10)
    # B: 44 + 2 × 2 = 48 < 80
    assert got.loc[("B", 2023), "status"] == "behind"
    assert got.loc[("B", 2023), "projected"] == pytest.approx(48)
    # C: 85 ≥ 80 already
    assert got.loc[("C", 2022), "status"] == "met"
    assert got.loc[("C", 2022), "gap"] == pytest.approx(-5)
    # ranks: higher is better
    assert got.loc[("C", 2023), "rank"] == 1 and got.loc[("B", 2023), "rank"] == 3


def test_status_when_lower_is_better_and_target_year_reached():
    data = _unit_series({"A": [30, 25, 20], "B": [30, 29, 28]})
    ind = _indicator(better="lower", targets=((2023, 22.0),))
    out = indicators.compute(data, indicators=[ind], levels=("province",)).set_index(
        ["unit_id", "year"]
    )
    assert out.loc[("A", 2023), "status"] == "met"  # 20 ≤ 22
    assert out.loc[("A", 2023), "gap"] == pytest.approx(-2)
    assert out.loc[("B", 2023), "status"] == "not_met"  # target year reached, 28 > 22
    assert out.loc[("B", 2022), "status"] == "behind"  # 29 − 1 = 28 > 22, a year left
    assert out.loc[("A", 2022), "status"] == "on_track"  # 25 − 5 = 20 ≤ 22 by 2023
    assert out.loc[("A", 2023), "rank"] == 1


def test_no_target_after_the_last_target_year():
    data = _unit_series({"A": [40, 50, 60]}, years=(2024, 2025, 2026))
    out = indicators.compute(data, indicators=[_indicator()], levels=("province",))
    assert out.set_index("year").loc[2026, "status"] == "no_target"


# --------------------------------------------------------------------------
# The synthetic province: every level and year in one call; the 2025 reform


@pytest.fixture(scope="module")
def synthetic(realistic_ingested):
    return datasets.load("thai_nguyen_synthetic", processed=realistic_ingested[2])


def test_every_level_every_year_in_one_call(synthetic):
    out = indicators.compute(synthetic, levels=tuple(indicators.LEVELS), lang="en")
    n_ind = len(indicators.load_indicators())
    assert set(out["level"]) == set(indicators.LEVELS)
    assert set(out["year"]) == {2021, 2022, 2023, 2024, 2025}
    assert out.groupby("level")["indicator"].nunique().eq(n_ind).all()
    assert list(out.columns) == indicators.RESULT_COLUMNS
    assert out["name"].str.len().gt(0).all()


def test_hierarchy_change_across_2025(synthetic):
    out = indicators.compute(
        synthetic,
        indicators=["teachers_trained_cds"],
        levels=("unit", "district", "commune", "analysis_district", "analysis_province"),
    )
    units = out.groupby(["level", "year"])["unit_id"].nunique()
    assert units[("unit", 2024)] == 9 and units[("unit", 2025)] > 9  # districts, then communes
    assert ("district", 2025) not in units.index and ("commune", 2024) not in units.index
    assert units[("analysis_district", 2024)] == units[("analysis_district", 2025)] == 9
    assert units[("analysis_province", 2025)] == 1
    # every grouping adds up to the same province totals
    sums = out.groupby(["level", "year"])[["numerator", "denominator"]].sum()
    for year in (2024, 2025):
        province = sums.loc[("analysis_province", year)]
        assert sums.loc[("unit", year)].tolist() == pytest.approx(province.tolist())
        assert sums.loc[("analysis_district", year)].tolist() == pytest.approx(province.tolist())
    # the consistent grouping gives a year-on-year change across the reform; the as-of one cannot
    consistent = out[(out["level"] == "analysis_district") & (out["year"] == 2025)]
    assert consistent["change"].notna().all()
    as_of = out[(out["level"] == "unit") & (out["year"] == 2025)]
    assert as_of["change"].isna().all()


def test_an_indicator_with_no_value_is_named_with_its_reason(synthetic):
    """Nothing vanishes: a column no report filled, a year no school reported."""
    data = synthetic.data.copy()
    data["e_lessons"] = float("nan")  # the template had no such column
    year = int(data["year"].max())
    last = data["year"] == year
    data.loc[last, "teachers_digital_material"] = float("nan")  # nobody reported it this year
    values = indicators.compute(data, levels=("analysis_province",), lang="en")
    gaps = indicators.not_computed(values, data, year, lang="en").set_index("indicator")
    assert set(gaps.index) == {"e_lessons_per_teacher", "teachers_digital_material"}
    assert "“E-lessons produced”" in gaps.loc["e_lessons_per_teacher", "reason"]
    assert "config" not in gaps.loc["e_lessons_per_teacher", "reason"]  # a reader's sentence
    assert f"for {year}: no school reported" in gaps.loc["teachers_digital_material", "reason"]
    vi = indicators.not_computed(values, data, year, lang="vi").set_index("indicator")
    assert "“Số bài giảng điện tử”" in vi.loc["e_lessons_per_teacher", "reason"]
    assert indicators.not_computed(
        indicators.compute(synthetic.data, levels=("analysis_province",)), synthetic.data, year
    ).empty  # the full province lacks nothing


def test_schools_counted_against_the_register(synthetic):
    year = int(synthetic.data["year"].max())
    reporting, register = indicators.schools_counted(synthetic, year)
    assert register == synthetic.tables["schools"]["school_id"].nunique()
    assert 0 < reporting <= register
    frame = synthetic.data
    gone = frame.loc[frame["year"] == year, "school_id"].unique()[:5]  # five stop reporting
    fewer = frame[~frame["school_id"].isin(gone)]
    shrunk = type(synthetic)(synthetic.spec, fewer, synthetic.excluded, synthetic.tables)
    assert indicators.schools_counted(shrunk, year) == (reporting - 5, register)


def test_schools_counted_for_one_district(synthetic):
    year = int(synthetic.data["year"].max())
    hierarchy = synthetic.tables["school_hierarchy"]
    unit = str(hierarchy.loc[hierarchy["year"] == year, "analysis_district_id"].iloc[0])
    reporting, register = indicators.schools_counted(synthetic, year, unit=unit)
    mine = hierarchy[
        (hierarchy["year"] == year) & (hierarchy["analysis_district_id"].astype(str) == unit)
    ]
    assert register == mine["school_id"].nunique()
    frame = synthetic.data
    assert (
        reporting
        == frame.loc[
            (frame["year"] == year) & (frame["analysis_district_id"].astype(str) == unit),
            "school_id",
        ].nunique()
    )
    assert 0 < reporting <= register < indicators.schools_counted(synthetic, year)[1]
