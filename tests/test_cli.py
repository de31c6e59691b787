"""The promoflag command line: outputs, options, exit codes."""

from __future__ import annotations

import csv
import json
import subprocess
import sys

import pandas as pd

from pipeline.cli import EXIT_FLAGGED, EXIT_OK, EXIT_UNREADABLE, EXIT_USAGE, main
from pipeline.config import ARTICLE_COLUMNS, PARAGRAPH_COLUMNS


def test_score_writes_every_output(article_folder, tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["score", str(article_folder), "--out", str(out), "--quiet"]) == EXIT_OK
    paragraphs = pd.read_csv(out / "paragraphs.csv")
    assert list(paragraphs.columns) == PARAGRAPH_COLUMNS
    rows = [json.loads(line) for line in (out / "paragraphs.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len(rows) == len(paragraphs)
    assert all(isinstance(r["cues"], list) and isinstance(r["sentences"], list) for r in rows)
    articles = pd.read_csv(out / "articles.csv", keep_default_na=False)
    assert list(articles.columns) == ARTICLE_COLUMNS
    assert set(articles["article"]) == {"faq-1", "faq-2", "nested/page.html", "plain.txt"}
    assert (articles["error"] == "").all()
    report = (out / "report.html").read_text(encoding="utf-8")
    assert "plain.txt" in report and "<script" not in report
    assert len(list((out / "articles").glob("*.html"))) == 4
    hidden = [p.name for p in out.glob(".*")]
    assert hidden == [".promoflag-journal.jsonl"], "no temporary files are left behind, only the run journal"


def test_format_option_limits_outputs(article_folder, tmp_path):
    out = tmp_path / "run"
    assert main(["score", str(article_folder), "--out", str(out), "--format", "jsonl", "--quiet"]) == EXIT_OK
    assert (out / "paragraphs.jsonl").exists() and (out / "articles.csv").exists()
    assert not (out / "paragraphs.csv").exists() and not (out / "report.html").exists()
    assert main(["score", str(article_folder), "--out", str(out), "--format", "pdf"]) == EXIT_USAGE


def test_fail_on_flag(article_folder, tmp_path):
    assert main(["score", str(article_folder), "--out", str(tmp_path / "a"), "--fail-on-flag", "--quiet"]) == EXIT_FLAGGED
    clean = tmp_path / "clean"
    clean.mkdir()
    (clean / "a.txt").write_text("Influenza is a viral infection of the airways. Vaccination lowers the risk of severe illness.", encoding="utf-8")
    assert main(["score", str(clean), "--out", str(tmp_path / "b"), "--fail-on-flag", "--quiet"]) == EXIT_OK


def test_missing_path_is_a_one_line_error(tmp_path, capsys):
    assert main(["score", str(tmp_path / "missing"), "--out", str(tmp_path / "o")]) == EXIT_USAGE
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "no such file or folder" in err


def test_empty_folder_is_a_clear_message(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    assert main(["score", str(tmp_path / "empty"), "--out", str(tmp_path / "o")]) == EXIT_USAGE
    assert "no articles found" in capsys.readouterr().err


def test_bad_files_are_listed_and_the_batch_goes_on(article_folder, tmp_path, capsys):
    (article_folder / "binary.txt").write_bytes(bytes(range(256)) * 4)
    (article_folder / "empty.md").write_bytes(b"")
    out = tmp_path / "run"
    assert main(["score", str(article_folder), "--out", str(out)]) == EXIT_UNREADABLE
    articles = pd.read_csv(out / "articles.csv", keep_default_na=False).set_index("article")
    assert "binary" in articles.loc["binary.txt", "error"]
    assert "empty" in articles.loc["empty.md", "error"]
    assert articles.loc["plain.txt", "error"] == "" and articles.loc["plain.txt", "paragraphs"] > 0
    printed = capsys.readouterr().out
    assert "Could not read 2 input(s)" in printed and "binary.txt" in printed


def test_unusable_model_is_a_usage_error(article_folder, tmp_path, capsys):
    assert main(["score", str(article_folder), "--out", str(tmp_path / "o"), "--model", str(tmp_path)]) == EXIT_USAGE
    assert "cannot load model" in capsys.readouterr().err


def test_mixes_of_one_source_are_a_usage_error_not_a_traceback(capsys):
    """Nothing is loaded or trained, and the default model's mixes.json is left alone."""
    assert main(["evaluate", "--mixes", "team;team", "--quiet"]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert "at least two sources" in err and err.count("\n") == 1


def test_console_script_runs_on_seeds(seeds_dir, tmp_path):
    """The acceptance command of the scoring issue, through the installed entry point."""
    out = tmp_path / "r"
    result = subprocess.run(
        [sys.executable, "-m", "pipeline.cli", "score", str(seeds_dir), "--out", str(out)],
        capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == EXIT_OK, result.stderr
    assert "Flagged" in result.stdout
    with open(out / "paragraphs.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    flagged = {(r["article"], r["text"][:30]) for r in rows if r["label"] == "promotional"}
    assert ("003_252837e2f5f33b9c.txt", "Start Your Journey to Healing ") in flagged
    assert not any(a in ("001_d786ecf54ecddeb4.txt", "002_58ae7393e0773bd3.txt") for a, _ in flagged)
