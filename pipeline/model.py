"""The promotional-paragraph model: spaCy preprocessing, base classifier, context stage.

A :class:`PromoModel` scores a batch of articles in four steps: every paragraph goes through the
saved spaCy pipeline (``nlp.pipe``), paragraphs and their sentences become feature rows
(:mod:`pipeline.features`), the base scikit-learn pipeline and any specialist classifiers
(:data:`pipeline.config.EXPERTS`) score every row, and the context stage (:mod:`pipeline.context`)
turns those paragraph and sentence scores plus neighbourhood into the final probability. A
paragraph is promotional when that probability reaches the model's threshold, chosen on
cross-validation when the model was trained.

On disk a model is a directory: ``nlp/`` (spaCy config, lookups, cue patterns), ``base.skops``,
``context.skops`` and one ``expert-NAME.skops`` per specialist (scikit-learn objects in skops
format, loaded against an explicit list of trusted types, so loading runs no code), and
``model.json`` (threshold, versions, specialists, training data, metrics).
"""

from __future__ import annotations

import io
import json
import platform
import warnings
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import sklearn
import skops.io as sio
from skops.io.exceptions import UntrustedTypesFoundException
import spacy
from sklearn.pipeline import Pipeline
from spacy.language import Language

from .config import DEFAULT_MODEL_DIR, INFORMATIONAL, MODELS_DIR, PARAGRAPH_COLUMNS, PROMOTIONAL, VOCAB_LIMIT
from .context import (
    CONTEXT_FEATURES,
    FIRST_CONTEXT_FEATURES,
    context_feature_names,
    context_features,
    paragraph_margins,
    paragraph_text,
)
from .features import UnitTable, featurize
from .ingest import Article
from .preprocess import lemma_table, load_nlp, process, save_nlp

__all__ = [
    "PromoModel",
    "ModelError",
    "load_model",
    "default_model_dir",
    "promote_model",
    "base_outputs",
    "expert_margins",
    "FORMAT_VERSION",
]

# 2: the context stage reads name links (two more features per block); 3: it also reads each
# paragraph's length and its most promotional sentence against the article's others (five more).
# A format-2 model still scores with the columns it was trained on; older ones are refused.
FORMAT_VERSION = 3
_CONTEXT_FEATURES_OF_FORMAT = {2: FIRST_CONTEXT_FEATURES, 3: CONTEXT_FEATURES}
# Every type the base and context pipelines are built from; anything else in a model file is
# refused before it is loaded.
TRUSTED_TYPES = [
    "numpy.dtype",
    "numpy.ndarray",
    "numpy.float64",
    "numpy.int64",
    "builtins.slice",
    "sklearn.pipeline.Pipeline",
    "sklearn.compose._column_transformer.ColumnTransformer",
    "sklearn.feature_extraction.text.HashingVectorizer",
    "sklearn.calibration.CalibratedClassifierCV",
    "sklearn.calibration._CalibratedClassifier",
    "sklearn.calibration._SigmoidCalibration",
    "sklearn.linear_model._logistic.LogisticRegression",
    "sklearn.preprocessing._data.StandardScaler",
    "sklearn.utils._bunch.Bunch",
    # the boosted context stage (skops trusts the rest of HistGradientBoostingClassifier itself)
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
]


class ModelError(Exception):
    """A model directory is missing, incomplete, or contains something untrusted."""


def base_outputs(base: Pipeline, X) -> tuple[np.ndarray, np.ndarray]:
    """Margins (raw decision values) of the base regression and its calibrated probabilities,
    for feature rows already transformed by the pipeline's ``features`` step.

    The context stage reads margins: the fold models it was trained on are uncalibrated, and
    margins are on the same scale for both, whereas calibrated probabilities are not.
    """
    if X.shape[0] == 0:
        return np.empty(0), np.empty(0)
    # One calibrated classifier (ensemble=False): its sigmoid maps the margins to what
    # predict_proba would give, without computing the margins a second time.
    calibrated = base.named_steps["classifier"].calibrated_classifiers_[0]
    margins = calibrated.estimator.decision_function(X)
    return margins, np.clip(calibrated.calibrators[0].predict(margins), 0.0, 1.0)


def expert_margins(expert, X, frame: pd.DataFrame) -> np.ndarray:
    """Margins of a specialist classifier for the units of a batch (none for an empty batch):
    over the base features ``X``, or, for a specialist with features of its own (a
    ``Pipeline``), over the units' text in ``frame``."""
    if X.shape[0] == 0:
        return np.empty(0)
    return expert.decision_function(frame[["text"]] if isinstance(expert, Pipeline) else X)


