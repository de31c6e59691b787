"""Labelled paragraphs from every data source, in one table shape.

Sources:

- ``team``: articles the team wrote (``corpus/articles/``) with labels in ``corpus/labels/``;
- ``seeds``: the five seed articles, read from ``../shared/seeds``, labelled in ``corpus/labels/``;
- ``webis``: Webis Generated Native Ads 2024 (validation split), one answer per article, the
  inserted ad's span marking the promotional paragraph;
- ``medquad``: MedQuAD consumer-health answers, all informational, one NIH document per article.

Each loader returns a :data:`PARAGRAPH_TABLE` DataFrame: one row per paragraph, as the scoring
path would segment it, with ``label`` 1 for promotional, ``promo_start``/``promo_end`` for the
promotional part when only part of it promotes (offsets in the article), and ``group``, the unit
that cross-validation must keep in one fold (an article, or for Webis an advertised product with
every answer about it and each answer's ad-free twin).
"""

from __future__ import annotations

import hashlib
import json
import random
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from .config import ARTICLES_DIR, LABELS_DIR, MEDQUAD_PATH, PROMOTIONAL, SEEDS_DIR, WEBIS_PATH
from .ingest import Article, article_from_text, discover, read_articles

__all__ = [
    "SOURCES",
    "PARAGRAPH_TABLE",
    "text_hash",
    "read_label_files",
    "article_table",
    "load_team",
    "load_seeds",
    "load_webis",
    "load_medquad",
    "load_sources",
    "load_imported",
    "read_article_at",
    "available_sources",
]

SOURCES = ("team", "seeds", "webis", "medquad")
PARAGRAPH_TABLE = [
    "source", "article", "group", "index", "count", "start", "end", "text", "kind",
    "label", "promo_start", "promo_end",
]


def text_hash(text: str) -> str:
    """Short stable hash of a paragraph's text, stored with labels to catch stale offsets."""
    return hashlib.sha1(text.encode("utf-8", "surrogatepass")).hexdigest()[:16]


def read_label_files(paths: Iterable[Path]) -> pd.DataFrame:
    """Read label JSONL files (one labelled paragraph per line) into a DataFrame."""
    records = []
    for path in paths:
        with open(path, encoding="utf-8") as handle:
            for number, line in enumerate(handle, 1):
                if line.strip():
                    record = json.loads(line)
                    record.setdefault("file", path.name)
                    record.setdefault("line", number)
                    records.append(record)
    return pd.DataFrame.from_records(records)


def article_table(
    article: Article,
    *,
    source: str,
    group: str | None = None,
    spans: Iterable[tuple[int, int, int | None, int | None]] = (),
) -> list[dict]:
    """Rows for one article's paragraphs, labelled by the spans that overlap them.

    ``spans`` are ``(start, end, promo_start, promo_end)`` of promotional labels in article
    offsets; a paragraph is promotional when it overlaps the promotional part of one.
    """
    promo = [(ps if ps is not None else s, pe if pe is not None else e) for s, e, ps, pe in spans]
    rows = []
    for index, para in enumerate(article.paragraphs):
        hit = [(s, e) for s, e in promo if s < para.end and e > para.start]
        part = None
        if hit:
            lo, hi = max(para.start, min(s for s, _ in hit)), min(para.end, max(e for _, e in hit))
            if (lo, hi) != (para.start, para.end):
                part = (lo, hi)
        rows.append(
            {
                "source": source,
                "article": article.id,
                "group": group or f"{source}:{article.id}",
                "index": index,
                "count": len(article.paragraphs),
                "start": para.start,
                "end": para.end,
                "text": article.text[para.start:para.end],
                "kind": para.kind,
                "label": int(bool(hit)),
                "promo_start": part[0] if part else None,
                "promo_end": part[1] if part else None,
            }
        )
    return rows


