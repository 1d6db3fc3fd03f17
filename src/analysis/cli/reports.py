"""The report commands: ``indicators``, ``run``, ``report``, ``share`` and ``params``.

Each command imports the layers it needs when it runs, so ``workbench --help`` stays fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, cast

import typer
from rich.markup import escape
from rich.table import Table

from analysis.cli.common import console, errors, fail, progress_display, usage_error


def indicators(
    dataset: Annotated[str, typer.Option(help="Dataset spec (config/datasets)")] = (
        "thai_nguyen_synthetic"
    ),
    processed: Annotated[
        Path | None, typer.Option(help="Processed tables (default data/processed)")
    ] = None,
    lang: Annotated[str, typer.Option(help="Language of the tables: vi or en")] = "vi",
    out: Annotated[Path | None, typer.Option(help="Output folder (default reports/kpi)")] = None,
) -> None:
    """Indicators, targets, CĐS maturity and data quality: KPI workbook (Excel) + CSV.
    \f

    The text above is the command's ``--help``; what follows is for readers of the code.

    Parameters
    ----------
    dataset
        A dataset spec of ``config/datasets``.
    processed
        The processed tables; default ``data/processed``.
    lang
        Language of the tables, ``vi`` or ``en``.
    out
        Output folder; default ``reports/kpi`` (:func:`analysis.export.export`).

    Raises
    ------
    typer.Exit
        Status 2 for an unknown language or a dataset that cannot be loaded.
    """
    from analysis.core import i18n, paths
    from analysis.data import datasets
    from analysis.report import export

    if lang not in i18n.LANGUAGES:
        usage_error(f"unknown language {lang!r}; expected vi or en")
    try:
        data = datasets.load(dataset, processed=processed)
    except (datasets.DatasetError, ValueError, KeyError) as exc:
        fail("Cannot load the dataset:", exc)
    out = out or paths.reports_dir() / "kpi"
    with errors.status("Computing indicators, maturity levels and data quality…"):
        written = export.export(data, out, lang=lang)
    _print_latest(cast("dict[str, Any]", written["tables"]), lang)
    console.print(f"KPI workbook: {written['workbook']}; CSV: {out / f'csv_{lang}'}")


def _print_latest(tables: dict[str, Any], lang: str) -> None:
    """The province's indicators of the latest year: value, target and status."""
    from analysis.core import i18n

    province = tables["province"]
    latest = province["year"].max()
    shown = province[province["year"] == latest]
    table = Table(title=f"{i18n.label('levels', 'analysis_province', lang)} — {latest}")
    for header in ("name", "value", "target", "status"):
        table.add_column(i18n.label("columns", header, lang))
    status_names = i18n.labels("status", lang)
    for row in shown.itertuples():
        target = i18n.integer(row.target, lang)  # a dash when there is none
        table.add_row(
            row.name,
            f"{i18n.number(row.value, lang)} {row.measure}",
            "" if target == i18n.MISSING else f"{target} ({row.target_year})",
            status_names[row.status],
        )
    console.print(table)


def run_command(
    plan: Annotated[str, typer.Argument(help="Plan name (config/plans) or path")] = "default",
    dataset: Annotated[
        str | None, typer.Option(help="Run the plan on another dataset spec")
    ] = None,
    jobs: Annotated[int | None, typer.Option(help="Runs in parallel (default: cores)")] = None,
    force: Annotated[bool, typer.Option("--force", help="Re-run even unchanged runs")] = False,
    only: Annotated[
        str | None, typer.Option(help="Only these runs: ids or globs, comma-separated")
    ] = None,
    processed: Annotated[
        Path | None, typer.Option(help="Processed tables (default data/processed)")
    ] = None,
    lang: Annotated[str | None, typer.Option(help="vi or en (default: the plan's)")] = None,
    cell_timeout: Annotated[int, typer.Option(help="Seconds a cell may run")] = 600,
    start_timeout: Annotated[int, typer.Option(help="Seconds for a kernel to start")] = 120,
    out: Annotated[Path | None, typer.Option(help="Output folder (default reports/PLAN)")] = None,
    scheduler: Annotated[
        str | None,
        typer.Option(
            help="Run on the Dask cluster of this scheduler (tcp://HOST:PORT); default: locally"
        ),
    ] = None,
    scheduler_timeout: Annotated[
        float, typer.Option(help="Seconds to wait for the scheduler to answer")
    ] = 10.0,
) -> None:
    """Execute a plan's notebooks (parallel, cached), record a manifest, render HTML.
    \f

    The text above is the command's ``--help``; what follows is for readers of the code.

    Parameters
    ----------
    plan
        A plan name of ``config/plans`` or a path.
    dataset
        Run the plan on this dataset spec instead of its own.
    jobs
        Runs in parallel; default the number of cores.
    force
        Re-run runs whose inputs have not changed.
    only
        Only these runs: run ids or globs, comma-separated.
    processed
        The processed tables; default ``data/processed``.
    lang
        ``vi`` or ``en``; default the plan's.
    cell_timeout
        Seconds a notebook cell may run.
    start_timeout
        Seconds for a kernel to start.
    out
        Output folder; default ``reports/<plan>``.
    scheduler
        A Dask scheduler address (``tcp://HOST:PORT``) to run on; default locally.
    scheduler_timeout
        Seconds to wait for the scheduler to answer.

    Raises
    ------
    typer.Exit
        Status 2 when the plan is refused or no cluster answers; status 1 when
        a run failed (each failure is printed with its cell and error).
    """
    from analysis import runner

    try:
        loaded = runner.load_plan(plan, dataset=dataset, processed=processed, lang=lang)
    except (runner.PlanError, ValueError, KeyError) as exc:
        fail("Plan refused:", exc)
    with progress_display() as progress:

        def track(items, total):
            yield from progress.track(items, total=total, description=f"Plan {loaded.name}")

        try:
            manifest = runner.run_plan(
                loaded,
                out_dir=out,
                jobs=jobs,
                force=force,
                only=only,
                processed=processed,
                cell_timeout=cell_timeout,
                start_timeout=start_timeout,
                progress=track,
                scheduler=scheduler,
                scheduler_timeout=scheduler_timeout,
            )
        except runner.PlanError as exc:
            fail("Plan refused:", exc)
        except runner.SchedulerError as exc:
            fail("No cluster:", exc)
    failed = _print_runs(manifest, f"Plan {loaded.name} ({loaded.dataset})")
    out_dir = out or runner.default_out_dir(loaded)
    _print_failures(failed)
    console.print(f"Front page: {out_dir / 'index.html'}")
    if failed:
        raise typer.Exit(1)


