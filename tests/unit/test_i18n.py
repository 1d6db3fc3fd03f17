"""Both languages: numbers in the reader's style, every label drawable in the figures' font,
every notebook in both languages, and an English report free of Vietnamese-only text."""

from __future__ import annotations

import json
import re
import warnings
from pathlib import Path

import matplotlib
import pandas as pd
import pytest

from analysis import runner
from analysis.core import i18n, paths
from analysis.core.config import load_yaml
from analysis.data import synth
from analysis.report import plots
from analysis.runner import render
from tests import readercheck

matplotlib.use("Agg")
import matplotlib.pyplot as plt

ROOT = Path(__file__).resolve().parents[2]
# letters only Vietnamese uses (with its tones); English text has none of them
VIETNAMESE = re.compile(
    "[àáảãạăằắẳẵặâầấẩẫậđèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵ]", re.I
)


# --------------------------------------------------------------------------
# Numbers


@pytest.mark.parametrize(
    ("value", "lang", "digits", "expected"),
    [
        (1234567.891, "vi", 1, "1.234.567,9"),
        (1234567.891, "en", 1, "1,234,567.9"),
        (0.5, "vi", 2, "0,50"),
        (12345, "vi", 0, "12.345"),
        (12345, "en", 0, "12,345"),
        (-3.25, "vi", 2, "-3,25"),
        (-0.04, "vi", 1, "0,0"),  # no "-0,0"
        (None, "vi", 1, "—"),
        (float("nan"), "en", 1, "—"),
        (pd.NA, "en", 1, "—"),
    ],
)
def test_numbers_in_the_readers_style(value, lang, digits, expected):
    assert i18n.number(value, lang, digits) == expected


def test_signs_percent_and_integers():
    assert i18n.number(11.8, "vi", sign=True) == "+11,8"
    assert i18n.number(-0.4, "en", sign=True) == "-0.4"
    assert i18n.number(0.01, "vi", sign=True) == "0,0"
    assert i18n.percent(68.7, "vi") == "68,7%"
    assert i18n.percent(68.7, "en") == "68.7%"
    assert i18n.integer(1000, "vi") == "1.000"
    with pytest.raises(ValueError, match="not supported"):
        i18n.number(1.0, "fr")


@pytest.mark.parametrize(("lang", "expected"), [("vi", "2,5"), ("en", "2.5")])
def test_axis_ticks_in_the_readers_style(lang, expected):
    fig, ax = plt.subplots()
    ax.plot([0, 3], [1000, 2500])
    i18n.axis(ax, lang)
    fig.canvas.draw()
    xs = [t.get_text() for t in ax.get_xticklabels()]
    ys = [t.get_text() for t in ax.get_yticklabels()]
    plt.close(fig)
    assert expected in xs, xs
    assert ("2.000" if lang == "vi" else "2,000") in ys, ys


def test_plots_put_decimal_commas_on_vietnamese_axes():
    effects = pd.DataFrame(
        {"at": [0.0, 0.5, 1.0], "estimate": [0.1, 0.25, 0.4], "conf_low": [0.0, 0.1, 0.2],
         "conf_high": [0.2, 0.4, 0.6]}
    )  # fmt: skip
    ax = plots.marginal_effects(effects, lang="vi")
    ax.figure.canvas.draw()
    labels = [t.get_text() for t in ax.get_yticklabels()]
    plt.close(ax.figure)
    assert any("," in t for t in labels) and not any("." in t for t in labels), labels


# --------------------------------------------------------------------------
# Glyphs: every label, name and heading a figure can show


def _strings(value) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def _every_label() -> list[str]:
    """Every string of every config file (labels, indicators, frameworks, datasets, plans)
    and the names the generator gives units and schools."""
    found = []
    for path in sorted(paths.config_dir().rglob("*.yml")):
        found += _strings(load_yaml(path))
    province = synth.generate(seed=3, profile="clean", scale=0.05)
    found += list(province.units["unit_name"].astype(str))
    found += list(province.schools["school_name"].astype(str))
    return sorted({s for s in found if s.strip()})


def _draw(texts: list[str]) -> None:
    """Draw the texts in the workbench style; a glyph the font lacks warns, and fails."""
    plots.use_style()
    fig = plt.figure(figsize=(8, 2))
    for i, text in enumerate(texts):
        fig.text(0.01, (i % 20) / 20, text.replace("$", r"\$"))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # matplotlib's "Glyph … missing from font(s)"
        fig.canvas.draw()
    plt.close(fig)


def test_the_figures_font_is_found_and_is_not_a_fallback():
    from matplotlib import font_manager

    path = font_manager.findfont(plots.FONT, fallback_to_default=False)
    assert Path(path).name.startswith("DejaVuSans")


def test_every_label_draws_without_a_missing_glyph():
    texts = _every_label()
    assert len(texts) > 400
    assert sum(bool(VIETNAMESE.search(t)) for t in texts) > 200  # the Vietnamese is in there
    for start in range(0, len(texts), 100):
        _draw(texts[start : start + 100])


def test_every_character_is_in_the_fonts_character_map():
    from fontTools.ttLib import TTFont
    from matplotlib import font_manager

    font = TTFont(font_manager.findfont(plots.FONT, fallback_to_default=False))
    cmap = font.getBestCmap()
    chars = {c for t in _every_label() for c in t if not c.isspace()}
    missing = sorted(c for c in chars if ord(c) not in cmap)
    assert missing == [], missing


