"""Shared fixtures: the shipped model, the seed folder, small article folders."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from pipeline.config import DEFAULT_MODEL_DIR, SEEDS_DIR


@pytest.fixture(scope="session")
def model():
    from pipeline import load_model

    return load_model()


@pytest.fixture(scope="session")
def seeds_dir() -> Path:
    if not SEEDS_DIR.is_dir():
        pytest.skip(f"seed articles not found at {SEEDS_DIR}")
    return SEEDS_DIR


@pytest.fixture()
def article_folder(tmp_path: Path) -> Path:
    """A small folder with one article of each format."""
    folder = tmp_path / "articles"
    (folder / "nested").mkdir(parents=True)
    (folder / "plain.txt").write_text(
        "Vitamin D and Bone Health\n\n"
        "Vitamin D helps the body absorb calcium. Low levels are linked to weaker bones in older adults.\n\n"
        "Most adults need 600 to 800 IU a day, according to the NIH. Talk to your doctor before taking high doses.\n\n"
        "Shop SunnyBone Max Gummies\n\n"
        "Get your SunnyBone Max gummies today and save 25% with code BONES25 at sunnybone.com!\n",
        encoding="utf-8",
    )
    (folder / "nested" / "page.html").write_text(
        "<!DOCTYPE html><html><head><title>t</title><style>p{color:red}</style>"
        "<script>var hidden = 'do not read me';</script></head><body>"
        "<h1>Sleep &amp; Stress</h1><p>Chronic stress raises cortisol, which can disturb sleep.</p>"
        "<ul><li>Keep a regular bedtime</li><li>Limit caffeine after noon</li></ul>"
        "<p>Try DreamWell&trade; drops tonight &mdash; order now for free shipping!</p></body></html>",
        encoding="utf-8",
    )
    (folder / "batch.jsonl").write_text(
        '{"id": "faq-1", "text": "What is a statin?\\n\\nStatins lower LDL cholesterol by blocking an enzyme in the liver."}\n'
        '{"id": "faq-2", "html": "<p>Flu shots are offered every autumn.</p>"}\n',
        encoding="utf-8",
    )
    return folder


@pytest.fixture()
def tiny_corpus():
    """Make a small corpus folder (articles/, labels/ and catalog.csv) from the team corpus:
    half of the articles carry promotion, half do not."""
    import shutil

    from pipeline.config import ARTICLES_DIR, CORPUS_DIR, LABELS_DIR
    from pipeline.sources import read_label_files

    def make(root: Path, n_articles: int = 14) -> Path:
        labels = read_label_files([LABELS_DIR / "team.jsonl"])
        promo = labels.groupby("article")["label"].apply(lambda s: (s == "promotional").any())
        chosen = list(promo[promo].index[: n_articles // 2]) + list(promo[~promo].index[: n_articles // 2])
        (root / "articles").mkdir(parents=True)
        (root / "labels").mkdir()
        for name in chosen:
            shutil.copy(ARTICLES_DIR / name, root / "articles" / name)
        labels[labels["article"].isin(chosen)].drop(columns=["file", "line"]).to_json(
            root / "labels" / "team.jsonl", orient="records", lines=True)
        catalog = pd.read_csv(CORPUS_DIR / "catalog.csv")
        catalog[catalog["article"].isin(chosen)].to_csv(root / "catalog.csv", index=False)
        return root

    return make


_CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync", "--hide-scrollbars",
]


@pytest.fixture(scope="session")
def chromium():
    """Run headless Chromium with the given arguments (skips where it is not installed)."""
    import shutil
    import subprocess

    binary = next((shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome") if shutil.which(n)), None)
    if binary is None:
        pytest.skip("headless Chromium not installed (apt-get install chromium)")

    def run(*args: str, profile: Path) -> subprocess.CompletedProcess:
        return subprocess.run([binary, *_CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args],
                              capture_output=True, text=True, timeout=120)

    return run


def pytest_report_header(config):
    return f"promoflag default model: {DEFAULT_MODEL_DIR}"


# Tests that measure time record it here rather than assert on it (project rule: no timed
# assertions); the lines are printed at the end of the run.
_TIMINGS: dict[str, str] = {}


@pytest.fixture(scope="session")
def timings() -> dict[str, str]:
    """Lines for the end-of-run summary, e.g. ``timings["fuzz html_to_text"] = "2000 inputs, slowest 0.012 s"``."""
    return _TIMINGS


def pytest_terminal_summary(terminalreporter):
    if _TIMINGS:
        terminalreporter.section("timings")
        for name, line in _TIMINGS.items():
            terminalreporter.write_line(f"{name}: {line}")
