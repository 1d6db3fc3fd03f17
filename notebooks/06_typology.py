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
# # 06 · Phân nhóm trường / School typology
#
# Những trường nào giống nhau, và trường nào đang tụt lại? *Which schools look alike, and which are falling behind?*

# %% tags=["parameters"]
dataset = "thai_nguyen_synthetic"  # a spec in config/datasets
year = None  # school year (end year) to profile; default: the latest
lang = "vi"  # "vi" or "en"
show_names = False  # list at-risk schools by name (INTERNAL reports only)
processed = None  # folder of processed tables (default data/processed)

# %%
from pathlib import Path

from IPython.display import Markdown, display

from analysis import datasets, i18n, record, typology

data = datasets.load(dataset, processed=Path(processed) if processed else None)
spec = data.spec
say = lambda key, **kw: display(Markdown(i18n.text("typology", key, lang, **kw)))  # noqa: E731
applicable = "school_hierarchy" in data.tables
if not applicable:
    display(Markdown(i18n.text("notebooks", "not_applicable", lang, title=spec.title[lang])))
    record.figure("applicable", False)
else:
    display(Markdown("## " + i18n.label("typology_notebook", "title", lang)))
    if spec.synthetic:
        display(Markdown(i18n.label("links_notebook", "synthetic", lang)))
    year = year or int(data.data["year"].max())
    groups = typology.profiles(data, year=year, lang=lang)
    say("profiles_text", k=groups.k, sil=f"{max(groups.silhouettes.values()):.2f}", ari=f"{groups.stability:.2f}")
    for g, name in groups.names.items():
        display(Markdown(f"- **{g}** (n={groups.sizes[g]}): {name}"))
    typology.profile_heatmap(groups, lang=lang)
    record.figure("n_groups", groups.k)
    record.figure("stability_ari", round(groups.stability, 3))

# %%
if applicable:
    risk = typology.at_risk(data)
    say("risk_text", auc=f"{risk.auc:.2f}", base=f"{risk.baseline_auc:.2f}", ap=f"{risk.average_precision:.2f}")
    typology.risk_plots(risk, lang=lang)
    display(risk.importance.round(3))
    display(Markdown(i18n.label("typology", "internal", lang)))
    if show_names:
        display(risk.at_risk.head(20))
    record.figure("risk_auc", round(risk.auc, 3))
    record.figure("risk_auc_area_only", round(risk.baseline_auc, 3))
    record.figure("n_at_risk_above_half", int((risk.at_risk["risk"] > 0.5).sum()))
