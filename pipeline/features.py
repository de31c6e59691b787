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
from typing import NamedTuple

import numpy as np
import pandas as pd
from sklearn.calibration import CalibratedClassifierCV
from sklearn.compose import ColumnTransformer
from sklearn.feature_extraction.text import HashingVectorizer, TfidfTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from spacy.tokens import Doc

from .config import BASE_C
from .cues import CUE_LABELS
from .preprocess import CUES_KEY
from .segment import HEADING, LIST_ITEM

__all__ = [
    "NUMERIC_COLUMNS",
    "CapitalisedWords",
    "UnitTable",
    "featurize",
    "leaf_units",
    "base_pipeline",
    "text_classifier",
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
    in the batch), ``is_sentence``, ``start``/``end`` (offsets within the paragraph) and ``names``
    (the unit's capitalised words that are not first in their sentence). ``cues`` holds, per
    paragraph, the cue matches as ``(label, text)`` pairs, and ``names`` its
    :class:`CapitalisedWords`, from which the context stage links paragraphs about the same product.
    """

    frame: pd.DataFrame
    cues: list[list[tuple[str, str]]]
    names: list[CapitalisedWords]


class CapitalisedWords(NamedTuple):
    """A paragraph's capitalised words that may be names (lower-cased; stop words, words of
    fewer than three letters and words with digits left out)."""

    anywhere: frozenset[str]
    mid_sentence: frozenset[str]  # not first in their sentence, so capitalised for a reason


_NO_NAMES = CapitalisedWords(frozenset(), frozenset())


# (orth, lemma) -> (normalised lemma or None for whitespace, is_punct, like_num, length, the
# lower-cased word if it is capitalised and could be a name). Every
# input is a lexical attribute (the lemmatizer runs in lookup mode), so the answer never depends
# on context; caching it replaces a Python call per token with a dict lookup.
_TokenInfo = tuple[str | None, bool, bool, int, str | None]
_TOKEN_CACHE: dict[tuple[int, int, bool], _TokenInfo] = {}
_TOKEN_CACHE_LIMIT = 500_000  # bounded, so a long run over new words keeps memory flat


def _token_info(vocab, orth: int, lemma: int, lemma_table) -> _TokenInfo:
    lex = vocab[orth]
    text = lex.text
    if lex.is_space:
        return None, False, False, len(text), None
    name = lex.lower_ if lex.is_alpha and len(text) >= 3 and text[0].isupper() and not lex.is_stop else None
    if lex.like_url or lex.like_email or _DOMAIN.match(text):
        norm = "<url>"
    elif lex.like_num or any(ch.isdigit() for ch in text):
        norm = "<num>"
    elif len(text) > 1 and any(ch.isupper() for ch in text[1:]):
        norm = "<name>"
    else:
        if lemma:
            lemma_text = vocab.strings[lemma]
        else:  # the lemmatizer did not run: the same lookup it would have made
            lemma_text = lemma_table.get(text, text) if lemma_table is not None else ""
        norm = lemma_text.lower() if lemma_text else lex.lower_
    return norm, bool(lex.is_punct), bool(lex.like_num), len(text), name


def _doc_tokens(doc: Doc, lemma_table) -> tuple[list[_TokenInfo], list[tuple[int, int, int, int]], CapitalisedWords]:
    """Per-token facts for a whole paragraph, computed once and sliced for each sentence, its
    sentences as ``(first token, end token, start char, end char)``, and its capitalised words."""
    if not len(doc):
        return [], [], _NO_NAMES
    cache = _TOKEN_CACHE
    if len(cache) > _TOKEN_CACHE_LIMIT:
        cache.clear()
    vocab = doc.vocab
    infos, starts, idx, initial, inside = [], [], [], set(), set()
    # Without a lemma table a word's norm is its lower case: such entries must never serve a
    # call that has the table (a test featurizing without it changed later scores in-process).
    no_table = lemma_table is None
    for i, (orth, lemma, sent_start, char) in enumerate(doc.to_array(["ORTH", "LEMMA", "SENT_START", "IDX"]).tolist()):
        key = (orth, lemma, no_table)
        info = cache.get(key)
        if info is None:
            info = cache[key] = _token_info(vocab, orth, lemma, lemma_table)
        infos.append(info)
        idx.append(char)
        if sent_start == 1 or i == 0:
            starts.append(i)
            if info[4]:
                initial.add(info[4])
        elif info[4]:
            inside.add(info[4])
    ends = starts[1:] + [len(infos)]
    sentences = [(lo, hi, idx[lo], idx[hi - 1] + infos[hi - 1][3]) for lo, hi in zip(starts, ends)]
    return infos, sentences, CapitalisedWords(frozenset(initial | inside), frozenset(inside))


def _unit_row(
    tokens: Sequence[_TokenInfo],
    text: str,
    cue_counts: dict[str, int],
    *,
    kind: str,
    is_sentence: bool,
    position: float,
    index: int,
    count: int,
    n_sentences: int,
) -> dict:
    lemmas = [norm for norm, *_ in tokens if norm]
    n_words = sum(norm is not None and not punct for norm, punct, *_ in tokens) or 1
    row = dict.fromkeys(_CUE_COLUMNS, 0.0)
    for label, n in cue_counts.items():
        row[f"cue_{label.lower()}"] = math.log1p(n)
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
        digit_rate=sum(num for norm, _, num, *_ in tokens if norm is not None) / n_words,
        one_sentence=float(n_sentences == 1),
    )
    return row


def _count_cues(cue_starts: Sequence[tuple[int, str]], lo: int, hi: int) -> dict[str, int]:
    counts: dict[str, int] = {}
    for token_i, label in cue_starts:
        if lo <= token_i < hi:
            counts[label] = counts.get(label, 0) + 1
    return counts


def featurize(
    docs: Iterable[Doc],
    kinds: Sequence[str],
    positions: Sequence[tuple[int, int]],
    *,
    lemma_table=None,
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
    lemma_table:
        The lookup lemmatizer's ``lemma_lookup`` table, for docs processed without the
        lemmatizer (faster, same lemmas).
    """
    rows: list[dict] = []
    cues: list[list[tuple[str, str]]] = []
    names: list[CapitalisedWords] = []
    for para, (doc, kind, (index, count)) in enumerate(zip(docs, kinds, positions)):
        matches = sorted({(span.start, span.label_): span for span in doc.spans[CUES_KEY]}.items())
        cue_starts = [key for key, _ in matches]
        cues.append([(label, span.text) for (_, label), span in matches])
        position = index / max(count - 1, 1)
        tokens, sentences, capitalised = _doc_tokens(doc, lemma_table)
        names.append(capitalised)
        n_sent = len(sentences)
        text = doc.text
        common = dict(kind=kind, position=position, index=index, count=count, n_sentences=n_sent)
        row = _unit_row(tokens, text, _count_cues(cue_starts, 0, len(doc)), is_sentence=False, **common)
        row.update(para=para, start=0, end=len(text), names=capitalised.mid_sentence)
        rows.append(row)
        if n_sent > 1:
            for lo, hi, start_char, end_char in sentences:
                sentence = text[start_char:end_char]
                if not sentence.strip():
                    continue
                counts = _count_cues(cue_starts, lo, hi)
                row = _unit_row(tokens[lo:hi], sentence, counts, is_sentence=True, **common)
                inside = frozenset(info[4] for info in tokens[lo + 1:hi] if info[4])
                row.update(para=para, start=start_char, end=end_char, names=inside)
                rows.append(row)
    frame = pd.DataFrame(rows, columns=["para", "start", "end", "lemmas", "text", "names", *NUMERIC_COLUMNS])
    frame["is_sentence"] = frame["is_sentence"].astype(bool)
    return UnitTable(frame=frame, cues=cues, names=names)


