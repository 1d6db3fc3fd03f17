"""The table contracts: which columns each table has, their types and ranges.

Everything is read from ``config/columns.yml`` so that ingest, the generator,
validation and the tests agree. :func:`pandera_schema` turns a contract into a
pandera schema; :func:`rules` returns the cross-field validation rules.
"""

from __future__ import annotations

import difflib
import operator
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pandera.pandas as pa

from analysis.core import paths
from analysis.core.config import ConfigError, load_yaml
from analysis.core.text import header_key

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
    """One canonical column of a table contract.

    Attributes
    ----------
    name : str
        The canonical column name (``enrolment``).
    header : str
        The header in the DOET's Vietnamese reporting template.
    en : str
        The English label.
    dtype : str
        One of :data:`DTYPES`: ``int``, ``float``, ``bool``, ``str``, ``date``,
        ``school_year``.
    nullable : bool
        False when a blank cell rejects the row.
    min, max : float or None
        The valid range, inclusive; None for open.
    percent : bool
        The template asks for a percentage (0–100): ``"85%"`` reads as 85.
    synonyms : tuple of str
        Other headers seen in the field.
    values : dict
        For coded text columns: code → accepted spellings.
    """

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
        """The column's label for a reader.

        Parameters
        ----------
        lang
            ``vi`` gives the template header; any other value the English label.
        """
        return self.header if lang == "vi" else self.en

    @property
    def range_text(self) -> str:
        """The valid range as text: ``"0 to 100"``, ``"1 to ∞"``."""
        low = "-∞" if self.min is None else f"{self.min:g}"
        high = "∞" if self.max is None else f"{self.max:g}"
        return f"{low} to {high}"


@dataclass(frozen=True)
class Rule:
    """A cross-field validation rule: ``left op right``.

    Attributes
    ----------
    id : str
        The rule's id, also the reject rule name (``connected_le_computers``).
    left, right : str
        Column names (ingest rules) or expressions over columns (quality rules).
    op : str
        A comparison of :data:`OPERATORS`: ``<=``, ``<``, ``>=``, ``>``, ``==``.
    vi, en : str
        The message when the rule is broken.
    """

    id: str
    left: str
    op: str
    right: str
    vi: str
    en: str

    def holds(self, frame: pd.DataFrame) -> pd.Series:
        """True where the rule holds or cannot be evaluated (a blank side).

        Parameters
        ----------
        frame
            A table with the columns ``left`` and ``right``.

        Returns
        -------
        pandas.Series
            One bool per row of ``frame``.
        """
        left, right = frame[self.left], frame[self.right]
        result = OPERATORS[self.op](left, right)
        return (result | left.isna() | right.isna()).fillna(True).astype(bool)

    def text(self, lang: str = "en") -> str:
        """The rule's message for a reader.

        Parameters
        ----------
        lang
            ``vi`` gives the Vietnamese message; any other value the English one.
        """
        return self.vi if lang == "vi" else self.en


def _columns_file() -> Path:
    return paths.config_dir() / "columns.yml"


def contract(table: str) -> dict[str, ColumnSpec]:
    """The columns of ``table`` (one of :data:`TABLES`), in template order.

    Parameters
    ----------
    table
        ``panel``, ``schools``, ``units``, ``membership`` or ``crosswalk``.

    Returns
    -------
    dict of str to ColumnSpec
        Column name → its contract, as listed in ``config/columns.yml``.

    Raises
    ------
    KeyError
        ``table`` is not one of :data:`TABLES`.
    ConfigError
        The section is missing, or a column has an unknown dtype or no
        ``header`` or ``en``.
    """
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


@dataclass(frozen=True)
class YesNo:
    """The words a yes/no column accepts (``yes_no`` in ``config/columns.yml``).

    ``yes`` and ``no`` hold the words as typed, for messages; ``keys`` maps each
    word's header key (:func:`~analysis.core.text.header_key`) to its answer.
    """

    yes: tuple[str, ...]
    no: tuple[str, ...]
    keys: dict[str, bool]

    def text(self) -> str:
        """The accepted words for a message: ``Có, Đã có… / Không, Chưa có…``."""
        return f"{', '.join(self.yes)} / {', '.join(self.no)}"


