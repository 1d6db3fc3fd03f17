"""The whole national system: :func:`generate` writes it, :class:`National` is what it wrote."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from analysis.data.national.planted import truth
from analysis.data.national.pupil_files import write_pupils
from analysis.data.national.register import schools
from analysis.data.national.scale import (
    GRAND_MEAN,
    INFRA_EFFECT,
    PASS_MARK,
    PROVINCE_SD,
    SCHOOL_SD,
    SCORE_SD,
    SUBJECTS,
    TRAINING_EFFECT,
    YEAR_TREND,
    Scale,
)
from analysis.data.national.school_years import panel


@dataclass
class National:
    """What :func:`generate` wrote, and the planted truth.

    Attributes
    ----------
    out : Path
        The folder written to.
    pupil_files : list of Path
        The pupil result parts, ``out/pupils/part-*.parquet``.
    schools : DataFrame
        The register (:func:`schools`).
    panel : DataFrame
        The school-year panel (:func:`panel`).
    truth : DataFrame
        School × year × subject (:func:`truth`) with ``n_corrupted``, the rows
        corrupted on purpose.
    summary : dict
        The content of ``truth.json``: scale, planted parameters, row totals.
    """

    out: Path
    pupil_files: list[Path]
    schools: pd.DataFrame
    panel: pd.DataFrame
    truth: pd.DataFrame  # school, year, subject: planted mean and pass rate, rows, corrupted rows
    summary: dict[str, Any] = field(default_factory=dict)


def generate(
    out: Path,
    scale: Scale | None = None,
    *,
    progress: Callable[[int, int], None] | None = None,
) -> National:
    """Write the national system to ``out``.

    Files: ``schools.parquet`` (register and planted effects),
    ``national_panel.parquet`` (school-year panel with hierarchy),
    ``truth_outcomes.parquet`` (school × year × subject: planted mean, pass
    rate, rows generated, rows corrupted), ``pupils/part-*.parquet`` (pupil
    results: ``school_id, year, subject, pupil_id, score, passed``) and
    ``truth.json`` (the scale, the planted parameters, the row totals).

    Parameters
    ----------
    out
        The folder to write to (created when missing; files in it are replaced).
    scale
        The size of the system; default ``Scale()``, the full national size
        (about 20 million pupil rows).
    progress
        Called as ``progress(done, total)`` while the pupil rows are written.

    Returns
    -------
    National
        The paths written, the register, the panel, the truth and the summary.

    Example
    -------
    >>> small = national.Scale().scaled(0.01)  # doctest: +SKIP
    >>> system = national.generate(Path("/tmp/national"), small)  # doctest: +SKIP
    >>> system.summary["pupil_rows"]  # doctest: +SKIP
    """
    scale = scale or Scale()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    register = schools(scale)
    school_years = panel(scale, register)
    planted = truth(scale, school_years)
    files, bad, kinds = write_pupils(scale, planted, out / "pupils", progress=progress)
    planted["n_corrupted"] = bad
    register.to_parquet(out / "schools.parquet", index=False)
    school_years.to_parquet(out / "national_panel.parquet", index=False)
    planted.to_parquet(out / "truth_outcomes.parquet", index=False)
    summary = {
        "synthetic": True,
        "scale": asdict(scale),
        "planted": {
            "grand_mean": GRAND_MEAN,
            "score_sd": SCORE_SD,
            "year_trend": YEAR_TREND,
            "training_effect": TRAINING_EFFECT,
            "infra_effect": INFRA_EFFECT,
            "province_sd": PROVINCE_SD,
            "school_sd": SCHOOL_SD,
            "subject_offsets": {s: SUBJECTS.get(s, 0.0) for s in scale.subjects},
            "pass_mark": PASS_MARK,
        },
        "schools": len(register),
        "school_years": len(school_years),
        "pupil_rows": int(planted["n_records"].sum()),
        "corrupted_rows": kinds,
        "pupil_files": [p.name for p in files],
    }
    (out / "truth.json").write_text(
        json.dumps(summary, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
    return National(out, files, register, school_years, planted, summary)
