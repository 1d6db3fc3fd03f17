"""CĐS workbench: monitoring and evaluating digital transformation in schools."""

__version__ = "0.1.0"

# The Jupyter kernel every notebook, papermill run and nbval test uses; the
# Makefile registers it under this name (tests check that they agree).
KERNEL_NAME = "cds-workbench"
