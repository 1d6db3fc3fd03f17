"""School profiles and at-risk prediction on the synthetic province."""

from __future__ import annotations

import pytest

from analysis.data import datasets
from analysis.models import typology
from analysis.report import plots


@pytest.fixture(scope="module")
def data(realistic_ingested):
    return datasets.load("thai_nguyen_synthetic", processed=realistic_ingested[2])


def test_profiles_choose_k_by_silhouette_and_report_stability(data):
    groups = typology.profiles(data, year=2025, k_range=range(2, 5), seeds=range(3))
    assert groups.k == max(groups.silhouettes, key=groups.silhouettes.get)
    assert set(groups.silhouettes) == {2, 3, 4}
    assert 0 <= groups.stability <= 1
    # Judged against the panel, not against the labels the sizes are counted from: every
    # group 0..k-1 is named and non-empty, and the labelled schools are the panel's 2025
    # schools, each once, losing at most the few with a feature missing.
    frame = data.data
    schools_2025 = set(frame.loc[frame["year"] == 2025, "school_id"])
    assert groups.labels.index.is_unique
    assert set(groups.labels.index) <= schools_2025
    assert len(groups.labels) >= 0.9 * len(schools_2025)
    assert set(groups.names) == set(range(groups.k)) == set(groups.sizes)
    assert min(groups.sizes.values()) > 0
    assert sum(groups.sizes.values()) == len(groups.labels)
    english = typology.profiles(data, year=2025, k_range=range(2, 5), seeds=range(2), lang="en")
    assert all(n for n in english.names.values())
    assert any("strong on" in n or "weak on" in n for n in english.names.values())


def test_at_risk_beats_area_type_and_is_internal(data, report):
    risk = typology.at_risk(data)
    assert risk.auc > risk.baseline_auc + 0.05
    assert 0 < risk.average_precision <= 1
    assert set(risk.at_risk["mark"]) == {typology.INTERNAL}
    assert risk.at_risk["risk"].is_monotonic_decreasing
    assert {"predicted", "observed"} <= set(risk.calibration.columns)
    assert len(risk.importance) == len(typology.DEFAULT_FEATURES) + 1
    # grouped by district: every district's rows were predicted out of fold, exactly once
    assert risk.predictions.duplicated(["school_id", "year"]).sum() == 0
    report(
        f"at-risk (level 1 next year): cross-validated AUC {risk.auc:.3f} by district, "
        f"area-type baseline {risk.baseline_auc:.3f}, "
        f"average precision {risk.average_precision:.3f}"
    )


def test_plots_draw(data):
    import warnings

    import matplotlib

    matplotlib.use("Agg")
    groups = typology.profiles(data, year=2025, k_range=range(2, 4), seeds=range(2))
    risk = typology.at_risk(data)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        for lang in ("vi", "en"):
            plots.profile_heatmap(groups, lang=lang).figure.canvas.draw()
            plots.risk_plots(risk, lang=lang).canvas.draw()


def _flip_next_year(data, district: str, year: int):
    """The district's Decision 4725 self-assessment of ``year + 1`` changed: its outcomes for
    ``year`` flip to level 1, while its ``year`` rows' own predictors stay as they were."""
    frame = data.data.copy()
    here = frame["analysis_district_id"].astype(str) == district
    # schools in the district both years (one that moved districts at the reform would carry
    # the change into another district's training rows, which is fair, not a leak)
    stayed = set(frame.loc[here & (frame["year"] == year), "school_id"]) & set(
        frame.loc[here & (frame["year"] == year + 1), "school_id"]
    )
    rows = here & (frame["year"] == year + 1) & frame["school_id"].isin(stayed)
    frame.loc[rows, "m1_online_teaching_plan"] = False  # a mandatory condition unmet: level 1
    return datasets.Dataset(data.spec, frame, data.excluded, data.tables, data.folder)


@pytest.mark.slow
def test_at_risk_predictions_are_out_of_fold_by_district(data, monkeypatch):
    """A district's predictions cannot depend on its own outcomes; a plain k-fold's do.

    Judged by an invariance, not by reading the splitter: changing one district's outcomes
    (and nothing its predicted rows are computed from) leaves its predictions unchanged.
    """
    district = sorted(data.data["analysis_district_id"].dropna().astype(str))[0]
    year = int(data.data["year"].max()) - 1

    def theirs(result):
        p = result.predictions
        mine = (p["analysis_district_id"].astype(str) == district) & (p["year"] == year)
        return p[mine].sort_values("school_id").reset_index(drop=True)

    before, after = (
        theirs(typology.at_risk(d)) for d in (data, _flip_next_year(data, district, year))
    )
    assert (after["outcome"] != before["outcome"]).sum() > 0  # the outcomes did change
    assert after["risk"].to_numpy() == pytest.approx(before["risk"].to_numpy(), abs=1e-12)

    # the same check on folds that ignore districts: it fails, so it can fail
    import sklearn.model_selection as selection

    class Plain(selection.KFold):
        def __init__(self, n_splits):
            super().__init__(n_splits, shuffle=True, random_state=0)

        def split(self, X, y=None, groups=None):
            return super().split(X, y)

    monkeypatch.setattr(selection, "GroupKFold", Plain)
    before, after = (
        theirs(typology.at_risk(d)) for d in (data, _flip_next_year(data, district, year))
    )
    assert after["risk"].to_numpy() != pytest.approx(before["risk"].to_numpy(), abs=1e-6)
