"""Files shaped the way offices and other software write them: nothing lost, nothing misread.

One class of input per test group, several shapes each; every case checks the row
accounting and each value against the truth, cell by cell. The corpus
(``test_corpus.py``) keeps one regression entry per class.
"""

from __future__ import annotations

import zipfile

import pandas.testing as pdt
import pytest

from analysis.core.text import decimal_evidence, parse_bool, parse_number
from analysis.data import ingest, schema
from analysis.data.ingest.read import open_sheets
from analysis.data.ingest.sheet import Percent
from tests.helpers import sample_panel, write_csv
from tests.office_files import (
    SPECS,
    encrypted_xls,
    same_as_truth,
    text_rows,
    typed_rows,
    with_dimension,
    with_xls_dimension,
    write_book,
    write_ods,
    write_xls,
)

TRUTH = sample_panel(6)


# --------------------------------------------------------------------------
# 1. Sheet dimensions that lie


@pytest.mark.parametrize(
    "ref",
    ["A1", None, "A1:C3", "A1:E4", "A1:AN3", "B2:B2"],
    ids=[
        "streaming_A1",
        "missing",
        "stale_small",
        "stale_rows_and_columns",
        "rows_only",
        "one_cell",
    ],
)
def test_every_cell_is_read_whatever_the_stored_dimension(ref, tmp_path):
    path = with_dimension(write_book(tmp_path / "kich_thuoc.xlsx", typed_rows(TRUTH)), ref)
    result = ingest.ingest(path, write=False)
    assert result.input_rows["panel"] == len(TRUTH)
    same_as_truth(result, TRUTH)


# --------------------------------------------------------------------------
# 2. Cell number formats


@pytest.mark.parametrize("number_format", ["0.0%", "0%", "0.00%", "[Blue]0.0%", "#,##0.0%"])
def test_a_percentage_cell_reads_as_excel_shows_it(number_format, tmp_path):
    percent = {"exam_pass_rate": number_format, "poor_household_share": number_format}
    scale = dict.fromkeys(percent, 0.01)
    path = write_book(tmp_path / "phan_tram.xlsx", typed_rows(TRUTH), percent, scale)
    result = ingest.ingest(path, write=False)
    same_as_truth(result, TRUTH)


def test_a_literal_percent_sign_does_not_scale(tmp_path):
    """``0.0"%"`` and ``0.0\\%`` print a sign after the number as typed (97.1 shows 97.1%)."""
    formats = {"exam_pass_rate": '0.0"%"', "poor_household_share": "0.0\\%"}
    path = write_book(tmp_path / "dau_phan_tram.xlsx", typed_rows(TRUTH), formats)
    same_as_truth(ingest.ingest(path, write=False), TRUTH)


def test_one_column_in_two_scales_is_warned_about(tmp_path):
    """2021 typed as percentages, 2022 as bare fractions (0.971): read as typed, and warned."""
    later = TRUTH.assign(year=2022, school_year="2021-2022")
    write_book(tmp_path / "bao_cao_2021.xlsx", typed_rows(TRUTH))
    write_book(tmp_path / "bao_cao_2022.xlsx", typed_rows(later), scale={"exam_pass_rate": 0.01})
    result = ingest.ingest(tmp_path, write=False)
    assert result.accounting_holds()
    warned = [w for w in result.warnings if "exam_pass_rate" in w and "0 and 1" in w]
    assert warned and "bao_cao_2022.xlsx" in warned[0], result.warnings
    assert "bao_cao_2021.xlsx" not in warned[0].split("while")[0]


def test_the_same_scale_everywhere_is_not_warned_about(tmp_path):
    later = TRUTH.assign(year=2022, school_year="2021-2022")
    write_book(tmp_path / "bao_cao_2021.xlsx", typed_rows(TRUTH))
    percent = {"exam_pass_rate": "0.0%"}
    write_book(tmp_path / "bao_cao_2022.xlsx", typed_rows(later), percent, {"exam_pass_rate": 0.01})
    result = ingest.ingest(tmp_path, write=False)
    assert not [w for w in result.warnings if "0 and 1" in w], result.warnings


