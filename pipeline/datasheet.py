"""The team corpus's datasheet: counts, a near-duplicate check between articles, and the
agreement of second annotators with the corpus labels (``corpus/agreement/labels.jsonl``).

Run ``python -m pipeline.datasheet`` to recompute the tables in ``corpus/README.md`` (between the
``datasheet`` markers) from ``corpus/catalog.csv``, the articles and their labels.
"""

from __future__ import annotations

import itertools
import re
import sys
from pathlib import Path

import pandas as pd
from sklearn.metrics import cohen_kappa_score

from .config import CORPUS_DIR
from .sources import read_label_files

__all__ = ["shingles", "near_duplicates", "name_spread", "agreement", "corpus_tables", "update_readme"]

_START, _END = "<!-- datasheet:start -->", "<!-- datasheet:end -->"


def shingles(text: str, n: int = 5) -> set[str]:
    """Word n-grams of a text, lower-cased."""
    words = re.findall(r"\w+", text.lower())
    return {" ".join(words[i:i + n]) for i in range(max(0, len(words) - n + 1))}


def near_duplicates(texts: dict[str, str], *, n: int = 5, run: int = 8) -> pd.DataFrame:
    """Every pair of articles with its Jaccard similarity of word ``n``-grams and the number of
    word ``run``-grams the two share, most similar first."""
    grams = {name: shingles(text, n) for name, text in texts.items()}
    runs = {name: shingles(text, run) for name, text in texts.items()}
    rows = []
    for a, b in itertools.combinations(sorted(texts), 2):
        union = len(grams[a] | grams[b]) or 1
        rows.append({"a": a, "b": b, "jaccard": len(grams[a] & grams[b]) / union,
                     f"shared_{run}_word_runs": len(runs[a] & runs[b])})
    return pd.DataFrame(rows).sort_values("jaccard", ascending=False, ignore_index=True)


_NAME = re.compile(
    r"\b([A-Z][a-z]+[A-Z]\w*|[A-Z]{4,}\w*|\w+(?=[™®])|[\w-]+\.(?:com|health|shop|app|co|care|life|news|store))"
)


def name_spread(labels: pd.DataFrame, texts: dict[str, str]) -> pd.Series:
    """For every brand-like name in promotional paragraphs (CamelCase, all caps, ™/®, domains),
    the number of articles it appears in, most widespread first."""
    articles: dict[str, set[str]] = {}
    for row in labels[labels["label"] == "promotional"].itertuples():
        for match in _NAME.finditer(texts[row.article][row.start:row.end]):
            articles.setdefault(match.group(1).lower(), set()).add(row.article)
    return pd.Series({name: len(found) for name, found in articles.items()}).sort_values(ascending=False)


def agreement(labels: pd.DataFrame, second: pd.DataFrame) -> pd.DataFrame:
    """Pairwise agreement between the corpus labels (``original``) and each second annotator, on
    the paragraphs every one of them labelled: share of equal labels, Cohen's kappa, and the
    share of equal styles among paragraphs both call promotional.

    Raises ``ValueError`` when a second annotator's paragraph is not a labelled corpus paragraph
    with the same text (an article edited or relabelled after the study), so no record drops out
    of the table unnoticed.
    """
    key = ["article", "start", "end"]
    _check_same_paragraphs(labels, second, key)
    wide = labels[key + ["label", "style"]].rename(columns={"label": "original", "style": "original_style"})
    for name, frame in second.groupby("annotator"):
        wide = wide.merge(frame[key + ["label", "style"]].rename(columns={"label": name, "style": f"{name}_style"}), on=key)
    raters = ["original", *sorted(second["annotator"].unique())]
    rows = []
    for a, b in itertools.combinations(raters, 2):
        both = (wide[a] == "promotional") & (wide[b] == "promotional")
        rows.append({"pair": f"{a} / {b}", "paragraphs": len(wide), "agreement": (wide[a] == wide[b]).mean(),
                     "kappa": cohen_kappa_score(wide[a], wide[b]),
                     "style_agreement": (wide.loc[both, f"{a}_style"] == wide.loc[both, f"{b}_style"]).mean()})
    return pd.DataFrame(rows)


def _check_same_paragraphs(labels: pd.DataFrame, second: pd.DataFrame, key: list[str]) -> None:
    columns = key + (["text_hash"] if "text_hash" in labels and "text_hash" in second else [])
    known = set(labels[columns].itertuples(index=False, name=None))
    stale = [r for r in second.to_dict("records") if tuple(r[c] for c in columns) not in known]
    if stale:
        where = "; ".join(
            f"{r.get('file', 'second labels')} line {r.get('line', '?')}: {r['article']} {r['start']}-{r['end']}"
            for r in stale[:5]
        )
        raise ValueError(
            f"{len(stale)} second-annotator label(s) no longer match a corpus paragraph (text or offsets "
            f"changed since the agreement study): {where}. Relabel those paragraphs blind or remove them."
        )


