"""How runs execute: one interface, a class per way (local processes, a Dask cluster).

An executor takes the plan's jobs and yields ``(job, outcome)`` pairs as runs finish, in
any order; the engine records each outcome once. A job is a JSON-serialisable dict
(:func:`job_for`); an outcome is what :func:`analysis.runner.execute.execute` returns
(``status``, ``error``, ``attempts``) plus ``start``, ``end`` and ``duration`` and, for a
Dask run, ``worker``. Whatever the executor, each run gets a process of its own
(``python -m analysis.runner JOB RESULT``, through :func:`child`), so one failure or
crash never touches another run, and its process and kernel get ``PYTHONHASHSEED`` =
:data:`analysis.runner.keys.HASH_SEED`. A new way to execute is one more class with a
``name`` and a ``run`` method.

Dask. :class:`DaskExecutor` submits each run to an existing Dask distributed cluster
(``workbench run --scheduler tcp://HOST:PORT``). Each task (:func:`remote`) takes the
notebook's bytes, runs the same child-process path as a local run in a scratch folder of
the worker, and returns the outcome with the executed notebook's bytes; the client writes
them to ``reports/<plan>.internal/notebooks/`` atomically, so no shared filesystem is
needed for the outputs. Workers need the project environment, the kernel and the inputs (the
processed tables) at the same paths as the client. A task whose worker dies is run again
on another worker (distributed's lost-worker rescheduling, ``retries`` for errors); the
child process exits when its worker is gone (its kernel with it), so a lost attempt does
not go on to completion, and the client records each run once, from the first result.
"""

from __future__ import annotations

import asyncio
import concurrent.futures as cf
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, Protocol

from analysis.core import files
from analysis.runner.execute import fault, how_it_ended, in_cell, keep_partial, runner_error
from analysis.runner.execute import stopped_cell as _stopped_cell
from analysis.runner.keys import HASH_SEED
from analysis.runner.plan import safe_name

Job = dict[str, Any]
Outcome = dict[str, Any]
Progress = Callable[[Iterable[Any], int], Iterable[Any]]


def now() -> str:
    """The current UTC time, to the second, as ISO 8601 (start and end of runs)."""
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def job_for(
    notebook: Path,
    output: Path,
    parameters: dict[str, Any],
    *,
    run_id: str,
    cell_timeout: int,
    start_timeout: int,
    run_timeout: int,
    shared_cache: Path,
) -> Job:
    """The job of one run, as every executor and the child process read it."""
    return {
        "run_id": run_id,
        "notebook": str(notebook),
        "output": str(output),
        "parameters": parameters,
        "cell_timeout": cell_timeout,
        "start_timeout": start_timeout,
        "run_timeout": run_timeout,
        "shared_cache": str(shared_cache),
    }


class Executor(Protocol):
    """Executes jobs; yields ``(job, outcome)`` as each run finishes."""

    name: str

    def run(
        self, jobs: list[Job], progress: Progress | None = None
    ) -> Iterator[tuple[Job, Outcome]]:
        """Execute ``jobs``; ``progress(iterable, total)`` wraps the stream of results."""
        ...


def _no_progress(items: Iterable[Any], total: int) -> Iterable[Any]:
    return items


# --------------------------------------------------------------------------
# A run in a fresh process


