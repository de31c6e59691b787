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
import io
import json
import os
import re
import shutil
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from .config import ARTICLE_COLUMNS, PARAGRAPH_COLUMNS, PROMOTIONAL
from .ingest import Article

__all__ = ["FORMATS", "RenderedBatch", "ResumeError", "RunWriter", "atomic_write_text", "parse_formats", "render_batch"]

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


def index_page(articles: pd.DataFrame, pages: dict[str, str], summary: dict, *, limit: int | None = None) -> str:
    """The report's front page: the articles, most promotional first (the first ``limit``)."""
    ordered = articles.sort_values(["promotional_share", "max_score"], ascending=False, kind="stable")
    shown = ordered if limit is None else ordered.head(limit)
    rows = []
    for row in shown.itertuples(index=False):
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
        '<p class="legend">Articles sorted by the share of their text flagged as promotional'
        + (f"; the first {len(shown)} of {len(ordered)} (all are in articles.csv)" if len(shown) < len(ordered) else "")
        + ".</p>"
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


@dataclass
class RenderedBatch:
    """A scored batch as output text, ready to append: made where the batch was scored (a
    worker process), so the process writing the files does little more than write."""

    jsonl: str
    csv: str
    pages: list[str | None]  # one per article: its report page, or None (unreadable)


def render_batch(articles: Sequence[Article], paragraphs: pd.DataFrame, formats: Iterable[str]) -> RenderedBatch:
    """Serialise one scored batch for the given formats."""
    formats = tuple(formats)
    records = paragraphs[PARAGRAPH_COLUMNS].to_dict("records")
    jsonl = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records) if "jsonl" in formats else ""
    table = ""
    if "csv" in formats:
        buffer = io.StringIO(newline="")
        csv.writer(buffer).writerows([_csv_value(r[c]) for c in PARAGRAPH_COLUMNS] for r in records)
        table = buffer.getvalue()
    pages: list[str | None] = [None] * len(articles)
    if "html" in formats:
        by_article = {key: frame for key, frame in paragraphs.groupby("article", sort=False)}
        for i, article in enumerate(articles):
            rows = by_article.get(article.id)
            if rows is not None and article.ok:
                kinds = [p.kind for p in article.paragraphs]
                pages[i] = article_page(article.id, rows, kinds, "../report.html")
    return RenderedBatch(jsonl=jsonl, csv=table, pages=pages)


class ResumeError(Exception):
    """An output folder cannot be resumed; the message says why and what to do."""


_TABLES = {"jsonl": "paragraphs.jsonl", "csv": "paragraphs.csv"}


def _read_journal(path: Path) -> tuple[list[dict], int]:
    """The complete lines of a run journal and their length in bytes. A torn last line (the
    run was killed while appending it) is left out: its batch was never committed."""
    entries, size = [], 0
    with open(path, "rb") as handle:
        for line in handle:
            if not line.endswith(b"\n"):
                break
            try:
                entries.append(json.loads(line))
            except json.JSONDecodeError:
                break
            size += len(line)
    return entries, size


def _truncate(path: Path, size: int) -> None:
    if path.stat().st_size < size:
        raise ResumeError(f"{path} is shorter than its journal says; score again without --resume")
    with open(path, "r+b") as handle:
        handle.truncate(size)


def _drop_article_rows(path: Path, fmt: str, ids: set[str]) -> None:
    """Rewrite a paragraph table without the rows of the given articles (through a temporary
    file and a rename)."""
    tmp = path.with_name(path.name + ".tmp")
    with open(path, encoding="utf-8", newline="") as source, open(tmp, "w", encoding="utf-8", newline="") as target:
        if fmt == "jsonl":
            target.writelines(line for line in source if json.loads(line)["article"] not in ids)
        else:
            reader, writer = csv.reader(source), csv.writer(target)
            writer.writerow(next(reader))
            writer.writerows(row for row in reader if row[0] not in ids)
    os.replace(tmp, path)


