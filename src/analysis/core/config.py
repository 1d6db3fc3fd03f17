"""Reading the YAML files under config/ with errors that name the file.

A workspace's ``config/`` holds overrides only: a file there is merged over the shipped
file of the same name (:func:`merge`), and a file the shipped ``config/`` lacks (a
province's dataset spec, a plan) is read as it is. :func:`used` lists the workspace's
files, so that a command can say which it read.
"""

from __future__ import annotations

import copy
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from analysis.core import paths


class ConfigError(ValueError):
    """A configuration file is missing or malformed."""


@lru_cache(maxsize=64)
def _load_cached(path: str, mtime: float) -> Any:
    with open(path, encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def _read(path: Path) -> Any:
    try:
        return _load_cached(str(path), path.stat().st_mtime)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML ({exc})") from exc


def _by_id(items: Any) -> bool:
    return isinstance(items, list) and all(isinstance(i, dict) and "id" in i for i in items)


def merge(default: Any, override: Any) -> Any:
    """``override`` merged over ``default``: mappings key by key (recursively); a list of
    ``synonyms`` extended with the new spellings (a workspace adds its office's headers);
    a list of entries with an ``id`` (indicators) merged entry by entry, new ids added at
    the end; anything else replaced. An empty override file (``None``) changes nothing.

    Example
    -------
    >>> merge({"a": {"synonyms": ["x"], "min": 1}}, {"a": {"synonyms": ["y"], "min": 0}})
    {'a': {'synonyms': ['x', 'y'], 'min': 0}}
    >>> merge([{"id": "k", "targets": [1]}], [{"id": "k", "targets": [2]}, {"id": "n"}])
    [{'id': 'k', 'targets': [2]}, {'id': 'n'}]
    """
    if override is None:
        return copy.deepcopy(default)
    if _by_id(default) and _by_id(override) and override:
        out = copy.deepcopy(default)
        where = {entry["id"]: i for i, entry in enumerate(out)}
        for entry in override:
            if entry["id"] in where:
                out[where[entry["id"]]] = merge(out[where[entry["id"]]], entry)
            else:
                out.append(copy.deepcopy(entry))
        return out
    if isinstance(default, dict) and isinstance(override, dict):
        out = copy.deepcopy(default)
        for key, value in override.items():
            if key == "synonyms" and isinstance(value, list) and isinstance(out.get(key), list):
                out[key] = out[key] + [v for v in value if v not in out[key]]
            else:
                out[key] = merge(out[key], value) if key in out else copy.deepcopy(value)
        return out
    return copy.deepcopy(override)


@lru_cache(maxsize=64)
def _merged(layers: tuple[tuple[str, float], ...]) -> Any:
    merged = _read(Path(layers[0][0]))
    for path, _ in layers[1:]:
        merged = merge(merged, _read(Path(path)))
    return merged


def load_yaml(path: Path | str) -> Any:
    """Read a YAML file, cached until the file changes (its modification time).

    A file under ``config/`` (the workspace's or the shipped one) is the shipped file
    with the workspace's file of the same name merged over it (:func:`merge`), either
    of which may be missing.

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
    layers = paths.config_layers(path)
    if layers is None:
        layers = [path] if path.is_file() else []
    if not layers:
        raise ConfigError(f"{path}: file not found")
    if len(layers) == 1:
        return _read(layers[0])
    return _merged(tuple((str(p), p.stat().st_mtime) for p in layers))


def used() -> list[Path]:
    """The workspace's own config files (empty when the project is the shipped checkout)."""
    if not paths.is_workspace():
        return []
    return sorted(p for p in paths.config_dir().rglob("*.yml") if p.is_file())
