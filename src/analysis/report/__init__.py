"""What a reader sees: ``record`` (the notebook → runner protocol), reader ``tables``,
``privacy`` rules, ``plots`` (every figure), district ``brief`` and the KPI ``export``.

Imports only from the layers below: core, data, measures, models.
"""
