"""generate → ingest gives back the generator's truth; flaws land in rejects; accounting holds."""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pandas.testing as pdt
import pytest

from analysis.data import ingest, schema, synth
from analysis.data.synth import raw_files

REGISTER = ["schools", "units", "membership", "crosswalk"]


def _compare_panel(actual: pd.DataFrame, expected: pd.DataFrame) -> None:
    key = ["school_id", "year"]
    actual = actual.sort_values(key).reset_index(drop=True)
    expected = expected.sort_values(key).reset_index(drop=True)
    pdt.assert_frame_equal(actual, expected[actual.columns], check_exact=False, rtol=1e-9)


def test_clean_round_trip_equals_truth(clean_province, tmp_path):
    province, raw = clean_province
    result = ingest.ingest(raw, out_dir=tmp_path)
    assert result.rejects.empty
    assert result.accounting_holds()
    assert list(result.tables["panel"].columns) == list(schema.processed_columns("panel"))
    _compare_panel(result.tables["panel"], province.panel)
    for table in REGISTER:
        expected = synth.conform(getattr(province, table), table)
        key = ingest.KEYS[table]
        actual = result.tables[table].sort_values(key).reset_index(drop=True)
        expected = expected.sort_values(key).reset_index(drop=True)
        pdt.assert_frame_equal(actual, expected, check_exact=False, rtol=1e-9)


def _flawed_keys(truth, *kinds):
    realism = truth["realism"]
    keys = set()
    for kind in kinds:
        for entry in realism[kind]:
            if kind == "duplicate_rows" and entry["kind"] == "exact":
                continue
            keys.add((entry["school_id"], entry["year"]))
    return keys


def test_realistic_round_trip(realistic_ingested):
    province, result, _ = realistic_ingested
    truth = province.truth
    panel = result.tables["panel"]
    assert result.accounting_holds()
    missing = {(m["school_id"], m["year"]) for m in truth["realism"]["missing_reports"]}
    rejected = _flawed_keys(truth, "impossible_values", "duplicate_rows")
    expected = province.panel[
        [
            (s, y) not in missing | rejected
            for s, y in zip(province.panel["school_id"], province.panel["year"], strict=True)
        ]
    ].copy()
    for outlier in truth["realism"]["outliers"]:
        mask = (expected["school_id"] == outlier["school_id"]) & (
            expected["year"] == outlier["year"]
        )
        expected.loc[mask, outlier["column"]] = outlier["value"]
    # Every accepted row equals the truth (text numbers read back, header variants mapped).
    _compare_panel(panel, expected)


def test_every_planted_flaw_is_caught(messy_province, tmp_path):
    province, raw = messy_province
    result = ingest.ingest(raw, out_dir=tmp_path)
    assert result.accounting_holds()
    rejects = result.rejects[result.rejects["table"] == "panel"]
    panel_keys = set(
        zip(result.tables["panel"]["school_id"], result.tables["panel"]["year"], strict=True)
    )
    rule_of = {"range": "out_of_range"}  # the generator's name → the reject's
    for flaw in province.truth["realism"]["impossible_values"]:
        # each planted flaw is found on its own row: its school (the planted id for an
        # unknown school), year, column and rule, showing the planted value
        rule = rule_of.get(flaw["expected_rule"], flaw["expected_rule"])
        school = flaw["value"] if rule == "unknown_school" else flaw["school_id"]
        mine = rejects[
            (rejects["school_id"] == school)
            & (rejects["year"].astype(int) == flaw["year"])
            & (rejects["rule"] == rule)
            & (rejects["column"] == flaw["column"])
        ]
        hits = mine[mine["value"].str.contains(str(flaw["value"]), regex=False)]
        assert len(hits) == 1, (flaw, mine.to_dict("records"))
        if rule != "unknown_school":
            assert (flaw["school_id"], flaw["year"]) not in panel_keys, flaw
    for dup in province.truth["realism"]["duplicate_rows"]:
        key = f"{dup['school_id']}/{dup['year']}"
        rule = "duplicate_row" if dup["kind"] == "exact" else "duplicate_conflict"
        hits = rejects[(rejects["rule"] == rule) & (rejects["value"] == key)]
        assert len(hits) == (1 if dup["kind"] == "exact" else 2), dup
        assert ((dup["school_id"], dup["year"]) in panel_keys) == (dup["kind"] == "exact")
    # rules are named by what they check, and each reject names file, sheet, row and column
    assert set(rejects["rule"]) <= {
        "trained_le_teachers",
        "connected_le_computers",
        "out_of_range",
        "not_a_number",
        "unknown_school",
        "duplicate_row",
        "duplicate_conflict",
        "digital_records_le_enrolment",
    }
    assert rejects[["file", "sheet", "column", "message"]].ne("").all().all()
    assert (rejects["row"] > 4).all()  # data start below the title and header rows


