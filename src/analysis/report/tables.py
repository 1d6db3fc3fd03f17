"""Tables as a reader sees them: labels for codes, numbers in the reader's style, escaped.

:func:`localise` translates coded values (level, status, domain, sector) and column
names into the reader's language; :func:`formatted` writes numbers the reader's way
(``1.234,56`` in Vietnamese, ``1,234.56`` in English; years and ids plain; yes/no for
booleans; a dash for missing); :func:`html_table` and :func:`render_table` build the
escaped HTML a report shows; :func:`escape_markdown` makes a data value literal text
inside Markdown.
"""

from __future__ import annotations

import html
import numbers
import re
from typing import Any

import pandas as pd

from analysis.core import i18n
from analysis.core.text import header_key
from analysis.data import schema
from analysis.measures import indicators, quality
from analysis.report import privacy
from analysis.report.style import PALETTE

# CommonMark backslash-escapable punctuation that can start markup (emphasis, links,
# code, headings, lists, tables, $math$); ``&``, ``<`` and ``>`` become entities instead
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~$])")


def localise(frame: pd.DataFrame, lang: str) -> pd.DataFrame:
    """Translate coded values and headers for a reader of ``lang``.

    Parameters
    ----------
    frame
        A table with codes (``level``, ``status``, ``domain``, ``sector``
        columns) and canonical column names.
    lang
        ``vi`` or ``en``.

    Returns
    -------
    pandas.DataFrame
        A copy: codes of those four columns replaced by their labels (unknown
        codes kept), headers found in the ``columns`` label section translated,
        others kept.
    """
    frame = frame.copy()
    maps = {
        "level": i18n.labels("levels", lang),
        "status": i18n.labels("status", lang),
        "domain": i18n.labels("domains", lang),
        "sector": i18n.labels("sectors", lang),
    }
    for column, mapping in maps.items():
        if column in frame:
            frame[column] = frame[column].map(lambda v, m=mapping: m.get(v, v))
    headers = i18n.labels("columns", lang)
    return frame.rename(columns={c: headers.get(c, c) for c in frame.columns})


FORMULA_COLUMNS = ("left", "op", "right")  # a rule's expression: the researchers' view


def reader_view(frame: pd.DataFrame, lang: str) -> pd.DataFrame:
    """A recorded table as a policy reader reads it: names instead of codes.

    A rule table keeps its message in ``lang`` (the other language's and the rule's
    formula go); a column code becomes its label (``columns.yml``), an indicator id its
    name (dropped when the table names it already), a quality rule id its message, a
    table code its label. Unknown codes are kept. The CSV keeps the codes.

    Parameters
    ----------
    frame
        The table with canonical column names and codes.
    lang
        ``vi`` or ``en``.

    Returns
    -------
    pandas.DataFrame
        A copy, for :func:`localise` and display.
    """
    out = frame.copy()
    other = "en" if lang == "vi" else "vi"
    if f"message_{lang}" in out:
        out = out.drop(columns=[c for c in (f"message_{other}", "message") if c in out])
        out = out.rename(columns={f"message_{lang}": "message"})
        out = out.drop(columns=[c for c in (*FORMULA_COLUMNS, "rule") if c in out])
    if lang == "vi" and "message" in out and "message_vi" not in frame and "rule" in frame:
        out = out.drop(columns="message")  # ingest's detail is English; the rule's name says it
    if "value" in out and "rule" in frame:  # a rejected cell as the reader reads it
        out["value"] = out["value"].map(lambda v: _reader_value(v, lang))
    names = _column_labels(lang)
    for column in ("focal", "moderator"):
        if column in out:
            out[column] = out[column].map(lambda v: names.get(v, v))
    if "column" in out:
        labels = _column_labels(lang)
        out["column"] = out["column"].map(
            lambda v: ", ".join(labels.get(p.strip(), p.strip()) for p in v.split(","))
            if isinstance(v, str) else v
        )  # fmt: skip
    if "indicator" in out:
        if "name" in out:
            out = out.drop(columns="indicator")
        else:
            names = {i.id: i.name[lang] for i in indicators.load_indicators()}
            out["indicator"] = out["indicator"].map(lambda v: names.get(v, v))
            out = out.rename(columns={"indicator": "name"})
    if "feature" in out:
        names = {
            **_column_labels(lang),
            **{i.id: i.name[lang] for i in indicators.load_indicators()},
        }
        out["feature"] = out["feature"].map(lambda v: names.get(v, v))
    if "rule" in out:
        messages = {**i18n.labels("reject_rules", lang)}
        messages.update({r.id: getattr(r, lang) for r in quality.load_rules()})
        out["rule"] = out["rule"].map(lambda v: messages.get(v, v))
    if "table" in out:
        tables_ = i18n.labels("data_tables", lang)
        out["table"] = out["table"].map(lambda v: tables_.get(v, v))
    return out


