"""The context stage: rescore each paragraph in the light of its neighbours and its section.

Promotion comes in blocks: a pitch heading makes the paragraphs under it suspect, a widget line
sits among other widget lines, and the selling often closes the article. The base classifier sees
one paragraph at a time; this stage sees, for every paragraph, the base scores around it and
outputs a probability. It reads the base regression's margins (log-odds before calibration),
and those of each specialist classifier (:data:`pipeline.config.EXPERTS`) as a block of its own.

Two learners are candidates (:func:`context_candidates`): a logistic regression, and gradient-
boosted trees that can learn interactions a linear model cannot ("reads as information, but sits
under a pitch heading between two pitches"; "a chatbot-style answer, where the native-ads
specialist knows best"). Training picks one by its out-of-fold score on the
training data alone (:func:`pipeline.train.fit`), so an evaluation's held-out fold never
influences the choice.

Paragraphs are also linked by the names they share, so a heading "About Zentora", or a paragraph
that explains what Zentora does, sees the score of the Zentora pitch elsewhere in the article (or
in its section); a name mentioned only neutrally elsewhere lends it nothing.

Each paragraph's most promotional sentence is also set against the rest of its article: how far
its score stands above the article's other sentences, how long it is, and how many capitalised
names it holds that no other sentence of the article mentions. A native ad or an affiliate
sentence slipped into an informational paragraph is often the one place a brand appears.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from .features import CapitalisedWords, UnitTable, leaf_units
from .segment import HEADING, LIST_ITEM

__all__ = [
    "CONTEXT_FEATURES",
    "Margins",
    "ParagraphText",
    "context_candidates",
    "context_feature_names",
    "context_features",
    "context_pipeline",
    "paragraph_margins",
    "paragraph_text",
]

# Margins are clipped to this range; a missing neighbour counts as clearly informational.
_CLIP = 12.0
_PAD = -8.0
CONTEXT_FEATURES = [
    "own",
    "sentence_max",
    "previous",
    "next",
    "second_neighbours",
    "section_heading",
    "has_section_heading",
    "section_max_other",
    "after_mean",
    "after_max",
    "before_max",
    "position",
    "from_end",
    "is_heading",
    "is_list_item",
    "article_length",
    "above_article_median",
    "name_link",
    "section_name_link",
    "paragraph_length",
    "sentence_length",
    "sentence_novel_names",
    "sentence_above_mean",
    "sentence_above_others",
]
# Models saved before the last five features were added read only the first ones.
FIRST_CONTEXT_FEATURES = CONTEXT_FEATURES[:19]


class Margins(NamedTuple):
    """One classifier's margins over a batch of paragraphs, summarised per paragraph.

    A paragraph's *leaves* are its sentences, or the paragraph itself when it has one sentence
    (:func:`pipeline.features.leaf_units`); ``leaf`` is the margin of its most promotional leaf.
    """

    own: np.ndarray  # the paragraph as a whole
    best: np.ndarray  # the paragraph or any of its sentences, whichever is larger
    leaf: np.ndarray
    leaf_second: np.ndarray  # the paragraph's next most promotional leaf (the pad if none)
    leaf_sum: np.ndarray
    leaf_count: np.ndarray
    leaf_length: np.ndarray  # characters of the most promotional leaf
    leaf_names: list[frozenset[str]]  # its capitalised words, not counting sentence openers

    def take(self, index: np.ndarray) -> Margins:
        """The same summary for the paragraphs at ``index``, in that order."""
        return Margins(*(part[index] if isinstance(part, np.ndarray) else [part[i] for i in index] for part in self))


class ParagraphText(NamedTuple):
    """What the context stage reads of each paragraph's text (see :func:`paragraph_text`)."""

    names: list[CapitalisedWords]
    length: np.ndarray  # characters
    leaf_names: list[Counter]  # how many of the paragraph's leaves hold each capitalised word

    def take(self, index: np.ndarray) -> ParagraphText:
        return ParagraphText([self.names[i] for i in index], self.length[index], [self.leaf_names[i] for i in index])


def paragraph_margins(frame: pd.DataFrame, unit_margins: np.ndarray, n_paragraphs: int) -> Margins:
    """Summarise per-unit margins (rows of a :class:`~pipeline.features.UnitTable` frame) per
    paragraph."""
    para = frame["para"].to_numpy()
    sent = frame["is_sentence"].to_numpy()
    own = np.full(n_paragraphs, -np.inf)
    own[para[~sent]] = unit_margins[~sent]
    best = own.copy()
    np.maximum.at(best, para[sent], unit_margins[sent])
    rows = np.flatnonzero(leaf_units(frame))
    rows = rows[np.lexsort((-unit_margins[rows], para[rows]))]  # by paragraph, most promotional first
    first = np.r_[True, para[rows][1:] != para[rows][:-1]]
    top = rows[first]
    second = np.full(n_paragraphs, _PAD)
    follows = np.flatnonzero(~first[1:] & first[:-1]) + 1  # second leaf of each paragraph with two or more
    second[para[rows[follows]]] = unit_margins[rows[follows]]
    leaf = np.full(n_paragraphs, _PAD)
    leaf[para[top]] = unit_margins[top]
    total = np.zeros(n_paragraphs)
    np.add.at(total, para[rows], unit_margins[rows])
    count = np.bincount(para[rows], minlength=n_paragraphs).astype(float)
    length = np.zeros(n_paragraphs)
    length[para[top]] = (frame["end"].to_numpy() - frame["start"].to_numpy())[top]
    names = [frozenset()] * n_paragraphs
    unit_names = frame["names"].to_numpy()
    for p, row in zip(para[top], top):
        names[p] = unit_names[row]
    return Margins(own, best, leaf, second, total, count, length, names)


