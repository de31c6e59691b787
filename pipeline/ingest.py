"""Read articles from disk: find files, decode bytes, extract visible text, cut paragraphs.

One bad file never stops a batch: a file that cannot be read, decoded or parsed comes back as an
:class:`Article` whose ``error`` says why, with no paragraphs. ``Article.text`` is the normalised
text (newlines ``\\n``, no BOM; for HTML the visible text with one blank line between blocks), and
every paragraph's offsets index into it.
"""

from __future__ import annotations

import hashlib
import html
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import NamedTuple

import charset_normalizer

from .config import ARTICLE_SUFFIXES, MAX_FILE_BYTES
from .segment import BODY, HEADING, LIST_ITEM, Paragraph, segment_text

__all__ = [
    "Article",
    "InputError",
    "article_from_text",
    "decode_bytes",
    "discover",
    "html_to_text",
    "read_articles",
]

_BOMS = (
    (b"\xef\xbb\xbf", "utf-8-sig"),
    (b"\xff\xfe\x00\x00", "utf-32"),
    (b"\x00\x00\xfe\xff", "utf-32"),
    (b"\xff\xfe", "utf-16"),
    (b"\xfe\xff", "utf-16"),
)
# Not article text (code, metadata, drawings, form controls): dropped with everything inside.
# <title> is listed because, with no tree builder, no implied <head> hides it in a page that
# has no <head> tag.
_DROP_TAGS = {
    "script", "style", "noscript", "template", "head", "title", "svg", "iframe", "object", "button",
    "select",
}
_HEADING_TAGS = {"h1", "h2", "h3", "h4", "h5", "h6"}
_LIST_TAGS = {"li", "dt"}
_BLOCK_TAGS = _HEADING_TAGS | _LIST_TAGS | {
    "address", "article", "aside", "blockquote", "body", "br", "caption", "dd", "details", "div",
    "dl", "fieldset", "figcaption", "figure", "footer", "form", "header", "hr", "html", "main",
    "nav", "ol", "p", "pre", "section", "summary", "table", "tbody", "td", "tfoot", "th", "thead",
    "tr", "ul",
}
# Elements with no end tag: they never open, and an end tag naming one is ignored.
_VOID_TAGS = {
    "area", "base", "basefont", "bgsound", "br", "col", "embed", "frame", "hr", "img", "input",
    "keygen", "link", "meta", "param", "source", "track", "wbr",
}
# What may stand in <head>; any other start tag ends it (HTML5 "in head" insertion mode).
_HEAD_TAGS = {
    "base", "basefont", "bgsound", "link", "meta", "noframes", "noscript", "script", "style",
    "template", "title",
}
_LIST_CONTAINERS = {"ul", "ol", "menu"}
# Start tags that close an open <p> (HTML5), checked against the current element only.
_CLOSES_P = _HEADING_TAGS | _LIST_TAGS | {
    "address", "article", "aside", "blockquote", "center", "dd", "details", "dialog", "dir", "div",
    "dl", "fieldset", "figcaption", "figure", "footer", "form", "header", "hgroup", "hr", "listing",
    "main", "menu", "nav", "ol", "p", "pre", "search", "section", "summary", "table", "ul", "xmp",
}
# Not HTML5, but what libxml2 (the previous parser) did, and right for sloppy pages: a
# forgotten </h2> must not turn the article that follows into heading text.
_CLOSE_HEADING = {"p", "table"}
_FOREIGN_ROOTS = {"svg", "math"}
_INTEGRATION_POINTS = {"foreignobject", "desc", "title", "mi", "mo", "mn", "ms", "mtext", "annotation-xml"}
# HTML start tags that end foreign content (HTML5 "parsing main in foreign content").
_FOREIGN_BREAKOUT = _HEADING_TAGS | {
    "b", "big", "blockquote", "body", "br", "center", "code", "dd", "div", "dl", "dt", "em",
    "embed", "head", "hr", "i", "img", "li", "listing", "menu", "meta", "nobr", "ol", "p", "pre",
    "ruby", "s", "small", "span", "strike", "strong", "sub", "sup", "table", "tt", "u", "ul", "var",
}
_CONTROL_TAGS = {"select", "button"}
# Start tags that close an open control, even unclosed: see _VisibleText.
_CONTROL_CLOSERS = (_BLOCK_TAGS - {"br", "hr"}) | {"input", "keygen", "textarea", "select", "button"}
# Python's parser raises on "<![" not followed by a known keyword and has no HTML5 "<!-->";
# rewritten to what HTML5 reads them as: a bogus comment up to ">", an empty comment.
_MARKUP_FIXES = (("<![", "<!-["), ("<!--->", "<!---->"), ("<!-->", "<!---->"))

