"""A province's own data without editing the package: ``workbench init`` to a report.

An analyst makes a workspace, puts the province's own reports in ``data/raw`` (headers
of their own office's template, one column the template does not have), adds the
office's header to the workspace's ``config/columns.yml`` and runs ingest and the
plan from inside the folder. The checkout's files are never touched; every command
says which of the workspace's config files it used.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml
from openpyxl import load_workbook

from analysis.core import config, paths
from analysis.data import schema, synth
from analysis.measures.indicators import spec as indicators

ROOT = Path(__file__).resolve().parents[2]
OWN_HEADER = "Lũy kế số GV đã qua bồi dưỡng về CĐS"  # the office's header: teachers_trained_cds
DROPPED = "Số bài giảng điện tử"  # e_lessons: a column this office's template lacks


def _cli(*args: str, cwd: Path, home: Path | None = None) -> subprocess.CompletedProcess:
    env = {
        k: v for k, v in os.environ.items() if k not in {"WORKBENCH_HOME", "WORKBENCH_PROCESSED"}
    }
    env["COLUMNS"] = "250"  # rich wraps messages at the terminal's width
    if home is not None:
        env["WORKBENCH_HOME"] = str(home)
    return subprocess.run(
        [sys.executable, "-m", "analysis", *args],
        capture_output=True, text=True, cwd=cwd, env=env, timeout=900,
    )  # fmt: skip


def _checkout_digest() -> str:
    digest = hashlib.sha256()
    for folder in ("config", "notebooks"):
        for path in sorted((ROOT / folder).rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                digest.update(path.as_posix().encode() + path.read_bytes())
    return digest.hexdigest()


def _own_template(raw: Path) -> None:
    """The generated reports as another office writes them: its own header for the
    cumulative trained teachers, and no e-lessons column."""
    for path in sorted(raw.glob("bao_cao_*.xlsx")):
        book = load_workbook(path)
        sheet = book.worksheets[0]
        for row in sheet.iter_rows(max_row=30):
            for cell in row:
                if cell.value == schema.contract("panel")["teachers_trained_cds"].header:
                    cell.value = OWN_HEADER
                elif cell.value == DROPPED:
                    sheet.delete_cols(cell.column)
                    break
        book.save(path)


def test_init_writes_a_workspace_and_keeps_what_is_there(tmp_path):
    before = _checkout_digest()
    done = _cli("init", "tinh_thu", "--title", "Tỉnh Thử", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    home = tmp_path / "tinh_thu"
    for relative in ("workbench.yml", "config/columns.yml", "config/indicators.yml",
                     "config/datasets/tinh_thu.yml", "config/plans/tinh_thu.yml"):  # fmt: skip
        assert (home / relative).is_file(), relative
    for folder in ("data/raw", "data/processed", "reports"):
        assert (home / folder).is_dir(), folder
    spec = yaml.safe_load((home / "config/datasets/tinh_thu.yml").read_text(encoding="utf-8"))
    assert spec["synthetic"] is False and spec["title"]["vi"] == "Tỉnh Thử"
    assert "programme" not in spec  # a real province declares its own
    (home / "config/columns.yml").write_text("panel: {}\n", encoding="utf-8")
    again = _cli("init", str(home), cwd=tmp_path)
    assert again.returncode == 0 and "kept  config/columns.yml" in again.stdout
    assert (home / "config/columns.yml").read_text(encoding="utf-8") == "panel: {}\n"
    assert _checkout_digest() == before


def test_a_workspace_config_is_merged_over_the_defaults(tmp_path, monkeypatch):
    home = tmp_path / "ws"
    assert _cli("init", str(home), cwd=tmp_path).returncode == 0
    (home / "config/columns.yml").write_text(
        f"panel:\n  teachers_trained_cds:\n    synonyms: [{OWN_HEADER}]\n    max: 400\n",
        encoding="utf-8",
    )
    (home / "config/indicators.yml").write_text(
        "indicators:\n  - id: teachers_trained_cds\n    targets:\n"
        "      - {year: 2025, value: 90, source: Kế hoạch của tỉnh}\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("WORKBENCH_HOME", str(home))
    assert paths.is_workspace() and paths.project_root() == home.resolve()
    spec = schema.contract("panel")["teachers_trained_cds"]
    assert OWN_HEADER in spec.synonyms and "GV đã bồi dưỡng CĐS" in spec.synonyms  # added to
    assert spec.max == 400  # replaced
    assert schema.contract("panel")["teachers"].header == "Số giáo viên"  # the rest shipped
    by_id = {i.id: i for i in indicators.load_indicators()}
    assert [(t.year, t.value) for t in by_id["teachers_trained_cds"].targets] == [(2025, 90)]
    assert len(by_id) == len(
        config.load_yaml(paths.shipped_config_dir() / "indicators.yml")["indicators"]
    )
    own = [p.relative_to(home / "config").as_posix() for p in config.used()]
    assert own == ["columns.yml", "datasets/ws.yml", "indicators.yml", "plans/ws.yml"]


@pytest.mark.slow
def test_from_an_empty_folder_to_a_report_on_own_files(tmp_path):
    """init → own raw files → ingest → run, inside the workspace (and with --home)."""
    before = _checkout_digest()
    home = tmp_path / "tinh_thu"
    assert _cli("init", str(home), "--title", "Tỉnh Thử", cwd=tmp_path).returncode == 0
    synth.write(synth.generate(seed=3, profile="clean", scale=0.1), home / "data" / "raw")
    (home / "data/raw/truth.json").unlink()  # a province's own files hold no planted truth
    _own_template(home / "data" / "raw")

    # without the office's header: the column is missing, the header listed as unknown
    first = _cli("ingest", "raw", "--check", cwd=home / "data")  # found from a subfolder
    assert first.returncode == 0, first.stderr
    assert f"workspace {home}" in first.stderr and "datasets/tinh_thu.yml" in first.stderr
    said = " ".join((first.stdout + first.stderr).split())  # rich wraps long lines
    assert "cannot compute indicator teachers_trained_cds" in said
    assert f"the header {OWN_HEADER!r}" in said and "looks like teachers_trained_cds" in said
    assert "cannot compute indicator e_lessons_per_teacher" in said

    (home / "config/columns.yml").write_text(
        f"panel:\n  teachers_trained_cds:\n    synonyms: [{OWN_HEADER}]\n", encoding="utf-8"
    )
    done = _cli("--home", str(home), "ingest", str(home / "data/raw"), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "config: columns.yml" in done.stderr
    panel = pd.read_parquet(home / "data/processed/panel.parquet")
    assert panel["teachers_trained_cds"].notna().all()
    assert panel["e_lessons"].isna().all()
    table = pd.read_csv(home / "data/processed/coverage.csv").set_index("id")
    assert table.loc["teachers_trained_cds", "computable"]
    assert not table.loc["e_lessons_per_teacher", "computable"]
    assert table.loc["e_lessons_per_teacher", "missing"] == "e_lessons"

    plan = home / "config/plans/tinh_thu.yml"
    spec = yaml.safe_load(plan.read_text(encoding="utf-8"))
    hierarchy = pd.read_parquet(home / "data/processed/school_hierarchy.parquet")
    district = sorted(hierarchy["analysis_district_id"].dropna().astype(str))[0]
    spec["runs"] = [r for r in spec["runs"] if r["id"] in {"indicators", "district_brief"}]
    for run in spec["runs"]:
        if "grid" in run:  # one brief is enough here
            run["grid"] = {"unit": [str(district)]}
    plan.write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
    ran = _cli("run", "tinh_thu", "--jobs", "2", cwd=home)
    assert ran.returncode == 0, ran.stdout[-3000:] + ran.stderr[-3000:]
    index = (home / "reports/tinh_thu/index.html").read_text(encoding="utf-8")
    assert "Tỉnh Thử" in index and "mô phỏng" not in index  # not labelled synthetic
    pages = list((home / "reports/tinh_thu/html").glob("*.report.html"))
    assert pages and not any("mô phỏng" in p.read_text(encoding="utf-8") for p in pages)
    assert _checkout_digest() == before
