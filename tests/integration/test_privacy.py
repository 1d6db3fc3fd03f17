"""Privacy for anything shared: small cells suppressed, personal columns never shared.

Three layers:

* the rules and the scanner on planted tables (a pupil_name column, a cell with
  3 pupils): the scanner fails on the raw table and passes on the applied one;
* a tiny plan whose notebook records planted tables through ``record.table`` /
  ``record.data`` (and shows one raw): the planted names and small cells are gone
  from the pages without code, the CSVs and the bundle, and present in the
  internal outputs (executed notebook, page with code) by design; internal runs
  are marked and left out of the bundle;
* every shared output of the default plan (the session's ``default_run``): pages
  without code, data CSVs, figures.csv, the KPI workbook and the share bundle.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat as nbf
import pandas as pd
import pytest
import yaml

from analysis import runner
from analysis.core import i18n
from analysis.report import privacy, record, tables
from analysis.runner import executors, render, share
from analysis.runner.layout import internal_dir
from tests.conftest import built_once

# with pytest-xdist, every test of the default plan's run goes to one worker (built once)
pytestmark = pytest.mark.xdist_group("default_run")

ROOT = Path(__file__).resolve().parents[2]
NAMES = ["Nguyễn Văn An", "Trần Thị Bình", "Lê Văn Cường"]
SMALL = 3  # pupils behind the planted small cell


def planted() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "school_name": ["Trường A", "Trường B", "Trường C"],
            "pupil_name": NAMES,
            "pupils": [SMALL, 120, 45],
            "mean_score": [6.25, 5.5, 7.0],
        }
    )


# --------------------------------------------------------------------------
# The rules and the scanner


def test_rules_load_with_both_languages():
    rules = privacy.load_rules()
    assert rules.k >= 2
    for name, labels in rules.personal.items():
        assert labels, name
    raw = yaml.safe_load((ROOT / "config" / "privacy.yml").read_text(encoding="utf-8"))
    for name, labels in raw["personal"].items():
        assert set(labels) == set(i18n.LANGUAGES), name
    for key in ("marker", "footnote", "personal_removed", "data_link", "internal_banner"):
        for lang in i18n.LANGUAGES:
            assert i18n.label("privacy", key, lang).strip()


@pytest.mark.parametrize(
    "header",
    [
        "pupil_name",
        "Pupil name",
        "Họ và tên học sinh",
        "ho va ten hoc sinh",
        "HỌ TÊN GIÁO VIÊN",
        "teacher_id",
        "Ngày sinh",
        "Số điện thoại",
        "email",
        "Số CCCD",
        "Mã học sinh",
    ],
)
def test_personal_columns_by_name_and_label(header):
    assert privacy.load_rules().is_personal(header)


@pytest.mark.parametrize(
    "header", ["Tên trường", "school_name", "Số học sinh", "unit_name", "Huyện"]
)
def test_other_columns_are_not_personal(header):
    assert not privacy.load_rules().is_personal(header)


def test_scanner_fails_on_planted_data_and_passes_once_applied():
    raw = planted()
    problems = privacy.scan(raw, where="planted")
    assert any("personal column 'pupil_name'" in p for p in problems), problems
    assert any(f"a count of {SMALL} persons" in p for p in problems), problems
    shared = privacy.apply(raw, lang="vi")
    assert privacy.scan(shared.frame) == []
    frame = shared.frame
    assert "pupil_name" not in frame.columns and shared.removed_columns == ["pupil_name"]
    mark = privacy.marker("vi")
    assert frame.loc[0, "pupils"] == mark and frame.loc[0, "mean_score"] == mark
    assert frame.loc[0, "school_name"] == "Trường A"  # descriptive: stays
    assert frame.loc[1, "pupils"] == 120 and frame.loc[1, "mean_score"] == 5.5
    assert shared.suppressed_cells == 2 and shared.suppressed_rows == 1
    notes = shared.notes("en")
    assert len(notes) == 2 and privacy.marker("en") in notes[0] and "pupil_name" in notes[1]


def test_scanner_fails_on_a_value_left_beside_a_hidden_count():
    frame = privacy.apply(planted()).frame
    frame.loc[0, "mean_score"] = 6.25  # a derived value put back in a suppressed row
    problems = privacy.scan(frame)
    assert len(problems) == 1 and "mean_score" in problems[0], problems


def test_counts_named_by_the_notebook_and_zero_is_not_small():
    frame = pd.DataFrame({"bin": [1, 2, 3], "treated": [0, 2, 9], "share": [0.0, 0.1, 0.9]})
    assert privacy.scan(frame) == []  # no declared person count: nothing to judge
    shared = privacy.apply(frame, counts=["treated"])
    assert list(shared.frame["treated"]) == [0, privacy.marker(), 9]
    assert shared.frame.loc[1, "share"] == privacy.marker()
    assert shared.frame.loc[1, "bin"] == privacy.marker()  # not declared descriptive


def _indicator_rows() -> pd.DataFrame:
    """Districts of one level: teachers trained (persons) and schools with internet."""
    rows = []
    for unit, trained, teachers, schools_net in [
        ("164", 3, 40, 2),
        ("165", 30, 60, 3),
        ("167", 12, 50, 4),
        ("168", 25, 30, 1),
    ]:
        rows.append(
            {
                "indicator": "teachers_trained_cds",
                "level": "analysis_district",
                "unit_id": unit,
                "year": 2025,
                "numerator": trained,
                "denominator": teachers,
                "value": 100 * trained / teachers,
                "status": "behind",
            }
        )
        rows.append(
            {
                "indicator": "schools_with_internet",
                "level": "analysis_district",
                "unit_id": unit,
                "year": 2025,
                "numerator": schools_net,
                "denominator": 5,
                "value": 100 * schools_net / 5,
                "status": "met",
            }
        )
    return pd.DataFrame(rows)


def test_indicator_rows_and_complementary_suppression():
    table = _indicator_rows()
    assert len(privacy.scan(table)) == 1  # 3 trained teachers in 164
    shared = privacy.apply(table)
    frame, mark = shared.frame, privacy.marker()
    trained = frame[frame["indicator"] == "teachers_trained_cds"].set_index("unit_id")
    # 164: 3 of 40 hidden with its share; 40 teachers stay (they do not give 3 back)
    assert trained.loc["164", "numerator"] == mark and trained.loc["164", "value"] == mark
    assert trained.loc["164", "denominator"] == 40
    # complementary: the district with the next smallest hidden count (167: 12 trained)
    # too, or 3 = province total − the other districts
    assert trained.loc["167", "numerator"] == mark and trained.loc["167", "value"] == mark
    assert trained.loc["165", "numerator"] == 30 and trained.loc["168", "numerator"] == 25
    # schools are not persons: 1 school with internet is published
    internet = frame[frame["indicator"] == "schools_with_internet"]
    assert (internet["numerator"] != mark).all() and (internet["value"] != mark).all()
    assert privacy.scan(frame) == []
    # the same table localised (as in a CSV or a report) is recognised by its labels

    assert privacy.scan(tables.localise(table, "vi"))
    assert privacy.scan(tables.localise(frame, "en")) == []


def test_change_of_the_year_after_a_hidden_row_is_hidden():
    rows = pd.DataFrame(
        {
            "indicator": "teachers_trained_cds",
            "level": "school",
            "unit_id": "19164001",
            "year": [2023, 2024, 2025, 2026],
            "numerator": [4, 12, 17, 17],
            "denominator": [20, 20, 20, 20],
            "value": [20.0, 60.0, 85.0, 85.0],
            "change": [None, 40.0, 25.0, 0.0],
            "projected": [None, 90.0, 80.0, 78.0],
        }
    )
    frame = privacy.apply(rows).frame.set_index("year")
    mark = privacy.marker()
    assert frame.loc[2023, "value"] == mark
    assert frame.loc[2024, "change"] == mark  # 60 − 40 would give 20 back
    assert frame.loc[2024, "projected"] == mark and frame.loc[2025, "projected"] == mark
    assert frame.loc[2025, "change"] == 25.0 and frame.loc[2026, "projected"] == 78.0
    assert frame.loc[2024, "value"] == 60.0


def test_a_status_decided_by_its_own_row_stays_after_a_hidden_year():
    # 2023 is hidden (4 trained). "behind" in 2024 comes from the trend through 2023, so it
    # is hidden; "not met" in 2025 (the target year) and "met" compare the row's own shown
    # value with its target, and give nothing of 2023 back
    rows = pd.DataFrame({"indicator": "teachers_trained_cds", "level": "school",
                         "unit_id": "19164001", "year": [2023, 2024, 2025, 2026],
                         "numerator": [4, 12, 18, 24], "denominator": 30,
                         "target": 80.0, "target_year": 2025,
                         "status": ["behind", "behind", "not_met", "on_track"]})  # fmt: skip
    rows["value"] = 100 * rows["numerator"] / rows["denominator"]
    mark = privacy.marker()
    frame = privacy.apply(rows).frame.set_index("year")
    assert frame.loc[2024, "status"] == mark and frame.loc[2024, "value"] == 40.0
    assert frame.loc[2025, "status"] == "not_met"
    met = privacy.apply(rows.assign(status=["behind", "behind", "met", "met"])).frame
    assert list(met["status"])[1:] == [mark, "met", "met"]
    # as a reader's table shows it: the label, in either language
    for lang in ("vi", "en"):
        shown = tables.localise(rows, lang)
        status = i18n.label("columns", "status", lang)
        out = privacy.apply(shown, lang=lang).frame
        assert list(out[status])[1:3] == [
            privacy.marker(lang),
            i18n.label("status", "not_met", lang),
        ]


def test_a_small_yearly_change_of_a_cumulative_count_is_small():
    # 12 trained, then 14: "2 teachers trained that year"; the next shown year is compared
    # with the last one left shown (15 − 12 = 3 is small too; 20 − 12 = 8 is not)
    rows = pd.DataFrame({"indicator": "teachers_trained_cds", "level": "school",
                         "unit_id": "19164001", "year": [2023, 2024, 2025, 2026],
                         "numerator": [12, 14, 15, 20], "denominator": 30,
                         "value": [40.0, 46.7, 50.0, 66.7]})  # fmt: skip
    frame = privacy.apply(rows).frame.set_index("year")
    mark = privacy.marker()
    assert list(frame["value"]) == [40.0, mark, mark, 66.7]
    assert list(frame["numerator"]) == [12, mark, mark, 20]
    # teachers of a school (not cumulative): a change of 2 says nothing of one person
    other = privacy.apply(rows.assign(indicator="teachers_online_account")).frame
    assert (other["value"] != mark).all()


def test_complementary_suppression_within_each_parent_until_the_hidden_sum_is_k():
    # two communes' schools; school a1 has 2 trained teachers. The second hidden school must
    # be in a1's commune (the commune total minus the others would give 2 back otherwise),
    # and a1 + a2 = 2 + 1 = 3 < 5 would still say both are small: a third one goes
    rows = pd.DataFrame({"indicator": "teachers_trained_cds", "level": "school", "year": 2024,
                         "unit_id": ["a1", "a2", "a3", "a4", "b1", "b2"],
                         "parent_id": ["A", "A", "A", "A", "B", "B"],
                         "numerator": [2, 6, 9, 30, 6, 7], "denominator": 40})  # fmt: skip
    rows["value"] = 100 * rows["numerator"] / rows["denominator"]
    frame = privacy.apply(rows).frame.set_index("unit_id")
    mark = privacy.marker()
    hidden = set(frame.index[frame["value"] == mark])
    assert hidden == {"a1", "a2"}  # 2 + 6 = 8 ≥ 5: enough, and b1 (6) of commune B is left
    rows.loc[1, "numerator"] = 1  # a2 = 1: 2 + 1 = 3, so a3 (9) is hidden too
    rows["value"] = 100 * rows["numerator"] / rows["denominator"]
    frame = privacy.apply(rows).frame.set_index("unit_id")
    assert set(frame.index[frame["value"] == mark]) == {"a1", "a2", "a3"}


def test_one_unit_is_hidden_at_every_level_it_appears():
    # before the reform district 164 is also management unit 164: hidden as a district
    # (complementary, beside 165's 3) it must not be shown as a unit
    rows = pd.DataFrame({"indicator": "teachers_trained_cds", "year": 2024,
                         "level": ["analysis_district"] * 3 + ["unit"] * 3,
                         "unit_id": ["164", "165", "167"] * 2,
                         "parent_id": ["19"] * 3 + ["164", "165", "167"],
                         "numerator": [30, 3, 12] * 2, "denominator": 100})  # fmt: skip
    rows["value"] = rows["numerator"].astype(float)
    frame = privacy.apply(rows).frame
    mark = privacy.marker()
    hidden = frame[frame["value"] == mark]
    assert sorted(zip(hidden["level"], hidden["unit_id"], strict=True)) == [
        ("analysis_district", "165"), ("analysis_district", "167"),
        ("unit", "165"), ("unit", "167"),
    ]  # fmt: skip


def test_rule_sides_that_name_person_counts_and_schools_that_have_staff():
    violations = pd.DataFrame({"school_id": ["19164001"] * 2, "year": 2024,
                               "rule": ["training_hours_need_trainees", "connected_le_computers"],
                               "left": ["training_hours", "computers_internet"], "op": "<=",
                               "right": ["teachers * 10 + teachers_trained_cds_year * 120",
                                         "computers_teaching"],
                               "left_value": [562.5, 40.0],
                               "right_value": [270.0, 30.0]})  # fmt: skip
    frame = privacy.apply(violations).frame
    mark = privacy.marker()
    # 270 = 15 teachers × 10 + 1 × 120: the side that names teachers goes, hours stay
    assert frame.loc[0, "right_value"] == mark and frame.loc[0, "left_value"] == 562.5
    assert frame.loc[1, "right_value"] == 30.0 and frame.loc[1, "left_value"] == 40.0
    # IT staff are persons; "has IT staff" (it_staff > 0) counts schools
    rows = pd.DataFrame({"indicator": ["it_staff_per_1000_learners", "schools_with_it_staff"],
                         "level": "unit", "unit_id": "16402", "year": 2025,
                         "numerator": [2, 1], "denominator": [900, 1],
                         "value": [2.2, 100.0]})  # fmt: skip
    frame = privacy.apply(rows).frame
    assert frame.loc[0, "value"] == mark and frame.loc[1, "value"] == 100.0


def test_indicator_names_head_values_not_counts():
    """Wide tables keyed by indicator name (the KPI school sheet, typology profiles) hold
    shares and ratios, even where a name reads like a count's label."""
    from analysis.measures import indicators

    names = {i.id: i.name for i in indicators.load_indicators()}
    for lang in i18n.LANGUAGES:
        frame = pd.DataFrame(
            {
                names["teachers_online_account"][lang]: [3.2, 80.0],
                names["pupils_digital_records"][lang]: [2.0, 90.0],
            }
        )
        assert privacy.scan(frame) == [] and privacy.apply(frame).suppressed_cells == 0