_CONTROL_BYTES = bytes([*range(9), *range(14, 32)])  # control characters other than whitespace
_NOT_CONTENT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufeff\ud800-\udfff]")


class InputError(Exception):
    """A file could not be turned into an article; the message says why."""


@dataclass
class Article:
    """One article: its identifier, normalised text and paragraphs, or the reason it failed."""

    id: str
    text: str = ""
    paragraphs: list[Paragraph] = field(default_factory=list)
    source: str = ""
    error: str = ""
    sha256: str = ""

    @property
    def ok(self) -> bool:
        return not self.error


def _normalise_newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n").replace("\u2028", "\n").replace("\u2029", "\n\n")


def _looks_binary(data: bytes) -> bool:
    sample = data[:8192]
    if b"\x00" in sample:
        return True
    controls = len(sample) - len(sample.translate(None, _CONTROL_BYTES))
    return controls > max(8, len(sample) // 20)


def decode_bytes(data: bytes) -> tuple[str, str]:
    """Decode file bytes to text and name the encoding used.

    Byte-order marks win (UTF-8, UTF-16, UTF-32); then strict UTF-8; then charset detection for
    legacy single-byte files such as cp1252 or latin-1.

    Raises
    ------
    InputError
        If the bytes look binary or no encoding decodes them.
    """
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(encoding), encoding
            except UnicodeDecodeError as exc:
                raise InputError(f"invalid {encoding} after its byte-order mark: {exc.reason}") from None
    if _looks_binary(data):
        raise InputError("binary content (NUL or control bytes), not text")
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    best = charset_normalizer.from_bytes(data[:262144]).best()
    encoding = best.encoding if best is not None else "cp1252"
    try:
        return data.decode(encoding), encoding
    except (UnicodeDecodeError, LookupError):
        try:
            return data.decode("cp1252"), "cp1252"
        except UnicodeDecodeError:
            raise InputError("not valid UTF-8 and no single-byte encoding fits") from None


def _clean_text(text: str) -> str:
    """Normalise newlines and drop what is never content: BOM, NULs and other control
    characters, lone surrogates."""
    text = _normalise_newlines(text).replace("\x85", "\n")
    return _NOT_CONTENT.sub("", text)


class _Open(NamedTuple):
    """One open element, with what it passes on to the elements inside it.

    The four ``*_at`` fields are stack indices (``-1`` for none), so that the implied end tags
    below cost O(1) whatever the nesting depth.
    """

    tag: str
    kind: str  # kind of the innermost heading or list-item ancestor, else BODY
    hidden: bool  # inside a dropped element
    li_at: int  # nearest open <li> with no list between it and here
    dtdd_at: int  # nearest open <dt>/<dd> with no <dl> between
    foreign_at: int  # nearest open <svg>/<math> with no integration point between
    control_at: int  # nearest open <select>/<button>


_DOCUMENT = _Open("#document", BODY, False, -1, -1, -1, -1)


class _VisibleText(HTMLParser):
    """Collect visible text blocks from an event stream, with an explicit stack of open elements.

    An event parser has no depth limit (libxml2 stops building its tree a few hundred to a few
    thousand levels down), but it also does none of a tree builder's repairs, so the HTML5 ones
    that change which text is visible are done here: void elements never open; ``<li>``,
    ``<dt>``/``<dd>``, ``<p>`` and headings close their open predecessor (and ``<p>`` or
    ``<table>`` an open heading, as libxml2 did); an end tag closes every
    element opened after its start tag, and one with no open start tag is ignored; ``<head>``
    ends at the first body content.

    Unclosed dropped elements: ``<svg>``/``<math>`` end at the first HTML start tag that breaks
    out of foreign content (``<p>``, ``<div>``...), as in HTML5; ``<select>`` and ``<button>``
    (phrasing or options only) end at the first block start tag, so a forgotten end tag costs
    the rest of the page its options' labels rather than its text. The rest (``<script>``,
    ``<style>``, ``<iframe>``, ``<noscript>``, ``<template>``, ``<object>``, ``<title>``) hide
    everything up to an end tag of theirs or of an ancestor, as in a browser.
    """

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[tuple[str, str]] = []
        self._buffer: list[str] = []
        self._stack: list[_Open] = [_DOCUMENT]
        self._open_at: dict[str, list[int]] = {}
        self._prologue = True  # no body content yet: a <head> may still open
        self._head_seen = False

    def _flush(self) -> None:
        if not self._buffer:
            return
        words = " ".join(_NOT_CONTENT.sub("", "".join(self._buffer)).split())
        self._buffer.clear()
        if words:
            self.blocks.append((words, self._stack[-1].kind))

    def _pop_to(self, index: int) -> None:
        """Close the element at ``index`` and everything opened inside it."""
        while len(self._stack) > index:
            top = self._stack[-1]
            if top.tag in _BLOCK_TAGS and not top.hidden:
                self._flush()
            self._stack.pop()
            self._open_at[top.tag].pop()

    def _implied_end(self, tag: str, attrs: list[tuple[str, str | None]]) -> int:
        """Index of the element this start tag closes implicitly, or -1."""
        top = self._stack[-1]
        if top.tag == "head" and tag not in _HEAD_TAGS:
            return len(self._stack) - 1
        if top.foreign_at >= 0 and (
            tag in _FOREIGN_BREAKOUT or (tag == "font" and any(n in ("color", "face", "size") for n, _ in attrs))
        ):
            return top.foreign_at
        if top.control_at >= 0 and tag in _CONTROL_CLOSERS:
            return top.control_at
        if tag == "li" and top.li_at >= 0:
            return top.li_at
        if tag in ("dt", "dd") and top.dtdd_at >= 0:
            return top.dtdd_at
        if top.tag in _HEADING_TAGS and (tag in _HEADING_TAGS or tag in _CLOSE_HEADING):
            return len(self._stack) - 1
        if top.tag == "p" and tag in _CLOSES_P:
            return len(self._stack) - 1
        return -1

    def _start(self, tag: str, attrs: list[tuple[str, str | None]]) -> bool:
        """Open ``tag``; return whether it was pushed (void and ignored tags are not)."""
        if tag == "head":
            if not self._prologue or self._head_seen:
                return False  # a late or second <head> is ignored, as in HTML5
            self._head_seen = True
        elif tag not in _HEAD_TAGS and tag != "html":
            self._prologue = False
        while (index := self._implied_end(tag, attrs)) >= 0:
            self._pop_to(index)
        parent = self._stack[-1]
        if tag in _BLOCK_TAGS and not parent.hidden:
            self._flush()
        if tag in _VOID_TAGS:
            return False
        index = len(self._stack)
        self._stack.append(_Open(
            tag,
            HEADING if tag in _HEADING_TAGS else LIST_ITEM if tag in _LIST_TAGS else parent.kind,
            parent.hidden or tag in _DROP_TAGS,
            index if tag == "li" else -1 if tag in _LIST_CONTAINERS else parent.li_at,
            index if tag in ("dt", "dd") else -1 if tag == "dl" else parent.dtdd_at,
            index if tag in _FOREIGN_ROOTS else -1 if tag in _INTEGRATION_POINTS else parent.foreign_at,
            index if tag in _CONTROL_TAGS else parent.control_at,
        ))
        self._open_at.setdefault(tag, []).append(index)
        return True

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._start(tag, attrs)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        # <x/> closes at once, as libxml2 did: a self-closed <script/> or <svg/> hides nothing.
        if self._start(tag, attrs):
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        open_at = self._open_at.get(tag)
        if open_at:
            self._pop_to(open_at[-1])
        elif tag in ("br", "p") and not self._stack[-1].hidden:
            self._flush()  # HTML5 reads a lone </br> as <br> and a lone </p> as an empty <p>

    def handle_data(self, data: str) -> None:
        if not data:
            return
        top = self._stack[-1]
        if top.tag == "head" and not data.isspace():
            self._pop_to(len(self._stack) - 1)  # text ends the head, as in HTML5
            top = self._stack[-1]
        if top.hidden:
            return
        if self._prologue and not data.isspace():
            self._prologue = False
        self._buffer.append(data)

    def finish(self) -> list[tuple[str, str]]:
        """Handle what :meth:`feed` left unparsed and return the blocks.

        ``feed`` stops at the first construct it cannot complete. Text (a trailing ``&`` that
        might start a reference) is kept. Anything else is markup left open to the end of the
        input, which HTML5 also discards: a comment, tag or quoted attribute value running to
        the end of the file. ``close()`` is not used: in Python releases without the fix for
        CVE-2025-6069 (3.11.7, for one) it re-scans to the end for every unfinished construct,
        quadratic on input such as ``"<a" * 100_000`` (20,000 of them took 1.2 s, 100,000 ~30 s).
        """
        rest = self.rawdata
        if rest and not rest.startswith("<"):
            self.handle_data(html.unescape(rest))
        self._pop_to(1)
        self._flush()
        return self.blocks


def html_to_text(markup: str) -> tuple[str, list[Paragraph]]:
    """Extract the visible text of an HTML document, one paragraph per block element.

    Scripts, styles and other invisible elements are dropped, entities are decoded, whitespace
    inside a block is collapsed, and blocks are joined by a blank line. Headings (``h1``-``h6``)
    and list items (``li``, ``dt``) keep their kind. Nesting depth does not matter: the markup is
    read as a stream of tags, never as a tree, in time linear in its length.

    Raises
    ------
    InputError
        If the parser rejects the markup.
    """
    if not markup.strip():
        return "", []
    for old, new in _MARKUP_FIXES:
        markup = markup.replace(old, new)
    extractor = _VisibleText()
    try:
        extractor.feed(markup)
    except AssertionError as exc:  # how Python's parser reports markup it cannot tokenise
        raise InputError(f"could not parse HTML: {exc}") from None
    text_parts, paragraphs, pos = [], [], 0
    for words, kind in extractor.finish():
        if text_parts:
            text_parts.append("\n\n")
            pos += 2
        text_parts.append(words)
        paragraphs.append(Paragraph(pos, pos + len(words), kind))
        pos += len(words)
    return "".join(text_parts), paragraphs


def article_from_text(article_id: str, text: str, *, is_html: bool = False, source: str = "") -> Article:
    """Build an :class:`Article` from text already in memory (plain text or HTML)."""
    digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
    try:
        if is_html:
            clean, paragraphs = html_to_text(_clean_text(text))
        else:
            clean = _clean_text(text)
            paragraphs = segment_text(clean)
    except InputError as exc:
        return Article(article_id, source=source, error=str(exc), sha256=digest)
    if not paragraphs:
        return Article(article_id, text=clean, source=source, error="empty: no visible text", sha256=digest)
    return Article(article_id, text=clean, paragraphs=paragraphs, source=source, sha256=digest)


def _jsonl_articles(path: Path, text: str, rel: str) -> Iterator[Article]:
    found = False
    for number, line in enumerate(text.split("\n"), 1):
        if not line.strip():
            continue
        found = True
        where = f"{rel}:{number}"
        source = f"{path}:{number}"
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            yield Article(where, source=source, error=f"line {number} is not JSON: {exc.msg}")
            continue
        except (ValueError, RecursionError) as exc:  # an integer of 4,300+ digits; deep nesting
            yield Article(where, source=source, error=f"line {number} is not JSON we can read: {exc}")
            continue
        if not isinstance(record, dict):
            yield Article(where, source=source, error=f"line {number} is not a JSON object")
            continue
        raw_id = record.get("id")
        # Only a scalar names an article; str() of a deeply nested list can itself overflow.
        article_id = str(raw_id) if raw_id and isinstance(raw_id, (str, int, float)) else where
        body = record.get("text") if record.get("text") is not None else record.get("html")
        if not isinstance(body, str):
            yield Article(article_id, source=source, error=f"line {number} has no 'text' or 'html' string")
            continue
        yield article_from_text(article_id, body, is_html=record.get("text") is None, source=source)
    if not found:
        yield Article(rel, source=str(path), error="empty: no JSON lines")


def _read_file(path: Path, rel: str, max_bytes: int) -> Iterator[Article]:
    try:
        size = path.stat().st_size
        if size > max_bytes:
            yield Article(rel, source=str(path), error=f"too large: {size} bytes > limit {max_bytes}")
            return
        data = path.read_bytes()
    except OSError as exc:
        yield Article(rel, source=str(path), error=f"cannot read: {exc.strerror or exc}")
        return
    if not data.strip():
        yield Article(rel, source=str(path), error="empty file")
        return
    try:
        text, _ = decode_bytes(data)
    except InputError as exc:
        yield Article(rel, source=str(path), error=str(exc))
        return
    suffix = path.suffix.lower()
    if suffix == ".jsonl":
        # Records end at \n (or \r\n) only: U+2028, U+2029 and U+0085 may stand unescaped
        # inside a JSON string, so they must not split a line here.
        yield from _jsonl_articles(path, text.replace("\r\n", "\n").replace("\r", "\n"), rel)
        return
    yield article_from_text(rel, text, is_html=suffix in (".html", ".htm"), source=str(path))


def discover(paths: Iterable[str | Path]) -> list[tuple[Path, str]]:
    """List article files under the given paths, with the id each article will carry.

    Folders are searched recursively for known suffixes; ids are paths relative to the folder
    given. A file named directly is taken whatever its suffix.

    Raises
    ------
    FileNotFoundError
        If a path does not exist.
    """
    found: list[tuple[Path, str]] = []
    for raw in paths:
        path = Path(raw)
        if not path.exists():
            raise FileNotFoundError(f"no such file or folder: {path}")
        if path.is_dir():
            for file in sorted(p for p in path.rglob("*") if p.is_file()):
                if file.suffix.lower() in ARTICLE_SUFFIXES and not any(
                    part.startswith(".") for part in file.relative_to(path).parts
                ):
                    found.append((file, file.relative_to(path).as_posix()))
        else:
            found.append((path, path.name))
    return found


def read_articles(
    files: Iterable[tuple[Path, str]], *, max_bytes: int = MAX_FILE_BYTES
) -> Iterator[Article]:
    """Read each discovered file lazily; a JSONL file yields one article per line."""
    for path, rel in files:
        yield from _read_file(path, rel, max_bytes)
