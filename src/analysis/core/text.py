"""Vietnamese text: diacritics, header matching and number formats."""

from __future__ import annotations

import math
import re
import unicodedata

_SPACES = re.compile(r"\s+")
_PUNCT = re.compile(r"[\s\-_./:;,()\[\]%*#'\"–—]+")


def strip_diacritics(text: str) -> str:
    """``"Số học sinh"`` → ``"So hoc sinh"`` (đ/Đ become d/D)."""
    decomposed = unicodedata.normalize("NFD", text)
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return unicodedata.normalize("NFC", bare.replace("đ", "d").replace("Đ", "D"))


def header_key(text: object) -> str:
    """The matching key of a column header.

    Case, spacing, punctuation and diacritics are ignored, so "Số học sinh",
    "SO HOC SINH" and "  số  học sinh " share one key: ``"so hoc sinh"``.
    """
    if text is None:
        return ""
    raw = unicodedata.normalize("NFC", str(text))
    raw = strip_diacritics(raw).lower()
    return _PUNCT.sub(" ", raw).strip()


def clean_text(value: object) -> str:
    """NFC-normalised text with runs of whitespace collapsed."""
    return _SPACES.sub(" ", unicodedata.normalize("NFC", str(value))).strip()


# Markers people type into a cell to say "no value".
NA_MARKERS = frozenset(
    header_key(m)
    for m in [
        "", "-", "--", "—", "–", ".", "N/A", "NA", "n.a.", "#N/A", "null", "none", "nan",
        "không có số liệu", "chưa có", "KXĐ", "không xác định", "x",
    ]
)  # fmt: skip
_LONGEST_NA = 24  # no NA marker is longer, even with spaces around it

_VN_THOUSANDS = re.compile(r"^[+-]?\d{1,3}(\.\d{3})+$")  # 1.234 / 12.345.678
_EN_THOUSANDS = re.compile(r"^[+-]?\d{1,3}(,\d{3}){2,}$")  # 1,234,567 (two or more groups)
_PLAIN = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


class NotANumber(ValueError):
    """The text cannot be read as a number."""


def is_na(value: object) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    if not isinstance(value, str) or len(value) > _LONGEST_NA:
        return False
    return header_key(value) in NA_MARKERS


def parse_number(value: object, *, percent: bool = False) -> float | None:
    """Read a number the way Vietnamese templates write it.

    ``"1.234"`` → 1234 (dot groups thousands), ``"12,5"`` → 12.5 (comma is the
    decimal mark), ``"1.234,5"`` → 1234.5, ``"1,234.5"`` → 1234.5 (both marks:
    the last one is decimal), ``"85%"`` → 85 when ``percent`` is true (the
    column holds percentages) and 0.85 otherwise. Blank and N/A markers give
    ``None``. Anything else raises :class:`NotANumber`.
    """
    if is_na(value):
        return None
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, int | float):
        return float(value)
    text = clean_text(value).replace(" ", "").replace("\u00a0", "")
    is_percent = text.endswith("%")
    if is_percent:
        text = text[:-1]
    if not text:
        raise NotANumber(value)
    if "," in text and "." in text:
        if text.rfind(",") > text.rfind("."):
            text = text.replace(".", "").replace(",", ".")
        else:
            text = text.replace(",", "")
    elif "," in text:
        text = text.replace(",", "") if _EN_THOUSANDS.match(text) else text.replace(",", ".")
    elif _VN_THOUSANDS.match(text):
        text = text.replace(".", "")
    if not _PLAIN.match(text):
        raise NotANumber(value)
    number = float(text)
    if is_percent and not percent:
        number /= 100
    return number


TRUE_WORDS = frozenset(header_key(w) for w in ["có", "co", "yes", "y", "true", "đúng", "x", "1"])
FALSE_WORDS = frozenset(header_key(w) for w in ["không", "khong", "ko", "no", "n", "false", "0"])


def parse_bool(value: object) -> bool | None:
    """ "Có"/"Không", yes/no, 1/0, true/false; blank → ``None``."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        if value in (0, 1):
            return bool(value)
        raise ValueError(value)
    key = header_key(value)
    if key in TRUE_WORDS:
        return True
    if key in FALSE_WORDS:
        return False
    if key in NA_MARKERS:
        return None
    raise ValueError(value)


_YEAR_PAIR = re.compile(r"(\d{4})\s*[-–—/]\s*(\d{2,4})")


def parse_school_year(value: object) -> int | None:
    """``"2020-2021"``, ``"2020–21"``, ``"2020 - 2021"`` → 2021 (the end year)."""
    if is_na(value):
        return None
    match = _YEAR_PAIR.search(str(value))
    if not match:
        raise ValueError(value)
    start = int(match.group(1))
    end_text = match.group(2)
    end = int(end_text) if len(end_text) == 4 else (start // 100) * 100 + int(end_text)
    if end != start + 1:
        raise ValueError(value)
    return end
