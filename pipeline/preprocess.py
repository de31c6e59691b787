"""The spaCy preprocessing step: one ``Language`` that training and scoring share.

Built from ``spacy.blank("en")`` with rule and lookup components only, since no trained pipeline
can be installed here:

- ``sentencizer``: sentence boundaries, so sentences can be scored on their own;
- ``promo_cues``: the cue marker of :mod:`pipeline.cues` (phrase and Matcher patterns),
  writing ``doc.spans["cues"]``;
- ``lemmatizer`` (lookup mode): lemma n-gram features.

The pipeline is saved inside every model directory (``nlp/``: config, lookup tables, patterns),
so the exact preprocessing a model was trained with travels with it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from weakref import WeakKeyDictionary

import spacy
import srsly
from spacy.language import Language
from spacy.lookups import Lookups
from spacy.strings import get_string_id
from spacy.tokens import Doc

from .config import NLP_BATCH_SIZE
from .cues import cue_patterns  # noqa: F401  (registers the promo_cues factory)

__all__ = ["CUES_KEY", "LEMMATIZER", "LemmaTable", "build_nlp", "lemma_table", "load_nlp", "process", "save_nlp"]

CUES_KEY = "cues"
LEMMATIZER = "lemmatizer"


def build_nlp() -> Language:
    """Create the preprocessing pipeline from scratch (needs ``spacy-lookups-data`` once)."""
    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    cues = nlp.add_pipe("promo_cues", config={"spans_key": CUES_KEY})
    nlp.add_pipe("lemmatizer", name=LEMMATIZER, config={"mode": "lookup"})
    nlp.initialize()
    cues.add_patterns(cue_patterns())
    return nlp


class LemmaTable:
    """Word to lemma, as the lookup lemmatizer gives it, read straight from its saved table."""

    def __init__(self, by_hash: dict[int, str]) -> None:
        self._by_hash = by_hash

    def get(self, word: str, default: str | None = None) -> str | None:
        return self._by_hash.get(get_string_id(word), default)


# Tables read by load_nlp for pipelines loaded without their lemmatizer.
_TABLES: WeakKeyDictionary[Language, LemmaTable] = WeakKeyDictionary()


def _read_lemma_table(path: Path) -> LemmaTable | None:
    try:
        tables = srsly.msgpack_loads((path / LEMMATIZER / "lookups" / "lookups.bin").read_bytes())
        return LemmaTable(dict(tables["lemma_lookup"]))
    except (OSError, KeyError, TypeError, ValueError):
        return None


def load_nlp(path: str | Path, *, spacy_version: str | None = None) -> Language:
    """Load the preprocessing pipeline saved with a model, quickly.

    ``spacy_version`` is the version the pipeline was saved with. When it is the running one,
    the saved tokenizer is not read: the pipeline never customises spaCy's English tokenizer, so
    the one its config builds is the same, and reading the saved copy takes spaCy longer than
    the rest of the model together (every rule setter reloads all special cases). The
    lemmatizer's table is read straight from its file (spaCy's loader re-hashes its forty
    thousand entries one by one) and the lemmatizer left out: scoring never runs it (see
    :func:`process`), and :func:`lemma_table` and :func:`save_nlp` know where the table is.
    """
    path = Path(path)
    exclude = ["tokenizer"] if spacy_version == spacy.__version__ else []
    table = _read_lemma_table(path)
    if table is None:  # not a table this code knows how to read: spaCy's loader reads it
        return spacy.load(path, exclude=exclude)
    nlp = spacy.load(path, exclude=[*exclude, LEMMATIZER])
    _TABLES[nlp] = table
    return nlp


def save_nlp(nlp: Language, path: str | Path) -> None:
    """Save the pipeline, with its lemmatizer even when :func:`load_nlp` left it out."""
    if LEMMATIZER in nlp.pipe_names or nlp not in _TABLES:
        nlp.to_disk(Path(path))
    else:
        lemmatizer = nlp.add_pipe("lemmatizer", name=LEMMATIZER, config={"mode": "lookup"})
        lookups = Lookups()
        lookups.add_table("lemma_lookup", _TABLES[nlp]._by_hash)
        lemmatizer.lookups = lookups
        try:
            nlp.to_disk(Path(path))
        finally:
            nlp.remove_pipe(LEMMATIZER)
    _sort_sentencizer_chars(Path(path))


def _sort_sentencizer_chars(path: Path) -> None:
    # The sentencizer keeps its characters in a set and writes them in the order of this run's
    # string hashing, so every save would rewrite the file; sorted, a retrained model's diff
    # shows only what changed.
    config_path = path / "sentencizer.json"
    if config_path.is_file():
        config = srsly.read_json(config_path)
        if isinstance(config.get("punct_chars"), list):
            config["punct_chars"] = sorted(config["punct_chars"])
            srsly.write_json(config_path, config)


def process(nlp: Language, texts: Iterable[str], *, batch_size: int = NLP_BATCH_SIZE) -> Iterator[Doc]:
    """Run texts through the pipeline in batches (``nlp.pipe``), preserving order.

    The lemmatizer is skipped: its lookup depends on the word alone, so
    :func:`pipeline.features.featurize` makes it once per distinct word (see
    :func:`lemma_table`) instead of once per token.
    """
    disable = [LEMMATIZER] if LEMMATIZER in nlp.pipe_names else []
    return nlp.pipe(texts, batch_size=batch_size, disable=disable)


def lemma_table(nlp: Language):
    """The lookup lemmatizer's word-to-lemma table (anything with ``get(word, default)``)."""
    if LEMMATIZER in nlp.pipe_names:
        return nlp.get_pipe(LEMMATIZER).lookups.get_table("lemma_lookup")
    return _TABLES[nlp]
