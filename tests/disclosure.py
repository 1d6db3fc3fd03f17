"""A curious reader of the shared output, with a spreadsheet and a few lines of arithmetic.

This module is the attacker of the disclosure tests. It does not import ``analysis``: it
reads the shared files (``kpi_*.xlsx`` with openpyxl, the CSVs with ``csv``, the pages'
tables with ``html.parser``) as a reader would, by their Vietnamese or English headers,
and it takes the meaning of an indicator's numerator and denominator from the
workbook's own definitions sheet. The truth it checks a guess against is the processed
panel, with the attacker's own list of what counts persons (``PERSONS``): a column
missing from ``config/privacy.yml`` is still a person count here.

What it tries, on everything any shared file shows (one pool, so a cell hidden in one
file and shown in another is shown):

* ``shown`` — a numerator or denominator that counts persons, from 1 to 4;
* ``share×denominator`` — a hidden count from a visible share and denominator, at the
  precision published (also a share worked back from next year's value and change);
* ``subtraction`` — a unit's total minus its visible members (schools of a unit,
  schools and units of a district, districts of the province), the members' counts
  taken from their visible shares and the school sizes those shares give away;
* ``year difference`` — this year's cumulative trained teachers minus last year's,
  against the teachers trained this year;
* ``rule side`` — a rule's side (``teachers * 10 + trained_this_year * 120``) solved for
  its one unknown count.

A school's size is guessed as the smallest denominator its shares agree on (``12`` from
``91.666…%``), as a reader would; a guess counts only when it equals the truth.
"""

from __future__ import annotations

import csv
import math
import re
from collections import defaultdict
from dataclasses import dataclass
from fractions import Fraction
from html.parser import HTMLParser
from pathlib import Path

import openpyxl
import pandas as pd

K = 5
# What counts persons, as the attacker reads the indicator definitions (expressions).
PERSONS = {
    "teachers", "enrolment", "teachers_online_account", "teachers_trained_cds",
    "teachers_trained_cds_year", "teachers_digital_material", "pupils_digital_records",
    "it_staff", "exam_pass_rate / 100 * enrolment", "poor_household_share / 100 * enrolment",
}  # fmt: skip
# Quantities that are whole numbers in a school's report (a reader knows what is counted).
WHOLE = {
    "teachers", "enrolment", "teachers_online_account", "teachers_trained_cds",
    "teachers_digital_material", "pupils_digital_records", "it_staff", "e_lessons",
    "computers_teaching", "computers_internet", "classrooms", "classrooms_projector_internet",
}  # fmt: skip
HEADERS = {  # header (vi, en) -> field
    "indicator": ("Mã chỉ tiêu", "Indicator id", "Indicator"),
    "level": ("Cấp", "Level"),
    "unit": ("Mã đơn vị", "Unit id"),
    "unit_name": ("Đơn vị", "Unit"),
    "year": ("Năm học (năm kết thúc)", "School year (ending)", "Year"),
    "numerator": ("Tử số", "Numerator"),
    "denominator": ("Mẫu số", "Denominator"),
    "value": ("Giá trị", "Value"),
    "change": ("Thay đổi so với năm trước", "Change on previous year"),
    "school": ("Mã trường", "School id"),
    "district_name": ("Huyện (so sánh qua cải cách)", "District (comparable across the reform)"),
    "rule": ("Quy tắc", "Rule"),
}
HIDDEN = ("[ẩn]", "[suppressed]")


@dataclass(frozen=True)
class Leak:
    how: str
    where: str  # file
    unit: str
    year: int
    quantity: str
    value: int


def _field(header: str) -> str | None:
    h = str(header).strip().lstrip("\ufeff")
    for name, options in HEADERS.items():
        if h in options:
            return name
    return None


def number(cell) -> float | None:
    """A cell as a number, or None (blank, marker, text)."""
    if cell is None or isinstance(cell, bool):
        return None
    if isinstance(cell, (int, float)):
        return None if isinstance(cell, float) and math.isnan(cell) else float(cell)
    text = str(cell).strip().replace("\u00a0", "")
    if not text or text in HIDDEN:
        return None
    if re.fullmatch(r"-?\d{1,3}(\.\d{3})+,\d+|-?\d+,\d+", text):  # Vietnamese 1.234,5
        text = text.replace(".", "").replace(",", ".")
    try:
        return float(text)
    except ValueError:
        return None


def decimals(cell) -> int:
    """The digits after the point a cell shows (9 for a number stored at full precision)."""
    if isinstance(cell, (int, float)) and not isinstance(cell, bool):
        v = float(cell)
        for d in range(9):
            if abs(round(v, d) - v) < 1e-9 * max(1.0, abs(v)):
                return d
        return 9
    text = str(cell).strip().replace(",", ".")
    return len(text.split(".")[-1]) if "." in text else 0


