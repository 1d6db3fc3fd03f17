"""Ingest speed as a ratio to simply reading the same workbooks with openpyxl.

Run: .venv/bin/python benchmarks/bench_ingest.py [--profile realistic] [--repeat 3]
Prints the wall time of `workbench ingest` (parse, validate, write Parquet and
DuckDB) divided by a bare read of the cells. Target: ratio ≤ 3 — validation and
writing should cost less than twice the unavoidable reading.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from openpyxl import load_workbook

from analysis import ingest, synth


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="realistic", choices=list(synth.PROFILES))
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        raw, out = Path(tmp) / "raw", Path(tmp) / "out"
        synth.write(synth.generate(profile=args.profile), raw)
        read = best_of(args.repeat, bare_read, raw)
        full = best_of(args.repeat, lambda: ingest.ingest(raw, out_dir=out))
    print(f"bare openpyxl read: {read:.2f} s")
    print(f"ingest (parse, validate, write): {full:.2f} s")
    print(f"ratio ingest / bare read: {full / read:.2f} (target <= 3)")


if __name__ == "__main__":
    main()
