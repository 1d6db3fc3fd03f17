"""The rules of ``config/privacy.yml``: which headers are personal, which cells count persons.

:func:`load_rules` reads the file (cached until it changes) into :class:`Rules`, whose
header keys cover every name and label a column goes by (``labels.yml``,
``columns.yml``, ``pupils.yml``); :func:`_count_cells` marks the person-count cells of
a table, by column and, in an indicator table, by row.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from analysis.core import i18n, paths
from analysis.core.config import ConfigError, load_yaml
from analysis.core.text import header_key
from analysis.measures import indicators

_COMPARISON = re.compile(r"[<>]|==|!=")


def rules_path() -> Path:
    """Where the rules live.

    Returns
    -------
    Path
        ``config/privacy.yml`` of the project.
    """
    return paths.config_dir() / "privacy.yml"


@dataclass(frozen=True)
class Rules:
    """The privacy rules (``config/privacy.yml``), with every column's header keys."""

    k: int
    person_counts: dict[str, tuple[str, ...]]
    descriptive: frozenset[str]
    from_earlier_years: dict[str, int]
    # values of those columns that are decided by their own row (a status "met" or
    # "not met" compares the row's value with its target): kept when an earlier year is not
    own_row: dict[str, frozenset[str]]
    personal: dict[str, tuple[str, ...]]
    yearly_change: frozenset[str]  # counts whose change from one year to the next counts persons
    aliases: dict[str, str] = field(repr=False)  # header key -> canonical column name
    personal_keys: frozenset[str] = field(repr=False)
    count_keys: frozenset[str] = field(repr=False)

    @property
    def count_columns(self) -> frozenset[str]:
        """Every column declared under ``person_counts``, of any kind."""
        return frozenset(c for names in self.person_counts.values() for c in names)

    def canonical(self, header: Any) -> str | None:
        """The canonical column a header names (by name or label), or None."""
        return self.aliases.get(header_key(header))

    def is_personal(self, header: Any) -> bool:
        """Whether a header names a personal column (by name or label, either language)."""
        return header_key(header) in self.personal_keys

    def is_count(self, header: Any, extra: frozenset[str] = frozenset()) -> bool:
        """Whether a header names a person count, or one of ``extra`` (header keys)."""
        key = header_key(header)
        return key in self.count_keys or key in extra

    def is_descriptive(self, header: Any) -> bool:
        """Whether a header names a ``descriptive`` column (never suppressed)."""
        return self.canonical(header) in self.descriptive or str(header) in self.descriptive


def _strings(value: Any) -> list[str]:
    """A YAML value that is one string, a list of them or nothing, as a list."""
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    return [str(v) for v in value]


def _known_columns() -> list[tuple[str, list[str]]]:
    """(canonical name, its labels) from labels.yml, columns.yml and pupils.yml."""
    out: list[tuple[str, list[str]]] = []
    for name, entry in (i18n.catalogue().get("columns") or {}).items():
        out.append((name, [v for v in entry.values() if isinstance(v, str)]))
    config = paths.config_dir()
    contracts = load_yaml(config / "columns.yml") or {}
    for table in contracts.values():
        if not isinstance(table, dict):
            continue
        for name, spec in table.items():
            if isinstance(spec, dict) and ("header" in spec or "en" in spec):
                labels = [spec.get("header"), spec.get("en"), *(spec.get("synonyms") or [])]
                out.append((name, [str(v) for v in labels if v]))
    pupils = load_yaml(config / "pupils.yml") or {}
    for name, spec in (pupils.get("columns") or {}).items():
        if isinstance(spec, dict):
            labels = [spec.get("header"), spec.get("en"), *(spec.get("synonyms") or [])]
            out.append((name, [str(v) for v in labels if v]))
    return out


@functools.lru_cache(maxsize=8)
def _load(path: str, stamp: float) -> Rules:
    """The rules of one file at one modification time (``stamp`` keys the cache)."""
    raw = load_yaml(Path(path))
    if not isinstance(raw, dict) or "k" not in raw:
        raise ConfigError(f"{path}: expected a mapping with k, person_counts and personal")
    k = raw["k"]
    if not isinstance(k, int) or isinstance(k, bool) or k < 2:
        raise ConfigError(f"{path}: k should be a whole number of at least 2, not {k!r}")
    counts = {kind: tuple(_strings(v)) for kind, v in (raw.get("person_counts") or {}).items()}
    personal: dict[str, tuple[str, ...]] = {}
    for name, labels in (raw.get("personal") or {}).items():
        if not isinstance(labels, dict) or set(labels) != set(i18n.LANGUAGES):
            raise ConfigError(f"{path}: personal.{name} needs labels in vi and en")
        personal[name] = tuple(s for lang in i18n.LANGUAGES for s in _strings(labels[lang]))
    personal_keys = {header_key(n) for n in personal}
    personal_keys |= {header_key(s) for labels in personal.values() for s in labels}
    count_names = {c for names in counts.values() for c in names}
    count_keys = {header_key(c) for c in count_names}
    for kind, labels in (raw.get("count_labels") or {}).items():
        if kind not in counts:
            raise ConfigError(f"{path}: count_labels.{kind} is not a kind of person_counts")
        count_keys |= {header_key(s) for lang in labels for s in _strings(labels[lang])}
    earlier = {str(c): int(n) for c, n in (raw.get("from_earlier_years") or {}).items()}
    own_row = {}
    for column, values in (raw.get("own_row_values") or {}).items():
        if column not in earlier:
            raise ConfigError(f"{path}: own_row_values.{column} is not under from_earlier_years")
        codes = _strings(values)  # a status code, and its label in either language
        own_row[str(column)] = frozenset(
            codes + [i18n.label(column, c, lang) for c in codes for lang in i18n.LANGUAGES]
        )
    aliases: dict[str, str] = {}
    known = _known_columns()
    for name, _ in known:  # a canonical name first: it wins over another column's label
        aliases.setdefault(header_key(name), name)
    for name, labels in known:
        for label in labels:
            aliases.setdefault(header_key(label), name)
    for name, labels in known:  # a labelled person count is a count under any label
        if name in count_names:
            count_keys |= {header_key(label) for label in labels}
    for key in personal_keys:
        count_keys.discard(key)
    # an indicator's name heads a column of its values (a share, a ratio), never a count,
    # even where it reads like a count column's label ("Teachers with an online-training
    # account" is both): wide tables keyed by indicator name are not person counts

    for ind in indicators.load_indicators():
        for name in ind.name.values():
            count_keys.discard(header_key(name))
    return Rules(
        k=k,
        person_counts=counts,
        descriptive=frozenset(_strings(raw.get("descriptive"))),
        from_earlier_years=earlier,
        own_row=own_row,
        personal=personal,
        yearly_change=frozenset(_strings(raw.get("yearly_change_counts"))),
        aliases=aliases,
        personal_keys=frozenset(personal_keys),
        count_keys=frozenset(count_keys),
    )


