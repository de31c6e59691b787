"""Training: from labelled paragraphs to a :class:`~pipeline.model.PromoModel`.

The workflow is prepare → fit → evaluate:

1. :func:`prepare` runs the spaCy step once over every labelled paragraph and computes the
   stateless feature matrix, so later folds only slice it;
2. :func:`fit` trains the base classifier, gets out-of-fold base scores with splits grouped by
   article (never a paragraph of one article on both sides), trains the context stage on them,
   and picks the decision thresholds on out-of-fold predictions;
3. :mod:`pipeline.evaluate` repeats :func:`fit` inside outer grouped folds to measure it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timezone

import numpy as np
import pandas as pd
from scipy import sparse
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import average_precision_score, precision_recall_curve
from sklearn.model_selection import GroupKFold
from sklearn.pipeline import Pipeline
from spacy.language import Language

from .config import BASE_C, CONTEXT_MASS, EXPERTS, IMPORTED_WEIGHT, INNER_FOLDS, SOURCE_MASS
from .context import context_candidates, context_feature_names, context_features, paragraph_margins, paragraph_text
from .features import NUMERIC_COLUMNS, UnitTable, base_pipeline, featurize, leaf_units, text_classifier
from .model import PromoModel
from .preprocess import build_nlp, lemma_table, process

__all__ = ["TrainingSet", "prepare", "fit", "best_f1_threshold", "data_fingerprint", "inner_fold_groups"]


@dataclass
class TrainingSet:
    """Labelled paragraphs with their feature rows, ready for folds.

    ``paragraphs`` follows :data:`pipeline.sources.PARAGRAPH_TABLE` plus ``batch_article`` (a key
    unique to each article) and ``paragraph``; ``units``/``X``/``y`` describe every paragraph and
    sentence row, ``units.frame["para"]`` pointing to its paragraph.
    """

    paragraphs: pd.DataFrame
    units: UnitTable
    X: sparse.csr_matrix
    y: np.ndarray
    features: object
    nlp: Language
    extra: dict = field(default_factory=dict)

    @property
    def y_paragraph(self) -> np.ndarray:
        return self.paragraphs["label"].to_numpy(dtype=int)

    def subset(self, mask: np.ndarray) -> TrainingSet:
        """The training set restricted to the paragraphs where ``mask`` is true."""
        keep = np.flatnonzero(mask)
        new_index = np.full(len(self.paragraphs), -1)
        new_index[keep] = np.arange(len(keep))
        para = self.units.frame["para"].to_numpy()
        rows = np.flatnonzero(mask[para])
        frame = self.units.frame.iloc[rows].copy()
        frame["para"] = new_index[frame["para"].to_numpy()]
        units = UnitTable(frame=frame.reset_index(drop=True), cues=[self.units.cues[i] for i in keep],
                          names=[self.units.names[i] for i in keep])
        return TrainingSet(
            paragraphs=self.paragraphs.iloc[keep].reset_index(drop=True),
            units=units,
            X=self.X[rows],
            y=self.y[rows],
            features=self.features,
            nlp=self.nlp,
        )


def _unit_labels(paragraphs: pd.DataFrame, frame: pd.DataFrame) -> np.ndarray:
    """Sentence rows take their paragraph's label, except outside a partial promotional span."""
    para = frame["para"].to_numpy()
    label = paragraphs["label"].to_numpy(dtype=int)[para]
    p_start = paragraphs["promo_start"].to_numpy(dtype=float)[para] - paragraphs["start"].to_numpy(dtype=float)[para]
    p_end = paragraphs["promo_end"].to_numpy(dtype=float)[para] - paragraphs["start"].to_numpy(dtype=float)[para]
    is_sentence = frame["is_sentence"].to_numpy()
    partial = ~np.isnan(p_start)
    overlaps = (frame["start"].to_numpy() < p_end) & (frame["end"].to_numpy() > p_start)
    outside = is_sentence & partial & ~overlaps
    return np.where(outside, 0, label)


