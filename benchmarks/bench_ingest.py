"""Ingest speed as a ratio to simply reading the same workbooks with openpyxl,
and ingest memory on a large CSV as a ratio to loading that CSV whole.

Run: .venv/bin/python benchmarks/bench_ingest.py [--profile realistic] [--repeat 3]
     [--large-rows 100000]
Prints the wall time of `workbench ingest` (parse, validate, write Parquet and
DuckDB) divided by a bare read of the cells. Target: ratio ≤ 3 — validation and
writing should cost less than twice the unavoidable reading.

Then a large CSV (``--large-rows`` school-year rows, every panel column) is
ingested in a child process and its peak memory (max RSS above a bare Python
with the package imported) is compared with the file's size and with
the same file read whole into rows of cells (what ingest did before it
streamed). Ingest streams the raw file and holds only the typed table it
builds (validation copies it a few times): target peak ÷ whole-file peak ≤ 2.
"""

from __future__ import annotations

import argparse
import csv
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from openpyxl import load_workbook

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests.helpers

from analysis.data import ingest, synth


def bare_read(folder: Path) -> int:
    cells = 0
    for path in sorted(folder.glob("*.xlsx")):
        book = load_workbook(path, read_only=True, data_only=True)
        for sheet in book.worksheets:
            for row in sheet.iter_rows(values_only=True):
                cells += len(row)
        book.close()
    return cells


def best_of(repeat: int, func, *args) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        func(*args)
        times.append(time.perf_counter() - start)
    return min(times)


PEAK = """
import resource, sys
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
{body}
print((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base) / 1024)
"""
IMPORTS = "import pandas, pyarrow, pandera, duckdb, openpyxl\nfrom analysis import ingest\n"


def write_large_csv(path: Path, rows: int) -> int:
    """``rows`` school-year rows with every panel column, streamed to disk."""
    from tests.helpers import panel_rows

    panel = synth.generate(profile="clean").panel
    lines = panel_rows(panel)
    header, body = lines[0], lines[1:]
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        for i in range(rows):
            line = list(body[i % len(body)])
            line[0] = f"{i:08d}"  # unique school-years
            writer.writerow(line)
    return path.stat().st_size


def peak_mib(body: str) -> float:
    code = PEAK.format(body=IMPORTS + body)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(done.stderr)
    return float(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="realistic", choices=list(synth.PROFILES))
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--large-rows", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        raw, out = Path(tmp) / "raw", Path(tmp) / "out"
        synth.write(synth.generate(profile=args.profile), raw)
        read = best_of(args.repeat, bare_read, raw)
        full = best_of(args.repeat, lambda: ingest.ingest(raw, out_dir=out))
    print(f"bare openpyxl read: {read:.2f} s")
    print(f"ingest (parse, validate, write): {full:.2f} s")
    print(f"ratio ingest / bare read: {full / read:.2f} (target <= 3)")
    if args.large_rows:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "lon.csv"
            size = write_large_csv(path, args.large_rows) / 2**20
            started = time.perf_counter()
            held = peak_mib(f"ingest.ingest({str(path)!r}, write=False)")
            seconds = time.perf_counter() - started
            whole = peak_mib(
                f"import csv\nrows = list(csv.reader(open({str(path)!r}, encoding='utf-8')))"
            )
        print(f"large CSV: {args.large_rows} rows, {size:.0f} MiB, ingested in {seconds:.0f} s")
        print(f"peak memory: ingest {held:.0f} MiB, the file read whole as rows {whole:.0f} MiB")
        print(f"ratio ingest peak / file size: {held / size:.2f}")
        print(f"ratio ingest peak / whole-file rows: {held / whole:.2f} (target <= 2)")


if __name__ == "__main__":
    main()