def _dump_skops(obj, path: Path) -> None:
    # Compressed: a hashed specialist's arrays are mostly zeros (34 MB stored, 6 MB deflated).
    sio.dump(obj, path, compression=zipfile.ZIP_DEFLATED)


def _load_skops(path: Path):
    if not path.is_file():
        raise ModelError(f"model file missing: {path}")
    data = path.read_bytes()  # read once: checked, audited and built from memory
    # Anything but a skops archive (say a pickle renamed to .skops) is refused before skops reads
    # it, so that a real model file which fails to build keeps its own error below.
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            is_skops = "schema.json" in archive.namelist()
    except zipfile.BadZipFile:
        is_skops = False
    if not is_skops:
        raise ModelError(f"{path} is not a skops model file (no skops schema in it); it was not loaded")
    # skops audits every type in the archive before it builds any object, so one pass both checks
    # and loads; the separate scan runs only to name what was refused.
    try:
        return sio.load(io.BytesIO(data), trusted=TRUSTED_TYPES)
    except UntrustedTypesFoundException:
        untrusted = [t for t in sio.get_untrusted_types(data=data) if t not in TRUSTED_TYPES]
        raise ModelError(
            f"{path} contains types promoflag does not trust: {', '.join(sorted(untrusted))}. "
            "It was not loaded; retrain the model with `promoflag train`."
        ) from None
    except Exception as exc:  # skops raises whatever the estimator being rebuilt raises
        raise ModelError(
            f"{path} could not be rebuilt ({type(exc).__name__}: {exc}); it may have been written by "
            "other library versions (see `versions` in model.json). Retrain it with `promoflag train`."
        ) from exc