def prepare(paragraphs: pd.DataFrame, *, nlp: Language | None = None) -> TrainingSet:
    """Preprocess labelled paragraphs once: spaCy docs, feature rows, hashed feature matrix."""
    if paragraphs.empty:
        raise ValueError("no labelled paragraphs to train on: is corpus/labels/ empty?")
    nlp = nlp or build_nlp()
    paragraphs = paragraphs.sort_values(["source", "article", "index"], kind="stable").reset_index(drop=True)
    paragraphs["batch_article"] = paragraphs["source"].astype(str) + "/" + paragraphs["article"].astype(str)
    paragraphs["paragraph"] = paragraphs["index"]
    docs = process(nlp, paragraphs["text"].tolist())
    units = featurize(docs, paragraphs["kind"].tolist(), list(zip(paragraphs["index"], paragraphs["count"])),
                      lemma_table=lemma_table(nlp))
    features = base_pipeline().named_steps["features"]
    X = sparse.csr_matrix(features.fit_transform(units.frame))
    y = _unit_labels(paragraphs, units.frame)
    return TrainingSet(paragraphs, units, X, y, features, nlp)


def best_f1_threshold(y: np.ndarray, scores: np.ndarray, weights: np.ndarray | None = None) -> float:
    """The score cut-off that maximises (weighted) F1 on out-of-fold predictions."""
    if y.sum() == 0 or y.sum() == len(y):
        return 0.5
    precision, recall, thresholds = precision_recall_curve(y, scores, sample_weight=weights)
    f1 = 2 * precision * recall / np.maximum(precision + recall, 1e-12)
    return float(thresholds[int(np.argmax(f1[:-1]))])


def source_weights(sources: np.ndarray, mass: dict[str, float] | None = None, *, reference: str = "team") -> np.ndarray:
    """Per-row training weights: 1, except that each source named in ``mass`` gets at most
    that share of the ``reference`` source's total weight, and imported corrections weigh
    :data:`~pipeline.config.IMPORTED_WEIGHT`. Without the reference source (a source left out
    of training) nothing is capped: the sources that remain are what there is to learn from."""
    mass = SOURCE_MASS if mass is None else mass
    weights = np.where(sources == "imported", IMPORTED_WEIGHT, 1.0)
    n_reference = int((sources == reference).sum())
    if not n_reference:
        return weights
    for source, share in mass.items():
        rows = sources == source
        if rows.any():
            weights[rows] = min(1.0, share * n_reference / rows.sum())
    return weights


def inner_fold_groups(paragraphs: pd.DataFrame, *, by: str = INNER_FOLDS) -> np.ndarray:
    """What each inner fold of :func:`fit` keeps whole, per paragraph: its ``group`` (an article,
    a Webis product) with ``by="group"``; with ``by="topic"`` a team-corpus paragraph's topic
    instead, where the catalog names one."""
    groups = paragraphs["group"].astype(str).to_numpy()
    if by == "group":
        return groups
    if by != "topic":
        raise ValueError(f"inner folds can keep 'group' or 'topic' whole, not {by!r}")
    if "topic" not in paragraphs:
        return groups
    topic = paragraphs["topic"]
    by_topic = ((paragraphs["source"] == "team") & topic.notna()).to_numpy()
    return np.where(by_topic, ("topic:" + topic.fillna("").astype(str)).to_numpy(dtype=object), groups)


def _group_folds(groups: np.ndarray, n_splits: int):
    n_groups = len(np.unique(groups))
    return GroupKFold(n_splits=max(2, min(n_splits, n_groups))).split(np.zeros(len(groups)), groups=groups)


def _fit_classifier(classifier, X, y, weights):
    if isinstance(classifier, Pipeline):
        return clone(classifier).fit(X, y, classifier__sample_weight=weights)
    return clone(classifier).fit(X, y, sample_weight=weights)


@dataclass
class _Specialist:
    recipe: dict
    classifier: LogisticRegression | Pipeline
    rows: np.ndarray  # the unit rows it trains on
    weights: np.ndarray  # per unit row, over the whole training set
    reads_text: bool = False  # features of its own from the units' text, rather than ``X``


