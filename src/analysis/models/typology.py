"""Which schools look alike, and which are falling behind.

* :func:`profiles` — school profiles: standardised school-level CĐS indicators,
  k-means with the number of groups chosen by the silhouette criterion,
  stability across seeds (adjusted Rand index), and a profile table that names
  each group in words from its strongest features.
* :func:`at_risk` — which schools are likely to be at CĐS maturity level 1
  (Decision 4725, teaching and learning) next year. Cross-validation is grouped
  by district so that neighbours never sit on both sides of a split; ROC AUC,
  average precision, a calibration curve and permutation importance are
  reported, beside a baseline that knows only the area type.

The at-risk list names schools: it is **internal** (``INTERNAL`` mark) and is
left out of anything shared.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from analysis.core import i18n
from analysis.measures import indicators, maturity

INTERNAL = "internal"
DEFAULT_FEATURES = [
    "learners_per_computer",
    "connected_computer_share",
    "classrooms_projector_internet",
    "bandwidth_per_learner",
    "teachers_online_account",
    "teachers_trained_cds",
    "training_hours_per_teacher",
    "teachers_digital_material",
    "e_lessons_per_teacher",
    "pupils_digital_records",
    "management_system_coverage",
    "exam_pass_rate",
]

# Kaufman & Rousseeuw (1990): a best average silhouette below 0.25 means no substantial
# cluster structure; pages then say the groups are weak
WEAK_SILHOUETTE = 0.25


def school_features(
    data, *, year: int | None = None, features: list[str] | None = None, lang: str = "vi"
) -> pd.DataFrame:
    """School × indicator values (wide), for one year or all years (rows school-year).

    Parameters
    ----------
    data
        The school-year panel (or a :class:`~analysis.datasets.Dataset`).
    year
        End year of the school year to keep; default all years.
    features
        Indicator ids; default :data:`DEFAULT_FEATURES`.
    lang
        Not used (the columns are indicator ids).

    Returns
    -------
    pandas.DataFrame
        Index (``school_id``, ``year``); one column per feature that has values,
        in ``features`` order; each school's own indicator value (missing where
        the school did not report it).

    Raises
    ------
    KeyError
        Unknown indicator id.
    ConfigError
        An indicator cannot be evaluated on ``data``.
    """
    frame = getattr(data, "data", data)
    ids = features or DEFAULT_FEATURES
    long = indicators.aggregate(frame, level="school", indicators=ids)
    if year is not None:
        long = long[long["year"] == year]
    wide = long.pivot_table(index=["unit_id", "year"], columns="indicator", values="value")
    wide = wide[[i for i in ids if i in wide.columns]]
    wide.index = wide.index.set_names(["school_id", "year"])
    return wide


@dataclass
class Profiles:
    """School profiles from :func:`profiles`.

    Attributes
    ----------
    labels : pandas.Series
        ``school_id`` → group number (0…k-1).
    k : int
        The number of groups chosen (best mean silhouette).
    silhouettes : dict
        k tried → mean silhouette.
    stability : float
        Mean adjusted Rand index of the grouping across seeds (1 = identical).
    profile : pandas.DataFrame
        Group × feature: mean standardised value (SD units from the mean school).
    names : dict
        Group → a name in words from its strongest and weakest features.
    sizes : dict
        Group → number of schools.
    """

    labels: pd.Series  # school_id → group
    k: int
    silhouettes: dict[int, float]
    stability: float  # mean adjusted Rand index across seeds
    profile: pd.DataFrame  # group × feature, standardised means
    names: dict[int, str]
    sizes: dict[int, int] = field(default_factory=dict)


def profiles(
    data,
    *,
    year: int,
    features: list[str] | None = None,
    k_range: range = range(2, 7),
    seeds: range = range(5),
    lang: str = "vi",
) -> Profiles:
    """Cluster schools on standardised indicators; k by the best mean silhouette.

    Schools missing any feature in ``year`` are left out. Features are
    standardised (mean 0, SD 1) and clustered by k-means (10 starts); the run
    with seed 0 gives the labels, the other seeds the stability.

    Parameters
    ----------
    data
        The school-year panel (or a Dataset).
    year
        End year of the school year to cluster.
    features
        Indicator ids; default :data:`DEFAULT_FEATURES`.
    k_range
        The numbers of groups to try.
    seeds
        Seeds of the repeated runs for the stability.
    lang
        Language of the group names.

    Returns
    -------
    Profiles
        Labels, k, silhouettes, stability, the profile table, names and sizes.

    Example
    -------
    >>> result = typology.profiles(data, year=2025, lang="en")  # doctest: +SKIP
    >>> plots.profile_heatmap(result, lang="en")  # doctest: +SKIP
    """
    from sklearn.cluster import KMeans
    from sklearn.metrics import adjusted_rand_score, silhouette_score
    from sklearn.preprocessing import StandardScaler

    wide = school_features(data, year=year, features=features).dropna()
    X = StandardScaler().fit_transform(wide.to_numpy())
    silhouettes = {}
    for k in k_range:
        km = KMeans(n_clusters=k, n_init=10, random_state=0).fit(X)
        silhouettes[k] = float(silhouette_score(X, km.labels_))
    k = max(silhouettes, key=silhouettes.get)
    runs = [KMeans(n_clusters=k, n_init=10, random_state=s).fit(X).labels_ for s in seeds]
    pairs = [adjusted_rand_score(runs[0], r) for r in runs[1:]]
    stability = float(np.mean(pairs)) if pairs else 1.0
    labels = pd.Series(runs[0], index=wide.index.get_level_values("school_id"), name="group")
    standardised = pd.DataFrame(X, columns=wide.columns, index=labels.index)
    profile = standardised.groupby(labels).mean()
    names = {g: _name(profile.loc[g], lang) for g in profile.index}
    sizes = labels.value_counts().sort_index().to_dict()
    return Profiles(labels, k, silhouettes, stability, profile, names, sizes)


def _name(row: pd.Series, lang: str) -> str:
    """A group's name in words: its two strongest and two weakest features (beyond 0.5 SD)."""
    meta = {i.id: i for i in indicators.load_indicators()}

    def nice(feature: str) -> str:
        # "higher" for lower-is-better indicators means worse: flip the sign for naming
        return meta[feature].name[lang]

    signed = pd.Series(
        {f: v * (-1 if meta[f].better == "lower" else 1) for f, v in row.items()}
    ).sort_values()
    high = [nice(f) for f, v in signed.iloc[::-1].items() if v > 0.5][:2]
    low = [nice(f) for f, v in signed.items() if v < -0.5][:2]
    parts = []
    if high:
        parts.append(i18n.text("typology", "strong", lang, what="; ".join(high)))
    if low:
        parts.append(i18n.text("typology", "weak", lang, what="; ".join(low)))
    return " — ".join(parts) if parts else i18n.label("typology", "average", lang)


