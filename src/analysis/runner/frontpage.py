"""The front page of a plan's reports (``reports/<plan>/index.html``), for a policy reader.

It opens on the province (:mod:`analysis.report.front`: indicators against targets,
in-sector and cross-sector apart; districts ranked; 4725 maturity and its change; teacher
training), then the programme evaluation and the data quality in the words of the
evaluation and data-quality runs' key figures, then a link to every district brief by the
district's name and to every analysis page. The run log (status, parameters, durations,
key figures by key) is ``runs.html`` (:func:`analysis.runner.render.runs_html`).

The province tables are computed once per plan run, after the notebooks, and kept in the
internal cache (``front.json``) with a key of the inputs, the code and the language; the
same tables are the page's CSV downloads (``data/front/<name>.csv``, shared).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pandas as pd

from analysis.core import files, i18n, provenance
from analysis.data import datasets
from analysis.measures import indicators
from analysis.report import front
from analysis.report.brief import NOT_MET, difference, with_unit
from analysis.report.style import PALETTE
from analysis.runner import grid, layout, publish
from analysis.runner.keys import PlanInputs
from analysis.runner.plan import Plan

CACHE = "front.json"
TABLES = ("headline", "province", "ranking", "maturity", "training")
DATA = "data/front"  # the page's CSVs, in the shared folder
BRIEF_NOTEBOOK = "04_district_brief.ipynb"
QUALITY_NOTEBOOK = "01_data_quality.ipynb"
EVALUATION_NOTEBOOK = "05_evaluation.ipynb"
CSV_LABELS = {"headline": "indicators", "province": "all_indicators", "ranking": "ranking",
              "maturity": "maturity", "training": "training"}  # fmt: skip
STATUS_COLOURS = PALETTE


def build(plan: Plan, out_dir: Path, inputs: PlanInputs) -> tuple[str | None, str | None]:
    """Compute the front page's province tables (cached) and write their CSVs.

    Returns
    -------
    tuple
        (the CSV folder relative to ``out_dir``, None); (None, None) when the dataset has
        no DOET report tables; (None, why) when they could not be built — the page then
        lists the analysis pages only, and the plan's runs are not affected.
    """
    if inputs.kind != "processed":
        return None, None
    stamp = layout.cache_dir(out_dir) / CACHE
    key = provenance.sha256_json(
        {"inputs": inputs.record, "code": inputs.code, "lang": plan.lang, "rank": plan.rank_on}
    )
    cached = load(out_dir)
    if cached is not None and cached.get("key") == key and (out_dir / DATA).is_dir():
        return DATA, None
    try:
        data = datasets.load(inputs.spec, processed=inputs.processed)
        if "school_hierarchy" not in data.tables:
            return None, None
        summary = front.summary(data, lang=plan.lang, rank_on=plan.rank_on or None)
    except Exception as exc:  # a report extra: never the reason a plan fails
        return None, f"{type(exc).__name__}: {exc}"[:500]
    folder = out_dir / DATA
    folder.mkdir(parents=True, exist_ok=True)
    for name in TABLES:  # UTF-8 with BOM and CRLF rows, as every CSV a reader opens in Excel
        text = summary[name].to_csv(index=False, lineterminator="\r\n")
        files.atomic_write(folder / f"{name}.csv", "\ufeff" + text)
    record = {k: v for k, v in summary.items() if k not in TABLES}
    record["dataset_title"] = dict(data.spec.title)  # real or synthetic, as the files say
    record["tables"] = {n: json.loads(summary[n].to_json(orient="split")) for n in TABLES}
    files.atomic_write(stamp, json.dumps({"key": key, **record}, ensure_ascii=False))
    return DATA, None


def load(out_dir: Path) -> dict[str, Any] | None:
    """The cached front-page tables of ``out_dir``'s plan (DataFrames), or None."""
    try:
        raw = json.loads((layout.cache_dir(out_dir) / CACHE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    tables = raw.pop("tables", {})
    for name, split in tables.items():
        raw[name] = pd.DataFrame(split["data"], columns=split["columns"])
    return raw


# --------------------------------------------------------------------------
# What the page says, as display strings (the template only lays them out)


def _chip(code: str, lang: str) -> dict[str, str]:
    return {"word": i18n.label("status", code, lang), "colour": STATUS_COLOURS.get(code, "#999")}


def headline_rows(table: pd.DataFrame, lang: str) -> list[dict[str, Any]]:
    """One row per indicator with a target, grouped by sector."""
    out = []
    for row in table.to_dict(orient="records"):
        target = with_unit(row["target"], row["measure"], lang)
        out.append(
            {
                "sector": i18n.label("sectors", row["sector"], lang),
                "name": row["name"],
                "value": with_unit(row["value"], row["measure"], lang),
                "target": i18n.text(
                    "front", "by_year", lang, value=target, year=int(row["target_year"])
                ),
                "gap": difference(row["gap"], row["measure"], lang) if row["gap"] > 0 else "",
                "change": difference(row["change"], row["measure"], lang, sign=True),
                "status": _chip(row["status"], lang),
            }
        )
    return out


def ranking_rows(
    table: pd.DataFrame, rank_on: list[str], lang: str, names: dict[str, str] | None = None
) -> list[dict[str, Any]]:
    """One row per district: its name (``names``: unit id → name in ``lang``), value and
    rank on each indicator, its mean rank."""
    names = names or {}
    measures = {i.id: i.unit[lang] for i in indicators.load_indicators()}
    out = []
    for row in table.to_dict(orient="records"):
        cells = []
        for ind in rank_on:
            rank = row.get(f"{ind}_rank")
            value = row.get(ind)
            value = i18n.MISSING if pd.isna(value) else with_unit(value, measures[ind], lang)
            rank_text = i18n.MISSING if pd.isna(rank) else str(int(rank))
            cells.append(i18n.text("front", "rank_value", lang, value=value, rank=rank_text))
        mean_rank = i18n.number(row["mean_rank"], lang, 1)
        name = names.get(str(row["unit_id"]), row["unit_name"])
        out.append({"name": name, "cells": cells, "mean_rank": mean_rank})
    return out


def maturity_rows(table: pd.DataFrame, lang: str) -> list[dict[str, Any]]:
    """One row per area and level: the share before, now, the change and the schools."""
    return [
        {
            "group": row["group"],
            "level": row["maturity_level"],
            "before": i18n.percent(row["share_before"], lang),
            "share": i18n.percent(row["share"], lang),
            "change": difference(row["change"], "%", lang, sign=True)
            if pd.notna(row["change"])
            else "",
            "count": i18n.integer(row["count"], lang),
        }
        for row in table.to_dict(orient="records")
    ]


def training_text(table: pd.DataFrame, lang: str) -> str | None:
    """The teacher-training sentence: first and last year shown, the target and its status."""
    shown = table[table["value"].notna()]
    if shown.empty:
        return None
    first, last = shown.iloc[0], shown.iloc[-1]
    target = with_unit(last["target"], "%", lang) if pd.notna(last["target"]) else i18n.MISSING
    return i18n.text(
        "front",
        "training_text",
        lang,
        first=i18n.percent(first["value"], lang),
        first_year=i18n.school_year(int(first["year"])),
        last=i18n.percent(last["value"], lang),
        last_year=i18n.school_year(int(last["year"])),
        target=target,
        target_year=int(last["target_year"]) if pd.notna(last["target_year"]) else "",
        status=i18n.label("status", last["status"], lang).lower(),
    )


def evaluation_text(figures: dict[str, Any], lang: str) -> list[str]:
    """The evaluation's result and its limits, from the evaluation run's key figures."""
    num = lambda v: i18n.number(v, lang, 3)  # noqa: E731
    if "att_overall" not in figures and "effect_weighted" in figures:
        return _comparison_text(figures, lang, num)
    if "att_overall" not in figures:
        return [i18n.label("front", "evaluation_none", lang)]
    n = int(figures["n_clusters"])
    say = lambda key, **v: i18n.text("front", key, lang, **v)  # noqa: E731
    out = [
        say(
            "evaluation_text",
            programme=figures.get("programme") or i18n.label("front", "evaluation", lang),
            outcome=i18n.in_sentence(str(figures.get("outcome") or "")),
            att=num(figures["att_overall"]),
            low=num(figures["att_conf_low"]),
            high=num(figures["att_conf_high"]),
            n=n,
            treated=int(figures["n_treated_clusters"]),
            never=int(figures["n_never_treated_clusters"]),
        )
    ]
    if float(figures["att_conf_low"]) <= 0 <= float(figures["att_conf_high"]):
        out.append(say("evaluation_zero"))
    if figures.get("mde") is not None:
        out.append(say("evaluation_mde", mde=num(figures["mde"])))
    if figures.get("pretrend_p") is not None and figures["pretrend_p"] == figures["pretrend_p"]:
        verdict = "pretrend_ok" if float(figures["pretrend_p"]) > 0.05 else "pretrend_bad"
        p = i18n.number(figures["pretrend_p"], lang, 2)
        out.append(say("evaluation_pretrend", p=p, verdict=i18n.label("front", verdict, lang)))
    if n < 30:  # the usual line below which cluster-robust errors need a few-cluster method
        out.append(say("evaluation_few", n=n))
    return out


def _comparison_text(figures: dict[str, Any], lang: str, num) -> list[str]:
    """A one-off comparison's result (notebook 05's weighting branch) and its caveat."""
    low, high = figures.get("effect_conf_low"), figures.get("effect_conf_high")
    out = [
        i18n.text(
            "front",
            "evaluation_weighting",
            lang,
            treated=str(figures.get("treated_group") or ""),
            comparison=i18n.in_sentence(str(figures.get("comparison_group") or "")),
            outcome=i18n.in_sentence(str(figures.get("outcome") or "")),
            att=num(figures["effect_weighted"]),
            low=num(low),
            high=num(high),
        )
    ]
    if isinstance(low, float) and isinstance(high, float) and low <= 0 <= high:
        out.append(i18n.label("front", "evaluation_zero", lang))
    return out


def plan_title(manifest: dict[str, Any], lang: str | None = None) -> str:
    """The plan's title in ``lang`` (default the plan's language)."""
    lang = lang or manifest.get("lang", "vi")
    title = manifest["title"]
    return title.get(lang, manifest["plan"]) if isinstance(title, dict) else str(title)


def dataset_title(
    manifest: dict[str, Any], summary: dict[str, Any] | None = None, lang: str | None = None
) -> str:
    """The dataset as its spec names it in the plan's language: the front page's tables know
    whether the processed files were real; else the manifest's spec title; else its id."""
    lang = lang or manifest.get("lang", "vi")
    titles = (summary or {}).get("dataset_title") or manifest.get("dataset_title") or {}
    return titles.get(lang) or manifest["dataset"]


def quality_text(figures: dict[str, Any], lang: str) -> str:
    """Completeness, rows rejected and values to check, in one paragraph."""
    if "completeness_pct" not in figures:
        return i18n.label("front", "quality_none", lang)
    return i18n.text(
        "front",
        "quality_text",
        lang,
        completeness=i18n.percent(figures["completeness_pct"], lang),
        missing=i18n.integer(figures.get("reports_missing", 0), lang),
        rejected=i18n.integer(figures.get("rows_rejected", 0), lang),
        violations=i18n.integer(figures.get("rule_violations", 0), lang),
        outliers=i18n.integer(figures.get("outliers", 0), lang),
    )


def made_on(created: str, lang: str) -> str:
    """The plan's UTC timestamp as a local date and time (``03/12/2026 19:30``)."""
    try:
        when = dt.datetime.fromisoformat(str(created).replace("Z", "+00:00")).astimezone()
    except ValueError:
        return str(created)
    return when.strftime("%d/%m/%Y %H:%M" if lang == "vi" else "%Y-%m-%d %H:%M")


# --------------------------------------------------------------------------
# The page


def figures_of(runs: list[dict[str, Any]], notebook: str, figures) -> dict[str, Any]:
    """The key figures of the first finished, shared run of ``notebook`` (name → value)."""
    for run in runs:
        finished = run["status"] in ("succeeded", "cached")
        if run["notebook"] == notebook and finished and not run.get("internal"):
            return {f["name"]: _value(f["value"]) for f in figures.get(run["id"], [])}
    return {}


def _value(text: Any) -> Any:
    """A recorded figure back as a number when it is one."""
    try:
        return float(text)
    except (TypeError, ValueError):
        return text


def repeated_notebooks(runs: list[dict[str, Any]]) -> set[str]:
    """Notebooks that more than one run executes (their pages also name the model)."""
    seen = [run["notebook"] for run in runs]
    return {n for n in seen if seen.count(n) > 1}


def page_name(
    run: dict[str, Any], lang: str, repeated: set[str], out_dir: Path | None = None
) -> str:
    """A run's page as a reader calls it: the notebook's title (``pages`` in labels.yml, else
    the executed notebook's first heading, else the run id), and the model when two runs
    share a notebook (``… (mô hình đa cấp)``)."""
    stem = Path(run["notebook"]).stem
    name = i18n.labels("pages", lang).get(stem) or _heading(out_dir, run, lang) or run["id"]
    model = (run.get("parameters") or {}).get("model")
    if run["notebook"] in repeated and model:
        name += f" ({i18n.labels('front', lang).get(f'model_{model}', str(model))})"
    return name


def _heading(out_dir: Path | None, run: dict[str, Any], lang: str) -> str | None:
    """The first Markdown heading of the run's executed notebook, in ``lang`` when it is
    written "Vietnamese / English"."""
    if out_dir is None or not run.get("output"):
        return None
    try:
        cells = json.loads((out_dir / run["output"]).read_text(encoding="utf-8"))["cells"]
    except (OSError, ValueError, KeyError):
        return None
    for cell in cells:
        source = cell.get("source", "")
        source = "".join(source) if isinstance(source, list) else source
        if cell.get("cell_type") == "markdown" and source.lstrip().startswith("#"):
            heading = source.strip().splitlines()[0].lstrip("#").strip()
            parts = [p.strip() for p in heading.split(" / ")]
            return parts[1] if lang == "en" and len(parts) == 2 else parts[0]
    return None


def _links(runs, links, names, lang: str, out_dir: Path | None = None) -> dict[str, Any]:
    """The links of the page: district briefs by name, analysis pages, pages that do not
    apply to the data (with the reason), and the count of failed and internal runs."""
    repeated = repeated_notebooks(runs)
    out: dict[str, Any] = {"briefs": [], "pages": [], "not_applicable": [], "failed": 0}
    out["internal"] = sum(bool(run.get("internal")) for run in runs)
    for run in runs:
        href = (links.get(run["id"]) or {}).get("report")
        if run.get("internal"):
            continue
        if run["status"] == "failed" or not href:
            out["failed"] += run["status"] == "failed"
            continue
        name = page_name(run, lang, repeated, out_dir)
        if publish.shown_status(run) == "not_applicable":
            out["not_applicable"].append({"name": name, "href": href})
        elif run["notebook"] == BRIEF_NOTEBOOK:
            unit = str((run.get("parameters") or {}).get("unit", ""))
            out["briefs"].append({"name": names.get(unit, unit), "href": href})
        else:
            out["pages"].append({"name": name, "href": href})
    out["briefs"].sort(key=lambda b: b["name"])
    return out


def empty_grid_lines(manifest: dict[str, Any], lang: str, dataset: str) -> list[str]:
    """One sentence per plan entry whose grid expanded to no run (``empty_grids``)."""
    return [
        grid.EmptyGrid(**gap).describe(lang, dataset) for gap in manifest.get("empty_grids") or []
    ]


def context(
    out_dir: Path,
    manifest: dict[str, Any],
    links: dict[str, dict[str, str]],
    *,
    figures: dict[str, list[dict[str, Any]]],
    names: dict[str, str],
    title: str,
) -> dict[str, Any]:
    """What the front page template is given: display strings only."""
    lang = manifest.get("lang", "vi")
    runs = manifest["runs"]
    summary = load(out_dir) if manifest.get("front") else None
    dataset = dataset_title(manifest, summary)
    out: dict[str, Any] = {
        "lang": lang,
        "title": title,
        **_links(runs, links, names, lang, out_dir),
        "empty_grids": empty_grid_lines(manifest, lang, dataset),
        "evaluation": evaluation_text(figures_of(runs, EVALUATION_NOTEBOOK, figures), lang),
        "quality": quality_text(figures_of(runs, QUALITY_NOTEBOOK, figures), lang),
        "generated": i18n.text(
            "front",
            "generated",
            lang,
            date=made_on(manifest.get("created", ""), lang),
            dataset=dataset,
            version=manifest["code_version"],
        ),
        "summary": None,
    }
    if summary is None:  # a dataset without report tables, or tables that failed this time
        key = "front_failed" if manifest.get("front_error") else "no_report_tables"
        out["no_tables"] = i18n.text("front", key, lang, dataset=dataset)
        return out
    year, rank_on = int(summary["year"]), list(summary["rank_on"])
    measures = {i.id: i.name[lang] for i in indicators.load_indicators()}
    headline = headline_rows(summary["headline"], lang)
    codes = list(summary["headline"]["status"])
    out["summary"] = {
        "year": year,
        "school_year": i18n.school_year(year),
        "school_year_before": i18n.school_year(year - 1),
        "headline": headline,
        "chips": [
            {**_chip(c, lang), "n": codes.count(c)}
            for c in ("met", "on_track", "behind", NOT_MET)
            if c in codes
        ],
        "n_targets": len(codes),
        "rank_on": [measures[i] for i in rank_on],
        "ranking": ranking_rows(summary["ranking"], rank_on, lang, names),
        "ranking_missing": bool(summary["ranking"][rank_on].isna().any().any()),
        "n_districts": int(summary["n_districts"]),
        "maturity": maturity_rows(summary["maturity"], lang),
        "training": training_text(summary["training"], lang),
        "training_rows": [
            {"year": i18n.school_year(int(r["year"])), "value": i18n.percent(r["value"], lang)}
            for r in summary["training"].to_dict(orient="records")
        ],
        "csv": [
            {"href": f"{DATA}/{name}.csv", "label": i18n.label("front", CSV_LABELS[name], lang)}
            for name in TABLES
        ],
    }
    return out


def document_links(files: list[Path], lang: str) -> list[dict[str, str]]:
    """Links to the supervision reports written beside the front page: ``files`` are their
    paths, the label says the school year, the format and, when it differs from the
    page's, the document's language."""
    out = []
    for path in files:
        found = layout.document_of(path)
        if found is None:
            continue
        doc_lang, year = found
        kind = i18n.label("front", f"document_{path.suffix.lstrip('.')}", lang)
        if doc_lang != lang:
            kind = f"{kind}, {i18n.label('front', f'document_in_{doc_lang}', lang)}"
        label = i18n.text("front", "document", lang, school_year=i18n.school_year(year))
        out.append({"href": path.name, "label": f"{label} ({kind})"})
    return out


def page_footer(
    run: dict[str, Any], manifest: dict[str, Any], names: dict[str, str], *, with_code: bool
) -> str:
    """The line at the foot of a run's page: the plan, the data, the parameters a reader
    can read (school year, unit by name, indicator by name, model), the code version and
    the date in local time; the page with code also lists every parameter as given."""
    lang = manifest.get("lang", "vi")
    params = dict(run.get("parameters") or {})
    shown = []
    year = params.get("year")
    if isinstance(year, int) and not isinstance(year, bool):  # a plan may pass anything
        shown.append(f"{i18n.label('front', 'school_year', lang).lower()} {i18n.school_year(year)}")
    if params.get("unit") is not None:
        shown.append(names.get(str(params["unit"]), str(params["unit"])))
    if params.get("focus"):
        known = {i.id: i.name[lang] for i in indicators.load_indicators()}
        shown.append(known.get(str(params["focus"]), str(params["focus"])))
    if params.get("model"):
        models = i18n.labels("front", lang)
        shown.append(models.get(f"model_{params['model']}", str(params["model"])))
    line = i18n.text(
        "front",
        "provenance",
        lang,
        plan=plan_title(manifest),
        dataset=dataset_title(manifest),
        parameters="".join(f"; {p}" for p in shown),
        version=manifest["code_version"],
        date=made_on(manifest.get("created", ""), lang),
    )
    if with_code:
        given = ", ".join(f"{k}={v}" for k, v in params.items() if k != "processed")
        line += " " + i18n.text("front", "provenance_code", lang, parameters=given or "—")
    return line
