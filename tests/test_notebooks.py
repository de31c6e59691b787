"""Both notebooks run top to bottom (on a small fixture) and are committed without outputs."""

from __future__ import annotations

import json

import nbformat
import pytest
from nbclient import NotebookClient

from pipeline.cli import main
from pipeline.config import PROJECT_ROOT

NOTEBOOKS = PROJECT_ROOT / "notebooks"


def _run(name: str, env: dict[str, str], monkeypatch) -> nbformat.NotebookNode:
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    notebook = nbformat.read(NOTEBOOKS / name, as_version=4)
    NotebookClient(notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOKS)}}).execute()
    return notebook


@pytest.mark.parametrize("name", ["01-explore-results.ipynb", "02-retrain.ipynb"])
def test_notebooks_are_committed_without_outputs(name):
    notebook = json.loads((NOTEBOOKS / name).read_text(encoding="utf-8"))
    for cell in notebook["cells"]:
        if cell["cell_type"] == "code":
            assert not cell["outputs"] and cell["execution_count"] is None


def test_explore_notebook_runs(tmp_path, article_folder, monkeypatch):
    notebook = _run("01-explore-results.ipynb",
                    {"PROMOFLAG_NB_ARTICLES": str(article_folder), "PROMOFLAG_NB_RUN": str(tmp_path / "run")}, monkeypatch)
    text = json.dumps([cell.get("outputs", []) for cell in notebook.cells])
    assert "image/png" in text, "the plots were drawn"
    assert "PROMOTIONAL" in text, "displaCy drew the flagged spans"


def test_retrain_notebook_runs(tmp_path, article_folder, tiny_corpus, monkeypatch):
    base = tmp_path / "base-model"
    corpus = tiny_corpus(tmp_path / "corpus", n_articles=14)
    assert main(["train", "--sources", "team", "--corpus", str(corpus), "--out", str(base), "--folds", "2", "--quiet"]) == 0
    work = tmp_path / "work"
    notebook = _run("02-retrain.ipynb", {"PROMOFLAG_NB_ARTICLES": str(article_folder), "PROMOFLAG_NB_WORK": str(work),
                                          "PROMOFLAG_NB_BASE_MODEL": str(base)}, monkeypatch)
    text = json.dumps([cell.get("outputs", []) for cell in notebook.cells])
    assert "stored" in text and "new labels" in text
    assert list((work / "models").glob("m-*/model.json")), "a new model directory was written"
    assert list((work / "labels").glob("import-*.jsonl"))
