"""The main job end to end: the default plan, and every notebook repeated on its own."""

from __future__ import annotations

import concurrent.futures as cf
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import analysis
from analysis import runner
from analysis.report import record
from analysis.runner import layout
from analysis.runner.layout import internal_dir
from tests.conftest import run_default as _run_default
from tests.integration.test_safety import read_page

# with pytest-xdist, every test of the default plan's run goes to one worker (built once)
pytestmark = pytest.mark.xdist_group("default_run")

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_default_plan_end_to_end(small_province, default_run, tmp_path):
    out, done = default_run
    assert done.returncode == 0, done.stdout + done.stderr
    manifest = json.loads((internal_dir(out) / "manifest.json").read_text(encoding="utf-8"))
    runs = manifest["runs"]
    # seven notebooks (the inspection one internal: it names schools), one brief per district
    assert len(runs) == 7 + 9
    assert [r["id"] for r in runs if r.get("internal")] == ["inspection"]
    assert all(r["status"] == "succeeded" for r in runs), [
        r for r in runs if r["status"] != "succeeded"
    ]
    log = (out / "runs.html").read_text(encoding="utf-8")
    for run in runs:
        stem = Path(run["output"]).stem
        shared = internal_dir(out) if run.get("internal") else out
        for kind, folder in (("code", internal_dir(out)), ("report", shared)):
            page = folder / "html" / f"{stem}.{kind}.html"
            assert page.is_file(), page
            assert layout.relative(out, page) in log  # the run log links either folder
        report = (shared / "html" / f"{stem}.report.html").read_text(encoding="utf-8")
        assert not re.search(r"<script[^>]*src=\"https?://", report)  # viewable offline
        assert "data:image/png;base64" in report
    code = (internal_dir(out) / "html" / "links.code.html").read_text(encoding="utf-8")
    report = (out / "html" / "links.report.html").read_text(encoding="utf-8")
    assert "from_spec" in code and "from_spec" not in report
    assert "Nhật ký chạy" in log  # Vietnamese by default
    import pandas as pd

    figures = pd.read_csv(out / "figures.csv")
    assert set(figures["run"]) == {r["id"] for r in runs if not r.get("internal")}
    assert (out / "figures.parquet").is_file()
    # test_safety's hostile plan leaves 02_indicators out because its pages show no school,
    # district or province name as text; should one appear, put it back in that plan
    names = set(pd.read_parquet(small_province / "units.parquet")["unit_name"])
    names |= set(pd.read_parquet(small_province / "schools.parquet")["school_name"])
    # the page's footer names the dataset by its spec's title (config, not data): not a leak
    title = manifest["dataset_title"]["vi"]
    for kind, folder in (("report", out), ("code", internal_dir(out))):
        _, text, _ = read_page(folder / "html" / f"indicators.{kind}.html")
        text = text.replace(title, "")
        shown = sorted(n for n in names if n in text)
        where = "see tests/integration/test_safety.py"
        assert not shown, f"indicators.{kind}.html shows names ({where}): {shown}"
    # warm re-run: nothing changed, everything cached, the same figures table byte for byte;
    # on a copy of the plan's folder, which other workers' tests are reading meanwhile
    table = (out / "figures.csv").read_bytes()
    copy = shutil.copytree(out, tmp_path / out.name)
    shutil.copytree(internal_dir(out), internal_dir(copy))
    again = _run_default(small_province, copy)
    assert again.returncode == 0, again.stderr[-2000:]
    manifest = json.loads((internal_dir(copy) / "manifest.json").read_text(encoding="utf-8"))
    statuses = {r["id"]: r["status"] for r in manifest["runs"]}
    assert set(statuses.values()) == {"cached"}, statuses
    assert (copy / "figures.csv").read_bytes() == table


# --------------------------------------------------------------------------
# Every notebook on its own, with its defaults: it runs top to bottom as an analyst would
# run it, and gives the plan's results again (reproducibility)


