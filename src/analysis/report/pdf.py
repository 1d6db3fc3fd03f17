"""HTML printed to PDF by headless Chromium (the browser the tests already use).

Chromium lays out the page with the print rules of its stylesheet (``@page`` size,
margins and the page number in the top margin box), so the PDF of a
:class:`~analysis.report.document.Document` is the same document as its Word file, from
the same blocks. Chromium is found in ``$WORKBENCH_CHROMIUM``, then on the ``PATH``
(``chromium``, ``chromium-browser``, ``google-chrome``); ``make browser`` installs
Debian's. It runs without its sandbox only when the process is root (containers), where
the sandbox cannot start.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from analysis.core import files

NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
PAGE = re.compile(rb"/Type\s*/Page(?![s\w])")  # a page object, not the /Pages tree


class PdfError(RuntimeError):
    """No Chromium, or Chromium did not write the PDF."""


def chromium() -> Path:
    """The Chromium to print with.

    Raises
    ------
    PdfError
        ``$WORKBENCH_CHROMIUM`` names no program and none of :data:`NAMES` is on the path.
    """
    given = os.environ.get("WORKBENCH_CHROMIUM")
    if given:
        if Path(given).is_file() and os.access(given, os.X_OK):
            return Path(given)
        raise PdfError(f"WORKBENCH_CHROMIUM={given} is not an executable file")
    for name in NAMES:
        found = shutil.which(name)
        if found:
            return Path(found)
    raise PdfError(
        "no Chromium found to print the PDF: run `make browser` (Debian's chromium), or set "
        "WORKBENCH_CHROMIUM to a Chromium or Chrome program"
    )


def html_to_pdf(html: str, path: Path, *, timeout: float = 180.0) -> Path:
    """Print the page ``html`` to ``path`` (A4 and margins as its ``@page`` rule says).

    Raises
    ------
    PdfError
        No Chromium, or it failed or timed out (its last error lines are in the message).
    """
    program = chromium()
    path = Path(path)
    with tempfile.TemporaryDirectory(prefix="workbench-pdf-") as scratch:
        page = Path(scratch) / "document.html"
        page.write_text(html, encoding="utf-8")
        printed = Path(scratch) / "document.pdf"
        command = [
            str(program),
            "--headless",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--no-pdf-header-footer",  # no URL or date in the margins: the page sets them
            f"--user-data-dir={Path(scratch) / 'profile'}",
            f"--print-to-pdf={printed}",
            page.as_uri(),
        ]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            command.insert(1, "--no-sandbox")  # root in a container: no sandbox can start
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired as exc:
            raise PdfError(f"{program} did not print the PDF within {timeout:.0f} s") from exc
        if not printed.is_file() or printed.stat().st_size == 0:
            tail = "\n".join((done.stderr or "").strip().splitlines()[-5:])
            raise PdfError(f"{program} wrote no PDF (exit {done.returncode}): {tail}")
        files.atomic_write(path, printed.read_bytes())
    return path


def page_count(path: Path) -> int:
    """The pages of a PDF Chromium printed (its page objects are not compressed)."""
    return len(PAGE.findall(Path(path).read_bytes()))