@dataclass
class PromoModel:
    """A trained model: preprocessing, base classifier, context stage and decision threshold."""

    nlp: Language
    base: Pipeline
    context: Pipeline
    threshold: float = 0.5
    sentence_threshold: float = 0.0  # a margin of the base regression, not a probability
    experts: dict = field(default_factory=dict)  # name -> specialist LogisticRegression on the same features
    meta: dict = field(default_factory=dict)
    source: Path | None = None  # the directory it was loaded from

    # -- scoring -------------------------------------------------------------------------
    def featurize_articles(self, articles: Sequence[Article]) -> tuple[pd.DataFrame, UnitTable]:
        """Paragraph index table and feature rows for a batch of readable articles."""
        rows = [
            (n, article.id, i, len(article.paragraphs), p.start, p.end, p.kind)
            for n, article in enumerate(articles)
            for i, p in enumerate(article.paragraphs)
        ]
        paragraphs = pd.DataFrame(rows, columns=["batch_article", "article", "paragraph", "count", "start", "end", "kind"])
        texts = [articles[r[0]].text[r[4]:r[5]] for r in rows]
        paragraphs["text"] = texts
        docs = process(self.nlp, texts)
        units = featurize(docs, [r[6] for r in rows], [(r[2], r[3]) for r in rows], lemma_table=lemma_table(self.nlp))
        self._bound_vocabulary()
        return paragraphs, units

    def _bound_vocabulary(self) -> None:
        # spaCy's vocabulary keeps every distinct word it has seen, so on a long run over new text
        # it grows without end; a fresh copy of the pipeline (same files, same features) starts
        # it again. Everything the features cache is keyed by string hashes, which do not change.
        if self.source is not None and len(self.nlp.vocab) > VOCAB_LIMIT:
            self.nlp = load_nlp(self.source / "nlp", spacy_version=self.meta.get("versions", {}).get("spacy"))

    def score_articles(self, articles: Sequence[Article], *, threshold: float | None = None) -> pd.DataFrame:
        """Score every paragraph of the given articles (those without an error).

        Returns a DataFrame with the columns of ``paragraphs.csv`` (see
        :data:`pipeline.config.PARAGRAPH_COLUMNS`).
        """
        articles = [a for a in articles if a.ok]
        if not articles:
            return pd.DataFrame(columns=PARAGRAPH_COLUMNS)
        paragraphs, units = self.featurize_articles(articles)
        X = self.base.named_steps["features"].transform(units.frame)
        return self.finish(paragraphs, units, X, threshold=threshold)

    def finish(
        self,
        paragraphs: pd.DataFrame,
        units: UnitTable,
        X,
        *,
        threshold: float | None = None,
    ) -> pd.DataFrame:
        """From the feature rows of every unit (``X``, already transformed by the base
        pipeline's ``features`` step) to labelled paragraph rows, context stage included."""
        threshold = self.threshold if threshold is None else threshold
        frame = units.frame
        margins, probabilities = base_outputs(self.base, X)
        n = len(paragraphs)
        blocks = [paragraph_margins(frame, margins, n)] + [
            paragraph_margins(frame, expert_margins(expert, X, frame), n) for expert in self.experts.values()
        ]
        in_context = context_features(paragraphs["batch_article"].to_numpy(), list(paragraphs["kind"]), blocks,
                                      paragraph_text(units, n))
        in_context = in_context[:, self._context_columns()]
        scores = self.context.predict_proba(in_context)[:, 1]
        flagged = scores >= threshold
        out = paragraphs[["article", "paragraph", "start", "end", "text"]].copy()
        out["score"] = np.round(scores, 4)
        out["label"] = np.where(flagged, PROMOTIONAL, INFORMATIONAL)
        out["cues"] = self._explain(units, in_context, flagged)
        out["sentences"] = self._flag_sentences(frame, margins, probabilities, paragraphs, flagged)
        return out.reset_index(drop=True)

    def _context_columns(self) -> np.ndarray:
        """Columns of :func:`~pipeline.context.context_features` that this model's context stage
        was trained on (a model of an earlier format reads fewer)."""
        features = _CONTEXT_FEATURES_OF_FORMAT[self.meta.get("format_version", FORMAT_VERSION)]
        every = context_feature_names(list(self.experts))
        return np.array([every.index(name) for name in context_feature_names(list(self.experts), features=features)])

    def _flag_sentences(
        self,
        frame: pd.DataFrame,
        margins: np.ndarray,
        probabilities: np.ndarray,
        paragraphs: pd.DataFrame,
        flagged: np.ndarray,
    ) -> list[list[dict]]:
        """For each flagged paragraph, the sentences that sell: those whose margin reaches the
        sentence threshold, or else the most promotional one (article offsets, probability)."""
        result: list[list[dict]] = [[] for _ in range(len(paragraphs))]
        sent = frame["is_sentence"].to_numpy()
        para_of = frame["para"].to_numpy()
        starts, ends = frame["start"].to_numpy(), frame["end"].to_numpy()
        offsets = paragraphs["start"].to_numpy()
        by_para: dict[int, list[int]] = {}
        for row in np.flatnonzero(sent & flagged[para_of]):
            by_para.setdefault(int(para_of[row]), []).append(row)
        for p in np.flatnonzero(flagged):
            rows = by_para.get(int(p))
            if not rows:  # one sentence: the paragraph is the sentence
                result[p] = [{"start": int(offsets[p]), "end": int(paragraphs["end"].iat[p]),
                              "score": float(round(probabilities[np.flatnonzero((para_of == p) & ~sent)[0]], 4))}]
                continue
            chosen = [r for r in rows if margins[r] >= self.sentence_threshold]
            if not chosen:
                chosen = [max(rows, key=lambda r: margins[r])]
            result[p] = [
                {"start": int(offsets[p] + starts[r]), "end": int(offsets[p] + ends[r]),
                 "score": float(round(probabilities[r], 4))}
                for r in chosen
            ]
        return result

    def _explain(self, units: UnitTable, X: np.ndarray, flagged: np.ndarray) -> list[list[str]]:
        """Cues behind each paragraph: matched cue phrases of the kinds the base model weighs
        towards promotional, and, for flagged paragraphs, the context that raised the score."""
        positive = set(self.meta.get("promotional_cues", []))
        heading = X[:, CONTEXT_FEATURES.index("section_heading")]
        neighbours = np.maximum(X[:, CONTEXT_FEATURES.index("previous")], X[:, CONTEXT_FEATURES.index("next")])
        out: list[list[str]] = []
        for p, cues in enumerate(units.cues):
            found = [f"{label.lower()}: {text}" for label, text in cues if label in positive]
            if flagged[p]:
                if heading[p] > 0:
                    found.append("context: under a promotional heading")
                if neighbours[p] > 0:
                    found.append("context: next to promotional text")
            out.append(found[:12])
        return out

    # -- persistence ---------------------------------------------------------------------
    def save(self, path: str | Path) -> Path:
        """Write the model directory (created if needed) and return its path."""
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        save_nlp(self.nlp, path / "nlp")
        _dump_skops(self.base, path / "base.skops")
        _dump_skops(self.context, path / "context.skops")
        for name, expert in self.experts.items():
            _dump_skops(expert, path / f"expert-{name}.skops")
        # A retrain into the same directory may drop a specialist (its sources left the mix).
        for stale in path.glob("expert-*.skops"):
            if stale.stem.removeprefix("expert-") not in self.experts:
                stale.unlink()
        meta = {
            **self.meta,
            "experts": list(self.experts),
            "format_version": self.meta.get("format_version", FORMAT_VERSION),  # a loaded older model keeps its own
            "threshold": self.threshold,
            "sentence_threshold": self.sentence_threshold,
            "versions": library_versions(),
        }
        (path / "model.json").write_text(json.dumps(meta, indent=2, default=str) + "\n", encoding="utf-8")
        return path

    @classmethod
    def load(cls, path: str | Path = DEFAULT_MODEL_DIR) -> PromoModel:
        """Load a model directory, refusing files that hold untrusted types."""
        path = Path(path)
        meta_path = path / "model.json"
        if not meta_path.is_file():
            raise ModelError(f"not a promoflag model directory (no model.json): {path}")
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        saved_format = meta.get("format_version", 1)
        if saved_format not in _CONTEXT_FEATURES_OF_FORMAT:
            raise ModelError(
                f"model {path} was saved in model format {saved_format}; this promoflag reads formats "
                f"{', '.join(map(str, _CONTEXT_FEATURES_OF_FORMAT))}. Retrain it with `promoflag train`."
            )
        _warn_on_version_mismatch(meta.get("versions", {}), path)
        return cls(
            nlp=load_nlp(path / "nlp", spacy_version=meta.get("versions", {}).get("spacy")),
            base=_load_skops(path / "base.skops"),
            context=_load_skops(path / "context.skops"),
            experts={name: _load_skops(path / f"expert-{name}.skops") for name in meta.get("experts", [])},
            threshold=float(meta["threshold"]),
            sentence_threshold=float(meta.get("sentence_threshold", 0.0)),
            meta=meta,
            source=path,
        )


