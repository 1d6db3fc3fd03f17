"""Executed notebooks → self-contained HTML (with and without code), a front page, a run log.

HTML with code is for researchers; without code for policy readers. Both embed
their images and load nothing from the network (the CDN scripts nbconvert adds
for MathJax and require.js are removed). ``index.html`` is the front page for a
policy reader (:mod:`analysis.runner.frontpage`); ``runs.html`` is the run log for
the people who run the plan: every run with its status, parameters, duration and
key figures, filtered by notebook, district and status (a small inline script; the
page works without it).

What each page holds (see :mod:`analysis.privacy`):

* ``html/<run>.report.html`` (without code, shared): every table recorded with
  ``record.table`` is replaced by its privacy-applied version (suppression
  marker, footnotes, personal columns removed), and any other table whose
  headers name a personal column or that shows a small person count is left
  out with a note. Each table and each figure followed by ``record.data`` gets
  a link to its CSV (``../data/<run>/<name>.csv``). An internal run carries the
  "NỘI BỘ / INTERNAL" banner.
* ``html/<run>.code.html`` (with code, internal): the tables as the notebook
  showed them, the same CSV links, and a banner saying it is the researchers'
  copy, not to be shared.

The payloads the notebook recorded (the tables' full data) are removed from
both pages: they live in the executed notebook only.

Data values are text, never markup: the index escapes everything (Jinja
autoescape), tables are escaped by pandas (``DataFrame``), by
:func:`analysis.report.tables.html_table` or explicitly (``Styler.format(escape="html")``),
and a value put into a Markdown output goes through :func:`escape_markdown`
first — Markdown passes raw HTML through.
"""

from __future__ import annotations

import html
import json
import os
import re
from pathlib import Path
from typing import Any
from urllib.parse import quote

from analysis.core import i18n
from analysis.report import privacy, record, tables
from analysis.runner import frontpage, layout, publish
from analysis.runner.plan import safe_name

_REMOTE_SCRIPT = re.compile(r"<script[^>]*\bsrc=\"https?://[^\"]*\"[^>]*>\s*</script>", re.I)
# nbconvert's module script that imports mermaid from a CDN (only for mermaid diagrams)
_MERMAID = re.compile(
    r"<script type=\"module\">(?:(?!</script>).)*?mermaid(?:(?!</script>).)*?</script>", re.S
)


_HTML_TAG = re.compile(r"<html\b[^>]*>", re.I)
PAGE_VERSION = 2  # bump when pages change for the same notebook: cached runs re-render
RUNS_PAGE = "runs.html"  # the run log, beside the front page index.html

BANNER_STYLE = (
    "border:2px solid #d73027;color:#d73027;font-weight:bold;padding:.5rem .8rem;"
    "margin:.5rem 0 1rem 0;letter-spacing:.02em"
)


def banner(text: str) -> str:
    """A visible red banner (the internal mark); ``text`` is escaped."""
    return f'<div class="cds-internal" style="{BANNER_STYLE}">{html.escape(text)}</div>'


def data_link(run_stem: str, stem: str, lang: str, data: str = "../data") -> str:
    """The link under a table or figure to its CSV in ``<data>/<run_stem>/``; ``data``: the
    data folder, relative to the page's folder (a page with code sits beside the shared
    folder, its CSVs in it); ``run_stem``: the run's file name (:attr:`Run.stem`)."""

    href = f"{data}/{quote(safe_name(run_stem))}/{quote(stem)}.csv"
    text = html.escape(i18n.label("privacy", "data_link", lang))
    return f'<p class="cds-data-link"><a href="{html.escape(href)}" download>{text}</a></p>'