# --------------------------------------------------------------------------
# 3. Decimal points that look like thousands


def _english(name, value):
    """How software set to English writes numbers: 1,234.5 (quoted in a CSV by the writer)."""
    return f"{value:,.4f}".rstrip("0").rstrip(".") if SPECS[name].dtype == "float" else f"{value:,}"


def _vietnamese(name, value):
    text = _english(name, value)
    return text.replace(",", "\0").replace(".", ",").replace("\0", ".")


@pytest.mark.parametrize(
    ("writer", "sep"),
    [(_english, ","), (_english, "\t"), (_vietnamese, ";"), (_vietnamese, ",")],
    ids=["english_comma_csv", "english_tab", "vietnamese_semicolon", "vietnamese_quoted_comma"],
)
def test_a_files_own_decimal_mark_is_used(writer, sep, tmp_path):
    truth = TRUTH.assign(training_hours=1250.0, bandwidth_mbps=[1.25, 0.512, 12.5, 1.5, 2.0, 3.0])
    rows = text_rows(truth, writer)
    result = ingest.ingest(write_csv(tmp_path / "so.csv", rows, sep=sep), write=False)
    same_as_truth(result, truth)


def test_a_leading_zero_group_is_a_decimal_never_thousands(tmp_path):
    truth = TRUTH.assign(mean_test_score=[0.512, -0.174, 0.25, 0.0, 0.333, 1.5])
    rows = text_rows(
        truth,
        lambda n, v: str(v),  # Python's own str: "0.512", "47.4", "324"
    )
    result = ingest.ingest(write_csv(tmp_path / "diem.csv", rows), write=False)
    same_as_truth(result, truth)


@pytest.mark.parametrize(
    ("cells", "rejected"),
    [
        ({1: "1.250"}, "no other number"),  # nothing in the file says which mark
        ({1: "1.250", 2: "12,5", 3: "0.512"}, "both decimal marks"),  # the file mixes them
    ],
    ids=["no_evidence", "mixed_evidence"],
)
def test_a_truly_ambiguous_number_is_rejected_with_its_reason(cells, rejected, tmp_path):
    rows = text_rows(
        TRUTH,
        lambda n, v: str(round(v)),  # whole numbers only: no evidence for either mark
    )
    column = list(SPECS).index("bandwidth_mbps")
    for row, text in cells.items():
        rows[row][column] = text
    result = ingest.ingest(write_csv(tmp_path / "mo_ho.csv", rows), write=False)
    assert result.accounting_holds()
    hit = result.rejects[result.rejects["rule"] == "ambiguous_decimal"]
    assert hit["row"].tolist() == [2] and hit["column"].tolist() == ["bandwidth_mbps"]
    assert rejected in hit["message"].iloc[0] and "1250" in hit["message"].iloc[0]
    assert result.accepted_rows("panel") == len(TRUTH) - 1
    mixed = [w for w in result.warnings if "both decimal marks" in w]
    assert bool(mixed) == (len(cells) > 1), result.warnings
    if mixed:
        assert "'12,5' (row 3, column bandwidth_mbps)" in mixed[0] and "mo_ho.csv" in mixed[0]


@pytest.mark.parametrize(
    ("text", "mark"),
    [("0.512", "."), ("12.5", "."), ("1,234.5", "."), ("1,234,567", "."), ("12,5", ","),
     ("0,512", ","), ("1.234,5", ","), ("1.234.567", ","), ("1.234", None), ("1,234", None),
     ("300", None), ("97,1%", ",")],
)  # fmt: skip
def test_decimal_evidence(text, mark):
    assert decimal_evidence(text) == mark


def test_one_group_numbers_follow_the_mark():
    assert (
        parse_number("1.234", decimal=",") == 1234 and parse_number("1.234", decimal=".") == 1.234
    )
    assert (
        parse_number("1,234", decimal=",") == 1.234 and parse_number("1,234", decimal=".") == 1234
    )
    assert parse_number("0.512") == 0.512 and parse_number("0,512", decimal=".") == 0.512
    # a percent sign outside a percentage column divides either reading
    assert (
        parse_number("1.250%", decimal=",") == 12.5
        and parse_number("1.250%", decimal=".") == 0.0125
    )


