"""Work out which place or secure hospital a carer means, without Rasa.

Carers type "broadmore", "rampton hosp", "ng220pd", "L31", "Caerdydd" or "the state hospital
carstairs". This module turns such text into a hospital from ``content/services.yml`` and/or a
place (postcode, town, county, region or nation) from ``content/places.yml``, then lists the
services nearest to it and the helplines for that nation.

Matching is deliberately conservative: exact names and aliases first (longest match wins), then
close spellings only for words long enough to be safe. Anything long, strange or hostile
("'; DROP TABLE", "<script>", 50 kB of text) is simply "not recognised"; the input is never
evaluated, echoed or used to build a query.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from difflib import SequenceMatcher

from bot.content.helplines import Helpline, by_tag, contacts_helplines
from bot.content.places import Places, places
from bot.content.services import Service, services

MAX_INPUT_CHARS = 300
MAX_TOKENS = 60
MAX_KEY_TOKENS = 8
MIN_FUZZY_CHARS = 5
HOSPITAL_FUZZY = 0.84
PLACE_FUZZY = 0.88

# Words that never start a place or hospital name on their own (skipped for fuzzy matching).
_STOP_WORDS_TEXT = """
    a about am an and any anyone anything are area around at be been by can carer carers centre
    center city close contact contacts could county details do does find for from get got group
    groups have he help her him his hello hi hey how i im in is it its just know live lives living
    local looking me mum dad my near nearby nearest need no not number of ok okay on or our please
    pls phone postcode service services she sister son daughter brother husband wife partner some
    someone support talk tell thank thanks that the their there they this to town want was we what
    where which who with would yes you your whats wheres whos hows dont cant wont ive id ill youre
    theyre isnt arent doesnt didnt"""
STOP_WORDS = frozenset(_STOP_WORDS_TEXT.split())
# Words that carry no place information: a message made only of these is "no answer yet", not a
# failed attempt (e.g. "contacts near me", "hi", "ok").
_CHAT_WORDS_TEXT = "contacts nr pls cheers ta yeah yep sure hello morning afternoon evening good"
GENERIC_WORDS = STOP_WORDS | frozenset(_CHAT_WORDS_TEXT.split())
# Place names that are also everyday words or first names: matched only when they are the
# whole answer ("Reading") or follow "in"/"near"/"from" with a capital ("near Sale").
_COMMON_WORDS_TEXT = """
    alva annan arnold ayr barry bath battle borth brent bute canton carlton clifton deal diss
    dollar ely fleet flint harris hayes hope hyde irvine keith leigh leven lewis looe march mold
    nelson porth portland reading rye sale sandwich sandy stanley stone street tain thorne usk
    ware washington wells wick"""
COMMON_WORDS = frozenset(_COMMON_WORDS_TEXT.split())
# After these a lower-case common word is still a place ("I live near reading").
_PLACE_CUES = r"(?:near|nr|around|close to|live in|living in|based in|lives in|from)"
_PREPOSITIONS = r"(?:in|near|nr|at|from|around|outside|by|to)"
_FULL_POSTCODE_RE = re.compile(r"\b([A-Z]{1,2}\d[A-Z\d]?) ?(\d[A-Z]{2})\b")
_OUTWARD_RE = re.compile(r"\b([A-Z]{1,2}\d[A-Z\d]?)\b")
_APOSTROPHES_RE = re.compile(r"['\u2019`\u00b4]")
_NON_ALNUM_RE = re.compile(r"[^a-z0-9]+")

# Priority when one name means several things: a hospital alias beats a town, a town beats a
# county of the same name, and so on.
_KIND_PRIORITY = {"hospital": 5, "town": 4, "area": 3, "region": 2, "nation": 1}
_PLACE_KIND_RANK = {"postcode": 0, "outward": 1, "town": 2, "area": 3, "region": 4, "nation": 5}


def normalise(text: str) -> str:
    """Lower case, no accents or punctuation, single spaces ("Tŷ Llywelyn" -> "ty llywelyn")."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()
    plain = _APOSTROPHES_RE.sub("", plain.replace("&", " and "))
    tokens = _NON_ALNUM_RE.sub(" ", plain).split()
    return " ".join("st" if token == "saint" else token for token in tokens)


