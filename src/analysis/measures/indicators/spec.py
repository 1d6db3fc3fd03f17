"""The indicator definitions of ``config/indicators.yml`` and the levels they are computed at."""

from __future__ import annotations

import keyword
import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from analysis.core import i18n, paths
from analysis.core.config import ConfigError, load_yaml

DOMAINS = ("infrastructure", "training", "use", "outcome", "governance")


BETTER = ("higher", "lower", "none")


SECTORS = ("in", "cross")


# level → (id column, name column) in a panel joined with the hierarchy
LEVELS: dict[str, tuple[str, str]] = {
    "school": ("school_id", "school_name"),
    "unit": ("unit_id", "unit_name"),
    "district": ("district_id", "district_name"),
    "commune": ("commune_id", "commune_name"),
    "analysis_district": ("analysis_district_id", "analysis_district_name"),
    "province": ("province_id", "province_name"),
    "analysis_province": ("analysis_province_id", "analysis_province_name"),
}


DEFAULT_LEVELS = ("school", "unit", "analysis_district", "analysis_province")


@dataclass(frozen=True)
class Target:
    """A target of an indicator: the value to reach by a school year.

    Attributes
    ----------
    year : int
        End year of the school year the target is for.
    value : float
        The target value, in the indicator's unit.
    source : str
        Where the target comes from (a decision, or a provincial placeholder
        until the DOET's figure replaces it).
    """

    year: int
    value: float
    source: str


@dataclass(frozen=True)
class Indicator:
    """One indicator definition of ``config/indicators.yml``.

    Attributes
    ----------
    id : str
        The indicator's id (``teachers_trained_cds``).
    name : dict
        ``{"vi": …, "en": …}``.
    domain : str
        One of :data:`DOMAINS`.
    numerator, denominator : str
        Expressions over panel columns, summed over the school-years of a unit.
    factor : float
        Multiplies the ratio: 100 for a percentage, 1000 per 1,000, 1 a number.
    unit : dict
        The measure, ``{"vi": …, "en": …}`` (``%``, ``học sinh/máy``).
    better : str
        ``higher``, ``lower`` or ``none`` (no direction: no rank, no status).
    sector : str
        ``in`` (chỉ tiêu nội ngành, the education sector's own) or ``cross``
        (chỉ tiêu ngoại ngành).
    source : str
        The definition's source document.
    targets : tuple of Target
        By year, earliest first.
    bounds : tuple of float or None
        Plausible range of a school's value (outliers), for continuous indicators.
    """

    id: str
    name: dict[str, str]
    domain: str
    numerator: str
    denominator: str
    factor: float
    unit: dict[str, str]
    better: str
    sector: str
    source: str
    targets: tuple[Target, ...] = field(default_factory=tuple)
    bounds: tuple[float, float] | None = None

    def target_for(self, year: int) -> Target | None:
        """The earliest target at or after ``year``.

        Parameters
        ----------
        year
            End year of the school year of a value.

        Returns
        -------
        Target or None
            None when every target is earlier (or there is none).
        """
        later = [t for t in self.targets if t.year >= year]
        return min(later, key=lambda t: t.year) if later else None


def default_path() -> Path:
    """``config/indicators.yml``."""
    return paths.config_dir() / "indicators.yml"


def load_indicators(path: Path | str | None = None) -> list[Indicator]:
    """Read and check the indicator definitions.

    Parameters
    ----------
    path
        The definitions file; default ``config/indicators.yml``.

    Returns
    -------
    list of Indicator
        In file order, targets sorted by year.

    Raises
    ------
    ConfigError
        No ``indicators`` list, a required key missing or blank, a name or unit
        without ``vi`` or ``en``, an unknown domain, direction or sector, a
        duplicate id, or a target without a source.
    """
    path = Path(path) if path else default_path()
    raw = load_yaml(path)
    entries = raw.get("indicators") if isinstance(raw, dict) else None
    if not entries:
        raise ConfigError(f"{path}: no 'indicators' list")
    out, seen = [], set()
    for i, entry in enumerate(entries):
        where = f"{path}: indicators[{i}] ({entry.get('id', '?')})"
        for key in ("id", "name", "domain", "numerator", "denominator", "factor", "better",
                    "sector", "source", "unit"):  # fmt: skip
            if entry.get(key) in (None, ""):
                raise ConfigError(f"{where}: {key!r} is missing")
        for lang in i18n.LANGUAGES:
            if not str(entry["name"].get(lang) or "").strip():
                raise ConfigError(f"{where}: name.{lang} is missing")
            if not str(entry["unit"].get(lang) or "").strip():
                raise ConfigError(f"{where}: unit.{lang} is missing")
        if entry["domain"] not in DOMAINS:
            raise ConfigError(f"{where}: domain {entry['domain']!r} not in {DOMAINS}")
        if entry["better"] not in BETTER:
            raise ConfigError(f"{where}: better {entry['better']!r} not in {BETTER}")
        if entry["sector"] not in SECTORS:
            raise ConfigError(f"{where}: sector {entry['sector']!r} not in {SECTORS}")
        if entry["id"] in seen:
            raise ConfigError(f"{where}: duplicate id")
        seen.add(entry["id"])
        targets = []
        for t in entry.get("targets") or []:
            if not str(t.get("source") or "").strip():
                raise ConfigError(f"{where}: target for {t.get('year')} has no source")
            targets.append(Target(int(t["year"]), float(t["value"]), str(t["source"])))
        bounds = entry.get("bounds")
        out.append(
            Indicator(
                id=entry["id"],
                name=dict(entry["name"]),
                domain=entry["domain"],
                numerator=str(entry["numerator"]),
                denominator=str(entry["denominator"]),
                factor=float(entry["factor"]),
                unit=dict(entry["unit"]),
                better=entry["better"],
                sector=entry["sector"],
                source=str(entry["source"]),
                targets=tuple(sorted(targets, key=lambda t: t.year)),
                bounds=(float(bounds[0]), float(bounds[1])) if bounds else None,
            )
        )
    return out


