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
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from .features import CapitalisedWords
from .segment import HEADING, LIST_ITEM

__all__ = [
    "CONTEXT_FEATURES",
    "context_candidates",
    "context_feature_names",
    "context_features",
    "context_pipeline",
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
]


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


def _article_features(own: np.ndarray, smax: np.ndarray, kinds: list[str], names: list[frozenset[str]]) -> np.ndarray:
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
        )
    return out


def context_feature_names(experts: Sequence[str] = ()) -> list[str]:
    """Column names of :func:`context_features`: the general model's block, then one block per
    specialist, prefixed with its name."""
    return CONTEXT_FEATURES + [f"{name}:{feature}" for name in experts for feature in CONTEXT_FEATURES]


def context_features(
    article_ids: np.ndarray,
    own: np.ndarray,
    sentence_max: np.ndarray,
    kinds: list[str],
    *,
    experts: Sequence[tuple[np.ndarray, np.ndarray]] = (),
    names: Sequence[CapitalisedWords] | None = None,
) -> np.ndarray:
    """Context feature matrix for paragraphs listed article by article, in reading order.

    Parameters
    ----------
    article_ids:
        Article key of each paragraph; paragraphs of one article must be contiguous.
    own, sentence_max:
        Base-regression margins of each paragraph and of its most promotional sentence.
    kinds:
        Paragraph kinds (heading, list item, paragraph).
    experts:
        ``(own, sentence_max)`` margins of each specialist classifier, each adding a block of
        the same features (see :func:`context_feature_names`).
    names:
        Each paragraph's capitalised words (:attr:`pipeline.features.UnitTable.names`), which
        link paragraphs about the same product; without them nothing is linked.
    """
    articles = _article_slices(article_ids)
    if names is None:
        linkable = [frozenset()] * len(own)
    else:  # the same for every block: resolved once
        linkable = [name for part in articles for name in _article_names(names[part], kinds[part])]
    blocks = [_margin_block(articles, own, sentence_max, kinds, linkable)]
    blocks += [_margin_block(articles, e_own, e_smax, kinds, linkable) for e_own, e_smax in experts]
    return np.hstack(blocks)


def _margin_block(
    articles: list[slice], own: np.ndarray, sentence_max: np.ndarray, kinds: list[str], names: list[frozenset[str]]
) -> np.ndarray:
    if not articles:
        return np.empty((0, len(CONTEXT_FEATURES)))
    own_l = np.clip(own, -_CLIP, _CLIP)
    smax_l = np.clip(np.maximum(own, sentence_max), -_CLIP, _CLIP)
    return np.vstack([_article_features(own_l[a], smax_l[a], kinds[a], names[a]) for a in articles])


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
