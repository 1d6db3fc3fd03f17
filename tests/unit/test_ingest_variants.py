"""Header, number, boolean, school-year and encoding variants all read the same."""

from __future__ import annotations

import pandas.testing as pdt
import pytest

from analysis.core.text import NotANumber, header_key, parse_bool, parse_number, parse_school_year
from analysis.data import ingest, schema
from analysis.data.ingest.detect import detect
from analysis.data.ingest.sheet import Sheet
from tests.helpers import panel_rows, sample_panel, write_csv, write_xlsx


@pytest.fixture(scope="module")
def sample():
    return sample_panel()


def _check(result, sample):
    panel = result.tables["panel"]
    expected = sample.sort_values(["school_id", "year"]).reset_index(drop=True)
    pdt.assert_frame_equal(panel, expected[panel.columns], check_exact=False, rtol=1e-9)
    assert result.rejects.empty
    assert result.accounting_holds()


@pytest.mark.parametrize(
    ("header", "column"),
    [
        ("Số học sinh", "enrolment"),
        ("SỐ HỌC SINH", "enrolment"),
        ("So hoc sinh", "enrolment"),
        ("SO HOC SINH", "enrolment"),
        ("  số   học  sinh ", "enrolment"),
        ("Tổng số học sinh", "enrolment"),
        ("so_hoc_sinh", "enrolment"),
        ("Số máy tính kết nối Internet", "computers_internet"),
        ("Máy tính có Internet", "computers_internet"),
        ("Tỉ lệ học sinh đạt (%)", "exam_pass_rate"),
        ("Ty le hoc sinh dat (%)", "exam_pass_rate"),
        ("Mã số trường", "school_id"),
        ("Năm học", "school_year"),
    ],
)
def test_header_variants_map_to_one_column(header, column):
    expand = schema.abbreviations()
    lookup = ingest._lookup("panel", expand)
    assert lookup[schema.match_key(header, expand)] == column


@pytest.mark.parametrize(
    ("header", "column"),
    [
        ("Tổng số HS", "enrolment"),
        ("TỔNG SỐ HS", "enrolment"),
        ("Số GV", "teachers"),
        ("Tổng số GV", "teachers"),
        ("Số GV được BD CĐS trong năm", "teachers_trained_cds_year"),
        ("Số HS có học bạ số", "pupils_digital_records"),
    ],
)
def test_an_abbreviated_header_is_read_as_its_words(header, column, tmp_path):
    """Office templates abbreviate (HS, GV, BD): a required column so written is read,
    not a stop (``abbreviations`` in config/columns.yml)."""
    found = detect(Sheet("r.csv", "", [["Mã trường", "Năm học", header]]))
    assert found is not None and found.columns[2] == column, found
    assert not found.guessed  # matched, not guessed from a misspelling


def test_no_two_columns_share_an_abbreviated_key():
    expand = schema.abbreviations()
    for table in schema.TABLES:
        seen: dict[str, str] = {}
        for name, spec in schema.contract(table).items():
            for text in {name, spec.header, spec.en, *spec.synonyms}:
                key = schema.match_key(text, expand)
                assert seen.setdefault(key, name) == name, (table, text, seen[key], name)


def test_no_two_columns_share_a_header_key():
    for table in schema.TABLES:
        seen: dict[str, str] = {}
        for name, spec in schema.contract(table).items():
            for text in {name, spec.header, spec.en, *spec.synonyms}:
                key = header_key(text)
                assert seen.setdefault(key, name) == name, (table, text, seen[key], name)


@pytest.mark.parametrize(
    ("text", "percent", "expected"),
    [
        ("1.234", False, 1234),
        ("12.345.678", False, 12345678),
        ("12,5", False, 12.5),
        ("1.234,5", False, 1234.5),
        ("1,234.5", False, 1234.5),
        ("1,234,567", False, 1234567),
        ("2.5", False, 2.5),
        ("85%", True, 85),
        ("85,5 %", True, 85.5),
        ("85%", False, 0.85),
        (" 1 234 ", False, 1234),
        ("-3", False, -3),
        (42, False, 42),
        (12.5, False, 12.5),
        ("", False, None),
        ("N/A", False, None),
        ("n/a", False, None),
        ("—", False, None),
        ("-", False, None),
        ("#N/A", False, None),
        (None, False, None),
    ],
)
def test_vietnamese_numbers(text, percent, expected):
    assert parse_number(text, percent=percent) == expected


@pytest.mark.parametrize("text", ["abc", "chưa có số liệu", "12a", "1..2", "1,2,3", "5 học sinh"])
def test_text_in_numeric_cells_is_not_a_number(text):
    with pytest.raises(NotANumber):
        parse_number(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Có", True),
        ("có", True),
        ("CO", True),
        ("x", True),
        (1, True),
        ("Yes", True),
        ("Không", False),
        ("khong", False),
        ("0", False),
        (0, False),
        ("", None),
        (None, None),
    ],
)
def test_yes_no(text, expected):
    assert parse_bool(text) is expected


