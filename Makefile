# The README's commands. Every target works on a fresh clone: the first one
# that needs Python creates .venv, installs the pinned environment and the
# project with all extras, and registers the project's Jupyter kernel.

PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
WB     := $(VENV)/bin/workbench
KERNEL := cds-workbench
STAMP  := $(VENV)/.installed
RAW    := data/raw/thai_nguyen_synthetic

.DEFAULT_GOAL := help
.PHONY: help install run generate ingest test check lint format lab sync strip lock clean

help:  ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

# JupyterLab's settings for this project (no news prompt, no update check): the
# environment's overrides.json, so they hold whatever the user's own settings are.
LAB_SETTINGS := $(VENV)/share/jupyter/lab/settings

$(STAMP): pyproject.toml requirements.lock config/jupyterlab/overrides.json
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade "pip>=24"
	$(PY) -m pip install --quiet -r requirements.lock
	$(PY) -m pip install --quiet --no-deps -e ".[all]"
	$(PY) -m ipykernel install --sys-prefix --name $(KERNEL) --display-name "CĐS workbench (Python 3)"
	mkdir -p $(LAB_SETTINGS) && cp config/jupyterlab/overrides.json $(LAB_SETTINGS)/
	@touch $@

install: $(STAMP)  ## Create or update the local environment (.venv) and the project kernel

run: $(STAMP)  ## The main job: generate the province if missing, ingest, KPI tables, run the default plan
	$(WB) generate --if-missing --out $(RAW)
	$(WB) ingest $(RAW)
	$(WB) indicators --out reports/kpi
	$(WB) run default

generate: $(STAMP)  ## Regenerate the synthetic province (data/raw/thai_nguyen_synthetic)
	$(WB) generate --out $(RAW)

ingest: $(STAMP)  ## Ingest data/raw/thai_nguyen_synthetic into data/processed
	$(WB) ingest $(RAW)

# The type checker covers the layers where a wrong type breaks a plan: core, data, runner.
TYPED := src/analysis/core src/analysis/data src/analysis/runner

lint: $(STAMP)  ## ruff over the code, mypy over core, data and runner
	$(VENV)/bin/ruff check src tests benchmarks
	$(VENV)/bin/ruff format --check src tests benchmarks
	$(VENV)/bin/mypy $(TYPED)

check: lint  ## Lint and the fast tests (tests/unit, not marked slow): a few minutes
	$(PY) -m pytest -q tests/unit -m "not slow"

# Debian's Chromium for tests/e2e/test_browser.py (Playwright drives it; no browser download)
# and for the report's PDF (`workbench report`). DejaVu is the font the pages and figures
# ask for; Liberation Serif 2 is the Times New Roman of the printed report (same metrics,
# every Vietnamese letter: Liberation 1, Debian's default, has none of ạ, ố, ữ…).
CHROMIUM ?= /usr/bin/chromium
SERIF    := /usr/share/fonts/truetype/liberation2/LiberationSerif-Regular.ttf
BROWSER_PACKAGES := chromium fonts-dejavu-core fonts-liberation2
.PHONY: browser
browser:  ## Debian's Chromium and fonts for the browser tests and the PDF (apt-get when missing)
	@if [ -x "$(CHROMIUM)" ] && [ -f "$(SERIF)" ]; then exit 0; fi; \
	if ! command -v apt-get >/dev/null 2>&1; then \
	  echo "make browser: $(CHROMIUM) or $(SERIF) is missing and there is no apt-get here: install Chromium and Liberation Serif 2, and run 'make test CHROMIUM=/path/to/chromium'" >&2; exit 1; fi; \
	if [ "$$(id -u)" = 0 ]; then SUDO=; \
	elif command -v sudo >/dev/null 2>&1; then SUDO=sudo; \
	else echo "make browser: $(CHROMIUM) or $(SERIF) is missing; as root run: apt-get update && apt-get install -y $(BROWSER_PACKAGES)" >&2; exit 1; fi; \
	echo "make browser: installing $(BROWSER_PACKAGES) (needs the package mirror)"; \
	$$SUDO apt-get update && $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y $(BROWSER_PACKAGES)

# pytest-xdist: one worker per core; tests sharing the default plan's run stay on one worker
# (conftest.py groups them) so that it is built once. TEST_JOBS=0 runs in one process.
TEST_JOBS ?= auto
test: lint browser  ## The whole test suite (ruff, then pytest on every core; installs Chromium if missing)
	WORKBENCH_CHROMIUM=$(CHROMIUM) $(PY) -m pytest -n $(TEST_JOBS) --dist loadgroup

format: $(STAMP)  ## Apply ruff's fixes and formatting
	$(VENV)/bin/ruff check --fix src tests benchmarks
	$(VENV)/bin/ruff format src tests benchmarks

# JupyterLab's command: tests/integration/test_jupyter_server.py starts this same command (adding a port
# and a token), so keep it to options, without a browser or port of its own.
# Jupyter refuses to start as root without --allow-root (containers, CI): given only then
ALLOW_ROOT := $(if $(filter 0,$(shell id -u)),--allow-root)
LAB := $(VENV)/bin/jupyter lab --notebook-dir=notebooks \
  --MappingKernelManager.default_kernel_name=$(KERNEL) $(ALLOW_ROOT)
# Outputs, execution counts and volatile metadata out of the notebooks; cell ids kept.
# tests/integration/test_notebook_files.py checks the notebooks with these same options.
STRIP := $(VENV)/bin/nbstripout --keep-id \
  --extra-keys "metadata.papermill cell.metadata.papermill metadata.language_info.version"

lab: $(STAMP)  ## JupyterLab on the project kernel; saving a notebook also writes its paired .py
	$(LAB)

sync: $(STAMP)  ## Re-pair notebooks/*.ipynb and their .py scripts (jupytext) after an edit outside JupyterLab
	$(VENV)/bin/jupytext --sync notebooks/*.ipynb

strip: $(STAMP)  ## Remove outputs, execution counts and volatile metadata from notebooks/*.ipynb
	$(STRIP) notebooks/*.ipynb

lock: $(STAMP)  ## Rebuild requirements.lock from pyproject.toml (needs the package index)
	$(PY) -m pip install --quiet uv==0.13.8
	$(VENV)/bin/uv pip compile pyproject.toml --extra real --extra notebooks --extra dev \
	  --python-version 3.11 --no-header --annotation-style line -o requirements.lock

clean:  ## Remove the environment and everything generated
	rm -rf $(VENV) data/processed/*.parquet data/processed/*.duckdb data/processed/*.json reports/*/