def _plain_table_notice(text: str, lang: str) -> str | None:
    """Why a table not recorded with ``record.table`` must stay out of a shared page."""

    rules = privacy.load_rules()
    parse = privacy.parser_for(lang)
    for frame in privacy.html_tables(text):
        personal = [str(c) for c in frame.columns if rules.is_personal(c)]
        if personal:
            return i18n.text("privacy", "table_hidden", lang, columns=", ".join(personal))
        if privacy.scan(frame, parse=parse, rules=rules):
            return privacy.footnote(lang, rules=rules)
    return None


def prepare(
    nb,
    *,
    run_stem: str,
    lang: str,
    with_code: bool,
    internal: bool,
    data_href: str = "../data",
    front: str | None = None,
    footer: str = "",
):
    """The notebook as a page shows it (see the module docstring); changes ``nb`` in place.
    A page without code drops the cells' stderr (warnings, library logs); ``front``: the
    link back to the front page, relative to the page; ``footer``: the line saying what
    made the page (:func:`analysis.runner.frontpage.page_footer`)."""
    import nbformat

    used: set[str] = set()
    for cell in nb.cells:
        if cell.get("cell_type") != "code":
            continue
        outputs = []
        for output in cell.get("outputs", []):
            if (
                not with_code
                and output.get("output_type") == "stream"
                and (output.get("name") == "stderr")
            ):
                continue  # warnings and library logs: the page with code keeps them
            data = output.get("data")
            if data is None:
                outputs.append(output)
                continue
            kind = next((m for m in (record.TABLE_MIME, record.DATA_MIME) if m in data), None)
            if kind is not None:
                payload = data[kind]
                payload = json.loads(payload) if isinstance(payload, str) else dict(payload)
                stem = record.unique_stem(payload["name"], used)
                link = data_link(run_stem, stem, lang, data_href)
                if kind == record.DATA_MIME:
                    shown = link
                elif with_code:
                    shown = str(data.get("text/html", "")) + link
                else:
                    shared = publish.shared_table(payload, lang=lang)
                    shown = tables.render_table(
                        shared.frame, payload, lang=lang, notes=shared.notes(lang)
                    )
                    shown += link
                output["data"] = {"text/html": shown, "text/plain": ""}
            elif record.INTERNAL_MIME in data or record.MIME in data:
                output["data"] = {k: v for k, v in data.items() if not k.startswith("application/")}
            elif not with_code and "<table" in str(data.get("text/html", "")):
                notice = _plain_table_notice(str(data["text/html"]), lang)
                if notice is not None:
                    text = f'<p class="cds-note"><small>{html.escape(notice)}</small></p>'
                    output["data"] = {"text/html": text, "text/plain": ""}
            outputs.append(output)
        cell["outputs"] = outputs
    if not with_code:
        reader_title(nb, lang)
    banners = []
    if with_code:
        banners.append(i18n.label("privacy", "internal_code", lang))
    if internal:
        banners.append(i18n.label("privacy", "internal_banner", lang))
    if banners:
        nb.cells.insert(0, nbformat.v4.new_markdown_cell("\n\n".join(banner(b) for b in banners)))
    if front is not None:
        back = f'<p class="cds-back"><a href="{html.escape(front)}">'
        back += f"{html.escape(i18n.label('index', 'back', lang))}</a></p>"
        nb.cells.insert(0, nbformat.v4.new_markdown_cell(back))
    if footer:
        text = f'<p class="cds-provenance"><small>{html.escape(footer)}</small></p>'
        nb.cells.append(nbformat.v4.new_markdown_cell(text))
    return nb


NUMBERED = re.compile(r"^\d+\s*·\s*")  # "04 · ": the notebook's place in the folder
ITALIC = re.compile(r"\*([^*]+)\*")


