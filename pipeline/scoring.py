"""Scoring articles in bounded batches: the public ``score_*`` functions.

Articles stream from :mod:`pipeline.ingest` into batches of :data:`~pipeline.config.BATCH_ARTICLES`;
each batch is scored by the model in one go (one ``nlp.pipe`` run, one ``predict_proba`` per
stage), so memory depends on the batch, not on the size of the folder.

:func:`score_to_folder` is the whole batch job behind ``promoflag score``: it reads, scores and
writes batch by batch, in this process or in worker processes through joblib (``jobs``), or on
a Dask cluster (``backend="dask"``). Every backend runs the same :func:`score_batch` and the
results are written in input order, so the outputs do not depend on where the work ran.
"""

from __future__ import annotations

import os
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from itertools import chain, islice
from pathlib import Path

import pandas as pd

from .config import ARTICLE_COLUMNS, BATCH_ARTICLES, MAX_FILE_BYTES, PARAGRAPH_COLUMNS, PROMOTIONAL
from .ingest import Article, article_from_text, discover, read_articles
from .model import ModelError, PromoModel, default_model_dir, load_model
from .report import FORMATS, RenderedBatch, RunWriter, render_batch

__all__ = [
    "BACKENDS",
    "RunResult",
    "score_texts",
    "score_folder",
    "score_to_folder",
    "score_batch",
    "score_batches",
    "summarise_articles",
]

BACKENDS = ("loky", "dask")

# One model per process, loaded on the first batch a worker receives and kept for the next.
_PROCESS_MODELS: dict[str, PromoModel] = {}
_PROCESS_MODELS_LOCK = threading.Lock()  # Dask workers may run several threads


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


def _process_model(model_dir: str) -> PromoModel:
    with _PROCESS_MODELS_LOCK:
        model = _PROCESS_MODELS.get(model_dir)
        if model is None:
            model = _PROCESS_MODELS[model_dir] = load_model(model_dir)
        return model


