"""Fixtures for the website and widget tests: the site server, headless Chromium, a fake Rasa.

Chromium is Debian's (`scripts/install_browser.sh`), driven by Playwright with
`executable_path`: Playwright's own browser download does not work on our machines.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pytest
from browser_support import CHROMIUM, CHROMIUM_ARGS, SiteServer, run_axe
from fake_rasa import FakeRasa


@pytest.fixture
def site_server() -> Iterator[Callable[[str], SiteServer]]:
    """Factory: `site_server(rasa_url)` starts a site whose widget talks to `rasa_url`."""
    servers: list[SiteServer] = []

    def _start(rasa_url: str) -> SiteServer:
        server = SiteServer(rasa_url)
        servers.append(server)
        return server

    yield _start
    for server in servers:
        server.close()


@pytest.fixture
def fake_rasa() -> Iterator[FakeRasa]:
    fake = FakeRasa()
    fake.start()
    yield fake
    fake.close()


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """One headless Debian Chromium for the whole session (each test gets its own context)."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: run scripts/install_browser.sh")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


@dataclass
class PageProblems:
    """What went wrong in the page: JS errors, console errors, CSP violations, dialogs."""

    errors: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)


@pytest.fixture
def new_page(browser: object) -> Iterator[Callable[..., tuple[object, PageProblems]]]:
    """Factory: a page in a fresh context (so a fresh sessionStorage), watched for problems."""
    contexts = []

    def _new_page(
        width: int = 1280, height: int = 800, reduced_motion: str = "reduce"
    ) -> tuple[object, PageProblems]:
        context = browser.new_context(  # type: ignore[attr-defined]
            viewport={"width": width, "height": height}, reduced_motion=reduced_motion
        )
        context.set_default_timeout(15_000)
        contexts.append(context)
        page = context.new_page()
        problems = PageProblems()
        page.on("pageerror", lambda err: problems.errors.append(str(err)))
        page.on(
            "console",
            lambda msg: problems.console_errors.append(msg.text) if msg.type == "error" else None,
        )

        def _on_dialog(dialog: object) -> None:
            problems.dialogs.append(dialog.message)  # type: ignore[attr-defined]
            dialog.dismiss()  # type: ignore[attr-defined]

        page.on("dialog", _on_dialog)
        return page, problems

    yield _new_page
    for context in contexts:
        context.close()


@pytest.fixture
def axe_audit() -> Callable[[object], list[dict]]:
    """`axe_audit(page)`: axe-core's violations (WCAG 2.0-2.2 A/AA and best practice)."""
    return run_axe
