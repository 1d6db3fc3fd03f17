"""Secondary suppression: the cells a reader could work a hidden count back from.

Primary suppression hides the small counts; this module decides what else must go so that
the hidden counts cannot be recovered by arithmetic on what is shown (the rules are stated
in :mod:`analysis.report.privacy`):

* :func:`yearly_changes` — a cumulative count (``yearly_change_counts``) whose change
  between two shown years of one unit is small: the later year is small too;
* :func:`complementary` — within each parent unit (the ``parent_id`` column: the unit and
  district of a school, the district of a commune), enough further rows that the hidden
  counts of a group are not one row and do not add up to fewer than ``k``; and the same
  indicator, unit and year hidden at every level it appears (a district before the 2025
  reform is also a management unit), repeated until nothing changes;
* :func:`derived_sides` — the sides of a rule (``teachers * 10 + trained * 120``) that name
  a person count: with the other figures of a school they give the count back.

Each works on the arrays :func:`analysis.report.privacy.apply` builds: ``num`` (the cells
as numbers), ``is_count`` and ``small`` (cell masks) and ``suppressed`` (a row mask).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from analysis.core.text import header_key
from analysis.measures import indicators
from analysis.report.privacy.cells import _number
from analysis.report.privacy.rules import Rules, _column, counts_persons

_ROUNDS = 20  # linked levels settle in two or three rounds; a bound, not a tuning knob


def _indicator(out: pd.DataFrame, rules: Rules):
    ind = _column(out, rules, "indicator")
    return ind if ind is not None else _column(out, rules, "name")


def yearly_changes(out: pd.DataFrame, rules: Rules, num: np.ndarray, small: np.ndarray) -> None:
    """Mark small the numerator of a year whose change from the last shown year is small.

    Walks each series (indicator, level, unit) by year, keeping the last year left shown:
    two shown years of a cumulative count never differ by 1 to ``k − 1`` persons.
    """
    ind, year = _indicator(out, rules), _column(out, rules, "year")
    unit, level = _column(out, rules, "unit_id"), _column(out, rules, "level")
    numerator = _column(out, rules, "numerator")
    if None in (ind, year, unit, numerator) or not rules.yearly_change:
        return
    flows = {
        header_key(key)
        for i in indicators.load_indicators()
        if i.numerator.strip() in rules.yearly_change
        for key in (i.id, *i.name.values())
    }
    c = list(out.columns).index(numerator)
    rows = out[ind].map(header_key).isin(flows).to_numpy()
    levels = out[level] if level is not None else pd.Series("", index=out.index)
    frame = pd.DataFrame({"ind": out[ind], "level": levels, "unit": out[unit],
                          "year": out[year].map(_number)})[rows]  # fmt: skip
    for _, series in frame.sort_values("year").groupby(["ind", "level", "unit"], sort=False):
        last = None
        for r in series.index:
            value = num[r, c]
            if np.isnan(value) or small[r].any():
                continue
            if last is not None and 0 < abs(value - last) < rules.k:
                small[r, c] = True
                continue
            last = value


def complementary(out, rules, is_count, num, small, suppressed) -> None:
    """More suppressed rows within each group and across levels (module docstring)."""
    ind, year = _indicator(out, rules), _column(out, rules, "year")
    level, parent = _column(out, rules, "level"), _column(out, rules, "parent_id")
    unit = _column(out, rules, "unit_id")
    if ind is None or year is None or level is None or not suppressed.any():
        return
    keys = [out[ind], out[year], out[level]] + ([out[parent]] if parent is not None else [])
    groups = _groups(keys)
    links = _groups([out[ind], out[year], out[unit]]) if unit is not None else []
    for _ in range(_ROUNDS):
        before = suppressed.sum()
        for rows in groups:
            _fill_group(rows, rules, is_count, num, small, suppressed)
        for rows in links:  # one unit, one indicator, one year: hidden at every level
            hidden = [r for r in rows if suppressed[r]]
            if hidden and len(hidden) < len(rows):
                columns = np.logical_or.reduce([small[r] for r in hidden])
                for r in rows:
                    small[r] |= columns & is_count[r]
                    suppressed[r] = True
        if suppressed.sum() == before:
            return


def _groups(keys: list[pd.Series]) -> list[np.ndarray]:
    index = pd.Series(list(zip(*keys, strict=True)))
    return [rows for rows in index.groupby(index, sort=False).indices.values() if len(rows) > 1]


def _fill_group(rows, rules, is_count, num, small, suppressed) -> None:
    """Suppress rows of one group, smallest count first, until its hidden rows are at least
    two (or all) and their hidden counts add up to ``k`` or more."""
    hidden = [r for r in rows if suppressed[r]]
    if not hidden:
        return
    columns = np.logical_or.reduce([small[r] for r in hidden])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a row without such a count
        size = {r: np.nanmin(np.where(columns & is_count[r], num[r], np.nan)) for r in rows}
    total = sum(size[r] for r in hidden if not np.isnan(size[r]))
    candidates = sorted((r for r in rows if not suppressed[r] and size[r] > 0), key=size.get)
    while candidates and (len(hidden) < 2 or total < rules.k):
        r = candidates.pop(0)
        small[r] |= columns & is_count[r]
        suppressed[r] = True
        hidden.append(r)
        total += size[r]


def derived_sides(out: pd.DataFrame, rules: Rules) -> list[tuple[int, int]]:
    """Cells of a rule table's side values whose expression names a person count."""
    cells = []
    for side in ("left", "right"):
        expr, value = _column(out, rules, side), _column(out, rules, f"{side}_value")
        if expr is None or value is None or expr == value:
            continue
        c = list(out.columns).index(value)
        for r, text in enumerate(out[expr]):
            if isinstance(text, str) and counts_persons(text, rules.count_columns):
                cells.append((r, c))
    return cells
