"""Vietnamese typed in the legacy TCVN3 (ABC) and VNI fonts, detected and converted.

Before Unicode, Vietnamese offices typed in 8-bit fonts (``.VnTime`` for
TCVN3/ABC, ``VNI-Times`` for VNI). Old Excel templates still carry them: the
workbook stores Latin-1 characters that only the font draws as Vietnamese, so
"Trường" arrives as ``Tr\xadêng`` (TCVN3) or ``Tröôøng`` (VNI).

* TCVN3 is one byte per letter: the table below is TCVN 5712:1993 (VN1, as in
  glibc's ``TCVN5712-1`` converter) restricted to what the VN3 fonts carry —
  lower-case letters and the seven capital base letters. Capital letters with
  a tone do not exist in VN3 (a separate capitals font draws the lower-case
  codes), so such text converts to lower case; the warning says so.
* VNI writes a base letter followed by a mark character; the marks compose
  with Unicode's combining characters and NFC.

Detection never guesses silently: :func:`guess` scores each reading (plain
Unicode, TCVN3, VNI) by the words that cannot be Vietnamese — leftover font
symbols, or two tones in one syllable — and converts only when one legacy
reading is clean and clearly better. Otherwise it reports ``ambiguous`` and the
caller flags the text and keeps it as it is.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

# TCVN 5712 VN3: byte (= the Latin-1 code point Excel stores) → letter.
_TCVN3_PAIRS = (
    "¡Ă ¢Â £Ê ¤Ô ¥Ơ ¦Ư §Đ ¨ă ©â ªê «ô ¬ơ \xadư ®đ µà ¶ả ·ã ¸á ¹ạ »ằ ¼ẳ ½ẵ ¾ắ "
    "Æặ Çầ Èẩ Éẫ Êấ Ëậ Ìè Îẻ Ïẽ Ðé Ñẹ Òề Óể Ôễ Õế Öệ ×ì Øỉ Üĩ Ýí Þị ßò "
    "áỏ âõ ãó äọ åồ æổ çỗ èố éộ êờ ëở ìỡ íớ îợ ïù ñủ òũ óú ôụ õừ öử ÷ữ øứ ùự "
    "úỳ ûỷ üỹ ýý þỵ"
)
TCVN3 = {pair[0]: pair[1] for pair in _TCVN3_PAIRS.split()}

# VNI-Windows: letters that are one character …
VNI_LETTERS = {
    "ñ": "đ",
    "Ñ": "Đ",
    "ô": "ơ",
    "Ô": "Ơ",
    "ö": "ư",
    "Ö": "Ư",
    "ì": "ì",
    "í": "í",
    "æ": "ỉ",
    "ó": "ĩ",
    "ò": "ị",
    "Ì": "Ì",
    "Í": "Í",
    "Æ": "Ỉ",
    "Ó": "Ĩ",
    "Ò": "Ị",
    "î": "ỵ",
    "Î": "Ỵ",
}
# … and marks that follow a base vowel: (modifier, tone) as combining characters.
_GRAVE, _ACUTE, _HOOK, _TILDE, _DOT = "\u0300", "\u0301", "\u0309", "\u0303", "\u0323"
_CIRCUMFLEX, _BREVE = "\u0302", "\u0306"
_TONES = {"ø": _GRAVE, "ù": _ACUTE, "û": _HOOK, "õ": _TILDE, "ï": _DOT}
_HAT = {"â": "", "á": _ACUTE, "à": _GRAVE, "å": _HOOK, "ã": _TILDE, "ä": _DOT}
_CUP = {"ê": "", "é": _ACUTE, "è": _GRAVE, "ú": _HOOK, "ü": _TILDE, "ë": _DOT}


def _vni_marks() -> dict[tuple[str, str], str]:
    """(base, mark) → letter, for lower and upper case."""
    out: dict[tuple[str, str], str] = {}
    plain = {"a": "a", "e": "e", "i": "i", "o": "o", "u": "u", "y": "y", "ô": "ơ", "ö": "ư"}
    for lower in (True, False):
        case = (lambda s: s) if lower else str.upper
        for base, letter in plain.items():
            for mark, tone in _TONES.items():
                out[(case(base), case(mark))] = case(letter) + tone
        for base in "aeo":
            for mark, tone in _HAT.items():
                out[(case(base), case(mark))] = case(base) + _CIRCUMFLEX + tone
        for mark, tone in _CUP.items():
            out[(case("a"), case(mark))] = case("a") + _BREVE + tone
    return {k: unicodedata.normalize("NFC", v) for k, v in out.items()}


VNI_MARKS = _vni_marks()

# Latin-1 characters that Vietnamese written in Unicode never uses: seeing them
# in text is the sign of a legacy font.
_VIETNAMESE_LATIN1 = set("àáâãèéêìíòóôõùúýÀÁÂÃÈÉÊÌÍÒÓÔÕÙÚÝ")
_LEGACY_CHARS = {
    c for c in {*TCVN3, *VNI_LETTERS, *(m for _, m in VNI_MARKS)} if c not in _VIETNAMESE_LATIN1
}
_LEGACY_RE = re.compile("[" + re.escape("".join(sorted(_LEGACY_CHARS))) + "]")
_TONE_MARKS = set(_GRAVE + _ACUTE + _HOOK + _TILDE + _DOT)
_WORD = re.compile(r"(?:[^\W\d_]|" + _LEGACY_RE.pattern + ")+")


def from_tcvn3(text: str) -> str:
    """Read text typed in a TCVN3 (ABC, ``.VnTime``) font: each byte to its letter.

    Parameters
    ----------
    text
        The text as the workbook stores it (Latin-1 code points).

    Returns
    -------
    str
        The Vietnamese text; characters outside the table are kept. Not
        normalised (see :func:`to_unicode`).

    Example
    -------
    >>> from_tcvn3("Tr\xadêng")
    'Trường'
    """
    return "".join(TCVN3.get(c, c) for c in text)


def from_vni(text: str) -> str:
    """Read text typed in a VNI (``VNI-Times``) font: base letter + mark character.

    Parameters
    ----------
    text
        The text as the workbook stores it (Latin-1 code points).

    Returns
    -------
    str
        The Vietnamese text (each base letter and mark composed); characters
        outside the tables are kept.

    Example
    -------
    >>> from_vni("Tröôøng")
    'Trường'
    """
    out = []
    i = 0
    while i < len(text):
        c = text[i]
        nxt = text[i + 1] if i + 1 < len(text) else ""
        if (c, nxt) in VNI_MARKS:
            out.append(VNI_MARKS[(c, nxt)])
            i += 2
            continue
        out.append(VNI_LETTERS.get(c, c))
        i += 1
    return "".join(out)


CONVERTERS = {"tcvn3": from_tcvn3, "vni": from_vni}
NAMES = {"tcvn3": "TCVN3 (ABC, .VnTime)", "vni": "VNI (VNI-Times)"}


def could_be_legacy(text: str) -> bool:
    """Non-ASCII, but nothing beyond Latin-1: how every legacy-font text is stored.

    Parameters
    ----------
    text
        One cell's text.

    Returns
    -------
    bool
        A cheap first filter: True says only that the text *could* be legacy
        (French, or Vietnamese that uses only Latin-1 letters, passes too); see
        :func:`looks_legacy`.
    """
    return not text.isascii() and all(ord(c) <= 0xFF for c in text)


def looks_legacy(text: str) -> bool:
    """A word holds a font symbol Vietnamese Unicode never uses; no letter beyond Latin-1.

    The symbol must sit inside a word ("Tr\xadêng", "Hµ"): a lone ``×`` or ``·``
    between spaces is punctuation, not a legacy letter.

    Parameters
    ----------
    text
        One cell's text.

    Returns
    -------
    bool
        True when the text looks typed in a legacy font (which one: :func:`guess`).
    """
    if not _LEGACY_RE.search(text):
        return False
    if any(ord(c) > 0xFF and unicodedata.category(c).startswith("L") for c in text):
        return False
    return any(len(w) > 1 and _LEGACY_RE.search(w) for w in _WORD.findall(text))


# Vietnamese syllables: onset + vowel nucleus + coda (tones removed), so that a
# wrong reading of a legacy font ("Soỏ", "hoùc") shows as impossible words.
_ONSET_TEXT = "b c ch d đ g gh gi h k kh l m n ng ngh nh p ph q qu r s t th tr v x"
_NUCLEUS_TEXT = (
    "a ă â e ê i o ô ơ u ư y ai ao au ay âu ây eo êu ia iê iu oa oă oe oi ôi ơi ua uâ uê "
    "ui uô uơ uy ưa ưi ươ ưu yê iêu yêu oai oay oao oeo uây uôi ươi ươu uya uyê uyu"
)
_ONSETS = {"", *_ONSET_TEXT.split()}
_CODAS = {"", "c", "ch", "m", "n", "ng", "nh", "p", "t"}
_NUCLEI = set(_NUCLEUS_TEXT.split())
_VOWELS = "aăâeêioôơuưy"
_SYLLABLE = re.compile(f"^([^{_VOWELS}]*)([{_VOWELS}]+)([^{_VOWELS}]*)$")


def _syllable_ok(word: str) -> bool:
    decomposed = unicodedata.normalize("NFD", word.lower())
    if sum(1 for c in decomposed if c in _TONE_MARKS) > 1:
        return False
    bare = unicodedata.normalize("NFC", "".join(c for c in decomposed if c not in _TONE_MARKS))
    match = _SYLLABLE.match(bare)
    if not match:
        return False
    onset, nucleus, coda = match.groups()
    if onset in {"g", "q"} and len(nucleus) > 1 and nucleus[0] == ("i" if onset == "g" else "u"):
        onset, nucleus = onset + nucleus[0], nucleus[1:]
    return onset in _ONSETS and nucleus in _NUCLEI and coda in _CODAS


def implausible_words(text: str) -> int:
    """Words with a letter beyond ASCII that cannot be Vietnamese syllables.

    Leftover font symbols, two tones in one syllable or an impossible vowel
    cluster all count; plain-ASCII words (Internet, LMS) say nothing and are skipped.

    Parameters
    ----------
    text
        Text in one reading (as stored, or converted).

    Returns
    -------
    int
        The number of implausible words (0 for clean Vietnamese).
    """
    return sum(
        1
        for word in _WORD.findall(text)
        if not word.isascii()
        and (_LEGACY_RE.search(word) or (_has_vowel(word) and not _syllable_ok(word)))
    )


def _has_vowel(word: str) -> bool:
    """Acronyms such as CĐS have no vowel and are not syllables."""
    bare = unicodedata.normalize("NFD", word.lower())
    return any(c in "aeiouy" for c in bare)


@dataclass(frozen=True)
class Guess:
    """How a body of text reads: ``unicode``, ``tcvn3``, ``vni`` or ``ambiguous``.

    Attributes
    ----------
    encoding : str
        ``unicode`` (nothing looked legacy), ``tcvn3`` or ``vni`` (convert with
        :func:`to_unicode`), or ``ambiguous`` (flag the text, keep it as it is).
    cells : int
        How many texts looked legacy (:func:`looks_legacy`).
    scores : dict
        Reading (``unicode``, ``tcvn3``, ``vni``) → implausible words in the
        texts that looked legacy; empty when none did.
    """

    encoding: str
    cells: int  # how many texts looked legacy
    scores: dict[str, int]  # reading → implausible words

    @property
    def convert(self) -> bool:
        """True when the texts should be converted (a legacy encoding was found)."""
        return self.encoding in CONVERTERS


def guess(texts: Iterable[str]) -> Guess:
    """Decide how texts that look legacy should be read (see the module docstring).

    A legacy reading wins when it is clean (at most one implausible word in twenty
    non-ASCII words) and has fewer implausible words than the other legacy reading.

    Parameters
    ----------
    texts
        The texts of one body (a sheet's cells, say); only those that
        :func:`looks_legacy` are scored.

    Returns
    -------
    Guess
        The reading, the number of legacy-looking texts and the scores.

    Example
    -------
    >>> guess(["Tr\xadêng häc", "Sè häc sinh"]).encoding
    'tcvn3'
    """
    sample = [t for t in texts if looks_legacy(t)]
    if not sample:
        return Guess("unicode", 0, {})
    scores = {"unicode": sum(implausible_words(t) for t in sample)}
    for name, convert in CONVERTERS.items():
        scores[name] = sum(implausible_words(convert(t)) for t in sample)
    words = sum(1 for t in sample for w in _WORD.findall(t) if not w.isascii())
    ranked = sorted(CONVERTERS, key=lambda n: scores[n])
    best, runner_up = ranked[0], ranked[1]
    # clean enough (at most one word in twenty odd) and clearly better than the alternative
    if scores[best] * 20 <= max(words, 1) and scores[best] < scores[runner_up]:
        return Guess(best, len(sample), scores)
    return Guess("ambiguous", len(sample), scores)


def to_unicode(text: str, encoding: str) -> str:
    """Convert legacy-font text to NFC Unicode.

    Parameters
    ----------
    text
        The text as stored.
    encoding
        ``tcvn3`` or ``vni`` (a :class:`Guess`'s ``encoding`` when ``convert``).

    Returns
    -------
    str
        The text in Unicode, NFC-normalised.

    Raises
    ------
    KeyError
        ``encoding`` is not ``tcvn3`` or ``vni``.
    """
    return unicodedata.normalize("NFC", CONVERTERS[encoding](text))


def from_unicode(text: str, encoding: str) -> str:
    """Unicode → how a legacy font stores it (the inverse, for test files and the generator).

    TCVN3 has no capital letters with a tone; they are written in lower case,
    as the VN3 capitals font would store them.

    Parameters
    ----------
    text
        Vietnamese in Unicode.
    encoding
        ``tcvn3`` or ``vni``.

    Returns
    -------
    str
        The text as the legacy font stores it (Latin-1 code points).

    Raises
    ------
    ValueError
        ``encoding`` is not ``tcvn3`` or ``vni``.

    Example
    -------
    >>> from_unicode("Trường", "vni")
    'Tröôøng'
    """
    if encoding == "tcvn3":
        back = {v: k for k, v in TCVN3.items()}
        out = []
        for c in unicodedata.normalize("NFC", text):
            if c in back:
                out.append(back[c])
            elif c.lower() in back and c not in "ĂÂÊÔƠƯĐ":
                out.append(back[c.lower()])
            else:
                out.append(c)
        return "".join(out)
    if encoding == "vni":
        letters = {v: k for k, v in VNI_LETTERS.items()}
        marks = {v: "".join(k) for k, v in VNI_MARKS.items()}
        return "".join(
            marks.get(c) or letters.get(c) or c for c in unicodedata.normalize("NFC", text)
        )
    raise ValueError(f"unknown legacy encoding {encoding!r}; expected one of {sorted(CONVERTERS)}")
