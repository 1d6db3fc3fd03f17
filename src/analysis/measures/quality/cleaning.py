"""Excluding flagged values (with a log), and rejects without the server's folders."""

from __future__ import annotations

import re
from pathlib import PurePath

import numpy as np
import pandas as pd

from analysis.measures import indicators as ind
from analysis.measures.quality.rules import load_rules

# Size columns are the denominators of many indicators: an outlying ratio blanks
# the measured column, not the school's size.
BASE_COLUMNS = frozenset({"enrolment", "teachers", "classrooms"})


def exclude(
    data: pd.DataFrame,
    flags: pd.DataFrame,
    *,
    reason: str | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Blank the panel columns behind flagged indicator values; log each exclusion.

    ``flags`` is the output of :func:`outliers` (school_id, year, indicator) or
    of :func:`rule_violations` (school_id, year, rule — the rule's left column
    is blanked). Returns the cleaned copy and the log (school_id, year, column,
    value, reason) — nothing is removed without a line in the log.

    The columns blanked are those the indicator's numerator and denominator (or
    the rule's left side) name, except the size columns of
    :data:`BASE_COLUMNS` unless they are the only ones.

    Parameters
    ----------
    data
        The school-year panel (or a Dataset); not changed.
    flags
        Rows of :func:`outliers` or :func:`rule_violations`; flags for
        school-years not in ``data`` are skipped.
    reason
        The reason logged for every exclusion; default one built from the flag.

    Returns
    -------
    cleaned : pandas.DataFrame
        A copy of the panel with the flagged values blank (NaN, or NA in
        nullable columns).
    log : pandas.DataFrame
        ``school_id``, ``year``, ``column``, ``value`` (as text), ``reason``; one
        row per value blanked.

    Raises
    ------
    KeyError
        A flag names an unknown indicator or rule.
    """
    frame = getattr(data, "data", data).copy()
    by_id = {i.id: i for i in ind.load_indicators()}
    rules = {r.id: r for r in load_rules()}
    index = {
        (s, int(y)): i
        for i, (s, y) in enumerate(zip(frame["school_id"], frame["year"], strict=True))
    }
    log = []
    for flag in flags.to_dict(orient="records"):
        if "indicator" in flag:
            spec = by_id[flag["indicator"]]
            expression = f"{spec.numerator} {spec.denominator}"
            why = reason or (
                f"outlier: {flag['indicator']} = {flag['value']:.4g} "
                f"({flag['method']} {flag['score'] if pd.notna(flag['score']) else ''} "
                f"> {flag['threshold']:g})"
            )
        else:
            expression = rules[flag["rule"]].left
            why = (
                reason
                or f"rule {flag['rule']} broken: "
                f"{flag['left_value']:g} {flag['op']} {flag['right_value']:g}"
            )
        named = _names(expression)
        columns = [c for c in frame.columns if c in named and c not in BASE_COLUMNS]
        if not columns:
            columns = [c for c in frame.columns if c in named]
        row = index.get((flag["school_id"], int(flag["year"])))
        if row is None:
            continue
        for column in columns:
            value = frame.at[row, column]
            if pd.isna(value):
                continue
            log.append({"school_id": flag["school_id"], "year": int(flag["year"]),
                        "column": column, "value": str(value), "reason": why})  # fmt: skip
            frame.at[row, column] = (
                pd.NA if str(frame[column].dtype) in {"Int64", "boolean"} else np.nan
            )
    log_frame = pd.DataFrame(log, columns=["school_id", "year", "column", "value", "reason"])
    return frame, log_frame.drop_duplicates(["school_id", "year", "column"]).reset_index(drop=True)


def _names(expression: str) -> set[str]:
    return set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", expression))


_PATH = re.compile(r"(?:[A-Za-z]:)?(?:[\\/][^\\/\s]+)+[\\/]([^\\/\s]+)")


def without_paths(rejects: pd.DataFrame) -> pd.DataFrame:
    """Rejects as a report shows them: file names without the server's folders, in the
    ``file`` column and inside the messages ("already read at /srv/…/bao_cao.xlsx row 4").

    Parameters
    ----------
    rejects
        The ``rejects`` table of ingest (any table with ``file`` or ``message``).

    Returns
    -------
    pandas.DataFrame
        A copy with the paths cut to their file names; other columns unchanged.
    """
    out = rejects.copy()
    if "file" in out:
        out["file"] = out["file"].map(lambda f: f if pd.isna(f) else PurePath(str(f)).name)
    if "message" in out:
        out["message"] = out["message"].map(
            lambda m: m if not isinstance(m, str) else _PATH.sub(r"\1", m)
        )
    return out
