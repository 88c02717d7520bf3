"""Shared pieces of the browser tests: Chromium settings, the in-thread site server, axe-core."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from bot.web.server import Site, make_server

REPO_ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
AXE_JS = REPO_ROOT / "bot" / "web" / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = REPO_ROOT / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


class SiteServer:
    """`python -m bot.web`'s server, in a thread on a free port, for one Rasa URL."""

    def __init__(self, rasa_url: str) -> None:
        self.httpd = make_server(Site(rasa_url=rasa_url), "127.0.0.1", 0)
        self.url = f"http://127.0.0.1:{self.httpd.server_port}"
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self._thread.join(5)


def run_axe(page: object) -> list[dict]:
    """Inject npm axe-core into the page and return its WCAG 2.x A/AA violations."""
    if not AXE_JS.exists():
        pytest.fail(f"{AXE_JS} is missing: run `npm ci` in bot/web")
    # evaluate() runs through DevTools, so the page's CSP (script-src 'self') does not block it.
    page.evaluate(AXE_JS.read_text(encoding="utf-8") + "\n;undefined")  # type: ignore[attr-defined]
    return page.evaluate(  # type: ignore[attr-defined]
        """async () => {
            const result = await axe.run(document, {
                runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa',
                                                'wcag22aa', 'best-practice']},
            });
            return result.violations.map(v => ({
                id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.map(n => n.target.join(' ')),
            }));
        }"""
    )
