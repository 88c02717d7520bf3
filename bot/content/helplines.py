"""National helplines and contacts (``content/helplines.yml``).

Opening hours change and several numbers could not be confirmed on an official page, so each
entry says whether its number and its hours are confirmed; answers built from it say "check the
website" where they are not.
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
)
from bot.content.services import NATIONS

_TAG_RE = re.compile(r"^[a-z][a-z_]*$")
TEXTPHONE_RE = re.compile(r"^18001 0\d{2,4}( ?\d{2,4}){1,3}$")


@dataclass(frozen=True)
class Helpline:
    """A national helpline or contact point."""

    id: str
    name: str
    short_name: str
    phone: str | None
    phone_note: str | None
    text: str | None
    textphone: str | None
    hours: str | None
    hours_confirmed: bool | None
    website: str | None
    nations: tuple[str, ...]
    purpose: str
    summary: str
    tags: tuple[str, ...]
    contacts_order: int | None
    confirmed: bool
    sources: tuple[str, ...]
    source_notes: tuple[str, ...]
    notes: str | None

    def covers(self, nation: str | None) -> bool:
        """True if it serves that nation; with no nation, only UK-wide lines count."""
        if nation is None:
            return set(NATIONS) <= set(self.nations)
        return nation in self.nations


def _parse_helpline(entry: Any, index: int) -> Helpline:
    helpline_id, where = entry_id(entry, "helplines.yml", "entry", index)
    phone = optional(entry, "phone", str, where)
    if phone is not None:
        phone = check_phone(phone, where)
    textphone = optional(entry, "textphone", str, where)
    if textphone is not None and not TEXTPHONE_RE.match(textphone):
        raise ContentError(f"{where}: not a textphone number: {textphone!r}")
    website = optional(entry, "website", str, where)
    if website is not None:
        check_url(website, where)
    text = optional(entry, "text", str, where)
    if not (phone or text or website):
        raise ContentError(f"{where}: needs a phone, a text service or a website")
    nations = require(entry, "nations", list, where)
    if not nations or any(n not in NATIONS for n in nations):
        raise ContentError(f"{where}: 'nations' must list some of {NATIONS}")
    tags = require(entry, "tags", list, where)
    if not tags or not all(isinstance(t, str) and _TAG_RE.match(t) for t in tags):
        raise ContentError(f"{where}: 'tags' must be a non-empty list of lower_case words")
    sources = optional(entry, "sources", list, where) or []
    for url in sources:
        check_url(str(url), where)
    source_notes = optional(entry, "source_notes", list, where) or []
    if (phone or text or textphone) and not (sources or source_notes):
        raise ContentError(f"{where}: a number without a source")
    confirmed = require(entry, "confirmed", bool, where)
    if confirmed and phone and not sources:
        raise ContentError(f"{where}: a number with no source page cannot be 'confirmed'")
    order = optional(entry, "contacts_order", int, where)
    return Helpline(
        id=helpline_id,
        name=require(entry, "name", str, where).strip(),
        short_name=require(entry, "short_name", str, where).strip(),
        phone=phone,
        phone_note=optional(entry, "phone_note", str, where),
        text=text,
        textphone=textphone,
        hours=optional(entry, "hours", str, where),
        hours_confirmed=optional(entry, "hours_confirmed", bool, where),
        website=website,
        nations=tuple(nations),
        purpose=require(entry, "purpose", str, where).strip(),
        summary=require(entry, "summary", str, where).strip(),
        tags=tuple(tags),
        contacts_order=order,
        confirmed=confirmed,
        sources=tuple(str(u) for u in sources),
        source_notes=tuple(str(n) for n in source_notes),
        notes=optional(entry, "notes", str, where),
    )


def _parse(data: Any) -> tuple[Helpline, ...]:
    if not isinstance(data, dict) or not isinstance(data.get("helplines"), list):
        raise ContentError("helplines.yml: expected a 'helplines' list")
    lines = tuple(_parse_helpline(e, i) for i, e in enumerate(data["helplines"]))
    check_unique((h.id for h in lines), "helpline id")
    check_unique((h.name for h in lines), "helpline name")
    check_unique((h.short_name for h in lines), "helpline short name")
    return lines


def helplines() -> tuple[Helpline, ...]:
    """All helplines, validated, in file order."""
    return load_parsed("helplines", _parse)


def by_tag(tag: str, nation: str | None = None) -> tuple[Helpline, ...]:
    """Helplines with a tag (e.g. "local_carers"), for a nation or UK-wide."""
    return tuple(h for h in helplines() if tag in h.tags and h.covers(nation))


def contacts_helplines(nation: str | None) -> tuple[Helpline, ...]:
    """The helplines listed in the local contacts answer for a nation, in display order."""
    chosen = [h for h in helplines() if h.contacts_order is not None and h.covers(nation)]
    return tuple(sorted(chosen, key=lambda h: h.contacts_order or 0))
