"""National scale: pupil → school-year aggregation, indicators and a multilevel model.

Generates the synthetic national system (analysis.national; ``--scale 1`` is
about 50,000 schools × 5 years and 20 million pupil rows), then runs each step
in its own child process and measures its wall time and peak memory (the
child's ``resource.getrusage`` maximum resident set):

1. a bare DuckDB scan of the pupil Parquet (every column the aggregation reads;
   the best of three runs, so the ratio below is not flattered by one slow scan);
2. the aggregation (``analysis.pupils.aggregate``) with its defaults — exact
   quantiles and distinct pupil counts: ratio to the scan, target ≤ 3; peak
   memory, target ≤ 4 GiB;
   then the same without quantiles and pupil counts (``quantiles=False,
   pupil_count=False``), to show what those two outcomes cost;
3. indicators (``analysis.indicators.compute``) on the national school-year
   panel joined with the pupil outcomes;
4. one multilevel model (``analysis.links.estimate(model="mixed")``): pupils'
   mean score on infrastructure, training, SES and year, schools within provinces.

Usage::

    .venv/bin/python benchmarks/bench_national.py --scale 0.1
    .venv/bin/python benchmarks/bench_national.py            # full national size
    .venv/bin/python benchmarks/bench_national.py --data /tmp/national   # generate once, reuse

``--data DIR`` keeps the generated system in DIR and reuses it on the next
run when its scale matches (generating 20 million rows takes a while).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

GIB = 1024**3


def _peak_bytes() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux


def _step_scan(folder: Path, threads: int | None) -> dict:
    import duckdb

    files = sorted((folder / "pupils").glob("part-*.parquet"))
    listed = "[" + ", ".join(f"'{p.as_posix()}'" for p in files) + "]"
    con = duckdb.connect()
    if threads:
        con.execute(f"SET threads = {threads}")
    runs = []
    for _ in range(3):
        started = time.perf_counter()
        row = con.execute(
            "SELECT count(school_id), count(year), count(subject), sum(score), sum(passed), "
            f"count(pupil_id) FROM read_parquet({listed})"
        ).fetchone()
        runs.append(time.perf_counter() - started)
    return {"seconds": min(runs), "runs": runs, "rows": row[1]}


def _aggregate(folder: Path, threads: int | None, out: str, **options) -> dict:
    from analysis.data import pupils

    steps: dict[str, float] = {}
    clock = {"name": None, "at": time.perf_counter()}

    def step(name: str) -> None:
        now = time.perf_counter()
        if clock["name"]:
            steps[clock["name"]] = now - clock["at"]
        clock.update(name=name, at=now)

    started = time.perf_counter()
    result = pupils.aggregate(
        folder / "pupils", out_dir=folder / out, threads=threads, progress=step, **options
    )
    step("")
    return {
        "seconds": time.perf_counter() - started,
        "steps": steps,
        "rows": result.input_rows,
        "rejected": result.rejected_rows,
        "school_years": result.school_years,
    }


def _step_aggregate(folder: Path, threads: int | None) -> dict:
    return _aggregate(folder, threads, "processed")


def _step_aggregate_lean(folder: Path, threads: int | None) -> dict:
    return _aggregate(folder, threads, "processed_lean", quantiles=False, pupil_count=False)


def _national_panel(folder: Path):
    import pandas as pd

    from analysis.data import pupils

    panel = pd.read_parquet(folder / "national_panel.parquet")
    outcomes = pd.read_parquet(folder / "processed" / pupils.OUTCOMES_FILE)
    return pupils.join_panel(panel, outcomes)


def _step_indicators(folder: Path, threads: int | None) -> dict:
    from analysis.measures import indicators

    started = time.perf_counter()
    data = _national_panel(folder)
    loaded = time.perf_counter()
    table = indicators.compute(data, levels=["school", "unit", "analysis_province"], lang="en")
    return {
        "seconds": time.perf_counter() - started,
        "load_seconds": loaded - started,
        "rows": len(table),
        "school_years": len(data),
    }


def _step_mixed(folder: Path, threads: int | None) -> dict:
    from analysis.data import national
    from analysis.models import links

    started = time.perf_counter()
    data = _national_panel(folder)
    fit = links.estimate(
        data,
        "pupil_mean_score ~ infra + trained_share + ses + C(year)",
        model="mixed",
        groups="province_id",
    )
    tidy = fit.tidy().set_index("term")
    return {
        "seconds": time.perf_counter() - started,
        "rows": len(data),
        "trained_share": float(tidy.loc["trained_share", "estimate"]),
        "trained_share_planted": national.TRAINING_EFFECT,
        "infra": float(tidy.loc["infra", "estimate"]),
        "infra_planted": national.INFRA_EFFECT,
    }


STEPS = {
    "scan": _step_scan,
    "aggregate": _step_aggregate,
    "aggregate_lean": _step_aggregate_lean,
    "indicators": _step_indicators,
    "mixed": _step_mixed,
}


def _child(step: str, folder: Path, threads: int | None) -> None:
    figures = STEPS[step](folder, threads)
    figures["peak_bytes"] = _peak_bytes()
    print(json.dumps(figures))


def _run(step: str, folder: Path, threads: int | None) -> dict:
    command = [sys.executable, __file__, "--child", step, "--out", str(folder)]
    if threads:
        command += ["--threads", str(threads)]
    wall = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"step {step} failed:\n{done.stderr[-3000:]}")
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    figures["process_seconds"] = time.perf_counter() - wall
    return figures


def _reusable(folder: Path, scale) -> dict | None:
    """The summary of a national system already in ``folder`` at this scale, else None."""
    from dataclasses import asdict

    truth = folder / "truth.json"
    if not truth.is_file():
        return None
    summary = json.loads(truth.read_text(encoding="utf-8"))
    wanted = json.loads(json.dumps(asdict(scale)))  # tuples as lists, like the file
    files = [folder / "pupils" / name for name in summary.get("pupil_files", [])]
    if summary.get("scale") != wanted or not files or not all(p.is_file() for p in files):
        return None
    return summary


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="share of the national size")
    parser.add_argument("--out", type=Path, default=None, help="folder (default: a temp folder)")
    parser.add_argument("--threads", type=int, default=None, help="DuckDB threads (default all)")
    parser.add_argument("--keep", action="store_true", help="keep the generated files")
    parser.add_argument(
        "--data",
        type=Path,
        default=None,
        help="folder for the national system, kept and reused when its scale matches",
    )
    parser.add_argument("--child", choices=sorted(STEPS), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        _child(args.child, args.out, args.threads)
        return

    from analysis.data import national

    folder = args.data or args.out or Path(tempfile.mkdtemp(prefix="bench_national_"))
    scale = national.Scale().scaled(args.scale)
    load = os.getloadavg()
    print(
        f"National benchmark, scale {args.scale:g}: {scale.schools:,} schools × "
        f"{len(scale.years)} years, ~{scale.pupil_rows:,} pupil rows; {os.cpu_count()} cores, "
        f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}"
    )
    try:
        started = time.perf_counter()
        summary = _reusable(folder, scale) if args.data else None
        if summary is None:
            summary = national.generate(folder, scale).summary
            how = f"generate: {time.perf_counter() - started:.1f} s"
        else:
            how = f"reused {folder}"
        files = [folder / "pupils" / name for name in summary["pupil_files"]]
        size = sum(p.stat().st_size for p in files)
        print(
            f"{how}, {summary['pupil_rows']:,} pupil rows in "
            f"{len(files)} Parquet files ({size / 1e6:,.0f} MB)"
        )
        figures = {step: _run(step, folder, args.threads) for step in STEPS}
    finally:
        if not args.keep and args.out is None and args.data is None:
            shutil.rmtree(folder, ignore_errors=True)
    scan, agg = figures["scan"], figures["aggregate"]
    ratio = agg["seconds"] / scan["seconds"]
    lean_ratio = figures["aggregate_lean"]["seconds"] / scan["seconds"]
    peak = agg["peak_bytes"] / GIB
    print(f"\n{'step':<16}{'wall s':>10}{'peak GiB':>10}  notes")
    for step, fig in figures.items():
        if step == "scan":
            runs = ", ".join(f"{r:.2f}" for r in fig["runs"])
            notes = f"{fig['rows']:,} rows; best of {runs} s"
        elif step.startswith("aggregate"):
            parts = ", ".join(f"{k} {v:.1f}" for k, v in fig["steps"].items() if v >= 0.05)
            notes = (
                f"{fig['school_years']:,} school-years, {fig['rejected']:,} rejected; "
                f"steps (s): {parts}"
            )
        elif step == "indicators":
            notes = f"{fig['rows']:,} result rows; reading+join {fig['load_seconds']:.1f} s"
        else:
            notes = (
                f"trained_share {fig['trained_share']:.3f} (planted "
                f"{fig['trained_share_planted']}), infra {fig['infra']:.4f} "
                f"(planted {fig['infra_planted']})"
            )
        print(f"{step:<16}{fig['seconds']:>10.2f}{fig['peak_bytes'] / GIB:>10.2f}  {notes}")
    met = "met" if ratio <= 3 else "NOT met"
    print(
        f"\naggregation ÷ bare scan: {ratio:.2f} (target ≤ 3: {met}); "
        f"without quantiles and pupil counts: {lean_ratio:.2f}"
    )
    verdict = "met" if peak <= 4 else "NOT met"
    print(f"aggregation peak memory: {peak:.2f} GiB (target ≤ 4: {verdict})")
    model_steps = {k: figures[k]["seconds"] for k in ("indicators", "mixed")}
    slowest = max(model_steps, key=model_steps.get)
    print(
        f"indicators + model: {sum(model_steps.values()):.1f} s; {slowest} dominates "
        f"({model_steps[slowest]:.1f} s)"
    )
    load = os.getloadavg()
    print(f"load average after: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")


if __name__ == "__main__":
    main()
