"""Where a plan's outputs live: the shared folder and the internal one beside it.

``reports/<plan>/`` holds only what a reader may receive — the index, the report pages
of the runs that are not internal, their data CSVs, ``figures.csv`` and the KPI workbook
(privacy rules applied) — so publishing the folder as it is leaks nothing the share
bundle would refuse. ``reports/<plan>.internal/`` holds what stays with the team: the
executed notebooks, the pages with code, the pages and data of internal runs, the
manifest (server paths, every parameter), the full key figures and the caches.

Paths recorded in the manifest (a run's ``output``, a table's ``file``, a page's link)
are relative to the shared folder, so ``out_dir / path`` finds a file in either folder
and a link from the index works in a browser.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from pathlib import Path

SUFFIX = ".internal"
# the supervision report (`workbench report`), in the shared folder beside index.html
DOCUMENT_STEMS = {"vi": "bao-cao-cds-{school_year}", "en": "cds-report-{school_year}"}
DOCUMENT_FORMATS = ("docx", "pdf")


def internal_dir(out_dir: Path) -> Path:
    """``reports/<plan>.internal``: the internal folder beside the shared ``out_dir``."""
    out_dir = Path(out_dir)
    return out_dir.with_name(out_dir.name + SUFFIX)


def manifest_path(out_dir: Path) -> Path:
    """The manifest of the plan whose shared folder is ``out_dir``."""
    return internal_dir(out_dir) / "manifest.json"


def cache_dir(out_dir: Path) -> Path:
    """The runner's caches (run records, shared tables, rendered pages, KPI stamp)."""
    return internal_dir(out_dir) / ".cache"


def notebooks_dir(out_dir: Path) -> Path:
    """The executed notebooks."""
    return internal_dir(out_dir) / "notebooks"


def html_dir(out_dir: Path, *, internal: bool) -> Path:
    """Report pages: the shared ``html/``, or the internal one (code pages, internal runs)."""
    return (internal_dir(out_dir) if internal else Path(out_dir)) / "html"


def data_root(out_dir: Path, *, internal: bool) -> Path:
    """Tables as CSV: the shared ``data/``, or the internal one (internal runs)."""
    return (internal_dir(out_dir) if internal else Path(out_dir)) / "data"


def relative(out_dir: Path, path: Path) -> str:
    """``path`` relative to the shared folder (``../<plan>.internal/…`` for internal files)."""
    return Path(os.path.relpath(Path(path).absolute(), Path(out_dir).absolute())).as_posix()


def remove_legacy(out_dir: Path) -> list[Path]:
    """Delete what an earlier version of the runner left in the shared folder (the
    manifest, the caches, executed notebooks, pages with code), so an upgraded plan's
    shared folder holds only what a reader may receive. Returns what was deleted.

    Only the runner's own files go: a manifest with ``plan`` and ``runs``, notebooks that
    papermill executed, ``*.code.html`` pages and the ``.cache`` folder.
    """
    out_dir = Path(out_dir)
    gone: list[Path] = []
    manifest = out_dir / "manifest.json"
    try:
        if manifest.is_file() and {"plan", "runs"} <= set(json.loads(manifest.read_text("utf-8"))):
            gone.append(manifest)
    except (OSError, ValueError, TypeError):
        pass
    for notebook in sorted((out_dir / "notebooks").glob("*.ipynb")):
        try:
            if "papermill" in json.loads(notebook.read_text("utf-8")).get("metadata", {}):
                gone.append(notebook)
        except (OSError, ValueError, AttributeError):
            continue
    gone += sorted((out_dir / "html").glob("*.code.html"))
    for path in gone:
        path.unlink(missing_ok=True)
    with contextlib.suppress(OSError):  # only when nothing else is in it
        (out_dir / "notebooks").rmdir()
    if (out_dir / ".cache").is_dir():
        shutil.rmtree(out_dir / ".cache", ignore_errors=True)
        gone.append(out_dir / ".cache")
    return gone


def document_stem(lang: str, year: int) -> str:
    """``bao-cao-cds-2024-2025`` (``cds-report-…`` in English): the supervision report of
    the school year ending in ``year``, without its suffix."""
    return DOCUMENT_STEMS[lang].format(school_year=f"{year - 1}-{year}")


def document_of(path: Path) -> tuple[str, int] | None:
    """(language, school year's end year) of a supervision report's file name
    (``bao-cao-cds-2024-2025.docx`` → ``("vi", 2025)``); None for any other name."""
    for lang, stem in DOCUMENT_STEMS.items():
        prefix = stem.format(school_year="")
        rest = Path(path).stem.removeprefix(prefix)
        start, _, end = rest.partition("-")
        if rest != Path(path).stem and start.isdigit() and end.isdigit():
            return lang, int(end)
    return None


def documents(folder: Path) -> list[Path]:
    """The supervision reports written in ``folder`` (either language, Word and PDF)."""
    found: list[Path] = []
    for stem in DOCUMENT_STEMS.values():
        pattern = stem.format(school_year="*")
        found += [p for f in DOCUMENT_FORMATS for p in sorted(Path(folder).glob(f"{pattern}.{f}"))]
    return found
