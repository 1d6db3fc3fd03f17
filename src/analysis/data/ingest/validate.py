"""Validating parsed rows: pandera schemas, cross-column rules, the register, duplicates.

:func:`validate` checks one table's rows against its pandera schema row by row and
turns every failure into a reject record; :func:`finish_table` adds the checks across
rows (schools missing from the register, ids that lost their leading zeros, repeated
keys) and returns the accepted table, which must then pass the full contract.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import pandera.pandas as pa

from analysis.core.text import header_key
from analysis.data import schema
from analysis.data.ingest.parse import ParsedSheet, typed_frame

REJECT_COLUMNS = {
    "table": "str",
    "file": "str",
    "sheet": "str",
    "row": "int64",
    "school_id": "str",
    "year": "Int64",
    "column": "str",
    "value": "str",
    "rule": "str",
    "message": "str",
}
# the key of each table: a repeated key is a duplicate row or a conflict
KEYS = {
    "panel": ["school_id", "year"],
    "schools": ["school_id"],
    "units": ["unit_id"],
    "membership": ["school_id", "unit_id", "valid_from"],
    "crosswalk": ["new_unit_id", "old_unit_id"],
}


def _rule_label(check: str, spec: schema.ColumnSpec | None) -> tuple[str, str]:
    """A pandera check name → (reject rule, message)."""
    if check == "not_nullable":
        return "missing_value", "a value is required"
    if check.startswith(("range", "in_range", "greater_than", "less_than")):
        shown = spec.range_text if spec else check
        return "out_of_range", f"expected a value from {shown}"
    if check.startswith(("known code", "isin")):
        return "unknown_code", "expected a known code"
    if check.startswith("dtype"):
        return "wrong_type", check
    return check, check


def validate(table: str, frame: pd.DataFrame) -> tuple[pd.DataFrame, list[dict[str, Any]]]:
    """Row-wise pandera validation; returns the typed frame and the failures.

    Parameters
    ----------
    table
        The table the rows belong to (one of ``TABLE_ORDER``).
    frame
        Parsed rows with ``_file``, ``_sheet`` and ``_row`` and every processed column.

    Returns
    -------
    typed : pandas.DataFrame
        ``frame`` in the processed dtypes, all rows kept (same index).
    problems : list of dict
        One reject record per failing cell (rule ``missing_value``, ``out_of_range``,
        ``unknown_code``, …), or per broken cross-column rule of ``config/rules.yml``
        unless one of its cells already failed on its own.

    Example
    -------
    >>> typed, problems = validate("panel", parsed.frame)  # doctest: +SKIP
    >>> sorted({p["rule"] for p in problems})  # doctest: +SKIP
    ['missing_value', 'out_of_range']
    """
    typed = typed_frame(frame, table)
    check_frame = typed.drop(columns=["_file", "_sheet", "_row"])
    if "year" in check_frame:
        check_frame = check_frame.assign(year=check_frame["year"].fillna(0).astype("int64"))
        check_frame["school_year"] = check_frame["school_year"].fillna("missing")
    try:
        schema.pandera_schema(table, unique=False).validate(check_frame, lazy=True)
    except pa.errors.SchemaErrors as errors:
        return typed, _failures(table, typed, check_frame, errors.failure_cases)
    return typed, []


def _failures(
    table: str, typed: pd.DataFrame, check_frame: pd.DataFrame, cases: pd.DataFrame
) -> list[dict[str, Any]]:
    """pandera's failure cases → reject records (a rule over a bad cell is not repeated)."""
    problems: list[dict[str, Any]] = []
    contract = schema.contract(table)
    rules = {r.id: r for r in schema.rules()} if table == "panel" else {}
    cases = cases[cases["index"].notna()]
    # a rule over a value that is already out of range says nothing new
    bad_cells = {
        (int(c.index), str(c.column))
        for c in cases.itertuples(index=False)
        if str(c.check) not in rules
    }
    for case in cases.itertuples(index=False):
        idx = int(case.index)
        check = str(case.check)
        if check in rules:
            rule = rules[check]
            if case.column != rule.left:
                continue
            if (idx, rule.left) in bad_cells or (idx, rule.right) in bad_cells:
                continue
            left, right = check_frame.at[idx, rule.left], check_frame.at[idx, rule.right]
            value = f"{rule.left}={left}, {rule.right}={right}"
            code, message = rule.id, rule.en
        else:
            value = str(case.failure_case)
            code, message = _rule_label(check, contract.get(str(case.column)))
            if case.column == "year" or case.column == "school_year":
                code, message = "missing_value", "a school year is required"
        problems.append(
            {
                "table": table,
                "file": typed.at[idx, "_file"],
                "sheet": typed.at[idx, "_sheet"],
                "row": int(typed.at[idx, "_row"]),
                "school_id": typed.at[idx, "school_id"] if "school_id" in typed else None,
                "year": typed.at[idx, "year"] if "year" in typed else None,
                "column": str(case.column),
                "value": value,
                "rule": code,
                "message": message,
            }
        )
    return problems


