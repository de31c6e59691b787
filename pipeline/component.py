"""spaCy component ``promo_flagger``: score a whole article inside any spaCy pipeline.

::

    import spacy, pipeline
    nlp = spacy.blank("en")
    nlp.add_pipe("promo_flagger")
    doc = nlp(article_text)
    spacy.displacy.render(doc, style="span", options={"spans_key": "promo"})

The component cuts ``doc.text`` into paragraphs exactly as ``promoflag score`` does, scores them
with a promoflag model, and writes the flagged paragraphs to ``doc.spans["promo"]`` (label
``PROMOTIONAL``) and their selling sentences to ``doc.spans["promo_sentences"]`` (label
``SELLS``). Every span carries its probability in ``span._.promo_score``; every paragraph's score
is in ``doc._.promo_paragraphs`` as a DataFrame.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from spacy.language import Language
from spacy.tokens import Doc, Span

from .ingest import article_from_text
from .model import PromoModel, load_model

__all__ = ["PromoFlagger", "make_promo_flagger"]

if not Span.has_extension("promo_score"):
    Span.set_extension("promo_score", default=None)
if not Doc.has_extension("promo_paragraphs"):
    Doc.set_extension("promo_paragraphs", default=None)


class PromoFlagger:
    """Marks promotional paragraphs and sentences of each doc as spans."""

    def __init__(
        self,
        nlp: Language,
        name: str = "promo_flagger",
        *,
        model: str | None = None,
        threshold: float | None = None,
        spans_key: str = "promo",
    ) -> None:
        self.name = name
        self.model: PromoModel = load_model(model or None)
        self.threshold = threshold
        self.spans_key = spans_key

    def __call__(self, doc: Doc) -> Doc:
        return next(iter(self.pipe([doc])))

    def pipe(self, docs: Iterable[Doc], *, batch_size: int = 64) -> Iterator[Doc]:
        batch: list[Doc] = []
        for doc in docs:
            batch.append(doc)
            if len(batch) >= batch_size:
                yield from self._score(batch)
                batch = []
        if batch:
            yield from self._score(batch)

    def _score(self, docs: list[Doc]) -> list[Doc]:
        articles = [article_from_text(str(i), doc.text) for i, doc in enumerate(docs)]
        scored = self.model.score_articles(articles, threshold=self.threshold)
        groups = dict(tuple(scored.groupby("article"))) if len(scored) else {}
        for i, doc in enumerate(docs):
            rows = groups.get(str(i))
            paragraphs, sentences = [], []
            if rows is not None:
                for row in rows[rows["label"] == "promotional"].itertuples(index=False):
                    span = doc.char_span(row.start, row.end, label="PROMOTIONAL", alignment_mode="expand")
                    if span is not None:
                        span._.promo_score = float(row.score)
                        paragraphs.append(span)
                    for sent in row.sentences:
                        part = doc.char_span(sent["start"], sent["end"], label="SELLS", alignment_mode="expand")
                        if part is not None:
                            part._.promo_score = float(sent["score"])
                            sentences.append(part)
            doc.spans[self.spans_key] = paragraphs
            doc.spans[f"{self.spans_key}_sentences"] = sentences
            doc._.promo_paragraphs = rows.drop(columns="article").reset_index(drop=True) if rows is not None else None
        return docs


@Language.factory(
    "promo_flagger",
    default_config={"model": None, "threshold": None, "spans_key": "promo"},
)
def make_promo_flagger(
    nlp: Language, name: str, model: str | None, threshold: float | None, spans_key: str
) -> PromoFlagger:
    """Create the component; ``model`` is a model directory (default: the shipped model)."""
    return PromoFlagger(nlp, name, model=model, threshold=threshold, spans_key=spans_key)
