"""The evaluation page's account of its design, in the reader's language.

A supervisor reading "the programme raised scores by 0.11" must also read who
was compared with whom, how many districts the interval rests on and by which
method, what the interval means, the smallest effect the design could have
detected, and whether the pre-trend and sensitivity checks hold. The
sentences live in ``config/labels.yml`` (section ``evaluation_notebook``);
:func:`design_sentences` picks and fills them from a
:class:`~analysis.models.evaluation.StaggeredResult` whose design checks have
been run (:func:`~analysis.models.evaluation.design_checks`).
"""

from __future__ import annotations

from typing import Any

from analysis.core import i18n

SECTION = "evaluation_notebook"


def _list(items: list[str], lang: str) -> str:
    if len(items) <= 1:
        return "".join(items)
    word = " và " if lang == "vi" else " and "
    return ", ".join(items[:-1]) + word + items[-1]


def waves_text(first_year: dict[str, int], names: dict[str, str], lang: str) -> str:
    """ "2022: A and B; 2023: C" — which units the programme reached in which school year."""
    by_year: dict[int, list[str]] = {}
    for unit, year in sorted(first_year.items(), key=lambda kv: (kv[1], names.get(kv[0], kv[0]))):
        by_year.setdefault(int(year), []).append(names.get(str(unit), str(unit)))
    return "; ".join(
        f"{i18n.label(SECTION, 'school_year_word', lang)} {year - 1}–{year}: {_list(units, lang)}"
        for year, units in by_year.items()
    )


def design_sentences(
    result, *, first_year: dict[str, int], names: dict[str, str], outcome: str, lang: str = "vi"
) -> list[str]:
    """The paragraphs that state the design, the result and its limits.

    Parameters
    ----------
    result
        A staggered result with ``checks`` (MDE, sensitivity) filled in.
    first_year
        Unit → first treated school year (end year), the spec's programme.
    names
        Unit → its name, for the reader.
    outcome
        The outcome's label.
    lang
        ``"vi"`` or ``"en"``.

    Returns
    -------
    list of str
        Markdown paragraphs, in reading order.
    """
    inf, checks = result.inference, result.checks
    overall = result.tidy("simple").iloc[0]
    num = lambda v: i18n.number(v, lang, 3)  # noqa: E731
    treated = set(map(str, first_year))
    reached = result.fit.work if result.fit is not None else None
    never = sorted(
        {
            names.get(str(u), str(u))
            for u in (reached[inf["cluster"]].unique() if reached is not None else [])
            if str(u) not in treated
        }
    )
    say = lambda key, **v: i18n.text(SECTION, key, lang, **v)  # noqa: E731
    out = [
        say(
            "design",
            waves=waves_text(first_year, names, lang),
            n_treated=inf["n_treated_clusters"],
            n_never=inf["n_never_treated_clusters"],
            never=_list(never, lang),
        ),
        say("inference", n=inf["n_clusters"], method=i18n.label(SECTION, _method_key(inf), lang)),
        say(
            "estimate",
            outcome=outcome,
            att=num(overall["estimate"]),
            low=num(overall["conf_low"]),
            high=num(overall["conf_high"]),
        ),
    ]
    mde = checks.get("mde")
    if mde is not None:
        out.append(say("mde", mde=num(mde), power=i18n.percent(100 * checks["power"], lang, 0)))
    if _cannot_tell(overall, mde):
        out.append(say("cannot_tell"))
    out.extend(_checks(result, lang, num))
    weak = [g for g in result.cohorts if g not in checks.get("informative_cohorts", result.cohorts)]
    if weak:
        out.append(say("weak_cohorts", cohorts=_list([f"{g - 1}–{g}" for g in weak], lang)))
    return out


def _method_key(inference: dict[str, Any]) -> str:
    method = inference["method"]
    if method.startswith("wild"):
        return "method_wild"
    if method.startswith("csdid"):
        return "method_csdid"
    return "method_crv1"


def _cannot_tell(overall, mde) -> bool:
    """A wide interval: it holds zero, or the design cannot detect an effect of this size."""
    holds_zero = overall["conf_low"] <= 0 <= overall["conf_high"]
    return bool(holds_zero or (mde is not None and mde > abs(overall["estimate"])))


