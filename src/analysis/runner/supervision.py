"""The Department's supervision report from a finished plan run (``workbench report PLAN``).

The report says what the plan computed, in the order the Department reports to its
supervisors (``config/report.yml``): the results on each topic it reported on
(communication, policy, human resources and teacher training, technical infrastructure,
e-government, digital management of schools and teaching, e-lessons), with the topic's
indicators; the in-sector and cross-sector indicators against their targets and the
districts ranked; the schools' Decision 4725 maturity; the programme evaluation with its
limits; the data quality; the difficulties; then marked places for the Department's own
assessment and recommendations, and the signature block.

Everything comes from what the plan already shares: the front page's province tables
(:mod:`analysis.runner.frontpage`, built on masked values) and the key figures (privacy
rules applied), so the document gives away nothing the shared pages do not. The report is
written in the plan's language or the other one: names of indicators come from their
definitions, other names (4725 levels and areas, the programme) are translated through
the vi/en pairs of the configuration.
"""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import pandas as pd

from analysis.core import i18n, paths
from analysis.core.config import ConfigError, load_yaml
from analysis.measures import indicators
from analysis.report import document as doc
from analysis.report import pdf, word
from analysis.report.brief import NOT_MET, STATUSES, difference, with_unit
from analysis.report.plots import front as front_plots
from analysis.runner import frontpage, layout, render

CONFIG = "report.yml"
FORMATS = layout.DOCUMENT_FORMATS
NOT_YET = ("behind", NOT_MET)  # the statuses a difficulty names


class ReportError(RuntimeError):
    """The plan has not been run, or its run holds no province tables to report on."""


def load_config() -> dict[str, Any]:
    """``config/report.yml``, checked: every text in vi and en, every indicator known.

    Raises
    ------
    ConfigError
        The file is missing, a text lacks a language or a part names an unknown indicator.
    """
    where = paths.config_dir() / CONFIG
    config = load_yaml(where)
    known = {i.id for i in indicators.load_indicators()}
    for section in config["results"]["sections"]:
        unknown = [i for i in section.get("indicators", []) if i not in known]
        if unknown:
            raise ConfigError(f"{where}: results.{section['id']}: unknown indicators {unknown}")
    for path, value in _texts(config):
        missing = [lang for lang in i18n.LANGUAGES if not value.get(lang)]  # absent or empty
        if missing:
            raise ConfigError(f"{where}: {path} has no text in {', '.join(missing)}")
    return config