def _print_runs(manifest: dict[str, Any], title: str) -> list[dict[str, Any]]:
    """The table of the manifest's runs (status and time), the runs that did not apply and the
    grids that expanded to nothing; returns the failed runs."""
    from analysis import runner

    table = Table(title=title)
    for header in ("run", "status", "time (s)"):
        table.add_column(header, overflow="fold")  # a default is never cut short
    failed = []
    for run in manifest["runs"]:
        seconds = "" if run["duration"] is None else f"{run['duration']:.1f}"
        status = runner.shown_status(run)
        style = {"failed": "red", "cached": "blue", "not_applicable": "dim"}.get(status, "green")
        shown = status.replace("_", " ") + (" (cached)" * (status != run["status"] == "cached"))
        table.add_row(escape(run["id"]), f"[{style}]{shown}[/{style}]", seconds)
        if run["status"] == "failed":
            failed.append(run)
    console.print(table)
    for run in manifest["runs"]:
        if runner.shown_status(run) == "not_applicable":
            console.print(f"Not applicable: {run['id']}: {run['not_applicable']}", markup=False)
    dataset = (manifest.get("dataset_title") or {}).get("en") or manifest["dataset"]
    for line in runner.empty_grid_lines(manifest, "en", dataset):
        console.print(f"Not run: {line}", markup=False, style="yellow")
    return failed


def _print_failures(failed: list[dict[str, Any]]) -> None:
    """Each failed run: its notebook, the cell and error, the executed notebook."""
    for run in failed:
        error = run.get("error") or {}
        console.print(
            f"FAILED {run['id']}: notebook {run['notebook']}, cell {error.get('cell')}: "
            f"{error.get('ename')}: {str(error.get('evalue'))[:500]}\n  executed notebook: "
            f"{error.get('executed')}",
            markup=False,
            style="red",
        )


def report(
    plan: Annotated[str, typer.Argument(help="Plan name (config/plans) or path")] = "default",
    formats: Annotated[
        list[str] | None,
        typer.Option("--format", help="docx or pdf; repeat for both (default both)"),
    ] = None,
    lang: Annotated[str | None, typer.Option(help="vi or en (default: the plan's)")] = None,
    out: Annotated[
        Path | None, typer.Option(help="The plan's reports folder (default reports/PLAN)")
    ] = None,
    dest: Annotated[
        Path | None, typer.Option(help="Folder to write to (default the plan's reports folder)")
    ] = None,
) -> None:
    """Write the Department's supervision report from a finished plan run: Word and PDF.
    \f

    The text above is the command's ``--help``; what follows is for readers of the code.

    Parameters
    ----------
    plan
        A plan name of ``config/plans`` or a path; names the reports folder.
    formats
        ``docx``, ``pdf`` or both (the default); the PDF is printed by Chromium.
    lang
        ``vi`` or ``en``; default the plan's language.
    out
        The plan's reports folder; default ``reports/<plan name>``.
    dest
        Where the files go; default the plan's reports folder, beside ``index.html``.

    Raises
    ------
    typer.Exit
        Status 2 for an unknown format or language, a plan not run yet, or no Chromium
        for the PDF (the Word file is written first and stays).
    """
    from analysis.report import pdf
    from analysis.runner import supervision

    chosen = tuple(dict.fromkeys(formats or supervision.FORMATS))
    unknown = [f for f in chosen if f not in supervision.FORMATS]
    if unknown:
        usage_error(f"unknown format {unknown[0]!r}; expected docx or pdf")
    if lang is not None and lang not in ("vi", "en"):
        usage_error(f"unknown language {lang!r}; expected vi or en")
    if out is None:
        out = _reports_folder(plan)
    try:
        with errors.status("Writing the supervision report…"):
            written = supervision.write(out, formats=chosen, lang=lang, dest=dest)
    except supervision.ReportError as exc:
        fail("No report:", RuntimeError(f"{exc}; run `workbench run {plan}` first"))
    except pdf.PdfError as exc:
        fail("No PDF:", exc)
    for kind, path in written.items():
        pages = f" ({pdf.page_count(path)} pages)" if kind == "pdf" else ""
        console.print(f"Report ({kind}): {path}{pages}", markup=False)


