"""Honest measurement: grouped cross-validation and leave-one-source-out.

Every split keeps a group whole: an article (team corpus, seeds, MedQuAD document), or for Webis an
advertised product together with every answer about it and each answer's ad-free twin. Each fold
runs the whole of :func:`pipeline.train.fit` on its training part, thresholds included, so
nothing measured on a test part was tuned on it. A paragraph counts as flagged at the threshold
its fold's model chose.
"""

from __future__ import annotations

from collections.abc import Sequence
from fnmatch import fnmatch
from functools import partial

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from sklearn.metrics import average_precision_score
from sklearn.model_selection import GroupKFold

from .config import BOOTSTRAP_RESAMPLES, PROMOTIONAL
from .train import TrainingSet, fit

__all__ = [
    "cross_validate",
    "leave_articles_out",
    "leave_one_source_out",
    "metrics_by_source",
    "score_subset",
    "seed_acceptance",
]


def score_subset(model, data: TrainingSet, mask: np.ndarray) -> pd.DataFrame:
    """Score the paragraphs of ``data`` selected by ``mask`` with a fitted model."""
    part = data.subset(mask)
    scored = model.finish(part.paragraphs, part.units, part.X)
    scored["source"] = part.paragraphs["source"].to_numpy()
    scored["group"] = part.paragraphs["group"].to_numpy()
    scored["truth"] = part.y_paragraph
    scored["flagged"] = scored["label"] == PROMOTIONAL
    scored["threshold"] = model.threshold
    return scored


def _run_fold(data: TrainingSet, train_mask: np.ndarray, fit_kwargs: dict) -> pd.DataFrame:
    model, _ = fit(data.subset(train_mask), **fit_kwargs)
    return score_subset(model, data, ~train_mask)


def cross_validate(
    data: TrainingSet, *, folds: int = 5, n_jobs: int = 1, fit_kwargs: dict | None = None
) -> pd.DataFrame:
    """Out-of-fold predictions for every paragraph, folds grouped by ``group``; ``fit_kwargs``
    go to :func:`pipeline.train.fit` in every fold."""
    groups = data.paragraphs["group"].to_numpy()
    n_splits = max(2, min(folds, len(np.unique(groups))))
    masks = []
    for train, _ in GroupKFold(n_splits=n_splits).split(groups, groups=groups):
        mask = np.zeros(len(groups), dtype=bool)
        mask[train] = True
        masks.append(mask)
    parts = Parallel(n_jobs=n_jobs)(delayed(_run_fold)(data, m, fit_kwargs or {}) for m in masks)
    for fold, part in enumerate(parts):
        part["fold"] = fold
    return pd.concat(parts, ignore_index=True)


def leave_one_source_out(
    data: TrainingSet,
    *,
    sources: Sequence[str] | None = None,
    train_sources: Sequence[str] | None = None,
    n_jobs: int = 1,
    fit_kwargs: dict | None = None,
) -> pd.DataFrame:
    """For each source, train on the training sources other than it and predict it.

    ``train_sources`` (default: every source present) is the mix a model is trained on; a
    source outside the mix is predicted by a model trained on the whole mix.
    """
    present = data.paragraphs["source"].to_numpy()
    sources = [s for s in (sources or sorted(set(present))) if (present == s).any()]
    mix = np.isin(present, list(train_sources)) if train_sources is not None else np.ones(len(present), bool)
    masks = [(mix & (present != source), source) for source in sources]
    masks = [(m, source) for m, source in masks if m.any() and data.y_paragraph[m].any()]
    parts = Parallel(n_jobs=n_jobs)(delayed(_run_fold)(data, m, fit_kwargs or {}) for m, _ in masks)
    for (_, source), part in zip(masks, parts):
        part["held_out"] = source
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


