"""Read articles from disk: find files, decode bytes, extract visible text, cut paragraphs.

One bad file never stops a batch: a file that cannot be read, decoded or parsed comes back as an
:class:`Article` whose ``error`` says why, with no paragraphs. ``Article.text`` is the normalised
text (newlines ``\\n``, no BOM; for HTML the visible text with one blank line between blocks), and
every paragraph's offsets index into it.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import charset_normalizer
from lxml import etree, html as lxml_html

from .config import ARTICLE_SUFFIXES, MAX_FILE_BYTES
from .segment import BODY, HEADING, LIST_ITEM, Paragraph, segment_text

__all__ = [
    "Article",
    "InputError",
    "discover",
    "decode_bytes",
    "html_to_text",
    "article_from_text",
    "read_articles",
]

_BOMS = (
    (b"\xef\xbb\xbf", "utf-8-sig"),
    (b"\xff\xfe\x00\x00", "utf-32"),
    (b"\x00\x00\xfe\xff", "utf-32"),
    (b"\xff\xfe", "utf-16"),
    (b"\xfe\xff", "utf-16"),
)
_DROP_TAGS = {"script", "style", "noscript", "template", "head", "svg", "iframe", "object", "button", "select"}
_HEADING_TAGS = {"h1", "h2", "h3", "h4", "h5", "h6"}
_LIST_TAGS = {"li", "dt"}
_BLOCK_TAGS = _HEADING_TAGS | _LIST_TAGS | {
    "address", "article", "aside", "blockquote", "body", "br", "caption", "dd", "details", "div",
    "dl", "fieldset", "figcaption", "figure", "footer", "form", "header", "hr", "html", "main",
    "nav", "ol", "p", "pre", "section", "summary", "table", "tbody", "td", "tfoot", "th", "thead",
    "tr", "ul",
}


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
    controls = sum(b < 9 or 13 < b < 32 for b in sample)
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


def html_to_text(markup: str) -> tuple[str, list[Paragraph]]:
    """Extract the visible text of an HTML document, one paragraph per block element.

    Scripts, styles and other invisible elements are dropped, entities are decoded by the parser,
    whitespace inside a block is collapsed, and blocks are joined by a blank line. Headings
    (``h1``-``h6``) and list items keep their kind.
    """
    if not markup.strip():
        return "", []
    try:
        root = lxml_html.document_fromstring(markup)
    except (etree.ParserError, ValueError) as exc:
        raise InputError(f"could not parse HTML: {exc}") from None
    blocks: list[tuple[str, str]] = []
    buffer: list[str] = []
    kinds: list[str] = []

    def flush() -> None:
        words = " ".join("".join(buffer).split())
        buffer.clear()
        if words:
            blocks.append((words, kinds[-1] if kinds else BODY))

    skip_depth = 0
    for event, element in etree.iterwalk(root, events=("start", "end")):
        tag = element.tag if isinstance(element.tag, str) else ""
        tag = tag.lower()
        if event == "start":
            if skip_depth or tag in _DROP_TAGS or not tag:
                skip_depth += 1
                continue
            if tag in _BLOCK_TAGS:
                flush()
                if tag in _HEADING_TAGS:
                    kinds.append(HEADING)
                elif tag in _LIST_TAGS:
                    kinds.append(LIST_ITEM)
            if element.text:
                buffer.append(element.text)
        else:
            if skip_depth:
                skip_depth -= 1
            else:
                if tag in _BLOCK_TAGS:
                    flush()
                    if tag in _HEADING_TAGS or tag in _LIST_TAGS:
                        kinds.pop()
            # Text after a closing tag belongs to the parent, visible unless the parent is dropped.
            if element.tail and not skip_depth:
                buffer.append(element.tail)
    flush()
    text_parts, paragraphs, pos = [], [], 0
    for words, kind in blocks:
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
        if not isinstance(record, dict):
            yield Article(where, source=source, error=f"line {number} is not a JSON object")
            continue
        article_id = str(record.get("id") or where)
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
        yield from _jsonl_articles(path, _normalise_newlines(text), rel)
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
