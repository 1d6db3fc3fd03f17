"""Models: links (OLS, multilevel, panel), evaluation (staggered DiD, weighting) and
typology (groups, at-risk). Tidy results; no plotting (that is :mod:`analysis.report.plots`).

Imports only from the layers below: core, data, measures.
"""
