"""The supervision report (``workbench report``) of the default plan's run, read back.

The Word file is opened with python-docx and the PDF with pypdf; the figures in them are
parsed as a Vietnamese (or English) reader reads them and compared with the shared CSVs
the plan wrote (``data/front/*.csv``, ``figures.csv``) and with the configuration files
read here as YAML — not with the code that wrote the document.
"""

from __future__ import annotations

import re
import shutil
import unicodedata
import zipfile
from pathlib import Path

import docx
import pandas as pd
import pypdf
import pytest
import yaml
from typer.testing import CliRunner

from analysis import cli
from analysis.core import paths
from analysis.runner import share, supervision
from analysis.runner.layout import internal_dir

pytestmark = pytest.mark.xdist_group("default_run")

CONFIG = yaml.safe_load((paths.config_dir() / "report.yml").read_text("utf-8"))
LABELS = yaml.safe_load((paths.config_dir() / "labels.yml").read_text("utf-8"))
DEFINITIONS = yaml.safe_load((paths.config_dir() / "indicators.yml").read_text("utf-8"))
FRAMEWORK = yaml.safe_load((paths.config_dir() / "frameworks/moet_4725.yml").read_text("utf-8"))
NUMBER = {"vi": re.compile(r"[-+]?\d{1,3}(?:\.\d{3})*(?:,\d+)?"),
          "en": re.compile(r"[-+]?\d{1,3}(?:,\d{3})*(?:\.\d+)?")}  # fmt: skip


def numbers(text: str, lang: str = "vi") -> list[float]:
    """Every number in ``text`` as the reader of ``lang`` reads it (1.234,5 in Vietnamese)."""
    found = NUMBER[lang].findall(text)
    if lang == "vi":
        return [float(n.replace(".", "").replace(",", ".")) for n in found]
    return [float(n.replace(",", "")) for n in found]


@pytest.fixture(scope="module")
def written(default_run, tmp_path_factory):
    folder, done = default_run
    assert done.returncode == 0, done.stderr[-3000:]
    dest = tmp_path_factory.mktemp("supervision")
    vi = supervision.write(folder, dest=dest / "vi")  # Word and PDF, in the plan's language
    en = supervision.write(folder, formats=("docx",), lang="en", dest=dest / "en")
    return folder, vi, en


def shared_csv(folder: Path, name: str) -> pd.DataFrame:
    return pd.read_csv(folder / "data/front" / f"{name}.csv", encoding="utf-8-sig")


def table_after(document, caption: str):
    """The table whose caption (the paragraph just before it) contains ``caption``."""
    body = document.element.body
    last = ""
    for child in body.iterchildren():
        tag = child.tag.rsplit("}", 1)[-1]
        if tag == "p":
            text = "".join(t.text or "" for t in child.iter() if t.tag.endswith("}t"))
            last = text or last
        elif tag == "tbl" and caption in last:
            return next(t for t in document.tables if t._tbl is child)
    raise AssertionError(f"no table captioned {caption!r}")


def rows_of(table) -> list[list[str]]:
    return [[c.text for c in row.cells] for row in table.rows[1:]]


