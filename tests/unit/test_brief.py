"""The district brief says what it lacks: no row of blanks, no chart of nothing."""

from __future__ import annotations

import pytest

from analysis.core import memo
from analysis.data import datasets
from analysis.measures import indicators
from analysis.report import brief


@pytest.fixture(scope="module")
def synthetic(realistic_ingested):
    return datasets.load("thai_nguyen_synthetic", processed=realistic_ingested[2])


def test_a_headline_indicator_a_district_lacks_is_named_with_its_reason(synthetic):
    frame = synthetic.data.copy()
    year = int(frame["year"].max())
    unit = sorted(frame["analysis_district_id"].dropna().astype(str))[0]
    mine = (frame["analysis_district_id"].astype(str) == unit) & (frame["year"] == year)
    frame.loc[mine, "pupils_digital_records"] = float("nan")  # the district's schools left it out
    frame["teachers_trained_cds"] = float("nan")  # the province's template has no such column
    values = brief.tables(frame, year=year, lang="en")["values"]
    table = brief.headline_table(values, unit=unit, year=year, lang="en")
    assert table[["name", "value", "status"]].notna().all().all()  # no row of blanks
    assert set(table.attrs["missing"]) == {"pupils_digital_records", "teachers_trained_cds"}
    assert len(table) + len(table.attrs["missing"]) == len(indicators.headline())
    assert len(table.attrs["status_codes"]) == len(table)
    gaps = indicators.unit_not_computed(
        values, frame, table.attrs["missing"], unit=unit, year=year, level=brief.LEVEL, lang="en"
    ).set_index("indicator")
    assert "none of the unit's schools reported" in gaps.loc["pupils_digital_records", "reason"]
    assert "no report has values in the column" in gaps.loc["teachers_trained_cds", "reason"]
    assert gaps["name"].notna().all() and "teachers_trained_cds" not in set(gaps["name"])
    gap = brief.trend_gap(
        values, frame, unit=unit, indicator="teachers_trained_cds", year=year, lang="en"
    )
    assert gap.startswith("No trend chart") and "no report has values in the column" in gap
    # the full province lacks nothing
    full = brief.tables(synthetic.data, year=year, lang="en")["values"]
    assert brief.headline_table(full, unit=unit, year=year, lang="en").attrs["missing"] == []
    trend = {"unit": unit, "indicator": "teachers_trained_cds", "year": year, "lang": "en"}
    assert brief.trend_gap(full, synthetic, **trend) is None


@pytest.mark.slow
def test_the_shared_table_cache_follows_content_not_row_counts(synthetic, tmp_path, monkeypatch):
    """One changed value, same rows: the briefs' shared tables are computed afresh."""
    monkeypatch.setenv(memo.ENV, str(tmp_path))
    year = int(synthetic.data["year"].max())
    first = brief.tables(synthetic, year=year, lang="en")["values"]
    brief.tables(synthetic, year=year, lang="en")
    assert len(list(tmp_path.iterdir())) == 1  # the second call was a hit
    frame = synthetic.data.copy()
    unit = sorted(frame["analysis_district_id"].dropna().astype(str))[0]
    mine = (frame["analysis_district_id"].astype(str) == unit) & (frame["year"] == year)
    frame.loc[mine, "computers_teaching"] = frame.loc[mine, "computers_teaching"] * 2
    changed = datasets.Dataset(
        synthetic.spec, frame, synthetic.excluded, synthetic.tables, synthetic.folder
    )
    assert len(changed.data) == len(synthetic.data)
    second = brief.tables(changed, year=year, lang="en")["values"]
    assert len(list(tmp_path.iterdir())) == 2  # a miss, not the stale tables

    def learners(values):
        row = values[
            (values["indicator"] == "learners_per_computer")
            & (values["unit_id"] == unit)
            & (values["level"] == brief.LEVEL)
            & (values["year"] == year)
        ]
        return float(row["value"].iloc[0])

    assert learners(second) == pytest.approx(learners(first) / 2, rel=0.01)


def test_a_target_missed_in_its_year_is_not_met_in_the_brief_as_on_the_front_page(synthetic):
    """The brief and the front page tell the same status: 2025 targets not reached in 2025."""
    values = brief.tables(synthetic, year=2025, lang="vi")["values"]
    shown = values[values["status"].notna()]  # a status the privacy rules hid stays hidden
    due = shown[(shown["year"] == shown["target_year"]) & (shown["gap"] > 0)]
    assert len(due) > 0 and set(due["status"]) == {"not_met"}
    early = values[(values["year"] < values["target_year"]) & (values["gap"] > 0)]
    assert "not_met" not in set(early["status"])
    unit = sorted(values.loc[values["level"] == brief.LEVEL, "unit_id"])[0]
    table = brief.headline_table(values, unit=unit, year=2025, lang="vi")
    summary = brief.status_summary(table.attrs["status_codes"], lang="vi")
    assert "Không đạt" in summary


def test_findings_pick_a_strength_that_is_met_and_give_share_gaps_in_points(synthetic):
    """Over every district: the strength is an indicator met or on track (never one being
    missed), and a gap or change of a share is in percentage points, not in %."""
    tables_ = brief.tables(synthetic, year=2025, lang="vi")
    values = tables_["values"]
    rows = values[(values["level"] == brief.LEVEL) & (values["year"] == 2025)]
    measures = dict(zip(rows["name"], rows["measure"], strict=False))
    strengths = 0
    for unit, mine in rows.groupby("unit_id"):
        status = dict(zip(mine["name"], mine["status"], strict=True))
        for sentence in brief.findings(tables_, unit=unit, year=2025, lang="vi"):
            named = [n for n in status if n in sentence]
            name = max(named, key=len) if named else None
            if sentence.startswith("**Điểm mạnh:**"):
                strengths += 1
                assert status[name] in ("met", "on_track"), (unit, sentence, status[name])
            if name and measures[name] == "%" and sentence.startswith(("**Cần ưu tiên", "**Tiến")):
                tail = sentence.split("(năm")[-1] if "(năm" in sentence else sentence
                assert "điểm phần trăm" in tail, sentence
    assert strengths > 0


def test_a_district_the_comparison_does_not_draw_is_named(synthetic):
    values = brief.tables(synthetic, year=2025, lang="vi")["values"]
    level = brief.rows(values, indicator="teachers_trained_cds", level=brief.LEVEL, year=2025)
    before = brief.comparison_note(values, indicator="teachers_trained_cds", year=2025, lang="vi")
    assert (before is None) == bool(level["value"].notna().all())
    hidden = level["unit_id"].iloc[[0, 2]]
    cut = values.copy()
    focus = (cut["indicator"] == "teachers_trained_cds") & (cut["year"] == 2025)
    cut.loc[focus & cut["unit_id"].isin(hidden) & (cut["level"] == brief.LEVEL), "value"] = None
    note = brief.comparison_note(cut, indicator="teachers_trained_cds", year=2025, lang="vi")
    n = len(level)
    missing = int(level["value"].isna().sum()) + 2 - int(level["value"].isna().iloc[[0, 2]].sum())
    assert note.startswith(f"Biểu đồ gồm {n - missing} trên {n} huyện.")
    for name in level["unit_name"].iloc[[0, 2]]:
        assert name in note
    en = brief.comparison_note(cut, indicator="teachers_trained_cds", year=2025, lang="en")
    assert en.startswith(f"The chart shows {n - missing} of {n} districts.")
