"""UK places -> nation and region (``content/places.yml``).

The local contacts answer lists services "near" a carer by region, so every place a carer may
type (postcode area, county, council area, town, Welsh or Scottish name) maps to the same region
names ``content/services.yml`` uses: NHS England regions, Welsh health boards and the Scottish
forensic network regions.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bot.content import ContentError, check_unique, check_url, load_parsed, optional, require
from bot.content.services import NATIONS

_AREA_CODE_RE = re.compile(r"^[A-Z]{1,2}$")
_OUTWARD_RE = re.compile(r"^[A-Z]{1,2}\d[A-Z\d]?$")


@dataclass(frozen=True)
class Region:
    name: str
    nation: str
    kind: str
    neighbours: tuple[str, ...]
    aliases: tuple[str, ...]


@dataclass(frozen=True)
class PostcodeArea:
    """A postcode area ("NG") and the outward codes that lie in another region or nation."""

    code: str
    name: str
    nation: str
    region: str
    districts: Mapping[str, tuple[str, str, str | None]]  # outward -> (nation, region, county)

    def locate(self, outward: str | None) -> tuple[str, str, str | None, bool]:
        """(nation, region, county or None, overridden) for an outward code in this area."""
        if outward and outward in self.districts:
            nation, region, county = self.districts[outward]
            return nation, region, county, True
        return self.nation, self.region, None, False


@dataclass(frozen=True)
class Town:
    name: str
    aliases: tuple[str, ...]
    area: str
    nation: str
    region: str


@dataclass(frozen=True)
class Area:
    """A county, Welsh principal area, Scottish or Northern Irish council area."""

    name: str
    kind: str
    nation: str
    region: str
    aliases: tuple[str, ...]
    health_board: str | None
    towns: tuple[Town, ...]


@dataclass(frozen=True)
class Places:
    nations: Mapping[str, tuple[str, ...]]  # nation -> aliases
    regions: Mapping[str, Region]
    postcode_areas: Mapping[str, PostcodeArea]
    areas: tuple[Area, ...]

    @property
    def towns(self) -> tuple[Town, ...]:
        return tuple(town for area in self.areas for town in area.towns)


def _strings(entry: Mapping[str, Any], key: str, where: str) -> tuple[str, ...]:
    values = optional(entry, key, list, where) or []
    if not all(isinstance(v, str) and v.strip() for v in values):
        raise ContentError(f"{where}: '{key}' must be a list of non-empty strings")
    return tuple(v.strip() for v in values)


def _check_region(regions: Mapping[str, Region], nation: str, region: str, where: str) -> None:
    if region not in regions:
        raise ContentError(f"{where}: unknown region {region!r}")
    if regions[region].nation != nation:
        raise ContentError(f"{where}: region {region!r} is not in {nation}")


def _parse_regions(data: Any) -> dict[str, Region]:
    regions: dict[str, Region] = {}
    for i, entry in enumerate(require(data, "regions", list, "places.yml")):
        where = f"places.yml: region {i + 1}"
        name = require(entry, "name", str, where)
        nation = require(entry, "nation", str, where)
        if nation not in NATIONS:
            raise ContentError(f"{where}: unknown nation {nation!r}")
        check_url(require(entry, "source", str, where), where)
        regions[name] = Region(
            name=name,
            nation=nation,
            kind=require(entry, "kind", str, where),
            neighbours=_strings(entry, "neighbours", where),
            aliases=_strings(entry, "aliases", where),
        )
    for region in regions.values():
        for other in region.neighbours:
            _check_region(regions, region.nation, other, f"places.yml: {region.name} neighbours")
    check_unique(regions, "region")
    return regions


def _parse_postcode_areas(data: Any, regions: Mapping[str, Region]) -> dict[str, PostcodeArea]:
    areas: dict[str, PostcodeArea] = {}
    for i, entry in enumerate(require(data, "postcode_areas", list, "places.yml")):
        where = f"places.yml: postcode area {i + 1}"
        code = require(entry, "code", str, where)
        if not _AREA_CODE_RE.match(code):
            raise ContentError(f"{where}: not a postcode area code: {code!r}")
        where = f"places.yml: postcode area {code}"
        if code in areas:
            raise ContentError(f"{where}: listed twice")
        nation = require(entry, "nation", str, where)
        region = require(entry, "region", str, where)
        _check_region(regions, nation, region, where)
        sources = require(entry, "sources", list, where)
        for url in sources:
            check_url(str(url), where)
        districts: dict[str, tuple[str, str, str | None]] = {}
        for block in optional(entry, "districts", list, where) or []:
            d_nation = require(block, "nation", str, where)
            d_region = require(block, "region", str, where)
            d_county = optional(block, "county", str, where)
            _check_region(regions, d_nation, d_region, where)
            for outward in require(block, "codes", list, where):
                if not (isinstance(outward, str) and _OUTWARD_RE.match(outward)):
                    raise ContentError(f"{where}: not an outward code: {outward!r}")
                if re.match(r"[A-Z]+", outward).group(0) != code:
                    raise ContentError(f"{where}: {outward} is not in area {code}")
                if outward in districts:
                    raise ContentError(f"{where}: {outward} listed twice")
                districts[outward] = (d_nation, d_region, d_county)
        areas[code] = PostcodeArea(
            code=code,
            name=require(entry, "name", str, where),
            nation=nation,
            region=region,
            districts=districts,
        )
    return areas


def _parse_areas(data: Any, regions: Mapping[str, Region]) -> tuple[Area, ...]:
    result = []
    for i, entry in enumerate(require(data, "areas", list, "places.yml")):
        where = f"places.yml: area {i + 1}"
        name = require(entry, "name", str, where)
        where = f"places.yml: {name}"
        nation = require(entry, "nation", str, where)
        region = require(entry, "region", str, where)
        _check_region(regions, nation, region, where)
        sources = require(entry, "sources", list, where)
        for url in sources:
            check_url(str(url), where)
        towns = []
        for raw in require(entry, "towns", list, where):
            town = {"name": raw} if isinstance(raw, str) else raw
            if not isinstance(town, dict):
                raise ContentError(f"{where}: a town must be a name or a mapping")
            t_name = require(town, "name", str, where)
            t_nation = optional(town, "nation", str, where) or nation
            t_region = optional(town, "region", str, where) or region
            _check_region(regions, t_nation, t_region, f"{where}: {t_name}")
            towns.append(
                Town(
                    name=t_name,
                    aliases=_strings(town, "aliases", f"{where}: {t_name}"),
                    area=name,
                    nation=t_nation,
                    region=t_region,
                )
            )
        result.append(
            Area(
                name=name,
                kind=require(entry, "kind", str, where),
                nation=nation,
                region=region,
                aliases=_strings(entry, "aliases", where),
                health_board=optional(entry, "health_board", str, where),
                towns=tuple(towns),
            )
        )
    check_unique((a.name for a in result), "area name")
    check_unique((t.name for a in result for t in a.towns), "town name")
    return tuple(result)


def _parse(data: Any) -> Places:
    if not isinstance(data, dict):
        raise ContentError("places.yml: expected a mapping")
    sources = require(data, "sources", dict, "places.yml")
    for key, url in sources.items():
        check_url(str(url), f"places.yml: sources.{key}")
    nations: dict[str, tuple[str, ...]] = {}
    for entry in require(data, "nations", list, "places.yml"):
        name = require(entry, "name", str, "places.yml: nations")
        if name not in NATIONS:
            raise ContentError(f"places.yml: unknown nation {name!r}")
        nations[name] = _strings(entry, "aliases", f"places.yml: {name}")
    if set(nations) != set(NATIONS):
        raise ContentError("places.yml: 'nations' must list the four UK nations")
    regions = _parse_regions(data)
    result = Places(
        nations=nations,
        regions=regions,
        postcode_areas=_parse_postcode_areas(data, regions),
        areas=_parse_areas(data, regions),
    )
    area_names = {area.name for area in result.areas}
    for postcode_area in result.postcode_areas.values():
        for outward, (_, _, county) in postcode_area.districts.items():
            if county is not None and county not in area_names:
                raise ContentError(f"places.yml: {outward}: unknown county {county!r}")
    return result


def places() -> Places:
    """The validated place catalogue; re-read when places.yml changes on disk."""
    return load_parsed("places", _parse)
