"""Pages follow the spec's roles: the evaluation names its treatment, comparison, outcome and
what its weighting balances; the links page's heading names the roles the dataset has."""

from __future__ import annotations

import re

import pytest

from analysis import datasets, evaluation, evaluation_text, links
from analysis.runner import frontpage


@pytest.fixture(scope="module")
def star():
    return datasets.load("star")


def _weighted(star, cluster=None):
    frame = star.data[star.data["regular_aide"] == 0]
    covariates = ["free_lunch", "boy", "african_american"]
    return frame, evaluation.weighting(
        frame, outcome="score", treatment="small_class", covariates=covariates, cluster=cluster
    )


def test_the_star_evaluation_names_what_it_compares(star):
    frame, weighted = _weighted(star, cluster="school_id")
    n = int(
        frame.dropna(subset=["score", "free_lunch", "boy", "african_american"])[
            "school_id"
        ].nunique()
    )
    text = evaluation_text.weighting_sentences(
        weighted,
        spec=star.spec,
        treatment="small_class",
        outcome="score",
        covariates=["free_lunch", "boy", "african_american"],
        clusters=("school_id", n),
        lang="vi",
    )
    page = "\n".join(text)
    assert text[0] == "## Đánh giá: Lớp sĩ số nhỏ so với lớp thường (không có trợ giảng)"
    assert "thí nghiệm" in page and "học sinh được phân ngẫu nhiên vào lớp sĩ số nhỏ" in page
    assert "đặc điểm của học sinh (được ăn trưa miễn phí, nam và người Mỹ gốc Phi)" in page
    assert "đặc điểm trường" not in page and "tổng điểm đọc và toán (mẫu giáo)" in page
    assert f"(trường, {n} cụm)" in page
    # Vietnamese number style: a decimal comma, never "13.989" (thirteen thousand to a reader)
    effect = re.search(r"giảng\): (\S+) \(khoảng", page).group(1)
    assert re.fullmatch(r"1[34],\d{3}", effect), effect
    english = "\n".join(
        evaluation_text.weighting_sentences(
            weighted,
            spec=star.spec,
            treatment="small_class",
            outcome="score",
            covariates=["boy"],
            lang="en",
        )
    )
    assert "Evaluation: Small class against regular class (no aide)" in english
    assert re.search(r"aide\): 1[34]\.\d{3} \(95% interval", english)


def test_the_front_page_states_a_one_off_comparison():
    figures = {"effect_weighted": 13.9889, "effect_conf_low": 5.568, "effect_conf_high": 22.409,
               "treated_group": "Lớp sĩ số nhỏ", "comparison_group": "Lớp thường",
               "outcome": "Tổng điểm đọc và toán"}  # fmt: skip
    (line,) = frontpage.evaluation_text(figures, "vi")
    assert line.startswith("Lớp sĩ số nhỏ so với lớp thường: chênh lệch ước tính về tổng điểm")
    assert "13,989 (khoảng tin cậy 95%: 5,568 đến 22,409)" in line
    zero = frontpage.evaluation_text({**figures, "effect_conf_low": -1.0}, "en")
    assert len(zero) == 2 and "contains zero" in zero[1]


def test_the_links_heading_follows_the_roles(star):
    result = links.from_spec(star, model="ols", lang="vi")
    heading = links.describe_title(result, star.spec, "vi")
    assert heading.startswith("Lớp sĩ số nhỏ, ") and "tổng điểm đọc và toán" in heading
    assert "hạ tầng" not in heading and "bồi dưỡng giáo viên" not in heading
    ma = datasets.load("maschools")
    english = links.describe_title(links.from_spec(ma, model="ols", lang="en"), ma.spec, "en")
    assert "teacher training" not in english and english.endswith(": link analysis")
