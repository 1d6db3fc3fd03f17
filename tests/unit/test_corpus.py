"""The bad-input corpus: what DOETs really receive, and what each file gets.

Every case builds a raw file (or a folder with the school register) the way it
arrives — odd encodings, legacy fonts, merged headers, typed numbers, broken
files — and states the outcome: a clean :class:`IngestError` naming the file
(and the column or row where there is one), or tables plus rejects/warnings that
name the file, the row and the column. For every case that is read, row
accounting holds: input rows = accepted + rejected.
"""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pytest

from analysis.core import legacy
from analysis.core.text import strip_diacritics
from analysis.data import ingest, schema
from tests.helpers import panel_rows, sample_panel, to_cp1258, write_csv, write_xlsx
from tests.office_files import (
    encrypted_xls,
    text_rows,
    typed_rows,
    with_dimension,
    with_xls_dimension,
    write_book,
    write_ods,
    write_xls,
)

PANEL = sample_panel(4)
OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # a Compound File: .xls, or an encrypted .xlsx
ROWS = panel_rows(PANEL)  # header + 4 data rows (spreadsheet rows 2–5)
HEAD = ROWS[0]
COL = {name: i for i, name in enumerate(schema.contract("panel"))}


def _rows(**cells) -> list[list[str]]:
    """The base rows with some cells replaced: ``enrolment={2: "x"}`` sets data row 2."""
    out = [list(r) for r in ROWS]
    for name, values in cells.items():
        for row, value in values.items():
            out[row][COL[name]] = value
    return out


def _register(tmp: Path, ids=None, names=None) -> Path:
    ids = ids or list(PANEL["school_id"])
    names = names or list(PANEL["school_name"])
    rows = [["Mã trường", "Tên trường", "Cấp học", "Khu vực"]]
    rows += [[i, n, "Tiểu học", "Nông thôn"] for i, n in zip(ids, names, strict=True)]
    return write_csv(tmp / "danh_muc_truong.csv", rows)


@dataclass
class Case:
    id: str
    build: Callable[[Path], Path]  # tmp folder → the file or folder to ingest
    error: list[str] | None = None  # fragments of the IngestError message
    rejects: list[tuple[str, int, str]] = field(default_factory=list)  # (rule, row, column)
    warnings: list[str] = field(default_factory=list)  # fragments, each in one warning
    accepted: int | None = None  # panel rows accepted
    check: Callable[[ingest.IngestResult], bool] | None = None
    table: str = "panel"


CASES: list[Case] = []


def case(**kwargs):
    CASES.append(Case(**kwargs))


def _enrolment_is(expected: list[int]):
    def check(result):
        got = result.tables["panel"].sort_values(["school_id", "year"])["enrolment"].tolist()
        assert got == sorted(expected) or got == expected
        return True

    return check


TRUE_ENROLMENT = PANEL["enrolment"].tolist()

# --------------------------------------------------------------------------
# Encodings


def _bytes(name: str, data: bytes):
    def build(tmp: Path) -> Path:
        path = tmp / name
        path.write_bytes(data)
        return path

    return build


def _csv_text(rows) -> str:
    import csv
    import io

    buffer = io.StringIO(newline="")
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue()


def _cut_inside_last_row(column: str) -> bytes:
    """The CSV of the base rows, cut off one character into ``column``'s cell of the last row.

    Cut where the cells are, not at a byte count, so the cut lands in the same cell
    whatever the sample's numbers are.
    """
    last = [*ROWS[-1][: COL[column]], ROWS[-1][COL[column]][:1]]
    return (_csv_text(ROWS[:-1]) + _csv_text([last]).removesuffix("\r\n")).encode()


for enc_id, encoding in [
    ("utf8", "utf-8"),
    ("utf8_bom", "utf-8-sig"),
    ("utf16_le_bom", "utf-16"),
    ("utf16_le_no_bom", "utf-16-le-nobom"),
    ("cp1258", "cp1258"),
]:
    case(
        id=f"encoding_{enc_id}",
        build=lambda tmp, e=encoding, i=enc_id: write_csv(
            tmp / f"bao_cao_{i}.csv", ROWS, encoding=e
        ),
        accepted=4,
        check=_enrolment_is(TRUE_ENROLMENT),
    )
