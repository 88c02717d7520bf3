"""Fixed messages that code sends (``content/messages.yml``).

The fallback actions, the contacts form's question and the channels' own replies (empty input,
non-text, another language) are not chosen by dialogue rules, so they are kept as content
rather than as domain responses: staff edit them in one file, and every sender reads the same
text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from bot.content import ContentError, load_yaml, optional, require

_PAYLOAD_RE = re.compile(r"^/[a-z_]+$")


@dataclass(frozen=True)
class Message:
    """A text with optional quick-reply buttons (``{"title", "payload"}``)."""

    text: str
    buttons: list[dict[str, str]] = field(default_factory=list)

    def as_dispatch(self) -> dict[str, object]:
        """Keyword arguments for ``CollectingDispatcher.utter_message``."""
        return (
            {"text": self.text, "buttons": list(self.buttons)}
            if self.buttons
            else {"text": self.text}
        )


def messages() -> dict[str, Message]:
    """All messages, validated."""
    data = load_yaml("messages")
    if not isinstance(data, dict) or not isinstance(data.get("messages"), dict):
        raise ContentError("messages.yml: expected a 'messages' mapping")
    result: dict[str, Message] = {}
    for key, entry in data["messages"].items():
        where = f"messages.yml: {key}"
        if not isinstance(entry, dict):
            raise ContentError(f"{where}: expected a mapping with 'text'")
        text = require(entry, "text", str, where).strip()
        buttons = optional(entry, "buttons", list, where) or []
        for button in buttons:
            if not isinstance(button, dict):
                raise ContentError(f"{where}: each button needs 'title' and 'payload'")
            require(button, "title", str, where)
            if not _PAYLOAD_RE.match(require(button, "payload", str, where)):
                raise ContentError(f"{where}: button payload must be /intent_name")
        result[key] = Message(text=text, buttons=[dict(b) for b in buttons])
    return result


def message(key: str) -> Message:
    """One message by key; a missing key is a content error, not a silent gap."""
    found = messages().get(key)
    if found is None:
        raise ContentError(f"messages.yml: no message '{key}'")
    return found
