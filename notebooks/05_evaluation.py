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

from analysis import datasets, evaluation, i18n, plots, record

data = datasets.load(dataset, processed=Path(processed) if processed else None)
spec = data.spec
say = i18n.say("evaluation_notebook", lang)
fmt = lambda v: f"{v:.3f}"  # noqa: E731
programme = spec.programme
treatment = spec.roles.get("treatment", [])
if spec.synthetic:
    display(Markdown(i18n.label("links_notebook", "synthetic", lang)))

# %%
if programme:
    outcome = outcome or programme.get("outcome") or spec.roles["outcomes"][0]
    display(Markdown("## " + i18n.text("evaluation_notebook", "title", lang, name=programme["name"][lang])))
    frame = data.data.assign(cohort=evaluation.cohorts(data))
    result = evaluation.staggered(frame, outcome=outcome, unit=spec.unit, time=spec.time, cohort="cohort")
    overall = result.tidy("simple").iloc[0]
    tw = evaluation.twfe(frame, outcome=outcome, unit=spec.unit, time=spec.time, cohort="cohort").tidy().iloc[0]
    say("staggered", outcome=spec.label(outcome, lang), att=fmt(overall["estimate"]), low=fmt(overall["conf_low"]),
        high=fmt(overall["conf_high"]), twfe=f"{fmt(tw['estimate'])} ({fmt(tw['conf_low'])}, {fmt(tw['conf_high'])})")
    record.table("effect_by_cohort", result.tidy("group"), lang=lang, digits=4)
    plots.event_study_plot(result, lang=lang)
    record.data("event_study", result.tidy("dynamic"))
    p = result.pretrend.get("p_value", float("nan"))
    say("pretrend", p=f"{p:.2f}", verdict=i18n.label("evaluation_notebook", "pretrend_ok" if p > 0.05 else "pretrend_bad", lang))
    say("twfe_note")
    record.figure("att_overall", round(float(overall["estimate"]), 5))
    record.figure("att_twfe", round(float(tw["estimate"]), 5))
    record.figure("pretrend_p", round(p, 4))

# %%
if not programme and treatment:
    outcome = outcome or spec.roles["outcomes"][0]
    covariates = [c for c in spec.roles.get("controls", []) if c in data.data]
    frame = data.data[data.data[treatment[1:]].sum(axis=1) == 0] if len(treatment) > 1 else data.data
    weighted = evaluation.weighting(frame, outcome=outcome, treatment=treatment[0], covariates=covariates)
    row = weighted.tidy().iloc[0]
    say("weighting", att=fmt(row["estimate"]), low=fmt(row["conf_low"]), high=fmt(row["conf_high"]))
    record.table("balance", weighted.balance, lang=lang, digits=3)
    plots.overlap_plot(weighted, lang=lang)
    bins = np.linspace(0, 1, 31)  # the histogram's bins; counts of units, persons when rows are
    record.data("overlap", pd.DataFrame({
        "bin_low": bins[:-1], "bin_high": bins[1:],
        "treated": np.histogram(weighted.propensity[weighted.treated == 1], bins)[0],
        "comparison": np.histogram(weighted.propensity[weighted.treated == 0], bins)[0],
    }), counts=["treated", "comparison"])
    record.figure("effect_weighted", round(float(row["estimate"]), 4))
elif not programme:
    say("not_applicable")
    record.figure("applicable", False)
