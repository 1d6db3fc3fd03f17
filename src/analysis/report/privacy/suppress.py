"""Applying the rules to a table: personal columns removed, small cells suppressed.

Primary suppression, the secondary suppression of :mod:`.secondary` and suppression of
cells computed from earlier years, as :mod:`analysis.report.privacy` states them;
:func:`masked` is the same table with the hidden cells missing, for a notebook that
computes what it shows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from analysis.core import i18n
from analysis.report.privacy import secondary
from analysis.report.privacy.cells import _blank, _number, _numbers, parse_plain
from analysis.report.privacy.rules import Rules, _column, _count_cells, load_rules, marker


def footnote(lang: str = "vi", *, rules: Rules | None = None) -> str:
    """The footnote of a table with suppressed cells: what the marker means and why.

    Parameters
    ----------
    lang
        ``"vi"`` or ``"en"``.
    rules
        The rules whose ``k`` it states (default :func:`load_rules`).

    Returns
    -------
    str
        One sentence, naming the marker and ``k``.
    """
    rules = rules or load_rules()
    return i18n.text("privacy", "footnote", lang, marker=marker(lang), k=rules.k)


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
    """``frame`` with the privacy rules applied (see :mod:`analysis.report.privacy`).

    Parameters
    ----------
    frame
        The table as the notebook computed it.
    counts
        Headers of more person-count columns, for this table only.
    lang
        The language of the marker put in suppressed cells.
    rules
        The rules (default :func:`load_rules`).

    Returns
    -------
    Shared
        The table (index reset) with personal columns removed and suppressed cells
        holding the marker of ``lang`` (the columns holding a marker become
        ``object``; the others keep their types), and what was done.

    Example
    -------
    >>> shared = apply(pd.DataFrame({"school_name": ["A"], "pupils": [3]}))  # doctest: +SKIP
    >>> shared.frame.loc[0, "pupils"], shared.suppressed_rows
    ('[ẩn]', 1)
    """
    rules = rules or load_rules()
    mark = marker(lang)
    frame = frame.reset_index(drop=True)
    out, removed, redacted = _without_personal(frame, rules, mark)
    if out.empty:
        return Shared(out, 0, 0, removed, redacted)

    is_count = _count_cells(out, rules, counts).to_numpy(dtype=bool)
    # counts held as text or categories ("3") are counts too: the share scan reads them so
    num = _numbers(out, parse_plain)
    with np.errstate(invalid="ignore"):
        small = is_count & (num > 0) & (num < rules.k)
    secondary.yearly_changes(out, rules, num, small)
    suppressed = small.any(axis=1)
    secondary.complementary(out, rules, is_count, num, small, suppressed)
    extra = _earlier_years(out, rules, suppressed) + secondary.derived_sides(out, rules)

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


def _without_personal(
    frame: pd.DataFrame, rules: Rules, mark: str
) -> tuple[pd.DataFrame, list[str], int]:
    """Personal columns dropped, a long table's personal values marked; (table, names, values)."""
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
    return out, removed, redacted


def masked(frame: pd.DataFrame, *, counts=(), rules: Rules | None = None) -> pd.DataFrame:
    """``frame`` with the cells the rules suppress set to missing, personal columns removed,
    and numbers kept numbers — for a notebook that computes what it shows (sentences, charts,
    ranks) from a table: built on the masked table, nothing it shows gives a hidden cell back.

    Parameters
    ----------
    frame
        The table as the notebook computed it.
    counts
        Headers of more person-count columns, for this table only.
    rules
        The rules (default :func:`load_rules`).

    Returns
    -------
    pandas.DataFrame
        The table with ``frame``'s index; suppressed cells are missing (None, or NaN
        in a numeric column).
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
    own_row = {
        c: rules.own_row.get(rules.canonical(out.columns[c]) or "", frozenset()) for c, _ in targets
    }
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
            if str(out.iat[r, c]) in own_row[c]:
                continue  # decided by this row's own value (a status "met")
            if any(int(y) - d in hidden[key] for d in range(1, back + 1)):
                cells.append((r, c))
    return cells


def public_figures(figures: pd.DataFrame, *, lang: str = "vi") -> pd.DataFrame:
    """Key figures as shared: a figure named after a personal column is left out, one named
    after a person count shows the marker when it is small.

    Parameters
    ----------
    figures
        The key figures, with ``name`` and ``value`` columns (``figures.csv``).
    lang
        The language of the marker.

    Returns
    -------
    pandas.DataFrame
        The figures that may be shared (index reset); ``figures`` itself when empty.
    """
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
