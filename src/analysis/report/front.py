"""The province at a glance: the tables behind the front page of a plan's reports.

The front page (``reports/<plan>/index.html``) is written for a policy reader: the
province's indicators against their targets, in-sector (chỉ tiêu nội ngành) and
cross-sector (ngoại ngành) apart; the districts ranked on the indicators the plan names;
the schools' Decision 4725 maturity and its change; teacher training over the years.
This module computes those tables from a dataset; the runner adds the evaluation and the
data-quality figures its notebooks recorded and renders the page.

Every value is built on :func:`analysis.privacy.masked` indicator values, as the briefs
are, so nothing on the front page gives back a cell the shared tables hide. Codes stay
codes (``indicator``, ``sector``, ``status``) beside their labels: the page shows the
labels, the CSV downloads both.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from analysis.core import i18n
from analysis.measures import indicators, maturity
from analysis.report import privacy
from analysis.report.brief import LEVEL, PROVINCE, with_reader_status

TRAINING = "teachers_trained_cds"  # the indicator of the teacher-training section
SECTORS = ("in", "cross")  # in-sector first, as the supervisors' request names them


def headline(values: pd.DataFrame, *, year: int) -> pd.DataFrame:
    """The province's indicators with a target in ``year``, in-sector first.

    Parameters
    ----------
    values
        :func:`analysis.indicators.compute` rows (masked) with the province level.
    year
        End year of the school year shown.

    Returns
    -------
    pandas.DataFrame
        ``sector``, ``indicator``, ``name``, ``value``, ``measure``, ``target``,
        ``target_year``, ``gap``, ``change`` and ``status`` (as
        :func:`analysis.report.brief.reader_status` tells it), in sector then definition order.
    """
    rows = values[(values["level"] == PROVINCE) & (values["year"] == year)]
    rows = rows[rows["target"].notna()]
    order = {s: i for i, s in enumerate(SECTORS)}
    rows = rows.assign(_sector=rows["sector"].map(order)).sort_values("_sector", kind="stable")
    columns = ["sector", "indicator", "name", "value", "measure", "target", "target_year"]
    return rows[[*columns, "gap", "change", "status"]].reset_index(drop=True)


def province(values: pd.DataFrame, *, year: int) -> pd.DataFrame:
    """Every indicator of the province in ``year``, with a target or not, in definition
    order: the supervision report's part tables pick theirs from it.

    Returns
    -------
    pandas.DataFrame
        ``indicator``, ``name``, ``sector``, ``value``, ``measure``, ``target``,
        ``target_year``, ``gap``, ``change`` and ``status``.
    """
    rows = values[(values["level"] == PROVINCE) & (values["year"] == year)]
    columns = ["indicator", "name", "sector", "value", "measure", "target", "target_year"]
    return rows[[*columns, "gap", "change", "status"]].reset_index(drop=True)


def ranking(values: pd.DataFrame, *, year: int, rank_on: list[str]) -> pd.DataFrame:
    """The districts in ``year`` with their value and rank on each of ``rank_on``, ordered by
    the mean of their ranks (best first; a district without a value ranks last on it).

    Returns
    -------
    pandas.DataFrame
        ``unit_id``, ``unit_name``, then ``<indicator>`` and ``<indicator>_rank`` for each
        indicator, and ``mean_rank``.
    """
    rows = values[(values["level"] == LEVEL) & (values["year"] == year)]
    rows = rows[rows["indicator"].isin(rank_on)]
    names = rows.drop_duplicates("unit_id").set_index("unit_id")["unit_name"]
    out = pd.DataFrame({"unit_id": names.index, "unit_name": names.to_numpy()})
    ranks = []
    for indicator in rank_on:
        mine = rows[rows["indicator"] == indicator].set_index("unit_id")
        out[indicator] = out["unit_id"].map(mine["value"])
        out[f"{indicator}_rank"] = out["unit_id"].map(mine["rank"])
        ranks.append(out[f"{indicator}_rank"].fillna(len(out)))
    out["mean_rank"] = pd.concat(ranks, axis=1).mean(axis=1) if ranks else float("nan")
    return out.sort_values(["mean_rank", "unit_name"]).reset_index(drop=True)


def maturity_change(distribution: pd.DataFrame, *, year: int) -> pd.DataFrame:
    """The province's share of schools at each 4725 level in ``year`` and the year before.

    Parameters
    ----------
    distribution
        :func:`analysis.maturity.distribution` at the province level.
    year
        End year of the school year shown.

    Returns
    -------
    pandas.DataFrame
        ``group``, ``maturity_level``, ``share_before`` (%, the previous year; missing when
        it has none), ``share`` (%), ``count`` (schools) and ``change`` (points).
    """
    now = distribution[distribution["year"] == year]
    before = distribution[distribution["year"] == year - 1]
    before = before.set_index(["group", "maturity_level"])["share"]
    out = now[["group", "maturity_level", "share", "count"]].copy()
    keys = list(zip(out["group"], out["maturity_level"], strict=True))
    out.insert(2, "share_before", [before.get(k) for k in keys])
    out["share_before"] = pd.to_numeric(out["share_before"])
    out["change"] = out["share"] - out["share_before"]
    return out.reset_index(drop=True)


def training(values: pd.DataFrame) -> pd.DataFrame:
    """The province's share of teachers trained in CĐS in every year, with its target.

    Returns
    -------
    pandas.DataFrame
        ``year``, ``value`` (%), ``change`` (points), ``target``, ``target_year`` and
        ``status`` (:func:`analysis.report.brief.reader_status`).
    """
    rows = values[(values["level"] == PROVINCE) & (values["indicator"] == TRAINING)]
    rows = rows.sort_values("year")
    out = rows[["year", "value", "change", "target", "target_year", "status"]]
    return out.reset_index(drop=True)


def default_rank_on() -> list[str]:
    """The indicators districts are ranked on when a plan names none: the headline ones
    that have a direction and a target (``config/indicators.yml``)."""
    chosen = {i.id: i for i in indicators.load_indicators()}
    return [i for i in indicators.headline() if chosen[i].better != "none" and chosen[i].targets]


def summary(data, *, lang: str = "vi", rank_on: list[str] | None = None) -> dict[str, Any]:
    """Everything the front page shows about the province, for its latest school year.

    Parameters
    ----------
    data
        A :class:`~analysis.datasets.Dataset` with the hierarchy and the 4725 columns, or
        its panel.
    lang
        Language of names and measures.
    rank_on
        Indicator ids the districts are ranked on (the plan's ``front: rank_on``);
        default :func:`default_rank_on`.

    Returns
    -------
    dict
        ``year`` (int), ``n_districts`` (int), ``headline``, ``province``, ``ranking``,
        ``maturity`` and ``training`` (DataFrames, see the functions of the same names).

    Raises
    ------
    KeyError
        An id in ``rank_on`` is not an indicator.
    """
    i18n.check_lang(lang)
    known = {i.id for i in indicators.load_indicators()}
    rank_on = list(rank_on) if rank_on else default_rank_on()
    unknown = [i for i in rank_on if i not in known]
    if unknown:
        raise KeyError(f"front.rank_on: unknown indicators {unknown}")
    frame = getattr(data, "data", data)
    values = indicators.compute(frame, levels=(LEVEL, PROVINCE), lang=lang)
    values = with_reader_status(privacy.masked(values))  # statuses as the briefs tell them
    year = int(values["year"].max())
    distribution = maturity.distribution(frame, level=PROVINCE, lang=lang)
    return {
        "year": year,
        "n_districts": int(values.loc[values["level"] == LEVEL, "unit_id"].nunique()),
        "rank_on": rank_on,
        "headline": headline(values, year=year),
        "province": province(values, year=year),
        "ranking": ranking(values, year=year, rank_on=rank_on),
        "maturity": maturity_change(distribution, year=year),
        "training": training(values),
    }
