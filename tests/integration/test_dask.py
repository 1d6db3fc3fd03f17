"""Plans on a real Dask cluster: a scheduler and two workers on 127.0.0.1 (subprocesses).

The results of a plan run on the cluster equal a local run's; a worker killed while it runs a
notebook loses nothing and no run completes twice; cached runs are not submitted; an
unreachable scheduler is a clear error.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import nbformat as nbf
import pandas as pd
import pytest
import yaml

from analysis import runner
from analysis.runner import layout
from analysis.runner.layout import internal_dir

ROOT = Path(__file__).resolve().parents[2]
DASK = Path(sys.executable).parent / "dask"

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _notebook(path: Path) -> Path:
    """Sleeps ``sleep`` s, records two figures, and logs ``start``/``done`` lines to ``log``."""
    nb = nbf.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "cds-workbench", "display_name": "x", "language": "python"}
    params = nbf.v4.new_code_cell('value = 1\nsleep = 0.0\nlog = ""')
    params.metadata["tags"] = ["parameters"]
    nb.cells = [
        params,
        "def note(what):\n    if log:\n        with open(log, 'a') as f:\n"
        "            f.write(f'{what} {value}\\n')\nnote('start')",
        "import time\ntime.sleep(sleep)",
        "from analysis import record\nrecord.figure('double', value * 2)\n"
        "record.figure('label', f'v{value}', label='Label', unit='text')",
        "note('done')",
    ]
    nb.cells[1:] = [nbf.v4.new_code_cell(src) for src in nb.cells[1:]]
    nbf.write(nb, str(path))
    return path


def _plan(folder: Path, values: list[int], **parameters) -> runner.Plan:
    _notebook(folder / "nb.ipynb")
    path = folder / "d.yml"
    entry = {"id": "r", "notebook": "nb.ipynb", "grid": {"value": values}}
    if parameters:
        entry["parameters"] = parameters
    path.write_text(yaml.safe_dump({"name": "d", "dataset": "maschools", "runs": [entry]}))
    return runner.load_plan(path)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """A scheduler and two single-thread workers (no nanny: a killed worker stays dead).

    Started once for the module (starting one takes seconds): the test that kills a
    worker is the last to use it, so every other test sees both workers.
    """
    from distributed import Client

    tmp_path = tmp_path_factory.mktemp("cluster")
    address = f"tcp://127.0.0.1:{_free_port()}"
    procs: list[subprocess.Popen] = []
    logs = tmp_path / "cluster-logs"
    logs.mkdir()

    def spawn(name: str, *args: str) -> None:
        with open(logs / f"{name}.log", "wb") as log:
            procs.append(
                subprocess.Popen(
                    [str(DASK), *args],
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    cwd=ROOT,
                    start_new_session=True,  # its own process group, killed whole at teardown
                )
            )

    client = None
    try:
        spawn("scheduler", "scheduler", "--host", "127.0.0.1", "--port", address.rsplit(":")[-1],
              "--no-dashboard")  # fmt: skip
        for i in (1, 2):
            spawn(
                f"worker{i}", "worker", address, "--nworkers", "1", "--nthreads", "1",
                "--no-nanny", "--no-dashboard", "--local-directory", str(tmp_path / f"w{i}"),
            )  # fmt: skip
        client = Client(address, timeout=30, set_as_default=False)
        client.wait_for_workers(2, timeout=60)
        yield address, client
    finally:
        if client is not None:
            # After the kill test a worker is gone and a loaded machine can make the
            # client's goodbye slow; teardown only has to free the processes below.
            with contextlib.suppress(TimeoutError, OSError):
                client.close(timeout=20)
        for proc in procs:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def _cells(notebook: Path) -> list[tuple]:
    nb = nbf.read(str(notebook), as_version=4)
    return [(c.source, c.execution_count, c.outputs) for c in nb.cells if c.cell_type == "code"]


def _complete(notebook: Path) -> bool:
    nb = nbf.read(str(notebook), as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    return all(
        c.execution_count is not None and c.metadata.papermill.get("status") == "completed"
        for c in code
    )


def test_cluster_run_equals_local_run_and_cached_runs_are_not_submitted(cluster, tmp_path):
    address, client = cluster
    plan = _plan(tmp_path, [1, 2, 3])
    # the local run (three jobs: every run at once) goes on while the cluster runs the plan;
    # the comparison is of results, not of scheduling, and each run mostly waits for its kernel
    result: dict = {}

    def local_run() -> None:
        try:
            result["local"] = runner.run_plan(
                plan, out_dir=tmp_path / "local", jobs=3, render=False
            )
        except BaseException as exc:  # re-raised below
            result["error"] = exc

    thread = threading.Thread(target=local_run)
    thread.start()
    try:
        runner.run_plan(plan, out_dir=tmp_path / "dask", render=False, scheduler=address)
    finally:
        thread.join()
    if "error" in result:
        raise result["error"]
    local = result["local"]
    manifest = json.loads(
        (internal_dir(tmp_path / "dask") / "manifest.json").read_text(encoding="utf-8")
    )

    assert [r["status"] for r in manifest["runs"]] == ["succeeded"] * 3
    assert [(r["id"], r["status"], r["key"]) for r in manifest["runs"]] == [
        (r["id"], r["status"], r["key"]) for r in local["runs"]
    ]
    assert manifest["scheduler"] == address and local["scheduler"] is None
    workers = set(client.scheduler_info()["workers"])
    assert {r["worker"] for r in manifest["runs"]} <= workers
    assert all(r["worker"] is None for r in local["runs"])
    for name in ("figures.csv", "figures.parquet"):
        assert (tmp_path / "dask" / name).read_bytes() == (tmp_path / "local" / name).read_bytes()
    figures = pd.read_parquet(tmp_path / "dask" / "figures.parquet")
    assert len(figures) == 6 and set(figures["run"]) == {r["id"] for r in local["runs"]}
    notebooks = sorted(p.name for p in (internal_dir(tmp_path / "local") / "notebooks").glob("*"))
    assert (
        sorted(p.name for p in (internal_dir(tmp_path / "dask") / "notebooks").glob("*"))
        == notebooks
    )
    for name in notebooks:
        ours, theirs = (
            layout.notebooks_dir(tmp_path / "dask") / name,
            layout.notebooks_dir(tmp_path / "local") / name,
        )
        assert _complete(ours) and _cells(ours) == _cells(theirs)
    assert not list((tmp_path / "dask").rglob("*.tmp*"))

    # nothing changed: every run is cached, and nothing is submitted (a dead address is fine)
    again = runner.run_plan(
        plan,
        out_dir=tmp_path / "dask",
        render=False,
        scheduler=f"tcp://127.0.0.1:{_free_port()}",
        scheduler_timeout=1,
    )
    assert [r["status"] for r in again["runs"]] == ["cached"] * 3


def _cli(*args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "analysis", *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
    )  # fmt: skip


def test_unreachable_scheduler_is_a_clear_error(tmp_path):
    plan = _plan(tmp_path, [1])
    # both commands at once: each spends most of its time starting Python
    unreachable = _cli("run", str(plan.path), "--out", str(tmp_path / "o"), "--scheduler",
                       f"tcp://127.0.0.1:{_free_port()}", "--scheduler-timeout", "2")  # fmt: skip
    nonsense = _cli(
        "run", str(plan.path), "--out", str(tmp_path / "o2"), "--scheduler", "nonsense://x"
    )
    out, err = unreachable.communicate(timeout=60)
    assert unreachable.returncode == 2, out + err
    assert "No cluster" in err and "within 2 s" in err
    assert "Traceback" not in err  # a hang past the 2 s timeout fails communicate() above
    assert not (internal_dir(tmp_path / "o") / "notebooks").exists()  # nothing ran
    _, err = nonsense.communicate(timeout=60)
    assert nonsense.returncode == 2 and "unknown address scheme" in err
    assert "Traceback" not in err
    assert not (internal_dir(tmp_path / "o2") / "notebooks").exists()


def test_a_worker_killed_mid_run_loses_nothing_and_no_run_completes_twice(cluster, tmp_path):
    address, client = cluster
    log = tmp_path / "log.txt"
    log.touch()
    plan = _plan(tmp_path, [1, 2, 3], sleep=3.0, log=str(log))
    result: dict = {}

    def go() -> None:
        try:
            result["manifest"] = runner.run_plan(
                plan, out_dir=tmp_path / "out", render=False, scheduler=address
            )
        except BaseException as exc:  # reported by the assertion below
            result["error"] = exc

    thread = threading.Thread(target=go)
    thread.start()
    deadline = time.monotonic() + 60
    while log.read_text().count("start") < 2:  # both workers are inside a notebook's sleep
        assert time.monotonic() < deadline, "the runs did not start on both workers"
        time.sleep(0.2)
    pids = client.run(os.getpid)
    victim = sorted(pids)[0]
    os.kill(pids[victim], signal.SIGKILL)
    thread.join(timeout=120)
    assert not thread.is_alive() and "error" not in result, result
    time.sleep(2)  # a lost attempt that went on (orphaned child or kernel) would log by now

    manifest = result["manifest"]
    runs = manifest["runs"]
    assert sorted(r["id"] for r in runs) == sorted(r.id for r in plan.runs)
    assert [r["status"] for r in runs] == ["succeeded"] * 3
    assert all(r["worker"] != victim for r in runs)
    lines = log.read_text().split()
    starts = sorted(lines[i + 1] for i in range(0, len(lines), 2) if lines[i] == "start")
    dones = sorted(lines[i + 1] for i in range(0, len(lines), 2) if lines[i] == "done")
    assert dones == ["1", "2", "3"]  # each run completed exactly once
    assert len(starts) == 4  # the killed run started again elsewhere
    figures = pd.read_parquet(tmp_path / "out" / "figures.parquet")
    assert sorted(figures["run"]) == sorted(r.id for r in plan.runs for _ in range(2))
    for run in runs:
        assert _complete(tmp_path / "out" / run["output"])
        assert (
            internal_dir(tmp_path / "out") / ".cache" / f"{Path(run['output']).stem}.json"
        ).is_file()
    assert not list((tmp_path / "out").rglob("*.tmp*"))
    assert not list(layout.internal_dir(tmp_path / "out").rglob("*.tmp*"))