# --------------------------------------------------------------------------
# 4. Yes/no words


@pytest.mark.parametrize(
    ("word", "answer"),
    [("Chưa có", False), ("chua co", False), ("Chưa", False), ("Không có", False),
     ("Chưa triển khai", False), ("Đã có", True), ("Có rồi", True), ("Đã triển khai", True),
     ("YES", True), ("no", False), ("x", True)],
)  # fmt: skip
def test_yes_no_words_of_the_config(word, answer, tmp_path):
    rows = text_rows(TRUTH)
    column = list(SPECS).index("lms_in_use")
    rows[1][column] = word
    result = ingest.ingest(write_csv(tmp_path / "co_khong.csv", rows), write=False)
    assert result.rejects.empty, result.rejects.to_string()
    read = result.tables["panel"].set_index("school_id").loc[TRUTH["school_id"][0], "lms_in_use"]
    assert bool(read) is answer
    assert parse_bool(word, schema.yes_no().keys) is answer


def test_an_unknown_yes_no_word_is_rejected_with_the_vocabulary(tmp_path):
    rows = text_rows(TRUTH)
    rows[2][list(SPECS).index("lms_in_use")] = "Sắp có"
    result = ingest.ingest(write_csv(tmp_path / "co_khong.csv", rows), write=False)
    hit = result.rejects[result.rejects["rule"] == "not_yes_no"]
    assert hit["row"].tolist() == [3]
    assert "Chưa có" in hit["message"].iloc[0] and "Đã có" in hit["message"].iloc[0]


def test_a_word_that_means_both_is_a_config_error(tmp_path, monkeypatch):
    config = tmp_path / "columns.yml"
    text = (schema.paths.config_dir() / "columns.yml").read_text(encoding="utf-8")
    config.write_text(text.replace("no_words: [Không,", "no_words: [Có, Không,"), encoding="utf-8")
    monkeypatch.setattr(schema, "_columns_file", lambda: config)
    with pytest.raises(schema.ConfigError, match="both a yes and a no word"):
        schema.yes_no()


# --------------------------------------------------------------------------
# 5. Consequences named correctly


@pytest.mark.parametrize("shape", ["conflict", "bad_cell", "lost_zero"])
def test_a_school_rejected_in_the_register_is_named_so_in_its_reports(shape, tmp_path):
    ids = list(TRUTH["school_id"])
    names = list(TRUTH["school_name"])
    register = [["Mã trường", "Tên trường", "Cấp học", "Khu vực"]]
    register += [[i, n, "Tiểu học", "Nông thôn"] for i, n in zip(ids, names, strict=True)]
    report = text_rows(TRUTH)
    if shape == "conflict":
        register.append([ids[0], "Trường Khác Tên", "Tiểu học", "Nông thôn"])
        expected = "danh_muc_truong.csv rows 2, 8"
    elif shape == "bad_cell":
        register[1][2] = "Đại học"  # not a school level
        expected = "danh_muc_truong.csv row 2 was rejected (unknown_code"
    else:
        register[1][0] = "0" + ids[0][1:]
        register.append(["0" + ids[0][1:], "Trường Khác Tên", "Tiểu học", "Nông thôn"])
        report[1][0] = str(int(ids[0][1:]))  # the report lost the leading zero
        expected = "danh_muc_truong.csv rows 2, 8"
    write_csv(tmp_path / "danh_muc_truong.csv", register)
    write_csv(tmp_path / "bao_cao.csv", report)
    result = ingest.ingest(tmp_path, write=False)
    assert result.accounting_holds()
    panel_rejects = result.rejects[result.rejects["table"] == "panel"]
    assert panel_rejects["rule"].tolist() == ["rejected_school"], panel_rejects.to_string()
    message = panel_rejects["message"].iloc[0]
    assert message.startswith("school rejected in the register:") and expected in message, message
    assert "not in the" not in message
    assert result.accepted_rows("panel") == len(TRUTH) - 1


