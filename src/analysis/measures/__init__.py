"""Measures on the data: indicators against targets, Decision 4725 maturity, data quality.

Imports only from :mod:`analysis.core` and :mod:`analysis.data`.
"""
