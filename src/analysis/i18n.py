"""Every user-visible label in Vietnamese and English (``config/labels.yml``)."""

from __future__ import annotations

from typing import Any

from analysis import paths
from analysis._yaml import load_yaml

LANGUAGES = ("vi", "en")


def catalogue() -> dict[str, dict[str, dict[str, str]]]:
    return load_yaml(paths.config_dir() / "labels.yml")


def check_lang(lang: str) -> str:
    if lang not in LANGUAGES:
        raise ValueError(f"language {lang!r} not supported; expected one of {LANGUAGES}")
    return lang


def label(section: str, key: Any, lang: str = "vi") -> str:
    """The label of ``key`` in ``section`` (e.g. ``label("status", "met", "en")``)."""
    check_lang(lang)
    entries = catalogue().get(section)
    if entries is None:
        raise KeyError(f"no label section {section!r}")
    entry = entries.get(str(key))
    if entry is None:
        raise KeyError(f"no label for {section}.{key}")
    return entry[lang]


def labels(section: str, lang: str = "vi") -> dict[str, str]:
    """All labels of a section as ``{key: text}``."""
    check_lang(lang)
    return {k: v[lang] for k, v in catalogue()[section].items()}


def missing_labels() -> list[str]:
    """``section.key`` of every entry that lacks a language (for tests)."""
    out = []
    for section, entries in catalogue().items():
        for key, entry in entries.items():
            for lang in LANGUAGES:
                if not isinstance(entry, dict) or not str(entry.get(lang) or "").strip():
                    out.append(f"{section}.{key}.{lang}")
    return out


def text(section: str, key: str, lang: str = "vi", **values: Any) -> str:
    """A catalogue sentence with ``{placeholders}`` filled in."""
    return label(section, key, lang).format(**values)