def test_a_missing_glyph_does_fail():
    with pytest.raises(UserWarning, match="missing from font"):
        _draw(["Trường 学校"])  # DejaVu Sans has no CJK: the check must catch it


# --------------------------------------------------------------------------
# Notebooks in both languages


def test_every_notebook_takes_a_language_parameter():
    for notebook in sorted((ROOT / "notebooks").glob("*.ipynb")):
        declared = runner.notebook_parameters(notebook)
        assert "lang" in declared, notebook.name
        assert declared["lang"] == "vi", notebook.name


@pytest.fixture(scope="module")
def english_reports(small_province, tmp_path_factory):
    """A plan's reader pages rendered in English: every notebook once (one district brief,
    the links notebook with its default model)."""
    folder = tmp_path_factory.mktemp("english")
    plan = folder / "english.yml"
    plan.write_text(
        json.dumps(
            {
                "name": "english",
                "dataset": "thai_nguyen_synthetic",
                "lang": "en",
                "runs": [
                    {"id": "data_quality", "notebook": "01_data_quality.ipynb"},
                    {"id": "indicators", "notebook": "02_indicators.ipynb"},
                    {"id": "links", "notebook": "03_links.ipynb"},
                    {"id": "evaluation", "notebook": "05_evaluation.ipynb"},
                    {"id": "typology", "notebook": "06_typology.ipynb"},
                    {
                        "id": "brief",
                        "notebook": "04_district_brief.ipynb",
                        "parameters": {"year": 2025, "unit": "164"},
                    },
                ],
            }
        ),
        encoding="utf-8",
    )
    out = folder / "out"
    loaded = runner.load_plan(plan, processed=small_province)
    manifest = runner.run_plan(loaded, out_dir=out, jobs=2, processed=small_province)
    assert all(r["status"] == "succeeded" for r in manifest["runs"]), manifest["runs"]
    return out


def _visible_text(page: Path) -> str:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
    for tag in soup(["style", "script", "title"]):
        tag.decompose()
    if page.name == "index.html":  # the front page: no notebook cells, nothing bilingual
        return soup.get_text(" ")
    # a notebook's title cell is bilingual ("02 · Chỉ tiêu … / Indicators …"); a reader page
    # keeps its reader's half only (the cells the runner adds before it: the link back)
    cells = [c for c in soup.select(".jp-MarkdownCell") if not c.select_one(".cds-back")]
    title = cells[0].get_text(" ") if cells else ""
    assert title.strip() and " / " not in title and not re.match(r"\s*\d+ ·", title), page.name
    return soup.get_text(" ")


@pytest.mark.slow
def test_english_reports_have_no_vietnamese_only_text(english_reports, small_province):
    names = set()
    for table, column in (("units", "unit_name"), ("schools", "school_name")):
        names |= set(pd.read_parquet(small_province / f"{table}.parquet")[column].astype(str))
    # the sheet a rejected row was read from is named as the office named it ("Báo cáo")
    names |= set(pd.read_parquet(small_province / "rejects.parquet")["sheet"].dropna().astype(str))
    # proper names stay Vietnamese: "Tỉnh Thái Nguyên" is also written "Thái Nguyên"
    prefixes = r"^(Tỉnh|Huyện|Thành phố|Thị xã|Trường [^ ]+( [^ ]+)?) "
    names |= {re.sub(prefixes, "", n) for n in names}
    log = (english_reports / "runs.html").read_text(encoding="utf-8")
    assert "Run log" in log and "Nhật ký" not in log
    front = english_reports / "index.html"
    for page in [front, *sorted((english_reports / "html").glob("*.report.html"))]:
        text = _visible_text(page)
        for name in sorted(names, key=len, reverse=True):
            text = text.replace(name, " ")
        text = text.replace("CĐS", " ")  # the programme's acronym, used in English too
        leftovers = sorted(
            {m.group(0) for m in re.finditer(r"\S*" + VIETNAMESE.pattern + r"\S*", text, re.I)}
        )
        assert leftovers == [], (page.name, leftovers[:20])
        assert text.strip(), page.name


@pytest.mark.slow
def test_english_reader_pages_pass_the_reader_check(english_reports):
    """No code name, formula, Vietnamese word, Vietnamese-style number, stderr, server
    path, cut table without its note or empty chart on an English page (tests/readercheck)."""
    manifest = render.load_manifest(english_reports)
    found = readercheck.problems(english_reports / "index.html", "en")
    for run in manifest["runs"]:
        page = english_reports / "html" / f"{Path(run['output']).stem}.report.html"
        found += readercheck.problems(page, "en", run.get("tables"))
    assert len(manifest["runs"]) == 6 and not found, "\n".join(found)


def test_key_figures_in_the_index_style():
    assert i18n.figure(98.15, "vi") == "98,15" and i18n.figure(98.15, "en") == "98.15"
    assert i18n.figure(2e-05, "vi") == "0,00002"  # a small coefficient stays visible
    assert i18n.figure(12345.0, "vi") == "12.345"
    assert i18n.figure(2025, "vi", name="year") == "2025"
    assert i18n.figure("164", "vi") == "164" and i18n.figure(None, "en") == "—"
