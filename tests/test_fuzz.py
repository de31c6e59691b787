"""Hostile input to ingest and segmentation: generated (hypothesis) and hand-built pathological.

Every target must hand back only :class:`Article` objects (or, for the lower-level functions,
their documented result or :class:`InputError`), a bad file an article with a reason and no
paragraphs, and every paragraph must keep the offsets invariant of ``test_segment.py``.

No test asserts on time (project rule). Each records how many inputs it ran and its slowest
single input, or how long a pathological case took, in the ``timings`` fixture; the lines are
printed at the end of the run.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_segment import assert_offsets

from pipeline.config import MAX_FILE_BYTES
from pipeline.ingest import (
    Article,
    InputError,
    article_from_text,
    decode_bytes,
    discover,
    html_to_text,
    read_articles,
)
from pipeline.segment import segment_text

# At least 2,000 generated inputs per target; no example database, so nothing is written into
# the repository and every run draws fresh inputs.
FUZZ = settings(
    max_examples=2000, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow],
)

_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
_STATS: dict[str, list[float]] = {}  # target -> [inputs run, slowest seconds]


@contextmanager
def _measured(timings: dict[str, str], target: str) -> Iterator[None]:
    """Time one input of a fuzz target and keep its summary line current."""
    start = time.perf_counter()
    yield
    elapsed = time.perf_counter() - start
    stats = _STATS.setdefault(target, [0, 0.0])
    stats[0] += 1
    stats[1] = max(stats[1], elapsed)
    timings[f"fuzz {target}"] = f"{stats[0]} inputs, slowest {stats[1]:.4f} s"


_T = TypeVar("_T")


def _timed(timings: dict[str, str], case: str, run: Callable[[], _T]) -> _T:
    """Run one pathological case and record how long it took."""
    start = time.perf_counter()
    result = run()
    timings[f"pathological {case}"] = f"{time.perf_counter() - start:.2f} s"
    return result


def _check_article(article: object) -> None:
    """What every article must satisfy, good or bad."""
    assert isinstance(article, Article), f"got {type(article).__name__}, not an Article"
    assert isinstance(article.error, str)
    if article.error:
        assert not article.paragraphs, f"failed article ({article.error}) has paragraphs"
    else:
        assert article.paragraphs, "article without error has no paragraphs"
    assert "\x00" not in article.text, "NUL in article text"
    assert not _LONE_SURROGATE.search(article.text), "lone surrogate in article text"
    assert_offsets(article.text, article.paragraphs)


# --- strategies --------------------------------------------------------------------------------

_NEWLINES = st.sampled_from(["\n", "\r", "\r\n", "\n\n", "\u2028", "\u2029", "\x85", "\r\r\n"])
_CONTROLS = st.one_of(
    st.characters(max_codepoint=0x1F), st.characters(min_codepoint=0x7F, max_codepoint=0x9F),
    st.sampled_from(["\x00", "\ufeff", "\u200b", "\u202e"]),
)
_SURROGATES = st.characters(categories=["Cs"])
_MARKERS = st.sampled_from([
    "# ", "## ", "###### ", "####### ", "- ", "* ", "\u2022 ", "1. ", "12) ", "a) ", "===", "---", "  ", "\t",
    " " * 200, "\t" * 50, "7" * 80, "=" * 80 + " x", "#" * 40, "Title Case Line", "Is this a question?",
    "a sentence that breaks in the middle of its", "words and ends here.",
])
_TEXT_PIECES = st.one_of(
    st.text(max_size=40),  # any code point in any plane, surrogates aside
    _NEWLINES, _CONTROLS, _SURROGATES, _MARKERS,
)
_TEXTS = st.lists(_TEXT_PIECES, max_size=30).map("".join)

_TAGS = sorted({
    "p", "div", "span", "b", "a", "br", "hr", "img", "input", "meta", "li", "ul", "ol", "dl", "dt", "dd",
    "h1", "h2", "h6", "table", "tr", "td", "pre", "blockquote", "section", "html", "head", "body", "title",
    "script", "style", "noscript", "template", "svg", "math", "foreignObject", "iframe", "object",
    "button", "select", "option", "textarea", "font", "xmp",
})
_ATTR_VALUES = st.one_of(
    st.sampled_from(['"x"', "'y'", "z", '"a>b"', "'un", '"un', "\"'\"", "''", "=", ""]),
    st.text(max_size=10).map(lambda v: f'"{v}"'),
)
_ATTRS = st.lists(
    st.tuples(st.sampled_from(["class", "id", "color", "on-x", "data-é", "'", "/"]), _ATTR_VALUES)
    .map(lambda kv: f" {kv[0]}={kv[1]}" if kv[1] else f" {kv[0]}"),
    max_size=3,
).map("".join)
_TAG_NAMES = st.sampled_from(sorted({name for t in _TAGS for name in (t, t.upper(), t.capitalize())}))
_MARKUP_PIECES = st.one_of(
    st.builds("<{}{}>".format, _TAG_NAMES, _ATTRS),
    st.builds("</{}>".format, _TAG_NAMES),
    st.builds("<{}{}/>".format, _TAG_NAMES, _ATTRS),
    st.builds(lambda t, n: f"<{t}>" * n, _TAG_NAMES, st.integers(0, 300)),  # deep nesting
    st.sampled_from([
        "&amp;", "&lt;", "&gt", "&#8212;", "&#x2014;", "&eacute;", "&#0;", "&#xD800;", "&#xFFFFFF;",
        "&#99999999999;", "&bogus;", "&", "&#", "&#x;", "&amp", "&#65", "&#xfeff;", "&#x85;", "&#12;",
        "<!-- c -->", "<!--", "-->", "<!-->", "<!--->", "--!>", "<![CDATA[x]]>", "<![foo", "<![", "<![if x]>",
        "<?php echo 1 ?>", "<?", "<!DOCTYPE html>", "<!x>", "<!", "<", ">", "</", "</>", "< p>", "<3", "'", '"',
    ]),
    st.text(max_size=30),
    _NEWLINES, _CONTROLS, _SURROGATES,
)
_MARKUP = st.lists(_MARKUP_PIECES, max_size=30).map("".join)

# No BOM listed twice: it is the common case.
_BOMS = st.sampled_from([b"", b"", b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff", b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff"])
_ENCODED = st.tuples(_TEXTS, st.sampled_from(["utf-8", "utf-16-le", "utf-16-be", "utf-32", "cp1252", "latin-1"])).map(
    lambda te: te[0].encode(te[1], errors="replace"))
_BYTES = st.builds(lambda bom, body: bom + body, _BOMS, st.one_of(
    st.binary(max_size=400), _ENCODED, _MARKUP.map(lambda m: m.encode("utf-8", "surrogatepass")),
    st.binary(max_size=200).map(lambda b: b.replace(b"\x00", b"")),  # no NUL: reaches charset detection
))

# Lighter than _TEXTS and _MARKUP (generation, not ingest, dominates this target's time), but
# with the characters JSON may carry unescaped that a line splitter could trip on.
_JSON_TEXTS = st.lists(
    st.one_of(st.text(max_size=12), _NEWLINES, _CONTROLS, _SURROGATES, st.sampled_from(["<p>", "</p>", "&amp;", "# "])),
    max_size=8,
).map("".join)
_RECORD_LINES = st.one_of(
    # Raw (ensure_ascii=False) only where the text has no lone surrogate, which UTF-8 cannot hold.
    st.builds(lambda i, t, a: json.dumps({"id": i, "text": t}, ensure_ascii=a or bool(_LONE_SURROGATE.search(t))),
              st.text(max_size=8), _JSON_TEXTS, st.booleans()),
    st.builds(lambda t: json.dumps({"html": t}), _JSON_TEXTS),
    st.builds(lambda i, t: json.dumps({"id": i, "text": t}), st.one_of(st.integers(), st.lists(st.integers(), max_size=2), st.none()), _TEXTS),
).map(lambda line: ("record", line))
_BAD_LINES = st.one_of(
    st.sampled_from(["[1, 2]", '"text"', "3", "null", "true"]).map(lambda line: ("not object", line)),
    st.sampled_from(['{"id": "x"}', '{"text": 5}', '{"html": null}', '{"text": null, "html": []}']).map(lambda line: ("no text", line)),
    st.one_of(
        # No control characters: enough of them would make the whole file look binary.
        st.text(st.characters(exclude_categories=["Cc", "Cs"]), max_size=30).filter(str.strip),
        st.sampled_from(['{"id": 1, "text": "cut', "{", "[" * 5000, "1" * 5000, '{"text": "a"} trailing']),
    ).map(lambda line: ("maybe bad", line)),
    st.sampled_from(["", "  ", "\t"]).map(lambda line: ("blank", line)),
)
_JSONL = st.tuples(st.lists(st.one_of(_RECORD_LINES, _BAD_LINES), max_size=8), st.sampled_from(["\n", "\r\n"]))


# --- generated inputs --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def fuzz_dir(tmp_path_factory) -> Path:
    """One folder for the whole module: each example overwrites its file there."""
    return tmp_path_factory.mktemp("fuzz")


@FUZZ
@given(data=_BYTES, suffix=st.sampled_from([".txt", ".md", ".html", ".htm", ".jsonl", ".bin"]))
def test_fuzz_bytes_to_articles(timings, fuzz_dir, data, suffix):
    path = fuzz_dir / f"article{suffix}"  # overwritten by the next example with this suffix
    path.write_bytes(data)
    with _measured(timings, "decode_bytes + read_articles"):
        try:
            text, encoding = decode_bytes(data)
        except InputError as exc:
            assert str(exc)
        else:
            assert isinstance(text, str) and encoding
        articles = list(read_articles(discover([path])))
    assert articles
    if suffix != ".jsonl":
        assert len(articles) == 1
    for article in articles:
        _check_article(article)


@FUZZ
@given(text=_TEXTS)
def test_fuzz_plain_text(timings, text):
    with _measured(timings, "article_from_text"):
        article = article_from_text("fuzz", text)
    _check_article(article)
    assert not {"\r", "\u2028", "\u2029", "\x85"} & set(article.text), "newlines not normalised"


@FUZZ
@given(markup=_MARKUP)
def test_fuzz_html(timings, markup):
    with _measured(timings, "html_to_text"):
        try:
            text, paragraphs = html_to_text(markup)
        except InputError as exc:
            assert str(exc)
            text, paragraphs = "", []
        article = article_from_text("fuzz", markup, is_html=True)
    _check_article(article)
    assert_offsets(text, paragraphs)
    assert "\x00" not in text and not _LONE_SURROGATE.search(text)
    chunks = [text[p.start:p.end] for p in paragraphs]
    assert text == "\n\n".join(chunks), "HTML text is not its blocks joined by blank lines"
    assert all(c == " ".join(c.split()) for c in chunks), "whitespace inside a block not collapsed"


@FUZZ
@given(text=st.one_of(_TEXTS, _TEXTS.map(lambda t: t.replace("\r", "\n"))))
def test_fuzz_segment_text(timings, text):
    with _measured(timings, "segment_text"):
        paragraphs = segment_text(text)
    assert_offsets(text, paragraphs)


@FUZZ
@given(spec=_JSONL)
def test_fuzz_jsonl(timings, fuzz_dir, spec):
    lines, newline = spec
    path = fuzz_dir / "batch.jsonl"
    path.write_bytes(newline.join(line for _, line in lines).encode("utf-8", "surrogatepass"))
    with _measured(timings, "JSONL files"):
        articles = list(read_articles(discover([path])))
    for article in articles:
        _check_article(article)
    numbered = [(n, kind) for n, (kind, line) in enumerate(lines, 1) if line.strip()]
    if not numbered:
        assert len(articles) == 1 and articles[0].error.startswith("empty"), [a.error for a in articles]
        return
    assert len(articles) == len(numbered), "one article per non-blank line"
    for (number, kind), article in zip(numbered, articles, strict=True):
        if kind == "record":  # valid JSON whatever its text holds (U+2028 included): never a line error
            assert not article.error.startswith("line"), article.error
        elif kind in ("not object", "no text"):
            assert article.error.startswith(f"line {number} "), article.error


# --- pathological inputs -----------------------------------------------------------------------

_LINE = "Sleep well, eat your greens and walk every day. "


@pytest.fixture(scope="module")
def fifty_mb_line(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("big") / "one-line.txt"
    size = 50 * 1024 * 1024
    path.write_text(_LINE * (size // len(_LINE) + 1), encoding="ascii")
    return path


def test_50_mb_single_line_is_skipped_under_the_default_limit(timings, fifty_mb_line):
    [article] = _timed(timings, "50 MB line, default limit", lambda: list(read_articles(discover([fifty_mb_line]))))
    assert article.error.startswith("too large") and str(MAX_FILE_BYTES) in article.error
    assert not article.paragraphs


def test_50_mb_single_line_is_read_with_a_raised_limit(timings, fifty_mb_line):
    [article] = _timed(timings, "50 MB line, max_bytes raised",
                       lambda: list(read_articles(discover([fifty_mb_line]), max_bytes=60 * 1024 * 1024)))
    assert article.ok and len(article.paragraphs) >= 1
    _check_article(article)


def test_five_million_newlines(timings, tmp_path):
    text = "First paragraph of the piece.\n" + "\n\r\n\r" * 1_250_000 + "Last paragraph of the piece."
    article = _timed(timings, "5 million newlines", lambda: article_from_text("newlines", text))
    _check_article(article)
    assert [article.text[p.start:p.end] for p in article.paragraphs] == [
        "First paragraph of the piece.", "Last paragraph of the piece."]
    (tmp_path / "newlines.txt").write_bytes(b"\n" * 5_000_000)
    [empty] = read_articles(discover([tmp_path / "newlines.txt"]))
    assert empty.error == "empty file"


def test_100_000_deep_html_file(timings, tmp_path):
    tags = ["div", "section", "span", "blockquote", "article", "b"] * (100_000 // 6 + 1)
    tags = tags[:100_000]
    markup = "<html><body>" + "".join(f"<{t}>" for t in tags) + "The bottom line." + "".join(f"</{t}>" for t in reversed(tags))
    (tmp_path / "deep.html").write_text(markup, encoding="utf-8")
    [article] = _timed(timings, "100,000-deep HTML file", lambda: list(read_articles(discover([tmp_path]))))
    _check_article(article)
    assert article.text == "The bottom line."


@pytest.mark.parametrize("construct", ["<a", "</a", "<!--a>", "<?", "<!x", "<![", "<a b='x>'", "<a\x00", "&#x", "<"])
def test_unterminated_markup_repeated_100_000_times(timings, construct):
    """Python's parser re-scanned to the end for each such construct before 3.13.5."""
    markup = "<p>Kept before the soup.</p>" + construct * 100_000
    text, paragraphs = _timed(timings, f"{construct!r} x 100,000", lambda: html_to_text(markup))
    assert_offsets(text, paragraphs)
    assert text.startswith("Kept before the soup.")


@pytest.mark.parametrize(
    "name, data, reason",
    [
        ("binary.txt", bytes(range(256)) * 64, "binary"),
        ("nul-in-text.txt", b"Looks like text\x00 until a NUL." * 10, "binary"),
        ("empty.txt", b"", "empty"),
        ("spaces.txt", b" \t\r\n\x0b\x0c " * 1000, "empty"),
        ("bom-only.txt", b"\xef\xbb\xbf", "empty"),
        ("utf16-bom-garbage.txt", b"\xff\xfe\x00\xd8", "invalid utf-16"),
        ("empty.html", b"<html><body> </body></html>", "empty"),
        ("empty.jsonl", b"\n\n  \n", "empty"),
    ],
)
def test_bad_files_give_a_reason(name, data, reason, tmp_path):
    (tmp_path / name).write_bytes(data)
    [article] = read_articles(discover([tmp_path / name]))
    _check_article(article)
    assert reason in article.error, article.error
