"""Writing results: paragraph and article tables, and a self-contained HTML report.

:class:`RunWriter` receives scored batches as they finish and appends them to the output files,
so a large folder never has to fit in memory. Files are written under temporary names and
renamed into place when the run closes, so a reader never sees a half-written table. Every
string from an article (text, file name, cue) is HTML-escaped; the report has no scripts and
loads nothing from outside the output folder.
"""

from __future__ import annotations

import csv
import html
import json
import os
import re
from collections.abc import Iterable, Sequence
from pathlib import Path

import pandas as pd

from .config import ARTICLE_COLUMNS, PARAGRAPH_COLUMNS, PROMOTIONAL
from .ingest import Article

__all__ = ["FORMATS", "RunWriter", "parse_formats", "atomic_write_text"]

FORMATS = ("jsonl", "csv", "html")

_STYLE = """
:root { --ink: #1d1d1f; --muted: #5f6368; --flag: 255, 176, 0; --strong: 220, 38, 38; }
body { font: 16px/1.55 Georgia, "Times New Roman", serif; color: var(--ink); max-width: 54rem;
       margin: 2rem auto; padding: 0 1rem; }
h1 { font-size: 1.5rem; } h1, h2, table, .meta, .legend, .cues { font-family: system-ui, sans-serif; }
.meta, .cues, .legend { color: var(--muted); font-size: .85rem; }
table { border-collapse: collapse; width: 100%; font-size: .9rem; }
th, td { text-align: left; padding: .35rem .5rem; border-bottom: 1px solid #ddd; vertical-align: top; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.bar { display: inline-block; height: .6rem; background: rgb(var(--strong)); vertical-align: middle; }
.para { margin: 0 0 1rem; padding: .2rem .5rem; border-left: 4px solid transparent; }
.heading { font-family: system-ui, sans-serif; font-weight: 700; }
.flagged { background: rgba(var(--flag), calc(.15 + .35 * var(--s))); border-left-color: rgb(var(--strong)); }
mark.sentence { background: rgba(var(--strong), .28); color: inherit; padding: 0 .1rem;
                text-decoration: underline; text-decoration-color: rgb(var(--strong)); }
.badge { font: 700 .75rem system-ui, sans-serif; color: #fff; background: rgb(var(--strong));
         border-radius: .6rem; padding: 0 .45rem; margin-right: .4rem; }
.error { color: rgb(var(--strong)); }
@media print {
  body { max-width: none; margin: 0; }
  * { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  .flagged { border-left: 4px solid #000; }
  mark.sentence { text-decoration: underline 2px; }
  a { color: inherit; text-decoration: none; }
}
"""


def parse_formats(value: str) -> tuple[str, ...]:
    """Parse ``--format``: ``all`` or a comma list of jsonl, csv, html."""
    if value.strip().lower() == "all":
        return FORMATS
    chosen = tuple(dict.fromkeys(v.strip().lower() for v in value.split(",") if v.strip()))
    unknown = [v for v in chosen if v not in FORMATS]
    if unknown or not chosen:
        raise ValueError(f"unknown format {', '.join(unknown) or value!r}; use 'all' or any of {', '.join(FORMATS)}")
    return chosen


def atomic_write_text(path: Path, text: str) -> None:
    """Write a file through a temporary name and an atomic rename."""
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "w", encoding="utf-8", newline="") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def _absolute_source(source: str) -> str:
    """An article's source as an absolute path (``file.jsonl:LINE`` for JSONL articles)."""
    path, _, line = source.rpartition(":")
    if path.endswith(".jsonl") and line.isdigit():
        return f"{Path(path).resolve()}:{line}"
    return str(Path(source).resolve()) if source else ""


def _page_name(number: int, article_id: str) -> str:
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", article_id).strip("-.")[:60] or "article"
    return f"articles/{number:05d}-{slug}.html"


def _page(title: str, body: str) -> str:
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head>\n<body>\n{body}\n</body></html>\n"
    )


def _mark_sentences(text: str, offset: int, sentences: Sequence[dict]) -> str:
    """Escape a paragraph, wrapping its flagged sentences in ``<mark>``."""
    parts, pos = [], 0
    for sent in sorted(sentences, key=lambda s: s["start"]):
        start, end = max(sent["start"] - offset, pos), min(sent["end"] - offset, len(text))
        if start >= end:
            continue
        parts.append(html.escape(text[pos:start]))
        parts.append(
            f'<mark class="sentence" title="sentence score {sent["score"]:.2f}">{html.escape(text[start:end])}</mark>'
        )
        pos = end
    parts.append(html.escape(text[pos:]))
    return "".join(parts)


def article_page(article_id: str, rows: pd.DataFrame, kinds: Sequence[str], index_href: str) -> str:
    """HTML page for one article with its flagged passages highlighted."""
    flagged = int((rows["label"] == PROMOTIONAL).sum())
    body = [
        f'<p class="meta"><a href="{index_href}">&larr; all articles</a></p>',
        f"<h1>{html.escape(article_id)}</h1>",
        f'<p class="meta">{len(rows)} paragraphs, {flagged} flagged as promotional. '
        "Hover a paragraph for its score; marked sentences are the ones that sell.</p>",
    ]
    for row, kind in zip(rows.itertuples(index=False), kinds):
        is_flagged = row.label == PROMOTIONAL
        classes = ["para"] + (["heading"] if kind == "heading" else []) + (["flagged"] if is_flagged else [])
        title = f"score {row.score:.2f} ({row.label})"
        text = _mark_sentences(row.text, row.start, row.sentences) if is_flagged else html.escape(row.text)
        badge = f'<span class="badge">{row.score:.2f}</span>' if is_flagged else ""
        cues = (
            f'<div class="cues">cues: {html.escape("; ".join(row.cues))}</div>' if is_flagged and len(row.cues) else ""
        )
        body.append(
            f'<div class="{" ".join(classes)}" style="--s:{row.score:.3f}" title="{html.escape(title)}">'
            f"{badge}{text}{cues}</div>"
        )
    return _page(f"promoflag: {article_id}", "\n".join(body))