def leave_articles_out(data: TrainingSet, patterns: Sequence[str], *, fit_kwargs: dict | None = None) -> pd.DataFrame:
    """Train without the articles whose file names match any of ``patterns`` (shell-style, e.g.
    ``"p-*"``), whatever their source, and predict them; every article in the same group as a
    matched one (a Webis answer's ad-free twin) is held out with it.

    This asks how a recipe carries over to articles unlike those it learned from, for example a
    new writing round of the team corpus; recipes are chosen on such a split, not on the figures
    that :func:`cross_validate` and :func:`leave_one_source_out` report.
    """
    names = data.paragraphs["article"].astype(str).to_numpy()
    matching = [name for name in np.unique(names) if any(fnmatch(name, pattern) for pattern in patterns)]
    matched = np.isin(names, matching)
    groups = data.paragraphs["group"].to_numpy()
    held = np.isin(groups, groups[matched])
    if not held.any():
        raise ValueError(f"no article matches {', '.join(patterns)}")
    if held.all():
        raise ValueError(f"every article matches {', '.join(patterns)}: nothing would be left to train on")
    return _run_fold(data, ~held, fit_kwargs or {})


def _prf(y: np.ndarray, flagged: np.ndarray, weights: np.ndarray | None = None) -> tuple[float, float, float]:
    """Precision, recall and F1 of ``flagged``; ``weights`` counts each row that many times (a
    bootstrap resample)."""
    w = np.ones(len(y)) if weights is None else weights
    tp, n_flagged, n_true = w @ (y & flagged), w @ flagged, w @ y
    precision = float(tp / n_flagged) if n_flagged else 0.0
    recall = float(tp / n_true) if n_true else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def _f1(y: np.ndarray, flagged: np.ndarray, weights: np.ndarray) -> float:
    return _prf(y, flagged, weights)[2]


