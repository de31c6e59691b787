"""Scoring articles in bounded batches: the public ``score_*`` functions.

Articles stream from :mod:`pipeline.ingest` into batches of :data:`~pipeline.config.BATCH_ARTICLES`;
each batch is scored by the model in one go (one ``nlp.pipe`` run, one ``predict_proba`` per
stage), so memory depends on the batch, not on the size of the folder.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from itertools import islice
from pathlib import Path

import pandas as pd

from .config import ARTICLE_COLUMNS, BATCH_ARTICLES, PARAGRAPH_COLUMNS, PROMOTIONAL
from .ingest import Article, article_from_text, discover, read_articles
from .model import PromoModel, load_model

__all__ = ["score_texts", "score_folder", "score_batches", "summarise_articles"]


def _batched(items: Iterable[Article], size: int) -> Iterator[list[Article]]:
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch


def score_batches(
    articles: Iterable[Article],
    model: PromoModel,
    *,
    threshold: float | None = None,
    batch_size: int = BATCH_ARTICLES,
) -> Iterator[tuple[list[Article], pd.DataFrame]]:
    """Yield each batch of articles with its scored paragraphs, in input order."""
    for batch in _batched(articles, batch_size):
        yield batch, model.score_articles(batch, threshold=threshold)


def summarise_articles(articles: Sequence[Article], paragraphs: pd.DataFrame) -> pd.DataFrame:
    """One row per article: paragraph count, flagged count, max score, promotional share of
    characters, and the error for articles that could not be read."""
    rows = []
    groups = {key: frame for key, frame in paragraphs.groupby("article", sort=False)} if len(paragraphs) else {}
    for article in articles:
        frame = groups.get(article.id)
        if frame is None or not article.ok:
            rows.append({"article": article.id, "paragraphs": 0, "flagged": 0, "max_score": 0.0,
                         "promotional_share": 0.0, "error": article.error or "no paragraphs"})
            continue
        flagged = frame["label"] == PROMOTIONAL
        lengths = frame["end"] - frame["start"]
        rows.append({
            "article": article.id,
            "paragraphs": int(len(frame)),
            "flagged": int(flagged.sum()),
            "max_score": float(frame["score"].max()),
            "promotional_share": round(float(lengths[flagged].sum() / max(lengths.sum(), 1)), 4),
            "error": "",
        })
    return pd.DataFrame(rows, columns=ARTICLE_COLUMNS)


def _concat(frames: list[pd.DataFrame]) -> pd.DataFrame:
    frames = [f for f in frames if len(f)]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=PARAGRAPH_COLUMNS)


def score_texts(
    texts: Sequence[str] | Mapping[str, str],
    *,
    model: PromoModel | None = None,
    threshold: float | None = None,
    html: bool = False,
) -> pd.DataFrame:
    """Score articles given as strings.

    Parameters
    ----------
    texts:
        Article texts; a mapping gives each its id, a sequence numbers them ``0, 1, ...``.
    model:
        A loaded model; the shipped default when omitted.
    threshold:
        Decision threshold overriding the model's own.
    html:
        Treat the texts as HTML documents.

    Returns
    -------
    pandas.DataFrame
        One row per paragraph with the columns of ``paragraphs.csv``.
    """
    model = model or load_model()
    items = texts.items() if isinstance(texts, Mapping) else ((str(i), t) for i, t in enumerate(texts))
    articles = (article_from_text(str(key), text, is_html=html) for key, text in items)
    return _concat([frame for _, frame in score_batches(articles, model, threshold=threshold)])


def score_folder(
    paths: str | Path | Sequence[str | Path],
    *,
    model: PromoModel | None = None,
    threshold: float | None = None,
) -> pd.DataFrame:
    """Score every article under one or more files or folders (recursively).

    Returns one row per paragraph with the columns of ``paragraphs.csv``; articles that cannot
    be read contribute no rows (the CLI's ``articles.csv`` lists them with the reason).
    """
    model = model or load_model()
    if isinstance(paths, (str, Path)):
        paths = [paths]
    articles = read_articles(discover(paths))
    return _concat([frame for _, frame in score_batches(articles, model, threshold=threshold)])
