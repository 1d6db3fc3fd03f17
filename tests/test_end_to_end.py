"""The main job end to end, and nbval over every notebook."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import analysis
from analysis import ingest, runner, synth

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def small_province(tmp_path_factory):
    raw = tmp_path_factory.mktemp("raw_small")
    synth.write(synth.generate(seed=5, profile="realistic", scale=0.15), raw)
    processed = tmp_path_factory.mktemp("processed_small")
    ingest.ingest(raw, out_dir=processed)
    return processed


@pytest.mark.slow
def test_default_plan_end_to_end(small_province, tmp_path):
    out = tmp_path / "default"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "analysis",
            "run",
            "default",
            "--processed",
            str(small_province),
            "--out",
            str(out),
            "--jobs",
            "2",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=1200,
    )
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
    again = subprocess.run(
        [
            sys.executable,
            "-m",
            "analysis",
            "run",
            "default",
            "--processed",
            str(small_province),
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=600,
    )
    assert again.returncode == 0
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert all(r["status"] == "cached" for r in manifest["runs"])


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
