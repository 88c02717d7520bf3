"""The action server package (run with ``rasa run actions``): one module per concern.

Actions may import from ``bot/``; ``bot/`` never imports from here.
"""

from __future__ import annotations


def url_button(title: str, url: str) -> dict[str, str]:
    """A link button that every channel can handle.

    ``url`` + ``type: web_url`` is what link-aware channels (our Telegram bridge, the web widget)
    render as a link. ``payload`` repeats the URL because Rasa's own socketio and console outputs
    require a payload on every button; the widget also treats a URL payload as a link. Callers
    put the plain URL in the message text too, for channels without buttons (``rasa shell``).
    """
    return {"title": title, "url": url, "type": "web_url", "payload": url}
