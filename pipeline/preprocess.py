"""The spaCy preprocessing step: one ``Language`` that training and scoring share.

Built from ``spacy.blank("en")`` with rule and lookup components only, since no trained pipeline
can be installed here:

- ``sentencizer``: sentence boundaries, so sentences can be scored on their own;
- ``promo_cues``: the cue marker of :mod:`pipeline.cues` (PhraseMatcher and Matcher patterns),
  writing ``doc.spans["cues"]``;
- ``lemmatizer`` (lookup mode): lemma n-gram features.

The pipeline is saved inside every model directory (``nlp/``: config, lookup tables, patterns),
so the exact preprocessing a model was trained with travels with it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

import spacy
from spacy.language import Language
from spacy.tokens import Doc

from .config import NLP_BATCH_SIZE
from .cues import cue_patterns  # noqa: F401  (registers the promo_cues factory)

__all__ = ["CUES_KEY", "build_nlp", "load_nlp", "process"]

CUES_KEY = "cues"


def build_nlp() -> Language:
    """Create the preprocessing pipeline from scratch (needs ``spacy-lookups-data`` once)."""
    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    cues = nlp.add_pipe("promo_cues", config={"spans_key": CUES_KEY})
    nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
    nlp.initialize()
    cues.add_patterns(cue_patterns())
    return nlp


def load_nlp(path: str | Path) -> Language:
    """Load the preprocessing pipeline saved with a model."""
    return spacy.load(Path(path))


def process(nlp: Language, texts: Iterable[str], *, batch_size: int = NLP_BATCH_SIZE) -> Iterator[Doc]:
    """Run texts through the pipeline in batches (``nlp.pipe``), preserving order."""
    return nlp.pipe(texts, batch_size=batch_size)
