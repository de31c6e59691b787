"""Public API: load_model, score_texts, score_folder, and the shipped model on the seeds."""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipeline import load_model, score_folder, score_texts
from pipeline.config import PARAGRAPH_COLUMNS
from pipeline.evaluate import seed_acceptance
from pipeline.ingest import article_from_text
from pipeline.model import base_outputs

PITCH = (
    "Why Sleep Matters\n\n"
    "Adults need seven or more hours of sleep. Short sleep is linked to high blood pressure, "
    "according to large cohort studies.\n\n"
    "Try DreamWell Drops Tonight\n\n"
    "DreamWell drops are the best way to fall asleep fast. Order now and use code REST30 for 30% off!"
)


def test_score_texts_returns_paragraph_frame(model):
    frame = score_texts({"sleep": PITCH}, model=model)
    assert isinstance(frame, pd.DataFrame)
    assert list(frame.columns) == PARAGRAPH_COLUMNS
    assert frame["paragraph"].tolist() == [0, 1, 2, 3]
    assert frame["score"].between(0, 1).all()
    for row in frame.itertuples():
        assert PITCH[row.start:row.end] == row.text
    labels = frame["label"].tolist()
    assert labels[1] == "informational"
    assert labels[3] == "promotional"
    flagged = frame.iloc[3]
    assert flagged["sentences"], "a flagged paragraph names the sentences that sell"
    assert any("discount" in cue for cue in flagged["cues"])


def test_threshold_override(model):
    everything = score_texts([PITCH], model=model, threshold=0.0)
    nothing = score_texts([PITCH], model=model, threshold=1.0)
    assert (everything["label"] == "promotional").all()
    assert (nothing["label"] == "informational").all()


def test_score_texts_html(model):
    frame = score_texts(["<h1>Title</h1><p>Body text about sleep.</p><script>x</script>"], model=model, html=True)
    assert frame["text"].tolist() == ["Title", "Body text about sleep."]


def test_score_folder(article_folder, model):
    frame = score_folder(article_folder, model=model)
    assert set(frame["article"]) == {"faq-1", "faq-2", "nested/page.html", "plain.txt"}
    plain = frame[frame["article"] == "plain.txt"]
    assert plain["label"].tolist()[-1] == "promotional"
    assert plain["label"].tolist()[1] == "informational"


def test_base_probabilities_are_the_calibrated_classifiers(model):
    _, units = model.featurize_articles([article_from_text("sleep", PITCH)])
    X = model.base.named_steps["features"].transform(units.frame)
    margins, probabilities = base_outputs(model.base, X)
    classifier = model.base.named_steps["classifier"]
    assert np.allclose(probabilities, classifier.predict_proba(X)[:, 1])
    assert np.allclose(margins, classifier.calibrated_classifiers_[0].estimator.decision_function(X))


def test_load_model_records_metadata():
    model = load_model()
    for key in ("threshold", "versions", "training_data", "recipe", "created"):
        assert key in model.meta
    assert 0 < model.threshold < 1


def test_shipped_model_on_seeds(seeds_dir, model):
    """The acceptance check of the scoring issue, with the shipped model."""
    frame = score_folder(seeds_dir, model=model)
    result = seed_acceptance(frame)
    assert result["required_flagged"] == {name: True for name in result["required_flagged"]}
    assert result["flagged_in_clean_articles"] == {"001_d786ecf54ecddeb4.txt": 0, "002_58ae7393e0773bd3.txt": 0}