# --------------------------------------------------------------------------
# At-risk prediction


@dataclass
class AtRisk:
    """The at-risk model of :func:`at_risk`. ``at_risk`` names schools: internal.

    Attributes
    ----------
    auc : float
        Cross-validated ROC AUC (grouped by district).
    average_precision : float
        Cross-validated average precision.
    baseline_auc : float
        ROC AUC of a model that knows only the area type.
    calibration : pandas.DataFrame
        ``predicted``, ``observed``: mean predicted and observed share at level 1,
        in up to 8 quantile bins.
    importance : pandas.DataFrame
        ``feature``, ``importance`` (mean drop in ROC AUC when the feature is
        permuted, on the training data), ``std``; most important first.
    predictions : pandas.DataFrame
        Out-of-fold: ``school_id``, ``year``, ``analysis_district_id``, ``risk``
        (probability of level 1 next year, 0–1), ``outcome`` (1 = level 1).
    at_risk : pandas.DataFrame
        The latest year's schools by risk, highest first: ``school_id``,
        ``school_name``, ``analysis_district_id``, ``year``, ``level_now``,
        ``risk``, ``mark``.
    mark : str
        :data:`INTERNAL`.
    """

    auc: float
    average_precision: float
    baseline_auc: float
    calibration: pd.DataFrame  # predicted, observed, n
    importance: pd.DataFrame  # feature, importance, std
    predictions: pd.DataFrame  # out-of-fold: school_id, year, district, risk, outcome
    at_risk: pd.DataFrame  # next-year list (INTERNAL)
    mark: str = INTERNAL


