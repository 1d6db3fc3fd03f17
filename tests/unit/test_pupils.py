"""Pupil-level results → school-year outcomes (analysis.pupils) and the national generator."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from analysis import cli
from analysis.data import datasets, ingest, national, pupils, synth

SMALL = national.Scale(
    schools=200,
    pupil_rows=50_000,
    provinces=4,
    districts_per_province=3,
    bad_share=0.002,
    rows_per_file=20_000,
    row_group_rows=5_000,
    seed=11,
)


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    out = tmp_path_factory.mktemp("national_small")
    system = national.generate(out, SMALL)
    result = pupils.aggregate(out / "pupils", out_dir=out / "processed")
    return system, result, out / "processed"


def _pandas_truth(files: list[Path]) -> pd.DataFrame:
    """The same outcomes computed in pandas from the pupil files (small scale only)."""
    rows = pd.concat([pd.read_parquet(f) for f in files], ignore_index=True)
    good = rows[
        rows["school_id"].notna() & rows["score"].between(0, 10) & rows["passed"].isin([0, 1])
    ].copy()
    return _expected(good, ["school_id", "year", "subject"])


def test_generator_streams_parts_and_row_groups(small):
    system, _, _ = small
    assert len(system.pupil_files) == int(np.ceil(system.summary["pupil_rows"] / 20_000))
    total = 0
    for path in system.pupil_files:
        meta = pq.ParquetFile(path).metadata
        assert meta.num_rows <= SMALL.rows_per_file
        assert all(
            meta.row_group(i).num_rows <= SMALL.row_group_rows for i in range(meta.num_row_groups)
        )
        total += meta.num_rows
    assert total == system.summary["pupil_rows"] == system.truth["n_records"].sum()
    # The truth's per-group counts against the files' own rows (groups with no corrupted row,
    # whose school id may be blanked), not against the generator's summary alone.
    files = [str(p) for p in system.pupil_files]
    counted = duckdb.sql(
        "select school_id, year, subject, count(*) as n from read_parquet($files)"
        " where school_id is not null group by all",
        params={"files": files},
    ).df()
    clean = system.truth[system.truth["n_corrupted"] == 0]
    joined = clean.merge(counted, on=["school_id", "year", "subject"], how="left")
    assert len(clean) > 0.5 * len(system.truth)
    assert (joined["n"] == joined["n_records"]).all()
    assert abs(total - SMALL.pupil_rows) < 0.05 * SMALL.pupil_rows
    again = national.truth(SMALL, national.panel(SMALL))
    pd.testing.assert_frame_equal(again, system.truth.drop(columns="n_corrupted"))


def test_aggregation_equals_pandas(small):
    system, _, processed = small
    got = pd.read_parquet(processed / pupils.SUBJECT_FILE)
    expected = _pandas_truth(system.pupil_files)
    merged = got.merge(expected, on=["school_id", "year", "subject"], suffixes=("", "_pd"))
    assert len(merged) == len(got) == len(expected) == 200 * 5 * 3
    for column in pupils.OUTCOME_COLUMNS:
        np.testing.assert_allclose(
            merged[column].astype(float), merged[f"{column}_pd"].astype(float), rtol=1e-9,
            atol=1e-9, err_msg=column,
        )  # fmt: skip
    school_year = pd.read_parquet(processed / pupils.OUTCOMES_FILE)
    assert len(school_year) == 200 * 5
    pooled = merged.groupby(["school_id", "year"]).apply(
        lambda g: np.average(g["pupil_mean_score"], weights=g["pupil_records"]),
        include_groups=False,
    )
    both = school_year.set_index(["school_id", "year"])["pupil_mean_score"]
    np.testing.assert_allclose(both.sort_index(), pooled.sort_index(), rtol=1e-9)
    assert (school_year["school_year"] == school_year["year"].map(lambda y: f"{y - 1}-{y}")).all()


def test_aggregation_recovers_planted_truth(small):
    system, _, processed = small
    got = pd.read_parquet(processed / pupils.SUBJECT_FILE)
    truth = system.truth
    merged = got.merge(truth, on=["school_id", "year", "subject"], validate="one_to_one")
    assert len(merged) == len(truth)
    assert (merged["pupil_records"] == merged["n_records"] - merged["n_corrupted"]).all()
    z = (merged["pupil_mean_score"] - merged["planted_mean"]) / (
        national.SCORE_SD / np.sqrt(merged["pupil_records"])
    )
    # 3,000 school-year-subjects: the mean of z is within 0.1 of 0 (4 standard errors)
    assert abs(z.mean()) < 0.1
    assert 0.9 < z.std() < 1.1
    assert np.corrcoef(merged["pupil_mean_score"], merged["planted_mean"])[0, 1] > 0.8
    # pass rates: binomial error, scaled the same way
    se = np.sqrt(merged["planted_pass_rate"] * (1 - merged["planted_pass_rate"]))
    zp = (merged["pupil_pass_rate"] - merged["planted_pass_rate"]) / (
        se / np.sqrt(merged["pupil_records"])
    )
    assert abs(zp.mean()) < 0.1
    assert 0.85 < zp.std() < 1.15
    assert merged["pupil_score_sd"].median() == pytest.approx(national.SCORE_SD, rel=0.05)


def test_rejects_accounting_national(small):
    system, result, processed = small
    assert result.input_rows == system.summary["pupil_rows"]
    assert result.input_rows == result.aggregated_rows + result.rejected_rows
    assert result.rejected_rows == system.truth["n_corrupted"].sum() > 0
    corrupted = system.summary["corrupted_rows"]
    for reason in pupils.REASONS:
        assert result.rejects_by_reason[reason] == corrupted.get(reason, 0), reason
    rejects = pd.read_parquet(processed / pupils.REJECTS_FILE)
    assert len(rejects) == result.rejected_rows
    assert rejects["source_file"].str.endswith(".parquet").all()
    manifest = json.loads((processed / pupils.MANIFEST_FILE).read_text(encoding="utf-8"))
    assert manifest["input_rows"] == manifest["aggregated_rows"] + manifest["rejected_rows"]
    assert manifest["rejects_by_reason"] == result.rejects_by_reason
    assert len(manifest["files"]) == len(system.pupil_files)
    with duckdb.connect(str(processed / pupils.DUCKDB_FILE), read_only=True) as con:
        views = {r[0] for r in con.execute("SELECT view_name FROM duckdb_views()").fetchall()}
        assert {"pupil_outcomes", "pupil_outcomes_subject", "pupil_rejects"} <= views
        n = con.execute("SELECT sum(pupil_records) FROM pupil_outcomes").fetchone()[0]
    assert n == result.aggregated_rows


CSV = """Mã trường,Năm học,Môn thi,Điểm thi,Kết quả,Mã HS
T01,2024-2025,Toán,"8,5",Đạt,1
T01,2024-2025,Toán,4,không đạt,2
T01,2025,Văn,6,dat,1
,2025,Văn,6,Đạt,3
T02,2024-2026,Văn,6,Đạt,3
T02,2025,,6,Đạt,3
T02,2025,Văn,,Đạt,3
T02,2025,Văn,abc,Đạt,3
T02,2025,Văn,11,Đạt,3
T02,2025,Văn,7,có lẽ,3
T02,2025,Văn,7,,3
T02,2025,Văn,7,Đỗ,4
T02,2024,Văn,3,0,4
"""


def test_csv_text_values_and_every_reject_reason(tmp_path):
    (tmp_path / "a.csv").write_text(CSV, encoding="utf-8")
    result = pupils.aggregate(tmp_path / "a.csv", out_dir=tmp_path / "out")
    assert result.input_rows == 13
    assert result.aggregated_rows == 5
    assert result.rejected_rows == 8
    assert result.rejects_by_reason == {
        "school_id_missing": 1,
        "year_invalid": 1,
        "subject_missing": 1,
        "score_missing": 1,
        "score_not_number": 1,
        "score_out_of_range": 1,
        "pass_flag_unknown": 2,
    }
    rejects = pd.read_parquet(tmp_path / "out" / pupils.REJECTS_FILE)
    assert set(rejects.loc[rejects["reason"] == "pass_flag_unknown", "passed_raw"].fillna("")) == {
        "có lẽ",
        "",
    }
    assert rejects.loc[rejects["reason"] == "year_invalid", "year_raw"].tolist() == ["2024-2026"]
    out = pd.read_parquet(tmp_path / "out" / pupils.OUTCOMES_FILE).set_index(["school_id", "year"])
    t01 = out.loc[("T01", 2025)]
    assert t01["pupil_records"] == 3 and t01["pupil_count"] == 2
    assert t01["pupil_mean_score"] == pytest.approx((8.5 + 4 + 6) / 3)
    assert t01["pupil_pass_rate"] == pytest.approx(2 / 3)
    assert t01["pupil_below_threshold_share"] == pytest.approx(1 / 3)
    assert t01["pupil_score_median"] == pytest.approx(6.0)
    assert out.loc[("T02", 2024), "pupil_pass_rate"] == 0.0
    assert out.loc[("T02", 2025), "pupil_pass_rate"] == 1.0
    subject = pd.read_parquet(tmp_path / "out" / pupils.SUBJECT_FILE)
    assert sorted(subject["subject"].unique()) == ["Toán", "Văn"]


def test_many_files_and_a_glob(tmp_path, small):
    system, result, _ = small
    pattern = str(system.pupil_files[0].parent / "part-*.parquet")
    again = pupils.aggregate(pattern, out_dir=tmp_path)
    assert again.input_rows == result.input_rows
    assert again.aggregated_rows == result.aggregated_rows


@pytest.fixture(scope="module")
def small_province(tmp_path_factory):
    raw = tmp_path_factory.mktemp("tn_raw")
    synth.write(synth.generate(seed=7, profile="clean", scale=0.1), raw)
    processed = tmp_path_factory.mktemp("tn_processed")
    ingest.ingest(raw, out_dir=processed)
    return processed


def test_outcomes_join_the_panel(small_province, tmp_path):
    processed = small_province
    before = datasets.load("thai_nguyen_synthetic", processed=processed).data
    assert "pupil_mean_score" not in before
    # pupil results for every other school-year of the panel, two subjects, 3 pupils each
    keys = before[["school_id", "year"]].iloc[::2].reset_index(drop=True)
    rows = []
    for i, key in enumerate(keys.itertuples()):
        for pupil in range(3):
            for subject, shift in (("toan", 0.0), ("van", 1.0)):
                score = (i % 7) + pupil + shift
                rows.append((key.school_id, f"{key.year - 1}-{key.year}", subject, score,
                             int(score >= 5), f"{key.school_id}-{pupil}"))  # fmt: skip
    frame = pd.DataFrame(rows, columns=["Mã trường", "Năm học", "Môn", "Điểm", "Đạt", "Mã HS"])
    frame.to_csv(tmp_path / "pupils.csv", index=False)
    pupils.aggregate(tmp_path / "pupils.csv", out_dir=processed)
    after = datasets.load("thai_nguyen_synthetic", processed=processed)
    data = after.data
    assert len(data) == len(before)
    assert data[["school_id", "year"]].equals(before[["school_id", "year"]])
    expected = (
        frame.assign(year=frame["Năm học"].str[-4:].astype(int))
        .groupby(["Mã trường", "year"])["Điểm"]
        .mean()
    )
    got = data.set_index(["school_id", "year"])["pupil_mean_score"]
    joined = got.loc[expected.index]
    np.testing.assert_allclose(joined.to_numpy(), expected.to_numpy())
    assert got.notna().sum() == len(keys)
    assert after.spec.label("pupil_mean_score", "en") == "Pupils' mean score"
    with duckdb.connect(str(processed / pupils.DUCKDB_FILE), read_only=True) as con:
        n, with_scores = con.execute(
            "SELECT count(*), count(pupil_mean_score) FROM panel_pupil_outcomes"
        ).fetchone()
    assert (n, with_scores) == (len(before), len(keys))


def test_cli_missing_column_names_file_and_column(tmp_path):
    path = tmp_path / "ket_qua.csv"
    path.write_text("Mã trường,Năm học,Môn,Đạt\nT01,2025,Toán,Đạt\n", encoding="utf-8")
    outcome = CliRunner().invoke(cli.app, ["pupils", str(path), "--out", str(tmp_path / "out")])
    assert outcome.exit_code == 2
    message = " ".join(outcome.output.split())
    assert "ket_qua.csv" in message
    assert "'score' (Điểm / Score) not found" in message
    assert not (tmp_path / "out" / pupils.OUTCOMES_FILE).exists()


def test_cli_aggregates_and_reports_rejects(tmp_path):
    (tmp_path / "a.csv").write_text(CSV, encoding="utf-8")
    outcome = CliRunner().invoke(cli.app, ["pupils", str(tmp_path), "--out", str(tmp_path / "o")])
    assert outcome.exit_code == 0, outcome.output
    assert "pass_flag_unknown 2" in " ".join(outcome.output.split())
    assert (tmp_path / "o" / pupils.OUTCOMES_FILE).is_file()


def test_aggregation_never_builds_a_pandas_frame(small, tmp_path, monkeypatch):
    """Structural: no module of the pupils package imports pandas/pyarrow, and no DataFrame
    is made."""
    modules = sorted(Path(pupils.__file__).parent.glob("*.py"))
    assert {p.name for p in modules} >= {"__init__.py", "aggregation.py", "sql.py"}
    for module in modules:
        imported = set()
        for node in ast.walk(ast.parse(module.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                imported |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module:
                imported.add(node.module.split(".")[0])
        assert not imported & {"pandas", "pyarrow", "polars", "numpy"}, module.name
    system, _, _ = small

    def refuse(*args, **kwargs):
        raise AssertionError("a pandas DataFrame was built during the aggregation")

    monkeypatch.setattr(pd.DataFrame, "__init__", refuse)
    monkeypatch.setattr(pd, "read_parquet", refuse)
    monkeypatch.setattr(pd, "read_csv", refuse)
    result = pupils.aggregate(system.pupil_files, out_dir=tmp_path)
    assert result.accounting_holds


def test_every_label_in_both_languages():
    cfg = pupils.config()
    for section in ("outputs", "reasons"):
        for key, entry in cfg[section].items():
            assert entry.get("vi", "").strip() and entry.get("en", "").strip(), (section, key)
    for column in [*pupils.OUTCOME_COLUMNS, *pupils.REASONS]:
        assert pupils.label(column, "vi") != pupils.label(column, "en")
    for spec in cfg["columns"].values():
        assert spec["header"] and spec["en"]


def test_a_new_ingest_keeps_the_pupil_views(tmp_path):
    """Ingest rebuilds workbench.duckdb; the pupil views come back with it."""
    raw = tmp_path / "raw"
    synth.write(synth.generate(seed=11, profile="clean", scale=0.1), raw)
    out = tmp_path / "processed"
    ingest.ingest(raw, out_dir=out)
    pupils_file = tmp_path / "pupils.csv"
    pupils_file.write_text(
        "Mã trường,Năm học,Môn,Điểm,Đạt\r\n19164001,2024-2025,Toán,7.5,Đạt\r\n", encoding="utf-8"
    )
    pupils.aggregate(pupils_file, out_dir=out)
    ingest.ingest(raw, out_dir=out)
    with duckdb.connect(str(out / ingest.DUCKDB_FILE)) as con:
        assert con.execute("select count(*) from pupil_outcomes").fetchone()[0] == 1
        assert con.execute("select count(*) from panel_pupil_outcomes").fetchone()[0] > 0


# --------------------------------------------------------------------------
# The one-pass aggregation against numpy on a small planted table

BAD_PARQUET_ROWS = {6: "school_id_missing", 19: "score_out_of_range", 32: "pass_flag_unknown"}


def _planted_pupils() -> pd.DataFrame:
    """Schools × years × two subjects with what a fast path could get wrong.

    Ties (scores on a 0.5 grid), a cell of one record (no sd), a school-year
    with one subject, pupils who sat only one subject, and a pupil with two
    records in the same subject (distinct pupils < records).
    """
    rng = np.random.default_rng(2025)
    rows = []
    pupil = 0
    for school in ("A01", "B02", "C03"):
        for year in (2024, 2025):
            size = {"A01": 40, "B02": 7, "C03": 1}[school]
            subjects = ("toan", "van") if (school, year) != ("B02", 2025) else ("toan",)
            for p in range(size):
                pupil += 1
                for subject in subjects:
                    if subject == "van" and p % 5 == 4:
                        continue  # sat only one subject
                    score = float(np.clip(np.round(rng.normal(6, 2) * 2) / 2, 0, 10))
                    rows.append((school, year, subject, pupil, score))
            if (school, year) == ("A01", 2025):
                rows.append(
                    (school, year, "toan", pupil, 3.0)
                )  # the same pupil again, same subject
    frame = pd.DataFrame(rows, columns=["school_id", "year", "subject", "pupil_id", "score"])
    frame["year"] = frame["year"].astype("int16")
    frame["score"] = frame["score"].astype("float32")
    frame["passed"] = (frame["score"] >= 5).astype("int8")
    return frame


def _expected(good: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    good = good.assign(score=good["score"].astype("float64"))
    grouped = good.groupby(keys)
    out = grouped.agg(
        pupil_records=("score", "size"),
        pupil_count=("pupil_id", "nunique"),
        pupil_mean_score=("score", "mean"),
        pupil_score_sd=("score", "std"),
        pupil_pass_rate=("passed", "mean"),
        pupil_below_threshold_share=("score", lambda s: float((s < 5).mean())),
    )
    for name, q in pupils.QUANTILES.items():  # numpy's default: linear interpolation
        out[f"pupil_score_{name}"] = grouped["score"].agg(lambda s, q=q: np.quantile(s, q))
    return out.reset_index()


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    """The planted table in two Parquet files, three bad rows in the second at known rows."""
    folder = tmp_path_factory.mktemp("planted")
    frame = _planted_pupils()
    first, second = frame.iloc[:100].copy(), frame.iloc[100:].reset_index(drop=True)
    bad = second.copy()
    bad["school_id"] = bad["school_id"].astype(object)
    bad.loc[6, "school_id"] = None
    bad.loc[19, "score"] = np.float32(10.5)
    bad.loc[32, "passed"] = np.int8(9)
    first.to_parquet(folder / "part-0.parquet", index=False)
    bad.to_parquet(folder / "part-1.parquet", index=False)
    good = pd.concat([first, second.drop(index=list(BAD_PARQUET_ROWS))], ignore_index=True)
    return folder, good


def _compare(got: pd.DataFrame, expected: pd.DataFrame, keys: list[str], columns: list[str]):
    merged = got.merge(expected, on=keys, suffixes=("", "_np"), validate="one_to_one")
    assert len(merged) == len(got) == len(expected)
    for column in columns:
        a, b = merged[column].astype(float), merged[f"{column}_np"].astype(float)
        if column.startswith("pupil_score_p") or column == "pupil_score_median":
            # exact quantiles: the same order statistics and interpolation as numpy.quantile,
            # up to the rounding of one multiply-add
            np.testing.assert_allclose(a, b, rtol=0, atol=1e-12, err_msg=column)
        else:
            np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12, err_msg=column)


def test_one_pass_equals_numpy_exactly(planted, tmp_path):
    folder, good = planted
    result = pupils.aggregate(folder, out_dir=tmp_path)
    assert result.accounting_holds
    assert result.input_rows == len(good) + len(BAD_PARQUET_ROWS)
    assert result.rejected_rows == len(BAD_PARQUET_ROWS)
    subject = pd.read_parquet(tmp_path / pupils.SUBJECT_FILE)
    pooled = pd.read_parquet(tmp_path / pupils.OUTCOMES_FILE)
    _compare(subject, _expected(good, ["school_id", "year", "subject"]),
             ["school_id", "year", "subject"], pupils.OUTCOME_COLUMNS)  # fmt: skip
    _compare(pooled, _expected(good, ["school_id", "year"]), ["school_id", "year"],
             pupils.OUTCOME_COLUMNS)  # fmt: skip
    # what the planted table was built to catch
    by_subject = subject.set_index(["school_id", "year", "subject"])
    twice = by_subject.loc[("A01", 2025, "toan")]
    assert twice["pupil_count"] == twice["pupil_records"] - 1  # one pupil with two records
    a01 = pooled.set_index(["school_id", "year"]).loc[("A01", 2024)]
    assert (a01["pupil_records"], a01["pupil_count"]) == (72, 40)  # 8 pupils sat one subject
    one = by_subject.loc[("C03", 2024, "toan")]
    assert one["pupil_records"] == 1 and np.isnan(one["pupil_score_sd"])


def test_fast_settings_leave_only_their_columns_empty(planted, tmp_path):
    folder, _ = planted
    full = pupils.aggregate(folder, out_dir=tmp_path / "full")
    lean = pupils.aggregate(folder, out_dir=tmp_path / "lean", quantiles=False, pupil_count=False)
    assert lean.accounting_holds
    assert (lean.input_rows, lean.aggregated_rows, lean.rejected_rows) == (
        full.input_rows, full.aggregated_rows, full.rejected_rows
    )  # fmt: skip
    empty = [
        c for c in pupils.OUTCOME_COLUMNS if c.startswith("pupil_score_") and c != "pupil_score_sd"
    ]
    empty.append("pupil_count")
    for file in (pupils.OUTCOMES_FILE, pupils.SUBJECT_FILE):
        a = pd.read_parquet(tmp_path / "full" / file)
        b = pd.read_parquet(tmp_path / "lean" / file)
        assert b[empty].isna().all().all()
        assert a[empty].notna().all().all()
        kept = [c for c in a.columns if c not in empty]
        pd.testing.assert_frame_equal(a[kept], b[kept], rtol=1e-12)
    manifest = json.loads((tmp_path / "lean" / pupils.MANIFEST_FILE).read_text(encoding="utf-8"))
    assert manifest["quantiles"] == "not computed"
    assert manifest["pupil_count"] == "not computed"


def test_rejects_name_their_file_and_row_parquet(planted, tmp_path):
    folder, _ = planted
    pupils.aggregate(folder, out_dir=tmp_path)
    rejects = pd.read_parquet(tmp_path / pupils.REJECTS_FILE)
    assert (rejects["source_file"] == str((folder / "part-1.parquet").resolve())).all()
    # source_row counts from 1; the planted rows were 0-based positions
    assert dict(zip(rejects["source_row"] - 1, rejects["reason"], strict=True)) == BAD_PARQUET_ROWS


def test_rejects_name_their_file_and_row_csv(tmp_path):
    """A CSV large enough for DuckDB's parallel reader: its rejects still get their rows."""
    rows = 60_000
    bad = {17: "score_not_number", 30_001: "school_id_missing", 59_998: "pass_flag_unknown"}
    lines = ["Mã trường,Năm học,Môn,Điểm,Đạt"]
    for i in range(rows):
        school, score, flag = f"T{i % 50:02d}", f"{(i % 21) / 2:g}", "Đạt"
        if bad.get(i) == "score_not_number":
            score = "tám"
        elif bad.get(i) == "school_id_missing":
            school = ""
        elif bad.get(i) == "pass_flag_unknown":
            flag = "?"
        lines.append(f"{school},2024-2025,Toán,{score},{flag}")
    (tmp_path / "big.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    small = tmp_path / "small.csv"
    small.write_text(CSV, encoding="utf-8")
    result = pupils.aggregate([tmp_path / "big.csv", small], out_dir=tmp_path / "out", threads=2)
    assert result.accounting_holds and result.input_rows == rows + 13
    rejects = pd.read_parquet(tmp_path / "out" / pupils.REJECTS_FILE)
    big = rejects[rejects["source_file"].str.endswith("big.csv")]
    # the record number after the header, from 1 (a spreadsheet shows it one row lower)
    assert dict(zip(big["source_row"] - 1, big["reason"], strict=True)) == bad
    from_small = rejects[rejects["source_file"].str.endswith("small.csv")]
    assert from_small["source_row"].tolist() == list(range(4, 12))
    assert from_small.loc[from_small["source_row"] == 8, "score_raw"].tolist() == ["abc"]


def test_cli_fast_options(tmp_path):
    (tmp_path / "a.csv").write_text(CSV, encoding="utf-8")
    outcome = CliRunner().invoke(
        cli.app,
        ["pupils", str(tmp_path / "a.csv"), "--out", str(tmp_path / "o"), "--no-quantiles",
         "--no-pupil-count"],
    )  # fmt: skip
    assert outcome.exit_code == 0, outcome.output
    out = pd.read_parquet(tmp_path / "o" / pupils.OUTCOMES_FILE)
    assert out["pupil_score_median"].isna().all() and out["pupil_count"].isna().all()
    assert out["pupil_mean_score"].notna().all()


def test_aggregation_switches_come_from_the_config():
    assert pupils.config()["aggregation"] == {"quantiles": True, "pupil_count": True}
    assert pupils._setting({"quantiles": False}, "quantiles", None) is False
    assert pupils._setting({"quantiles": False}, "quantiles", True) is True
    with pytest.raises(
        pupils.PupilError, match=r"aggregation\.pupil_count should be true or false"
    ):
        pupils._setting({"pupil_count": "yes"}, "pupil_count", None)


def test_a_file_without_pupil_ids_has_unknown_pupil_counts(tmp_path):
    (tmp_path / "a.csv").write_text(CSV, encoding="utf-8")
    frame = pd.DataFrame({"Mã trường": ["T09"], "Năm học": ["2025"], "Điểm": [3.5], "Đạt": ["0"]})
    frame.to_parquet(tmp_path / "b.parquet")
    result = pupils.aggregate(tmp_path, out_dir=tmp_path / "out")
    assert result.accounting_holds and result.input_rows == 14
    out = pd.read_parquet(tmp_path / "out" / pupils.OUTCOMES_FILE).set_index(["school_id", "year"])
    assert pd.isna(out.loc[("T09", 2025), "pupil_count"])
    assert out.loc[("T01", 2025), "pupil_count"] == 2
