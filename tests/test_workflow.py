"""Smoke test of the whole workflow on a tiny corpus: train, evaluate, score with the result."""

from __future__ import annotations

import json

import pandas as pd

from pipeline.cli import main
from pipeline.config import ARTICLES_DIR, LABELS_DIR
from pipeline.evaluate import leave_articles_out
from pipeline.sources import load_team, read_label_files
from pipeline.train import prepare
from pipeline.workflow import refresh_model_card


def test_team_labels_match_articles():
    """Every label of the team corpus points at text whose hash it recorded."""
    from pipeline.sources import text_hash

    labels = read_label_files([LABELS_DIR / "team.jsonl"])
    for article, frame in labels.groupby("article"):
        text = (ARTICLES_DIR / article).read_text(encoding="utf-8")
        for row in frame.itertuples():
            assert text_hash(text[row.start:row.end]) == row.text_hash, (article, row.start)
    assert len(load_team()) >= len(labels) * 0.99


def test_train_evaluate_score_on_tiny_corpus(tmp_path, article_folder, tiny_corpus):
    corpus = tiny_corpus(tmp_path / "corpus")
    model_dir = tmp_path / "model"
    assert main(["train", "--sources", "team", "--corpus", str(corpus), "--out", str(model_dir), "--folds", "2", "--quiet"]) == 0
    meta = json.loads((model_dir / "model.json").read_text())
    assert meta["recipe"]["sources"] == ["team"] and meta["training_data"]["sha256"]
    assert meta["recipe"]["inner_folds"] == "topic" == meta["params"]["inner_folds"]
    assert "team" in meta["cv_metrics"]["by_source"]

    assert main(["evaluate", "--model", str(model_dir), "--folds", "2", "--no-loso", "--quiet"]) == 0
    metrics = json.loads((model_dir / "metrics.json").read_text())
    team = metrics["grouped_cv"]["by_source"]["team"]
    assert team["paragraphs"] > 100 and 0 <= team["pr_auc"] <= 1
    low, high = team["pr_auc_ci95"]
    assert low <= team["pr_auc"] <= high
    assert metrics["summary"]["cv/team"]["recall_at_precision_90_ci95"] == team["recall_at_precision_90_ci95"]
    card = (model_dir / "MODEL_CARD.md").read_text()
    assert "| cv/team |" in card and f"{team['pr_auc']:.3f} ({low:.3f}–{high:.3f})" in card

    # a mix comparison run after the evaluation shows in the card without evaluating again
    mixes = {"team+seeds": {"seeds": {"pr_auc": 0.9773, "pr_auc_ci95": [0.9529, 1.0], "acceptance_passed": False},
                            "medquad": {"flagged_share": 0.0085}}}
    (model_dir / "mixes.json").write_text(json.dumps(mixes))
    refresh_model_card(model_dir)
    card = (model_dir / "MODEL_CARD.md").read_text()
    assert "| team+seeds | 0.977 (0.953–1.000) | failed |" in card and "| cv/team |" in card

    out = tmp_path / "run"
    assert main(["score", str(article_folder), "--out", str(out), "--model", str(model_dir), "--quiet"]) in (0, 3)
    assert len(pd.read_csv(out / "paragraphs.csv")) > 0


def test_context_learner_choice_is_recorded_and_a_boosted_model_loads(tmp_path, article_folder, tiny_corpus):
    corpus = tiny_corpus(tmp_path / "corpus")
    model_dir = tmp_path / "auto"
    assert main(["train", "--sources", "team", "--corpus", str(corpus), "--out", str(model_dir), "--folds", "2",
                 "--context", "auto", "--quiet"]) == 0
    meta = json.loads((model_dir / "model.json").read_text())
    stage = meta["context_stage"]
    assert set(stage["out_of_fold_pr_auc"]) == {"logistic", "boosted"}
    assert stage["learner"] == max(stage["out_of_fold_pr_auc"], key=stage["out_of_fold_pr_auc"].get)
    assert meta["recipe"]["context"] == "auto"

    boosted = tmp_path / "boosted"
    assert main(["train", "--sources", "team", "--corpus", str(corpus), "--out", str(boosted), "--folds", "2",
                 "--context", "boosted", "--quiet"]) == 0
    out = tmp_path / "run"
    # Loading goes through the trusted-type check: the boosted stage's types must be on the list.
    assert main(["score", str(article_folder), "--out", str(out), "--model", str(boosted), "--quiet"]) in (0, 3)
    assert len(pd.read_csv(out / "paragraphs.csv")) > 0


def test_evaluate_can_hold_out_articles_by_name(tmp_path, tiny_corpus):
    corpus = tiny_corpus(tmp_path / "corpus")
    model_dir = tmp_path / "model"
    assert main(["train", "--sources", "team", "--corpus", str(corpus), "--out", str(model_dir), "--folds", "2", "--quiet"]) == 0
    names = sorted(p.name for p in (corpus / "articles").iterdir())
    held = [names[0], names[-1]]

    assert main(["evaluate", "--model", str(model_dir), "--hold-out-articles", ",".join(held), "--quiet"]) == 0
    report = json.loads((model_dir / "held_out_articles.json").read_text())
    assert report["held_out_articles"] == [",".join(held)] and report["articles"] == 2
    team = load_team(articles_dir=corpus / "articles", labels_dir=corpus / "labels")
    assert report["by_source"]["team"]["paragraphs"] == team["article"].isin(held).sum()

    # several groups: each left out in turn by its own model, figures per group and pooled
    assert main(["evaluate", "--model", str(model_dir), "--hold-out-articles", ";".join(held), "--quiet"]) == 0
    report = json.loads((model_dir / "held_out_articles.json").read_text())
    assert report["held_out_articles"] == held and set(report["by_group"]) == set(held)
    per_group = [report["by_group"][name]["by_source"]["team"]["paragraphs"] for name in held]
    assert per_group == [team["article"].eq(name).sum() for name in held]
    assert report["by_source"]["team"]["paragraphs"] == sum(per_group)

    assert main(["evaluate", "--model", str(model_dir), "--hold-out-articles", "no-such-*", "--quiet"]) == 2


def test_holding_out_an_article_holds_out_its_group(tmp_path, tiny_corpus):
    corpus = tiny_corpus(tmp_path / "corpus")
    paragraphs = load_team(articles_dir=corpus / "articles", labels_dir=corpus / "labels")
    first, second = sorted(paragraphs["article"].unique())[:2]
    paragraphs.loc[paragraphs["article"].isin([first, second]), "group"] = "near-copies"
    scored = leave_articles_out(prepare(paragraphs), [first], fit_kwargs={"folds": 2})
    assert set(scored["article"]) == {first, second}
