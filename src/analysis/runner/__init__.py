"""Plans → papermill runs: validated, keyed by content, executed, published, rendered.

The parts, in the order a plan goes through them:

* :mod:`~analysis.runner.plan`: a plan file read, grids expanded, parameters checked;
* :mod:`~analysis.runner.grid`: what a grid expands to (or why to nothing), file names;
* :mod:`~analysis.runner.keys`: inputs resolved once, content keys, seeds, the cache;
* :mod:`~analysis.runner.execute`: one notebook in a child process, its faults;
* :mod:`~analysis.runner.executors`: how runs execute (local processes, Dask), one
  interface;
* :mod:`~analysis.runner.publish`: run records, the tables' CSVs, figures, manifest,
  the public KPI workbook;
* :mod:`~analysis.runner.render`: HTML pages and the index;
* :mod:`~analysis.runner.share`: the bundle a plan's readers may receive;
* :mod:`~analysis.runner.engine`: :func:`run_plan`, the sequence of those steps.

Example
-------
>>> from analysis import runner
>>> plan = runner.load_plan("default")  # doctest: +SKIP
>>> manifest = runner.run_plan(plan, jobs=2)  # doctest: +SKIP
"""

from analysis.runner.engine import run_plan
from analysis.runner.executors import (
    DaskExecutor,
    Executor,
    ProcessExecutor,
    SchedulerError,
    connect,
)
from analysis.runner.frontpage import empty_grid_lines
from analysis.runner.grid import EmptyGrid, safe_name, slug
from analysis.runner.keys import HASH_SEED, inputs_record, seeds
from analysis.runner.plan import (
    Plan,
    PlanError,
    Run,
    check_name,
    default_out_dir,
    load_plan,
    notebook_parameters,
    plan_path,
    validate_parameters,
)
from analysis.runner.publish import (
    PLAN_INTERNAL,
    RUN_STATUSES,
    RunRecord,
    data_dir,
    publish_data,
    shown_status,
)

__all__ = [
    "HASH_SEED",
    "PLAN_INTERNAL",
    "RUN_STATUSES",
    "DaskExecutor",
    "EmptyGrid",
    "Executor",
    "Plan",
    "PlanError",
    "ProcessExecutor",
    "Run",
    "RunRecord",
    "SchedulerError",
    "check_name",
    "connect",
    "data_dir",
    "default_out_dir",
    "empty_grid_lines",
    "inputs_record",
    "load_plan",
    "notebook_parameters",
    "plan_path",
    "publish_data",
    "run_plan",
    "safe_name",
    "seeds",
    "shown_status",
    "slug",
    "validate_parameters",
]
