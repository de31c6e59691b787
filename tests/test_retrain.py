"""End to end: score, correct the model's mistakes, import, retrain, compare, promote."""

from __future__ import annotations

import json
import shutil

import pandas as pd

from pipeline.cli import EXIT_OK, main
from pipeline.config import ARTICLES_DIR, LABELS_DIR
from pipeline.labels import check_labels, read_label_file, store_labels
from pipeline.model import load_model
from pipeline.scoring import score_folder
from pipeline.sources import read_label_files
from pipeline.workflow import retrain_with_labels


def test_corrections_are_learned_and_base_metrics_hold(tmp_path, tiny_corpus):
    corpus = tiny_corpus(tmp_path / "corpus", n_articles=48)
    base_dir = tmp_path / "models" / "base"
    assert main(["train", "--sources", "team", "--corpus", str(corpus), "--out", str(base_dir), "--folds", "2", "--quiet"]) == EXIT_OK
    base = load_model(base_dir)

    # A fixture folder of team articles the base model never saw, with their true labels.
    truth = read_label_files([LABELS_DIR / "team.jsonl"])
    used = {p.name for p in (corpus / "articles").iterdir()}
    fresh = [a for a in truth["article"].unique() if a not in used][:10]
    folder = tmp_path / "fixture"
    folder.mkdir()
    for name in fresh:
        shutil.copy(ARTICLES_DIR / name, folder / name)
    run = tmp_path / "run"
    assert main(["score", str(folder), "--out", str(run), "--model", str(base_dir), "--quiet"]) in (0, 3)
    scored = pd.read_json(run / "paragraphs.jsonl", lines=True, dtype={"article": str})
    true_label = {(r.article, r.start): r.label for r in truth.itertuples()}
    scored["truth"] = [true_label.get((a, s)) for a, s in zip(scored["article"], scored["start"])]
    wrong = scored[scored["truth"].notna() & (scored["label"] != scored["truth"])]
    assert len(wrong) >= 3, "the tiny base model should make some mistakes"

    # The human supplies the right labels in the file `promoflag label` writes.
    run_meta = json.loads((run / "run.json").read_text())
    to_label = wrong.assign(source=[run_meta["sources"][a] for a in wrong["article"]], model_label=wrong["label"],
                            label=wrong["truth"])[["article", "source", "paragraph", "start", "end", "score", "model_label", "text", "label"]]
    label_file = tmp_path / "to_label.csv"
    to_label.to_csv(label_file, index=False)
    store = tmp_path / "labels"
    rows, problems = read_label_file(label_file)
    checked = check_labels(rows, labels_dir=store)
    # The same text may stand at two places (a repeated call to action): the second is a duplicate.
    assert not problems and all(p.kind == "duplicate" for p in checked.problems)
    stored = store_labels(checked.rows, labels_dir=store, annotator="test")

    new_dir = tmp_path / "models" / "with-labels"
    comparison = retrain_with_labels([stored], base_model=base_dir, out=new_dir, folds=3)
    new = load_model(new_dir)
    rescored = score_folder(folder, model=new)
    fixed = rescored.merge(wrong[["article", "start", "truth"]], on=["article", "start"])
    share_right = (fixed["label"] == fixed["truth"]).mean()
    # 0.85 before the context stage read sentence features (2026-11-22); since then 0.80 here
    assert share_right >= 0.80, f"only {share_right:.0%} of the corrected paragraphs are now right"
    old_auc = comparison["current"]["team"]["pr_auc"]
    new_auc = comparison["with_new_labels"]["team"]["pr_auc"]
    print(f"\ncorrected paragraphs now right: {share_right:.0%} of {len(fixed)}; team PR-AUC on the same folds "
          f"{old_auc:.3f} -> {new_auc:.3f}; new labels right out of fold {comparison['new_labels_right']}")
    assert new_auc >= old_auc - 0.05, (old_auc, new_auc)
    assert comparison["new_labels"] == len(checked.rows)
    assert json.loads((new_dir / "model.json").read_text())["recipe"]["labels"] == [str(stored)]
    assert load_model(base_dir).threshold == base.threshold, "the base model is left alone"
