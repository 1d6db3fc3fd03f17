"""Flags worth reading (issue 19): measured against the planted gross errors, and each check
tripped on data built for it."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from analysis.data import datasets, ingest
from analysis.measures import quality
from analysis.measures.quality import flagging as fl
from analysis.report import plots


@pytest.fixture(scope="module")
def realistic(realistic_ingested):
    province, _, out = realistic_ingested
    return province, datasets.load("thai_nguyen_synthetic", processed=out)


@pytest.fixture(scope="module")
def realistic_flags(realistic):
    return quality.flags(realistic[1])


def _planted(province) -> set:
    return {(o["school_id"], o["year"], o["column"]) for o in province.truth["realism"]["outliers"]}


def test_flags_find_the_planted_gross_errors(realistic, realistic_flags, report):
    province, _ = realistic
    planted = _planted(province)
    found = set(
        zip(
            realistic_flags["school_id"],
            realistic_flags["year"],
            realistic_flags["column"],
            strict=True,
        )
    )
    hit = len(found & planted)
    recall, precision = hit / len(planted), hit / max(len(found), 1)
    report(
        f"data-quality flags (default settings): recall {recall:.2f}, precision {precision:.2f} "
        f"({len(planted)} planted gross errors, {len(found)} flags)"
    )
    assert recall >= 0.95
    assert precision >= 0.8


def test_a_clean_province_gives_a_list_short_enough_to_read(clean_province, tmp_path, report):
    """The clean profile has no planted error: what is flagged there is what an analyst
    would read for nothing. On about 2,950 school-years, at most 5 flags."""
    _, raw = clean_province
    ingest.ingest(raw, out_dir=tmp_path)
    data = datasets.load("thai_nguyen_synthetic", processed=tmp_path)
    got = quality.flags(data)
    report(f"data-quality flags on the clean province: {len(got)} of {len(data.data)} school-years")
    assert len(got) <= 5


def test_each_flag_says_why_how_far_and_what_it_changes(realistic_flags):
    flags = realistic_flags
    assert list(flags.columns) == fl.COLUMNS
    assert flags["flag_id"].is_unique
    assert flags["reason_vi"].str.startswith(("Gấp", "Chỉ bằng")).all()
    assert flags["reason_en"].str.contains("expected range").all()
    assert (flags["lower"] <= flags["expected"]).all() and (
        flags["expected"] <= flags["upper"]
    ).all()
    assert ((flags["value"] > flags["upper"]) | (flags["value"] < flags["lower"])).all()
    # ranked by the impact on the district figure
    assert flags["impact_share"].is_monotonic_decreasing
    assert flags["indicator"].notna().all() and flags["district_name"].notna().all()
    top = flags.iloc[0]
    assert top["district_value"] != pytest.approx(top["district_value_expected"])


def test_the_same_value_keeps_its_id_and_another_value_gets_a_new_one(realistic):
    _, data = realistic
    frame = data.data.copy()
    first = quality.flags(frame)
    row = first.iloc[0]
    at = (frame["school_id"] == row["school_id"]) & (frame["year"] == row["year"])
    frame.loc[at, row["column"]] = row["value"] * 1.5  # the school re-sent another wrong value
    second = quality.flags(frame)
    assert set(first["flag_id"]) - {row["flag_id"]} == set(second["flag_id"]) - set(
        second.loc[
            (second["school_id"] == row["school_id"]) & (second["year"] == row["year"]), "flag_id"
        ]
    )
    assert row["flag_id"] not in set(second["flag_id"])
    assert quality.flag_id("1", 2024, "x", 1.0) == quality.flag_id("1", 2024, "x", 1.0 + 1e-12)


def _panel(n_schools: int = 30, years=(2021, 2022, 2023, 2024)) -> pd.DataFrame:
    """A small, regular panel: every school grows slowly and trains a few teachers a year."""
    rng = np.random.default_rng(3)
    rows = []
    for s in range(n_schools):
        teachers = 20 + s
        cumulative = 2
        for k, year in enumerate(years):
            added = 1 + (s + k) % 3
            cumulative += added
            rows.append(
                {
                    "school_id": f"S{s:02d}",
                    "year": year,
                    "school_name": f"Trường {s}",
                    "analysis_district_id": "D1" if s < 15 else "D2",
                    "analysis_district_name": "Huyện Một" if s < 15 else "Huyện Hai",
                    "school_level": "primary",
                    "area_type": "rural",
                    "enrolment": 400 + 10 * s + 5 * k,
                    "teachers": teachers,
                    "teachers_trained_cds_year": added,
                    "teachers_trained_cds": cumulative,
                    "training_hours": round(1.5 * teachers + 20 * added * rng.uniform(0.8, 1.2), 1),
                    "bandwidth_mbps": round((40 + s) * (1.1**k), 1),
                }
            )
    return pd.DataFrame(rows)


SETTINGS = {
    "tolerance_fold": 5,
    "spread_k": 4,
    "offset_share": 0.5,
    "peer_z": 5,
    "history": ["bandwidth_mbps", "training_hours"],
    "related": [{"column": "training_hours", "from": ["teachers", "teachers_trained_cds_year"]}],
    "cumulative": [{"column": "teachers_trained_cds", "added": "teachers_trained_cds_year"}],
}


def _only(frame: pd.DataFrame, settings=SETTINGS) -> list[tuple]:
    got = quality.flags(frame, settings)
    return list(zip(got["school_id"], got["year"], got["column"], got["checks"], strict=True))


def test_a_regular_panel_is_not_flagged():
    assert _only(_panel()) == []


def test_a_value_far_from_the_schools_own_years_is_flagged_and_a_trend_is_not():
    frame = _panel()
    at = (frame["school_id"] == "S04") & (frame["year"] == 2023)
    frame.loc[at, "bandwidth_mbps"] *= 30
    assert _only(frame) == [("S04", 2023, "bandwidth_mbps", "history")]
    frame = _panel()
    frame.loc[frame["school_id"] == "S04", "bandwidth_mbps"] *= 30  # a big school all along
    assert _only(frame) == []


def test_training_hours_without_anyone_trained_are_flagged_by_the_related_check():
    frame = _panel()
    at = (frame["school_id"] == "S07") & (frame["year"] == 2022)
    frame.loc[at, "teachers_trained_cds_year"] = 0
    frame.loc[at, "teachers_trained_cds"] -= 2  # so the cumulative count still adds up
    later = (frame["school_id"] == "S07") & (frame["year"] > 2022)
    frame.loc[later, "teachers_trained_cds"] -= 2
    frame.loc[at, "training_hours"] = 600.0
    got = _only(frame)
    assert ("S07", 2022, "training_hours") in {g[:3] for g in got}
    assert (
        "related" in dict(((g[0], g[1], g[2]), g[3]) for g in got)[("S07", 2022, "training_hours")]
    )


def test_a_cumulative_count_that_jumps_is_flagged():
    frame = _panel()
    at = (frame["school_id"] == "S11") & (frame["year"] == 2023)
    frame.loc[at, "teachers_trained_cds"] = 200  # typed with an extra digit
    got = _only(frame)
    assert ("S11", 2023, "teachers_trained_cds", "cumulative") in got


def test_a_school_with_one_report_is_judged_against_its_peers():
    frame = _panel()
    new = (
        frame[frame["school_id"] == "S03"].iloc[[0]].assign(school_id="NEW", bandwidth_mbps=5000.0)
    )
    frame = pd.concat([frame, new], ignore_index=True)
    assert ("NEW", 2021, "bandwidth_mbps", "peers") in _only(frame)


def test_within_tolerance_is_not_flagged():
    """Three times the school's own range is inside the default 5-fold tolerance."""
    frame = _panel()
    at = (frame["school_id"] == "S04") & (frame["year"] == 2023)
    frame.loc[at, "bandwidth_mbps"] *= 3
    assert _only(frame) == []
    assert _only(frame, {**SETTINGS, "tolerance_fold": 1.5}) == [
        ("S04", 2023, "bandwidth_mbps", "history")
    ]


def test_flags_by_district_draws_one_bar_per_district_in_the_readers_language(realistic_flags):
    frame = realistic_flags.assign(state=["open"] * (len(realistic_flags) - 1) + ["resolved"])
    ax = plots.flags_by_district(frame, lang="vi")
    assert len(ax.get_yticklabels()) == frame["district_name"].nunique()
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["Chưa xử lý", "Đã xử lý"]
    widths = sum(p.get_width() for p in ax.patches)
    assert widths == len(frame)
    plt.close(ax.figure)