def index_page(articles: pd.DataFrame, pages: dict[str, str], summary: dict) -> str:
    """The report's front page: every article, most promotional first."""
    ordered = articles.sort_values(["promotional_share", "max_score"], ascending=False, kind="stable")
    rows = []
    for row in ordered.itertuples(index=False):
        name = html.escape(row.article)
        link = f'<a href="{html.escape(pages[row.article])}">{name}</a>' if row.article in pages else name
        share = float(row.promotional_share)
        error = f'<span class="error">{html.escape(row.error)}</span>' if row.error else ""
        rows.append(
            f"<tr><td>{link}</td><td class=\"num\">{row.paragraphs}</td><td class=\"num\">{row.flagged}</td>"
            f"<td class=\"num\">{row.max_score:.2f}</td>"
            f"<td class=\"num\">{share:.0%} <span class=\"bar\" style=\"width:{share * 4:.2f}rem\"></span></td>"
            f"<td>{error}</td></tr>"
        )
    meta = html.escape(
        f"{summary['articles']} articles, {summary['paragraphs']} paragraphs, {summary['flagged']} flagged in "
        f"{summary['flagged_articles']} articles, {summary['errors']} could not be read. "
        f"Model {summary['model']}, threshold {summary['threshold']:.3f}."
    )
    body = (
        "<h1>promoflag report</h1>"
        f'<p class="meta">{meta}</p>'
        '<p class="legend">Articles sorted by the share of their text flagged as promotional.</p>'
        "<table><thead><tr><th>article</th><th>paragraphs</th><th>flagged</th><th>max score</th>"
        "<th>promotional share</th><th>error</th></tr></thead><tbody>"
        + "".join(rows)
        + "</tbody></table>"
    )
    return _page("promoflag report", body)


def _csv_value(value) -> object:
    if isinstance(value, list):
        if value and isinstance(value[0], dict):
            return json.dumps(value)
        return "; ".join(map(str, value))
    return value


class RunWriter:
    """Append scored batches to the output folder; finish with :meth:`close`.

    Parameters
    ----------
    out_dir:
        Output folder, created if needed.
    formats:
        Which of ``jsonl``, ``csv``, ``html`` to write (``articles.csv`` is always written).
    """

    def __init__(self, out_dir: str | Path, *, formats: Iterable[str] = FORMATS) -> None:
        self.out_dir = Path(out_dir)
        self.formats = tuple(formats)
        self.out_dir.mkdir(parents=True, exist_ok=True)
        if "html" in self.formats:
            (self.out_dir / "articles").mkdir(exist_ok=True)
        self._handles: dict[str, object] = {}
        self._csv = None
        self._article_rows: list[dict] = []
        self._sources: dict[str, str] = {}
        self._pages: dict[str, str] = {}
        self._count = 0
        if "jsonl" in self.formats:
            self._handles["paragraphs.jsonl"] = self._open_partial("paragraphs.jsonl")
        if "csv" in self.formats:
            handle = self._open_partial("paragraphs.csv")
            self._handles["paragraphs.csv"] = handle
            self._csv = csv.writer(handle)
            self._csv.writerow(PARAGRAPH_COLUMNS)

    def _open_partial(self, name: str):
        return open(self.out_dir / f".{name}.partial", "w", encoding="utf-8", newline="")

    def add(self, articles: Sequence[Article], paragraphs: pd.DataFrame, article_rows: pd.DataFrame) -> None:
        """Write one scored batch: its paragraph rows, article rows and article pages."""
        records = paragraphs[PARAGRAPH_COLUMNS].to_dict("records")
        if "jsonl" in self.formats:
            handle = self._handles["paragraphs.jsonl"]
            handle.write("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records))
            handle.flush()
        if self._csv is not None:
            self._csv.writerows([_csv_value(r[c]) for c in PARAGRAPH_COLUMNS] for r in records)
            self._handles["paragraphs.csv"].flush()
        self._article_rows.extend(article_rows.to_dict("records"))
        for article in articles:
            self._sources[article.id] = _absolute_source(article.source)
        if "html" in self.formats:
            self._write_pages(articles, paragraphs)

    def _write_pages(self, articles: Sequence[Article], paragraphs: pd.DataFrame) -> None:
        by_article = {key: frame for key, frame in paragraphs.groupby("article", sort=False)}
        for article in articles:
            self._count += 1
            rows = by_article.get(article.id)
            if rows is None or not article.ok:
                continue
            name = _page_name(self._count, article.id)
            kinds = [p.kind for p in article.paragraphs]
            atomic_write_text(self.out_dir / name, article_page(article.id, rows, kinds, "../report.html"))
            self._pages[article.id] = name

    def close(self, summary: dict) -> pd.DataFrame:
        """Finish the tables and write the index; returns the article table."""
        for name, handle in self._handles.items():
            handle.close()
            os.replace(self.out_dir / f".{name}.partial", self.out_dir / name)
        self._handles.clear()
        articles = pd.DataFrame(self._article_rows, columns=ARTICLE_COLUMNS)
        atomic_write_text(self.out_dir / "articles.csv", articles.to_csv(index=False))
        run = {**summary, "sources": self._sources}
        atomic_write_text(self.out_dir / "run.json", json.dumps(run, indent=1, ensure_ascii=False) + "\n")
        if "html" in self.formats:
            atomic_write_text(self.out_dir / "report.html", index_page(articles, self._pages, summary))
        return articles
