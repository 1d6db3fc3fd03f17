"""A workspace: a folder an analyst owns, with a province's own data and config overrides.

``workbench init DIR`` calls :func:`create`. The folder gets ``workbench.yml`` (what
marks it, :data:`analysis.core.paths.WORKSPACE_MARKER`), ``data/raw``,
``data/processed``, ``reports`` and a ``config/`` of overrides: nothing in the
installed package or the checkout is edited. Every file of the workspace's
``config/`` is merged over the shipped file of the same name
(:func:`analysis.core.config.merge`); a province's dataset spec and plan are its own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from analysis.core import paths
from analysis.core.config import ConfigError, load_yaml

TEMPLATE_DATASET = "thai_nguyen_synthetic"  # the shipped spec a province's own starts from
TEMPLATE_PLAN = "default"

_COLUMNS = """\
# Overrides of the shipped config/columns.yml, merged over it (synonyms are added to the
# shipped ones; any other key replaces the shipped value). Add the headers your office's
# template uses, for example:
#
# panel:
#   teachers_trained_cds:
#     synonyms: [Số GV được bồi dưỡng CĐS lũy kế]
#   enrolment:
#     synonyms: [Tổng số HS toàn trường]
"""
_INDICATORS = """\
# Overrides of the shipped config/indicators.yml. Indicators are merged by id: give the
# province's own targets (the shipped ones are placeholders), for example:
#
# indicators:
#   - id: teachers_trained_cds
#     targets:
#       - {year: 2025, value: 100, source: "Kế hoạch CĐS của tỉnh, 2022"}
"""
_README = """\
# {name}: a CĐS workbench workspace

- `data/raw/`: put the province's reports here (Excel .xlsx/.xls, LibreOffice .ods, CSV)
  and the school register; they are read, never changed.
- `config/`: overrides merged over the shipped defaults (column synonyms, indicator
  targets), the dataset spec `datasets/{name}.yml` and the plan `plans/{name}.yml`.
- `data/processed/`, `reports/`: what the workbench writes.

Inside this folder (or with `--home` / `WORKBENCH_HOME`):

    workbench ingest data/raw
    workbench indicators --dataset {name}
    workbench run {name}
"""


@dataclass
class Created:
    """What :func:`create` did: the workspace, the files it wrote and those it kept."""

    root: Path
    name: str
    written: list[Path] = field(default_factory=list)
    kept: list[Path] = field(default_factory=list)  # already there: never overwritten


def slug(text: str) -> str:
    """A dataset and plan name from a folder name: letters, digits and ``_`` only."""
    name = re.sub(r"[^0-9a-zA-Z_]+", "_", text.strip().lower()).strip("_")
    return name or "province"


def create(folder: Path, *, name: str | None = None, title: str | None = None) -> Created:
    """Create (or complete) a workspace in ``folder``; existing files are kept as they are.

    Parameters
    ----------
    folder
        The workspace; created when missing.
    name
        The province's dataset and plan name; default from the folder's name.
    title
        The province's title on reports (both languages); default the folder's name.

    Returns
    -------
    Created
        The files written and kept.

    Raises
    ------
    ConfigError
        The shipped template spec or plan cannot be read.
    """
    root = Path(folder).resolve()
    name = slug(name or root.name)
    done = Created(root, name)
    for sub in ("data/raw", "data/processed", "reports", "config/datasets", "config/plans"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    files = {
        paths.WORKSPACE_MARKER: _marker(name),
        "README.md": _README.format(name=name),
        "config/columns.yml": _COLUMNS,
        "config/indicators.yml": _INDICATORS,
        f"config/datasets/{name}.yml": _dataset(name, title or root.name),
        f"config/plans/{name}.yml": _plan(name, title or root.name),
    }
    for relative, text in files.items():
        path = root / relative
        if path.exists():
            done.kept.append(path)
        else:
            path.write_text(text, encoding="utf-8")
            done.written.append(path)
    return done


def default_dataset() -> str:
    """The dataset a command uses by default: the workspace's (``workbench.yml``), else
    the shipped synthetic province."""
    marker = paths.project_root() / paths.WORKSPACE_MARKER
    if paths.is_workspace() and marker.is_file():
        own = (load_yaml(marker) or {}).get("dataset")
        if own:
            return str(own)
    return TEMPLATE_DATASET


def _marker(name: str) -> str:
    return (
        "# A CĐS workbench workspace (made by `workbench init`). Commands run inside this\n"
        "# folder, or with --home DIR / WORKBENCH_HOME=DIR, use it: its config/ is merged\n"
        "# over the shipped defaults; its data/ and reports/ hold the data and the output.\n"
        + yaml.safe_dump({"dataset": name, "plan": name}, allow_unicode=True, sort_keys=False)
    )


def _shipped(relative: str) -> dict[str, Any]:
    path = paths.shipped_config_dir() / relative
    raw = load_yaml(path)
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping")
    return raw


def _dataset(name: str, title: str) -> str:
    """The province's spec: the shipped province's, real data, no programme until declared."""
    spec = _shipped(f"datasets/{TEMPLATE_DATASET}.yml")
    spec = {**spec, "name": name, "synthetic": False, "title": {"vi": title, "en": title}}
    spec["source"] = {**spec["source"], "raw": "data/raw"}
    spec.pop("programme", None)
    head = (
        f"# The dataset spec of {title}: real data (synthetic: false), read from the tables\n"
        "# `workbench ingest data/raw` writes to data/processed. Format: README.md,\n"
        '# "Dataset specs". To evaluate a programme, declare it (the unit it was assigned\n'
        "# to, the outcome, the year it reached each unit):\n"
        "#\n"
        "# programme:\n"
        "#   name: {vi: Chương trình …, en: … programme}\n"
        "#   unit: analysis_district_id\n"
        "#   outcome: mean_test_score\n"
        '#   first_year: {"167": 2022, "169": 2023}\n'
    )
    return head + yaml.safe_dump(spec, allow_unicode=True, sort_keys=False, width=100)


def _plan(name: str, title: str) -> str:
    """The province's plan: the shipped default plan's runs on the province's dataset."""
    plan = _shipped(f"plans/{TEMPLATE_PLAN}.yml")
    plan = {
        **plan,
        "name": name,
        "dataset": name,
        "title": {"vi": f"Đánh giá chuyển đổi số: {title}", "en": f"CĐS evaluation: {title}"},
    }
    head = f"# The evaluation plan of {title} (`workbench run {name}`): the default plan's runs.\n"
    return head + yaml.safe_dump(plan, allow_unicode=True, sort_keys=False, width=100)
