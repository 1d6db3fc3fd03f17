"""JupyterLab itself, in Debian's Chromium driven by Playwright: what an analyst does first.

`make lab`'s own command (``running_lab``) serves a copy of the notebooks, so that saving
does not touch the project's files. In the browser: JupyterLab loads with no dialog and no
news prompt; the indicators notebook is opened from the file browser by a double click;
the notebook's toolbar names the project kernel; its parameters cell is edited (the
language switched to English) by typing into the cell's editor; Run > Run All Cells runs
it; File > Save Notebook saves it. Then the saved ``.ipynb`` on disk must hold the edit,
an execution count in every code cell and no error output, be on the project kernel, and
jupytext must have written the paired ``.py`` with the edit. The REST-level checks of the
same server (every notebook opens, one runs over the websocket) are in
``test_jupyter_server.py``.
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import nbformat
import pytest
from playwright.sync_api import expect, sync_playwright

import analysis
from analysis.core import i18n
from tests.helpers import CHROMIUM, CHROMIUM_FLAGS
from tests.integration.test_jupyter_server import running_lab

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = "02_indicators.ipynb"
RUN_TIMEOUT = 600_000  # ms: the whole notebook on a busy machine
SAVE_TIMEOUT = 60  # s
UI_TIMEOUT = 120_000  # ms: JupyterLab's first load builds its page from many bundles

# finished: nothing queued or running ([*]) and the first cell has run; a failing cell
# stops the rest, whose prompts are then cleared, so a failure also ends the wait
_DONE = """() => {
  const prompts = [...document.querySelectorAll(
    '.jp-NotebookPanel:not(.lm-mod-hidden) .jp-CodeCell .jp-InputArea-prompt'
  )].map(p => p.textContent.trim());
  return prompts.length > 0 && !prompts.some(p => p.includes('*')) && /\\d/.test(prompts[0]);
}"""


@pytest.fixture(scope="module")
def served(small_province, tmp_path_factory):
    """A copy of the notebooks (script and notebook with their times), and a server on it."""
    home = tmp_path_factory.mktemp("jupyterlab-ui")
    copy = home / "notebooks"
    shutil.copytree(ROOT / "notebooks", copy, copy_function=shutil.copy2)
    # every cell attached to the page, so that the prompts of the last cells can be read
    tracker = home / "lab-settings" / "@jupyterlab" / "notebook-extension"
    tracker.mkdir(parents=True)
    (tracker / "tracker.jupyterlab-settings").write_text(json.dumps({"windowingMode": "none"}))
    with running_lab(small_province, home, notebook_dir=copy) as server:
        yield server, copy


def _parameters(path: Path) -> tuple[int, str]:
    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    (index,) = [i for i, c in enumerate(code) if "parameters" in c.metadata.get("tags", [])]
    return index, code[index].source


def _no_dialog(page) -> None:
    dialogs = page.locator(".jp-Dialog")
    assert dialogs.count() == 0, dialogs.all_inner_texts()
    toasts = page.locator(".jp-toast-message, .Toastify__toast")  # the news prompt is a toast
    assert toasts.count() == 0, toasts.all_inner_texts()


def test_an_analyst_opens_edits_runs_and_saves_a_notebook_in_jupyterlab(served):
    lab, folder = served
    assert CHROMIUM.is_file(), f"{CHROMIUM} missing: `make browser` installs Debian's chromium"
    spec = lab.ok("GET", "/api/kernelspecs")["kernelspecs"][analysis.KERNEL_NAME]["spec"]
    index, source = _parameters(folder / NOTEBOOK)
    edited = source.replace('lang = "vi"', 'lang = "en"', 1)
    assert edited != source, source
    before = {p: p.stat().st_mtime_ns for p in (folder / NOTEBOOK, folder / "02_indicators.py")}
    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.set_default_timeout(UI_TIMEOUT)
            errors: list[str] = []
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.goto(f"{lab.url}/lab/workspaces/ui-test?reset&token={lab.token}")
            # the file browser lists the notebooks: open one as an analyst does
            item = page.locator(".jp-DirListing-item", has_text=NOTEBOOK)
            item.dblclick()
            panel = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden)")
            panel.locator(".jp-CodeCell").first.wait_for()
            # the toolbar names the project kernel (once the kernel has started)
            expect(panel.locator(".jp-KernelName")).to_have_text(
                spec["display_name"], timeout=UI_TIMEOUT
            )
            page.wait_for_timeout(1500)  # a prompt (kernel choice, news) would show by now
            _no_dialog(page)
            # edit the parameters cell in its editor: select all of it, type the new source
            editor = panel.locator(".jp-CodeCell").nth(index).locator(".cm-content")
            editor.click()
            page.keyboard.press("Control+a")
            page.keyboard.insert_text(edited)  # as typed, without the editor's auto-indent
            page.keyboard.press("Escape")  # command mode, as after editing
            # Run > Run All Cells, then wait until the kernel has gone through them
            page.locator(".lm-MenuBar-item", has_text="Run").click()
            page.locator('.lm-Menu-item[data-command="runmenu:run-all"]').click()
            page.wait_for_function(_DONE, timeout=RUN_TIMEOUT)
            dirty = page.locator(".lm-DockPanel-tabBar .jp-mod-dirty")  # the notebook's tab
            expect(dirty).to_have_count(1)  # the edit and the run changed it
            # File > Save Notebook, then wait for both files of the pair on disk
            page.locator(".lm-MenuBar-item", has_text="File").click()
            page.locator('.lm-Menu-item[data-command="docmanager:save"]').click()
            # saved once both files of the pair are rewritten and the tab is no longer dirty
            # (the browser must stay open until then: closing it would drop the request)
            deadline = time.monotonic() + SAVE_TIMEOUT
            while any(p.stat().st_mtime_ns <= t for p, t in before.items()):
                assert time.monotonic() < deadline, f"not saved in {SAVE_TIMEOUT} s"
                page.wait_for_timeout(200)
            expect(dirty).to_have_count(0)
            _no_dialog(page)
            assert not errors, errors
        finally:
            browser.close()
    saved = nbformat.read(folder / NOTEBOOK, as_version=4)
    assert saved.metadata["kernelspec"]["name"] == analysis.KERNEL_NAME
    code = [c for c in saved.cells if c.cell_type == "code"]
    assert code[index].source == edited
    problems = [
        f"cell {n}: {o.get('ename')}: {o.get('evalue')}"
        for n, cell in enumerate(code, 1)
        for o in cell.outputs
        if o.output_type == "error"
        or (o.output_type == "stream" and o.name == "stderr" and "Traceback" in o.text)
    ]
    assert not problems, problems
    unrun = [n for n, c in enumerate(code, 1) if c.source.strip() and not c.execution_count]
    assert not unrun, f"cells not run: {unrun}"
    # English output: the edit reached the kernel
    text = json.dumps([o for cell in code for o in cell.outputs], ensure_ascii=False)
    title = "indicators_title"
    assert i18n.label("notebooks", title, "en") in text
    assert i18n.label("notebooks", title, "vi") not in text
    script = (folder / "02_indicators.py").read_text(encoding="utf-8")
    assert 'lang = "en"' in script and 'lang = "vi"' not in script  # jupytext wrote the pair
    # the project's own notebooks are untouched
    assert 'lang = "vi"' in (ROOT / "notebooks" / "02_indicators.py").read_text(encoding="utf-8")
