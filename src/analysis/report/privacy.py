"""Privacy rules for anything shared: small-cell suppression and personal columns.

The rules live in ``config/privacy.yml``; :func:`apply` applies them to one table,
:func:`scan` checks a table (a DataFrame, a CSV, every table of an HTML page)
and says what breaks them. The runner applies them to every table a notebook
records (``record.table`` / ``record.data``) before it writes the CSV and the
report without code, to ``figures.csv`` and to the KPI workbook it copies into
``reports/<plan>/``; ``workbench share`` scans everything it puts in the bundle
and refuses to write it when the scan finds a problem.

What is shared and what is not
------------------------------
Shared (rules applied): ``html/*.report.html``, ``data/<run>/*.csv``,
``figures.csv``/``.parquet``, ``kpi_<lang>.xlsx`` and ``index.html`` of
``reports/<plan>/``; the share bundle holds these minus internal runs.
Internal (rules not applied, never in the bundle): the executed notebooks and
``html/*.code.html`` — the researchers' copies, which hold the tables as the
notebook computed them (personal columns and small cells included, since that
is what a researcher with access to the data checks) and carry the "NỘI BỘ /
INTERNAL" mark — and ``manifest.json``. A run is internal when the plan says
``internal: true`` for it or when its notebook calls ``record.internal(...)``
(06_typology does when ``show_names`` lists schools by name; the notebook knows
when its own output is internal, so a plan author cannot forget it).

What the runner rewrites in a report page: the tables. A table recorded with
``record.table`` is shown with the rules applied; any other HTML table whose
headers name a personal column or that shows a small count is replaced by a
note. Figures (images), Markdown and printed text are *not* rewritten: a
notebook draws and writes them from its own data, so a notebook that shows
something computed from a table builds it on :func:`masked` (the table with the
suppressed cells missing), as the district brief does for its headline,
sentences and charts. Complementary suppression below works within one level
of an indicator table, not within each parent unit (see there).

The rule, exactly
-----------------
*Personal columns* — a column whose header is, after normalisation (case,
spacing, punctuation and diacritics ignored), the name or a label in either
language of an entry of ``personal`` (pupil and teacher names and ids, date of
birth, phone, email, national id, home address, parent name) is removed. In a
long table (a ``column`` column naming a column and a ``value`` column holding
its value, like the ingest rejects), the value of a row naming a personal column
is replaced by the marker.

*Person counts* — the cells of a column declared under ``person_counts`` (by
name or label, or passed as ``counts=`` by the notebook; a header that is an
indicator's name heads that indicator's values, not a count), and in an indicator
table (an ``indicator`` id or indicator ``name`` column with ``numerator`` and
``denominator``) the numerator (denominator) of rows whose indicator's
expression in ``config/indicators.yml`` names a person-count column.

*Primary suppression* — a person-count cell with ``0 < value < k`` is *small*.
A row with a small cell is *suppressed*: its small cells and every other cell
show the marker, except the ``descriptive`` columns (names, ids, year, level,
target…) and the person counts that are not small (a school's 40 teachers stay
visible when "3 trained" is hidden: 40 does not give 3 back once the share is
hidden too). Missing cells stay blank (missing is not suppressed). Zero is not
small: it says "nobody", which the rule (counts from 1 to k − 1) allows.

*Complementary suppression* — in an indicator table, the units of one level
add up to the level above (districts to the province), so a single hidden
numerator could be recovered by subtraction from the total. In each group of
rows with the same indicator, year and level, when exactly one row is
suppressed, the other row with the smallest non-zero count in the hidden column(s)
is suppressed too (the same columns). Other tables are protected by primary suppression only:
a notebook that publishes a table of small counts *together with* their total
must leave the total out or add a second suppressed cell itself. Cross-table
differencing (two published tables whose difference is a small group) is not
detected; the shipped tables are whole levels of one hierarchy.

*Earlier years* — columns computed from earlier years of the same series
(``from_earlier_years``: ``change`` from the previous year, ``projected`` and
``status`` from the last three) are suppressed when a row that many years
back in the series is suppressed: ``value − change`` would give it back.

The marker is a visible word in the report's language (``[ẩn]`` / ``[suppressed]``),
never a blank, and a report table with suppressed cells or removed columns
carries a footnote saying why.
"""