def abbreviations() -> dict[str, str]:
    """Header word → the words it abbreviates (``abbreviations`` in ``config/columns.yml``),
    both as header keys: ``{"hs": "hoc sinh", "gv": "giao vien", …}``."""
    raw = load_yaml(_columns_file()).get("abbreviations") or {}
    return {header_key(k): header_key(v) for k, v in raw.items() if header_key(k)}


def match_key(text: object, expand: dict[str, str]) -> str:
    """The key a header is matched by: :func:`header_key` with each abbreviation of
    ``expand`` (:func:`abbreviations`) spelt out, so "Tổng số HS" matches "Tổng số học sinh".

    Example
    -------
    >>> match_key("Tổng số HS", {"hs": "hoc sinh"})
    'tong so hoc sinh'
    """
    key = header_key(text)
    if not expand:
        return key
    return " ".join(expand.get(word, word) for word in key.split())


def similarity(header: object, spec: ColumnSpec, expand: dict[str, str]) -> float:
    """How much a header looks like a column (0–1): the best, over the column's name,
    header, English name and synonyms, of the character ratio and the share of words
    in common, after :func:`match_key`. Used to suggest a column for a header that
    matched none ("Cán bộ GV" for ``teachers``)."""
    key = match_key(header, expand)
    best = 0.0
    for name in (spec.name, spec.header, spec.en, *spec.synonyms):
        other = match_key(name, expand)
        ratio = difflib.SequenceMatcher(None, key, other).ratio()
        words, theirs = set(key.split()), set(other.split())
        overlap = len(words & theirs) / max(len(words | theirs), 1)
        best = max(best, ratio, overlap)
    return best


def yes_no() -> YesNo:
    """The yes/no vocabulary of ``config/columns.yml``, in both languages.

    Returns
    -------
    YesNo
        The words for yes and for no.

    Raises
    ------
    ConfigError
        The section is missing or empty, or one word means both yes and no.
    """
    source = _columns_file()
    entry = load_yaml(source).get("yes_no") or {}
    yes = tuple(str(w) for w in entry.get("yes_words") or ())
    no = tuple(str(w) for w in entry.get("no_words") or ())
    if not yes or not no:
        raise ConfigError(f"{source}: yes_no needs yes_words and no_words")
    keys = {header_key(w): True for w in yes}
    both = sorted(w for w in no if keys.get(header_key(w)))
    if both:
        raise ConfigError(f"{source}: yes_no: {', '.join(both)} is both a yes and a no word")
    keys.update({header_key(w): False for w in no})
    return YesNo(yes, no, keys)


def rules() -> list[Rule]:
    """Cross-field rules for the school-year panel.

    Returns
    -------
    list of Rule
        The ``rules`` of ``config/columns.yml``, in file order.

    Raises
    ------
    ConfigError
        A rule has an unknown operator or names a column not in the panel contract.
    """
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
    """Column name → pandas dtype of a processed table, in order.

    Parameters
    ----------
    table
        One of :data:`TABLES`.

    Returns
    -------
    dict of str to str
        Dtypes from :data:`PANDAS_DTYPE` (``Int64``, ``boolean``…); a
        ``school_year`` column becomes two: ``year`` (int64, the end year) and the
        column itself as text (``"2020-2021"``).

    Raises
    ------
    KeyError, ConfigError
        As for :func:`contract`.
    """
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

    Returns
    -------
    pandera.DataFrameSchema
        Column dtypes (not coerced), ranges and known codes from the contract,
        ``year`` in 1990–2100 and the school year as ``YYYY-YYYY``, the panel's
        cross-field rules (:func:`rules`) as frame checks; extra columns allowed.

    Raises
    ------
    KeyError, ConfigError
        As for :func:`contract` and :func:`rules`.

    Example
    -------
    >>> schema.pandera_schema("panel").validate(panel, lazy=True)  # doctest: +SKIP
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