def test_long_tables_lose_the_values_of_personal_columns():
    rejects = pd.DataFrame(
        {"column": ["pupil_name", "enrolment"], "value": ["Nguyễn Văn An", "abc"], "rule": "x"}
    )
    shared = privacy.apply(rejects)
    assert list(shared.frame["value"]) == [privacy.marker(), "abc"]
    assert shared.redacted_values == 1 and shared.removed_columns == ["column=pupil_name"]
    assert "column=pupil_name" in shared.notes("en")[0]


def test_html_tables_are_read_as_the_reader_sees_them():
    table = tables.html_table(
        pd.DataFrame({"Số học sinh": [1200, SMALL], "Điểm": [6.5, 7.25]}), lang="vi"
    )
    problems = privacy.scan_html(table, lang="vi")
    assert len(problems) == 1 and f"a count of {SMALL} persons" in problems[0], problems
    english = tables.html_table(pd.DataFrame({"Teachers": [1200.0, 7.0]}), lang="en")
    assert privacy.scan_html(english, lang="en") == []  # 1,200 read as 1200, not 1.2


def test_figures_named_after_personal_columns_or_small_counts():
    figures = pd.DataFrame(
        {
            "run": "r",
            "notebook": "n",
            "name": ["pupil_name", "teachers", "completeness_pct"],
            "value": ["Nguyễn Văn An", "3", "97.2"],
            "label": "",
            "unit": "",
        }
    )
    shared = privacy.public_figures(figures)
    assert list(shared["name"]) == ["teachers", "completeness_pct"]
    assert list(shared["value"]) == [privacy.marker(), "97.2"]


