"""Shared fixtures: generated provinces and their ingested tables (built once per run)."""

from __future__ import annotations

from pathlib import Path

import pytest

from analysis import ingest, synth

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


# Measured figures (recall, precision, …) shown at the end of the run.
MEASUREMENTS: list[str] = []


@pytest.fixture
def report():
    def add(line: str) -> None:
        MEASUREMENTS.append(line)

    return add


def pytest_terminal_summary(terminalreporter):
    if MEASUREMENTS:
        terminalreporter.section("measured against the planted truth")
        for line in MEASUREMENTS:
            terminalreporter.write_line(line)
