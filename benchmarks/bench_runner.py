"""Runner performance on the default plan, as ratios measured in one run.

Run: .venv/bin/python benchmarks/bench_runner.py [--jobs 2] [--scale 1.0] [--scaling-only GLOB]
[--skip-scaling | --skip-default]

1. cold wall time ÷ a sequential loop of the papermill command line over the same
   runs, twice: the loop as a user would type it (no shared-table cache) and the loop
   given the same shared-table cache as the runner (``$WORKBENCH_CACHE``, empty at the
   start, as in the runner's cold run) — the second isolates what the runner's execution
   adds or saves, the first what a user gains (target ≤ 0.5 on 2 cores);
2. warm re-run with nothing changed ÷ cold (target ≤ 0.05);
3. overhead: cold wall time ÷ (Σ in-kernel cell time ÷ jobs) — 1.0 would mean the jobs
   did nothing but execute cells (target ≤ 1.3); and the mean per-run overhead, a run's
   wall time minus its in-kernel time (process, kernel and papermill start, publishing);
4. runner scaling on the runs matching ``--scaling-only`` (default: every run but the district
   briefs, to keep it a few minutes): cold wall time with 1 local job, with 2 local jobs, and
   on a local Dask cluster (a scheduler and 2 single-thread workers started here), printed as
   ratios to the 1-job time. On a 2-core machine shared with other jobs, 2 jobs can at best
   halve the time; the Dask run adds task submission and shipping the notebooks both ways.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import analysis
from analysis import runner
from analysis.core import paths
from analysis.data import ingest, synth


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--scaling-only", default="[!d]*", help="runs in the scaling test (glob)")
    parser.add_argument("--skip-default", action="store_true", help="only the scaling test")
    parser.add_argument("--skip-scaling", action="store_true", help="only the default plan")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        synth.write(synth.generate(scale=args.scale), tmp / "raw")
        ingest.ingest(tmp / "raw", out_dir=tmp / "processed")
        plan = runner.load_plan("default", processed=tmp / "processed")
        if not args.skip_scaling:
            scaling(plan, tmp, args.scaling_only)
        if args.skip_default:
            return

        start = time.perf_counter()
        cold = runner.run_plan(plan, out_dir=tmp / "cold", jobs=args.jobs)
        cold_s = time.perf_counter() - start
        failed = [r["id"] for r in cold["runs"] if r["status"] != "succeeded"]
        if failed:
            sys.exit(f"runs failed: {failed}")

        start = time.perf_counter()
        runner.run_plan(
            runner.load_plan("default", processed=tmp / "processed"),
            out_dir=tmp / "cold",
            jobs=args.jobs,
        )
        warm_s = time.perf_counter() - start

        plain_s = papermill_loop(plan, tmp / "seq", cache=None)
        cached_s = papermill_loop(plan, tmp / "seq_cached", cache=tmp / "seq_cache")
        runs = cold["runs"]
        cells_s = sum(r["cell_seconds"] or 0 for r in runs)
        per_run = [
            r["duration"] - r["cell_seconds"]
            for r in runs
            if r.get("cell_seconds") and r.get("duration")
        ]

    print(f"runs: {len(plan.runs)}, jobs: {args.jobs}")
    print(
        f"cold {cold_s:.1f} s, warm {warm_s:.2f} s, sum of in-kernel cell time {cells_s:.1f} s; "
        f"sequential papermill CLI {plain_s:.1f} s without the shared-table cache, "
        f"{cached_s:.1f} s with it"
    )
    print(f"ratio cold / papermill loop, no cache: {cold_s / plain_s:.2f} (target <= 0.5)")
    print(f"ratio cold / papermill loop, same cache: {cold_s / cached_s:.2f}")
    print(f"ratio warm / cold: {warm_s / cold_s:.3f} (target <= 0.05)")
    print(
        f"overhead: cold wall / (sum of cell times / {args.jobs} jobs): "
        f"{cold_s / (cells_s / args.jobs):.2f} (target <= 1.3)"
    )
    if per_run:
        print(
            f"per-run overhead (wall - in-kernel): mean {sum(per_run) / len(per_run):.2f} s, "
            f"max {max(per_run):.2f} s over {len(per_run)} runs"
        )


def papermill_loop(plan, folder: Path, *, cache: Path | None) -> float:
    """Seconds for the plan's runs, one after the other, with the papermill command line;
    ``cache``: the shared-table cache folder the notebooks get (as the runner gives it)."""
    folder.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if k != "WORKBENCH_CACHE"}
    if cache is not None:
        env["WORKBENCH_CACHE"] = str(cache)
    start = time.perf_counter()
    for run in plan.runs:
        params = []
        for name, value in run.parameters.items():
            params += ["-y", json.dumps({name: value})]
        subprocess.run(
            [sys.executable, "-m", "papermill", str(run.notebook),
             str(folder / f"{runner.safe_name(run.id)}.ipynb"), "-k", analysis.KERNEL_NAME,
             "--no-progress-bar", *params],
            check=True, capture_output=True, cwd=paths.project_root(), env=env,
        )  # fmt: skip
    return time.perf_counter() - start


def _cold(plan, out: Path, **kwargs) -> tuple[float, dict]:
    start = time.perf_counter()
    manifest = runner.run_plan(plan, out_dir=out, force=True, render=False, **kwargs)
    seconds = time.perf_counter() - start
    failed = [r["id"] for r in manifest["runs"] if r["status"] != "succeeded"]
    if failed:
        sys.exit(f"runs failed: {failed}")
    return seconds, manifest


def scaling(plan, tmp: Path, only: str) -> None:
    """The same runs with 1 and 2 local jobs and on a local Dask cluster with 2 workers."""
    from distributed import Client

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        address = f"tcp://127.0.0.1:{sock.getsockname()[1]}"
    dask = str(Path(sys.executable).parent / "dask")
    spawn = dict(stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    procs = [
        subprocess.Popen(
            [dask, "scheduler", "--host", "127.0.0.1", "--port", address.rsplit(":")[-1],
             "--no-dashboard"], **spawn,
        )
    ]  # fmt: skip
    try:
        worker = [dask, "worker", address, "--nworkers", "1", "--nthreads", "1", "--no-dashboard"]
        procs += [
            subprocess.Popen([*worker, "--local-directory", str(tmp / f"worker{i}")], **spawn)
            for i in (1, 2)
        ]
        with Client(address, timeout=30, set_as_default=False) as client:
            client.wait_for_workers(2, timeout=60)
        one_s, manifest = _cold(plan, tmp / "scale1", jobs=1, only=only)
        two_s, _ = _cold(plan, tmp / "scale2", jobs=2, only=only)
        dask_s, _ = _cold(plan, tmp / "scaled", only=only, scheduler=address)
    finally:
        for proc in procs:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    runs = len(manifest["runs"])
    print(f"runner scaling ({runs} runs matching {only!r}, cold, no HTML):")
    print(f"  1 local job {one_s:.1f} s, 2 local jobs {two_s:.1f} s, Dask 2 workers {dask_s:.1f} s")
    print(f"  ratio 2 jobs / 1 job: {two_s / one_s:.2f} (ideal 0.5 on 2 idle cores)")
    print(f"  ratio Dask 2 workers / 1 job: {dask_s / one_s:.2f}")
    print(f"  ratio Dask 2 workers / 2 local jobs: {dask_s / two_s:.2f}")


if __name__ == "__main__":
    main()
