"""The KPI workbook and CSVs: Vietnamese by default, English on request, opens cleanly."""

from __future__ import annotations

import subprocess
import sys

import pandas as pd
import pytest
from openpyxl import load_workbook

from analysis.core import i18n
from analysis.data import datasets
from analysis.report import export


@pytest.fixture(scope="module")
def kpi(realistic_ingested, tmp_path_factory):
    data = datasets.load("thai_nguyen_synthetic", processed=realistic_ingested[2])
    out = tmp_path_factory.mktemp("kpi")
    return data, out, export.export(data, out, lang="vi")


def test_workbook_has_vietnamese_sheets_and_headers(kpi):
    _, _, written = kpi
    book = load_workbook(written["workbook"], read_only=True)
    names = book.sheetnames
    assert names[0] == i18n.label("sheets", "readme", "vi")
    for key in (
        "province",
        "district",
        "unit",
        "school",
        "maturity",
        "completeness",
        "quality",
        "definitions",
    ):
        assert i18n.label("sheets", key, "vi") in names
    province = book[i18n.label("sheets", "province", "vi")]
    header = [c.value for c in next(province.iter_rows(max_row=1))]
    assert (
        "Tên chỉ tiêu" in header
        and "Chỉ tiêu kế hoạch" in header
        and "Tình trạng" in header
        and "Giá trị" in header
    )
    statuses = {
        row[header.index("Tình trạng")] for row in province.iter_rows(min_row=2, values_only=True)
    }
    # Every row has a status in words, and the province is not all one status.
    assert None not in statuses and len(statuses) >= 2, statuses
    assert statuses <= set(i18n.labels("status", "vi").values())
    readme = [r for r in book[names[0]].iter_rows(values_only=True)]
    assert any("mô phỏng" in str(r[0]).lower() for r in readme)
    book.close()


def test_csv_has_a_bom_and_the_same_rows(kpi):
    _, out, written = kpi
    province_csv = out / "csv_vi" / "province.csv"
    assert province_csv.read_bytes().startswith(b"\xef\xbb\xbf")
    frame = pd.read_csv(province_csv, encoding="utf-8-sig")
    assert len(frame) == len(written["tables"]["province"])


def test_english_on_request(kpi, tmp_path):
    data, _, _ = kpi
    tables = {"province": export.kpi_tables(data, lang="en")["province"]}
    path = export.write_workbook(data, tables, tmp_path / "kpi_en.xlsx", lang="en")
    book = load_workbook(path, read_only=True)
    assert book.sheetnames == ["Read me", "Province"]
    header = [c.value for c in next(book["Province"].iter_rows(max_row=1))]
    assert "Indicator" in header and "Status" in header
    book.close()


@pytest.mark.slow
def test_cli_indicators(realistic_ingested, tmp_path):
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "analysis",
            "indicators",
            "--processed",
            str(realistic_ingested[2]),
            "--out",
            str(tmp_path),
            "--lang",
            "en",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        env={"COLUMNS": "200", "PATH": "/usr/bin:/bin"},
    )
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "kpi_en.xlsx").is_file()
    assert "Province (pre-2025 boundary)" in done.stdout
    missing = subprocess.run(
        [sys.executable, "-m", "analysis", "indicators", "--processed", str(tmp_path / "none")],
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": "/usr/bin:/bin"},
    )
    assert missing.returncode == 2 and "make run" in missing.stderr
    assert "Traceback" not in missing.stderr


@pytest.mark.slow
def test_public_workbook_applies_the_privacy_rules(kpi, tmp_path):
    from analysis.measures import indicators
    from analysis.report import privacy

    data, _, written = kpi
    # the school rows hold small teacher counts: the rules have something to do
    assert privacy.scan(indicators.compute(data.data, levels=("school",)))
    tables = export.kpi_tables(data, lang="vi", public=True)
    path = export.write_workbook(data, tables, tmp_path / "kpi_vi.xlsx", lang="vi", public=True)
    assert privacy.scan_workbook(path) == []
    marker = privacy.marker("vi")
    hidden = tables["school"] == marker
    assert hidden.any().any()
    full = written["tables"]["school"]
    assert full.where(hidden).notna().any().any()  # a value the analysts' workbook shows
    book = load_workbook(path, read_only=True)
    readme = [r for r in book[book.sheetnames[0]].iter_rows(values_only=True)]
    assert any(privacy.footnote("vi") == r[1] for r in readme)
    book.close()
