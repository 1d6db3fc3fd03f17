"""The notebooks as files in git: each paired with its py:percent script, none with outputs.

The .py scripts (jupytext) make notebook changes reviewable; JupyterLab writes both files
on save, and `make sync` re-pairs them after an edit elsewhere. Outputs, execution counts
and volatile metadata stay out of git: `make strip` removes them, with the options this
test checks against (nbstripout's own logic, read from the Makefile).
"""

from __future__ import annotations

import difflib
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import jupytext
import pytest
from jupytext.compare import NotebookDifference, compare_notebooks
from jupytext.config import find_jupytext_configuration_file, load_jupytext_configuration_file

import analysis

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK_DIR = ROOT / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
FORMAT = "py:percent"


def make_recipe(target: str) -> str:
    """The command `make TARGET` runs in this environment, as make itself expands it.

    The tests run the Makefile's own commands, so the two cannot drift apart.
    """
    stamp = Path(sys.prefix) / ".installed"  # `make install`'s stamp: not remade here
    done = subprocess.run(
        ["make", "-n", "--no-print-directory", f"VENV={sys.prefix}", "-o", str(stamp), target],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.strip().splitlines()
    assert len(lines) == 1, f"`make {target}` should run one command: {lines}"
    return lines[0]


def test_jupytext_pairs_every_notebook_with_a_percent_script():
    # in notebooks/ itself: JupyterLab (`make lab`) only looks for it inside its root
    config_file = find_jupytext_configuration_file(str(NOTEBOOK_DIR), search_parent_dirs=False)
    assert config_file == str(NOTEBOOK_DIR / "jupytext.toml")
    config = load_jupytext_configuration_file(config_file)
    for notebook in NOTEBOOKS:
        assert config.default_formats(str(notebook)) == f"ipynb,{FORMAT}", notebook.name


def test_make_sync_would_change_nothing(tmp_path):
    """`make sync` on a copy of notebooks/ leaves every file as committed."""
    recipe = make_recipe("sync")
    assert "jupytext --sync notebooks/*.ipynb" in recipe
    copy = tmp_path / "notebooks"
    copy.mkdir()
    files = [*NOTEBOOKS, *NOTEBOOK_DIR.glob("*.py"), NOTEBOOK_DIR / "jupytext.toml"]
    for path in files:
        shutil.copy2(path, copy / path.name)  # modification times decide which side wins
    done = subprocess.run(
        recipe, shell=True, capture_output=True, text=True, cwd=tmp_path, timeout=300
    )
    assert done.returncode == 0, done.stdout + done.stderr
    changed = sorted(
        path.name
        for path in copy.iterdir()
        if not (NOTEBOOK_DIR / path.name).is_file()
        or path.read_bytes() != (NOTEBOOK_DIR / path.name).read_bytes()
    )
    assert not changed, f"`make sync` would change or create {changed}: run it and commit"


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem)
def test_script_has_the_same_cells_as_its_notebook(notebook):
    script = notebook.with_suffix(".py")
    assert script.is_file(), f"{script.name} is missing: run `make sync`"
    from_script = jupytext.read(script)
    from_notebook = jupytext.read(notebook)
    try:
        compare_notebooks(from_script, from_notebook, fmt=FORMAT, raise_on_first_difference=False)
    except NotebookDifference as difference:
        # the cells that differ, then the script as `make sync` would write it from the notebook
        diff = difflib.unified_diff(
            script.read_text(encoding="utf-8").splitlines(),
            jupytext.writes(from_notebook, FORMAT).splitlines(),
            f"{script.name} (committed)",
            f"{script.name} (from {notebook.name})",
            lineterm="",
        )
        pytest.fail(
            f"{script.name} and {notebook.name} differ: {difference}. Run `make sync` "
            "(the newer of the two wins) and commit both\n" + "\n".join(list(diff)[:80])
        )
    assert from_script.metadata["kernelspec"]["name"] == analysis.KERNEL_NAME


def test_every_script_has_its_notebook():
    scripts = {p.stem for p in NOTEBOOK_DIR.glob("*.py")}
    assert scripts, "no paired scripts: run `make sync`"
    orphans = scripts - {p.stem for p in NOTEBOOKS}
    assert not orphans, f"scripts without a notebook: {sorted(orphans)}"


def _leftovers(path: Path) -> list[str]:
    """What an executed or saved notebook leaves behind, cell by cell."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    found = []
    for number, cell in enumerate(nb["cells"], 1):
        if cell.get("outputs"):
            found.append(f"cell {number}: {len(cell['outputs'])} outputs")
        if cell.get("execution_count") is not None:
            found.append(f"cell {number}: execution count {cell['execution_count']}")
    return found


def _verify_stripped(cwd: Path) -> subprocess.CompletedProcess:
    """`make strip` in nbstripout's check mode (--verify: report, change nothing)."""
    recipe = make_recipe("strip")
    assert "nbstripout" in recipe and recipe.endswith(" notebooks/*.ipynb"), recipe
    return subprocess.run(
        f"{recipe} --verify", shell=True, capture_output=True, text=True, cwd=cwd, timeout=120
    )


def test_notebooks_carry_no_outputs_or_volatile_metadata():
    assert NOTEBOOKS
    done = _verify_stripped(ROOT)  # exit 1 and a line per notebook it would strip
    details = {p.name: _leftovers(p) for p in NOTEBOOKS}
    details = {name: found for name, found in details.items() if found}
    assert done.returncode == 0 and not details, (
        "notebooks with outputs, execution counts or volatile metadata: run `make strip`\n"
        f"{done.stdout}{done.stderr}{details or ''}"
    )


def test_the_strip_check_catches_a_notebook_saved_after_a_run(tmp_path):
    """Not vacuous: outputs, a count or only the Python version JupyterLab records all fail."""
    folder = tmp_path / "notebooks"
    folder.mkdir()
    original = NOTEBOOKS[0].read_text(encoding="utf-8")

    def run(nb):
        code = next(c for c in nb["cells"] if c["cell_type"] == "code")
        code["outputs"] = [{"output_type": "stream", "name": "stdout", "text": ["1\n"]}]
        code["execution_count"] = 1

    def python_version(nb):
        nb["metadata"]["language_info"]["version"] = "3.11.2"

    def papermill(nb):
        nb["metadata"]["papermill"] = {"duration": 1.5}

    def nothing(nb):
        pass

    for change in (run, python_version, papermill, nothing):
        nb = json.loads(original)
        change(nb)
        (folder / f"{change.__name__}.ipynb").write_text(json.dumps(nb), encoding="utf-8")
    done = _verify_stripped(tmp_path)
    assert done.returncode == 1, done.stdout + done.stderr
    flagged = sorted(re.findall(r"notebooks/(\w+)\.ipynb", done.stdout))
    assert flagged == ["papermill", "python_version", "run"], done.stdout
    assert _leftovers(folder / "run.ipynb") == ["cell 2: 1 outputs", "cell 2: execution count 1"]
