"""Paragraph segmentation: layouts, headings, list items, and the offsets invariant."""

from __future__ import annotations

from collections.abc import Sequence

from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.ingest import article_from_text, html_to_text
from pipeline.segment import BODY, HEADING, LIST_ITEM, Paragraph, segment_text


def assert_offsets(text: str, paragraphs: Sequence[Paragraph]) -> None:
    """The offsets invariant every segmenter must keep (also used by ``test_fuzz.py``).

    Each paragraph lies inside ``text``, after the one before it, and ``text[start:end]`` is
    non-empty, already stripped, and never spans a blank line.
    """
    previous_end = 0
    for i, p in enumerate(paragraphs):
        chunk = text[p.start:p.end]
        assert 0 <= p.start < p.end <= len(text), f"paragraph {i} [{p.start}:{p.end}] outside 0..{len(text)}"
        assert p.start >= previous_end, f"paragraph {i} starts at {p.start}, before the previous end {previous_end}"
        assert chunk == chunk.strip(), f"paragraph {i} has outer whitespace: {chunk!r}"
        assert "\n\n" not in chunk, f"paragraph {i} spans a blank line: {chunk!r}"
        previous_end = p.end


def _texts(text: str) -> list[str]:
    return [text[p.start:p.end] for p in segment_text(text)]


def test_blank_line_separated_paragraphs():
    text = "Title Of The Piece\n\nFirst paragraph, with a sentence.\n\nSecond paragraph here.\n"
    paragraphs = segment_text(text)
    assert _texts(text) == ["Title Of The Piece", "First paragraph, with a sentence.", "Second paragraph here."]
    assert paragraphs[0].kind == HEADING and paragraphs[1].kind == BODY


def test_one_paragraph_per_line():
    text = "Short Heading\nA long first paragraph that explains something in detail, over many words.\nAnother paragraph follows on the next line without a blank line."
    assert _texts(text) == text.split("\n")
    assert segment_text(text)[0].kind == HEADING


def test_hard_wrapped_paragraph_stays_whole():
    text = (
        "This paragraph was wrapped at a fixed width by an old\n"
        "email client, so each line breaks in the middle of a\n"
        "sentence and must be read as one paragraph.\n"
    )
    assert len(segment_text(text)) == 1


def test_markdown_headings_and_lists_exclude_markers():
    text = "# Title\n\n## Section\n\n- first item\n- second item\n1. numbered item\n\nBody text here."
    paragraphs = segment_text(text)
    assert [(text[p.start:p.end], p.kind) for p in paragraphs] == [
        ("Title", HEADING),
        ("Section", HEADING),
        ("first item", LIST_ITEM),
        ("second item", LIST_ITEM),
        ("numbered item", LIST_ITEM),
        ("Body text here.", BODY),
    ]


def test_setext_heading():
    text = "Big Title\n=========\n\nSome body text that follows the title."
    paragraphs = segment_text(text)
    assert text[paragraphs[0].start:paragraphs[0].end] == "Big Title"
    assert paragraphs[0].kind == HEADING
    assert len(paragraphs) == 2


def test_faq_question_is_heading():
    text = "Can I take it with food?\nYes. Taking it with a meal reduces stomach upset for most people."
    assert segment_text(text)[0].kind == HEADING


def test_seed_layouts(seeds_dir):
    """Both layouts of the seed articles: blank-line (000) and one-per-line (002)."""
    for name, minimum in (("000_94a0d6a11492c347.txt", 20), ("002_58ae7393e0773bd3.txt", 45)):
        text = (seeds_dir / name).read_text(encoding="utf-8")
        article = article_from_text(name, text)
        assert len(article.paragraphs) >= minimum
        assert_offsets(article.text, article.paragraphs)


_alphabet = st.characters(blacklist_categories=("Cs",))
_lines = st.lists(
    st.one_of(
        st.text(alphabet=_alphabet, max_size=120),
        st.sampled_from(["", "  ", "# Heading", "- item", "1. first", "====", "Title Case Line", "\t"]),
    ),
    max_size=30,
)


@settings(max_examples=400, deadline=None, database=None)
@given(_lines, st.sampled_from(["\n", "\r\n", "\r", "\n\n"]))
def test_offsets_hold_for_any_text(lines, newline):
    article = article_from_text("x", newline.join(lines))
    assert_offsets(article.text, article.paragraphs)


@settings(max_examples=200, deadline=None, database=None)
@given(st.lists(st.tuples(st.sampled_from(["p", "h2", "li", "div", "span", "script", "td"]), st.text(alphabet=_alphabet, max_size=60)), max_size=20))
def test_offsets_hold_for_any_html(blocks):
    markup = "<html><body>" + "".join(f"<{t}>{s.replace('<', '&lt;')}</{t}>" for t, s in blocks) + "</body></html>"
    text, paragraphs = html_to_text(markup)
    assert_offsets(text, paragraphs)
