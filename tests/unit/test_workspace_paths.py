"""Where the workbench finds its project, and how a workspace's config meets the defaults."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from analysis.core import config, paths, workspace

ROOT = Path(__file__).resolve().parents[2]


def test_a_workspace_is_found_from_any_folder_below_it(tmp_path, monkeypatch):
    workspace.create(tmp_path / "ws")
    (tmp_path / "ws" / "data" / "raw" / "2025").mkdir(parents=True)
    monkeypatch.delenv("WORKBENCH_HOME", raising=False)
    monkeypatch.chdir(tmp_path / "ws" / "data" / "raw" / "2025")
    assert paths.project_root() == (tmp_path / "ws").resolve()
    assert paths.is_workspace()
    assert (
        paths.config_file("columns.yml") == (tmp_path / "ws" / "config" / "columns.yml").resolve()
    )
    assert paths.config_file("quality.yml") == ROOT / "config" / "quality.yml"  # not overridden
    assert "ws" in paths.config_names("plans") and "default" in paths.config_names("plans")
    assert paths.notebooks_dir() == ROOT / "notebooks"


def test_outside_any_project_the_checkout_is_used(tmp_path, monkeypatch):
    monkeypatch.delenv("WORKBENCH_HOME", raising=False)
    monkeypatch.chdir(tmp_path)
    assert paths.shipped_root() == ROOT
    assert paths.project_root() == ROOT and not paths.is_workspace()
    assert config.used() == []


def test_a_config_file_is_the_default_with_the_override_merged_over_it(tmp_path, monkeypatch):
    workspace.create(tmp_path / "ws")
    (tmp_path / "ws" / "config" / "quality.yml").write_text(
        "outliers:\n  threshold: 4.5\n", encoding="utf-8"
    )
    monkeypatch.setenv("WORKBENCH_HOME", str(tmp_path / "ws"))
    merged = config.load_yaml(paths.config_dir() / "quality.yml")
    shipped = yaml.safe_load((ROOT / "config" / "quality.yml").read_text(encoding="utf-8"))
    assert merged["outliers"]["threshold"] == 4.5
    assert merged["rules"] == shipped["rules"]  # the rest as shipped
    assert shipped["outliers"]["threshold"] != 4.5  # the shipped file is untouched
    # an override with only comments (what init writes) changes nothing
    columns = (ROOT / "config" / "columns.yml").read_text(encoding="utf-8")
    assert config.load_yaml(paths.config_dir() / "columns.yml") == yaml.safe_load(columns)


@pytest.mark.parametrize(
    ("default", "override", "merged"),
    [
        ({"a": 1, "b": {"c": 2}}, {"b": {"d": 3}}, {"a": 1, "b": {"c": 2, "d": 3}}),
        ({"a": [1, 2]}, {"a": [3]}, {"a": [3]}),  # a list is replaced
        ({"synonyms": ["x"]}, {"synonyms": ["x", "y"]}, {"synonyms": ["x", "y"]}),
        ([{"id": "a", "v": 1}], [{"id": "b"}], [{"id": "a", "v": 1}, {"id": "b"}]),
        ({"a": 1}, None, {"a": 1}),
    ],
)
def test_merge(default, override, merged):
    assert config.merge(default, override) == merged
