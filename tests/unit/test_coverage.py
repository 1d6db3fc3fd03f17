"""Coverage after ingest: what the columns found can compute, and what to do when not."""

from __future__ import annotations

from analysis.data import ingest
from analysis.measures import coverage
from tests.helpers import sample_panel, write_csv
from tests.office_files import SPECS, text_rows

TRUTH = sample_panel(6)


def _without(tmp_path, column: str, header: str | None = None):
    """The sample report with ``column`` dropped, or its header replaced by ``header``."""
    rows = text_rows(TRUTH)
    at = list(SPECS).index(column)
    for row in rows:
        if header is None:
            del row[at]
    if header is not None:
        rows[0][at] = header
    write_csv(tmp_path / "bao_cao.csv", rows)
    return ingest.ingest(tmp_path / "bao_cao.csv", write=False)


def test_everything_is_computable_from_the_full_template(tmp_path):
    write_csv(tmp_path / "bao_cao.csv", text_rows(TRUTH))
    table = coverage.coverage(ingest.ingest(tmp_path, write=False), "thai_nguyen_synthetic")
    assert set(table["kind"]) == {"indicator", "criterion", "role"}
    # the controls area, level and minority share come from the school register, absent here
    stopped = table[~table["computable"]].set_index("id")
    assert set(stopped.index) == {"area_type", "school_level", "ethnic_minority_share"}
    assert set(stopped["missing_in"]) == {"no school register"}
    register = [
        ["Mã trường", "Tên trường", "Cấp học", "Khu vực", "Tỷ lệ học sinh dân tộc thiểu số (%)"]
    ]
    names = zip(TRUTH["school_id"], TRUTH["school_name"], strict=True)
    register += [[i, n, "Tiểu học", "Nông thôn", "12"] for i, n in names]
    write_csv(tmp_path / "danh_muc_truong.csv", register)
    table = coverage.coverage(ingest.ingest(tmp_path, write=False), "thai_nguyen_synthetic")
    assert table["computable"].all(), table[~table["computable"]].to_string()


def test_a_missing_column_names_what_it_stops_and_where(tmp_path):
    table = coverage.coverage(_without(tmp_path, "e_lessons"), "thai_nguyen_synthetic")
    stopped = table[~table["computable"] & ~table["missing_in"].eq("no school register")]
    stopped = stopped.set_index("id")
    assert set(stopped.index) == {"e_lessons_per_teacher", "use"}  # the indicator, the role
    assert stopped.loc["use", "kind"] == "role"
    assert stopped.loc["e_lessons_per_teacher", "missing"] == "e_lessons"
    assert stopped.loc["e_lessons_per_teacher", "missing_headers"] == "Số bài giảng điện tử"
    assert stopped.loc["e_lessons_per_teacher", "missing_in"].endswith("bao_cao.csv")
    assert stopped.loc["e_lessons_per_teacher", "suggestion"] == ""  # nothing looks like it


def test_an_office_header_is_suggested_for_the_column_it_looks_like(tmp_path):
    own = "Lũy kế số GV đã qua bồi dưỡng về CĐS"
    result = _without(tmp_path, "teachers_trained_cds", header=own)
    table = coverage.coverage(result).set_index("id")
    assert not table.loc["teachers_trained_cds", "computable"]
    advice = table.loc["teachers_trained_cds", "suggestion"]
    assert repr(own) in advice and "looks like teachers_trained_cds" in advice
    assert "config/columns.yml" in advice
    unknown = coverage.unknown_columns(result).set_index("header")
    assert "looks like teachers_trained_cds" in unknown.loc[own, "suggestion"]


def test_an_unrelated_header_gets_no_suggestion_and_a_blank_column_is_not_computable(tmp_path):
    rows = text_rows(TRUTH)
    at = list(SPECS).index("e_lessons")
    for row in rows[1:]:
        row[at] = ""  # the header is there, the values are not
    rows[0].append("Ghi chú")
    write_csv(tmp_path / "bao_cao.csv", rows)
    result = ingest.ingest(tmp_path, write=False)
    table = coverage.coverage(result).set_index("id")
    assert not table.loc["e_lessons_per_teacher", "computable"]
    assert table.loc["e_lessons_per_teacher", "missing_in"] == ""  # a header, no values
    unknown = coverage.unknown_columns(result)
    assert unknown["header"].tolist() == ["Ghi chú"] and unknown["suggestion"].tolist() == [""]
