"""The crisis text, read from ``domain.yml``'s ``utter_crisis`` response.

The crisis routes are clinically fixed text that must read the same on every channel. The
Telegram bridge shows them when Rasa cannot be asked (``/crisis``, Rasa down, an empty reply),
so it reads the very same response Rasa would send instead of keeping its own copy.
"""

from __future__ import annotations

import html
import re
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


# --- the same routes for the website (issue 12: one source for every channel) ------------------

# Numbers as written in utter_crisis -> how a phone dials them. "text SHOUT to 85258" is an SMS.
_NUMBER_RE = re.compile(r"\b(?:0\d{3} \d{3} \d{4}|116 123|999|111|85258)\b")


def crisis_parts() -> list[list[str | dict[str, str]]]:
    """``utter_crisis`` (all nations) as lines of parts: text, or {"tel"|"sms", "text"}.

    The website's urgent-help page and the widget's offline "Urgent help" panel are built from
    this, so they can never drift from what the assistant sends.
    """
    lines: list[list[str | dict[str, str]]] = []
    for line in crisis_text().splitlines():
        line = line.strip()
        if not line:
            continue
        parts: list[str | dict[str, str]] = []
        cursor = 0
        for match in _NUMBER_RE.finditer(line):
            if match.start() > cursor:
                parts.append(line[cursor : match.start()])
            number = match.group()
            kind = "sms" if line[: match.start()].rstrip().lower().endswith("to") else "tel"
            parts.append({kind: number.replace(" ", ""), "text": number})
            cursor = match.end()
        if cursor < len(line):
            parts.append(line[cursor:])
        lines.append(parts)
    return lines


def crisis_html() -> str:
    """The routes as an HTML list with tap-to-call links (all text escaped)."""
    items = []
    for parts in crisis_parts():
        html_parts = []
        for part in parts:
            if isinstance(part, str):
                html_parts.append(html.escape(part))
            else:
                scheme = "sms" if "sms" in part else "tel"
                target = html.escape(part[scheme], quote=True)
                html_parts.append(f'<a href="{scheme}:{target}">{html.escape(part["text"])}</a>')
        items.append(f"  <li>{''.join(html_parts)}</li>")
    return '<ul class="crisis-list">\n' + "\n".join(items) + "\n</ul>"