def _specialists(data: TrainingSet, recipes: dict[str, dict]) -> dict[str, _Specialist]:
    """The specialist classifiers this training set can teach: those whose sources are present
    with at least one promotional row.

    A recipe names its ``sources``, ``C`` and ``source_mass``; ``features: "text"`` gives it
    its own (:func:`~pipeline.features.text_classifier`, taking the recipe's ``n_features``,
    ``char_analyzer`` and ``char_ngrams`` where given) instead of the base features, and
    ``units: "sentences"`` trains it on sentences alone, for promotion that sits in one
    sentence of an otherwise informational paragraph."""
    unit_para = data.units.frame["para"].to_numpy()
    sources = data.paragraphs["source"].to_numpy()
    leaves = leaf_units(data.units.frame)
    out = {}
    for name, recipe in recipes.items():
        rows = np.isin(sources, list(recipe["sources"]))[unit_para]
        if recipe.get("units", "all") == "sentences":
            rows &= leaves
        if not data.y[rows].any():
            continue
        weights = source_weights(sources, recipe.get("source_mass", {}), reference=recipe["sources"][0])[unit_para]
        C = recipe.get("C", 1.0)
        reads_text = recipe.get("features", "base") == "text"
        if reads_text:
            options = {key: recipe[key] for key in ("n_features", "char_analyzer", "char_ngrams") if key in recipe}
            classifier = text_classifier(C=C, **options)
        else:
            classifier = LogisticRegression(C=C, class_weight="balanced", tol=1e-3, max_iter=500)
        out[name] = _Specialist(dict(recipe), classifier, rows, weights, reads_text)
    return out


