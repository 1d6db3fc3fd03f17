"""For notebooks: a model from a dataset spec, its interaction pair, readable term labels."""

from __future__ import annotations

import re

from analysis.core import i18n
from analysis.models.links import identification
from analysis.models.links.fit import estimate
from analysis.models.links.prepare import empty_roles
from analysis.models.links.result import LinkResult


def from_spec(
    data,
    *,
    outcome: str | None = None,
    years: list[int] | None = None,
    model: str = "ols",
    group: str | None = None,
    **kwargs,
) -> LinkResult:
    """Fit the spec's role formula; ``group`` clusters (OLS) or groups (mixed) the rows.

    By default OLS and panel fits cluster on the spec's first group (the
    districts of the synthetic province; the schools of a pupil-level
    cross-section), else a panel on its unit; a mixed model groups a panel's
    rows by unit and a cross-section's by its first group.

    A panel model on a dataset without a time column falls back to OLS with
    cluster-robust errors (recorded in ``glance()['fallback']``).

    Parameters
    ----------
    data
        A :class:`~analysis.data.datasets.Dataset` (its ``spec`` and ``data``).
    outcome
        The outcome column; default the spec's first outcome.
    years
        Keep only these periods (when the spec has a time column).
    model
        ``"ols"``, ``"mixed"`` or ``"panel"``.
    group
        The cluster (OLS) or grouping (mixed) column, instead of the default.
    **kwargs
        Passed to :func:`~analysis.models.links.estimate`.

    Returns
    -------
    LinkResult
        With ``glance()['fallback']`` empty, or the reason OLS replaced a panel, and
        ``left_out`` the role columns without values the formula left out.

    Raises
    ------
    LinkError
        If the model cannot be specified or fitted.

    Example
    -------
    >>> from_spec(datasets.load("star"), model="mixed").tidy()  # doctest: +SKIP
    """
    spec = data.spec
    frame = data.data
    if years is not None and spec.time:
        frame = frame[frame[spec.time].isin(years)]
    first_group = spec.groups[0] if spec.groups else None
    fallback = ""
    if model == "panel" and not spec.time:
        model, fallback = "ols", "panel needs a time column; OLS used instead"
    if model in ("ols", "panel") and "cov" not in kwargs:
        # cluster at the level the spec names (districts: where shocks and programmes land,
        # and which nest a school's repeated years); without groups, a panel clusters on its
        # unit. With few clusters, estimate() takes intervals from CR2 on t(df_BM).
        cluster = group or first_group or (spec.unit if spec.time else None)
        if cluster:
            kwargs.setdefault("cluster", cluster)
    if model == "mixed":
        kwargs.setdefault("groups", group or (spec.unit if spec.time else first_group) or spec.unit)
    result = estimate(frame, spec=spec, outcome=outcome, model=model, **kwargs)
    result.stats["fallback"] = fallback
    if "formula" not in kwargs:  # the role formula left these out (prepare.empty_roles)
        result.left_out = empty_roles(spec, frame)
    return result


def interaction_pair(result: LinkResult, spec) -> tuple[str, str] | None:
    """The (infrastructure, training) pair whose interaction the model has.

    Parameters
    ----------
    result
        A fit.
    spec
        The dataset spec whose first infrastructure and training columns are looked for.

    Returns
    -------
    tuple of str, or None
        ``(infrastructure, training)`` of the fit's interaction term (the first
        columns of those roles with values), or ``None`` when it has none.
    """
    terms = set(result.table["term"])
    for infra in spec.roles.get("infrastructure", []):  # the formula's pair: the first with values
        for training in spec.roles.get("training", []):
            if {f"{infra}:{training}", f"{training}:{infra}"} & terms:
                return infra, training
    return None


