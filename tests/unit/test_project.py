"""The set-up itself: pins, environment.yml, the kernel name, the Makefile."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

import yaml
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet

import analysis

ROOT = Path(__file__).resolve().parents[2]


def _pyproject():
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def _lock() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "requirements.lock").read_text(encoding="utf-8").splitlines():
        line = line.split("#")[0].strip()
        if line:
            req = Requirement(line)
            pins[req.name.lower().replace("_", "-")] = str(req.specifier)
    return pins


def _all_requirements() -> list[Requirement]:
    project = _pyproject()["project"]
    reqs = [Requirement(r) for r in project["dependencies"]]
    for name, extra in project["optional-dependencies"].items():
        if name != "all":
            reqs += [Requirement(r) for r in extra]
    return reqs


def test_every_dependency_is_pinned_exactly_and_locked():
    lock = _lock()
    for req in _all_requirements():
        spec = list(req.specifier)
        assert len(spec) == 1 and spec[0].operator == "==", f"{req} is not an exact pin"
        name = req.name.lower().replace("_", "-")
        assert lock.get(name) == str(req.specifier), (
            f"{name}: pyproject {req.specifier}, lock {lock.get(name)}"
        )


def test_environment_yml_matches_pyproject():
    env = yaml.safe_load((ROOT / "environment.yml").read_text(encoding="utf-8"))
    deps = env["dependencies"]
    python = next(d for d in deps if isinstance(d, str) and d.startswith("python="))
    version = python.split("=", 1)[1]
    requires = SpecifierSet(_pyproject()["project"]["requires-python"])
    assert f"{version}.0" in requires
    assert (ROOT / ".python-version").read_text().strip() == version
    pip = next(d["pip"] for d in deps if isinstance(d, dict) and "pip" in d)
    assert "-r requirements.lock" in pip
    assert "-e .[all]" in pip
    extras = set(_pyproject()["project"]["optional-dependencies"])
    all_extra = _pyproject()["project"]["optional-dependencies"]["all"][0]
    assert set(re.search(r"\[(.*)\]", all_extra).group(1).split(",")) == extras - {"all"}
    assert env["name"] == analysis.KERNEL_NAME


def test_makefile_registers_the_one_kernel_and_has_the_targets():
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert re.search(rf"^KERNEL\s*:=\s*{analysis.KERNEL_NAME}$", makefile, re.M)
    assert "ipykernel install --sys-prefix --name $(KERNEL)" in makefile
    for target in ("help", "install", "run", "test", "lab", "lint"):
        assert re.search(rf"^{target}:", makefile, re.M), target


def test_notebooks_use_the_project_kernel():
    for notebook in sorted((ROOT / "notebooks").glob("*.ipynb")):
        meta = json.loads(notebook.read_text(encoding="utf-8"))["metadata"]
        assert meta["kernelspec"]["name"] == analysis.KERNEL_NAME, notebook.name


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "make test" in readme and "make run" in readme
    assert re.search(r"^make test$", ci, re.M)


def test_console_script_points_at_the_cli():
    assert _pyproject()["project"]["scripts"]["workbench"] == "analysis.cli:main"