case(
    id="encoding_utf16_be_bom",
    build=_bytes("bao_cao_be.csv", b"\xfe\xff" + _csv_text(ROWS).encode("utf-16-be")),
    accepted=4,
)


def _legacy_names(encoding: str):
    def check(result):
        panel = result.tables["panel"].sort_values(["school_id", "year"])
        names = panel["school_name"].tolist()
        # The names the file was written from, through the font's own losses (TCVN3 has no
        # toned capitals), not the names read back run through the converter again.
        written = PANEL.sort_values(["school_id", "year"])["school_name"]
        expected = [legacy.to_unicode(legacy.from_unicode(n, encoding), encoding) for n in written]
        assert names == expected
        assert all(not legacy.looks_legacy(n) for n in names)
        assert any("ư" in n or "ờ" in n or "ọ" in n for n in names), names
        return True

    return check


for enc in ("tcvn3", "vni"):
    legacy_text = legacy.from_unicode(_csv_text(ROWS), enc)
    case(
        id=f"legacy_{enc}_csv",
        build=_bytes(f"bao_cao_{enc}.csv", legacy_text.encode("latin-1")),
        accepted=4,
        warnings=[f"{legacy.NAMES[enc]} font converted to Unicode", "row 1 column A"],
        check=_legacy_names(enc),
    )
case(
    id="legacy_tcvn3_xlsx",
    build=lambda tmp: write_xlsx(
        tmp / "bao_cao_vntime.xlsx",
        [[legacy.from_unicode(c, "tcvn3") for c in r] for r in ROWS],
        title=[legacy.from_unicode("BÁO CÁO CHUYỂN ĐỔI SỐ", "tcvn3")],
    ),
    accepted=4,
    warnings=["TCVN3 (ABC, .VnTime) font converted", "capital letters with a tone"],
    check=_legacy_names("tcvn3"),
)
case(
    id="legacy_ambiguous_cell_is_flagged",
    # one short cell that reads as Vietnamese both in TCVN3 and in VNI
    build=lambda tmp: write_csv(tmp / "mot_o.csv", _rows(school_name={3: "Sö dông hÖ thèng"})),
    accepted=4,
    warnings=["cannot be converted unambiguously", "row 4 column C: 'Sö dông hÖ thèng'"],
    check=lambda r: r.tables["panel"]["school_name"].eq("Sö dông hÖ thèng").sum() == 1,
)

# --------------------------------------------------------------------------
# Headers


def _drop(name: str):
    return [r[: COL[name]] + r[COL[name] + 1 :] for r in ROWS]


case(
    id="header_missing_required",
    build=lambda tmp: write_csv(tmp / "thieu_cot.csv", _drop("teachers")),
    error=[
        "thieu_cot.csv",
        "required column missing",
        "Số giáo viên (teachers)",
        "header row 1",
        "hint: no header of the sheet looks like Số giáo viên (teachers)",
    ],
)
case(
    id="header_required_under_an_office_name",
    build=lambda tmp: write_csv(
        tmp / "ten_rieng.csv", _renamed({"teachers": "Cán bộ GV toàn trường"})
    ),
    error=[
        "ten_rieng.csv",
        "required column missing",
        "Số giáo viên (teachers)",
        "hint: the header 'Cán bộ GV toàn trường' (column E) looks most like "
        "Số giáo viên (teachers): if it is, add it to the synonyms of teachers",
    ],
)
case(
    id="header_required_by_abbreviated_synonym",
    build=lambda tmp: write_csv(tmp / "viet_tat.csv", _renamed({"enrolment": "Tổng số HS"})),
    accepted=4,
    check=_enrolment_is(TRUE_ENROLMENT),
)
case(
    id="header_duplicated",
    build=lambda tmp: write_csv(
        tmp / "hai_cot.csv",
        [[*r, (r[COL["enrolment"]] if i else "Tổng số học sinh")] for i, r in enumerate(ROWS)],
    ),
    error=["hai_cot.csv", "two columns mean the same thing", "enrolment", "columns D and"],
)


def _renamed(changes: dict[str, str]):
    rows = [list(r) for r in ROWS]
    for name, text in changes.items():
        rows[0][COL[name]] = text
    return rows


