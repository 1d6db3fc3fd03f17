"""A district brief's content: a status summary, the headline table, the trend and the rank,
and three findings in plain words.

Every sentence comes from the label catalogue (``brief`` section) in the
reader's language; numbers are formatted for that reader (:mod:`analysis.i18n`).
"""

from __future__ import annotations

import html

import pandas as pd

from analysis.core import i18n, memo
from analysis.measures import indicators, maturity
from analysis.report import privacy
from analysis.report.style import PALETTE

LEVEL = "analysis_district"
PROVINCE = "analysis_province"


NOT_MET = "not_met"  # behind when the target year has come: the target was missed


def reader_status(status: str, year: int, target_year) -> str:
    """The status a reader is told: ``behind`` becomes ``not_met`` once ``year`` has
    reached the target year ("không đạt", not "chậm tiến độ": there is no time left).

    Parameters
    ----------
    status
        The status code of :func:`analysis.indicators.compute`.
    year
        The school year of the value (end year).
    target_year
        The target's year; missing for an indicator without a target.

    Returns
    -------
    str
        ``status``, or :data:`NOT_MET`.
    """
    if status == "behind" and not pd.isna(target_year) and int(year) >= int(target_year):
        return NOT_MET
    return status


def with_reader_status(values: pd.DataFrame) -> pd.DataFrame:
    """``values`` with every status as :func:`reader_status` tells it."""
    out = values.copy()
    out["status"] = [
        reader_status(s, y, t)
        for s, y, t in zip(out["status"], out["year"], out["target_year"], strict=True)
    ]
    return out


def with_unit(value: float, measure: str, lang: str) -> str:
    """A value with its measure for a sentence: ``"68,7%"``, ``"15,2 học sinh/máy"``.

    Parameters
    ----------
    value
        The number (one decimal, :func:`analysis.i18n.number`); missing gives a dash.
    measure
        The indicator's measure in ``lang``; ``%`` is written without a space.
    lang
        ``vi`` or ``en``.
    """
    number = i18n.number(value, lang)
    return f"{number}{measure}" if measure == "%" else f"{number} {measure}"


def difference(value: float, measure: str, lang: str, *, sign: bool = False) -> str:
    """A difference in the indicator's measure; a difference of two shares is in percentage
    points ("3,5 điểm phần trăm"), never in %; missing gives a dash."""
    if pd.isna(value):
        return i18n.MISSING
    number = i18n.number(value, lang, 1, sign=sign)
    unit = i18n.label("front", "points", lang) if measure == "%" else measure
    return f"{number} {unit}"


def tables(data, *, year: int, lang: str = "vi") -> dict[str, pd.DataFrame]:
    """Indicator values for districts and the province, and maturity by district.

    Small cells are hidden in the values (:func:`analysis.privacy.masked`) before
    anything is built on them. For a loaded dataset the unmasked tables are
    computed once per dataset and language when ``$WORKBENCH_CACHE`` is set
    (:func:`analysis.memo.frames`), so the briefs of a plan share them.

    Parameters
    ----------
    data
        A :class:`~analysis.datasets.Dataset` (cached) or its panel joined with
        the hierarchy, with the 4725 columns.
    year
        End year of the school year of the maturity tables.
    lang
        Language of names, measures and level names.

    Returns
    -------
    dict of str to DataFrame
        ``values``: :func:`analysis.indicators.compute` at :data:`LEVEL` and
        :data:`PROVINCE`, every year, masked; ``maturity`` and
        ``province_maturity``: :func:`analysis.maturity.distribution` by district
        and for the province, in ``year`` only.

    Example
    -------
    >>> parts = brief.tables(data, year=2025, lang="vi")  # doctest: +SKIP
    >>> parts["values"].query("level == 'analysis_district'")  # doctest: +SKIP
    """

    frame = getattr(data, "data", data)

    def compute() -> dict[str, pd.DataFrame]:
        return {
            "values": indicators.compute(frame, levels=(LEVEL, PROVINCE), lang=lang),
            "maturity": maturity.distribution(frame, level=LEVEL, lang=lang),
            "province_maturity": maturity.distribution(frame, level=PROVINCE, lang=lang),
        }

    key = {"dataset": memo.fingerprint(data), "lang": lang} if hasattr(data, "spec") else None
    parts = memo.frames("brief_tables", key, compute) if key else compute()
    return {
        # small cells hidden before anything is built on them: the headline, the sentences
        # and the charts would otherwise give back a value the CSVs suppress
        "values": with_reader_status(privacy.masked(parts["values"])),
        "maturity": parts["maturity"][parts["maturity"]["year"] == year],
        "province_maturity": parts["province_maturity"][parts["province_maturity"]["year"] == year],
    }