from __future__ import annotations

import functools
import html
import math
import numbers
import warnings
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from analysis.core import i18n, paths
from analysis.core.config import ConfigError, load_yaml
from analysis.core.text import header_key
from analysis.measures import indicators


def rules_path() -> Path:
    return paths.config_dir() / "privacy.yml"


@dataclass(frozen=True)
class Rules:
    """The privacy rules (``config/privacy.yml``), with every column's header keys."""

    k: int
    person_counts: dict[str, tuple[str, ...]]
    descriptive: frozenset[str]
    from_earlier_years: dict[str, int]
    personal: dict[str, tuple[str, ...]]
    aliases: dict[str, str] = field(repr=False)  # header key -> canonical column name
    personal_keys: frozenset[str] = field(repr=False)
    count_keys: frozenset[str] = field(repr=False)

    @property
    def count_columns(self) -> frozenset[str]:
        return frozenset(c for names in self.person_counts.values() for c in names)

    def canonical(self, header: Any) -> str | None:
        """The canonical column a header names (by name or label), or None."""
        return self.aliases.get(header_key(header))

    def is_personal(self, header: Any) -> bool:
        return header_key(header) in self.personal_keys

    def is_count(self, header: Any, extra: frozenset[str] = frozenset()) -> bool:
        key = header_key(header)
        return key in self.count_keys or key in extra

    def is_descriptive(self, header: Any) -> bool:
        return self.canonical(header) in self.descriptive


def _strings(value: Any) -> list[str]:
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
        personal=personal,
        aliases=aliases,
        personal_keys=frozenset(personal_keys),
        count_keys=frozenset(count_keys),
    )


def load_rules(path: Path | str | None = None) -> Rules:
    """The rules of ``config/privacy.yml`` (or ``path``); re-read when the file changes."""
    path = Path(path) if path else rules_path()
    return _load(str(path), path.stat().st_mtime)


def canonical(header: Any) -> str | None:
    """The canonical column a header names (``"Tử số"`` → ``numerator``), or None."""
    return load_rules().canonical(header)


def marker(lang: str = "vi") -> str:
    return i18n.label("privacy", "marker", lang)


def markers() -> set[str]:
    return {marker(lang) for lang in i18n.LANGUAGES}


def footnote(lang: str = "vi", *, rules: Rules | None = None) -> str:
    rules = rules or load_rules()
    return i18n.text("privacy", "footnote", lang, marker=marker(lang), k=rules.k)


# --------------------------------------------------------------------------
# Indicator tables


