"""Reading and validating the YAML catalogues in ``content/``.

Content is data: films, services, helplines, places, safety patterns, topic names and
response sources live in ``content/*.yml`` (outside ``data/``, which Rasa reads as training
data). This package is the only code that opens those files; actions, NLU components and
channels all go through it, so a malformed file fails loudly in one place.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Mapping
from functools import cache
from pathlib import Path
from typing import Any, TypeVar

import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]


class ContentError(ValueError):
    """A catalogue in content/ is missing, malformed or breaks its schema."""


def content_dir() -> Path:
    """The folder holding the catalogues (``CARERS_CONTENT_DIR`` overrides it for tests)."""
    return Path(os.environ.get("CARERS_CONTENT_DIR", REPO_ROOT / "content"))


@cache
def _load_cached(path: str, mtime: float) -> Any:
    with open(path, encoding="utf-8") as handle:
        try:
            return yaml.safe_load(handle)
        except yaml.YAMLError as err:  # pragma: no cover - message passthrough
            raise ContentError(f"{path}: not valid YAML: {err}") from err


def load_yaml(name: str) -> Any:
    """Parse ``content/<name>.yml``; cached until the file changes on disk."""
    path = content_dir() / f"{name}.yml"
    if not path.is_file():
        raise ContentError(f"missing content file: {path}")
    return _load_cached(str(path), path.stat().st_mtime)


T = TypeVar("T")
_PARSED: dict[str, tuple[Any, Any]] = {}


def load_parsed(name: str, parse: Callable[[Any], T]) -> T:
    """``parse(load_yaml(name))``, computed once per version of the file on disk.

    Catalogues are validated and turned into objects once, not on every message; editing the
    file makes the next call re-read and re-validate it.
    """
    data = load_yaml(name)
    cached = _PARSED.get(name)
    if cached is None or cached[0] is not data:
        cached = (data, parse(data))
        _PARSED[name] = cached
    return cached[1]


# --- small validators shared by the catalogue modules -------------------------------------

URL_RE = re.compile(r"^https?://[A-Za-z0-9.-]+\.[A-Za-z]{2,}(:\d+)?(/[^\s]*)?$")
# UK numbers as written for people: 999, 111, 116 123, 0808 808 7777, 01777 247571 …
UK_PHONE_RE = re.compile(r"^(999|111|116 ?\d{3}|0\d{2,4}( ?\d{2,4}){1,3})$")


def require(entry: Mapping[str, Any], key: str, kind: type | tuple[type, ...], where: str) -> Any:
    """Return ``entry[key]``, raising ContentError if it is absent or of the wrong type."""
    if key not in entry or entry[key] is None:
        raise ContentError(f"{where}: missing '{key}'")
    value = entry[key]
    if not isinstance(value, kind):
        raise ContentError(f"{where}: '{key}' should be {kind}, got {type(value).__name__}")
    if isinstance(value, str) and not value.strip():
        raise ContentError(f"{where}: '{key}' is empty")
    return value


def optional(entry: Mapping[str, Any], key: str, kind: type | tuple[type, ...], where: str) -> Any:
    """Return ``entry.get(key)`` (None allowed), type-checked when present."""
    value = entry.get(key)
    if value is not None and not isinstance(value, kind):
        raise ContentError(f"{where}: '{key}' should be {kind}, got {type(value).__name__}")
    return value


def check_url(url: str, where: str) -> str:
    """A well-formed absolute http(s) URL with no spaces."""
    if not URL_RE.match(url):
        raise ContentError(f"{where}: not a well-formed URL: {url!r}")
    return url


def check_phone(phone: str, where: str) -> str:
    """A UK phone number as a person would dial it (digits and single spaces)."""
    if not UK_PHONE_RE.match(phone.strip()):
        raise ContentError(f"{where}: not a UK phone number: {phone!r}")
    return phone.strip()


ID_RE = re.compile(r"^[a-z][a-z0-9_]*$")


def entry_id(entry: Any, catalogue: str, noun: str, index: int) -> tuple[str, str]:
    """Check one catalogue entry is a mapping with a lower_snake_case ``id``.

    Returns ``(id, where)``, where ``where`` names the entry in later error messages.
    """
    where = f"{catalogue}: {noun} {index + 1}"
    if not isinstance(entry, dict):
        raise ContentError(f"{where}: expected a mapping")
    found = require(entry, "id", str, where)
    where = f"{catalogue}: {found}"
    if not ID_RE.match(found):
        raise ContentError(f"{where}: id must be lower_snake_case")
    return found, where


def wording(data: Mapping[str, Any], catalogue: str, required: Iterable[str]) -> dict[str, str]:
    """A catalogue's ``texts:`` block (the sentences actions build answers from).

    Each required key must be present; every text is folded onto one line, so YAML line wraps
    never reach a carer's screen.
    """
    texts = data.get("texts")
    if not isinstance(texts, dict):
        raise ContentError(f"{catalogue}: expected a 'texts' mapping")
    for key in required:
        require(texts, key, str, f"{catalogue}: texts.{key}")
    return {key: " ".join(str(value).split()) for key, value in texts.items()}


def check_unique(names: Iterable[str], what: str) -> None:
    """No two entries share a name (case-insensitive)."""
    seen: set[str] = set()
    for name in names:
        key = name.casefold()
        if key in seen:
            raise ContentError(f"duplicate {what}: {name!r}")
        seen.add(key)
