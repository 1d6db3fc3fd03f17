"""The runner's executor interface: a new way to execute runs is one class.

The engine hands an executor the jobs that are not cached and records whatever
``(job, outcome)`` pairs it yields, in any order; the manifest, the cache and the pages do
not depend on which executor ran the jobs.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from analysis import runner
from analysis.runner import executors
from analysis.runner.layout import internal_dir
from tests.integration.test_runner import _plan, plan_dir  # noqa: F401  (fixture)


class ReversedSerial:
    """Runs the jobs one at a time in the reverse of the plan's order, and remembers them."""

    name = "reversed-serial"

    def __init__(self) -> None:
        self.seen: list[str] = []

    def run(self, jobs, progress=None) -> Iterator[tuple[dict, dict]]:
        for job in reversed(jobs):
            self.seen.append(job["run_id"])
            yield job, executors.timed(job)


def test_a_new_executor_is_one_class(plan_dir, tmp_path):  # noqa: F811
    runs = [{"id": f"r{i}", "notebook": "ok.ipynb", "parameters": {"value": i}} for i in (1, 2)]
    plan = runner.load_plan(_plan(plan_dir, runs))
    out = tmp_path / "out"
    first = ReversedSerial()
    manifest = runner.run_plan(plan, out_dir=out, executor=first, render=False)
    assert first.seen == ["r2", "r1"]  # it was asked for every job, and chose its own order
    by_id = {r["id"]: r for r in manifest["runs"]}
    assert [r["id"] for r in manifest["runs"]] == ["r1", "r2"]  # the manifest keeps the plan's
    assert {r["status"] for r in by_id.values()} == {"succeeded"}
    assert by_id["r2"]["n_figures"] == 1
    figures = (out / "figures.csv").read_text(encoding="utf-8")
    assert "double,2" in figures and "double,4" in figures
    assert all(r["start"] and r["end"] and r["duration"] > 0 for r in by_id.values())

    # cached runs never reach the executor; a changed parameter does
    second = ReversedSerial()
    runs[1]["parameters"]["value"] = 5
    again = runner.run_plan(runner.load_plan(_plan(plan_dir, runs)), out_dir=out, executor=second)
    assert second.seen == ["r2"]
    assert [r["status"] for r in again["runs"]] == ["cached", "succeeded"]
    saved = json.loads((internal_dir(out) / "manifest.json").read_text(encoding="utf-8"))
    assert saved["runs"][1]["parameters"]["value"] == 5


def test_a_failing_executor_does_not_write_a_manifest(plan_dir, tmp_path):  # noqa: F811
    class Broken:
        name = "broken"

        def run(self, jobs, progress=None):
            raise RuntimeError("the cluster went away")
            yield  # pragma: no cover  (a generator, like every executor)

    plan = runner.load_plan(_plan(plan_dir, [{"id": "a", "notebook": "ok.ipynb"}]))
    out = tmp_path / "out"
    with pytest.raises(RuntimeError, match="went away"):
        runner.run_plan(plan, out_dir=out, executor=Broken())
    assert not (internal_dir(out) / "manifest.json").exists()  # nothing claims a finished plan


def test_the_options_choose_the_executor():
    assert isinstance(executors.executor_for(jobs=3), executors.ProcessExecutor)
    assert executors.executor_for(jobs=3).jobs == 3
    dask = executors.executor_for(scheduler="tcp://127.0.0.1:1", timeout=0.5)
    assert isinstance(dask, executors.DaskExecutor) and dask.address == "tcp://127.0.0.1:1"
