"""What a notebook records for the runner: key figures, tables, the data behind figures.

Each call displays an output carrying a custom MIME type that renderers ignore;
the runner reads these outputs from the executed notebook (also when it comes
back from a Dask worker as bytes), so it reads numbers and data, not HTML.
This is what scrapbook's ``glue`` did, without its unmaintained dependency.

* ``record.figure("completeness", 97.3, label="…")`` — one key figure (shown to
  nobody; collected into ``figures.csv``).
* ``record.table("rejects", frame, label="…", counts=[...], lang=lang)`` — shows the
  table (escaped HTML, numbers formatted for the reader) and carries its data.
  The runner writes the data, with the privacy rules applied
  (:mod:`analysis.privacy`), to ``reports/<plan>/data/<run>/<name>.csv``; the
  report without code shows the privacy-applied table, a footnote when cells
  were suppressed or columns removed, and a link to the CSV.
* ``record.data("trend", frame, label="…")`` — the data behind the figure just
  drawn (nothing visible in the notebook; a link to the CSV under the figure in
  the reports). It first shows the open matplotlib figures, so the link lands
  under its figure.
* ``record.not_applicable(reason)`` — this notebook does not apply to the data: the
  reason shown, and the run shown as "not applicable" in the index, not as a success.
* ``record.internal(reason, lang=lang)`` — this run's outputs are internal (an
  at-risk list with school names, say): a visible "NỘI BỘ / INTERNAL" banner here,
  the mark in the index, and the run is left out of the share bundle.

``counts`` names columns of a table that count persons (pupils, teachers) beyond
those declared in ``config/privacy.yml``; rows where such a count is small are
suppressed in everything shared.
"""

from __future__ import annotations

import html
import io
import json
import math
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from IPython.display import Markdown, display

from analysis.core import i18n

# Every notebook imports this module, and the runner reads executed notebooks with it: a
# run that records only key figures must not pay for pandas, matplotlib and Babel. pandas
# and the reader's table display (analysis.report.tables) load on the first table.

MIME = "application/vnd.cds-workbench.figure+json"
TABLE_MIME = "application/vnd.cds-workbench.table+json"
DATA_MIME = "application/vnd.cds-workbench.data+json"
INTERNAL_MIME = "application/vnd.cds-workbench.internal+json"


def _plain(value: Any) -> Any:
    """A value JSON carries as is: NumPy scalars unwrapped, NaN and inf None, others text."""
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return None
    if isinstance(value, int | float | str | bool) or value is None:
        return value
    return str(value)


def _display(bundle: dict[str, Any]) -> None:
    display(bundle, raw=True)


def figure(name: str, value: Any, *, label: str = "", unit: str = "") -> None:
    """Record one key figure (shown to nobody; read by the runner).

    Parameters
    ----------
    name
        The figure's name in ``figures.csv`` and the index (``completeness_pct``);
        a name with ``year`` in it is shown without a thousands separator.
    value
        A number, text, yes/no or None; NumPy scalars become Python values, NaN
        and infinity become None, anything else its text.
    label
        What the figure is, for a reader.
    unit
        Its unit (``%``).

    Example
    -------
    >>> record.figure("completeness_pct", 97.31, label="Completeness", unit="%")  # doctest: +SKIP
    """
    payload = {"name": name, "value": _plain(value), "label": label, "unit": unit}
    _display({MIME: payload, "text/plain": ""})


# --------------------------------------------------------------------------
# Tables and the data behind figures


def _frame_for_payload(frame) -> Any:
    """A flat copy: a meaningful index becomes columns, column names become unique text."""
    import pandas as pd  # light module: see the note at the imports

    if isinstance(frame, pd.Series):
        frame = frame.to_frame()
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"expected a pandas DataFrame or Series, got {type(frame).__name__}")
    out = frame.copy()
    if isinstance(out.columns, pd.MultiIndex):
        out.columns = [" · ".join(str(p) for p in c if str(p)) for c in out.columns]
    if not isinstance(out.index, pd.RangeIndex) or out.index.name is not None:
        names = [n if n is not None else "" for n in out.index.names]
        # a named or non-integer index carries meaning; a filtered or sorted frame's old row
        # numbers (unnamed integers) do not
        if any(names) or not pd.api.types.is_integer_dtype(out.index):
            out.index = out.index.set_names(
                [n or ("index" if len(names) == 1 else f"index_{i}") for i, n in enumerate(names)]
            )
            out = out.reset_index()
        else:
            out = out.reset_index(drop=True)
    seen: dict[str, int] = {}
    columns = []
    for column in out.columns:
        name = str(column)
        seen[name] = seen.get(name, 0) + 1
        columns.append(name if seen[name] == 1 else f"{name} ({seen[name]})")
    out.columns = columns
    for column in out.columns:  # categories and periods travel as their text
        if isinstance(out[column].dtype, pd.CategoricalDtype | pd.PeriodDtype):
            out[column] = out[column].astype(str).where(out[column].notna(), None)
    return out.reset_index(drop=True)


