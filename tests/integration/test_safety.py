"""Safety: data values are text in every HTML page, and parameters are data, never code.

A province whose school, district and province names (and one report cell) are
HTML with scripts is ingested and run through the notebooks that show names as
text (data quality, typology with names, the district brief); no page may carry
that markup live, and each page that shows a name shows it as
text. Parameters holding Python are passed to a notebook and must arrive as the
very same string without running.
"""

from __future__ import annotations

import json
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import nbformat as nbf
import pandas as pd
import pytest
import yaml

from analysis import runner
from analysis.data import ingest, synth
from analysis.report import tables
from analysis.runner.layout import internal_dir
from tests.conftest import built_once

ROOT = Path(__file__).resolve().parents[2]
DISTRICT = "164"  # analysis_district_id of the district whose name is markup
MARKUP = '<script>alert("{tag}")</script><img src=x onerror=alert(1)><b>{name} XSS</b>'
DISTRICT_NAME = MARKUP.format(tag="district", name="Huyện") + " [x](javascript:alert(2)) **b**"
PROVINCE_NAME = MARKUP.format(tag="province", name="Tỉnh")
CELL = MARKUP.format(tag="cell", name="Ô")
BAD_UNIT = '<script>alert("param")</script><b>XSS</b>'


def school_name(i: int) -> str:
    return MARKUP.format(tag="school", name=f"Trường {i}")


# --------------------------------------------------------------------------
# What a browser would make live


class _Page(HTMLParser):
    """Visible text, and everything in a page that would run or render as markup."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.text: list[str] = []
        self.live: list[str] = []
        self._in: list[str] = []
        self._bold = 0

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            value = value or ""
            if name.startswith("on") and "alert" in value:
                self.live.append(f"<{tag} {name}={value!r}>")
            if name in {"href", "src", "action"} and value.strip().lower().startswith(
                "javascript:"
            ):
                self.live.append(f"<{tag} {name}={value!r}>")
            if tag == "img" and name == "src" and value == "x":
                self.live.append("<img src=x>")
        if tag == "b":
            self._bold += 1
        if tag in {"script", "style"}:
            self._in.append(tag)

    def handle_endtag(self, tag):
        if tag == "b":
            self._bold = max(0, self._bold - 1)
        if self._in and self._in[-1] == tag:
            self._in.pop()

    def handle_data(self, data):
        if self._in and self._in[-1] == "script":
            if "alert(" in data:
                self.live.append(f"<script>{data[:80]}")
            return
        if self._in:
            return
        if self._bold and "XSS" in data:
            self.live.append(f"<b>{data[:80]}</b>")
        self.text.append(data)


def read_page(path: Path) -> tuple[str, str, list[str]]:
    """Raw HTML, visible text (entities decoded) and live markup found in it."""
    raw = path.read_text(encoding="utf-8")
    page = _Page()
    page.feed(raw)
    page.close()
    return raw, "".join(page.text), page.live


RAW_FRAGMENTS = ("<script>alert(", "<img src=x", "XSS</b>", "<b>Huyện", "<b>Tỉnh")


def test_escape_markdown_keeps_the_text_and_drops_the_markup():
    import mistune

    value = DISTRICT_NAME + "\n<script>y</script> $x^2$ `c` &amp; 1. #h \\"
    html_out = mistune.html(tables.escape_markdown(value))
    page = _Page()
    page.feed(html_out)
    assert page.live == []
    assert "".join(page.text).strip() == value.replace("\n", " ")
    assert "<script>" not in html_out and "<a " not in html_out and "<strong>" not in html_out
    assert tables.escape_markdown("Trường THCS Nguyễn Trãi") == "Trường THCS Nguyễn Trãi"


def test_status_table_escapes_cells_and_headers():
    from analysis.report import plots

    frame = pd.DataFrame({"name": [CELL], "status": ["met"], BAD_UNIT: [1.5]})
    out = plots.status_colours(frame, ["met"], "status").to_html()
    assert "<script>" not in out and "&lt;script&gt;" in out
    page = _Page()
    page.feed(out)
    assert page.live == []


# --------------------------------------------------------------------------
# The notebooks that show names, end to end


def _hostile_province(folder: Path) -> Path:
    """The small province with markup in its names and one rejected cell; processed."""
    province = synth.generate(seed=5, profile="clean", scale=0.15)
    units = province.units
    units.loc[units["unit_id"] == DISTRICT, "unit_name"] = DISTRICT_NAME
    units.loc[units["unit_level"] == "province", "unit_name"] = PROVINCE_NAME
    names = {sid: school_name(i) for i, sid in enumerate(province.schools["school_id"])}
    province.schools["school_name"] = province.schools["school_id"].map(names)
    for rows in province.reports.values():
        rows["school_name"] = rows["school_id"].map(names)
    last = max(province.reports)
    first = province.reports[last].index[0]
    province.reports[last].at[first, "_cell_text"] = {"enrolment": CELL}  # a rejected cell
    raw, processed = folder / "raw", folder / "processed"
    synth.write(province, raw)
    result = ingest.ingest(raw, out_dir=processed)
    # the markup went through ingest untouched: it is data, and the pages must escape it
    assert set(result.tables["schools"]["school_name"]) == set(names.values())
    assert DISTRICT_NAME in set(result.tables["units"]["unit_name"])
    assert CELL in set(result.rejects["value"])
    return processed


def _hostile_reports(folder: Path) -> dict:
    """The plan of the notebooks that show names, run on the hostile province."""
    hostile_province = _hostile_province(folder)
    plan = folder / "hostile.yml"
    plan.write_text(
        yaml.safe_dump(
            {
                "name": "hostile",
                "dataset": "thai_nguyen_synthetic",
                "lang": "vi",
                "runs": [
                    # 02_indicators is left out: it shows no school, district or province
                    # name as text (names only inside its images and in record.data, which
                    # displays nothing); its one table goes through record.table, escaped
                    # as the data-quality tables here show
                    {"id": "data_quality", "notebook": "01_data_quality.ipynb"},
                    {
                        "id": "typology",
                        "notebook": "06_typology.ipynb",
                        "parameters": {"show_names": True},
                    },
                    {
                        "id": "brief",
                        "notebook": "04_district_brief.ipynb",
                        "parameters": {"year": 2025},
                        "grid": {"unit": [DISTRICT, BAD_UNIT]},
                    },
                ],
            },
            allow_unicode=True,
        ),
        encoding="utf-8",
    )
    out = folder / "out"
    loaded = runner.load_plan(plan, processed=hostile_province)
    manifest = runner.run_plan(loaded, out_dir=out, jobs=2, processed=hostile_province)
    return {r["id"]: r for r in manifest["runs"]}


@pytest.fixture(scope="module")
def hostile_reports(tmp_path_factory):
    """(plan output folder, runs by id), built once for all xdist workers (read only)."""
    folder, runs = built_once(tmp_path_factory, "hostile_reports", _hostile_reports)
    return folder / "out", runs


def _page(out: Path, run: dict, kind: str) -> Path:
    """A run's page: in the shared folder, or beside it (pages with code, internal runs)."""
    name = f"{Path(run['output']).stem}.{kind}.html"
    shared = out / "html" / name
    return shared if shared.is_file() else internal_dir(out) / "html" / name


