"""What a run needs to be repeated: a fixed hash seed in the run's kernel, and a manifest that
records the seeds with the notebook, parameters, inputs, code and package versions.

That the default plan's results repeat is tested in test_end_to_end.py: each entry of the
plan is executed again on its own from a clean state and must record the same figures and
tables as the session's run of the plan.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys

import numpy as np
import pandas as pd

from analysis import runner
from analysis.runner import keys
from analysis.runner.layout import internal_dir
from tests.integration.test_runner import _notebook, _plan

WORDS = [f"school-{i}" for i in range(40)]
# iteration order of a set of strings depends on the interpreter's hash seed
ORDER = f"print(','.join(set({WORDS!r})))"


def test_kernel_gets_the_fixed_hash_seed_and_the_manifest_records_it(tmp_path):
    notebook = _notebook(
        tmp_path / "seeded.ipynb",
        "seed = 3\nrandom_state = None\nlabel = 'x'",
        [
            "import os\nfrom analysis import record\n"
            "record.figure('hash_seed', os.environ.get('PYTHONHASHSEED'))",
            f"record.figure('set_order', ','.join(set({WORDS!r})))",
            "record.figure('text', 'a\\rb')",
            "import numpy as np\n"
            "record.figure('draw', float(np.random.default_rng(seed).random()))",
        ],
    )
    path = _plan(
        tmp_path,
        [
            {"id": "default_seed", "notebook": "seeded.ipynb"},
            {"id": "seed_9", "notebook": "seeded.ipynb", "parameters": {"seed": 9}},
        ],
    )
    out = tmp_path / "out"
    manifest = runner.run_plan(runner.load_plan(path), out_dir=out, jobs=2, render=False)
    assert [r["status"] for r in manifest["runs"]] == ["succeeded"] * 2

    figures = pd.read_csv(out / "figures.csv", dtype=str).set_index(["run", "name"])["value"]
    parquet = pd.read_parquet(out / "figures.parquet").set_index(["run", "name"])["value"]
    assert figures.to_dict() == parquet.to_dict()  # a bare \r does not split a CSV row
    assert figures["seed_9", "text"] == "a\rb"
    reference = subprocess.run(
        [sys.executable, "-c", ORDER],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONHASHSEED": runner.HASH_SEED},
        check=True,
    ).stdout.strip()
    for run in ("default_seed", "seed_9"):
        assert figures[run, "hash_seed"] == runner.HASH_SEED == "0"
        assert figures[run, "set_order"] == reference  # the kernel hashed with seed 0
    for run, seed in (("default_seed", 3), ("seed_9", 9)):  # the seed parameter took effect
        assert float(figures[run, "draw"]) == float(np.random.default_rng(seed).random())

    # the manifest holds what repeating a run needs, seeds included
    saved = json.loads((internal_dir(out) / "manifest.json").read_text(encoding="utf-8"))
    assert saved["seeds"] == {"PYTHONHASHSEED": "0"}
    runs = {r["id"]: r for r in saved["runs"]}
    # the notebook's default seed when the plan does not set one, the plan's when it does
    assert runs["default_seed"]["seeds"] == {"PYTHONHASHSEED": "0", "random_state": None, "seed": 3}
    assert runs["seed_9"]["seeds"] == {"PYTHONHASHSEED": "0", "random_state": None, "seed": 9}
    digest = hashlib.sha256(notebook.read_bytes()).hexdigest()
    for run in runs.values():
        assert run["notebook"] == "seeded.ipynb" and run["notebook_sha256"] == digest
        assert run["code_version"] == saved["code_version"] and run["packages"]["numpy"]
        assert run["inputs"] and all(len(i["sha256"]) == 64 for i in run["inputs"][:1])
        assert run["key"]
    assert runs["seed_9"]["parameters"]["seed"] == 9
    assert "seed" not in runs["default_seed"]["parameters"]

    # a cached run still reports its seeds and notebook hash
    again = runner.run_plan(runner.load_plan(path), out_dir=out, jobs=2, render=False)
    cached = {r["id"]: r for r in again["runs"]}
    assert all(r["status"] == "cached" for r in cached.values())
    assert cached["seed_9"]["seeds"] == runs["seed_9"]["seeds"]
    assert cached["seed_9"]["notebook_sha256"] == digest


def test_seed_names():
    for name in ("seed", "random_state", "random_seed", "bootstrap_seed", "SEED"):
        assert keys.is_seed(name), name
    for name in ("seeds_file", "year", "state", "seedling"):
        assert not keys.is_seed(name), name