@pytest.mark.parametrize("text", ["2020-2021", "2020–2021", "2020 - 2021", "2020-21", "2020/2021"])
def test_school_year_variants(text):
    assert parse_school_year(text) == 2021


def test_school_year_must_be_consecutive():
    with pytest.raises(ValueError):
        parse_school_year("2020-2022")


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16", "utf-16-le-nobom", "cp1258"])
def test_csv_encodings(encoding, sample, tmp_path):
    path = write_csv(tmp_path / "bao_cao.csv", panel_rows(sample), encoding=encoding)
    result = ingest.ingest(path, write=False)
    _check(result, sample)
    assert result.files[0]["columns"]["Số giáo viên đã được bồi dưỡng CĐS (lũy kế)"] == (
        "teachers_trained_cds"
    )


def test_semicolon_csv_with_vietnamese_decimals(sample, tmp_path):
    rows = panel_rows(sample)
    specs = list(schema.contract("panel").values())
    for line in rows[1:]:
        for i, spec in enumerate(specs):
            if spec.dtype == "float" and line[i]:
                line[i] = line[i].replace(".", ",")
            if spec.name == "exam_pass_rate" and line[i]:
                line[i] += "%"
    path = write_csv(tmp_path / "bao_cao.csv", rows, sep=";")
    _check(ingest.ingest(path, write=False), sample)


def test_headers_without_diacritics_in_other_order_with_title_rows(sample, tmp_path):
    from analysis.core.text import strip_diacritics

    rows = panel_rows(sample)
    rows[0] = [strip_diacritics(h).upper() for h in rows[0]]
    order = list(reversed(range(len(rows[0]))))
    rows = [[line[i] for i in order] for line in rows]
    title = ["SỞ GIÁO DỤC VÀ ĐÀO TẠO", "BÁO CÁO CHUYỂN ĐỔI SỐ", ""]
    path = write_xlsx(tmp_path / "bao_cao.xlsx", rows, title=title)
    _check(ingest.ingest(path, write=False), sample)


def test_school_year_from_the_title_when_there_is_no_column(sample, tmp_path):
    one_year = sample[sample["year"] == sample["year"].iloc[0]]
    rows = panel_rows(one_year)
    rows = [line[:1] + line[2:] for line in rows]  # drop the Năm học column
    label = one_year["school_year"].iloc[0]
    path = write_xlsx(tmp_path / "bao_cao.xlsx", rows, title=[f"NĂM HỌC {label}"])
    _check(ingest.ingest(path, write=False), one_year)


def test_numbers_typed_as_text_in_excel(sample, tmp_path):
    rows = panel_rows(sample)
    for line in rows[1:]:
        line[4] = f"{int(line[4]):,}".replace(",", ".")  # enrolment "1.234"
    _check(ingest.ingest(write_xlsx(tmp_path / "r.xlsx", rows), write=False), sample)


def test_ids_with_spaces_are_joined(sample, tmp_path):
    rows = panel_rows(sample)
    for line in rows[1:]:
        line[0] = f" {line[0][:5]} {line[0][5:]} "
    _check(ingest.ingest(write_csv(tmp_path / "r.csv", rows), write=False), sample)


def test_na_markers_read_as_missing(sample, tmp_path):
    rows = panel_rows(sample)
    col = list(schema.contract("panel")).index("bandwidth_mbps")
    rows[1][col] = "N/A"
    result = ingest.ingest(write_csv(tmp_path / "r.csv", rows), write=False)
    assert result.rejects.empty
    assert result.tables["panel"]["bandwidth_mbps"].isna().sum() == 1


def test_bad_cells_are_rejected_with_file_row_column(sample, tmp_path):
    rows = panel_rows(sample)
    names = list(schema.contract("panel"))
    rows[2][names.index("teachers")] = "mười"
    rows[3][names.index("lms_in_use")] = "có lẽ"
    rows[4][names.index("enrolment")] = "12,5"
    rows[5][names.index("teachers")] = "-4"  # out of range: the rules over teachers stay quiet
    rows[5][names.index("bandwidth_mbps")] = "nhanh"  # a second problem in the same row
    path = write_csv(tmp_path / "r.csv", rows)
    result = ingest.ingest(path, write=False)
    assert result.accounting_holds()
    assert result.rejected_rows("panel") == 4
    assert sorted(result.rejects.loc[result.rejects["row"] == 6, "rule"]) == [
        "not_a_number",
        "out_of_range",
    ]
    got = result.rejects.set_index("row")[["column", "rule", "value"]]
    assert got.loc[3].tolist() == ["teachers", "not_a_number", "mười"]
    assert got.loc[4].tolist() == ["lms_in_use", "not_yes_no", "có lẽ"]
    assert got.loc[5].tolist() == ["enrolment", "not_whole_number", "12,5"]
    assert set(result.rejects["file"]) == {str(path)}
    assert len(result.tables["panel"]) == len(sample) - 4