@pytest.mark.slow
def test_runs_finish_and_the_bad_unit_fails_cleanly(hostile_reports):
    _, runs = hostile_reports
    bad = f"brief[unit={BAD_UNIT}]"
    assert {k: r["status"] for k, r in runs.items() if k != bad} == {
        k: "succeeded" for k in runs if k != bad
    }, {k: r.get("error") for k, r in runs.items()}
    assert runs[bad]["status"] == "failed"
    assert runs[bad]["error"]["ename"] == "ValueError"
    assert BAD_UNIT in runs[bad]["error"]["evalue"]


@pytest.mark.slow
def test_no_page_carries_live_markup(hostile_reports):
    out, runs = hostile_reports
    pages = [out / "index.html", out / "runs.html", *sorted((out / "html").glob("*.html"))]
    pages += sorted((internal_dir(out) / "html").glob("*.html"))
    assert len(pages) == 2 + 2 * len(runs)
    for path in pages:
        raw, _, live = read_page(path)
        assert live == [], (path.name, live)
        found = [f for f in RAW_FRAGMENTS if f in raw]
        assert found == [], (path.name, found)


@pytest.mark.slow
def test_names_are_shown_as_text(hostile_reports):
    out, runs = hostile_reports
    bad = f"brief[unit={BAD_UNIT}]"
    school_start = '<script>alert("school")</script>'  # pandas cuts long cells at 50 characters
    expected = {
        ("runs", None): [DISTRICT_NAME, BAD_UNIT],  # key figure unit_name; parameters, error
        ("index", None): [DISTRICT_NAME],  # the brief's link, by the district's name
        (f"brief[unit={DISTRICT}]", "report"): [DISTRICT_NAME],  # the brief's title
        (f"brief[unit={DISTRICT}]", "code"): [DISTRICT_NAME],
        (bad, "report"): [BAD_UNIT],  # the error message
        ("typology", "report"): [school_start],  # at-risk list, show_names
        ("data_quality", "report"): ['<script>alert("cell")', '<script>alert("district")'],
    }
    for (run_id, kind), shown in expected.items():
        path = out / f"{run_id}.html" if kind is None else _page(out, runs[run_id], kind)
        raw, text, _ = read_page(path)
        for value in shown:
            assert value in text, (path.name, value)
            assert "&lt;script&gt;alert(" in raw, path.name