CODE_VALUE = re.compile(r"\b([a-z][a-z0-9]*(?:_[a-z0-9]+)+)=")  # "teachers_trained_cds=14"
DECIMAL = re.compile(r"^-?\d+\.\d+$")


def _reader_value(value, lang: str):
    """A rejected cell's text: columns named by their labels, a decimal in the reader's
    style ("112,5"); anything else as it was read."""
    if not isinstance(value, str):
        return value
    labels = _column_labels(lang)
    text = CODE_VALUE.sub(lambda m: f"{labels.get(m.group(1), m.group(1))}=", value)
    if lang == "vi" and DECIMAL.match(text.strip()):
        text = text.strip().replace(".", ",")
    return text


def _column_labels(lang: str) -> dict[str, str]:
    """Column code → its label in ``lang``, over every table contract."""
    out: dict[str, str] = {}
    for table in schema.TABLES:
        for name, spec in schema.contract(table).items():
            out.setdefault(name, spec.header if lang == "vi" else spec.en)
    return {**i18n.labels("columns", lang), **out}  # "year" and the like: the column labels


def _year_like(column: str) -> bool:
    """A year or id column (any language): its numbers are written without grouping."""
    canonical = privacy.canonical(column) or column
    key = canonical.lower()
    if key in {"year", "id", "cohort", "period"} or key.endswith(("_year", "_id", " id")):
        return True
    words = header_key(column).split()
    return bool(words) and (words[0] in {"nam", "ma", "year"} or words[-1] in {"year", "id"})


def formatted(frame, *, lang: str = "vi", digits: int = 2):
    """A copy of ``frame`` as text for a reader (:func:`analysis.i18n.number`): numbers in
    ``lang``'s style (``1.234,56`` / ``1,234.56``), columns of whole numbers without
    decimals, years
    and ids without a thousands separator, yes/no for booleans, a dash for missing.

    Parameters
    ----------
    frame
        The table (numbers as numbers).
    lang
        ``vi`` or ``en``.
    digits
        Decimals of numbers that are not whole.

    Returns
    -------
    pandas.DataFrame
        Same index and columns, every cell a string.

    Example
    -------
    >>> formatted(pd.DataFrame({"year": [2025], "value": [1234.5]}), lang="vi")  # doctest: +SKIP
       year     value
    0  2025  1.234,50
    """
    yes, no = i18n.label("privacy", "yes_word", lang), i18n.label("privacy", "no_word", lang)
    out = pd.DataFrame(index=frame.index)
    for column in frame.columns:
        plain = _year_like(str(column))
        found = [
            v
            for v in frame[column].tolist()
            if isinstance(v, numbers.Number) and not isinstance(v, bool) and not pd.isna(v)
        ]
        whole = bool(found) and all(float(v).is_integer() for v in found)  # counts

        def cell(value, plain=plain, whole=whole):
            if value is None or (not isinstance(value, str) and pd.isna(value)):
                return i18n.MISSING
            if isinstance(value, bool):
                return yes if value else no
            if isinstance(value, numbers.Integral) or (whole and isinstance(value, numbers.Number)):
                return str(int(value)) if plain else i18n.integer(value, lang)
            if isinstance(value, numbers.Number):
                if plain and float(value).is_integer():
                    return str(int(value))
                return i18n.number(value, lang, digits)
            return str(value)

        out[column] = [cell(v) for v in frame[column].tolist()]
    return out


