"""Topic names (``content/topics.yml``) and answer sources (``content/sources.yml``).

Carers should never see an intent name: the two-stage fallback asks "Did you mean <title>?" and
menus list topics by the titles kept here. Every factual answer records the pages its facts come
from, so staff can check and update an answer when the law or a hospital's rules change.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from bot.content import (
    ContentError,
    _load_cached,
    check_unique,
    check_url,
    content_dir,
    load_yaml,
    require,
)

_INTENT_RE = re.compile(r"^[a-z][a-z0-9_]*$")
# What may answer a topic: a domain response, a custom action or a form.
_RESPONSE_RE = re.compile(r"^(utter_[a-z0-9_]+|action_[a-z0-9_]+|[a-z0-9_]+_form)$")
_PREFIXES = ("ask_", "request_", "express_")


@dataclass(frozen=True)
class Topic:
    """One topic intent, the name carers see for it, and what answers it."""

    intent: str
    title: str
    response: str

    def button(self) -> dict[str, str]:
        """A quick-reply button that asks about this topic."""
        return {"title": self.title, "payload": f"/{self.intent}"}


def topics() -> dict[str, Topic]:
    """All topics from ``content/topics.yml``, keyed by intent, in file order."""
    data = load_yaml("topics")
    if not isinstance(data, dict) or not isinstance(data.get("topics"), dict):
        raise ContentError("topics.yml: expected a 'topics' mapping of intent -> entry")
    result: dict[str, Topic] = {}
    for intent, entry in data["topics"].items():
        where = f"topics.yml: {intent}"
        if not isinstance(intent, str) or not _INTENT_RE.match(intent):
            raise ContentError(f"{where}: not an intent name")
        if not isinstance(entry, dict):
            raise ContentError(f"{where}: expected a mapping with 'title' and 'response'")
        title = require(entry, "title", str, where).strip()
        response = require(entry, "response", str, where).strip()
        if not _RESPONSE_RE.match(response):
            raise ContentError(f"{where}: 'response' must be utter_*, action_* or *_form")
        result[intent] = Topic(intent=intent, title=title, response=response)
    check_unique((topic.title for topic in result.values()), "topic title")
    return result


def topic_title(intent: str) -> str:
    """The carer-facing name of an intent.

    Falls back to a tidied intent name ("ask_visiting" -> "Visiting") so a fallback prompt never
    fails because a new intent has not been named yet; the content test catches the gap.
    """
    topic = topics().get(intent)
    if topic is not None:
        return topic.title
    name = intent
    for prefix in _PREFIXES:
        if name.startswith(prefix):
            name = name[len(prefix) :]
            break
    return name.replace("_", " ").strip().capitalize() or intent


def topic_buttons(intents: list[str]) -> list[dict[str, str]]:
    """Quick-reply buttons for the given intents, titled as carers see them."""
    return [{"title": topic_title(intent), "payload": f"/{intent}"} for intent in intents]


def _source_files() -> list[tuple[str, Any]]:
    """content/sources.yml, then one file per topic group in content/answer_sources/."""
    files = [("sources.yml", load_yaml("sources"))]
    folder = content_dir() / "answer_sources"
    for path in sorted(folder.glob("*.yml")) if folder.is_dir() else []:
        files.append((f"answer_sources/{path.name}", _load_cached(str(path), path.stat().st_mtime)))
    return files


def sources() -> dict[str, list[str]]:
    """Response name -> the source URLs its facts rest on (content/sources.yml and
    content/answer_sources/*.yml, one file per group of specific answers)."""
    result: dict[str, list[str]] = {}
    for name, data in _source_files():
        if not isinstance(data, dict) or not isinstance(data.get("sources"), dict):
            raise ContentError(f"{name}: expected a 'sources' mapping of response -> URLs")
        for response, urls in data["sources"].items():
            if response in result:
                raise ContentError(f"{name}: {response} is listed in two source files")
            result[response] = _checked_urls(f"{name}: {response}", response, urls)
    return result


def _checked_urls(where: str, response: Any, urls: Any) -> list[str]:
    """One entry's URLs, checked (a response name as key, a non-empty list, no repeats)."""
    if not isinstance(response, str) or not response.startswith(("utter_", "message:")):
        raise ContentError(
            f"{where}: keys must be response names (utter_*) or message:<key> for "
            "content/messages.yml"
        )
    if not isinstance(urls, list) or not urls:
        raise ContentError(f"{where}: expected a non-empty list of URLs")
    for url in urls:
        if not isinstance(url, str):
            raise ContentError(f"{where}: not a URL: {url!r}")
        check_url(url, where)
    if len(set(urls)) != len(urls):
        raise ContentError(f"{where}: a URL is listed twice")
    return list(urls)


def sources_for(response: str) -> list[str]:
    """The source URLs of one response (empty if it records none)."""
    return sources().get(response, [])
