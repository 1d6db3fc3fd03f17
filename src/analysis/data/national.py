"""A synthetic *national* school system, large enough to test the pupil pipeline at scale.

About 50,000 schools in 63 provinces over five school years, with a
school-year panel (every column the indicators need, plus the hierarchy) and
about 20 million pupil results (one row per pupil and subject), streamed to
Parquet in row groups so the pupil table is never held in memory. Everything
is **synthetic**; the province and district names say so.

The planted model, per school *s*, school year *t* (end year) and subject *j*::

    mu[s, t, j] = 5.8 + u_province + u_school + 0.05 (t - 2021)
                  + 1.0 (trained_share[s, t] - 0.5) + 0.03 (infra[s, t] - 8) + subject_j
    score       = clip(Normal(mu, 1.4), 0, 10), rounded to 0.01
    passed      = score >= 5

so a school-year's mean score is ``mu`` ± 1.4 / sqrt(n) (clipping at 0 and 10
is negligible for the planted range) and its pass rate is
``1 - Phi((4.995 - mu) / 1.4)``. A small share of rows is corrupted on purpose
(no school id, a score out of range, a pass flag that is no code) and counted
per school-year, so ``aggregated = generated - corrupted`` can be checked.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from scipy.special import ndtr

YEARS = (2021, 2022, 2023, 2024, 2025)
SUBJECTS = {"toan": -0.2, "ngu_van": 0.3, "tieng_anh": -0.4}  # planted subject offsets
SCORE_SD = 1.4
GRAND_MEAN = 5.8
YEAR_TREND = 0.05
TRAINING_EFFECT = 1.0  # score points per unit of trained teacher share
INFRA_EFFECT = 0.03  # score points per computer per 100 pupils
PROVINCE_SD = 0.35
SCHOOL_SD = 0.5
PASS_MARK = 5.0
CORRUPTIONS = ("school_id_missing", "score_out_of_range", "pass_flag_unknown")
AREAS = ("urban", "rural", "mountainous")
LEVELS = ("primary", "lower_secondary", "upper_secondary", "multi_level")


@dataclass(frozen=True)
class Scale:
    """How big the national system is. ``Scale()`` is the full national size.

    ``pupil_rows`` is a target: the number of pupils per school-year is drawn,
    so the rows written are close to it (the truth records the exact count).
    """

    schools: int = 50_000
    pupil_rows: int = 20_000_000
    provinces: int = 63
    districts_per_province: int = 11
    years: tuple[int, ...] = YEARS
    subjects: tuple[str, ...] = tuple(SUBJECTS)
    bad_share: float = 0.0005
    rows_per_file: int = 4_000_000
    row_group_rows: int = 1_000_000
    seed: int = 20250901

    def scaled(self, factor: float) -> Scale:
        """The same system with ``factor`` times the schools and pupil rows."""
        return Scale(
            **{
                **asdict(self),
                "schools": max(10, round(self.schools * factor)),
                "pupil_rows": max(1000, round(self.pupil_rows * factor)),
                "provinces": max(2, min(self.provinces, round(self.schools * factor / 50))),
            }
        )


@dataclass
class National:
    """What :func:`generate` wrote, and the planted truth."""

    out: Path
    pupil_files: list[Path]
    schools: pd.DataFrame
    panel: pd.DataFrame
    truth: pd.DataFrame  # school, year, subject: planted mean and pass rate, rows, corrupted rows
    summary: dict[str, Any] = field(default_factory=dict)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _normal_cdf(x: np.ndarray) -> np.ndarray:
    return ndtr(x)


def schools(scale: Scale) -> pd.DataFrame:
    """The school register with the planted school and province effects."""
    rng = np.random.default_rng([scale.seed, 1])
    n = scale.schools
    province = rng.integers(0, scale.provinces, n)
    district = province * scale.districts_per_province + rng.integers(
        0, scale.districts_per_province, n
    )
    u_province = rng.normal(0, PROVINCE_SD, scale.provinces)
    area = rng.choice(len(AREAS), n, p=[0.3, 0.4, 0.3])
    return pd.DataFrame(
        {
            "school_id": [f"S{i:06d}" for i in range(n)],
            "school_name": [f"Trường mô phỏng {i:06d}" for i in range(n)],
            "province_id": [f"P{p + 1:02d}" for p in province],
            "province_name": [f"Tỉnh mô phỏng {p + 1:02d}" for p in province],
            "district_id": [f"D{d + 1:04d}" for d in district],
            "district_name": [f"Huyện mô phỏng {d + 1:04d}" for d in district],
            "area_type": np.asarray(AREAS)[area],
            "school_level": rng.choice(LEVELS, n, p=[0.45, 0.37, 0.08, 0.10]),
            "size": np.exp(rng.normal(0, 0.5, n)) / math.exp(0.125),  # mean 1
            "u_province": u_province[province],
            "u_school": rng.normal(0, SCHOOL_SD, n),
        }
    )


def panel(scale: Scale, register: pd.DataFrame | None = None) -> pd.DataFrame:
    """The national school-year panel: indicator columns, hierarchy, planted outcomes.

    Columns follow ``config/columns.yml`` (``enrolment``, ``computers_teaching``,
    …), so :func:`analysis.indicators.compute` runs on it, with the hierarchy
    columns of every level (``unit`` = district; the analysis district and
    province are the district and province: no reform in this system).
    ``planted_mean`` is the subject-free part of ``mu``.
    """
    register = schools(scale) if register is None else register
    rng = np.random.default_rng([scale.seed, 2])
    years = np.asarray(scale.years)
    n, t = len(register), len(years)
    school = np.repeat(np.arange(n), t)
    year = np.tile(years, n)
    step = year - years[0]
    area = register["area_type"].to_numpy()[school]
    urban = (area == "urban").astype(float)
    mountain = (area == "mountainous").astype(float)
    enrolment = np.maximum(
        30, rng.poisson(np.maximum(1, 450 * register["size"].to_numpy()[school]))
    )
    teachers = np.maximum(2, np.round(enrolment / rng.uniform(16, 24, n * t))).astype(int)
    classrooms = np.maximum(2, np.round(enrolment / rng.uniform(28, 38, n * t))).astype(int)
    infra = np.clip(rng.lognormal(np.log(6 + 3 * urban - 2 * mountain + 0.8 * step), 0.35), 0.5, 60)
    computers = np.round(enrolment * infra / 100).astype(int)
    infra = computers / enrolment * 100  # the realised ratio, as the indicators see it
    school_training = rng.normal(0, 0.6, n)[school]
    trained_share = _sigmoid(-1.0 + 0.6 * step + school_training - 0.3 * mountain)
    trained = rng.binomial(teachers, trained_share)
    trained_share = trained / teachers
    ses = np.clip(rng.beta(2, 8, n * t) + 0.15 * mountain, 0, 1)
    planted = (
        GRAND_MEAN
        + register["u_province"].to_numpy()[school]
        + register["u_school"].to_numpy()[school]
        + YEAR_TREND * step
        + TRAINING_EFFECT * (trained_share - 0.5)
        + INFRA_EFFECT * (infra - 8)
    )
    p_pass = 1 - _normal_cdf((PASS_MARK - 0.005 - planted) / SCORE_SD)

    def share(p) -> np.ndarray:
        return rng.random(n * t) < p

    frame = pd.DataFrame(
        {
            "school_id": register["school_id"].to_numpy()[school],
            "school_name": register["school_name"].to_numpy()[school],
            "year": year.astype("int64"),
            "school_year": [f"{y - 1}-{y}" for y in year],
            "enrolment": enrolment.astype("int64"),
            "teachers": teachers,
            "classrooms": classrooms,
            "computers_teaching": computers,
            "computers_internet": rng.binomial(computers, 0.75 + 0.2 * urban),
            "classrooms_projector_internet": rng.binomial(
                classrooms, np.clip(0.3 + 0.1 * step + 0.2 * urban, 0, 1)
            ),
            "bandwidth_mbps": np.round(rng.lognormal(np.log(40 + 60 * urban + 15 * step), 0.5), 1),
            "has_internet": share(0.9 + 0.09 * urban),
            "teachers_online_account": rng.binomial(teachers, np.clip(trained_share + 0.2, 0, 1)),
            "teachers_trained_cds": trained,
            "training_hours": np.round(trained * rng.uniform(4, 20, n * t), 1),
            "teachers_digital_material": rng.binomial(teachers, trained_share * 0.6),
            "e_lessons": rng.poisson(teachers * (1 + 4 * trained_share)),
            "lms_in_use": share(0.3 + 0.1 * step),
            "online_teaching_weeks": rng.integers(0, 12, n * t),
            "pupils_digital_records": rng.binomial(enrolment, np.clip(0.5 + 0.1 * step, 0, 1)),
            "mis_modules_in_use": rng.integers(0, 8, n * t),
            "online_admission": share(0.2 + 0.15 * step),
            "cashless_fees": share(0.3 + 0.15 * step),
            "family_school_app": share(0.4 + 0.1 * step),
            "it_staff": rng.integers(0, 3, n * t),
            "security_designated_person": share(0.5),
            "security_backups": share(0.4),
            "security_incidents_reported": rng.poisson(0.2, n * t),
            "poor_household_share": np.round(ses * 100, 1),
            "mean_test_score": np.round((planted - GRAND_MEAN) / SCORE_SD, 4),
            "exam_pass_rate": np.round(p_pass * 100, 2),
            "infra": infra,
            "trained_share": trained_share,
            "ses": ses,
            "area_type": area,
            "school_level": register["school_level"].to_numpy()[school],
            "planted_mean": planted,
            "planted_pass_rate": p_pass,
        }
    )
    for level, source in (("unit", "district"), ("district", "district")):
        frame[f"{level}_id"] = register[f"{source}_id"].to_numpy()[school]
        frame[f"{level}_name"] = register[f"{source}_name"].to_numpy()[school]
    frame["analysis_district_id"] = frame["district_id"]
    frame["analysis_district_name"] = frame["district_name"]
    for level in ("province", "analysis_province"):
        frame[f"{level}_id"] = register["province_id"].to_numpy()[school]
        frame[f"{level}_name"] = register["province_name"].to_numpy()[school]
    return frame


def truth(scale: Scale, school_years: pd.DataFrame) -> pd.DataFrame:
    """School × year × subject: planted mean and pass rate and the pupils drawn."""
    rng = np.random.default_rng([scale.seed, 3])
    per_group = scale.pupil_rows / (len(school_years) * len(scale.subjects))
    sizes = school_years["enrolment"].to_numpy() / school_years["enrolment"].mean()
    pupils = np.maximum(1, rng.poisson(per_group * sizes))
    k = len(scale.subjects)
    offsets = np.array([SUBJECTS.get(s, 0.0) for s in scale.subjects])
    mean = np.repeat(school_years["planted_mean"].to_numpy(), k) + np.tile(offsets, len(pupils))
    return pd.DataFrame(
        {
            "school_id": np.repeat(school_years["school_id"].to_numpy(), k),
            "year": np.repeat(school_years["year"].to_numpy(), k),
            "subject": np.tile(np.asarray(scale.subjects), len(pupils)),
            "planted_mean": mean,
            "planted_pass_rate": 1 - _normal_cdf((PASS_MARK - 0.005 - mean) / SCORE_SD),
            "n_records": np.repeat(pupils, k).astype("int64"),
        }
    )


PUPIL_SCHEMA = pa.schema(
    [
        ("school_id", pa.string()),
        ("year", pa.int16()),
        ("subject", pa.string()),
        ("pupil_id", pa.int64()),
        ("score", pa.float32()),
        ("passed", pa.int8()),
    ]
)


class _Files:
    """Parquet parts of at most ``rows_per_file`` rows, written a row group at a time."""

    def __init__(self, folder: Path, rows_per_file: int, row_group_rows: int):
        self.folder, self.rows_per_file, self.row_group_rows = folder, rows_per_file, row_group_rows
        self.writer: pq.ParquetWriter | None = None
        self.rows_in_file = 0
        self.paths: list[Path] = []

    def write(self, table: pa.Table) -> None:
        while len(table):
            if self.writer is None or self.rows_in_file >= self.rows_per_file:
                self.close()
                path = self.folder / f"part-{len(self.paths):05d}.parquet"
                self.writer = pq.ParquetWriter(path, PUPIL_SCHEMA, compression="zstd")
                self.paths.append(path)
                self.rows_in_file = 0
            room = self.rows_per_file - self.rows_in_file
            head, table = table.slice(0, room), table.slice(room)
            self.writer.write_table(head, row_group_size=self.row_group_rows)
            self.rows_in_file += len(head)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = None


def write_pupils(
    scale: Scale,
    planted: pd.DataFrame,
    folder: Path,
    *,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[list[Path], np.ndarray, dict[str, int]]:
    """Stream the pupil rows of ``planted`` (from :func:`truth`) to Parquet parts.

    Rows are drawn a batch of school-year-subjects at a time (about a row group),
    so memory stays at a few batches whatever the scale. Returns the files, the
    corrupted rows per row of ``planted`` and the corrupted rows per kind.
    """
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("part-*.parquet"):
        old.unlink()
    rng = np.random.default_rng([scale.seed, 4])
    k = len(scale.subjects)
    n_groups = len(planted)
    counts = planted["n_records"].to_numpy()
    means = planted["planted_mean"].to_numpy()
    ids = planted["school_id"].to_numpy()
    years = planted["year"].to_numpy().astype("int16")
    subjects = planted["subject"].to_numpy()
    # a pupil sits every subject of the school-year: ids are shared across its k rows
    first_pupil = np.concatenate([[0], np.cumsum(counts[::k])])[:-1]
    bad = np.zeros(n_groups, dtype="int64")
    kinds = dict.fromkeys(CORRUPTIONS, 0)
    files = _Files(folder, scale.rows_per_file, scale.row_group_rows)
    batch_groups = max(k, int(scale.row_group_rows / max(1.0, counts.mean())) // k * k)
    try:
        for start in range(0, n_groups, batch_groups):
            stop = min(n_groups, start + batch_groups)
            n = counts[start:stop]
            group = np.repeat(np.arange(start, stop), n)
            rows = len(group)
            within = np.arange(rows) - np.repeat(np.cumsum(n) - n, n)
            pupil = first_pupil[group // k] + within
            score = np.round(np.clip(rng.normal(means[group], SCORE_SD), 0, 10), 2)
            passed = (score >= PASS_MARK).astype("int8")
            school = ids[group].astype(object)
            corrupt = np.flatnonzero(rng.random(rows) < scale.bad_share)
            kind = rng.integers(0, len(CORRUPTIONS), len(corrupt))
            for code, name in enumerate(CORRUPTIONS):
                where = corrupt[kind == code]
                kinds[name] += len(where)
                if name == "school_id_missing":
                    school[where] = None
                elif name == "score_out_of_range":
                    score[where] = np.where(rng.random(len(where)) < 0.5, -1.0, 10.5)
                else:
                    passed[where] = 9  # a code that means neither pass nor fail
            np.add.at(bad, group[corrupt], 1)
            files.write(
                pa.table(
                    {
                        "school_id": pa.array(school, pa.string()),
                        "year": years[group],
                        "subject": pa.array(subjects[group], pa.string()),
                        "pupil_id": pupil.astype("int64"),
                        "score": score.astype("float32"),
                        "passed": passed,
                    },
                    schema=PUPIL_SCHEMA,
                )
            )
            if progress:
                progress(stop, n_groups)
    finally:
        files.close()
    return files.paths, bad, kinds


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
