"""The intents declared in ``domain.yml``, for code that must recognise them without Rasa.

The channels tell a button press (``/ask_visiting``, exactly what our buttons send) from an
attempt to inject an intent or Rasa's own commands (``/restart``, ``/session_start``) by checking
the name against this list.
"""

from __future__ import annotations

import os
from pathlib import Path

from bot.content import REPO_ROOT, ContentError, _load_cached


def domain_path() -> Path:
    """``domain.yml`` at the repository root (``CARERS_DOMAIN_FILE`` overrides it for tests)."""
    return Path(os.environ.get("CARERS_DOMAIN_FILE", REPO_ROOT / "domain.yml"))


def load_domain() -> dict:
    """``domain.yml`` parsed (cached until the file changes)."""
    path = domain_path()
    if not path.is_file():
        raise ContentError(f"missing domain file: {path}")
    domain = _load_cached(str(path), path.stat().st_mtime)
    if not isinstance(domain, dict):
        raise ContentError(f"{path}: expected a mapping")
    return domain


def domain_intents() -> frozenset[str]:
    """The intents declared in the domain (Rasa's built-in ones, such as restart, excluded)."""
    intents = load_domain().get("intents")
    if not isinstance(intents, list):
        raise ContentError(f"{domain_path()}: no 'intents' list")
    names: set[str] = set()
    for entry in intents:
        # An intent is either a plain name or a one-key mapping holding its options.
        if isinstance(entry, str):
            names.add(entry)
        elif isinstance(entry, dict) and len(entry) == 1:
            names.add(str(next(iter(entry))))
        else:
            raise ContentError(f"{domain_path()}: unexpected intent entry {entry!r}")
    return frozenset(names)
