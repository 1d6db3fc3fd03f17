"""Where things live. Every path the workbench uses comes from here.

Two folders can be involved. The **project** is where an analyst works: a workspace
made by ``workbench init`` (marked by ``workbench.yml``) or the checkout itself. It is
``$WORKBENCH_HOME`` when set (``workbench --home DIR`` sets it), otherwise the nearest
folder above the working directory that holds ``workbench.yml`` or
``config/columns.yml``, otherwise the checkout this package was installed from
(editable install). The **shipped** folder is that checkout: its ``config/`` holds
the defaults a workspace's ``config/`` is merged over
(:func:`analysis.core.config.load_yaml`), and its ``notebooks/`` the notebooks.
"""

from __future__ import annotations

import os
from pathlib import Path

_MARKER = Path("config") / "columns.yml"
WORKSPACE_MARKER = "workbench.yml"  # the file `workbench init` writes at a workspace's top


def shipped_root() -> Path | None:
    """The checkout this package was installed from (its ``config/`` are the defaults)."""
    source = Path(__file__).resolve().parents[3]
    return source if (source / _MARKER).is_file() else None


def project_root() -> Path:
    """The workbench project folder: a workspace (``workbench.yml``) or the checkout.

    Returns
    -------
    Path
        ``$WORKBENCH_HOME`` when set (resolved, not checked); otherwise the
        working directory or the nearest folder above it with ``workbench.yml`` or
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
        if (folder / WORKSPACE_MARKER).is_file() or (folder / _MARKER).is_file():
            return folder
    source = shipped_root()
    if source is not None:
        return source
    raise FileNotFoundError(
        f"cannot find the workbench project (a folder with {WORKSPACE_MARKER} or {_MARKER}); "
        "run from inside a workspace (`workbench init DIR`) or set WORKBENCH_HOME"
    )


def is_workspace() -> bool:
    """Whether the project is a workspace of its own, not the shipped checkout."""
    shipped = shipped_root()
    return shipped is None or project_root() != shipped


def shipped_config_dir() -> Path:
    """``config/`` of the shipped checkout: the defaults (the project's when none is known)."""
    return (shipped_root() or project_root()) / "config"


def config_layers(path: Path) -> list[Path] | None:
    """The files a config path stands for, defaults first: the shipped file and the
    workspace's file of the same name under ``config/``, those that exist; ``None``
    when ``path`` is not under either ``config/`` folder."""
    path = Path(path).resolve()
    roots = [shipped_config_dir().resolve(), config_dir().resolve()]
    for root in roots:
        if path.is_relative_to(root):
            relative = path.relative_to(root)
            layers = dict.fromkeys(r / relative for r in roots)  # one, when both are the same
            return [p for p in layers if p.is_file()]
    return None


def config_file(relative: str) -> Path:
    """``config/<relative>`` of the workspace when it has one, else the shipped one
    (which may not exist: the caller's message names it)."""
    own = config_dir() / relative
    return own if own.is_file() else shipped_config_dir() / relative


def config_names(folder: str) -> list[str]:
    """The stems of the ``*.yml`` files in ``config/<folder>``, shipped and the workspace's."""
    names = {
        p.stem
        for root in (shipped_config_dir(), config_dir())
        for p in (root / folder).glob("*.yml")
    }
    return sorted(names)


def shown(path: Path) -> str:
    """A path as a manifest records it: relative to the project, or to the shipped checkout."""
    path = Path(path).resolve()
    for root in (project_root(), shipped_root()):
        if root is not None and path.is_relative_to(root.resolve()):
            return path.relative_to(root.resolve()).as_posix()
    return str(path)


def notebooks_dir() -> Path:
    """``notebooks/`` of the workspace when it has one, else of the shipped checkout."""
    own = project_root() / "notebooks"
    return own if own.is_dir() else (shipped_root() or project_root()) / "notebooks"


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
