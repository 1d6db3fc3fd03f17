"""The main job end to end, and nbval over every notebook."""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import analysis
from analysis import runner
from tests.conftest import run_default as _run_default

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_default_plan_end_to_end(small_province, default_run):
    out, done = default_run
    assert done.returncode == 0, done.stdout + done.stderr
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    runs = manifest["runs"]
    assert len(runs) == 6 + 9  # six notebooks and one brief per district
    assert all(r["status"] == "succeeded" for r in runs), [
        r for r in runs if r["status"] != "succeeded"
    ]
    index = (out / "index.html").read_text(encoding="utf-8")
    for run in runs:
        stem = runner.safe_name(run["id"])
        for kind in ("code", "report"):
            page = out / "html" / f"{stem}.{kind}.html"
            assert page.is_file(), page
            assert f"html/{stem}.{kind}.html" in index
        report = (out / "html" / f"{stem}.report.html").read_text(encoding="utf-8")
        assert not re.search(r"<script[^>]*src=\"https?://", report)  # viewable offline
        assert "data:image/png;base64" in report
    code = (out / "html" / "links.code.html").read_text(encoding="utf-8")
    report = (out / "html" / "links.report.html").read_text(encoding="utf-8")
    assert "from_spec" in code and "from_spec" not in report
    assert "Kết quả đánh giá" in index  # Vietnamese by default
    import pandas as pd

    figures = pd.read_csv(out / "figures.csv")
    assert set(figures["run"]) == {r["id"] for r in runs}
    assert (out / "figures.parquet").is_file()
    # warm re-run: nothing changed, everything cached
    again = _run_default(small_province, out)
    assert again.returncode == 0
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert all(r["status"] == "cached" for r in manifest["runs"])


def _table_hash(frame) -> str:
    rows = frame.astype(str).sort_values(list(frame.columns)).to_csv(index=False)
    return hashlib.sha256(rows.encode()).hexdigest()


@pytest.mark.slow
def test_default_plan_is_reproducible(small_province, default_run, tmp_path):
    """A second run from a clean state gives the same collected result tables."""
    import pandas as pd

    first, done = default_run
    assert done.returncode == 0, done.stdout + done.stderr
    second = tmp_path / "again"
    plan = runner.load_plan("default", processed=small_province)
    manifest = runner.run_plan(
        plan, out_dir=second, jobs=2, processed=small_province, force=True, render=False
    )
    assert all(r["status"] == "succeeded" for r in manifest["runs"])
    previous = json.loads((first / "manifest.json").read_text(encoding="utf-8"))
    # the same runs of the same notebooks, parameters, inputs and seeds
    same = ("id", "notebook_sha256", "parameters", "inputs", "seeds")
    assert [[r[k] for k in same] for r in manifest["runs"]] == [
        [r[k] for k in same] for r in previous["runs"]
    ]
    a, b = (pd.read_parquet(folder / "figures.parquet") for folder in (first, second))
    assert len(a) > 50
    differ = a.merge(b, how="outer", indicator=True).query("_merge != 'both'")
    assert differ.empty, differ.to_string()
    assert _table_hash(a) == _table_hash(b)
    assert (first / "figures.csv").read_bytes() == (second / "figures.csv").read_bytes()


@pytest.mark.slow
def test_nbval_over_the_notebooks(small_province):
    env = {**os.environ, "WORKBENCH_PROCESSED": str(small_province)}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "--nbval-lax",
            "--nbval-kernel-name",
            analysis.KERNEL_NAME,
            "--nbval-sanitize-with",
            str(ROOT / "tests" / "nbval_sanitize.cfg"),
            str(ROOT / "notebooks"),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=1200,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "passed" in done.stdout
