"""Plans: what to run. A plan file read, its grids expanded, every run's parameters checked.

A plan (``config/plans/<name>.yml``) names a dataset spec and its runs: a notebook with
parameters, optionally with a ``grid`` that expands (one district brief per unit of a
hierarchy level in a year). :func:`load_plan` validates every run's parameters against
the notebook's ``parameters`` cell before anything executes.

Paths. A plan's ``name`` must be a simple name (letters, digits, ``-``, ``_``): it names
the default output folder ``reports/<name>``. Run ids become file names through
:func:`safe_name`, and every output path is checked to resolve inside the output folder
(:func:`inside`), so no plan value or parameter makes the runner write elsewhere.
``--out`` remains the operator's explicit choice.

Sizes. A parameter is a setting, not data: a text longer than ``limits.text``
characters, a list or mapping with more than ``limits.items`` elements, or a plan that
expands to more than ``limits.runs`` runs is refused before anything runs (defaults
in :data:`LIMITS`; a plan may raise them under its key ``limits``).
"""

from __future__ import annotations

import ast
import io
import json
import re
import tokenize
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from analysis.core import i18n, paths
from analysis.core.config import ConfigError, load_yaml
from analysis.data import datasets
from analysis.measures.indicators import load_indicators
from analysis.runner.grid import EmptyGrid, GridData, expand, safe_name, unit_stems

_SIMPLE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")
# the largest text (characters), list or mapping (elements) and plan (runs) accepted
LIMITS = {"text": 4096, "items": 1000, "runs": 5000}


class PlanError(ValueError):
    """A plan is malformed or asks for something a notebook does not accept."""


@dataclass
class Run:
    """One notebook execution of a plan: its id, notebook and parameters."""

    id: str
    notebook: Path
    parameters: dict[str, Any]
    entry: str  # where in the plan it came from, for error messages
    internal: bool = False  # the plan marks it internal (`internal: true`)
    stem: str = ""  # its files' name (notebook, pages, data, cache); from the id if empty

    def __post_init__(self) -> None:
        if not self.stem:
            self.stem = safe_name(self.id)


@dataclass
class Plan:
    """A validated plan: its name, title, dataset spec, report language and runs;
    ``rank_on``: the indicators the front page ranks districts on (``front: rank_on``;
    empty: the headline indicators with a target); ``empty_grids``: the entries whose grid
    expanded to no run, and why; ``own_dataset``: the dataset the plan file names (``dataset``
    differs when ``--dataset`` overrode it)."""

    name: str
    path: Path
    title: dict[str, str]
    dataset: str
    lang: str
    runs: list[Run] = field(default_factory=list)
    rank_on: list[str] = field(default_factory=list)
    empty_grids: list[EmptyGrid] = field(default_factory=list)
    own_dataset: str = ""

    def titled(self, dataset_title: dict[str, str]) -> dict[str, str]:
        """The plan's title naming the dataset run: ``{dataset}`` in the plan's title is
        filled with ``dataset_title`` (the spec's, as ingested); a title without it gets
        the dataset added when ``--dataset`` chose another than the plan's own."""
        out = {}
        for lang in i18n.LANGUAGES:
            title = str(self.title.get(lang) or self.title.get(self.lang) or self.name)
            named = dataset_title.get(lang) or self.dataset
            if "{dataset}" in title:
                title = title.replace("{dataset}", named)
            elif self.own_dataset and self.dataset != self.own_dataset:
                title = f"{title} — {named}"
            out[lang] = title
        return out


# --------------------------------------------------------------------------
# Notebook parameters


def _parameters_source(notebook: Path) -> str:
    """The source of the notebook's one cell tagged ``parameters``."""
    nb = json.loads(Path(notebook).read_text(encoding="utf-8"))
    cells = [c for c in nb["cells"] if "parameters" in c.get("metadata", {}).get("tags", [])]
    if len(cells) != 1:
        raise PlanError(f"{notebook}: expected one cell tagged 'parameters', found {len(cells)}")
    source = cells[0]["source"]
    return "".join(source) if isinstance(source, list) else source


