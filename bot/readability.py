"""Plain-English checks for the assistant's answers.

Carers read our answers tired, upset and often on a small phone, so issue 2 sets a mean Flesch
reading ease of at least 65 and a word limit per chat message. This module measures both without a
new dependency: a small Flesch implementation with a heuristic syllable counter (good to about one
syllable a word, which is all a mean over many answers needs) and the same blank-line split that
Rasa's output channels apply to a response text.
"""

from __future__ import annotations

import re

# Rasa's REST, socketio and Telegram outputs send each blank-line separated part of a response
# text as its own chat message.
_MESSAGE_SPLIT_RE = re.compile(r"\n\s*\n")
# A sentence ends at . ! ? (or a run of them) before a space or the end, or at a line break:
# chat answers put list items and phone lines on their own lines without a full stop.
_SENTENCE_SPLIT_RE = re.compile(r"(?<=[.!?])[\"')\]]*\s+|\n+")
_TOKEN_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9'’-]*")
_VOWEL_GROUP_RE = re.compile(r"[aeiouy]+")
_KEEP_ES = ("ces", "ges")

# Upper-case words that people say as a word rather than letter by letter.
_SPOKEN_ACRONYMS = {"PALS", "SHOUT", "IPSO", "OK", "NICE"}
# Words the vowel-group heuristic gets wrong and that occur in our answers.
_SYLLABLE_EXCEPTIONS = {
    "people": 2,
    "every": 2,
    "everyone": 3,
    "everything": 3,
    "area": 3,
    "areas": 3,
    "idea": 3,
    "ideas": 3,
    "being": 2,
    "going": 2,
    "doing": 2,
    "seeing": 2,
    "agreeing": 3,
    "theatre": 3,
    "create": 2,
    "created": 3,
    "science": 2,
    "quiet": 2,
    "via": 2,
    "video": 3,
    "videos": 3,
    "radio": 3,
    "social": 2,
    "special": 2,
    "especially": 4,
    "business": 2,
    "whole": 1,
    "someone": 2,
    "sometimes": 2,
    "somewhere": 2,
    "something": 2,
    "lives": 1,
    "gives": 1,
    "leaves": 1,
    "names": 1,
    "themselves": 2,
    "yourself": 2,
    "ourselves": 2,
    "movies": 2,
    "scheme": 1,
    "schemes": 1,
    "serious": 3,
    "patient": 2,
    "patients": 2,
    "carer": 2,
    "carers": 2,
    "carers'": 2,
    "toolkit": 2,
    "lifeline": 2,
    "courses": 2,
    "fine": 1,
    "usually": 4,
    "liaison": 3,
    "ireland": 2,
    "everywhere": 3,
}


def split_messages(text: str) -> list[str]:
    """The chat messages a response text becomes once Rasa splits it on blank lines."""
    return [part.strip() for part in _MESSAGE_SPLIT_RE.split(text) if part.strip()]


def words(text: str) -> list[str]:
    """Word tokens that contain a letter (phone numbers and figures are scanned, not read)."""
    return [token for token in _TOKEN_RE.findall(text) if any(ch.isalpha() for ch in token)]


def word_count(text: str) -> int:
    """Words as a reader counts them, numbers included (for the per-message length limit)."""
    return len(_TOKEN_RE.findall(text))


def sentences(text: str) -> list[str]:
    """Sentences (or stand-alone lines) that hold at least one word."""
    return [part for part in _SENTENCE_SPLIT_RE.split(text) if part and words(part)]


def _silent_ending(letters: str) -> bool:
    """Whether a word's last vowel group is not sounded.

    A final "e" is silent ("case", "home") except in "-le", "-ee", "-ye" and a sounded "-re"
    ("centre"). "-ed" and "-es" are silent after most consonants ("booked", "hopes") but not
    after t/d ("needed") or a hissing sound ("buses", "places", "changes", "watches").
    """
    if len(letters) <= 2:
        return False
    if letters.endswith("e"):
        if letters.endswith(("le", "ee", "ye")):
            return False
        return not (letters.endswith("re") and len(letters) > 3 and letters[-3] not in "aeiouy")
    if len(letters) <= 3 or letters[-3] in "aeiouy":
        return False
    if letters.endswith("ed"):
        return letters[-3] not in "td"
    if letters.endswith("es"):
        return letters[-3] not in "sxzh" and letters[-3:] not in _KEEP_ES
    return False


def syllables(word: str) -> int:
    """Estimate the syllables in one word.

    Vowel groups, minus a silent final ``e`` (but not ``-le`` as in "table") and the silent
    ``-es``/``-ed`` endings; acronyms said letter by letter count one syllable a letter.
    """
    token = word.strip("'’-")
    if not token:
        return 0
    if token.isupper() and len(token) > 1 and token not in _SPOKEN_ACRONYMS:
        return sum(1 for ch in token if ch.isalpha())
    if "-" in token:
        return sum(syllables(part) for part in token.split("-") if part)
    lower = token.lower().replace("’", "'")
    if lower.endswith("'s"):
        lower = lower[:-2]
    lower = lower.strip("'")
    if lower in _SYLLABLE_EXCEPTIONS:
        return _SYLLABLE_EXCEPTIONS[lower]
    letters = re.sub(r"[^a-z]", "", lower)
    if not letters:
        return 0
    # A "y" before a vowel is a consonant ("beyond", "you", "playing").
    count = len(_VOWEL_GROUP_RE.findall(re.sub(r"y(?=[aeiou])", "_", letters)))
    if _silent_ending(letters):
        count -= 1
    if letters.endswith("le") and len(letters) > 2 and letters[-3] in "aeiouy":
        count -= 1  # "while", "mile": silent e after a vowel
    if re.search(r"[^aeiouy]ian$|ious$|ium$|[^aeiouy]ia$", letters):
        count += 1  # "medium", "various"-like splits of one vowel group into two sounds
    return max(1, count)


def flesch_reading_ease(text: str) -> float:
    """Flesch reading ease: 206.835 - 1.015 * words/sentence - 84.6 * syllables/word.

    60-70 is plain English; higher is easier. An empty text scores 0 so it cannot pass a check.
    """
    tokens = words(text)
    if not tokens:
        return 0.0
    sentence_count = max(1, len(sentences(text)))
    syllable_count = sum(syllables(token) for token in tokens)
    return 206.835 - 1.015 * (len(tokens) / sentence_count) - 84.6 * (syllable_count / len(tokens))