def share(
    plan: Annotated[str, typer.Argument(help="Plan name (config/plans) or path")] = "default",
    out: Annotated[
        Path | None, typer.Option(help="The plan's reports folder (default reports/PLAN)")
    ] = None,
    zip_path: Annotated[
        Path | None,
        typer.Option("--zip", help="The bundle's path (default reports/PLAN/PLAN-share.zip)"),
    ] = None,
) -> None:
    """Zip what a plan's readers may receive: reports without code, index, public tables.
    \f

    The text above is the command's ``--help``; what follows is for readers of the code.

    Parameters
    ----------
    plan
        A plan name of ``config/plans`` or a path; names the reports folder.
    out
        The plan's reports folder; default ``reports/<plan name>``.
    zip_path
        The bundle's path; default ``reports/<plan>/<plan>-share.zip``.

    Raises
    ------
    typer.Exit
        Status 2 when the plan is refused, has not been run, or the bundle is
        refused (something in it must not be shared).
    """
    from analysis.runner import share as share_module

    if out is None:
        out = _reports_folder(plan)
    try:
        bundle = share_module.build(out, dest=zip_path)
    except share_module.NothingToShare as exc:
        fail("Nothing to share:", RuntimeError(f"{exc}; every run is internal or failed"))
    except share_module.NotRunError as exc:
        fail("Not run yet:", RuntimeError(f"{exc}; run `workbench run {plan}` first"))
    except share_module.ShareRefused as exc:
        fail("Share refused:", exc)
    console.print(f"Share bundle: {bundle.path} ({len(bundle.files)} files)", markup=False)
    console.print("Left out:", markup=False)
    for line in bundle.left_out:
        console.print(f"  - {line}", markup=False, highlight=False)


def params(
    notebook: Annotated[str, typer.Argument(help="A notebook of notebooks/ (03_links) or a path")],
) -> None:
    """List a notebook's parameters: name, default and meaning (Vietnamese and English).
    \f

    The text above is the command's ``--help``; what follows is for readers of the code.

    Parameters
    ----------
    notebook
        ``03_links``, ``03_links.ipynb`` or the path of an ``.ipynb``.

    Raises
    ------
    typer.Exit
        Status 2 when there is no such notebook or it has no ``parameters`` cell.
    """
    from analysis.core import paths
    from analysis.runner import plan as plan_module

    candidates = [Path(notebook), paths.notebooks_dir() / notebook]
    candidates += [c.with_name(c.name + ".ipynb") for c in list(candidates)]
    found = next((c for c in candidates if c.suffix == ".ipynb" and c.is_file()), None)
    if found is None:
        names = sorted(p.stem for p in paths.notebooks_dir().glob("*.ipynb"))
        usage_error(f"no notebook {notebook!r}; the notebooks are: {', '.join(names)}")
    try:
        rows = plan_module.parameter_help(cast(Path, found))
    except plan_module.PlanError as exc:
        fail("Notebook refused:", exc)
    table = Table(title=f"{found.name}", show_lines=True)
    for header in ("Tham số / Parameter", "Mặc định / Default", "Ý nghĩa", "Meaning"):
        table.add_column(header, overflow="fold")  # a default is never cut short
    for row in rows:
        table.add_row(*(escape(row[k]) for k in ("name", "default", "vi", "en")))
    console.print(table)


def _reports_folder(plan: str) -> Path:
    """The plan's reports folder, named by the plan file's ``name`` (as ``workbench run`` does)."""
    from analysis import runner
    from analysis.core import paths
    from analysis.core.config import ConfigError, load_yaml

    try:
        raw = load_yaml(runner.plan_path(plan))
        name = raw.get("name") if isinstance(raw, dict) else None
        return paths.reports_dir() / runner.check_name(name, where=plan)
    except (runner.PlanError, ConfigError) as exc:
        fail("Plan refused:", exc)
