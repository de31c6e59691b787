"""Specialist classifiers beside the general one, and the monotone boosted context stage."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.pipeline import Pipeline

from pipeline.context import (
    CONTEXT_FEATURES,
    boosted_context,
    context_feature_names,
    context_features,
    paragraph_margins,
    paragraph_text,
)
from pipeline.features import CapitalisedWords
from pipeline.ingest import discover, read_articles
from pipeline.model import PromoModel
from pipeline.sources import load_team
from pipeline.train import fit, prepare

NATIVE_ADS = {"native_ads": {"sources": ["webis", "medquad"], "C": 4.0, "source_mass": {"medquad": 0.3}}}
# the shipped recipe's form: features of its own from the text, trained on sentences
NATIVE_ADS_TEXT = {"native_ads": {**NATIVE_ADS["native_ads"], "features": "text", "units": "sentences",
                                   "char_analyzer": "char", "char_ngrams": (1, 4)}}


def _mixed_sources(corpus) -> pd.DataFrame:
    """The tiny team corpus with a third of its articles posing as Webis answers and a third of
    its clean articles as MedQuAD documents, so every source a specialist names is present."""
    paragraphs = load_team(articles_dir=corpus / "articles", labels_dir=corpus / "labels")
    promo = paragraphs.groupby("article")["label"].max()
    with_promo, clean = list(promo[promo == 1].index), list(promo[promo == 0].index)
    paragraphs.loc[paragraphs["article"].isin(with_promo[::3]), "source"] = "webis"
    paragraphs.loc[paragraphs["article"].isin(clean[::3]), "source"] = "medquad"
    return paragraphs


@pytest.mark.parametrize("recipe", [NATIVE_ADS, NATIVE_ADS_TEXT], ids=["base-features", "text-features"])
def test_a_specialist_is_trained_saved_and_scores_the_same_after_loading(tmp_path, tiny_corpus, article_folder, recipe):
    data = prepare(_mixed_sources(tiny_corpus(tmp_path / "corpus")))
    model, oof = fit(data, folds=2, context="boosted", experts=recipe)

    assert list(model.experts) == ["native_ads"]
    assert model.context.n_features_in_ == len(context_feature_names(["native_ads"])) == 2 * len(CONTEXT_FEATURES)
    assert model.meta["params"]["experts"]["native_ads"]["sources"] == ["webis", "medquad"]
    assert len(oof) == len(data.paragraphs) and oof["oof_score"].between(0, 1).all()

    articles = [a for a in read_articles(discover([article_folder])) if a.ok]
    before = model.score_articles(articles)
    loaded = PromoModel.load(model.save(tmp_path / "model"))
    assert list(loaded.experts) == ["native_ads"]
    assert isinstance(loaded.experts["native_ads"], Pipeline) == (recipe is NATIVE_ADS_TEXT)
    if recipe is NATIVE_ADS_TEXT:  # hashed, so no vocabulary swells the file
        assert (tmp_path / "model" / "expert-native_ads.skops").stat().st_size < 2_000_000
        chars = loaded.experts["native_ads"].named_steps["features"].named_transformers_["chars"].named_steps["counts"]
        assert (chars.analyzer, chars.ngram_range) == ("char", (1, 4))  # the recipe's, not the defaults
    after = loaded.score_articles(articles)
    pd.testing.assert_frame_equal(before, after)
    assert len(after) > 0


def test_text_classifier_refuses_an_unknown_character_analyzer():
    from pipeline.features import text_classifier

    with pytest.raises(ValueError, match="'chars'"):
        text_classifier(C=1.0, char_analyzer="chars")


def test_a_specialist_without_promotional_rows_is_left_out(tmp_path, tiny_corpus):
    paragraphs = load_team(articles_dir=tiny_corpus(tmp_path / "corpus") / "articles",
                           labels_dir=tmp_path / "corpus" / "labels")
    model, _ = fit(prepare(paragraphs), folds=2, experts=NATIVE_ADS)  # no webis, no medquad rows
    assert model.experts == {}
    assert model.context.named_steps["classifier"].n_features_in_ == len(CONTEXT_FEATURES)

    # Saved over a model that had the specialist, it leaves no stale specialist file behind.
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "expert-native_ads.skops").write_bytes(b"from an earlier training")
    model.save(tmp_path / "model")
    assert not list((tmp_path / "model").glob("expert-*"))


def test_a_sentence_specialist_learns_from_sentences_and_one_sentence_paragraphs_only(tmp_path, tiny_corpus):
    from pipeline.features import leaf_units
    from pipeline.train import _specialists

    data = prepare(_mixed_sources(tiny_corpus(tmp_path / "corpus")))
    frame = data.units.frame
    rows = _specialists(data, NATIVE_ADS_TEXT)["native_ads"].rows
    leaves = leaf_units(frame)
    split = frame.loc[frame["is_sentence"], "para"].unique()
    assert not leaves[(~frame["is_sentence"] & frame["para"].isin(split)).to_numpy()].any()
    assert leaves[frame["is_sentence"].to_numpy()].all()
    assert leaves[(~frame["para"].isin(split)).to_numpy()].all()
    in_sources = data.paragraphs["source"].isin(["webis", "medquad"]).to_numpy()[frame["para"].to_numpy()]
    np.testing.assert_array_equal(rows, in_sources & leaves)


def test_boosted_context_never_lowers_a_score_when_a_margin_rises():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(3000, 2 * len(CONTEXT_FEATURES)))
    # a label that, by itself, would teach the trees that a higher own margin is less promotional
    y = (X[:, 0] < 0) ^ (rng.random(3000) < 0.1)
    stage = boosted_context(n_blocks=2).fit(X, y)
    own = CONTEXT_FEATURES.index("own")
    for column in (own, len(CONTEXT_FEATURES) + own):
        low, high = X.copy(), X.copy()
        high[:, column] += 3.0
        assert (stage.predict_proba(high)[:, 1] >= stage.predict_proba(low)[:, 1] - 1e-12).all()


def test_excerpts_are_short_runs_inside_long_articles():
    from pipeline.train import _excerpts

    article_ids = np.array(["a"] * 20 + ["b"] * 5 + ["c"] * 9 + ["d"] * 12)
    usable = np.ones(len(article_ids), dtype=bool)
    usable[-1] = False  # an imported paragraph in "d": no excerpt from it
    index, key = _excerpts(article_ids, usable)
    by_key = {k: index[key == k] for k in np.unique(key)}
    assert len(by_key) == 4  # a tail and a window from each of "a" and "c"
    for run in by_key.values():
        assert 2 <= len(run) <= 6
        assert (np.diff(run) == 1).all()
        assert len(set(article_ids[run])) == 1 and article_ids[run[0]] in {"a", "c"}
    tails = [run for run in by_key.values() if run[-1] in (19, 33)]
    assert len(tails) >= 2


def test_context_mass_weighs_the_context_stage_and_not_the_base_classifier(tmp_path, tiny_corpus):
    data = prepare(_mixed_sources(tiny_corpus(tmp_path / "corpus")))
    mass = {"webis": 0.2, "medquad": 0.5}
    light, _ = fit(data, folds=2, experts={}, source_mass=mass, context_mass={"webis": 0.02, "medquad": 0.5})
    heavy, _ = fit(data, folds=2, experts={}, source_mass=mass, context_mass={"webis": 1.0, "medquad": 0.5})

    def base_coef(model):
        return model.base.named_steps["classifier"].calibrated_classifiers_[0].estimator.coef_

    np.testing.assert_array_equal(base_coef(light), base_coef(heavy))
    assert not np.allclose(light.context.named_steps["classifier"].coef_, heavy.context.named_steps["classifier"].coef_)
    assert light.meta["params"]["context_mass"]["webis"] == 0.02


def test_paragraphs_are_linked_by_the_names_they_share():
    from pipeline.features import featurize
    from pipeline.preprocess import build_nlp, process

    texts = [
        "About Zentora",  # a heading naming the product
        "Sleep apps track how long you sleep. Most are free.",
        "Zentora is a sleep app. Millions trust Zentora every night, so download it today.",
        "Sleep matters for memory. Researchers at Harvard studied it.",
        "Harvard also runs a sleep clinic.",
    ]
    kinds = ["heading", "paragraph", "paragraph", "paragraph", "paragraph"]
    units = featurize(process(build_nlp(), texts), kinds, [(i, len(texts)) for i in range(len(texts))])
    assert units.names[3] == ({"sleep", "researchers", "harvard"}, {"harvard"})
    assert "zentora" in units.names[2].mid_sentence and "zentora" in units.names[0].anywhere
    smax = np.array([0.5, -3.0, 4.0, -2.0, -1.0])
    blocks = [paragraph_margins(units.frame, smax[units.frame["para"].to_numpy()], 5)]
    text = paragraph_text(units, 5)
    X = context_features(np.zeros(5), kinds, blocks, text)
    linked = X[:, CONTEXT_FEATURES.index("name_link")]
    in_section = X[:, CONTEXT_FEATURES.index("section_name_link")]
    assert linked[0] == 4.0 and linked[2] == 0.5, "the heading and the pitch share Zentora"
    assert linked[3] == -1.0 and linked[4] == -2.0, "Harvard links the two research paragraphs"
    assert linked[1] == in_section[1] == -8.0, "Sleep opens sentences only: not a name, no link"
    assert in_section[0] == 4.0, "the heading's section holds the pitch"
    nameless = text._replace(names=[CapitalisedWords(frozenset(), frozenset())] * 5)
    without = context_features(np.zeros(5), kinds, blocks, nameless)
    assert (without[:, CONTEXT_FEATURES.index("name_link")] == -8.0).all()


def test_the_most_promotional_sentence_is_set_against_the_rest_of_its_article():
    from pipeline.features import featurize
    from pipeline.preprocess import build_nlp, process

    texts = [
        "Melatonin is a hormone made by the pineal gland. Levels rise in the evening.",
        "Doses of 0.5 to 3 mg are studied. Many of us sleep better with Dormivo gummies, a favourite of Harvard nurses.",
        "A trial at Harvard found little effect on total sleep.",
    ]
    kinds = ["paragraph"] * 3
    units = featurize(process(build_nlp(), texts), kinds, [(i, 3) for i in range(3)])
    frame = units.frame
    # every unit scores -2, except the Dormivo sentence (5) and the last paragraph (-1)
    margins = np.full(len(frame), -2.0)
    dormivo = frame["text"].str.contains("Dormivo").to_numpy()
    margins[dormivo] = 5.0
    margins[(frame["para"] == 2).to_numpy()] = -1.0
    block = paragraph_margins(frame, margins, 3)
    np.testing.assert_array_equal(block.leaf, [-2.0, 5.0, -1.0])
    np.testing.assert_array_equal(block.leaf_second, [-2.0, -2.0, -8.0])  # one leaf: the pad
    np.testing.assert_array_equal(block.leaf_count, [2, 2, 1])
    assert block.leaf_names[1] == {"dormivo", "harvard"}
    X = context_features(np.zeros(3), kinds, [block], paragraph_text(units, 3))

    def column(name):
        return X[:, CONTEXT_FEATURES.index(name)]

    # Harvard is named in two paragraphs, Dormivo in one sentence only
    np.testing.assert_array_equal(column("sentence_novel_names"), [0, 1, 0])
    mean = (-2.0 * 3 + 5.0 - 1.0) / 5
    np.testing.assert_allclose(column("sentence_above_mean"), [-2.0 - mean, 5.0 - mean, -1.0 - mean])
    np.testing.assert_allclose(column("sentence_above_others"), [-7.0, 6.0, -6.0])
    sentence = frame.loc[dormivo & frame["is_sentence"].to_numpy(), "text"].iat[0]
    np.testing.assert_allclose(column("sentence_length")[1], np.log1p(len(sentence)))
    np.testing.assert_allclose(column("paragraph_length"), np.log1p([len(t) for t in texts]))


def test_a_model_of_the_previous_format_scores_with_the_columns_it_was_trained_on():
    from pipeline.model import PromoModel

    legacy = PromoModel(nlp=None, base=None, context=None, experts={"native_ads": None}, meta={"format_version": 2})
    columns = legacy._context_columns()
    names = context_feature_names(["native_ads"])
    assert [names[i] for i in columns] == context_feature_names(["native_ads"], features=CONTEXT_FEATURES[:19])
    current = PromoModel(nlp=None, base=None, context=None, experts={"native_ads": None})
    assert len(current._context_columns()) == 2 * len(CONTEXT_FEATURES)
