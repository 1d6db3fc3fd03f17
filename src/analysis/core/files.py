"""Writing files so that a reader sees the old file or the new one, never half of one.

Every file the workbench writes for someone else to read (processed tables, the DuckDB
catalogue, manifests, reports, cached tables) goes through here: it is written under a
temporary name beside its target, flushed, and renamed over the target in one step.
A process killed part-way leaves only a ``*.tmp`` file, which the runner and ingest
delete on their next start.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

TMP_SUFFIX = ".tmp"


def tmp_path(target: Path, *, unique: bool = False) -> Path:
    """The temporary name a write to ``target`` goes through (``<name>.tmp``).

    Parameters
    ----------
    target
        The final file.
    unique
        Add the process id, for targets several processes may write at once (the
        shared memo cache); the last rename wins, and each rename is whole.
    """
    suffix = f".{os.getpid()}{TMP_SUFFIX}" if unique else TMP_SUFFIX
    return target.with_name(target.name + suffix)


@contextlib.contextmanager
def replacing(target: Path | str, *, unique: bool = False) -> Iterator[Path]:
    """Yield a temporary path to write; on success it replaces ``target`` in one rename.

    On an exception the temporary file is removed and ``target`` is left as it was.

    Example
    -------
    >>> with replacing(folder / "panel.parquet") as tmp:  # doctest: +SKIP
    ...     frame.to_parquet(tmp, index=False)
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = tmp_path(target, unique=unique)
    tmp.unlink(missing_ok=True)
    try:
        yield tmp
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    os.replace(tmp, target)


def atomic_write(target: Path | str, content: str | bytes, *, unique: bool = False) -> None:
    """Write ``content`` (text as UTF-8) to ``target`` whole, flushed to disk first."""
    data = content.encode("utf-8") if isinstance(content, str) else content
    with replacing(target, unique=unique) as tmp, open(tmp, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


def write_json(target: Path | str, value: Any, *, indent: int | None = 2) -> None:
    """``value`` as UTF-8 JSON (non-ASCII kept as is), written whole."""
    text = json.dumps(value, ensure_ascii=False, indent=indent, default=str)
    atomic_write(target, text + ("\n" if indent is not None else ""))


def adopt(tmp: Path, target: Path) -> None:
    """Rename a file another library wrote under a temporary name onto ``target``."""
    os.replace(tmp, target)