def _repeats(plan) -> dict[str, tuple[Path, dict]]:
    """What to execute again, by the plan run it repeats: one run of each entry of the plan
    (a grid repeats the same code for other units), the one whose parameters are the
    notebook's defaults when there is one (it then runs with nothing injected), else the
    first with the parameters that differ. Every notebook must have a defaults run."""
    repeats: dict[str, tuple[Path, dict]] = {}
    entries: dict[str, list] = {}
    for run in plan.runs:
        entries.setdefault(run.entry.split(" (")[0], []).append(run)
    for runs in entries.values():
        options = []
        for run in runs:
            defaults = runner.notebook_parameters(run.notebook)
            given = {k: v for k, v in run.parameters.items() if k != "processed"}
            options.append((run, {k: v for k, v in given.items() if defaults.get(k) != v}))
        run, changed = min(options, key=lambda option: len(option[1]))
        repeats[run.id] = (run.notebook, changed)
    plain = {notebook.name for notebook, changed in repeats.values() if not changed}
    missing = [nb.name for nb in sorted((ROOT / "notebooks").glob("*.ipynb"))]
    missing = [name for name in missing if name not in plain]
    assert not missing, f"no run of the default plan has these notebooks' defaults: {missing}"
    return repeats


def _papermill(notebook: Path, output: Path, parameters: dict, env: dict) -> str:
    """Execute a notebook the way JupyterLab's "run all" does: in its folder, on the
    project kernel, nothing injected unless ``parameters``; returns the error, if any."""
    command = [sys.executable, "-m", "papermill", str(notebook), str(output)]
    command += ["-k", analysis.KERNEL_NAME, "--cwd", str(notebook.parent), "--no-progress-bar"]
    if parameters:
        command += ["-y", json.dumps(parameters)]
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=1200)
    return "" if done.returncode == 0 else f"{notebook.name}: {done.stderr[-3000:]}"


SNAKE = re.compile(r"\b[a-z]+(?:_[a-z0-9]+)+\b")  # a code name: teachers_trained_cds


