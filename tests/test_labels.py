"""The labelling loop: choosing paragraphs, importing every format, the label store."""

from __future__ import annotations

import csv
import json
import multiprocessing
from pathlib import Path

import pandas as pd
import pytest

from pipeline.cli import EXIT_OK, EXIT_UNREADABLE, main
from pipeline.datasheet import agreement
from pipeline.labels import check_labels, read_label_file, select_for_labelling, store_labels


@pytest.fixture()
def run_dir(article_folder, tmp_path) -> Path:
    out = tmp_path / "run"
    assert main(["score", str(article_folder), "--out", str(out), "--quiet"]) == EXIT_OK
    return out


@pytest.fixture()
def store(tmp_path) -> Path:
    folder = tmp_path / "labels"
    folder.mkdir()
    return folder


def test_selection_is_uncertain_spread_and_skips_labelled(run_dir, store):
    chosen = select_for_labelling(run_dir, n=4, labels_dir=store)
    assert len(chosen) == 4
    assert chosen["article"].nunique() == 4, "one per article before any article gives two"
    assert (chosen["label"] == "").all() and set(chosen["model_label"]) <= {"promotional", "informational"}
    assert all(Path(s.rsplit(":", 1)[0] if ".jsonl:" in s else s).is_file() for s in chosen["source"])
    first = chosen.iloc[0]
    store_labels(check_labels(read_label_file(_fill(chosen.head(1), run_dir / "one.csv"))[0], labels_dir=store).rows,
                 labels_dir=store)
    again = select_for_labelling(run_dir, n=4, labels_dir=store)
    assert not ((again["article"] == first["article"]) & (again["start"] == first["start"])).any()


def _fill(frame: pd.DataFrame, path: Path, label: str = "promotional") -> Path:
    frame = frame.copy()
    frame["label"] = label
    frame.to_csv(path, index=False)
    return path