class RunWriter:
    """Append scored batches to the output folder; finish with :meth:`close`.

    Tables are appended under temporary names (``.paragraphs.jsonl.partial``) and renamed into
    place by :meth:`close`. After each batch, once its rows are on disk, one line goes to the
    run journal (``.promoflag-journal.jsonl``): the batch's article rows with their content
    hashes, and the table sizes at that point. Nothing per article is kept in memory; the
    article table, ``run.json`` and the index are built from the journal at the end.

    A run killed part-way is resumed from the journal: the tables are cut back to the last
    committed batch and :attr:`done` lists the articles to skip, so no row is lost or doubled.

    Parameters
    ----------
    out_dir:
        Output folder, created if needed.
    formats:
        Which of ``jsonl``, ``csv``, ``html`` to write (``articles.csv`` is always written).
    resume:
        Continue the run recorded in ``out_dir`` instead of starting afresh.
    settings:
        What must not change between a run and its resumption (model, threshold); compared on
        resume.
    """

    JOURNAL = ".promoflag-journal.jsonl"
    INDEX_LIMIT = 5000  # rows on the report's front page; articles.csv lists every article

    def __init__(
        self,
        out_dir: str | Path,
        *,
        formats: Iterable[str] = FORMATS,
        resume: bool = False,
        settings: dict | None = None,
    ) -> None:
        self.out_dir = Path(out_dir)
        self.formats = tuple(formats)
        self.settings = dict(settings or {})
        self.out_dir.mkdir(parents=True, exist_ok=True)
        if "html" in self.formats:
            (self.out_dir / "articles").mkdir(exist_ok=True)
        self._journal_path = self.out_dir / self.JOURNAL
        self.done: Counter[tuple[str, str]] = Counter()
        """Articles already written by the run being resumed, as ``(id, content hash)``."""
        self._count = 0
        self.summary: dict = {}
        """The run's summary with its counts, once :meth:`close` has run."""
        if resume and self._journal_path.exists():
            self._resume()
        else:
            self._start()
        self._open()

    @property
    def _tables(self) -> list[str]:
        return [fmt for fmt in _TABLES if fmt in self.formats]

    def _partial(self, fmt: str) -> Path:
        return self.out_dir / f".{_TABLES[fmt]}.partial"

    def _open(self) -> None:
        self._handles = {fmt: open(self._partial(fmt), "a", encoding="utf-8", newline="") for fmt in self._tables}
        self._journal = open(self._journal_path, "a", encoding="utf-8")

    def _start(self) -> None:
        if self._journal_path.exists():  # a new run in an old run's folder: its pages go
            entries, _ = _read_journal(self._journal_path)
            for batch in entries[1:]:
                for article in batch.get("articles", []):
                    if article.get("page"):
                        (self.out_dir / article["page"]).unlink(missing_ok=True)
        for fmt in self._tables:
            with open(self._partial(fmt), "w", encoding="utf-8", newline="") as handle:
                if fmt == "csv":
                    csv.writer(handle).writerow(PARAGRAPH_COLUMNS)
        header = {"journal": 1, "formats": list(self.formats), "settings": self.settings}
        atomic_write_text(self._journal_path, json.dumps(header) + "\n")

    def _check_header(self, header: dict | None) -> None:
        if header is None or "journal" not in header:
            raise ResumeError(f"{self._journal_path} is not a promoflag run journal; score again without --resume")
        if tuple(header["formats"]) != self.formats:
            raise ResumeError(
                f"the run in {self.out_dir} wrote --format {','.join(header['formats'])}; "
                "resume it with the same formats"
            )
        changed = sorted(k for k in self.settings if header["settings"].get(k) != self.settings[k])
        if changed:
            was = ", ".join(f"{k}={header['settings'].get(k)!r}" for k in changed)
            raise ResumeError(
                f"the run in {self.out_dir} used a different {', '.join(changed)} ({was}); "
                "resume with the same settings or score into a new folder"
            )

    def _resume(self) -> None:
        entries, size = _read_journal(self._journal_path)
        self._check_header(entries[0] if entries else None)
        sizes = {fmt: 0 for fmt in self._tables}
        for batch in entries[1:]:
            sizes = batch["sizes"]
            self.done.update((a["article"], a["sha256"]) for a in batch["articles"])
        self._count = sum(self.done.values())
        for fmt in self._tables:
            partial, final = self._partial(fmt), self.out_dir / _TABLES[fmt]
            if not partial.exists():
                if not final.exists():
                    raise ResumeError(f"{final} is missing; score again without --resume")
                shutil.copyfile(final, partial)  # the finished table stays in place until close
            if fmt == "csv" and sizes[fmt] == 0:
                sizes[fmt] = len(",".join(PARAGRAPH_COLUMNS)) + 2  # the header row
            _truncate(partial, sizes[fmt])
        _truncate(self._journal_path, size)

    def forget(self, article_ids: Iterable[str]) -> None:
        """Drop what a resumed run wrote for these articles (their content changed since), so
        they can be scored again."""
        ids = set(article_ids) & {article for article, _ in self.done}
        if not ids:
            return
        self._close_handles()
        for fmt in self._tables:
            _drop_article_rows(self._partial(fmt), fmt, ids)
        entries, _ = _read_journal(self._journal_path)
        lines = [json.dumps(entries[0])]
        for batch in entries[1:]:
            kept = []
            for article in batch["articles"]:
                if article["article"] not in ids:
                    kept.append(article)
                elif article["page"]:
                    (self.out_dir / article["page"]).unlink(missing_ok=True)
            lines.append(json.dumps({"sizes": batch["sizes"], "articles": kept}, ensure_ascii=False))
        sizes = {fmt: self._partial(fmt).stat().st_size for fmt in self._tables}
        lines.append(json.dumps({"sizes": sizes, "articles": []}))
        atomic_write_text(self._journal_path, "\n".join(lines) + "\n")
        for key in [key for key in self.done if key[0] in ids]:
            del self.done[key]
        self._open()

    def add(self, articles: Sequence[Article], rendered: RenderedBatch, article_rows: pd.DataFrame) -> None:
        """Write one scored batch (see :func:`render_batch`): its paragraph rows, article pages,
        then its journal line."""
        if "jsonl" in self._handles:
            self._handles["jsonl"].write(rendered.jsonl)
        if "csv" in self._handles:
            self._handles["csv"].write(rendered.csv)
        for handle in self._handles.values():
            handle.flush()
            os.fsync(handle.fileno())
        pages = self._write_pages(articles, rendered.pages)
        entries = [
            {**row, "sha256": article.sha256, "source": _absolute_source(article.source), "page": page}
            for article, row, page in zip(articles, article_rows.to_dict("records"), pages)
        ]
        sizes = {fmt: os.fstat(self._handles[fmt].fileno()).st_size for fmt in self._tables}
        self._journal.write(json.dumps({"sizes": sizes, "articles": entries}, ensure_ascii=False) + "\n")
        self._journal.flush()
        os.fsync(self._journal.fileno())

    def _write_pages(self, articles: Sequence[Article], pages: Sequence[str | None]) -> list[str]:
        names = []
        for article, page in zip(articles, pages):
            self._count += 1
            name = _page_name(self._count, article.id) if page is not None else ""
            if name:
                atomic_write_text(self.out_dir / name, page)
            names.append(name)
        return names

    def _close_handles(self) -> None:
        for handle in self._handles.values():
            handle.close()
        self._handles = {}
        self._journal.close()

    def close(self, summary: dict) -> pd.DataFrame:
        """Finish the tables and write the article table, ``run.json`` and the index from the
        journal; returns the article table."""
        self._close_handles()
        for fmt in self._tables:
            os.replace(self._partial(fmt), self.out_dir / _TABLES[fmt])
        entries, _ = _read_journal(self._journal_path)
        written = [article for batch in entries[1:] for article in batch["articles"]]
        articles = pd.DataFrame(written, columns=ARTICLE_COLUMNS)
        atomic_write_text(self.out_dir / "articles.csv", articles.to_csv(index=False))
        summary = self.summary = {**summary, **_totals(articles)}
        run = {**summary, "sources": {a["article"]: a["source"] for a in written}}
        atomic_write_text(self.out_dir / "run.json", json.dumps(run, indent=1, ensure_ascii=False) + "\n")
        if "html" in self.formats:
            pages = {a["article"]: a["page"] for a in written if a["page"]}
            atomic_write_text(self.out_dir / "report.html", index_page(articles, pages, summary, limit=self.INDEX_LIMIT))
        return articles


def _totals(articles: pd.DataFrame) -> dict[str, int]:
    """Run counts from the article table."""
    return {
        "articles": int(len(articles)),
        "paragraphs": int(articles["paragraphs"].sum()),
        "flagged": int(articles["flagged"].sum()),
        "flagged_articles": int((articles["flagged"] > 0).sum()),
        "errors": int((articles["error"].fillna("") != "").sum()),
    }