def _payload(kind: str, name: str, frame, label: str, counts, lang: str, digits: int) -> dict:
    if not isinstance(name, str) or not name.strip():
        raise ValueError("a table needs a name (it names its CSV file)")
    flat = _frame_for_payload(frame)
    return {
        "kind": kind,
        "name": name,
        "label": str(label),
        "counts": [str(c) for c in counts],
        "lang": lang,
        "digits": int(digits),
        "frame": json.loads(
            flat.to_json(orient="table", index=False, date_format="iso", double_precision=15)
        ),
    }


def frame_of(payload: dict[str, Any]):
    """The DataFrame a ``table``/``data`` payload carries.

    Parameters
    ----------
    payload
        A payload of :func:`read_tables` (its ``frame``: pandas' JSON table
        format, as a dict or text).

    Returns
    -------
    pandas.DataFrame
        The recorded table: flat columns (a meaningful index became columns),
        unique column names, index 0…n-1.
    """
    import pandas as pd  # light module: see the note at the imports

    frame = payload["frame"]
    text = frame if isinstance(frame, str) else json.dumps(frame)
    return pd.read_json(io.StringIO(text), orient="table")


def table(
    name: str,
    frame,
    *,
    label: str = "",
    counts: Sequence[str] = (),
    lang: str = "vi",
    digits: int = 2,
    status: str | None = None,
    show: int | None = None,
) -> None:
    """Show a table and record its data for the runner (CSV, privacy-applied report).

    Headers and coded values (level, status…) are shown in ``lang`` (as in the KPI
    workbook); the recorded data keep the frame's own names and codes.

    Parameters
    ----------
    name : str
        The table's name in its run: its CSV is ``data/<run>/<name>.csv``.
    frame : DataFrame or Series
        The table; a named or non-default index becomes columns.
    label : str
        A caption shown above the table.
    counts : sequence of str
        Columns that count persons (pupils, teachers), in addition to those
        declared in ``config/privacy.yml``.
    lang : str
        ``vi`` or ``en``: how numbers are written (``1.234,5`` or ``1,234.5``).
    digits : int
        Decimals shown at most (the CSV keeps full precision).
    status : str, optional
        A column of status codes (``met``, ``on_track``, ``behind``…), coloured like
        :func:`analysis.plots.status_colours`.
    show : int, optional
        Rows a page shows at most: a longer table shows its first ``show`` rows and says
        "15 of 31"; the CSV keeps every row (and the privacy rules see every row).

    Raises
    ------
    ValueError
        ``name`` is empty.
    TypeError
        ``frame`` is not a DataFrame or Series.

    Example
    -------
    >>> record.table("headline", table, lang=lang, status="status")  # doctest: +SKIP
    """
    payload = _payload("table", name, frame, label, counts, lang, digits)
    payload["status"] = status
    payload["show"] = show
    from analysis.report.tables import render_table  # light module: see the imports

    shown = render_table(frame_of(payload), payload, lang=lang)
    _display({TABLE_MIME: payload, "text/html": shown, "text/plain": f"[table {name}]"})


def data(
    name: str,
    frame,
    *,
    label: str = "",
    counts: Sequence[str] = (),
) -> None:
    """Record the data behind the figure just drawn (its CSV is linked under the figure).

    The open matplotlib figures are shown first (inline backend), so the link the
    reports put here sits under its figure.

    Parameters
    ----------
    name
        The data's name in its run: its CSV is ``data/<run>/<name>.csv``.
    frame
        The DataFrame or Series the figure was drawn from.
    label
        What the data are, for a reader.
    counts
        Columns that count persons, beyond those of ``config/privacy.yml``.

    Raises
    ------
    ValueError
        ``name`` is empty.
    TypeError
        ``frame`` is not a DataFrame or Series.

    Example
    -------
    >>> plots.completeness_heatmap(summary, lang=lang)  # doctest: +SKIP
    >>> record.data("completeness", summary)  # doctest: +SKIP
    """
    _show_open_figures()
    payload = _payload("data", name, frame, label, counts, "", 0)
    _display({DATA_MIME: payload, "text/plain": ""})


def internal(reason: str = "", *, lang: str = "vi") -> None:
    """Mark this run internal: a visible banner, the mark in the index, never shared.

    Parameters
    ----------
    reason
        Why (shown after the banner and in the index), e.g. "the at-risk list
        names schools".
    lang
        Language of the banner.
    """

    banner = i18n.label("privacy", "internal_banner", lang)
    text = html.escape(banner + (f" — {reason}" if reason else ""))
    shown = f'<div class="cds-internal" style="{INTERNAL_STYLE}">{text}</div>'
    _display({INTERNAL_MIME: {"reason": str(reason)}, "text/html": shown, "text/plain": text})


