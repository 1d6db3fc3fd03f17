"""The two folders of a plan's outputs, and the upgrade from the one-folder layout."""

from __future__ import annotations

import json

from analysis.runner import layout


def test_internal_files_live_beside_the_shared_folder(tmp_path):
    out = tmp_path / "reports" / "default"
    assert layout.internal_dir(out) == tmp_path / "reports" / "default.internal"
    assert layout.manifest_path(out).parent == layout.internal_dir(out)
    assert layout.html_dir(out, internal=False) == out / "html"
    assert layout.data_root(out, internal=True) == layout.internal_dir(out) / "data"
    # paths in the manifest are relative to the shared folder, so links from its index work
    code = layout.html_dir(out, internal=True) / "links.code.html"
    assert layout.relative(out, code) == "../default.internal/html/links.code.html"
    assert layout.relative(out, out / "data" / "r" / "t.csv") == "data/r/t.csv"


def test_an_upgrade_deletes_only_the_runners_internal_files_from_the_shared_folder(tmp_path):
    out = tmp_path / "default"
    (out / "notebooks").mkdir(parents=True)
    (out / "html").mkdir()
    (out / ".cache" / "shared").mkdir(parents=True)
    (out / "manifest.json").write_text(json.dumps({"plan": "default", "runs": []}))
    executed = {"cells": [], "metadata": {"papermill": {"parameters": {}}}, "nbformat": 4}
    (out / "notebooks" / "links.ipynb").write_text(json.dumps(executed))
    (out / "html" / "links.code.html").write_text("<html></html>")
    (out / "html" / "links.report.html").write_text("<html></html>")
    gone = layout.remove_legacy(out)
    assert {p.name for p in gone} == {"manifest.json", "links.ipynb", "links.code.html", ".cache"}
    assert not (out / "notebooks").exists() and not (out / ".cache").exists()
    assert (out / "html" / "links.report.html").is_file()  # shared: the next render replaces it

    # a folder that is not the runner's own keeps its files
    other = tmp_path / "mine"
    (other / "notebooks").mkdir(parents=True)
    (other / "manifest.json").write_text(json.dumps({"name": "my app"}))
    (other / "notebooks" / "draft.ipynb").write_text(json.dumps({"cells": [], "metadata": {}}))
    assert layout.remove_legacy(other) == []
    assert (other / "manifest.json").is_file() and (other / "notebooks" / "draft.ipynb").is_file()


def test_supervision_reports_are_found_by_their_school_year_names(tmp_path):
    names = ["bao-cao-cds-2024-2025.docx", "bao-cao-cds-2024-2025.pdf",
             "cds-report-2024-2025.docx", "notes.docx", "bao-cao-cds-draft.pdf.bak"]  # fmt: skip
    for name in names:
        (tmp_path / name).write_bytes(b"x")
    assert layout.document_stem("vi", 2025) == "bao-cao-cds-2024-2025"
    assert [p.name for p in layout.documents(tmp_path)] == names[:3]
