"""JupyterLab as `make lab` starts it: a real server on localhost opens every notebook and runs one.

The server is the Makefile's own `lab` command (plus a port, a token and no browser), so
what is tested is what an analyst gets. Through its REST API every notebook is opened (the
jupytext contents manager reads it with its paired script, on the project kernel). One
notebook gets the edit an analyst would make first, its language parameter changed to
English; then a session on its kernel is started and every code cell is executed in
order over the kernel's websocket, as JupyterLab does. Any error output, or a traceback
on stderr, fails with the notebook, the cell and the traceback.

Only one notebook is executed here: what the server adds (the contents manager, the
session, the websocket) is the same for all of them, and every notebook is already
executed top to bottom as saved by nbval and again by the papermill repeat of the plan
(``tests/e2e/test_end_to_end.py``). Running all of them a third time cost a minute of
the suite.

The data are the small province's processed tables, passed as ``WORKBENCH_PROCESSED`` to
the server, whose kernels inherit it. No process outlives the module: sessions are deleted
after each notebook, the server is shut down, and every process it started is waited for
(and killed if it lingers).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import shlex
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import psutil
import pytest
import requests
import websocket

import analysis
from analysis.core import i18n
from tests.integration.test_notebook_files import make_recipe

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted(p.name for p in (ROOT / "notebooks").glob("*.ipynb"))
START_TIMEOUT = 180  # the server on a busy machine
CELL_TIMEOUT = 600
# the notebook an analyst opens and switches to English before running it
ENGLISH = "02_indicators.ipynb"
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")

pytestmark = pytest.mark.slow


@dataclass
class Lab:
    url: str
    token: str = field(repr=False)
    process: subprocess.Popen = field(repr=False)
    log: Path
    started: dict[int, psutil.Process] = field(default_factory=dict, repr=False)

    def api(self, method: str, path: str, **kwargs) -> requests.Response:
        headers = {"Authorization": f"token {self.token}"}
        return requests.request(method, self.url + path, headers=headers, timeout=60, **kwargs)

    def ok(self, method: str, path: str, **kwargs) -> dict:
        response = self.api(method, path, **kwargs)
        assert response.ok, f"{method} {path}: {response.status_code} {response.text[:2000]}"
        return response.json() if response.content else {}

    def note_children(self) -> None:
        """Remember every process the server started (kernels), to be sure they end."""
        try:
            for child in psutil.Process(self.process.pid).children(recursive=True):
                self.started.setdefault(child.pid, child)
        except psutil.NoSuchProcess:
            pass

    def tail(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")[-4000:]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _stop(lab: Lab) -> list[str]:
    """Shut the server down and wait for it and every process it started; what lingered."""
    lab.note_children()
    with contextlib.suppress(requests.RequestException):
        lab.api("POST", "/api/shutdown")  # also shuts its kernels down
    try:
        lab.process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(lab.process.pid, 9)
        lab.process.wait(timeout=30)
    _, alive = psutil.wait_procs(list(lab.started.values()), timeout=20)
    lingered = []
    for process in alive:
        try:
            lingered.append(" ".join(process.cmdline()))
            process.kill()
        except psutil.NoSuchProcess:
            pass
    psutil.wait_procs(alive, timeout=10)
    return lingered


@contextlib.contextmanager
def running_lab(processed: Path, home: Path, notebook_dir: Path | None = None):
    """`make lab`'s own command on a free port with a token; stopped, with its kernels, after.

    ``notebook_dir`` serves a copy of the notebooks instead of the project's (for a test
    that saves); the user's Jupyter settings stay out, under ``home``.
    """
    port, token = _free_port(), secrets.token_hex(16)
    command = shlex.split(make_recipe("lab"))
    assert Path(command[0]).name == "jupyter" and command[1] == "lab", command
    # `make lab` itself passes --allow-root as root (containers, CI) and only then
    assert ("--allow-root" in command) == (os.geteuid() == 0), command
    command += [
        "--no-browser",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
    ]
    if notebook_dir is not None:  # in place of the recipe's own (one value only)
        (at,) = [i for i, arg in enumerate(command) if arg.startswith("--notebook-dir=")]
        command[at] = f"--notebook-dir={notebook_dir}"
    env = {
        **os.environ,
        "WORKBENCH_PROCESSED": str(processed),
        "WORKBENCH_HOME": str(ROOT),
        # the user's own Jupyter and IPython settings stay out (the environment's apply)
        "JUPYTER_CONFIG_DIR": str(home / "config"),
        "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
        "JUPYTERLAB_SETTINGS_DIR": str(home / "lab-settings"),
        "JUPYTERLAB_WORKSPACES_DIR": str(home / "lab-workspaces"),
        "IPYTHONDIR": str(home / "ipython"),
    }
    log = home / "server.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = Lab(f"http://127.0.0.1:{port}", token, process, log)
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            assert process.poll() is None, f"`make lab` exited:\n{server.tail()}"
            assert time.monotonic() < deadline, f"no answer in {START_TIMEOUT} s:\n{server.tail()}"
            try:
                if server.api("GET", "/api/status").ok:
                    break
            except requests.ConnectionError:
                pass
            time.sleep(0.3)
        yield server
    finally:
        lingered = _stop(server)
    assert not lingered, f"processes outlived the server: {lingered}"


@pytest.fixture(scope="module")
def lab(small_province, tmp_path_factory):
    with running_lab(small_province, tmp_path_factory.mktemp("jupyter")) as server:
        yield server


# --------------------------------------------------------------------------
# A kernel over the websocket, as JupyterLab talks to it


class Kernel:
    def __init__(self, lab: Lab, kernel_id: str):
        self.session = uuid.uuid4().hex
        url = lab.url.replace("http", "ws", 1)
        self.ws = websocket.create_connection(
            f"{url}/api/kernels/{kernel_id}/channels?session_id={self.session}",
            header=[f"Authorization: token {lab.token}"],
            timeout=CELL_TIMEOUT,
        )

    def close(self) -> None:
        self.ws.close()

    def send(self, msg_type: str, content: dict) -> str:
        msg_id = uuid.uuid4().hex
        header = {
            "msg_id": msg_id,
            "msg_type": msg_type,
            "username": "test",
            "session": self.session,
            "date": datetime.now(UTC).isoformat(),
            "version": "5.3",
        }
        message = {"header": header, "parent_header": {}, "metadata": {}, "content": content}
        self.ws.send(json.dumps({**message, "channel": "shell", "buffers": []}))
        return msg_id

    def replies(self, msg_id: str, deadline: float):
        """The messages answering ``msg_id``, until the deadline."""
        while True:
            self.ws.settimeout(max(1.0, deadline - time.monotonic()))
            if time.monotonic() > deadline:
                raise TimeoutError
            try:
                frame = self.ws.recv()
            except websocket.WebSocketTimeoutException:
                raise TimeoutError from None
            if isinstance(frame, bytes):  # messages with binary buffers (widgets): not ours
                continue
            message = json.loads(frame)
            if message.get("parent_header", {}).get("msg_id") == msg_id:
                yield message

    def wait_ready(self, timeout: float = START_TIMEOUT) -> dict:
        deadline = time.monotonic() + timeout
        while True:  # a request sent while the kernel starts may go unanswered: ask again
            msg_id = self.send("kernel_info_request", {})
            try:
                for message in self.replies(msg_id, min(deadline, time.monotonic() + 5)):
                    if message["msg_type"] == "kernel_info_reply":
                        return message["content"]
            except TimeoutError:
                if time.monotonic() > deadline:
                    raise

    def execute(self, code: str) -> tuple[dict, list[dict]]:
        """Run code; its execute_reply and its outputs (as notebook outputs)."""
        msg_id = self.send(
            "execute_request",
            {
                "code": code,
                "silent": False,
                "store_history": True,
                "user_expressions": {},
                "allow_stdin": False,
                "stop_on_error": True,
            },
        )
        reply, outputs, idle = None, [], False
        for message in self.replies(msg_id, time.monotonic() + CELL_TIMEOUT):
            kind, content = message["msg_type"], message["content"]
            if message["channel"] == "shell" and kind == "execute_reply":
                reply = content
            elif kind == "status" and content["execution_state"] == "idle":
                idle = True
            elif kind in ("stream", "display_data", "execute_result", "error"):
                outputs.append({"output_type": kind, **content})
            if reply is not None and idle:
                return reply, outputs
        raise AssertionError("unreachable")


def _problem(reply: dict, outputs: list[dict]) -> str | None:
    """The error of a cell, with its traceback, if it has one."""
    for output in outputs:
        if output["output_type"] == "error":
            return ANSI.sub("", "\n".join(output["traceback"])) or output["evalue"]
        if (
            output["output_type"] == "stream"
            and output["name"] == "stderr"
            and "Traceback" in output["text"]
        ):
            return output["text"]
    if reply.get("status") != "ok":
        return ANSI.sub("", "\n".join(reply.get("traceback", []))) or json.dumps(reply)
    return None


def _text(outputs: list[dict]) -> str:
    parts = []
    for output in outputs:
        data = output.get("data", {})
        parts += [output.get("text", ""), data.get("text/markdown", ""), data.get("text/plain", "")]
        parts.append(data.get("text/html", ""))
    return "\n".join(str(p) for p in parts)


# --------------------------------------------------------------------------


def test_make_lab_serves_jupyterlab_on_the_project_kernel(lab, small_province):
    specs = lab.ok("GET", "/api/kernelspecs")
    assert specs["default"] == analysis.KERNEL_NAME
    assert analysis.KERNEL_NAME in specs["kernelspecs"]
    page = lab.api("GET", "/lab", allow_redirects=False)
    assert page.status_code == 200 and "JupyterLab" in page.text, page.status_code
    anonymous = requests.get(lab.url + "/api/contents", timeout=60)
    assert anonymous.status_code == 403  # the token is required
    # no news prompt and no update check: the project's overrides, over the user's settings
    news = lab.ok("GET", "/lab/api/settings/@jupyterlab/apputils-extension:notification")
    defaults = {k: v.get("default") for k, v in news["schema"]["properties"].items()}
    composite = {**defaults, **news["settings"]}  # what JupyterLab applies
    assert composite["fetchNews"] == "false" and composite["checkForUpdates"] is False, composite
    # the notebooks and, through jupytext, their scripts open as notebooks
    listing = {item["name"]: item["type"] for item in lab.ok("GET", "/api/contents")["content"]}
    for name in NOTEBOOKS:
        assert listing.get(name) == "notebook", name
        assert listing.get(name.replace(".ipynb", ".py")) == "notebook", name
    # a kernel started without a name is the project kernel, from this environment
    kernel = lab.ok("POST", "/api/kernels", json={})
    try:
        assert kernel["name"] == analysis.KERNEL_NAME
        lab.note_children()
        channels = Kernel(lab, kernel["id"])
        try:
            channels.wait_ready()
            code = (
                "import sys, analysis\nfrom analysis import paths\n"
                "print(sys.prefix, analysis.__file__, paths.processed_dir(), sep='\\n')"
            )
            reply, outputs = channels.execute(code)
            assert _problem(reply, outputs) is None, outputs
            prefix, module, processed = [x for x in _text(outputs).splitlines() if x][:3]
            assert Path(prefix) == Path(sys.prefix)
            assert Path(module).resolve() == Path(analysis.__file__).resolve()
            # the notebooks' default data: the small province, inherited from the server
            assert Path(processed) == small_province.resolve()
            # what counts as a failed cell: an error, or a traceback printed to stderr
            for code in (
                "1 / 0",
                "import traceback\ntry:\n    1 / 0\nexcept Exception:\n    traceback.print_exc()",
            ):
                problem = _problem(*channels.execute(code))
                assert problem and "ZeroDivisionError" in problem, (code, problem)
        finally:
            channels.close()
    finally:
        lab.api("DELETE", f"/api/kernels/{kernel['id']}")
    assert kernel["id"] not in {k["id"] for k in lab.ok("GET", "/api/kernels")}


def _open(lab: Lab, name: str) -> dict:
    """A notebook opened through the server, as JupyterLab's file browser opens it."""
    opened = lab.api("GET", f"/api/contents/{name}", params={"type": "notebook", "content": 1})
    if opened.status_code == 400 and "is more recent than" in opened.text:
        # jupytext refuses to open a notebook whose script is older and differs, in the lab too
        pytest.fail(f"{name} and its .py differ: run `make sync`\n{opened.json()['message']}")
    assert opened.ok, f"GET {name}: {opened.status_code} {opened.text[:2000]}"
    model = opened.json()
    nb = model["content"]
    assert nb["metadata"]["kernelspec"]["name"] == analysis.KERNEL_NAME
    # opened through jupytext: the inputs come from the paired py:percent script
    paired = nb["metadata"].get("jupytext", {}).get("text_representation", {})
    assert paired.get("format_name") == "percent", nb["metadata"]
    return nb