def test_the_document_has_the_decree_header_and_every_part_in_order(written):
    _, vi, _ = written
    document = docx.Document(str(vi["docx"]))
    left, right = (c.text for c in document.tables[0].rows[0].cells)
    doc_cfg = CONFIG["document"]
    for line in doc_cfg["body"]["vi"]:
        assert line in left
    assert "Số: ……/BC-SGDĐT" in left
    assert doc_cfg["national"]["vi"] in right and doc_cfg["motto"]["vi"] in right
    assert re.search(r"Thái Nguyên, ngày …… tháng …… năm 20\d\d", right)
    texts = [p.text for p in document.paragraphs]
    assert "BÁO CÁO" in texts
    parts = ["results", "indicators", "maturity", "evaluation", "quality", "difficulties",
             "assessment", "recommendations"]  # fmt: skip
    expected = [
        f"{n}. {CONFIG[p]['title']['vi']}"
        for n, p in zip(["I", "II", "III", "IV", "V", "VI", "VII", "VIII"], parts, strict=True)
    ]
    level1 = [p.text for p in document.paragraphs if p.style.name == "Heading 1"]
    assert level1 == expected
    level2 = [p.text for p in document.paragraphs if p.style.name == "Heading 2"]
    topics = [f"{n}. {s['title']['vi']}" for n, s in enumerate(CONFIG["results"]["sections"], 1)]
    assert level2[: len(topics)] == topics
    asks = [t for t in texts if t.startswith("[Phần Sở bổ sung:")]
    assert len(asks) == len(topics) + len(CONFIG["difficulties"]["sections"]) + 2
    assert "GIÁM ĐỐC" in document.tables[-1].rows[0].cells[1].text
    captions = [t for t in texts if re.match(r"Bảng \d+\. ", t)]
    assert [int(re.match(r"Bảng (\d+)", c).group(1)) for c in captions] == list(
        range(1, len(captions) + 1)
    )
    assert len(captions) == len(document.tables) - 2  # the header and the signature


def test_indicator_tables_hold_the_plans_figures(written):
    folder, vi, _ = written
    document = docx.Document(str(vi["docx"]))
    headline = shared_csv(folder, "headline")
    status_words = {k: v["vi"] for k, v in LABELS["status"].items()}
    for sector in ("in", "cross"):
        table = table_after(document, CONFIG["indicators"][sector]["vi"])
        rows = {r[0]: r for r in rows_of(table)}
        expected = headline[headline["sector"] == sector]
        assert set(rows) == set(expected["name"])
        for item in expected.itertuples():
            _, value, change, target, status = rows[item.name]
            assert numbers(value)[0] == pytest.approx(round(item.value, 1), abs=1e-9), item.name
            assert numbers(target)[0] == pytest.approx(round(item.target, 1), abs=1e-9)
            assert str(int(item.target_year)) in target
            assert status == status_words[item.status]
            if item.measure == "%":  # a change of a share is in points, not in %
                assert "điểm phần trăm" in change and "%" not in change


def test_district_ranking_keeps_hidden_values_hidden(written):
    folder, vi, _ = written
    document = docx.Document(str(vi["docx"]))
    ranking = shared_csv(folder, "ranking")
    table = table_after(document, "Xếp hạng các huyện")
    rows = rows_of(table)
    assert len(rows) == len(ranking)
    rank_on = [c for c in ranking.columns if f"{c}_rank" in ranking.columns]
    hidden = 0
    for row, item in zip(rows, ranking.to_dict(orient="records"), strict=True):
        for cell, indicator in zip(row[1:-1], rank_on, strict=True):
            if pd.isna(item[indicator]):
                hidden += 1
                assert cell.startswith("—"), (item["unit_name"], indicator, cell)
                continue
            value, rank = numbers(cell)[0], int(re.search(r"hạng (\d+)", cell).group(1))
            assert value == pytest.approx(round(item[indicator], 1), abs=1e-9)
            assert rank == int(item[f"{indicator}_rank"])
        assert numbers(row[-1])[0] == pytest.approx(round(item["mean_rank"], 1), abs=1e-9)
    assert hidden > 0  # the small province hides some district values: the check bites


def test_maturity_table_counts_the_plans_schools(written):
    folder, vi, _ = written
    document = docx.Document(str(vi["docx"]))
    maturity = shared_csv(folder, "maturity")
    table = table_after(document, "Tỷ lệ trường theo mức độ chuyển đổi số")
    rows = rows_of(table)
    assert [(r[0], r[1]) for r in rows] == list(
        zip(maturity["group"], maturity["maturity_level"], strict=True)
    )
    assert [int(numbers(r[-1])[0]) for r in rows] == list(maturity["count"])
    assert [numbers(r[3])[0] for r in rows] == [round(s, 1) for s in maturity["share"]]