@dataclass(frozen=True)
class Place:
    """Where the carer is (or asked about), reduced to what the contacts answer needs."""

    name: str
    kind: str  # postcode | outward | town | area | region | nation
    nation: str
    region: str | None
    county: str | None = None
    postcode_area: str | None = None
    outward: str | None = None


@dataclass(frozen=True)
class Resolution:
    """What a piece of text was recognised as: a named hospital, a place, both or neither."""

    hospital: Service | None = None
    place: Place | None = None

    @property
    def recognised(self) -> bool:
        return self.hospital is not None or self.place is not None

    @property
    def nation(self) -> str | None:
        if self.place is not None:
            return self.place.nation
        return self.hospital.nation if self.hospital else None

    @property
    def region(self) -> str | None:
        if self.place is not None:
            return self.place.region
        return self.hospital.region if self.hospital else None

    @property
    def county(self) -> str | None:
        if self.place is not None:
            return self.place.county
        return self.hospital.county if self.hospital else None

    @property
    def label(self) -> str:
        """Canonical text for the ``location`` slot; resolving it again gives the same result."""
        hospital = self.hospital.name if self.hospital else None
        place = self.place.name if self.place else None
        return ", ".join(part for part in (hospital, place) if part)


NOT_RECOGNISED = Resolution()


@dataclass(frozen=True)
class _Candidate:
    kind: str  # hospital | town | area | region | nation
    name: str
    service: Service | None = None
    place: Place | None = None

    @property
    def priority(self) -> int:
        return _KIND_PRIORITY[self.kind]


@dataclass(frozen=True)
class _Match:
    start: int
    length: int
    key: str
    candidate: _Candidate
    score: float = 1.0


class _Index:
    """Exact and fuzzy lookup tables built once per version of the catalogues."""

    def __init__(self, catalogue: Places, all_services: Iterable[Service]) -> None:
        self.places = catalogue
        self.exact: dict[str, _Candidate] = {}
        for service in all_services:
            candidate = _Candidate("hospital", service.name, service=service)
            for name in service.match_names():
                self._add(name, candidate)
        for area in catalogue.areas:
            area_place = Place(area.name, "area", area.nation, area.region, county=area.name)
            for town in area.towns:
                town_place = Place(town.name, "town", town.nation, town.region, county=area.name)
                if normalise(town.name) == normalise(area.name):
                    # "Bristol", "Cardiff", "County Durham": the county and its main town are
                    # one place to a carer, and one label keeps the slot value stable.
                    area_place = town_place
                for name in (town.name, *town.aliases):
                    self._add(name, _Candidate("town", town.name, place=town_place))
            for name in (area.name, *area.aliases):
                self._add(name, _Candidate("area", area.name, place=area_place))
        for region in catalogue.regions.values():
            place = Place(region.name, "region", region.nation, region.name)
            for name in (region.name, *region.aliases):
                self._add(name, _Candidate("region", region.name, place=place))
        for nation, aliases in catalogue.nations.items():
            place = Place(nation, "nation", nation, None)
            for name in (nation, *aliases):
                self._add(name, _Candidate("nation", nation, place=place))
        self.max_key_tokens = min(MAX_KEY_TOKENS, max(len(k.split()) for k in self.exact))
        # Fuzzy tables: (compact key, key, candidate), bucketed by first letter.
        self.fuzzy: dict[str, dict[str, list[tuple[str, str, _Candidate]]]] = {
            "hospital": {},
            "place": {},
        }
        for key, candidate in self.exact.items():
            compact = key.replace(" ", "")
            if len(compact) < MIN_FUZZY_CHARS or key in COMMON_WORDS:
                continue
            table = "hospital" if candidate.kind == "hospital" else "place"
            if candidate.kind == "nation":
                continue
            self.fuzzy[table].setdefault(compact[0], []).append((compact, key, candidate))

    def _add(self, name: str, candidate: _Candidate) -> None:
        key = normalise(name)
        if not key:
            return
        current = self.exact.get(key)
        if current is None or candidate.priority > current.priority:
            self.exact[key] = candidate

    def county_of(self, name: str) -> str | None:
        """The county/council area a postcode area's main town is in, if we know the town."""
        key = normalise(name)
        for length in range(len(key.split()), 0, -1):
            words = key.split()[:length]
            candidate = self.exact.get(" ".join(words))
            if candidate and candidate.place and candidate.kind in ("town", "area"):
                return candidate.place.county
        return None


