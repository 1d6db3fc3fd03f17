"""Raw school reports → validated tables in ``data/processed``: the whole step.

A raw folder holds Excel workbooks (``.xlsx``) and CSV files as a DOET
receives them: a title above the header, Vietnamese headers with or without
diacritics, numbers typed the Vietnamese way. Each sheet is recognised by its
headers (school-year report, school register, units, memberships,
crosswalk), parsed against ``config/columns.yml`` and validated with pandera.

Every data row ends up either in a processed table or in ``rejects`` with
file, sheet, row, column, value and rule; :class:`IngestResult` keeps the
count so that input rows = accepted + rejected holds, and tests check it.
A fatal problem raises :class:`IngestError` naming the file and column.

The stages, each a module of this package: :mod:`.read` (with :mod:`.read_csv` and
:mod:`.read_xlsx`), :mod:`.detect`, :mod:`.parse`, :mod:`.validate`, :mod:`.write`.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from analysis.core import paths, provenance
from analysis.core.text import is_na
from analysis.data import catalog, hierarchy, schema
from analysis.data.ingest.detect import TABLE_ORDER, Detected, detect
from analysis.data.ingest.errors import IngestError
from analysis.data.ingest.parse import ParsedSheet, extra_frame, parse_sheet
from analysis.data.ingest.read import discover, open_sheets
from analysis.data.ingest.result import IngestResult
from analysis.data.ingest.sheet import Sheet, col_letter, display_path, sheet_suffix
from analysis.data.ingest.validate import finish_table, rejected_schools, rejects_frame
from analysis.data.ingest.write import write_outputs


def ingest(
    path: Path | str,
    *,
    out_dir: Path | str | None = None,
    write: bool = True,
    progress: Callable[[Iterable[Path]], Iterable[Path]] | None = None,
) -> IngestResult:
    """Read a raw file or folder into validated tables.

    Parameters
    ----------
    path
        A raw file (``.xlsx``/``.csv``) or a folder of them.
    out_dir
        Where to write Parquet files and the DuckDB database; defaults to
        ``data/processed``.
    write
        ``False`` validates without writing anything.
    progress
        Wraps the file list, e.g. a progress bar.

    Returns
    -------
    IngestResult
        The accepted tables (and ``school_hierarchy`` when schools, units and
        memberships were read), every rejected row with its reason, the values of
        unknown columns, what was read from each sheet, the row accounting and the
        warnings; ``out_dir`` is set when the tables were written.

    Raises
    ------
    IngestError
        When a file cannot be read, has no recognisable header, lacks a required
        column or a school year, or when neither school-year reports nor a school
        register were found.

    Example
    -------
    >>> result = ingest("data/raw", write=False)  # doctest: +SKIP
    >>> result.accounting_holds()  # doctest: +SKIP
    True
    >>> result.rejects.groupby("rule").size()  # doctest: +SKIP
    """
    path = Path(path)
    files = discover(path)
    read = _Read({t: [] for t in TABLE_ORDER})
    for file in progress(files) if progress else files:
        _read_file(file, read)
    if not read.parsed["panel"] and not read.parsed["schools"]:
        raise IngestError(
            display_path(path), "found neither school-year reports nor a school register"
        )
    tables, problems = _finish_tables(read)
    read.warnings += _add_hierarchy(tables)
    result = _result(read, tables, problems)
    result.synthetic = all((f.parent / catalog.TRUTH_FILE).is_file() for f in files)
    if write:
        result.out_dir = write_outputs(result, Path(out_dir) if out_dir else paths.processed_dir())
    return result


@dataclass
class _Read:
    """What reading the files gathered: parsed sheets by table, file records, warnings."""

    parsed: dict[str, list[ParsedSheet]]
    files: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def _read_file(file: Path, read: _Read) -> None:
    """Recognise and parse every sheet of ``file`` into ``read``; skip unknown sheets."""
    shown = display_path(file)
    digest = provenance.sha256_file(file)
    recognised = 0
    with open_sheets(file) as sheets:
        for sheet in sheets:
            where = f"{shown}{sheet_suffix(sheet)}"
            found = detect(sheet)
            if found is None:
                if _holds_data(sheet):
                    read.warnings.append(f"{where}: no known table header found; sheet skipped")
                continue
            recognised += 1
            result = parse_sheet(sheet, found, file)
            result.file_info["sha256"] = digest
            read.parsed[found.table].append(result)
            read.files.append(result.file_info)
            read.warnings.extend(sheet.notes)
            read.warnings += _sheet_warnings(where, found, result)
    if not recognised:
        raise IngestError(
            shown,
            "no sheet has a recognisable header row",
            expected=["a header row with at least 'Mã trường' and 'Năm học' or 'Số học sinh'"],
        )


def _holds_data(sheet: Sheet) -> bool:
    """Whether an unrecognised sheet has any filled cell in its first thousand or so rows."""
    rows = itertools.chain(sheet.head, itertools.islice(sheet.rest, 1000))
    return any(any(not is_na(c) for c in r) for r in rows)


def _sheet_warnings(where: str, found: Detected, result: ParsedSheet) -> list[str]:
    """Misspelt headers read as a column, unknown columns, a header with no rows under it."""
    warnings = []
    for pos, header in found.guessed.items():
        name = found.columns[pos]
        spec = schema.contract(found.table)[name]
        warnings.append(
            f"{where}: header {header!r} (column {col_letter(pos)}) read as "
            f"{spec.header!r} ({name}); check the spelling"
        )
    for header in found.unknown.values():
        warnings.append(f"{where}: unknown column {header!r} kept in extra_values")
    if result.input_rows == 0:
        warnings.append(f"{where}: no data rows under the header (row {found.header_index + 1})")
    return warnings


def _finish_tables(read: _Read) -> tuple[dict[str, pd.DataFrame], list[dict[str, Any]]]:
    """Validate each table in :data:`TABLE_ORDER`, the schools first as the register."""
    tables: dict[str, pd.DataFrame] = {}
    problems: list[dict[str, Any]] = []
    register, rejected = None, None
    for table in TABLE_ORDER:
        if not read.parsed[table]:
            continue
        out, found_problems, found_warnings = finish_table(
            table, read.parsed[table], register, rejected
        )
        tables[table] = out
        problems += found_problems
        read.warnings += found_warnings
        if table == "schools":
            register = dict(zip(out["school_id"], out["school_name"], strict=True))
            rejected = rejected_schools(found_problems, register)
    if "schools" not in tables:
        read.warnings.append("no school register found: school ids are not checked against one")
    return tables, problems


def _add_hierarchy(tables: dict[str, pd.DataFrame]) -> list[str]:
    """Add ``school_hierarchy`` when schools, units and memberships were read; warnings."""
    if not {"schools", "units", "membership"} <= tables.keys():
        return []
    empty_crosswalk = pd.DataFrame(columns=["new_unit_id", "old_unit_id", "share"])
    years = sorted(set(tables["panel"]["year"]) if "panel" in tables else set())
    if years:
        years.append(years[-1] + 1)
    tables["school_hierarchy"] = hierarchy.school_hierarchy(
        schools=tables["schools"],
        units=tables["units"],
        membership=tables["membership"],
        crosswalk=tables.get("crosswalk", empty_crosswalk),
        years=years,
    )
    orphans = tables["school_hierarchy"]["unit_id"].isna().sum()
    if orphans:
        return [f"{orphans} school-years have no managing unit at their reference date"]
    return []


def _result(
    read: _Read, tables: dict[str, pd.DataFrame], problems: list[dict[str, Any]]
) -> IngestResult:
    """The result with its rejects and extra values; raises if the row accounting fails."""
    sheets = [p for ps in read.parsed.values() for p in ps]
    result = IngestResult(
        tables=tables,
        rejects=rejects_frame(problems),
        extra_values=extra_frame(sheets),
        files=read.files,
        input_rows={t: sum(p.input_rows for p in read.parsed[t]) for t in TABLE_ORDER},
        blank_rows=sum(p.blank_rows for p in sheets),
        warnings=read.warnings,
    )
    if not result.accounting_holds():  # a bug, not a user error
        raise AssertionError("row accounting failed: input rows != accepted + rejected")
    return result