def _checks(result, lang: str, num) -> list[str]:
    """The pre-trend and sensitivity sentences."""
    out = []
    pre = result.pretrend
    if pre:
        verdict = "pretrend_ok" if pre["p_value"] > 0.05 else "pretrend_bad"
        out.append(
            i18n.text(
                SECTION,
                "pretrend",
                lang,
                p=i18n.number(pre["p_value"], lang, 2),
                df=pre["df"],
                verdict=i18n.label(SECTION, verdict, lang),
            )
        )
    breakdown = result.checks.get("breakdown_mbar")
    if breakdown is not None and breakdown == breakdown:  # not NaN
        key = "sensitivity_zero" if breakdown == 0 else "sensitivity"
        out.append(i18n.text(SECTION, key, lang, mbar=i18n.number(breakdown, lang, 1)))
    return out


# --------------------------------------------------------------------------
# A one-off comparison (no waves): inverse-probability weighting


def comparison_names(spec, treatment: str, lang: str) -> tuple[str, str]:
    """(the treated group, the comparison group) as a reader names them: the treatment's
    label and the spec's ``comparison`` (else "without" the treatment)."""
    treated = spec.label(treatment, lang)
    if spec.comparison:
        return treated, spec.comparison[lang]
    return treated, i18n.text(
        SECTION, "comparison_default", lang, treated=i18n.in_sentence(treated)
    )


def weighting_sentences(
    result,
    *,
    spec,
    treatment: str,
    outcome: str,
    covariates: list[str],
    clusters: tuple[str, int] | None = None,
    lang: str = "vi",
) -> list[str]:
    """The paragraphs of a one-off comparison: who is compared with whom, how the groups
    were formed (randomised or not), what the weighting balances, the result, its limits.

    Parameters
    ----------
    result
        A weighting result (:func:`analysis.models.evaluation.weighting`), clustered or not.
    spec
        The dataset spec: treatment, outcome and covariate labels, ``row``, ``design``,
        ``comparison``.
    treatment, outcome
        The columns compared and measured.
    covariates
        The columns weighted on.
    clusters
        ``(grouping column, number of groups)`` when the errors are clustered.
    lang
        ``"vi"`` or ``"en"``.

    Returns
    -------
    list of str
        Markdown: a heading, then paragraphs in reading order.
    """
    treated, comparison = comparison_names(spec, treatment, lang)
    row = spec.row.get(lang) or i18n.label(SECTION, "row_default", lang)
    n_treated = int((result.treated == 1).sum())
    estimate = result.tidy().iloc[0]
    num = lambda v: i18n.number(v, lang, 3)  # noqa: E731
    say = lambda key, **v: i18n.text(SECTION, key, lang, **v)  # noqa: E731
    features = _list([i18n.in_sentence(spec.label(c, lang)) for c in covariates], lang)
    design = "weighting_experiment" if spec.design == "experiment" else "weighting_observational"
    out = [
        "## " + say("weighting_title", treated=treated, comparison=i18n.in_sentence(comparison)),
        say(
            design,
            treated=treated if design == "weighting_observational" else i18n.in_sentence(treated),
            comparison=i18n.in_sentence(comparison),
            n_treated=i18n.number(n_treated, lang, 0),
            n_comparison=i18n.number(len(result.treated) - n_treated, lang, 0),
            row=row,
            covariates=features or "—",
        ),
        say(
            "weighting_result",
            outcome=i18n.in_sentence(spec.label(outcome, lang)),
            treated=i18n.in_sentence(treated),
            comparison=i18n.in_sentence(comparison),
            att=num(estimate["estimate"]),
            low=num(estimate["conf_low"]),
            high=num(estimate["conf_high"]),
        ),
    ]
    if clusters is not None:
        group = i18n.in_sentence(spec.label(clusters[0], lang))
        out.append(say("weighting_inference", group=group, n=clusters[1], row=row))
    if estimate["conf_low"] <= 0 <= estimate["conf_high"]:
        out.append(say("cannot_tell"))
    return out


def balance_table(balance, spec, lang: str):
    """The balance table with each covariate's label (the headers are labelled by the
    table display from the ``columns`` labels)."""
    return balance.assign(covariate=[spec.label(c, lang) for c in balance["covariate"]])
