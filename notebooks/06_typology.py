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

import pandas as pd
from IPython.display import Markdown, display
from sklearn.metrics import precision_recall_curve, roc_curve

from analysis import datasets, i18n, indicators, plots, record, typology

data = datasets.load(dataset, processed=Path(processed) if processed else None)
spec = data.spec
say = i18n.say("typology", lang)
applicable = "school_hierarchy" in data.tables
if not applicable:
    record.not_applicable(i18n.text("notebooks", "not_applicable", lang, title=spec.title[lang]))
else:
    display(Markdown("## " + i18n.label("typology_notebook", "title", lang)))
    if spec.synthetic:
        display(Markdown(i18n.label("links_notebook", "synthetic", lang)))
    if show_names:  # the at-risk list names schools: this run's outputs are internal
        record.internal(i18n.label("typology_notebook", "internal_reason", lang), lang=lang)
    year = year or int(data.data["year"].max())
    groups = typology.profiles(data, year=year, lang=lang)
    say("profiles_text", k=groups.k, sil=i18n.number(max(groups.silhouettes.values()), lang, 2), ari=i18n.number(groups.stability, lang, 2))
    best = max(groups.silhouettes.values())
    if best < typology.WEAK_SILHOUETTE:  # Kaufman & Rousseeuw: no substantial structure below 0.25
        say("weak_structure", sil=i18n.number(best, lang, 2))
    for g, name in groups.names.items():
        display(Markdown(i18n.text("typology", "group_item", lang, n=g + 1, name=name,
                                   schools=i18n.integer(groups.sizes[g], lang))))
    plots.profile_heatmap(groups, lang=lang)
    names = {i.id: i.name[lang] for i in indicators.load_indicators()}
    record.data("profiles", groups.profile.rename(columns=names).rename_axis("profile").assign(
        profile_name=lambda t: t.index.map(groups.names), n_schools=lambda t: t.index.map(groups.sizes)))
    record.figure("n_groups", groups.k)
    record.figure("stability_ari", round(groups.stability, 3))

# %%
if applicable:
    risk = typology.at_risk(data)
    say("risk_text", auc=i18n.number(risk.auc, lang, 2), base=i18n.number(risk.baseline_auc, lang, 2), ap=i18n.number(risk.average_precision, lang, 2))
    plots.risk_plots(risk, lang=lang)
    y, p = risk.predictions["outcome"], risk.predictions["risk"]
    (fpr, tpr, _), (precision, recall, _) = roc_curve(y, p), precision_recall_curve(y, p)
    record.data("risk_curves", pd.concat([
        pd.DataFrame({"curve": "roc", "x": fpr, "y": tpr}),
        pd.DataFrame({"curve": "precision_recall", "x": recall, "y": precision}),
        risk.calibration.rename(columns={"predicted": "x", "observed": "y"}).assign(curve="calibration"),
    ], ignore_index=True))
    record.table("importance", risk.importance, lang=lang, digits=3)
    if show_names:
        display(Markdown(i18n.label("typology", "internal", lang)))
        record.table("at_risk", risk.at_risk, lang=lang, digits=3, show=20)
    record.figure("risk_auc", round(risk.auc, 3))
    record.figure("risk_auc_area_only", round(risk.baseline_auc, 3))
    record.figure("n_at_risk_above_half", int((risk.at_risk["risk"] > 0.5).sum()))
