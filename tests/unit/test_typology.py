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
    assert sum(groups.sizes.values()) == len(groups.labels)
    assert set(groups.names) == set(groups.profile.index)
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
