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
# # 02 · Chỉ tiêu và mục tiêu / Indicators and targets
#
# Toàn tỉnh, so sánh giữa các huyện và xu hướng. *Province view, district comparison and trends.*

# %% tags=["parameters"]
dataset = "thai_nguyen_synthetic"  # a spec in config/datasets
year = None  # school year (end year); default: the latest
compare = ["teachers_trained_cds", "pupils_digital_records", "learners_per_computer"]  # indicators to compare
lang = "vi"  # "vi" or "en"
processed = None  # folder of processed tables (default data/processed)

# %%
from pathlib import Path

from IPython.display import Markdown, display

from analysis import datasets, followup, i18n, indicators, maturity, plots, quality, record

data = datasets.load(dataset, processed=Path(processed) if processed else None)
spec = data.spec
say = i18n.say("notebooks", lang)
applicable = "school_hierarchy" in data.tables
if not applicable:
    record.not_applicable(i18n.text("notebooks", "not_applicable", lang, title=spec.title[lang]))
else:
    display(Markdown(f"## {i18n.label('notebooks', 'indicators_title', lang)}"))
    say("indicators_intro")
    if spec.synthetic:
        display(Markdown(i18n.label("links_notebook", "synthetic", lang)))
    values = indicators.compute(data, levels=("analysis_district", "analysis_province"), lang=lang)
    year = year or int(values["year"].max())
    province = values[(values["level"] == "analysis_province") & (values["year"] == year)]
    counts = province["status"].value_counts()
    say("indicators_text", year=year, met=int(counts.get("met", 0)), on_track=int(counts.get("on_track", 0)),
        behind=int(counts.get("behind", 0)), not_met=int(counts.get("not_met", 0)))
    reporting, register = indicators.schools_counted(data, year)
    i18n.say("indicator_gaps", lang)("schools", year=year, n=i18n.number(reporting, lang, 0),
                                     total=i18n.number(register, lang, 0))
    say("placeholder")
    applied = followup.counts(data.corrections)  # the follow-up register's layer, when there is one
    if len(data.corrections):
        say("followup_applied", corrected=applied["corrected"], excluded=applied["excluded"])
    record.figure("values_corrected", applied["corrected"])
    record.figure("values_excluded", applied["excluded"])
    for status in ("met", "on_track", "behind", "not_met"):
        record.figure(f"indicators_{status}", int(counts.get(status, 0)))
    plots.status_counts(values, level="analysis_province", year=year, lang=lang)
    record.data("status_counts", counts.rename_axis("status").rename("count").reset_index())

# %%
if applicable:
    shown = province[["name", "value", "measure", "target", "target_year", "status", "change"]]
    record.table("province", shown, lang=lang, status="status")
    # an indicator with no value would vanish from the table: name it, with its reason
    gaps = indicators.not_computed(province, data, year, lang=lang)
    if len(gaps):
        i18n.say("indicator_gaps", lang)("missing_intro", year=year, n=len(gaps),
                                         total=len(indicators.load_indicators()))
        record.table("not_computed", gaps[["name", "reason"]], lang=lang)

# %%
if applicable:
    for indicator in compare:
        rows = values[values["indicator"] == indicator]
        plots.district_comparison(values, indicator=indicator, year=year, lang=lang)
        record.data(f"{indicator}_districts", rows[(rows["level"] == "analysis_district") & (rows["year"] == year)])
        units = [("analysis_province", u) for u in province["unit_id"].unique()]
        plots.trend(values, indicator=indicator, units=units, lang=lang)
        record.data(f"{indicator}_trend", rows[rows["level"] == "analysis_province"])
        row = province[province["indicator"] == indicator]
        if len(row):
            record.figure(f"province_{indicator}", round(float(row["value"].iloc[0]), 3), unit=row["measure"].iloc[0])

# %%
if applicable:
    dist = maturity.distribution(data, level="analysis_district", lang=lang)
    plots.maturity_levels(dist, year=year, lang=lang)
    record.data("maturity", dist[dist["year"] == year])
