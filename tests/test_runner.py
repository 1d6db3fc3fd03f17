"""The plan runner: parameter validation, cache, failure isolation, timeouts, resume."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat as nbf
import pytest
import yaml

from analysis import runner

ROOT = Path(__file__).resolve().parents[1]


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
    _notebook(
        tmp_path / "fail.ipynb",
        "value = 1",
        ["x = value + 1", "raise ValueError(f'planted failure {x}')", "y = 3"],
    )
    _notebook(tmp_path / "hang.ipynb", "seconds = 60", ["import time", "time.sleep(seconds)"])
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


def test_failure_isolation_and_cell_timeout(plan_dir, tmp_path):
    path = _plan(
        plan_dir,
        [
            {"id": "good", "notebook": "ok.ipynb"},
            {"id": "bad", "notebook": "fail.ipynb"},
            {"id": "slow", "notebook": "hang.ipynb", "parameters": {"seconds": 60}},
            {"id": "good2", "notebook": "ok.ipynb", "parameters": {"value": 7}},
        ],
    )
    out = tmp_path / "out"
    manifest = runner.run_plan(runner.load_plan(path), out_dir=out, jobs=2, cell_timeout=5)
    status = {r["id"]: r for r in manifest["runs"]}
    assert status["good"]["status"] == status["good2"]["status"] == "succeeded"
    bad = status["bad"]
    assert bad["status"] == "failed"
    assert bad["error"]["ename"] == "ValueError" and "planted failure 2" in bad["error"]["evalue"]
    assert bad["error"]["cell"] == 3  # the parameters cell, the injected one, then this
    assert Path(bad["error"]["executed"]).is_file()
    slow = status["slow"]
    assert (
        slow["status"] == "failed" and "Timeout" in slow["error"]["ename"] + slow["error"]["evalue"]
    )
    assert slow["duration"] < 50
    index = (out / "index.html").read_text(encoding="utf-8")
    assert 'data-status="failed"' in index and "planted failure" in index
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "analysis",
            "run",
            str(path),
            "--out",
            str(out),
            "--cell-timeout",
            "5",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert done.returncode == 1
    assert "FAILED bad" in done.stdout and "cell 3" in done.stdout


def test_resume_after_interruption(plan_dir, tmp_path):
    runs = [
        {"id": f"r{i}", "notebook": "ok.ipynb", "parameters": {"value": i, "sleep": 4.0}}
        for i in range(3)
    ]
    path = _plan(plan_dir, runs)
    out = tmp_path / "out"
    proc = subprocess.Popen(
        [sys.executable, "-m", "analysis", "run", str(path), "--out", str(out), "--jobs", "1"],
        cwd=ROOT,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    cache = out / ".cache"
    deadline = time.time() + 120
    while time.time() < deadline and not (cache.is_dir() and any(cache.glob("*.json"))):
        time.sleep(0.3)
    os.killpg(proc.pid, signal.SIGKILL)  # the runner and its kernels, mid-plan
    proc.wait()
    finished = {p.stem for p in cache.glob("*.json")}
    assert finished and len(finished) < 3
    assert not (out / "manifest.json").exists()  # nothing claims a finished plan
    manifest = runner.run_plan(runner.load_plan(path), out_dir=out, jobs=1, render=False)
    status = {r["id"]: r["status"] for r in manifest["runs"]}
    assert {k for k, v in status.items() if v == "cached"} == finished
    assert all(v in {"cached", "succeeded"} for v in status.values())
    assert not list(out.rglob("*.tmp*"))


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
    saved = json.loads((tmp_path / "o" / "manifest.json").read_text(encoding="utf-8"))
    assert saved["runs"][0]["status"] == "succeeded"