def _row_problem(
    table: str, row: pd.Series, column: str, value: Any, rule: str, message: str
) -> dict[str, Any]:
    """The reject record of a whole row (a typed row with ``_file``, ``_sheet``, ``_row``)."""
    return {
        "table": table,
        "file": row["_file"],
        "sheet": row["_sheet"],
        "row": int(row["_row"]),
        "school_id": row.get("school_id"),
        "year": row.get("year"),
        "column": column,
        "value": value,
        "rule": rule,
        "message": message,
    }


def _reject_duplicates(table: str, frame: pd.DataFrame, keys: list[str]) -> list[dict[str, Any]]:
    """Exact repeats keep their first copy; conflicting copies are all rejected."""
    problems = []
    values = [c for c in frame.columns if not c.startswith("_")]
    dup_mask = frame.duplicated(keys, keep=False) & frame[keys].notna().all(axis=1)
    for _, group in frame[dup_mask].groupby(keys, sort=False):
        distinct = group[values].astype(str).drop_duplicates()
        label = "/".join(str(group.iloc[0][k]) for k in keys)
        if len(distinct) == 1:
            first = group.iloc[0]
            victims, rule = group.iloc[1:], "duplicate_row"
            message = (
                f"same {'/'.join(keys)} {label} already read at "
                f"{first['_file']} row {first['_row']}"
            )
        else:
            victims, rule = group, "duplicate_conflict"
            rows = ", ".join(f"{r['_file']} row {r['_row']}" for _, r in group.iterrows())
            message = (
                f"{'/'.join(keys)} {label} reported more than once with different values: {rows}"
            )
        for _, row in victims.iterrows():
            problems.append(_row_problem(table, row, ", ".join(keys), label, rule, message))
    return problems


def _restore_leading_zeros(
    table: str, clean: pd.DataFrame, register: dict[str, str], rejected: dict[str, str]
) -> tuple[pd.DataFrame, list[str]]:
    """Ids that lost their leading zeros (Excel made them numbers) matched to the register.

    Only an all-digit id that is not in the register and pads to exactly one
    register id (accepted or ``rejected``) is restored; each restored row is named in a
    warning.
    """
    padded: dict[str, list[str]] = {}
    for school_id in [*register, *rejected]:
        if school_id.isdigit() and school_id.startswith("0"):
            padded.setdefault(school_id.lstrip("0"), []).append(school_id)
    if not padded:
        return clean, []
    ids = clean["school_id"]
    fixable = ~ids.isin(register.keys()) & ids.str.fullmatch(r"\d+").fillna(False)
    notes = []
    fixed = ids.copy()
    for idx in clean.index[fixable.to_numpy(dtype=bool)]:
        old = ids.at[idx]
        candidates = padded.get(old.lstrip("0"), [])
        if len(candidates) == 1:
            fixed.at[idx] = candidates[0]
            row = clean.loc[idx]
            notes.append(f"{row['_file']} row {row['_row']}: {old} → {candidates[0]}")
    if not notes:
        return clean, []
    clean = clean.assign(school_id=fixed)
    shown = "; ".join(notes[:5]) + (f"; … ({len(notes)} in all)" if len(notes) > 5 else "")
    return clean, [
        f"{table}: {len(notes)} school ids had lost their leading zeros (a number cell in "
        f"Excel) and were matched to the register (column school_id): {shown}"
    ]