def test_evaluation_part_gives_the_estimate_and_its_interval(written):
    folder, vi, _ = written
    figures = pd.read_csv(folder / "figures.csv", encoding="utf-8-sig", dtype=str)
    evaluation = figures[figures["notebook"] == "05_evaluation.ipynb"]
    value = {r.name: float(r.value) for r in evaluation.itertuples() if r.name.startswith("att")}
    document = docx.Document(str(vi["docx"]))
    texts = [p.text for p in document.paragraphs]
    title = f"IV. {CONFIG['evaluation']['title']['vi']}"
    start = texts.index(title)
    sentence = texts[start + 1]
    found = numbers(sentence)
    for key in ("att_overall", "att_conf_low", "att_conf_high"):
        assert round(value[key], 3) in found, (key, sentence)
    assert CONFIG["evaluation"]["limits"]["vi"] in texts[start:]


def test_pdf_is_the_same_document_in_one_times_font(written, report):
    _, vi, _ = written
    reader = pypdf.PdfReader(str(vi["pdf"]))
    pages = len(reader.pages)
    report(f"supervision report (default plan, small province): {pages} pages of PDF")
    assert pages >= 5
    text = "\n".join(p.extract_text(extraction_mode="layout") for p in reader.pages)
    flat = unicodedata.normalize("NFC", re.sub(r"\s+", " ", text))
    document = docx.Document(str(vi["docx"]))
    for paragraph in document.paragraphs:
        line = paragraph.text.strip()
        if re.match(r"(Bảng|Hình) \d+\. |[IVX]+\. ", line):  # captions and part titles
            assert re.sub(r"\s+", " ", line) in flat, line
    fonts = set()
    for page in reader.pages:
        for font in page["/Resources"].get("/Font", {}).values():
            fonts.add(str(font.get_object()["/BaseFont"]).split("+")[-1])
    # one Times-metric family: a glyph missing from it would have come from a fallback font
    assert fonts and all(f.startswith(("LiberationSerif", "TimesNewRoman")) for f in fonts), (
        f"{fonts}: install Liberation Serif 2 (make browser)"
    )


def test_no_server_trace_in_the_documents(written):
    _, vi, en = written
    for path in (vi["docx"], en["docx"]):  # the Word file's XML, as the share bundle scans it
        assert share.server_traces(path.name, path.read_bytes()) == []
    pdf_text = "\n".join(p.extract_text() for p in pypdf.PdfReader(str(vi["pdf"])).pages)
    assert share.server_traces("report.pdf", pdf_text.encode("utf-8")) == []


def test_english_report_speaks_english(written):
    _, _, en = written
    assert en["docx"].name.startswith("cds-report-")
    document = docx.Document(str(en["docx"]))
    right = document.tables[0].rows[0].cells[1].text
    assert "SOCIALIST REPUBLIC OF VIET NAM" in right
    level1 = [p.text for p in document.paragraphs if p.style.name == "Heading 1"]
    assert level1[0] == f"I. {CONFIG['results']['title']['en']}"
    names_en = {d["name"]["en"] for d in DEFINITIONS["indicators"]}
    table = table_after(document, CONFIG["indicators"]["in"]["en"])
    rows = rows_of(table)
    assert rows and all(r[0] in names_en for r in rows)
    statuses = {v["en"] for v in LABELS["status"].values()}
    assert all(r[-1] in statuses for r in rows)
    maturity = rows_of(table_after(document, "Share of schools at each maturity level"))
    levels_en = {lv["en"] for lv in FRAMEWORK["levels"]}
    assert maturity and all(r[1] in levels_en for r in maturity)
    vietnamese = re.compile(r"[ăâđêôơưạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹ]", re.I)
    # "CĐS" is the English pages' term too; the province keeps its name's letters and an
    # official document its symbol (4725/QĐ-BGDĐT)
    allowed = re.compile(r"CĐS|Thái Nguyên|\b[A-ZĐ]+-[A-ZĐ]+\b")
    body = [p.text for p in document.paragraphs if p.style.name in ("Normal", "Heading 1")]
    leaked = [t for t in body if vietnamese.search(allowed.sub("", t))]
    assert not leaked, leaked


