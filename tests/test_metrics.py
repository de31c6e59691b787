"""Evaluation figures: the 95% intervals that come with PR-AUC, recall at precision 0.90 and
Webis answer F1 resample whole articles, are reproducible, and agree with scikit-learn."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import average_precision_score, precision_recall_curve

from pipeline.evaluate import _RankedScores, metrics_by_source


def _predictions(n_articles: int, *, noise: float, positives: int = 2, every: int = 1, seed: int = 0,
                 source: str = "team") -> pd.DataFrame:
    """Eight paragraphs per article, ``positives`` of them promotional in every ``every``-th article."""
    rng = np.random.default_rng(seed)
    rows = []
    for a in range(n_articles):
        for p in range(8):
            truth = int(p < positives and a % every == 0)
            rows.append({"source": source, "article": f"art-{a}", "group": f"art-{a}", "truth": truth,
                         "score": truth + noise * rng.normal()})
    frame = pd.DataFrame(rows)
    frame["flagged"] = frame["score"] >= 0.5
    return frame


def test_intervals_hold_the_figure_and_are_reproducible():
    frame = _predictions(40, noise=0.6)
    m = metrics_by_source(frame)["team"]
    for key in ("pr_auc", "recall_at_precision_90"):
        low, high = m[f"{key}_ci95"]
        assert low < high and low <= m[key] <= high
    assert metrics_by_source(frame)["team"]["pr_auc_ci95"] == m["pr_auc_ci95"]


def test_intervals_narrow_with_more_articles_and_vanish_with_perfect_scores():
    width = [np.diff(metrics_by_source(_predictions(n, noise=0.6))["team"]["pr_auc_ci95"])[0] for n in (20, 320)]
    assert width[1] < width[0] / 2
    assert metrics_by_source(_predictions(30, noise=0.0))["team"]["pr_auc_ci95"] == [1.0, 1.0]


def test_intervals_resample_articles_not_paragraphs():
    """Paragraphs of one article share its errors: resampling articles must see that, which
    resampling paragraphs one by one would hide."""
    frame = _predictions(40, noise=0.4, positives=4)
    hard = frame["article"].isin([f"art-{a}" for a in range(8)]) & frame["truth"].eq(1)
    frame.loc[hard, "score"] = -1.0  # whole articles whose promotion is missed together
    by_article = np.diff(metrics_by_source(frame)["team"]["pr_auc_ci95"])[0]
    by_paragraph = np.diff(metrics_by_source(frame.assign(group=np.arange(len(frame)).astype(str)))["team"]["pr_auc_ci95"])[0]
    assert by_article > 1.3 * by_paragraph


def test_one_article_has_no_interval():
    m = metrics_by_source(_predictions(1, noise=0.6))["team"]
    assert "pr_auc" in m and m["pr_auc_ci95"] is None


def test_webis_answer_f1_has_an_interval_over_products():
    frame = _predictions(60, noise=0.8, every=2, source="webis")
    answer = metrics_by_source(frame)["webis"]["answer_level"]
    low, high = answer["f1_ci95"]
    assert low <= answer["f1"] <= high and low < high


@pytest.mark.parametrize("seed", [0, 1])
def test_ranked_curve_matches_scikit_learn_with_weights_and_ties(seed):
    rng = np.random.default_rng(seed)
    y = rng.random(500) < 0.2
    scores = np.round(rng.random(500) + y * 0.5, 1)  # rounded: many tied scores
    weights = rng.integers(0, 4, 500).astype(float)
    ranked = _RankedScores(y, scores)
    assert ranked.average_precision(weights) == pytest.approx(average_precision_score(y, scores, sample_weight=weights))
    assert ranked.average_precision(np.ones(500)) == pytest.approx(average_precision_score(y, scores))
    precision, recall, _ = precision_recall_curve(y, scores)
    assert ranked.recall_at_precision(np.ones(500)) == pytest.approx(recall[precision >= 0.90].max())