# --------------------------------------------------------------------------
# A tiny plan with planted data


PLANTED_SOURCE = f"""import pandas as pd
import matplotlib.pyplot as plt
from IPython.display import display
from analysis.report import record
frame = pd.DataFrame({planted().to_dict(orient="list")!r})
record.table("planted", frame, label="Planted table", lang=lang)
fig, ax = plt.subplots()
ax.bar(frame["school_name"], frame["mean_score"])
record.data("planted_figure", frame)
display(frame)  # a table shown without record.table: kept out of shared pages
if show_names:
    record.internal("names pupils", lang=lang)
"""


def _planted_notebook(path: Path) -> Path:
    nb = nbf.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "cds-workbench", "display_name": "x", "language": "python"}
    params = nbf.v4.new_code_cell('lang = "vi"\nshow_names = False')
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, nbf.v4.new_code_cell(PLANTED_SOURCE)]
    nbf.write(nb, str(path))
    return path


def _planted_plan(folder: Path) -> dict:
    """The planted notebook run public, with names, and marked internal: runs by id."""
    _planted_notebook(folder / "planted.ipynb")
    plan = folder / "planted.yml"
    runs = [
        {"id": "public", "notebook": "planted.ipynb"},
        {"id": "named", "notebook": "planted.ipynb", "parameters": {"show_names": True}},
        {"id": "marked", "notebook": "planted.ipynb", "internal": True},
    ]
    plan.write_text(
        yaml.safe_dump({"name": "planted", "dataset": "maschools", "lang": "en", "runs": runs}),
        encoding="utf-8",
    )
    out = folder / "out"
    manifest = runner.run_plan(runner.load_plan(plan), out_dir=out, jobs=2)
    return {r["id"]: r for r in manifest["runs"]}