def _open_and_run(lab: Lab, name: str) -> list[list[dict]]:
    """Open a notebook through the server, run every code cell on its kernel; the outputs."""
    nb = _open(lab, name)
    cells = nb["cells"]
    if name == ENGLISH:  # what an analyst does: edit the parameters cell, then run all
        (parameters,) = [c for c in cells if "parameters" in c["metadata"].get("tags", [])]
        source, count = re.subn(r'^lang = "vi"', 'lang = "en"', parameters["source"], flags=re.M)
        assert count == 1, parameters["source"]
        parameters["source"] = source
    session = lab.ok(
        "POST",
        "/api/sessions",
        json={
            "path": name,
            "name": name,
            "type": "notebook",
            "kernel": {"name": nb["metadata"]["kernelspec"]["name"]},
        },
    )
    kernel = session["kernel"]
    assert kernel["name"] == analysis.KERNEL_NAME
    lab.note_children()
    ran: list[list[dict]] = []
    try:
        channels = Kernel(lab, kernel["id"])
        try:
            channels.wait_ready()
            for number, cell in enumerate(cells, 1):
                if cell["cell_type"] != "code" or not cell["source"].strip():
                    continue
                try:
                    reply, outputs = channels.execute(cell["source"])
                except TimeoutError:
                    pytest.fail(f"{name}, cell {number}: no result in {CELL_TIMEOUT} s")
                problem = _problem(reply, outputs)
                if problem:
                    first = cell["source"].splitlines()[0]
                    pytest.fail(f"{name}, cell {number} ({first!r}) failed:\n{problem}")
                ran.append(outputs)
        finally:
            channels.close()
    finally:
        lab.api("DELETE", f"/api/sessions/{session['id']}")
    assert len(ran) == sum(c["cell_type"] == "code" for c in cells)
    return ran


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_every_notebook_opens_through_the_server_on_the_project_kernel(lab, name):
    nb = _open(lab, name)
    assert any(c["cell_type"] == "code" for c in nb["cells"]), name


def test_an_edited_notebook_runs_top_to_bottom_through_the_server(lab):
    ran = _open_and_run(lab, ENGLISH)  # a failure names the cell and its traceback
    text = "\n".join(_text(outputs) for outputs in ran)
    assert any("image/png" in o.get("data", {}) for outputs in ran for o in outputs)
    title = "indicators_title"
    assert f"## {i18n.label('notebooks', title, 'en')}" in text
    assert i18n.label("notebooks", title, "vi") not in text
