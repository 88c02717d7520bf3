"""The curated risk patterns (``content/safety.yml``): loading, normalising and matching.

Acute patterns, idiom exceptions, concern frames and risk terms, compiled once and matched over
normalised text. The decision that combines them with the models lives in ``bot.nlu.risk``
(one place); nothing else in the project judges risk.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bot.content import ID_RE, ContentError, load_yaml, optional, require

CRISIS_INTENT = "express_crisis"
CATEGORIES = frozenset(
    {"self_harm_self", "suicide_self", "risk_patient", "harm_others", "indirect", "safeguarding"}
)
FRAME_KINDS = frozenset({"practice", "past", "improvement", "victim", "worry"})
_MACRO_RE = re.compile(r"\{([A-Z][A-Z_]*)\}")


@dataclass(frozen=True)
class SafetyPattern:
    """One curated pattern (or exception idiom) from content/safety.yml."""

    id: str
    category: str | None
    description: str
    regex: re.Pattern[str]
    example: str


@dataclass(frozen=True)
class SafetyRules:
    """Everything ``assess()`` needs, compiled once."""

    patterns: tuple[SafetyPattern, ...]
    exceptions: tuple[SafetyPattern, ...]
    max_chars: int
    # Graded risk (bot/nlu/risk.py): frames that explain alarming words as practice, the past,
    # improvement, a victim's question or a worry; words that make a message a concern at least.
    concern_frames: tuple[SafetyPattern, ...] = ()
    risk_terms: tuple[SafetyPattern, ...] = ()
    risk_thresholds: Mapping[str, float] | None = None


# --- normalisation ----------------------------------------------------------------------------

# Look-alike letters that NFKC leaves alone (Cyrillic and Greek in Latin-looking words).
_CONFUSABLES = str.maketrans(
    {
        "а": "a", "е": "e", "о": "o", "р": "p", "с": "c", "у": "y", "х": "x", "і": "i",
        "ј": "j", "ѕ": "s", "ԁ": "d", "ӏ": "l", "һ": "h", "к": "k", "м": "m", "т": "t",
        "в": "b", "н": "h", "ο": "o", "α": "a", "ε": "e", "ι": "i", "κ": "k", "ν": "v",
        "τ": "t", "υ": "u",
    }
)  # fmt: skip
_APOSTROPHES_RE = re.compile(r"['’‘`´ʼ′]")
# digits/symbols read as letters, only when touching a letter ("k1ll", "5uicide", "di3")
_LEET = {"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s", "!": "i"}
_LEET_RE = re.compile(
    r"(?<=[a-z])[013457@$!]+(?=[a-z])|(?<=[a-z])[013457@$]+\b|\b[013457@$]+(?=[a-z])"
)
_SENTENCE_RE = re.compile(r"[.!?;:]+")
_SYMBOL_RE = re.compile(r"[^\w\s.]|_")
_REPEAT_RE = re.compile(r"([a-z])\1{2,}")
_SPACE_RE = re.compile(r"\s+")


def _as_text(text: Any) -> str:
    """Whatever a channel handed us, as a str (None and junk become "")."""
    if isinstance(text, str):
        return text
    if isinstance(text, (bytes, bytearray)):
        return bytes(text).decode("utf-8", errors="replace")
    return ""


def _strip_invisible(text: str) -> str:
    """Drop zero-width/format characters; turn control characters into spaces."""
    out = []
    for char in text:
        category = unicodedata.category(char)
        if category == "Cf":
            continue
        out.append(" " if category in ("Cc", "Cs", "Co") else char)
    return "".join(out)


def _finish(text: str) -> str:
    text = _SENTENCE_RE.sub(" . ", text)
    text = _SYMBOL_RE.sub(" ", text)
    text = _REPEAT_RE.sub(r"\1\1", text)
    return _SPACE_RE.sub(" ", text).strip()


def _window(text: str, max_chars: int) -> str:
    """Head and tail of an over-long message: crisis words tend to open or close it."""
    if len(text) <= max_chars:
        return text
    tail = max_chars // 4
    return f"{text[: max_chars - tail]}\n{text[-tail:]}"


def normalise_variants(text: Any, max_chars: int = 20000) -> tuple[str, ...]:
    """The normalised text, plus a leetspeak-decoded copy when that differs.

    See the header of content/safety.yml for the rules the patterns rely on.
    """
    raw = _window(_as_text(text), max_chars)
    raw = unicodedata.normalize("NFKC", raw)
    raw = _strip_invisible(raw).casefold().translate(_CONFUSABLES)
    raw = _APOSTROPHES_RE.sub("", raw)
    plain = _finish(raw)
    decoded = _finish(_LEET_RE.sub(lambda m: "".join(_LEET[c] for c in m.group()), raw))
    return (plain,) if decoded == plain else (plain, decoded)


def normalise(text: Any, max_chars: int = 20000) -> str:
    """The main normalised form of ``text`` (what the patterns are written against)."""
    return normalise_variants(text, max_chars)[0]


# --- loading ----------------------------------------------------------------------------------


def _expand(regex: str, macros: Mapping[str, str], where: str, depth: int = 0) -> str:
    if depth > 5:
        raise ContentError(f"{where}: macros nest too deeply")

    def sub(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in macros:
            raise ContentError(f"{where}: unknown macro {{{name}}}")
        return _expand(macros[name], macros, f"{where} -> {name}", depth + 1)

    return _MACRO_RE.sub(sub, regex)


def _compile(entry: Any, macros: Mapping[str, str], where: str, kind: str) -> SafetyPattern:
    if not isinstance(entry, Mapping):
        raise ContentError(f"{where}: each {kind} must be a mapping")
    pid = require(entry, "id", str, where)
    if not ID_RE.match(pid):
        raise ContentError(f"{where}: id {pid!r} must be lower_snake_case")
    where = f"{where} ({pid})"
    category = None
    if kind == "pattern":
        category = require(entry, "category", str, where)
        if category not in CATEGORIES:
            raise ContentError(f"{where}: unknown category {category!r}")
    elif kind == "frame":
        category = require(entry, "kind", str, where)
        if category not in FRAME_KINDS:
            raise ContentError(f"{where}: unknown frame kind {category!r}")
    description = require(entry, "description", str, where)
    example = require(entry, "example", str, where)
    source = _expand(require(entry, "regex", str, where), macros, where)
    try:
        compiled = re.compile(source, re.IGNORECASE)
    except re.error as err:
        raise ContentError(f"{where}: bad regex: {err}") from err
    if compiled.search(""):
        raise ContentError(f"{where}: regex matches the empty string")
    return SafetyPattern(pid, category, description, compiled, example)


def parse_rules(data: Any) -> SafetyRules:
    """Validate the parsed YAML and compile it (split out so tests can feed bad data)."""
    where = "content/safety.yml"
    if not isinstance(data, Mapping):
        raise ContentError(f"{where}: top level must be a mapping")
    max_chars = require(data, "max_chars", int, where)
    if isinstance(max_chars, bool) or max_chars < 1000:
        raise ContentError(f"{where}: max_chars must be an integer >= 1000")
    macros = optional(data, "macros", dict, where) or {}
    for name, value in macros.items():
        if not isinstance(name, str) or not _MACRO_RE.fullmatch(f"{{{name}}}"):
            raise ContentError(f"{where}: macro name {name!r} must be UPPER_CASE")
        if not isinstance(value, str) or not value:
            raise ContentError(f"{where}: macro {name} must be a non-empty string")
    patterns = require(data, "patterns", list, where)
    exceptions = optional(data, "exceptions", list, where) or []
    if not patterns:
        raise ContentError(f"{where}: no patterns")
    compiled_patterns = tuple(
        _compile(entry, macros, f"{where} patterns[{i}]", "pattern")
        for i, entry in enumerate(patterns)
    )
    compiled_exceptions = tuple(
        _compile(entry, macros, f"{where} exceptions[{i}]", "exception")
        for i, entry in enumerate(exceptions)
    )
    frames = tuple(
        _compile(entry, macros, f"{where} concern_frames[{i}]", "frame")
        for i, entry in enumerate(optional(data, "concern_frames", list, where) or [])
    )
    terms = tuple(
        _compile(entry, macros, f"{where} risk_terms[{i}]", "term")
        for i, entry in enumerate(optional(data, "risk_terms", list, where) or [])
    )
    risk_thresholds = optional(data, "risk_thresholds", dict, where) or {}
    for key, value in risk_thresholds.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= 1:
            raise ContentError(f"{where}: risk_thresholds.{key} must be in (0, 1]")
    ids = [p.id for p in compiled_patterns + compiled_exceptions + frames + terms]
    duplicates = sorted({pid for pid in ids if ids.count(pid) > 1})
    if duplicates:
        raise ContentError(f"{where}: duplicate ids {duplicates}")
    return SafetyRules(
        compiled_patterns,
        compiled_exceptions,
        max_chars,
        frames,
        terms,
        {str(k): float(v) for k, v in risk_thresholds.items()},
    )


_COMPILED: dict[str, tuple[Any, SafetyRules]] = {}


def load_rules() -> SafetyRules:
    """Rules from content/safety.yml, compiled once per version of the file."""
    data = load_yaml("safety")  # cached by load_yaml until the file changes
    cached = _COMPILED.get("safety")
    if cached is None or cached[0] is not data:
        cached = (data, parse_rules(data))
        _COMPILED["safety"] = cached
    return cached[1]


# --- the decision -----------------------------------------------------------------------------


def crisis_confidence(ranking: Sequence[Any] | None) -> float | None:
    """express_crisis's confidence in an intent ranking, or None if it is absent."""
    best: float | None = None
    for item in ranking or ():
        if not isinstance(item, Mapping) or item.get("name") != CRISIS_INTENT:
            continue
        value = item.get("confidence")
        if isinstance(value, (int, float)) and not isinstance(value, bool) and value == value:
            best = float(value) if best is None else max(best, float(value))
    return best


