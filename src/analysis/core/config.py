"""Reading the YAML files under config/ with errors that name the file."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml


class ConfigError(ValueError):
    """A configuration file is missing or malformed."""


@lru_cache(maxsize=64)
def _load_cached(path: str, mtime: float) -> Any:
    with open(path, encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def load_yaml(path: Path | str) -> Any:
    """Read a YAML file, cached until the file changes (its modification time).

    Parameters
    ----------
    path
        The YAML file.

    Returns
    -------
    Any
        The parsed content (usually a dict). The cached object is shared between
        callers: copy it before changing it.

    Raises
    ------
    ConfigError
        The file does not exist or is not valid YAML; the message names the file.
    """
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: file not found")
    try:
        return _load_cached(str(path), path.stat().st_mtime)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML ({exc})") from exc
