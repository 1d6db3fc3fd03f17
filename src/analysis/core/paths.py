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
    return project_root() / "config"


def raw_dir() -> Path:
    return project_root() / "data" / "raw"


def processed_dir() -> Path:
    """``data/processed``, or ``$WORKBENCH_PROCESSED`` (tests, other deployments)."""
    env = os.environ.get("WORKBENCH_PROCESSED")
    return Path(env).resolve() if env else project_root() / "data" / "processed"


def reports_dir() -> Path:
    return project_root() / "reports"


def default_raw_dataset() -> Path:
    return raw_dir() / "thai_nguyen_synthetic"
