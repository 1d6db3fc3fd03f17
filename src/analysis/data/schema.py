"""The table contracts: which columns each table has, their types and ranges.

Everything is read from ``config/columns.yml`` so that ingest, the generator,
validation and the tests agree. :func:`pandera_schema` turns a contract into a
pandera schema; :func:`rules` returns the cross-field validation rules.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pandera.pandas as pa

from analysis.core import paths
from analysis.core.config import ConfigError, load_yaml

TABLES = ("panel", "schools", "units", "membership", "crosswalk")
DTYPES = {"int", "float", "bool", "str", "date", "school_year"}

# The pandas dtype each contract type becomes in the processed tables.
PANDAS_DTYPE = {
    "int": "Int64",
    "float": "float64",
    "bool": "boolean",
    "str": "str",
    "date": "datetime64[us]",
}

OPERATORS = {
    "<=": operator.le,
    "<": operator.lt,
    ">=": operator.ge,
    ">": operator.gt,
    "==": operator.eq,
}


@dataclass(frozen=True)
class ColumnSpec:
    """One canonical column of a table contract."""

    name: str
    header: str
    en: str
    dtype: str
    nullable: bool = True
    min: float | None = None
    max: float | None = None
    percent: bool = False
    synonyms: tuple[str, ...] = field(default_factory=tuple)
    values: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def label(self, lang: str = "vi") -> str:
        return self.header if lang == "vi" else self.en

    @property
    def range_text(self) -> str:
        low = "-∞" if self.min is None else f"{self.min:g}"
        high = "∞" if self.max is None else f"{self.max:g}"
        return f"{low} to {high}"


@dataclass(frozen=True)
class Rule:
    """A cross-field validation rule: ``left op right``."""

    id: str
    left: str
    op: str
    right: str
    vi: str
    en: str

    def holds(self, frame: pd.DataFrame) -> pd.Series:
        """True where the rule holds or cannot be evaluated (a blank side)."""
        left, right = frame[self.left], frame[self.right]
        result = OPERATORS[self.op](left, right)
        return (result | left.isna() | right.isna()).fillna(True).astype(bool)

    def text(self, lang: str = "en") -> str:
        return self.vi if lang == "vi" else self.en


def _columns_file() -> Path:
    return paths.config_dir() / "columns.yml"


def contract(table: str) -> dict[str, ColumnSpec]:
    """The columns of ``table`` (one of :data:`TABLES`), in template order."""
    if table not in TABLES:
        raise KeyError(f"unknown table {table!r}; expected one of {', '.join(TABLES)}")
    source = _columns_file()
    raw = load_yaml(source).get(table)
    if not isinstance(raw, dict):
        raise ConfigError(f"{source}: section {table!r} is missing")
    specs = {}
    for name, entry in raw.items():
        dtype = entry.get("dtype")
        if dtype not in DTYPES:
            raise ConfigError(f"{source}: {table}.{name}: dtype {dtype!r} not in {sorted(DTYPES)}")
        for key in ("header", "en"):
            if not entry.get(key):
                raise ConfigError(f"{source}: {table}.{name}: {key!r} is missing")
        specs[name] = ColumnSpec(
            name=name,
            header=entry["header"],
            en=entry["en"],
            dtype=dtype,
            nullable=bool(entry.get("nullable", True)),
            min=entry.get("min"),
            max=entry.get("max"),
            percent=bool(entry.get("percent", False)),
            synonyms=tuple(entry.get("synonyms") or ()),
            values={k: tuple(v) for k, v in (entry.get("values") or {}).items()},
        )
    return specs


def rules() -> list[Rule]:
    """Cross-field rules for the school-year panel."""
    source = _columns_file()
    panel = contract("panel")
    out = []
    for entry in load_yaml(source).get("rules", []):
        rule = Rule(**entry)
        if rule.op not in OPERATORS:
            raise ConfigError(f"{source}: rule {rule.id}: operator {rule.op!r} unknown")
        for side in (rule.left, rule.right):
            if side not in panel:
                raise ConfigError(f"{source}: rule {rule.id}: column {side!r} not in the panel")
        out.append(rule)
    return out


def processed_columns(table: str) -> dict[str, str]:
    """Column name → pandas dtype of a processed table, in order."""
    columns: dict[str, str] = {}
    for name, spec in contract(table).items():
        if spec.dtype == "school_year":
            columns["year"] = "int64"
            columns[name] = "str"
        else:
            columns[name] = PANDAS_DTYPE[spec.dtype]
    return columns


def _column_checks(spec: ColumnSpec) -> list[pa.Check]:
    checks = []
    if spec.min is not None and spec.max is not None:
        checks.append(pa.Check.in_range(spec.min, spec.max, name=f"range {spec.range_text}"))
    elif spec.min is not None:
        checks.append(pa.Check.ge(spec.min, name=f"range {spec.range_text}"))
    elif spec.max is not None:
        checks.append(pa.Check.le(spec.max, name=f"range {spec.range_text}"))
    return checks


def pandera_schema(table: str, *, unique: bool = True) -> pa.DataFrameSchema:
    """The pandera schema of a processed table.

    Parameters
    ----------
    table
        One of :data:`TABLES`.
    unique
        Add the table's key uniqueness check ((school, year) for the panel).
    """
    specs = contract(table)
    columns: dict[str, pa.Column] = {}
    for name, spec in specs.items():
        if spec.dtype == "school_year":
            columns["year"] = pa.Column("int64", pa.Check.in_range(1990, 2100), nullable=False)
            columns[name] = pa.Column("str", pa.Check.str_matches(r"^\d{4}-\d{4}$"), nullable=False)
            continue
        checks = _column_checks(spec)
        if spec.values:
            checks.append(pa.Check.isin(sorted(spec.values), name="known code"))
        columns[name] = pa.Column(
            PANDAS_DTYPE[spec.dtype], checks, nullable=spec.nullable, coerce=False
        )
    frame_checks: list[pa.Check] = []
    if table == "panel":
        for rule in rules():
            frame_checks.append(pa.Check(rule.holds, name=rule.id))
    keys = {
        "panel": ["school_id", "year"],
        "schools": ["school_id"],
        "units": ["unit_id"],
        "crosswalk": ["new_unit_id", "old_unit_id"],
    }
    return pa.DataFrameSchema(
        columns,
        checks=frame_checks,
        unique=keys.get(table) if unique else None,
        strict=False,
        ordered=False,
    )
