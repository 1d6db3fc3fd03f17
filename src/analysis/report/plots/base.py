"""The workbench look and the label helpers every plotting module shares.

:func:`use_style` is applied once, by the package (``analysis.report.plots``),
when it is first imported.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import seaborn as sns

from analysis.core import i18n
from analysis.report.style import FONT


def use_style() -> None:
    """The workbench style: seaborn whitegrid, a font with Vietnamese glyphs.

    Applied once when the module is imported; call it again after changing the
    matplotlib settings to restore the workbench look (changes ``rcParams``
    globally).
    """

    sns.set_theme(style="whitegrid", context="notebook", font=FONT)
    plt.rcParams["figure.dpi"] = 110
    plt.rcParams["axes.titleweight"] = "bold"


def _label(key: str, lang: str) -> str:
    return i18n.label("plots", key, lang)


def _chart(key: str, lang: str, **values) -> str:
    return i18n.text("charts", key, lang, **values)
