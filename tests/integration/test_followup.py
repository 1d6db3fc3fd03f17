"""The follow-up register round trip (issue 19): flag → decision in the workbook → the next
run applies it → the flag shows resolved; raw files and processed tables unchanged."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import openpyxl
import papermill as pm
import pytest
from typer.testing import CliRunner

import analysis
from analysis.cli import app
from analysis.data import datasets, followup
from analysis.data.ingest.errors import IngestError
from analysis.measures import quality

ROOT = Path(__file__).resolve().parents[2]


def _digest(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _fill(path: Path, decisions: dict[str, tuple]) -> None:
    """Type decisions into the workbook as an analyst does in Excel: id → (decision, value)."""
    book = openpyxl.load_workbook(path)
    sheet = book.worksheets[0]
    headers = [c.value for c in sheet[1]]
    col = {h: k + 1 for k, h in enumerate(headers)}
    for r in range(2, sheet.max_row + 1):
        flag = sheet.cell(row=r, column=col["Mã cờ"]).value
        if flag in decisions:
            decision, value = decisions[flag]
            sheet.cell(row=r, column=col["Quyết định"]).value = decision
            sheet.cell(row=r, column=col["Giá trị đúng"]).value = value
            sheet.cell(row=r, column=col["Ghi chú"]).value = "Đã gọi điện cho nhà trường"
            sheet.cell(row=r, column=col["Ngày quyết định"]).value = "02/12/2026"
    book.save(path)


@pytest.fixture(scope="module")
def province(realistic_ingested):
    return realistic_ingested


def _run(notebook: str, processed: Path, register: Path, out: Path) -> str:
    """Execute a notebook as the runner does (English page); its visible text."""
    pm.execute_notebook(
        str(ROOT / "notebooks" / notebook),
        str(out),
        parameters={"lang": "en", "processed": str(processed), "register": str(register)}
        if notebook.startswith("07")
        else {"lang": "en", "processed": str(processed)},
        kernel_name=analysis.KERNEL_NAME,
        cwd=str(ROOT),
        progress_bar=False,
        execution_timeout=600,
    )
    cells = json.loads(out.read_text(encoding="utf-8"))["cells"]
    return json.dumps(cells, ensure_ascii=False)


@pytest.mark.slow
def test_the_register_round_trip(province, realistic_province, tmp_path, monkeypatch):
    truth, _, processed = province
    raw = realistic_province[1]
    before_raw = _digest(raw)
    register = tmp_path / "data" / "followup.xlsx"
    before_processed = _digest(processed)
    runner = CliRunner()
    done = runner.invoke(
        app, ["followup", "--processed", str(processed), "--register", str(register)]
    )
    assert done.exit_code == 0, done.output
    assert "12 flags: 12 open" in done.output.replace("\n", " ")
    first = followup.read_register(register)
    assert len(first) == 12 and set(first["decision"].dropna()) == set()
    headers = [c.value for c in openpyxl.load_workbook(register).worksheets[0][1]]
    assert headers[:4] == ["Mã cờ", "Tình trạng", "Huyện", "Mã trường"]

    planted = {(o["school_id"], o["year"], o["column"]): o["original"]
               for o in truth.truth["realism"]["outliers"]}  # fmt: skip
    ids = first["flag_id"].tolist()
    corrected, excluded, confirmed, asked = ids[:4]
    row = first.set_index("flag_id").loc[corrected]
    original = planted[(row["school_id"], int(row["year"]), row["column"])]
    typed = f"{original:.1f}".replace(".", ",")  # the Vietnamese way, as typed in Excel
    decisions = {
        corrected: ("Sửa thành giá trị", typed),
        excluded: ("Loại bỏ", None),
        confirmed: ("Xác nhận đúng", None),
        asked: ("Hỏi lại trường", None),
    }
    _fill(register, decisions)

    data = datasets.load("thai_nguyen_synthetic", processed=processed, followup_register=register)
    plain = datasets.load("thai_nguyen_synthetic", processed=processed, followup_register=False)
    log = data.corrections
    assert log["applied"].all() and len(log) == 4
    assert set(log["decision"]) == {"corrected", "excluded", "confirmed", "ask"}
    at = (data.data["school_id"] == row["school_id"]) & (data.data["year"] == row["year"])
    assert data.data.loc[at, row["column"]].item() == pytest.approx(original)
    assert plain.data.loc[at, row["column"]].item() == pytest.approx(row["value"])
    ex = first.set_index("flag_id").loc[excluded]
    at = (data.data["school_id"] == ex["school_id"]) & (data.data["year"] == ex["year"])
    assert np.isnan(data.data.loc[at, ex["column"]].item())
    done = runner.invoke(
        app, ["followup", "--processed", str(processed), "--register", str(register)]
    )
    assert done.exit_code == 0, done.output
    second = followup.read_register(register).set_index("flag_id")
    states = {flag: followup.state(second.at[flag, "decision"]) for flag in second.index}
    assert states[corrected] == states[excluded] == states[confirmed] == "resolved"
    assert states[asked] == "waiting"
    assert sum(s == "open" for s in states.values()) == 8
    assert second.at[confirmed, "comment"] == "Đã gọi điện cho nhà trường"  # carried over
    assert str(second.at[confirmed, "decided_on"]) == "2026-12-02"
    # flags raised again on the corrected tables: not the corrected nor the excluded value
    again = set(quality.flags(data)["flag_id"])
    assert corrected not in again and excluded not in again and confirmed in again
    # the next run: the inspection page shows open against resolved, the indicators say
    # how many values were corrected or excluded (02 finds the register where runs do)
    text = _run("07_inspection.ipynb", processed, register, tmp_path / "inspection.ipynb")
    assert "Traceback" not in text
    assert "12 values to check in 2,931 school-year reports: 8 open, 1 waiting" in text
    assert "for the school, 3 resolved" in text
    assert "4 decisions recorded, 4 applied in this run (1 corrected, 1 excluded" in text
    assert "1 confirmed, 1 asked)" in text
    monkeypatch.setenv("WORKBENCH_FOLLOWUP", str(register))
    text = _run("02_indicators.ipynb", processed, register, tmp_path / "indicators.ipynb")
    assert "1 values were corrected and 1 excluded before the indicators were computed" in text
    assert _digest(processed) == before_processed
    assert _digest(raw) == before_raw


def _register_with(tmp_path: Path, province, edit) -> Path:
    _, _, processed = province
    register = tmp_path / "followup.xlsx"
    data = datasets.load("thai_nguyen_synthetic", processed=processed, followup_register=False)
    followup.update_register(quality.flags(data), register)
    book = openpyxl.load_workbook(register)
    edit(book.worksheets[0])
    book.save(register)
    return register


@pytest.mark.parametrize(
    ("column", "cell", "message"),
    [
        (1, "Q-0000000000", "unknown flag Q-0000000000"),
        (1, "ABC", "'ABC' is not a flag id"),
        (12, "Đồng ý", "'Đồng ý' is not a decision"),
        (13, "khoảng 50", "'khoảng 50' is not a number"),
        (15, "hôm qua", "'hôm qua' is not a date"),
    ],
)
def test_bad_entries_name_the_file_row_and_column(province, tmp_path, column, cell, message):
    def edit(sheet):
        if column == 13:
            sheet.cell(row=3, column=12).value = "Sửa thành giá trị"
        sheet.cell(row=3, column=column).value = cell

    register = _register_with(tmp_path, province, edit)
    with pytest.raises(IngestError) as caught:
        followup.read_register(register)
    text = str(caught.value)
    assert str(register) in text and "row 3" in text and message in text
    header = openpyxl.load_workbook(register).worksheets[0].cell(row=1, column=column).value
    assert f"column: {header}" in text


def test_a_correction_without_a_value_is_refused(province, tmp_path):
    register = _register_with(
        tmp_path,
        province,
        lambda s: setattr(s.cell(row=2, column=12), "value", "Sửa thành giá trị"),
    )
    with pytest.raises(IngestError, match="a correction without a value"):
        followup.read_register(register)


def test_a_decision_on_a_value_the_school_has_since_changed_is_not_applied(province, tmp_path):
    _, _, processed = province
    register = _register_with(
        tmp_path, province, lambda s: setattr(s.cell(row=2, column=12), "value", "Loại bỏ")
    )
    entry = followup.read_register(register).iloc[0]
    data = datasets.load("thai_nguyen_synthetic", processed=processed, followup_register=False)
    frame = data.data.copy()
    at = (frame["school_id"] == entry["school_id"]) & (frame["year"] == entry["year"])
    frame.loc[at, entry["column"]] = entry["value"] + 1  # the school re-sent its report
    out, log = followup.apply(frame, followup.read_register(register))
    assert not log["applied"].iloc[0] and "changed" in log["note"].iloc[0]
    assert out.loc[at, entry["column"]].item() == entry["value"] + 1