def leaf_units(frame: pd.DataFrame) -> np.ndarray:
    """Mask of the smallest units of a unit table: sentence rows, and the rows of paragraphs
    that have no sentence rows (one sentence)."""
    is_sentence = frame["is_sentence"].to_numpy()
    para = frame["para"].to_numpy()
    split = np.zeros(int(para.max()) + 1 if len(para) else 0, dtype=bool)
    split[para[is_sentence]] = True
    return is_sentence | ~split[para]


def base_pipeline(*, C: float = BASE_C, n_features: int = N_HASH_FEATURES) -> Pipeline:
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


def text_classifier(
    *, C: float, n_features: int = 2**20, char_analyzer: str = "char_wb", char_ngrams: Sequence[int] = (3, 6)
) -> Pipeline:
    """A specialist's own classifier over a unit's raw text: hashed word 1-2-grams and character
    n-grams (``char_analyzer`` ``"char_wb"`` within words or ``"char"`` across them, lengths
    ``char_ngrams``), TF-IDF weighted (sublinear counts, rarity learnt from its training rows),
    then a logistic regression fit to the default tolerance.

    Native ads written into chatbot answers praise one brand in words an answer would not
    otherwise use; raw words with their rarity weighed catch that better than the base features
    (Webis+MedQuAD sentences, grouped CV by product, answer-level F1 from the best sentence: 0.917
    here, 0.85 for the same regression over the base features). Hashing rather than a vocabulary
    keeps the saved model small and quick to load: a 20,000-term vocabulary scored the same but
    took 30 s to load (README, "How the recipe was chosen")."""
    if char_analyzer not in ("char", "char_wb"):
        raise ValueError(f"char_analyzer must be 'char' or 'char_wb', not {char_analyzer!r}")
    low, high = char_ngrams

    def tfidf(analyzer: str, ngram_range: tuple[int, int]) -> Pipeline:
        counts = HashingVectorizer(analyzer=analyzer, ngram_range=ngram_range, n_features=n_features,
                                   alternate_sign=False, norm=None)
        return Pipeline([("counts", counts), ("tfidf", TfidfTransformer(sublinear_tf=True))])

    features = ColumnTransformer([("words", tfidf("word", (1, 2)), "text"),
                                  ("chars", tfidf(char_analyzer, (int(low), int(high))), "text")])
    # Stopped at a tolerance of 1e-3, as the base regression is, it scored Webis answers at F1 0.87
    # instead of 0.92 (vocabulary features, Webis sentences).
    classifier = LogisticRegression(C=C, class_weight="balanced", max_iter=1000)
    return Pipeline([("features", features), ("classifier", classifier)])
