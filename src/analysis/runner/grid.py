"""Grids: the values a plan entry expands over, and the file names of the runs they make.

A grid value is a list (each element one run) or ``{level: L, year: Y}``: every unit of
hierarchy level L in year Y of the plan's dataset. A grid can expand to nothing — a
dataset without that level (STAR has no districts), or a year without units — and then
it says why (:class:`EmptyGrid`), so the plan's pages and the command's summary report
the runs that were not made instead of losing them without a word.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from analysis.core import i18n
from analysis.data import datasets
from analysis.measures.indicators import LEVELS


@dataclass(frozen=True)
class EmptyGrid:
    """A plan entry whose grid expanded to no run: its id and notebook, the grid parameter,
    and why (``reason``: ``no_level`` — the dataset has no such level; ``no_units`` — no
    unit of that level in the year), with the ``level`` and ``year`` asked for."""

    entry: str
    notebook: str
    parameter: str
    reason: str
    level: str
    year: int | None = None

    def describe(self, lang: str, dataset: str) -> str:
        """The reason as a sentence in ``lang`` (``dataset``: the dataset's title), naming
        the pages that were not made by their reader's name (``pages`` in labels.yml)."""
        level = i18n.labels("levels", lang).get(self.level, self.level)
        name = i18n.labels("pages", lang).get(Path(self.notebook).stem, self.entry)
        return i18n.text(
            "front",
            f"grid_{self.reason}",
            lang,
            name=name,
            level=level.lower(),
            year=i18n.school_year(self.year) if isinstance(self.year, int) else "",
            dataset=dataset,
        )


class GridData:
    """The dataset a grid expands over, loaded on first use and once per plan."""

    def __init__(self, dataset: str, processed: Path | None) -> None:
        self.dataset, self.processed = dataset, processed
        self._data: datasets.Dataset | None = None

    def get(self) -> datasets.Dataset:
        if self._data is None:
            self._data = datasets.load(self.dataset, processed=self.processed)
        return self._data


def expand(
    values: Any, data: datasets.Dataset, base: dict[str, Any], where: str
) -> tuple[list[tuple[Any, str | None]], tuple[str, str, int | None] | None]:
    """A grid's values with their names, and why it is empty when it is.

    Parameters
    ----------
    values
        A list (the values, without names), or ``{level: L, year: Y}`` — the units of
        level L (a key of :data:`LEVELS`) in year Y (default the run's ``year``).
    data
        The plan's dataset.
    base
        The run's other parameters (``year`` is read from them).
    where
        The plan entry, for error messages.

    Returns
    -------
    units, empty
        ``[(value, name or None), ...]``; ``empty`` is ``None``, or ``(reason, level,
        year)`` when there are no units (reason ``no_level`` or ``no_units``).

    Raises
    ------
    ValueError
        A grid that is neither a list nor ``{level: …}``, or an unknown level.
    """
    if isinstance(values, list):
        return [(v, None) for v in values], None
    if not (isinstance(values, dict) and "level" in values):
        raise ValueError(f"{where}: a grid is a list of values or {{level: …, year: …}}")
    level = values["level"]
    if level not in LEVELS:
        raise ValueError(f"{where}: grid level {level!r} is not one of {', '.join(LEVELS)}")
    id_col, name_col = LEVELS[level]
    year = values.get("year", base.get("year"))
    frame = data.data
    if id_col not in frame:  # e.g. a real dataset without the DOET hierarchy
        return [], ("no_level", level, None)
    if year is not None and data.spec.time:
        frame = frame[frame[data.spec.time] == year]
    frame = frame.dropna(subset=[id_col])
    names = (
        frame.groupby(frame[id_col].astype(str))[name_col].first().to_dict()
        if name_col in frame
        else {}
    )
    ids = sorted(str(u) for u in frame[id_col].unique())
    units = [(u, names.get(u) if pd.notna(names.get(u)) else None) for u in ids]
    return units, None if units else ("no_units", level, year)


def unit_stems(entry_id: str, param: str, units: list[tuple[Any, str | None]]) -> list[str]:
    """File names of a grid's runs: ``district_brief-huyen-dai-tu`` from the unit's name
    (the unit's id added where two units share a name); the run id's where a value has
    no name."""
    slugs = [slug(name) if name else "" for _, name in units]
    stems = []
    for (value, _), s in zip(units, slugs, strict=True):
        if not s:
            stems.append(safe_name(f"{entry_id}[{param}={value}]"))
        elif slugs.count(s) > 1:
            stems.append(f"{safe_name(entry_id)}-{s}-{safe_name(str(value))}")
        else:
            stems.append(f"{safe_name(entry_id)}-{s}")
    return stems


def slug(text: str) -> str:
    """A name as a file name in plain letters: ``"Huyện Đại Từ"`` → ``"huyen-dai-tu"``."""
    plain = unicodedata.normalize("NFKD", str(text).replace("Đ", "D").replace("đ", "d"))
    plain = "".join(c for c in plain if not unicodedata.combining(c)).lower()
    return re.sub(r"[^a-z0-9]+", "-", plain).strip("-")


def safe_name(run_id: str) -> str:
    """A run id as a file name: letters, digits, ``-_.`` kept, anything else ``_``; no leading
    dot (so never ``.``, ``..`` or a hidden file) and never empty."""
    name = "".join(c if c.isalnum() or c in "-_." else "_" for c in str(run_id))
    if name.startswith("."):
        name = "_" + name[1:]
    return name or "_"
