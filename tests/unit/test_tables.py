"""A long table on a reader page: its head with "15 of 31", every row in the recorded data."""

from __future__ import annotations

import re
from unittest import mock

import pandas as pd

from analysis.report import record, tables


def _recorded(frame: pd.DataFrame, **kwargs) -> dict:
    shown = []
    with mock.patch.object(record, "_display", shown.append):
        record.table("long", frame, **kwargs)
    (bundle,) = shown
    return bundle


def test_a_cut_table_says_how_many_of_how_many_and_keeps_every_row():
    frame = pd.DataFrame({"school_year": range(2000, 2031), "value": range(31)})
    bundle = _recorded(frame, lang="vi", show=15)
    payload = bundle[record.TABLE_MIME]
    assert len(record.frame_of(payload)) == 31  # the CSV and the privacy rules see all
    page = bundle["text/html"]
    assert len(re.findall(r"<tr", page)) == 1 + 15  # the header and 15 rows
    assert "Hiện 15 trong 31 dòng" in page
    english = tables.render_table(record.frame_of(payload), payload, lang="en")
    assert "Showing 15 of 31 rows" in english


def test_a_table_no_longer_than_its_limit_has_no_note():
    frame = pd.DataFrame({"value": range(15)})
    page = _recorded(frame, lang="en", show=15)["text/html"]
    assert len(re.findall(r"<tr", page)) == 1 + 15 and "Showing" not in page
    page = _recorded(frame, lang="en")["text/html"]  # no limit: every row
    assert len(re.findall(r"<tr", page)) == 1 + 15


def test_the_reader_sees_names_not_codes_and_one_language():
    rules = pd.DataFrame(
        {
            "school_id": ["S1"],
            "rule": ["trained_le_teachers"],
            "left": ["teachers_trained_cds"],
            "op": ["<="],
            "right": ["teachers"],
            "left_value": [14],
            "right_value": [11],
            "message_vi": ["Giáo viên đã bồi dưỡng CĐS không vượt quá số giáo viên"],
            "message_en": ["Teachers trained in CĐS cannot exceed teachers"],
        }
    )
    vi = tables.reader_view(rules, "vi")
    assert list(vi.columns) == ["school_id", "left_value", "right_value", "message"]
    assert vi.loc[0, "message"].startswith("Giáo viên")
    en = tables.reader_view(rules, "en")
    assert en.loc[0, "message"].startswith("Teachers trained")
    rejects = pd.DataFrame(
        {"rule": ["duplicate_row", "out_of_range"], "column": ["school_id, year", "enrolment"]}
    )
    shown = tables.reader_view(rejects, "vi")
    assert list(shown["rule"]) == ["Dòng trùng lặp", "Giá trị ngoài khoảng cho phép"]
    assert list(shown["column"]) == ["Mã trường, Năm học (năm kết thúc)", "Số học sinh"]
    flags = pd.DataFrame({"indicator": ["learners_per_computer"], "value": [30.0]})
    named = tables.reader_view(flags, "en")
    assert list(named.columns) == ["name", "value"]
    assert named.loc[0, "name"] == "Learners per computer for teaching"
    both = pd.DataFrame({"indicator": ["x"], "name": ["Tên"], "value": [1]})
    assert list(tables.reader_view(both, "vi").columns) == ["name", "value"]
    assert list(rules.columns)[1] == "rule"  # the recorded table (its CSV) keeps its codes