@pytest.mark.slow
def test_front_page_opens_on_the_province_for_a_reader(small_province, default_run):
    """index.html is the reader's page: the province against its targets by sector, the
    districts, maturity, training, evaluation and quality in words, every brief linked by
    its district's name; no code names; the run log is its own page."""
    import pandas as pd
    import yaml

    out, done = default_run
    assert done.returncode == 0, done.stdout + done.stderr
    raw, text, live = read_page(out / "index.html")
    assert not live, live  # no script, no event handler: nothing on the page runs
    assert raw.startswith("<!doctype html>") and '<html lang="vi">' in raw
    title = yaml.safe_load((ROOT / "config/plans/default.yml").read_text("utf-8"))["title"]
    named = title["vi"].replace("{dataset}", "Tỉnh Thái Nguyên (dữ liệu mô phỏng)")
    assert "{dataset}" in title["vi"] and f"<title>{named}</title>" in raw  # names the dataset
    assert not SNAKE.findall(text), SNAKE.findall(text)[:10]
    for heading in (
        "Nội ngành",
        "Ngoại ngành",
        "Xếp hạng các huyện",
        "Quyết định 4725",
        "Bồi dưỡng giáo viên",
        "Đánh giá chương trình",
        "Chất lượng số liệu",
    ):
        assert heading in text, heading
    # every indicator with a target in the definitions has its row, named as defined
    definitions = yaml.safe_load((ROOT / "config/indicators.yml").read_text("utf-8"))
    targeted = [d for d in definitions["indicators"] if d.get("targets")]
    headline = raw[
        raw.index('<table id="headline">') : raw.index("</table>", raw.index('id="headline"'))
    ]
    assert headline.count('<span class="status"') == len(targeted)
    for d in targeted:
        assert d["name"]["vi"] in headline, d["id"]
    assert "Không đạt" in headline  # the 2025 targets not reached in 2025 are missed
    # the briefs, by the names of the districts of the plan's grid
    units = pd.read_parquet(small_province / "units.parquet")
    manifest = json.loads((internal_dir(out) / "manifest.json").read_text(encoding="utf-8"))
    names = dict(zip(units["unit_id"].astype(str), units["unit_name"], strict=True))
    briefs = [r for r in manifest["runs"] if r["notebook"] == "04_district_brief.ipynb"]
    for run in briefs:
        name = names[str(run["parameters"]["unit"])]
        href = f"html/district_brief-{runner.slug(name)}.report.html"  # named by the unit
        assert f'<a href="{href}">{name}</a>' in raw
        assert Path(run["output"]).name == f"district_brief-{runner.slug(name)}.ipynb"
    assert '<a href="html/district_brief-huyen-dai-tu.report.html">Huyện Đại Từ</a>' in raw
    assert text.count("hạng ") >= len(briefs)  # one rank per district and indicator
    assert '<a href="runs.html">' in raw
    # the evaluation says its interval and the few clusters it rests on
    figures = pd.read_csv(out / "figures.csv")
    evaluation = figures[figures["run"] == "evaluation"].set_index("name")["value"]
    n = int(float(evaluation["n_clusters"]))
    assert f"dựa trên {n} đơn vị" in text and f"Chỉ có {n} đơn vị" in text
    # the page's tables are downloads beside it
    for name in ("headline", "ranking", "maturity", "training"):
        assert (out / "data" / "front" / f"{name}.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    # each reader page: a real title, its language, a link back, no warnings
    for run in manifest["runs"]:
        page = out / "html" / f"{Path(run['output']).stem}.report.html"
        if not page.is_file():
            continue
        raw = page.read_text(encoding="utf-8")
        assert '<html lang="vi">' in raw and "<title>Notebook</title>" not in raw, page
        assert named in raw[: raw.index("</title>")], page
        assert 'href="../index.html"' in raw, page
        assert 'data-mime-type="application/vnd.jupyter.stderr"' not in raw, page
        # what made the page, in the reader's words: plan, data, school year, district
        footer = re.search(r'<p class="cds-provenance"><small>(.*?)</small>', raw, re.S)
        assert footer and "Trang này được tạo từ kế hoạch" in footer.group(1), page
        assert not SNAKE.findall(footer.group(1)), (page, footer.group(1))
        if "unit" in run["parameters"]:
            assert names[str(run["parameters"]["unit"])] in footer.group(1)
            assert "năm học 2024–2025" in footer.group(1)
        code = (internal_dir(out) / "html" / page.name.replace(".report.", ".code.")).read_text(
            encoding="utf-8"
        )
        assert "Tham số: " in code, page.name  # the page with code lists every parameter


@pytest.mark.slow
def test_every_notebook_runs_alone_and_repeats_the_plans_results(
    small_province, default_run, tmp_path
):
    """Each notebook executed on its own from a clean state (no shared cache, no runner)
    runs without an error and records exactly the figures and tables of the plan run it
    repeats; the manifest records what a repeat recomputes (notebook hash, parameters,
    inputs, seeds). Replaces a second run of the whole plan: the nine briefs differ only
    by their unit, and one of them is repeated."""
    first, done = default_run
    assert done.returncode == 0, done.stdout + done.stderr
    plan = runner.load_plan("default", processed=small_province)
    manifest = json.loads((internal_dir(first) / "manifest.json").read_text(encoding="utf-8"))
    recorded = {r["id"]: r for r in manifest["runs"]}
    inputs = runner.inputs_record(plan.dataset, small_province)
    for run in plan.runs:
        rec = recorded[run.id]
        # Judged without the runner's own helpers: the notebook's bytes hashed here, and the
        # seeds as literals (no notebook of the default plan declares a seed parameter, so
        # the hash seed is all that fixes a run's randomness).
        digest = hashlib.sha256(Path(run.notebook).read_bytes()).hexdigest()
        assert rec["notebook_sha256"] == digest, run.id
        assert rec["parameters"] == json.loads(json.dumps(run.parameters)), run.id
        assert rec["seeds"] == {"PYTHONHASHSEED": "0"}, run.id
        assert rec["inputs"] == inputs, run.id

    env = {**os.environ, "WORKBENCH_PROCESSED": str(small_province)}
    env["PYTHONHASHSEED"] = runner.HASH_SEED  # as every run of the plan
    env.pop("WORKBENCH_CACHE", None)  # computed afresh, not read from the plan's cache
    repeats = _repeats(plan)
    outputs = {run_id: tmp_path / f"{runner.safe_name(run_id)}.ipynb" for run_id in repeats}

    def execute(run_id: str) -> str:
        notebook, parameters = repeats[run_id]
        return _papermill(notebook, outputs[run_id], parameters, env)

    with cf.ThreadPoolExecutor(max_workers=2) as pool:
        errors = list(pool.map(execute, repeats))
    assert not any(errors), "\n".join(e for e in errors if e)

    differ, compared = [], 0
    for run_id, output in outputs.items():
        before = first / recorded[run_id]["output"]
        for read in (record.read, record.read_tables):
            a, b = read(before), read(output)
            compared += len(a)
            if a != b:
                differ.append(f"{run_id}: {read.__name__} differ")
    assert compared > 50
    assert not differ, differ


@pytest.mark.slow
def test_nbval_over_the_notebooks(small_province):
    """nbval in lax mode over notebooks/ on the project kernel (issue 5): every notebook runs
    top to bottom as saved, with the sanitize file for volatile output."""
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
    assert " passed" in done.stdout and "failed" not in done.stdout, done.stdout[-2000:]
