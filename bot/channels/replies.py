"""The fixed replies the channels send themselves, read from ``content/`` (no Rasa import).

Kept apart from ``bot.channels.guard`` so that scripts (the load test) and tests can recognise
these replies without importing Rasa.
"""

from __future__ import annotations

from typing import Any

from bot.channels.sanitise import InputKind
from bot.content import ContentError
from bot.content.helplines import Helpline, helplines
from bot.content.messages import Message, message

# Which message in content/messages.yml answers each kind of input the model should not see.
BAD_INPUT_MESSAGES: dict[InputKind, str] = {
    InputKind.EMPTY: "input_empty",
    InputKind.NOT_TEXT: "input_not_text",
    InputKind.SYMBOLS: "input_not_text",
    InputKind.UNREADABLE: "input_not_text",
    InputKind.FOREIGN: "language_unsupported",
}
# Said when Rasa produced no reply at all for a turn, followed by the national helplines.
SERVICE_PROBLEM_MESSAGE = "service_problem"
# Which helplines follow it: UK-wide, confirmed, for support or emergencies.
FALLBACK_HELPLINE_TAGS = ("emotional_support", "carers", "crisis")


def fallback_helplines() -> list[Helpline]:
    """The helplines shown when the assistant cannot answer.

    Only lines that serve all four nations (the carer's nation may be unknown) and whose number
    was confirmed on an official page: a carer reading this may be in difficulty, so nothing that
    needs "check the website first". Round-the-clock emotional support first, 999 last.
    """
    chosen = [
        line
        for line in helplines()
        if line.covers(None)
        and line.confirmed
        and (line.phone or line.text)
        and any(tag in line.tags for tag in FALLBACK_HELPLINE_TAGS)
    ]
    return sorted(
        chosen,
        key=lambda line: (
            line.phone == "999",
            "emotional_support" not in line.tags,
            "crisis" not in line.tags,
            line.contacts_order or 1_000,
        ),
    )


def _helpline_line(line: Helpline) -> str:
    how = line.phone or ""
    if line.phone and line.phone_note:
        how = f"{how}, {line.phone_note}"
    if line.text:
        how = f"{how}, or {line.text}" if how else line.text
    return f"{line.short_name}: {how}. {line.summary}"


def national_helplines_text() -> str:
    """One line per helpline, straight from ``content/helplines.yml``."""
    lines = fallback_helplines()
    if not lines:
        raise ContentError("helplines.yml: no confirmed UK-wide helpline for the fallback")
    return "\n".join(_helpline_line(line) for line in lines)


def _as_bot_message(found: Message) -> dict[str, Any]:
    reply: dict[str, Any] = {"text": found.text}
    if found.buttons:
        reply["buttons"] = [dict(button) for button in found.buttons]
    return reply


def bad_input_reply(kind: InputKind) -> dict[str, Any] | None:
    """The reply for input of this kind, or None when the message should go to Rasa."""
    key = BAD_INPUT_MESSAGES.get(kind)
    return _as_bot_message(message(key)) if key is not None else None


def fallback_messages() -> list[dict[str, Any]]:
    """What a carer sees when Rasa could not answer: an apology, then the national helplines."""
    return [_as_bot_message(message(SERVICE_PROBLEM_MESSAGE)), {"text": national_helplines_text()}]


def check_replies() -> None:
    """Fail at start-up, not in front of a carer, when a reply the channels need is missing."""
    for kind in BAD_INPUT_MESSAGES:
        bad_input_reply(kind)
    fallback_messages()