def _name_mismatches(clean: pd.DataFrame, register: dict[str, str] | None) -> list[str]:
    """A school id reported under another name than the register's (or than its own rows)."""
    if "school_name" not in clean:
        return []
    named = clean[clean["school_name"].notna() & (clean["school_name"] != "None")]
    if named.empty:
        return []
    own = named.groupby("school_id")["school_name"].agg(lambda s: s.mode().iloc[0])
    reference = named["school_id"].map(lambda i: (register or {}).get(i) or own[i])
    texts = pd.unique(pd.concat([named["school_name"], reference]).dropna())
    key = {t: header_key(t) for t in texts}
    differ = named[named["school_name"].map(key) != reference.map(key)]
    out = []
    for (school_id, name), rows in differ.groupby(["school_id", "school_name"], sort=True):
        places = [f"{f} row {r}" for f, r in zip(rows["_file"], rows["_row"], strict=True)]
        where = ", ".join(places[:5]) + (f" (+{len(places) - 5})" if len(places) > 5 else "")
        in_register = register is not None and school_id in register
        out.append(
            f"school id {school_id} is named {name!r} at {where} but "
            f"{reference.loc[rows.index[0]]!r} {'in the register' if in_register else 'elsewhere'}"
            " (column school_name): check that the id belongs to this school"
        )
    return out


def _check_register(
    table: str, clean: pd.DataFrame, register: dict[str, str], rejected: dict[str, str]
) -> tuple[pd.DataFrame, list[dict[str, Any]], list[str]]:
    """Restore lost leading zeros, then reject the schools not in the register.

    A school whose register rows were rejected is named as such (``rejected``: id →
    why), not as unknown. Returns the rows kept, the reject records and the warnings.
    """
    clean, warnings = _restore_leading_zeros(table, clean, register, rejected)
    known_schools = register.keys()
    unknown = clean[~clean["school_id"].isin(known_schools)]
    problems = []
    for _, row in unknown.iterrows():
        why = rejected.get(row["school_id"])
        if why is None:
            rule, message = "unknown_school", "school id not in the school register"
        else:
            rule, message = "rejected_school", f"school rejected in the register: {why}"
        problems.append(_row_problem(table, row, "school_id", row["school_id"], rule, message))
    return clean[clean["school_id"].isin(known_schools)], problems, warnings


def rejected_schools(problems: list[dict[str, Any]], register: dict[str, str]) -> dict[str, str]:
    """Why each school id of a rejected register row is not in the register.

    Parameters
    ----------
    problems
        The reject records of the ``schools`` table.
    register
        The accepted register (school id → name): an id kept there (a repeated
        identical row) is not rejected.

    Returns
    -------
    dict of str to str
        School id → the reason its report rows are rejected, e.g. "conflicting rows
        in danh_muc_truong.csv rows 2, 6".
    """
    rows: dict[str, list[dict[str, Any]]] = {}
    for problem in problems:
        school_id = problem.get("school_id")
        if isinstance(school_id, str) and school_id and school_id not in register:
            rows.setdefault(school_id, []).append(problem)
    out = {}
    for school_id, found in rows.items():
        places = sorted({(p["file"], int(p["row"])) for p in found})
        where = "; ".join(
            f"{file} rows {', '.join(str(r) for f, r in places if f == file)}"
            if sum(f == file for f, _ in places) > 1
            else f"{file} row {next(r for f, r in places if f == file)}"
            for file in dict.fromkeys(f for f, _ in places)
        )
        if any(p["rule"] == "duplicate_conflict" for p in found):
            out[school_id] = f"conflicting rows in {where}"
        else:
            first = found[0]
            out[school_id] = (
                f"its row in {where} was rejected ({first['rule']}: {first['message']})"
            )
    return out


