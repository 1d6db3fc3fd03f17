"""Fatal problems stop ingest with a message naming the file and column; no traceback."""

from __future__ import annotations

import subprocess
import sys

import pytest

from analysis.data import ingest, schema
from tests.helpers import panel_rows, sample_panel, write_csv, write_xlsx


def _cli(*args: str, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "analysis", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={
            "COLUMNS": "200",
            "PATH": "/usr/bin:/bin",
            "WORKBENCH_HOME": str(schema.paths.project_root()),
        },
        timeout=120,
    )


@pytest.fixture(scope="module")
def rows():
    return panel_rows(sample_panel(4))


def test_missing_required_column_names_file_and_column(rows, tmp_path):
    col = list(schema.contract("panel")).index("enrolment")
    cut = [line[:col] + line[col + 1 :] for line in rows]
    path = write_xlsx(tmp_path / "thieu_cot.xlsx", cut)
    with pytest.raises(ingest.IngestError) as err:
        ingest.ingest(path, write=False)
    message = str(err.value)
    assert "thieu_cot.xlsx" in message
    assert "Số học sinh (enrolment)" in message
    assert "expected:" in message and "Số giáo viên (teachers)" in message
    assert "found:" in message


def test_cli_exit_status_and_no_traceback(rows, tmp_path):
    col = list(schema.contract("panel")).index("teachers")
    cut = [line[:col] + line[col + 1 :] for line in rows]
    path = write_csv(tmp_path / "thieu_cot.csv", cut)
    done = _cli("ingest", str(path), "--out", str(tmp_path / "out"))
    assert done.returncode == 2
    assert "Traceback" not in done.stderr + done.stdout
    assert "thieu_cot.csv" in done.stderr
    assert "Số giáo viên (teachers)" in done.stderr
    assert not (tmp_path / "out").exists()


OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # a Compound File: .xls, or an encrypted .xlsx


@pytest.mark.parametrize(
    ("name", "content", "fragment"),
    [
        ("hong.xlsx", b"PK\x03\x04 this is not really a zip", "cannot open the workbook"),
        (
            "bao_mat.xlsx",
            OLE + b"\0" * 100 + "EncryptedPackage".encode("utf-16-le"),
            "password-protected",
        ),
        ("text.xlsx", "Mã trường,Năm học\n".encode(), "not an Excel workbook"),
        ("excel.csv", b"PK\x03\x04" + b"\0" * 50, "Excel workbook saved with a .csv name"),
        ("hong.xls", OLE + b"\0" * 100, "cannot open the .xls workbook"),
        ("cut.xls", b"\xd0\xcf\x11\xe0", "not an Excel workbook"),
        ("trong.csv", b"", "the file is empty"),
        ("rac.csv", "một,hai,ba\n1,2,3\n".encode(), "no sheet has a recognisable header row"),
    ],
)
def test_unreadable_files(name, content, fragment, tmp_path):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(ingest.IngestError) as err:
        ingest.ingest(path, write=False)
    assert name in str(err.value)
    assert fragment in str(err.value)
    done = _cli("ingest", str(path), "--check")
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert fragment in done.stderr


def test_missing_path_and_empty_folder(tmp_path):
    with pytest.raises(ingest.IngestError, match="no such file or folder"):
        ingest.ingest(tmp_path / "khong_co", write=False)
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "notes.txt.bak").write_text("x")
    with pytest.raises(ingest.IngestError, match="no data files"):
        ingest.ingest(tmp_path / "empty", write=False)


def test_duplicated_header_is_fatal(rows, tmp_path):
    twice = [[*line, line[4]] for line in rows]
    twice[0][-1] = "Tổng số học sinh"
    with pytest.raises(ingest.IngestError) as err:
        ingest.ingest(write_csv(tmp_path / "hai_cot.csv", twice), write=False)
    assert "two columns mean the same thing" in str(err.value)
    assert "enrolment" in str(err.value)


def test_school_year_nowhere_is_fatal(rows, tmp_path):
    cut = [line[:1] + line[2:] for line in rows]
    with pytest.raises(ingest.IngestError, match="school year"):
        ingest.ingest(write_csv(tmp_path / "bao_cao.csv", cut), write=False)


def test_cli_help_and_version():
    done = _cli("--help")
    assert done.returncode == 0 and "generate" in done.stdout and "ingest" in done.stdout
    done = _cli("version")
    assert done.returncode == 0 and done.stdout.strip() == __import__("analysis").__version__


@pytest.mark.parametrize(
    ("flag", "what"),
    [(0x20, "compressed patched data"), (0x1, "an encrypted member")],
    ids=["patched", "encrypted"],
)
def test_a_workbook_whose_zip_claims_an_unsupported_feature(rows, tmp_path, flag, what):
    """zipfile raises NotImplementedError or RuntimeError for these (found by the fuzz test)."""
    good = write_xlsx(tmp_path / "good.xlsx", rows).read_bytes()
    # set the flag in the central directory entry of xl/workbook.xml (zipfile's writer
    # would reset it, so the bytes are patched: flags at offset 8, name at 46)
    name = b"xl/workbook.xml"
    at = good.index(b"PK\x01\x02")
    while good[at + 46 : at + 46 + len(name)] != name:
        at = good.index(b"PK\x01\x02", at + 4)
    flags = int.from_bytes(good[at + 8 : at + 10], "little") | flag
    bad = tmp_path / "hong_nen.xlsx"
    bad.write_bytes(good[: at + 8] + flags.to_bytes(2, "little") + good[at + 10 :])
    with pytest.raises(ingest.IngestError) as err:
        ingest.ingest(bad, write=False)
    assert "hong_nen.xlsx" in str(err.value) and "cannot open the workbook" in str(err.value)
