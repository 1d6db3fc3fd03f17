"""Privacy rules for anything shared: small-cell suppression and personal columns.

The rules live in ``config/privacy.yml``; :func:`apply` applies them to one table,
:func:`scan` checks a table (a DataFrame, a CSV, every table of an HTML page)
and says what breaks them. The runner applies them to every table a notebook
records (``record.table`` / ``record.data``) before it writes the CSV and the
report without code, to ``figures.csv`` and to the KPI workbook it copies into
``reports/<plan>/``; ``workbench share`` scans everything it puts in the bundle
and refuses to write it when the scan finds a problem.

What is shared and what is not
------------------------------
Shared (rules applied): ``html/*.report.html``, ``data/<run>/*.csv``,
``figures.csv``/``.parquet``, ``kpi_<lang>.xlsx`` and ``index.html`` of
``reports/<plan>/``; the share bundle holds these minus internal runs.
Internal (rules not applied, never in the bundle): the executed notebooks and
``html/*.code.html`` — the researchers' copies, which hold the tables as the
notebook computed them (personal columns and small cells included, since that
is what a researcher with access to the data checks) and carry the "NỘI BỘ /
INTERNAL" mark — and ``manifest.json``. A run is internal when the plan says
``internal: true`` for it or when its notebook calls ``record.internal(...)``
(06_typology does when ``show_names`` lists schools by name; the notebook knows
when its own output is internal, so a plan author cannot forget it).

What the runner rewrites in a report page: the tables. A table recorded with
``record.table`` is shown with the rules applied; any other HTML table whose
headers name a personal column or that shows a small count is replaced by a
note. Figures (images), Markdown and printed text are *not* rewritten: a
notebook draws and writes them from its own data, so a notebook that shows
something computed from a table builds it on :func:`masked` (the table with the
suppressed cells missing), as the district brief does for its headline,
sentences and charts.

The rule, exactly
-----------------
*Personal columns* — a column whose header is, after normalisation (case,
spacing, punctuation and diacritics ignored), the name or a label in either
language of an entry of ``personal`` (pupil and teacher names and ids, date of
birth, phone, email, national id, home address, parent name) is removed. In a
long table (a ``column`` column naming a column and a ``value`` column holding
its value, like the ingest rejects), the value of a row naming a personal column
is replaced by the marker.

*Person counts* — the cells of a column declared under ``person_counts`` (by
name or label, or passed as ``counts=`` by the notebook; a header that is an
indicator's name heads that indicator's values, not a count), and in an indicator
table (an ``indicator`` id or indicator ``name`` column with ``numerator`` and
``denominator``) the numerator (denominator) of rows whose indicator's
expression in ``config/indicators.yml`` names a person-count column.

*Primary suppression* — a person-count cell with ``0 < value < k`` is *small*.
A row with a small cell is *suppressed*: its small cells and every other cell
show the marker, except the ``descriptive`` columns (names, ids, year, level,
target…) and the person counts that are not small (a school's 40 teachers stay
visible when "3 trained" is hidden: 40 does not give 3 back once the share is
hidden too). Missing cells stay blank (missing is not suppressed). Zero is not
small: it says "nobody", which the rule (counts from 1 to k − 1) allows.

*Yearly changes* — a cumulative count listed under ``yearly_change_counts`` (teachers
trained in CĐS) whose change between two shown years of one unit is from 1 to k − 1 (the
teachers trained, or trained teachers who left, that year) is small too: walking each
series (indicator, level, unit) by year, a year within k − 1 of the last year left shown
is suppressed. Two shown years never differ by a small number of persons.

*Secondary suppression* (:mod:`.secondary`) — in an indicator table, the members of a
parent add up to it, so one hidden count comes back as the parent's total minus the
visible members. Rows are grouped by indicator, year, level and ``parent_id`` when the
table has one (the KPI workbook sets it: the management unit and analysis district of a
school, the analysis district of a management unit, the province of a district; see
:func:`analysis.report.export.with_parents`); in each group with a suppressed row, rows
with the smallest non-zero count in the hidden column(s) are suppressed too until the
group's hidden rows are at least two (or all of them) and their hidden counts add up to
k or more (two hidden schools of 1 and 1 trained teachers would still say "1 each").
Rows of the same indicator, unit and year at different levels (district 164 before the
2025 reform is also management unit 164) are hidden together, and the two steps repeat
until nothing changes. Without ``parent_id`` a group is a whole level of one table, as
for the districts of a brief. Cross-table differencing beyond this (two tables of
different groupings whose difference is a small group) is not detected: the shipped
tables are whole levels of one hierarchy, and the attacker's test
(``tests/integration/test_disclosure.py``) checks every shared file of the default
plan and of a province of very small schools against it.

*Derived counts* — a side of a rule (``teachers * 10 + teachers_trained_cds_year * 120``
in the rule-violation table, columns ``left``/``right`` and ``left_value``/
``right_value``) whose expression names a person count shows the marker: with a
school's other figures it gives the count back. An indicator side counts persons when
its expression names a person count and is not a comparison (``it_staff > 0`` counts
schools that have IT staff; ``it_staff`` counts persons).

*Earlier years* — columns computed from earlier years of the same series
(``from_earlier_years``: ``change`` from the previous year, ``projected`` and
``status`` from the last three) are suppressed when a row that many years
back in the series is suppressed: ``value − change`` would give it back.

The marker is a visible word in the report's language (``[ẩn]`` / ``[suppressed]``),
never a blank, and a report table with suppressed cells or removed columns
carries a footnote saying why.

The package, lowest first: ``rules`` (``config/privacy.yml``, which headers are personal
and which cells count persons, the marker), ``cells`` (numbers and blanks as the rules
read them), ``secondary`` (yearly changes, suppression within parents and across
levels, derived sides), ``suppress`` (:func:`apply`, :func:`masked`, :func:`public_figures`,
:func:`footnote`) and ``scanner`` (:func:`scan` and the scanners of files and pages).
"""

from analysis.report.privacy.cells import parse_plain
from analysis.report.privacy.rules import (
    Rules,
    canonical,
    load_rules,
    marker,
    markers,
    rules_path,
)
from analysis.report.privacy.scanner import (
    escape,
    html_tables,
    parser_for,
    scan,
    scan_csv,
    scan_html,
    scan_workbook,
)
from analysis.report.privacy.suppress import Shared, apply, footnote, masked, public_figures

__all__ = [
    "Rules",
    "Shared",
    "apply",
    "canonical",
    "escape",
    "footnote",
    "html_tables",
    "load_rules",
    "marker",
    "markers",
    "masked",
    "parse_plain",
    "parser_for",
    "public_figures",
    "rules_path",
    "scan",
    "scan_csv",
    "scan_html",
    "scan_workbook",
]