def test_label_file_round_trip_via_cli(run_dir, tmp_path, store, monkeypatch):
    monkeypatch.setattr("pipeline.labels.LABELS_DIR", store)
    out = tmp_path / "to_label.csv"
    assert main(["label", str(run_dir), "--n", "5", "--out", str(out)]) == EXIT_OK
    rows = list(csv.DictReader(open(out, encoding="utf-8")))
    for row in rows:
        row["label"] = "informational"
    with open(out, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    labels, problems = read_label_file(out)
    assert len(labels) == 5 and not problems
    checked = check_labels(labels, labels_dir=store)
    assert len(checked.rows) == 5 and not checked.problems


def test_stale_offsets_are_reported(run_dir, tmp_path, store, article_folder):
    chosen = select_for_labelling(run_dir, n=10, labels_dir=store)
    plain = chosen[chosen["article"] == "plain.txt"].head(1)
    path = _fill(plain, tmp_path / "stale.csv")
    (article_folder / "plain.txt").write_text("Completely rewritten article.\n\nNothing is where it was.", encoding="utf-8")
    rows, _ = read_label_file(path)
    checked = check_labels(rows, labels_dir=store)
    assert not checked.rows
    assert [p.kind for p in checked.problems] == ["stale-offsets"]
    assert checked.problems[0].file == str(path) and checked.problems[0].line == 2


def test_run_table_with_edited_labels(run_dir, store):
    table = pd.read_csv(run_dir / "paragraphs.csv", keep_default_na=False)
    flip = {"promotional": "informational", "informational": "promotional"}
    table.loc[[0, 2], "label"] = [flip[v] for v in table.loc[[0, 2], "label"]]
    table.to_csv(run_dir / "paragraphs.csv", index=False)
    rows, problems = read_label_file(run_dir / "paragraphs.csv")
    assert [r.line for r in rows] == [2, 4], "only the edited rows are imported"
    assert [p.kind for p in problems] == ["unchanged"] and str(len(table) - 2) in problems[0].message
    checked = check_labels(rows, labels_dir=store)
    assert len(checked.rows) == 2 and not checked.problems, "offsets verified against the articles"


PRODIGY = [
    {"text": "Use code SAVE10 for 10% off DreamWell drops.", "label": "PROMOTIONAL", "answer": "accept"},
    {"text": "Melatonin is a hormone made by the pineal gland.", "label": "PROMOTIONAL", "answer": "reject"},
    {"text": "Skip me.", "label": "PROMOTIONAL", "answer": "ignore"},
    {"text": "Odd one.", "label": "SPAM", "answer": "accept"},
]


def test_prodigy_export(tmp_path, store):
    path = tmp_path / "prodigy.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in PRODIGY) + "\n", encoding="utf-8")
    rows, problems = read_label_file(path)
    assert [p.kind for p in problems] == ["ignored"]
    checked = check_labels(rows, labels_dir=store)
    assert [(r.label, r.line) for r in checked.rows] == [("promotional", 1), ("informational", 2)]
    assert [(p.kind, p.line) for p in checked.problems] == [("unknown-label", 4)]


def test_doccano_jsonl_and_csv(tmp_path, store):
    jsonl = tmp_path / "doccano.jsonl"
    jsonl.write_text(
        json.dumps({"id": 1, "text": "Book your free consultation today.", "label": ["promotional"]}) + "\n"
        + json.dumps({"id": 2, "text": "Statins lower LDL.", "label": ["informational", "promotional"]}) + "\n"
        + json.dumps({"id": 3, "text": "Unlabelled row.", "label": []}) + "\n",
        encoding="utf-8")
    rows, problems = read_label_file(jsonl)
    assert [r.label for r in rows] == ["promotional"]
    assert [(p.kind, p.line) for p in problems] == [("conflict", 2)]
    table = tmp_path / "doccano.csv"
    table.write_text("text,label\nShop now at calm.shop,promotional\nFever is common.,informational\n", encoding="utf-8")
    rows, problems = read_label_file(table)
    assert [(r.label, r.line) for r in rows] == [("promotional", 2), ("informational", 3)] and not problems


def test_label_studio_tasks(tmp_path, store):
    tasks = [
        {"id": 1, "data": {"text": "Get 20% off NightCalm gummies."},
         "annotations": [{"result": [{"type": "choices", "value": {"choices": ["promotional"]}}]}]},
        {"id": 2, "data": {"text": "Sleep apnea raises blood pressure."},
         "annotations": [{"result": [{"value": {"choices": ["informational"]}}]},
                         {"result": [{"value": {"choices": ["promotional"]}}]}]},
    ]
    path = tmp_path / "export.json"
    path.write_text(json.dumps(tasks), encoding="utf-8")
    rows, problems = read_label_file(path)
    assert [r.label for r in rows] == ["promotional"]
    assert [(p.kind, p.line) for p in problems] == [("conflict", 2)]


def test_duplicates_and_conflicts_within_and_against_the_store(tmp_path, store):
    path = tmp_path / "doccano.csv"
    path.write_text("text,label\nBuy now.,promotional\nBuy now.,promotional\nFever is common.,informational\n"
                    "Fever is common.,promotional\n", encoding="utf-8")
    rows, _ = read_label_file(path)
    checked = check_labels(rows, labels_dir=store)
    assert [(p.kind, p.line) for p in checked.problems] == [("duplicate", 3), ("conflict", 5)]
    assert [r.text for r in checked.rows] == ["Buy now."], "both sides of a conflict stay out"
    store_labels(checked.rows, labels_dir=store)
    again = check_labels(read_label_file(path)[0][:1], labels_dir=store)
    assert [p.kind for p in again.problems] == ["duplicate"]


def test_dry_run_writes_nothing(tmp_path, monkeypatch, store, capsys):
    monkeypatch.setattr("pipeline.labels.LABELS_DIR", store)
    path = tmp_path / "p.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in PRODIGY), encoding="utf-8")
    import pipeline.labels as labels

    monkeypatch.setattr(labels, "check_labels", lambda rows: check_labels(rows, labels_dir=store))
    monkeypatch.setattr(labels, "store_labels", lambda rows, annotator=None: store_labels(rows, labels_dir=store, annotator=annotator))
    assert main(["import-labels", str(path), "--dry-run"]) == EXIT_UNREADABLE
    assert "Would import 2 labels" in capsys.readouterr().out
    assert not list(store.glob("*.jsonl"))
    assert main(["import-labels", str(path), "--annotator", "editor-1"]) == EXIT_UNREADABLE
    [written] = store.glob("import-*.jsonl")
    records = [json.loads(line) for line in written.read_text().splitlines()]
    assert {r["annotator"] for r in records} == {"editor-1"} and {r["method"] for r in records} == {"import:prodigy"}


def _store_in_process(args):
    store, index = args
    from pipeline.labels import LabelRow, store_labels

    rows = [LabelRow(text=f"Process {index} paragraph {i}.", label="informational", file="x", line=i) for i in range(50)]
    return str(store_labels(rows, labels_dir=Path(store)))


def test_concurrent_imports_both_land(store):
    with multiprocessing.get_context("spawn").Pool(2) as pool:
        paths = pool.map(_store_in_process, [(str(store), 0), (str(store), 1)])
    assert len(set(paths)) == 2
    lines = [line for path in store.glob("import-*.jsonl") for line in path.read_text().splitlines()]
    assert len(lines) == 100
    assert not list(store.glob(".*.tmp"))


def _import_then_die(store: str) -> None:
    """Child process: an import killed by SIGKILL after writing its temporary file, before the rename."""
    import os
    import signal

    from pipeline import labels
    from pipeline.labels import LabelRow, store_labels

    labels.os.fsync = lambda fd: os.kill(os.getpid(), signal.SIGKILL)
    store_labels([LabelRow(text="Killed import.", label="informational", file="x", line=1)], labels_dir=Path(store))


def test_interrupted_imports_leave_no_labels_behind(store, monkeypatch):
    from pipeline import labels
    from pipeline.labels import LabelRow, read_label_file, store_labels

    row = LabelRow(text="A paragraph.", label="informational", file="x", line=1)
    monkeypatch.setattr(labels.os, "fsync", lambda fd: (_ for _ in ()).throw(KeyboardInterrupt()))
    with pytest.raises(KeyboardInterrupt):
        store_labels([row], labels_dir=store)
    assert list(store.iterdir()) == [store / ".lock"], "an interrupted import leaves no file"
    monkeypatch.undo()

    child = multiprocessing.get_context("spawn").Process(target=_import_then_die, args=(str(store),))
    child.start()
    child.join(60)
    assert child.exitcode == -9, "the import was killed"
    assert [p.name for p in store.glob(".import-*.tmp")], "a SIGKILL leaves only a temporary file"
    assert not list(store.glob("*.jsonl")), "...which is not a label file"

    path = store_labels([row], labels_dir=store)
    assert sorted(p.name for p in store.iterdir()) == [".lock", path.name], "the next import removes it"
    rows, problems = read_label_file(path)
    assert len(rows) == 1 and not problems


def test_agreement_compares_each_pair_on_shared_paragraphs():
    key = {"article": ["a.txt"] * 4, "start": [0, 10, 20, 30], "end": [9, 19, 29, 39]}
    original = pd.DataFrame({**key, "label": ["promotional", "promotional", "informational", "informational"],
                             "style": ["cta", "pitch", None, None]})
    second = pd.DataFrame({**key, "label": ["promotional", "informational", "informational", "informational"],
                           "style": ["booking", None, None, None], "annotator": "second-annotator-a"})
    row = agreement(original, second).iloc[0]
    assert row["pair"] == "original / second-annotator-a"
    assert row["paragraphs"] == 4
    assert row["agreement"] == 0.75
    assert row["kappa"] == pytest.approx(0.5)  # observed 0.75 against 0.5 expected by chance
    assert row["style_agreement"] == 0.0  # both promotional once, with different styles


def test_agreement_refuses_second_labels_of_paragraphs_that_changed():
    key = {"article": ["a.txt"] * 2, "start": [0, 10], "end": [9, 19]}
    original = pd.DataFrame({**key, "label": ["promotional", "informational"], "style": ["cta", None],
                             "text_hash": ["h0", "h1"]})
    second = pd.DataFrame({**key, "label": ["promotional", "informational"], "style": ["cta", None],
                           "text_hash": ["h0", "edited"], "annotator": "second-annotator-a",
                           "file": "labels.jsonl", "line": [1, 2]})
    with pytest.raises(ValueError, match=r"labels.jsonl line 2: a.txt 10-19"):
        agreement(original, second)
    moved = second.assign(text_hash=["h0", "h1"], start=[0, 11])
    with pytest.raises(ValueError, match="1 second-annotator label"):
        agreement(original, moved)
