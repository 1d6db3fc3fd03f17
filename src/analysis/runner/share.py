"""The share bundle: one zip of what a plan's readers may receive (``workbench share PLAN``).

The bundle holds, under a folder named after the plan:

* ``index.html`` and ``runs.html`` — the front page and the run log of the runs in the
  bundle (the front page's tables in ``data/front/``), no links to
  the pages with code or the manifest;
* ``html/<run>.report.html`` — the reports without code (privacy applied when
  they were rendered);
* ``data/<run>/<name>.csv`` — the tables and the data behind the figures;
* ``figures.csv`` — the key figures of the runs in the bundle;
* ``kpi_<lang>.xlsx`` — the KPI workbook with the privacy rules applied;
* the supervision report (``bao-cao-cds-<school year>.docx`` and ``.pdf``) when
  ``workbench report`` has written it: its text is searched like the pages (the PDF,
  printed from the same document, goes with its Word file).

Left out: internal runs (the plan's ``internal: true`` or the notebook's
``record.internal``), failed runs, the pages with code, the executed notebooks
and ``manifest.json`` (which names server paths and every parameter). Before the
zip is written every page, CSV and the workbook are scanned
(:func:`analysis.privacy.scan`), and every file is searched for what belongs to the
server (:func:`server_traces`: a folder path, the machine's name, a cell's error output);
a problem stops the bundle (:class:`ShareRefused`). A plan whose runs are all internal
or failed has nothing to share (:class:`NothingToShare`).
"""

from __future__ import annotations

import io
import os
import re
import socket
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from analysis.report import privacy
from analysis.runner import layout, render


class NotRunError(RuntimeError):
    """The plan has no finished run in its reports folder."""


class NothingToShare(NotRunError):
    """Every run of the plan is internal or failed: there is nothing a reader may receive."""


# What belongs to the server, never to a reader: a folder path of a POSIX or Windows
# machine (home, temp, environments), and the error stream of a notebook cell as
# nbconvert renders it.
SERVER_PATH = re.compile(
    r"(?<![\w.])(?:/(?:home|root|tmp|usr|opt|var|srv|work|mnt|private|Users)/[^\s\"'<>]+"
    r"|[A-Za-z]:\\(?:Users|Program Files|ProgramData|Windows)\\[^\s\"'<>]+"
    r"|site-packages/[^\s\"'<>]*)"  # no unbounded run before it: pages hold long base64 images
)
# an element's attribute, not the stylesheet's rule for it (which every page carries)
STDERR = re.compile(r'data-mime-type="application/vnd\.jupyter\.stderr"|class="[^"]*output_stderr')


def server_traces(name: str, content: bytes, *, host: str | None = None) -> list[str]:
    """What in one file of the bundle belongs to the server: folder paths, the host's
    name, a cell's error output. One line per kind found, naming the file and an example.
    """
    office = name.endswith((".xlsx", ".docx"))
    text = content.decode("utf-8", errors="replace") if not office else ""
    if office:  # a workbook's cells and a Word file's text are XML inside the zip
        with zipfile.ZipFile(io.BytesIO(content)) as book:
            text = " ".join(book.read(n).decode("utf-8", "replace") for n in book.namelist()
                            if n.endswith(".xml"))  # fmt: skip
    host = socket.gethostname() if host is None else host
    problems = []
    if m := SERVER_PATH.search(text):
        problems.append(f"{name}: a server path ({m.group(0)[:80]})")
    if host and len(host) >= 4 and re.search(rf"(?<![\w-]){re.escape(host)}(?![\w-])", text):
        problems.append(f"{name}: the server's name ({host})")
    if name.endswith(".html") and STDERR.search(text):
        problems.append(f"{name}: error output of a notebook cell (warnings or a traceback)")
    return problems