def _labelled_folder(source: str, folder: Path, labels: pd.DataFrame) -> pd.DataFrame:
    if labels.empty:
        return pd.DataFrame(columns=PARAGRAPH_TABLE)
    labels = labels[labels["corpus"] == source]
    by_article = {name: frame for name, frame in labels.groupby("article")}
    rows: list[dict] = []
    files = [(path, rel) for path, rel in discover([folder]) if rel in by_article]
    for article in read_articles(files):
        if not article.ok:
            raise ValueError(f"labelled article {article.id} cannot be read: {article.error}")
        frame = by_article[article.id]
        frame = frame[frame["label"] == PROMOTIONAL]
        spans = [
            (int(r.start), int(r.end), _maybe_int(r.get("promo_start")), _maybe_int(r.get("promo_end")))
            for _, r in frame.iterrows()
        ]
        rows.extend(article_table(article, source=source, spans=spans))
    return pd.DataFrame(rows, columns=PARAGRAPH_TABLE)


def _maybe_int(value) -> int | None:
    return None if value is None or pd.isna(value) else int(value)


def _label_frame(labels_dir: Path) -> pd.DataFrame:
    return read_label_files(sorted(labels_dir.glob("*.jsonl")))


def _catalog_topics(corpus_dir: Path) -> dict[str, str]:
    """Each article's topic from the corpus's ``catalog.csv`` (none without one)."""
    path = corpus_dir / "catalog.csv"
    if not path.is_file():
        return {}
    catalog = pd.read_csv(path, usecols=["article", "topic"], dtype=str)
    return dict(zip(catalog["article"], catalog["topic"]))


def load_team(*, articles_dir: Path = ARTICLES_DIR, labels_dir: Path = LABELS_DIR) -> pd.DataFrame:
    """Paragraphs of the team corpus with their labels, and each article's ``topic`` where the
    corpus's ``catalog.csv`` (beside ``articles/``) names one."""
    frame = _labelled_folder("team", articles_dir, _label_frame(labels_dir))
    frame["topic"] = frame["article"].map(_catalog_topics(articles_dir.parent))
    return frame


def load_seeds(*, seeds_dir: Path = SEEDS_DIR, labels_dir: Path = LABELS_DIR) -> pd.DataFrame:
    """Paragraphs of the seed articles (read from ``../shared/seeds``) with their labels."""
    if not seeds_dir.is_dir():
        return pd.DataFrame(columns=PARAGRAPH_TABLE)
    return _labelled_folder("seeds", seeds_dir, _label_frame(labels_dir))


def _span(value: str | None) -> tuple[int, int] | None:
    if not value:
        return None
    start, end = value.strip("() ").split(",")
    return int(start), int(end)


def load_webis(path: Path = WEBIS_PATH, *, limit: int | None = None, seed: int = 0) -> pd.DataFrame:
    """Webis native-ads answers; groups keep an advertised product and all ad-free twins together."""
    if not path.is_file():
        return pd.DataFrame(columns=PARAGRAPH_TABLE)
    records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    product_of: dict[str, str] = {}
    for record in records:
        if record.get("label") == 1 and record.get("advertisement"):
            product_of[record["id"].rsplit("-", 1)[0]] = record["advertisement"]
    if limit is not None and limit < len(records):
        records = random.Random(seed).sample(records, limit)
    rows: list[dict] = []
    for record in records:
        stem = record["id"].rsplit("-", 1)[0]
        group = f"webis:{product_of.get(stem, stem)}"
        article = article_from_text(record["id"], record["response"])
        if not article.ok:
            continue
        span = _span(record.get("span")) if record.get("label") == 1 else None
        spans = [(span[0], span[1], None, None)] if span else []
        for row in article_table(article, source="webis", group=group, spans=spans):
            row["topic"] = record.get("meta_topic")
            rows.append(row)
    return pd.DataFrame(rows, columns=PARAGRAPH_TABLE + ["topic"])


def load_medquad(path: Path = MEDQUAD_PATH, *, limit_groups: int | None = None, seed: int = 0) -> pd.DataFrame:
    """MedQuAD answers, one NIH document per article, all paragraphs informational."""
    if not path.is_file():
        return pd.DataFrame(columns=PARAGRAPH_TABLE)
    units: dict[str, list[str]] = defaultdict(list)
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            record = json.loads(line)
            units[record["group"]].append(record["text"])
    groups = sorted(units)
    if limit_groups is not None and limit_groups < len(groups):
        groups = sorted(random.Random(seed).sample(groups, limit_groups))
    rows: list[dict] = []
    for group in groups:
        article = article_from_text(group, "\n\n".join(units[group]))
        if article.ok:
            rows.extend(article_table(article, source="medquad", group=group))
    return pd.DataFrame(rows, columns=PARAGRAPH_TABLE)


