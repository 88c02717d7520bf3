"""Films for carers (``content/films.yml``).

The toolkit's own two films have no public link we could confirm, so their links are
configuration: the organisation hosting the assistant sets ``CARERS_FILM_1_URL`` /
``CARERS_FILM_2_URL``. A film without a link is never shown as one; carers are told how to get
it instead. A link is only ever one that is written in content/ or configured by the host.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bot.content import (
    ContentError,
    check_unique,
    check_url,
    entry_id,
    load_parsed,
    optional,
    require,
    wording,
)

logger = logging.getLogger(__name__)

_INTENT_RE = re.compile(r"^[a-z][a-z0-9_]*$")
_ENV_RE = re.compile(r"^[A-Z][A-Z0-9_]*$")
# Wording the film actions use; kept in films.yml so staff can edit it with the films.
TEXT_KEYS = ("list_intro", "no_link_prefix", "watch_button")


@dataclass(frozen=True)
class Film:
    """One film: what it is, which topics it speaks to, and where (if anywhere) to watch it."""

    id: str
    title: str
    description: str
    length: str | None
    topics: tuple[str, ...]
    url: str | None
    url_env: str | None
    how_to_get: str | None
    source: str
    notes: str | None

    def link(self, environ: Mapping[str, str] | None = None) -> str | None:
        """The link to show: the host's configured URL if set and well formed, else ``url``.

        A malformed configured URL is ignored (and logged) rather than shown: a broken link is
        worse than the "how to get it" text.
        """
        env = os.environ if environ is None else environ
        if self.url_env:
            configured = (env.get(self.url_env) or "").strip()
            if configured:
                try:
                    return check_url(configured, f"${self.url_env}")
                except ContentError:
                    logger.warning("ignoring malformed %s for film %s", self.url_env, self.id)
        return self.url


@dataclass(frozen=True)
class FilmCatalogue:
    films: tuple[Film, ...]
    texts: Mapping[str, str]

    def by_id(self, film_id: str) -> Film | None:
        return next((film for film in self.films if film.id == film_id), None)

    def for_topic(self, intent: str) -> tuple[Film, ...]:
        """Films that speak to a topic intent, in file order."""
        return tuple(film for film in self.films if intent in film.topics)


def _parse_film(entry: Any, index: int) -> Film:
    film_id, where = entry_id(entry, "films.yml", "film", index)
    topics = require(entry, "topics", list, where)
    if not topics or not all(isinstance(t, str) and _INTENT_RE.match(t) for t in topics):
        raise ContentError(f"{where}: 'topics' must be a non-empty list of intent names")
    url = optional(entry, "url", str, where)
    if url is not None:
        check_url(url, where)
    url_env = optional(entry, "url_env", str, where)
    if url_env is not None and not _ENV_RE.match(url_env):
        raise ContentError(f"{where}: 'url_env' must be an environment variable name")
    how_to_get = optional(entry, "how_to_get", str, where)
    if url is None and not (how_to_get and how_to_get.strip()):
        raise ContentError(f"{where}: a film without 'url' must say 'how_to_get' it")
    length = optional(entry, "length", str, where)
    return Film(
        id=film_id,
        title=require(entry, "title", str, where).strip(),
        description=" ".join(require(entry, "description", str, where).split()),
        length=length.strip() if length else None,
        topics=tuple(topics),
        url=url,
        url_env=url_env,
        how_to_get=" ".join(how_to_get.split()) if how_to_get else None,
        source=check_url(require(entry, "source", str, where), where),
        notes=optional(entry, "notes", str, where),
    )


def _parse(data: Any) -> FilmCatalogue:
    if not isinstance(data, dict) or not isinstance(data.get("films"), list):
        raise ContentError("films.yml: expected a 'films' list")
    films = tuple(_parse_film(entry, i) for i, entry in enumerate(data["films"]))
    if not films:
        raise ContentError("films.yml: no films")
    check_unique((film.id for film in films), "film id")
    check_unique((film.title for film in films), "film title")
    return FilmCatalogue(films=films, texts=wording(data, "films.yml", TEXT_KEYS))


def film_catalogue() -> FilmCatalogue:
    """All films and their wording, validated; re-read when films.yml changes on disk."""
    return load_parsed("films", _parse)


def films() -> tuple[Film, ...]:
    """All films, in file order."""
    return film_catalogue().films
