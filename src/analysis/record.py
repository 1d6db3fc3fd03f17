"""Key figures a notebook records, so runners and tests read numbers, not HTML.

In a notebook, ``record.figure("completeness", 97.3, label="…")`` displays an
output of the MIME type :data:`MIME` that renderers ignore (nothing shows in
the HTML); :func:`read` collects them from an executed notebook. This is what
scrapbook's ``glue`` did, without its unmaintained dependency.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

MIME = "application/vnd.cds-workbench.figure+json"


def _plain(value: Any) -> Any:
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return None
    if isinstance(value, int | float | str | bool) or value is None:
        return value
    return str(value)


def figure(name: str, value: Any, *, label: str = "", unit: str = "") -> None:
    """Record one key figure (shown to nobody; read by the runner)."""
    from IPython.display import display

    payload = {"name": name, "value": _plain(value), "label": label, "unit": unit}
    display({MIME: payload, "text/plain": ""}, raw=True)


def read(notebook: Path | str | dict) -> list[dict[str, Any]]:
    """All figures recorded in an executed notebook, in order."""
    nb = notebook if isinstance(notebook, dict) else json.loads(Path(notebook).read_text("utf-8"))
    out = []
    for cell in nb.get("cells", []):
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if MIME in data:
                payload = data[MIME]
                out.append(json.loads(payload) if isinstance(payload, str) else payload)
    return out
