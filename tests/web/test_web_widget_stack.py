"""The website and widget in real headless Chromium against the REAL Rasa and action servers.

`rasa_stack` (tests/conftest.py) runs Rasa with the trained model and the socketio channel from
credentials.yml; the site server runs here on a free port with the widget pointed at that Rasa.
Screenshots and the axe report go to screenshots/ (git-ignored).
"""

from __future__ import annotations

import json

import pytest
import widget_driver as w
from browser_support import SCREENSHOTS

pytestmark = [pytest.mark.browser, pytest.mark.stack]

REPLY_TIMEOUT_MS = 60_000


@pytest.fixture
def stack_site(rasa_stack, site_server):
    """The toolkit site, its widget talking to the real Rasa."""
    return site_server(rasa_stack.rasa_url)


@pytest.fixture
def stack_page(stack_site, new_page):
    page, problems = new_page()
    response = page.goto(stack_site.url + "/")
    assert response is not None and response.status == 200
    return page, problems


def ask(page, text: str) -> str:
    """Type `text` into the focused message box, press Enter, return the bot's reply."""
    before = w.send_by_keyboard(page, text)
    return w.wait_for_bot_reply(page, before, timeout=REPLY_TIMEOUT_MS)


def test_keyboard_only_question_gets_a_real_answer(stack_page):
    page, problems = stack_page
    assert "secure mental health services" in page.title()
    w.open_with_keyboard(page)
    assert w.focused_matches(page, w.INPUT)
    w.wait_until_ready(page)

    reply = ask(page, "How do I book a visit to the hospital?")
    assert "visit" in reply.lower(), reply
    assert w.texts(page, w.USER_MESSAGES) == ["You: How do I book a visit to the hospital?"]
    assert page.locator(".ca-status-error").count() == 0

    page.keyboard.press("Escape")
    assert page.is_hidden(w.PANEL)
    assert w.focused_matches(page, w.LAUNCHER)
    assert problems.errors == [] and problems.console_errors == []


def test_quick_reply_is_answered_by_the_bot(stack_page):
    page, problems = stack_page
    page.click(w.LAUNCHER)
    w.wait_until_ready(page)
    before = page.locator(w.BOT_MESSAGES).count()
    page.click(".ca-reply:has-text('What staff can tell me')")
    reply = w.wait_for_bot_reply(page, before, timeout=REPLY_TIMEOUT_MS)
    assert len(reply) > 40, reply
    assert w.texts(page, w.USER_MESSAGES) == ["You: What staff can tell me"]
    assert page.locator(".ca-reply:has-text('Visiting')").count() == 0, "used replies go"

    # Topic answers come with buttons from the domain (Rasa sends them as quick_replies).
    offered = page.locator(".ca-reply")
    offered.first.wait_for()
    title = offered.first.text_content()
    before = page.locator(w.BOT_MESSAGES).count()
    offered.first.click()
    assert w.wait_for_bot_reply(page, before, timeout=REPLY_TIMEOUT_MS)
    assert w.texts(page, w.USER_MESSAGES)[-1] == f"You: {title}"
    assert problems.errors == [] and problems.console_errors == []


def test_reload_keeps_the_conversation_going(stack_page):
    page, problems = stack_page
    page.click(w.LAUNCHER)
    w.wait_until_ready(page)
    first_reply = ask(page, "Can children visit?")
    session = page.evaluate("() => sessionStorage.getItem('carersAssistant.session')")
    assert session

    page.reload()
    page.wait_for_selector(w.PANEL, state="visible")
    w.wait_until_ready(page)
    assert "You: Can children visit?" in w.texts(page, w.USER_MESSAGES)
    assert first_reply.splitlines()[0] in "\n".join(w.texts(page, w.BOT_MESSAGES))
    assert page.evaluate("() => sessionStorage.getItem('carersAssistant.session')") == session

    page.focus(w.INPUT)
    assert ask(page, "thank you")
    assert problems.errors == [] and problems.console_errors == []


def test_xss_attempt_is_shown_as_text(stack_page):
    page, problems = stack_page
    page.click(w.LAUNCHER)
    w.wait_until_ready(page)
    attack = "<img src=x onerror=alert(1)>"
    assert ask(page, attack)
    assert w.texts(page, w.USER_MESSAGES) == [f"You: {attack}"]
    assert page.locator(f"{w.LOG} img").count() == 0
    page.wait_for_timeout(500)
    assert problems.dialogs == [], "no alert() may run"
    assert problems.errors == []


def test_urgent_help_works_while_rasa_is_stopped_and_the_chat_comes_back(rasa_stack, stack_page):
    page, problems = stack_page
    page.click(w.LAUNCHER)
    w.wait_until_ready(page)
    rasa_stack.stop_rasa()
    try:
        page.wait_for_selector(".ca-status-error", timeout=30_000)
        assert "not available" in page.text_content(w.STATUS)

        w.tab_to(page, w.URGENT)
        page.keyboard.press("Enter")
        dialog = page.locator(w.DIALOG)
        dialog.wait_for(state="visible")
        for route in ("999", "option 2", "press 2", "NHS 24", "116 123", "85258"):
            assert route in dialog.text_content(), route
        page.keyboard.press("Escape")
        dialog.wait_for(state="hidden")

        page.focus(w.INPUT)
        page.keyboard.type("Is anyone there?")
        page.keyboard.press("Enter")
        assert page.input_value(w.INPUT) == "Is anyone there?", "the draft is kept"
        assert "has not been sent" in page.text_content(w.STATUS)
    finally:
        rasa_stack.start_rasa()

    page.wait_for_function(
        "() => document.querySelector('.ca-status').textContent.includes('available again')",
        timeout=60_000,
    )
    before = page.locator(w.BOT_MESSAGES).count()
    page.focus(w.INPUT)
    page.keyboard.press("Enter")
    assert w.wait_for_bot_reply(page, before, timeout=REPLY_TIMEOUT_MS)
    assert page.input_value(w.INPUT) == ""
    assert problems.errors == []


def test_axe_finds_nothing_serious_and_screenshots_are_written(stack_site, new_page, axe_audit):
    SCREENSHOTS.mkdir(exist_ok=True)
    report = {}
    for name, width, height in (("desktop-1280", 1280, 800), ("mobile-375", 375, 740)):
        page, problems = new_page(width=width, height=height)
        page.goto(stack_site.url + "/")
        page.click(w.LAUNCHER)
        w.wait_until_ready(page)
        page.focus(w.INPUT)
        ask(page, "What is the Triangle of Care?")
        page.screenshot(path=str(SCREENSHOTS / f"widget-{name}.png"))

        violations = axe_audit(page)
        report[name] = violations
        serious = [v for v in violations if v["impact"] in ("serious", "critical")]
        assert serious == [], serious
        assert problems.errors == [] and problems.console_errors == []
    (SCREENSHOTS / "axe-report.json").write_text(json.dumps(report, indent=2), encoding="utf-8")
    for name in ("desktop-1280", "mobile-375"):
        assert (SCREENSHOTS / f"widget-{name}.png").stat().st_size > 10_000
