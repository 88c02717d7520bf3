"""Secure hospitals and units (``content/services.yml``).

A wrong phone number given to a distressed carer is worse than none, so a number is only
accepted with the page it came from, and numbers from weak sources (a test copy of a trust site,
an old page) carry ``confirmed: false`` so the bot can say "check this first".
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from bot.content import (
    ContentError,
    check_phone,
    check_unique,
    check_url,
    entry_id,
    load_parsed,
    optional,
    require,
    wording,
)

NATIONS = ("England", "Wales", "Scotland", "Northern Ireland")
LEVELS = ("high", "enhanced medium", "medium", "enhanced low", "low")
UNCONFIRMABLE = ("town", "levels", "provider", "region", "website")
POSTCODE_RE = re.compile(r"^[A-Z]{1,2}\d[A-Z\d]? \d[A-Z]{2}$")
# Wording action_find_local_contacts uses; kept in services.yml so staff can edit it.
TEXT_KEYS = (
    "heading_near",
    "heading_in",
    "heading_hospital",
    "others_heading",
    "website",
    "phone_unconfirmed",
    "no_phone",
    "no_services",
    "serves_heading",
    "town_unconfirmed",
    "helplines_heading",
    "helplines_heading_national",
    "hours_check",
    "hours_unconfirmed",
    "number_unconfirmed",
    "number_unconfirmed_no_site",
    "local_carers_heading",
    "council_England",
    "council_Wales",
    "council_Scotland",
    "council_Northern_Ireland",
    "not_found_retry",
    "not_found_final",
    "ask_again",
)


@dataclass(frozen=True)
class Phone:
    """A number carers can ring, with the pages it was found on."""

    number: str
    label: str
    confirmed: bool
    sources: tuple[str, ...]
    note: str | None


@dataclass(frozen=True)
class Service:
    """One secure hospital or unit."""

    id: str
    name: str
    short_name: str
    aliases: tuple[str, ...]
    former_names: tuple[str, ...]
    town: str
    county: str
    postcode: str | None
    provider: str
    levels: tuple[str, ...]
    nation: str
    region: str
    serves_regions: tuple[str, ...]
    serves_nations: tuple[str, ...]
    website: str | None
    website_label: str | None
    phones: tuple[Phone, ...]
    sources: tuple[str, ...]
    single_source: bool
    unconfirmed: tuple[str, ...]
    notes: str

    def match_names(self) -> tuple[str, ...]:
        """Everything a carer might call this service: names, aliases, old names."""
        names = [self.name, self.short_name, self.name.split("(")[0], *self.aliases]
        names += self.former_names
        return tuple(dict.fromkeys(n.strip() for n in names if n.strip()))

    @property
    def postcode_area(self) -> str | None:
        """The postcode's letters ("BS" for BS16 1ED)."""
        return re.match(r"[A-Z]+", self.postcode).group(0) if self.postcode else None

    @property
    def outward(self) -> str | None:
        """The postcode's first half ("BS16")."""
        return self.postcode.split()[0] if self.postcode else None

    def levels_text(self) -> str | None:
        """ "High secure", "Medium and low secure" …, or None when the levels are unconfirmed."""
        if "levels" in self.unconfirmed or not self.levels:
            return None
        parts = list(self.levels)
        words = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
        return f"{words[0].upper()}{words[1:]} secure"


@dataclass(frozen=True)
class ServiceCatalogue:
    services: tuple[Service, ...]
    texts: dict[str, str]

    def by_id(self, service_id: str) -> Service | None:
        return next((s for s in self.services if s.id == service_id), None)


def _parse_phone(entry: Any, where: str) -> Phone:
    if not isinstance(entry, dict):
        raise ContentError(f"{where}: each phone must be a mapping")
    number = check_phone(require(entry, "number", str, where), where)
    sources = require(entry, "sources", list, where)
    if not sources:
        raise ContentError(f"{where}: phone {number} has no source")
    for url in sources:
        if not isinstance(url, str):
            raise ContentError(f"{where}: phone source is not a URL: {url!r}")
        check_url(url, where)
    return Phone(
        number=number,
        label=require(entry, "label", str, where).strip(),
        confirmed=require(entry, "confirmed", bool, where),
        sources=tuple(sources),
        note=optional(entry, "note", str, where),
    )


