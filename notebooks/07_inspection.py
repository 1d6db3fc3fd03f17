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

# %%

# %% [markdown]
# # 07 · Kiểm tra số liệu / Data inspection
#
# Giá trị cần kiểm tra lại với trường, xếp theo mức ảnh hưởng, và sổ theo dõi kiểm tra. *Values to check with the schools, ranked by impact, and the follow-up register.*

# %% tags=["parameters"]
dataset = "thai_nguyen_synthetic"  # a spec in config/datasets
years = None  # e.g. [2024, 2025]; default: every year
show = 25  # rows of the list shown on the page (the CSV keeps every flag)
lang = "vi"  # "vi" or "en"
processed = None  # folder of processed tables (default data/processed)
register = None  # the follow-up register (default data/followup.xlsx)

# %%
from pathlib import Path

from IPython.display import Markdown, display

from analysis import datasets, followup, i18n, paths, plots, quality, record

register_path = Path(register) if register else followup.default_path()
data = datasets.load(dataset, processed=Path(processed) if processed else None,
                     followup_register=register_path)
spec = data.spec
say = i18n.say("notebooks", lang)
applicable = "school_hierarchy" in data.tables
if not applicable:
    record.not_applicable(i18n.text("notebooks", "not_applicable", lang, title=spec.title[lang]))
else:
    display(Markdown(f"## {i18n.label('notebooks', 'inspection_title', lang)}"))
    record.internal(i18n.label("notebooks", "inspection_internal", lang), lang=lang)
    say("inspection_intro")

# %%
if applicable:
    decisions = followup.read_register(register_path)
    flags = quality.with_followup(quality.flags(data), decisions)
    if years:
        flags = flags[flags["year"].isin([int(y) for y in years])]
    states = flags["state"].value_counts()
    rows = i18n.number(len(data.data), lang, 0)
    if len(flags):
        say("flags_text", n=len(flags), rows=rows, open=int(states.get("open", 0)),
            waiting=int(states.get("waiting", 0)), resolved=int(states.get("resolved", 0)))
        plots.flags_by_district(flags, lang=lang)
        record.data("flags_by_district", flags.groupby(["district_name", "state"]).size()
                    .rename("count").reset_index())
        record.table("flags", quality.to_check(flags, lang), label=i18n.label("notebooks", "flags_table", lang),
                     lang=lang, show=show)
    else:
        say("flags_none", rows=rows)
    record.figure("flags", len(flags))
    record.figure("flags_open", int(states.get("open", 0)))

# %%
if applicable:
    applied = followup.counts(data.corrections)
    if len(decisions):
        say("followup_text", path=paths.shown(register_path), decisions=int(decisions["decision"].notna().sum()),
            applied=int(data.corrections["applied"].sum()), **applied)
        record.table("followup", data.corrections, label=i18n.label("notebooks", "followup_table", lang),
                     lang=lang, show=show)
    else:
        say("followup_none")
    record.figure("values_corrected", applied["corrected"])
    record.figure("values_excluded", applied["excluded"])
