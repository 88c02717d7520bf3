"""Turning Rasa's bot messages into Telegram sends. Pure: no network, easy to test.

Rasa's REST channel cuts a response into one message per paragraph; a carer on a phone is
better served by one Telegram message per response, so consecutive texts are joined again and
only cut where Telegram's 4,096-character limit forces it, at paragraph boundaries.
Everything is sent as HTML with all text escaped, because authored answers are plain text
full of dots, dashes and brackets that Markdown would choke on.
"""

from __future__ import annotations

import hashlib
import html
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.constants import InlineKeyboardButtonLimit, MessageLimit

MAX_TEXT = int(MessageLimit.MAX_TEXT_LENGTH)  # 4096
MAX_CALLBACK_BYTES = int(InlineKeyboardButtonLimit.MAX_CALLBACK_DATA)  # 64
# Callback data the bridge makes itself starts with "#", which Rasa payloads ("/intent")
# never do; a Rasa payload that happens to start with "#" is always mapped to a key.
KEY_PREFIX = "#k:"
BRIDGE_PREFIX = "#"
BUTTONS_ONLY_TEXT = "Please choose:"


def utf16_len(text: str) -> int:
    """Length as Telegram counts it (UTF-16 code units: an emoji counts twice)."""
    return len(text.encode("utf-16-le")) // 2


class CallbackStore:
    """Maps payloads too long for Telegram's 64-byte callback data to short keys.

    Keys are derived from the payload, so the same button always gets the same key; the map is
    bounded (least recently used entries go first) and lives in memory, so after a restart an
    old long-payload button is answered with a kind "please ask again" instead.
    """

    def __init__(self, max_entries: int = 10_000) -> None:
        self.max_entries = max_entries
        self._payloads: OrderedDict[str, str] = OrderedDict()

    def data_for(self, payload: str) -> str:
        """Callback data for ``payload``: the payload itself when it fits, else a short key."""
        if len(payload.encode("utf-8")) <= MAX_CALLBACK_BYTES and not payload.startswith(
            BRIDGE_PREFIX
        ):
            return payload
        key = KEY_PREFIX + hashlib.sha256(payload.encode("utf-8")).hexdigest()[:20]
        self._payloads[key] = payload
        self._payloads.move_to_end(key)
        while len(self._payloads) > self.max_entries:
            self._payloads.popitem(last=False)
        return key

    def payload_for(self, data: str) -> str | None:
        """The payload behind callback data, or None for an unknown (expired) key."""
        if not data.startswith(KEY_PREFIX):
            return data
        payload = self._payloads.get(data)
        if payload is not None:
            self._payloads.move_to_end(data)
        return payload

    def __len__(self) -> int:
        return len(self._payloads)


@dataclass(frozen=True)
class TextSend:
    """One ``sendMessage``: HTML text, optionally with an inline keyboard."""

    html: str
    keyboard: InlineKeyboardMarkup | None = None


@dataclass(frozen=True)
class PhotoSend:
    """One ``sendPhoto`` by URL."""

    url: str


Send = TextSend | PhotoSend


def split_text(text: str, limit: int = MAX_TEXT) -> list[str]:
    """Cut text into pieces of at most ``limit`` UTF-16 units.

    Cuts at paragraph breaks when it can, else at line breaks, else between words, and only
    cuts inside a word when a single word is longer than the limit.
    """
    text = text.strip()
    if not text:
        return []
    if utf16_len(text) <= limit:
        return [text]
    for separator in ("\n\n", "\n", " "):
        parts = [p for p in text.split(separator) if p.strip()]
        if len(parts) > 1:
            return _pack(parts, separator, limit)
    return _hard_split(text, limit)


def _pack(parts: list[str], separator: str, limit: int) -> list[str]:
    chunks: list[str] = []
    current = ""
    for part in parts:
        candidate = f"{current}{separator}{part}" if current else part
        if utf16_len(candidate) <= limit:
            current = candidate
            continue
        if current:
            chunks.append(current.strip())
        if utf16_len(part) <= limit:
            current = part
        else:
            pieces = split_text(part, limit)
            chunks.extend(pieces[:-1])
            current = pieces[-1]
    if current.strip():
        chunks.append(current.strip())
    return chunks


def _hard_split(text: str, limit: int) -> list[str]:
    chunks: list[str] = []
    current = ""
    for char in text:
        if utf16_len(current + char) > limit:
            chunks.append(current)
            current = ""
        current += char
    if current:
        chunks.append(current)
    return chunks


def escape(text: str) -> str:
    """Escape for Telegram's HTML parse mode (only &, < and > matter there)."""
    return html.escape(text, quote=False)


def _is_web_url(url: Any) -> bool:
    if not isinstance(url, str):
        return False
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.netloc) and " " not in url


def keyboard(
    buttons: Iterable[Mapping[str, Any]], store: CallbackStore
) -> InlineKeyboardMarkup | None:
    """Rasa buttons → an inline keyboard, one button a row (easiest to hit on a phone).

    ``{"title", "payload"}`` becomes a callback button; ``{"title", "url"}`` (Rasa's
    ``type: web_url``) becomes a link button. Buttons without a usable target are dropped.
    """
    rows: list[list[InlineKeyboardButton]] = []
    for button in buttons:
        if not isinstance(button, Mapping):
            continue
        title = str(button.get("title") or "").strip()
        if not title:
            continue
        url = button.get("url")
        if url is None and button.get("type") == "web_url":
            url = button.get("payload")
        if url is not None:
            if _is_web_url(url):
                rows.append([InlineKeyboardButton(title, url=url)])
            continue
        payload = str(button.get("payload") or "").strip()
        if payload:
            rows.append([InlineKeyboardButton(title, callback_data=store.data_for(payload))])
    return InlineKeyboardMarkup(rows) if rows else None


def render(messages: Iterable[Mapping[str, Any]], store: CallbackStore) -> list[Send]:
    """Rasa's bot messages → the sends that show them in Telegram, in order."""
    sends: list[Send] = []
    pending: list[str] = []

    def flush(markup: InlineKeyboardMarkup | None = None) -> None:
        chunks = split_text("\n\n".join(pending))
        pending.clear()
        if not chunks and markup is not None:
            chunks = [BUTTONS_ONLY_TEXT]
        for index, chunk in enumerate(chunks):
            last = index == len(chunks) - 1
            sends.append(TextSend(escape(chunk), markup if last else None))

    for message in messages:
        text = message.get("text")
        if isinstance(text, str) and text.strip():
            pending.append(text.strip())
        buttons = message.get("buttons")
        markup = keyboard(buttons, store) if isinstance(buttons, list) else None
        if markup is not None:
            flush(markup)
        image = message.get("image")
        if _is_web_url(image):
            flush()
            sends.append(PhotoSend(image))
    flush()
    return sends


def plain(
    text: str, buttons: Iterable[Mapping[str, Any]] = (), *, store: CallbackStore
) -> list[Send]:
    """Sends for the bridge's own text (crisis routes, notices), escaped like Rasa's."""
    return render([{"text": text, "buttons": list(buttons)}], store)
