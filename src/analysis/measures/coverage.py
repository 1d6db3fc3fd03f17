"""What the ingested columns can compute: coverage, said aloud after ingest.

For each indicator (``config/indicators.yml``), each Decision 4725 criterion and
mandatory condition (``config/frameworks/moet_4725.yml``) and each model role
variable of a dataset spec, :func:`coverage` says whether it can be computed from the
columns ingest found with values, and if not which column is missing, in which files,
and the closest header of those files that matched nothing ("Số GV được bồi dưỡng CĐS
lũy kế" looks like ``teachers_trained_cds``: add it to the synonyms).
:func:`unknown_columns` lists every header that matched no column with the same
suggestion, instead of only "kept in extra_values".
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

import pandas as pd

from analysis.data import datasets, schema
from analysis.data.ingest.result import IngestResult
from analysis.measures import maturity
from analysis.measures.indicators import spec as indicator_spec

SUGGEST_AT = 0.6  # the least similarity (0–1) of a header suggested for a column
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
COLUMNS = ["kind", "id", "name_vi", "name_en", "computable", "missing", "missing_headers",
           "missing_in", "suggestion"]  # fmt: skip


@dataclass(frozen=True)
class Need:
    """Something the workbench computes and the columns it needs."""

    kind: str  # indicator | criterion | role
    id: str
    name: dict[str, str]
    columns: tuple[str, ...]


def _columns_in(expression: str, known: set[str]) -> list[str]:
    return [n for n in dict.fromkeys(_NAME.findall(expression)) if n in known]


def needs(dataset: str | None = None) -> list[Need]:
    """Every indicator, 4725 criterion and mandatory condition, and ``dataset``'s model role
    variables (none when ``None``), with the ingested columns each needs."""
    known = {n for t in ("panel", "schools") for n in schema.contract(t)}
    out = [
        Need("indicator", i.id, i.name, tuple(_columns_in(f"{i.numerator} {i.denominator}", known)))
        for i in indicator_spec.load_indicators()
    ]
    for group in maturity.load_framework().groups:
        for condition in group.mandatory:
            name = {"vi": condition["vi"], "en": condition["en"]}
            out.append(Need("criterion", condition["id"], name, (condition["column"],)))
        for criterion in group.criteria:
            out.append(Need("criterion", criterion.id, criterion.name, (criterion.column,)))
    if dataset is not None:
        spec = datasets.read_spec(dataset)
        for role, variables in spec.roles.items():
            for variable in variables:
                expression = spec.derive.get(variable, variable)
                name = {lang: f"{role}: {spec.label(variable, lang)}" for lang in ("vi", "en")}
                out.append(Need("role", variable, name, tuple(_columns_in(expression, known))))
    return out


def found_columns(result: IngestResult) -> dict[str, set[str]]:
    """Column → the files whose header has it (panel and school register sheets)."""
    found: dict[str, set[str]] = {}
    for info in result.files:
        for column in info["columns"].values():
            found.setdefault(column, set()).add(info["file"])
    return found


def _filled(result: IngestResult) -> set[str]:
    """The columns with at least one value in the accepted rows."""
    out: set[str] = set()
    for table in ("panel", "schools"):
        frame = result.tables.get(table)
        if frame is not None:
            out |= {c for c in frame.columns if frame[c].notna().any()}
    return out


def _similarity(header: str, column: str, expand: dict[str, str]) -> float:
    spec = _spec(column)
    return schema.similarity(header, spec, expand) if spec else 0.0


def _spec(column: str) -> schema.ColumnSpec | None:
    for table in ("panel", "schools"):
        contract = schema.contract(table)
        if column in contract:
            return contract[column]
    return None


def _files_for(column: str, result: IngestResult) -> list[str]:
    """The files a column belongs in: the school register's for a register column (or the
    words "no school register" when none was read), else the reports'."""
    table = "panel" if column in schema.contract("panel") else "schools"
    files = sorted({i["file"] for i in result.files if i["table"] == table})
    return files or (["no school register"] if table == "schools" else [])


