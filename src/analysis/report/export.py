"""The KPI tables analysts use: an Excel workbook and the same tables as CSV.

Headers and coded values (levels, statuses, domains) are in Vietnamese by
default and in English on request. The workbook opens cleanly: frozen header,
filters, sensible widths and number formats, and a first sheet that says what
the figures are (and that placeholder targets and the unverified 4725 criteria
must be checked).

With ``public=True`` the privacy rules (:mod:`analysis.privacy`) are applied to
every table before it is shaped (the school sheet is pivoted from school rows
already suppressed): this is the workbook the runner writes into
``reports/<plan>/`` and the share bundle carries. ``workbench indicators``
writes the analysts' full workbook to ``reports/kpi/``.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pandas as pd

from analysis import __version__
from analysis.core import i18n
from analysis.measures import indicators, maturity, quality
from analysis.report import privacy
from analysis.report.tables import localise

FIXED_TIMESTAMP = dt.datetime(2025, 1, 1)
SHEET_LEVELS = {
    "province": "analysis_province",
    "district": "analysis_district",
    "unit": "unit",
    "school": "school",
}


def kpi_tables(dataset, *, lang: str = "vi", public: bool = False) -> dict[str, pd.DataFrame]:
    """The KPI tables of a dataset loaded from processed tables (synthetic or real ingest);
    ``public`` applies the privacy rules (small cells suppressed, personal columns out).

    Parameters
    ----------
    dataset : analysis.datasets.Dataset
        A dataset with the hierarchy and 4725 columns (``thai_nguyen_synthetic``
        or a real ingest); ``tables["school_hierarchy"]`` adds completeness and
        quality.
    lang
        Language of names, measures and coded words.
    public
        Apply :func:`analysis.privacy.apply` to every table before it is shaped.

    Returns
    -------
    dict of str to DataFrame
        ``province``, ``district``, ``unit``, ``school`` (indicator rows of
        :func:`analysis.indicators.compute` at each level; ``school`` pivoted by
        :func:`school_profile`), ``maturity`` (by analysis district),
        ``completeness`` and ``quality`` (when the hierarchy is loaded) and
        ``definitions``. Codes stay codes: :func:`write_workbook` translates them.

    Raises
    ------
    ValueError
        ``lang`` is not supported.
    """
    i18n.check_lang(lang)
    data = dataset.data
    table = indicators.compute(data, levels=tuple(SHEET_LEVELS.values()), lang=lang)
    if public:  # all levels at once: suppression within parents and linked across levels
        table = with_parents(table, data)
        table = privacy.apply(table, lang=lang).frame.drop(columns="parent_id")
    out: dict[str, pd.DataFrame] = {}
    for sheet, level in SHEET_LEVELS.items():
        part = table[table["level"] == level].reset_index(drop=True)
        if sheet == "school":
            part = school_profile(part, data)
        out[sheet] = part
    out["maturity"] = maturity.distribution(data, level="analysis_district", lang=lang)
    hierarchy = dataset.tables.get("school_hierarchy")
    if hierarchy is not None:
        comp, _ = quality.completeness(hierarchy, data, rejects=dataset.tables.get("rejects"))
        out["completeness"] = comp
        out["quality"] = quality.summary(
            data, hierarchy=hierarchy, rejects=dataset.tables.get("rejects")
        )
    out["definitions"] = indicators.definitions(lang)
    if public:
        for key in ("maturity", "completeness", "quality"):
            if key in out:
                out[key] = privacy.apply(out[key], lang=lang).frame
    return out


def with_parents(table: pd.DataFrame, data: pd.DataFrame) -> pd.DataFrame:
    """``table`` with ``parent_id``: the unit and district of a school's year, the district
    of a management unit, the province of a district (what a reader can subtract within).

    Parameters
    ----------
    table
        Rows of :func:`analysis.indicators.compute` (``level``, ``unit_id``, ``year``).
    data
        The panel with ``school_id``, ``year``, ``unit_id``, ``analysis_district_id`` and
        ``analysis_province_id``.

    Returns
    -------
    pandas.DataFrame
        ``table`` with a ``parent_id`` column (text; missing for the province).
    """
    where = data[["school_id", "year", "unit_id", "analysis_district_id",
                  "analysis_province_id"]].astype({"school_id": str, "unit_id": str})  # fmt: skip
    school = where.assign(parent=where["unit_id"] + "|" + where["analysis_district_id"].astype(str))
    school = school.set_index(["school_id", "year"])["parent"]
    unit = where.groupby(["unit_id", "year"])["analysis_district_id"].agg(
        lambda s: str(s.mode().iat[0]) if s.nunique() == 1 else "|".join(sorted(map(str, set(s))))
    )
    district = where.groupby(["analysis_district_id", "year"])["analysis_province_id"].first()
    district.index = district.index.set_levels(district.index.levels[0].astype(str), level=0)
    parents = {"school": school, "unit": unit, "analysis_district": district.astype(str)}
    out = table.copy()
    key = pd.MultiIndex.from_arrays([out["unit_id"].astype(str), out["year"]])
    out["parent_id"] = None
    for level, mapping in parents.items():
        rows = (out["level"] == level).to_numpy()
        out.loc[rows, "parent_id"] = mapping.reindex(key[rows]).to_numpy()
    return out


def hide_as_published(flags: pd.DataFrame, data, *, columns=("value", "score")) -> pd.DataFrame:
    """School values of another table hidden where the public KPI workbook hides them.

    A list that repeats school indicator values (the data-quality outliers) must not show
    a value the workbook suppressed — not even one it hid only as a complement, or the
    commune total minus the shown schools gives a small count back. The suppression is
    the workbook's own (:func:`kpi_tables` with ``public``: every level, within parents).

    Parameters
    ----------
    flags
        Rows with ``school_id``, ``year``, ``indicator`` and the ``columns`` to hide.
    data
        The dataset (or its panel) the workbook is built from.
    columns
        The columns a hidden value is removed from (the value, and a score it can be
        worked back from).

    Returns
    -------
    pandas.DataFrame
        ``flags`` with those cells missing where the workbook shows the marker.
    """
    frame = getattr(data, "data", data)
    table = indicators.compute(frame, levels=tuple(SHEET_LEVELS.values()), lang="vi")
    shown = privacy.masked(with_parents(table, frame))
    school = shown[shown["level"] == "school"]
    hidden = school[school["value"].isna() & table.loc[school.index, "value"].notna()]
    keys = set(zip(hidden["indicator"], hidden["unit_id"].astype(str), hidden["year"], strict=True))
    out = flags.copy()
    rows = [
        (i, s, y) in keys
        for i, s, y in zip(out["indicator"], out["school_id"].astype(str), out["year"], strict=True)
    ]
    for column in columns:
        if column in out:
            out[column] = out[column].where(~pd.Series(rows, index=out.index), None)
    return out


def school_profile(school_rows: pd.DataFrame, data: pd.DataFrame) -> pd.DataFrame:
    """Schools wide: one row per school-year, one column per indicator (by name).

    Status and targets are judged for units, not single schools; the tidy
    school-level rows stay available from :func:`analysis.indicators.compute`.

    Parameters
    ----------
    school_rows
        Rows of :func:`analysis.indicators.compute` at level ``school``.
    data
        The panel: ``school_id``, ``year``, ``school_name``, ``unit_name``,
        ``analysis_district_name``.

    Returns
    -------
    pandas.DataFrame
        ``school_id``, ``year``, ``school_name``, ``unit_name``,
        ``analysis_district_name``, then one column per indicator name (in
        ``school_rows`` order) holding the value; sorted by school and year.
    """
    wide = school_rows.pivot_table(
        index=["unit_id", "year"], columns="name", values="value", aggfunc="first", sort=False
    )
    order = list(dict.fromkeys(school_rows["name"]))
    wide = wide[order].reset_index().rename(columns={"unit_id": "school_id"})
    where = data[["school_id", "year", "school_name", "unit_name", "analysis_district_name"]]
    wide = where.merge(wide, on=["school_id", "year"], how="right")
    return wide.sort_values(["school_id", "year"]).reset_index(drop=True)


def _readme(dataset, lang: str, public: bool = False) -> pd.DataFrame:
    fw = maturity.load_framework()
    spec = dataset.spec
    lines = {
        "vi": [
            ("Bộ dữ liệu", spec.title["vi"]),
            ("Dữ liệu mô phỏng", "Có — không phải số liệu thật" if spec.synthetic else "Không"),
            (
                "Cách tính",
                "Giá trị = hệ số × tổng tử số ÷ tổng mẫu số ở mỗi cấp "
                "(không lấy trung bình tỷ lệ của các trường)",
            ),
            (
                "Chỉ tiêu",
                "Chỉ tiêu ghi 'placeholder' là giá trị tạm, chưa kiểm chứng: "
                "thay bằng chỉ tiêu của kế hoạch tỉnh",
            ),
            ("Mức độ CĐS", f"{fw.decision}. {fw.verification_note.get('vi', '')}"),
            (
                "Tình trạng",
                "Đạt; Đúng tiến độ = xu hướng tuyến tính 3 năm gần nhất đạt chỉ tiêu "
                "ở năm chỉ tiêu; Chậm tiến độ",
            ),
            ("Phiên bản", f"cds-workbench {__version__}"),
        ],
        "en": [
            ("Dataset", spec.title["en"]),
            ("Synthetic data", "Yes — not real figures" if spec.synthetic else "No"),
            (
                "Computation",
                "value = factor × sum of numerators ÷ sum of denominators at each level "
                "(never an average of school ratios)",
            ),
            (
                "Targets",
                "Targets marked 'placeholder' are not verified: "
                "replace them with the provincial plan's figures",
            ),
            ("CĐS maturity", f"{fw.decision}. {fw.verification_note.get('en', '')}"),
            (
                "Status",
                "Met; On track = the linear trend of the last 3 years reaches the target "
                "by its year; Behind",
            ),
            ("Version", f"cds-workbench {__version__}"),
        ],
    }
    rows = lines[lang]
    if public:
        rows = [*rows, (i18n.label("privacy", "workbook_note", lang), privacy.footnote(lang))]
    return pd.DataFrame(rows, columns=["", " "])


def write_workbook(
    dataset,
    tables: dict[str, pd.DataFrame],
    path: Path,
    *,
    lang: str = "vi",
    public: bool = False,
) -> Path:
    """Write the KPI workbook atomically (Vietnamese headers unless ``lang="en"``);
    ``public`` says on the first sheet what the suppression marker means.

    The first sheet (readme) says what the figures are; every other sheet gets
    translated headers and codes (:func:`analysis.tables.localise`), a frozen
    header row, filters and number formats.

    Parameters
    ----------
    dataset : analysis.datasets.Dataset
        The dataset (its spec titles the readme).
    tables
        Sheet key → table, as from :func:`kpi_tables`; keys are sheet names in
        the ``sheets`` label section.
    path
        The ``.xlsx`` to write (its folder is created).
    lang
        Language of headers, codes and the readme.
    public
        Add the privacy footnote to the readme.

    Returns
    -------
    Path
        ``path``.

    Raises
    ------
    KeyError
        A table key has no label in the ``sheets`` section.
    """
    import xlsxwriter

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".xlsx.tmp")
    book = xlsxwriter.Workbook(str(tmp), {"nan_inf_to_errors": True})
    book.set_properties({"title": "CĐS KPI", "author": "cds-workbench", "created": FIXED_TIMESTAMP})
    head = book.add_format(
        {"bold": True, "text_wrap": True, "valign": "top", "bg_color": "#DDEBF7", "border": 1}
    )
    number = book.add_format({"num_format": "#,##0.0"})
    integer = book.add_format({"num_format": "#,##0"})
    wrap = book.add_format({"text_wrap": True, "valign": "top"})
    sheets = {"readme": _readme(dataset, lang, public), **tables}
    for key, frame in sheets.items():
        name = i18n.label("sheets", key, lang)[:31]
        shown = frame if key == "readme" else localise(frame, lang)
        sheet = book.add_worksheet(name)
        for c, header in enumerate(shown.columns):
            sheet.write_string(0, c, str(header), head)
            column = shown.iloc[:, c]
            kind = column.dtype
            if pd.api.types.is_integer_dtype(kind):
                fmt = integer
            elif pd.api.types.is_float_dtype(kind):
                fmt = number
            else:
                fmt = wrap if key == "readme" else None
            width = max([len(str(header))] + [len(str(v)) for v in column.head(200)])
            sheet.set_column(c, c, min(max(width + 2, 8), 60 if key == "readme" else 40), fmt)
            for r, value in enumerate(column, start=1):
                if value is None or (not isinstance(value, str) and pd.isna(value)):
                    continue
                if isinstance(value, str):
                    sheet.write_string(r, c, value)
                elif isinstance(value, bool):
                    sheet.write_boolean(r, c, value)
                elif fmt is None:  # numbers in a text column (beside suppression markers)
                    sheet.write_number(r, c, float(value), number)
                else:
                    sheet.write_number(r, c, float(value))
        if key != "readme" and len(shown):
            sheet.freeze_panes(1, 0)
            sheet.autofilter(0, 0, len(shown), len(shown.columns) - 1)
    book.close()
    os.replace(tmp, path)
    return path


def write_csv(tables: dict[str, pd.DataFrame], folder: Path, *, lang: str = "vi") -> list[Path]:
    """Each table as UTF-8 CSV with a BOM (so Excel shows Vietnamese correctly).

    Parameters
    ----------
    tables
        File stem → table; headers and codes are translated for ``lang``.
    folder
        Where the files go (created; files written atomically).
    lang
        ``vi`` or ``en``.

    Returns
    -------
    list of Path
        ``folder/<key>.csv`` for each table, in order.
    """
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for key, frame in tables.items():
        target = folder / f"{key}.csv"
        tmp = target.with_suffix(".csv.tmp")
        localise(frame, lang).to_csv(tmp, index=False, encoding="utf-8-sig")
        os.replace(tmp, target)
        written.append(target)
    return written


def export(dataset, out_dir: Path, *, lang: str = "vi") -> dict[str, object]:
    """KPI workbook + CSVs for ``dataset`` under ``out_dir``; returns the tables and paths.

    The analysts' full workbook (no privacy rules): ``workbench indicators``
    writes it to ``reports/kpi/``.

    Parameters
    ----------
    dataset : analysis.datasets.Dataset
        As for :func:`kpi_tables`.
    out_dir
        Output folder: ``kpi_<lang>.xlsx`` and ``csv_<lang>/`` go there.
    lang
        ``vi`` or ``en``.

    Returns
    -------
    dict
        ``tables`` (:func:`kpi_tables`), ``workbook`` (its path) and ``csv``
        (the CSV paths).

    Example
    -------
    >>> data = datasets.load("thai_nguyen_synthetic")  # doctest: +SKIP
    >>> written = export.export(data, Path("reports/kpi"), lang="en")  # doctest: +SKIP
    >>> written["workbook"]  # doctest: +SKIP
    """
    tables = kpi_tables(dataset, lang=lang)
    workbook = write_workbook(dataset, tables, out_dir / f"kpi_{lang}.xlsx", lang=lang)
    csvs = write_csv(tables, out_dir / f"csv_{lang}", lang=lang)
    return {"tables": tables, "workbook": workbook, "csv": csvs}