def headline_table(values: pd.DataFrame, *, unit: str, year: int, lang: str) -> pd.DataFrame:
    """The headline indicators of ``unit`` in ``year`` beside the province, the target, the
    status, the change on the previous year and the rank among the districts.

    Numbers stay numbers (``record.table`` writes them for the reader and applies the
    privacy rules); ``attrs["status_codes"]`` holds the status of each row and
    ``attrs["missing"]`` the headline indicators the district has no row for (never a
    row of blanks: the page names them with their reason,
    :func:`analysis.indicators.unit_not_computed`). A value hidden by the privacy
    rules keeps its row.

    Parameters
    ----------
    values
        ``tables(...)["values"]``.
    unit
        ``unit_id`` of the district at :data:`LEVEL`.
    year
        End year of the school year.
    lang
        Language of the rank column's header.

    Returns
    -------
    pandas.DataFrame
        One row per headline indicator the district has a row for
        (:func:`analysis.indicators.headline` order): ``indicator``, ``name``,
        ``value``, ``measure``, ``province_value``, ``target``, ``target_year``,
        ``status``, ``change`` and the rank, its header saying among how many
        districts (``"Rank among 9 districts"``).

    Example
    -------
    >>> values = parts["values"]  # doctest: +SKIP
    >>> table = brief.headline_table(values, unit=unit, year=2025, lang=lang)  # doctest: +SKIP
    >>> record.table("headline", table.drop(columns="indicator"), status="status")  # doctest: +SKIP
    """
    ids = indicators.headline()
    mine = values[
        (values["level"] == LEVEL) & (values["unit_id"] == unit) & (values["year"] == year)
    ]
    province = values[(values["level"] == PROVINCE) & (values["year"] == year)].set_index(
        "indicator"
    )
    n_units = values[(values["level"] == LEVEL) & (values["year"] == year)]["unit_id"].nunique()
    present = [i for i in ids if i in set(mine["indicator"])]
    mine = mine.set_index("indicator").reindex(present).reset_index()
    out = mine[["indicator", "name", "value", "measure"]].copy()
    out["province_value"] = [province["value"].get(i) for i in mine["indicator"]]
    for column in ("target", "target_year", "status", "change"):
        out[column] = mine[column]
    out[i18n.text("brief", "rank", lang, n=n_units)] = mine["rank"]
    out.attrs["status_codes"] = list(mine["status"])
    out.attrs["missing"] = [i for i in ids if i not in present]
    return out


def _strength(rows: pd.DataFrame, peers: pd.DataFrame, n_units: int, lang: str) -> str | None:
    """The headline indicator where the unit ranks best among those it has met or is on
    track to meet (a rank is no strength while the target is being missed), counting ties
    at their worst place."""
    tied = peers.groupby(["indicator", "rank"]).size().rename("tied").reset_index()
    good = rows["rank"].notna() & rows["status"].isin(["met", "on_track"])
    ranked = rows[good].merge(tied, on=["indicator", "rank"], how="left")
    # a first place shared by every district is no strength: rank by the worst tied place
    ranked = ranked.assign(place=ranked["rank"] + ranked["tied"] - 1)
    ranked = ranked.sort_values(["place", "indicator"])
    if not len(ranked):
        return None
    best = ranked.iloc[0]
    suffix = i18n.label("brief", "status_suffix_met", lang) if best["status"] == "met" else ""
    return i18n.text(
        "brief",
        "strength",
        lang,
        indicator=best["name"],
        value=with_unit(best["value"], best["measure"], lang),
        rank=int(best["rank"]),
        n=n_units,
        status=suffix,
    )


