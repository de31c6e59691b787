"""Hostile inputs: model files that would run code, and article text that would script the report."""

from __future__ import annotations

import os
import pickle
import shutil
import warnings
from pathlib import Path

import pytest
from lxml import html as lxml_html

from pipeline.cli import main
from pipeline.config import DEFAULT_MODEL_DIR
from pipeline.model import ModelError, load_model

MARKER = "promoflag-pwned"


class _RunsCode:
    """Unpickling this calls os.system: the classic malicious model file."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


@pytest.fixture()
def model_copy(tmp_path) -> Path:
    target = tmp_path / "model"
    shutil.copytree(DEFAULT_MODEL_DIR, target)
    return target


def test_pickle_payload_is_refused_and_never_runs(model_copy, tmp_path):
    marker = tmp_path / MARKER
    (model_copy / "base.skops").write_bytes(pickle.dumps(_RunsCode(marker)))
    with pytest.raises(ModelError, match=r"base\.skops is not a skops model file"):
        load_model(model_copy)
    assert not marker.exists(), "the payload ran"


def test_skops_file_that_fails_to_build_keeps_its_own_error(model_copy):
    """A genuine skops archive whose objects cannot be rebuilt (as after a library upgrade) is
    not misreported as some other kind of file."""
    import zipfile

    original = model_copy / "context.skops"
    with zipfile.ZipFile(original) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    # Every JSON-held value in the file is made unreadable: the types still pass the audit.
    schema = members["schema.json"].decode()
    broken = schema.replace('"is_json": true', '"is_json": true, "content": "{not json"')
    assert broken != schema
    members["schema.json"] = broken.encode()
    with zipfile.ZipFile(original, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    with pytest.raises(ModelError, match=r"context\.skops could not be rebuilt \(\w+Error: ") as caught:
        load_model(model_copy)
    assert "Retrain" in str(caught.value)


def test_untrusted_type_in_skops_file_is_refused(model_copy, tmp_path):
    import skops.io as sio
    from sklearn.preprocessing import FunctionTransformer

    sio.dump(FunctionTransformer(func=os.system), model_copy / "context.skops")
    with pytest.raises(ModelError, match="system"):
        load_model(model_copy)


def test_model_of_another_format_is_refused_with_what_to_do(model_copy):
    import json

    meta = json.loads((model_copy / "model.json").read_text())
    meta["format_version"] = 1
    (model_copy / "model.json").write_text(json.dumps(meta))
    with pytest.raises(ModelError, match="format 1.*reads formats 2, 3.*promoflag train"):
        load_model(model_copy)


def test_version_mismatch_warns_with_both_versions(model_copy):
    import json

    import sklearn

    meta = json.loads((model_copy / "model.json").read_text())
    meta["versions"]["scikit-learn"] = "0.24.2"
    (model_copy / "model.json").write_text(json.dumps(meta))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        load_model(model_copy)
    messages = [str(w.message) for w in caught]
    assert any("0.24.2" in m and sklearn.__version__ in m for m in messages), messages


PAYLOADS = {
    "script.txt": "Sleep Tips\n\n<script>document.body.setAttribute('data-pwned','1')</script> Buy now with code X!",
    "handler.html": "<p>Hello <img src=x onerror=\"document.body.setAttribute('data-pwned','1')\"> there</p>"
                    "<p>&lt;svg onload=alert(1)&gt; &amp;broken; &#xZZ; shop now at evil.com</p>",
    "links.md": "# Title\n\n[click me](javascript:alert(1)) and \u202egnp.exe\u202c order today!",
    "<img src=x onerror=alert(1)>.txt": "A file whose name is markup. Get yours today at example.shop!",
}


@pytest.fixture()
def hostile_report(tmp_path) -> list[Path]:
    """Every page of the report on a folder of hostile articles."""
    folder = tmp_path / "hostile"
    folder.mkdir()
    for name, text in PAYLOADS.items():
        (folder / name).write_text(text, encoding="utf-8")
    out = tmp_path / "run"
    assert main(["score", str(folder), "--out", str(out), "--quiet"]) == 0
    return [out / "report.html", *sorted((out / "articles").glob("*.html"))]


def test_report_escapes_hostile_text(hostile_report):
    pages = hostile_report
    assert len(pages) == 1 + len(PAYLOADS)
    for page in pages:
        tree = lxml_html.fromstring(page.read_bytes())
        assert not tree.xpath("//script"), page
        assert not tree.xpath("//@*[starts-with(name(), 'on')]"), page
        assert not [h for h in tree.xpath("//@href") if h.strip().lower().startswith("javascript:")], page
        assert not tree.xpath("//img | //svg | //iframe"), page


def test_no_script_runs_in_chromium(hostile_report, tmp_path, chromium):
    for page in hostile_report:
        dom = chromium("--dump-dom", page.as_uri(), profile=tmp_path / "profile").stdout
        assert "<body" in dom
        body_tag = dom[dom.index("<body"):dom.index(">", dom.index("<body")) + 1]
        assert "data-pwned" not in body_tag, page
