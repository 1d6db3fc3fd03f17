"""The document model (analysis.report.document), its Word writer and the report's
configuration, on small documents built here: numbering, captions, the decree's page
layout read back from the .docx with python-docx, and a configuration that is refused."""

from __future__ import annotations

import shutil
from pathlib import Path

import docx
import pytest
import yaml
from docx.shared import Cm

from analysis.core import paths
from analysis.core.config import ConfigError
from analysis.report import document as doc
from analysis.report import word
from analysis.runner import supervision

PNG = (  # a 1×1 white pixel
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00"
    b"\x90wS\xde\x00\x00\x00\x0cIDATx\x9cc\xf8\xff\xff?\x00\x05\xfe\x02\xfe\xa7\x35\x81\x84"
    b"\x00\x00\x00\x00IEND\xaeB`\x82"
)


def small() -> doc.Document:
    blocks = [
        doc.Heading("Kết quả"),
        doc.Heading("Hạ tầng", level=2),
        doc.Table(
            "Chỉ tiêu hạ tầng", ["Chỉ tiêu", "Giá trị"], [["Tỷ lệ trường có Internet", "99,1%"]]
        ),
        doc.Heading("Bồi dưỡng", level=2),
        doc.Heading("Giáo viên", level=3),
        doc.Heading("Cán bộ", level=3),
        doc.Figure("Biểu đồ", PNG, width_cm=4),
        doc.Heading("Khó khăn"),
        doc.Heading("Nguồn lực", level=2),
        doc.Ask("[Phần Sở bổ sung: kinh phí]"),
        doc.Table("Bảng thứ hai", ["A", "B"], [["x", "1"]]),
    ]
    return doc.Document(
        lang="vi",
        title="BÁO CÁO",
        header=doc.Header(
            body=["UBND TỈNH THÁI NGUYÊN", "SỞ GIÁO DỤC VÀ ĐÀO TẠO"],
            national="CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
            motto="Độc lập - Tự do - Hạnh phúc",
            number="Số: ……/BC-SGDĐT",
            date="Thái Nguyên, ngày …… tháng …… năm 2026",
            kind="BÁO CÁO",
            summary="Kết quả thực hiện chuyển đổi số",
        ),
        blocks=doc.numbered(blocks),
        signature=doc.Signature("Nơi nhận:", ["- Như trên;"], "GIÁM ĐỐC", "(Ký)"),
    )


def test_parts_are_numbered_from_large_to_small_and_restart_under_each():
    numbers = [(b.level, b.number) for b in small().blocks if isinstance(b, doc.Heading)]
    assert numbers == [(1, "I."), (2, "1."), (2, "2."), (3, "a)"), (3, "b)"), (1, "II."),
                       (2, "1.")]  # fmt: skip


def test_tables_and_figures_are_numbered_in_order_of_appearance():
    d = small()
    assert [doc.caption(d, t) for t in d.tables] == [
        "Bảng 1. Chỉ tiêu hạ tầng",
        "Bảng 2. Bảng thứ hai",
    ]
    assert doc.caption(d, d.figures[0]) == "Hình 1. Biểu đồ"


def test_word_file_has_the_decree_layout_and_the_text_intact(tmp_path):
    path = word.write_docx(small(), tmp_path / "r.docx")
    read = docx.Document(str(path))
    section = read.sections[0]
    assert (round(section.page_width.cm, 1), round(section.page_height.cm, 1)) == (21.0, 29.7)
    margins = [section.top_margin, section.bottom_margin, section.left_margin, section.right_margin]
    assert [round(m.cm, 1) for m in margins] == [2.0, 2.0, 3.0, 1.5]
    assert section.different_first_page_header_footer  # no page number on page 1
    header_xml = section.header._element.xml
    assert "PAGE" in header_xml and "fldChar" in header_xml
    assert read.styles["Normal"].font.name == "Times New Roman"
    assert read.styles["Normal"].font.size.pt == 13
    fonts = read.styles["Normal"].element.rPr.rFonts
    assert fonts.get("{http://schemas.openxmlformats.org/wordprocessingml/2006/main}eastAsia") == (
        "Times New Roman"
    )
    W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
    heading_fonts = read.styles["Heading 1"].element.rPr.rFonts
    assert heading_fonts.get(f"{W}ascii") == "Times New Roman"
    assert heading_fonts.get(f"{W}asciiTheme") is None  # a theme font would win over it
    header = read.tables[0]
    assert [round(c.width.cm, 1) for c in header.rows[0].cells] == [6.6, 9.9]
    left, right = (c.text for c in header.rows[0].cells)
    assert "SỞ GIÁO DỤC VÀ ĐÀO TẠO" in left and "Số: ……/BC-SGDĐT" in left
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in right and "Độc lập - Tự do - Hạnh phúc" in right
    headings = [p.text for p in read.paragraphs if p.style.name.startswith("Heading")]
    assert headings[:3] == ["I. Kết quả", "1. Hạ tầng", "2. Bồi dưỡng"]
    texts = [p.text for p in read.paragraphs]
    assert "Bảng 1. Chỉ tiêu hạ tầng" in texts and "Hình 1. Biểu đồ" in texts
    asked = next(p for p in read.paragraphs if p.text.startswith("[Phần Sở bổ sung"))
    assert asked.runs[0].font.highlight_color is not None  # marked for the office
    data = read.tables[1]
    assert [c.text for c in data.rows[1].cells] == ["Tỷ lệ trường có Internet", "99,1%"]
    assert data.rows[0]._tr.trPr is not None and "tblHeader" in data.rows[0]._tr.trPr.xml
    assert len(read.inline_shapes) == 1
    assert abs(read.inline_shapes[0].width - Cm(4)) < Cm(0.01)


def test_html_for_print_sets_the_page_and_numbers_from_page_two():
    page = doc.to_html(small())
    assert "size: A4 portrait" in page and "margin: 20mm 15mm 20mm 30mm" in page
    assert "@page :first { @top-center { content: none; } }" in page
    assert "<caption>Bảng 2. Bảng thứ hai</caption>" in page
    assert "data:image/png;base64," in page


@pytest.fixture
def config_home(tmp_path, monkeypatch):
    """A copy of config/ the test may break (merged over the shipped one, as a workspace's
    configuration is: a text can be emptied, not removed)."""
    shutil.copytree(paths.config_dir(), tmp_path / "config")
    monkeypatch.setattr(paths, "config_dir", lambda: tmp_path / "config")
    return tmp_path / "config"


def _edit(home: Path, change) -> None:
    where = home / supervision.CONFIG
    config = yaml.safe_load(where.read_text("utf-8"))
    change(config)
    where.write_text(yaml.safe_dump(config, allow_unicode=True), "utf-8")


def test_report_config_loads_with_both_languages():
    config = supervision.load_config()
    ids = [s["id"] for s in config["results"]["sections"]]
    assert ids == ["communication", "policy", "training", "infrastructure", "egovernment",
                   "management", "elessons"]  # fmt: skip
    assert [s["id"] for s in config["difficulties"]["sections"]] == [
        "resources", "infrastructure", "security"]  # fmt: skip


def test_report_config_names_an_unknown_indicator(config_home):
    _edit(config_home, lambda c: c["results"]["sections"][2]["indicators"].append("no_such"))
    with pytest.raises(ConfigError, match=r"report\.yml: results\.training: unknown .*no_such"):
        supervision.load_config()


def test_report_config_names_a_text_without_english(config_home):
    _edit(config_home, lambda c: c["quality"]["title"].update(en=""))
    with pytest.raises(ConfigError, match=r"report\.yml: quality\.title has no text in en"):
        supervision.load_config()