def _drop_rows(frame: pd.DataFrame, problems: list[dict[str, Any]]) -> pd.DataFrame:
    """``frame`` without the rows (by file, sheet, row) that ``problems`` name."""
    bad = {(p["file"], p["sheet"], p["row"]) for p in problems}
    row_ids = zip(frame["_file"], frame["_sheet"], frame["_row"], strict=True)
    return frame.loc[pd.Series([r not in bad for r in row_ids], index=frame.index, dtype=bool)]


def finish_table(
    table: str,
    parsed: list[ParsedSheet],
    register: dict[str, str] | None,
    rejected: dict[str, str] | None = None,
) -> tuple[pd.DataFrame, list[dict[str, Any]], list[str]]:
    """Validate, drop unknown schools and duplicates; returns table, rejects, warnings.

    ``register`` (school id → name, from the schools table when it was read) checks
    the school ids of ``panel`` and ``membership`` rows; ``None`` checks nothing.
    ``rejected`` (:func:`rejected_schools`) names why a school is not in it.
    """
    warnings: list[str] = []
    frame = pd.concat([p.frame for p in parsed], ignore_index=True)
    problems = [q for p in parsed for q in p.problems]
    typed, found = validate(table, frame)
    # a cell that could not be parsed is blank for pandera; report it once
    unreadable = {(p["file"], p["sheet"], p["row"], p["column"]) for p in problems}
    problems += [
        p for p in found if (p["file"], p["sheet"], p["row"], p["column"]) not in unreadable
    ]
    clean = _drop_rows(typed, problems)
    if register is not None and "school_id" in clean and table in {"panel", "membership"}:
        clean, unknown, restored = _check_register(table, clean, register, rejected or {})
        problems += unknown
        warnings += restored
    if table == "panel":
        warnings += _name_mismatches(clean, register)
        warnings += scale_warnings(clean)
    dups = _reject_duplicates(table, clean, KEYS[table])
    problems += dups
    if dups:
        clean = _drop_rows(clean, dups)
    out = clean.drop(columns=["_file", "_sheet", "_row"])
    if "year" in out:
        out["year"] = out["year"].astype("int64")
    out = out.sort_values(KEYS[table], kind="stable").reset_index(drop=True)
    schema.pandera_schema(table).validate(out)  # the contract of what leaves ingest
    return out, problems, warnings


def scale_warnings(frame: pd.DataFrame) -> list[str]:
    """A column of percentages (0–100) held as fractions (0–1) in some files or years.

    A percentage typed 97.1 in one year and kept as 0.971 without a percentage format
    in another is 100 times off; ingest reads each as written and says so here.

    Parameters
    ----------
    frame
        Typed panel rows with ``_file`` and ``year``.

    Returns
    -------
    list of str
        One warning per column whose files or years disagree, naming them.
    """
    out = []
    for name, spec in schema.contract("panel").items():
        if not spec.percent or name not in frame:
            continue
        values = frame[["_file", "year", name]].dropna()
        groups = values.groupby(["_file", "year"], sort=True)[name]
        small = groups.max().le(1) & groups.max().gt(0) & groups.size().ge(3)
        large = groups.median().gt(1)
        if not (small.any() and large.any()):
            continue
        shown = "; ".join(f"{file} ({year})" for file, year in small[small].index)
        typical = values[name][values.set_index(["_file", "year"]).index.isin(large[large].index)]
        out.append(
            f"column {name} ({spec.header}): the values in {shown} lie between 0 and 1, while "
            f"other files or years hold percentages (median {typical.median():g}); a fraction "
            "where a percentage is expected is 100 times too small: check those files"
        )
    return out


def rejects_frame(problems: list[dict[str, Any]]) -> pd.DataFrame:
    """All reject records as the ``rejects`` table, sorted by table, file, sheet, row."""
    rejects = pd.DataFrame(problems, columns=list(REJECT_COLUMNS))
    order = ["table", "file", "sheet", "row", "column", "rule"]
    rejects = rejects.sort_values(order, kind="stable")
    return rejects.astype(REJECT_COLUMNS).reset_index(drop=True)