def _shortfall(rows: pd.DataFrame, status: dict[str, str], lang: str) -> str:
    """The largest gap to target (relative to the target) among indicators behind or
    without a trend; the "no shortfall" sentence when there is none."""
    behind = rows[rows["status"].isin(["behind", NOT_MET, "no_trend"]) & rows["gap"].notna()]
    if not len(behind):
        return i18n.label("brief", "no_shortfall", lang)
    relative = behind["gap"] / behind["target"].abs().where(behind["target"] != 0, 1)
    worst = behind.loc[relative.idxmax()]
    return i18n.text(
        "brief",
        "shortfall",
        lang,
        indicator=worst["name"],
        value=with_unit(worst["value"], worst["measure"], lang),
        target=with_unit(worst["target"], worst["measure"], lang),
        target_year=int(worst["target_year"]),
        gap=difference(worst["gap"], worst["measure"], lang),
        status_word=status[worst["status"]].lower(),
    )


def _maturity(tables_: dict[str, pd.DataFrame], unit: str, lang: str) -> str | None:
    """Shares of the unit's schools at levels 3 and 1 (first criteria group), beside the
    province's level-3 share; None when the unit has no maturity rows."""
    dist = tables_["maturity"]
    mine = dist[(dist["unit_id"] == unit)]
    g1 = maturity.load_framework().groups[0].name[lang]
    mine = mine[mine["group"] == g1]
    if not len(mine):
        return None
    share = dict(zip(mine["maturity_level"], mine["share"], strict=True))
    fw = maturity.load_framework()
    prov = tables_["province_maturity"]
    prov = prov[prov["group"] == g1]
    prov_share = dict(zip(prov["maturity_level"], prov["share"], strict=True))
    l3, l1 = fw.level_name(3, lang), fw.level_name(1, lang)
    return i18n.text(
        "brief",
        "maturity_finding",
        lang,
        share3=i18n.percent(share.get(l3, 0), lang),
        province3=i18n.percent(prov_share.get(l3, 0), lang),
        share1=i18n.percent(share.get(l1, 0), lang),
    )


def _progress(rows: pd.DataFrame, lang: str) -> str | None:
    """The headline indicator with the largest change on the previous year, relative to
    its value; None when no change is known."""
    changed = rows[rows["change"].notna()]
    if not len(changed):
        return None
    top = changed.loc[(changed["change"] / changed["value"].abs()).idxmax()]
    return i18n.text(
        "brief",
        "progress",
        lang,
        indicator=top["name"],
        change=difference(top["change"], top["measure"], lang, sign=True),
    )


def findings(
    tables_: dict[str, pd.DataFrame], *, unit: str, year: int, lang: str = "vi"
) -> list[str]:
    """Three findings: a strength, the largest shortfall, and progress or maturity.

    Parameters
    ----------
    tables_
        The output of :func:`tables` (``values``, ``maturity``, ``province_maturity``;
        the maturity tables already cut to ``year``).
    unit
        ``unit_id`` of the district at level :data:`LEVEL` (``analysis_district``).
    year
        End year of the school year.
    lang
        ``vi`` or ``en``.

    Returns
    -------
    list of str
        Up to three sentences from the ``brief`` catalogue section, in order:

        1. the strength: the headline indicator where the district ranks best (a
           place shared with other districts counts as the worst place of the tie,
           so a first place shared by every district is no strength); left out when
           no headline indicator has a rank;
        2. the shortfall: among headline indicators ``behind`` or ``no_trend``, the
           largest gap relative to the target; or the "no shortfall" sentence;
        3. the maturity finding (shares of the district's schools at levels 3 and 1
           in the first criteria group, the province's level-3 share beside them);
           when the district has no maturity rows, the progress finding (the largest
           change on the previous year relative to the value), left out when no
           change is known.

    Raises
    ------
    ValueError
        ``lang`` is not ``vi`` or ``en``.

    Example
    -------
    >>> parts = brief.tables(data, year=2025, lang="en")  # doctest: +SKIP
    >>> for sentence in brief.findings(parts, unit="169", year=2025, lang="en"):  # doctest: +SKIP
    ...     print(sentence)
    """
    values = tables_["values"]
    ids = indicators.headline()
    rows = values[
        (values["level"] == LEVEL) & (values["unit_id"] == unit) & (values["year"] == year)
    ]
    rows = rows[rows["indicator"].isin(ids)]
    n_units = values[(values["level"] == LEVEL) & (values["year"] == year)]["unit_id"].nunique()
    status = i18n.labels("status", lang)
    peers = values[(values["level"] == LEVEL) & (values["year"] == year)]
    out = [_strength(rows, peers, n_units, lang), _shortfall(rows, status, lang)]
    third = _maturity(tables_, unit, lang)
    out.append(third if third is not None else _progress(rows, lang))
    return [sentence for sentence in out if sentence is not None][:3]


