"""The data commands: ``generate``, ``ingest``, ``pupils`` and ``national``.

Each command imports the layers it needs when it runs, so ``workbench --help`` stays fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from analysis.cli.common import console, errors, fail, progress_display, track, usage_error
from analysis.core import workspace
from analysis.core.config import ConfigError


def generate(
    out: Annotated[Path | None, typer.Option(help="Folder for the raw files")] = None,
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same bytes)")] = 20250601,
    profile: Annotated[
        str, typer.Option(help="Realism flaws: clean, realistic (default data) or messy")
    ] = "realistic",
    scale: Annotated[float, typer.Option(help="Share of the ~600 schools (small test data)")] = 1.0,
    district_year_sd: Annotated[
        float | None,
        typer.Option(
            help="SD of the district × year score shocks (default: the profile's, 0.03; clean 0)"
        ),
    ] = None,
    parallel_trends: Annotated[
        bool,
        typer.Option(
            help="Untreated score trends parallel across districts; the no- form "
            "plants a violation on purpose"
        ),
    ] = True,
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
    district_year_sd
        Standard deviation of the district × year shocks in score units; ``None``
        takes the profile's default (``analysis.data.synth.DISTRICT_YEAR_SD``).
    parallel_trends
        Whether the untreated outcomes trend in parallel; ``False`` plants the
        violation of the generator before issue 16, on purpose.
    if_missing
        Do nothing when ``out`` already holds ``truth.json``.

    Raises
    ------
    typer.Exit
        Status 2 for an unknown profile or a negative shock SD.
    """
    from analysis.core import paths
    from analysis.data import synth

    out = out or paths.default_raw_dataset()
    if if_missing and (out / "truth.json").is_file():
        console.print(f"Synthetic province already in {out} (use `workbench generate` to rebuild)")
        return
    if profile not in synth.PROFILES:
        choices = ", ".join(synth.PROFILES)
        usage_error(f"unknown profile {profile!r}; expected one of {choices}")
    if district_year_sd is not None and not district_year_sd >= 0:  # NaN too
        usage_error(f"--district-year-sd must be 0 or more, got {district_year_sd}")
    with errors.status("Generating the synthetic province…"):
        province = synth.generate(
            seed=seed,
            profile=profile,
            scale=scale,
            district_year_sd=district_year_sd,
            parallel_trends=parallel_trends,
        )
        written = synth.write(province, out)
    console.print(
        f"Synthetic Thái Nguyên province (seed {seed}, profile {profile}): "
        f"{province.truth['n_schools']} schools, school years "
        f"{province.truth['school_years'][0]} to {province.truth['school_years'][-1]}; "
        f"district × year shock sd {province.truth['district_year_shocks']['sd']:g}, "
        f"parallel trends {'hold' if parallel_trends else 'violated on purpose'}"
    )
    for path in written:
        console.print(f"  wrote {path}")


def ingest(
    path: Annotated[Path, typer.Argument(help="A raw file or folder (xlsx, xls, ods, csv)")],
    out: Annotated[
        Path | None, typer.Option(help="Folder for Parquet + DuckDB (default data/processed)")
    ] = None,
    check: Annotated[bool, typer.Option("--check", help="Validate only; write nothing")] = False,
    dataset: Annotated[
        str | None,
        typer.Option(
            help="Dataset spec whose model roles the coverage checks (default: the "
            "workspace's, else thai_nguyen_synthetic)"
        ),
    ] = None,
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
    dataset
        The dataset spec whose model roles the coverage table checks.

    Raises
    ------
    typer.Exit
        Status 2 when ingest stops (:class:`analysis.ingest.IngestError`; the
        message names file and column).
    """
    from analysis.data import ingest as ingest_module

    try:
        with progress_display() as progress:
            result = ingest_module.ingest(
                path, out_dir=out, write=not check, progress=track(progress, "Reading files")
            )
    except ingest_module.IngestError as exc:
        fail("Ingest stopped:", exc)
    _print_ingest(result)
    _print_coverage(result, dataset or workspace.default_dataset())


def _print_coverage(result, dataset: str) -> None:
    """What the columns found can compute; what cannot be computed, why, and what to do."""
    from analysis.measures import coverage

    try:
        table, unknown = coverage.save(result, dataset)
    except ConfigError as exc:
        fail("Coverage:", exc)
    kinds = {"indicator": "indicators", "criterion": "Decision 4725 criteria",
             "role": f"model variables of {dataset}"}  # fmt: skip
    counts = [
        f"{kinds[k]} {int(g['computable'].sum())} of {len(g)}"
        for k, g in table.groupby("kind", sort=False)
    ]
    console.print("Computable from the columns found: " + "; ".join(counts))
    for row in table[~table["computable"]].itertuples():
        files = row.missing_in.split(", ") if row.missing_in else []
        where = f" (no such header in {len(files)} files: {row.missing_in})" if files else ""
        line = f"cannot compute {row.kind} {row.id} ({row.name_en}): "
        line += f"no values for {row.missing} ({row.missing_headers}){where}"
        console.print(line, style="yellow", markup=False, highlight=False)
        if row.suggestion:
            console.print(f"  suggestion: {row.suggestion}", markup=False, highlight=False)
    for row in unknown.drop_duplicates("header").itertuples():
        advice = f"; {row.suggestion}" if row.suggestion else ""
        console.print(f"unknown header {row.header!r} in {row.file}{advice}", markup=False,
                      highlight=False)  # fmt: skip
    if result.out_dir:
        console.print(f"Coverage: {result.out_dir}/coverage.csv, unknown_columns.csv")


def _print_ingest(result) -> None:
    """The ingest summary: rows per table, schools and years, rejects, warnings, outputs."""
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
        with progress_display() as progress:
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
        fail("Pupil results refused:", exc)
    _print_pupils(result)


def _print_pupils(result) -> None:
    """The aggregation summary: rows in, aggregated and rejected, rejects by rule, outputs."""
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
        usage_error("--schools must be at least 10 and --pupils at least 1000")
    provinces = max(2, min(63, schools // 50))
    scale = national_module.Scale(
        schools=schools, pupil_rows=pupils, provinces=provinces, seed=seed
    )
    with progress_display() as progress:
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
