"""A small static file server for the toolkit site and its chat widget.

Why not `python -m http.server`: we need one HTML layout shared by every page, the Rasa URL
written into the widget's `<script>` tag, and security headers (a Content-Security-Policy that
lets the widget connect to Rasa and nothing else). Only files listed here are served, so there is
no directory listing and no way to walk out of the site folder.
"""

from __future__ import annotations

import argparse
import html
import json
import logging
import sys
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from string import Template
from urllib.parse import urlsplit

from bot.content.crisis import crisis_html, crisis_parts

logger = logging.getLogger(__name__)

WEB_DIR = Path(__file__).resolve().parent
NODE_MODULES = WEB_DIR / "node_modules"  # `npm ci` in bot/web; git-ignored
DEFAULT_RASA_URL = "http://localhost:5005"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8080


class SiteError(Exception):
    """The site cannot be served as configured (bad Rasa URL, npm packages not installed)."""


@dataclass(frozen=True)
class Page:
    """One page of the site: its URL, the HTML fragment holding its `<main>` content, its title."""

    path: str
    source: str
    title: str
    nav_label: str


PAGES: tuple[Page, ...] = (
    Page("/", "home.html", "Supporting carers in secure mental health services", "Home"),
    Page("/carers", "carers.html", "For carers, family and friends", "For carers"),
    Page("/services", "services.html", "For services and staff", "For services and staff"),
    Page("/commissioners", "commissioners.html", "For commissioners", "For commissioners"),
    Page("/films", "films.html", "The films", "The films"),
    Page("/urgent-help", "urgent-help.html", "Urgent help", "Urgent help"),
)
NOT_FOUND = Page("", "not-found.html", "Page not found", "")

# URL path -> file. Anything not listed here is a 404.
ASSETS: dict[str, Path] = {
    "/static/site.css": WEB_DIR / "site" / "static" / "site.css",
    "/static/favicon.svg": WEB_DIR / "site" / "static" / "favicon.svg",
    "/widget/widget.js": WEB_DIR / "widget" / "widget.js",
    "/widget/widget.css": WEB_DIR / "widget" / "widget.css",
    "/vendor/socket.io.min.js": NODE_MODULES / "socket.io-client" / "dist" / "socket.io.min.js",
}

CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".svg": "image/svg+xml",
}


CRISIS_SCRIPT = "/widget/crisis-routes.js"


def crisis_script() -> bytes:
    """The widget's offline "Urgent help" routes, generated from utter_crisis (domain.yml).

    Loaded before widget.js, so the panel works even when the assistant cannot be reached.
    """
    routes = json.dumps(crisis_parts(), ensure_ascii=False).replace("<", "\\u003c")
    return f"window.CARERS_CRISIS_ROUTES = {routes};\n".encode()


def check_rasa_url(url: str) -> str:
    """Return the Rasa base URL without a trailing slash, or raise SiteError.

    The URL ends up in an HTML attribute and in the CSP header, so only a plain
    http(s)://host[:port][/path] is accepted.
    """
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SiteError(f"--rasa-url must be an http:// or https:// URL, got {url!r}")
    if parts.query or parts.fragment or parts.username or parts.password:
        raise SiteError(f"--rasa-url must not have a query, fragment or login, got {url!r}")
    if any(ch in url for ch in "\"'<>` ;,\\"):
        raise SiteError(f"--rasa-url contains a character that is not allowed: {url!r}")
    return url.rstrip("/")


def connect_sources(rasa_url: str) -> str:
    """The CSP connect-src values for Rasa: its http(s) origin and the matching ws(s) origin."""
    parts = urlsplit(rasa_url)
    ws_scheme = "wss" if parts.scheme == "https" else "ws"
    return f"{parts.scheme}://{parts.netloc} {ws_scheme}://{parts.netloc}"


