"""Data in: schema, hierarchy, the catalog of ``data/processed``, dataset specs, ingest,
pupil results, and the synthetic province and national system.

Imports only from :mod:`analysis.core`.
"""
