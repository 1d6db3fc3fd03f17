"""A small on-disk cache for tables several runs of one plan compute alike.

The runner points ``$WORKBENCH_CACHE`` at ``reports/<plan>.internal/.cache/shared``; nine
district briefs then compute the province's indicator tables once, not nine
times. Keys include the dataset's fingerprint (a hash of its content, not of its
row counts: one changed value with the same number of rows is a new key) and the
code version, so a change in data or code computes afresh. Without the variable
nothing is cached.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from analysis.core import paths
from analysis.core.provenance import code_version

ENV = "WORKBENCH_CACHE"


def content_hash(frame: pd.DataFrame) -> str:
    """A SHA-256 of a table's columns, dtypes and every value, in row order (index ignored)."""
    digest = hashlib.sha256(
        json.dumps([[str(c), str(t)] for c, t in frame.dtypes.items()]).encode()
    )
    try:
        rows = pd.util.hash_pandas_object(frame, index=False).to_numpy()
        digest.update(rows.tobytes())
    except TypeError:  # unhashable cells (lists, dicts): their JSON text instead
        digest.update(frame.to_json(orient="values", default_handler=str).encode())
    return digest.hexdigest()


def fingerprint(dataset) -> str:
    """What a dataset's tables depend on: its spec and the content of its tables.

    Parameters
    ----------
    dataset : analysis.datasets.Dataset
        A loaded dataset.

    Returns
    -------
    str
        16 hex digits of a SHA-256 over the spec file's bytes, for processed
        datasets the ingest manifest (when present), and the content of each table
        read and of the analysis table (:func:`content_hash`): a value changed in
        place, or in memory in a notebook, changes it.
    """

    spec = dataset.spec
    digest = hashlib.sha256(spec.path.read_bytes())
    if spec.source["kind"] == "processed":
        manifest = Path(dataset.folder or paths.processed_dir()) / "ingest_manifest.json"
        if manifest.is_file():
            digest.update(manifest.read_bytes())
    for name, table in sorted(dataset.tables.items()):
        digest.update(f"{name}:{content_hash(table)}".encode())
    digest.update(content_hash(dataset.data).encode())
    return digest.hexdigest()[:16]


def frames(
    name: str, key: dict, compute: Callable[[], dict[str, pd.DataFrame]]
) -> dict[str, pd.DataFrame]:
    """``compute()`` once per key when ``$WORKBENCH_CACHE`` is set; the result from disk after.

    Parameters
    ----------
    name
        What is cached (``"brief_tables"``); names the cache folder.
    key
        What the result depends on (dataset fingerprint, language…), JSON-able;
        the code version is added to it.
    compute
        Makes the tables when they are not cached.

    Returns
    -------
    dict of str to DataFrame
        ``compute()``'s tables; read back from the cache, they come from Parquet
        (index dropped). Writes are atomic, so runs in parallel may compute the
        same key twice but never read half a table.
    """
    folder = os.environ.get(ENV)
    if not folder:
        return compute()

    stamp = hashlib.sha256(
        json.dumps(
            {"name": name, "code": code_version(), **key}, sort_keys=True, default=str
        ).encode()
    ).hexdigest()[:20]
    target = Path(folder) / f"{name}-{stamp}"
    done = target / "done.json"
    if done.is_file():
        names = json.loads(done.read_text(encoding="utf-8"))
        return {n: pd.read_parquet(target / f"{n}.parquet") for n in names}
    result = compute()
    target.mkdir(parents=True, exist_ok=True)
    for n, frame in result.items():
        tmp = target / f"{n}.parquet.{os.getpid()}.tmp"
        frame.to_parquet(tmp, index=False)
        os.replace(tmp, target / f"{n}.parquet")
    tmp = target / f"done.{os.getpid()}.tmp"
    tmp.write_text(json.dumps(list(result)), encoding="utf-8")
    os.replace(tmp, done)
    return result
