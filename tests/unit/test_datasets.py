"""Dataset specs load real and synthetic data into one validated shape."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from analysis.core.config import ConfigError
from analysis.data import datasets, ingest, schema, synth

REAL = ["star", "maschools", "school93_98", "hsb"]


def test_every_spec_is_listed():
    assert set(datasets.available()) == {"thai_nguyen_synthetic", *REAL}


@pytest.mark.parametrize("name", [*REAL, "thai_nguyen_synthetic"])
def test_every_role_column_has_both_labels(name):
    spec = datasets.read_spec(name)
    contracts = {**schema.contract("panel"), **schema.contract("schools")}
    for column in [*spec.role_columns, *spec.groups, *spec.derive]:
        if column in spec.labels:
            assert spec.labels[column].get("vi") and spec.labels[column].get("en"), column
        else:
            assert column in contracts, f"{name}: {column} has no label"
        assert spec.label(column, "vi") and spec.label(column, "en")


@pytest.mark.parametrize(
    ("name", "rows", "excluded"),
    [("star", 6325, 5273), ("maschools", 220, 0), ("school93_98", 10668, 0), ("hsb", 7185, 0)],
)
def test_real_datasets_load(name, rows, excluded):
    data = datasets.load(name)
    assert len(data.data) == rows
    assert len(data.excluded) == excluded
    assert len(data.data) + len(data.excluded) == {"star": 11598}.get(name, rows)
    keys = [data.spec.unit] + ([data.spec.time] if data.spec.time else [])
    assert not data.data.duplicated(keys).any()
    for column in data.spec.role_columns:
        assert np.issubdtype(data.data[column].dtype, np.number), column


def test_star_matches_stock_and_watson():
    """Stock & Watson, Table 13.2 col. 1: kindergarten small class +13.90, aide +0.31."""
    star = datasets.load("star").data.dropna(subset=["score"])
    X = np.column_stack([np.ones(len(star)), star["small_class"], star["regular_aide"]])
    beta, *_ = np.linalg.lstsq(X, star["score"].to_numpy(), rcond=None)
    assert len(star) == 5786
    assert beta[1] == pytest.approx(13.90, abs=0.01)
    assert beta[2] == pytest.approx(0.31, abs=0.01)
    assert beta[0] == pytest.approx(918.04, abs=0.01)


def test_synthetic_spec_loads_from_processed_tables(realistic_ingested):
    _, result, out = realistic_ingested
    data = datasets.load("thai_nguyen_synthetic", processed=out)
    assert len(data.data) == len(result.tables["panel"])
    assert data.data["analysis_district_id"].notna().all()
    assert data.data["analysis_district_id"].nunique() == 9
    infra = data.data["computers_teaching"] / data.data["enrolment"] * 100
    assert np.allclose(data.data["infra"], infra)
    assert set(data.data["area_type"]) == {"urban", "rural", "mountainous"}


def test_missing_processed_tables_say_what_to_run(tmp_path):
    with pytest.raises(datasets.DatasetError, match="make run"):
        datasets.load("thai_nguyen_synthetic", processed=tmp_path)


def test_bad_specs_are_refused(tmp_path):
    bad = tmp_path / "bad.yml"
    head = "name: bad\nunit: id\nlabels: {}\n"
    cases = [
        ("title: {vi: a, en: b}\nsource: {kind: ftp}\nroles: {}\n", r"source\.kind"),
        ("title: {vi: a}\nsource: {kind: file, path: x.csv}\nroles: {}\n", r"title\.en"),
        (
            "title: {vi: a, en: b}\nsource: {kind: file, path: x.csv}\nroles: {inputs: [a]}\n",
            "unknown roles",
        ),
    ]
    for body, message in cases:
        bad.write_text(head + body)
        with pytest.raises(ConfigError, match=message):
            datasets.read_spec(bad)


def test_spec_naming_a_missing_column_fails_clearly(tmp_path):
    csv = tmp_path / "t.csv"
    csv.write_text("id,y\n1,2\n2,3\n")
    spec = tmp_path / "t.yml"
    spec.write_text(
        f"name: t\ntitle: {{vi: a, en: b}}\nsource: {{kind: file, path: {csv}}}\nunit: id\n"
        "roles: {outcomes: [score]}\nlabels: {}\n"
    )
    with pytest.raises(datasets.DatasetError, match="score"):
        datasets.load(spec)


def test_real_files_in_the_checkout_are_not_called_synthetic(tmp_path):
    """The banner follows the files ingest read (the generator's truth.json beside them),
    not the spec: a province's own reports ingested into data/processed are real."""
    raw = tmp_path / "raw"
    synth.write(synth.generate(seed=5, profile="clean", scale=0.1), raw)
    assert ingest.ingest(raw, out_dir=tmp_path / "sim").synthetic
    simulated = datasets.load("thai_nguyen_synthetic", processed=tmp_path / "sim")
    assert simulated.spec.synthetic and "mô phỏng" in simulated.spec.title["vi"]
    (raw / "truth.json").unlink()  # the same workbooks, as an office would send them
    assert not ingest.ingest(raw, out_dir=tmp_path / "real").synthetic
    real = datasets.load("thai_nguyen_synthetic", processed=tmp_path / "real")
    assert not real.spec.synthetic
    assert real.spec.title == {"vi": "Tỉnh Thái Nguyên", "en": "Thái Nguyên province"}
    # the other way round: a province's own spec over the generator's files says simulated
    own = replace(datasets.read_spec("thai_nguyen_synthetic"), synthetic=False, real_title=None)
    assert datasets.load(own, processed=tmp_path / "sim").spec.synthetic
    # a spec without real_title loses its last parenthesis ("(dữ liệu mô phỏng)")
    plain = replace(datasets.read_spec("thai_nguyen_synthetic"), real_title=None)
    assert datasets.load(plain, processed=tmp_path / "real").spec.title["en"] == (
        "Thái Nguyên province"
    )