def parameter_help(notebook: Path) -> list[dict[str, str]]:
    """Each parameter of a notebook with its default as written and what it means.

    Parameters
    ----------
    notebook
        An ``.ipynb`` with one cell tagged ``parameters``.

    Returns
    -------
    list of dict
        In the cell's order: ``name``, ``default`` (the source text), ``en`` (the comment
        on the parameter's line) and ``vi`` (``parameters.<name>`` in labels.yml, else the
        comment).

    Raises
    ------
    PlanError
        No or several cells tagged ``parameters``.
    """
    source = _parameters_source(notebook)
    comments = {
        tok.start[0]: tok.string.lstrip("#").strip()
        for tok in tokenize.generate_tokens(io.StringIO(source).readline)
        if tok.type == tokenize.COMMENT
    }
    vietnamese = i18n.labels("parameters", "vi")
    out = []
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
            name, comment = node.targets[0].id, comments.get(node.lineno, "")
            default = ast.get_source_segment(source, node.value) or ""
            out.append({"name": name, "default": default, "en": comment,
                        "vi": vietnamese.get(name, comment)})  # fmt: skip
    return out


def notebook_parameters(notebook: Path) -> dict[str, Any]:
    """Name → default value of the notebook's ``parameters`` cell."""
    source = _parameters_source(notebook)
    out = {}
    for node in ast.parse(source).body:
        if (
            isinstance(node, ast.Assign)
            and len(node.targets) == 1
            and isinstance(node.targets[0], ast.Name)
        ):
            try:
                out[node.targets[0].id] = ast.literal_eval(node.value)
            except ValueError as exc:
                raise PlanError(
                    f"{notebook}: parameter {node.targets[0].id} is not a literal"
                ) from exc
    return out


def _type_ok(value: Any, default: Any) -> bool:
    if default is None or value is None:
        return True
    if isinstance(default, bool):
        return isinstance(value, bool)
    if isinstance(default, int | float):
        return isinstance(value, int | float) and not isinstance(value, bool)
    if isinstance(default, str):
        return isinstance(value, str | int) and not isinstance(value, bool)
    return isinstance(value, type(default))


def _too_big(value: Any, limits: dict[str, int]) -> str | None:
    """Why a parameter value is beyond the limits (text length, elements), or None."""
    if isinstance(value, str) and len(value) > limits["text"]:
        return f"a text of {len(value):,} characters (the limit is {limits['text']:,})"
    if isinstance(value, list | tuple | dict):
        if len(value) > limits["items"]:
            return f"{len(value):,} elements (the limit is {limits['items']:,})"
        inner = value.values() if isinstance(value, dict) else value
        keys = list(value) if isinstance(value, dict) else []
        return next((why for v in [*keys, *inner] if (why := _too_big(v, limits))), None)
    return None


def check_sizes(run: Run, limits: dict[str, int] = LIMITS) -> None:
    """A parameter beyond :data:`LIMITS` is an error naming the plan entry and the size."""
    for name, value in run.parameters.items():
        why = _too_big(value, limits)
        if why:
            raise PlanError(
                f"{run.entry}: parameter {name} is {why}; a parameter is a setting, not "
                "data (put data in a file under data/raw, or raise the plan's 'limits')"
            )


def validate_parameters(run: Run) -> None:
    """Unknown names and wrong types are errors naming the plan entry."""
    accepted = notebook_parameters(run.notebook)
    unknown = sorted(set(run.parameters) - set(accepted))
    if unknown:
        raise PlanError(
            f"{run.entry}: {run.notebook.name} has no parameter(s) {', '.join(unknown)}; "
            f"it accepts: {', '.join(sorted(accepted))}"
        )
    for name, value in run.parameters.items():
        default = accepted[name]
        if not _type_ok(value, default):
            raise PlanError(
                f"{run.entry}: parameter {name}={value!r} should be "
                f"{type(default).__name__} like the notebook's default {default!r}"
            )


# --------------------------------------------------------------------------
# Plans


def plan_path(name_or_path: str | Path) -> Path:
    """The plan file: a path as given, or ``config/plans/<name>.yml``.

    Raises
    ------
    PlanError
        No such plan; the message lists the plans there are.
    """
    path = Path(name_or_path)
    if path.suffix not in {".yml", ".yaml"}:
        path = paths.config_file(f"plans/{name_or_path}.yml")
    if not path.is_file():
        available = paths.config_names("plans")
        raise PlanError(f"{path}: no such plan; available: {', '.join(available)}")
    return path


