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
from typing import Any, NamedTuple

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

    Attributes
    ----------
    schools : int
        Schools in the register.
    pupil_rows : int
        Target number of pupil result rows (one per pupil and subject), over all years.
    provinces : int
        Provinces; schools are spread over them at random.
    districts_per_province : int
        Districts in each province.
    years : tuple of int
        School years, each as its end year (2021 is 2020–2021).
    subjects : tuple of str
        Subjects each pupil sits (keys of :data:`SUBJECTS` carry a planted offset; others 0).
    bad_share : float
        Share (0–1) of pupil rows corrupted on purpose.
    rows_per_file : int
        Pupil rows per Parquet part at most.
    row_group_rows : int
        Rows per Parquet row group (and about the rows drawn per batch).
    seed : int
        Random seed; the same scale writes the same files.

    Example
    -------
    >>> small = Scale().scaled(0.01)  # 500 schools, about 200,000 pupil rows
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
        """The same system with ``factor`` times the schools and pupil rows.

        Parameters
        ----------
        factor
            Multiplier of ``schools`` and ``pupil_rows`` (0.01 is a hundredth).

        Returns
        -------
        Scale
            A copy with at least 10 schools, 1,000 pupil rows and 2 provinces, and
            about one province per 50 schools up to this scale's ``provinces``.
        """
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


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _normal_cdf(x: np.ndarray) -> np.ndarray:
    return ndtr(x)


def schools(scale: Scale) -> pd.DataFrame:
    """The school register with the planted school and province effects.

    Parameters
    ----------
    scale
        The size of the system and its seed (stream ``[scale.seed, 1]``).

    Returns
    -------
    pandas.DataFrame
        One row per school: ``school_id`` (``S000000``…), ``school_name``,
        ``province_id``/``province_name``, ``district_id``/``district_name``
        (synthetic names that say so), ``area_type`` (urban, rural or
        mountainous), ``school_level``, ``size`` (relative size, mean 1),
        ``u_province`` and ``u_school`` (planted effects, score points).
    """
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


class _Rows(NamedTuple):
    """The panel's rows, one per school and school year (schools outer, years inner)."""

    school: np.ndarray  # the school's position in the register
    year: np.ndarray  # end year of the school year
    step: np.ndarray  # years since the first school year
    area: np.ndarray  # area type: urban, rural or mountainous
    urban: np.ndarray  # 1.0 for an urban school, else 0.0
    mountain: np.ndarray  # 1.0 for a mountainous school, else 0.0

    @property
    def n(self) -> int:
        return len(self.school)


class _Resources(NamedTuple):
    """Size and equipment of each school-year."""

    enrolment: np.ndarray
    teachers: np.ndarray
    classrooms: np.ndarray
    computers: np.ndarray
    infra: np.ndarray  # computers per 100 pupils, as realised


def _rows(register: pd.DataFrame, years: np.ndarray) -> _Rows:
    """Every school of the register in every year (no random draw)."""
    n, t = len(register), len(years)
    school = np.repeat(np.arange(n), t)
    year = np.tile(years, n)
    area = register["area_type"].to_numpy()[school]
    return _Rows(
        school=school,
        year=year,
        step=year - years[0],
        area=area,
        urban=(area == "urban").astype(float),
        mountain=(area == "mountainous").astype(float),
    )


def _resources(rng: np.random.Generator, register: pd.DataFrame, rows: _Rows) -> _Resources:
    """Enrolment, teachers, classrooms and computers (more in towns, growing each year)."""
    enrolment = np.maximum(
        30, rng.poisson(np.maximum(1, 450 * register["size"].to_numpy()[rows.school]))
    )
    teachers = np.maximum(2, np.round(enrolment / rng.uniform(16, 24, rows.n))).astype(int)
    classrooms = np.maximum(2, np.round(enrolment / rng.uniform(28, 38, rows.n))).astype(int)
    level = np.log(6 + 3 * rows.urban - 2 * rows.mountain + 0.8 * rows.step)
    infra = np.clip(rng.lognormal(level, 0.35), 0.5, 60)
    computers = np.round(enrolment * infra / 100).astype(int)
    infra = computers / enrolment * 100  # the realised ratio, as the indicators see it
    return _Resources(enrolment, teachers, classrooms, computers, infra)


def _training(
    rng: np.random.Generator, rows: _Rows, teachers: np.ndarray, n_schools: int
) -> tuple[np.ndarray, np.ndarray]:
    """Teachers trained in CĐS: the count and its share of the teachers."""
    school_training = rng.normal(0, 0.6, n_schools)[rows.school]
    trained_share = _sigmoid(-1.0 + 0.6 * rows.step + school_training - 0.3 * rows.mountain)
    trained = rng.binomial(teachers, trained_share)
    return trained, trained / teachers


