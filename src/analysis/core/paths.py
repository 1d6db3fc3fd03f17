"""Where things live. Every path the workbench uses comes from here.

The project root is ``$WORKBENCH_HOME`` when set, otherwise the nearest folder
above the working directory that holds ``config/columns.yml``, otherwise the
checkout this package was installed from (editable install).
"""

from __future__ import annotations

import os
from pathlib import Path

_MARKER = Path("config") / "columns.yml"


def project_root() -> Path:
    """The workbench project folder (the one holding ``config/columns.yml``).

    Returns
    -------
    Path
        ``$WORKBENCH_HOME`` when set (resolved, not checked); otherwise the
        working directory or the nearest folder above it with
        ``config/columns.yml``; otherwise the checkout the package was installed
        from (editable install).

    Raises
    ------
    FileNotFoundError
        No such folder is found and ``$WORKBENCH_HOME`` is not set.
    """
    env = os.environ.get("WORKBENCH_HOME")
    if env:
        return Path(env).resolve()
    here = Path.cwd().resolve()
    for folder in (here, *here.parents):
        if (folder / _MARKER).is_file():
            return folder
    source = Path(__file__).resolve().parents[2]
    if (source / _MARKER).is_file():
        return source
    raise FileNotFoundError(
        f"cannot find the workbench project (a folder with {_MARKER}); "
        "run from inside the checkout or set WORKBENCH_HOME"
    )


def config_dir() -> Path:
    """``config/`` of the project (:func:`project_root`): the YAML files the workbench reads."""
    return project_root() / "config"


def raw_dir() -> Path:
    """``data/raw`` of the project: the raw school reports (Excel, CSV) ingest reads."""
    return project_root() / "data" / "raw"


def processed_dir() -> Path:
    """``data/processed``, or ``$WORKBENCH_PROCESSED`` (tests, other deployments).

    Returns
    -------
    Path
        The folder ingest writes to and :func:`analysis.datasets.load` reads from
        by default (not created here).
    """
    env = os.environ.get("WORKBENCH_PROCESSED")
    return Path(env).resolve() if env else project_root() / "data" / "processed"


def reports_dir() -> Path:
    """``reports/`` of the project: executed plans, KPI workbooks, share bundles."""
    return project_root() / "reports"


def default_raw_dataset() -> Path:
    """``data/raw/thai_nguyen_synthetic``: where ``workbench generate`` writes by default."""
    return raw_dir() / "thai_nguyen_synthetic"
