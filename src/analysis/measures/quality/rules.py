"""Validation rules ``left op right`` (plausibility and ingest rules) and their violations."""

from __future__ import annotations

import operator
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.core import paths
from analysis.core.config import ConfigError, load_yaml
from analysis.data import schema
from analysis.measures import indicators as ind

OPERATORS = {**schema.OPERATORS, "!=": operator.ne}


# Plausibility rules have the shape of the ingest rules: left, op, right, vi, en.
QualityRule = schema.Rule


def load_rules(path: Path | str | None = None, *, include_hard: bool = True) -> list[QualityRule]:
    """Plausibility rules (``config/quality.yml``) and, optionally, the hard ingest rules.

    Parameters
    ----------
    path
        The plausibility rules; default ``config/quality.yml``.
    include_hard
        Add the ingest rules of ``config/columns.yml`` (:func:`analysis.schema.rules`).

    Returns
    -------
    list of QualityRule
        Plausibility rules first (``left``/``right`` are expressions), then the
        hard rules.

    Raises
    ------
    ConfigError
        A rule has an unknown operator (``<=``, ``<``, ``>=``, ``>``, ``==``,
        ``!=`` are known), or a file cannot be read.
    """
    path = Path(path) if path else paths.config_dir() / "quality.yml"
    raw = load_yaml(path)
    rules = []
    for entry in raw.get("rules", []):
        rule = QualityRule(**entry)
        if rule.op not in OPERATORS:
            raise ConfigError(f"{path}: rule {rule.id}: operator {rule.op!r} unknown")
        rules.append(rule)
    if include_hard:
        rules += schema.rules()
    return rules


def rule_violations(data: pd.DataFrame, rules: list[QualityRule] | None = None) -> pd.DataFrame:
    """Every violation of every rule: school, year, rule, both sides and their values.

    A rule with a blank side is not broken (it cannot be judged).

    Parameters
    ----------
    data
        The school-year panel (or a Dataset).
    rules
        Default :func:`load_rules` (plausibility and hard rules).

    Returns
    -------
    pandas.DataFrame
        One row per broken rule and school-year: ``school_id``, ``year``,
        ``rule``, ``left``, ``op``, ``right`` (the expressions), ``left_value``,
        ``right_value`` and ``message_vi``, ``message_en``.

    Raises
    ------
    ConfigError
        A rule cannot be evaluated on ``data`` (a column is missing).
    """
    rules = rules if rules is not None else load_rules()
    numeric = ind._numeric(getattr(data, "data", data))
    rows = []
    for rule in rules:
        try:
            left = ind._evaluate(numeric, rule.left)
            right = ind._evaluate(numeric, rule.right)
        except Exception as exc:
            raise ConfigError(f"quality rule {rule.id}: cannot evaluate ({exc})") from exc
        holds = OPERATORS[rule.op](left, right)
        broken = ~(holds | left.isna() | right.isna())
        for i in np.flatnonzero(broken.to_numpy()):
            rows.append(
                {
                    "school_id": numeric["school_id"].iloc[i],
                    "year": int(numeric["year"].iloc[i]),
                    "rule": rule.id,
                    "left": rule.left,
                    "op": rule.op,
                    "right": rule.right,
                    "left_value": float(left.iloc[i]),
                    "right_value": float(right.iloc[i]),
                    "message_vi": rule.vi,
                    "message_en": rule.en,
                }
            )
    columns = ["school_id", "year", "rule", "left", "op", "right", "left_value", "right_value",
               "message_vi", "message_en"]  # fmt: skip
    return pd.DataFrame(rows, columns=columns)
