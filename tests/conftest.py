"""Shared fixtures: generated provinces and their ingested tables (built once per run)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from analysis.data import ingest, synth

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True, scope="session")
def _project_home():
    import os

    os.environ.setdefault("WORKBENCH_HOME", str(ROOT))


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


@pytest.fixture(scope="session")
def small_province(tmp_path_factory):
    raw = tmp_path_factory.mktemp("raw_small")
    synth.write(synth.generate(seed=5, profile="realistic", scale=0.15), raw)
    processed = tmp_path_factory.mktemp("processed_small")
    ingest.ingest(raw, out_dir=processed)
    return processed


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
    out = tmp_path_factory.mktemp("default_run") / "default"
    return out, run_default(small_province, out, "--jobs", "2")


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
# ``--dist loadgroup`` sends them to one pytest-xdist worker and the plan is run once
# (marks added here in a collection hook came too late for xdist's own hook).


def pytest_terminal_summary(terminalreporter):
    if MEASUREMENTS:
        terminalreporter.section(MEASUREMENT)
        for line in MEASUREMENTS:
            terminalreporter.write_line(line)
