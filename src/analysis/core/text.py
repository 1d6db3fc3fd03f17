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

# A thousands group never begins with 0: "0.512" and "0,512" are decimals, whatever the file.
_VN_GROUPS = re.compile(r"^[+-]?[1-9]\d{0,2}(\.\d{3}){2,}$")  # 12.345.678: dots group
_EN_GROUPS = re.compile(r"^[+-]?[1-9]\d{0,2}(,\d{3}){2,}$")  # 12,345,678: commas group
_ONE_GROUP = re.compile(r"^[+-]?[1-9]\d{0,2}[.,]\d{3}$")  # 1.234 or 1,234: either reading
_DOT_DECIMAL = re.compile(r"^[+-]?\d*\.\d+$")
_COMMA_DECIMAL = re.compile(r"^[+-]?\d*,\d+$")
_PLAIN = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")

DECIMAL_MARKS = (",", ".")  # Vietnamese: 1.234,5; English: 1,234.5


class NotANumber(ValueError):
    """The text cannot be read as a number."""


class AmbiguousNumber(NotANumber):
    """Text such as ``1.234`` that is 1234 with a decimal comma and 1.234 with a decimal point.

    ``readings`` maps each decimal mark (``","`` and ``"."``) to the number it gives.
    """

    def __init__(self, value: object, readings: dict[str, float]):
        super().__init__(value)
        self.readings = readings


def _number_text(value: object) -> tuple[str, bool]:
    """A typed number's text without spaces and its percent sign; whether it had one."""
    text = clean_text(value).replace(" ", "").replace("\u00a0", "")
    if text.endswith("%"):
        return text[:-1], True
    return text, False


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


def decimal_evidence(value: object) -> str | None:
    """The decimal mark a typed number shows it was written with, if it shows one.

    ``"12,5"``, ``"0,512"``, ``"1.234,5"`` and ``"1.234.567"`` are written with a decimal
    comma; ``"12.5"``, ``"0.512"``, ``"1,234.5"`` and ``"1,234,567"`` with a decimal
    point. ``"1.234"`` and ``"1,234"`` show nothing: either mark reads them.

    Parameters
    ----------
    value
        A cell as typed.

    Returns
    -------
    str or None
        ``","``, ``"."`` or ``None``.

    Example
    -------
    >>> decimal_evidence("0.512"), decimal_evidence("12,5"), decimal_evidence("1.234")
    ('.', ',', None)
    """
    if not isinstance(value, str) or ("," not in value and "." not in value):
        return None
    text, _ = _number_text(value)
    if "," in text and "." in text:
        return "," if text.rfind(",") > text.rfind(".") else "."
    if _ONE_GROUP.match(text):
        return None
    if _VN_GROUPS.match(text) or _COMMA_DECIMAL.match(text):
        return ","
    if _EN_GROUPS.match(text) or _DOT_DECIMAL.match(text):
        return "."
    return None


def parse_number(
    value: object, *, percent: bool = False, decimal: str | None = ","
) -> float | None:
    """Read a number the way Vietnamese templates write it, or as the file's own convention.

    ``"1.234"`` → 1234 (dot groups thousands), ``"12,5"`` → 12.5 (comma is the
    decimal mark), ``"1.234,5"`` → 1234.5, ``"1,234.5"`` → 1234.5 (both marks:
    the last one is decimal), ``"85%"`` → 85 when ``percent`` is true (the
    column holds percentages) and 0.85 otherwise. Blank and N/A markers give
    ``None``. Anything else raises :class:`NotANumber`.

    A thousands group never begins with 0, so ``"0.512"`` is 0.512 under either
    convention. Only one group after one mark (``"1.234"``, ``"1,234"``) depends on
    ``decimal``: with ``","`` (the default, Vietnamese) they read 1234 and 1.234, with
    ``"."`` 1.234 and 1234, and with ``None`` they raise :class:`AmbiguousNumber`.

    Parameters
    ----------
    value
        A cell: text, a number (returned as float) or a yes/no (1.0 or 0.0).
    percent
        The column holds percentages in 0–100: ``"85%"`` is 85, not 0.85.
    decimal
        The decimal mark of the file: ``","``, ``"."`` or ``None`` when unknown.

    Returns
    -------
    float or None
        The number; ``None`` for a blank.

    Raises
    ------
    NotANumber
        The text is not a number in any of these styles.
    AmbiguousNumber
        ``decimal`` is ``None`` and the text reads two ways.

    Example
    -------
    >>> parse_number("1.234,5"), parse_number("0.512"), parse_number("1.234", decimal=".")
    (1234.5, 0.512, 1.234)
    >>> parse_number("85%"), parse_number("85%", percent=True)
    (0.85, 85.0)
    """
    if is_na(value):
        return None
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, int | float):
        return float(value)
    text, is_percent = _number_text(value)
    if not text:
        raise NotANumber(value)
    scale = 100.0 if is_percent and not percent else 1.0  # "85%" outside a percent column
    if _ONE_GROUP.match(text):
        readings = {",": _plain(text.replace(".", "").replace(",", "."), value) / scale,
                    ".": _plain(text.replace(",", ""), value) / scale}  # fmt: skip
        if decimal is None:
            raise AmbiguousNumber(value, readings)
        return readings[decimal]
    return _plain(_unmarked(text), value) / scale


def _unmarked(text: str) -> str:
    """The text with thousands marks removed and a decimal point: ``1.234,5`` → ``1234.5``."""
    if "," in text and "." in text:
        if text.rfind(",") > text.rfind("."):
            return text.replace(".", "").replace(",", ".")
        return text.replace(",", "")
    if _VN_GROUPS.match(text):
        return text.replace(".", "")
    if _EN_GROUPS.match(text):
        return text.replace(",", "")
    return text.replace(",", ".")


def _plain(text: str, value: object) -> float:
    """``text`` as a float when it is a plain number, else :class:`NotANumber`."""
    if not _PLAIN.match(text):
        raise NotANumber(value)
    return float(text)


TRUE_WORDS = frozenset(header_key(w) for w in ["có", "co", "yes", "y", "true", "đúng", "x", "1"])
FALSE_WORDS = frozenset(header_key(w) for w in ["không", "khong", "ko", "no", "n", "false", "0"])


def parse_bool(value: object, words: dict[str, bool] | None = None) -> bool | None:
    """ "Có"/"Không", yes/no, 1/0, true/false; blank → ``None``.

    Words are matched like headers (case and diacritics ignored), before the "no
    value" markers: "Chưa có" (not yet) in ``words`` is No, not a blank.

    Parameters
    ----------
    value
        A cell: text, a bool, the numbers 0 and 1, ``None`` or NaN.
    words
        Header key of each accepted word → its answer; by default the few words of
        :data:`TRUE_WORDS` and :data:`FALSE_WORDS` (ingest passes the vocabulary of
        ``config/columns.yml``).

    Returns
    -------
    bool or None
        ``None`` for a blank or an N/A marker that is not an answer word.

    Raises
    ------
    ValueError
        Any other value (a number other than 0 and 1, an unknown word).

    Example
    -------
    >>> parse_bool("Có"), parse_bool("không"), parse_bool("chưa có", {"chua co": False})
    (True, False, False)
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
    if words is None:
        words = {**dict.fromkeys(TRUE_WORDS, True), **dict.fromkeys(FALSE_WORDS, False)}
    if key in words:
        return words[key]
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
