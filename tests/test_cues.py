"""The spaCy preprocessing step and its promotional cues."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from pipeline.config import PROJECT_ROOT
from pipeline.preprocess import CUES_KEY, LEMMATIZER, build_nlp, lemma_table, load_nlp, save_nlp


@pytest.fixture(scope="module")
def nlp():
    return build_nlp()


def _cues(nlp, text: str) -> set[tuple[str, str]]:
    doc = nlp(text)
    return {(span.label_, span.text) for span in doc.spans[CUES_KEY]}


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Get your KetoBurn kit today!", {("IMPERATIVE", "Get"), ("CTA", "Get your"), ("BRAND", "KetoBurn"), ("URGENCY", "today")}),
        ("Use code SLEEP20 for 20% off at dreamwell.shop.", {("DISCOUNT", "code SLEEP20"), ("DISCOUNT", "20% off"), ("URL", "dreamwell.shop")}),
        ("Only $24.99 per bottle.", {("PRICE", "$24.99"), ("PRICE", "per bottle")}),
        ("Recommended by SafeRest.org", {("RECOMMENDED", "Recommended by"), ("URL", "SafeRest.org")}),
        ("This post is sponsored by Verdant Labs.", {("SPONSORED", "sponsored")}),
        ("Talk to your doctor before you start.", {("CARE_ADVICE", "Talk to your doctor")}),
        ("Previous", {("NAVIGATION", "Previous")}),
    ],
)
def test_cues_found(nlp, text, expected):
    assert expected <= _cues(nlp, text)


def test_imperative_only_at_sentence_start(nlp):
    cues = _cues(nlp, "Researchers try to get better data. Try it now.")
    assert ("IMPERATIVE", "Try") in cues
    assert not any(label == "IMPERATIVE" and text == "try" for label, text in cues)


def test_lemmas_come_from_lookup_tables(nlp):
    doc = nlp("The studies were running")
    assert [t.lemma_ for t in doc][1:] == ["study", "be", "run"]


def test_pipeline_round_trips_with_its_patterns(nlp, tmp_path):
    save_nlp(nlp, tmp_path / "nlp")
    again = load_nlp(tmp_path / "nlp")
    # The lemmatizer is left out on load; its table is read directly and gives the same lemmas.
    assert again.pipe_names == [name for name in nlp.pipe_names if name != LEMMATIZER]
    assert [lemma_table(again).get(w, w) for w in ("ran", "mice", "better")] == [
        lemma_table(nlp).get(w, w) for w in ("ran", "mice", "better")]
    save_nlp(again, tmp_path / "again")
    assert load_nlp(tmp_path / "again").pipe_names == again.pipe_names
    text = "Order now and claim your free trial at calmcove.health"
    assert _cues(again, text) == _cues(nlp, text)


def test_saved_pipeline_files_do_not_depend_on_hash_seed(tmp_path):
    # The sentencizer holds its characters in a set; saved unsorted, every retraining would
    # rewrite models/*/nlp/sentencizer.json in a new order.
    script = "import sys; from pipeline.preprocess import build_nlp, save_nlp; save_nlp(build_nlp(), sys.argv[1])"
    written = []
    for seed in ("1", "2"):
        out = tmp_path / f"nlp-{seed}"
        env = {**os.environ, "PYTHONHASHSEED": seed}
        subprocess.run([sys.executable, "-c", script, str(out)], check=True, env=env, cwd=PROJECT_ROOT)
        written.append((out / "sentencizer.json").read_bytes())
    assert written[0] == written[1]
