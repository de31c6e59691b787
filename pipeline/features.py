"""From spaCy docs to the feature table the scikit-learn model reads.

Every paragraph becomes one row, and every sentence of a paragraph with more than one sentence
becomes a row too, so the classifier scores both. A row carries:

- ``lemmas``: normalised lemmas (numbers, URLs and brand-like names replaced by placeholders, so
  the model learns "get your <name> today", not one product's name);
- ``text``: the raw text, for character n-grams;
- numeric columns: counts of each promotional cue from :mod:`pipeline.cues`, length, heading and
  list-item flags, position in the article, punctuation and casing rates.

:func:`base_pipeline` builds the scikit-learn ``Pipeline`` over those columns. Its feature step is
stateless (hashing and pass-through), so cross-validation can compute it once.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import pandas as pd
from sklearn.calibration import CalibratedClassifierCV
from sklearn.compose import ColumnTransformer
from sklearn.feature_extraction.text import HashingVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from spacy.tokens import Doc, Span

from .cues import CUE_LABELS
from .preprocess import CUES_KEY
from .segment import HEADING, LIST_ITEM

__all__ = [
    "NUMERIC_COLUMNS",
    "UnitTable",
    "featurize",
    "base_pipeline",
    "N_HASH_FEATURES",
]

N_HASH_FEATURES = 2**18
_CUE_COLUMNS = [f"cue_{label.lower()}" for label in CUE_LABELS]
NUMERIC_COLUMNS = _CUE_COLUMNS + [
    "n_tokens",
    "is_heading",
    "is_list_item",
    "is_sentence",
    "position",
    "is_first",
    "is_last",
    "from_end",
    "exclamations",
    "questions_end",
    "digit_rate",
    "one_sentence",
]
_DOMAIN = re.compile(r"^[\w-]+\.(com|org|net|co|io|health|shop|store|care|life|us|uk|app)$", re.I)


@dataclass
class UnitTable:
    """Feature rows for a batch of paragraphs and their sentences.

    ``frame`` has one row per unit with the feature columns plus ``para`` (index of the paragraph
    in the batch), ``is_sentence``, and ``start``/``end`` (offsets within the paragraph).
    ``cues`` holds, per paragraph, the cue matches as ``(label, text)`` pairs.
    """

    frame: pd.DataFrame
    cues: list[list[tuple[str, str]]]


def _normalise_token(token) -> str | None:
    if token.is_space:
        return None
    text = token.text
    if token.like_url or token.like_email or _DOMAIN.match(text):
        return "<url>"
    if token.like_num or any(ch.isdigit() for ch in text):
        return "<num>"
    if len(text) > 1 and any(ch.isupper() for ch in text[1:]):
        return "<name>"
    lemma = token.lemma_
    return lemma.lower() if lemma else token.lower_


def _unit_row(
    tokens: Span | Doc,
    cue_starts: Sequence[tuple[int, str]],
    *,
    kind: str,
    is_sentence: bool,
    position: float,
    index: int,
    count: int,
    n_sentences: int,
) -> dict:
    words = [t for t in tokens if not t.is_space]
    lemmas = [lemma for lemma in map(_normalise_token, words) if lemma]
    n_words = sum(not t.is_punct for t in words) or 1
    lo, hi = tokens.start if isinstance(tokens, Span) else 0, tokens.end if isinstance(tokens, Span) else len(tokens)
    row = dict.fromkeys(_CUE_COLUMNS, 0.0)
    counts: dict[str, int] = {}
    for token_i, label in cue_starts:
        if lo <= token_i < hi:
            counts[label] = counts.get(label, 0) + 1
    for label, n in counts.items():
        row[f"cue_{label.lower()}"] = math.log1p(n)
    text = tokens.text
    row.update(
        lemmas=" ".join(lemmas),
        text=text,
        n_tokens=math.log1p(n_words) / 5.0,
        is_heading=float(kind == HEADING),
        is_list_item=float(kind == LIST_ITEM),
        is_sentence=float(is_sentence),
        position=position,
        is_first=float(index == 0),
        is_last=float(index == count - 1),
        from_end=1.0 / (1 + count - 1 - index),
        exclamations=math.log1p(text.count("!")),
        questions_end=float(text.rstrip().endswith("?")),
        digit_rate=sum(t.like_num for t in words) / n_words,
        one_sentence=float(n_sentences == 1),
    )
    return row


def featurize(
    docs: Iterable[Doc],
    kinds: Sequence[str],
    positions: Sequence[tuple[int, int]],
) -> UnitTable:
    """Turn processed paragraph docs into feature rows.

    Parameters
    ----------
    docs:
        One spaCy doc per paragraph, from :func:`pipeline.preprocess.process`.
    kinds:
        Each paragraph's kind (heading, list item or body paragraph).
    positions:
        Each paragraph's ``(index, count)``: its place in the article and the article's length.
    """
    rows: list[dict] = []
    cues: list[list[tuple[str, str]]] = []
    for para, (doc, kind, (index, count)) in enumerate(zip(docs, kinds, positions)):
        matches = sorted({(span.start, span.label_): span for span in doc.spans[CUES_KEY]}.items())
        cue_starts = [key for key, _ in matches]
        cues.append([(label, span.text) for (_, label), span in matches])
        position = index / max(count - 1, 1)
        sentences = list(doc.sents) if len(doc) else []
        n_sent = len(sentences)
        common = dict(kind=kind, position=position, index=index, count=count, n_sentences=n_sent)
        row = _unit_row(doc, cue_starts, is_sentence=False, **common)
        row.update(para=para, start=0, end=len(doc.text))
        rows.append(row)
        if n_sent > 1:
            for sent in sentences:
                if not sent.text.strip():
                    continue
                row = _unit_row(sent, cue_starts, is_sentence=True, **common)
                row.update(para=para, start=sent.start_char, end=sent.end_char)
                rows.append(row)
    frame = pd.DataFrame(rows, columns=["para", "start", "end", "lemmas", "text", *NUMERIC_COLUMNS])
    frame["is_sentence"] = frame["is_sentence"].astype(bool)
    return UnitTable(frame=frame, cues=cues)


def base_pipeline(*, C: float = 1.0, n_features: int = N_HASH_FEATURES) -> Pipeline:
    """The paragraph/sentence classifier: hashed lemma and character n-grams plus numeric cues,
    ending in a logistic regression calibrated with sigmoid scaling."""
    features = ColumnTransformer(
        [
            (
                "lemma_ngrams",
                HashingVectorizer(
                    token_pattern=r"\S+",
                    lowercase=False,
                    ngram_range=(1, 3),
                    n_features=n_features,
                    alternate_sign=False,
                ),
                "lemmas",
            ),
            (
                "char_ngrams",
                HashingVectorizer(
                    analyzer="char_wb",
                    ngram_range=(3, 5),
                    n_features=n_features,
                    alternate_sign=False,
                ),
                "text",
            ),
            ("numeric", "passthrough", NUMERIC_COLUMNS),
        ]
    )
    classifier = CalibratedClassifierCV(
        LogisticRegression(C=C, class_weight="balanced", tol=1e-3, max_iter=500),
        method="sigmoid",
        cv=3,
        ensemble=False,
    )
    return Pipeline([("features", features), ("classifier", classifier)])

