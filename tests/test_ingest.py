"""Ingest: discovery, encodings, HTML, JSONL, and bad input that never stops a batch."""

from __future__ import annotations

import pytest

from pipeline.ingest import decode_bytes, discover, html_to_text, read_articles

TEXT = "Caf\u00e9 owners say \u201ccold brew\u201d isn\u2019t a cure \u2014 it is coffee.\n\nSecond paragraph."


@pytest.mark.parametrize(
    "data, encoding",
    [
        (TEXT.encode("utf-8"), "utf-8"),
        (b"\xef\xbb\xbf" + TEXT.encode("utf-8"), "utf-8-sig"),
        (TEXT.encode("utf-16"), "utf-16"),
        (TEXT.encode("cp1252"), None),
        ("Na\u00efve r\u00e9sum\u00e9 of a caf\u00e9 \u00e0 la carte, ol\u00e9.".encode("latin-1"), None),
    ],
)
def test_encodings_are_detected(data, encoding):
    text, used = decode_bytes(data)
    if encoding:
        assert used == encoding
    assert "caf\u00e9" in text.lower() or "Caf\u00e9" in text
    assert "\ufeff" not in text


def test_cp1252_quotes_survive(tmp_path):
    path = tmp_path / "legacy.txt"
    path.write_bytes(TEXT.encode("cp1252"))
    [article] = read_articles(discover([path]))
    assert article.ok
    assert "\u201ccold brew\u201d" in article.text and "\u2014" in article.text


def test_newlines_are_normalised(tmp_path):
    path = tmp_path / "crlf.txt"
    path.write_bytes(b"Heading Line\r\n\r\nA paragraph of text.\r\nAnother paragraph.\r")
    [article] = read_articles(discover([path]))
    assert "\r" not in article.text
    assert [article.text[p.start:p.end] for p in article.paragraphs] == [
        "Heading Line", "A paragraph of text.", "Another paragraph."]


def test_html_visible_text_only():
    markup = (
        "<html><head><title>Not shown</title><style>.x{}</style></head><body>"
        "<nav>Home</nav><script>alert('x')</script><h2>Heading &amp; more</h2>"
        "<p>First <b>bold</b>\n   words.</p><ul><li>One</li><li>Two</li></ul><p>Caf&eacute; &#8212; fin</p></body></html>"
    )
    text, paragraphs = html_to_text(markup)
    blocks = [(text[p.start:p.end], p.kind) for p in paragraphs]
    assert blocks == [
        ("Home", "paragraph"),
        ("Heading & more", "heading"),
        ("First bold words.", "paragraph"),
        ("One", "list_item"),
        ("Two", "list_item"),
        ("Caf\u00e9 \u2014 fin", "paragraph"),
    ]
    assert "alert" not in text and "Not shown" not in text


def test_folder_discovery_and_formats(article_folder):
    files = discover([article_folder])
    assert [rel for _, rel in files] == ["batch.jsonl", "nested/page.html", "plain.txt"]
    articles = list(read_articles(files))
    assert [a.id for a in articles] == ["faq-1", "faq-2", "nested/page.html", "plain.txt"]
    assert all(a.ok for a in articles)
    page = articles[2]
    assert "do not read me" not in page.text
    assert page.text[page.paragraphs[0].start:page.paragraphs[0].end] == "Sleep & Stress"


def test_missing_path_raises(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such file"):
        discover([tmp_path / "nope"])


@pytest.mark.parametrize(
    "name, data, reason",
    [
        ("empty.txt", b"", "empty"),
        ("blank.txt", b"   \n\n\t ", "empty"),
        ("binary.txt", bytes(range(256)) * 8, "binary"),
        ("broken.jsonl", b'{"id": 1, "text": "ok"}\nnot json\n{"id": 3}\n', "not JSON"),
        ("tags-only.html", b"<html><script>x()</script></html>", "empty"),
    ],
)
def test_bad_files_are_reported_not_raised(tmp_path, name, data, reason):
    (tmp_path / name).write_bytes(data)
    (tmp_path / "good.txt").write_text("A fine paragraph about sleep hygiene.", encoding="utf-8")
    articles = list(read_articles(discover([tmp_path])))
    bad = [a for a in articles if not a.ok]
    assert any(reason in a.error for a in bad), [a.error for a in bad]
    assert any(a.ok and a.id == "good.txt" for a in articles)


def test_size_limit_skips_with_reason(tmp_path):
    (tmp_path / "big.txt").write_text("word " * 1000, encoding="utf-8")
    [article] = read_articles(discover([tmp_path]), max_bytes=100)
    assert "too large" in article.error
