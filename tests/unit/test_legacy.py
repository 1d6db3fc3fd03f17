"""Legacy Vietnamese fonts: conversion tables, detection, and no false alarms on Unicode."""

from __future__ import annotations

import unicodedata

import pytest
import yaml

from analysis.core import legacy, paths
from analysis.data import synth

VOWELS = "aăâeêioôơuưy"
TONES = ["", "\u0300", "\u0301", "\u0309", "\u0303", "\u0323"]
LOWER = [unicodedata.normalize("NFC", v + t) for v in VOWELS for t in TONES] + ["đ"]


def _vietnamese_texts() -> list[str]:
    """Every Vietnamese string the project ships: labels, headers, names of a province."""
    texts: list[str] = []

    def walk(node):
        if isinstance(node, dict):
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)
        elif isinstance(node, str) and not node.isascii():
            texts.append(node)

    for name in ("labels.yml", "columns.yml", "indicators.yml"):
        walk(yaml.safe_load((paths.config_dir() / name).read_text(encoding="utf-8")))
    province = synth.generate(seed=5, profile="clean", scale=0.3)
    texts += list(province.schools["school_name"]) + list(province.units["unit_name"])
    return texts


def test_every_lower_case_letter_round_trips():
    for encoding in legacy.CONVERTERS:
        for letter in LOWER:
            stored = legacy.from_unicode(letter, encoding)
            assert all(ord(c) <= 0xFF for c in stored), (encoding, letter, stored)
            assert legacy.to_unicode(stored, encoding) == letter, (encoding, letter, stored)
    assert len(set(legacy.TCVN3.values())) == len(legacy.TCVN3)  # one code per letter


def test_vni_keeps_capitals_tcvn3_lowers_toned_capitals():
    text = "TRƯỜNG TIỂU HỌC Đồng Hỷ Ứng Hòa"
    assert legacy.to_unicode(legacy.from_unicode(text, "vni"), "vni") == text
    back = legacy.to_unicode(legacy.from_unicode(text, "tcvn3"), "tcvn3")
    assert back.lower() == text.lower()
    assert back.startswith("TRƯờNG") and "Đồng" in back  # base capitals (Đ, Ư …) survive


def test_known_spellings():
    assert legacy.from_tcvn3("Tr\xadêng TiÓu häc") == "Trường Tiểu học"
    assert legacy.to_unicode("Tröôøng Tieåu hoïc", "vni") == "Trường Tiểu học"
    assert legacy.to_unicode("Xin chaøo caùc baïn", "vni") == "Xin chào các bạn"


@pytest.mark.parametrize("encoding", sorted(legacy.CONVERTERS))
def test_a_sheet_of_legacy_text_is_recognised(encoding):
    texts = _vietnamese_texts()[:400]
    stored = [legacy.from_unicode(t, encoding) for t in texts]
    guess = legacy.guess(stored)
    assert guess.encoding == encoding, guess
    assert guess.scores[encoding] * 20 <= guess.cells


def test_unicode_vietnamese_is_never_taken_for_a_legacy_font():
    texts = _vietnamese_texts()
    assert len(texts) > 300
    assert not [t for t in texts if legacy.looks_legacy(t)]
    assert legacy.guess(texts).encoding == "unicode"
    # and the syllable check accepts the real thing (acronyms and loanwords aside)
    odd = [t for t in texts if legacy.implausible_words(t)]
    assert len(odd) <= len(texts) // 50, odd[:10]


def test_single_short_cells_can_be_ambiguous():
    guess = legacy.guess(["Sö dông hÖ thèng"])  # VNI and TCVN3 both give Vietnamese words
    assert guess.encoding == "ambiguous"
    assert not guess.convert


def test_unknown_encoding_is_an_error():
    with pytest.raises(ValueError, match="unknown legacy encoding"):
        legacy.from_unicode("x", "viqr")