@pytest.fixture(scope="module")
def planted_plan(tmp_path_factory):
    """(plan file, output folder, runs by id), built once for all xdist workers (read only)."""
    folder, runs = built_once(tmp_path_factory, "planted_plan", _planted_plan)
    return folder / "planted.yml", folder / "out", runs


def _text(path: Path) -> str:
    return path.read_text(encoding="utf-8")


@pytest.mark.slow
def test_planted_data_leaves_shared_pages_and_csvs(planted_plan):
    _, out, runs = planted_plan
    assert {r["status"] for r in runs.values()} == {"succeeded"}, runs
    page = _text(out / "html" / "public.report.html")
    for name in NAMES:
        assert name not in page
    assert "pupil_name" in page  # only in the footnote naming what was left out
    assert privacy.html_tables(page) and privacy.scan_html(page, lang="en") == []
    assert privacy.marker("en") in page and privacy.footnote("en") in page
    assert i18n.text("privacy", "table_hidden", "en", columns="pupil_name") in page
    # a CSV link under the table and under the figure, each resolving
    hrefs = re.findall(r'href="(\.\./data/[^"]+\.csv)"', page)
    assert hrefs == ["../data/public/planted.csv", "../data/public/planted_figure.csv"]
    for href in hrefs:
        assert (out / "html" / href).resolve().is_file()
    assert page.index("<img") < page.index("planted_figure.csv")  # the link under its figure
    for name in ("planted", "planted_figure"):
        csv = out / "data" / "public" / f"{name}.csv"
        assert csv.read_bytes().startswith(b"\xef\xbb\xbf")  # Excel reads Vietnamese
        frame = pd.read_csv(csv, encoding="utf-8-sig", dtype=str, keep_default_na=False)
        assert "pupil_name" not in frame.columns
        assert privacy.scan_csv(csv) == []
        assert frame.iloc[0].tolist() == ["Trường A", privacy.marker("en"), privacy.marker("en")]
        assert not any(name in csv.read_text(encoding="utf-8-sig") for name in NAMES)
    table = runs["public"]["tables"][0]
    assert table["suppressed_cells"] == 2 and table["removed_columns"] == ["pupil_name"]


