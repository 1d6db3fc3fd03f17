"""The ``workbench`` command (also ``python -m analysis``). Thin: no logic of its own."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from analysis import __version__

app = typer.Typer(
    name="workbench",
    help="CĐS workbench: monitor and evaluate digital transformation in schools.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console()
errors = Console(stderr=True)


def _progress() -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=errors,
        transient=True,
        disable=not errors.is_terminal,
    )


def _fail(title: str, exc: Exception, status: int = 2):
    """A user error: the message (which names file and column), no traceback."""
    errors.print(title, style="bold red", end=" ")
    errors.print(str(exc), markup=False, highlight=False, soft_wrap=True)
    raise typer.Exit(status) from None


def _track(progress: Progress, description: str):
    def wrap(items):
        items = list(items)
        yield from progress.track(items, total=len(items), description=description)

    return wrap


@app.command()
def version() -> None:
    """Print the workbench version.
    \f

    The package version (``analysis.__version__``), on standard output.
    """
    console.print(__version__)


@app.command()
def generate(
    out: Annotated[Path | None, typer.Option(help="Folder for the raw files")] = None,
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same bytes)")] = 20250601,
    profile: Annotated[
        str, typer.Option(help="Realism flaws: clean, realistic (default data) or messy")
    ] = "realistic",
    scale: Annotated[float, typer.Option(help="Share of the ~600 schools (small test data)")] = 1.0,
    if_missing: Annotated[
        bool, typer.Option("--if-missing", help="Do nothing when the folder already has data")
    ] = False,
) -> None:
    """Generate the synthetic Thái Nguyên province (raw Excel reports + truth.json).
    \f

    The text above is the command's ``--help``; what follows is for readers of the code.

    Parameters
    ----------
    out
        Folder for the raw files; default ``data/raw/thai_nguyen_synthetic``.
    seed
        Random seed: the same seed writes the same bytes.
    profile
        Realism flaws, one of ``analysis.synth.PROFILES`` (``clean``,
        ``realistic``, ``messy``).
    scale
        Share of the about 600 schools (0.15 for small test data).
    if_missing
        Do nothing when ``out`` already holds ``truth.json``.

    Raises
    ------
    typer.Exit
        Status 2 for an unknown profile.
    """
    from analysis.core import paths
    from analysis.data import synth

    out = out or paths.default_raw_dataset()
    if if_missing and (out / "truth.json").is_file():
        console.print(f"Synthetic province already in {out} (use `workbench generate` to rebuild)")
        return
    if profile not in synth.PROFILES:
        choices = ", ".join(synth.PROFILES)
        errors.print(f"unknown profile {profile!r}; expected one of {choices}", style="red")
        raise typer.Exit(2)
    with errors.status("Generating the synthetic province…"):
        province = synth.generate(seed=seed, profile=profile, scale=scale)
        written = synth.write(province, out)
    console.print(
        f"Synthetic Thái Nguyên province (seed {seed}, profile {profile}): "
        f"{province.truth['n_schools']} schools, school years "
        f"{province.truth['school_years'][0]} to {province.truth['school_years'][-1]}"
    )
    for path in written:
        console.print(f"  wrote {path}")


@app.command()
def ingest(
    path: Annotated[Path, typer.Argument(help="A raw file or folder (xlsx, csv)")],
    out: Annotated[
        Path | None, typer.Option(help="Folder for Parquet + DuckDB (default data/processed)")
    ] = None,
    check: Annotated[bool, typer.Option("--check", help="Validate only; write nothing")] = False,
) -> None:
    """Read raw school reports into validated tables (Parquet + DuckDB).
    \f

    The text above is the command's ``--help``; what follows is for readers of the code.

    Parameters
    ----------
    path
        A raw file or a folder of them (xlsx, csv).
    out
        Folder for the Parquet tables and ``workbench.duckdb``; default
        ``data/processed``.
    check
        Validate only and write nothing.

    Raises
    ------
    typer.Exit
        Status 2 when ingest stops (:class:`analysis.ingest.IngestError`; the
        message names file and column).
    """
    from analysis.data import ingest as ingest_module

    try:
        with _progress() as progress:
            result = ingest_module.ingest(
                path, out_dir=out, write=not check, progress=_track(progress, "Reading files")
            )
    except ingest_module.IngestError as exc:
        _fail("Ingest stopped:", exc)
    _print_summary(result)


@app.command()
def pupils(
    path: Annotated[
        list[str], typer.Argument(help="Pupil results: .parquet/.csv files, folders or globs")
    ],
    out: Annotated[
        Path | None, typer.Option(help="Processed folder (default data/processed)")
    ] = None,
    threshold: Annotated[
        float | None, typer.Option(help="Score threshold of the 'share below' (default 5)")
    ] = None,
    quantiles: Annotated[
        bool | None,
        typer.Option(
            help="Exact score quantiles p10…p90; --no-quantiles is faster and leaves them "
            "empty (default: aggregation.quantiles in config/pupils.yml, on)"
        ),
    ] = None,
    pupil_count: Annotated[
        bool | None,
        typer.Option(
            help="Distinct pupils (needs a pupil id); --no-pupil-count is faster and leaves "
            "it empty (default: aggregation.pupil_count in config/pupils.yml, on)"
        ),
    ] = None,
    memory_limit: Annotated[str, typer.Option(help="DuckDB memory limit; spills past it")] = "3GB",
) -> None:
    """Aggregate pupil results to school-year outcomes (DuckDB, streaming; rejects kept).
    \f

    The text above is the command's ``--help``; what follows is for readers of the code.

    Parameters
    ----------
    path
        Pupil result files (.parquet, .csv), folders or globs.
    out
        The processed folder the outcomes are written to; default ``data/processed``.
    threshold
        Score threshold of the "share below" (0–10 scale; default 5).
    quantiles
        Compute the exact score quantiles p10…p90 (default from ``config/pupils.yml``).
    pupil_count
        Count distinct pupils (needs a pupil id; default from ``config/pupils.yml``).
    memory_limit
        DuckDB's memory limit (``"3GB"``); it spills to disk past it.

    Raises
    ------
    typer.Exit
        Status 2 when the results are refused (:class:`analysis.pupils.PupilError`).
    """
    from analysis.data import pupils as pupils_module

    steps = list(pupils_module.STEPS)
    try:
        with _progress() as progress:
            task = progress.add_task("Pupil results", total=len(steps))

            def step(name: str) -> None:
                progress.update(
                    task, completed=steps.index(name), description=f"Pupil results: {name}"
                )

            result = pupils_module.aggregate(
                path,
                out_dir=out,
                threshold=threshold,
                quantiles=quantiles,
                pupil_count=pupil_count,
                memory_limit=memory_limit,
                progress=step,
            )
    except pupils_module.PupilError as exc:
        _fail("Pupil results refused:", exc)
    summary = Table(title="Pupil results")
    for header in ("input rows", "aggregated", "rejected", "school-years", "subjects"):
        summary.add_column(header, justify="right")
    summary.add_row(
        f"{result.input_rows:,}",
        f"{result.aggregated_rows:,}",
        f"{result.rejected_rows:,}",
        f"{result.school_years:,}",
        ", ".join(result.subjects) or "-",
    )
    console.print(summary)
    rejected = {k: v for k, v in result.rejects_by_reason.items() if v}
    if rejected:
        console.print("Rejected by rule: " + ", ".join(f"{k} {v:,}" for k, v in rejected.items()))
    console.print(
        f"Outcomes: {result.outputs['outcomes']} (per subject: "
        f"{result.outputs['outcomes_subject']}); rejects with reasons: "
        f"{result.outputs['rejects']}; {result.seconds:.1f} s"
    )


@app.command()
def national(
    out: Annotated[Path, typer.Option(help="Folder for the national system")],
    schools: Annotated[int, typer.Option(help="Number of schools")] = 50_000,
    pupils: Annotated[int, typer.Option(help="Pupil rows, about (pupil x subject)")] = 20_000_000,
    seed: Annotated[int, typer.Option(help="Random seed")] = 20250901,
) -> None:
    """Generate a synthetic national system: school-year panel + pupil results (Parquet).
    \f

    The text above is the command's ``--help``; what follows is for readers of the code.

    Parameters
    ----------
    out
        Folder for the system (:func:`analysis.national.generate`).
    schools
        Number of schools (at least 10); one province per 50 schools, 2 to 63.
    pupils
        Target pupil result rows, pupil × subject (at least 1000).
    seed
        Random seed.

    Raises
    ------
    typer.Exit
        Status 2 when ``schools`` or ``pupils`` is too small.
    """
    from analysis.data import national as national_module

    if schools < 10 or pupils < 1000:
        errors.print("--schools must be at least 10 and --pupils at least 1000", style="red")
        raise typer.Exit(2)
    provinces = max(2, min(63, schools // 50))
    scale = national_module.Scale(
        schools=schools, pupil_rows=pupils, provinces=provinces, seed=seed
    )
    with _progress() as progress:
        task = progress.add_task("Pupil results", total=None)

        def advance(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        system = national_module.generate(out, scale, progress=advance)
    summary = system.summary
    console.print(
        f"Synthetic national system (seed {seed}): {summary['schools']:,} schools, "
        f"{summary['school_years']:,} school-years, {summary['pupil_rows']:,} pupil rows in "
        f"{len(system.pupil_files)} Parquet files under {out / 'pupils'}; truth: {out}/truth.json"
    )


@app.command()
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
        errors.print(f"unknown language {lang!r}; expected vi or en", style="red")
        raise typer.Exit(2)
    try:
        data = datasets.load(dataset, processed=processed)
    except (datasets.DatasetError, ValueError, KeyError) as exc:
        _fail("Cannot load the dataset:", exc)
    out = out or paths.reports_dir() / "kpi"
    with errors.status("Computing indicators, maturity levels and data quality…"):
        written = export.export(data, out, lang=lang)
    tables = written["tables"]
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
    console.print(f"KPI workbook: {written['workbook']}; CSV: {out / f'csv_{lang}'}")


@app.command("run")
def run_command(
    plan: Annotated[str, typer.Argument(help="Plan name (config/plans) or path")] = "default",
    dataset: Annotated[
        str | None, typer.Option(help="Run the plan on another dataset spec")
    ] = None,
    jobs: Annotated[int | None, typer.Option(help="Runs in parallel (default: cores)")] = None,
    force: Annotated[bool, typer.Option("--force", help="Re-run even unchanged runs")] = False,
    only: Annotated[str | None, typer.Option(help="Only runs whose id matches (glob)")] = None,
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
        Only runs whose id matches this glob.
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
        _fail("Plan refused:", exc)
    with _progress() as progress:

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
            _fail("Plan refused:", exc)
        except runner.SchedulerError as exc:
            _fail("No cluster:", exc)
    table = Table(title=f"Plan {loaded.name} ({loaded.dataset})")
    for header in ("run", "status", "time (s)"):
        table.add_column(header)
    failed = []
    for run in manifest["runs"]:
        seconds = "" if run["duration"] is None else f"{run['duration']:.1f}"
        style = {"failed": "red", "cached": "blue"}.get(run["status"], "green")
        table.add_row(escape(run["id"]), f"[{style}]{run['status']}[/{style}]", seconds)
        if run["status"] == "failed":
            failed.append(run)
    console.print(table)
    out_dir = out or runner.default_out_dir(loaded)
    for run in failed:
        error = run.get("error") or {}
        console.print(
            f"FAILED {run['id']}: notebook {run['notebook']}, cell {error.get('cell')}: "
            f"{error.get('ename')}: {str(error.get('evalue'))[:500]}\n  executed notebook: "
            f"{error.get('executed')}",
            markup=False,
            style="red",
        )
    console.print(f"Report index: {out_dir / 'index.html'}")
    if failed:
        raise typer.Exit(1)


@app.command()
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
    from analysis import runner
    from analysis.core import paths
    from analysis.core.config import ConfigError, load_yaml
    from analysis.runner import share as share_module

    if out is None:
        try:
            # the folder is named by the plan file's `name`, as `workbench run` names it
            raw = load_yaml(runner.plan_path(plan))
            name = raw.get("name") if isinstance(raw, dict) else None
            out = paths.reports_dir() / runner.check_name(name, where=plan)
        except (runner.PlanError, ConfigError) as exc:
            _fail("Plan refused:", exc)
    try:
        bundle = share_module.build(out, dest=zip_path)
    except share_module.NotRunError as exc:
        _fail("Not run yet:", RuntimeError(f"{exc}; run `workbench run {plan}` first"))
    except share_module.ShareRefused as exc:
        _fail("Share refused:", exc)
    console.print(f"Share bundle: {bundle.path} ({len(bundle.files)} files)", markup=False)
    console.print("Left out:", markup=False)
    for line in bundle.left_out:
        console.print(f"  - {line}", markup=False, highlight=False)


def _print_summary(result) -> None:
    tables = result.tables
    panel = tables.get("panel")
    summary = Table(title="Ingest summary", show_header=True, header_style="bold")
    summary.add_column("table")
    summary.add_column("input rows", justify="right")
    summary.add_column("accepted", justify="right")
    summary.add_column("rejected", justify="right")
    for table, rows in result.input_rows.items():
        if rows or table in tables:
            summary.add_row(
                table, str(rows), str(result.accepted_rows(table)), str(result.rejected_rows(table))
            )
    console.print(summary)
    if "schools" in tables:
        console.print(f"Schools in the register: {len(tables['schools'])}")
    if panel is not None and len(panel):
        years = sorted(panel["school_year"].unique())
        console.print(
            f"School years: {', '.join(years)}; schools reporting: {panel['school_id'].nunique()}"
        )
    if len(result.rejects):
        top = result.rejects.groupby("rule").size().sort_values(ascending=False)
        console.print("Rejected by rule: " + ", ".join(f"{k} {v}" for k, v in top.items()))
    for warning in result.warnings[:10]:
        console.print(f"warning: {warning}", style="yellow", markup=False, highlight=False)
    if len(result.warnings) > 10:
        console.print(f"[yellow]… and {len(result.warnings) - 10} more warnings[/yellow]")
    if result.out_dir:
        console.print(
            f"Tables: {result.out_dir}/*.parquet; SQL: {result.out_dir}/workbench.duckdb; "
            f"rejects with reasons: {result.out_dir}/rejects.parquet"
        )
    else:
        console.print("Checked only (--check): nothing written.")


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
