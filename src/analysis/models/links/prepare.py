"""What goes into a model: its formula, the columns it uses, the complete rows.

A formula is either given or built from a dataset spec's column roles
(:func:`role_formula`); :func:`formula_columns` reads back the data columns it
refers to, :func:`complete_rows` keeps the rows where all of them are present
(and says which columns cost rows), and :func:`standardize` z-scores the
continuous ones.
"""

from __future__ import annotations

import re

import pandas as pd

from analysis.models.links.result import LinkError

# names in a formula that are functions or panel effects, not data columns
_FUNCTIONS = {"C", "np", "log", "exp", "I", "Q", "center", "scale", "standardize", "Treatment",
              "EntityEffects", "TimeEffects", "FixedEffects", "Sum", "Poly", "bs"}  # fmt: skip


def formula_columns(formula: str, columns) -> list[str]:
    """Columns of ``columns`` that a formula refers to, in order of appearance.

    Parameters
    ----------
    formula
        A patsy formula or right-hand side (``"y ~ x + C(g)"``, ``"~slope"``).
    columns
        The data's column names.

    Returns
    -------
    list of str
        Each column once, function names (``C``, ``np``, ``log``, …) left out.

    Example
    -------
    >>> formula_columns("y ~ x * z + C(g)", ["g", "x", "y", "z"])
    ['y', 'x', 'z', 'g']
    """
    names = re.findall(r"[A-Za-z_][A-Za-z0-9_.]*", formula)
    seen: list[str] = []
    for name in names:
        if name in columns and name not in _FUNCTIONS and name not in seen:
            seen.append(name)
    return seen


def role_formula(
    spec,
    data: pd.DataFrame,
    *,
    outcome: str | None = None,
    interaction: bool = True,
    controls: bool = True,
    time_effects: bool = True,
) -> str:
    """A formula from a dataset spec's column roles.

    ``outcome ~ treatment + infrastructure × training + controls + C(time)``:
    the first infrastructure and the first training column that have values, with
    their interaction when both exist; text controls enter as categories. A
    predictor with no value in ``data`` (a column the province's template lacks) is
    left out rather than emptying the model: :func:`empty_roles` names them.

    Parameters
    ----------
    spec
        A :class:`~analysis.data.datasets.DatasetSpec` (its ``roles``, ``time``, ``name``).
    data
        The rows the formula is for (to tell numeric from categorical controls,
        and whether there is more than one period).
    outcome
        The outcome column; default the spec's first outcome.
    interaction
        Include infrastructure × training when both roles exist.
    controls
        Include the spec's control columns.
    time_effects
        Include ``C(time)`` when the data has more than one period.

    Returns
    -------
    str
        A patsy formula.

    Raises
    ------
    LinkError
        If the spec has no predictor roles.

    Example
    -------
    >>> star = datasets.load("star")  # doctest: +SKIP
    >>> role_formula(star.spec, star.data)  # doctest: +SKIP
    'score ~ small_class + regular_aide + teacher_experience + free_lunch + boy + african_american'
    """
    empty = set(empty_roles(spec, data))
    roles = {role: [c for c in columns if c not in empty] for role, columns in spec.roles.items()}
    outcome = outcome or spec.roles["outcomes"][0]
    terms: list[str] = list(roles.get("treatment", []))
    infra = roles.get("infrastructure", [])[:1]
    training = roles.get("training", [])[:1]
    if infra and training and interaction:
        terms.append(f"{infra[0]} * {training[0]}")
    else:
        terms += infra + training
    if controls:
        terms += [_control_term(data[column], column) for column in roles.get("controls", [])]
    if time_effects and spec.time and data[spec.time].nunique() > 1:
        terms.append(f"C({spec.time})")
    if not terms:
        raise LinkError(f"spec {spec.name}: no predictor roles to build a formula from")
    return f"{outcome} ~ " + " + ".join(terms)


def empty_roles(spec, data: pd.DataFrame) -> list[str]:
    """The predictor columns of ``spec``'s roles (treatment, infrastructure, training,
    controls) that have no value in ``data``: what :func:`role_formula` leaves out.

    Example
    -------
    >>> empty_roles(spec, frame)  # doctest: +SKIP
    ['trained_share']
    """
    predictors = ("treatment", "infrastructure", "training", "controls")
    columns = [c for role in predictors for c in spec.roles.get(role, [])]
    return [c for c in dict.fromkeys(columns) if c in data and data[c].notna().sum() == 0]


def _control_term(values: pd.Series, column: str) -> str:
    """A control as it enters a formula: text and booleans as categories."""
    numeric = pd.api.types.is_numeric_dtype(values)
    categorical = not numeric or pd.api.types.is_bool_dtype(values)
    return f"C({column})" if categorical else column


def complete_rows(data: pd.DataFrame, columns: list[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The rows with a value in every one of ``columns``, and what the others cost.

    Parameters
    ----------
    data
        The rows.
    columns
        The columns the model uses.

    Returns
    -------
    rows : pandas.DataFrame
        A copy of the complete rows.
    dropped : pandas.DataFrame
        One row per column with missing values: column, missing_rows, reason.
    """
    missing = data[columns].isna()
    dropped = pd.DataFrame(
        {
            "column": columns,
            "missing_rows": [int(missing[c].sum()) for c in columns],
        }
    )
    dropped = dropped[dropped["missing_rows"] > 0].reset_index(drop=True)
    dropped["reason"] = "missing value in this column (row left out of the model)"
    keep = ~missing.any(axis=1)
    return data.loc[keep].copy(), dropped


def standardize(data: pd.DataFrame, columns: list[str], skip: set[str]) -> pd.DataFrame:
    """Z-score the continuous ``columns`` (sample SD); dummies, text and ``skip`` stay.

    Parameters
    ----------
    data
        The rows.
    columns
        Candidate columns (those of the formula).
    skip
        Columns never rescaled (cluster, group, entity, time, weights).

    Returns
    -------
    pandas.DataFrame
        A copy with the continuous columns centred and scaled; a column with
        two or fewer distinct values, or zero spread, is left as it is.
    """
    out = data.copy()
    for column in columns:
        if column in skip:
            continue
        values = out[column]
        if pd.api.types.is_bool_dtype(values) or not pd.api.types.is_numeric_dtype(values):
            continue
        if values.nunique() <= 2:  # dummies stay 0/1
            continue
        sd = values.astype(float).std(ddof=1)
        if sd > 0:
            out[column] = (values.astype(float) - values.astype(float).mean()) / sd
    return out