def reader_title(nb, lang: str) -> None:
    """The notebook's headings and its opening line in the reader's language only.

    Notebooks are written for researchers in both languages: headings
    ``# 04 · Bản tin huyện / District brief`` and, under the title, a line
    "Vietnamese text. *English text.*". A reader page keeps each heading's part in its
    language (without the file number) and, of the opening line, the Vietnamese or the
    italic English.
    """
    first = True
    for cell in nb.cells:
        if cell.get("cell_type") != "markdown":
            continue
        source = cell["source"]
        source = "".join(source) if isinstance(source, list) else source
        lines = []
        for line in source.splitlines():
            if line.lstrip().startswith("#"):
                marks, _, heading = line.strip().partition(" ")
                parts = [p.strip() for p in NUMBERED.sub("", heading).split(" / ")]
                line = f"{marks} {parts[1] if lang == 'en' and len(parts) == 2 else parts[0]}"
            elif first and ITALIC.search(line) and ITALIC.sub("", line).strip():
                english = " ".join(m.group(1).strip() for m in ITALIC.finditer(line))
                line = english if lang == "en" else ITALIC.sub("", line).strip()
            lines.append(line)
        cell["source"] = "\n".join(lines)
        first = False


def to_html(
    notebook: Path,
    *,
    with_code: bool,
    run_stem: str | None = None,
    lang: str = "vi",
    internal: bool = False,
    data: str = "../data",
    title: str | None = None,
    front: str | None = None,
    footer: str = "",
) -> str:
    """One page of an executed notebook: ``title`` its ``<title>``, ``lang`` its language,
    ``front`` the link back to the front page (see :func:`prepare`)."""
    import nbformat
    from nbconvert import HTMLExporter

    nb = nbformat.read(str(notebook), as_version=4)
    prepare(
        nb,
        run_stem=run_stem if run_stem is not None else notebook.stem,
        lang=lang,
        with_code=with_code,
        internal=internal,
        data_href=data,
        front=front,
        footer=footer,
    )
    exporter = HTMLExporter(
        template_name="lab",
        exclude_input=not with_code,
        exclude_input_prompt=not with_code,
        exclude_output_prompt=not with_code,
        embed_images=True,
    )
    exporter.mathjax_url = ""
    exporter.require_js_url = ""
    exporter.mermaid_js_url = ""
    resources = {"metadata": {"name": title or notebook.stem}}
    body, _ = exporter.from_notebook_node(nb, resources=resources)
    body = _HTML_TAG.sub(f'<html lang="{html.escape(lang)}">', body, count=1)
    return _MERMAID.sub("", _REMOTE_SCRIPT.sub("", body))


