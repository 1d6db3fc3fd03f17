"""`workbench params NOTEBOOK`: each parameter with its default and meaning, in both languages,
judged against papermill's own reading of the notebooks."""

from __future__ import annotations

import papermill
import pytest
from typer.testing import CliRunner

from analysis import cli
from analysis.core import paths
from analysis.runner import plan

NOTEBOOKS = sorted(paths.notebooks_dir().glob("*.ipynb"))


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_parameter_with_papermills_default_and_a_meaning_in_both_languages(notebook):
    rows = plan.parameter_help(notebook)
    inspected = papermill.inspect_notebook(str(notebook))
    assert [r["name"] for r in rows] == list(inspected)
    for row in rows:
        assert row["default"] == inspected[row["name"]]["default"], row
        assert row["en"] == inspected[row["name"]]["help"], row  # the notebook's own comment
        assert row["vi"] and row["vi"] != row["en"], f"{notebook.stem}.{row['name']}: no Vietnamese"


def test_the_command_lists_them_and_refuses_an_unknown_notebook():
    runner = CliRunner()
    done = runner.invoke(cli.app, ["params", "06_typology"], env={"COLUMNS": "200"})
    assert done.exit_code == 0, done.output
    for name in ("dataset", "year", "lang", "show_names", "processed"):
        assert name in done.output
    assert "Ý nghĩa" in done.output and "Meaning" in done.output
    assert "Liệt kê" in done.output  # the Vietnamese meaning (the table wraps the rest)
    missing = runner.invoke(cli.app, ["params", "07_nothing"])
    assert missing.exit_code == 2 and "03_links" in missing.output