_index_cache: tuple[Places, tuple[Service, ...], _Index] | None = None


def _index() -> _Index:
    """The lookup tables, rebuilt only when places.yml or services.yml changed."""
    global _index_cache
    catalogue, all_services = places(), services()
    cached = _index_cache
    if cached is None or cached[0] is not catalogue or cached[1] is not all_services:
        cached = (catalogue, all_services, _Index(catalogue, all_services))
        _index_cache = cached
    return cached[2]


def _find_postcode(text: str, index: _Index) -> Place | None:
    upper = re.sub(r"[^A-Z0-9]+", " ", text.upper())
    for match in _FULL_POSTCODE_RE.finditer(upper):
        place = _postcode_place(match.group(1), match.group(2), index)
        if place:
            return place
    for match in _OUTWARD_RE.finditer(upper):
        place = _postcode_place(match.group(1), None, index)
        if place:
            return place
    return None


def _postcode_place(outward: str, inward: str | None, index: _Index) -> Place | None:
    area_code = re.match(r"[A-Z]+", outward).group(0)
    area = index.places.postcode_areas.get(area_code)
    if area is None:
        return None
    nation, region, county, overridden = area.locate(outward)
    if not overridden:
        county = index.county_of(area.name)
    if inward:
        return Place(f"{outward} {inward}", "postcode", nation, region, county, area_code, outward)
    return Place(outward, "outward", nation, region, county, area_code, outward)


def _exact_matches(tokens: list[str], index: _Index) -> list[_Match]:
    found: list[_Match] = []
    for start in range(len(tokens)):
        for length in range(min(index.max_key_tokens, len(tokens) - start), 0, -1):
            key = " ".join(tokens[start : start + length])
            candidate = index.exact.get(key)
            if candidate is not None:
                found.append(_Match(start, length, key, candidate))
                break
    # Longest first; a shorter match inside a longer one ("maghull" in "ashworth maghull") loses.
    found.sort(key=lambda m: (-m.length, m.start))
    taken: set[int] = set()
    chosen = []
    for match in found:
        span = set(range(match.start, match.start + match.length))
        if span & taken:
            continue
        taken |= span
        chosen.append(match)
    return sorted(chosen, key=lambda m: m.start)


def _common_word_allowed(word: str, tokens: list[str], original: str) -> bool:
    """A place that is also an everyday word needs to be the whole answer or follow "in"."""
    informative = [t for t in tokens if t not in GENERIC_WORDS]
    if informative == [word]:
        return True
    capitalised = rf"\b{_PREPOSITIONS}\s+{re.escape(word.capitalize())}\b"
    if re.search(capitalised, original):
        return True
    cued = rf"\b{_PLACE_CUES}\s+{re.escape(word)}\b"
    return re.search(cued, normalise(original)) is not None


def _fuzzy_matches(tokens: list[str], taken: set[int], table: str, index: _Index) -> list[_Match]:
    threshold = HOSPITAL_FUZZY if table == "hospital" else PLACE_FUZZY
    buckets = index.fuzzy[table]
    best: list[_Match] = []
    matcher = SequenceMatcher(autojunk=False)
    for start in range(len(tokens)):
        if tokens[start] in STOP_WORDS or start in taken:
            continue
        for length in range(1, 5):
            span = range(start, start + length)
            if span.stop > len(tokens) or any(i in taken for i in span):
                break
            words = tokens[start : span.stop]
            if any(w.isdigit() for w in words):
                break
            compact = "".join(words)
            if len(compact) < MIN_FUZZY_CHARS:
                continue
            matcher.set_seq2(compact)
            for key_compact, key, candidate in buckets.get(compact[0], ()):
                if abs(len(key_compact) - len(compact)) > 2:
                    continue
                matcher.set_seq1(key_compact)
                if matcher.real_quick_ratio() < threshold or matcher.quick_ratio() < threshold:
                    continue
                score = matcher.ratio()
                if score >= threshold:
                    best.append(_Match(start, length, key, candidate, score))
    best.sort(key=lambda m: (-m.score, -m.candidate.priority, m.start))
    return best[:1]


