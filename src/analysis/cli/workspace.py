"""``workbench init`` and the ``--home`` option every command takes."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from analysis.cli.common import console, errors, fail
from analysis.core import config, paths, workspace  # light: PyYAML only, for every command

HOME_HELP = "The workspace to use (default: the one the working directory is in; or WORKBENCH_HOME)"


def home(
    ctx: typer.Context,
    home: Annotated[
        Path | None, typer.Option("--home", help=HOME_HELP, file_okay=False, resolve_path=True)
    ] = None,
) -> None:
    """CĐS workbench: monitor and evaluate digital transformation in schools.
    \f

    The callback before every command: ``--home DIR`` becomes ``$WORKBENCH_HOME`` (which
    :func:`analysis.core.paths.project_root` reads), and in a workspace the command
    first says, on standard error, which of the workspace's config files it merges
    over the shipped defaults.
    """
    if home is not None:
        if not home.is_dir():
            errors.print(f"--home {home}: no such folder (create it with `workbench init {home}`)")
            raise typer.Exit(2)
        os.environ["WORKBENCH_HOME"] = str(home)
    if ctx.invoked_subcommand in {None, "init", "version"}:
        return
    if paths.is_workspace():
        root = paths.project_root()
        own = [p.relative_to(root / "config").as_posix() for p in config.used()]
        shipped = paths.shipped_config_dir()
        errors.print(
            f"workspace {root}; config: {', '.join(own) or 'none of its own'} "
            f"(over the defaults in {shipped})",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )


def init(
    folder: Annotated[Path, typer.Argument(help="The workspace folder (created when missing)")],
    name: Annotated[
        str | None,
        typer.Option(help="The province's dataset and plan name (default: the folder's)"),
    ] = None,
    title: Annotated[
        str | None,
        typer.Option(help="The province's title on reports (default: the folder's name)"),
    ] = None,
) -> None:
    """Create a workspace: config overrides, data/raw, data/processed, reports.
    \f

    Nothing in the installed package or the checkout is edited; files already in the
    folder are kept. See :func:`analysis.core.workspace.create`.

    Raises
    ------
    typer.Exit
        Status 2 when the folder cannot be created or the shipped templates are unreadable.
    """
    try:
        done = workspace.create(folder, name=name, title=title)
    except (config.ConfigError, OSError) as exc:
        fail("Cannot create the workspace:", exc)
    for path in done.written:
        console.print(f"  wrote {path.relative_to(done.root)}")
    for path in done.kept:
        console.print(f"  kept  {path.relative_to(done.root)} (already there)")
    console.print(
        f"Workspace {done.root} (dataset and plan [bold]{done.name}[/bold]). Next:\n"
        f"  cd {done.root}\n"
        "  put the reports and the school register in data/raw/\n"
        "  workbench ingest data/raw\n"
        f"  workbench run {done.name}",
        highlight=False,
    )