case(
    id="header_misspelt",
    build=lambda tmp: write_csv(tmp / "sai_chinh_ta.csv", _renamed({"enrolment": "Số học snh"})),
    accepted=4,
    warnings=["header 'Số học snh' (column D) read as 'Số học sinh' (enrolment)"],
    check=_enrolment_is(TRUE_ENROLMENT),
)
case(
    id="header_misspelt_too_far_is_unknown",
    build=lambda tmp: write_csv(tmp / "xa_qua.csv", _renamed({"classrooms": "Phòng"})),
    accepted=4,
    warnings=["unknown column 'Phòng' kept in extra_values"],
)
case(
    id="header_without_diacritics",
    build=lambda tmp: write_csv(
        tmp / "khong_dau.csv",
        [
            [strip_diacritics(c) for c in ROWS[0]],
            *ROWS[1:],
        ],
    ),
    accepted=4,
    check=_enrolment_is(TRUE_ENROLMENT),
)
case(
    id="header_in_english",
    build=lambda tmp: write_csv(
        tmp / "english.csv",
        [[schema.contract("panel")[n].en for n in COL], *ROWS[1:]],
    ),
    accepted=4,
)


def _merged_header(tmp: Path) -> Path:
    """Two header rows: 'Số máy tính' merged over 'phục vụ dạy học' | 'kết nối Internet'."""
    import xlsxwriter

    path = tmp / "hai_dong_tieu_de.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("Báo cáo")
    sheet.write_string(0, 0, "BÁO CÁO CHUYỂN ĐỔI SỐ NĂM HỌC 2020-2021")
    a, b = COL["computers_teaching"], COL["computers_internet"]
    for c, text in enumerate(HEAD):
        if c == a:
            sheet.merge_range(1, a, 1, b, "Số máy tính")
            sheet.write_string(2, a, "phục vụ dạy học")
        elif c == b:
            sheet.write_string(2, b, "kết nối Internet")
        else:
            sheet.merge_range(1, c, 2, c, text)
    for r, values in enumerate(ROWS[1:], start=3):
        for c, value in enumerate(values):
            if value:
                sheet.write_string(r, c, value)
    book.close()
    return path


case(
    id="header_two_merged_rows",
    build=_merged_header,
    accepted=4,
    check=lambda r: (
        r.tables["panel"]["computers_internet"].tolist()
        == PANEL.sort_values(["school_id", "year"])["computers_internet"].tolist()
    ),
)
case(
    id="header_title_and_note_rows",
    build=lambda tmp: write_xlsx(
        tmp / "tieu_de_ghi_chu.xlsx",
        [*ROWS, [], ["Ghi chú: số liệu tính đến ngày 31/5"], ["Người lập biểu"]],
        title=["SỞ GIÁO DỤC VÀ ĐÀO TẠO THÁI NGUYÊN", "BÁO CÁO CĐS", ""],
    ),
    accepted=4,
    rejects=[("note_row", 10, ""), ("note_row", 11, "")],
)
case(
    id="header_semicolons_under_a_title_with_a_comma",
    build=lambda tmp: write_csv(
        tmp / "cham_phay.csv", [["BÁO CÁO CĐS, NĂM HỌC 2020-2021"], *ROWS], sep=";"
    ),
    accepted=4,
    check=_enrolment_is(TRUE_ENROLMENT),
)
case(
    id="header_columns_in_another_order",
    build=lambda tmp: write_csv(tmp / "dao_cot.csv", [list(reversed(r)) for r in ROWS]),
    accepted=4,
    check=_enrolment_is(TRUE_ENROLMENT),
)
case(
    id="header_unknown_extra_column",
    build=lambda tmp: write_csv(
        tmp / "cot_la.csv", [[*r, "Ghi chú" if i == 0 else "ok"] for i, r in enumerate(ROWS)]
    ),
    accepted=4,
    warnings=["unknown column 'Ghi chú' kept in extra_values"],
    check=lambda r: len(r.extra_values) == 4,
)

# --------------------------------------------------------------------------
# Values