def read_article_at(source: str) -> Article | None:
    """The article at ``source`` (a file path, or ``file.jsonl:LINE``), if it can be read."""
    path, _, line = source.rpartition(":")
    if not (path.endswith(".jsonl") and line.isdigit()):
        path = source
    if not Path(path).is_file():
        return None
    for article in read_articles(discover([path])):
        if path == source or article.source == source:
            return article if article.ok else None
    return None


def _paragraph_at(article: Article, start: int, text: str):
    for index, para in enumerate(article.paragraphs):
        if para.start == start and article.text[para.start:para.end] == text:
            return index, para
    return None


def load_imported(paths: Iterable[Path]) -> pd.DataFrame:
    """Labels imported by ``promoflag import-labels`` (files in the label store's format).

    Each labelled paragraph becomes a one-paragraph article of source ``imported``, grouped by
    its article when it has one (so cross-validation keeps an article's labels together).
    """
    frame = read_label_files(list(paths))
    if frame.empty:
        return pd.DataFrame(columns=PARAGRAPH_TABLE)
    if "text" not in frame:
        raise ValueError("label files given to --labels must come from `promoflag import-labels` (they carry the text)")
    rows = []
    articles: dict[str, Article | None] = {}
    for record in frame.to_dict("records"):
        text = str(record["text"])
        key = record.get("article") or f"text:{text_hash(text)}"
        row = {
            "source": "imported", "article": f"{key}@{record.get('start')}", "group": f"imported:{key}",
            "index": 0, "count": 1, "start": 0, "end": len(text), "text": text, "kind": "paragraph",
            "label": int(record["label"] == PROMOTIONAL), "promo_start": None, "promo_end": None,
        }
        source = record.get("source")
        if isinstance(source, str) and source and _maybe_int(record.get("start")) is not None:
            if source not in articles:
                articles[source] = read_article_at(source)
            article = articles[source]
            place = _paragraph_at(article, int(record["start"]), text) if article else None
            if place is not None:  # in its article: the real position, kind and offsets
                index, para = place
                row.update(article=source, index=index, count=len(article.paragraphs),
                           start=para.start, end=para.end, kind=para.kind)
        rows.append(row)
    return pd.DataFrame(rows, columns=PARAGRAPH_TABLE)


def available_sources() -> list[str]:
    """Sources whose data is present on this machine."""
    present = {
        "team": ARTICLES_DIR.is_dir() and any(LABELS_DIR.glob("*.jsonl")),
        "seeds": SEEDS_DIR.is_dir(),
        "webis": WEBIS_PATH.is_file(),
        "medquad": MEDQUAD_PATH.is_file(),
    }
    return [name for name in SOURCES if present[name]]


def load_sources(
    names: Iterable[str],
    *,
    corpus_dir: Path | None = None,
    medquad_groups: int | None = 1500,
    webis_limit: int | None = None,
) -> pd.DataFrame:
    """Concatenate the named sources into one paragraph table.

    ``corpus_dir`` replaces ``corpus/`` (a folder holding ``articles/`` and ``labels/``).
    """
    articles_dir = corpus_dir / "articles" if corpus_dir else ARTICLES_DIR
    labels_dir = corpus_dir / "labels" if corpus_dir else LABELS_DIR
    loaders = {
        "team": lambda: load_team(articles_dir=articles_dir, labels_dir=labels_dir),
        "seeds": lambda: load_seeds(labels_dir=labels_dir),
        "webis": lambda: load_webis(limit=webis_limit),
        "medquad": lambda: load_medquad(limit_groups=medquad_groups),
    }
    frames = []
    for name in names:
        if name not in loaders:
            raise ValueError(f"unknown source {name!r}; choose from {', '.join(SOURCES)}")
        frames.append(loaders[name]())
    frames = [f for f in frames if not f.empty]
    if not frames:
        return pd.DataFrame(columns=PARAGRAPH_TABLE)
    return pd.concat(frames, ignore_index=True)