def test_rejects_accounting_counts_rows_not_problems(messy_province):
    _, raw = messy_province
    result = ingest.ingest(raw, write=False)
    panel_rejects = result.rejects[result.rejects["table"] == "panel"]
    assert len(panel_rejects) >= result.rejected_rows("panel")
    assert result.input_rows["panel"] == len(result.tables["panel"]) + result.rejected_rows("panel")


def test_unknown_column_is_reported_and_kept(realistic_ingested):
    _, result, _ = realistic_ingested
    assert any("Ghi chú" in w for w in result.warnings)
    # The spacing template's note column: every filled cell kept, with its text and row.
    extra = result.extra_values
    assert set(extra["header"]) == {"Ghi chú"}
    assert set(extra["value"]) == {raw_files.NOTE_TEXT}
    assert len(extra) >= 5 and extra[["file", "row"]].duplicated().sum() == 0


def test_ingest_is_idempotent(realistic_province, tmp_path):
    _, raw = realistic_province
    ingest.ingest(raw, out_dir=tmp_path)
    first = {p.name: pd.read_parquet(p) for p in tmp_path.glob("*.parquet")}
    manifest = (tmp_path / ingest.MANIFEST_FILE).read_text(encoding="utf-8")
    ingest.ingest(raw, out_dir=tmp_path)
    second = {p.name: pd.read_parquet(p) for p in tmp_path.glob("*.parquet")}
    assert first.keys() == second.keys()
    for name in first:
        pdt.assert_frame_equal(first[name], second[name])
    assert manifest == (tmp_path / ingest.MANIFEST_FILE).read_text(encoding="utf-8")
    assert not list(tmp_path.glob("*.tmp"))


def test_duckdb_views_match_parquet(realistic_ingested):
    _, result, out = realistic_ingested
    with duckdb.connect(str(out / ingest.DUCKDB_FILE), read_only=True) as con:
        n_panel = con.execute("select count(*) from panel").fetchone()[0]
        n_joined = con.execute("select count(*) from panel_hierarchy").fetchone()[0]
        districts = con.execute(
            "select count(distinct analysis_district_id) from panel_hierarchy"
        ).fetchone()[0]
        n_rejects = con.execute("select count(*) from rejects").fetchone()[0]
    assert n_panel == n_joined == len(result.tables["panel"])
    assert districts == 9
    assert n_rejects == len(result.rejects)


def test_hierarchy_follows_the_2025_reform(realistic_ingested):
    """2023–24 is reported by district; 2024–25 (summarised on 31 August 2025) by commune."""
    _, result, _ = realistic_ingested
    h = result.tables["school_hierarchy"]
    assert sorted(h["year"].unique()) == [2021, 2022, 2023, 2024, 2025, 2026]
    before = h[h["year"] <= 2024]
    after = h[h["year"] >= 2025]
    assert before["district_id"].notna().all() and before["commune_id"].isna().all()
    assert after["district_id"].isna().all() and after["commune_id"].notna().all()
    assert (before["unit_level"] == "district").all() and (after["unit_level"] == "commune").all()
    assert before["province_id"].eq(synth.PROVINCE_ID).all()
    assert after["province_id"].eq(synth.NEW_PROVINCE_ID).all()
    # the comparable district is the school's own district for most schools after the reform
    own = before[before["year"] == 2024].set_index("school_id")["district_id"]
    later = after[after["year"] == 2025].set_index("school_id")["analysis_district_id"]
    agreement = (own == later.reindex(own.index)).mean()
    assert agreement > 0.95
    assert np.all(before["analysis_district_id"] == before["district_id"])


@pytest.mark.parametrize("profile", ["clean", "messy"])
def test_accounting_holds_for_every_table(profile, clean_province, messy_province):
    _, raw = clean_province if profile == "clean" else messy_province
    result = ingest.ingest(raw, write=False)
    for table in ingest.TABLE_ORDER:
        assert result.input_rows[table] == result.accepted_rows(table) + result.rejected_rows(table)
