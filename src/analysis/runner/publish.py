"""What a plan leaves behind: run records, the tables' CSVs, the key figures, the manifest.

Everything here runs on the client (the machine that runs the plan), also for Dask runs,
so the privacy rules (:mod:`analysis.report.privacy`) are applied in one place: to every
table a notebook recorded (``data/<run>/<name>.csv``), to ``figures.csv`` and to the
public KPI workbook ``kpi_<lang>.xlsx``.

``manifest.json`` is written last (:func:`write_manifest`), after the figures and the
HTML, so its presence means the plan finished.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from analysis.core import files, provenance
from analysis.data import datasets
from analysis.report import export, privacy, record, tables
from analysis.runner import layout
from analysis.runner.keys import HASH_SEED, PlanInputs
from analysis.runner.plan import Plan, Run, inside, safe_name

RUN_STATUSES = ("succeeded", "failed", "cached", "skipped")
PLAN_INTERNAL = "plan: internal: true"
FIGURE_COLUMNS = ["run", "notebook", "name", "value", "label", "unit"]


def shown_status(run: dict[str, Any]) -> str:
    """A run's status as its pages show it: ``not_applicable`` for a finished run whose
    notebook said it does not apply to the data (``record.not_applicable``)."""
    finished = run.get("status") in ("succeeded", "cached")
    return "not_applicable" if finished and run.get("not_applicable") else str(run.get("status"))


@dataclass
class RunRecord:
    """What the manifest says of one run (and what its cache entry keeps)."""

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
    not_applicable: str | None = None  # why the notebook does not apply (record.not_applicable)

    @classmethod
    def from_cache(cls, cached: dict[str, Any]) -> RunRecord:
        """The record of a cache entry, as a ``cached`` run."""
        known = set(cls.__dataclass_fields__)
        return cls(**{**{k: v for k, v in cached.items() if k in known}, "status": "cached"})


def mark_internal(run: Run, rec: RunRecord, declared: list[str]) -> None:
    """Internal when the plan says so or the notebook called ``record.internal``."""
    reasons = ([PLAN_INTERNAL] if run.internal else []) + [r or "notebook" for r in declared]
    rec.internal = bool(reasons)
    rec.internal_reasons = reasons


def data_dir(out_dir: Path, run_stem: str, *, internal: bool = False) -> Path:
    """``reports/<plan>/data/<run>``: the run's tables as CSV (an internal run's in
    ``reports/<plan>.internal/data/<run>``, outside the shared folder); ``run_stem``: the
    run's file name (:attr:`Run.stem`)."""
    return layout.data_root(out_dir, internal=internal) / safe_name(run_stem)


def publish_data(
    out_dir: Path, run: Run, notebook: Path, lang: str
) -> tuple[list[dict[str, Any]], list[str]]:
    """Write each table a notebook recorded to ``data/<run>/<name>.csv``, rules applied.

    The CSVs are UTF-8 with a BOM, so Excel reads Vietnamese, with CRLF rows. An internal
    run's (the plan's mark or the notebook's) go to the internal folder, and the shared
    folder keeps none of that run's tables.

    Returns
    -------
    tuple
        What was written (one dict per table: name, label, kind, file, rows, suppressed
        cells, removed columns) and the notebook's internal reasons.
    """
    if not notebook.is_file():
        return [], []
    nb = json.loads(notebook.read_text(encoding="utf-8"))
    declared = record.read_internal(nb)
    internal = run.internal or bool(declared)
    root = layout.internal_dir(out_dir) if internal else out_dir
    folder = inside(root, data_dir(out_dir, run.stem, internal=internal), run.entry)
    other = data_dir(out_dir, run.stem, internal=not internal)
    if other.is_dir():  # the run changed side since it last ran: nothing stays behind
        shutil.rmtree(other)
    written = []
    keep = set()
    for payload in record.read_tables(nb):
        shared = shared_table(payload, lang=lang)
        target = inside(root, folder / f"{payload['file']}.csv", run.entry)
        text = tables.localise(shared.frame, lang).to_csv(index=False, lineterminator="\r\n")
        files.atomic_write(target, text.encode("utf-8-sig"))
        keep.add(target.name)
        written.append(
            {
                "name": payload["name"],
                "label": payload.get("label", ""),
                "kind": payload["kind"],
                "file": layout.relative(out_dir, target),
                "rows": len(shared.frame),
                "suppressed_cells": shared.suppressed_cells,
                "removed_columns": shared.removed_columns,
            }
        )
    if folder.is_dir():  # tables the notebook no longer records
        for stale in folder.glob("*.csv"):
            if stale.name not in keep:
                stale.unlink(missing_ok=True)
    return written, declared