STATUSES = ("met", "on_track", "behind", NOT_MET)


def status_summary(codes: list[str], *, lang: str = "vi") -> str:
    """One HTML line: how many headline indicators are met, on track and behind, each on
    the colour the table and the charts use for it, so the colours explain themselves.

    Only catalogue words and counts go into the markup (no data values).

    Parameters
    ----------
    codes
        The status code of each headline indicator (``headline_table(...)
        .attrs["status_codes"]``); codes other than ``met``, ``on_track`` and
        ``behind`` count in the total only.
    lang
        ``vi`` or ``en``.

    Returns
    -------
    str
        A ``<p>`` of HTML (escaped), for ``IPython.display.HTML``.
    """

    words = i18n.labels("status", lang)
    chips = []
    for code in STATUSES:
        n = sum(c == code for c in codes)
        chips.append(
            f'<span style="background:{PALETTE[code]};color:#fff;font-weight:bold;'
            f'padding:.15rem .5rem;border-radius:.3rem;margin-right:.4rem">'
            f"{html.escape(words[code])}: {n}</span>"
        )
    lead = html.escape(i18n.text("brief", "summary", lang, n=len(codes)))
    return f'<p style="font-size:1.05rem">{lead} {"".join(chips)}</p>'


def trend_sentence(values: pd.DataFrame, *, unit: str, indicator: str, year: int, lang: str) -> str:
    """The focus indicator in words: from the first year to ``year``, the province beside it,
    the district's rank, and the target.

    Parameters
    ----------
    values
        ``tables(...)["values"]``.
    unit
        ``unit_id`` of the district at :data:`LEVEL`.
    indicator
        The focus indicator's id.
    year
        End year of the last school year described; the sentence runs from the
        district's first year with a value to its last one up to ``year``.
    lang
        ``vi`` or ``en``.

    Returns
    -------
    str
        The trend sentence (rose, fell or stayed), then the rank and the target
        when known; the "no data" sentence when the district has no value.
        Plain text, but names come from the data: escape them for Markdown
        (:func:`analysis.tables.escape_markdown`).
    """
    rows = values[(values["indicator"] == indicator) & (values["year"] <= year)]
    mine = rows[(rows["level"] == LEVEL) & (rows["unit_id"] == unit)].dropna(subset=["value"])
    mine = mine.sort_values("year")
    if mine.empty:
        return i18n.text("brief", "trend_missing", lang)
    first, last = mine.iloc[0], mine.iloc[-1]
    measure = last["measure"]
    province = rows[(rows["level"] == PROVINCE) & (rows["year"] == last["year"])]
    n_units = rows[(rows["level"] == LEVEL) & (rows["year"] == last["year"])]["unit_id"].nunique()
    change = last["value"] - first["value"]
    direction = "trend_up" if change > 0 else "trend_down" if change < 0 else "trend_flat"
    sentence = i18n.text(
        "brief",
        direction,
        lang,
        indicator=last["name"],
        first=with_unit(first["value"], measure, lang),
        first_year=int(first["year"]),
        last=with_unit(last["value"], measure, lang),
        last_year=int(last["year"]),
        province=with_unit(province["value"].iloc[0], measure, lang) if len(province) else "—",
    )
    if pd.notna(last.get("rank")):
        rank = int(last["rank"])
        sentence += " " + i18n.text("brief", "rank_sentence", lang, rank=rank, n=n_units)
    if pd.notna(last.get("target")) and pd.notna(last.get("status")):  # status may be hidden
        sentence += " " + i18n.text(
            "brief",
            "target_sentence",
            lang,
            target=with_unit(last["target"], measure, lang),
            target_year=int(last["target_year"]),
            status=i18n.label("status", last["status"], lang).lower(),
        )
    return sentence