def load_plan(
    name_or_path: str | Path,
    *,
    dataset: str | None = None,
    processed: Path | None = None,
    lang: str | None = None,
) -> Plan:
    """Read a plan, expand its grids and validate every run's parameters.

    Parameters
    ----------
    name_or_path
        A plan name (``default`` → ``config/plans/default.yml``) or a YAML file.
    dataset, lang
        Override the plan's ``dataset`` and ``lang`` (``--dataset``, ``--lang``).
    processed
        The processed folder the runs read (passed to each notebook that accepts it).

    Returns
    -------
    Plan
        Every run with its final parameters; nothing has executed.

    Raises
    ------
    PlanError, ConfigError
        A malformed plan, an unknown notebook, parameter, language or dataset; the
        message names the plan file and the entry.
    """
    path = plan_path(name_or_path)
    raw = _read_plan_file(path)
    plan = Plan(
        name=raw["name"],
        path=path,
        title=raw.get("title", {"vi": raw["name"], "en": raw["name"]}),
        dataset=dataset or raw["dataset"],
        lang=lang or raw.get("lang", "vi"),
        rank_on=_rank_on(raw, path),
        own_dataset=raw["dataset"],
    )
    _check_lang_and_dataset(plan, lang_given=lang is not None, dataset_given=dataset is not None)
    limits = _limits(raw, path)
    grid_data = GridData(plan.dataset, processed)
    for i, entry in enumerate(raw["runs"]):
        # a long grid list is refused before it is expanded; a hierarchy grid after
        if len(plan.runs) + _listed(entry) > limits["runs"]:
            raise _too_many(path, i, limits["runs"])
        plan.runs.extend(_entry_runs(plan, path, i, entry, processed, grid_data))
        if len(plan.runs) > limits["runs"]:
            raise _too_many(path, i, limits["runs"])
    ids = [r.id for r in plan.runs]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise PlanError(f"{path}: duplicate run ids {duplicates}")
    check_file_names(plan.runs, where=str(path))
    for run in plan.runs:
        check_sizes(run, limits)
        validate_parameters(run)
    return plan


def _listed(entry: Any) -> int:
    """How many runs an entry's grid lists (its list values), before any expansion."""
    grid = entry.get("grid") if isinstance(entry, dict) else None
    if not isinstance(grid, dict):
        return 0
    return sum(len(values) for values in grid.values() if isinstance(values, list))


def _too_many(path: Path, i: int, limit: int) -> PlanError:
    return PlanError(
        f"{path}: the plan expands to more than {limit:,} runs (at runs[{i}]); "
        "split it, or raise its 'limits: {runs: …}'"
    )


def _limits(raw: dict[str, Any], path: Path) -> dict[str, int]:
    """:data:`LIMITS` with the plan's own ``limits`` over them (positive whole numbers)."""
    given = raw.get("limits") or {}
    if not isinstance(given, dict) or set(given) - set(LIMITS):
        raise PlanError(f"{path}: 'limits' takes {', '.join(LIMITS)}, not {given!r}")
    for key, value in given.items():
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise PlanError(f"{path}: limits.{key} is a positive whole number, not {value!r}")
    return {**LIMITS, **given}


def _read_plan_file(path: Path) -> dict[str, Any]:
    raw = load_yaml(path)
    if not isinstance(raw, dict):
        raise PlanError(f"{path}: a plan is a mapping with keys name, dataset and runs")
    for key in ("name", "dataset", "runs"):
        if key not in raw:
            raise ConfigError(f"{path}: key {key!r} is missing")
    check_name(raw["name"], where=str(path))
    if not isinstance(raw["runs"], list):
        raise PlanError(f"{path}: key 'runs' should be a list of runs")
    return raw


def _rank_on(raw: dict[str, Any], path: Path) -> list[str]:
    """``front: {rank_on: [indicator, ...]}``, each an indicator of config/indicators.yml."""
    front = raw.get("front") or {}
    if not isinstance(front, dict) or set(front) - {"rank_on"}:
        raise PlanError(f"{path}: key 'front' takes one key, rank_on (a list of indicator ids)")
    chosen = front.get("rank_on") or []
    if not isinstance(chosen, list) or not all(isinstance(i, str) for i in chosen):
        raise PlanError(f"{path}: front.rank_on should be a list of indicator ids")
    known = {i.id for i in load_indicators()}
    unknown = [i for i in chosen if i not in known]
    if unknown:
        raise PlanError(
            f"{path}: front.rank_on names {unknown}, not indicators of config/indicators.yml"
        )
    return chosen


def _check_lang_and_dataset(plan: Plan, *, lang_given: bool, dataset_given: bool) -> None:
    if plan.lang not in i18n.LANGUAGES:
        source = "--lang" if lang_given else "key 'lang'"
        raise PlanError(
            f"{plan.path}: {source} {plan.lang!r} is not a report language; "
            f"expected one of {', '.join(i18n.LANGUAGES)}"
        )
    try:
        datasets.read_spec(plan.dataset)
    except ConfigError as exc:
        source = "--dataset" if dataset_given else "key 'dataset'"
        raise PlanError(f"{plan.path}: {source}: {exc}") from exc