def load_rules(path: Path | str | None = None) -> Rules:
    """The rules of ``config/privacy.yml`` (or ``path``); re-read when the file changes.

    Parameters
    ----------
    path
        Another rules file (default :func:`rules_path`).

    Returns
    -------
    Rules
        ``k``, the person counts, descriptive and personal columns, with the header
        keys of every name and label they go by.

    Raises
    ------
    ConfigError
        When ``k`` is missing or below 2, a personal column lacks a vi or en label,
        or ``count_labels`` names a kind that ``person_counts`` does not have.
    FileNotFoundError
        When the file does not exist.

    Example
    -------
    >>> load_rules().k  # doctest: +SKIP
    5
    """
    path = Path(path) if path else rules_path()
    # cached until a file it is read from changes (a workspace's override included)
    layers = paths.config_layers(path) or [path]
    return _load(str(path), max(p.stat().st_mtime for p in layers))


def canonical(header: Any) -> str | None:
    """The canonical column a header names (``"Tử số"`` → ``numerator``), or None.

    Parameters
    ----------
    header
        A column header as a table shows it, in either language.

    Returns
    -------
    str or None
        The canonical name, or None when no known column goes by this header.

    Example
    -------
    >>> canonical("Tử số")  # doctest: +SKIP
    'numerator'
    """
    return load_rules().canonical(header)


def marker(lang: str = "vi") -> str:
    """The word a suppressed cell shows.

    Parameters
    ----------
    lang
        ``"vi"`` or ``"en"``.

    Returns
    -------
    str
        ``[ẩn]`` or ``[suppressed]`` (from the labels catalogue).
    """
    return i18n.label("privacy", "marker", lang)


def markers() -> set[str]:
    """The marker in every language.

    Returns
    -------
    set of str
        What a scanner accepts as a suppressed cell.
    """
    return {marker(lang) for lang in i18n.LANGUAGES}


# --------------------------------------------------------------------------
# Indicator tables


@functools.lru_cache(maxsize=4)
def counts_persons(expression: str, count_columns: frozenset[str]) -> bool:
    """Whether an indicator side's expression counts persons: it names a person count and is
    not a comparison (``it_staff > 0`` counts schools that have IT staff, not persons)."""
    if _COMPARISON.search(expression):
        return False
    return bool(indicators.referenced_columns(expression) & count_columns)


def _indicator_sides(count_columns: frozenset[str]) -> dict[str, tuple[bool, bool]]:
    """Indicator id, or its name in vi/en → (numerator counts persons, denominator does)."""

    out: dict[str, tuple[bool, bool]] = {}
    for ind in indicators.load_indicators():
        sides = tuple(
            counts_persons(getattr(ind, side), count_columns)
            for side in ("numerator", "denominator")
        )
        for key in (ind.id, *ind.name.values()):
            out[header_key(key)] = sides
    return out


def _column(frame: pd.DataFrame, rules: Rules, name: str) -> Any:
    """The first column of ``frame`` whose header names canonical column ``name``."""
    for column in frame.columns:
        if rules.canonical(column) == name or header_key(column) == header_key(name):
            return column
    return None


def _count_cells(frame: pd.DataFrame, rules: Rules, counts=()) -> pd.DataFrame:
    """True where a cell counts persons (column rules and indicator rows)."""
    extra = frozenset(header_key(c) for c in counts)
    mask = pd.DataFrame(False, index=frame.index, columns=range(frame.shape[1]))
    for i, column in enumerate(frame.columns):
        if rules.is_count(column, extra):
            mask[i] = True
    ind = _column(frame, rules, "indicator")
    ind = ind if ind is not None else _column(frame, rules, "name")
    if ind is not None:
        sides = _indicator_sides(rules.count_columns)
        keys = frame[ind].map(header_key)
        for side, name in enumerate(("numerator", "denominator")):
            for i, column in enumerate(frame.columns):
                if rules.canonical(column) == name:
                    mask[i] = mask[i] | keys.map(lambda k, s=side: sides.get(k, (False,) * 2)[s])
    return mask