case(
    id="value_vietnamese_thousands_and_decimal",
    build=lambda tmp: write_csv(
        tmp / "so_viet.csv", _rows(enrolment={1: "1.234"}, bandwidth_mbps={1: "1.234,5"})
    ),
    accepted=4,
    check=lambda r: (
        {1234} <= set(r.tables["panel"]["enrolment"])
        and 1234.5 in set(r.tables["panel"]["bandwidth_mbps"])
    ),
)
case(
    id="value_percent_sign",
    build=lambda tmp: write_csv(tmp / "phan_tram.csv", _rows(exam_pass_rate={2: "85%"})),
    accepted=4,
    check=lambda r: 85.0 in set(r.tables["panel"]["exam_pass_rate"]),
)
case(
    id="value_dash_and_na_are_missing",
    build=lambda tmp: write_csv(
        tmp / "trong.csv", _rows(bandwidth_mbps={1: "—", 2: "N/A", 3: "-", 4: "#N/A"})
    ),
    accepted=4,
    check=lambda r: r.tables["panel"]["bandwidth_mbps"].isna().all(),
)
case(
    id="value_text_in_numeric_cell",
    build=lambda tmp: write_csv(tmp / "chu.csv", _rows(teachers={2: "mười tám"})),
    accepted=3,
    rejects=[("not_a_number", 3, "teachers")],
)
case(
    id="value_negative_count",
    build=lambda tmp: write_csv(tmp / "am.csv", _rows(classrooms={1: "-3"})),
    accepted=3,
    rejects=[("out_of_range", 2, "classrooms")],
)
case(
    id="value_share_above_100",
    build=lambda tmp: write_csv(tmp / "qua_100.csv", _rows(exam_pass_rate={4: "130"})),
    accepted=3,
    rejects=[("out_of_range", 5, "exam_pass_rate")],
)
case(
    id="value_count_beyond_any_integer",
    build=lambda tmp: write_csv(tmp / "qua_lon.csv", _rows(enrolment={2: "100000000000000000000"})),
    accepted=3,
    rejects=[("out_of_range", 3, "enrolment")],
)
case(
    id="value_fraction_in_a_count",
    build=lambda tmp: write_csv(tmp / "le.csv", _rows(teachers={3: "12,5"})),
    accepted=3,
    rejects=[("not_whole_number", 4, "teachers")],
)
case(
    id="value_cross_field_rule",
    build=lambda tmp: write_csv(
        tmp / "vuot.csv", _rows(computers_teaching={1: "5"}, computers_internet={1: "9"})
    ),
    accepted=3,
    rejects=[("connected_le_computers", 2, "computers_internet")],
)
case(
    id="value_yes_no_spellings",
    build=lambda tmp: write_csv(
        tmp / "co_khong.csv", _rows(has_internet={1: "có", 2: "x", 3: "1", 4: "Yes"})
    ),
    accepted=4,
    check=lambda r: r.tables["panel"]["has_internet"].all(),
)
case(
    id="value_yes_no_unreadable",
    build=lambda tmp: write_csv(tmp / "co_gi.csv", _rows(has_internet={2: "có lẽ"})),
    accepted=3,
    rejects=[("not_yes_no", 3, "has_internet")],
)
case(
    id="value_school_year_spellings",
    build=lambda tmp: write_csv(
        tmp / "nam_hoc.csv",
        _rows(school_year={1: "2020 - 2021", 2: "NH 2020-21", 3: "2020–2021", 4: "2020/2021"}),
    ),
    accepted=4,
    check=lambda r: set(r.tables["panel"]["year"]) == {2021},
)


def _formulas(tmp: Path, cached: bool) -> Path:
    """enrolment as =SUM of two cells, with or without the value Excel computed."""
    import xlsxwriter

    path = tmp / ("cong_thuc.xlsx" if cached else "cong_thuc_chua_tinh.xlsx")
    if cached:
        book = xlsxwriter.Workbook(str(path))
        sheet = book.add_worksheet()
        for r, values in enumerate(ROWS):
            for c, value in enumerate(values):
                if r and c == COL["enrolment"]:
                    n = int(value)
                    sheet.write_formula(r, c, f"={n - 10}+10", None, n)
                elif value:
                    sheet.write_string(r, c, value)
        book.close()
        return path
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    for values in ROWS:
        sheet.append(values)
    sheet.cell(row=3, column=COL["enrolment"] + 1, value="=SUM(Z1:Z9)")  # never calculated
    book.save(path)
    return path


case(
    id="value_formula_with_computed_value",
    build=lambda tmp: _formulas(tmp, cached=True),
    accepted=4,
    check=_enrolment_is(TRUE_ENROLMENT),
)
case(
    id="value_formula_never_computed",
    build=lambda tmp: _formulas(tmp, cached=False),
    accepted=3,
    rejects=[("formula_not_computed", 3, "enrolment")],
)