def _strings(entry: dict[str, Any], key: str, where: str) -> tuple[str, ...]:
    values = optional(entry, key, list, where) or []
    if not all(isinstance(v, str) and v.strip() for v in values):
        raise ContentError(f"{where}: '{key}' must be a list of non-empty strings")
    return tuple(v.strip() for v in values)


def _parse_service(entry: Any, index: int) -> Service:
    service_id, where = entry_id(entry, "services.yml", "service", index)
    nation = require(entry, "nation", str, where)
    if nation not in NATIONS:
        raise ContentError(f"{where}: unknown nation {nation!r}")
    levels = _strings(entry, "levels", where)
    if not levels or any(level not in LEVELS for level in levels):
        raise ContentError(f"{where}: 'levels' must be a non-empty list of {LEVELS}")
    serves_nations = _strings(entry, "serves_nations", where)
    if any(n not in NATIONS for n in serves_nations):
        raise ContentError(f"{where}: unknown nation in 'serves_nations'")
    postcode = optional(entry, "postcode", str, where)
    if postcode is not None and not POSTCODE_RE.match(postcode):
        raise ContentError(f"{where}: not a full UK postcode: {postcode!r}")
    website = optional(entry, "website", str, where)
    website_label = optional(entry, "website_label", str, where)
    if website is not None:
        check_url(website, where)
        if not website_label:
            raise ContentError(f"{where}: a website needs a 'website_label'")
    sources = require(entry, "sources", list, where)
    if not sources:
        raise ContentError(f"{where}: no sources")
    for url in sources:
        check_url(str(url), where)
    phones = tuple(_parse_phone(p, where) for p in (optional(entry, "phones", list, where) or []))
    unconfirmed = _strings(entry, "unconfirmed", where)
    if any(field not in UNCONFIRMABLE for field in unconfirmed):
        raise ContentError(f"{where}: 'unconfirmed' may only list {UNCONFIRMABLE}")
    aliases = _strings(entry, "aliases", where)
    if not aliases:
        raise ContentError(f"{where}: at least one alias is needed for matching")
    return Service(
        id=service_id,
        name=require(entry, "name", str, where).strip(),
        short_name=require(entry, "short_name", str, where).strip(),
        aliases=aliases,
        former_names=_strings(entry, "former_names", where),
        town=require(entry, "town", str, where).strip(),
        county=require(entry, "county", str, where).strip(),
        postcode=postcode,
        provider=require(entry, "provider", str, where).strip(),
        levels=levels,
        nation=nation,
        region=require(entry, "region", str, where).strip(),
        serves_regions=_strings(entry, "serves_regions", where),
        serves_nations=serves_nations,
        website=website,
        website_label=website_label.strip() if website_label else None,
        phones=phones,
        sources=tuple(sources),
        single_source=bool(require(entry, "single_source", bool, where)),
        unconfirmed=unconfirmed,
        notes=require(entry, "notes", str, where).strip(),
    )


def _parse(data: Any) -> ServiceCatalogue:
    if not isinstance(data, dict) or not isinstance(data.get("services"), list):
        raise ContentError("services.yml: expected a 'services' list")
    services = tuple(_parse_service(e, i) for i, e in enumerate(data["services"]))
    check_unique((s.id for s in services), "service id")
    check_unique((s.name for s in services), "service name")
    check_unique((s.short_name for s in services), "service short name")
    return ServiceCatalogue(services=services, texts=wording(data, "services.yml", TEXT_KEYS))


def service_catalogue() -> ServiceCatalogue:
    """All services and the contacts wording, validated; re-read when the file changes."""
    return load_parsed("services", _parse)


def services() -> tuple[Service, ...]:
    """All services, in file order."""
    return service_catalogue().services
