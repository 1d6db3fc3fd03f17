"""The synthetic Thái Nguyên province: schools, registers and yearly reports with planted effects.

``generate`` builds a :class:`Province` in memory (same seed, same province), ``write``
writes it as the Excel files a Department would receive, with ``truth.json`` beside them.

The modules, lowest first (each imports only the ones before it):

``constants``
    years, ids, districts, names, the planted :data:`PARAMS`, the :class:`Realism` profiles
``register``
    the school register: units, schools, membership, crosswalk
``shocks``
    the district × year shocks, from their own random stream
``structural``
    the structural model (size, SES, infrastructure, training, use, score) and its truth
``columns``
    the other report columns and the Decision 4725 self-assessment points
``simulate``
    the school-year panel from both, and :func:`conform`
``realism``
    the planted flaws of the reports, one function per kind
``province``
    :class:`Province` and :func:`generate`
``raw_files``
    the Excel files and ``truth.json``
"""

from analysis.data.synth.constants import (
    DISTRICT_YEAR_SD,
    LEVELS,
    NEW_PROVINCE_ID,
    PARAMS,
    PROFILES,
    PROVINCE_ID,
    REFORM_DATE,
    SCHOOL_YEARS,
    Realism,
    school_year_label,
)
from analysis.data.synth.province import Province, generate
from analysis.data.synth.raw_files import REGISTER_FILENAME, report_filename, write
from analysis.data.synth.simulate import conform

__all__ = [
    "DISTRICT_YEAR_SD",
    "LEVELS",
    "NEW_PROVINCE_ID",
    "PARAMS",
    "PROFILES",
    "PROVINCE_ID",
    "REFORM_DATE",
    "REGISTER_FILENAME",
    "SCHOOL_YEARS",
    "Province",
    "Realism",
    "conform",
    "generate",
    "report_filename",
    "school_year_label",
    "write",
]
