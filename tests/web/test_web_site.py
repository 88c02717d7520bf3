"""The toolkit site server (`python -m bot.web`) and the widget source, without a browser."""

from __future__ import annotations

import http.client
import json
import re
import socket
import subprocess
import sys
import threading
import time
from html.parser import HTMLParser
from pathlib import Path

import pytest

from bot.web import server as web_server
from bot.web.server import PAGES, Site, SiteError, check_rasa_url, connect_sources

REPO_ROOT = Path(__file__).resolve().parents[2]
WEB_DIR = REPO_ROOT / "bot" / "web"
WIDGET_JS = (WEB_DIR / "widget" / "widget.js").read_text(encoding="utf-8")


class PageParser(HTMLParser):
    """Collects what the checks below need from one HTML page."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def all(self, tag: str) -> list[dict[str, str | None]]:
        return [attrs for name, attrs in self.tags if name == tag]


def parse(body: bytes) -> PageParser:
    parser = PageParser()
    parser.feed(body.decode("utf-8"))
    return parser


@pytest.fixture(scope="module")
def served() -> object:
    """A running site server whose widget points at a made-up Rasa on port 5999."""
    httpd = web_server.make_server(Site(rasa_url="http://localhost:5999"), "127.0.0.1", 0)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


def fetch(httpd: object, path: str, method: str = "GET") -> http.client.HTTPResponse:
    conn = http.client.HTTPConnection("127.0.0.1", httpd.server_port, timeout=10)  # type: ignore[attr-defined]
    conn.request(method, path)
    response = conn.getresponse()
    response.body = response.read()  # type: ignore[attr-defined]
    conn.close()
    return response


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://localhost:5005", "http://localhost:5005"),
        ("https://assistant.test/rasa/", "https://assistant.test/rasa"),
        (" http://127.0.0.1:5005/ ", "http://127.0.0.1:5005"),
    ],
)
def test_check_rasa_url_accepts_plain_http_urls(url: str, expected: str) -> None:
    assert check_rasa_url(url) == expected


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "ftp://localhost:5005",
        "localhost:5005",
        'http://localhost:5005/"><script>',
        "http://localhost:5005/?a=1",
        "http://user:pw@localhost:5005",
        "http://localhost:5005; script-src *",
        "",
    ],
)
def test_check_rasa_url_rejects_anything_else(url: str) -> None:
    with pytest.raises(SiteError):
        check_rasa_url(url)


def test_connect_sources_allow_http_and_websocket_to_rasa_only() -> None:
    assert connect_sources("http://localhost:5005") == "http://localhost:5005 ws://localhost:5005"
    assert (
        connect_sources("https://assistant.test/x") == "https://assistant.test wss://assistant.test"
    )


@pytest.mark.parametrize("page", PAGES, ids=[p.path for p in PAGES])
def test_every_page_has_the_layout_and_one_widget_tag(served: object, page: object) -> None:
    response = fetch(served, page.path)  # type: ignore[attr-defined]
    assert response.status == 200
    assert response.getheader("Content-Type") == "text/html; charset=utf-8"
    html = parse(response.body)  # type: ignore[attr-defined]
    assert html.all("html") == [{"lang": "en-GB"}]
    assert len(html.all("h1")) == 1
    assert html.all("main") == [{"id": "main", "class": "wrap", "tabindex": "-1"}]
    scripts = html.all("script")
    assert scripts == [
        {"src": "/widget/crisis-routes.js", "defer": None},
        {"src": "/widget/widget.js", "data-rasa-url": "http://localhost:5999", "defer": None},
    ]
    current = [a for a in html.all("a") if a.get("aria-current") == "page"]
    assert current == [{"href": page.path, "aria-current": "page"}]  # type: ignore[attr-defined]
    viewport = [m for m in html.all("meta") if m.get("name") == "viewport"]
    assert viewport and "maximum-scale" not in (viewport[0]["content"] or ""), "zoom allowed"
    for placeholder in (b"$title", b"$nav", b"$main", b"$rasa_url"):
        assert placeholder not in response.body  # type: ignore[attr-defined]


def test_external_links_are_https_and_no_placeholders() -> None:
    for source in sorted((WEB_DIR / "site").rglob("*.html")):
        text = source.read_text(encoding="utf-8")
        for href in re.findall(r'href="([^"]+)"', text):
            assert not href.startswith("http:"), (source.name, href)
        assert "example." not in text and "TODO" not in text, source.name


@pytest.mark.parametrize(
    "path",
    [
        "/static/site.css",
        "/static/favicon.svg",
        "/widget/widget.js",
        "/widget/widget.css",
        "/vendor/socket.io.min.js",
        "/healthz",
    ],
)
def test_assets_are_served_with_their_types(served: object, path: str) -> None:
    response = fetch(served, path)
    assert response.status == 200
    assert response.body  # type: ignore[attr-defined]
    suffix = Path(path).suffix
    if suffix:
        assert response.getheader("Content-Type") == web_server.CONTENT_TYPES[suffix]


@pytest.mark.parametrize(
    "path",
    [
        "/nope",
        "/server.py",
        "/static/../server.py",
        "/widget/../server.py",
        "/static/%2e%2e/%2e%2e/server.py",
        "/node_modules/axe-core/axe.min.js",
        "/vendor/socket.io.min.js.map",
        "/site/layout.html",
        "//etc/passwd",
    ],
)
def test_anything_not_listed_is_a_404_page(served: object, path: str) -> None:
    response = fetch(served, path)
    assert response.status == 404
    assert b"Page not found" in response.body  # type: ignore[attr-defined]
    assert response.getheader("Content-Security-Policy")


def test_security_headers_on_every_response(served: object) -> None:
    for path in ("/", "/widget/widget.js", "/nope"):
        response = fetch(served, path)
        csp = response.getheader("Content-Security-Policy") or ""
        directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
        assert directives["default-src"] == "'none'"
        assert directives["script-src"] == "'self'", "no inline or third-party script"
        assert directives["style-src"] == "'self'"
        assert directives["connect-src"] == "'self' http://localhost:5999 ws://localhost:5999"
        assert directives["frame-ancestors"] == "'none'"
        assert response.getheader("X-Content-Type-Options") == "nosniff"
        assert response.getheader("X-Frame-Options") == "DENY"
        assert response.getheader("Referrer-Policy") == "no-referrer"
        assert "Python" not in (response.getheader("Server") or "")


def test_head_sends_headers_without_a_body(served: object) -> None:
    response = fetch(served, "/carers", method="HEAD")
    assert response.status == 200
    assert int(response.getheader("Content-Length") or 0) > 1000
    assert response.body == b""  # type: ignore[attr-defined]


def test_missing_npm_packages_are_reported_clearly(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(web_server.ASSETS, "/vendor/x.js", WEB_DIR / "node_modules" / "missing.js")
    with pytest.raises(SiteError, match="npm ci"):
        Site()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_command_line_serves_the_site_and_rejects_a_bad_url() -> None:
    port = _free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "bot.web",
            "--port",
            str(port),
            "--rasa-url",
            "http://10.0.0.7:5005",
        ],
        cwd=REPO_ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                conn.request("GET", "/urgent-help")
                response = conn.getresponse()
                body = response.read()
                break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise
                time.sleep(0.2)
        assert response.status == 200
        assert b'data-rasa-url="http://10.0.0.7:5005"' in body
        assert b"116 123" in body
    finally:
        proc.terminate()
        proc.wait(10)

    bad = subprocess.run(
        [sys.executable, "-m", "bot.web", "--rasa-url", "javascript:alert(1)"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert bad.returncode == 2
    assert "--rasa-url" in bad.stderr


def test_widget_never_inserts_html_or_uses_local_storage() -> None:
    code = re.sub(r"/\*.*?\*/|//[^\n]*", "", WIDGET_JS, flags=re.S)  # ignore comments
    for forbidden in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("):
        assert forbidden not in code, forbidden
    assert "new Function" not in code
    assert "localStorage" not in code, "sessionStorage only: family devices are shared"
    assert 'rel: "noopener noreferrer"' in code and 'target: "_blank"' in code


def _digits(text: str) -> set[str]:
    """Phone numbers in `text`, spaces removed (999, 111, 116123, 85258, 08088088000)."""
    return {re.sub(r"\s", "", n) for n in re.findall(r"\b\d[\d ]{1,12}\d\b", text)}


def test_crisis_routes_are_generated_from_utter_crisis(served: object) -> None:
    """The widget's offline Urgent help and the site's page are built from the bot's utter_crisis:
    nothing is copied by hand, so they cannot drift."""
    from bot.content.crisis import crisis_text

    default = crisis_text()
    expected = {"999", "111", "116123", "85258", "08088088000"}
    assert expected <= _digits(default)
    page = fetch(served, "/urgent-help")
    page_text = "".join(parse(page.body).text)  # type: ignore[attr-defined]
    script = fetch(served, "/widget/crisis-routes.js")
    assert script.getheader("Content-Type", "").startswith("text/javascript")
    routes_js = script.body.decode("utf-8")  # type: ignore[attr-defined]
    routes = json.loads(routes_js.split("=", 1)[1].strip().rstrip(";"))
    spoken = "".join(p if isinstance(p, str) else p["text"] for line in routes for p in line)
    for line in default.splitlines():
        assert line.strip() in page_text.replace("\n", " ") or line.strip() in page_text
        assert line.strip() in spoken
    assert expected <= _digits(page_text)
    tel = {p.get("tel") or p.get("sms") for line in routes for p in line if isinstance(p, dict)}
    assert expected <= tel
    assert "116 123" not in WIDGET_JS  # no hand-copied routes left in the widget


def test_npm_dependencies_are_pinned_exactly() -> None:
    package = json.loads((WEB_DIR / "package.json").read_text(encoding="utf-8"))
    lock = json.loads((WEB_DIR / "package-lock.json").read_text(encoding="utf-8"))
    for group in ("dependencies", "devDependencies"):
        for name, version in package[group].items():
            assert re.fullmatch(r"\d+\.\d+\.\d+", version), (name, version)
            assert lock["packages"][f"node_modules/{name}"]["version"] == version
