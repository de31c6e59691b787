"""Helpers the notebooks share: load a scoring run, summarise it, draw it.

Kept here rather than in notebook cells so that both notebooks (and anyone's own analysis) use
one tested implementation.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from .config import PROMOTIONAL

__all__ = ["load_run", "flagged_passages", "score_summary", "plot_scores"]


def load_run(run_dir: str | Path) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """The paragraph table, article table and run metadata of a ``promoflag score`` output."""
    run_dir = Path(run_dir)
    paragraphs = pd.read_json(run_dir / "paragraphs.jsonl", lines=True, dtype={"article": str})
    articles = pd.read_csv(run_dir / "articles.csv", dtype={"article": str}, keep_default_na=False)
    meta_path = run_dir / "run.json"
    meta = json.loads(meta_path.read_text(encoding="utf-8")) if meta_path.is_file() else {}
    return paragraphs, articles, meta


def flagged_passages(paragraphs: pd.DataFrame) -> pd.DataFrame:
    """Flagged paragraphs, highest score first, with their cues and selling sentences as text."""
    flagged = paragraphs[paragraphs["label"] == PROMOTIONAL].copy()
    flagged["cues"] = flagged["cues"].map("; ".join)
    flagged["n_sentences"] = flagged["sentences"].map(len)
    return flagged.sort_values("score", ascending=False)[["article", "paragraph", "score", "text", "cues", "n_sentences"]]


def score_summary(paragraphs: pd.DataFrame) -> pd.DataFrame:
    """Per article: paragraphs, flagged paragraphs, mean, median and maximum score."""
    grouped = paragraphs.groupby("article")
    return pd.DataFrame({
        "paragraphs": grouped.size(),
        "flagged": grouped["label"].apply(lambda s: int((s == PROMOTIONAL).sum())),
        "mean_score": grouped["score"].mean().round(3),
        "median_score": grouped["score"].median().round(3),
        "max_score": grouped["score"].max().round(3),
    }).sort_values("max_score", ascending=False)


def plot_scores(paragraphs: pd.DataFrame, threshold: float, ax=None):
    """Strip plot of paragraph scores per article, with the decision threshold."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(8, 0.45 * paragraphs["article"].nunique() + 1.5))
    order = paragraphs.groupby("article")["score"].max().sort_values().index
    for y, article in enumerate(order):
        scores = paragraphs.loc[paragraphs["article"] == article, "score"]
        colours = ["tab:red" if s >= threshold else "tab:blue" for s in scores]
        ax.scatter(scores, [y] * len(scores), c=colours, s=18, alpha=0.7)
    ax.axvline(threshold, color="black", linestyle="--", linewidth=1, label=f"threshold {threshold:.2f}")
    ax.set_yticks(range(len(order)), order)
    ax.set_xlabel("promotional score")
    ax.set_xlim(0, 1)
    ax.legend(loc="lower right")
    return ax
