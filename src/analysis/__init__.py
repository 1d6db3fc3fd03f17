"""CĐS evaluation workbench."""
__version__ = "0.1.0"