def library_versions() -> dict[str, str]:
    """Versions a model records, so a mismatch can be reported on load."""
    from . import __version__

    return {
        "python": platform.python_version(),
        "spacy": spacy.__version__,
        "scikit-learn": sklearn.__version__,
        "pandas": pd.__version__,
        "skops": sio.__version__ if hasattr(sio, "__version__") else _skops_version(),
        "promoflag": __version__,
    }


def _skops_version() -> str:
    from importlib.metadata import version

    return version("skops")


def _warn_on_version_mismatch(saved: dict, path: Path) -> None:
    current = library_versions()
    for name in ("scikit-learn", "spacy"):
        if saved.get(name) and saved[name].split(".")[:2] != current[name].split(".")[:2]:
            warnings.warn(
                f"model {path} was built with {name} {saved[name]}, this environment has "
                f"{current[name]}; scores may differ. Retrain with `promoflag train` to be sure.",
                stacklevel=3,
            )


def default_model_dir() -> Path:
    """The model used when none is named: the one ``promoflag promote`` chose (its name in
    ``models/DEFAULT``), else the shipped ``models/default``."""
    pointer = MODELS_DIR / "DEFAULT"
    if pointer.is_file():
        chosen = MODELS_DIR / pointer.read_text(encoding="utf-8").strip()
        if (chosen / "model.json").is_file():
            return chosen
    return DEFAULT_MODEL_DIR


def promote_model(name: str, *, models_dir: Path = MODELS_DIR) -> Path:
    """Make the model ``models_dir/name`` the default (recorded in ``models_dir/DEFAULT``);
    every model directory is kept."""
    chosen = models_dir / name
    if not (chosen / "model.json").is_file():
        raise ModelError(f"no model named {name} in {models_dir}")
    tmp = models_dir / ".DEFAULT.tmp"
    tmp.write_text(name + "\n", encoding="utf-8")
    tmp.replace(models_dir / "DEFAULT")
    return chosen


def load_model(path: str | Path | None = None) -> PromoModel:
    """Load a model directory; with no path, the default model (see :func:`default_model_dir`)."""
    return PromoModel.load(default_model_dir() if path is None else path)

