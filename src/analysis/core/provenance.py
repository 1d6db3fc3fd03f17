"""What a result depends on: content hashes, the code version and the package versions.

Cache keys (the runner's, the memo cache's, the KPI workbook's) and manifests are built
from these, so a change in an input file, the package's source, the configuration or a
key package gives a different key.
"""

from __future__ import annotations

import hashlib
import json
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

import analysis
from analysis.core import paths

KEY_PACKAGES = (
    "pandas",
    "numpy",
    "statsmodels",
    "linearmodels",
    "scikit-learn",
    "matplotlib",
    "papermill",
    "nbconvert",
    "pandera",
    "duckdb",
)


def sha256_file(path: Path | str) -> str:
    """SHA-256 of a file, read in blocks (inputs in manifests, cache keys)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def sha256_json(value: Any) -> str:
    """SHA-256 of a value as canonical JSON (sorted keys; other types as their text)."""
    text = json.dumps(value, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def code_version() -> str:
    """The package version and a hash of its source and of ``config/``.

    Returns
    -------
    str
        ``"<version>+<12 hex digits>"``; any edit of a ``.py`` file of the package or a
        ``.yml`` file of the configuration changes it, which invalidates the caches.
    """
    digest = hashlib.sha256()
    package = Path(analysis.__file__).parent
    for path in sorted(package.rglob("*.py")):
        digest.update(path.relative_to(package).as_posix().encode())
        digest.update(path.read_bytes())
    for root in dict.fromkeys((paths.shipped_config_dir(), paths.config_dir())):
        for path in sorted(root.rglob("*.yml")):  # the defaults, then a workspace's own
            digest.update(path.name.encode())
            digest.update(path.read_bytes())
    return f"{analysis.__version__}+{digest.hexdigest()[:12]}"


def package_versions() -> dict[str, str]:
    """Python's version, the workbench's and each of :data:`KEY_PACKAGES` ('missing' if absent)."""
    out = {"python": sys.version.split()[0], "cds-workbench": analysis.__version__}
    for name in KEY_PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "missing"
    return out
