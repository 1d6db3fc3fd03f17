"""Ingest speed as a ratio to simply reading the same workbooks with the fastest reader
here (python-calamine) and with openpyxl (the reader ingest uses for .xlsx, for the
number formats), and ingest memory on large files as a ratio to a bare read.

Run: .venv/bin/python benchmarks/bench_ingest.py [--profile realistic] [--repeat 3]
     [--large-rows 100000] [--large-xlsx-rows 30000]
Prints the wall time of `workbench ingest` (parse, validate, write Parquet and
DuckDB) divided by a bare read of the cells, on the realistic province and on one
large workbook. Target against openpyxl: ratio ≤ 3 — validation and writing should
cost less than twice the unavoidable reading. Against calamine the ratio also holds
what openpyxl costs more than calamine (read_xlsx.py says why it is kept).

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

import python_calamine
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


def calamine_read(folder: Path) -> int:
    """The same cells read with python-calamine: values only, no number formats."""
    cells = 0
    for path in sorted(folder.glob("*.xlsx")):
        book = python_calamine.CalamineWorkbook.from_path(str(path))
        for name in book.sheet_names:
            for row in book.get_sheet_by_name(name).iter_rows():
                cells += len(row)
        book.close()
    return cells


def write_large_xlsx(folder: Path, rows: int) -> float:
    """One report workbook of ``rows`` school-year rows (every panel column); its MiB."""
    from tests.helpers import panel_rows
    from tests.office_files import write_book

    panel = synth.generate(profile="clean").panel
    lines = panel_rows(panel)
    body = [list(lines[1 + i % (len(lines) - 1)]) for i in range(rows)]
    for i, line in enumerate(body):
        line[0] = f"{i:08d}"
    folder.mkdir(parents=True, exist_ok=True)
    path = write_book(folder / "bao_cao_lon.xlsx", [lines[0], *body])
    return path.stat().st_size / 2**20


def best_of(repeat: int, func, *args) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        func(*args)
        times.append(time.perf_counter() - start)
    return min(times)


# The child's own high-water mark (VmHWM), above what it holds at the start: ru_maxrss
# would carry over the parent's peak through exec and hide anything smaller.
PEAK = """
def status(key):
    for line in open("/proc/self/status"):
        if line.startswith(key + ":"):
            return int(line.split()[1])
base = status("VmRSS")
{body}
print((status("VmHWM") - base) / 1024)
"""
IMPORTS = (
    "import pandas, pyarrow, pandera, duckdb, openpyxl, python_calamine\n"
    "from analysis import ingest\n"
)


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


def _speed(what: str, raw: Path, out: Path, repeat: int) -> None:
    """Print ingest ÷ each bare read of the workbooks under ``raw``."""
    fastest = best_of(repeat, calamine_read, raw)
    read = best_of(repeat, bare_read, raw)
    full = best_of(repeat, lambda: ingest.ingest(raw, out_dir=out))
    print(f"{what}: bare calamine read {fastest:.2f} s, bare openpyxl read {read:.2f} s")
    print(f"{what}: ingest (parse, validate, write) {full:.2f} s")
    print(f"{what}: ratio openpyxl read / calamine read: {read / fastest:.2f}")
    print(f"{what}: ratio ingest / bare calamine read: {full / fastest:.2f}")
    print(f"{what}: ratio ingest / bare openpyxl read: {full / read:.2f} (target <= 3)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="realistic", choices=list(synth.PROFILES))
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--large-rows", type=int, default=100_000)
    parser.add_argument("--large-xlsx-rows", type=int, default=30_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        raw, out = Path(tmp) / "raw", Path(tmp) / "out"
        synth.write(synth.generate(profile=args.profile), raw)
        _speed(f"{args.profile} province", raw, out, args.repeat)
    if args.large_xlsx_rows:
        with tempfile.TemporaryDirectory() as tmp:
            raw, out = Path(tmp) / "raw", Path(tmp) / "out"
            size = write_large_xlsx(raw, args.large_xlsx_rows)
            print(f"large workbook: {args.large_xlsx_rows} rows, {size:.0f} MiB")
            _speed("large workbook", raw, out, 1)
            held = peak_mib(f"ingest.ingest({str(raw)!r}, write=False)")
            book = str(raw / "bao_cao_lon.xlsx")
            bare = peak_mib(
                f"book = python_calamine.CalamineWorkbook.from_path({book!r})\n"
                "rows = book.get_sheet_by_index(0).to_python()"
            )
            print(f"peak memory: ingest {held:.0f} MiB, bare calamine read {bare:.0f} MiB")
            print(f"ratio ingest peak / bare read peak: {held / bare:.2f} (target <= 2)")
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
