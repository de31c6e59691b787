"""Promotional cue patterns for spaCy's rule-based ``span_ruler``.

Each cue is a label and a Matcher token pattern or a phrase string. They describe how
promotion is *said* (calls to action, second person, prices, codes, urgency, brand-like names),
never which products exist, so they carry over to products the model has never seen. Two
counter-cues, ``CARE_ADVICE`` and ``EVIDENCE``, mark the non-commercial advice and research
language that informational paragraphs use, so the classifier can weigh one against the other.

The patterns are written into the spaCy pipeline when a model is built and saved with it
(``promo_cues/patterns.jsonl``), so a model always scores with the cues it was trained with.
:class:`PromoCues` is the spaCy component (factory ``"promo_cues"``) that applies them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

import srsly
from spacy.language import Language
from spacy.matcher import Matcher
from spacy.strings import get_string_id
from spacy.tokens import Doc, Span

__all__ = ["CUE_LABELS", "PromoCues", "cue_patterns"]

_MISSING = object()
_WORD_CACHE_LIMIT = 500_000  # cleared when exceeded, so memory stays flat on long runs
_DOMAIN = re.compile(r"^[\w-]+(\.[\w-]+)*\.(com|org|net|co|io|health|shop|store|care|life|us|uk|app|info|biz|clinic)(/\S*)?$", re.I)
_CAMEL = re.compile(r"^[A-Z][a-z]+[A-Z][A-Za-z]*$")
_MONEY = re.compile(r"^(US)?[$€£]\d")
_PERCENT = re.compile(r"^\d+(\.\d+)?%$")
_CODE = re.compile(r"^[A-Z0-9][A-Z0-9-]{3,}$")

CUE_LABELS = (
    "CTA",
    "IMPERATIVE",
    "SECOND_PERSON",
    "OUR_OFFER",
    "PRICE",
    "DISCOUNT",
    "URL",
    "BRAND",
    "SUPERLATIVE",
    "URGENCY",
    "TESTIMONIAL",
    "SPONSORED",
    "RECOMMENDED",
    "NAVIGATION",
    "PITCH",
    "PRODUCT",
    "CARE_ADVICE",
    "EVIDENCE",
)

_IMPERATIVE_VERBS = [
    "get", "buy", "order", "try", "book", "call", "visit", "shop", "discover", "join", "start",
    "grab", "claim", "schedule", "sign", "subscribe", "download", "click", "use", "save", "treat",
    "give", "upgrade", "unlock", "experience", "enjoy", "take", "pick", "head", "choose", "find",
    "explore", "learn", "see", "check", "contact", "reserve", "request", "register", "enroll",
    "browse", "stock", "add", "switch", "boost", "support", "transform", "elevate", "reclaim",
    "feel", "say", "don't", "dont", "stop", "tap", "message", "text", "email", "follow", "apply",
    "secure", "snag", "unleash", "meet", "let", "make", "improve", "ready",
]
_CTA_OBJECTS = [
    "yours", "your", "it", "now", "today", "here", "started", "us", "our", "one", "access",
    "free", "the",
]
_COMMERCE_VERBS = ["buy", "order", "shop", "purchase", "book", "subscribe", "reserve", "grab", "claim"]
_SALE_NOUNS = [
    "consultation", "appointment", "session", "call", "visit", "trial", "kit", "bundle",
    "package", "plan", "membership", "subscription", "box", "order", "spot", "seat",
]
_SUPERLATIVES = [
    "best", "ultimate", "premium", "top-rated", "world-class", "revolutionary", "unmatched",
    "unbeatable", "best-selling", "bestselling", "award-winning", "leading", "finest", "superior",
    "game-changing", "game-changer", "life-changing", "miracle", "breakthrough", "all-in-one",
    "doctor-formulated", "clinically-proven", "#1", "perfect", "amazing", "incredible",
]
_URGENCY = [
    "today", "now", "hurry", "limited", "soon", "tonight", "instantly", "immediately", "fast",
    "quickly", "last", "deadline", "expires", "ends",
]
_NAVIGATION = [
    "previous", "next", "related", "recent", "popular", "trending", "share", "tweet", "pin",
    "tags", "categories", "menu", "home", "newer", "older", "comments", "reply",
]


def _lower_in(words: list[str]) -> dict:
    return {"LOWER": {"IN": words}}


def _token_patterns() -> list[tuple[str, list[dict]]]:
    pats: list[tuple[str, list[dict]]] = [
        ("CTA", [_lower_in(_COMMERCE_VERBS + ["get", "try", "grab", "claim", "start"]),
                 _lower_in(_CTA_OBJECTS)]),
        ("CTA", [_lower_in(_COMMERCE_VERBS + ["schedule", "get", "request", "claim", "start"]),
                 {"LOWER": {"IN": ["a", "an", "your", "our", "the", "my"]}, "OP": "?"},
                 {"LOWER": {"IN": ["free", "first", "complimentary", "personalized"]}, "OP": "?"},
                 _lower_in(_SALE_NOUNS)]),
        ("CTA", [_lower_in(["sign", "log", "opt"]), _lower_in(["up", "in"])]),
        ("CTA", [_lower_in(["click", "tap"]), _lower_in(["here", "below", "the", "now", "this"])]),
        ("CTA", [_lower_in(["learn", "find", "read"]), _lower_in(["more", "out"])]),
        ("CTA", [_lower_in(["add", "added"]), _lower_in(["to"]), {"LOWER": {"IN": ["cart", "basket", "bag"]}}]),
        ("CTA", [_lower_in(["visit", "check", "head", "go"]), {"LOWER": {"IN": ["out", "over", "to"]}, "OP": "?"},
                 _lower_in(["our", "their", "the"]), {"LOWER": {"IN": ["website", "site", "store", "shop", "page", "clinic", "online"]}}]),
        ("CTA", [_lower_in(["available"]), _lower_in(["here", "now", "online", "at", "exclusively"])]),
        ("CTA", [_lower_in(["link", "links"]), _lower_in(["below", "above", "in"])]),
        ("SECOND_PERSON", [_lower_in(["you", "your", "yours", "yourself", "you're", "you'll", "you've", "you'd", "ya"])]),
        ("OUR_OFFER", [_lower_in(["our", "we"]), {"LOWER": {"IN": [
            "team", "clinic", "clinics", "product", "products", "store", "shop", "formula", "kit",
            "experts", "specialists", "providers", "offer", "carry", "sell", "ship", "deliver",
            "program", "programs", "app", "service", "services", "patients", "customers", "members",
            "center", "centre", "practice", "doctors", "gummies", "blend", "supplements", "plans"]}}]),
        ("PRICE", [{"ORTH": {"IN": ["$", "€", "£", "US$"]}}, {"LIKE_NUM": True}]),
        ("PRICE", [{"LIKE_NUM": True}, _lower_in(["usd", "dollars", "eur", "gbp"])]),
        ("PRICE", [_lower_in(["just", "only"]), {"ORTH": {"IN": ["$", "€", "£"]}}]),
        ("PRICE", [_lower_in(["per", "a"]), _lower_in(["month", "bottle", "box", "pack", "jar"])]),
        ("DISCOUNT", [{"LIKE_NUM": True}, {"ORTH": "%"}, _lower_in(["off", "discount", "savings"])]),
        ("DISCOUNT", [_lower_in(["promo", "discount", "coupon", "voucher", "referral", "offer"]), _lower_in(["code", "codes", "link"])]),
        ("DISCOUNT", [_lower_in(["free"]), _lower_in(["shipping", "delivery", "trial", "consultation", "gift", "sample", "samples", "bottle", "month"])]),
        ("DISCOUNT", [_lower_in(["money-back", "satisfaction"]), _lower_in(["guarantee", "guaranteed"])]),
        ("DISCOUNT", [{"LOWER": "money"}, {"LOWER": "-", "OP": "?"}, {"LOWER": "back"}, _lower_in(["guarantee", "guaranteed"])]),
        ("DISCOUNT", [_lower_in(["at"]), _lower_in(["checkout"])]),
        ("DISCOUNT", [_lower_in(["coupon", "coupons", "discount", "discounts", "sale", "deal", "deals", "bogo", "risk-free"])]),
        ("BRAND", [_lower_in(["™", "®", "©", "(tm)", "(r)"])]),
        ("SUPERLATIVE", [_lower_in(_SUPERLATIVES)]),
        ("SUPERLATIVE", [_lower_in(["most"]), _lower_in(["trusted", "effective", "popular", "advanced", "powerful", "loved", "complete"])]),
        ("SUPERLATIVE", [_lower_in(["number", "no."]), _lower_in(["one", "1"])]),
        ("URGENCY", [_lower_in(_URGENCY)]),
        ("URGENCY", [_lower_in(["don't", "do"]), {"LOWER": "not", "OP": "?"}, _lower_in(["wait", "miss", "delay"])]),
        ("URGENCY", [_lower_in(["while"]), _lower_in(["supplies", "stocks", "stock"])]),
        ("URGENCY", [_lower_in(["act", "order", "book", "call"]), _lower_in(["fast", "now", "today", "soon"])]),
        *[("PITCH", [{flag: True}, {"LOWER": verb}])
          for flag in ("IS_TITLE", "IS_UPPER")
          for verb in ("offers", "provides", "delivers", "features", "combines", "brings", "gives")],
        ("TESTIMONIAL", [{"ORTH": {"IN": ["★", "⭐", "☆"]}}]),
        ("TESTIMONIAL", [{"LIKE_NUM": True}, {"ORTH": "-", "OP": "?"}, _lower_in(["star", "stars"])]),
        ("TESTIMONIAL", [_lower_in(["customers", "clients", "users", "patients", "reviewers", "buyers"]),
                         _lower_in(["say", "love", "rave", "report", "agree", "swear"])]),
        ("TESTIMONIAL", [_lower_in(["verified"]), _lower_in(["buyer", "purchase", "customer", "review"])]),
        # An attribution after a quotation: "..." — Dana R., Denver (a plain hyphen only right
        # after a closing quote, so that inline "- Item" lists do not look like testimonials).
        ("TESTIMONIAL", [{"ORTH": {"IN": ["—", "–", "~"]}, "IS_SENT_START": False},
                         {"IS_TITLE": True}, {"IS_TITLE": True, "OP": "?"}, {"ORTH": {"IN": [",", "."]}, "OP": "?"}]),
        ("TESTIMONIAL", [{"ORTH": {"IN": ['"', "”", "'", "’"]}}, {"ORTH": {"IN": ["-", "—", "–", "~"]}}, {"IS_TITLE": True}]),
        ("SPONSORED", [_lower_in(["sponsored", "affiliate", "affiliates", "commission", "commissions", "advertorial", "advertisement", "partnership", "partnered", "kickback"])]),
        ("SPONSORED", [_lower_in(["paid"]), _lower_in(["partnership", "promotion", "post", "placement"])]),
        ("SPONSORED", [_lower_in(["in"]), _lower_in(["partnership"]), _lower_in(["with"])]),
        ("RECOMMENDED", [_lower_in(["recommended", "endorsed", "approved", "trusted", "loved", "chosen", "preferred"]), _lower_in(["by"])]),
        ("RECOMMENDED", [_lower_in(["our", "editor's", "editors", "staff", "top"]), _lower_in(["pick", "picks", "choice", "favorite", "favourite", "recommendation"])]),
        ("RECOMMENDED", [_lower_in(["we"]), _lower_in(["recommend", "love", "suggest", "trust", "swear"])]),
        ("NAVIGATION", [_lower_in(["read", "see", "view"]), _lower_in(["more", "also", "next", "all"])]),
        ("NAVIGATION", [_lower_in(["you"]), _lower_in(["may", "might"]), _lower_in(["also"]), _lower_in(["like", "enjoy"])]),
        ("PITCH", [_lower_in(["for"]), _lower_in(["those", "anyone", "people", "readers", "women", "men", "busy"]),
                   _lower_in(["who", "seeking", "looking", "interested", "wanting", "wishing", "ready"])]),
        ("PITCH", [_lower_in(["if", "whether"]), _lower_in(["you're", "you"]), {"LOWER": "are", "OP": "?"},
                   _lower_in(["looking", "searching", "ready", "struggling", "tired", "curious"])]),
        ("PITCH", [_lower_in(["perfect", "ideal", "great", "designed", "formulated", "crafted", "made", "built", "tailored"]),
                   _lower_in(["for", "to", "with"])]),
        ("PITCH", [_lower_in(["helps", "help", "lets", "allows", "empowers", "enables"]), _lower_in(["you", "your"])]),
        ("PITCH", [_lower_in(["so"]), _lower_in(["you"]), _lower_in(["can"])]),
        ("PRODUCT", [_lower_in(["gummies", "gummy", "kit", "kits", "drops", "capsules", "tincture", "serum",
                                "bundle", "formula", "blend", "treats", "products", "subscription", "membership",
                                "package", "stack", "powder", "patch", "patches", "device", "starter"])]),
        ("CARE_ADVICE", [_lower_in(["talk", "speak", "consult", "check", "ask", "see"]),
                         {"LOWER": {"IN": ["to", "with"]}, "OP": "?"},
                         {"LOWER": {"IN": ["your", "a", "the"]}, "OP": "?"},
                         _lower_in(["doctor", "physician", "pharmacist", "clinician", "provider", "gp", "dentist", "healthcare", "health", "nurse", "specialist", "dermatologist", "audiologist", "optometrist", "therapist"])]),
        ("CARE_ADVICE", [_lower_in(["call", "dial"]), {"LIKE_NUM": True}]),
        ("CARE_ADVICE", [_lower_in(["seek", "get"]), _lower_in(["medical", "emergency", "immediate", "professional", "urgent"])]),
        ("EVIDENCE", [_lower_in(["study", "studies", "trial", "trials", "researchers", "research", "evidence", "meta-analysis", "review", "participants", "randomized", "placebo", "cohort", "data"])]),
        ("EVIDENCE", [_lower_in(["according"]), _lower_in(["to"])]),
    ]
    return pats


def _phrase_patterns() -> list[dict]:
    phrases = {
        "CTA": ["shop now", "buy now", "order now", "order today", "get started", "act now",
                "try it", "join now", "subscribe now", "book now", "get yours", "start today",
                "start your journey", "take the first step", "what are you waiting for"],
        "URGENCY": ["limited time", "limited-time", "while they last", "last chance", "ends tonight",
                    "ends sunday", "this week only", "only a few left", "selling out", "before it's gone"],
        "NAVIGATION": ["recent articles", "recent posts", "related articles", "related posts",
                       "related reading", "you may also like", "more from", "popular posts",
                       "leave a comment", "back to top"],
    }
    return [{"label": label, "pattern": text} for label, texts in phrases.items() for text in texts]


def _expand(pattern: list[dict]) -> list[list[dict]]:
    """Spell out ``IN`` word lists (and, for pure word patterns, ``?`` operators) as plain
    alternatives.

    spaCy's Matcher checks ``IN`` sets in Python at every position, which made the cue step ten
    times slower than tokenization; exact word sequences go to the phrase index instead, which
    looks them up by hash.
    """
    words_only = all(set(spec) - {"OP"} == {"LOWER"} for spec in pattern)
    variants: list[list[dict]] = [[]]
    for spec in pattern:
        spec = dict(spec)
        optional = words_only and spec.get("OP") == "?"
        if optional:
            del spec["OP"]
        options = [spec]
        lower = spec.get("LOWER")
        if isinstance(lower, dict) and set(lower) == {"IN"}:
            options = [{**spec, "LOWER": word} for word in lower["IN"]]
        grown = [v + [o] for v in variants for o in options]
        variants = grown + (variants if optional else [])
    return [v for v in variants if v]


def _as_phrase(pattern: list[dict]) -> str | None:
    if all(set(spec) == {"LOWER"} and isinstance(spec["LOWER"], str) for spec in pattern):
        return " ".join(spec["LOWER"] for spec in pattern)
    return None


def cue_patterns() -> list[dict]:
    """All cue patterns: ``{"label", "pattern"}`` with a token pattern (Matcher) or a phrase
    string (matched on lowercase words); ``"sentence_start": True`` limits a phrase to the start
    of a sentence (imperative openers, navigation words)."""
    token_patterns, phrases = [], set()
    for label, pattern in _token_patterns():
        for variant in _expand(pattern):
            phrase = _as_phrase(variant)
            if phrase is not None:
                phrases.add((label, phrase))
            else:
                token_patterns.append({"label": label, "pattern": variant})
    phrases |= {(p["label"], p["pattern"]) for p in _phrase_patterns()}
    starts = [
        {"label": label, "pattern": word, "sentence_start": True}
        for label, words in (("IMPERATIVE", _IMPERATIVE_VERBS), ("NAVIGATION", _NAVIGATION))
        for word in words
    ]
    return token_patterns + [{"label": label, "pattern": text} for label, text in sorted(phrases)] + starts


def _lexical_label(text: str, like_url: bool, like_email: bool) -> str | None:
    """Cues visible in a single word, whatever its context."""
    if like_url or like_email or _DOMAIN.match(text):
        return "URL"
    if _CAMEL.match(text) or text.endswith(("™", "®")):
        return "BRAND"
    if _MONEY.match(text):
        return "PRICE"
    if _PERCENT.match(text):
        return "DISCOUNT_PERCENT"
    return None


class PromoCues:
    """spaCy component: marks promotional cues as spans in ``doc.spans[spans_key]``.

    Phrases are looked up by the hashes of their lowercase words (what spaCy's PhraseMatcher on
    ``LOWER`` does, without building ten thousand pattern docs at load time), structural
    patterns (numbers, capitalised names after a dash) go to a Matcher, and single-word cues
    (URLs, domains, CamelCase and trademarked names, prices) to a per-word check cached in the
    component.
    """

    def __init__(self, nlp: Language, name: str = "promo_cues", *, spans_key: str = "cues") -> None:
        self.nlp = nlp
        self.name = name
        self.spans_key = spans_key
        self.patterns: list[dict] = []
        self._saved_tokens: dict[str, list[str]] | None = None
        self._reset()

    def _reset(self) -> None:
        self.matcher = Matcher(self.nlp.vocab)
        # lowercase word hashes of a phrase -> its (label, only at a sentence start) entries, and
        # for each first word the phrase lengths that start with it
        self._phrases: dict[tuple[int, ...], list[tuple[str, bool]]] = {}
        self._lengths: dict[int, set[int]] = {}
        self._longest_pattern: int | None = 0  # tokens; None when a pattern has no upper bound
        self._word_cache: dict[int, tuple[str | None, bool, bool] | None] = {}
        # Hashes of the words that token patterns cannot match without: a paragraph with none
        # of them skips the Matcher, which costs as much as tokenizing.
        self._anchor_orths: set[int] = set()
        self._anchor_lowers: set[int] = set()
        self._unanchored = False

    def _add_anchor(self, pattern: list[dict]) -> None:
        strings = self.nlp.vocab.strings
        if self._longest_pattern is not None:
            unbounded = any(spec.get("OP") in ("+", "*") for spec in pattern)
            self._longest_pattern = None if unbounded else max(self._longest_pattern, len(pattern))
        for spec in pattern:
            if spec.get("OP") in ("?", "*", "!"):
                continue
            for attr, anchors in (("ORTH", self._anchor_orths), ("LOWER", self._anchor_lowers)):
                value = spec.get(attr)
                words = value.get("IN") if isinstance(value, dict) else [value] if isinstance(value, str) else None
                if words:
                    anchors.update(strings.add(w if attr == "ORTH" else w.lower()) for w in words)
                    return
        self._unanchored = True

    def _word_entry(self, vocab, orth: int) -> tuple[str | None, bool, bool] | None:
        """Single-word cue facts for one word, or None when the word has none."""
        lex = vocab[orth]
        text = lex.text
        caps = text.isalpha() and text.isupper() and len(text) >= 3
        label = _lexical_label(text, lex.like_url, lex.like_email)
        if caps and len(text) >= 6:  # long all-caps words are names, not acronyms
            label = label or "BRAND"
        codeish = bool(_CODE.match(text))
        return (label, codeish, caps) if (label or codeish or caps) else None

    def add_patterns(self, patterns: Iterable[dict]) -> None:
        """Add patterns in the format of :func:`cue_patterns`."""
        for entry in patterns:
            label = entry["label"]
            if isinstance(entry["pattern"], str):
                key = tuple(get_string_id(word.lower()) for word in self._phrase_tokens(entry["pattern"]))
                if key:
                    self._phrases.setdefault(key, []).append((label, bool(entry.get("sentence_start"))))
                    self._lengths.setdefault(key[0], set()).add(len(key))
            else:
                self.matcher.add(label, [entry["pattern"]])
                self._add_anchor(entry["pattern"])
            self.patterns.append(entry)

    def _phrase_tokens(self, text: str) -> list[str]:
        # Tokenizing some ten thousand phrases was most of the model's load time. A saved model
        # stores the tokens of the phrases the tokenizer does not simply split on spaces.
        if self._saved_tokens is None:
            return [t.text for t in self.nlp.make_doc(text)]
        return self._saved_tokens.get(text) or text.split(" ")

    def _match_phrases(self, lowers: list[int], sent_starts: list[int], found: dict) -> None:
        """All phrase matches, overlapping ones included, by lowercase word hashes."""
        lengths, phrases, n = self._lengths, self._phrases, len(lowers)
        for i in [i for i, lower in enumerate(lowers) if lower in lengths]:
            for length in lengths[lowers[i]]:
                if i + length > n:
                    continue
                for label, sentence_start in phrases.get(tuple(lowers[i:i + length]), ()):
                    if not sentence_start or sent_starts[i] == 1:
                        found[(i, i + length, label)] = None

    def _match_tokens(self, doc: Doc, orths: list[int], lowers: list[int], found: dict) -> None:
        """Matcher patterns, run only around the words they cannot match without."""
        if self._unanchored or self._longest_pattern is None:
            windows = [(0, len(doc))]
        else:
            reach = self._longest_pattern - 1
            windows = []
            for i, (orth, lower) in enumerate(zip(orths, lowers)):
                if orth in self._anchor_orths or lower in self._anchor_lowers:
                    lo, hi = max(i - reach, 0), min(i + reach + 1, len(doc))
                    if windows and lo <= windows[-1][1]:
                        windows[-1] = (windows[-1][0], hi)
                    else:
                        windows.append((lo, hi))
        strings = doc.vocab.strings
        for lo, hi in windows:
            for match_id, start, end in self.matcher(doc[lo:hi]):
                found[(lo + start, lo + end, strings[match_id])] = None

    def __call__(self, doc: Doc) -> Doc:
        strings = doc.vocab.strings
        rows = doc.to_array(["ORTH", "LOWER", "SENT_START"]).tolist() if len(doc) else []
        orths = [row[0] for row in rows]
        lowers = [row[1] for row in rows]
        found: dict[tuple[int, int, str], None] = {}
        self._match_phrases(lowers, [row[2] for row in rows], found)
        self._match_tokens(doc, orths, lowers, found)
        cache = self._word_cache
        if len(cache) > _WORD_CACHE_LIMIT:
            cache.clear()
        code, off, discount = (strings[w] for w in ("code", "off", "discount"))
        previous_caps = False
        for i, orth in enumerate(orths):
            entry = cache.get(orth, _MISSING)
            if entry is _MISSING:
                entry = cache[orth] = self._word_entry(doc.vocab, orth)
            if entry is None:
                previous_caps = False
                continue
            label, codeish, caps = entry
            if codeish and i and lowers[i - 1] == code:
                found[(i - 1, i + 1, "DISCOUNT")] = None
            if caps and previous_caps:  # two all-caps words in a row: DISCO BEARS, IRONCLAD ISO
                found[(i - 1, i + 1, "BRAND")] = None
            previous_caps = caps
            if label == "DISCOUNT_PERCENT":
                if i + 1 < len(rows) and lowers[i + 1] in (off, discount):
                    found[(i, i + 2, "DISCOUNT")] = None
            elif label is not None:
                found[(i, i + 1, label)] = None
        doc.spans[self.spans_key] = [Span(doc, s, e, label=lab) for s, e, lab in sorted(found)]
        return doc

    def to_bytes(self, *, exclude: Iterable[str] = ()) -> bytes:
        return srsly.json_dumps({"spans_key": self.spans_key, "patterns": self.patterns}).encode("utf-8")

    def from_bytes(self, data: bytes, *, exclude: Iterable[str] = ()) -> PromoCues:
        cfg = srsly.json_loads(data)
        self.spans_key = cfg["spans_key"]
        self.patterns = []
        self._reset()
        self.add_patterns(cfg["patterns"])
        return self

    def to_disk(self, path: str | Path, *, exclude: Iterable[str] = ()) -> None:
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        srsly.write_json(path / "cfg.json", {"spans_key": self.spans_key})
        srsly.write_jsonl(path / "patterns.jsonl", self.patterns)
        phrases = sorted({p["pattern"] for p in self.patterns if isinstance(p["pattern"], str)})
        tokens = {text: [t.text for t in self.nlp.make_doc(text)] for text in phrases}
        srsly.write_json(path / "phrase_tokens.json", {t: w for t, w in tokens.items() if w != t.split(" ")})

    def from_disk(self, path: str | Path, *, exclude: Iterable[str] = ()) -> PromoCues:
        path = Path(path)
        self.spans_key = srsly.read_json(path / "cfg.json")["spans_key"]
        self.patterns = []
        self._reset()
        tokens = path / "phrase_tokens.json"
        self._saved_tokens = srsly.read_json(tokens) if tokens.exists() else None
        self.add_patterns(srsly.read_jsonl(path / "patterns.jsonl"))
        self._saved_tokens = None
        return self


@Language.factory("promo_cues", default_config={"spans_key": "cues"})
def make_promo_cues(nlp: Language, name: str, spans_key: str) -> PromoCues:
    """Create the cue marker; patterns are added by :func:`pipeline.preprocess.build_nlp` or
    loaded from disk with the pipeline."""
    return PromoCues(nlp, name, spans_key=spans_key)
