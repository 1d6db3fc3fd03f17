"""The plan runner: parameter validation, grids, cache, manifest.

Faults (a dead kernel, a hanging cell, an exception), interruption and path safety are in
test_faults.py; the hash seed and reproducibility in test_reproducibility.py.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import nbformat as nbf
import pytest
import yaml

from analysis import runner
from analysis.runner import grid as runner_grid
from analysis.runner import render
from analysis.runner.layout import internal_dir

ROOT = Path(__file__).resolve().parents[2]


def _notebook(path: Path, params: str, body: list[str]) -> Path:
    nb = nbf.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "cds-workbench", "display_name": "x", "language": "python"}
    cell = nbf.v4.new_code_cell(params)
    cell.metadata["tags"] = ["parameters"]
    nb.cells = [cell, *[nbf.v4.new_code_cell(src) for src in body]]
    nbf.write(nb, str(path))
    return path


@pytest.fixture
def plan_dir(tmp_path):
    _notebook(
        tmp_path / "ok.ipynb",
        'value = 1\nlabel = "x"\nsleep = 0.0',
        [
            "import time\ntime.sleep(sleep)",
            "from analysis import record\nrecord.figure('double', value * 2)",
        ],
    )
    return tmp_path


def _plan(folder: Path, runs: list[dict], name: str = "t") -> Path:
    path = folder / f"{name}.yml"
    path.write_text(yaml.safe_dump({"name": name, "dataset": "maschools", "runs": runs}))
    return path


def test_parameters_are_checked_before_anything_runs(plan_dir):
    bad_name = _plan(plan_dir, [{"id": "a", "notebook": "ok.ipynb", "parameters": {"valeu": 3}}])
    with pytest.raises(
        runner.PlanError, match=r"runs\[0\] \(a\).*no parameter\(s\) valeu.*accepts"
    ):
        runner.load_plan(bad_name)
    bad_type = _plan(
        plan_dir, [{"id": "a", "notebook": "ok.ipynb", "parameters": {"value": "three"}}], "t2"
    )
    with pytest.raises(runner.PlanError, match=r"value='three' should be int"):
        runner.load_plan(bad_type)
    done = subprocess.run(
        [sys.executable, "-m", "analysis", "run", str(bad_name)],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert done.returncode == 2 and "valeu" in done.stderr and "Traceback" not in done.stderr


def test_grid_expands(plan_dir):
    path = _plan(plan_dir, [{"id": "g", "notebook": "ok.ipynb", "grid": {"value": [1, 2, 3]}}])
    plan = runner.load_plan(path)
    assert [r.id for r in plan.runs] == ["g[value=1]", "g[value=2]", "g[value=3]"]
    assert [r.parameters["value"] for r in plan.runs] == [1, 2, 3]

    assert [r.stem for r in plan.runs] == ["g_value_1_", "g_value_2_", "g_value_3_"]


def test_units_name_their_files():
    assert runner.slug("Huyện Đại Từ") == "huyen-dai-tu"
    assert runner.slug("Thành phố Thái Nguyên") == "thanh-pho-thai-nguyen"
    assert runner.slug("Xã Ngọc Thanh (cũ)") == "xa-ngoc-thanh-cu"
    units = [("171", "Huyện Đại Từ"), ("8", "Xã Tân Lập"), ("9", "Xã Tân Lập"), ("10", None)]
    stems = runner_grid.unit_stems("brief", "unit", units)
    # a shared name gets the unit's id; a unit without a name keeps the run id's form
    assert stems == ["brief-huyen-dai-tu", "brief-xa-tan-lap-8", "brief-xa-tan-lap-9",
                     "brief_unit_10_"]  # fmt: skip
    assert len(set(stems)) == len(stems)


def test_cache_hit_and_miss(plan_dir, tmp_path):
    path = _plan(
        plan_dir,
        [
            {"id": "a", "notebook": "ok.ipynb", "parameters": {"value": 2}},
            {"id": "b", "notebook": "ok.ipynb", "parameters": {"value": 5}},
        ],
    )
    out = tmp_path / "out"
    first = runner.run_plan(runner.load_plan(path), out_dir=out, jobs=2, render=False)
    assert [r["status"] for r in first["runs"]] == ["succeeded", "succeeded"]
    figures = {
        f["run"]: f["value"]
        for f in __import__("pandas").read_parquet(out / "figures.parquet").to_dict("records")
    }
    assert figures == {"a": "4", "b": "10"}
    second = runner.run_plan(runner.load_plan(path), out_dir=out, jobs=2, render=False)
    assert [r["status"] for r in second["runs"]] == ["cached", "cached"]
    # a changed parameter is a miss for that run only
    path = _plan(
        plan_dir,
        [
            {"id": "a", "notebook": "ok.ipynb", "parameters": {"value": 3}},
            {"id": "b", "notebook": "ok.ipynb", "parameters": {"value": 5}},
        ],
    )
    third = runner.run_plan(runner.load_plan(path), out_dir=out, jobs=2, render=False)
    assert [r["status"] for r in third["runs"]] == ["succeeded", "cached"]
    forced = runner.run_plan(runner.load_plan(path), out_dir=out, jobs=2, force=True, render=False)
    assert [r["status"] for r in forced["runs"]] == ["succeeded", "succeeded"]


def test_manifest_records_inputs_versions_and_times(plan_dir, tmp_path):
    path = _plan(plan_dir, [{"id": "a", "notebook": "ok.ipynb"}])
    manifest = runner.run_plan(runner.load_plan(path), out_dir=tmp_path / "o", render=False)
    run = manifest["runs"][0]
    for key in (
        "parameters",
        "inputs",
        "start",
        "end",
        "duration",
        "status",
        "key",
        "code_version",
        "packages",
    ):
        assert key in run
    assert manifest["packages"]["pandas"] and manifest["code_version"].startswith("0.1.0+")
    assert any(i["path"].endswith("maschools.yml") for i in run["inputs"])
    saved = json.loads((internal_dir(tmp_path / "o") / "manifest.json").read_text(encoding="utf-8"))
    assert saved["runs"][0]["status"] == "succeeded"


def test_a_run_is_marked_internal_in_the_plan(plan_dir):
    path = _plan(
        plan_dir,
        [
            {"id": "a", "notebook": "ok.ipynb", "internal": True},
            {"id": "g", "notebook": "ok.ipynb", "internal": True, "grid": {"value": [1, 2]}},
            {"id": "b", "notebook": "ok.ipynb"},
        ],
    )
    plan = runner.load_plan(path)
    assert [(r.id, r.internal) for r in plan.runs] == [
        ("a", True),
        ("g[value=1]", True),
        ("g[value=2]", True),
        ("b", False),
    ]
    bad = _plan(plan_dir, [{"id": "a", "notebook": "ok.ipynb", "internal": "yes"}], "t3")
    with pytest.raises(runner.PlanError, match=r"runs\[0\] \(a\): 'internal' is true or false"):
        runner.load_plan(bad)


def test_cache_follows_content_a_cell_edit_and_one_changed_value(
    plan_dir, realistic_ingested, tmp_path
):
    """Exactly the affected runs execute again, and their figures change."""
    import shutil

    import pandas as pd

    processed = tmp_path / "processed"
    shutil.copytree(realistic_ingested[2], processed)
    _notebook(
        plan_dir / "data.ipynb",
        'dataset = "thai_nguyen_synthetic"\nprocessed = None',
        [
            "from pathlib import Path\nfrom analysis import brief, datasets, record\n"
            "data = datasets.load(dataset, processed=Path(processed))\n"
            "values = brief.tables(data, year=2025, lang='en')['values']\n"
            "row = values[(values['indicator'] == 'learners_per_computer')"
            " & (values['level'] == brief.PROVINCE)]\n"
            "record.figure('learners', round(float(row['value'].iloc[-1]), 6))"
        ],
    )
    _notebook(
        plan_dir / "other.ipynb",
        "value = 1",
        ["from analysis import record\nrecord.figure('v', value)"],
    )
    path = plan_dir / "c.yml"
    runs = [
        {"id": "d1", "notebook": "data.ipynb"},
        {"id": "o", "notebook": "other.ipynb"},
    ]
    path.write_text(yaml.safe_dump({"name": "c", "dataset": "thai_nguyen_synthetic", "runs": runs}))
    out = tmp_path / "out"

    def run():
        plan = runner.load_plan(path, processed=processed)
        manifest = runner.run_plan(plan, out_dir=out, jobs=2, processed=processed, render=False)
        figures = pd.read_parquet(out / "figures.parquet").set_index("run")["value"].to_dict()
        return [r["status"] for r in manifest["runs"]], figures

    statuses, before = run()
    assert statuses == ["succeeded"] * 2
    # one value changed in place, same rows: the data run runs again, and its shared tables
    # (reports/<plan>.internal/.cache/shared) are computed afresh, not read back stale
    panel = pd.read_parquet(processed / "panel.parquet")
    last = panel["year"] == panel["year"].max()
    panel.loc[last, "computers_teaching"] = panel.loc[last, "computers_teaching"] * 2
    panel.to_parquet(processed / "panel.parquet", index=False)
    statuses, after = run()
    # every run of the plan may read its dataset, so every run's key holds the input hashes
    assert statuses == ["succeeded", "succeeded"]
    assert float(after["d1"]) == pytest.approx(float(before["d1"]) / 2, rel=0.01)
    assert after["o"] == before["o"]
    # a cell edited in one notebook: that run only
    _notebook(
        plan_dir / "other.ipynb",
        "value = 1",
        ["from analysis import record\nrecord.figure('v', value + 1)"],
    )
    statuses, edited = run()
    assert statuses == ["cached", "succeeded"]
    assert float(edited["o"]) == float(before["o"]) + 1 and edited["d1"] == after["d1"]


def test_parameters_within_reason_before_anything_runs(plan_dir):
    """A megabyte of text is data, not a setting: refused, with its size, before any run."""
    huge = _plan(
        plan_dir, [{"id": "a", "notebook": "ok.ipynb", "parameters": {"label": "x" * 5000}}]
    )
    with pytest.raises(
        runner.PlanError,
        match=r"runs\[0\] \(a\): parameter label is a text of 5,000 characters "
        r"\(the limit is 4,096\)",
    ):
        runner.load_plan(huge)
    many = {"id": "g", "notebook": "ok.ipynb", "grid": {"value": list(range(4))}}
    with open(plan_dir / "g.yml", "w") as f:
        yaml.safe_dump(
            {"name": "g", "dataset": "maschools", "limits": {"runs": 3}, "runs": [many]}, f
        )
    with pytest.raises(runner.PlanError, match="more than 3 runs"):
        runner.load_plan(plan_dir / "g.yml")
    raised = plan_dir / "r.yml"
    raised.write_text(
        yaml.safe_dump(
            {
                "name": "r",
                "dataset": "maschools",
                "limits": {"text": 6000},
                "runs": [{"id": "a", "notebook": "ok.ipynb", "parameters": {"label": "x" * 5000}}],
            }
        )
    )
    assert runner.load_plan(raised).runs[0].parameters["label"] == "x" * 5000
    bad = plan_dir / "b.yml"
    bad.write_text(
        yaml.safe_dump({"name": "b", "dataset": "maschools", "limits": {"text": "big"}, "runs": []})
    )
    with pytest.raises(runner.PlanError, match=r"limits\.text is a positive whole number"):
        runner.load_plan(bad)
    assert len(render._shortened("y" * 5000)) == 80
    assert render._shortened("short") == "short"
