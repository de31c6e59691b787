"""promoflag: find the promotional passages hidden in health articles.

Public API::

    from pipeline import load_model, score_folder, score_texts, score_to_folder

``score_folder`` and ``score_texts`` return a pandas DataFrame with one row per paragraph
(``article, paragraph, start, end, text, score, label, cues, sentences``). ``score_to_folder``
is the batch job behind ``promoflag score``: it streams a folder through the model (in worker
processes or on a Dask cluster) and writes the run's outputs.
"""

__version__ = "0.1.0"

from .model import PromoModel, load_model  # noqa: E402
from .scoring import score_folder, score_texts, score_to_folder  # noqa: E402
from . import component  # noqa: E402,F401  (registers the promo_flagger spaCy factory)

__all__ = ["__version__", "PromoModel", "load_model", "score_folder", "score_texts", "score_to_folder"]
