# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: "C\u0110S workbench (Python 3)"
#     language: python
#     name: cds-workbench
# ---

# %% [markdown]
# # 04 · Bản tin huyện / District brief

# %% tags=["parameters"]
dataset = "thai_nguyen_synthetic"  # a spec in config/datasets
year = 2025  # school year (end year)
unit = "164"  # district id (analysis_district_id: comparable across the 2025 reform)
focus = "teachers_trained_cds"  # indicator shown as trend and ranking
lang = "vi"  # "vi" or "en"
processed = None  # folder of processed tables (default data/processed)

# %%
from pathlib import Path

import pandas as pd

from IPython.display import HTML, Markdown, display

from analysis import brief, datasets, i18n, indicators, maturity, plots, quality, record, tables

data = datasets.load(dataset, processed=Path(processed) if processed else None)
spec = data.spec
say = i18n.say("notebooks", lang)
applicable = "school_hierarchy" in data.tables
if not applicable:
    record.not_applicable(i18n.text("notebooks", "not_applicable", lang, title=spec.title[lang]))
else:
    parts = brief.tables(data, year=year, lang=lang)
    values = parts["values"]
    mine = values[(values["level"] == brief.LEVEL) & (values["unit_id"] == str(unit))]
    if mine.empty:
        raise ValueError(f"unit {unit!r} has no data at level {brief.LEVEL} in {dataset}")
    name = mine["unit_name"].iloc[0]
    display(Markdown("## " + i18n.text("brief", "title", lang, unit=tables.escape_markdown(name), school_year=i18n.school_year(year))))
    if spec.synthetic:
        display(Markdown(i18n.label("links_notebook", "synthetic", lang)))
    reporting, register = indicators.schools_counted(data, year, unit=str(unit), column=brief.LEVEL + "_id")
    display(Markdown(tables.escape_markdown(i18n.text(
        "indicator_gaps", "unit_schools", lang, year=year, unit=name,
        n=i18n.number(reporting, lang, 0), total=i18n.number(register, lang, 0)))))
    table = brief.headline_table(values, unit=str(unit), year=year, lang=lang)
    codes = table.attrs["status_codes"]
    display(HTML(brief.status_summary(codes, lang=lang)))
    record.figure("unit", str(unit))
    record.figure("unit_name", name)

# %%
if applicable:
    display(Markdown("### " + i18n.label("brief", "findings", lang)))
    for sentence in brief.findings(parts, unit=str(unit), year=year, lang=lang):
        display(Markdown("- " + sentence))

# %%
if applicable:
    display(Markdown("### " + i18n.label("brief", "headline", lang)))
    record.table("headline", table.drop(columns="indicator"), lang=lang, status="status", digits=1)
    # a headline indicator the district has no value for is named with its reason, not a blank row
    gaps = indicators.unit_not_computed(values, data, table.attrs["missing"], unit=str(unit), year=year,
                                        level=brief.LEVEL, lang=lang)
    if len(gaps):
        display(Markdown(tables.escape_markdown(i18n.text(
            "indicator_gaps", "unit_missing_intro", lang, n=len(gaps), total=len(indicators.headline()),
            unit=name, year=year))))
        record.table("headline_missing", gaps[["name", "reason"]], lang=lang)
    for status in ("met", "on_track", "behind", "not_met"):
        record.figure(f"headline_{status}", sum(c == status for c in codes))

# %%
if applicable:
    display(Markdown("### " + i18n.label("brief", "trend_heading", lang)))
    province_id = values[values["level"] == brief.PROVINCE]["unit_id"].iloc[0]
    shown = [(brief.LEVEL, str(unit)), (brief.PROVINCE, province_id)]
    gap = brief.trend_gap(values, data, unit=str(unit), indicator=focus, year=year, lang=lang)
    if gap:  # no chart of nothing: say why
        display(Markdown(tables.escape_markdown(gap)))
    else:
        display(Markdown(tables.escape_markdown(brief.trend_sentence(values, unit=str(unit), indicator=focus, year=year, lang=lang))))
        plots.trend(values, indicator=focus, units=shown, lang=lang)
        record.data("trend", brief.rows(values, indicator=focus, units=shown))
    if brief.rows(values, indicator=focus, level=brief.LEVEL, year=year)["value"].notna().any():
        plots.district_comparison(values, indicator=focus, year=year, highlight=str(unit), lang=lang)
        partial = brief.comparison_note(values, indicator=focus, year=year, lang=lang)
        if partial:  # a district not drawn is named, so a missing bar is not read as zero
            display(Markdown(tables.escape_markdown(partial)))
        record.data("district_comparison", brief.rows(values, indicator=focus, level=brief.LEVEL, year=year))
    rank = mine[(mine["indicator"] == focus) & (mine["year"] == year)]["rank"]
    record.figure("rank_teachers_trained", int(rank.iloc[0]) if len(rank) and rank.notna().all() else None)

# %%
if applicable:
    display(Markdown("### " + i18n.label("brief", "maturity", lang)))
    display(Markdown(i18n.label("brief", "maturity_intro", lang)))
    dist = parts["maturity"]
    compared = pd.concat([dist[dist["unit_id"] == str(unit)], parts["province_maturity"]])
    plots.maturity_levels(compared, year=year, lang=lang)
    record.data("maturity", compared)
