"""The synthetic Thái Nguyên province: schools, registers and yearly reports with planted effects.

``generate`` builds a :class:`Province` in memory (same seed, same province), ``write``
writes it as the Excel files a Department would receive, with ``truth.json`` beside them.
"""

from analysis.data.synth.province import (
    LEVELS,
    NEW_PROVINCE_ID,
    PARAMS,
    PROFILES,
    PROVINCE_ID,
    REFORM_DATE,
    REGISTER_FILENAME,
    SCHOOL_YEARS,
    Province,
    Realism,
    conform,
    generate,
    report_filename,
    school_year_label,
    write,
)

__all__ = [
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
