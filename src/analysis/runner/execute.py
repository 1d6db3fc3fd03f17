"""One notebook, executed in this process with papermill: the child side of every executor.

An executor (:mod:`analysis.runner.executors`) starts ``python -m analysis.runner JOB
RESULT`` in a fresh process for each run; :func:`main` reads the job, :func:`execute`
runs the notebook on the project kernel and the outcome is written to ``RESULT``.

Faults. Each failure is returned with its ``cause``: ``exception`` (a cell raised:
``ename``/``evalue`` are the notebook's error), ``kernel_died`` (the kernel process ended
while running a cell: killed, out of memory, a crash; the evalue says which cell and the
signal or exit status), ``cell_timeout`` (a cell ran past ``cell_timeout``),
``kernel_start`` (the kernel did not start), and ``runner_error``; the executors add
``run_timeout``, ``runner_died`` and their own ``runner_error``. ``cell`` is the number of
the cell it stopped in (``In [n]``). Retry policy: a run is retried once, and only when no
cell had started (the kernel failed to start or died while starting). A kernel that dies
while running a cell is not retried: the notebook's own code (memory, a crash in a
library) is the likely cause and would kill it again; a timed-out cell is not retried
either.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any

import papermill as pm
from jupyter_client import AsyncKernelManager
from papermill.exceptions import PapermillExecutionError

import analysis
from analysis.core import files, paths


def _kernel_manager_class():
    """The default kernel manager, noting the kernel's exit status when it is found dead."""

    class WatchedKernelManager(AsyncKernelManager):
        async def _async_is_alive(self) -> bool:
            alive = await super()._async_is_alive()
            if not alive and self.provisioner is not None:
                process = getattr(self.provisioner, "process", None)
                code = process.poll() if process is not None else None
                if code is not None:
                    _KERNEL_EXIT["status"] = code
            return alive

        is_alive = _async_is_alive

    return WatchedKernelManager


_KERNEL_EXIT: dict[str, int] = {}  # one notebook per process: the kernel's exit status
# what papermill/nbclient/jupyter_client raise when a kernel does not come up
_KERNEL_START_ERRORS = {"DeadKernelError", "NoSuchKernel", "RuntimeError", "TimeoutError"}


def how_it_ended(status: int | None) -> str:
    if status is None:
        return "its exit status is unknown"
    if status < 0:
        try:
            name = signal.Signals(-status).name
        except ValueError:
            name = f"signal {-status}"
        hint = " (e.g. the out-of-memory killer or a kill command)" if -status == 9 else ""
        return f"it was killed by signal {-status}, {name}{hint}"
    return f"it exited with status {status}"