# --------------------------------------------------------------------------
# 6. Formats offices export: .xls (the sector database, school software) and .ods

PERCENT = ("exam_pass_rate", "poor_household_share")


def _xls(path, rows, number_format="0.0%", scaled=True):
    percent = dict.fromkeys(PERCENT, number_format) if number_format else {}
    return write_xls(path, rows, percent, dict.fromkeys(percent, 0.01) if scaled else None)


def _ods(path, rows, **shape):
    return write_ods(path, rows, PERCENT, dict.fromkeys(PERCENT, 0.01), **shape)


def _titled(rows):
    """The report with the office's title and a blank line above the header."""
    return [["SỞ GIÁO DỤC VÀ ĐÀO TẠO THÁI NGUYÊN"], ["Báo cáo chuyển đổi số năm học 2023-2024"],
            [], *rows]  # fmt: skip


@pytest.mark.parametrize(
    "build",
    [
        lambda p: _xls(p / "bao_cao.xls", typed_rows(TRUTH)),
        lambda p: _xls(p / "bao_cao.xls", typed_rows(TRUTH), "0%"),  # a built-in format
        lambda p: _xls(p / "bao_cao.xls", typed_rows(TRUTH), "0.00%"),
        lambda p: _xls(p / "bao_cao.xls", typed_rows(TRUTH), None, scaled=False),  # 97.1 typed
        lambda p: _xls(p / "bao_cao.xls", _titled(typed_rows(TRUTH))),
        lambda p: with_xls_dimension(_xls(p / "bao_cao.xls", typed_rows(TRUTH)), 0, 0),
        lambda p: with_xls_dimension(_xls(p / "bao_cao.xls", typed_rows(TRUTH)), 3, 5),
        lambda p: _ods(p / "bao_cao.ods", typed_rows(TRUTH)),
        lambda p: _ods(p / "bao_cao.ods", typed_rows(TRUTH), libreoffice=False),
        lambda p: _ods(p / "bao_cao.ods", _titled(typed_rows(TRUTH)), blank_rows_above=2),
        lambda p: write_ods(p / "bao_cao.ods", typed_rows(TRUTH)),  # 97.1 typed, no percent
    ],
    ids=[
        "xls_percent_cells",
        "xls_builtin_0pct",
        "xls_0.00pct",
        "xls_typed_as_shown",
        "xls_title_rows",
        "xls_dimension_A1",
        "xls_dimension_stale",
        "ods_libreoffice",
        "ods_plain_cells",
        "ods_title_and_blank_rows",
        "ods_typed_as_shown",
    ],
)
def test_xls_and_ods_are_read_as_excel_shows_them(build, tmp_path):
    path = build(tmp_path)
    result = ingest.ingest(path, write=False)
    assert result.input_rows["panel"] == len(TRUTH)
    same_as_truth(result, TRUTH)


def test_one_report_in_three_formats_gives_one_table(tmp_path):
    """The same report saved as .xlsx, .xls and .ods: every cell read the same."""
    read = {}
    for suffix, write in {".xlsx": write_book, ".xls": write_xls}.items():
        formats, scale = dict.fromkeys(PERCENT, "0.0%"), dict.fromkeys(PERCENT, 0.01)
        path = write(tmp_path / f"bao_cao{suffix}", typed_rows(TRUTH), formats, scale)
        read[suffix] = ingest.ingest(path, write=False).tables["panel"]
    read[".ods"] = ingest.ingest(_ods(tmp_path / "bao_cao.ods", typed_rows(TRUTH)), write=False)
    read[".ods"] = read[".ods"].tables["panel"]
    for suffix in (".xls", ".ods"):
        pdt.assert_frame_equal(read[suffix], read[".xlsx"], check_exact=True)


