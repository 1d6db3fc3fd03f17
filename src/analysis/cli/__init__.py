"""The ``workbench`` command (also ``python -m analysis``). Thin: no logic of its own.

The typer :data:`app` and :func:`main` live here; the commands, in the order
``workbench --help`` lists them, in:

* :mod:`.data` — ``generate``, ``ingest``, ``pupils``, ``national``
* :mod:`.reports` — ``indicators``, ``run``, ``report``, ``share``, ``params``
* :mod:`.inspection` — ``followup``
* :mod:`.workspace` — ``init``, and ``--home`` before any command
* :mod:`.common` — the consoles, the progress display and the exit on a user error

A command imports the layers it needs when it runs, so ``workbench --help`` and
each subcommand start fast.
"""

from __future__ import annotations

import sys

import typer

from analysis import __version__
from analysis.cli.common import console, errors
from analysis.cli.data import generate, ingest, national, pupils
from analysis.cli.inspection import followup
from analysis.cli.reports import indicators, params, report, run_command, share
from analysis.cli.workspace import home, init

app = typer.Typer(
    name="workbench",
    help="CĐS workbench: monitor and evaluate digital transformation in schools.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.callback()(home)


def version() -> None:
    """Print the workbench version.
    \f

    The package version (``analysis.__version__``), on standard output.
    """
    console.print(__version__)


# registered in the order `workbench --help` lists them
app.command()(version)
app.command()(init)
app.command()(generate)
app.command()(ingest)
app.command()(pupils)
app.command()(national)
app.command()(indicators)
app.command("run")(run_command)
app.command()(report)
app.command()(share)
app.command()(followup)
app.command()(params)


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``workbench`` console script.

    Parameters
    ----------
    argv
        The arguments after the program name; default ``sys.argv[1:]``.

    Raises
    ------
    SystemExit
        Always, as click ends: status 0 on success, 1 when a run failed, 2 for
        a usage or user error.

    Example
    -------
    >>> cli.main(["indicators", "--lang", "en"])  # doctest: +SKIP
    """
    app(args=argv if argv is not None else sys.argv[1:], prog_name="workbench")


__all__ = [
    "app",
    "console",
    "errors",
    "generate",
    "indicators",
    "ingest",
    "init",
    "main",
    "national",
    "pupils",
    "report",
    "run_command",
    "share",
    "version",
]