def _header(column: str) -> str:
    spec = _spec(column)
    return spec.header if spec else column


def closest(header: str, columns: Iterable[str]) -> tuple[str, float] | None:
    """The column of ``columns`` a header most looks like, and how much (0–1), or None."""
    expand = schema.abbreviations()
    scored = [(_similarity(header, c, expand), c) for c in columns]
    if not scored:
        return None
    score, column = max(scored)
    return (column, score) if score >= SUGGEST_AT else None


def _unknown_headers(result: IngestResult) -> list[tuple[str, str]]:
    return [(info["file"], h) for info in result.files for h in info["unknown_columns"]]


def _advice(header: str, file: str, column: str) -> str:
    return (
        f"the header {header!r} in {file} looks like {column}: add it to its synonyms "
        f"in config/columns.yml"
    )


def coverage(result: IngestResult, dataset: str | None = None) -> pd.DataFrame:
    """Whether each indicator, criterion and role can be computed, and why not.

    Parameters
    ----------
    result
        What :func:`analysis.data.ingest.ingest` returned.
    dataset
        The dataset spec whose model roles are checked; ``None``: indicators and criteria.

    Returns
    -------
    pandas.DataFrame
        One row per need: ``kind``, ``id``, ``name_vi``, ``name_en``, ``computable``,
        ``missing`` (the columns with no value, comma-separated), ``missing_in`` (the
        report files whose header lacks them) and ``suggestion`` (the closest unknown
        header, and what to do).
    """
    found, filled = found_columns(result), _filled(result)
    unknown = _unknown_headers(result)
    expand = schema.abbreviations()
    rows = []
    for need in needs(dataset):
        missing = [c for c in need.columns if c not in filled]
        lacking = sorted(
            {f for c in missing for f in _files_for(c, result) if f not in found.get(c, ())}
        )
        advice = []
        for column in missing:
            best = max(
                ((_similarity(h, column, expand), h, f) for f, h in unknown),
                default=None,
            )
            if best and best[0] >= SUGGEST_AT:
                advice.append(_advice(best[1], best[2], column))
        rows.append(
            {
                "kind": need.kind,
                "id": need.id,
                "name_vi": need.name.get("vi", need.id),
                "name_en": need.name.get("en", need.id),
                "computable": not missing,
                "missing": ", ".join(missing),
                "missing_headers": ", ".join(_header(c) for c in missing),
                "missing_in": ", ".join(lacking),
                "suggestion": "; ".join(dict.fromkeys(advice)),
            }
        )
    return pd.DataFrame(rows, columns=COLUMNS)


def unknown_columns(result: IngestResult) -> pd.DataFrame:
    """Every header that matched no column: ``file``, ``header`` and ``suggestion`` (the
    closest column not found in that file, when one is close enough)."""
    found = found_columns(result)
    known = [n for t in ("panel", "schools") for n in schema.contract(t)]
    rows = []
    for file, header in _unknown_headers(result):
        absent = [c for c in known if file not in found.get(c, ())]
        best = closest(header, absent)
        advice = _advice(header, file, best[0]) if best else ""
        rows.append({"file": file, "header": header, "suggestion": advice})
    return pd.DataFrame(rows, columns=["file", "header", "suggestion"])


def save(result: IngestResult, dataset: str | None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """:func:`coverage` and :func:`unknown_columns`, written as ``coverage.csv`` and
    ``unknown_columns.csv`` (UTF-8 with BOM, for Excel) beside the tables when ingest
    wrote them."""
    table, unknown = coverage(result, dataset), unknown_columns(result)
    if result.out_dir is not None:
        table.to_csv(result.out_dir / "coverage.csv", index=False, encoding="utf-8-sig")
        unknown.to_csv(result.out_dir / "unknown_columns.csv", index=False, encoding="utf-8-sig")
    return table, unknown