class Site:
    """Renders the pages and finds the files to serve; holds no per-request state."""

    def __init__(self, rasa_url: str = DEFAULT_RASA_URL, web_dir: Path = WEB_DIR) -> None:
        self.rasa_url = check_rasa_url(rasa_url)
        self.web_dir = web_dir
        missing = [str(p) for p in ASSETS.values() if not p.is_file()]
        if missing:
            raise SiteError(
                "Missing site files: "
                + ", ".join(missing)
                + ". Run `npm ci` in bot/web (scripts/install_browser.sh does it)."
            )
        self.csp = "; ".join(
            [
                "default-src 'none'",
                "script-src 'self'",
                "style-src 'self'",
                "img-src 'self'",
                f"connect-src 'self' {connect_sources(self.rasa_url)}",
                "base-uri 'none'",
                "form-action 'self'",
                "frame-ancestors 'none'",
                "object-src 'none'",
            ]
        )

    def security_headers(self) -> dict[str, str]:
        """Headers sent with every response."""
        return {
            "Content-Security-Policy": self.csp,
            "X-Content-Type-Options": "nosniff",
            "X-Frame-Options": "DENY",
            "Referrer-Policy": "no-referrer",
            "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
            "Cross-Origin-Opener-Policy": "same-origin",
            "Cross-Origin-Resource-Policy": "same-origin",
            "Cache-Control": "no-cache",
        }

    def _nav(self, current: Page) -> str:
        items = []
        for page in PAGES:
            aria = ' aria-current="page"' if page == current else ""
            items.append(f'<li><a href="{page.path}"{aria}>{html.escape(page.nav_label)}</a></li>')
        return "\n          ".join(items)

    def render(self, page: Page) -> bytes:
        """The full HTML of one page: the shared layout around the page's fragment.

        Files are read on every request so edits show on reload during `make run`.
        """
        layout = Template((self.web_dir / "site" / "layout.html").read_text(encoding="utf-8"))
        main = (self.web_dir / "site" / "pages" / page.source).read_text(encoding="utf-8")
        # The urgent-help list is built from utter_crisis, never copied by hand.
        main = Template(main).safe_substitute(crisis_routes=crisis_html())
        text = layout.substitute(
            title=html.escape(page.title),
            nav=self._nav(page),
            main=main.strip(),
            rasa_url=html.escape(self.rasa_url, quote=True),
        )
        return text.encode("utf-8")

    def resolve(self, path: str) -> tuple[HTTPStatus, str, bytes]:
        """Map a request path (no query string) to (status, content type, body)."""
        if path != "/" and path.endswith("/"):
            path = path.rstrip("/")
        if path == "/healthz":
            return HTTPStatus.OK, "text/plain; charset=utf-8", b"ok\n"
        for page in PAGES:
            if page.path == path:
                return HTTPStatus.OK, CONTENT_TYPES[".html"], self.render(page)
        if path == CRISIS_SCRIPT:
            return HTTPStatus.OK, CONTENT_TYPES[".js"], crisis_script()
        asset = ASSETS.get(path)
        if asset is not None:
            return HTTPStatus.OK, CONTENT_TYPES[asset.suffix], asset.read_bytes()
        return HTTPStatus.NOT_FOUND, CONTENT_TYPES[".html"], self.render(NOT_FOUND)


def _handler_for(site: Site) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "carers-assistant-web"
        sys_version = ""

        def _send(self, include_body: bool) -> None:
            path = urlsplit(self.path).path
            try:
                status, content_type, body = site.resolve(path)
            except OSError:
                logger.exception("Could not read a site file for %s", path)
                status, content_type = HTTPStatus.INTERNAL_SERVER_ERROR, "text/plain"
                body = b"The site could not load this page.\n"
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            for name, value in site.security_headers().items():
                self.send_header(name, value)
            self.end_headers()
            if include_body:
                self.wfile.write(body)

        def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
            self._send(include_body=True)

        def do_HEAD(self) -> None:  # noqa: N802
            self._send(include_body=False)

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            logger.info("%s %s", self.address_string(), format % args)

    return Handler


def make_server(
    site: Site, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT
) -> ThreadingHTTPServer:
    """A threaded HTTP server for `site`; port 0 picks a free port (see `server.server_port`)."""
    server = ThreadingHTTPServer((host, port), _handler_for(site))
    server.daemon_threads = True
    return server


def main(argv: list[str] | None = None) -> int:
    """Command line: `python -m bot.web [--host H] [--port P] [--rasa-url URL]`."""
    parser = argparse.ArgumentParser(prog="python -m bot.web", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default=DEFAULT_HOST, help=f"default {DEFAULT_HOST}")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"default {DEFAULT_PORT}")
    parser.add_argument(
        "--rasa-url",
        default=DEFAULT_RASA_URL,
        help=f"Rasa server the browser connects to (default {DEFAULT_RASA_URL})",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    try:
        site = Site(rasa_url=args.rasa_url)
    except SiteError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    server = make_server(site, args.host, args.port)
    logger.info(
        "Serving the toolkit site on http://%s:%d (widget talks to %s)",
        args.host,
        server.server_port,
        site.rasa_url,
    )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0
