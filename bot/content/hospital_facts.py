"""Visiting facts for named hospitals (``content/hospital_visiting.yml``), checked with pydantic.

A carer who names the hospital ("how much notice for a visit at Broadmoor?") gets that hospital's
fact after the general answer; keyed by the service ids of ``content/services.yml``.
"""

from __future__ import annotations

from functools import cache

from pydantic import BaseModel, Extra, HttpUrl, ValidationError, validator

from bot.content import ContentError, load_yaml
from bot.content.services import service_catalogue

FIELDS = (
    "booking_notice",
    "visitor_limit",
    "visitor_approval",
    "child_visits",
    "visits_centre",
    "mobile_phones",
    "gifts",
    "parking",
    "travel_help",
    "same_day_visits",
)
# Which facts add to which specific answer (data/answers/visiting.yml).
FIELDS_FOR_ANSWER: dict[str, tuple[str, ...]] = {
    "ask_visiting/book_visit": ("booking_notice", "same_day_visits"),
    "ask_visiting/visitor_approval": ("visitor_approval",),
    "ask_visiting/visit_rooms": ("visits_centre", "visitor_limit"),
    "ask_visiting/mobile_phones": ("mobile_phones",),
    "ask_visiting/gifts_food": ("gifts",),
    "ask_visiting/bring_money": ("gifts",),
    "ask_visiting_children/child_visit_process": ("child_visits",),
    "ask_visiting_children/child_who_decides": ("child_visits",),
    "ask_visiting_children/child_visit_place": ("child_visits",),
    "ask_travel_support/parking_transport": ("parking",),
    "ask_travel_support/travel_costs": ("travel_help",),
    "ask_travel_support/accommodation": ("travel_help",),
}


class HospitalFacts(BaseModel, extra=Extra.forbid):
    """One hospital's facts: short full sentences, each from the research brief."""

    booking_notice: str | None = None
    visitor_limit: str | None = None
    visitor_approval: str | None = None
    child_visits: str | None = None
    visits_centre: str | None = None
    mobile_phones: str | None = None
    gifts: str | None = None
    parking: str | None = None
    travel_help: str | None = None
    same_day_visits: str | None = None
    sources: list[HttpUrl]

    @validator("sources")
    def _some_sources(cls, urls: list[HttpUrl]) -> list[HttpUrl]:  # noqa: N805 - pydantic
        if not urls:
            raise ValueError("every hospital's facts need a source")
        return urls


class Catalogue(BaseModel, extra=Extra.forbid):
    hospitals: dict[str, HospitalFacts]


@cache
def hospital_facts() -> dict[str, HospitalFacts]:
    """Service id -> facts; fails loudly on a bad file or an unknown service id."""
    try:
        catalogue = Catalogue.parse_obj(load_yaml("hospital_visiting"))
    except ValidationError as err:
        raise ContentError(f"hospital_visiting.yml: {err}") from err
    known = service_catalogue()
    unknown = [sid for sid in catalogue.hospitals if known.by_id(sid) is None]
    if unknown:
        raise ContentError(f"hospital_visiting.yml: unknown service ids {unknown}")
    return catalogue.hospitals


def facts_for(answer: str | None, service_id: str | None) -> list[str]:
    """The named hospital's facts that belong with this specific answer (may be empty)."""
    if not answer or not service_id:
        return []
    facts = hospital_facts().get(service_id)
    if facts is None:
        return []
    return [value for name in FIELDS_FOR_ANSWER.get(answer, ()) if (value := getattr(facts, name))]
