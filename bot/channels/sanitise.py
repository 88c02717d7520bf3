"""Cleaning and sorting what people type before Rasa sees it (pure functions, no I/O).

Every message from every channel passes through :func:`sanitise`. It never raises, never
executes or renders anything, and never loses a message: odd input is either cleaned and passed
on, or sorted into a kind the channel answers itself with a kind, fixed reply.

Cleaning, in order:

1. non-text input (``None``, numbers, lists …) -> :attr:`InputKind.NOT_TEXT`;
2. control characters (except whitespace), zero-width and bidirectional formatting characters,
   lone surrogates, private-use and unassigned code points are removed (counted as junk);
3. Unicode NFC normalisation, then every run of whitespace becomes one space;
4. slash commands: ``/intent`` passes only when ``intent`` is a domain intent and nothing follows
   it (exactly what our buttons send). Anything else that starts with ``/`` (``/restart``,
   ``/session_start``, ``/ask_visiting{"location":"x"}``, ``/greet@0.9``) loses its leading
   slashes and goes on as plain words, so Rasa cannot read it as an intent or entity injection;
5. the text is cut at :data:`MAX_MESSAGE_CHARS` characters (at a word boundary when there is one).

Sorting: empty, symbols or emoji only, unreadable (mostly junk), or not English — see
:class:`InputKind`. HTML, JavaScript, SQL-like strings and template syntax (``{{7*7}}``,
``${jndi:…}``) are ordinary text: they are passed on unchanged and nothing ever evaluates them.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection
from dataclasses import dataclass
from enum import Enum

# Longest message passed to Rasa, in characters. Real questions from carers are far shorter; a
# longer text is still answered, from its first 1,000 characters. Documented in
# docs/robustness.md.
MAX_MESSAGE_CHARS = 1000
# Characters looked at before cleaning: bounds the work a huge payload can cause.
MAX_SCAN_CHARS = 100 * MAX_MESSAGE_CHARS

# A message is unreadable when more than this share of its non-space characters were junk.
JUNK_SHARE_UNREADABLE = 0.2
# A message is not English when at least this share of its letters are not Latin letters.
NON_LATIN_SHARE_FOREIGN = 0.5


class InputKind(str, Enum):
    """What a message turned out to be, and so who answers it."""

    TEXT = "text"  # passed on to Rasa
    EMPTY = "empty"  # nothing but whitespace / invisible characters
    NOT_TEXT = "not_text"  # not a string at all (a number, list, object, null)
    SYMBOLS = "symbols"  # emoji, punctuation or symbols only, no letters or digits
    UNREADABLE = "unreadable"  # mostly control characters or binary junk
    FOREIGN = "foreign"  # written in a language other than English


@dataclass(frozen=True)
class CleanMessage:
    """The result of :func:`sanitise`: the text to use and what kind of input it was."""

    text: str
    kind: InputKind
    original_length: int = 0
    truncated: bool = False
    command_neutralised: bool = False
    language: str | None = None  # best guess when kind is FOREIGN ("fr", "cy", "non-latin" …)

    @property
    def for_rasa(self) -> bool:
        """Whether this message should be passed on to Rasa."""
        return self.kind is InputKind.TEXT


# --- character classes -----------------------------------------------------------------------

_WHITESPACE_CONTROLS = {"\t", "\n", "\r", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x1f", "\x85"}
_WHITESPACE_RE = re.compile(r"\s+")


def _clean_characters(text: str) -> tuple[str, int]:
    """Drop invisible and junk code points; return the kept text and how many were junk.

    Zero-width and bidi formatting characters (category Cf) are dropped but not counted as junk:
    they arrive innocently from copy-and-paste and some keyboards.
    """
    kept: list[str] = []
    junk = 0
    for char in text:
        if char in _WHITESPACE_CONTROLS:
            kept.append(" ")
            continue
        if char == "\ufffd":  # the replacement character: bytes that were not valid text
            junk += 1
            continue
        category = unicodedata.category(char)
        if category == "Cf":
            continue
        if category in ("Cc", "Cs", "Co", "Cn"):
            junk += 1
            continue
        kept.append(char)
    return "".join(kept), junk


def _truncate(text: str, limit: int) -> str:
    """Cut to ``limit`` characters, preferring the last word boundary in the final fifth."""
    if len(text) <= limit:
        return text
    cut = text[:limit]
    space = cut.rfind(" ")
    if space >= limit * 0.8:
        cut = cut[:space]
    return cut.rstrip()


# --- slash commands --------------------------------------------------------------------------

_COMMAND_RE = re.compile(r"^/(?P<intent>[A-Za-z0-9_]+)$")


def _neutralise_command(text: str, allowed_intents: Collection[str]) -> tuple[str, bool]:
    """Keep ``/intent`` for known intents; otherwise strip leading slashes so it is plain text."""
    if not text.startswith("/"):
        return text, False
    match = _COMMAND_RE.match(text)
    if match and match.group("intent") in allowed_intents:
        return text, False
    return text.lstrip("/").strip(), True


# --- language --------------------------------------------------------------------------------


def _words(text: str) -> frozenset[str]:
    """A word list written as whitespace-separated words (easier to read and extend)."""
    return frozenset(text.split())


# Common English words. A message needs more hits in one foreign list than here to be foreign.
_ENGLISH = _words(
    """
    a about after again all also am an and any are as at be because been before being but by
    can can't could did didn't do does doesn't don't down for from get got had has have having
    he her here him his how i i'd i'll i'm i've if in into is isn't it it's its just know like
    me more my no not now of off on once only or other our out over please she should so some
    still such than thank thanks that that's the their them then there these they this those
    through to too under until up us very want was wasn't we well were what what's when where
    which while who why will with would yes you you're your hi hello hey bye ok okay help son
    daughter mum mom dad brother sister husband wife partner family friend hospital ward visit
    visiting visits staff nurse doctor care carer carers secure unit today tomorrow week time
    tell talk need feel feeling really sorry much many one two day night home back go going
    """
)

# Distinctive function words and greetings per language. Words that are also English, and
# words found in Welsh place names (y, yr, ar, pen, llan, ysbyty …), are deliberately absent,
# so "Caswell Clinic, Pen-y-Fai" or "Ysbyty Glan yr Afon" read as English.
_FOREIGN_WORDS: dict[str, frozenset[str]] = {
    "cy": _words(
        """
        mae rwy rydw rwyf dw ydw ydy ydych dych ddim gyda efo hefyd sut beth pwy pryd ble lle
        fy eich ein chi nhw wedi bod oes oedd bydd diolch shwmae helo hoffwn gallaf alla allwch
        gallwch ymweld mab merch gofalwr gofalwyr cymorth gwelwch dda achos oherwydd ond ac
        eisiau isio angen siarad gyda'r i'r o'r yn
        """
    ),
    "fr": _words(
        """
        je j'ai suis vous nous est c'est et le la les des du une mon mes pour avec dans pas ne
        que qui quoi comment pourquoi quand où bonjour merci beaucoup fils fille hôpital visite
        rendre peux puis voudrais aide aider il elle sont mais très aussi s'il plaît l'hôpital
        """
    ),
    "pl": _words(
        """
        jest nie się że jak mój moja moje mojego syn syna córka córki szpital szpitalu czy mogę
        jestem dzień dobry dziękuję proszę odwiedzić gdzie kiedy tak ale może bardzo chcę
        chciałabym chciałbym pomoc pomocy jego jej oraz lub gdy tylko już cześć witam wizyta
        wizyty odwiedziny mąż żona matka ojciec dla przez
        """
    ),
    "de": _words(
        """
        ich und nicht ist mein meine meinen sohn tochter der das wie kann besuchen krankenhaus
        bitte danke guten tag mit für auf ein eine sie wir haben wo wann warum möchte hilfe
        """
    ),
    "es": _words(
        """
        el los las es mi hijo hija puedo visitar cómo qué por para con está estoy que una hola
        gracias ayuda quiero necesito muy pero donde dónde cuando
        """
    ),
    "pt": _words(
        """
        não meu minha filho filha obrigado obrigada olá você eu estou com uma para ajuda
        """
    ),
}
_FOREIGN_WORDS = {lang: words - _ENGLISH for lang, words in _FOREIGN_WORDS.items()}
_WORD_RE = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)*")
_MIN_FOREIGN_HITS = 2
_MIN_FOREIGN_SHARE = 0.3


def _is_latin_letter(char: str) -> bool:
    """Latin letters: ASCII, Latin-1, Latin Extended A/B and Latin Extended Additional."""
    code = ord(char)
    return (
        code < 0x80 or 0xC0 <= code <= 0x24F or 0x1E00 <= code <= 0x1EFF or 0x2C60 <= code <= 0x2C7F
    )


def guess_language(text: str) -> str | None:
    """``None`` when ``text`` reads as English (or too short to tell), else a language code.

    Cheap heuristics, chosen to err towards English: a non-Latin script for most of the letters,
    or at least two distinct words from one foreign list, more than the English words, making up
    at least 30% of the words.
    """
    letters = [char for char in text if char.isalpha()]
    if not letters:
        return None
    non_latin = sum(1 for char in letters if not _is_latin_letter(char))
    if non_latin / len(letters) >= NON_LATIN_SHARE_FOREIGN:
        return "non-latin"
    words = [word.replace("’", "'") for word in _WORD_RE.findall(text.casefold())]
    if len(words) < _MIN_FOREIGN_HITS:
        return None
    english = sum(1 for word in words if word in _ENGLISH)
    best_lang, best_hits, best_distinct = None, 0, 0
    for lang, vocabulary in _FOREIGN_WORDS.items():
        matched = [word for word in words if word in vocabulary]
        if len(matched) > best_hits:
            best_lang, best_hits, best_distinct = lang, len(matched), len(set(matched))
    if (
        best_distinct >= _MIN_FOREIGN_HITS
        and best_hits > english
        and best_hits / len(words) >= _MIN_FOREIGN_SHARE
    ):
        return best_lang
    return None


# --- the whole pipeline ----------------------------------------------------------------------


def sanitise(raw: object, allowed_intents: Collection[str] = ()) -> CleanMessage:
    """Clean ``raw`` (whatever the client sent as the message) and say what kind it is.

    ``allowed_intents`` are the domain's intents: ``/<intent>`` for one of them is a button press
    and passes unchanged. Never raises.
    """
    if not isinstance(raw, str):
        return CleanMessage(text="", kind=InputKind.NOT_TEXT)
    original_length = len(raw)
    scanned = raw[:MAX_SCAN_CHARS]
    kept, junk = _clean_characters(scanned)
    text = _WHITESPACE_RE.sub(" ", unicodedata.normalize("NFC", kept)).strip()
    text, neutralised = _neutralise_command(text, allowed_intents)
    truncated_text = _truncate(text, MAX_MESSAGE_CHARS)
    truncated = original_length > MAX_SCAN_CHARS or truncated_text != text
    text = truncated_text

    def result(kind: InputKind, language: str | None = None) -> CleanMessage:
        return CleanMessage(
            text=text,
            kind=kind,
            original_length=original_length,
            truncated=truncated,
            command_neutralised=neutralised,
            language=language,
        )

    visible = sum(1 for char in scanned if not char.isspace())
    if visible and junk / visible > JUNK_SHARE_UNREADABLE:
        return result(InputKind.UNREADABLE)
    if not text:
        return result(InputKind.EMPTY)
    if not any(char.isalnum() for char in text):
        return result(InputKind.SYMBOLS)
    language = guess_language(text)
    if language is not None:
        return result(InputKind.FOREIGN, language)
    return result(InputKind.TEXT)
