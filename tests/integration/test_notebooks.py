"""Notebooks run under papermill on the project kernel, on every dataset spec."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import analysis
from analysis.data import datasets

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def test_notebooks_are_stripped_and_parameterised():
    assert NOTEBOOKS
    for path in NOTEBOOKS:
        nb = json.loads(path.read_text(encoding="utf-8"))
        code = [c for c in nb["cells"] if c["cell_type"] == "code"]
        assert all(not c.get("outputs") and not c.get("execution_count") for c in code), path
        tagged = [c for c in code if "parameters" in c.get("metadata", {}).get("tags", [])]
        assert len(tagged) == 1, path
        assert nb["metadata"]["kernelspec"]["name"] == analysis.KERNEL_NAME


def test_project_kernel_is_registered():
    from jupyter_client.kernelspec import KernelSpecManager

    specs = KernelSpecManager().find_kernel_specs()
    assert analysis.KERNEL_NAME in specs, (
        f"kernel {analysis.KERNEL_NAME!r} not registered: run `make install`"
    )


# Vietnamese on every spec; English on the synthetic province too
RUNS = [(name, "vi") for name in datasets.available()] + [("thai_nguyen_synthetic", "en")]


@pytest.mark.slow
@pytest.mark.parametrize(("dataset", "lang"), RUNS)
def test_links_notebook_runs_on_every_spec(dataset, lang, realistic_ingested, tmp_path):
    import papermill as pm

    out = tmp_path / f"links_{dataset}.ipynb"
    pm.execute_notebook(
        str(ROOT / "notebooks" / "03_links.ipynb"),
        str(out),
        parameters={"dataset": dataset, "lang": lang, "processed": str(realistic_ingested[2])},
        kernel_name=analysis.KERNEL_NAME,
        cwd=str(ROOT),
        progress_bar=False,
        execution_timeout=600,
    )
    nb = json.loads(out.read_text(encoding="utf-8"))
    text = json.dumps(nb["cells"], ensure_ascii=False)
    assert "Traceback" not in text
    assert "image/png" in text  # the forest plot at least
    if dataset == "thai_nguyen_synthetic":
        assert "dữ liệu mô phỏng" in text or "synthetic data" in text


@pytest.mark.slow
def test_links_notebook_mixed_and_panel(realistic_ingested, tmp_path):
    import papermill as pm

    for model in ("mixed", "panel"):
        out = tmp_path / f"links_{model}.ipynb"
        pm.execute_notebook(
            str(ROOT / "notebooks" / "03_links.ipynb"),
            str(out),
            parameters={
                "model": model,
                "years": [2023, 2024, 2025],
                "lang": "en",
                "processed": str(realistic_ingested[2]),
            },
            kernel_name=analysis.KERNEL_NAME,
            cwd=str(ROOT),
            progress_bar=False,
            execution_timeout=600,
        )
        assert "Marginal effect of infrastructure" in out.read_text(encoding="utf-8")


@pytest.mark.slow
def test_pages_say_what_the_reports_lack(realistic_ingested, tmp_path):
    """A province whose template lacks the cumulative-training column: the brief names the
    headline indicator with its reason and draws no empty trend; the links model leaves the
    column out and says so, instead of a failed run."""
    import shutil

    import pandas as pd
    import papermill as pm

    processed = tmp_path / "processed"
    shutil.copytree(realistic_ingested[2], processed)
    panel = pd.read_parquet(processed / "panel.parquet")
    panel["teachers_trained_cds"] = pd.array([pd.NA] * len(panel), dtype="Int64")
    panel.to_parquet(processed / "panel.parquet", index=False)
    texts = {}
    for notebook, parameters in (
        ("04_district_brief", {"unit": "164", "year": 2025}),
        ("03_links", {}),
    ):
        out = tmp_path / f"{notebook}.ipynb"
        pm.execute_notebook(
            str(ROOT / "notebooks" / f"{notebook}.ipynb"),
            str(out),
            parameters={**parameters, "lang": "en", "processed": str(processed)},
            kernel_name=analysis.KERNEL_NAME,
            cwd=str(ROOT),
            progress_bar=False,
            execution_timeout=600,
        )
        texts[notebook] = out.read_text(encoding="utf-8")
        assert "Traceback" not in texts[notebook]
    brief = texts["04_district_brief"]
    assert "1 of 10 headline indicators have no value for" in brief
    assert "no report has values in the column" in brief
    assert "No trend chart for this indicator" in brief
    assert "Left out of the model because the reports hold no values for it" in texts["03_links"]
