"""The HTML report as a browser shows it: headless Chromium renders the marks."""

from __future__ import annotations

import pytest

from pipeline.cli import main


@pytest.fixture(scope="module")
def report(tmp_path_factory, article_folder_module):
    out = tmp_path_factory.mktemp("report")
    assert main(["score", str(article_folder_module), "--out", str(out), "--quiet"]) == 0
    return out


@pytest.fixture(scope="module")
def article_folder_module(tmp_path_factory):
    folder = tmp_path_factory.mktemp("articles")
    (folder / "pitch.txt").write_text(
        "Magnesium and Sleep\n\n"
        "Magnesium is a mineral involved in hundreds of enzyme reactions. Trials of magnesium for insomnia are small.\n\n"
        "Sleep Better With NightCalm\n\n"
        "NightCalm gummies are the best magnesium on the market. Order now and save 20% with code CALM20!",
        encoding="utf-8",
    )
    return folder


def test_rendered_dom_shows_flagged_passages(report, tmp_path, chromium):
    page = next((report / "articles").glob("*pitch*.html"))
    result = chromium("--dump-dom", page.as_uri(), profile=tmp_path / "profile")
    dom = result.stdout
    assert 'class="para flagged"' in dom or "flagged" in dom, result.stderr[-2000:]
    assert '<mark class="sentence"' in dom
    assert "NightCalm" in dom


def test_screenshot_has_highlight_colour(report, tmp_path, chromium):
    png = tmp_path / "shot.png"
    page = next((report / "articles").glob("*pitch*.html"))
    result = chromium(f"--screenshot={png}", "--window-size=1000,900", page.as_uri(), profile=tmp_path / "profile")
    assert png.exists(), result.stderr[-2000:]
    import numpy as np
    from PIL import Image

    r, g, b = np.asarray(Image.open(png).convert("RGB"), dtype=int).transpose(2, 0, 1)
    # Flagged paragraphs are drawn on an amber background; sentences in a red tint.
    highlighted = int(((r > 200) & (g > 150) & (g < 235) & (b < 190)).sum())
    assert highlighted > 2000


def test_index_lists_articles_by_share(report, tmp_path, chromium):
    result = chromium("--dump-dom", (report / "report.html").as_uri(), profile=tmp_path / "profile")
    assert "pitch.txt" in result.stdout and "promotional share" in result.stdout