def paragraph_text(units: UnitTable, n_paragraphs: int) -> ParagraphText:
    """The paragraphs' capitalised words, lengths and the names their leaves hold."""
    frame = units.frame
    para = frame["para"].to_numpy()
    length = np.zeros(n_paragraphs)
    whole = ~frame["is_sentence"].to_numpy()
    length[para[whole]] = frame["end"].to_numpy()[whole]
    leaves = leaf_units(frame)
    leaf_names = [Counter() for _ in range(n_paragraphs)]
    for p, found in zip(para[leaves], frame["names"].to_numpy()[leaves]):
        leaf_names[p].update(found)
    return ParagraphText(list(units.names), length, leaf_names)


def _max_of_others(section_id: np.ndarray, values: np.ndarray) -> np.ndarray:
    """For each item, the largest value among the other items of its section (or the pad)."""
    out = np.full(len(values), _PAD)
    for section in np.unique(section_id):
        members = np.flatnonzero(section_id == section)
        if len(members) < 2:
            continue
        order = members[np.argsort(values[members])[::-1]]
        top, second = values[order[0]], values[order[1]]
        out[members] = top
        out[order[0]] = second
    return out


def _article_names(names: Sequence[CapitalisedWords], kinds: list[str]) -> list[frozenset[str]]:
    """Each paragraph's names: its capitalised words that a body paragraph of the same article
    capitalises mid-sentence. A brand that opens a sentence or a title-case heading counts, a
    common word that merely opens a sentence does not."""
    inventory: set[str] = set()
    for words, kind in zip(names, kinds):
        if kind != HEADING:
            inventory |= words.mid_sentence
    return [words.anywhere & inventory for words in names]


def _article_slices(article_ids: np.ndarray) -> list[slice]:
    ids = np.asarray(article_ids)
    if len(ids) == 0:
        return []
    cuts = np.flatnonzero(ids[1:] != ids[:-1]) + 1
    return [slice(lo, hi) for lo, hi in zip(np.r_[0, cuts], np.r_[cuts, len(ids)])]


def _name_link(values: np.ndarray, names: list[frozenset[str]], scope: np.ndarray) -> np.ndarray:
    """For each item, the largest value among the other items of its scope that share a name with
    it (or the pad): copy about a product that is pitched elsewhere."""
    out = np.full(len(values), _PAD)
    holders: dict[tuple, list[int]] = {}
    for i, found in enumerate(names):
        for name in found:
            holders.setdefault((scope[i], name), []).append(i)
    for members in holders.values():
        if len(members) < 2:
            continue
        others = _max_of_others(np.zeros(len(members), dtype=int), values[members])
        out[members] = np.maximum(out[members], others)
    return out


def _sentence_features(margins: Margins, part: slice, in_article: Counter) -> np.ndarray:
    """Per paragraph of one article (``part`` of ``margins``): its most promotional leaf set
    against the article's other leaves (length, names no other leaf holds, margin above their
    mean and above their maximum). ``in_article`` counts the article's leaves holding each name."""
    leaf = margins.leaf[part]
    mean = margins.leaf_sum[part].sum() / max(margins.leaf_count[part].sum(), 1.0)
    others = np.maximum(_max_of_others(np.zeros(len(leaf), dtype=int), leaf), margins.leaf_second[part])
    novel = [sum(1 for name in names if in_article[name] == 1) for names in margins.leaf_names[part]]
    gaps = np.clip(np.column_stack([leaf - mean, leaf - others]), -2 * _CLIP, 2 * _CLIP)
    return np.column_stack([np.log1p(margins.leaf_length[part]), novel, gaps])


def _leaf_name_counts(leaf_names: list[Counter]) -> Counter:
    """How many leaves of an article hold each name."""
    total: Counter = Counter()
    for found in leaf_names:
        total.update(found)
    return total