@functools.lru_cache(maxsize=4)
def _indicator_sides(count_columns: frozenset[str]) -> dict[str, tuple[bool, bool]]:
    """Indicator id, or its name in vi/en → (numerator counts persons, denominator does)."""

    out: dict[str, tuple[bool, bool]] = {}
    for ind in indicators.load_indicators():
        sides = tuple(
            bool(indicators.referenced_columns(getattr(ind, side)) & count_columns)
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


def _number(value: Any, parse=None) -> float | None:
    """A cell as a number (None for text, markers and blanks)."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, numbers.Number):
        value = float(value)
        return None if math.isnan(value) else value
    if parse is not None and isinstance(value, str) and value.strip():
        return parse(value.strip())
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


# --------------------------------------------------------------------------
# Applying the rules


@dataclass
class Shared:
    """A table as it may be shared, and what was done to it."""

    frame: pd.DataFrame
    suppressed_cells: int = 0
    suppressed_rows: int = 0
    removed_columns: list[str] = field(default_factory=list)  # and column=name of long tables
    redacted_values: int = 0

    def notes(self, lang: str = "vi", rules: Rules | None = None) -> list[str]:
        """The footnotes a reader needs, in ``lang``."""
        out = []
        if self.suppressed_cells:
            out.append(footnote(lang, rules=rules))
        if self.removed_columns:  # with the long tables' column=name whose values went
            columns = ", ".join(self.removed_columns)
            out.append(i18n.text("privacy", "personal_removed", lang, columns=columns))
        return out


def apply(
    frame: pd.DataFrame,
    *,
    counts=(),
    lang: str = "vi",
    rules: Rules | None = None,
) -> Shared:
    """``frame`` with the privacy rules applied (see the module docstring).

    Suppressed cells hold the marker of ``lang``; the result's columns holding a
    marker become ``object``. ``counts`` adds person-count columns for this table.
    """
    rules = rules or load_rules()
    mark = marker(lang)
    frame = frame.reset_index(drop=True)
    removed = [str(c) for c in frame.columns if rules.is_personal(c)]
    out = frame.drop(columns=[c for c in frame.columns if rules.is_personal(c)]).copy()
    redacted = 0
    col, val = _column(out, rules, "column"), _column(out, rules, "value")
    if col is not None and val is not None and col != val:
        personal_rows = out[col].map(lambda v: isinstance(v, str) and rules.is_personal(v))
        if personal_rows.any():
            out[val] = out[val].astype(object)
            out.loc[personal_rows, val] = mark
            redacted = int(personal_rows.sum())
            named = dict.fromkeys(str(v) for v in out.loc[personal_rows, col])
            removed += [f"{col}={name}" for name in named]
    if out.empty:
        return Shared(out, 0, 0, removed, redacted)

    is_count = _count_cells(out, rules, counts).to_numpy(dtype=bool)
    # counts held as text or categories ("3") are counts too: the share scan reads them so
    num = _numbers(out, parse_plain)
    with np.errstate(invalid="ignore"):
        small = is_count & (num > 0) & (num < rules.k)
    suppressed = small.any(axis=1)
    _complementary(out, rules, is_count, num, small, suppressed)
    extra = _earlier_years(out, rules, suppressed)

    result = out.astype(object)
    descriptive = [rules.is_descriptive(c) for c in out.columns]
    cells = 0
    for r in np.flatnonzero(suppressed):
        for c in range(out.shape[1]):
            keep = descriptive[c] or (is_count[r, c] and not small[r, c])
            if keep or (np.isnan(num[r, c]) and _blank(out.iat[r, c])):
                continue
            result.iat[r, c] = mark
            cells += 1
    for r, c in extra:
        if not suppressed[r] and not _blank(out.iat[r, c]):
            result.iat[r, c] = mark
            cells += 1
    for column in out.columns:  # keep numeric types where nothing was hidden
        if not (result[column] == mark).any():
            result[column] = out[column]
    return Shared(result, cells, int(suppressed.sum()), removed, redacted)


def masked(frame: pd.DataFrame, *, counts=(), rules: Rules | None = None) -> pd.DataFrame:
    """``frame`` with the cells the rules suppress set to missing, personal columns removed,
    and numbers kept numbers — for a notebook that computes what it shows (sentences, charts,
    ranks) from a table: built on the masked table, nothing it shows gives a hidden cell back.
    """
    shared = apply(frame, counts=counts, lang="vi", rules=rules)
    out = shared.frame
    mark = marker("vi")
    for column in out.columns:
        hidden = out[column].map(lambda v: isinstance(v, str) and v == mark)
        if hidden.any():
            kept = frame.reset_index(drop=True)[column]
            out[column] = kept.where(~hidden.to_numpy(), None)
            if pd.api.types.is_numeric_dtype(kept):
                out[column] = pd.to_numeric(out[column])
    out.index = frame.index
    return out


def _numbers(frame: pd.DataFrame, parse=None, columns=None) -> np.ndarray:
    """Every cell (of ``columns``, by position) as a float (NaN for text, markers, booleans
    and blanks; ``parse`` reads numbers written as text)."""
    out = np.full(frame.shape, np.nan)
    for c in range(frame.shape[1]) if columns is None else columns:
        column = frame.iloc[:, c]
        if pd.api.types.is_bool_dtype(column.dtype):
            continue
        if pd.api.types.is_numeric_dtype(column.dtype):
            out[:, c] = column.to_numpy(dtype=float, na_value=np.nan)
        else:
            out[:, c] = [np.nan if (n := _number(v, parse)) is None else n for v in column]
    return out


def _blank(value: Any) -> bool:
    """Missing: None, NaN, empty text or the dash reports show for missing."""
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip() or value.strip() == i18n.MISSING
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _complementary(out, rules, is_count, num, small, suppressed) -> None:
    """A second suppressed row where a level's group has exactly one (see the docstring)."""
    ind = _column(out, rules, "indicator")
    ind = ind if ind is not None else _column(out, rules, "name")
    year, level = _column(out, rules, "year"), _column(out, rules, "level")
    if ind is None or year is None or level is None or not suppressed.any():
        return
    keys = pd.Series(list(zip(out[ind], out[year], out[level], strict=True)))
    for rows in keys.groupby(keys, sort=False).indices.values():
        hidden = [r for r in rows if suppressed[r]]
        if len(hidden) != 1 or len(rows) < 2:
            continue
        first = hidden[0]
        columns = small[first]  # the hidden counts; the second row: the smallest of them
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # a row without such a count
            size = {r: np.nanmin(np.where(columns & is_count[r], num[r], np.nan)) for r in rows}
        candidates = [r for r in rows if r != first and size[r] > 0]
        if not candidates:
            continue
        second = min(candidates, key=lambda r: size[r])
        small[second] |= small[first]
        suppressed[second] = True


def _earlier_years(out, rules, suppressed) -> list[tuple[int, int]]:
    """Cells of later rows computed from a suppressed row's value (``from_earlier_years``)."""
    ind = _column(out, rules, "indicator")
    ind = ind if ind is not None else _column(out, rules, "name")
    year = _column(out, rules, "year")
    unit = _column(out, rules, "unit_id")
    unit = unit if unit is not None else _column(out, rules, "unit_name")
    level = _column(out, rules, "level")
    if ind is None or year is None or unit is None or not suppressed.any():
        return []
    targets = [
        (c, rules.from_earlier_years[rules.canonical(column)])
        for c, column in enumerate(out.columns)
        if rules.canonical(column) in rules.from_earlier_years
    ]
    if not targets:
        return []
    series = list(
        zip(
            out[ind],
            out[level] if level is not None else [None] * len(out),
            out[unit],
            strict=True,
        )
    )
    hidden: dict[Any, set[int]] = {}
    for r in np.flatnonzero(suppressed):
        y = _number(out[year].iat[r])
        if y is not None:
            hidden.setdefault(series[r], set()).add(int(y))
    cells = []
    for r, key in enumerate(series):
        y = _number(out[year].iat[r])
        if key not in hidden or y is None:
            continue
        for c, back in targets:
            if any(int(y) - d in hidden[key] for d in range(1, back + 1)):
                cells.append((r, c))
    return cells


def public_figures(figures: pd.DataFrame, *, lang: str = "vi") -> pd.DataFrame:
    """Key figures as shared: a figure named after a personal column is left out, one named
    after a person count shows the marker when it is small."""
    rules = load_rules()
    if figures.empty:
        return figures
    keep = ~figures["name"].map(rules.is_personal)
    out = figures[keep].copy()
    small = out["name"].map(rules.is_count) & out["value"].map(
        lambda v: (n := _number(v, parse_plain)) is not None and 0 < n < rules.k
    )
    out.loc[small, "value"] = marker(lang)
    return out.reset_index(drop=True)


# --------------------------------------------------------------------------
# Scanning what is shared


def parse_plain(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def parser_for(lang: str):
    """A reader of numbers as a report of ``lang`` writes them (``1.234,5`` in vi)."""
    from babel.numbers import NumberFormatError, parse_decimal

    locale = "vi_VN" if lang == "vi" else "en_US"

    def parse(text: str) -> float | None:
        try:
            return float(parse_decimal(text.replace("\u202f", "").replace("\xa0", ""), locale))
        except (NumberFormatError, ValueError):
            return None

    return parse


def scan(frame: pd.DataFrame, *, where: str = "", parse=None, rules: Rules | None = None):
    """What in ``frame`` breaks the rules: personal columns, small person counts that show
    a number, and measured cells that show a value in a row whose count is hidden.

    Returns a list of problems (empty when the table may be shared). ``parse`` reads
    numbers written as text (CSV cells, formatted HTML cells).
    """
    rules = rules or load_rules()
    problems = [f"{where}: personal column {c!r}" for c in frame.columns if rules.is_personal(c)]
    frame = frame.reset_index(drop=True)
    if frame.empty:
        return problems
    is_count = _count_cells(frame, rules).to_numpy(dtype=bool)
    used = [c for c in range(frame.shape[1]) if is_count[:, c].any()]
    num = _numbers(frame, parse, columns=used)
    hidden = markers()
    with np.errstate(invalid="ignore"):
        small = is_count & (num > 0) & (num < rules.k)
    for r, c in zip(*np.nonzero(small), strict=True):
        problems.append(
            f"{where}: row {r + 1}, column {frame.columns[c]!r}: a count of {num[r, c]:g} "
            f"persons (< k = {rules.k}) is shown"
        )
    descriptive = [rules.is_descriptive(c) for c in frame.columns]
    values = frame.to_numpy(dtype=object)
    marked = np.zeros(frame.shape, dtype=bool)
    for c in used:
        marked[:, c] = [isinstance(v, str) and v.strip() in hidden for v in values[:, c]]
    for r in np.flatnonzero((marked & is_count).any(axis=1)):
        counted = [c for c in used if is_count[r, c]]
        row = values[r]
        for c, value in enumerate(row):
            if descriptive[c] or c in counted or _blank(value):
                continue
            if not (isinstance(value, str) and value.strip() in hidden):
                problems.append(
                    f"{where}: row {r + 1}, column {frame.columns[c]!r} shows {value!r} "
                    "although the row's person count is suppressed"
                )
    return problems


class _Tables(HTMLParser):
    """Every ``<table>`` of a page as (header cells, body rows) of text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tables: list[tuple[list[str], list[list[str]]]] = []
        self._stack: list[dict] = []
        self._cell: list[str] | None = None
        self._row: list[str] | None = None
        self._in_head = False

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self._stack.append({"head": [], "rows": []})
        elif not self._stack:
            return
        elif tag == "thead":
            self._in_head = True
        elif tag == "tr":
            self._row = []
        elif tag in {"td", "th"}:
            self._cell = []

    def handle_endtag(self, tag):
        if not self._stack:
            return
        if tag in {"td", "th"} and self._cell is not None and self._row is not None:
            self._row.append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "tr" and self._row is not None:
            table = self._stack[-1]
            (table["head"] if self._in_head else table["rows"]).append(self._row)
            self._row = None
        elif tag == "thead":
            self._in_head = False
        elif tag == "table":
            table = self._stack.pop()
            head = table["head"][-1] if table["head"] else []
            rows = table["rows"]
            if not head and rows:
                head, rows = rows[0], rows[1:]
            self.tables.append((head, rows))

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def html_tables(text: str) -> list[pd.DataFrame]:
    """The tables of an HTML page as DataFrames of text (index cells aligned left)."""
    parser = _Tables()
    parser.feed(text)
    parser.close()
    frames = []
    for head, rows in parser.tables:
        width = max([len(head), *(len(r) for r in rows)])
        head = [""] * (width - len(head)) + head
        head = [h or f"_{i}" for i, h in enumerate(head)]
        seen: dict[str, int] = {}
        unique = []
        for h in head:
            seen[h] = seen.get(h, 0) + 1
            unique.append(h if seen[h] == 1 else f"{h} ({seen[h]})")
        body = [[""] * (width - len(r)) + r for r in rows]
        frames.append(pd.DataFrame(body, columns=unique, dtype=object))
    return frames


def scan_html(text: str, *, where: str = "", lang: str = "vi") -> list[str]:
    """Every table of a page, scanned as a reader of ``lang`` sees it."""
    parse = parser_for(lang)
    problems = []
    for i, frame in enumerate(html_tables(text)):
        problems += scan(frame, where=f"{where} table {i + 1}", parse=parse)
    return problems


def scan_csv(path: Path, *, where: str | None = None) -> list[str]:
    frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    return scan(frame, where=where or str(path), parse=parse_plain)


def scan_workbook(path: Path, *, where: str | None = None) -> list[str]:
    """Every sheet of an Excel workbook (its first row the header)."""
    from openpyxl import load_workbook

    problems = []
    book = load_workbook(path, read_only=True, data_only=True)
    try:
        for sheet in book.worksheets:
            rows = list(sheet.iter_rows(values_only=True))
            if not rows:
                continue
            head = [str(h) if h is not None else f"_{i}" for i, h in enumerate(rows[0])]
            frame = pd.DataFrame([list(r) for r in rows[1:]], columns=head, dtype=object)
            problems += scan(frame, where=f"{where or path}[{sheet.title}]", parse=parse_plain)
    finally:
        book.close()
    return problems


def escape(text: Any) -> str:
    return html.escape(str(text))