# --------------------------------------------------------------------------
# Parameters are data, never code


def _payloads(folder: Path) -> dict[str, str]:
    """Strings that would run if a parameter were pasted into the notebook's source."""
    touch = {k: folder / f"PWNED_{k}" for k in "abcdefgh"}
    return {
        "p_a": f"\"); import pathlib; pathlib.Path('{touch['a']}').touch(); (\"",
        "p_b": f"__import__('os').system('touch {touch['b']}')",
        "p_c": f"'''\nimport pathlib; pathlib.Path('{touch['c']}').touch()\n'''",
        "p_d": f"\\\"; import pathlib; pathlib.Path('{touch['d']}').touch(); x = \"",
        "p_e": f"{{__import__('pathlib').Path('{touch['e']}').touch()}}",
        "p_f": f"$(touch {touch['f']}) `touch {touch['f']}`",
        "p_g": f"x\r__import__('pathlib').Path('{touch['g']}').touch()\u2028#",
        "p_h": f"Trường\x00\"'\\n{{}}%s %(x)s; __import__('os').system('touch {touch['h']}')",
    }


def _echo_notebook(path: Path) -> Path:
    """A notebook with a string parameter per payload (and ``lang``) that records each."""
    names = [*_payloads(path.parent), "lang"]
    nb = nbf.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "cds-workbench", "display_name": "x", "language": "python"}
    params = nbf.v4.new_code_cell("\n".join(f'{n} = "plain"' for n in names))
    params.metadata["tags"] = ["parameters"]
    body = "from analysis import record\n" + "\n".join(
        f"record.figure({n!r}, {n})\nrecord.figure('type_{n}', type({n}).__name__)" for n in names
    )
    nb.cells = [params, nbf.v4.new_code_cell(body)]
    nbf.write(nb, str(path))
    return path


def _plan_file(folder: Path, parameters: dict[str, str]) -> Path:
    _echo_notebook(folder / "echo.ipynb")
    plan = folder / "inject.yml"
    run = {"id": "echo", "notebook": "echo.ipynb", "parameters": parameters}
    plan.write_text(
        yaml.safe_dump(
            {"name": "inject", "dataset": "maschools", "runs": [run]}, allow_unicode=True
        ),
        encoding="utf-8",
    )
    return plan


def _seen(out: Path) -> dict[str, str]:
    """The figures the notebook recorded, from figures.parquet, checked against figures.csv."""
    table = pd.read_parquet(out / "figures.parquet")
    seen = dict(zip(table["name"], table["value"], strict=True))
    csv = pd.read_csv(out / "figures.csv", dtype=str, keep_default_na=False)
    from_csv = dict(zip(csv["name"], csv["value"], strict=True))
    assert from_csv == seen
    return seen


def _cli_run(plan: Path, out: Path, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "analysis", "run", str(plan), "--out", str(out), *extra],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=600,
    )


@pytest.mark.slow
def test_string_parameters_arrive_as_literals(tmp_path):
    """``workbench run`` has no ``-p`` overrides: strings reach a notebook through the plan
    file named on the command line (as literals); ``--lang`` only takes a known language.
    One run through the command line (which calls ``runner.run_plan``) checks both."""
    payloads = _payloads(tmp_path)
    out = tmp_path / "out"
    done = _cli_run(_plan_file(tmp_path, payloads), out, "--lang", "en")
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert not list(tmp_path.glob("PWNED*")), "a parameter ran as code"
    seen = _seen(out)
    for name, value in payloads.items():
        assert seen[name] == value, name  # exactly the string, nothing evaluated
        assert seen[f"type_{name}"] == "str"
    assert seen["lang"] == "en"
    saved = json.loads((internal_dir(out) / "manifest.json").read_text(encoding="utf-8"))
    assert saved["runs"][0]["status"] == "succeeded", saved["runs"][0]["error"]
    assert {k: saved["runs"][0]["parameters"][k] for k in payloads} == payloads
    # the run log shows the parameters as text too
    _, text, live = read_page(out / "runs.html")
    assert live == [] and payloads["p_b"] in text


def test_an_unknown_language_or_dataset_is_refused_before_anything_runs(tmp_path):
    plan = _plan_file(tmp_path, {})
    for option, value in [("--lang", "__import__('os')"), ("--dataset", "../../etc")]:
        done = _cli_run(plan, tmp_path / "out", option, value)
        assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr[-2000:]
        assert option in done.stderr and "Plan refused" in done.stderr
        assert not (internal_dir(tmp_path / "out") / "notebooks").exists()
        assert not list(tmp_path.glob("PWNED*"))