def _fold_margins(learner, inputs, y: np.ndarray, train: np.ndarray, test: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Margins on ``test`` rows of ``learner`` fitted on ``train`` rows of ``inputs`` (the
    feature matrix, or the unit table for a learner with its own features); a fold whose
    training rows hold one class only gives that class's extreme margin."""
    y = y[train]
    if not len(y) or y.min() == y.max():
        return np.full(int(test.sum()), 10.0 if len(y) and y[0] else -10.0)
    model = _fit_classifier(learner, inputs[train], y, weights[train])
    return model.decision_function(inputs[test])


def _excerpts(article_ids: np.ndarray, usable: np.ndarray, *, min_length: int = 8, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Short excerpts of the longer articles, as extra training rows for the context stage:
    paragraph indices and an excerpt key for each.

    Without them, every short text in training is a Webis answer, and the context stage learns
    "short text: trust the native-ads specialist", missing a plain pitch in a short article.
    Each article of at least ``min_length`` paragraphs gives its last 2-6 paragraphs (where
    pitches close articles) and a window of 2-6 paragraphs from anywhere in it."""
    rng = np.random.default_rng(seed)
    cuts = np.flatnonzero(article_ids[1:] != article_ids[:-1]) + 1
    index, key = [], []
    for lo, hi in zip(np.r_[0, cuts], np.r_[cuts, len(article_ids)]):
        if hi - lo < min_length or not usable[lo:hi].all():
            continue
        for start, length in ((None, int(rng.integers(2, 7))), (int(rng.integers(lo, hi - 1)), int(rng.integers(2, 7)))):
            first = hi - length if start is None else min(start, hi - length)
            index.append(np.arange(first, first + length))
            key.append(np.full(length, len(key)))
    if not index:
        return np.empty(0, dtype=int), np.empty(0, dtype=int)
    return np.concatenate(index), np.concatenate(key)


def fit(
    data: TrainingSet,
    *,
    folds: int = 4,
    C: float = BASE_C,
    context_C: float = 1.0,
    context: str = "logistic",
    source_mass: dict[str, float] | None = None,
    context_mass: dict[str, float] | None = None,
    experts: dict[str, dict] | None = None,
    inner_folds: str = INNER_FOLDS,
    meta: dict | None = None,
) -> tuple[PromoModel, pd.DataFrame]:
    """Train a model on a prepared training set.

    ``source_mass`` caps the external sources' weight in the base classifier, ``context_mass``
    in the context stage and the threshold (defaults :data:`pipeline.config.SOURCE_MASS` and
    :data:`pipeline.config.CONTEXT_MASS`). ``context`` names the context learner (see
    :func:`pipeline.context.context_candidates`), or ``"auto"`` to pick one by its out-of-fold
    PR-AUC on this training data. ``experts`` maps a specialist's name to its ``sources``, ``C``
    and ``source_mass`` (default :data:`pipeline.config.EXPERTS`; ``{}`` for none); a specialist
    whose sources hold no promotional paragraph here is left out. ``inner_folds`` says what the
    inner folds keep whole (:func:`inner_fold_groups`, default :data:`pipeline.config.INNER_FOLDS`).

    Returns the model and its out-of-fold paragraph predictions (``oof_score`` from the context
    stage, ``oof_base`` the largest base margin over the paragraph and its sentences), on which
    the thresholds were chosen.
    """
    classifier = base_pipeline(C=C).named_steps["classifier"]
    # Fold models only feed the context stage, which recalibrates: the plain regression will do.
    fold_classifier = classifier.estimator
    para_groups = inner_fold_groups(data.paragraphs, by=inner_folds)
    unit_para = data.units.frame["para"].to_numpy()
    sources = data.paragraphs["source"].to_numpy()
    unit_weights = source_weights(sources, source_mass)[unit_para]
    # The context stage, its choice of learner and the threshold weigh paragraphs by context_mass.
    para_weights = source_weights(sources, CONTEXT_MASS if context_mass is None else context_mass)
    specialists = _specialists(data, EXPERTS if experts is None else experts)
    everywhere = np.ones(len(data.y), dtype=bool)
    text = data.units.frame[["text"]]
    learners = [(fold_classifier, data.X, everywhere, unit_weights)] + [
        (spec.classifier, text if spec.reads_text else data.X, spec.rows, spec.weights)
        for spec in specialists.values()
    ]
    oof_units = [np.zeros(len(data.y)) for _ in learners]  # margins of the fold models
    for train_p, _ in _group_folds(para_groups, folds):
        in_fold = np.isin(unit_para, train_p)
        for (learner, inputs, rows, weights), oof in zip(learners, oof_units):
            oof[~in_fold] = _fold_margins(learner, inputs, data.y, in_fold & rows, ~in_fold, weights)
    n = len(data.paragraphs)
    blocks = [paragraph_margins(data.units.frame, oof, n) for oof in oof_units]
    kinds = data.paragraphs["kind"].tolist()
    para_text = paragraph_text(data.units, n)
    Xc = context_features(data.paragraphs["batch_article"].to_numpy(), kinds, blocks, para_text)
    y_par = data.y_paragraph
    # Imported corrections are single paragraphs without their labelled neighbours: they teach
    # the base classifier, not the context stage.
    whole = (data.paragraphs["source"] != "imported").to_numpy()
    excerpt, excerpt_key = _excerpts(data.paragraphs["batch_article"].to_numpy(), whole)
    X_excerpt = context_features(excerpt_key, [kinds[i] for i in excerpt], [block.take(excerpt) for block in blocks],
                                 para_text.take(excerpt))

    def context_rows(paragraphs: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Context-stage training rows for these paragraphs: their own, plus the excerpts cut
        from their articles."""
        cut = np.isin(excerpt, paragraphs)
        rows = np.r_[paragraphs, excerpt[cut]]
        return np.vstack([Xc[paragraphs], X_excerpt[cut]]), y_par[rows], para_weights[rows]

    # With context="auto", each candidate context learner is scored out of fold on this training
    # data only and the better one (weighted PR-AUC) kept, so an outer evaluation fold never
    # sways the choice.
    candidates = context_candidates(C=context_C, n_blocks=1 + len(specialists))
    if context != "auto":
        if context not in candidates:
            raise ValueError(f"unknown context learner {context!r}; use auto or one of {', '.join(candidates)}")
        candidates = {context: candidates[context]}
    oof_by_learner = {name: np.zeros(n) for name in candidates}
    for train_p, test_p in _group_folds(para_groups, folds):
        train_p = train_p[whole[train_p]]
        X_train, y_train, w_train = context_rows(train_p)
        for name, learner in candidates.items():
            stage = _fit_classifier(learner, X_train, y_train, w_train)
            oof_by_learner[name][test_p] = stage.predict_proba(Xc[test_p])[:, 1]
    learner_scores = {
        name: round(float(average_precision_score(y_par[whole], oof[whole], sample_weight=para_weights[whole])), 4)
        if 0 < y_par[whole].sum() < whole.sum() else 0.0
        for name, oof in oof_by_learner.items()
    }
    chosen = max(learner_scores, key=lambda name: (learner_scores[name], name == "logistic"))
    oof_final = oof_by_learner[chosen]
    threshold = best_f1_threshold(y_par[whole], oof_final[whole], para_weights[whole])
    sent = data.units.frame["is_sentence"].to_numpy()
    sentence_threshold = best_f1_threshold(data.y[sent], oof_units[0][sent], unit_weights[sent]) if sent.any() else 0.5

    final_classifier = _fit_classifier(classifier, data.X, data.y, unit_weights)
    fitted_experts = {
        name: _fit_classifier(spec.classifier, (text if spec.reads_text else data.X)[spec.rows], data.y[spec.rows],
                              spec.weights[spec.rows])
        for name, spec in specialists.items()
    }
    context = _fit_classifier(candidates[chosen], *context_rows(np.flatnonzero(whole)))
    base = Pipeline([("features", data.features), ("classifier", final_classifier)])
    coef = final_classifier.calibrated_classifiers_[0].estimator.coef_[0]
    numeric = coef[-len(NUMERIC_COLUMNS):]
    promotional_cues = [
        column[len("cue_"):].upper()
        for column, weight in zip(NUMERIC_COLUMNS, numeric)
        if column.startswith("cue_") and weight > 0
    ]
    model = PromoModel(
        nlp=data.nlp,
        base=base,
        context=context,
        threshold=threshold,
        sentence_threshold=sentence_threshold,
        experts=fitted_experts,
        meta={
            **(meta or {}),
            "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "params": {"C": C, "context_C": context_C, "folds": folds, "inner_folds": inner_folds,
                       "source_mass": SOURCE_MASS if source_mass is None else source_mass,
                       "context_mass": CONTEXT_MASS if context_mass is None else context_mass,
                       "experts": {name: spec.recipe for name, spec in specialists.items()}},
            "promotional_cues": promotional_cues,
            "context_stage": {"learner": chosen, "out_of_fold_pr_auc": learner_scores,
                              "features": context_feature_names(list(specialists))},
            "training_data": describe(data.paragraphs),
        },
    )
    oof = data.paragraphs[["source", "article", "group", "index", "label"]].copy()
    oof["oof_base"] = blocks[0].best
    oof["oof_score"] = oof_final
    return model, oof


def data_fingerprint(paragraphs: pd.DataFrame) -> str:
    """SHA-256 over every labelled paragraph's source, article, offsets, label and text."""
    digest = hashlib.sha256()
    for row in paragraphs[["source", "article", "start", "end", "label", "text"]].itertuples(index=False):
        digest.update("\x1f".join(map(str, row)).encode("utf-8", "surrogatepass"))
        digest.update(b"\x1e")
    return digest.hexdigest()


def describe(paragraphs: pd.DataFrame) -> dict:
    """Counts per source (articles, paragraphs, promotional) and the data fingerprint."""
    by_source = {}
    for source, frame in paragraphs.groupby("source"):
        by_source[str(source)] = {
            "articles": int(frame["article"].nunique()),
            "paragraphs": int(len(frame)),
            "promotional": int(frame["label"].sum()),
        }
    return {"sources": by_source, "sha256": data_fingerprint(paragraphs)}


def paragraph_units_for_scoring(data: TrainingSet, mask: np.ndarray) -> tuple[pd.DataFrame, UnitTable, sparse.csr_matrix]:
    """Paragraph table, unit table and feature rows of a subset, as :meth:`PromoModel.finish` takes."""
    part = data.subset(mask)
    return part.paragraphs, part.units, part.X
