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
# # 05 · Đánh giá chương trình / Programme evaluation
#
# Chương trình có làm thay đổi kết quả không? *Did a programme change outcomes?*

# %% tags=["parameters"]
dataset = "thai_nguyen_synthetic"  # a spec in config/datasets
outcome = None  # default: the programme's outcome, else the spec's first outcome
lang = "vi"  # "vi" or "en"
processed = None  # folder of processed tables (default data/processed)

# %%
from pathlib import Path

import numpy as np
import pandas as pd
from IPython.display import Markdown, display

from analysis import datasets, evaluation, evaluation_text, i18n, plots, record

data = datasets.load(dataset, processed=Path(processed) if processed else None)
spec = data.spec
say = i18n.say("evaluation_notebook", lang)
fmt = lambda v: i18n.number(v, lang, 3)  # noqa: E731
programme = spec.programme
treatment = spec.roles.get("treatment", [])
if spec.synthetic:
    display(Markdown(i18n.label("links_notebook", "synthetic", lang)))

# %%
if programme:
    outcome = outcome or programme.get("outcome") or spec.roles["outcomes"][0]
    display(Markdown("## " + i18n.text("evaluation_notebook", "title", lang, name=programme["name"][lang])))
    frame = data.data.assign(cohort=evaluation.cohorts(data))
    # inference at the level the programme was assigned (the spec's programme unit)
    result = evaluation.staggered(frame, outcome=outcome, unit=spec.unit, time=spec.time, cohort="cohort",
                                  cluster=programme["unit"])
    checks = evaluation.design_checks(result)
    overall = result.tidy("simple").iloc[0]
    names = evaluation.unit_names(frame, programme["unit"])
    for paragraph in evaluation_text.design_sentences(result, first_year=programme["first_year"], names=names,
                                                      outcome=spec.label(outcome, lang), lang=lang):
        display(Markdown(paragraph))
    record.table("effect_by_cohort", result.tidy("group").drop(columns="term"), lang=lang, digits=3)  # the cohort says it
    plots.event_study_plot(result, lang=lang)
    record.data("event_study", result.tidy("dynamic"))
    record.table("sensitivity", checks["sensitivity"], lang=lang, digits=3)
    tw = evaluation.twfe(frame, outcome=outcome, unit=spec.unit, time=spec.time, cohort="cohort",
                         cluster=programme["unit"]).tidy().iloc[0]
    say("twfe", twfe=fmt(tw["estimate"]), low=fmt(tw["conf_low"]), high=fmt(tw["conf_high"]))
    say("twfe_note")
    record.figure("programme", programme["name"][lang])
    record.figure("outcome", spec.label(outcome, lang))
    record.figure("att_overall", round(float(overall["estimate"]), 5))
    record.figure("att_conf_low", round(float(overall["conf_low"]), 5))
    record.figure("att_conf_high", round(float(overall["conf_high"]), 5))
    record.figure("att_twfe", round(float(tw["estimate"]), 5))
    record.figure("inference_method", result.inference["method"])
    record.figure("n_clusters", result.inference["n_clusters"])
    record.figure("n_treated_clusters", result.inference["n_treated_clusters"])
    record.figure("n_never_treated_clusters", result.inference["n_never_treated_clusters"])
    record.figure("mde", round(float(checks["mde"]), 5))
    record.figure("pretrend_p", round(float(result.pretrend.get("p_value", float("nan"))), 4))
    record.figure("breakdown_mbar", round(float(checks["breakdown_mbar"]), 3))

# %%
if not programme and treatment:
    outcome = outcome or spec.roles["outcomes"][0]
    covariates = [c for c in spec.roles.get("controls", []) if c in data.data]
    frame = data.data[data.data[treatment[1:]].sum(axis=1) == 0] if len(treatment) > 1 else data.data
    cluster = spec.groups[0] if spec.groups else None  # errors clustered by the spec's grouping
    weighted = evaluation.weighting(frame, outcome=outcome, treatment=treatment[0], covariates=covariates,
                                    cluster=cluster)
    row = weighted.tidy().iloc[0]
    clusters = (cluster, int(frame.dropna(subset=[outcome, *covariates])[cluster].nunique())) if cluster else None
    for paragraph in evaluation_text.weighting_sentences(weighted, spec=spec, treatment=treatment[0], outcome=outcome,
                                                         covariates=covariates, clusters=clusters, lang=lang):
        display(Markdown(paragraph))
    record.table("balance", evaluation_text.balance_table(weighted.balance, spec, lang), lang=lang, digits=3)
    plots.overlap_plot(weighted, lang=lang, labels=evaluation_text.comparison_names(spec, treatment[0], lang))
    bins = np.linspace(0, 1, 31)  # the histogram's bins; counts of units, persons when rows are
    record.data("overlap", pd.DataFrame({
        "bin_low": bins[:-1], "bin_high": bins[1:],
        "treated": np.histogram(weighted.propensity[weighted.treated == 1], bins)[0],
        "comparison": np.histogram(weighted.propensity[weighted.treated == 0], bins)[0],
    }), counts=["treated", "comparison"])
    for name, group in zip(("treated_group", "comparison_group"), evaluation_text.comparison_names(spec, treatment[0], lang)):
        record.figure(name, group)
    record.figure("outcome", spec.label(outcome, lang))
    record.figure("effect_weighted", round(float(row["estimate"]), 4))
    record.figure("effect_conf_low", round(float(row["conf_low"]), 4))
    record.figure("effect_conf_high", round(float(row["conf_high"]), 4))
    record.figure("n_clusters", clusters[1] if clusters else None)
elif not programme:
    record.not_applicable(i18n.text("evaluation_notebook", "not_applicable", lang))
