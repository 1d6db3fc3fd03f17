"""A plan on any dataset says what it is: its title names the dataset run, a notebook that
does not apply is shown as "not applicable" with its reason (not as a success), and a grid
that expands to nothing is said on the index, the run log and the command's summary."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import nbformat as nbf
import pytest
import yaml

from analysis import runner
from analysis.data import datasets
from analysis.runner import frontpage

ROOT = Path(__file__).resolve().parents[2]
REASON = "**Bộ dữ liệu** này không có bảng báo cáo của Sở"


def _notebook(path: Path, params: str, body: list[str]) -> None:
    nb = nbf.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "cds-workbench", "display_name": "x", "language": "python"}
    cell = nbf.v4.new_code_cell(params)
    cell.metadata["tags"] = ["parameters"]
    nb.cells = [cell, *[nbf.v4.new_code_cell(src) for src in body]]
    nbf.write(nb, str(path))


def _plan(folder: Path, runs: list[dict], **extra) -> Path:
    _notebook(folder / "ok.ipynb", "unit = None", ["from analysis import record"])
    _notebook(
        folder / "na.ipynb",
        "lang = 'vi'",
        [f"from analysis import record\nrecord.not_applicable({REASON!r})"],
    )
    path = folder / "p.yml"
    raw = {"name": "p", "dataset": "maschools", "runs": runs, **extra}
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return path


BRIEFS = {"id": "brief", "notebook": "ok.ipynb", "grid": {"unit": {"level": "analysis_district"}}}


def test_a_grid_with_nothing_to_expand_is_recorded_and_can_be_required(tmp_path):
    plan = runner.load_plan(_plan(tmp_path, [BRIEFS]))
    assert plan.runs == []
    assert plan.empty_grids == [
        runner.EmptyGrid("brief", "ok.ipynb", "unit", "no_level", "analysis_district", None)
    ]
    title = datasets.read_spec("maschools").title
    line = plan.empty_grids[0].describe("vi", title["vi"])
    assert title["vi"] in line and "cấp huyện" in line and "“brief”" in line  # no page label: id
    ours = runner.EmptyGrid("b", "04_district_brief.ipynb", "unit", "no_units", "commune", 2025)
    assert ours.describe("en", "X") == (
        "No “District brief” pages: the dataset X has no commune/ward unit"
        " in school year 2024–2025."
    )
    required = _plan(tmp_path, [{**BRIEFS, "required": True}])
    with pytest.raises(runner.PlanError, match=r"runs\[0\] \(brief\): required, but No"):
        runner.load_plan(required)
    bad = _plan(tmp_path, [{**BRIEFS, "required": "yes"}])
    with pytest.raises(runner.PlanError, match="'required' is true or false"):
        runner.load_plan(bad)


def test_the_title_names_the_dataset_run(tmp_path):
    titled = _plan(tmp_path, [], title={"vi": "Đánh giá: {dataset}", "en": "Evaluation: {dataset}"})
    plan = runner.load_plan(titled, dataset="star")
    star = datasets.read_spec("star").title
    assert plan.titled(star) == {"vi": f"Đánh giá: {star['vi']}", "en": f"Evaluation: {star['en']}"}
    fixed = _plan(tmp_path, [], title={"vi": "Kế hoạch", "en": "Plan"})
    own = runner.load_plan(fixed)
    assert own.titled(datasets.read_spec("maschools").title)["vi"] == "Kế hoạch"
    other = runner.load_plan(fixed, dataset="star")  # --dataset: the title says which
    assert other.titled(star) == {"vi": f"Kế hoạch — {star['vi']}", "en": f"Plan — {star['en']}"}
    default = runner.load_plan("default", dataset="star")
    assert "mô phỏng" not in default.titled(star)["vi"] and star["vi"] in default.titled(star)["vi"]


def test_not_applicable_and_empty_grids_are_said_everywhere(tmp_path):
    path = _plan(tmp_path, [{"id": "na", "notebook": "na.ipynb"}, BRIEFS])
    out = tmp_path / "out"
    done = subprocess.run(
        [sys.executable, "-m", "analysis", "run", str(path), "--out", str(out), "--jobs", "1"],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    summary = " ".join(done.stdout.split())  # rich folds long lines
    assert "not applicable" in summary and "succeeded" not in summary
    assert "Not applicable: na: Bộ dữ liệu này không có bảng báo cáo của Sở" in summary
    assert "Not run: No “brief” pages" in summary and "has no district" in summary
    manifest = json.loads(next(out.parent.glob("out.internal/manifest.json")).read_text("utf-8"))
    (run,) = manifest["runs"]
    assert run["status"] == "succeeded" and runner.shown_status(run) == "not_applicable"
    assert run["not_applicable"] == REASON.replace("**", "")
    assert manifest["title"]["vi"] == "p"  # no title in the plan: its name
    index = (out / "index.html").read_text("utf-8")
    assert "Các trang không áp dụng cho bộ dữ liệu này" in index
    assert frontpage.empty_grid_lines(manifest, "vi", "Các khu học chánh")[0] in index.replace(
        datasets.read_spec("maschools").title["vi"], "Các khu học chánh"
    )
    log = (out / "runs.html").read_text("utf-8")
    assert 'data-status="not_applicable"' in log and "Không áp dụng" in log
    assert REASON.replace("**", "") in log and "applicable: " not in log