def render_table(frame, payload: dict[str, Any], *, lang: str = "vi", notes=()) -> str:
    """A recorded table as a reader sees it: headers and codes in ``lang``, status colours,
    numbers formatted, ``notes`` (footnotes) under it.

    Parameters
    ----------
    frame
        The table's data (:func:`analysis.record.frame_of`).
    payload
        The recorded payload: ``status`` (the column of status codes to colour),
        ``digits``, ``label`` (the caption), ``show`` (rows shown at most; a note says
        how many of how many).
    lang
        ``vi`` or ``en``.
    notes
        Footnotes, as text.

    Returns
    -------
    str
        Escaped HTML (:func:`html_table`).
    """
    show, total = payload.get("show"), len(frame)
    if show is not None and total > show:  # the page shows the head; the CSV has every row
        frame = frame.head(int(show))
        notes = [*notes, i18n.text("tables", "rows_shown", lang, shown=int(show), total=total)]
    frame = reader_view(frame, lang)
    colours = None
    status = payload.get("status")
    if status and status in frame.columns:
        colours = [PALETTE.get(str(code)) for code in frame[status]]
        status = localise(frame[[status]].head(0), lang).columns[0]
    shown = localise(frame, lang)
    return html_table(
        shown,
        lang=lang,
        digits=int(payload.get("digits", 2)),
        caption=payload.get("label", ""),
        notes=notes,
        colour_column=status if colours else None,
        colours=colours,
    )


def html_table(
    frame,
    *,
    lang: str = "vi",
    digits: int = 2,
    caption: str = "",
    notes=(),
    colour_column: str | None = None,
    colours: list[str | None] | None = None,
) -> str:
    """Escaped HTML of a table for a reader: numbers right-aligned, ``notes`` under it,
    cells of ``colour_column`` painted with ``colours`` (one per row, None for none).

    Parameters
    ----------
    frame
        The table, headers as shown (numbers as numbers: :func:`formatted` writes them).
    lang
        ``vi`` or ``en``.
    digits
        Decimals of numbers that are not whole.
    caption
        Shown in bold above the table.
    notes
        Footnotes under the table.
    colour_column
        The column whose cells are painted.
    colours
        A CSS colour (or None) per row.

    Returns
    -------
    str
        A ``<div class="cds-table-wrap">`` with the caption, the table and the
        notes; every text is HTML-escaped.
    """
    text = formatted(frame, lang=lang, digits=digits)
    numeric = [
        bool(frame[c].map(lambda v: isinstance(v, int | float) and not isinstance(v, bool)).any())
        for c in frame.columns
    ]
    esc = html.escape
    head = "".join(f"<th>{esc(str(c))}</th>" for c in frame.columns)
    painted = list(frame.columns).index(colour_column) if colour_column is not None else -1
    rows = []
    for r, values in enumerate(text.itertuples(index=False)):
        cells = []
        for c, (v, num) in enumerate(zip(values, numeric, strict=True)):
            style = "text-align:right" if num else "text-align:left"
            if c == painted and colours and colours[r]:
                style += f";background-color:{colours[r]};color:white;font-weight:bold"
            cells.append(
                f'<td style="{style.strip(";")}">{esc(v)}</td>' if style else f"<td>{esc(v)}</td>"
            )
        rows.append(f"<tr>{''.join(cells)}</tr>")
    parts = ['<div class="cds-table-wrap">']
    if caption:
        parts.append(f'<p class="cds-caption"><b>{esc(caption)}</b></p>')
    parts.append(
        f'<table class="dataframe cds-table"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"
    )
    parts += [f'<p class="cds-note"><small>{esc(n)}</small></p>' for n in notes]
    parts.append("</div>")
    return "".join(parts)


def escape_markdown(value: object) -> str:
    """A data value (a school or unit name) as literal text inside Markdown.

    ``<script>`` stays visible text instead of live HTML, ``[x](javascript:…)`` is no
    link, ``**`` no emphasis, and a line break cannot start a new block.

    Parameters
    ----------
    value
        Any value; it is read as text.

    Returns
    -------
    str
        The text on one line, ``&``, ``<``, ``>`` as entities and Markdown
        punctuation backslash-escaped.

    Example
    -------
    >>> print(escape_markdown("**Trường** <b>"))
    \\*\\*Trường\\*\\* &lt;b&gt;
    """
    text = " ".join(str(value).splitlines())
    return _MARKDOWN_SPECIAL.sub(r"\\\1", html.escape(text, quote=False))
