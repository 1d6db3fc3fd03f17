"""Vietnamese text: diacritics, header matching and number formats."""

from __future__ import annotations

import math
import re
import unicodedata

_SPACES = re.compile(r"\s+")
_PUNCT = re.compile(r"[\s\-_./:;,()\[\]%*#'\"–—]+")


def strip_diacritics(text: str) -> str:
    """``"Số học sinh"`` → ``"So hoc sinh"`` (đ/Đ become d/D).

    Parameters
    ----------
    text
        Any Unicode text (composed or decomposed).

    Returns
    -------
    str
        The text in NFC without combining marks; case and spacing kept.
    """
    decomposed = unicodedata.normalize("NFD", text)
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return unicodedata.normalize("NFC", bare.replace("đ", "d").replace("Đ", "D"))


def header_key(text: object) -> str:
    """The matching key of a column header.

    Case, spacing, punctuation and diacritics are ignored, so "Số học sinh",
    "SO HOC SINH" and "  số  học sinh " share one key: ``"so hoc sinh"``.

    Parameters
    ----------
    text
        A header cell (any value; it is read as text).

    Returns
    -------
    str
        Lower-case ASCII words separated by single spaces; ``""`` for ``None``.

    Example
    -------
    >>> header_key("  Số  học sinh (%)")
    'so hoc sinh'
    """
    if text is None:
        return ""
    raw = unicodedata.normalize("NFC", str(text))
    raw = strip_diacritics(raw).lower()
    return _PUNCT.sub(" ", raw).strip()


def clean_text(value: object) -> str:
    """NFC-normalised text with runs of whitespace collapsed.

    Parameters
    ----------
    value
        Any value; it is read as text (``str(value)``).

    Returns
    -------
    str
        The text, stripped, each run of whitespace one space.
    """
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
    """Whether a cell means "no value": ``None``, a float NaN or a marker of :data:`NA_MARKERS`.

    Markers ("-", "N/A", "không có số liệu", "x"…) are matched like headers
    (:func:`header_key`: case, spacing and diacritics ignored).

    Parameters
    ----------
    value
        A cell value as read from a file.

    Returns
    -------
    bool
        True for a blank; False for anything else, including ``pandas.NA`` and
        text longer than any marker.
    """
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

    A single comma is the decimal mark unless it groups thousands twice or more
    (``"1,234,567"`` → 1234567), so ``"1,234"`` reads as 1.234.

    Parameters
    ----------
    value
        A cell: text, a number (returned as float) or a yes/no (1.0 or 0.0).
    percent
        The column holds percentages in 0–100: ``"85%"`` is 85, not 0.85.

    Returns
    -------
    float or None
        The number; ``None`` for a blank.

    Raises
    ------
    NotANumber
        The text is not a number in any of these styles.

    Example
    -------
    >>> parse_number("1.234,5")
    1234.5
    >>> parse_number("85%"), parse_number("85%", percent=True)
    (0.85, 85.0)
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
    """ "Có"/"Không", yes/no, 1/0, true/false; blank → ``None``.

    Words are matched like headers (case and diacritics ignored); ``"x"`` (a tick
    in a template) reads as yes.

    Parameters
    ----------
    value
        A cell: text, a bool, the numbers 0 and 1, ``None`` or NaN.

    Returns
    -------
    bool or None
        ``None`` for a blank or an N/A marker.

    Raises
    ------
    ValueError
        Any other value (a number other than 0 and 1, an unknown word).
    """
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
    """``"2020-2021"``, ``"2020–21"``, ``"2020 - 2021"`` → 2021 (the end year).

    Parameters
    ----------
    value
        A school year as written: a four-digit start year, a dash (``-``, ``–``,
        ``—``) or slash, and the end year in four or two digits; other text around
        it is ignored.

    Returns
    -------
    int or None
        The end year of the school year; ``None`` for a blank.

    Raises
    ------
    ValueError
        No year pair is found, or the end year is not the start year + 1.
    """
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