def _planted_mean(
    register: pd.DataFrame, rows: _Rows, trained_share: np.ndarray, infra: np.ndarray
) -> np.ndarray:
    """The subject-free part of ``mu`` (module docstring)."""
    return (
        GRAND_MEAN
        + register["u_province"].to_numpy()[rows.school]
        + register["u_school"].to_numpy()[rows.school]
        + YEAR_TREND * rows.step
        + TRAINING_EFFECT * (trained_share - 0.5)
        + INFRA_EFFECT * (infra - 8)
    )


def _reported(
    rng: np.random.Generator,
    rows: _Rows,
    res: _Resources,
    trained: np.ndarray,
    trained_share: np.ndarray,
) -> dict[str, Any]:
    """The reported CĐS columns from ``computers_internet`` to ``security_incidents_reported``,
    drawn in template order (the order fixes the random stream)."""
    n, step, urban = rows.n, rows.step, rows.urban
    teachers, classrooms, computers = res.teachers, res.classrooms, res.computers

    def share(p) -> np.ndarray:
        return rng.random(n) < p

    return {
        "computers_internet": rng.binomial(computers, 0.75 + 0.2 * urban),
        "classrooms_projector_internet": rng.binomial(
            classrooms, np.clip(0.3 + 0.1 * step + 0.2 * urban, 0, 1)
        ),
        "bandwidth_mbps": np.round(rng.lognormal(np.log(40 + 60 * urban + 15 * step), 0.5), 1),
        "has_internet": share(0.9 + 0.09 * urban),
        "teachers_online_account": rng.binomial(teachers, np.clip(trained_share + 0.2, 0, 1)),
        "teachers_trained_cds": trained,
        "training_hours": np.round(trained * rng.uniform(4, 20, n), 1),
        "teachers_digital_material": rng.binomial(teachers, trained_share * 0.6),
        "e_lessons": rng.poisson(teachers * (1 + 4 * trained_share)),
        "lms_in_use": share(0.3 + 0.1 * step),
        "online_teaching_weeks": rng.integers(0, 12, n),
        "pupils_digital_records": rng.binomial(res.enrolment, np.clip(0.5 + 0.1 * step, 0, 1)),
        "mis_modules_in_use": rng.integers(0, 8, n),
        "online_admission": share(0.2 + 0.15 * step),
        "cashless_fees": share(0.3 + 0.15 * step),
        "family_school_app": share(0.4 + 0.1 * step),
        "it_staff": rng.integers(0, 3, n),
        "security_designated_person": share(0.5),
        "security_backups": share(0.4),
        "security_incidents_reported": rng.poisson(0.2, n),
    }


def _add_hierarchy(frame: pd.DataFrame, register: pd.DataFrame, school: np.ndarray) -> None:
    """The hierarchy columns of every level, in place (no reform: analysis = actual units)."""
    for level, source in (("unit", "district"), ("district", "district")):
        frame[f"{level}_id"] = register[f"{source}_id"].to_numpy()[school]
        frame[f"{level}_name"] = register[f"{source}_name"].to_numpy()[school]
    frame["analysis_district_id"] = frame["district_id"]
    frame["analysis_district_name"] = frame["district_name"]
    for level in ("province", "analysis_province"):
        frame[f"{level}_id"] = register["province_id"].to_numpy()[school]
        frame[f"{level}_name"] = register["province_name"].to_numpy()[school]