def _units(tmp: Path) -> Path:
    """Dates as DOETs type them, in a units sheet with a real Excel date cell too."""
    import xlsxwriter

    path = tmp / "don_vi.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet()
    sheet.write_row(0, 0, ["Mã đơn vị", "Tên đơn vị", "Cấp hành chính", "Hiệu lực từ"])
    forms = [
        "01/01/2020",
        "2020-01-01",
        "01.01.2020",
        "ngày 1 tháng 1 năm 2020",
        "43831",
        43831,
        dt.datetime(2020, 1, 1),
        "31/02/2020",
    ]
    date_format = book.add_format({"num_format": "dd/mm/yyyy"})
    for i, value in enumerate(forms, start=1):
        sheet.write_row(i, 0, [f"U{i}", f"Xã {i}", "Xã"])
        if isinstance(value, dt.datetime):
            sheet.write_datetime(i, 3, value, date_format)
        elif isinstance(value, int):
            sheet.write_number(i, 3, value)
        else:
            sheet.write_string(i, 3, value)
    book.close()
    return _register(tmp) and path.parent


case(
    id="value_dates_in_several_forms",
    build=_units,
    table="units",
    rejects=[("not_a_date", 9, "valid_from")],
    check=lambda r: r.tables["units"]["valid_from"].eq(pd.Timestamp("2020-01-01")).sum() == 7,
)

# --------------------------------------------------------------------------
# Identity


def _folder(rows, **register):
    def build(tmp: Path) -> Path:
        _register(tmp, **register)
        write_csv(tmp / "bao_cao.csv", rows)
        return tmp

    return build


case(
    id="identity_duplicate_identical_rows",
    build=_folder([*ROWS, ROWS[2]]),
    accepted=4,
    rejects=[("duplicate_row", 6, "school_id, year")],
)
case(
    id="identity_duplicate_conflicting_rows",
    build=_folder([*ROWS, _rows(enrolment={2: "999"})[2]]),
    accepted=3,
    rejects=[("duplicate_conflict", 3, "school_id, year"), ("duplicate_conflict", 6, "")],
)
case(
    id="identity_one_id_two_names",
    build=_folder(_rows(school_name={3: "Trường Tiểu học Khác Hẳn"})),
    accepted=4,
    warnings=["named 'Trường Tiểu học Khác Hẳn' at", "bao_cao.csv row 4", "column school_name"],
)
case(
    id="identity_register_id_twice_with_two_names",
    build=lambda tmp: _register(
        tmp,
        ids=[*PANEL["school_id"], PANEL["school_id"][0]],
        names=[*PANEL["school_name"], "Trường Mầm non Trùng Mã"],
    ),
    table="schools",
    rejects=[("duplicate_conflict", 2, "school_id"), ("duplicate_conflict", 6, "school_id")],
)
case(
    id="identity_ids_with_spaces",
    build=_folder(
        _rows(school_id={1: " 19 164 001 ", 2: PANEL["school_id"][1] + " "}),
    ),
    accepted=4,
)


def _leading_zeros(tmp: Path) -> Path:
    ids = ["0" + i[1:] for i in PANEL["school_id"]]  # register ids that start with 0
    _register(tmp, ids=ids)
    rows = _rows(school_id={i + 1: ids[i] for i in range(4)})
    book = [[int(c) if j == 0 and i else c for j, c in enumerate(r)] for i, r in enumerate(rows)]
    write_xlsx(tmp / "bao_cao_so.xlsx", book)  # ids typed as numbers: the zero is gone
    return tmp


case(
    id="identity_lost_leading_zeros",
    build=_leading_zeros,
    accepted=4,
    warnings=["lost their leading zeros", "bao_cao_so.xlsx row 2", "column school_id"],
    check=lambda r: r.tables["panel"]["school_id"].str.startswith("0").all(),
)
case(
    id="identity_unknown_school",
    build=_folder(_rows(school_id={4: "19999999"})),
    accepted=3,
    rejects=[("unknown_school", 5, "school_id")],
)

# --------------------------------------------------------------------------
# Files


def _valid_xlsx(tmp: Path) -> bytes:
    return write_xlsx(tmp / "tmp_valid.xlsx", ROWS).read_bytes()


