"""Plans → runs → reports: :func:`run_plan`, a short sequence of named steps.

1. **validate**: the plan's name and file names, the ``--only`` selection, output paths;
2. **key**: the inputs resolved once, a content key per run, cached runs taken as they are;
3. **execute**: the runs left, through an executor (:mod:`analysis.runner.executors`:
   local processes, or a Dask cluster), one failing run never stopping the others;
4. **collect**: each outcome into its run record (figures, cell time, the tables' CSVs
   with the privacy rules applied), a succeeded run into the cache;
5. **publish**: the key figures of all runs (CSV and Parquet) and the KPI workbook;
6. **render**: HTML with and without code, ``index.html``; then ``manifest.json``.

Interruption. Every file the runner writes reaches its final name whole: it is written
to ``<name>.tmp`` (papermill's notebook to ``<name>.tmp.ipynb``) and renamed. A run enters
the cache (``.cache/<run>.json``) only once it succeeded, and ``manifest.json`` is
written last, after the figures and the HTML, so its presence means the plan finished.
A plan killed at any point leaves at most ``*.tmp`` files, which the next run deletes
(only in the runner's own folders), and the next run executes only the runs not in the
cache.

Reproducibility. Each run's process and its kernel get ``PYTHONHASHSEED`` =
:data:`analysis.runner.keys.HASH_SEED`. The manifest records, per run, the notebook's
hash, the parameters, the inputs' hashes, the code version, the package versions and
``seeds``: the hash seed and every seed parameter (a parameter named ``seed``, ``*_seed``
or ``random_state``, with the notebook's default when the plan does not set it). Seeds
inside the package's estimators are fixed in code, which the code version covers.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from analysis.core import provenance
from analysis.report import record
from analysis.runner import frontpage, keys, layout, publish, render
from analysis.runner.execute import fault
from analysis.runner.executors import Executor, Outcome, Progress, executor_for, job_for, now
from analysis.runner.plan import (
    Plan,
    PlanError,
    Run,
    check_file_names,
    check_name,
    default_out_dir,
    inside,
)
from analysis.runner.publish import PLAN_INTERNAL, RunRecord

# the runner's own temporary files (and memo's, in .cache/shared): deleted by the next run
_TMP_PATTERNS = ("*.tmp", "*.tmp.ipynb")
_RUNNER_FOLDERS = ("notebooks", "html", "data", ".cache")


@dataclass
class Target:
    """One selected run and where it writes: the executed notebook and its cache entry."""

    run: Run
    output: Path
    cached: Path
    record: RunRecord | None = None


def run_plan(
    plan: Plan,
    *,
    out_dir: Path | None = None,
    jobs: int | None = None,
    force: bool = False,
    only: str | None = None,
    processed: Path | None = None,
    cell_timeout: int = 600,
    start_timeout: int = 120,
    run_timeout: int = 3600,
    progress: Progress | None = None,
    render: bool = True,
    scheduler: str | None = None,
    scheduler_timeout: float = 10.0,
    executor: Executor | None = None,
) -> dict[str, Any]:
    """Execute a plan; returns the manifest (also written to
    ``reports/<plan>.internal/manifest.json``).

    Parameters
    ----------
    plan
        A plan from :func:`analysis.runner.plan.load_plan`.
    out_dir
        The output folder (default ``reports/<plan name>``).
    jobs
        Runs executed at once by local processes (default: the number of cores).
    force
        Execute every selected run, cached or not.
    only
        Run ids or globs, comma-separated (:func:`matches`): execute and record only the
        runs they select.
    processed
        The processed folder the runs read (its tables are the inputs of the keys).
    cell_timeout, start_timeout, run_timeout
        Seconds a cell may run, the kernel may take to start, a whole run may take.
    progress
        ``progress(iterable, total)`` wraps the stream of finished runs (a progress bar).
    render
        Write the HTML pages, the index and the KPI workbook.
    scheduler, scheduler_timeout
        A Dask scheduler's address: the runs to execute go to that cluster (``jobs`` then
        does not apply), and the seconds to wait for it.
    executor
        Any :class:`analysis.runner.executors.Executor`; overrides ``jobs``/``scheduler``.

    Returns
    -------
    dict
        The manifest.

    Raises
    ------
    PlanError
        A name or file name that is not allowed, an ``only`` that matches nothing.
    SchedulerError
        Before anything runs, when the scheduler does not answer in time.
    """
    out_dir = out_dir or default_out_dir(plan)
    targets = _validate(plan, out_dir, only)
    inputs = keys.resolve_inputs(plan.dataset, processed)
    todo = _key(plan, out_dir, targets, inputs, force)
    executor = executor or executor_for(jobs=jobs, scheduler=scheduler, timeout=scheduler_timeout)
    timeouts = {"cell_timeout": cell_timeout, "start_timeout": start_timeout}
    timeouts["run_timeout"] = run_timeout
    by_output: dict[str, Target] = {str(t.output): t for t in todo}
    jobs_ = [_job(t, out_dir, timeouts) for t in todo]
    for job, outcome in executor.run(jobs_, progress):
        _collect(plan, out_dir, by_output[job["output"]], outcome)
    records = [t.record for t in targets if t.record is not None]
    local_jobs = getattr(executor, "jobs", None) if scheduler is None else None
    manifest = publish.manifest(
        plan, records, inputs, created=now(), jobs=local_jobs, scheduler=scheduler
    )
    publish.write_figures(out_dir, records, plan.lang)
    try:
        if render:
            manifest["kpi_workbook"], manifest["kpi_error"] = publish.kpi_workbook(
                plan, out_dir, inputs
            )
            manifest["front"], manifest["front_error"] = frontpage.build(plan, out_dir, inputs)
            render_pages(out_dir, manifest)
    finally:  # last: a manifest on disk means the plan's outputs are complete
        publish.write_manifest(out_dir, manifest)
    return manifest


render_pages = render.render_plan


def matches(run_id: str, only: str) -> bool:
    """Whether ``--only`` selects the run: a comma-separated list of run ids or globs
    (``data_quality,district_brief*``); an id is matched as written, brackets and all
    (``district_brief[unit=164]`` is an id, not a glob's character class)."""
    wanted = [w.strip() for w in only.split(",") if w.strip()]
    return any(run_id == w or fnmatch.fnmatch(run_id, w) for w in wanted)


def _validate(plan: Plan, out_dir: Path, only: str | None) -> list[Target]:
    """Names, file names, the selection and the output paths; the folders made ready."""
    where = str(plan.path)
    check_name(plan.name, where=where)
    check_file_names(plan.runs, where=where)
    selected = [r for r in plan.runs if only is None or matches(r.id, only)]
    internal, notebooks = layout.internal_dir(out_dir), layout.notebooks_dir(out_dir)
    if only is not None and not selected:
        raise PlanError(f"--only {only!r} matches no run of plan {plan.name}")
    targets = [
        Target(
            run,
            inside(internal, notebooks / f"{run.stem}.ipynb", run.entry),
            inside(internal, layout.cache_dir(out_dir) / f"{run.stem}.json", run.entry),
        )
        for run in selected
    ]
    out_dir.mkdir(parents=True, exist_ok=True)
    layout.remove_legacy(out_dir)  # an earlier runner kept internal files in the shared folder
    layout.cache_dir(out_dir).mkdir(parents=True, exist_ok=True)
    clean_stale(out_dir)  # left by an interrupted run; never a result
    return targets


def _key(
    plan: Plan, out_dir: Path, targets: list[Target], inputs: keys.PlanInputs, force: bool
) -> list[Target]:
    """Give every target its record: from the cache when its key matches, else pending."""
    todo = []
    for target in targets:
        run = target.run
        key = keys.run_key(run, inputs.record, inputs.code)
        cached = (
            None if force or not target.output.is_file() else keys.read_cache(target.cached, key)
        )
        if cached is None:
            output = layout.relative(out_dir, target.output)
            rec = RunRecord(
                run.id, run.notebook.name, run.parameters, key, "pending", output=output
            )
            todo.append(target)
        else:
            rec = RunRecord.from_cache(cached)
            if any(not (out_dir / t["file"]).is_file() for t in rec.tables):
                _publish(plan, out_dir, run, rec, target.output)  # someone removed its CSVs
            else:
                declared = [r for r in rec.internal_reasons if r != PLAN_INTERNAL]
                publish.mark_internal(run, rec, declared)
        rec.notebook_sha256 = provenance.sha256_file(run.notebook)
        rec.seeds = keys.seeds(run)
        target.record = rec
    return todo


def _job(target: Target, out_dir: Path, timeouts: dict[str, int]) -> dict[str, Any]:
    return job_for(
        target.run.notebook,
        target.output,
        target.run.parameters,
        run_id=target.run.id,
        shared_cache=layout.cache_dir(out_dir) / "shared",
        **timeouts,
    )


def _collect(plan: Plan, out_dir: Path, target: Target, outcome: Outcome) -> None:
    """One finished run into its record; its tables published; a success into the cache."""
    rec, run, output = target.record, target.run, target.output
    assert rec is not None
    rec.status = outcome["status"]
    rec.error = outcome.get("error")
    rec.attempts = outcome.get("attempts", 1)
    rec.start, rec.end = outcome.get("start"), outcome.get("end")
    rec.duration = outcome.get("duration")
    rec.worker = outcome.get("worker")
    if rec.error is not None:
        rec.error["notebook"] = run.notebook.name
        rec.error["executed"] = str(output)
    if output.is_file():
        try:
            rec.figures = record.read(output)
        except (OSError, ValueError):
            rec.figures = []
        rec.cell_seconds = publish.cell_seconds(output)
        rec.not_applicable = record.not_applicable_reason(rec.figures)
    _publish(plan, out_dir, run, rec, output)
    if rec.status == "succeeded":  # only finished runs enter the cache
        publish.save_cache(target.cached, rec)


def _publish(plan: Plan, out_dir: Path, run: Run, rec: RunRecord, output: Path) -> None:
    """The run's tables as privacy-applied CSVs (client side, also for Dask runs)."""
    try:
        written, declared = publish.publish_data(out_dir, run, output, plan.lang)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        written, declared = [], []
        if rec.error is None:
            rec.status = "failed"
            rec.error = fault("runner_error", type(exc).__name__, str(exc), None)
    rec.tables = written
    publish.mark_internal(run, rec, declared)


def clean_stale(out_dir: Path) -> None:
    """Delete temporary files an interrupted run left, only where the runner writes."""
    for root in (out_dir, layout.internal_dir(out_dir)):
        for pattern in _TMP_PATTERNS:
            for stale in root.glob(pattern):
                stale.unlink(missing_ok=True)
            for folder in _RUNNER_FOLDERS:
                for stale in (root / folder).rglob(pattern):
                    stale.unlink(missing_ok=True)
