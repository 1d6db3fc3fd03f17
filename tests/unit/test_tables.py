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