INTERNAL_STYLE = (
    "border:2px solid #d73027;color:#d73027;font-weight:bold;padding:.4rem .6rem;"
    "margin:.5rem 0;letter-spacing:.02em"
)

APPLICABLE = "applicable"  # the figure :func:`not_applicable` records


def not_applicable(reason: str) -> None:
    """Say that this notebook does not apply to the data, and why: the reason is shown here
    (Markdown), and the runner shows the run as "not applicable" with it, not as a success.

    Parameters
    ----------
    reason
        Why, in the page's language (``**bold**`` allowed here; the run log gets it plain).

    Example
    -------
    >>> record.not_applicable(i18n.text("notebooks", "not_applicable", lang))  # doctest: +SKIP
    """
    display(Markdown(reason))
    figure(APPLICABLE, False, label=reason.replace("**", "").strip())


def not_applicable_reason(figures: list[dict[str, Any]]) -> str | None:
    """The reason a run recorded with :func:`not_applicable`, or None when it applies."""
    for f in figures:
        if f.get("name") == APPLICABLE and f.get("value") is False:
            return str(f.get("label") or "") or APPLICABLE
    return None


def _show_open_figures() -> None:
    if "matplotlib" not in sys.modules:
        return
    import matplotlib
    import matplotlib.pyplot as plt

    if "inline" in matplotlib.get_backend() and plt.get_fignums():
        plt.show()


# --------------------------------------------------------------------------
# Reading an executed notebook


def _load(notebook: Path | str | dict) -> dict:
    if isinstance(notebook, dict):
        return notebook
    return json.loads(Path(notebook).read_text("utf-8"))


def _outputs(nb: dict, mime: str):
    for cell in nb.get("cells", []):
        for output in cell.get("outputs", []):
            payload = output.get("data", {}).get(mime)
            if payload is not None:
                yield json.loads(payload) if isinstance(payload, str) else payload


def read(notebook: Path | str | dict) -> list[dict[str, Any]]:
    """All figures recorded in an executed notebook, in order.

    Parameters
    ----------
    notebook
        The executed notebook: a path, or the notebook JSON as a dict.

    Returns
    -------
    list of dict
        One per :func:`figure` call: ``name``, ``value``, ``label``, ``unit``.
    """
    return list(_outputs(_load(notebook), MIME))


def read_tables(notebook: Path | str | dict) -> list[dict[str, Any]]:
    """Every ``table`` and ``data`` payload, in order, each with a unique ``file`` stem.

    Parameters
    ----------
    notebook
        The executed notebook: a path, or the notebook JSON as a dict.

    Returns
    -------
    list of dict
        Payloads with ``kind`` (``table`` or ``data``), ``name``, ``label``,
        ``counts``, ``lang``, ``digits``, ``frame`` (read it with
        :func:`frame_of`), ``status`` for tables, and ``file`` (:func:`unique_stem`).
    """
    nb = _load(notebook)
    out, used = [], set()
    for cell in nb.get("cells", []):
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            for mime in (TABLE_MIME, DATA_MIME):
                if mime in data:
                    payload = data[mime]
                    payload = json.loads(payload) if isinstance(payload, str) else dict(payload)
                    payload["file"] = unique_stem(payload["name"], used)
                    out.append(payload)
    return out


def unique_stem(name: str, used: set[str]) -> str:
    """A table name as a file stem (letters, digits, ``-_.``), unique among ``used``.

    Parameters
    ----------
    name
        The table's name; other characters become ``_``, leading dots are
        dropped, at most 80 characters (``table`` when nothing is left).
    used
        Stems taken so far, lower case; the new stem is added to it.

    Returns
    -------
    str
        The stem, with ``-2``, ``-3``… when it is taken (compared without case).

    Example
    -------
    >>> used = set()
    >>> unique_stem("trend", used), unique_stem("Trend", used), unique_stem("a/b", used)
    ('trend', 'Trend-2', 'a_b')
    """
    stem = "".join(c if c.isalnum() or c in "-_." else "_" for c in str(name)).lstrip(".")
    stem = stem[:80] or "table"
    candidate, n = stem, 1
    while candidate.lower() in used:
        n += 1
        candidate = f"{stem}-{n}"
    used.add(candidate.lower())
    return candidate


def read_internal(notebook: Path | str | dict) -> list[str]:
    """The reasons given by ``internal`` calls (empty when the run did not declare itself).

    Parameters
    ----------
    notebook
        The executed notebook: a path, or the notebook JSON as a dict.

    Returns
    -------
    list of str
        One reason per :func:`internal` call, in order (``""`` when none was given).
    """
    return [p.get("reason", "") for p in _outputs(_load(notebook), INTERNAL_MIME)]
