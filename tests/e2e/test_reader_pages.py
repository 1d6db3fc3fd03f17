"""The reader check (tests/readercheck.py) over every page of the default plan a policy
reader receives, in Vietnamese: the front page and each report without code.

The English pages are checked on the English plan of tests/unit/test_i18n.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from analysis.runner import render
from tests import readercheck

pytestmark = pytest.mark.xdist_group("default_run")


def test_vietnamese_reader_pages_pass_the_reader_check(default_run):
    folder, done = default_run
    assert done.returncode == 0, done.stderr[-3000:]
    manifest = render.load_manifest(folder)
    found = readercheck.problems(folder / "index.html", "vi")
    checked = 1
    for run in manifest["runs"]:
        if run.get("internal") or run["status"] == "failed" or not run.get("output"):
            continue
        page = folder / "html" / f"{Path(run['output']).stem}.report.html"
        found += readercheck.problems(page, "vi", run.get("tables"))
        checked += 1
    shared = [r for r in manifest["runs"] if not r.get("internal")]
    assert checked == 1 + len(shared) and not found, "\n".join(found)


@pytest.mark.parametrize(
    ("lang", "text", "expected"),
    [
        ("vi", "Tỷ lệ 98.2% và ngưỡng 3.0; năm 2.022", ["98.2", "3.0", "2.022"]),
        ("vi", "1.234 học sinh, 98,2%, mã 19164023, phiên bản 0.1.0+abc", []),
        ("en", "share 98,2% and 2,022", ["98,2", "2,022"]),
        ("en", "1,234 pupils, 98.2%", []),
    ],
)
def test_the_number_check_knows_each_style(lang, text, expected):
    page = readercheck.VERSION.sub("", text)
    assert readercheck._examples(readercheck.WRONG_NUMBER[lang], page) == expected


def test_the_check_finds_each_planted_fault(tmp_path):
    """A page planted with one of each fault: every one is named."""
    page = tmp_path / "planted.report.html"
    page.write_text(
        "<html><body><p>Giá trị teachers_trained_cds theo C(area_type)[T.rural] and value"
        " 0.094</p><table><tbody>" + "<tr><td>x</td></tr>" * 15 + "</tbody></table>"
        '<div class="output_stderr">UserWarning: /usr/lib/python3/site-packages/x.py</div>'
        "</body></html>",
        encoding="utf-8",
    )
    tables = [{"name": "rejects", "kind": "table", "rows": 31},
              {"name": "trend", "kind": "data", "rows": 0}]  # fmt: skip
    found = "\n".join(readercheck.problems(page, "vi", tables))
    faults = ("code name ['teachers_trained_cds'", "formula", "English words", "0.094",
              "server path", "error output", "rejects of 31 rows cut", "empty chart")  # fmt: skip
    for what in faults:
        assert what in found, (what, found)