def child(job: Job) -> Outcome:
    """Run a job in a fresh Python process so one crash cannot take others down.

    The process stays in the runner's process group (an interrupt or kill of the runner
    reaches it); its kernel exits by itself when the process is gone (ipykernel watches
    its parent). Both get ``PYTHONHASHSEED`` = :data:`HASH_SEED`. A process that runs past
    ``run_timeout`` is killed (``run_timeout``); one that ends without writing its result
    is ``runner_died``.
    """
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False, encoding="utf-8") as handle:
        json.dump(job, handle)
        job_file = handle.name
    result_file = job_file + ".out"
    output = Path(job["output"])
    tmp = output.with_name(output.name + ".tmp.ipynb")
    env = {**os.environ, "PYTHONHASHSEED": HASH_SEED}
    try:
        try:
            done = subprocess.run(
                [sys.executable, "-m", "analysis.runner", job_file, result_file],
                capture_output=True,
                text=True,
                timeout=job["run_timeout"],
                env=env,
            )
        except subprocess.TimeoutExpired:
            stopped = _stopped_cell(tmp)
            keep_partial(tmp, output)
            message = f"The run exceeded its {job['run_timeout']} s and was stopped"
            return _failed("run_timeout", "RunTimeout", message + f"{in_cell(stopped)}.", stopped)
        try:
            return json.loads(Path(result_file).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            pass
        stopped = _stopped_cell(tmp)
        keep_partial(tmp, output)
        tail = (done.stderr or "").strip()[-1500:]
        message = (
            f"The process running the notebook ended without a result{in_cell(stopped)}; "
            f"{how_it_ended(done.returncode)}." + (f"\n{tail}" if tail else "")
        )
        return _failed("runner_died", "RunnerProcessDied", message, stopped)
    finally:
        Path(job_file).unlink(missing_ok=True)
        Path(result_file).unlink(missing_ok=True)


def _failed(cause: str, name: str, message: str, stopped: dict[str, Any] | None) -> Outcome:
    return {"status": "failed", "attempts": 1, "error": fault(cause, name, message, stopped)}


def timed(job: Job) -> Outcome:
    """:func:`child` with the run's start, end and duration added to its outcome."""
    start, started = now(), time.monotonic()
    try:
        outcome = child(job)
    except Exception as exc:  # the runner's own trouble must not stop the other runs
        outcome = runner_error(exc)
    outcome.update(start=start, end=now(), duration=round(time.monotonic() - started, 3))
    return outcome


# --------------------------------------------------------------------------
# Local processes


class ProcessExecutor:
    """Each run in a fresh local process, ``jobs`` of them at a time (threads wait on them).

    Parameters
    ----------
    jobs
        How many runs execute at once (default: the number of cores).
    """

    name = "process"

    def __init__(self, jobs: int | None = None) -> None:
        self.jobs = max(1, jobs or os.cpu_count() or 1)

    def run(
        self, jobs: list[Job], progress: Progress | None = None
    ) -> Iterator[tuple[Job, Outcome]]:
        wrap = progress or _no_progress
        with cf.ThreadPoolExecutor(max_workers=self.jobs) as pool:
            futures = {pool.submit(timed, job): job for job in jobs}
            for future in wrap(cf.as_completed(futures), len(futures)):
                yield futures[future], future.result()


# --------------------------------------------------------------------------
# A Dask distributed cluster


class SchedulerError(RuntimeError):
    """The Dask scheduler named by ``--scheduler`` cannot be reached (or is no address)."""


def connect(address: str, timeout: float = 10.0):
    """A ``distributed.Client`` on the scheduler at ``address``.

    The address is probed first: a Client that failed to connect would print a traceback
    when it is garbage-collected.

    Raises
    ------
    SchedulerError
        The scheduler does not answer within ``timeout`` seconds, or it is no address.
    """
    # distributed is imported here: it takes a second to import and only --scheduler needs it
    from distributed import Client
    from distributed.comm import connect as comm_connect

    async def probe() -> None:
        comm = await comm_connect(address, timeout=timeout)
        await comm.close()

    try:
        asyncio.run(probe())
        return Client(address, timeout=timeout, set_as_default=False)
    except (OSError, ValueError, TypeError) as exc:  # TimeoutError is an OSError
        raise SchedulerError(
            f"cannot reach the Dask scheduler at {address!r} within {timeout:g} s: {exc}"
        ) from None


def remote(job: Job) -> Outcome:
    """One run as a Dask task: the local child-process path, in a scratch folder of the worker.

    The notebook arrives as bytes and the executed notebook leaves as bytes
    (``notebook_bytes`` in the outcome, None when there is none), so worker and client need
    not share a filesystem for the outputs. The shared memo cache is the plan's own when
    its folder is visible here (same machine or a shared filesystem), a scratch one
    otherwise. The child process exits when this worker process dies, so a lost attempt
    does not run on.
    """
    try:
        from distributed import get_worker

        worker = get_worker()
        address, base = worker.address, worker.local_directory
    except (ImportError, ValueError):  # called outside a worker (tests, a debugger)
        address, base = None, None
    scratch = Path(tempfile.mkdtemp(prefix="workbench-run-", dir=base))
    try:
        notebook = scratch / "in" / Path(job["notebook"]).name
        notebook.parent.mkdir()
        notebook.write_bytes(job["notebook_bytes"])
        output = scratch / "out" / Path(job["output"]).name
        shared = Path(job["shared_cache"])
        local = {
            **{k: v for k, v in job.items() if k != "notebook_bytes"},
            "notebook": str(notebook),
            "output": str(output),
            "shared_cache": str(shared if shared.parent.is_dir() else scratch / "shared"),
            "exit_with_parent": True,
        }
        outcome = timed(local)
        outcome["notebook_bytes"] = output.read_bytes() if output.is_file() else None
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    outcome["worker"] = address
    return outcome


class DaskExecutor:
    """Each run as a task on an existing Dask distributed cluster (see the module docstring).

    Parameters
    ----------
    address
        The scheduler's address, ``tcp://HOST:PORT``.
    timeout
        Seconds to wait for the scheduler before :class:`SchedulerError`.
    """

    name = "dask"

    def __init__(self, address: str, timeout: float = 10.0) -> None:
        self.address, self.timeout = address, timeout

    def run(
        self, jobs: list[Job], progress: Progress | None = None
    ) -> Iterator[tuple[Job, Outcome]]:
        if not jobs:  # cached runs are never submitted
            return
        from distributed import as_completed

        wrap = progress or _no_progress
        client = connect(self.address, self.timeout)
        try:
            submitted = {}
            for job in jobs:
                task = {**job, "notebook_bytes": Path(job["notebook"]).read_bytes()}
                future = client.submit(
                    remote,
                    task,
                    key=f"workbench-{safe_name(job['run_id'])}-{uuid.uuid4().hex}",
                    pure=False,
                    retries=2,
                )
                submitted[future] = (job, now())
            for future in wrap(as_completed(list(submitted), loop=client.loop), len(submitted)):
                job, submitted_at = submitted.pop(future)  # one result per run, recorded once
                yield job, self._collect(future, job, submitted_at)
        finally:
            client.close()

    @staticmethod
    def _collect(future, job: Job, submitted_at: str) -> Outcome:
        try:
            outcome = future.result()
        except Exception as exc:  # e.g. KilledWorker: its workers kept dying
            outcome = runner_error(exc)
        future.release()
        if outcome.get("notebook_bytes") is not None:
            files.atomic_write(Path(job["output"]), outcome.pop("notebook_bytes"))
        outcome.setdefault("start", submitted_at)
        outcome["end"] = outcome.get("end") or now()
        outcome.setdefault("duration", None)
        return outcome


def executor_for(*, jobs: int | None = None, scheduler: str | None = None, timeout: float = 10.0):
    """The executor a plan's options ask for: Dask with a scheduler, local processes otherwise."""
    if scheduler is not None:
        return DaskExecutor(scheduler, timeout)
    return ProcessExecutor(jobs)
