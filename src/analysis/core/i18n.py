"""Every user-visible label in Vietnamese and English (``config/labels.yml``), and numbers
written the way each reader writes them.

Numbers go through Babel's CLDR data: Vietnamese groups thousands with a dot and
writes a decimal comma (``1.234,5``), English the other way round (``1,234.5``).
:func:`number`, :func:`percent` and :func:`integer` format one value,
:func:`figure` a key figure of the index, :func:`axis` the tick labels of a
matplotlib axis (tables: :func:`analysis.report.tables.formatted`). A missing value is
shown as an em dash everywhere.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from typing import Any

from IPython.display import Markdown, display

from analysis.core import paths
from analysis.core.config import load_yaml

LANGUAGES = ("vi", "en")


def catalogue() -> dict[str, dict[str, dict[str, str]]]:
    """The label catalogue, ``config/labels.yml``: ``{section: {key: {"vi": …, "en": …}}}``.

    Raises
    ------
    ConfigError
        The file is missing or not valid YAML.
    """
    return load_yaml(paths.config_dir() / "labels.yml")


def check_lang(lang: str) -> str:
    """``lang`` itself when it is a supported language (:data:`LANGUAGES`).

    Raises
    ------
    ValueError
        ``lang`` is not ``vi`` or ``en``.
    """
    if lang not in LANGUAGES:
        raise ValueError(f"language {lang!r} not supported; expected one of {LANGUAGES}")
    return lang


def label(section: str, key: Any, lang: str = "vi") -> str:
    """The label of ``key`` in ``section`` (e.g. ``label("status", "met", "en")``).

    Parameters
    ----------
    section
        A top-level section of ``config/labels.yml`` (``status``, ``levels``, ``brief``…).
    key
        The entry's key; looked up as text (``str(key)``), so a number finds ``"3"``.
    lang
        ``vi`` or ``en``.

    Returns
    -------
    str
        The label in ``lang``.

    Raises
    ------
    ValueError
        ``lang`` is not supported.
    KeyError
        No such section, or no such key in it.

    Example
    -------
    >>> i18n.label("status", "met", "en")  # doctest: +SKIP
    'Met'
    """
    check_lang(lang)
    entries = catalogue().get(section)
    if entries is None:
        raise KeyError(f"no label section {section!r}")
    entry = entries.get(str(key))
    if entry is None:
        raise KeyError(f"no label for {section}.{key}")
    return entry[lang]


def labels(section: str, lang: str = "vi") -> dict[str, str]:
    """All labels of a section as ``{key: text}``.

    Parameters
    ----------
    section
        A top-level section of ``config/labels.yml``.
    lang
        ``vi`` or ``en``.

    Returns
    -------
    dict
        ``{key: label in lang}``, in catalogue order.

    Raises
    ------
    ValueError
        ``lang`` is not supported.
    KeyError
        No such section.
    """
    check_lang(lang)
    return {k: v[lang] for k, v in catalogue()[section].items()}


def missing_labels() -> list[str]:
    """``section.key.lang`` of every entry that lacks a language or has it blank (for tests).

    Returns
    -------
    list of str
        Empty when every entry has both ``vi`` and ``en``.
    """
    out = []
    for section, entries in catalogue().items():
        for key, entry in entries.items():
            for lang in LANGUAGES:
                if not isinstance(entry, dict) or not str(entry.get(lang) or "").strip():
                    out.append(f"{section}.{key}.{lang}")
    return out


def text(section: str, key: str, lang: str = "vi", **values: Any) -> str:
    """A catalogue sentence with ``{placeholders}`` filled in.

    Parameters
    ----------
    section, key, lang
        As for :func:`label`.
    **values
        The placeholders' values, inserted with :meth:`str.format` (format numbers
        with :func:`number` first: ``format`` writes them the English way).

    Returns
    -------
    str
        The filled-in sentence.

    Raises
    ------
    ValueError
        ``lang`` is not supported.
    KeyError
        No such label, or a placeholder without a value.

    Example
    -------
    >>> i18n.text("brief", "summary", "en", n=8)  # doctest: +SKIP
    """
    return label(section, key, lang).format(**values)


# --------------------------------------------------------------------------
# Numbers in the reader's style

MISSING = "—"
_LOCALES = {"vi": "vi_VN", "en": "en_GB"}


def say(section: str, lang: str = "vi") -> Callable[..., None]:
    """A function that shows a catalogue sentence of ``section`` as Markdown in a notebook.

    Parameters
    ----------
    section
        The section of ``config/labels.yml`` the notebook's sentences live in.
    lang
        ``vi`` or ``en``.

    Returns
    -------
    callable
        ``say(key, **values)``: displays :func:`text` ``(section, key, lang, **values)``.

    Example
    -------
    >>> say = i18n.say("notebooks", lang)  # doctest: +SKIP
    >>> say("rejects_text", rows="31")  # doctest: +SKIP
    """
    check_lang(lang)

    def show(key: str, **values: Any) -> None:
        display(Markdown(text(section, key, lang, **values)))

    return show


def _missing(value: Any) -> bool:
    import pandas as pd

    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):  # not a scalar
        return False


def number(value: Any, lang: str = "vi", digits: int = 1, *, sign: bool = False) -> str:
    """``1234.5`` → ``"1.234,5"`` (vi) or ``"1,234.5"`` (en); ``sign`` adds ``+`` to gains.

    Parameters
    ----------
    value
        A number (anything :class:`float` accepts); missing (None, NaN, ``pd.NA``)
        gives :data:`MISSING`.
    lang
        ``vi`` or ``en``.
    digits
        Decimals, always shown (``1`` writes ``2`` as ``"2,0"``); 0 for none.
    sign
        Put ``+`` before a value that rounds above zero (a change). A value that
        rounds to zero is written without a sign (no ``"-0,0"``).

    Returns
    -------
    str
        The number with thousands grouped in ``lang``'s style.

    Raises
    ------
    ValueError
        ``lang`` is not supported, or ``value`` is not a number.

    Example
    -------
    >>> number(1234.5, "vi")
    '1.234,5'
    >>> number(0.25, "en", 2, sign=True)
    '+0.25'
    """
    from babel.numbers import format_decimal

    check_lang(lang)
    if _missing(value):
        return MISSING
    pattern = "#,##0" + ("." + "0" * digits if digits > 0 else "")
    rounded = round(float(value), digits)
    if rounded == 0:
        rounded = 0.0  # no "-0,0" and no "+0,0"
    elif sign:
        pattern = f"+{pattern};-{pattern}"
    return format_decimal(rounded, format=pattern, locale=_LOCALES[lang])


def figure(value: Any, lang: str = "vi", *, name: str = "") -> str:
    """A key figure as the index shows it: whole numbers grouped (a ``*year*`` figure plain),
    other numbers with up to six decimals (coefficients of 0,00002 stay visible), text as is.

    Parameters
    ----------
    value
        The recorded value: a number, text, a yes/no or missing.
    lang
        ``vi`` or ``en``.
    name
        The figure's name; a name containing ``year`` keeps a whole number plain
        (``2025``, not ``2.025``).

    Returns
    -------
    str
        The figure as text; :data:`MISSING` for a missing value.

    Raises
    ------
    ValueError
        ``lang`` is not supported.
    """
    from babel.numbers import format_decimal

    check_lang(lang)
    if isinstance(value, bool | str) or _missing(value):
        return MISSING if _missing(value) else str(value)
    if not isinstance(value, int | float):
        return str(value)
    if float(value).is_integer():
        return str(int(value)) if "year" in name else integer(value, lang)
    return format_decimal(value, format="#,##0.######", locale=_LOCALES[lang])


def integer(value: Any, lang: str = "vi") -> str:
    """``12345`` → ``"12.345"`` (vi) or ``"12,345"`` (en).

    Parameters
    ----------
    value
        A number; rounded to a whole number. Missing gives :data:`MISSING`.
    lang
        ``vi`` or ``en``.

    Returns
    -------
    str
        :func:`number` with no decimals.
    """
    return number(value, lang, 0)


def in_sentence(label: str) -> str:
    """A label inside a sentence: its capital dropped unless it starts an acronym
    (``"Lớp sĩ số nhỏ"`` → ``"lớp sĩ số nhỏ"``, ``"CĐS …"`` kept)."""
    if len(label) > 1 and label[0].isupper() and label[1].islower():
        return label[0].lower() + label[1:]
    return label


def school_year(year: int) -> str:
    """``2025`` → ``"2024–2025"``: a school year named by its end year, with an en dash (a
    file name keeps the hyphen: :func:`analysis.runner.layout.document_stem`)."""
    return f"{int(year) - 1}–{int(year)}"


def percent(value: Any, lang: str = "vi", digits: int = 1) -> str:
    """A value already in percent: ``68.7`` → ``"68,7%"`` (vi) or ``"68.7%"`` (en).

    Parameters
    ----------
    value
        A percentage in 0–100 (not a share in 0–1: ``0.687`` gives ``"0,7%"``).
    lang
        ``vi`` or ``en``.
    digits
        Decimals, as for :func:`number`.

    Returns
    -------
    str
        The number with a ``%`` sign; :data:`MISSING` (no sign) for a missing value.
    """
    text = number(value, lang, digits)
    return text if text == MISSING else f"{text}%"


def axis(ax, lang: str = "vi", *, which: str = "both", integer: bool = False) -> None:
    """Tick labels of a matplotlib axis in the reader's style (decimal comma in Vietnamese).

    Each tick gets as many decimals as the tick spacing needs; ``integer`` keeps the ticks
    on whole numbers (counts). Category, date and log axes are left alone.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        The axes whose tick labels to set (changed in place).
    lang
        ``vi`` or ``en``.
    which
        ``"x"``, ``"y"`` or ``"both"``.
    integer
        Put the ticks on whole numbers only.

    Raises
    ------
    ValueError
        ``lang`` is not supported.

    Example
    -------
    >>> ax = plots.trend(values, indicator="teachers_trained_cds", units=units)  # doctest: +SKIP
    >>> i18n.axis(ax, "vi", which="y")  # doctest: +SKIP
    """
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    check_lang(lang)
    for name in ("x", "y") if which == "both" else (which,):
        target = getattr(ax, f"{name}axis")
        if target.get_scale() != "linear" or target.get_converter() is not None:
            continue
        if integer:
            target.set_major_locator(MaxNLocator(integer=True))

        def fmt(value, _pos, target=target):
            ticks = sorted(target.get_majorticklocs())
            steps = [b - a for a, b in itertools.pairwise(ticks) if b > a]
            step = min(steps, default=1.0)
            places = 0 if step >= 1 else min(6, -math.floor(math.log10(step) + 1e-9))
            while places < 6 and abs(step * 10**places - round(step * 10**places)) > 1e-6:
                places += 1
            return number(value, lang, places)

        target.set_major_formatter(FuncFormatter(fmt))
