"""Faults during a run and the runner's safety.

A kernel that dies mid-run, a cell that hangs past its timeout and a notebook that raises
are each recorded with their cause while the other runs of the plan succeed; a runner
killed at any moment leaves no half-written file and resumes with only what is missing;
the raw data are never changed; no plan value makes the runner write outside its folder.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pandas as pd
import pytest
import yaml

from analysis import runner
from analysis.core import paths
from analysis.data import synth
from analysis.runner import execute
from analysis.runner.layout import internal_dir
from tests.integration.test_runner import _notebook, _plan

ROOT = Path(__file__).resolve().parents[2]
ENV = {**os.environ, "COLUMNS": "250"}  # rich wraps at 80 columns when not on a terminal
RUN = [sys.executable, "-m", "analysis", "run"]


@pytest.fixture
def fault_dir(tmp_path):
    folder = tmp_path / "notebooks"
    folder.mkdir()
    _notebook(
        folder / "ok.ipynb",
        'value = 1\nlabel = "x"\nsleep = 0.0',
        [
            "import time\ntime.sleep(sleep)",
            "from analysis import record\nrecord.figure('double', value * 2)",
        ],
    )
    _notebook(
        folder / "fail.ipynb",
        "value = 1",
        ["x = value + 1", "raise ValueError(f'planted failure {x}')", "y = 3"],
    )
    _notebook(folder / "hang.ipynb", "seconds = 60", ["import time", "time.sleep(seconds)"])
    _notebook(
        folder / "die.ipynb",
        "value = 1",
        ["x = value + 1", "import os\nos.kill(os.getpid(), 9)", "y = 3"],
    )
    return folder


# --------------------------------------------------------------------------
# A dead kernel, a hanging cell and an exception in one plan with good runs


def test_each_fault_is_recorded_with_its_cause_and_the_rest_succeeds(fault_dir, tmp_path):
    path = _plan(
        fault_dir,
        [
            {"id": "good", "notebook": "ok.ipynb"},
            {"id": "dies", "notebook": "die.ipynb"},
            {"id": "raises", "notebook": "fail.ipynb"},
            {"id": "hangs", "notebook": "hang.ipynb", "parameters": {"seconds": 120}},
            {"id": "good2", "notebook": "ok.ipynb", "parameters": {"value": 7}},
        ],
    )
    out = tmp_path / "out"
    done = subprocess.run(
        [*RUN, str(path), "--out", str(out), "--jobs", "2", "--cell-timeout", "5"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=ENV,
        timeout=600,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    manifest = json.loads((internal_dir(out) / "manifest.json").read_text(encoding="utf-8"))
    runs = {r["id"]: r for r in manifest["runs"]}

    # every other run completed and succeeded, with its figures collected
    assert runs["good"]["status"] == runs["good2"]["status"] == "succeeded"
    figures = pd.read_csv(out / "figures.csv")
    assert dict(zip(figures["run"], figures["value"], strict=True)) == {"good": 2, "good2": 14}

    died = runs["dies"]
    assert died["status"] == "failed"
    assert died["error"]["cause"] == "kernel_died" and died["error"]["ename"] == "DeadKernelError"
    assert died["error"]["cell"] == 3  # the parameters cell, `x = value + 1`, then this one
    assert "kernel died while running cell 3" in died["error"]["evalue"]
    assert "os.kill" in died["error"]["evalue"] and "SIGKILL" in died["error"]["evalue"]
    assert died["attempts"] == 1  # a kernel that dies running a cell is not retried
    executed = nbformat.read(died["error"]["executed"], as_version=4)
    assert executed.cells[1].execution_count == 2  # the cell before it ran

    raised = runs["raises"]
    assert raised["status"] == "failed" and raised["error"]["cause"] == "exception"
    assert raised["error"]["ename"] == "ValueError"
    assert "planted failure 2" in raised["error"]["evalue"] and raised["error"]["cell"] == 3

    hung = runs["hangs"]
    assert hung["status"] == "failed" and hung["error"]["cause"] == "cell_timeout"
    assert hung["error"]["ename"] == "CellTimeoutError" and hung["error"]["cell"] == 4
    assert "timeout of 5 s" in hung["error"]["evalue"] and "time.sleep" in hung["error"]["evalue"]
    assert hung["attempts"] == 1 and hung["duration"] < 60

    # the command line names each failure, its cell and its cause
    assert "FAILED dies: notebook die.ipynb, cell 3: DeadKernelError: The kernel died" in (
        done.stdout
    )
    assert "FAILED raises: notebook fail.ipynb, cell 3: ValueError: planted failure 2" in (
        done.stdout
    )
    assert "FAILED hangs: notebook hang.ipynb, cell 4: CellTimeoutError" in done.stdout
    index = (out / "runs.html").read_text(encoding="utf-8")
    assert index.count('data-status="failed"') == 3 and "planted failure" in index
    assert index.count('data-status="succeeded"') == 2


def _gone(pid: int) -> bool:
    status = Path(f"/proc/{pid}/status")
    try:
        state = next(x for x in status.read_text().splitlines() if x.startswith("State:"))
    except (OSError, StopIteration):
        return True
    return "Z" in state  # exited; not yet reaped by a container's init


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads /proc")
def test_a_run_past_its_run_timeout_is_stopped_with_its_kernel(fault_dir, tmp_path):
    _notebook(
        fault_dir / "long.ipynb",
        "seconds = 60\npidfile = ''",
        ["import os, time\nopen(pidfile, 'w').write(str(os.getpid()))", "time.sleep(seconds)"],
    )
    pidfile = tmp_path / "kernel.pid"
    parameters = {"seconds": 300, "pidfile": str(pidfile)}
    path = _plan(fault_dir, [{"id": "long", "notebook": "long.ipynb", "parameters": parameters}])
    manifest = runner.run_plan(
        runner.load_plan(path), out_dir=tmp_path / "out", run_timeout=20, render=False
    )
    run = manifest["runs"][0]
    assert run["status"] == "failed" and run["error"]["cause"] == "run_timeout"
    assert run["error"]["cell"] == 4 and "time.sleep" in run["error"]["evalue"]
    assert run["duration"] < 60
    nbformat.read(tmp_path / "out" / run["output"], as_version=4)  # the partial notebook, whole
    kernel = int(pidfile.read_text())
    deadline = time.monotonic() + 10
    while not _gone(kernel) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _gone(kernel), "the run's kernel outlived it"


class _FakePapermill:
    """Stands in for papermill.execute_notebook: writes a notebook whose first ``started``
    cells ran, then raises the next exception of ``errors`` (or returns)."""

    def __init__(self, started: int, errors: list[BaseException | None]):
        self.started, self.errors, self.calls = started, list(errors), 0

    def __call__(self, notebook, output, **kwargs):
        self.calls += 1
        nb = nbformat.v4.new_notebook()
        for i in range(3):
            cell = nbformat.v4.new_code_cell(f"step_{i}()")
            ran = i < self.started
            cell.metadata["papermill"] = {
                "start_time": "2025-01-01T00:00:00" if ran else None,
                "status": "completed" if ran else "pending",
            }
            cell.execution_count = i + 1 if ran and i < self.started - 1 else None
            nb.cells.append(cell)
        nbformat.write(nb, output)
        error = self.errors.pop(0)
        if error is not None:
            raise error


@pytest.mark.parametrize(
    ("started", "errors", "status", "attempts", "cause", "cell"),
    [
        # the kernel does not start: one retry, which succeeds
        (0, [RuntimeError("Kernel didn't respond in 1 seconds"), None], "succeeded", 2, None, None),
        # it does not start twice: failed after one retry, not more
        (0, [RuntimeError("Kernel didn't respond")] * 2, "failed", 2, "kernel_start", None),
        # the kernel dies in cell 2 after cell 1 ran: not retried
        (2, ["dead", None], "failed", 1, "kernel_died", 2),
        # a cell times out: not retried
        (3, ["timeout", None], "failed", 1, "cell_timeout", 3),
        # anything else before a cell ran is not a kernel start failure: not retried
        (0, [FileNotFoundError("no such notebook"), None], "failed", 1, "runner_error", None),
    ],
)
def test_retry_policy(tmp_path, monkeypatch, started, errors, status, attempts, cause, cell):
    import papermill
    from nbclient.exceptions import CellTimeoutError, DeadKernelError

    made = {"dead": DeadKernelError("Kernel died"), "timeout": CellTimeoutError("timed out")}
    fake = _FakePapermill(started, [made.get(e, e) if isinstance(e, str) else e for e in errors])
    monkeypatch.setattr(papermill, "execute_notebook", fake)
    job = {
        "notebook": "unused.ipynb",
        "output": str(tmp_path / "out" / "r.ipynb"),
        "parameters": {},
        "cell_timeout": 5,
        "start_timeout": 1,
    }
    outcome = execute.execute(job)
    assert (outcome["status"], outcome["attempts"], fake.calls) == (status, attempts, attempts)
    error = outcome["error"] or {}
    assert error.get("cause") == cause and error.get("cell") == cell
    if cause == "kernel_start":
        assert "did not start (after one retry)" in error["evalue"]
    if cause == "kernel_died":
        assert "while running cell 2 ('step_1()')" in error["evalue"]
    assert (tmp_path / "out" / "r.ipynb").is_file()  # the executed notebook is kept, whole
    assert not list((tmp_path / "out").glob("*.tmp*"))


# --------------------------------------------------------------------------
# Killed at any moment: no half-written file, and a re-run finishes only what is missing


def _assert_whole(out: Path) -> list[Path]:
    """Every file under ``out`` with a final name parses completely; returns the leftovers
    (``*.tmp*``), which only the next run may clean up."""
    leftovers = []
    every = [p for root in (out, internal_dir(out)) for p in root.rglob("*") if p.is_file()]
    for path in sorted(every):
        name = path.name
        if name.endswith(".tmp") or name.endswith(".tmp.ipynb"):
            leftovers.append(path)
        elif name.endswith(".ipynb"):
            nbformat.validate(nbformat.read(path, as_version=4))
        elif name.endswith(".json"):
            json.loads(path.read_text(encoding="utf-8"))
        elif name.endswith(".html"):
            assert path.read_text(encoding="utf-8").rstrip().endswith("</html>"), path
        elif name.endswith(".parquet"):
            pd.read_parquet(path)
        elif name.endswith(".csv"):
            pd.read_csv(path)
        else:
            raise AssertionError(f"unexpected file {path}")
    return leftovers


def _kill_when(args: list[str], moment, what: str, timeout: float = 300) -> None:
    """Start the runner, SIGKILL its whole process group as soon as ``moment()`` holds."""
    proc = subprocess.Popen(
        args,
        cwd=ROOT,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + timeout
    try:
        while not moment():
            if proc.poll() is not None:
                pytest.fail(f"the runner finished before the moment to kill it: {what}")
            if time.monotonic() > deadline:
                pytest.fail(f"the moment never came: {what}")
            time.sleep(0.02)
        assert proc.poll() is None, f"finished before the kill: {what}"
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def _cache_files(out: Path) -> dict[str, bytes]:
    return {p.stem: p.read_bytes() for p in (internal_dir(out) / ".cache").glob("*.json")}


@pytest.mark.slow
def test_killed_at_any_moment_leaves_whole_files_and_resumes(fault_dir, tmp_path):
    runs = [
        {"id": f"r{i}", "notebook": "ok.ipynb", "parameters": {"value": i, "sleep": 1.0}}
        for i in range(3)
    ]
    path = _plan(fault_dir, runs)
    out = tmp_path / "out"
    command = [sys.executable, "-m", "analysis", "run", str(path), "--out", str(out)]

    # 1. during the first run: its notebook is being executed, nothing finished yet
    _kill_when(
        [*command, "--jobs", "1"],
        lambda: any((internal_dir(out) / "notebooks").glob("*.tmp.ipynb")),
        "first run executing",
    )
    leftovers = _assert_whole(out)
    assert leftovers  # the run's unfinished notebook, under its temporary name
    assert not (internal_dir(out) / "manifest.json").exists()  # nothing claims a finished plan
    before = _cache_files(out)

    # 2. between runs: right after one more run finished
    _kill_when(
        [*command, "--jobs", "1"],
        lambda: len(list((internal_dir(out) / ".cache").glob("*.json"))) > len(before),
        "a run just finished",
    )
    _assert_whole(out)
    assert not (internal_dir(out) / "manifest.json").exists()
    finished = _cache_files(out)
    assert before.items() <= finished.items()  # what was finished stays untouched
    assert 0 < len(finished) < 3

    # the re-run executes only what is missing; the finished runs are cached, not repeated
    manifest = runner.run_plan(runner.load_plan(path), out_dir=out, jobs=2)
    status = {r["id"]: r["status"] for r in manifest["runs"]}
    assert {k for k, v in status.items() if v == "cached"} == set(finished)
    assert {k for k, v in status.items() if v == "succeeded"} == {f"r{i}" for i in range(3)} - set(
        finished
    )
    assert finished.items() <= _cache_files(out).items()
    assert not _assert_whole(out)  # the next run deleted the leftovers
    folders = (out / "html", internal_dir(out) / "html")  # reports; pages with code
    pages = sorted(p.name for f in folders for p in f.glob("*.html"))
    assert len(pages) == 6

    # 3. while rendering: the HTML is being (re)written
    for page in [p for f in folders for p in f.glob("*.html")]:
        page.unlink()
    index_before = (out / "index.html").read_bytes()
    _kill_when(command, lambda: any(p for f in folders for p in f.glob("*.html")), "rendering")
    _assert_whole(out)
    assert (out / "index.html").read_bytes() == index_before  # the old index, whole
    manifest = runner.run_plan(runner.load_plan(path), out_dir=out, jobs=2)
    assert all(r["status"] == "cached" for r in manifest["runs"])
    assert sorted(p.name for f in folders for p in f.glob("*.html")) == pages
    assert not _assert_whole(out)


# --------------------------------------------------------------------------
# The raw data are read-only


def _snapshot(folder: Path) -> dict[str, tuple[str, int, int]]:
    return {
        str(p.relative_to(folder)): (
            hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "dir",
            p.stat().st_mtime_ns,
            stat.S_IMODE(p.stat().st_mode),
        )
        for p in sorted(folder.rglob("*"))
    }


@pytest.fixture
def project_home(tmp_path):
    """A project folder of its own: the real config and notebooks, a small generated
    province in data/raw; its modes are restored afterwards so it can be deleted."""
    home = tmp_path / "home"
    home.mkdir()
    (home / "config").symlink_to(ROOT / "config")
    (home / "notebooks").symlink_to(ROOT / "notebooks")
    raw = home / "data" / "raw" / "thai_nguyen_synthetic"
    synth.write(synth.generate(seed=11, profile="realistic", scale=0.1), raw)
    yield home
    for path in [home / "data" / "raw", *(home / "data" / "raw").rglob("*")]:
        if not path.is_symlink():
            path.chmod(0o755 if path.is_dir() else 0o644)


@pytest.mark.slow
def test_ingest_and_run_never_change_the_raw_data(project_home):
    raw = project_home / "data" / "raw"
    for path in sorted(raw.rglob("*"), reverse=True):
        path.chmod(0o555 if path.is_dir() else 0o444)
    raw.chmod(0o555)
    before = _snapshot(raw)
    assert any(name.endswith(".xlsx") for name in before) and "thai_nguyen_synthetic" in before
    env = {**ENV, "WORKBENCH_HOME": str(project_home)}
    env.pop("WORKBENCH_PROCESSED", None)

    def workbench(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "analysis", *args],
            capture_output=True,
            text=True,
            cwd=project_home,
            env=env,
            timeout=900,
        )

    ingested = workbench("ingest", "data/raw/thai_nguyen_synthetic")
    assert ingested.returncode == 0, ingested.stdout + ingested.stderr
    assert (project_home / "data" / "processed" / "panel.parquet").is_file()
    ran = workbench("run", "default", "--only", "data_quality", "--jobs", "1")
    assert ran.returncode == 0, ran.stdout + ran.stderr
    manifest = json.loads(
        (internal_dir(project_home / "reports" / "default") / "manifest.json").read_text(
            encoding="utf-8"
        )
    )
    assert [r["status"] for r in manifest["runs"]] == ["succeeded"]
    assert _snapshot(raw) == before  # same files, same bytes, same times, same modes


# --------------------------------------------------------------------------
# No plan value makes the runner write outside its output folder


@pytest.mark.parametrize("name", ["../../x", "/tmp/x", "a/b", "a\\b", "..", "", "x.y", 7])
def test_plan_name_must_be_a_simple_name(fault_dir, name):
    path = fault_dir / "p.yml"
    path.write_text(
        yaml.safe_dump({"name": name, "dataset": "maschools", "runs": []}), encoding="utf-8"
    )
    with pytest.raises(runner.PlanError, match=r"p\.yml: key 'name' is .*simple name"):
        runner.load_plan(path)


def test_cli_refuses_an_escaping_plan_name(fault_dir, tmp_path):
    path = fault_dir / "escape.yml"
    path.write_text(
        yaml.safe_dump(
            {
                "name": "../../escaped",
                "dataset": "maschools",
                "runs": [{"id": "a", "notebook": "ok.ipynb"}],
            }
        ),
        encoding="utf-8",
    )
    done = subprocess.run(
        [sys.executable, "-m", "analysis", "run", str(path)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=ENV,
    )
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "Plan refused:" in done.stderr and "escape.yml" in done.stderr
    assert "key 'name'" in done.stderr
    assert not (ROOT / "escaped").exists() and not (ROOT.parent / "escaped").exists()


def test_run_ids_and_grid_values_stay_inside(fault_dir, tmp_path):
    grid = {"label": ["../../x", "/tmp/evil"]}
    path = _plan(fault_dir, [{"id": "../../evil", "notebook": "ok.ipynb", "grid": grid}])
    out = tmp_path / "deep" / "er" / "out"
    out.parent.mkdir(parents=True)  # so that ../../evil would land in tmp_path/deep
    before = set(tmp_path.rglob("*"))
    manifest = runner.run_plan(runner.load_plan(path), out_dir=out, jobs=2)
    assert [r["status"] for r in manifest["runs"]] == ["succeeded"] * 2
    created = set(tmp_path.rglob("*")) - before
    roots = (out.resolve(), internal_dir(out).resolve())  # the shared folder and its twin
    outside = sorted(p for p in created if not any(p.resolve().is_relative_to(r) for r in roots))
    assert created and not outside, outside
    assert not Path("/tmp/evil.ipynb").exists() and not Path("/tmp/evil]").exists()
    names = sorted(p.name for p in (internal_dir(out) / "notebooks").iterdir())
    assert names == ["_._.._evil_label_.._.._x_.ipynb", "_._.._evil_label__tmp_evil_.ipynb"]
    assert len(list((out / "html").glob("*.html"))) == 2  # reports; the code pages beside
    assert len(list((internal_dir(out) / "html").glob("*.code.html"))) == 2


def test_every_output_path_is_checked(fault_dir, tmp_path, monkeypatch):
    plan = runner.load_plan(_plan(fault_dir, [{"id": "../../evil", "notebook": "ok.ipynb"}]))
    for run in plan.runs:  # as if safe_name let '..' through
        run.stem = run.id
    out = tmp_path / "a" / "b" / "out"
    with pytest.raises(runner.PlanError, match=r"outside the output folder"):
        runner.run_plan(plan, out_dir=out)
    assert not (tmp_path / "a").exists()  # refused before anything was written


def test_run_ids_that_would_share_a_file_are_refused(fault_dir):
    path = _plan(
        fault_dir,
        [{"id": "a/b", "notebook": "ok.ipynb"}, {"id": "a_b", "notebook": "ok.ipynb"}],
    )
    with pytest.raises(runner.PlanError, match=r"'a/b' and 'a_b' would write the same files"):
        runner.load_plan(path)


def test_default_output_folder_is_reports_plan_name(fault_dir, monkeypatch, tmp_path):
    plan = runner.load_plan(_plan(fault_dir, [{"id": "a", "notebook": "ok.ipynb"}], "myplan"))
    assert runner.default_out_dir(plan) == paths.reports_dir() / "myplan"
    plan.name = "../outside"  # a plan built in code is checked too
    with pytest.raises(runner.PlanError, match=r"key 'name' is '../outside'"):
        runner.run_plan(plan)