def _entry_runs(
    plan: Plan, path: Path, i: int, entry: Any, processed: Path | None, grid_data: GridData
) -> list[Run]:
    """The runs of one plan entry: one, or one per value of its grid."""
    if not isinstance(entry, dict):
        raise PlanError(f"{path.name}: runs[{i}] should be a mapping (id, notebook, …)")
    where = f"{path.name}: runs[{i}] ({entry.get('id', '?')})"
    if "notebook" not in entry or "id" not in entry:
        raise PlanError(f"{where}: each run needs an id and a notebook")
    if isinstance(entry["id"], int) and not isinstance(entry["id"], bool):
        entry["id"] = str(entry["id"])
    if not isinstance(entry["id"], str) or not entry["id"].strip():
        raise PlanError(f"{where}: a run id is a non-empty text")
    notebook = _find_notebook(Path(entry["notebook"]), path, where)
    given = entry.get("parameters") or {}
    base = {"dataset": plan.dataset, "lang": plan.lang, **given}
    if processed is not None:
        base["processed"] = str(processed)
    accepted = notebook_parameters(notebook)
    base = {k: v for k, v in base.items() if k in accepted or k in given}
    for key in ("internal", "required"):
        if not isinstance(entry.get(key, False), bool):
            raise PlanError(f"{where}: {key!r} is true or false, not {entry[key]!r}")
    grid = entry.get("grid") or {}
    if not grid:
        return [Run(entry["id"], notebook, base, where, entry.get("internal", False))]
    return _grid_runs(plan, entry, notebook, base, where, grid_data)


def _grid_runs(
    plan: Plan, entry: dict, notebook: Path, base: dict, where: str, grid_data: GridData
) -> list[Run]:
    """One run per value of the entry's grid; a grid with no value is recorded on the plan
    (``Plan.empty_grids``), and refused when the entry says ``required: true``."""
    runs = []
    for name, values in entry["grid"].items():
        try:
            units, empty = expand(values, grid_data.get(), base, where)
        except ValueError as exc:
            raise PlanError(str(exc)) from exc
        if empty is not None:
            reason, level, year = empty
            gap = EmptyGrid(entry["id"], notebook.name, name, reason, level, year)
            if entry.get("required", False):
                title = datasets.read_spec(plan.dataset).title["en"]
                raise PlanError(f"{where}: required, but {gap.describe('en', title)}")
            plan.empty_grids.append(gap)
        stems = unit_stems(entry["id"], name, units)
        for (value, _unit_name), stem in zip(units, stems, strict=True):
            run_id = f"{entry['id']}[{name}={value}]"
            internal = entry.get("internal", False)
            runs.append(Run(run_id, notebook, {**base, name: value}, where, internal, stem))
    return runs


def _find_notebook(notebook: Path, plan_file: Path, where: str) -> Path:
    if not notebook.is_absolute():
        candidates = [paths.notebooks_dir() / notebook, plan_file.parent / notebook]
        notebook = next((c for c in candidates if c.is_file()), candidates[0])
    if not notebook.is_file():
        raise PlanError(f"{where}: notebook {notebook} not found")
    return notebook


def check_name(name: Any, *, where: str) -> str:
    """A plan name names the folder ``reports/<name>``: letters, digits, ``-`` and ``_`` only."""
    if not isinstance(name, str) or not _SIMPLE_NAME.fullmatch(name):
        raise PlanError(
            f"{where}: key 'name' is {name!r}; a plan name must be a simple name (letters, "
            "digits, '-' and '_', no path separators or dots) since it names the output "
            "folder reports/<name>"
        )
    return name


def check_file_names(runs: list[Run], *, where: str) -> None:
    """Two run ids must not map to the same output file name."""
    seen: dict[str, str] = {}
    for run in runs:
        name = run.stem
        if name in seen and seen[name] != run.id:
            raise PlanError(
                f"{where}: runs {seen[name]!r} and {run.id!r} would write the same files "
                f"({name}.ipynb); give them ids that differ in letters or digits"
            )
        seen[name] = run.id


def default_out_dir(plan: Plan) -> Path:
    """``reports/<plan name>`` (the name is checked to be a simple name)."""
    return paths.reports_dir() / check_name(plan.name, where=str(plan.path))


def inside(folder: Path, path: Path, what: str) -> Path:
    """``path`` if it resolves inside ``folder``; a PlanError otherwise."""
    if not path.resolve().is_relative_to(folder.resolve()):
        raise PlanError(f"{what}: output {path} would be outside the output folder {folder}")
    return path