def score_batch(
    articles: Sequence[Article], model_dir: str, threshold: float | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Score one batch with the model in ``model_dir``: the unit of work of every backend.

    The model is loaded once per process and reused. Returns the paragraph rows and the
    article rows (see :func:`summarise_articles`).
    """
    paragraphs = _process_model(model_dir).score_articles(articles, threshold=threshold)
    return paragraphs, summarise_articles(articles, paragraphs)


def _score_and_render(
    articles: Sequence[Article], model_dir: str, threshold: float | None, formats: tuple[str, ...]
) -> tuple[pd.DataFrame, RenderedBatch]:
    paragraphs, article_rows = score_batch(articles, model_dir, threshold)
    return article_rows, render_batch(articles, paragraphs, formats)


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


@dataclass
class RunResult:
    """What :func:`score_to_folder` did: run counts, the article table, timings."""

    summary: dict
    articles: pd.DataFrame
    load_seconds: float
    seconds: float
    skipped: int = 0


def _dask_client(scheduler: str | None):
    try:
        from distributed import Client
    except ImportError:
        raise RuntimeError("the dask backend needs the dask extra: pip install 'promoflag[dask]'") from None
    return Client(scheduler) if scheduler else Client(processes=True, threads_per_worker=1)


def _scored(
    batches: Iterator[list[Article]],
    model_dir: str,
    threshold: float | None,
    formats: tuple[str, ...],
    *,
    jobs: int,
    backend: str,
    scheduler: str | None,
) -> Iterator[tuple[list[Article], tuple[pd.DataFrame, RenderedBatch]]]:
    """Each batch with its article rows and rendered outputs, in input order, whichever
    backend runs them."""
    # Each worker loads the model: with fewer batches than workers, fewer workers (none for one).
    head = list(islice(batches, max(jobs, 2)))
    if len(head) < jobs:
        jobs = len(head)
    batches = chain(head, batches)
    if backend == "loky" and jobs <= 1:
        for batch in batches:
            yield batch, _score_and_render(batch, model_dir, threshold, formats)
        return
    from joblib import Parallel, delayed, parallel_config

    in_flight: deque[list[Article]] = deque()

    def tasks():
        for batch in batches:
            in_flight.append(batch)
            yield delayed(_score_and_render)(batch, model_dir, threshold, formats)

    client = _dask_client(scheduler) if backend == "dask" else None
    try:
        n_jobs = sum(client.nthreads().values()) if client is not None else jobs
        with parallel_config(backend=backend, n_jobs=n_jobs):
            # A generator keeps at most pre_dispatch batches in flight: memory stays bounded.
            parallel = Parallel(return_as="generator", pre_dispatch="2*n_jobs", batch_size=1)
            for result in parallel(tasks()):
                yield in_flight.popleft(), result
    finally:
        if client is not None:
            client.close()


def score_to_folder(
    paths: str | Path | Sequence[str | Path],
    out_dir: str | Path,
    *,
    model_dir: str | Path | None = None,
    threshold: float | None = None,
    formats: Sequence[str] = FORMATS,
    jobs: int | None = None,
    backend: str = "loky",
    scheduler: str | None = None,
    resume: bool = False,
    max_bytes: int = MAX_FILE_BYTES,
    batch_size: int = BATCH_ARTICLES,
    on_file: Callable[[], None] | None = None,
    files: Sequence[tuple[Path, str]] | None = None,
) -> RunResult:
    """Score every article under ``paths`` and write the run's outputs to ``out_dir``.

    Parameters
    ----------
    paths:
        Article files or folders (searched recursively).
    out_dir:
        Output folder: paragraph tables, ``articles.csv``, ``run.json``, the HTML report.
    model_dir:
        Model directory; the default model when omitted.
    threshold:
        Decision threshold overriding the model's own.
    formats:
        Which of ``jsonl``, ``csv``, ``html`` to write.
    jobs:
        Worker processes (joblib, loky backend); all cores when omitted, 1 scores in this process.
    backend:
        ``"loky"`` (local processes) or ``"dask"`` (a Dask cluster, see ``scheduler``).
    scheduler:
        Dask scheduler address such as ``tcp://10.0.0.5:8786``; a local cluster when omitted.
    resume:
        Continue the run already in ``out_dir``: articles whose content hash it has written are
        skipped, an article whose content changed is scored again and replaces its old rows.
    max_bytes:
        Files larger than this are skipped with a reason.
    batch_size:
        Articles scored together.
    on_file:
        Called after each input file is read (progress bars).
    files:
        ``discover(paths)`` when the caller has already run it (the CLI does, to size its
        progress bar), so a large folder is not walked twice.

    Raises
    ------
    FileNotFoundError
        If a path does not exist.
    pipeline.model.ModelError
        If the model cannot be loaded.
    pipeline.report.ResumeError
        If ``resume`` is set and the folder holds a run that cannot be continued.
    """
    if backend not in BACKENDS:
        raise ValueError(f"unknown backend {backend!r}; use one of {', '.join(BACKENDS)}")
    if isinstance(paths, (str, Path)):
        paths = [paths]
    files = discover(paths) if files is None else list(files)
    model_dir = str(Path(model_dir or default_model_dir()).resolve())
    started = time.perf_counter()
    try:  # fail early, before any worker starts
        model = _process_model(model_dir)
    except (OSError, ValueError) as exc:
        raise ModelError(f"{model_dir}: {exc}") from None
    load_seconds = time.perf_counter() - started
    if jobs is None:
        jobs = os.cpu_count() or 1
    used_threshold = model.threshold if threshold is None else threshold
    writer = RunWriter(out_dir, formats=formats, resume=resume,
                       settings={"model": model_dir, "threshold": used_threshold})
    started = time.perf_counter()
    done, skipped = writer.done, 0
    done_ids = {article for article, _ in done}

    def counted(items):
        for item in items:
            yield item
            if on_file is not None:
                on_file()

    def pending(articles: Iterable[Article]) -> Iterator[Article]:
        nonlocal skipped
        for article in articles:
            key = (article.id, article.sha256)
            if done[key] > 0:
                done[key] -= 1
                skipped += 1
                continue
            if article.id in done_ids:  # changed since it was scored: its old rows go
                writer.forget([article.id])
                done_ids.discard(article.id)
            yield article

    articles = pending(read_articles(counted(files), max_bytes=max_bytes))
    results = _scored(_batched(articles, batch_size), model_dir, threshold, tuple(formats),
                      jobs=jobs, backend=backend, scheduler=scheduler)
    for batch, (article_rows, rendered) in results:
        writer.add(batch, rendered, article_rows)
    summary = {"model": model_dir, "threshold": used_threshold,
               "inputs": [str(Path(p).resolve()) for p in paths]}
    table = writer.close(summary)
    return RunResult(summary=writer.summary, articles=table, load_seconds=load_seconds,
                     seconds=time.perf_counter() - started, skipped=skipped)

