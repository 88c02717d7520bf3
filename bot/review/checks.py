"""Warnings before a carer's words become training data: names, dates, places, offences.

Texts in the store are masked already (phone numbers, emails, postcodes, NHS numbers, dates
of birth), but masking cannot catch a name, a ward, a town or what someone was convicted of.
These checks are deliberately eager: a warning costs a glance, a missed name in a committed file
costs a carer's privacy. They only warn; the staff member edits the text or leaves it out.

Places are the assistant's own lookup tables (``data/nlu/lookups``: towns, regions, hospitals).
Names are words written with a capital letter inside a sentence that are not a place, a month,
a day or a known term; lower-case names are not caught, which is why every text is shown.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from bot.redact import (
    DATE_MASK,
    EMAIL_MASK,
    NHS_MASK,
    NI_MASK,
    NUMBER_MASK,
    PHONE_MASK,
    POSTCODE_INWARD_MASK,
)


def _words(text: str) -> frozenset[str]:
    """A word list written as whitespace-separated words (easier to read and extend)."""
    return frozenset(text.split())


_MASKS = (EMAIL_MASK, DATE_MASK, PHONE_MASK, NHS_MASK, NUMBER_MASK, NI_MASK)
_MONTHS = _words(
    "january february march april may june july august september october november december "
    "jan feb mar apr jun jul aug sep sept oct nov dec"
)
_DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_DATE_RE = re.compile(
    r"\b(?:"
    + "|".join(_DAYS)
    + r"|(?:19|20)\d{2}|\d{1,2}(?:st|nd|rd|th)|\d{1,2}[/.-]\d{1,2}(?:[/.-]\d{2,4})?"
    + r"|(?:january|february|march|april|june|july|august|september|october|november|december)"
    + r")\b",
    re.IGNORECASE,
)
# Details of an offence identify a patient as surely as a name (court reports are public).
_OFFENCE_RE = re.compile(
    r"\b(?:murder\w*|manslaughter|kill(?:ed|ing|er)?|stabb?(?:ed|ing)?|shot|shooting|"
    r"strangl\w*|rap(?:e|ed|ist)|sexual(?:ly)? assault\w*|assault\w*|attack(?:ed)?|arson|"
    r"robbery|burglary|gbh|abh|weapon|knife|firearm|convict\w*|sentenc\w*|prison|jail|"
    r"court|trial|charged|offen[cs]es?|offender|index offence|crime|criminal|victim)\b",
    re.IGNORECASE,
)
# Capitalised words that are not names.
_NOT_NAMES = (
    _words(
        """
    i i'm i've i'd i'll ok okay dr mr mrs ms miss nhs pals cpa cpr cto mha amhp rc gp
    nhs111 hi hello hey
    mum mam mom dad nan nana gran granny grandad grandpa grandma uncle auntie aunt sir madam
    god christmas easter eid ramadan diwali english welsh scottish irish british uk
    england wales scotland ireland northern
    """
    )
    | frozenset(_MONTHS)
    | frozenset(_DAYS)
)
_RELATIVE_NAME_RE = re.compile(
    r"\b(?:son|daughter|brother|sister|husband|wife|partner|boyfriend|girlfriend|dad|mum|"
    r"father|mother|nephew|niece|cousin|friend|nurse|doctor|dr)\s+(?:called\s+|named\s+)?"
    r"(?P<name>[a-z][a-z'-]+)\b",
    re.IGNORECASE,
)
_COMMON_AFTER_RELATIVE = _words(
    """
    is was has had and but or in at on to for of from with who who's he she they it can
    could will would should might may does did do the a an my his her their our your this
    that there here now still just not never always also really very so too as if when
    because about into onto over under again says said told keeps wants needs gets got
    feels felt seems visits visiting lives lived works worked being been went goes
    """
)
_POSSESSIVE_RE = re.compile(r"['’]s$")
_WORD_RE = re.compile(r"[A-Za-z][A-Za-z'’-]*")
_SENTENCE_END_RE = re.compile(r"[.!?]\s*$")


@dataclass(frozen=True)
class Warning:
    """One thing that looks identifying, and the words that triggered it."""

    kind: str  # "name", "date", "place", "offence detail", "masked detail"
    found: str

    def __str__(self) -> str:
        article = "an" if self.kind[0] in "aeiou" else "a"
        return f"looks like {article} {self.kind}: {self.found}"


class Context:
    """What the checks know: the lookup tables' places and hospitals, and the words the
    training examples use (a word carers already use in examples is not read as a name)."""

    def __init__(self, places: Iterable[str], known_words: Iterable[str] = ()) -> None:
        self.known_words = frozenset(word.casefold() for word in known_words)
        names = sorted({p.strip() for p in places if p and p.strip()}, key=len, reverse=True)
        self._multiword = {n.casefold() for n in names if " " in n}
        self._re = (
            re.compile(r"\b(?:" + "|".join(re.escape(n) for n in names) + r")\b", re.IGNORECASE)
            if names
            else None
        )

    def places(self, text: str) -> list[str]:
        """Places in ``text``: a one-word place counts only when written with a capital
        ("Reading", not "reading the leaflet")."""
        if self._re is None:
            return []
        return [
            match.group(0)
            for match in self._re.finditer(text)
            if match.group(0).casefold() in self._multiword or match.group(0)[0].isupper()
        ]


def _capitalised_names(text: str, places: set[str]) -> list[str]:
    """Capitalised words that do not start a sentence and are not known terms or places."""
    found = []
    for match in _WORD_RE.finditer(text):
        word = match.group(0)
        before = text[: match.start()]
        starts_sentence = not before.strip() or bool(_SENTENCE_END_RE.search(before))
        if starts_sentence or not word[0].isupper() or word.isupper():
            continue
        bare = _POSSESSIVE_RE.sub("", word).casefold()
        if bare in _NOT_NAMES or bare in places:
            continue
        found.append(word)
    return found


def _names_after_relatives(text: str) -> list[str]:
    """ "my son Jamie", "his nurse sandra": the word after a relationship is often a name."""
    return [
        match.group("name")
        for match in _RELATIVE_NAME_RE.finditer(text)
        if match.group("name").casefold() not in _COMMON_AFTER_RELATIVE
        and match.group("name").casefold() not in _NOT_NAMES
        and not match.group("name").casefold().endswith(("ing", "ed", "ly"))
    ]


def check_text(text: str, context: Context) -> list[Warning]:
    """Everything in ``text`` that looks like it could identify someone."""
    warnings: list[Warning] = []
    masked = [mask for mask in _MASKS if mask in text]
    if POSTCODE_INWARD_MASK in text:
        masked.append("postcode")
    warnings += [Warning("masked detail", mask) for mask in masked]
    found_places = context.places(text)
    place_words = {word.casefold() for place in found_places for word in place.split()}
    names = list(
        dict.fromkeys(_capitalised_names(text, place_words) + _names_after_relatives(text))
    )
    warnings += [Warning("name", name) for name in names]
    warnings += [Warning("date", m.group(0)) for m in _DATE_RE.finditer(text)]
    warnings += [Warning("place", place) for place in dict.fromkeys(found_places)]
    warnings += [Warning("offence detail", m.group(0)) for m in _OFFENCE_RE.finditer(text)]
    return warnings