@pytest.mark.slow
def test_internal_outputs_keep_the_data_and_say_so(planted_plan):
    _, out, runs = planted_plan
    # by design: the executed notebook and the page with code are the researchers' copies
    code = _text(internal_dir(out) / "html" / "public.code.html")
    assert all(name in code for name in NAMES)
    assert i18n.label("privacy", "internal_code", "en") in code
    assert NAMES[0] in _text(internal_dir(out) / "notebooks" / "public.ipynb")
    # the payload (full data) never reaches a page
    assert record.TABLE_MIME not in code and record.DATA_MIME not in code
    assert runs["public"]["internal"] is False
    assert runs["named"]["internal"] and runs["named"]["internal_reasons"] == ["names pupils"]
    assert runs["marked"]["internal"] and runs["marked"]["internal_reasons"] == [
        runner.PLAN_INTERNAL
    ]
    banner = i18n.label("privacy", "internal_banner", "en")
    for run_id in ("named", "marked"):  # internal runs: pages and data beside the shared folder
        assert banner in _text(internal_dir(out) / "html" / f"{run_id}.report.html")
        assert not (out / "html" / f"{run_id}.report.html").exists()
        assert not (out / "data" / run_id).exists()
        assert list((internal_dir(out) / "data" / run_id).glob("*.csv"))
    assert banner not in _text(out / "html" / "public.report.html")
    # reports/<plan>/ published as a folder: every file passes what the bundle checks
    shared = {str(p.relative_to(out)): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert not any(n.endswith((".code.html", ".ipynb", "manifest.json")) for n in shared)
    assert share.scan_files(shared, lang="en") == []
    assert not any(name.encode() in content for name in NAMES for content in shared.values())
    index = _text(out / "runs.html")
    mark = i18n.label("index", "internal", "en")
    rows = {
        m.group(1): m.group(0)
        for m in re.finditer(r'<tr [^>]*data-run="([^"]+)".*?</tr>', index, re.S)
    }
    assert mark in rows["named"] and 'data-internal="true"' in rows["marked"]
    assert 'data-internal="true"' not in rows["public"]


def _links(page: str) -> list[str]:
    return [h for h in re.findall(r'(?:href|src)="([^"#]+)"', page) if not h.startswith("data:")]


def _check_bundle(path: Path, plan_name: str) -> dict[str, bytes]:
    """Every file of the bundle, after checking its links resolve inside it and the scan."""
    with zipfile.ZipFile(path) as bundle:
        files = {i.filename: bundle.read(i) for i in bundle.infolist()}
    assert all(name.startswith(f"{plan_name}/") for name in files)
    for name, content in files.items():
        if name.endswith(".html"):
            for link in _links(content.decode("utf-8")):
                target = (Path(name).parent / link).as_posix()
                parts: list[str] = []
                for part in target.split("/"):
                    if part == "..":
                        parts.pop()
                    elif part not in ("", "."):
                        parts.append(part)
                assert "/".join(parts) in files, (name, link)
    assert not any(name.endswith((".code.html", ".ipynb", "manifest.json")) for name in files)
    assert share.scan_zip(path) == []
    return files


@pytest.mark.slow
def test_share_leaves_internal_runs_out(planted_plan, tmp_path):
    plan, out, _ = planted_plan
    dest = tmp_path / "bundle.zip"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "analysis",
            "share",
            str(plan),
            "--out",
            str(out),
            "--zip",
            str(dest),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert str(dest) in done.stdout.replace("\n", "")
    assert "named: internal" in done.stdout and "marked: internal" in done.stdout
    files = _check_bundle(dest, "planted")
    assert "planted/html/public.report.html" in files
    assert not any("/named" in n or "/marked" in n for n in files)
    for page in ("planted/index.html", "planted/runs.html"):
        index = files[page].decode("utf-8")
        assert "named" not in index and "marked" not in index and "manifest.json" not in index
    for content in files.values():
        assert not any(name.encode() in content for name in NAMES)
    figures = pd.read_csv(pd.io.common.BytesIO(files["planted/figures.csv"]))
    assert set(figures["run"]) <= {"public"}


def test_share_refuses_a_plan_that_has_not_run(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "analysis", "share", "default", "--out", str(tmp_path / "x")],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "has not been run" in done.stderr and "workbench run default" in done.stderr


def test_share_refuses_a_bundle_that_breaks_the_rules(tmp_path):
    out = tmp_path / "p"
    (out / "html").mkdir(parents=True)
    page = tables.html_table(planted(), lang="vi")  # a raw table slipped into a page
    (out / "html" / "r.report.html").write_text(page, encoding="utf-8")
    (internal_dir(out) / "notebooks").mkdir(parents=True)
    manifest = {
        "plan": "p",
        "title": "p",
        "lang": "vi",
        "dataset": "x",
        "created": "now",
        "code_version": "v",
        "runs": [
            {
                "id": "r",
                "notebook": "r.ipynb",
                "status": "succeeded",
                "output": "notebooks/r.ipynb",
                "parameters": {},
                "duration": 1.0,
                "tables": [],
            }
        ],
    }
    (internal_dir(out) / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.raises(share.ShareRefused) as refused:
        share.build(out, dest=tmp_path / "b.zip")
    assert any("pupil_name" in p for p in refused.value.problems)
    assert not (tmp_path / "b.zip").exists()


@pytest.mark.slow
def test_payloads_come_back_from_a_remote_run(tmp_path):
    """The Dask path: the executed notebook returns as bytes, the client publishes its data."""
    notebook = _planted_notebook(tmp_path / "planted.ipynb")
    out = tmp_path / "out"
    job = {
        "notebook": str(notebook),
        "notebook_bytes": notebook.read_bytes(),
        "output": str(out / "notebooks" / "remote.ipynb"),
        "parameters": {"lang": "vi", "show_names": True},
        "cell_timeout": 300,
        "start_timeout": 120,
        "run_timeout": 600,
        "shared_cache": str(out / ".cache" / "shared"),
    }
    outcome = executors.remote(job)  # the task body, outside a worker
    assert outcome["status"] == "succeeded", outcome.get("error")
    executed = out / "notebooks" / "remote.ipynb"
    executed.parent.mkdir(parents=True)
    executed.write_bytes(outcome["notebook_bytes"])
    run = runner.Run("remote", notebook, job["parameters"], "test")
    tables, declared = runner.publish_data(out, run, executed, "vi")
    # the notebook names pupils: the run is internal, its tables beside the shared folder
    assert [t["file"] for t in tables] == [
        "../out.internal/data/remote/planted.csv",
        "../out.internal/data/remote/planted_figure.csv",
    ]
    assert declared == ["names pupils"] and not (out / "data").exists()
    assert privacy.scan_csv(internal_dir(out) / "data" / "remote" / "planted.csv") == []


# --------------------------------------------------------------------------
# The default plan: every shared output


@pytest.fixture(scope="module")
def default_reports(default_run):
    out, done = default_run
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return out, render.load_manifest(out)


@pytest.mark.slow
def test_default_plan_pages_without_code_pass_the_scan(default_reports):
    out, manifest = default_reports
    pages = sorted((out / "html").glob("*.report.html"))
    assert len(pages) == len([r for r in manifest["runs"] if not r.get("internal")])
    scanned_tables = 0
    for page in pages:
        text = _text(page)
        scanned_tables += len(privacy.html_tables(text))
        assert privacy.scan_html(text, where=page.name, lang=manifest["lang"]) == []
        for link in _links(text):
            assert (page.parent / link).resolve().is_file(), (page.name, link)
    assert scanned_tables > 10  # the scan saw the tables


@pytest.mark.slow
def test_default_plan_tables_have_their_csv(default_reports):
    out, manifest = default_reports
    for run in manifest["runs"]:
        if run.get("internal"):
            continue  # its page and tables stay in the internal folder (test_internal_…)
        page = _text(out / "html" / f"{Path(run['output']).stem}.report.html")
        links = re.findall(r'href="\.\./data/[^"]+\.csv"', page)
        assert len(links) == len(run["tables"]) > 0, run["id"]
        for table in run["tables"]:
            csv = out / table["file"]
            assert csv.read_bytes().startswith(b"\xef\xbb\xbf")
            assert privacy.scan_csv(csv) == [], csv
    figures = pd.read_csv(out / "figures.csv", dtype=str, keep_default_na=False)
    assert privacy.scan(figures, where="figures.csv", parse=privacy.parse_plain) == []
    assert not figures["name"].map(privacy.load_rules().is_personal).any()


@pytest.mark.slow
def test_default_plan_kpi_workbook_is_linked_and_passes(default_reports):
    out, manifest = default_reports
    name = manifest["kpi_workbook"]
    assert name == f"kpi_{manifest['lang']}.xlsx", manifest.get("kpi_error")
    assert privacy.scan_workbook(out / name) == []
    assert f'href="{name}"' in _text(out / "index.html")
    assert f'href="{name}"' in _text(out / "runs.html")


@pytest.mark.slow
def test_default_plan_index_filters_by_notebook_district_and_status(default_reports):
    out, manifest = default_reports
    index = _text(out / "runs.html")
    for what in ("notebook", "district", "status"):
        assert f'<select data-filter="{what}">' in index
    briefs = [r for r in manifest["runs"] if "unit" in r["parameters"]]
    assert briefs
    names = render.unit_names(manifest)
    for run in briefs:
        assert f'data-district="{names[str(run["parameters"]["unit"])]}"' in index
    assert "innerHTML" not in index and "<script src" not in index


@pytest.mark.slow
def test_default_plan_share_bundle(default_reports, tmp_path):
    out, manifest = default_reports
    bundle = share.build(out, dest=tmp_path / "default.zip")
    files = _check_bundle(bundle.path, manifest["plan"])
    shared = [r for r in manifest["runs"] if not r.get("internal") and r["status"] != "failed"]
    pages = [n for n in files if n.endswith(".report.html")]
    assert len(pages) == len(shared)
    assert f"{manifest['plan']}/{manifest['kpi_workbook']}" in files
    front = len(list((out / "data" / "front").glob("*.csv")))  # the front page's tables
    assert front == 5  # headline, every province indicator, ranking, maturity, training
    assert sum(n.endswith(".csv") for n in files) == 1 + front + sum(
        len(r["tables"]) for r in shared
    )


# --------------------------------------------------------------------------
# Found in review: what a notebook builds on a table, counts as text, empty bundles, paths


def test_the_brief_builds_on_the_masked_values(small_province):
    """A district with 3 trained teachers: the CSVs hide the count, so the headline, the trend
    sentence and the rank must not give its share back either."""
    from analysis.data import datasets
    from analysis.report import brief

    data = datasets.load("thai_nguyen_synthetic", processed=small_province)
    frame = data.data.copy()
    unit, year = "164", 2025
    mine = (frame["analysis_district_id"].astype(str) == unit) & (frame["year"] == year)
    frame.loc[mine, "teachers_trained_cds"] = 0
    frame.loc[frame.index[mine][0], "teachers_trained_cds"] = 3
    values = brief.tables(frame, year=year, lang="vi")["values"]
    row = values[
        (values["indicator"] == "teachers_trained_cds")
        & (values["unit_id"] == unit)
        & (values["level"] == brief.LEVEL)
        & (values["year"] == year)
    ].iloc[0]
    assert pd.isna(row["numerator"]) and pd.isna(row["value"]) and pd.isna(row["change"])
    assert row["denominator"] > 100  # the teachers, not small, stay visible
    table = brief.headline_table(values, unit=unit, year=year, lang="vi")
    assert table.loc[table["indicator"] == "teachers_trained_cds", "value"].isna().all()
    sentence = brief.trend_sentence(
        values, unit=unit, indicator="teachers_trained_cds", year=year, lang="vi"
    )
    share = 100 * 3 / row["denominator"]
    assert i18n.number(share, "vi") not in sentence and f"({year})" not in sentence


def test_a_count_held_as_text_or_category_is_still_a_count():
    for teachers in (pd.Categorical([3, 10]), ["3", "10"]):
        frame = pd.DataFrame(
            {"school_name": ["A", "B"], "teachers": teachers, "share": [50.0, 6.0]}
        )
        shown = privacy.apply(frame).frame
        assert shown.loc[0, "teachers"] == privacy.marker("vi")
        assert shown.loc[0, "share"] == privacy.marker("vi")
        assert privacy.scan(shown) == []


def test_old_row_numbers_of_a_filtered_table_are_not_a_column():
    frame = pd.DataFrame({"x": [3, 1, 2]}).sort_values("x").head(2)
    assert list(record._frame_for_payload(frame).columns) == ["x"]
    named = frame.rename_axis("school_id")
    assert list(record._frame_for_payload(named).columns) == ["school_id", "x"]
    by_text = pd.DataFrame({"x": [1]}, index=["Đại Từ"])
    assert list(record._frame_for_payload(by_text).columns) == ["index", "x"]


def test_reject_messages_lose_the_servers_folders():
    from analysis.measures import quality

    rejects = pd.DataFrame(
        {
            "file": ["/srv/doet/raw/bao_cao.xlsx"],
            "message": ["already read at /srv/doet/raw/bao_cao_2024.xlsx row 46 (3/4 filled)"],
        }
    )
    shown = quality.without_paths(rejects).iloc[0]
    assert shown["file"] == "bao_cao.xlsx"
    assert shown["message"] == "already read at bao_cao_2024.xlsx row 46 (3/4 filled)"


def _one_page_plan(out: Path, page: str, status: str = "succeeded", internal: bool = False):
    (out / "html").mkdir(parents=True)
    (out / "html" / "r.report.html").write_text(page, encoding="utf-8")
    run = {"id": "r", "notebook": "r.ipynb", "status": status, "output": "notebooks/r.ipynb",
           "parameters": {}, "duration": 1.0, "tables": [], "internal": internal,
           "internal_reasons": ["notebook"] if internal else []}  # fmt: skip
    manifest = {"plan": "p", "title": "p", "lang": "vi", "dataset": "x", "created": "now",
                "code_version": "v", "runs": [run]}  # fmt: skip
    internal_dir(out).mkdir(parents=True, exist_ok=True)
    (internal_dir(out) / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")


@pytest.mark.parametrize(
    ("page", "problem"),
    [
        ("<p>/root/.venv/lib/python3.11/site-packages/csdid/att.py:52: UserWarning</p>",
         "a server path"),
        ("<p>lib/python3.11/site-packages/csdid/att.py:52: UserWarning</p>", "a server path"),
        ("<p>Tệp C:\\Users\\an\\Desktop\\bao_cao.xlsx</p>", "a server path"),
        ('<div class="jp-OutputArea-output" data-mime-type="application/vnd.jupyter.stderr">'
         "<pre>warning</pre></div>", "error output of a notebook cell"),
        ("<p>máy chủ {host} đã chạy</p>", "the server's name"),
    ],
)  # fmt: skip
def test_share_refuses_what_belongs_to_the_server(tmp_path, page, problem, monkeypatch):
    host = "so-gddt-tn-07"  # a machine name long enough to search for (this one's is "vm")
    monkeypatch.setattr(share.socket, "gethostname", lambda: host)
    _one_page_plan(tmp_path / "p", "<html><body>" + page.format(host=host) + "</body></html>")
    with pytest.raises(share.ShareRefused) as refused:
        share.build(tmp_path / "p", dest=tmp_path / "b.zip")
    assert any(problem in p for p in refused.value.problems), refused.value.problems
    assert not (tmp_path / "b.zip").exists()
    # the stylesheet every page carries names the error stream: that is not a cell's output
    clean = "<style>[data-mime-type='application/vnd.jupyter.stderr'] {}</style><p>1/2</p>"
    assert share.server_traces("x.html", clean.encode(), host="") == []


def test_a_plan_whose_runs_are_all_internal_says_so(tmp_path):
    _one_page_plan(tmp_path / "p", "<p>x</p>", internal=True)
    done = subprocess.run(
        [sys.executable, "-m", "analysis", "share", "p", "--out", str(tmp_path / "p")],
        capture_output=True, text=True, cwd=ROOT, timeout=120,
    )  # fmt: skip
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "Nothing to share" in done.stderr and "internal" in done.stderr
    assert "Not run yet" not in done.stderr


def test_a_plan_with_nothing_to_share_gives_no_bundle(tmp_path):
    manifest = {
        "plan": "p",
        "lang": "vi",
        "title": "p",
        "runs": [{"id": "a", "status": "failed", "output": "notebooks/a.ipynb"}],
    }
    internal_dir(tmp_path).mkdir()
    (internal_dir(tmp_path) / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.raises(share.NotRunError, match="no run can be shared"):
        share.build(tmp_path)
    assert not list(tmp_path.glob("*.zip"))