def test_cells_of_an_xls_as_excel_shows_them(tmp_path):
    import datetime as dt

    import xlwt

    book = xlwt.Workbook(encoding="utf-8")
    sheet = book.add_sheet("Trường")
    values = ["Trường Tiểu học Tân Cương", 12, 0.512, True, dt.datetime(2024, 5, 31), 1234567.0]
    styles = [None, None, None, None, xlwt.easyxf(num_format_str="dd/mm/yyyy"), None]
    for c, (value, style) in enumerate(zip(values, styles, strict=True)):
        sheet.write(0, c, value, style) if style else sheet.write(0, c, value)
    sheet.write(0, 7, 0.971, xlwt.easyxf(num_format_str="0.0%"))
    sheet.write(0, 8, 97.1, xlwt.easyxf(num_format_str='0.0"%"'))  # a literal sign
    book.save(str(tmp_path / "o.xls"))
    with open_sheets(tmp_path / "o.xls") as sheets:
        (only,) = sheets
        assert only.name == "Trường"
        row = only.head[0]
    assert row[:6] == [*values[:4], dt.datetime(2024, 5, 31), 1234567]
    assert type(row[1]) is int and type(row[5]) is int  # whole numbers as Excel shows them
    assert row[6] is None and row[7] == Percent(0.971) and row[8] == 97.1


def test_cells_of_an_ods_as_libreoffice_shows_them(tmp_path):
    rows = [["Mã trường", "Tỷ lệ (%)", "Có Internet", "Số HS"], ["0123", 0.971, True, 250]]
    path = write_ods(tmp_path / "o.ods", rows, blank_rows_above=4)
    # the second column's cells as percentage cells (write_ods marks panel columns by name)
    parts = {i.filename: zipfile.ZipFile(path).read(i) for i in zipfile.ZipFile(path).infolist()}
    parts["content.xml"] = parts["content.xml"].replace(
        b'office:value-type="float" office:value="0.971"',
        b'office:value-type="percentage" office:value="0.971"',
    )
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    with open_sheets(path) as sheets:
        (only,) = sheets
        cells = [r for r in only.head if r]
    assert len(only.head) == 6  # four blank rows above, kept, so row numbers are the sheet's
    assert cells == [rows[0], ["0123", Percent(0.971), True, 250]]
    assert type(cells[1][3]) is int


@pytest.mark.parametrize(
    ("name", "build", "fragment"),
    [
        ("mat_khau.xls", lambda p: encrypted_xls(_xls(p, typed_rows(TRUTH))), "password-protected"),
        (
            "mat_khau.ods",
            lambda p: _ods(p, typed_rows(TRUTH), encrypted=True),
            "password-protected",
        ),
        ("cat.xls", lambda p: _cut(_xls(p, typed_rows(TRUTH))), "cannot open the .xls workbook"),
        ("cat.ods", lambda p: _cut(_ods(p, typed_rows(TRUTH))), "not a readable .ods file"),
        (
            "web.xls",
            lambda p: p.write_text("<html><table><tr><td>Mã trường</td></tr></table>"),
            "a web page (HTML) saved with an Excel name",
        ),
        (
            "xml2003.xls",
            lambda p: p.write_text(
                '<?xml version="1.0"?>'
                '<Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet">'
            ),
            "XML Spreadsheet 2003",
        ),
        ("zip.ods", lambda p: write_book(p, typed_rows(TRUTH)), "not an OpenDocument spreadsheet"),
    ],
)
def test_a_protected_or_broken_xls_or_ods_gets_a_clear_message(name, build, fragment, tmp_path):
    path = tmp_path / name
    build(path)
    with pytest.raises(ingest.IngestError) as err:
        ingest.ingest(path, write=False)
    assert name in str(err.value) and fragment in str(err.value), str(err.value)


def _cut(path):
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path


@pytest.mark.parametrize("pair", [("xlsx", ".xls"), ("xls", ".xlsx")])
def test_a_workbook_under_the_other_excel_name_is_read_by_its_content(pair, tmp_path):
    kind, suffix = pair
    writer = write_book if kind == "xlsx" else write_xls
    path = writer(tmp_path / f"bao_cao.{kind}", typed_rows(TRUTH))
    path = path.rename(path.with_suffix(suffix))
    same_as_truth(ingest.ingest(path, write=False), TRUTH)
