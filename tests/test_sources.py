"""Readers of the labelled sources: team labels, seeds labels, Webis and MedQuAD formats."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from pipeline.evaluate import metrics_by_source
from pipeline.sources import load_medquad, load_seeds, load_team, load_webis
from pipeline.train import _unit_labels, inner_fold_groups, source_weights


def test_webis_reader_groups_twins_and_labels_the_ad(tmp_path):
    ad = "Banks offer many accounts. For effortless saving, TrustyBank's Goal Vault helps you reach targets faster.\nCompare fees before you open one."
    rows = [
        {"id": "1-000001-A", "response": ad, "label": 1, "advertisement": "TrustyBank",
         "span": f"({ad.index('For effortless')}, {ad.index(chr(10))})", "sen_span": "(0, 10)", "meta_topic": "banking"},
        {"id": "1-000001-N", "response": "Banks offer many accounts.\nCompare fees before you open one.", "label": 0,
         "advertisement": None, "span": None, "sen_span": None, "meta_topic": "banking"},
        {"id": "1-000002-N", "response": "Stretch daily.", "label": 0, "advertisement": None, "span": None,
         "sen_span": None, "meta_topic": "workout"},
    ]
    path = tmp_path / "webis.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")
    frame = load_webis(path)
    assert frame.groupby("article")["group"].first().to_dict() == {
        "1-000001-A": "webis:TrustyBank", "1-000001-N": "webis:TrustyBank", "1-000002-N": "webis:1-000002"}
    ad_rows = frame[frame["article"] == "1-000001-A"]
    assert ad_rows["label"].tolist() == [1, 0]
    first = ad_rows.iloc[0]
    assert first["text"][int(first["promo_start"] - first["start"]):].startswith("For effortless")


def test_medquad_reader_segments_documents(tmp_path):
    rows = [
        {"id": "m:1:p0", "text": "Key Points\n- Flu is a virus.\n- Vaccines help.", "label": "informational", "source": "x", "group": "m:1"},
        {"id": "m:1:p1", "text": "Call your doctor if a fever lasts.", "label": "informational", "source": "x", "group": "m:1"},
        {"id": "m:2:p0", "text": "Asthma narrows the airways.", "label": "informational", "source": "x", "group": "m:2"},
    ]
    path = tmp_path / "medquad.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")
    frame = load_medquad(path)
    assert frame["label"].sum() == 0
    assert frame[frame["group"] == "m:1"]["text"].tolist() == [
        "Key Points", "Flu is a virus.", "Vaccines help.", "Call your doctor if a fever lasts."]
    assert len(load_medquad(path, limit_groups=1)["group"].unique()) == 1


def test_missing_shared_data_gives_empty_tables(tmp_path):
    assert load_webis(tmp_path / "none.jsonl").empty
    assert load_medquad(tmp_path / "none.jsonl").empty
    assert load_seeds(seeds_dir=tmp_path / "none").empty


def test_seed_labels_cover_every_paragraph(seeds_dir):
    frame = load_seeds()
    assert frame["article"].nunique() == 5
    assert frame.groupby("article")["label"].sum().to_dict()["001_d786ecf54ecddeb4.txt"] == 0
    assert frame["label"].sum() >= 15


def test_sentence_labels_follow_partial_spans():
    import pandas as pd

    paragraphs = pd.DataFrame({"label": [1, 0], "start": [100, 300], "promo_start": [150, np.nan], "promo_end": [180, np.nan]})
    units = pd.DataFrame({"para": [0, 0, 0, 1], "is_sentence": [False, True, True, False],
                          "start": [0, 0, 50, 0], "end": [80, 49, 80, 20]})
    assert _unit_labels(paragraphs, units).tolist() == [1, 0, 1, 0]


def test_source_weights_cap_external_sources():
    sources = np.array(["team"] * 10 + ["webis"] * 100 + ["seeds"] * 5)
    weights = source_weights(sources, {"webis": 0.5})
    assert weights[sources == "team"].sum() == 10
    assert np.isclose(weights[sources == "webis"].sum(), 5)
    assert (weights[sources == "seeds"] == 1).all()


def test_metrics_by_source_answer_level():
    import pandas as pd

    frame = pd.DataFrame({
        "source": ["webis"] * 4, "article": ["a", "a", "b", "b"], "truth": [1, 0, 0, 0],
        "score": [0.9, 0.2, 0.6, 0.1], "flagged": [True, False, True, False]})
    m = metrics_by_source(frame)["webis"]
    assert m["answer_level"]["answers"] == 2 and m["answer_level"]["precision"] == 0.5
    assert m["recall"] == 1.0 and m["precision"] == 0.5


def test_team_articles_carry_their_catalog_topic(tmp_path, tiny_corpus):
    corpus = tiny_corpus(tmp_path / "corpus")
    paragraphs = load_team(articles_dir=corpus / "articles", labels_dir=corpus / "labels")
    catalog = pd.read_csv(corpus / "catalog.csv").set_index("article")["topic"]
    assert paragraphs["topic"].notna().all()
    assert (paragraphs["topic"] == paragraphs["article"].map(catalog)).all()

    (corpus / "catalog.csv").unlink()  # a corpus without a catalog still loads, without topics
    assert load_team(articles_dir=corpus / "articles", labels_dir=corpus / "labels")["topic"].isna().all()


def test_inner_folds_keep_a_team_topic_whole_and_other_groups_as_they_are():
    paragraphs = pd.DataFrame({
        "source": ["team", "team", "team", "webis", "medquad"],
        "group": ["team:a.txt", "team:b.txt", "team:c.txt", "webis:Brand", "medquad:7"],
        "topic": ["sleep", "sleep", None, "banking", None],
    })
    assert list(inner_fold_groups(paragraphs, by="topic")) == [
        "topic:sleep", "topic:sleep", "team:c.txt", "webis:Brand", "medquad:7"]
    assert list(inner_fold_groups(paragraphs, by="group")) == list(paragraphs["group"])
    assert list(inner_fold_groups(paragraphs.drop(columns="topic"), by="topic")) == list(paragraphs["group"])
    with pytest.raises(ValueError, match="'round'"):
        inner_fold_groups(paragraphs, by="round")