def stopped_cell(notebook: Path) -> dict[str, Any] | None:
    """The cell execution stopped in: the last code cell papermill started, as
    ``{"cell": n, "cell_index": i, "source": its last non-blank line}`` (``n`` is ``In [n]``),
    or None when no cell started."""
    try:
        nb = json.loads(notebook.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    stopped, number = None, 0
    for index, cell in enumerate(nb.get("cells", [])):
        if cell.get("cell_type") != "code":
            continue
        meta = cell.get("metadata", {}).get("papermill", {})
        if not meta.get("start_time") and meta.get("status") != "running":
            continue
        number = cell.get("execution_count") or number + 1  # a killed cell has no count
        source = cell.get("source", "")
        source = "".join(source) if isinstance(source, list) else source
        lines = [line for line in source.splitlines() if line.strip()]
        stopped = {"cell": number, "cell_index": index, "source": lines[-1][:200] if lines else ""}
    return stopped


def fault(cause: str, exc_name: str, message: str, stopped: dict[str, Any] | None) -> dict:
    where = stopped or {}
    return {
        "cause": cause,
        "cell": where.get("cell"),
        "cell_index": where.get("cell_index"),
        "ename": exc_name,
        "evalue": message[:2000],
    }


def in_cell(stopped: dict[str, Any] | None) -> str:
    if not stopped:
        return ""
    return f" while running cell {stopped['cell']} ({stopped['source']!r})"


def execute(job: dict[str, Any]) -> dict[str, Any]:
    """Run one notebook with papermill (called in a child process). Returns the outcome.

    The outcome's ``error`` says what happened (see the module docstring for the causes and
    the retry policy): one retry, only when the kernel failed before any cell started.
    """
    output = Path(job["output"])
    output.parent.mkdir(parents=True, exist_ok=True)
    if job.get("shared_cache"):  # inherited by the kernel: tables shared across runs
        os.environ["WORKBENCH_CACHE"] = job["shared_cache"]
    tmp = output.with_name(output.name + ".tmp.ipynb")
    outcome: dict[str, Any] = {"status": "failed", "error": None, "attempts": 0}
    for attempt in (1, 2):
        outcome["attempts"] = attempt
        _KERNEL_EXIT.clear()
        try:
            pm.execute_notebook(
                job["notebook"],
                str(tmp),
                parameters=job["parameters"],
                kernel_name=analysis.KERNEL_NAME,
                cwd=str(paths.project_root()),
                progress_bar=False,
                log_output=False,
                execution_timeout=job["cell_timeout"],
                start_timeout=job["start_timeout"],
                kernel_manager_class=_kernel_manager_class(),
            )
            outcome["status"] = "succeeded"
            outcome["error"] = None
            break
        except PapermillExecutionError as exc:
            outcome["error"] = {
                "cause": "exception",
                "cell": exc.exec_count,
                "cell_index": exc.cell_index,
                "ename": exc.ename,
                "evalue": str(exc.evalue)[:2000],
            }
            break
        except Exception as exc:  # a dead kernel, a cell timeout, a kernel that did not start
            stopped = stopped_cell(tmp)
            name = type(exc).__name__
            if name == "DeadKernelError" and stopped:
                ended = how_it_ended(_KERNEL_EXIT.get("status"))
                outcome["error"] = fault(
                    "kernel_died",
                    name,
                    f"The kernel died{in_cell(stopped)}; {ended}. The cells before it ran. "
                    "Not retried: the notebook's code is the likely cause.",
                    stopped,
                )
                break
            if name == "CellTimeoutError":
                outcome["error"] = fault(
                    "cell_timeout",
                    name,
                    f"Cell {stopped['cell'] if stopped else '?'} ran longer than the cell "
                    f"timeout of {job['cell_timeout']} s and was stopped"
                    f"{'' if not stopped else ': ' + repr(stopped['source'])}. Not retried.",
                    stopped,
                )
                break
            starting = name in _KERNEL_START_ERRORS or "kernel" in str(exc).lower()
            if stopped is None and starting:  # nothing ran: the kernel did not start
                retry = "retrying once" if attempt == 1 else "after one retry"
                outcome["error"] = fault(
                    "kernel_start",
                    name,
                    f"The kernel {analysis.KERNEL_NAME!r} did not start ({retry}): {exc}",
                    None,
                )
                continue
            outcome["error"] = fault(
                "runner_error", name, f"Execution stopped{in_cell(stopped)}: {exc}", stopped
            )
            break
    keep_partial(tmp, output)
    return outcome


def keep_partial(tmp: Path, output: Path) -> None:
    """The executed (possibly partial) notebook becomes the run's output if it is whole."""
    if not tmp.exists():
        return
    try:
        json.loads(tmp.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        tmp.unlink(missing_ok=True)  # cut off mid-write by a killed process: not a result
        return
    files.adopt(tmp, output)


def runner_error(exc: BaseException) -> dict[str, Any]:
    """The outcome of a run the runner itself failed to execute."""
    return {
        "status": "failed",
        "attempts": 1,
        "error": fault("runner_error", type(exc).__name__, str(exc), None),
    }


def exit_with_parent() -> None:
    """End this process when its parent (a Dask worker) is gone; its kernel then follows."""
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(70)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


def main(argv: list[str] | None = None) -> None:
    """Child-process entry: ``python -m analysis.runner JOB.json RESULT.json``."""
    job_file, result_file = (argv or sys.argv[1:])[:2]
    job = json.loads(Path(job_file).read_text(encoding="utf-8"))
    if job.get("exit_with_parent"):
        exit_with_parent()
    outcome = execute(job)
    files.atomic_write(Path(result_file), json.dumps(outcome))