def _article_features(
    own: np.ndarray, smax: np.ndarray, kinds: list[str], names: list[frozenset[str]], length: np.ndarray,
    sentences: np.ndarray,
) -> np.ndarray:
    n = len(own)
    out = np.empty((n, len(CONTEXT_FEATURES)))
    padded = np.concatenate([[_PAD, _PAD], smax, [_PAD, _PAD]])
    is_heading = np.array([k == HEADING for k in kinds])
    heading_of = np.full(n, -1)
    current = -1
    for i in range(n):
        heading_of[i] = current
        if is_heading[i]:
            current = i
    section_id = np.where(is_heading, np.arange(n), heading_of)
    section_other = _max_of_others(section_id, smax)
    suffix_max = np.maximum.accumulate(smax[::-1])[::-1]
    suffix_sum = np.cumsum(smax[::-1])[::-1]
    prefix_max = np.maximum.accumulate(smax)
    median = float(np.median(smax))
    linked = _name_link(smax, names, np.zeros(n, dtype=int))
    section_linked = _name_link(smax, names, section_id)
    for i in range(n):
        after = n - i - 1
        out[i] = (
            own[i],
            smax[i],
            padded[i + 1],
            padded[i + 3],
            max(padded[i], padded[i + 4]),
            smax[heading_of[i]] if heading_of[i] >= 0 else _PAD,
            float(heading_of[i] >= 0),
            section_other[i],
            suffix_sum[i + 1] / after if after else _PAD,
            suffix_max[i + 1] if after else _PAD,
            prefix_max[i - 1] if i else _PAD,
            i / max(n - 1, 1),
            1.0 / (n - i),
            float(is_heading[i]),
            float(kinds[i] == LIST_ITEM),
            np.log1p(n),
            smax[i] - median,
            linked[i],
            section_linked[i],
            np.log1p(length[i]),
            *sentences[i],
        )
    return out


def context_feature_names(experts: Sequence[str] = (), *, features: Sequence[str] = CONTEXT_FEATURES) -> list[str]:
    """Column names of :func:`context_features`: the general model's block, then one block per
    specialist, prefixed with its name (``features``: the per-block names, by default all)."""
    return list(features) + [f"{name}:{feature}" for name in experts for feature in features]


def context_features(
    article_ids: np.ndarray,
    kinds: list[str],
    blocks: Sequence[Margins],
    text: ParagraphText,
) -> np.ndarray:
    """Context feature matrix for paragraphs listed article by article, in reading order.

    Parameters
    ----------
    article_ids:
        Article key of each paragraph; paragraphs of one article must be contiguous.
    kinds:
        Paragraph kinds (heading, list item, paragraph).
    blocks:
        Margins of the general base regression, then of each specialist classifier
        (:func:`paragraph_margins`), each adding a block of :data:`CONTEXT_FEATURES`
        (see :func:`context_feature_names`).
    text:
        The paragraphs' names and lengths (:func:`paragraph_text`); names link paragraphs about
        the same product.
    """
    articles = _article_slices(article_ids)
    # The same for every block: resolved once.
    linkable = [name for part in articles for name in _article_names(text.names[part], kinds[part])]
    name_counts = [_leaf_name_counts(text.leaf_names[part]) for part in articles]
    return np.hstack([_margin_block(articles, block, kinds, linkable, text, name_counts) for block in blocks])


def _margin_block(
    articles: list[slice],
    margins: Margins,
    kinds: list[str],
    names: list[frozenset[str]],
    text: ParagraphText,
    name_counts: list[Counter],
) -> np.ndarray:
    if not articles:
        return np.empty((0, len(CONTEXT_FEATURES)))
    own_l = np.clip(margins.own, -_CLIP, _CLIP)
    smax_l = np.clip(np.maximum(margins.own, margins.best), -_CLIP, _CLIP)
    return np.vstack([
        _article_features(own_l[a], smax_l[a], kinds[a], names[a], text.length[a],
                          _sentence_features(margins, a, counts))
        for a, counts in zip(articles, name_counts)
    ])


def context_pipeline(*, C: float = 1.0) -> Pipeline:
    """Scaled logistic regression over :data:`CONTEXT_FEATURES`."""
    return Pipeline(
        [
            ("scale", StandardScaler()),
            ("classifier", LogisticRegression(C=C, class_weight="balanced", max_iter=2000)),
        ]
    )


def boosted_context(*, n_blocks: int = 1) -> HistGradientBoostingClassifier:
    """Gradient-boosted trees over :func:`context_feature_names` with ``n_blocks`` blocks (the
    general model and each specialist). Fixed, conservative settings: small trees, many samples
    per leaf, no early stopping, so training is deterministic. The score may only rise with a
    paragraph's own margins and those of its neighbours and section heading, so the trees cannot
    learn that more promotional-looking text is less promotional."""
    rising = [1 if name in _RISING else 0 for name in CONTEXT_FEATURES] * n_blocks
    return HistGradientBoostingClassifier(
        max_iter=200, learning_rate=0.1, max_leaf_nodes=15, min_samples_leaf=40, l2_regularization=1.0,
        monotonic_cst=rising, early_stopping=False, random_state=0,
    )


_RISING = {"own", "sentence_max", "previous", "next", "second_neighbours", "section_heading", "section_max_other",
           "name_link", "section_name_link"}


def context_candidates(*, C: float = 1.0, n_blocks: int = 1) -> dict:
    """The context learners training chooses from, by name; ``n_blocks`` counts the margin
    blocks of the features (the general model plus each specialist)."""
    return {"logistic": context_pipeline(C=C), "boosted": boosted_context(n_blocks=n_blocks)}