class ShareRefused(RuntimeError):
    """The scan found something the privacy rules forbid; nothing was written."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        shown = "\n  ".join(problems[:20])
        more = f"\n  … and {len(problems) - 20} more" if len(problems) > 20 else ""
        super().__init__(f"{len(problems)} privacy problem(s):\n  {shown}{more}")


@dataclass
class Bundle:
    path: Path
    files: list[str] = field(default_factory=list)  # names inside the zip
    left_out: list[str] = field(default_factory=list)  # what was not shared, and why


ALWAYS_LEFT_OUT = (
    "html/*.code.html (pages with code: the researchers' internal copies)",
    "notebooks/*.ipynb (executed notebooks: full tables)",
    "manifest.json (server paths and every parameter)",
)


def _figures_csv(out_dir: Path, runs: set[str], lang: str) -> bytes:
    path = out_dir / "figures.parquet"
    columns = ["run", "notebook", "name", "value", "label", "unit"]
    frame = pd.read_parquet(path) if path.is_file() else pd.DataFrame(columns=columns)
    frame = privacy.public_figures(frame[frame["run"].isin(runs)], lang=lang)
    return frame.to_csv(index=False, lineterminator="\r\n").encode("utf-8")


def build(out_dir: Path, *, dest: Path | None = None) -> Bundle:
    """Write the share bundle of the plan whose reports are in ``out_dir``.

    Raises NotRunError when the plan has not finished a run there, ShareRefused when the
    scan finds a personal column or an unsuppressed small cell (nothing is written then).
    """
    out_dir = Path(out_dir)
    if not layout.manifest_path(out_dir).is_file():
        raise NotRunError(
            f"the plan has not been run: {layout.internal_dir(out_dir)} has no manifest.json "
            "(a plan writes it when it finishes)"
        )
    manifest = render.load_manifest(out_dir)
    plan, lang = manifest["plan"], manifest.get("lang", "vi")
    files: dict[str, bytes] = {}
    left_out: list[str] = []
    shared_runs, links = [], {}
    for run in manifest["runs"]:
        if run.get("internal"):
            why = "; ".join(run.get("internal_reasons") or []) or "internal"
            left_out.append(f"{run['id']}: internal ({why})")
            continue
        if run.get("status") == "failed":
            left_out.append(f"{run['id']}: failed, its report is incomplete")
            continue
        page = out_dir / "html" / f"{Path(run['output']).stem}.report.html"
        if not run.get("output") or not page.is_file():
            left_out.append(f"{run['id']}: no report page")
            continue
        name = str(page.relative_to(out_dir))
        files[name] = page.read_bytes()
        for table in run.get("tables") or []:
            csv = out_dir / table["file"]
            if csv.is_file():
                files[table["file"]] = csv.read_bytes()
        shared_runs.append(run)
        links[run["id"]] = {"report": name}
    if not shared_runs:  # a zip of an empty index would look like a success
        raise NothingToShare(
            f"{out_dir}: no run can be shared (" + "; ".join(left_out or ["no runs"]) + ")"
        )
    files["figures.csv"] = _figures_csv(out_dir, {r["id"] for r in shared_runs}, lang)
    kpi = manifest.get("kpi_workbook")
    if kpi and (out_dir / kpi).is_file():
        files[kpi] = (out_dir / kpi).read_bytes()
    front = manifest.get("front")
    if front and (out_dir / front).is_dir():
        for csv in sorted((out_dir / front).glob("*.csv")):
            files[str(csv.relative_to(out_dir))] = csv.read_bytes()
    documents = []
    for path in layout.documents(out_dir):  # the supervision report, when written
        if path.suffix == ".pdf" and not path.with_suffix(".docx").is_file():
            left_out.append(f"{path.name}: no Word file of the same report to check it by")
            continue
        files[path.name] = path.read_bytes()
        documents.append(path)
    shared_manifest = {**manifest, "runs": shared_runs}
    files["index.html"] = render.front_html(
        out_dir, shared_manifest, links, shared=True, documents=documents
    ).encode("utf-8")
    files[render.RUNS_PAGE] = render.runs_html(out_dir, shared_manifest, links, shared=True).encode(
        "utf-8"
    )

    problems = scan_files(files, lang=lang, kpi_path=out_dir / kpi if kpi else None)
    if problems:
        raise ShareRefused(problems)
    dest = Path(dest) if dest else out_dir / f"{plan}-share.zip"
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(dest.name + ".tmp")
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as bundle:
        for name in sorted(files):
            bundle.writestr(f"{plan}/{name}", files[name])
    os.replace(tmp, dest)
    return Bundle(dest, sorted(files), [*left_out, *ALWAYS_LEFT_OUT])


def scan_files(files: dict[str, bytes], *, lang: str, kpi_path: Path | None = None) -> list[str]:
    """Privacy problems in the files of a bundle (name → bytes)."""
    problems = []
    for name, content in sorted(files.items()):
        problems += server_traces(name, content)
        if name.endswith(".html"):
            problems += privacy.scan_html(content.decode("utf-8"), where=name, lang=lang)
        elif name.endswith(".csv"):
            frame = pd.read_csv(
                io.BytesIO(content), dtype=str, keep_default_na=False, encoding="utf-8-sig"
            )
            problems += privacy.scan(frame, where=name, parse=privacy.parse_plain)
        elif name.endswith(".xlsx") and kpi_path is not None:
            problems += privacy.scan_workbook(kpi_path, where=name)
    return problems


def scan_zip(path: Path, *, lang: str = "vi") -> list[str]:
    """Privacy problems in a written bundle (every page, CSV and workbook in it)."""
    import tempfile

    problems = []
    with zipfile.ZipFile(path) as bundle, tempfile.TemporaryDirectory() as scratch:
        files = {}
        for info in bundle.infolist():
            name = info.filename.split("/", 1)[-1]
            if name.endswith(".xlsx"):
                target = Path(scratch) / Path(name).name
                target.write_bytes(bundle.read(info))
                problems += privacy.scan_workbook(target, where=name)
            else:
                files[name] = bundle.read(info)
        problems += scan_files(files, lang=lang)
    return problems