def _from_valid(name: str, cut: Callable[[bytes], bytes]):
    def build(tmp: Path) -> Path:
        data = cut(_valid_xlsx(tmp))
        (tmp / "tmp_valid.xlsx").unlink()
        path = tmp / name
        path.write_bytes(data)
        return path

    return build


def _corrupt_sheet(data: bytes) -> bytes:
    import io
    import zipfile

    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            body = src.read(info)
            if info.filename.startswith("xl/worksheets/sheet"):
                body = body[: len(body) // 2]  # XML cut in the middle
            dst.writestr(info, body)
    return out.getvalue()


case(id="file_empty", build=_bytes("rong.csv", b""), error=["rong.csv", "the file is empty"])
case(
    id="file_only_a_bom_and_blank_lines",
    build=_bytes("chi_bom.csv", b"\xef\xbb\xbf\r\n\r\n"),
    error=["chi_bom.csv", "the file is empty"],
)
case(
    id="file_header_only",
    build=lambda tmp: write_csv(tmp / "chi_tieu_de.csv", ROWS[:1]),
    accepted=0,
    warnings=["chi_tieu_de.csv: no data rows under the header (row 1)"],
)
case(
    id="file_csv_that_is_excel",
    build=_from_valid("that_ra_excel.csv", lambda d: d),
    error=["that_ra_excel.csv", "Excel workbook saved with a .csv name", "rename it to .xlsx"],
)
case(
    id="file_excel_that_is_csv",
    build=_bytes("that_ra_csv.xlsx", _csv_text(ROWS).encode()),
    error=["that_ra_csv.xlsx", "not an Excel workbook"],
)
case(
    id="file_password_protected",
    # an encrypted .xlsx is a Compound File whose directory names an EncryptedPackage
    build=_bytes("mat_khau.xlsx", OLE + b"\0" * 2000 + "EncryptedPackage".encode("utf-16-le")),
    error=["mat_khau.xlsx", "password-protected"],
)
case(
    id="file_truncated_xlsx",
    build=_from_valid("cat_ngang.xlsx", lambda d: d[: len(d) // 2]),
    error=["cat_ngang.xlsx", "cannot open the workbook", "a complete, unprotected .xlsx"],
)
case(
    id="file_corrupt_sheet_xml",
    build=_from_valid("hong_xml.xlsx", _corrupt_sheet),
    error=["hong_xml.xlsx [sheet Sheet1]", "the workbook is damaged after row", "save it again"],
)
case(
    id="file_truncated_csv_mid_row",
    build=_bytes("dut.csv", _cut_inside_last_row("security_backups")),
    accepted=3,
    rejects=[("not_yes_no", 5, "security_backups")],  # the last row, cut inside a cell
    check=lambda r: r.input_rows["panel"] == 4,
)
case(
    id="file_broken_xls",
    build=_bytes("hong.xls", OLE + b"\0" * 100),
    error=["hong.xls", "cannot open the .xls workbook", "save it again"],
)
case(
    id="file_nul_bytes",
    build=_bytes("nul.csv", _csv_text(ROWS).replace("Trường", "Trư\0ờng").encode()),
    accepted=4,
)
case(
    id="file_random_bytes",
    build=_bytes("rac.csv", bytes(range(256)) * 20),
    error=["rac.csv", "cannot decode the text", "UTF-8"],
)
case(
    id="file_second_sheet_unrecognised",
    build=lambda tmp: _two_sheets(tmp),
    accepted=4,
    warnings=["[sheet Ghi chu]: no known table header found; sheet skipped"],
)


def _two_sheets(tmp: Path) -> Path:
    import xlsxwriter

    path = tmp / "hai_sheet.xlsx"
    book = xlsxwriter.Workbook(str(path))
    data = book.add_worksheet("Bao cao")
    for r, values in enumerate(ROWS):
        data.write_row(r, 0, values)
    notes = book.add_worksheet("Ghi chu")
    notes.write_string(0, 0, "Hướng dẫn điền biểu mẫu")
    book.close()
    return path


def _mixed_encoding(tmp: Path) -> Path:
    """UTF-8 for over a megabyte, then a Windows-1258 line: the encoding changes mid-file."""
    lines = [HEAD]
    for i in range(15000):
        lines.append([f"{i:08d}", "2020-2021", "Trường", "300", "20"] + [""] * (len(HEAD) - 5))
    text = _csv_text(lines).encode("utf-8")
    tail = to_cp1258(_csv_text([["99999999", "2020-2021", "Trường", "300", "20"]]))
    path = tmp / "lan_ma.csv"
    path.write_bytes(text + tail)
    return path


case(
    id="file_encoding_changes_after_a_megabyte",
    build=_mixed_encoding,
    error=["lan_ma.csv", "cannot decode the text of row 15002", "utf-8"],
)


# --------------------------------------------------------------------------
# Files as offices and other software write them (each class: tests/unit/test_office_files.py)


def _pass_rate_as_shown(result) -> bool:
    """The pass rate, stored as percentage cells (0.971), read as shown (97.1)."""
    panel = result.tables["panel"]
    truth = panel.merge(PANEL, on="school_id")["exam_pass_rate_y"]
    return panel["exam_pass_rate"].round(6).tolist() == truth.round(6).tolist()


def _all_read_as_shown(result) -> bool:
    """Every row (enrolment as written) and the pass rate as shown."""
    _enrolment_is(TRUE_ENROLMENT)(result)  # asserts
    return _pass_rate_as_shown(result)


case(
    id="office_stale_sheet_dimension",
    build=lambda tmp: with_dimension(write_book(tmp / "mau_cu.xlsx", typed_rows(PANEL)), "A1:C3"),
    accepted=4,
    check=_enrolment_is(TRUE_ENROLMENT),
)
case(
    id="office_percentage_cells",
    build=lambda tmp: write_book(
        tmp / "phan_tram.xlsx",
        typed_rows(PANEL),
        {"exam_pass_rate": "0.0%"},
        {"exam_pass_rate": 0.01},
    ),
    accepted=4,
    check=_pass_rate_as_shown,
)
case(
    id="office_xls_percentage_cells_stale_dimension",
    build=lambda tmp: with_xls_dimension(
        write_xls(
            tmp / "csdl_nganh.xls",
            typed_rows(PANEL),
            {"exam_pass_rate": "0%"},
            {"exam_pass_rate": 0.01},
        ),
        1,
        2,
    ),
    accepted=4,
    check=_all_read_as_shown,
)
case(
    id="office_ods_libreoffice",
    build=lambda tmp: write_ods(
        tmp / "libreoffice.ods",
        typed_rows(PANEL),
        ("exam_pass_rate",),
        {"exam_pass_rate": 0.01},
        blank_rows_above=2,
    ),
    accepted=4,
    check=_all_read_as_shown,
)
case(
    id="office_xls_password_protected",
    build=lambda tmp: encrypted_xls(write_xls(tmp / "mat_khau.xls", typed_rows(PANEL))),
    error=["mat_khau.xls", "password-protected", "without a password"],
)
case(
    id="office_xls_that_is_a_web_page",
    build=_bytes("xuat_excel.xls", "<html><body><table><tr><td>Mã trường</td></tr>".encode()),
    error=["xuat_excel.xls", "a web page (HTML)", "save it as .xlsx"],
)
case(
    id="office_decimal_point_leading_zero",
    build=lambda tmp: write_csv(tmp / "diem.csv", _rows(mean_test_score={1: "0.512", 2: "0.25"})),
    accepted=4,
    check=lambda r: 0.512 in set(r.tables["panel"]["mean_test_score"].round(3)),
)
case(
    id="office_ambiguous_decimal",
    build=lambda tmp: write_csv(
        tmp / "mo_ho.csv",
        text_rows(PANEL, lambda n, v: str(round(v)) if n != "bandwidth_mbps" else "1.250"),
    ),
    accepted=0,
    rejects=[("ambiguous_decimal", row, "bandwidth_mbps") for row in range(2, 6)],
)
case(
    id="office_yes_no_not_yet",
    build=lambda tmp: write_csv(tmp / "chua_co.csv", _rows(lms_in_use={1: "Chưa có"})),
    accepted=4,
    # read as No (False), not as a blank
    check=lambda r: (
        r.tables["panel"]["lms_in_use"].notna().all()
        and not r.tables["panel"].set_index("school_id").loc[PANEL["school_id"][0], "lms_in_use"]
    ),
)
case(
    id="office_school_rejected_in_register",
    build=lambda tmp: (
        _register(
            tmp,
            ids=[*PANEL["school_id"], PANEL["school_id"][0]],
            names=[*PANEL["school_name"], "Trường Mầm non Trùng Mã"],
        )
        and write_csv(tmp / "bao_cao.csv", ROWS).parent
    ),
    accepted=3,
    rejects=[("rejected_school", 2, "school_id")],
    check=lambda r: (
        r.rejects.query("rule == 'rejected_school'")["message"]
        .str.contains("conflicting rows in")
        .all()
    ),
)

# --------------------------------------------------------------------------
# The tests


def test_corpus_is_large_enough():
    assert len(CASES) >= 40, len(CASES)
    assert len({c.id for c in CASES}) == len(CASES)


@pytest.mark.parametrize("c", CASES, ids=[c.id for c in CASES])
def test_case(c: Case, tmp_path):
    target = c.build(tmp_path)
    if c.error is not None:
        with pytest.raises(ingest.IngestError) as err:
            ingest.ingest(target, write=False)
        message = str(err.value)
        for fragment in c.error:
            assert fragment in message, f"{fragment!r} not in:\n{message}"
        return
    result = ingest.ingest(target, write=False)
    assert result.accounting_holds()
    for table in ingest.TABLE_ORDER:
        assert result.input_rows.get(table, 0) == result.accepted_rows(
            table
        ) + result.rejected_rows(table)
    if c.accepted is not None:
        assert result.accepted_rows(c.table) == c.accepted, result.rejects.to_string()
    rejects = result.rejects
    for rule, row, column in c.rejects:
        hit = rejects[(rejects["rule"] == rule) & (rejects["row"] == row)]
        assert len(hit), f"no {rule} at row {row}:\n{rejects.to_string()}"
        if column:
            assert column in set(hit["column"]), hit.to_string()
        assert hit["file"].str.len().gt(0).all()
    expected_rules = {rule for rule, _, _ in c.rejects}
    assert set(rejects[rejects["table"] == c.table]["rule"]) <= expected_rules | {"note_row"} or (
        not c.rejects and rejects.empty
    ), rejects.to_string()
    for fragment in c.warnings:
        assert any(fragment in w for w in result.warnings), (fragment, result.warnings)
    if c.check is not None:
        outcome = c.check(result)
        assert outcome is not None, f"{c.id}: a check returns its verdict"
        assert bool(outcome), c.id


def test_large_file_is_streamed_not_loaded(tmp_path):
    """Beyond one chunk of rows: read lazily (head + a stream) and every row accounted for."""
    n = ingest.CHUNK_ROWS + 5_000
    path = tmp_path / "lon.csv"
    with open(path, "w", encoding="utf-8", newline="") as handle:
        handle.write("Mã trường,Năm học,Số học sinh,Số giáo viên\r\n")
        for i in range(n):
            teachers = "-1" if i % 10_000 == 0 else "20"
            handle.write(f"{i:08d},2024-2025,{300 + i % 50},{teachers}\r\n")
    with ingest.open_sheets(path) as sheets:
        (sheet,) = sheets
        assert len(sheet.head) == ingest.HEAD_ROWS
        assert not isinstance(sheet.rest, list)  # a stream, consumed once
    result = ingest.ingest(path, write=False)
    bad = len(range(0, n, 10_000))
    assert result.input_rows["panel"] == n
    assert result.accepted_rows("panel") == n - bad
    assert set(result.rejects["rule"]) == {"out_of_range"}
    assert result.rejects["row"].max() == 2 + 10_000 * (bad - 1)


ERROR_CASES = [c for c in CASES if c.error is not None]


@pytest.mark.slow
def test_errors_reach_the_command_line_without_a_traceback(tmp_path):
    for c in ERROR_CASES:
        folder = tmp_path / c.id
        folder.mkdir()
        target = c.build(folder)
        done = subprocess.run(
            [sys.executable, "-m", "analysis", "ingest", str(target), "--check"],
            capture_output=True,
            text=True,
            timeout=120,
            cwd=str(Path(__file__).resolve().parents[2]),
        )
        assert done.returncode == 2, (c.id, done.stdout, done.stderr)
        assert "Traceback" not in done.stderr + done.stdout, (c.id, done.stderr)
        assert c.error[0] in done.stderr, (c.id, done.stderr)