class _RankedScores:
    """Scores sorted once, so the precision-recall curve of any bootstrap resample (rows
    weighted by how often the resample drew them) costs two cumulative sums, not a sort."""

    def __init__(self, y: np.ndarray, scores: np.ndarray) -> None:
        order = np.argsort(-scores, kind="stable")
        self.y = y[order].astype(float)
        ranked = scores[order]
        self.order = order
        self.last_of_tie = np.r_[ranked[1:] != ranked[:-1], True]  # one curve point per distinct score

    def curve(self, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        w = weights[self.order]
        tp = np.cumsum(w * self.y)[self.last_of_tie]
        seen = np.cumsum(w)[self.last_of_tie]
        kept = seen > 0
        return tp[kept] / seen[kept], tp[kept] / tp[-1]

    def average_precision(self, weights: np.ndarray) -> float:
        precision, recall = self.curve(weights)
        return float(np.sum(np.diff(np.r_[0.0, recall]) * precision))

    def recall_at_precision(self, weights: np.ndarray, target: float = 0.90) -> float:
        precision, recall = self.curve(weights)
        ok = precision >= target
        return float(recall[ok].max()) if ok.any() else 0.0


def _grouped_interval(
    statistic, y: np.ndarray, groups: np.ndarray, *, n_resamples: int = BOOTSTRAP_RESAMPLES, seed: int = 0
) -> list[float] | None:
    """95% percentile interval of ``statistic(row_weights)`` over bootstrap resamples of whole
    groups (articles, or Webis products with their twins: the unit the splits keep together).
    ``None`` with fewer than two groups. Resamples without both labels are skipped, as the
    statistic is undefined there."""
    codes, members = np.unique(groups, return_inverse=True)
    if len(codes) < 2:
        return None
    rng = np.random.default_rng(seed)
    values = []
    for _ in range(n_resamples):
        weights = np.bincount(rng.integers(0, len(codes), len(codes)), minlength=len(codes))[members].astype(float)
        positives = weights @ y
        if 0 < positives < weights.sum():
            values.append(statistic(weights))
    if not values:
        return None
    low, high = np.percentile(values, [2.5, 97.5])
    return [round(float(low), 4), round(float(high), 4)]


def _groups(frame: pd.DataFrame) -> np.ndarray:
    return frame["group" if "group" in frame else "article"].astype(str).to_numpy()


def _source_metrics(frame: pd.DataFrame) -> dict:
    y = frame["truth"].to_numpy(dtype=bool)
    scores = frame["score"].to_numpy(dtype=float)
    flagged = frame["flagged"].to_numpy(dtype=bool)
    groups = _groups(frame)
    out: dict = {
        "paragraphs": int(len(frame)),
        "promotional": int(y.sum()),
        "flagged": int(flagged.sum()),
        "flagged_share": round(float(flagged.mean()), 4) if len(frame) else 0.0,
    }
    if 0 < y.sum() < len(y):
        precision, recall, f1 = _prf(y, flagged)
        ranked = _RankedScores(y, scores)
        out.update(
            pr_auc=round(float(average_precision_score(y, scores)), 4),
            precision=round(precision, 4),
            recall=round(recall, 4),
            f1=round(f1, 4),
            recall_at_precision_90=round(ranked.recall_at_precision(np.ones(len(y))), 4),
            pr_auc_ci95=_grouped_interval(ranked.average_precision, y, groups),
            recall_at_precision_90_ci95=_grouped_interval(ranked.recall_at_precision, y, groups),
        )
    if (frame["source"] == "webis").all() and len(frame):
        answers = frame.assign(group=groups).groupby("article").agg(
            truth=("truth", "max"), flagged=("flagged", "max"), score=("score", "max"), group=("group", "first")
        )
        ya, fa = answers["truth"].to_numpy(dtype=bool), answers["flagged"].to_numpy(dtype=bool)
        precision, recall, f1 = _prf(ya, fa)
        out["answer_level"] = {
            "answers": int(len(answers)),
            "precision": round(precision, 4),
            "recall": round(recall, 4),
            "f1": round(f1, 4),
            "f1_ci95": _grouped_interval(partial(_f1, ya, fa), ya, answers["group"].to_numpy()),
            "pr_auc": round(float(average_precision_score(ya, answers["score"])), 4) if 0 < ya.sum() < len(ya) else None,
        }
    return out


def metrics_by_source(predictions: pd.DataFrame) -> dict:
    """Per-source metrics of a prediction table from :func:`cross_validate` or
    :func:`leave_one_source_out`: PR-AUC, precision, recall, F1 at the fold's threshold,
    recall at precision 0.90, and for Webis answer-level figures. PR-AUC, recall at precision
    0.90 and Webis answer F1 come with a 95% interval (``*_ci95``) from resampling whole groups
    (articles, Webis products), so two figures can be told apart from noise."""
    return {str(source): _source_metrics(frame) for source, frame in predictions.groupby("source")}


SEED_PROMOTIONAL_PASSAGES = {
    "RollKit section": ("000_94a0d6a11492c347.txt", ("Improve Your Recovery", "While the clinical application")),
    "DISCO BEARS section": ("004_c22bbb8edec9e742.txt", ("DISCO BEARS: A Different", "DISCO BEARS offers", "Micro dosing involves")),
    "Premium products available here": ("004_c22bbb8edec9e742.txt", ("For those interested in exploring",)),
    "Start Your Journey to Healing Today": ("003_252837e2f5f33b9c.txt", ("Start Your Journey to Healing Today",)),
}
SEED_CLEAN_ARTICLES = ("001_d786ecf54ecddeb4.txt", "002_58ae7393e0773bd3.txt")


def seed_acceptance(scored: pd.DataFrame) -> dict:
    """The seed checks of the acceptance criteria on scored seed paragraphs: which required
    promotional passages were flagged, and how many paragraphs of the clean articles were."""
    passages = {}
    for name, (article, openings) in SEED_PROMOTIONAL_PASSAGES.items():
        rows = scored[scored["article"] == article]
        hits = [bool(rows[rows["text"].str.startswith(o)]["label"].eq(PROMOTIONAL).all()) and
                rows["text"].str.startswith(o).any() for o in openings]
        passages[name] = all(hits)
    clean = {
        article: int(scored[(scored["article"] == article) & (scored["label"] == PROMOTIONAL)].shape[0])
        for article in SEED_CLEAN_ARTICLES
    }
    return {
        "required_flagged": passages,
        "flagged_in_clean_articles": clean,
        "passed": all(passages.values()) and not any(clean.values()),
    }
