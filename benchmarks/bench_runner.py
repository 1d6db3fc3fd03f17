"""Runner performance on the default plan, as ratios measured in one run.

Run: .venv/bin/python benchmarks/bench_runner.py [--jobs 2] [--scale 1.0]

1. cold wall time ÷ a sequential loop of the papermill command line over the
   same runs (target ≤ 0.5 on 2 cores);
2. warm re-run with nothing changed ÷ cold (target ≤ 0.05);
3. cold wall time ÷ the sum of in-kernel cell execution times (target ≤ 1.3).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import analysis
from analysis import ingest, runner, synth


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--scale", type=float, default=1.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        synth.write(synth.generate(scale=args.scale), tmp / "raw")
        ingest.ingest(tmp / "raw", out_dir=tmp / "processed")
        plan = runner.load_plan("default", processed=tmp / "processed")

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

        start = time.perf_counter()
        for run in plan.runs:
            params = []
            for name, value in run.parameters.items():
                params += ["-y", json.dumps({name: value})]
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "papermill",
                    str(run.notebook),
                    str(tmp / f"seq_{runner.safe_name(run.id)}.ipynb"),
                    "-k",
                    analysis.KERNEL_NAME,
                    "--no-progress-bar",
                    *params,
                ],
                check=True,
                capture_output=True,
                cwd=runner.paths.project_root(),
            )
        sequential_s = time.perf_counter() - start
        cells_s = sum(r["cell_seconds"] or 0 for r in cold["runs"])

    print(f"runs: {len(plan.runs)}, jobs: {args.jobs}")
    print(
        f"cold {cold_s:.1f} s, warm {warm_s:.2f} s, sequential papermill CLI {sequential_s:.1f} s, "
        f"sum of in-kernel cell time {cells_s:.1f} s"
    )
    print(f"ratio cold / sequential papermill loop: {cold_s / sequential_s:.2f} (target <= 0.5)")
    print(f"ratio warm / cold: {warm_s / cold_s:.3f} (target <= 0.05)")
    print(f"ratio cold wall / sum of cell times: {cold_s / cells_s:.2f} (target <= 1.3)")


if __name__ == "__main__":
    main()