def panel(scale: Scale, register: pd.DataFrame | None = None) -> pd.DataFrame:
    """The national school-year panel: indicator columns, hierarchy, planted outcomes.

    Columns follow ``config/columns.yml`` (``enrolment``, ``computers_teaching``,
    …), so :func:`analysis.indicators.compute` runs on it, with the hierarchy
    columns of every level (``unit`` = district; the analysis district and
    province are the district and province: no reform in this system).
    ``planted_mean`` is the subject-free part of ``mu``.

    Parameters
    ----------
    scale
        The size of the system and its seed (the panel draws from the stream
        ``[scale.seed, 2]``: the same scale gives the same panel).
    register
        The school register from :func:`schools`; default ``schools(scale)``.
        Pass it when the register is needed too, so it is drawn once.

    Returns
    -------
    pandas.DataFrame
        One row per school and school year (``len(register) × len(scale.years)``
        rows, schools in register order, years ascending): ``school_id``,
        ``school_name``, ``year`` (end year of the school year), ``school_year``
        (``"2020-2021"``), the reported columns of the panel contract
        (``enrolment`` … ``security_incidents_reported``), ``poor_household_share``
        (%), ``mean_test_score`` ((planted mean − 5.8) ÷ 1.4, in score SDs),
        ``exam_pass_rate`` (%, planted), the planted drivers ``infra`` (computers
        per 100 pupils), ``trained_share`` (share of teachers trained, 0–1) and
        ``ses`` (0–1), ``area_type``, ``school_level``, ``planted_mean`` (score
        points, 0–10 scale), ``planted_pass_rate`` (share, 0–1), then
        ``unit_*``, ``district_*``, ``analysis_district_*``, ``province_*`` and
        ``analysis_province_*`` id and name pairs.

    Example
    -------
    >>> scale = national.Scale(schools=200, pupil_rows=50_000, provinces=4)  # doctest: +SKIP
    >>> school_years = national.panel(scale)  # doctest: +SKIP
    >>> school_years.groupby("year")["trained_share"].mean()  # doctest: +SKIP
    """
    register = schools(scale) if register is None else register
    rng = np.random.default_rng([scale.seed, 2])
    rows = _rows(register, np.asarray(scale.years))
    # the draws keep their order: the same seed gives the same panel
    res = _resources(rng, register, rows)
    trained, trained_share = _training(rng, rows, res.teachers, len(register))
    ses = np.clip(rng.beta(2, 8, rows.n) + 0.15 * rows.mountain, 0, 1)
    planted = _planted_mean(register, rows, trained_share, res.infra)
    p_pass = 1 - _normal_cdf((PASS_MARK - 0.005 - planted) / SCORE_SD)
    school = rows.school
    frame = pd.DataFrame(
        {
            "school_id": register["school_id"].to_numpy()[school],
            "school_name": register["school_name"].to_numpy()[school],
            "year": rows.year.astype("int64"),
            "school_year": [f"{y - 1}-{y}" for y in rows.year],
            "enrolment": res.enrolment.astype("int64"),
            "teachers": res.teachers,
            "classrooms": res.classrooms,
            "computers_teaching": res.computers,
            **_reported(rng, rows, res, trained, trained_share),
            "poor_household_share": np.round(ses * 100, 1),
            "mean_test_score": np.round((planted - GRAND_MEAN) / SCORE_SD, 4),
            "exam_pass_rate": np.round(p_pass * 100, 2),
            "infra": res.infra,
            "trained_share": trained_share,
            "ses": ses,
            "area_type": rows.area,
            "school_level": register["school_level"].to_numpy()[school],
            "planted_mean": planted,
            "planted_pass_rate": p_pass,
        }
    )
    _add_hierarchy(frame, register, school)
    return frame


def truth(scale: Scale, school_years: pd.DataFrame) -> pd.DataFrame:
    """School × year × subject: planted mean and pass rate and the pupils drawn.

    Parameters
    ----------
    scale
        The size of the system and its seed (stream ``[scale.seed, 3]``); the
        pupils per school-year are drawn so that their total is about
        ``scale.pupil_rows``, in proportion to enrolment.
    school_years
        The panel from :func:`panel` (uses ``school_id``, ``year``,
        ``enrolment`` and ``planted_mean``).

    Returns
    -------
    pandas.DataFrame
        One row per school-year and subject of ``scale.subjects``:
        ``school_id``, ``year``, ``subject``, ``planted_mean`` (score points,
        with the subject's offset), ``planted_pass_rate`` (share, 0–1) and
        ``n_records`` (pupils drawn; the same for every subject of a school-year).
    """
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
    so memory stays at a few batches whatever the scale.

    Parameters
    ----------
    scale
        Seed (stream ``[scale.seed, 4]``), subjects, ``bad_share``, file and row
        group sizes.
    planted
        The output of :func:`truth`, rows grouped by school-year with the
        subjects in ``scale.subjects`` order.
    folder
        Where the parts go; existing ``part-*.parquet`` files there are deleted first.
    progress
        Called as ``progress(done, total)`` after each batch, in rows of ``planted``.

    Returns
    -------
    files : list of Path
        The parts written (:data:`PUPIL_SCHEMA`: ``school_id, year, subject,
        pupil_id, score, passed``).
    corrupted : numpy.ndarray
        Corrupted rows per row of ``planted``.
    kinds : dict
        Corrupted rows per kind of :data:`CORRUPTIONS`.
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
