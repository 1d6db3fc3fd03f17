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
# # 01 · Chất lượng dữ liệu / Data quality
#
# Độ đầy đủ, dòng bị loại, vi phạm quy tắc và giá trị bất thường. *Completeness, rejected rows, rule violations and outliers.*

# %% tags=["parameters"]
dataset = "thai_nguyen_synthetic"  # a spec in config/datasets
year = None  # school year (end year) for the headline; default: the latest
level = "analysis_district"  # hierarchy level for the summary
threshold = 3.0  # outlier threshold (|z|)
lang = "vi"  # "vi" or "en"
processed = None  # folder of processed tables (default data/processed)

# %%
from pathlib import Path

from IPython.display import Markdown, display

from analysis import datasets, export, i18n, indicators, maturity, plots, quality, record

data = datasets.load(dataset, processed=Path(processed) if processed else None)
spec = data.spec
say = i18n.say("notebooks", lang)
applicable = "school_hierarchy" in data.tables
if not applicable:
    record.not_applicable(i18n.text("notebooks", "not_applicable", lang, title=spec.title[lang]))
else:
    display(Markdown(f"## {i18n.label('notebooks', 'quality_title', lang)}"))
    say("quality_intro")
    summary, missing = quality.completeness(data.tables["school_hierarchy"], data.data,
                                           rejects=data.tables.get("rejects"), level=level)
    year = year or int(summary["year"].max())
    latest = summary[summary["year"] == year][["expected", "received", "rejected", "missing"]].sum()
    pct = 100 * latest["received"] / latest["expected"]
    say("completeness_text", year=year, received=int(latest["received"]), expected=int(latest["expected"]),
        pct=i18n.percent(pct, lang), missing=int(latest["missing"]), rejected=int(latest["rejected"]))
    record.figure("completeness_pct", round(pct, 2), unit="%")
    record.figure("reports_missing", int(latest["missing"]))
    plots.completeness_heatmap(summary, lang=lang)
    record.data("completeness", summary, label=i18n.label("charts", "completeness_title", lang))

# %%
if applicable:
    rejects = data.tables.get("rejects")
    rejects = rejects[rejects["table"] == "panel"] if rejects is not None else rejects
    rows = int(rejects[["file", "sheet", "row"]].drop_duplicates().shape[0]) if rejects is not None else 0
    say("rejects_text", rows=rows)
    record.figure("rows_rejected", rows)
    if rows:
        by_rule = rejects.groupby("rule").size().rename(i18n.label("charts", "rows", lang)).to_frame()
        record.table("rejects_by_rule", by_rule, label=i18n.label("charts", "rejects_title", lang), lang=lang)
        record.table("rejects", quality.without_paths(rejects), lang=lang, show=15)

# %%
if applicable:
    violations = quality.rule_violations(data)
    say("violations_text", n=len(violations))
    record.figure("rule_violations", len(violations))
    record.table("rule_violations", violations, lang=lang, show=15)
    flags = quality.outliers(data, threshold=threshold)
    say("outliers_text", n=len(flags), threshold=i18n.number(threshold, lang, 1))
    record.figure("outliers", len(flags))
    flags = flags.sort_values("score", key=abs, ascending=False)
    # a school value the public workbook hides (small cell, or its complement) stays hidden
    record.table("outliers", export.hide_as_published(flags, data), lang=lang, show=15)

# %%
if applicable:
    record.table("quality_summary", quality.summary(data, hierarchy=data.tables["school_hierarchy"],
                 rejects=data.tables.get("rejects"), level=level, threshold=threshold), lang=lang)
