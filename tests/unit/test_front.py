"""The front page's province tables (analysis.report.front), judged against the panel and
the definitions file read here, not against the indicator code they are built on."""

from __future__ import annotations

import pytest
import yaml

from analysis.core import paths
from analysis.data import datasets
from analysis.report import brief, front

DEFINITIONS = yaml.safe_load((paths.project_root() / "config/indicators.yml").read_text("utf-8"))
BY_ID = {d["id"]: d for d in DEFINITIONS["indicators"]}
RANK_ON = ["teachers_trained_cds", "learners_per_computer"]


@pytest.fixture(scope="module")
def data(realistic_ingested):
    return datasets.load("thai_nguyen_synthetic", processed=realistic_ingested[2])


@pytest.fixture(scope="module")
def summary(data):
    return front.summary(data, lang="vi", rank_on=RANK_ON)


def test_reader_status_says_not_met_once_the_target_year_has_come():
    assert brief.reader_status("behind", 2025, 2025) == "not_met"
    assert brief.reader_status("behind", 2026, 2025) == "not_met"
    assert brief.reader_status("behind", 2024, 2025) == "behind"
    assert brief.reader_status("met", 2025, 2025) == "met"
    assert brief.reader_status("no_target", 2025, None) == "no_target"


def test_headline_is_every_targeted_indicator_in_sector_first(summary):
    table = summary["headline"]
    year = summary["year"]
    with_target = {
        i for i, d in BY_ID.items() if any(t["year"] >= year for t in d.get("targets", []))
    }
    assert with_target <= set(table["indicator"])
    assert set(table["indicator"]) <= {i for i, d in BY_ID.items() if d.get("targets")}
    sectors = [BY_ID[i]["sector"] for i in table["indicator"]]
    assert sectors == sorted(sectors, key=["in", "cross"].index), sectors
    assert "cross" in sectors and "in" in sectors
    # the target year 2025 has come in 2025: a target not reached is "not met", not "behind"
    late = table[(table["target_year"] <= year) & (table["gap"] > 0)]
    assert len(late) > 0 and set(late["status"]) == {"not_met"}


def test_headline_value_is_sum_over_sum_of_the_panel(data, summary):
    frame = data.data
    rows = frame[frame["year"] == summary["year"]].dropna(
        subset=["enrolment", "computers_teaching"]
    )
    expected = rows["enrolment"].sum() / rows["computers_teaching"].sum()
    got = summary["headline"].set_index("indicator").loc["learners_per_computer", "value"]
    assert got == pytest.approx(expected, rel=1e-9)


def test_districts_are_ranked_by_their_own_values(data, summary):
    table = summary["ranking"]
    assert len(table) == summary["n_districts"] == data.data["analysis_district_id"].nunique()
    assert list(table["mean_rank"]) == sorted(table["mean_rank"])
    # lower is better for learners per computer: rank 1 is the smallest value
    shown = table.dropna(subset=["learners_per_computer"])
    best = shown.loc[shown["learners_per_computer"].idxmin()]
    assert best["learners_per_computer_rank"] == 1
    frame = data.data[data.data["year"] == summary["year"]]
    frame = frame.dropna(subset=["enrolment", "computers_teaching"])
    sums = frame.groupby(frame["analysis_district_id"].astype(str))[
        ["enrolment", "computers_teaching"]
    ].sum()
    by_hand = (sums["enrolment"] / sums["computers_teaching"]).rank(method="min")
    ranks = table.set_index(table["unit_id"].astype(str))["learners_per_computer_rank"]
    assert (ranks.astype(int) == by_hand.reindex(ranks.index).astype(int)).all()


def test_maturity_change_is_this_year_minus_last(data, summary):
    table = summary["maturity"]
    for _, part in table.groupby("group"):
        assert part["share"].sum() == pytest.approx(100)
        assert part["share_before"].sum() == pytest.approx(100)
    assert (table["change"] - (table["share"] - table["share_before"])).abs().max() < 1e-9
    schools = data.data[data.data["year"] == summary["year"]]["school_id"].nunique()
    assert table.groupby("group")["count"].sum().eq(schools).all()


def test_training_is_the_province_series_in_year_order(summary):
    table = summary["training"]
    assert list(table["year"]) == sorted(table["year"]) and len(table) >= 3
    assert table["value"].between(0, 100).all()
    last = table.iloc[-1]
    if last["value"] < last["target"] and last["year"] >= last["target_year"]:
        assert last["status"] == "not_met"


def test_unknown_rank_indicator_is_refused(data):
    with pytest.raises(KeyError, match="no_such_indicator"):
        front.summary(data, rank_on=["no_such_indicator"])


def test_default_rank_on_has_direction_and_target():
    chosen = front.default_rank_on()
    assert chosen and all(BY_ID[i]["better"] != "none" and BY_ID[i].get("targets") for i in chosen)
    assert chosen == [i for i in DEFINITIONS["headline"] if i in chosen]


def test_front_page_tells_failed_tables_from_a_dataset_without_them(tmp_path):
    from analysis.runner import frontpage

    manifest = {"lang": "vi", "runs": [], "front": None, "front_error": "ValueError: x",
                "title": {"vi": "Kế hoạch"}, "plan": "p", "dataset": "d", "code_version": "0",
                "created": "2026-12-03T10:00:00Z"}  # fmt: skip
    said = frontpage.context(tmp_path, manifest, {}, figures={}, names={}, title="K")
    assert said["no_tables"].startswith("Các bảng tổng hợp của tỉnh không tạo được")
    assert "ValueError" not in said["no_tables"]  # the reason stays in the internal manifest
    manifest["front_error"] = None
    said = frontpage.context(tmp_path, manifest, {}, figures={}, names={}, title="K")
    assert said["no_tables"].startswith("Bộ dữ liệu d không có bảng báo cáo")
