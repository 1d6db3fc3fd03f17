"""Shared fixtures: generated provinces and their ingested tables (built once per run)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from filelock import FileLock

from analysis.data import ingest, synth

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True, scope="session")
def _project_home():
    os.environ.setdefault("WORKBENCH_HOME", str(ROOT))


def built_once(tmp_path_factory, name: str, build: Callable[[Path], dict]) -> tuple[Path, dict]:
    """A folder ``name`` built by ``build(folder)`` once for the whole run, and what it returned.

    Under pytest-xdist every worker is its own session, so a session fixture is built
    once per worker: the default plan ran twice, a few minutes of the suite. The
    pattern pytest-xdist documents instead: the workers share their parent temporary
    folder, the first to take the lock builds, the others wait and read the record.
    (``--dist loadgroup`` no longer keeps a group on one worker with pytest 9.2:
    pytest-xdist issue 1386.) A build that failed leaves no record and is redone.
    """
    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent
    folder, record = root / name, root / f"{name}.built.json"
    with FileLock(str(root / f"{name}.lock")):
        if record.is_file():
            return folder, json.loads(record.read_text(encoding="utf-8"))
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        result = build(folder)
        record.write_text(json.dumps(result), encoding="utf-8")
    return folder, result


def _province(tmp_path_factory, profile: str):
    out = tmp_path_factory.mktemp(f"raw_{profile}")
    province = synth.generate(seed=7, profile=profile)
    synth.write(province, out)
    return province, out


@pytest.fixture(scope="session")
def clean_province(tmp_path_factory):
    return _province(tmp_path_factory, "clean")


@pytest.fixture(scope="session")
def realistic_province(tmp_path_factory):
    return _province(tmp_path_factory, "realistic")


@pytest.fixture(scope="session")
def messy_province(tmp_path_factory):
    return _province(tmp_path_factory, "messy")


@pytest.fixture(scope="session")
def realistic_ingested(realistic_province, tmp_path_factory):
    province, raw = realistic_province
    out = tmp_path_factory.mktemp("processed_realistic")
    return province, ingest.ingest(raw, out_dir=out), out


# --------------------------------------------------------------------------
# The default plan on a small province (the main job, end to end)


def _small_province(folder: Path) -> dict:
    synth.write(synth.generate(seed=5, profile="realistic", scale=0.15), folder / "raw")
    ingest.ingest(folder / "raw", out_dir=folder / "processed")
    return {}


@pytest.fixture(scope="session")
def small_province(tmp_path_factory):
    """The small province's processed tables (built once for all workers; read only)."""
    folder, _ = built_once(tmp_path_factory, "small_province", _small_province)
    return folder / "processed"


def run_default(processed: Path, out: Path, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "analysis",
            "run",
            "default",
            "--processed",
            str(processed),
            "--out",
            str(out),
            *extra,
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=1200,
    )


@pytest.fixture(scope="session")
def default_run(small_province, tmp_path_factory):
    """The default plan on the small province, run once from a clean state.

    Shared by the end-to-end, reproducibility, privacy and browser tests: it is the
    most expensive fixture of the suite. Tests must not write into its folder.
    """

    def build(folder: Path) -> dict:
        done = run_default(small_province, folder / "default", "--jobs", "2")
        return {"args": done.args, "returncode": done.returncode, "stdout": done.stdout,
                "stderr": done.stderr}  # fmt: skip

    folder, done = built_once(tmp_path_factory, "default_run", build)
    return folder / "default", subprocess.CompletedProcess(**done)


# Measured figures (recall, precision, coverage, …) shown at the end of the run. A test
# adds them to its report's user properties, which pytest-xdist sends from the worker to
# the main process; the main process collects them as the reports arrive.
MEASUREMENTS: list[str] = []
MEASUREMENT = "measured against the planted truth"


@pytest.fixture
def report(request):
    def add(line: str) -> None:
        request.node.user_properties.append((MEASUREMENT, line))

    return add


def pytest_runtest_logreport(report):
    if report.when == "call" or (report.when == "teardown" and report.user_properties):
        for key, line in report.user_properties:
            if key == MEASUREMENT and line not in MEASUREMENTS:
                MEASUREMENTS.append(line)


# Tests that use the default plan's run (the default_run fixture) carry
# ``pytestmark = pytest.mark.xdist_group("default_run")`` in their modules, so that
# ``--dist loadgroup`` sends them to one pytest-xdist worker where it groups (pytest
# before 9.2); the plan is run once either way (built_once).


def pytest_terminal_summary(terminalreporter):
    if MEASUREMENTS:
        terminalreporter.section(MEASUREMENT)
        for line in MEASUREMENTS:
            terminalreporter.write_line(line)
