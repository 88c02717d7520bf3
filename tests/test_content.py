"""The contacts and films catalogues: complete, unique, well-formed and sourced.

content/services.yml must hold every hospital of the research file, content/helplines.yml every
helpline; every phone number has a source; every film topic is a real intent; every region a
place maps to is one the services use, and the NLU lookup tables are generated from this content.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from bot.content import UK_PHONE_RE, URL_RE, content_dir
from bot.content.domain import domain_intents
from bot.content.films import films
from bot.content.helplines import helplines
from bot.content.places import places
from bot.content.services import NATIONS, services
from bot.locate import Place, Resolution, nearby_services, normalise
from scripts import build_lookups, build_rules

REPO_ROOT = Path(__file__).resolve().parents[1]
RESEARCH = REPO_ROOT.parent / "shared" / "research"
PHONE_IN_TEXT = re.compile(r"(?<![\d£.,])0\d{2,4}(?: ?\d{2,4}){1,3}(?!\d)")
# Every geographic UK postcode area (Royal Mail; Wikipedia's list of postcode areas).
_AREAS_TEXT = """
    AB AL B BA BB BD BH BL BN BR BS BT CA CB CF CH CM CO CR CT CV CW DA DD DE DG DH DL DN DT DY
    E EC EH EN EX FK FY G GL GU HA HD HG HP HR HS HU HX IG IP IV KA KT KW KY L LA LD LE LL LN LS LU
    M ME MK ML N NE NG NN NP NR NW OL OX PA PE PH PL PO PR RG RH RM S SA SE SG SK SL SM SN SO SP SR
    SS ST SW SY TA TD TF TN TQ TR TS TW UB W WA WC WD WF WN WR WS WV YO ZE"""
UK_POSTCODE_AREAS = set(_AREAS_TEXT.split())


def digits(number: str) -> str:
    return re.sub(r"\D", "", number)


def research(name: str) -> list[dict]:
    path = RESEARCH / name
    if not path.exists():
        pytest.skip(f"research file not available: {path}")
    return yaml.safe_load(path.read_text(encoding="utf-8"))


# --- services ---------------------------------------------------------------------------------


def test_every_researched_hospital_is_in_services() -> None:
    researched = research("secure_services.yml")
    names = {s.name for s in services()}
    assert [h["name"] for h in researched if h["name"] not in names] == []
    assert len(services()) == len(researched) == 58


def test_service_names_and_aliases_are_unique() -> None:
    owners: dict[str, str] = {}
    for service in services():
        for name in service.match_names():
            key = name.casefold().strip()
            assert owners.setdefault(key, service.id) == service.id, f"{name!r} is shared"


def test_service_phone_numbers_are_uk_numbers_with_a_source() -> None:
    count = 0
    for service in services():
        for phone in service.phones:
            count += 1
            assert UK_PHONE_RE.match(phone.number), phone.number
            assert phone.sources and all(URL_RE.match(u) for u in phone.sources)
    assert count >= 20


def test_researched_phone_numbers_are_kept_and_no_others_added() -> None:
    researched = research("secure_services.yml")
    by_name = {s.name: s for s in services()}
    brief = (RESEARCH / "domain.md").read_text(encoding="utf-8")
    for entry in researched:
        ours = {digits(p.number) for p in by_name[entry["name"]].phones}
        theirs = {digits(n) for n in PHONE_IN_TEXT.findall(entry.get("phone") or "")}
        if entry["name"] == "John Howard Centre":  # "020 8510 2003 / 2005 / 2006"
            theirs = {"02085102003", "02085102005", "02085102006"}
        assert theirs <= ours, entry["name"]
        for extra in ours - theirs:  # numbers added from the fact brief (section 12)
            assert extra in digits(brief), (entry["name"], extra)


def test_unconfirmed_numbers_are_marked() -> None:
    by_id = {s.id: s for s in services()}
    assert [p.confirmed for p in by_id["ashworth"].phones] == [False]
    assert all(p.confirmed for p in by_id["broadmoor"].phones)


def test_service_websites_are_well_formed() -> None:
    for service in services():
        if service.website:
            assert URL_RE.match(service.website)
            assert service.website_label
        assert all(URL_RE.match(url) for url in service.sources)


def test_service_regions_use_the_place_vocabulary() -> None:
    catalogue = places()
    area_names = {area.name for area in catalogue.areas}
    for service in services():
        assert service.nation in NATIONS
        assert catalogue.regions[service.region].nation == service.nation, service.id
        assert all(r in catalogue.regions for r in service.serves_regions), service.id
        assert service.county in area_names, service.id


# --- helplines --------------------------------------------------------------------------------


def test_every_researched_helpline_is_in_helplines() -> None:
    researched = research("helplines.yml")
    assert sorted(h.name for h in helplines()) == sorted(h["name"] for h in researched)


def test_helplines_are_unique_and_sourced() -> None:
    names = [h.name for h in helplines()]
    assert len(names) == len(set(names)) == 23
    for line in helplines():
        if line.phone:
            assert UK_PHONE_RE.match(line.phone), line.phone
            assert line.sources or line.source_notes, line.id
        if line.website:
            assert URL_RE.match(line.website)
        assert all(URL_RE.match(u) for u in line.sources)


def test_helpline_numbers_match_the_research() -> None:
    researched = {h["name"]: h for h in research("helplines.yml")}
    for line in helplines():
        source = researched[line.name].get("phone")
        if line.phone:
            assert digits(line.phone) in digits(str(source)), line.id
        else:
            assert source is None, line.id


def test_single_source_and_listing_only_numbers_are_not_confirmed() -> None:
    by_id = {h.id: h for h in helplines()}
    for helpline_id in ("carers_uk", "rethink_advice", "mind_support_line", "cause_ni", "pact"):
        assert not by_id[helpline_id].confirmed, helpline_id
    for helpline_id in ("samaritans", "emergency_999", "lifeline_ni", "mind_legal_line"):
        assert by_id[helpline_id].confirmed, helpline_id


def test_every_nation_has_carers_helplines_and_a_local_route() -> None:
    for nation in NATIONS:
        listed = [h for h in helplines() if h.contacts_order is not None and nation in h.nations]
        assert len(listed) >= 3, nation
        assert any("local_carers" in h.tags and nation in h.nations for h in helplines())


# --- films ------------------------------------------------------------------------------------


def test_film_topics_are_real_intents() -> None:
    intents = domain_intents()
    for film in films():
        assert set(film.topics) <= intents, film.id


def test_films_are_unique_and_sourced() -> None:
    titles = [f.title for f in films()]
    assert len(titles) == len(set(titles))
    for film in films():
        assert URL_RE.match(film.source)
        assert film.url or film.how_to_get, film.id


def test_toolkit_films_are_configured_by_the_host() -> None:
    by_id = {f.id: f for f in films()}
    assert by_id["carers_film_1"].url is None
    assert by_id["carers_film_1"].url_env == "CARERS_FILM_1_URL"
    assert by_id["carers_film_2"].url_env == "CARERS_FILM_2_URL"


def test_film_texts_only_quote_numbers_from_the_catalogues() -> None:
    known = {digits(p.number) for s in services() for p in s.phones}
    known |= {digits(h.phone) for h in helplines() if h.phone}
    for film in films():
        for number in PHONE_IN_TEXT.findall(film.how_to_get or ""):
            assert digits(number) in known, (film.id, number)


# --- places -----------------------------------------------------------------------------------


def test_every_postcode_area_is_mapped() -> None:
    assert set(places().postcode_areas) == UK_POSTCODE_AREAS
    assert len(UK_POSTCODE_AREAS) == 121


def test_every_nation_has_towns_and_areas() -> None:
    catalogue = places()
    for nation in NATIONS:
        assert sum(1 for a in catalogue.areas if a.nation == nation) >= 6, nation
        assert sum(1 for t in catalogue.towns if t.nation == nation) >= 20, nation


def test_every_place_region_leads_to_services() -> None:
    """Place regions use the services' vocabulary, so every region finds some services."""
    for region in places().regions.values():
        found = nearby_services(
            Resolution(place=Place(region.name, "region", region.nation, region.name))
        )
        assert found, region.name
        assert (
            found[0].region == region.name
            or found[0].nation == region.nation
            or (region.nation in found[0].serves_nations)
        ), region.name


