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

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from sklearn.metrics import average_precision_score, precision_recall_curve
from sklearn.model_selection import GroupKFold

from .config import PROMOTIONAL
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


def _recall_at_precision(y: np.ndarray, scores: np.ndarray, target: float = 0.90) -> float:
    precision, recall, _ = precision_recall_curve(y, scores)
    ok = precision >= target
    return float(recall[ok].max()) if ok.any() else 0.0


def _prf(y: np.ndarray, flagged: np.ndarray) -> tuple[float, float, float]:
    tp = int((y & flagged).sum())
    precision = tp / flagged.sum() if flagged.sum() else 0.0
    recall = tp / y.sum() if y.sum() else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def _source_metrics(frame: pd.DataFrame) -> dict:
    y = frame["truth"].to_numpy(dtype=bool)
    scores = frame["score"].to_numpy(dtype=float)
    flagged = frame["flagged"].to_numpy(dtype=bool)
    out: dict = {
        "paragraphs": int(len(frame)),
        "promotional": int(y.sum()),
        "flagged": int(flagged.sum()),
        "flagged_share": round(float(flagged.mean()), 4) if len(frame) else 0.0,
    }
    if 0 < y.sum() < len(y):
        precision, recall, f1 = _prf(y, flagged)
        out.update(
            pr_auc=round(float(average_precision_score(y, scores)), 4),
            precision=round(precision, 4),
            recall=round(recall, 4),
            f1=round(f1, 4),
            recall_at_precision_90=round(_recall_at_precision(y, scores), 4),
        )
    if (frame["source"] == "webis").all() and len(frame):
        answers = frame.groupby("article").agg(truth=("truth", "max"), flagged=("flagged", "max"), score=("score", "max"))
        ya, fa = answers["truth"].to_numpy(dtype=bool), answers["flagged"].to_numpy(dtype=bool)
        precision, recall, f1 = _prf(ya, fa)
        out["answer_level"] = {
            "answers": int(len(answers)),
            "precision": round(precision, 4),
            "recall": round(recall, 4),
            "f1": round(f1, 4),
            "pr_auc": round(float(average_precision_score(ya, answers["score"])), 4) if 0 < ya.sum() < len(ya) else None,
        }
    return out


def metrics_by_source(predictions: pd.DataFrame) -> dict:
    """Per-source metrics of a prediction table from :func:`cross_validate` or
    :func:`leave_one_source_out`: PR-AUC, precision, recall, F1 at the fold's threshold,
    recall at precision 0.90, and for Webis answer-level figures."""
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
