"""CĐS workbench: monitoring and evaluating digital transformation in schools.

The package is in layers, each importing only from the layers below it::

    cli, __main__        the `workbench` command
    runner/              plans → runs → manifest, pages, index, share bundle
    report/              record, tables, privacy, plots, brief, export (what a reader sees)
    models/              links, evaluation, staggered, fewcluster, sensitivity, typology
    measures/            indicators, maturity, quality
    data/                schema, hierarchy, catalog, datasets, ingest/, pupils, national, synth/
    core/                paths, config, files, provenance, i18n, text, legacy, memo

A notebook imports the modules by their short names, ``from analysis import links,
plots, record``; each is loaded on first use (:data:`MODULES` says where it lives), so
``import analysis`` itself stays light and imports no layer.
"""

from __future__ import annotations

import importlib
from types import ModuleType

__version__ = "0.1.0"

# The Jupyter kernel every notebook, papermill run and nbval test uses; the
# Makefile registers it under this name (tests check that they agree).
KERNEL_NAME = "cds-workbench"

# short name → module, for notebooks and the README's examples
MODULES = {
    "paths": "analysis.core.paths",
    "config": "analysis.core.config",
    "files": "analysis.core.files",
    "provenance": "analysis.core.provenance",
    "i18n": "analysis.core.i18n",
    "text": "analysis.core.text",
    "legacy": "analysis.core.legacy",
    "memo": "analysis.core.memo",
    "schema": "analysis.data.schema",
    "hierarchy": "analysis.data.hierarchy",
    "catalog": "analysis.data.catalog",
    "datasets": "analysis.data.datasets",
    "followup": "analysis.data.followup",
    "ingest": "analysis.data.ingest",
    "pupils": "analysis.data.pupils",
    "national": "analysis.data.national",
    "synth": "analysis.data.synth",
    "indicators": "analysis.measures.indicators",
    "maturity": "analysis.measures.maturity",
    "quality": "analysis.measures.quality",
    "links": "analysis.models.links",
    "evaluation": "analysis.models.evaluation",
    "evaluation_text": "analysis.report.evaluation_text",
    "typology": "analysis.models.typology",
    "record": "analysis.report.record",
    "tables": "analysis.report.tables",
    "privacy": "analysis.report.privacy",
    "plots": "analysis.report.plots",
    "brief": "analysis.report.brief",
    "export": "analysis.report.export",
    "render": "analysis.runner.render",
    "share": "analysis.runner.share",
}

__all__ = ["KERNEL_NAME", "MODULES", "__version__", *MODULES]


def __getattr__(name: str) -> ModuleType:
    # PEP 562: `from analysis import links` loads analysis.models.links on first use
    if name in MODULES:
        module = importlib.import_module(MODULES[name])
        globals()[name] = module
        return module
    raise AttributeError(f"module 'analysis' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