def _texts(node, path: str = ""):
    """(path, {vi, en}) for every text of the configuration."""
    if isinstance(node, dict):
        if any(lang in node for lang in i18n.LANGUAGES):
            yield path, node
            return
        for key, value in node.items():
            yield from _texts(value, f"{path}.{key}" if path else str(key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _texts(value, f"{path}[{i}]")


def translations(source: str, target: str) -> dict[str, str]:
    """Every configured name in ``source`` → the same name in ``target`` (labels, the
    indicators, the 4725 framework, the dataset specs' programmes and outcomes): how a
    Vietnamese run's names are told in English."""
    pairs: dict[str, str] = {}
    config = paths.config_dir()
    documents = [i18n.catalogue(), load_yaml(config / "indicators.yml")]
    for folder in ("frameworks", "datasets"):
        documents += [load_yaml(p) for p in sorted((config / folder).glob("*.yml"))]
    for document in documents:
        for _, value in _texts(document):
            a, b = value.get(source), value.get(target)
            if isinstance(a, str) and isinstance(b, str):
                pairs.setdefault(a, b)
    return pairs


class _Words:
    """The configuration's texts in one language, and the names of a run told in it."""

    def __init__(self, config: dict[str, Any], lang: str, run_lang: str):
        self.config, self.lang = config, lang
        self.names = {} if lang == run_lang else translations(run_lang, lang)
        chosen = indicators.load_indicators()
        self.indicator = {i.id: i.name[lang] for i in chosen}
        self.measure = {i.id: i.unit[lang] for i in chosen}

    def __call__(self, path: str, **values: Any) -> str:
        node: Any = self.config
        for key in path.split("."):
            node = node[key]
        text = node[self.lang]
        return text.format(**values) if values and isinstance(text, str) else text

    def name(self, text: Any) -> str:
        """A name the run wrote in its own language, in this one (as is when unknown)."""
        return self.names.get(str(text), str(text))


# --------------------------------------------------------------------------
# The parts


def _indicator_rows(table: pd.DataFrame, ids: list[str], words: _Words) -> list[list[str]]:
    """One row per indicator of ``ids`` the table holds: name, value, change, target,
    status."""
    lang = words.lang
    by_id = table.set_index("indicator")
    out = []
    for ind in ids:
        if ind not in by_id.index:
            continue
        row = by_id.loc[ind]
        measure = words.measure.get(ind, row["measure"])
        has_target = pd.notna(row["target"])
        target = (
            i18n.text("front", "by_year", lang, value=with_unit(row["target"], measure, lang),
                      year=int(row["target_year"]))
            if has_target else i18n.MISSING
        )  # fmt: skip
        status = i18n.label("status", row["status"], lang) if has_target else i18n.MISSING
        out.append(
            [
                words.indicator.get(ind, str(row["name"])),
                with_unit(row["value"], measure, lang),
                difference(row["change"], "%" if row["measure"] == "%" else measure, lang,
                           sign=True),
                target,
                status,
            ]
        )  # fmt: skip
    return out


def _indicator_columns(school_year: str, lang: str) -> list[str]:
    say = lambda key, **v: i18n.text("front", key, lang, **v)  # noqa: E731
    return [say("indicator"), say("value", year=school_year), say("change"), say("target"),
            say("status")]  # fmt: skip


def _status_line(table: pd.DataFrame, ids: list[str], words: _Words) -> str | None:
    """ "Of 3 indicators with a target: met 2, not met 1." for the indicators of ``ids``."""
    rows = table[table["indicator"].isin(ids) & table["target"].notna()]
    if rows.empty:
        return None
    codes = list(rows["status"])
    counts = ", ".join(
        f"{i18n.label('status', c, words.lang).lower()} {codes.count(c)}"
        for c in STATUSES
        if c in codes
    )
    return words("results.status_line", n=len(codes), counts=counts)


def _results(summary: dict[str, Any], words: _Words, school_year: str) -> list[doc.Block]:
    """Part I: one section per topic the Department reports on."""
    lang, province = words.lang, summary["province"]
    blocks: list[doc.Block] = [doc.Heading(words("results.title"))]
    for section in words.config["results"]["sections"]:
        title = section["title"][lang]
        blocks.append(doc.Heading(title, level=2))
        ids = list(section.get("indicators", []))
        rows = _indicator_rows(province, ids, words)
        if section["id"] == "training":
            sentence = frontpage.training_text(summary["training"], lang)
            if sentence:
                blocks.append(doc.Paragraph(sentence))
        if rows:
            line = _status_line(province, ids, words)
            if line:
                blocks.append(doc.Paragraph(line))
            caption = words("results.table", title=_lower_first(title), school_year=school_year)
            blocks.append(doc.Table(caption, _indicator_columns(school_year, lang), rows))
        elif ids:
            blocks.append(doc.Paragraph(words("results.none")))
        blocks.append(doc.Ask(words("document.ask", what=section["ask"][lang])))
    return blocks


def _indicators(summary: dict[str, Any], words: _Words, manifest, school_year: str):
    """Part II: in-sector and cross-sector indicators against targets, districts ranked,
    and the chart of the share indicators."""
    lang, headline = words.lang, summary["headline"]
    blocks: list[doc.Block] = [doc.Heading(words("indicators.title"))]
    for sector in ("in", "cross"):
        ids = list(headline.loc[headline["sector"] == sector, "indicator"])
        if not ids:
            continue
        title = words(f"indicators.{sector}")
        blocks.append(doc.Heading(title, level=2))
        line = _status_line(headline, ids, words)
        if line:
            blocks.append(doc.Paragraph(line))
        caption = words("indicators.table", title=title, school_year=school_year)
        blocks.append(
            doc.Table(caption, _indicator_columns(school_year, lang),
                      _indicator_rows(headline, ids, words))
        )  # fmt: skip
    blocks += _ranking(summary, words, manifest, school_year)
    png = _targets_png(headline, words)
    if png is not None:
        blocks.append(doc.Figure(words("indicators.chart", school_year=school_year), png))
    return blocks


def _ranking(summary: dict[str, Any], words: _Words, manifest, school_year: str):
    lang, table = words.lang, summary["ranking"]
    rank_on = list(summary["rank_on"])
    if table.empty or not rank_on:
        return []
    names = render.unit_names(manifest, lang)
    rows = frontpage.ranking_rows(table, rank_on, lang, names)
    n = len(rank_on)
    intro = i18n.text("front", "ranking_intro", lang, n=n, districts=summary["n_districts"])
    columns = [i18n.label("front", "district", lang), *(words.indicator[i] for i in rank_on),
               i18n.label("front", "mean_rank", lang)]  # fmt: skip
    note = i18n.label("front", "missing_note", lang) if table[rank_on].isna().any().any() else ""
    return [
        doc.Heading(i18n.label("front", "ranking", lang), level=2),
        doc.Paragraph(intro),
        doc.Table(
            words("indicators.ranking", school_year=school_year),
            columns,
            [[r["name"], *r["cells"], r["mean_rank"]] for r in rows],
            note=note,
        ),
    ]


def _maturity(summary: dict[str, Any], words: _Words, year: int) -> list[doc.Block]:
    """Part III: the share of schools at each 4725 level, this year against the last."""
    lang, table = words.lang, summary["maturity"].copy()
    if table.empty:
        return []
    table["group"] = table["group"].map(words.name)
    table["maturity_level"] = table["maturity_level"].map(words.name)
    school_year, before = i18n.school_year(year), i18n.school_year(year - 1)
    say = lambda key, **v: i18n.text("front", key, lang, **v)  # noqa: E731
    columns = [say("group"), say("level"), say("share", school_year=before),
               say("share", school_year=school_year), say("change"), say("schools")]  # fmt: skip
    rows = [
        [r["group"], r["level"], r["before"], r["share"], r["change"], r["count"]]
        for r in frontpage.maturity_rows(table, lang)
    ]
    framework = load_yaml(paths.config_dir() / "frameworks" / "moet_4725.yml")
    blocks: list[doc.Block] = [
        doc.Heading(words("maturity.title")),
        doc.Table(
            words("maturity.table", school_year_before=before, school_year=school_year),
            columns,
            rows,
        ),
        doc.Paragraph(words("maturity.note"), italic=True),
    ]
    if not framework.get("verified", False):  # say so where the unverified list is used
        blocks.append(doc.Paragraph(framework["verification_note"][lang], italic=True))
    png = _png(lambda: front_plots.maturity(table, year=year, lang=lang))
    blocks.append(doc.Figure(words("maturity.chart", school_year=school_year), png))
    return blocks


def _evaluation(figures: dict[str, Any], words: _Words) -> list[doc.Block]:
    """Part IV: the evaluation's result, its interval and what the design cannot show."""
    named = {k: words.name(v) if k in ("programme", "outcome") else v for k, v in figures.items()}
    lines = frontpage.evaluation_text(named, words.lang)
    blocks: list[doc.Block] = [doc.Heading(words("evaluation.title"))]
    blocks += [doc.Paragraph(line) for line in lines]
    if "att_overall" in figures:
        blocks.append(doc.Paragraph(words("evaluation.limits"), italic=True))
    return blocks


def _difficulties(summary: dict[str, Any], words: _Words) -> list[doc.Block]:
    """Part VI: the difficulties the Department named, the infrastructure indicators not
    at their targets among them."""
    lang, province = words.lang, summary["province"]
    infra = next(s for s in words.config["results"]["sections"] if s["id"] == "infrastructure")
    blocks: list[doc.Block] = [doc.Heading(words("difficulties.title"))]
    for section in words.config["difficulties"]["sections"]:
        blocks.append(doc.Heading(section["title"][lang], level=2))
        if "behind" in section:
            rows = province[province["indicator"].isin(infra["indicators"])]
            rows = rows[rows["status"].isin(NOT_YET)]
            if not rows.empty:
                names = "; ".join(words.indicator[i] for i in rows["indicator"])
                blocks.append(doc.Paragraph(section["behind"][lang].format(names=names)))
        blocks.append(doc.Ask(words("document.ask", what=section["ask"][lang])))
    return blocks


def _lower_first(text: str) -> str:
    return text[0].lower() + text[1:] if len(text) > 1 and text[1].islower() else text


# --------------------------------------------------------------------------
# Figures


def _png(draw) -> bytes:
    ax = draw()
    buffer = io.BytesIO()
    ax.figure.savefig(buffer, format="png", dpi=200, bbox_inches="tight")
    plt.close(ax.figure)
    return buffer.getvalue()


def _targets_png(headline: pd.DataFrame, words: _Words) -> bytes | None:
    shares = headline[(headline["measure"] == "%") & headline["value"].notna()]
    if shares.empty:
        return None
    shares = shares.assign(name=shares["indicator"].map(words.indicator))
    target = words("indicators.planned")
    return _png(lambda: front_plots.targets(shares, target=target, lang=words.lang))


# --------------------------------------------------------------------------
# The document


def build(out_dir: Path, *, lang: str | None = None, today: dt.date | None = None):
    """The supervision report of the plan whose reports are in ``out_dir``.

    Parameters
    ----------
    out_dir
        The plan's shared reports folder (``reports/<plan>``), after ``workbench run``.
    lang
        ``vi`` or ``en``; default the plan's language.
    today
        The date the document is made (its year goes in the header); default today.

    Returns
    -------
    analysis.report.document.Document

    Raises
    ------
    ReportError
        The plan has not been run in ``out_dir``, or its run has no province tables
        (a dataset without the Department's report tables, or the front page failed).
    """
    out_dir = Path(out_dir)
    if not layout.manifest_path(out_dir).is_file():
        raise ReportError(f"the plan has not been run: {layout.manifest_path(out_dir)} is missing")
    manifest = render.load_manifest(out_dir)
    run_lang = manifest.get("lang", "vi")
    lang = i18n.check_lang(lang or run_lang)
    summary = frontpage.load(out_dir) if manifest.get("front") else None
    if summary is None or "province" not in summary:
        why = manifest.get("front_error") or "its dataset has no province report tables"
        raise ReportError(f"{out_dir}: the plan's run has nothing to report on ({why})")
    words = _Words(load_config(), lang, run_lang)
    year = int(summary["year"])
    school_year = i18n.school_year(year)
    figures = render.figures_by_run(out_dir)
    runs = manifest["runs"]
    blocks: list[doc.Block] = [doc.Paragraph(words("document.intro", school_year=school_year))]
    blocks.append(doc.Paragraph(_source(manifest, summary, words), italic=True))
    blocks += _results(summary, words, school_year)
    blocks += _indicators(summary, words, manifest, school_year)
    blocks += _maturity(summary, words, year)
    blocks += _evaluation(frontpage.figures_of(runs, frontpage.EVALUATION_NOTEBOOK, figures),
                          words)  # fmt: skip
    quality = frontpage.figures_of(runs, frontpage.QUALITY_NOTEBOOK, figures)
    blocks += [doc.Heading(words("quality.title")),
               doc.Paragraph(frontpage.quality_text(quality, lang))]  # fmt: skip
    blocks += _difficulties(summary, words)
    for part in ("assessment", "recommendations"):
        blocks += [doc.Heading(words(f"{part}.title")),
                   doc.Ask(words("document.ask", what=words(f"{part}.ask")))]  # fmt: skip
    today = today or dt.date.today()
    summary_line = words("document.summary", school_year=school_year)
    return doc.Document(
        lang=lang,
        title=f"{words('document.kind')} — {summary_line}",
        header=doc.Header(
            body=list(words("document.body")),
            national=words("document.national"),
            motto=words("document.motto"),
            number=words("document.number"),
            date=words("document.date", year=today.year),
            kind=words("document.kind"),
            summary=summary_line,
            addressee=words("document.addressee"),
        ),
        blocks=doc.numbered(blocks),
        signature=doc.Signature(
            recipients_title=words("document.recipients_title"),
            recipients=list(words("document.recipients")),
            signer=words("document.signer"),
            signature=words("document.signature"),
        ),
        table_label=words("document.table"),
        figure_label=words("document.figure"),
        page_label=words("document.page"),
    )


def _source(manifest: dict[str, Any], summary: dict[str, Any], words: _Words) -> str:
    """Where the figures come from: the data, the plan, the code version and the date."""
    lang = words.lang
    return words(
        "document.source",
        dataset=frontpage.dataset_title(manifest, summary, lang),
        n_districts=summary["n_districts"],
        plan=frontpage.plan_title(manifest, lang),
        version=manifest["code_version"],
        date=frontpage.made_on(manifest.get("created", ""), lang),
    )


def file_stem(document: doc.Document, out_dir: Path) -> str:
    """``bao-cao-cds-2024-2025`` (or ``cds-report-…``): the school year in the name."""
    summary = frontpage.load(Path(out_dir)) or {}
    year = int(summary.get("year", 0))
    return layout.document_stem(document.lang, year)


def write(
    out_dir: Path,
    *,
    formats: tuple[str, ...] = FORMATS,
    lang: str | None = None,
    dest: Path | None = None,
) -> dict[str, Path]:
    """Write the report of ``out_dir``'s plan as Word and/or PDF; returns format → path.

    The files go to ``dest`` (default the plan's shared folder, beside ``index.html``),
    named by :func:`file_stem`. The Word file is written first, so a missing Chromium
    still leaves it.

    Raises
    ------
    ReportError
        As :func:`build`.
    analysis.report.pdf.PdfError
        The PDF could not be printed (no Chromium).
    """
    unknown = [f for f in formats if f not in FORMATS]
    if unknown:
        raise ValueError(f"unknown formats {unknown}; expected {FORMATS}")
    document = build(out_dir, lang=lang)
    folder = Path(dest) if dest else Path(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    stem = file_stem(document, out_dir)
    written: dict[str, Path] = {}
    if "docx" in formats:
        written["docx"] = word.write_docx(document, folder / f"{stem}.docx")
    try:
        if "pdf" in formats:
            written["pdf"] = pdf.html_to_pdf(doc.to_html(document), folder / f"{stem}.pdf")
    finally:
        if folder.resolve() == Path(out_dir).resolve():  # the front page links what is there
            render.render_plan(out_dir, render.load_manifest(out_dir))
    return written
