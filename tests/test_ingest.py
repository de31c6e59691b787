"""Ingest: discovery, encodings, HTML, JSONL, and bad input that never stops a batch."""

from __future__ import annotations

import json

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


def _blocks(markup: str) -> list[tuple[str, str]]:
    text, paragraphs = html_to_text(markup)
    return [(text[p.start:p.end], p.kind) for p in paragraphs]


def test_deeply_nested_html_keeps_its_text():
    """libxml2 stopped building the tree a few hundred levels down and lost everything below."""
    depth = 100_000
    deep = "<div>" * depth + "Text at the bottom." + "</div>" * depth
    assert _blocks(deep) == [("Text at the bottom.", "paragraph")]
    unclosed = "<p>Before.</p>" + "<section><span>" * 10_000 + "<p>Inside.</p>"
    assert _blocks(unclosed) == [("Before.", "paragraph"), ("Inside.", "paragraph")]


def test_unclosed_paragraphs_and_list_items():
    markup = "<p>One<p>Two<ul><li>A<li>B<ul><li>B1</ul>still B</ul><p>Three<dl><dt>Term<dd>Definition<dt>Next</dl>"
    assert _blocks(markup) == [
        ("One", "paragraph"), ("Two", "paragraph"), ("A", "list_item"), ("B", "list_item"),
        ("B1", "list_item"), ("still B", "list_item"), ("Three", "paragraph"), ("Term", "list_item"),
        ("Definition", "paragraph"), ("Next", "list_item"),
    ]
    assert _blocks("<h2>Title<p>Body after a forgotten end tag.") == [
        ("Title", "heading"), ("Body after a forgotten end tag.", "paragraph")]


def test_void_elements_never_open():
    markup = (
        "<html><head><meta charset=utf-8><link rel=x></head><body><p>Line one<br>Line two<img src=x> still two"
        "<input value=v><hr>After the rule<br/>Last line</p><h2>Heading<wbr>text</h2><p>Next</p>"
    )
    assert _blocks(markup) == [
        ("Line one", "paragraph"), ("Line two still two", "paragraph"), ("After the rule", "paragraph"),
        ("Last line", "paragraph"), ("Headingtext", "heading"), ("Next", "paragraph"),
    ]


def test_stray_end_tags_are_ignored():
    markup = "</div></h2>Intro</span> text<h2>Heading</li></h2><p>Body</td> text</p></ul>After</br>break"
    assert _blocks(markup) == [
        ("Intro text", "paragraph"), ("Heading", "heading"), ("Body text", "paragraph"),
        ("After", "paragraph"), ("break", "paragraph"),
    ]


@pytest.mark.parametrize(
    "markup, expected",
    [
        # HTML5: an HTML block or phrasing start tag ends foreign content.
        ("<p>Before.</p><svg><path d='M0'><p>After the icon.</p>", ["Before.", "After the icon."]),
        ("<svg><foreignObject><p>Part of the drawing.</p></foreignObject></svg><p>After.</p>", ["After."]),
        # An end tag of an ancestor closes the control...
        ("<form><select><option>One<option>Two</form><p>After the form.</p>", ["After the form."]),
        # ...and so does the first block start tag: a page's text never belongs in a control.
        ("<p>Pick one<select><option>One<option>Two<p>After the menu.</p>", ["Pick one", "After the menu."]),
        ("<button>Buy now<div>Body text.</div>", ["Body text."]),
        # Script content is code, not text: unclosed, it hides the rest, as in a browser.
        ("<p>Before.</p><script>var s = '<p>not text</p>';", ["Before."]),
        ("<p>Before.</p><script/><p>After a self-closed script.</p>", ["Before.", "After a self-closed script."]),
    ],
)
def test_unclosed_dropped_elements(markup, expected):
    assert [text for text, _ in _blocks(markup)] == expected


@pytest.mark.parametrize(
    "markup, expected",
    [
        ("<html><head><title>T</title><style>p{}</style><body><p>Body.", ["Body."]),
        ("<head><title>T</title>Text with no body tag.", ["Text with no body tag."]),
        ("<html><title>Title with no head</title><p>Body.</p>", ["Body."]),
        ("<p>Body.</p><head><p>A late head is ignored.</p>", ["Body.", "A late head is ignored."]),
    ],
)
def test_head_ends_at_body_content(markup, expected):
    assert [text for text, _ in _blocks(markup)] == expected


@pytest.mark.parametrize(
    "markup, expected",
    [
        # Markup left open to the end of the file hides the rest, as HTML5 reads it.
        ("<p>Kept.</p><!-- never closed <p>gone</p>", ["Kept."]),
        ('<p>Kept.</p><a href="never closed>gone</a>', ["Kept."]),
        ("<p>Kept.</p><p>Tail with AT&T", ["Kept.", "Tail with AT&T"]),
        ("<!-->Abrupt comment.<!--->Another.", ["Abrupt comment.Another."]),
        ("<![CDATA[x]]>After CDATA.<![foo bar>After a marked section.", ["After CDATA.After a marked section."]),
        ("<?php echo 1 ?><!DOCTYPE html><!x>Text.", ["Text."]),
        ("<p>a&#0;b&#xfeff;c&#x85;d&nbsp;e</p>", ["a\ufffdbc\u2026d e"]),
    ],
)
def test_comments_declarations_and_references(markup, expected):
    assert [text for text, _ in _blocks(markup)] == expected


def test_jsonl_keeps_unicode_line_separators_inside_records(tmp_path):
    record = json.dumps({"id": "u", "text": "One line\u2028with a separator\u2029and more\x85here."}, ensure_ascii=False)
    (tmp_path / "sep.jsonl").write_text(record + "\r\n", encoding="utf-8")
    [article] = read_articles(discover([tmp_path]))
    assert article.ok and article.id == "u"
    assert len(article.paragraphs) == 4


@pytest.mark.parametrize("line", ["[" * 100_000, "1" * 5000, '{"id": ' + "[" * 900 + "]" * 900 + ', "text": "x"}'])
def test_jsonl_lines_json_cannot_read_are_reported(tmp_path, line):
    (tmp_path / "odd.jsonl").write_text(line + "\n", encoding="utf-8")
    [article] = read_articles(discover([tmp_path]))
    assert article.id == "odd.jsonl:1"
    assert article.ok or article.error.startswith("line 1 ")
