"""The crisis text, read from ``domain.yml``'s ``utter_crisis`` response.

The crisis routes are clinically fixed text that must read the same on every channel. The
Telegram bridge shows them when Rasa cannot be asked (``/crisis``, Rasa down, an empty reply),
so it reads the very same response Rasa would send instead of keeping its own copy.
"""

from __future__ import annotations

from typing import Any

from bot.content import ContentError
from bot.content.domain import domain_path, load_domain

CRISIS_RESPONSE = "utter_crisis"


def _responses() -> dict[str, Any]:
    responses = load_domain().get("responses")
    if not isinstance(responses, dict):
        raise ContentError(f"{domain_path()}: no 'responses' section")
    return responses


def crisis_text() -> str:
    """The default (no-condition) variant of ``utter_crisis``: every nation's routes at once.

    The bridge never knows the carer's nation, so it uses the variant that lists them all.
    """
    variants = _responses().get(CRISIS_RESPONSE)
    if not isinstance(variants, list):
        raise ContentError(f"domain.yml: response '{CRISIS_RESPONSE}' is missing")
    for variant in variants:
        if isinstance(variant, dict) and not variant.get("condition"):
            text = variant.get("text")
            if isinstance(text, str) and text.strip():
                return text.strip()
    raise ContentError(f"domain.yml: '{CRISIS_RESPONSE}' has no variant without a condition")


def crisis_variant_texts() -> frozenset[str]:
    """Every variant of ``utter_crisis`` (all nations), to recognise it in what Rasa sent."""
    variants = _responses().get(CRISIS_RESPONSE) or []
    return frozenset(
        variant["text"].strip()
        for variant in variants
        if isinstance(variant, dict) and isinstance(variant.get("text"), str)
    )
