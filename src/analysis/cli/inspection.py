"""The inspection command: ``followup`` (the data-quality follow-up register).

It imports the layers it needs when it runs, so ``workbench --help`` stays fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from analysis.cli.common import console, errors, fail


def followup(
    dataset: Annotated[str, typer.Option(help="Dataset spec (config/datasets)")] = (
        "thai_nguyen_synthetic"
    ),
    processed: Annotated[
        Path | None, typer.Option(help="Processed tables (default data/processed)")
    ] = None,
    register: Annotated[
        Path | None, typer.Option(help="The register (default data/followup.xlsx)")
    ] = None,
) -> None:
    """Write the follow-up register of data-quality flags (data/followup.xlsx).
    \f

    The text above is the command's ``--help``; what follows is for readers of the code.

    The flags are computed on the tables with the register's decisions already applied;
    every decision recorded in the register is kept
    (:func:`analysis.data.followup.update_register`).

    Parameters
    ----------
    dataset
        A dataset spec of ``config/datasets`` (a processed source).
    processed
        The processed tables; default ``data/processed``.
    register
        The workbook; default :func:`analysis.data.followup.default_path`.

    Raises
    ------
    typer.Exit
        Status 2 when the dataset cannot be loaded or the register has a bad entry.
    """
    from analysis.core import paths
    from analysis.data import datasets
    from analysis.data import followup as register_io
    from analysis.data.ingest.errors import IngestError
    from analysis.measures import quality

    target = register or register_io.default_path()
    try:
        data = datasets.load(dataset, processed=processed, followup_register=target)
    except IngestError as exc:
        fail("The follow-up register has a bad entry:", exc)
    except (datasets.DatasetError, ValueError, KeyError) as exc:
        fail("Cannot load the dataset:", exc)
    with errors.status("Checking every reported value…"):
        flags = quality.flags(data)
        written = register_io.update_register(flags, target)
    counts = written["state"].value_counts()
    console.print(
        f"{len(written)} flags: {counts.get('open', 0)} open, {counts.get('waiting', 0)} waiting "
        f"for the school, {counts.get('resolved', 0)} resolved; "
        f"{int(data.corrections['applied'].sum()) if len(data.corrections) else 0} decisions "
        f"applied. Register: {paths.shown(target)}"
    )
