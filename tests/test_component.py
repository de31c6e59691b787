"""The promo_flagger spaCy component and displaCy rendering."""

from __future__ import annotations

import spacy
from spacy import displacy

import pipeline  # noqa: F401  (registers the factory)

TEXT = (
    "Understanding Migraine\n\n"
    "Migraine is a neurological condition that causes recurring headaches, often with nausea.\n\n"
    "Triptans are commonly prescribed for acute attacks, and some people benefit from preventive medicines.\n\n"
    "Say goodbye to headaches with NeuroCalm patches! Order today and get 40% off with code CALM40."
)


def test_component_marks_promotional_spans():
    nlp = spacy.blank("en")
    nlp.add_pipe("promo_flagger")
    doc = nlp(TEXT)
    spans = doc.spans["promo"]
    assert [s.label_ for s in spans] == ["PROMOTIONAL"]
    assert spans[0].text.startswith("Say goodbye")
    assert 0.5 < spans[0]._.promo_score <= 1
    assert all(s.label_ == "SELLS" for s in doc.spans["promo_sentences"])
    assert len(doc._.promo_paragraphs) == 4


def test_displacy_draws_the_spans():
    nlp = spacy.blank("en")
    nlp.add_pipe("promo_flagger", config={"threshold": 0.5})
    docs = list(nlp.pipe([TEXT, "Just a plain sentence about sleep."]))
    markup = displacy.render(docs[0], style="span", options={"spans_key": "promo"})
    assert "PROMOTIONAL" in markup and "NeuroCalm" in markup
    assert len(docs[1].spans["promo"]) == 0
