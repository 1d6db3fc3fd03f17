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
# # 03 · Mối liên hệ / Links
#
# Những yếu tố mà bộ dữ liệu có (hạ tầng, bồi dưỡng giáo viên, một can thiệp) gắn với kết quả học tập như thế nào? *How do the factors a dataset has (infrastructure, teacher training, a treatment) relate to outcomes?*
#
# Chạy được trên mọi bộ dữ liệu có spec trong `config/datasets/`. *Runs unchanged on every dataset spec in `config/datasets/`.*

# %% tags=["parameters"]
dataset = "thai_nguyen_synthetic"  # a spec in config/datasets
outcome = None  # default: the spec's first outcome
years = None  # e.g. [2024, 2025]; default: every year
model = "ols"  # "ols", "mixed" or "panel"
group_level = None  # cluster (OLS) / group (mixed) column; default: the spec's first group
lang = "vi"  # "vi" or "en"
processed = None  # folder of processed tables (default data/processed)

# %%
from pathlib import Path

import numpy as np
import pandas as pd
from IPython.display import Markdown, display

from analysis import datasets, i18n, links, plots, record

data = datasets.load(dataset, processed=Path(processed) if processed else None)
spec = data.spec
result = links.from_spec(data, outcome=outcome, years=years, model=model, group=group_level, lang=lang)
glance = result.glance().iloc[0]
say = i18n.say("links_notebook", lang)
display(Markdown("## " + links.describe_title(result, spec, lang)))  # the roles this dataset has
if spec.synthetic:
    say("synthetic")
say("data", title=spec.title[lang], n=int(glance["n_obs"]), row=spec.row.get(lang, ""), dropped=int(glance["n_dropped"]))
described, terms = links.describe_formula(result.formula, spec, lang)
say("model", outcome=described, terms=terms, model=i18n.label("links_notebook", f"estimator_{result.model}", lang),
    cov=i18n.label("links_notebook", f"cov_{result.cov}", lang))
for sentence in links.describe_identification(result, spec, lang):  # groups, boundary, convergence, collinearity
    display(Markdown(sentence))
if result.left_out:  # a column the province's reports lack: said, not a failed run
    say("left_out", columns=", ".join(spec.label(c, lang) for c in result.left_out))
clusters = glance.get("n_clusters", glance["n_groups"]) if result.cov == "cluster" else None
if clusters:
    cluster = glance["cluster"]
    method = result.few.method if result.few is not None else "crv1"
    say(f"clusters_{method}", cluster=spec.label(cluster, lang), n=int(clusters))

# %%
labels = links.term_labels(result.table["term"], spec, lang)
table = result.tidy().assign(term=lambda t: t["term"].map(labels))
record.table("coefficients", table, label=i18n.label("plots", "coefficients_title", lang), lang=lang, digits=4)
numeric = [c for c in result.glance().columns if pd.api.types.is_numeric_dtype(result.glance()[c])]
record.table("model_summary", result.glance()[numeric], lang=lang, digits=4)  # the words are said above
say("coefficients")

# %%
focus = [t for t in result.table["term"] if not t.startswith(("C(", "Intercept"))]
ax = plots.coefficients(result.tidy(), terms=focus, labels=labels, lang=lang)
record.data("coefficients_plot", table[result.tidy()["term"].isin(focus)])

# %%
pair = links.interaction_pair(result, spec)
if pair:
    effects = links.marginal_effects(result, focal=pair[0], moderator=pair[1])
    shown = effects.assign(focal=spec.label(pair[0], lang), moderator=spec.label(pair[1], lang))
    record.table("marginal_effects", shown, lang=lang, digits=4)
    plots.marginal_effects(effects, lang=lang)
    record.data("marginal_effects_plot", effects)
    say("interaction", focal=spec.label(pair[0], lang), moderator=spec.label(pair[1], lang),
        low=i18n.number(effects["estimate"].iloc[0], lang, 3), high=i18n.number(effects["estimate"].iloc[-1], lang, 3),
        at_low=i18n.number(effects["at"].iloc[0], lang, 2), at_high=i18n.number(effects["at"].iloc[-1], lang, 2))
else:
    say("no_interaction")

# %% [markdown]
# ### Kiểm tra mô hình / Model checks

# %%
if len(result.dropped):
    record.table("dropped", result.dropped, lang=lang)
else:
    display(Markdown(i18n.label("links_notebook", "dropped_none", lang)))
vif = links.vif(result)
record.table("vif", vif.assign(term=vif["term"].map(links.term_labels(vif["term"], spec, lang))), lang=lang)
if result.model == "ols":
    plots.residuals(result, lang=lang)
    record.data("residuals", pd.DataFrame({"fitted": np.asarray(result.fit.fittedvalues, dtype=float),
                                           "residual": np.asarray(result.fit.resid, dtype=float)}))
say("diagnostics")

# %%
say(spec.design)

# %%
record.figure("n_obs", int(glance["n_obs"]))
if clusters:
    record.figure("n_clusters", int(clusters))
record.figure("inference_method", glance.get("inference", result.cov))
record.figure("identification", glance["identification"] or "ok")
for row in result.tidy().itertuples():
    if not row.term.startswith(("C(", "Intercept")):
        record.figure(f"coef[{row.term}]", round(row.estimate, 5))
if pair:
    record.figure("marginal_effect_low", round(float(effects["estimate"].iloc[0]), 5))
    record.figure("marginal_effect_high", round(float(effects["estimate"].iloc[-1]), 5))