def test_every_place_region_is_known() -> None:
    catalogue = places()
    for area in catalogue.areas:
        assert area.region in catalogue.regions
        for town in area.towns:
            assert catalogue.regions[town.region].nation == town.nation, town.name


def test_places_cite_public_sources() -> None:
    text = (content_dir() / "places.yml").read_text(encoding="utf-8")
    assert "https://en.wikipedia.org/wiki/List_of_postcode_areas_in_the_United_Kingdom" in text
    assert "https://www.ons.gov.uk/" in text


# --- generated files and hygiene ---------------------------------------------------------------


def test_nlu_lookups_are_in_sync_with_content() -> None:
    for path, expected in build_lookups.expected_files().items():
        assert path.exists(), f"missing {path}: run scripts/build_lookups.py"
        assert path.read_text(encoding="utf-8") == expected, f"{path.name} is stale"


def test_topic_rules_are_in_sync_with_content() -> None:
    for path, expected in build_rules.expected_files().items():
        assert path.exists(), f"missing {path}: run scripts/build_rules.py"
        assert path.read_text(encoding="utf-8") == expected, f"{path.name} is stale"


def test_every_topic_has_its_four_rules_in_both_contexts() -> None:
    """Overview, specific answer, and each with the follow-up mark; only marked ones call the
    action server."""
    for in_form in (False, True):
        rules = build_rules.topic_rules(in_form)
        assert len(rules) == 4 * len(build_rules.answer_topics())
        for rule in rules:
            entities = rule["steps"][0].get("entities", [])
            actions = [step["action"] for step in rule["steps"] if "action" in step]
            assert ("action_follow_up" in actions) == ("follow_up" in entities), rule


def test_lookup_lists_every_hospital() -> None:
    names = {normalise(n) for n in build_lookups.hospital_names()}
    for service in services():
        assert {normalise(n) for n in service.match_names()} & names, service.id


@pytest.mark.parametrize("name", ["services.yml", "helplines.yml", "films.yml", "places.yml"])
def test_no_placeholder_links(name: str) -> None:
    text = (content_dir() / name).read_text(encoding="utf-8").casefold()
    for placeholder in ("example.com", "example.org", "todo", "tbc", "xxx"):
        assert placeholder not in text, placeholder