def test_report_command_says_what_is_missing(written, tmp_path, monkeypatch):
    folder, _, _ = written
    never = CliRunner().invoke(cli.app, ["report", "default", "--out", str(tmp_path / "none")])
    assert never.exit_code == 2 and "workbench run default" in never.output
    bad = CliRunner().invoke(cli.app, ["report", "default", "--format", "odt"])
    assert bad.exit_code == 2 and "odt" in bad.output
    monkeypatch.setenv("WORKBENCH_CHROMIUM", str(tmp_path / "no-chromium"))
    dest = tmp_path / "out"
    done = CliRunner().invoke(
        cli.app, ["report", "default", "--out", str(folder), "--dest", str(dest)]
    )
    assert done.exit_code == 2 and "No PDF" in done.output and "WORKBENCH_CHROMIUM" in done.output
    assert [p.suffix for p in dest.iterdir()] == [".docx"]  # the Word file is written first


def test_front_page_links_the_report_written_beside_it(written, tmp_path):
    folder, _, _ = written
    copy = tmp_path / "default"  # the shared run folder is read only for tests
    shutil.copytree(folder, copy)
    shutil.copytree(internal_dir(folder), internal_dir(copy))
    assert "bao-cao-cds-" not in (copy / "index.html").read_text(encoding="utf-8")
    written_here = supervision.write(copy, formats=("docx",))
    supervision.write(copy, formats=("docx",), lang="en")
    name = written_here["docx"].name
    index = (copy / "index.html").read_text(encoding="utf-8")
    year = re.search(r"(\d{4})-(\d{4})", name).groups()
    label = f"Báo cáo kết quả chuyển đổi số năm học {year[0]}–{year[1]}"
    assert f'<a href="{name}">{label} (Word)</a>' in index
    assert f'<a href="cds-report-{year[0]}-{year[1]}.docx">{label} (Word, tiếng Anh)</a>' in index
    assert ".pdf" not in index  # only what was written is linked
    (copy / name.replace(".docx", ".pdf")).write_bytes(b"%PDF-1.4 no Word file beside it")
    (copy / name).unlink()  # a PDF without its Word file is not shared, nor linked
    bundle = share.build(copy, dest=tmp_path / "share.zip")
    with zipfile.ZipFile(bundle.path) as z:
        shared_index = z.read("default/index.html").decode("utf-8")
    assert "bao-cao-cds-" not in shared_index and "cds-report-" in shared_index


def test_screenshot_of_the_reports_first_pages(written):
    """The first two A4 pages of the document's print page (the PDF's source) as Chromium
    draws them, for a person to look at: ``reports/screenshots/report_first_pages.png``."""
    import os

    from playwright.sync_api import sync_playwright

    from analysis.report import document as doc

    folder, _, _ = written
    page_html = doc.to_html(supervision.build(folder))
    shots = paths.project_root() / "reports" / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    target = shots / "report_first_pages.png"
    chromium = os.environ.get("WORKBENCH_CHROMIUM", "/usr/bin/chromium")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        tab = browser.new_page(viewport={"width": 794, "height": 1123})  # A4 at 96 dpi
        tab.emulate_media(media="print")
        tab.set_content(page_html, wait_until="load")
        height = tab.evaluate("document.body.scrollHeight")
        tab.screenshot(path=str(target), clip={"x": 0, "y": 0, "width": 794,
                                               "height": min(2 * 1123, height)})  # fmt: skip
        text = tab.inner_text("body")
        browser.close()
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in text and "BÁO CÁO" in text
    assert target.stat().st_size > 50_000  # a page of text and tables, not a blank