def resolve(text: object) -> Resolution:
    """Recognise a hospital and/or a place in free text; ``NOT_RECOGNISED`` if neither.

    Never raises on odd input: non-text, empty, very long or hostile text is simply not
    recognised.
    """
    if not isinstance(text, str) or not text.strip() or len(text) > MAX_INPUT_CHARS:
        return NOT_RECOGNISED
    index = _index()
    tokens = normalise(text).split()
    if not tokens or len(tokens) > MAX_TOKENS:
        return NOT_RECOGNISED

    matches = _exact_matches(tokens, index)
    matches = [
        m
        for m in matches
        if m.candidate.kind == "hospital"
        or m.key not in COMMON_WORDS
        or _common_word_allowed(m.key, tokens, text)
    ]
    taken = {i for m in matches for i in range(m.start, m.start + m.length)}
    hospitals = [m for m in matches if m.candidate.kind == "hospital"]
    place_matches = [m for m in matches if m.candidate.kind != "hospital"]
    postcode = _find_postcode(text, index)

    if not hospitals:
        hospitals = _fuzzy_matches(tokens, taken, "hospital", index)
        taken |= {i for m in hospitals for i in range(m.start, m.start + m.length)}
    if not place_matches and postcode is None:
        place_matches = _fuzzy_matches(tokens, taken, "place", index)

    hospital = hospitals[0].candidate.service if hospitals else None
    place = postcode
    if place is None and place_matches:
        best = min(
            place_matches,
            key=lambda m: (_PLACE_KIND_RANK[m.candidate.kind], m.start),
        )
        place = best.candidate.place
    if hospital is None and place is None:
        return NOT_RECOGNISED
    return Resolution(hospital=hospital, place=place)


def nearby_services(resolution: Resolution, limit: int = 5) -> list[Service]:
    """Services for a resolution: the named hospital first, then the nearest by area and region.

    Order: named hospital; same postcode district or area; same town; same county/council
    area; same region; services whose catchment covers the region or nation; neighbouring
    regions; the rest of the nation.
    """
    if not resolution.recognised or limit <= 0:
        return []
    all_services = services()
    ranked: list[Service] = []

    def add(candidates: Iterable[Service]) -> None:
        for service in candidates:
            if service not in ranked:
                ranked.append(service)

    if resolution.hospital is not None:
        add([resolution.hospital])
    place = resolution.place
    region, nation, county = resolution.region, resolution.nation, resolution.county
    if place is not None and place.outward:
        add(s for s in all_services if s.outward == place.outward)
        same_area = place.postcode_area
        add(s for s in all_services if s.postcode_area == same_area and s.region == region)
    if place is not None and place.kind == "town":
        town = normalise(place.name)
        add(s for s in all_services if re.search(rf"\b{re.escape(town)}\b", normalise(s.town)))
    if county:
        add(s for s in all_services if s.county == county)
    if region:
        add(s for s in all_services if s.region == region)
        add(s for s in all_services if region in s.serves_regions)
    if nation:
        add(s for s in all_services if nation in s.serves_nations)
    if region and region in places().regions:
        for neighbour in places().regions[region].neighbours:
            add(s for s in all_services if s.region == neighbour)
    if nation:
        add(s for s in all_services if s.nation == nation)
    return ranked[:limit]


def helplines_for(resolution: Resolution) -> tuple[Helpline, ...]:
    """The helplines listed with local contacts: for the nation, or UK-wide if it is unknown."""
    return contacts_helplines(resolution.nation)


def local_carers_contacts(resolution: Resolution) -> tuple[Helpline, ...]:
    """Where to find a local carers' centre (Carers Trust; in Scotland also Support in Mind)."""
    return by_tag("local_carers", resolution.nation)


def informative_words(text: str) -> list[str]:
    """Words that could name a place ("contacts near me" has none)."""
    if not isinstance(text, str) or len(text) > MAX_INPUT_CHARS:
        return []
    return [t for t in normalise(text).split() if t not in GENERIC_WORDS]