def trend_gap(values: pd.DataFrame, data, *, unit: str, indicator: str, year: int, lang: str):
    """Why there is no trend chart of ``indicator`` for ``unit``, or ``None`` when there is one.

    Returns
    -------
    str or None
        ``None`` when the district has a value in some year up to ``year``; else the
        sentence the page shows instead of an empty chart, with the reason of
        :func:`analysis.indicators.unit_not_computed` (a column no report holds, no
        school of the district reporting it).
    """
    mine = rows(values, indicator=indicator, units=[(LEVEL, str(unit))])
    if mine.loc[mine["year"] <= year, "value"].notna().any():
        return None
    why = indicators.unit_not_computed(
        values, data, [indicator], unit=str(unit), year=year, level=LEVEL, lang=lang
    )
    reason = why["reason"].iloc[0] if len(why) else i18n.text("brief", "trend_missing", lang)
    return i18n.text("indicator_gaps", "no_trend_chart", lang, reason=reason)


def comparison_note(values: pd.DataFrame, *, indicator: str, year: int, lang: str):
    """The line under the district comparison when some districts are not drawn ("The
    chart shows 7 of 9 districts: …"), or ``None`` when every district is.

    A district is not drawn when its value is hidden by the privacy rules (small numbers)
    or was not computed; the line names them, so a missing bar is not read as zero.
    """
    level = rows(values, indicator=indicator, level=LEVEL, year=year)
    missing = level[level["value"].isna()]
    if missing.empty:
        return None
    names = missing["unit_name"] if "unit_name" in missing else missing["unit_id"]
    return i18n.text(
        "brief",
        "comparison_partial",
        lang,
        shown=len(level) - len(missing),
        n=len(level),
        missing=", ".join(sorted(str(n) for n in names)),
    )


def rows(
    values: pd.DataFrame,
    *,
    indicator: str,
    units: list[tuple[str, str]] | None = None,
    level: str | None = None,
    year: int | None = None,
) -> pd.DataFrame:
    """The indicator rows a chart draws (its CSV): for (level, unit_id) pairs, or a level, or
    a year.

    Parameters
    ----------
    values
        ``tables(...)["values"]`` (or any output of :func:`analysis.indicators.compute`).
    indicator
        The indicator's id.
    units
        Keep only these ``(level, unit_id)`` pairs.
    level
        Keep only this level.
    year
        Keep only this end year.

    Returns
    -------
    pandas.DataFrame
        The matching rows of ``values``, all columns, in their order.

    Example
    -------
    >>> shown = [(brief.LEVEL, unit), (brief.PROVINCE, province_id)]  # doctest: +SKIP
    >>> plots.trend(values, indicator=focus, units=shown, lang=lang)  # doctest: +SKIP
    >>> record.data("trend", brief.rows(values, indicator=focus, units=shown))  # doctest: +SKIP
    """
    keep = values["indicator"] == indicator
    if units is not None:
        keep &= pd.Series(list(zip(values["level"], values["unit_id"], strict=True)),
                          index=values.index).isin(units)  # fmt: skip
    if level is not None:
        keep &= values["level"] == level
    if year is not None:
        keep &= values["year"] == year
    return values[keep]