def _inside(span: tuple[int, int], spans: Sequence[tuple[int, int]]) -> bool:
    return any(start <= span[0] and span[1] <= end for start, end in spans)


def scan(text: Any, rules: SafetyRules) -> tuple[SafetyPattern | None, SafetyPattern | None]:
    """(first pattern matching outside every idiom, first idiom seen), each possibly None."""
    idiom_seen: SafetyPattern | None = None
    for variant in normalise_variants(text, rules.max_chars):
        if not variant:
            continue
        spans: list[tuple[int, int]] = []
        for exception in rules.exceptions:
            found = [m.span() for m in exception.regex.finditer(variant)]
            if found and idiom_seen is None:
                idiom_seen = exception
            spans.extend(found)
        for pattern in rules.patterns:
            for match in pattern.regex.finditer(variant):
                if not _inside(match.span(), spans):
                    return pattern, idiom_seen
    return None, idiom_seen


def _first_outside_idioms(
    text: Any, rules: SafetyRules, candidates: Sequence[SafetyPattern]
) -> SafetyPattern | None:
    for variant in normalise_variants(text, rules.max_chars):
        if not variant:
            continue
        spans = [m.span() for e in rules.exceptions for m in e.regex.finditer(variant)]
        for candidate in candidates:
            if any(not _inside(m.span(), spans) for m in candidate.regex.finditer(variant)):
                return candidate
    return None


def find_frame(text: Any, rules: SafetyRules) -> SafetyPattern | None:
    """The first concern frame (practice, past, improvement, victim, worry) in the text."""
    return _first_outside_idioms(text, rules, rules.concern_frames)


def find_risk_term(text: Any, rules: SafetyRules) -> SafetyPattern | None:
    """The first risk word used in earnest (not inside an idiom such as "dying to see him")."""
    return _first_outside_idioms(text, rules, rules.risk_terms)


def match_pattern(text: Any, rules: SafetyRules) -> SafetyPattern | None:
    """The first pattern that matches outside every exception idiom, or None."""
    return scan(text, rules)[0]