def _write(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def render_run(
    out_dir: Path,
    run: dict[str, Any],
    lang: str = "vi",
    title: str | None = None,
    footers: tuple[str, str] = ("", ""),
) -> dict[str, str]:
    """Both pages of one run; re-rendered when the notebook, the internal mark, the
    language or the title changed since the last render."""
    notebook = out_dir / run["output"]
    if not notebook.is_file():
        return {}
    stem = notebook.stem
    internal = bool(run.get("internal"))
    for side in (True, False):
        layout.html_dir(out_dir, internal=side).mkdir(parents=True, exist_ok=True)
    if internal:  # a run that became internal leaves no page in the shared folder
        (layout.html_dir(out_dir, internal=False) / f"{stem}.report.html").unlink(missing_ok=True)
    stamp_file = layout.cache_dir(out_dir) / "render" / f"{stem}.json"
    stamp = {"internal": internal, "lang": lang, "id": run["id"], "title": title,
             "footers": list(footers), "version": PAGE_VERSION}  # fmt: skip
    try:
        same = json.loads(stamp_file.read_text(encoding="utf-8")) == stamp
    except (OSError, ValueError):
        same = False
    links = {}
    for kind, with_code in (("code", True), ("report", False)):
        folder = layout.html_dir(out_dir, internal=internal or with_code)
        target = folder / f"{stem}.{kind}.html"
        data = layout.relative(folder, layout.data_root(out_dir, internal=internal))
        if not same or not target.is_file() or target.stat().st_mtime < notebook.stat().st_mtime:
            back = layout.relative(folder, out_dir / "index.html")
            page = to_html(notebook, with_code=with_code, run_stem=stem, lang=lang,
                           internal=internal, data=data, title=title, front=back,
                           footer=footers[0] if with_code else footers[1])  # fmt: skip
            _write(target, page)
        links[kind] = layout.relative(out_dir, target)
    stamp_file.parent.mkdir(parents=True, exist_ok=True)
    _write(stamp_file, json.dumps(stamp))
    return links


def render_plan(out_dir: Path, manifest: dict[str, Any]) -> Path:
    """HTML for every executed notebook, the front page ``index.html`` and the run log
    ``runs.html``; returns the front page's path."""
    lang = manifest.get("lang", "vi")
    titles = page_titles(out_dir, manifest, lang)
    names = unit_names(manifest, lang)
    links = {}
    for run in manifest["runs"]:
        footers = (
            frontpage.page_footer(run, manifest, names, with_code=True),
            frontpage.page_footer(run, manifest, names, with_code=False),
        )
        links[run["id"]] = (
            render_run(out_dir, run, lang, titles[run["id"]], footers) if run.get("output") else {}
        )
    _write(out_dir / RUNS_PAGE, runs_html(out_dir, manifest, links))
    index = out_dir / "index.html"
    _write(index, front_html(out_dir, manifest, links))
    return index


def page_titles(out_dir: Path, manifest: dict[str, Any], lang: str) -> dict[str, str]:
    """Run id → its page's title: what the page is, the district's name for a brief, and
    the plan's title (``Bản tin huyện — Huyện Đại Từ · Đánh giá …``)."""
    names = unit_names(manifest, lang)
    runs = manifest["runs"]
    repeated = frontpage.repeated_notebooks(runs)
    out = {}
    for run in runs:
        name = frontpage.page_name(run, lang, repeated, out_dir)
        unit = (run.get("parameters") or {}).get("unit")
        if unit is not None:
            name = f"{name} — {names.get(str(unit), str(unit))}"
        out[run["id"]] = f"{name} · {frontpage.plan_title(manifest)}"
    return out


def _environment():
    from jinja2 import Environment, PackageLoader, select_autoescape

    return Environment(
        loader=PackageLoader("analysis.runner", "templates"),
        autoescape=select_autoescape(["html", "j2"]),
    )


def front_html(
    out_dir: Path,
    manifest: dict[str, Any],
    links: dict[str, dict[str, str]],
    *,
    shared: bool = False,
    documents: list[Path] | None = None,
) -> str:
    """The front page for a policy reader (:mod:`analysis.runner.frontpage`). ``shared``:
    the bundle's copy — ``links`` holds only the runs it shares; ``documents``: the
    supervision reports to link (default: those written beside the page)."""
    lang = manifest.get("lang", "vi")
    figures = figures_by_run(out_dir)
    page = frontpage.context(
        out_dir, manifest, links, figures=figures, names=unit_names(manifest, lang),
        title=frontpage.plan_title(manifest),
    )  # fmt: skip
    kpi = manifest.get("kpi_workbook")
    return (
        _environment()
        .get_template("front.html.j2")
        .render(
            **page,
            shared=shared,
            kpi=kpi if kpi and (out_dir / kpi).is_file() else None,
            documents=frontpage.document_links(
                layout.documents(out_dir) if documents is None else documents, lang
            ),
            t=lambda key, **kw: i18n.text("front", key, lang, **kw),
            label_index=lambda key: i18n.label("index", key, lang),
        )
    )


def figures_by_run(out_dir: Path) -> dict[str, list[dict[str, Any]]]:
    """Every run's key figures (privacy rules applied), by run id: the internal copy when
    there is one (the index lists internal runs too), else the shared one."""
    import pandas as pd

    path = layout.internal_dir(out_dir) / "figures.parquet"  # every run's, for the index
    if not path.is_file():
        path = out_dir / "figures.parquet"
    if not path.is_file():
        return {}
    frame = pd.read_parquet(path)
    return {run: part.to_dict(orient="records") for run, part in frame.groupby("run", sort=False)}


def unit_names(manifest: dict[str, Any], lang: str = "vi") -> dict[str, str]:
    """Unit id → name, from the processed ``units`` table the plan read (when it did)."""
    import pandas as pd

    for item in manifest.get("inputs", []):
        path = Path(str(item.get("path", "")))
        if path.name == "units.parquet" and path.is_file():
            try:
                units = pd.read_parquet(path)
            except (OSError, ValueError):
                return {}
            names = units["unit_name"]
            if lang == "en" and "unit_name_en" in units:
                names = units["unit_name_en"].fillna(names)
            return dict(zip(units["unit_id"].astype(str), names.astype(str), strict=True))
    return {}


def _district(run: dict[str, Any], figures: list[dict[str, Any]], names: dict[str, str]) -> str:
    unit = (run.get("parameters") or {}).get("unit")
    if unit is None:
        return ""
    unit = str(unit)
    if unit in names:
        return names[unit]
    recorded = {f.get("name"): f.get("value") for f in figures}
    return str(recorded.get("unit_name") or unit)


def runs_html(
    out_dir: Path,
    manifest: dict[str, Any],
    links: dict[str, dict[str, str]],
    *,
    shared: bool = False,
) -> str:
    """The run log ``runs.html``, for the people who run the plan: every run's status,
    parameters, duration and key figures. ``shared``: the bundle's copy — only the given
    runs, no pages with code, no manifest (the caller passes the runs it shares)."""
    lang = manifest.get("lang", "vi")
    figures = figures_by_run(out_dir)
    names = unit_names(manifest, lang)
    env = _environment()
    title = frontpage.plan_title(manifest)
    items = []
    for run in manifest["runs"]:
        figs = figures.get(run["id"], [])
        run_links = dict(links.get(run["id"], {}))
        if shared:
            run_links.pop("code", None)
        items.append(
            {
                "run": run,
                "status": publish.shown_status(run),
                "links": run_links,
                # an internal run's figures are in its internal page; `applicable` in its status
                "figures": []
                if run.get("internal")
                else [f for f in figs if f.get("name") != record.APPLICABLE],
                "district": _district(run, figs, names),
                "params": ", ".join(
                    f"{k}={_shortened(v)}" for k, v in run["parameters"].items() if k != "processed"
                ),
            }
        )
    kpi = manifest.get("kpi_workbook")
    template = env.get_template("runs.html.j2")
    return template.render(
        manifest=manifest,
        rows=items,
        lang=lang,
        title=title,
        shared=shared,
        manifest_link=layout.relative(out_dir, layout.manifest_path(out_dir)),
        kpi=kpi if kpi and (out_dir / kpi).is_file() else None,
        notebooks=sorted({r["run"]["notebook"] for r in items}),
        districts=sorted({r["district"] for r in items if r["district"]}),
        statuses=[
            s
            for s in ("succeeded", "cached", "not_applicable", "failed")
            if any(r["status"] == s for r in items)
        ],
        dataset=frontpage.dataset_title(manifest),
        empty_grids=frontpage.empty_grid_lines(manifest, lang, frontpage.dataset_title(manifest)),
        t=lambda key, **kw: i18n.text("index", key, lang, **kw),
        label=lambda key: i18n.label("index", key, lang),
        number=lambda value, name: i18n.figure(value, lang, name=name),
        decimal=lambda value: i18n.number(value, lang, 1),
    )


def load_manifest(out_dir: Path) -> dict[str, Any]:
    """The manifest of the plan whose shared folder is ``out_dir`` (in its internal folder)."""
    return json.loads(layout.manifest_path(out_dir).read_text(encoding="utf-8"))


def _shortened(value, limit: int = 80) -> str:
    """A parameter as the index shows it: at most ``limit`` characters, the cut marked."""
    text = str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"