def shared_table(payload: dict[str, Any], *, lang: str = "vi") -> privacy.Shared:
    """A ``record.table``/``record.data`` payload with the privacy rules applied.

    Names and codes stay as the notebook recorded them;
    :func:`analysis.report.tables.localise` translates them.
    """
    counts = payload.get("counts") or ()
    return privacy.apply(record.frame_of(payload), counts=counts, lang=lang)


def cell_seconds(notebook: Path) -> float | None:
    """The sum of the executed notebook's cell durations (papermill's metadata)."""
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


def save_cache(cached: Path, rec: RunRecord) -> None:
    """A succeeded run enters the cache (only finished runs do)."""
    files.atomic_write(cached, json.dumps(asdict(rec), ensure_ascii=False, default=str))


def manifest(
    plan: Plan,
    records: list[RunRecord],
    inputs: PlanInputs,
    *,
    created: str,
    jobs: int | None,
    scheduler: str | None,
) -> dict[str, Any]:
    """The plan's manifest: inputs, code and package versions, seeds and every run."""
    versions = provenance.package_versions()
    return {
        "plan": plan.name,
        "title": plan.titled(inputs.spec.title),  # names the dataset run
        "dataset": plan.dataset,
        "dataset_title": dict(inputs.spec.title),  # as the spec names it (pages say this)
        "lang": plan.lang,
        "created": created,
        "code_version": inputs.code,
        "packages": versions,
        "inputs": inputs.record,
        "seeds": {"PYTHONHASHSEED": HASH_SEED},
        "jobs": jobs,
        "scheduler": scheduler,
        "empty_grids": [asdict(g) for g in plan.empty_grids],
        "runs": [
            {
                **{k: v for k, v in asdict(r).items() if k != "figures"},
                "inputs": inputs.record,
                "code_version": inputs.code,
                "packages": versions,
                "n_figures": len(r.figures),
            }
            for r in records
        ],
    }


def write_figures(out_dir: Path, records: list[RunRecord], lang: str) -> pd.DataFrame:
    """``figures.csv`` and ``figures.parquet``: the key figures, rules applied — of the runs
    that are not internal in the shared folder, of every run in the internal one (the
    team's index shows them)."""
    figures = pd.DataFrame(
        [{"run": r.id, "notebook": r.notebook, **f} for r in records for f in r.figures],
        columns=FIGURE_COLUMNS,
    )
    figures["value"] = figures["value"].map(lambda v: "" if v is None else str(v))
    figures = privacy.public_figures(figures, lang=lang)
    internal = {r.id for r in records if r.internal}
    shared = figures[~figures["run"].isin(internal)].reset_index(drop=True)
    for folder, frame in ((layout.internal_dir(out_dir), figures), (out_dir, shared)):
        folder.mkdir(parents=True, exist_ok=True)
        with files.replacing(folder / "figures.parquet") as tmp:
            frame.to_parquet(tmp, index=False)
        # CRLF rows (RFC 4180): a value holding a bare carriage return is quoted, not split
        text = frame.to_csv(index=False, lineterminator="\r\n")
        files.atomic_write(folder / "figures.csv", text)
    return figures


def write_manifest(out_dir: Path, manifest: dict[str, Any]) -> None:
    """``manifest.json``: written last, so its presence means the plan's outputs are whole."""
    files.atomic_write(
        layout.manifest_path(out_dir),
        json.dumps(manifest, ensure_ascii=False, indent=2, default=str),
    )


def kpi_workbook(plan: Plan, out_dir: Path, inputs: PlanInputs) -> tuple[str | None, str | None]:
    """``reports/<plan>/kpi_<lang>.xlsx``: the KPI workbook with the privacy rules applied.

    Linked from the index and shared in the bundle; rebuilt when inputs or code change.

    Returns
    -------
    tuple
        (its file name, None), or (None, why) when the dataset has no DOET report tables
        or the workbook could not be built (the plan's runs are not affected).
    """
    if inputs.kind != "processed":
        return None, None
    target = out_dir / f"kpi_{plan.lang}.xlsx"
    stamp = layout.cache_dir(out_dir) / "kpi.json"
    key = provenance.sha256_json({"inputs": inputs.record, "code": inputs.code, "lang": plan.lang})
    try:
        if target.is_file() and json.loads(stamp.read_text(encoding="utf-8"))["key"] == key:
            return target.name, None
    except (OSError, ValueError, KeyError):
        pass
    try:
        data = datasets.load(inputs.spec, processed=inputs.processed)
        if "school_hierarchy" not in data.tables:
            return None, None
        kpi = export.kpi_tables(data, lang=plan.lang, public=True)
        export.write_workbook(data, kpi, target, lang=plan.lang, public=True)
    except Exception as exc:  # a report extra: never the reason a plan fails
        return None, f"{type(exc).__name__}: {exc}"[:500]
    files.atomic_write(stamp, json.dumps({"key": key}))
    return target.name, None
