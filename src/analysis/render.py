"""Executed notebooks → self-contained HTML (with and without code) and an index.

HTML with code is for researchers; without code for policy readers. Both embed
their images and load nothing from the network (the CDN scripts nbconvert adds
for MathJax and require.js are removed). ``index.html`` lists every run with its
status, parameters, duration and key figures.

Data values are text, never markup: the index escapes everything (Jinja
autoescape), tables are escaped by pandas (``DataFrame``) or explicitly
(``Styler.format(escape="html")``), and a value put into a Markdown output goes
through :func:`escape_markdown` first — Markdown passes raw HTML through.
"""

from __future__ import annotations

import html
import json
import os
import re
from pathlib import Path
from typing import Any

from analysis import i18n

_REMOTE_SCRIPT = re.compile(r"<script[^>]*\bsrc=\"https?://[^\"]*\"[^>]*>\s*</script>", re.I)
# nbconvert's module script that imports mermaid from a CDN (only for mermaid diagrams)
_MERMAID = re.compile(
    r"<script type=\"module\">(?:(?!</script>).)*?mermaid(?:(?!</script>).)*?</script>", re.S
)

# CommonMark backslash-escapable punctuation that can start markup (emphasis, links,
# code, headings, lists, tables, $math$); ``&``, ``<`` and ``>`` become entities instead
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~$])")


def escape_markdown(value: object) -> str:
    """A data value (a school or unit name) as literal text inside Markdown.

    ``<script>`` stays visible text instead of live HTML, ``[x](javascript:…)`` is no
    link, ``**`` no emphasis, and a line break cannot start a new block.
    """
    text = " ".join(str(value).splitlines())
    return _MARKDOWN_SPECIAL.sub(r"\\\1", html.escape(text, quote=False))


def to_html(notebook: Path, *, with_code: bool) -> str:
    import nbformat
    from nbconvert import HTMLExporter

    nb = nbformat.read(str(notebook), as_version=4)
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
    body, _ = exporter.from_notebook_node(nb)
    return _MERMAID.sub("", _REMOTE_SCRIPT.sub("", body))


def _write(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def render_run(out_dir: Path, run: dict[str, Any]) -> dict[str, str]:
    notebook = out_dir / run["output"]
    if not notebook.is_file():
        return {}
    stem = notebook.stem
    (out_dir / "html").mkdir(exist_ok=True)
    links = {}
    for kind, with_code in (("code", True), ("report", False)):
        target = out_dir / "html" / f"{stem}.{kind}.html"
        if not target.is_file() or target.stat().st_mtime < notebook.stat().st_mtime:
            _write(target, to_html(notebook, with_code=with_code))
        links[kind] = str(target.relative_to(out_dir))
    return links


def render_plan(out_dir: Path, manifest: dict[str, Any]) -> Path:
    """HTML for every executed notebook and ``index.html``; returns the index path."""
    figures = _figures(out_dir)
    lang = manifest.get("lang", "vi")
    rows = []
    for run in manifest["runs"]:
        links = render_run(out_dir, run) if run.get("output") else {}
        rows.append((run, links, figures.get(run["id"], [])))
    index = out_dir / "index.html"
    _write(index, _index_html(manifest, rows, lang))
    return index


def _figures(out_dir: Path) -> dict[str, list[dict[str, Any]]]:
    import pandas as pd

    path = out_dir / "figures.parquet"
    if not path.is_file():
        return {}
    frame = pd.read_parquet(path)
    return {run: part.to_dict(orient="records") for run, part in frame.groupby("run", sort=False)}


def _index_html(manifest: dict[str, Any], rows, lang: str) -> str:
    from jinja2 import Environment, PackageLoader, select_autoescape

    env = Environment(
        loader=PackageLoader("analysis", "templates"), autoescape=select_autoescape(["html", "j2"])
    )
    title = manifest["title"]
    title = title.get(lang, manifest["plan"]) if isinstance(title, dict) else title
    items = [
        {
            "run": run,
            "links": links,
            "figures": figs,
            "params": ", ".join(
                f"{k}={v}" for k, v in run["parameters"].items() if k != "processed"
            ),
        }
        for run, links, figs in rows
    ]
    template = env.get_template("index.html.j2")
    return template.render(
        manifest=manifest,
        rows=items,
        lang=lang,
        title=title,
        t=lambda key, **kw: i18n.text("index", key, lang, **kw),
    )


def load_manifest(out_dir: Path) -> dict[str, Any]:
    return json.loads((out_dir / "manifest.json").read_text(encoding="utf-8"))
