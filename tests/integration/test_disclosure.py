"""A curious reader against the shared output: no count of 1–4 persons comes back.

The attacker (:mod:`tests.disclosure`) does not use ``analysis.privacy``: it reads the
shared files with its own parsers and does the arithmetic a reader with a spreadsheet
would (differences within a parent unit, share × denominator, value − change, this year
− last year, rule sides, one sheet against another). It runs on the default plan's
output, on a province built to be hard (schools of a few teachers and pupils), and —
so that it is known to be able to fail — on a workbook with secondary suppression off.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.data import datasets
from analysis.report import export
from analysis.report.privacy import secondary
from tests import disclosure

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.xdist_group("default_run")


def shared_folder(out: Path) -> Path:
    """``reports/<plan>/`` as it may be published: the researchers' copies (executed
    notebooks, pages with code), the manifest and the caches live beside it."""
    inside = [p.relative_to(out) for p in out.rglob("*") if p.is_file()]
    internal = [
        p for p in inside
        if p.parts[0] in ("notebooks", "manifest.json", ".cache") or p.name.endswith(".code.html")
    ]  # fmt: skip
    assert internal == [], internal
    return out


def _describe(leaks) -> str:
    return "\n".join(str(leak) for leak in leaks[:20])


def test_the_default_plan_gives_no_count_back(default_run, small_province, tmp_path):
    out, done = default_run
    assert done.returncode == 0, done.stderr[-2000:]
    shared = shared_folder(out)
    assert (shared / "kpi_vi.xlsx").is_file() and list(shared.rglob("*.csv"))
    leaks = disclosure.attack(shared, disclosure.truth_of(small_province))
    assert leaks == [], _describe(leaks)


def hard_province(processed: Path, dest: Path) -> Path:
    """``processed`` with schools of a few teachers and pupils: small counts everywhere."""
    shutil.copytree(processed, dest)
    panel = pd.read_parquet(dest / "panel.parquet")
    teachers = np.maximum(2, np.ceil(panel["teachers"] / 6))
    ratio = teachers / panel["teachers"]
    for column in ("teachers_online_account", "teachers_trained_cds",
                   "teachers_trained_cds_year", "teachers_digital_material"):  # fmt: skip
        panel[column] = np.minimum(np.round(panel[column] * ratio), teachers)
    panel["training_hours"] = np.round(panel["training_hours"] * ratio, 1)
    enrolment = np.maximum(8, np.round(panel["enrolment"] / 10))
    records = np.minimum(np.round(panel["pupils_digital_records"] * enrolment / panel["enrolment"]),
                         enrolment)  # fmt: skip
    panel["teachers"], panel["enrolment"], panel["pupils_digital_records"] = (
        teachers, enrolment, records)  # fmt: skip
    panel.to_parquet(dest / "panel.parquet", index=False)
    return dest


@pytest.mark.slow
def test_a_province_of_small_schools_gives_no_count_back(small_province, tmp_path):
    hard = hard_province(small_province, tmp_path / "processed")
    out = tmp_path / "reports"
    done = subprocess.run(
        [sys.executable, "-m", "analysis", "run", "default", "--processed", str(hard),
         "--out", str(out), "--only", "[di][an]*", "--jobs", "2"],
        capture_output=True, text=True, cwd=ROOT, timeout=900,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    truth = disclosure.truth_of(hard)
    small = sum(1 for v in truth.values() if 0 < v < disclosure.K)
    assert small > 500  # the province is hard: hundreds of counts of 1–4 persons
    leaks = disclosure.attack(shared_folder(out), truth)
    assert leaks == [], _describe(leaks)


def test_the_attacker_finds_what_secondary_suppression_stops(small_province, tmp_path,
                                                             monkeypatch):  # fmt: skip
    """With secondary suppression off, the attacker recovers counts: the test can fail."""
    data = datasets.load("thai_nguyen_synthetic", processed=small_province)
    monkeypatch.setattr(secondary, "complementary", lambda *a, **k: None)
    monkeypatch.setattr(secondary, "yearly_changes", lambda *a, **k: None)
    (tmp_path / "shared").mkdir()
    kpi = export.kpi_tables(data, lang="vi", public=True)
    export.write_workbook(data, kpi, tmp_path / "shared" / "kpi_vi.xlsx", lang="vi", public=True)
    leaks = disclosure.attack(tmp_path / "shared", disclosure.truth_of(small_province))
    kinds = {leak.how for leak in leaks}
    assert {"subtraction", "year difference"} <= kinds, _describe(leaks)