def _agreement_lines(labels: pd.DataFrame, corpus_dir: Path) -> list[str]:
    path = corpus_dir / "agreement" / "labels.jsonl"
    if not path.exists():
        return []
    second = read_label_files([path])
    table = agreement(labels, second)
    return [
        "", "### Agreement with second annotators", "",
        f"{second['article'].nunique()} articles, {table['paragraphs'].iat[0]} paragraphs, relabelled blind from "
        f"the guideline by {second['annotator'].nunique()} second annotators (`agreement/labels.jsonl`).",
        "", "| pair | paragraphs | label agreement | Cohen's kappa | style agreement (both promotional) |",
        "|---|---|---|---|---|",
        *[f"| {r.pair} | {r.paragraphs} | {r.agreement:.3f} | {r.kappa:.3f} | {r.style_agreement:.3f} |"
          for r in table.itertuples()],
    ]


def _count_table(frame: pd.DataFrame, by: str) -> str:
    table = frame.groupby(by).agg(
        articles=("article", "nunique"), paragraphs=("label", "size"),
        promotional=("is_promo", "sum")).sort_values("articles", ascending=False, kind="stable")
    lines = [f"| {by} | articles | paragraphs | promotional |", "|---|---|---|---|"]
    lines += [f"| {idx} | {r.articles} | {r.paragraphs} | {r.promotional} |" for idx, r in table.iterrows()]
    return "\n".join(lines)


def corpus_tables(corpus_dir: Path = CORPUS_DIR) -> str:
    """Markdown tables describing the team corpus."""
    catalog = pd.read_csv(corpus_dir / "catalog.csv")
    labels = read_label_files([corpus_dir / "labels" / "team.jsonl"])
    labels["is_promo"] = labels["label"] == "promotional"
    merged = labels.merge(catalog[["article", "topic", "register", "layout"]], on="article")
    styles = labels[labels["is_promo"]].groupby("style").size().sort_values(ascending=False)
    partial = int(labels["promo_start"].notna().sum())
    texts = {name: (corpus_dir / "articles" / name).read_text(encoding="utf-8") for name in catalog["article"]}
    pairs = near_duplicates(texts)
    top = pairs.head(5)
    spread = name_spread(labels, texts)
    widespread = spread[spread > 2]
    no_promo = int((catalog["promo"] == "no").sum())
    out = [
        f"- Articles: {len(catalog)} over {catalog['topic'].nunique()} topics, "
        f"{catalog['register'].nunique()} registers; {no_promo} ({no_promo / len(catalog):.0%}) carry no promotion.",
        f"- Labelled paragraphs: {len(labels)}: {int(labels['is_promo'].sum())} promotional, "
        f"{int((~labels['is_promo']).sum())} informational; {partial} promotional paragraphs promote in "
        "one sentence only (their `promo_start`/`promo_end` mark it).",
        "", "### By register", "", _count_table(merged, "register"),
        "", "### By layout", "", _count_table(merged, "layout"),
        "", "### By topic", "", _count_table(merged, "topic"),
        "", "### Promotional paragraphs by style", "",
        "| style | paragraphs |", "|---|---|", *[f"| {k} | {v} |" for k, v in styles.items()],
        "", "### Near-duplicate check", "",
        f"Jaccard similarity of word 5-grams over all {len(pairs)} article pairs: maximum "
        f"{pairs['jaccard'].max():.3f}, mean {pairs['jaccard'].mean():.4f}; pairs above 0.05: "
        f"{int((pairs['jaccard'] > 0.05).sum())}. Pairs sharing any 8-word run: "
        f"{int((pairs['shared_8_word_runs'] > 0).sum())} (at most {int(pairs['shared_8_word_runs'].max())} runs).",
        "", "| article | article | jaccard | shared 8-word runs |", "|---|---|---|---|",
        *[f"| {r.a} | {r.b} | {r.jaccard:.3f} | {r.shared_8_word_runs} |" for r in top.itertuples()],
        "", "### Invented names", "",
        f"{len(spread)} brand-like names (CamelCase, all caps, ™/®, domains) occur in promotional "
        f"paragraphs; {int((spread == 1).sum())} in one article, {int((spread == 2).sum())} in two, "
        f"{len(widespread)} in more than two" + (f" ({', '.join(widespread.index[:10])})." if len(widespread) else "."),
        *_agreement_lines(labels, corpus_dir),
    ]
    return "\n".join(out)


def update_readme(corpus_dir: Path = CORPUS_DIR) -> Path:
    """Rewrite the datasheet section of ``corpus/README.md``."""
    path = corpus_dir / "README.md"
    text = path.read_text(encoding="utf-8")
    if _START not in text or _END not in text:
        raise ValueError(f"{path} lacks the {_START} / {_END} markers")
    head, rest = text.split(_START, 1)
    _, tail = rest.split(_END, 1)
    path.write_text(f"{head}{_START}\n{corpus_tables(corpus_dir)}\n{_END}{tail}", encoding="utf-8")
    return path


if __name__ == "__main__":
    print(f"updated {update_readme()}", file=sys.stderr)
