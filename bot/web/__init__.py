"""The toolkit website and its chat widget.

`python -m bot.web` serves the static site (pages under `site/`, the widget under `widget/`,
socket.io-client from `node_modules/`) with security headers. The widget talks straight to Rasa's
socketio channel from the browser, so this server needs no Rasa connection of its own.
"""

from bot.web.server import Site, make_server

__all__ = ["Site", "make_server"]