def referenced_columns(expression: str) -> set[str]:
    """Column names an expression uses (identifiers that are not numbers).

    Parameters
    ----------
    expression
        A numerator or denominator expression (``"teachers_trained_cds"``,
        ``"enrolment / computers_teaching"``).

    Returns
    -------
    set of str
        Its identifiers, Python keywords (``and``, ``or``…) left out.
    """
    names = set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", expression))
    return {n for n in names if not keyword.iskeyword(n) and n not in {"True", "False"}}


def check_expressions(available: set[str], path: Path | str | None = None) -> list[str]:
    """Problems with indicator expressions: columns not in ``available``.

    Parameters
    ----------
    available
        The columns of the table the indicators will be computed on.
    path
        The definitions file; default ``config/indicators.yml``.

    Returns
    -------
    list of str
        One line per numerator or denominator naming unknown columns; empty when
        every expression can be evaluated.
    """
    problems = []
    for ind in load_indicators(path):
        for side in ("numerator", "denominator"):
            unknown = referenced_columns(getattr(ind, side)) - available
            if unknown:
                problems.append(f"{ind.id}.{side}: unknown column(s) {sorted(unknown)}")
    return problems


def _select(indicators: list[Indicator] | list[str] | None) -> list[Indicator]:
    """The definitions asked for (ids or objects; all for None); KeyError for an unknown id."""
    every = load_indicators()
    if indicators is None:
        return every
    by_id = {i.id: i for i in every}
    chosen = []
    for item in indicators:
        if isinstance(item, Indicator):
            chosen.append(item)
        elif item in by_id:
            chosen.append(by_id[item])
        else:
            raise KeyError(f"unknown indicator {item!r}; known: {', '.join(by_id)}")
    return chosen


def definitions(lang: str = "vi") -> pd.DataFrame:
    """The indicator definitions as a table (for reports and the KPI workbook).

    Parameters
    ----------
    lang
        Language of the names, measures and coded words.

    Returns
    -------
    pandas.DataFrame
        One row per indicator: ``indicator``, ``name``, ``domain``, ``sector``,
        ``numerator``, ``denominator``, ``measure``, ``factor``, ``better``
        (labels in ``lang``), ``source`` and ``targets`` (``"2025: 80 (source);
        …"``).
    """
    rows = []
    for ind in load_indicators():
        rows.append(
            {
                "indicator": ind.id,
                "name": ind.name[lang],
                "domain": i18n.label("domains", ind.domain, lang),
                "sector": i18n.label("sectors", ind.sector, lang),
                "numerator": ind.numerator,
                "denominator": ind.denominator,
                "measure": ind.unit[lang],
                "factor": ind.factor,
                "better": i18n.label("better", ind.better, lang),
                "source": ind.source,
                "targets": "; ".join(f"{t.year}: {t.value:g} ({t.source})" for t in ind.targets),
            }
        )
    return pd.DataFrame(rows)


def headline(path: Path | str | None = None) -> list[str]:
    """Ids of the headline indicators (``headline:`` in indicators.yml).

    Parameters
    ----------
    path
        The definitions file; default ``config/indicators.yml``.

    Returns
    -------
    list of str
        In file order: the order of a district brief's headline table.

    Raises
    ------
    ConfigError
        The list names an indicator that is not defined.
    """
    path = Path(path) if path else default_path()
    ids = load_yaml(path).get("headline") or []
    known = {i.id for i in load_indicators(path)}
    unknown = [i for i in ids if i not in known]
    if unknown:
        raise ConfigError(f"{path}: headline names unknown indicators {unknown}")
    return list(ids)