def column_steps(rows: list[list]) -> list[float]:
    """Half the last digit each column publishes: ``91.7`` in a column of one decimal is
    91.65–91.75 (a reader sees the column's precision, not one cell's)."""
    width = max((len(r) for r in rows), default=0)
    most = [0] * width
    for r in rows[1:]:
        for i, cell in enumerate(r):
            if number(cell) is not None:
                most[i] = max(most[i], decimals(cell))
    return [1e-9 if d >= 9 else 0.5 * 10.0**-d for d in most]


# -- reading the shared files ---------------------------------------------------------


class _Tables(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tables: list[list[list[str]]] = []
        self._row: list[str] | None = None
        self._cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self.tables.append([])
        elif tag == "tr" and self.tables:
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._row.append("".join(self._cell).strip())
            self._cell = None
        elif tag == "tr" and self._row is not None:
            self.tables[-1].append(self._row)
            self._row = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def shared_tables(folder: Path) -> list[tuple[str, list[list]]]:
    """Every table of every shared file under ``folder``: (file, rows with header first)."""
    out: list[tuple[str, list[list]]] = []
    for path in sorted(folder.rglob("*")):
        if not path.is_file() or any(p.startswith(".") for p in path.relative_to(folder).parts):
            continue
        name = str(path.relative_to(folder))
        if path.suffix == ".xlsx":
            wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
            for ws in wb.worksheets:
                out.append(
                    (f"{name}:{ws.title}", [list(r) for r in ws.iter_rows(values_only=True)])
                )
        elif path.suffix == ".csv":
            with open(path, encoding="utf-8-sig", newline="") as f:
                out.append((name, list(csv.reader(f))))
        elif path.suffix == ".html":
            parser = _Tables()
            parser.feed(path.read_text("utf-8"))
            out += [(f"{name}#{i}", rows) for i, rows in enumerate(parser.tables) if rows]
    return out


@dataclass
class Definition:
    numerator: str
    denominator: str
    factor: float


def definitions(tables) -> tuple[dict[str, Definition], dict[str, str]]:
    """Indicator id → definition, and indicator name → id, from the definitions sheet."""
    defs: dict[str, Definition] = {}
    names: dict[str, str] = {}
    for _, rows in tables:
        if not rows or ("Tử số" not in rows[0] and "Numerator" not in rows[0]):
            continue
        head = [str(h) for h in rows[0]]
        if "factor" not in head:
            continue
        i_num = head.index("Tử số" if "Tử số" in head else "Numerator")
        i_den, i_fac = i_num + 1, head.index("factor")
        for r in rows[1:]:
            defs[str(r[0])] = Definition(str(r[i_num]), str(r[i_den]), float(r[i_fac]))
            names[str(r[1])] = str(r[0])
    return defs, names


# -- what the files show --------------------------------------------------------------


@dataclass
class Known:
    """What the pool shows of one (indicator, unit, year)."""

    numerator: float | None = None
    denominator: float | None = None
    value: float | None = None
    value_step: float = 0.0
    change: float | None = None
    change_step: float = 0.0
    source: str = ""


def pool(tables, defs, names):
    """(indicator, unit, year) → Known from every long table and the school sheet;
    school → (unit name, district name) by year; unit name → id; rule sides."""
    known: dict[tuple, Known] = defaultdict(Known)
    members: dict[tuple[str, int], tuple[str, str]] = {}
    unit_ids: dict[str, str] = {}
    sides: list[tuple[str, str, int, str, float]] = []
    for source, rows in tables:
        if not rows:
            continue
        head = [_field(h) for h in rows[0]]
        col = {f: i for i, f in reversed(list(enumerate(head))) if f}
        if "indicator" in col and "unit" in col and "year" in col:
            _long(source, rows, col, known, unit_ids)
        elif "school" in col and "year" in col:
            _schools(source, rows, col, known, members, names, sides, defs)
    return known, members, unit_ids, sides


def _set(k: Known, field: str, cell, source: str, step: float) -> None:
    v = number(cell)
    if v is None or getattr(k, field) is not None:
        return
    setattr(k, field, v)
    if field in ("value", "change"):
        setattr(k, f"{field}_step", step * max(1.0, abs(v)) if step < 1e-6 else step)
    k.source = k.source or source


def _long(source, rows, col, known, unit_ids) -> None:
    steps = column_steps(rows)
    rows = rows[1:]
    for r in rows:
        year = number(r[col["year"]])
        if year is None:
            continue
        key = (str(r[col["indicator"]]), str(r[col["unit"]]), int(year))
        for field in ("numerator", "denominator", "value", "change"):
            if field in col:
                _set(known[key], field, r[col[field]], source, steps[col[field]])
        if "unit_name" in col:
            unit_ids[str(r[col["unit_name"]])] = str(r[col["unit"]])


def _schools(source, rows, col, known, members, names, sides, defs) -> None:
    head = [str(h).strip().lstrip("\ufeff") for h in rows[0]]
    long_values = "indicator" in col and "value" in col  # outliers: school, indicator, value
    steps = column_steps(rows)
    for r in rows[1:]:
        year = number(r[col["year"]])
        if year is None:
            continue
        school, y = str(r[col["school"]]), int(year)
        if "unit_name" in col and "district_name" in col:
            members[(school, y)] = (str(r[col["unit_name"]]), str(r[col["district_name"]]))
        if long_values:
            key = (str(r[col["indicator"]]), school, y)
            _set(known[key], "value", r[col["value"]], source, steps[col["value"]])
        for i, h in enumerate(head):
            if h in names:
                _set(known[(names[h], school, y)], "value", r[i], source, steps[i])
        if "rule" in col:  # a rule violation: the sides' expressions and values
            _rule_sides(r, head, school, y, sides)


def _rule_sides(r, head, school, year, sides) -> None:
    for expr_h, value_h in (("left", "Vế trái"), ("right", "Vế phải"),
                            ("left", "Left side"), ("right", "Right side")):  # fmt: skip
        if expr_h in head and value_h in head:
            v = number(r[head.index(value_h)])
            if v is not None:
                sides.append((school, str(r[head.index(expr_h)]), year, expr_h, v))


# -- the attacks ----------------------------------------------------------------------


def _unique_count(low: float, high: float) -> int | None:
    """The one integer in [low, high], when there is exactly one and it is 1–4."""
    first, last = math.ceil(low - 1e-9), math.floor(high + 1e-9)
    return first if first == last and 0 < first < K else None


def school_sizes(known, defs) -> dict[tuple[str, str, int], int]:
    """(denominator expression, school, year) → the smallest size its visible shares agree on."""
    seen: dict[tuple[str, str, int], list[Fraction]] = defaultdict(list)
    for (ind, unit, year), k in known.items():
        d = defs.get(ind)
        if d is None or k.value is None or not unit.isdigit():
            continue
        if d.denominator not in WHOLE or d.numerator not in WHOLE:  # hours, scores: not whole
            continue
        if len(unit) < 8:  # schools only (ids of 8 digits)
            continue
        x = k.value / d.factor
        tol = k.value_step / d.factor
        seen[(d.denominator, unit, year)].append(_fraction(x, tol))
        if d.numerator == "enrolment":  # learners per computer: enrolment/computers
            seen[("enrolment", unit, year)].append(Fraction(_fraction(x, tol).numerator, 1))
    out = {}
    for key, fractions in seen.items():
        size = 1
        for f in fractions:
            size = math.lcm(size, f.denominator)
        out[key] = size
    return out


def _fraction(x: float, tol: float) -> Fraction:
    """The simplest fraction within ``tol`` of ``x`` (the reader's rational guess)."""
    for q in range(1, 5001):
        p = round(x * q)
        if abs(p / q - x) <= tol + 1e-12:
            return Fraction(p, q)
    return Fraction(x).limit_denominator(5000)


def attack(folder: Path, truth: dict[tuple[str, str, int], float]) -> list[Leak]:
    """Every count of persons 1–4 the shared files under ``folder`` give away.

    ``truth``: (quantity expression, school id, year) → the true value, for the guesses
    that rest on a guessed school size.
    """
    tables = shared_tables(folder)
    defs, names = definitions(tables)
    known, members, unit_ids, sides = pool(tables, defs, names)
    sizes = school_sizes(known, defs)
    leaks: list[Leak] = []
    _shown(known, defs, leaks)
    _worked_back(known, defs, leaks)
    counts = _member_counts(known, defs, sizes)
    _subtraction(known, defs, members, unit_ids, counts, truth, leaks)
    _year_difference(counts, truth, leaks)
    _rule_sides_solved(sides, sizes, truth, leaks)
    return sorted(set(leaks), key=lambda leak: (leak.how, leak.unit, leak.year, leak.quantity))


def _shown(known, defs, leaks) -> None:
    for (ind, unit, year), k in known.items():
        d = defs.get(ind)
        for field, expr in (("numerator", d.numerator if d else ""),
                            ("denominator", d.denominator if d else "")):  # fmt: skip
            v = getattr(k, field)
            if expr in PERSONS and v is not None and 0 < v < K:
                leaks.append(Leak("shown", k.source, unit, year, expr, round(v)))


def _worked_back(known, defs, leaks) -> None:
    for (ind, unit, year), k in list(known.items()):
        d = defs.get(ind)
        if d is None or d.numerator not in PERSONS:
            continue
        value, step = k.value, k.value_step
        later = known.get((ind, unit, year + 1))
        if value is None and later and later.value is not None and later.change is not None:
            value, step = later.value - later.change, later.value_step + later.change_step
        if k.numerator is None and value is not None and k.denominator is not None:
            low = (value - step) * k.denominator / d.factor
            high = (value + step) * k.denominator / d.factor
            n = _unique_count(low, high)
            if n is not None:
                leaks.append(Leak("share×denominator", k.source, unit, year, d.numerator, n))


def _member_counts(known, defs, sizes) -> dict[tuple[str, str, int], float]:
    """(quantity, unit or school, year) → the count the pool shows or gives away."""
    out: dict[tuple[str, str, int], float] = {}
    for (ind, unit, year), k in known.items():
        d = defs.get(ind)
        if d is None:
            continue
        if k.numerator is not None:
            out[(d.numerator, unit, year)] = k.numerator
        if k.denominator is not None:
            out[(d.denominator, unit, year)] = k.denominator
        size = sizes.get((d.denominator, unit, year))
        if k.value is not None and size is not None and (d.numerator, unit, year) not in out:
            out[(d.numerator, unit, year)] = round(k.value * size / d.factor, 6)
            out.setdefault((d.denominator, unit, year), size)
    return out


def _families(members, unit_ids, known) -> dict[tuple[str, int], set[str]]:
    """(parent, year) → its members a reader can list: the schools of a unit, a district and
    the province (from the school sheet), the units inside a district, the districts."""
    out: dict[tuple[str, int], set[str]] = defaultdict(set)
    province = {year: unit for (_, unit, year) in known if len(unit) <= 2}
    inside: dict[tuple[str, int], set[str]] = defaultdict(set)
    for (school, year), (unit_name, district_name) in members.items():
        unit, district = unit_ids.get(unit_name), unit_ids.get(district_name)
        for parent in (unit, district, province.get(year)):
            if parent:
                out[(parent, year)].add(school)
        if unit and district:
            inside[(unit, year)].add(district)
    for (unit, year), districts in inside.items():
        if len(districts) == 1 and unit not in districts:
            out[(next(iter(districts)), year)].add(unit)
        if province.get(year):
            out[(province[year], year)] |= districts
    return out


def _subtraction(known, defs, members, unit_ids, counts, truth, leaks) -> None:
    families = _families(members, unit_ids, known)
    for (parent, year), family in families.items():
        # a family mixes levels (schools, units, districts): subtract within one level
        for level in {len(m) for m in family}:
            same = [m for m in family if len(m) == level]
            for q in PERSONS:
                if (q, parent, year) not in counts:
                    continue
                missing = [m for m in same if (q, m, year) not in counts]
                if len(missing) != 1:
                    continue
                rest = counts[(q, parent, year)] - sum(
                    counts[(q, m, year)] for m in same if m != missing[0]
                )
                n = round(rest)
                hidden = missing[0]
                school = len(hidden) >= 8
                if abs(rest - n) > 1e-6 or not 0 < n < K:
                    continue
                if school and truth.get((q, hidden, year)) != n:
                    continue
                leaks.append(Leak("subtraction", parent, hidden, year, q, n))


def _year_difference(counts, truth, leaks) -> None:
    for (q, unit, year), value in counts.items():
        before = counts.get((q, unit, year - 1))
        if q != "teachers_trained_cds" or before is None:
            continue
        n = round(value - before)
        if 0 < n < K and truth.get(("teachers_trained_cds_year", unit, year)) == n:
            leaks.append(Leak("year difference", unit, unit, year, "teachers_trained_cds_year", n))


def _rule_sides_solved(sides, sizes, truth, leaks) -> None:
    for school, expr, year, _, value in sides:
        terms = re.findall(r"([a-z_]+)(?:\s*\*\s*([\d.]+))?", expr)
        unknown, rest = [], value
        for column, coef in terms:
            c = float(coef) if coef else 1.0
            size = sizes.get((column, school, year))
            if size is not None:
                rest -= c * size
            else:
                unknown.append((column, c))
        if len(unknown) == 1 and unknown[0][0] in PERSONS:
            column, c = unknown[0]
            n = round(rest / c)
            if abs(rest / c - n) < 1e-6 and 0 < n < K and truth.get((column, school, year)) == n:
                leaks.append(Leak("rule side", "rule_violations", school, year, column, n))


def truth_of(processed: Path) -> dict[tuple[str, str, int], float]:
    """(person-count quantity, school id, year) → its true value, from the processed panel."""
    panel = pd.read_parquet(processed / "panel.parquet")
    out: dict[tuple[str, str, int], float] = {}
    for q in PERSONS:
        values = panel.eval(q) if " " in q else panel[q]
        for school, year, v in zip(panel["school_id"], panel["year"], values, strict=True):
            if pd.notna(v):
                out[(q, str(school), int(year))] = round(float(v), 6)
    return out
