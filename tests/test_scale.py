"""Scoring at scale: streaming batches, worker processes, a Dask cluster, resuming a killed run.

Every way of running must write the same bytes as one process scoring the folder in one go.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pipeline.cli import EXIT_UNREADABLE, EXIT_USAGE, main
from pipeline.config import ARTICLES_DIR
from pipeline.report import RunWriter
from pipeline.scoring import score_to_folder

OUTPUTS = ("paragraphs.jsonl", "paragraphs.csv", "articles.csv", "run.json", "report.html")


@pytest.fixture()
def crawl(tmp_path: Path) -> Path:
    """Thirty team articles, a JSONL file of three more and an unreadable file."""
    folder = tmp_path / "crawl"
    folder.mkdir()
    for source in sorted(ARTICLES_DIR.glob("*.txt"))[:30]:
        shutil.copyfile(source, folder / source.name)
    lines = [json.dumps({"id": f"feed-{i}", "text": f"Item {i}.\n\nShop now and save {i}% with code SAVE{i}!"})
             for i in range(3)]
    (folder / "feed.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (folder / "zz-binary.txt").write_bytes(b"\x00\x01\x02" * 100)
    return folder


def _outputs(out: Path) -> dict[str, bytes]:
    files = {name: (out / name).read_bytes() for name in OUTPUTS}
    for page in sorted((out / "articles").glob("*.html")):
        files[f"articles/{page.name}"] = page.read_bytes()
    return files


def _score(crawl: Path, out: Path, *extra: str) -> int:
    return main(["score", str(crawl), "--out", str(out), "--quiet", "--batch-size", "4", *extra])


@pytest.fixture()
def reference(crawl: Path, tmp_path: Path) -> dict[str, bytes]:
    out = tmp_path / "reference"
    assert _score(crawl, out, "--jobs", "1") == EXIT_UNREADABLE  # the binary file is reported
    return _outputs(out)


def test_outputs_grow_batch_by_batch(crawl, tmp_path):
    """Rows are on disk as soon as their batch is scored, long before the run ends."""
    out = tmp_path / "run"
    seen: list[int] = []

    def after_each_file() -> None:
        partial = out / ".paragraphs.jsonl.partial"
        seen.append(partial.stat().st_size if partial.exists() else 0)

    score_to_folder([crawl], out, jobs=1, batch_size=4, on_file=after_each_file)
    assert seen[0] == 0 and 0 < seen[len(seen) // 2] < seen[-1]
    batches = (out / RunWriter.JOURNAL).read_text(encoding="utf-8").splitlines()[1:]
    assert len(batches) == 9  # 34 articles in batches of 4


def test_two_jobs_write_the_same_outputs(crawl, tmp_path, reference):
    out = tmp_path / "two-jobs"
    assert _score(crawl, out, "--jobs", "2") == EXIT_UNREADABLE
    assert _outputs(out) == reference


def _models_in_process() -> int:
    from pipeline import scoring

    return len(scoring._PROCESS_MODELS)


def test_dask_cluster_writes_the_same_outputs(crawl, tmp_path, reference):
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  host="127.0.0.1", dashboard_address=None) as cluster:
        out = tmp_path / "dask"
        code = _score(crawl, out, "--backend", "dask", "--scheduler", cluster.scheduler_address)
        assert code == EXIT_UNREADABLE
        with distributed.Client(cluster.scheduler_address) as client:
            loaded = client.run(_models_in_process)
    assert len(loaded) == 2 and sum(loaded.values()) >= 1, "the batches ran on the cluster's workers"
    assert _outputs(out) == reference


def test_resume_after_sigkill_gives_the_same_rows(crawl, tmp_path, reference):
    out = tmp_path / "killed"
    command = [sys.executable, "-c", "import sys; from pipeline.cli import main; sys.exit(main(sys.argv[1:]))",
               "score", str(crawl), "--out", str(out), "--quiet", "--jobs", "1", "--batch-size", "2"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    journal = out / RunWriter.JOURNAL
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        if journal.exists() and journal.read_text(encoding="utf-8").count("\n") >= 4:
            break
        time.sleep(0.01)
    assert process.poll() is None, f"the run ended before it could be killed: {process.stderr.read()}"
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    committed = journal.read_text(encoding="utf-8").count("\n") - 1
    assert 3 <= committed < 17, "killed part-way"
    assert not (out / "paragraphs.jsonl").exists(), "no finished table after a kill"

    assert _score(crawl, out, "--jobs", "1", "--resume") == EXIT_UNREADABLE
    assert _outputs(out) == reference


def test_resume_cuts_back_what_was_never_committed(crawl, tmp_path, reference):
    """A kill in the middle of a write leaves half a row and half a journal line behind."""
    out = tmp_path / "torn"
    calls = 0

    def stop_after_two_batches(self, *args):
        nonlocal calls
        calls += 1
        if calls > 2:
            raise KeyboardInterrupt
        return original(self, *args)

    original = RunWriter.add
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(RunWriter, "add", stop_after_two_batches)
        with pytest.raises(KeyboardInterrupt):
            score_to_folder([crawl], out, jobs=1, batch_size=4)
    with open(out / ".paragraphs.jsonl.partial", "a", encoding="utf-8") as handle:
        handle.write('{"article": "half a row')
    with open(out / ".paragraphs.csv.partial", "a", encoding="utf-8") as handle:
        handle.write("half,a,row\n")
    with open(out / RunWriter.JOURNAL, "a", encoding="utf-8") as handle:
        handle.write('{"sizes": {"jsonl": 1')
    assert _score(crawl, out, "--jobs", "1", "--resume") == EXIT_UNREADABLE
    assert _outputs(out) == reference


def test_resume_of_a_finished_run_scores_only_what_is_new_or_changed(crawl, tmp_path, capsys):
    out = tmp_path / "grow"
    assert _score(crawl, out, "--jobs", "1") == EXIT_UNREADABLE
    first = sorted(crawl.glob("*.txt"))[0]
    first.write_text(first.read_text(encoding="utf-8") + "\n\nBuy NewThing today at newthing.com!\n", encoding="utf-8")
    shutil.copyfile(sorted(ARTICLES_DIR.glob("*.txt"))[40], crawl / "new-article.txt")
    capsys.readouterr()
    assert main(["score", str(crawl), "--out", str(out), "--resume", "--jobs", "1"]) == EXIT_UNREADABLE
    assert "Resumed: 33 articles were already scored" in capsys.readouterr().out  # all but the changed one

    fresh = tmp_path / "fresh"
    assert _score(crawl, fresh, "--jobs", "1") == EXIT_UNREADABLE

    def rows(folder: Path) -> list[str]:
        return sorted((folder / "paragraphs.jsonl").read_text(encoding="utf-8").splitlines())

    assert rows(out) == rows(fresh)
    articles = sorted((out / "articles.csv").read_text(encoding="utf-8").splitlines())
    assert articles == sorted((fresh / "articles.csv").read_text(encoding="utf-8").splitlines())
    assert len(list((out / "articles").glob("*.html"))) == len(list((fresh / "articles").glob("*.html")))


def test_resume_refuses_other_settings(crawl, tmp_path, capsys):
    out = tmp_path / "run"
    assert _score(crawl, out, "--jobs", "1") == EXIT_UNREADABLE
    capsys.readouterr()
    assert _score(crawl, out, "--resume", "--threshold", "0.5") == EXIT_USAGE
    assert "different threshold" in capsys.readouterr().err
    assert _score(crawl, out, "--resume", "--format", "jsonl") == EXIT_USAGE
    assert "same formats" in capsys.readouterr().err


def test_bad_parallel_options_are_usage_errors(crawl, tmp_path, capsys):
    out = tmp_path / "run"
    assert _score(crawl, out, "--jobs", "0") == EXIT_USAGE
    assert _score(crawl, out, "--scheduler", "tcp://127.0.0.1:1") == EXIT_USAGE
    assert "--backend dask" in capsys.readouterr().err


def test_vocabulary_is_bounded_without_changing_scores(crawl, monkeypatch):
    """spaCy keeps every word it has seen; past a limit the pipeline is reloaded afresh."""
    from pipeline import model as model_module
    from pipeline.ingest import discover, read_articles
    from pipeline.model import load_model

    articles = list(read_articles(discover([crawl])))
    batches = [articles[i:i + 4] for i in range(0, len(articles), 4)]
    unbounded = [load_model().score_articles(batch) for batch in batches]
    monkeypatch.setattr(model_module, "VOCAB_LIMIT", 2000)
    reloads = []
    original = model_module.load_nlp
    monkeypatch.setattr(model_module, "load_nlp", lambda *a, **k: reloads.append(a) or original(*a, **k))
    bounded_model = load_model()
    bounded = []
    for batch in batches:
        bounded.append(bounded_model.score_articles(batch))
        assert len(bounded_model.nlp.vocab) <= 2000 + 4000  # the limit plus what one batch adds
    assert len(reloads) > 2, "the pipeline was reloaded"
    for a, b in zip(unbounded, bounded):
        assert a.equals(b)


def test_a_failed_batch_stops_the_run_with_exit_4_and_resume_finishes(crawl, tmp_path, reference, monkeypatch, capsys):
    from pipeline import scoring
    from pipeline.cli import EXIT_STOPPED

    out = tmp_path / "failed"
    calls = 0
    original = scoring.score_batch

    def fail_on_third_batch(*args, **kwargs):
        nonlocal calls
        calls += 1
        if calls == 3:
            raise MemoryError("worker ran out of memory")
        return original(*args, **kwargs)

    monkeypatch.setattr(scoring, "score_batch", fail_on_third_batch)
    assert _score(crawl, out, "--jobs", "1") == EXIT_STOPPED
    err = capsys.readouterr().err
    assert "MemoryError: worker ran out of memory" in err and "--resume" in err
    monkeypatch.undo()
    assert _score(crawl, out, "--jobs", "1", "--resume") == EXIT_UNREADABLE
    assert _outputs(out) == reference


def test_a_new_run_in_an_old_folder_leaves_none_of_its_pages(crawl, tmp_path):
    out = tmp_path / "reused"
    assert _score(crawl, out, "--jobs", "1") == EXIT_UNREADABLE
    for path in sorted(crawl.glob("*.txt"))[:20]:
        path.unlink()
    assert _score(crawl, out, "--jobs", "1") == EXIT_UNREADABLE
    pages = sorted(p.name for p in (out / "articles").glob("*.html"))
    assert len(pages) == 13  # 10 team articles and 3 JSONL articles; the binary file has no page
