"""The school-year simulation: the structural model, the other report columns, the panel.

:func:`simulate` draws, from the stream that built the register, the structural model
(:mod:`~analysis.data.synth.structural`) and then every other column of a DOET report
(:mod:`~analysis.data.synth.columns`), and lays them out as the clean school-year panel
in the processed dtypes (:func:`conform`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from analysis.data import schema
from analysis.data.synth import shocks, structural
from analysis.data.synth.columns import Columns, report_columns
from analysis.data.synth.constants import school_year_label
from analysis.data.synth.structural import N_YEARS, YEARS, Schools, Structural


def simulate(
    rng: np.random.Generator,
    schools: pd.DataFrame,
    *,
    district_year: np.ndarray | None = None,
    parallel_trends: bool = True,
) -> tuple[pd.DataFrame, dict]:
    """Simulate every school year of ``schools``: (true panel, truth of the planted model).

    Parameters
    ----------
    rng
        The stream that drew the register.
    schools
        The register's ``schools`` frame.
    district_year
        District × year shocks, (districts, years) as :func:`shocks.draw` gives them;
        none if ``None``.
    parallel_trends
        Whether the untreated outcomes trend in parallel (:func:`structural.draw`).

    Returns
    -------
    tuple of pandas.DataFrame and dict
        The true panel, and the truth of the structural model.
    """
    s = Schools.of(schools)
    shock = None if district_year is None else shocks.of_schools(district_year, s.district)
    st = structural.draw(rng, s, shock=shock, parallel_trends=parallel_trends)
    panel = _panel(schools, _model_columns(st) | report_columns(rng, s, st))
    return panel, structural.truth(st)


def _model_columns(st: Structural) -> Columns:
    """The panel columns the structural model gives directly."""
    return {
        "enrolment": st.enrol,
        "teachers": st.teachers,
        "classrooms": st.classrooms,
        "computers_teaching": st.computers,
        "teachers_trained_cds": st.trained,
        "mean_test_score": st.mean_score,
        "e_lessons": st.e_lessons,
        "poor_household_share": np.round(st.ses * 100, 1),
    }


def _panel(schools: pd.DataFrame, columns: Columns) -> pd.DataFrame:
    """One row per school and school year (school-major), cast by :func:`conform`."""
    n = len(schools)
    end_years = np.tile(YEARS, n)
    frame: dict[str, Any] = {
        "school_id": pd.array(np.repeat(schools["school_id"].to_numpy(), N_YEARS), dtype="str"),
        "year": end_years.astype("int64"),
        "school_year": pd.array([school_year_label(y) for y in end_years], dtype="str"),
        "school_name": pd.array(np.repeat(schools["school_name"].to_numpy(), N_YEARS), "str"),
    }
    for name, values in columns.items():
        frame[name] = np.asarray(values).reshape(-1)
    return conform(pd.DataFrame(frame), "panel")


def conform(frame: pd.DataFrame, table: str) -> pd.DataFrame:
    """Cast ``frame`` to the processed dtypes of ``table``, columns in contract order.

    Parameters
    ----------
    frame
        A table of the province (``panel``, ``schools``, ``units``, …); columns the
        contract does not know are dropped, contract columns it lacks are left out.
    table
        The contract's name for the table (see :func:`analysis.data.schema.processed_columns`).

    Returns
    -------
    pandas.DataFrame
        A new frame with a fresh ``RangeIndex``: booleans as nullable ``boolean``,
        dates as the contract's ``datetime64`` unit, everything else ``astype`` the
        contract's dtype.

    Raises
    ------
    KeyError
        If ``table`` is not a contract table.

    Example
    -------
    >>> from analysis.data import synth
    >>> province = synth.generate(seed=1, profile="clean", scale=0.1)
    >>> synth.conform(province.schools, "schools").columns[0]
    'school_id'
    """
    columns = schema.processed_columns(table)
    out = pd.DataFrame(index=frame.index)
    for name, dtype in columns.items():
        if name not in frame:
            continue
        values = frame[name]
        if dtype == "boolean":
            out[name] = values.astype("boolean")
        elif dtype.startswith("datetime"):
            out[name] = pd.to_datetime(values).astype(dtype)
        else:
            out[name] = values.astype(dtype)
    return out.reset_index(drop=True)