def _design(data, features: list[str]) -> pd.DataFrame:
    """School-years with features, context, this year's and next year's g1 level."""
    frame = getattr(data, "data", data)
    wide = school_features(data, features=features).reset_index()
    levels = maturity.scores(frame)
    g1 = levels[levels["group"] == "g1"][["school_id", "year", "level"]]
    context = frame[["school_id", "year", "analysis_district_id", "area_type", "school_name"]]
    design = wide.merge(context, on=["school_id", "year"], how="left")
    nxt = g1.assign(year=g1["year"] - 1).rename(columns={"level": "level_next"})
    design = design.merge(nxt, on=["school_id", "year"], how="left")
    design = design.merge(
        g1.rename(columns={"level": "level_now"}), on=["school_id", "year"], how="left"
    )
    return design


def at_risk(data, *, features: list[str] | None = None, folds: int = 5, seed: int = 0) -> AtRisk:
    """Predict maturity level 1 next year from this year's indicators (grouped CV by district).

    The outcome is level 1 in the teaching-and-learning group (``g1``) of
    Decision 4725 in the next school year; the predictors are this year's
    indicators and this year's level. A standardised logistic regression is
    cross-validated with folds grouped by ``analysis_district_id``, then refit
    on all school-years to score the latest year.

    Parameters
    ----------
    data
        The school-year panel joined with the hierarchy, with the 4725 columns
        (or a Dataset).
    features
        Indicator ids; default :data:`DEFAULT_FEATURES`.
    folds
        Cross-validation folds at most (fewer when there are fewer districts).
    seed
        Seed of the permutation importance.

    Returns
    -------
    AtRisk
        Scores, calibration, importance, out-of-fold predictions and the
        internal at-risk list.

    Raises
    ------
    KeyError
        ``data`` lacks a column the framework or the context needs.
    ValueError
        Too few school-years with a next year, or only one outcome class.

    Example
    -------
    >>> result = typology.at_risk(data)  # doctest: +SKIP
    >>> record.internal("at-risk list names schools", lang=lang)  # doctest: +SKIP
    >>> plots.risk_plots(result, lang=lang)  # doctest: +SKIP
    """
    from sklearn.calibration import calibration_curve
    from sklearn.inspection import permutation_importance
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import average_precision_score, roc_auc_score
    from sklearn.model_selection import GroupKFold, cross_val_predict
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    features = features or DEFAULT_FEATURES
    design = _design(data, features)
    columns = [c for c in features if c in design.columns] + ["level_now"]
    train = design.dropna(subset=[*columns, "level_next"])
    X = train[columns].astype(float).to_numpy()
    y = (train["level_next"] == 1).astype(int).to_numpy()
    groups = train["analysis_district_id"].to_numpy()
    splitter = GroupKFold(n_splits=min(folds, len(set(groups))))
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
    risk = cross_val_predict(model, X, y, groups=groups, cv=splitter, method="predict_proba")[:, 1]
    auc = float(roc_auc_score(y, risk))
    ap = float(average_precision_score(y, risk))
    base_X = OneHotEncoder(sparse_output=False, handle_unknown="ignore").fit_transform(
        train[["area_type"]].astype(str)
    )
    base = cross_val_predict(
        LogisticRegression(max_iter=1000),
        base_X,
        y,
        groups=groups,
        cv=splitter,
        method="predict_proba",
    )[:, 1]
    baseline_auc = float(roc_auc_score(y, base))
    observed, predicted = calibration_curve(y, risk, n_bins=8, strategy="quantile")
    calibration = pd.DataFrame({"predicted": predicted, "observed": observed})
    fitted = model.fit(X, y)
    perm = permutation_importance(fitted, X, y, scoring="roc_auc", n_repeats=5, random_state=seed)
    importance = pd.DataFrame(
        {"feature": columns, "importance": perm.importances_mean, "std": perm.importances_std}
    ).sort_values("importance", ascending=False)
    predictions = train[["school_id", "year", "analysis_district_id"]].assign(risk=risk, outcome=y)
    latest = design["year"].max()
    now = design[design["year"] == latest].dropna(subset=columns)
    now = now.assign(risk=fitted.predict_proba(now[columns].astype(float).to_numpy())[:, 1])
    listing = (
        now[["school_id", "school_name", "analysis_district_id", "year", "level_now", "risk"]]
        .sort_values("risk", ascending=False)
        .reset_index(drop=True)
        .assign(mark=INTERNAL)
    )
    return AtRisk(
        auc,
        ap,
        baseline_auc,
        calibration,
        importance.reset_index(drop=True),
        predictions.reset_index(drop=True),
        listing,
    )
