"""The pupil results: one Parquet row per pupil and subject, streamed a row group at a time."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from analysis.data.national.scale import CORRUPTIONS, PASS_MARK, SCORE_SD, Scale

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


class _Groups(NamedTuple):
    """The rows of :func:`~analysis.data.national.truth`'s frame as arrays (one per
    school-year-subject), and the first pupil id of each school-year."""

    counts: np.ndarray  # pupil rows of the group
    means: np.ndarray  # planted mean score
    ids: np.ndarray  # school id
    years: np.ndarray  # end year of the school year, int16
    subjects: np.ndarray
    first_pupil: np.ndarray  # per school-year: its pupils' ids start here

    @classmethod
    def of(cls, planted: pd.DataFrame, k: int) -> _Groups:
        counts = planted["n_records"].to_numpy()
        # a pupil sits every subject of the school-year: ids are shared across its k rows
        first_pupil = np.concatenate([[0], np.cumsum(counts[::k])])[:-1]
        return cls(
            counts=counts,
            means=planted["planted_mean"].to_numpy(),
            ids=planted["school_id"].to_numpy(),
            years=planted["year"].to_numpy().astype("int16"),
            subjects=planted["subject"].to_numpy(),
            first_pupil=first_pupil,
        )


class _Batch(NamedTuple):
    """The pupil rows of a run of groups, before they are written."""

    group: np.ndarray  # the row's group (row of ``planted``)
    pupil: np.ndarray
    school: np.ndarray  # object array: a corrupted row holds None
    score: np.ndarray
    passed: np.ndarray


def _clear(folder: Path) -> None:
    """Create ``folder``, or delete the ``part-*.parquet`` files already in it."""
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("part-*.parquet"):
        old.unlink()


def _batch_groups(scale: Scale, counts: np.ndarray, k: int) -> int:
    """Groups drawn per batch: about a row group of rows, whole school-years (``k`` subjects)."""
    return max(k, int(scale.row_group_rows / max(1.0, counts.mean())) // k * k)


def _draw(rng: np.random.Generator, groups: _Groups, k: int, start: int, stop: int) -> _Batch:
    """The pupil rows of groups ``start`` to ``stop``, with their scores drawn."""
    n = groups.counts[start:stop]
    group = np.repeat(np.arange(start, stop), n)
    within = np.arange(len(group)) - np.repeat(np.cumsum(n) - n, n)
    score = np.round(np.clip(rng.normal(groups.means[group], SCORE_SD), 0, 10), 2)
    return _Batch(
        group=group,
        pupil=groups.first_pupil[group // k] + within,
        school=groups.ids[group].astype(object),
        score=score,
        passed=(score >= PASS_MARK).astype("int8"),
    )


def _corrupt(
    rng: np.random.Generator, batch: _Batch, bad_share: float, kinds: dict[str, int]
) -> np.ndarray:
    """Corrupt a ``bad_share`` of the batch's rows in place, a kind of
    :data:`CORRUPTIONS` each; count them in ``kinds``; return their positions."""
    corrupt = np.flatnonzero(rng.random(len(batch.group)) < bad_share)
    kind = rng.integers(0, len(CORRUPTIONS), len(corrupt))
    for code, name in enumerate(CORRUPTIONS):
        where = corrupt[kind == code]
        kinds[name] += len(where)
        if name == "school_id_missing":
            batch.school[where] = None
        elif name == "score_out_of_range":
            batch.score[where] = np.where(rng.random(len(where)) < 0.5, -1.0, 10.5)
        else:
            batch.passed[where] = 9  # a code that means neither pass nor fail
    return corrupt


def _table(batch: _Batch, groups: _Groups) -> pa.Table:
    """The batch as a table of :data:`PUPIL_SCHEMA`."""
    return pa.table(
        {
            "school_id": pa.array(batch.school, pa.string()),
            "year": groups.years[batch.group],
            "subject": pa.array(groups.subjects[batch.group], pa.string()),
            "pupil_id": batch.pupil.astype("int64"),
            "score": batch.score.astype("float32"),
            "passed": batch.passed,
        },
        schema=PUPIL_SCHEMA,
    )


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
    _clear(folder)
    rng = np.random.default_rng([scale.seed, 4])
    k = len(scale.subjects)
    n_groups = len(planted)
    groups = _Groups.of(planted, k)
    bad = np.zeros(n_groups, dtype="int64")
    kinds = dict.fromkeys(CORRUPTIONS, 0)
    files = _Files(folder, scale.rows_per_file, scale.row_group_rows)
    batch_groups = _batch_groups(scale, groups.counts, k)
    try:
        for start in range(0, n_groups, batch_groups):
            stop = min(n_groups, start + batch_groups)
            # the draws keep their order (scores, then corruptions): the same seed, the same rows
            batch = _draw(rng, groups, k, start, stop)
            corrupt = _corrupt(rng, batch, scale.bad_share, kinds)
            np.add.at(bad, batch.group[corrupt], 1)
            files.write(_table(batch, groups))
            if progress:
                progress(stop, n_groups)
    finally:
        files.close()
    return files.paths, bad, kinds