def term_labels(terms, spec, lang: str = "vi") -> dict[str, str]:
    """Readable labels for model terms (``C(x)[T.v]`` → ``x: v``, ``a:b`` → ``a × b``).

    Parameters
    ----------
    terms
        Term names as in ``tidy()['term']``.
    spec
        The dataset spec whose column labels are used (``None``: names as they are).
    lang
        ``"vi"`` or ``"en"``.

    Returns
    -------
    dict
        Term → label.

    Example
    -------
    >>> term_labels(["Intercept", "small_class"], datasets.read_spec("star"), "en")
    ... # doctest: +SKIP
    {'Intercept': 'Intercept', 'small_class': 'Small class'}
    """
    out = {}
    for term in terms:
        parts = []
        for piece in str(term).split(":"):
            match = re.fullmatch(r"C\((\w+)\)\[T\.(.+)\]", piece) or re.fullmatch(
                r"(\w+)\[T\.(.+)\]", piece
            )
            if match and spec is not None:
                column, level = match.group(1), match.group(2)
                parts.append(f"{spec.label(column, lang)}: {spec.value_label(column, level, lang)}")
            elif match:
                parts.append(f"{match.group(1)}: {match.group(2)}")
            elif piece == "Intercept":
                parts.append(i18n.label("terms", "intercept", lang))
            else:
                parts.append(spec.label(piece, lang) if spec else piece)
        out[term] = " × ".join(parts)
    return out


def describe_formula(formula: str, spec, lang: str = "vi") -> tuple[str, str]:
    """A model formula in words: (the outcome's label, its terms' labels).

    ``y ~ a * b + c + C(d)`` → ("Outcome", "A × B, C, D"): ``*`` reads as ×, a categorical
    ``C(x)`` as its column's label; the order is the formula's.
    """
    left, _, right = formula.partition("~")
    name = lambda c: spec.label(c, lang) if spec is not None else c  # noqa: E731
    terms = []
    for term in right.split("+"):
        pieces = [p.strip() for p in re.split(r"[*:]", term) if p.strip()]
        pieces = [re.sub(r"^C\((\w+)\)$", r"\1", p) for p in pieces]
        if pieces and pieces != ["1"]:
            terms.append(" × ".join(name(p) for p in pieces))
    return name(left.strip()), ", ".join(terms)


def describe_identification(result: LinkResult, spec, lang: str = "vi") -> list[str]:
    """What a page says about the fit's identification, in ``lang``: one sentence per
    problem :func:`~analysis.models.links.identification.check` found, or one saying
    the checks found none. Columns and terms are named by the spec's labels."""
    if not result.problems:
        return [i18n.label("identification", "identified", lang)]
    names = [n for p in result.problems for n in p.values.get("terms", [])
             + p.values.get("components", [])]  # fmt: skip
    return identification.describe(
        result.problems,
        lang=lang,
        label=(lambda c: spec.label(c, lang)) if spec is not None else None,
        terms=term_labels(names, spec, lang),
    )


# a role named by what it is when it has more columns than this; else by its columns' labels
_ROLE_NAMED_FROM = 3


def describe_title(result: LinkResult, spec, lang: str = "vi") -> str:
    """The page's heading from the spec's roles in the model: ``"Hạ tầng, bồi dưỡng giáo
    viên và kết quả học tập"`` for the province, ``"Lớp sĩ số nhỏ, … và tổng điểm …"`` for
    STAR — never a role the dataset does not have.

    Parameters
    ----------
    result
        A fitted link model (its formula says which columns are in it).
    spec
        The dataset spec (roles and labels).
    lang
        ``vi`` or ``en``.
    """
    used = set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", result.formula))
    parts: list[str] = []
    for role in ("treatment", "infrastructure", "training", "use"):
        columns = [c for c in spec.roles.get(role, []) if c in used]
        if len(columns) >= _ROLE_NAMED_FROM:
            parts.append(i18n.label("links_notebook", f"role_{role}", lang))
        else:
            parts.extend(i18n.in_sentence(spec.label(c, lang)) for c in columns)
    outcome = i18n.in_sentence(spec.label(result.formula.split("~")[0].strip(), lang))
    word = " và " if lang == "vi" else " and "
    named = ", ".join(parts) + word + outcome if parts else outcome
    return i18n.text("links_notebook", "title", lang, named=named[:1].upper() + named[1:])
