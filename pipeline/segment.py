"""Paragraph segmentation with exact character offsets.

Articles arrive in two plain-text layouts: blank-line-separated paragraphs, and one paragraph per
line with no blank lines between (both occur among the seed articles). Within a block of
consecutive non-blank lines, each line is its own paragraph unless the block looks hard-wrapped
(short lines broken mid-sentence), in which case the block is one paragraph. Headings and list
items are always paragraphs of their own.

Every :class:`Paragraph` holds ``start``/``end`` offsets into the text it was cut from, so that
``text[start:end]`` is exactly the paragraph (markers such as ``## `` or ``- `` stay outside).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

__all__ = ["BODY", "HEADING", "LIST_ITEM", "Paragraph", "segment_text"]

HEADING = "heading"
LIST_ITEM = "list_item"
BODY = "paragraph"

_BULLET = re.compile(r"[ \t]*(?:[-*+\u2022\u2023\u25aa\u25cf\u2013]|\d{1,3}[.)]|[a-zA-Z][.)])[ \t]+(?=\S)")
_MD_HEADING = re.compile(r"[ \t]{0,3}#{1,6}[ \t]+(?=\S)")
_SETEXT = re.compile(r"[ \t]{0,3}(?:=+|-+)[ \t]*")
_TERMINAL = (".", "!", "?", ":", ";", '"', "\u201d", ")", "'", "\u2019")
_WRAP_WIDTH = 100
# A whole line holding at least one non-space character. The leading "[^\S\n]*" can only
# backtrack over the spaces it took at a line start, so the scan stays linear.
_TEXT_LINE = re.compile(r"^[^\S\n]*\S.*$", re.MULTILINE)


@dataclass(frozen=True)
class Paragraph:
    """One paragraph of an article: ``text[start:end]`` and what kind of block it is."""

    start: int
    end: int
    kind: str = BODY


def _text_blocks(text: str) -> Iterator[list[tuple[int, int]]]:
    """Runs of consecutive non-blank lines, each line as its ``(start, end)`` span.

    Blank lines are skipped by the regex engine rather than one by one in Python, so a file of
    millions of empty lines costs time and memory for its text lines only.
    """
    block: list[tuple[int, int]] = []
    last_end = -2
    for match in _TEXT_LINE.finditer(text):
        if block and match.start() != last_end + 1:
            yield block
            block = []
        block.append(match.span())
        last_end = match.end()
    if block:
        yield block


def _strip_span(text: str, start: int, end: int) -> tuple[int, int]:
    chunk = text[start:end]
    left = chunk.lstrip()
    start += len(chunk) - len(left)
    return start, start + len(left.rstrip())


def _is_hard_wrapped(text: str, lines: list[tuple[int, int]]) -> bool:
    """A block of short lines broken mid-sentence is one wrapped paragraph, not many."""
    if len(lines) < 2:
        return False
    lengths = [e - s for s, e in lines]
    if max(lengths) > _WRAP_WIDTH or any(_BULLET.match(text, s) for s, _ in lines):
        return False
    body = lines[:-1]
    mid_sentence = sum(not text[s:e].rstrip().endswith(_TERMINAL) for s, e in body)
    return mid_sentence * 2 >= len(body) and all(e - s >= 40 for s, e in body)


def _looks_like_heading(line: str, next_line: str | None) -> bool:
    """Short, unpunctuated, title-like line before more text: a heading in plain text."""
    if len(line) > 110 or next_line is None:
        return False  # before split(): a multi-megabyte line would become millions of words
    words = line.split()
    if not words or len(words) > 14:
        return False
    if line.endswith("?"):
        return len(next_line) > len(line)
    if line.endswith((".", ",", ";", "!")):
        return False
    capitalised = sum(w[:1].isupper() or not w[:1].isalpha() for w in words)
    return capitalised * 2 >= len(words) or len(next_line) > 2 * len(line)


def _classify(text: str, start: int, end: int, next_text: str | None) -> Paragraph | None:
    m = _MD_HEADING.match(text, start, end)
    if m:
        s, e = _strip_span(text, m.end(), end)
        e = len(text[s:e].rstrip("#").rstrip()) + s
        return Paragraph(s, e, HEADING) if e > s else None
    m = _BULLET.match(text, start, end)
    if m:
        s, e = _strip_span(text, m.end(), end)
        return Paragraph(s, e, LIST_ITEM) if e > s else None
    s, e = _strip_span(text, start, end)
    if e <= s:
        return None
    kind = HEADING if _looks_like_heading(text[s:e], next_text) else BODY
    return Paragraph(s, e, kind)


def segment_text(text: str) -> list[Paragraph]:
    """Cut normalised text (``\\n`` newlines) into paragraphs with exact offsets.

    Parameters
    ----------
    text:
        The article text, with newlines already normalised to ``\\n``.

    Returns
    -------
    list of Paragraph
        In reading order; ``text[p.start:p.end]`` is the paragraph, never empty.
    """
    units: list[tuple[int, int, bool]] = []  # start, end, forced heading (setext)
    for block in _text_blocks(text):
        if _is_hard_wrapped(text, block):
            units.append((block[0][0], block[-1][1], False))
            continue
        for i, (start, end) in enumerate(block):
            if _SETEXT.fullmatch(text, start, end) and units and i > 0:
                units[-1] = (units[-1][0], units[-1][1], True)
                continue
            units.append((start, end, False))
    paragraphs: list[Paragraph] = []
    for i, (start, end, setext) in enumerate(units):
        following = text[units[i + 1][0]:units[i + 1][1]].strip() if i + 1 < len(units) else None
        para = _classify(text, start, end, following)
        if para is None:
            continue
        if setext and para.kind != LIST_ITEM:
            para = Paragraph(para.start, para.end, HEADING)
        paragraphs.append(para)
    return paragraphs
